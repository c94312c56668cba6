//! Sprig functions: `urlParse` and `urlJoin`.
//!
//! A port of the parts of Go's `net/url` these two use: `url.Parse` (scheme, opaque, authority
//! with userinfo and port checks, percent-decoding per component) and `URL.String` (escaping per
//! component, the `./` guard for a colon in the first segment). Parse errors surface as Sprig's
//! panic text, `unable to parse url: parse "…": …`, exactly as Go words them.

use std::collections::BTreeMap;

use crate::template::{Func, FuncMap, Map, Param, Sig, Value};

use super::strings::go_quote;

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Path,
    Host,
    UserPassword,
    Fragment,
}

/// Go's `shouldEscape`.
fn should_escape(c: u8, mode: Mode) -> bool {
    if c.is_ascii_alphanumeric() {
        return false;
    }
    if mode == Mode::Host
        && matches!(
            c,
            b'!' | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'['
                | b']'
                | b'<'
                | b'>'
                | b'"'
        )
    {
        return false;
    }
    match c {
        b'-' | b'_' | b'.' | b'~' => return false,
        b'$' | b'&' | b'+' | b',' | b'/' | b':' | b';' | b'=' | b'?' | b'@' => {
            return match mode {
                Mode::Path => c == b'?',
                Mode::UserPassword => matches!(c, b'@' | b'/' | b'?' | b':'),
                Mode::Fragment => false,
                Mode::Host => true,
            };
        }
        _ => {}
    }
    if mode == Mode::Fragment && matches!(c, b'!' | b'(' | b')' | b'*') {
        return false;
    }
    true
}

/// Go's `escape` (never in query-component mode here).
fn escape(s: &str, mode: Mode) -> String {
    let mut out = String::with_capacity(s.len());
    for &c in s.as_bytes() {
        if should_escape(c, mode) {
            out.push_str(&format!("%{c:02X}"));
        } else {
            out.push(c as char);
        }
    }
    out
}

/// Go's `unescape`; the error is the message of `EscapeError` / `InvalidHostError`.
fn unescape(s: &str, mode: Mode) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                if i + 2 >= b.len() || !b[i + 1].is_ascii_hexdigit() || !b[i + 2].is_ascii_hexdigit() {
                    let end = (i + 3).min(b.len());
                    return Err(format!(
                        "invalid URL escape {}",
                        go_quote(&String::from_utf8_lossy(&b[i..end]))
                    ));
                }
                let v = u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap_or(0);
                if mode == Mode::Host && v < 0x80 && &s[i..i + 3] != "%25" {
                    return Err(format!("invalid URL escape {}", go_quote(&s[i..i + 3])));
                }
                out.push(v);
                i += 3;
            }
            c => {
                if mode == Mode::Host && c < 0x80 && should_escape(c, mode) {
                    return Err(format!(
                        "invalid character {} in host name",
                        go_quote(&(c as char).to_string())
                    ));
                }
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

#[derive(Default)]
struct Url {
    scheme: String,
    opaque: String,
    /// `Some((username, password))` when userinfo was present.
    user: Option<(String, Option<String>)>,
    host: String,
    path: String,
    raw_query: String,
    fragment: String,
    omit_host: bool,
    force_query: bool,
}

fn get_scheme(raw: &str) -> Result<(&str, &str), String> {
    for (i, c) in raw.bytes().enumerate() {
        match c {
            b'a'..=b'z' | b'A'..=b'Z' => {}
            b'0'..=b'9' | b'+' | b'-' | b'.' => {
                if i == 0 {
                    return Ok(("", raw));
                }
            }
            b':' => {
                if i == 0 {
                    return Err("missing protocol scheme".into());
                }
                return Ok((&raw[..i], &raw[i + 1..]));
            }
            _ => return Ok(("", raw)),
        }
    }
    Ok(("", raw))
}

fn valid_optional_port(port: &str) -> bool {
    if port.is_empty() {
        return true;
    }
    match port.strip_prefix(':') {
        Some(digits) => digits.bytes().all(|c| c.is_ascii_digit()),
        None => false,
    }
}

fn parse_host(host: &str) -> Result<String, String> {
    if host.starts_with('[') {
        let Some(i) = host.rfind(']') else {
            return Err("missing ']' in host".into());
        };
        let port = &host[i + 1..];
        if !valid_optional_port(port) {
            return Err(format!("invalid port {} after host", go_quote(port)));
        }
    } else if let Some(i) = host.rfind(':') {
        let port = &host[i..];
        if !valid_optional_port(port) {
            return Err(format!("invalid port {} after host", go_quote(port)));
        }
    }
    unescape(host, Mode::Host)
}

fn valid_userinfo(s: &str) -> bool {
    s.bytes().all(|c| {
        c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'-' | b'.'
                    | b'_'
                    | b':'
                    | b'~'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b'%'
                    | b'@'
            )
    })
}

/// Go's `url.Parse`; the error is the inner error text (without `parse "…": `).
fn parse(raw: &str) -> Result<Url, String> {
    let (u, frag) = match raw.split_once('#') {
        Some((u, f)) => (u, Some(f)),
        None => (raw, None),
    };
    if u.bytes().any(|c| c < b' ' || c == 0x7f) {
        return Err("net/url: invalid control character in URL".into());
    }
    let mut url = Url::default();
    if u == "*" {
        url.path = "*".into();
    } else {
        let (scheme, rest) = get_scheme(u)?;
        url.scheme = scheme.to_ascii_lowercase();
        let mut rest = rest.to_string();
        if rest.ends_with('?') && rest.matches('?').count() == 1 {
            url.force_query = true;
            rest.pop();
        } else if let Some((r, q)) = rest.clone().split_once('?') {
            url.raw_query = q.to_string();
            rest = r.to_string();
        }
        let mut done = false;
        if !rest.starts_with('/') {
            if !url.scheme.is_empty() {
                url.opaque = rest.clone();
                done = true;
            } else if rest.split('/').next().unwrap_or("").contains(':') {
                return Err("first path segment in URL cannot contain colon".into());
            }
        }
        if !done {
            if (!url.scheme.is_empty() || !rest.starts_with("///")) && rest.starts_with("//") {
                let after = &rest[2..];
                let (authority, path) = match after.find('/') {
                    Some(i) => (&after[..i], &after[i..]),
                    None => (after, ""),
                };
                let (user, host) = match authority.rfind('@') {
                    None => (None, parse_host(authority)?),
                    Some(i) => {
                        let host = parse_host(&authority[i + 1..])?;
                        let userinfo = &authority[..i];
                        if !valid_userinfo(userinfo) {
                            return Err("net/url: invalid userinfo".into());
                        }
                        let user = match userinfo.split_once(':') {
                            None => (unescape(userinfo, Mode::UserPassword)?, None),
                            Some((n, p)) => (unescape(n, Mode::UserPassword)?, Some(unescape(p, Mode::UserPassword)?)),
                        };
                        (Some(user), host)
                    }
                };
                url.user = user;
                url.host = host;
                rest = path.to_string();
            } else if !url.scheme.is_empty() && rest.starts_with('/') {
                url.omit_host = true;
            }
            url.path = unescape(&rest, Mode::Path)?;
        }
    }
    if let Some(f) = frag {
        url.fragment = unescape(f, Mode::Fragment)?;
    }
    Ok(url)
}

fn userinfo_string(user: &(String, Option<String>)) -> String {
    let mut s = escape(&user.0, Mode::UserPassword);
    if let Some(p) = &user.1 {
        s.push(':');
        s.push_str(&escape(p, Mode::UserPassword));
    }
    s
}

/// `URL.Hostname`.
fn hostname(host: &str) -> String {
    let h = match host.rfind(':') {
        Some(i) if !host[i..].contains(']') => &host[..i],
        _ => host,
    };
    match (h.strip_prefix('['), h.ends_with(']')) {
        (Some(inner), true) => inner[..inner.len() - 1].to_string(),
        _ => h.to_string(),
    }
}

/// Go's `URL.String` (the nesting mirrors Go's code).
#[allow(clippy::collapsible_if)]
fn to_string(u: &Url) -> String {
    let mut buf = String::new();
    if !u.scheme.is_empty() {
        buf.push_str(&u.scheme);
        buf.push(':');
    }
    if !u.opaque.is_empty() {
        buf.push_str(&u.opaque);
    } else {
        if !u.scheme.is_empty() || !u.host.is_empty() || u.user.is_some() {
            if !(u.omit_host && u.host.is_empty() && u.user.is_none()) {
                if !u.host.is_empty() || !u.path.is_empty() || u.user.is_some() {
                    buf.push_str("//");
                }
                if let Some(user) = &u.user {
                    buf.push_str(&userinfo_string(user));
                    buf.push('@');
                }
                if !u.host.is_empty() {
                    buf.push_str(&escape(&u.host, Mode::Host));
                }
            }
        }
        let path = if u.path == "*" {
            "*".to_string()
        } else {
            escape(&u.path, Mode::Path)
        };
        if !path.is_empty() && !path.starts_with('/') && !u.host.is_empty() {
            buf.push('/');
        }
        if buf.is_empty() && path.split('/').next().unwrap_or("").contains(':') {
            buf.push_str("./");
        }
        buf.push_str(&path);
    }
    if u.force_query || !u.raw_query.is_empty() {
        buf.push('?');
        buf.push_str(&u.raw_query);
    }
    if !u.fragment.is_empty() {
        buf.push('#');
        buf.push_str(&escape(&u.fragment, Mode::Fragment));
    }
    buf
}

fn url_parse(v: &str) -> Result<Value, String> {
    let u = parse(v).map_err(|e| format!("unable to parse url: parse {}: {e}", go_quote(v)))?;
    let mut d = BTreeMap::new();
    let mut put = |k: &str, v: String| {
        d.insert(k.to_string(), Value::str(v));
    };
    put("scheme", u.scheme.clone());
    put("host", u.host.clone());
    put("hostname", hostname(&u.host));
    put("path", u.path.clone());
    put("query", u.raw_query.clone());
    put("opaque", u.opaque.clone());
    put("fragment", u.fragment.clone());
    put("userinfo", u.user.as_ref().map(userinfo_string).unwrap_or_default());
    Ok(Value::Map(Map::from_btree(d)))
}

/// Sprig's `dictGetOrEmpty`.
fn get_or_empty(d: Option<&Map>, key: &str) -> Result<String, String> {
    let Some(v) = d.and_then(|d| d.get(key)) else {
        return Ok(String::new());
    };
    match v {
        Value::String(s) => Ok(s.to_string()),
        Value::Nil => Err("runtime error: invalid memory address or nil pointer dereference".into()),
        other => Err(format!(
            "unable to parse {key} key, must be of type string, but {} found",
            other.kind()
        )),
    }
}

fn url_join(d: Option<&Map>) -> Result<Value, String> {
    let mut u = Url {
        scheme: get_or_empty(d, "scheme")?,
        host: get_or_empty(d, "host")?,
        path: get_or_empty(d, "path")?,
        raw_query: get_or_empty(d, "query")?,
        opaque: get_or_empty(d, "opaque")?,
        fragment: get_or_empty(d, "fragment")?,
        ..Url::default()
    };
    let userinfo = get_or_empty(d, "userinfo")?;
    if !userinfo.is_empty() {
        let raw = format!("proto://{userinfo}@host");
        let t = parse(&raw).map_err(|e| format!("unable to parse userinfo in dict: parse {}: {e}", go_quote(&raw)))?;
        u.user = t.user;
    }
    Ok(Value::str(to_string(&u)))
}

pub fn register(m: &mut FuncMap) {
    m.insert(
        "urlParse".into(),
        Func::pure(Sig::fixed(&[Param::String]), |a| url_parse(a[0].as_str().unwrap_or(""))),
    );
    m.insert(
        "urlJoin".into(),
        Func::pure(Sig::fixed(&[Param::Map]), |a| url_join(a[0].as_map())),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(v: &Value, k: &str) -> String {
        v.as_map()
            .and_then(|m| m.get(k))
            .and_then(|s| s.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    fn join(pairs: &[(&str, &str)]) -> Result<Value, String> {
        let m = Map::new();
        for (k, v) in pairs {
            m.insert(*k, Value::str(*v));
        }
        url_join(Some(&m))
    }

    // Expectations from helm 4.1.4 (`urlParse … | toJson`, `urlJoin (dict …)`).
    #[test]
    fn url_parse_matches_go() {
        let v = url_parse("https://u%20s:p%40w@Example.com:8080/a%2Fb/c?q=1&r=%20#fr%20ag").unwrap();
        assert_eq!(field(&v, "fragment"), "fr ag");
        assert_eq!(field(&v, "host"), "Example.com:8080");
        assert_eq!(field(&v, "hostname"), "Example.com");
        assert_eq!(field(&v, "path"), "/a/b/c");
        assert_eq!(field(&v, "query"), "q=1&r=%20");
        assert_eq!(field(&v, "userinfo"), "u%20s:p%40w");
        let v = url_parse("mailto:joe@x.com").unwrap();
        assert_eq!(field(&v, "opaque"), "joe@x.com");
        let v = url_parse("http://[fe80::1]:80/x").unwrap();
        assert_eq!(field(&v, "hostname"), "fe80::1");
        assert_eq!(field(&url_parse("a b").unwrap(), "path"), "a b");
        assert_eq!(field(&url_parse("//h/p").unwrap(), "host"), "h");
        for (raw, err) in [
            ("[::1]:80", "first path segment in URL cannot contain colon"),
            ("http://a%zz", "invalid URL escape \"%zz\""),
            (":x", "missing protocol scheme"),
            ("http://h:x/", "invalid port \":x\" after host"),
            ("http://a b/", "invalid character \" \" in host name"),
        ] {
            assert_eq!(
                url_parse(raw).unwrap_err(),
                format!("unable to parse url: parse {}: {err}", go_quote(raw))
            );
        }
    }

    #[test]
    fn url_join_matches_go() {
        let s = |v: Result<Value, String>| v.unwrap().as_str().unwrap_or("").to_string();
        assert_eq!(
            s(join(&[
                ("scheme", "https"),
                ("host", "h:1"),
                ("path", "a b/c"),
                ("query", "x=1"),
                ("fragment", "f g!"),
                ("userinfo", "u%20s:p%40w")
            ])),
            "https://u%20s:p%40w@h:1/a%20b/c?x=1#f%20g!"
        );
        assert_eq!(s(join(&[("path", "a:b")])), "./a:b");
        assert_eq!(s(join(&[("scheme", "mailto"), ("opaque", "joe@x")])), "mailto:joe@x");
        assert_eq!(s(join(&[("host", "h"), ("path", "p")])), "//h/p");
        assert_eq!(s(join(&[("userinfo", "bob")])), "//bob@");
        assert_eq!(
            join(&[("userinfo", "u s:p@w")]).unwrap_err(),
            "unable to parse userinfo in dict: parse \"proto://u s:p@w@host\": net/url: invalid userinfo"
        );
        let m = Map::new();
        m.insert("host", Value::Int(1));
        assert_eq!(
            url_join(Some(&m)).unwrap_err(),
            "unable to parse host key, must be of type string, but int found"
        );
    }
}
