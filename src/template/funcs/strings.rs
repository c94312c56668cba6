//! Sprig functions: strings (`upper`, `trunc`, `indent`, `quote`, `split`, `snakecase`, …).
//!
//! Each function follows the Go code Sprig v3.3.0 calls, quirks included, because chart output
//! depends on them: `trunc`/`substr` cut bytes, `nospace` and `initials` (Masterminds/goutils)
//! walk bytes as if they were runes (so `é` comes out as `Ã©` once whitespace is removed),
//! `indent` pads blank lines too, `quote` skips nil arguments, and `camelcase`/`snakecase` are
//! ports of huandu/xstrings v1.5.0 (`xstrings.rs`). Values are printed with Go's `fmt` (`go_fmt`).

use std::collections::BTreeMap;

use super::unicode::{
    go_is_digit, go_is_letter, go_is_space, go_to_lower, go_to_title, go_to_upper, is_lower, is_title, is_upper,
};
use super::xstrings::{camel_to_lower, to_pascal_case};
use crate::template::{Elem, Func, FuncMap, Map, Param, Sig, Value};

/// `fmt.Sprint` of one value (`%v`).
pub(crate) fn fmt_v(v: &Value) -> String {
    crate::template::go_fmt::format_v(v)
}

/// Sprig's `strval`: strings and byte slices as text, everything else through `%v`.
pub(crate) fn strval(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        other => fmt_v(other),
    }
}

/// Go's `strconv.Quote` (what `%q` does to a string).
pub(crate) fn go_quote(s: &str) -> String {
    crate::template::go_fmt::quote(s)
}

/// A Go string made of bytes that may have been cut inside a UTF-8 sequence.
fn from_bytes(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `strings.Title`.
fn title(s: &str) -> String {
    fn is_separator(r: char) -> bool {
        if (r as u32) <= 0x7F {
            return !(r.is_ascii_alphanumeric() || r == '_');
        }
        if go_is_letter(r) || go_is_digit(r) {
            return false;
        }
        go_is_space(r)
    }
    let mut prev = ' ';
    s.chars()
        .map(|r| {
            let out = if is_separator(prev) { go_to_title(r) } else { r };
            prev = r;
            out
        })
        .collect()
}

/// goutils `Uncapitalize` with whitespace delimiters.
fn untitle(s: &str) -> String {
    let mut next = true;
    s.chars()
        .map(|c| {
            if go_is_space(c) {
                next = true;
                c
            } else if next {
                next = false;
                go_to_lower(c)
            } else {
                c
            }
        })
        .collect()
}

/// goutils `SwapCase`: lower case letters after whitespace become title case.
fn swapcase(s: &str) -> String {
    let mut whitespace = true;
    s.chars()
        .map(|c| {
            if is_upper(c) || is_title(c) {
                whitespace = false;
                go_to_lower(c)
            } else if is_lower(c) {
                if whitespace {
                    whitespace = false;
                    go_to_title(c)
                } else {
                    go_to_upper(c)
                }
            } else {
                whitespace = go_is_space(c);
                c
            }
        })
        .collect()
}

/// A byte taken as a rune (`rune(str[i])`), as goutils does.
fn byte_rune(b: u8) -> char {
    b as char
}

/// goutils `DeleteWhiteSpace`: walks bytes as runes (Latin-1), returns the input if nothing
/// was removed.
fn nospace(s: &str) -> String {
    let mut out = String::new();
    let mut count = 0;
    for &b in s.as_bytes() {
        let c = byte_rune(b);
        if !go_is_space(c) {
            out.push(c);
            count += 1;
        }
    }
    if count == s.len() {
        s.to_string()
    } else {
        out
    }
}

/// goutils `Initials`: first byte (as a rune) of each whitespace-separated word.
fn initials(s: &str) -> String {
    let mut out = String::new();
    let mut gap = true;
    for &b in s.as_bytes() {
        let c = byte_rune(b);
        if go_is_space(c) {
            gap = true;
        } else if gap {
            out.push(c);
            gap = false;
        }
    }
    out
}

/// goutils `AbbreviateFull`; `None` stands for its error (Sprig then returns "").
fn abbreviate_full(s: &str, offset: i64, max_width: i64) -> Option<String> {
    let b = s.as_bytes();
    let len = b.len() as i64;
    if s.is_empty() {
        return Some(String::new());
    }
    if max_width < 4 {
        return None;
    }
    if len <= max_width {
        return Some(s.to_string());
    }
    let mut offset = offset.min(len);
    if len - offset < max_width - 3 {
        offset = len - (max_width - 3);
    }
    if offset <= 4 {
        return Some(from_bytes(&b[..(max_width - 3) as usize]) + "...");
    }
    if max_width < 7 {
        return None;
    }
    if offset + max_width - 3 < len {
        let rest = from_bytes(&b[offset as usize..]);
        return Some(format!(
            "...{}",
            abbreviate_full(&rest, 0, max_width - 3).unwrap_or_default()
        ));
    }
    Some(format!("...{}", from_bytes(&b[(len - (max_width - 3)) as usize..])))
}

fn abbrev(width: i64, s: &str) -> String {
    if width < 4 {
        return s.to_string();
    }
    abbreviate_full(s, 0, width).unwrap_or_default()
}

fn abbrevboth(left: i64, right: i64, s: &str) -> String {
    if right < 4 || (left > 0 && right < 7) {
        return s.to_string();
    }
    abbreviate_full(s, left, right).unwrap_or_default()
}

/// goutils `WrapCustom` (byte offsets, spaces only).
fn wrap_custom(s: &str, wrap_length: i64, newline: &str, wrap_long_words: bool) -> String {
    if s.is_empty() {
        return String::new();
    }
    let newline = if newline.is_empty() { "\n" } else { newline };
    let wl = wrap_length.max(1) as usize;
    let b = s.as_bytes();
    let len = b.len();
    let mut offset = 0usize;
    let mut out: Vec<u8> = Vec::new();
    while len - offset > wl {
        if b[offset] == b' ' {
            offset += 1;
            continue;
        }
        let end = wl + offset + 1;
        let space = b[offset..end].iter().rposition(|&c| c == b' ');
        if let Some(sp) = space {
            let at = sp + offset;
            out.extend_from_slice(&b[offset..at]);
            out.extend_from_slice(newline.as_bytes());
            offset = at + 1;
        } else if wrap_long_words {
            let end = wl + offset;
            out.extend_from_slice(&b[offset..end]);
            out.extend_from_slice(newline.as_bytes());
            offset += wl;
        } else {
            let end = wl + offset;
            match b[end..].iter().position(|&c| c == b' ') {
                None => {
                    out.extend_from_slice(&b[offset..]);
                    offset = len;
                }
                Some(i) => {
                    let at = i + end;
                    out.extend_from_slice(&b[offset..at]);
                    out.extend_from_slice(newline.as_bytes());
                    offset = at + 1;
                }
            }
        }
    }
    out.extend_from_slice(&b[offset..]);
    from_bytes(&out)
}

fn trunc(c: i64, s: &str) -> String {
    let b = s.as_bytes();
    let len = b.len() as i64;
    if c < 0 && len + c > 0 {
        return from_bytes(&b[(len + c) as usize..]);
    }
    if c >= 0 && len > c {
        return from_bytes(&b[..c as usize]);
    }
    s.to_string()
}

/// Sprig's `substring`, including Go's slice-bounds panics as errors.
fn substr(start: i64, end: i64, s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let len = b.len() as i64;
    let oob = |range: String| Err(format!("runtime error: slice bounds out of range {range}"));
    if start < 0 {
        if end < 0 || end > len {
            return oob(format!("[:{end}] with length {len}"));
        }
        return Ok(from_bytes(&b[..end as usize]));
    }
    if end < 0 || end > len {
        if start > len {
            return oob(format!("[{start}:{len}]"));
        }
        return Ok(from_bytes(&b[start as usize..]));
    }
    if start > end {
        return oob(format!("[{start}:{end}]"));
    }
    Ok(from_bytes(&b[start as usize..end as usize]))
}

fn repeat(count: i64, s: &str) -> Result<String, String> {
    if count < 0 {
        return Err("strings: negative Repeat count".into());
    }
    if (s.len() as u128) * (count as u128) > (1u128 << 31) {
        return Err("strings: Repeat output length overflow".into());
    }
    Ok(s.repeat(count as usize))
}

pub(crate) fn indent(spaces: i64, v: &str) -> Result<String, String> {
    let pad = repeat(spaces, " ")?;
    Ok(format!("{pad}{}", v.replace('\n', &format!("\n{pad}"))))
}

/// `strings.Split`: an empty separator splits into UTF-8 sequences.
pub(crate) fn go_split(s: &str, sep: &str) -> Vec<String> {
    go_split_n(s, sep, -1)
}

/// `strings.SplitN`.
pub(crate) fn go_split_n(s: &str, sep: &str, n: i64) -> Vec<String> {
    if n == 0 {
        return Vec::new();
    }
    if sep.is_empty() {
        let chars: Vec<char> = s.chars().collect();
        let limit = if n < 0 || n as usize > chars.len() {
            chars.len()
        } else {
            n as usize
        };
        let mut out: Vec<String> = Vec::with_capacity(limit);
        for (i, c) in chars.iter().enumerate() {
            if i + 1 == limit && limit < chars.len() {
                out.push(chars[i..].iter().collect());
                break;
            }
            out.push(c.to_string());
        }
        return out;
    }
    if n < 0 {
        s.split(sep).map(str::to_string).collect()
    } else {
        s.splitn(n as usize, sep).map(str::to_string).collect()
    }
}

/// `strings.Trim(s, cutset)`.
fn trim_cutset(s: &str, cutset: &str) -> String {
    s.trim_matches(|c: char| cutset.contains(c)).to_string()
}

/// A `map[string]string` with keys `_0`, `_1`, … (`split`, `splitn`).
fn split_map(parts: Vec<String>) -> Value {
    let m: BTreeMap<String, Value> = parts
        .into_iter()
        .enumerate()
        .map(|(i, p)| (format!("_{i}"), Value::str(p)))
        .collect();
    let mut map = Map::from_btree(m);
    map.elem = Elem::String;
    Value::Map(map)
}

/// The elements of a Go slice or array value, `None` for any other kind.
pub(crate) fn slice_items(v: &Value) -> Option<Vec<Value>> {
    match v {
        Value::List(l) => Some(l.items.to_vec()),
        Value::Bytes(b) => Some(b.iter().map(|&x| Value::Int(x as i64)).collect()),
        Value::Object(o) if o.kind() == "slice" || o.kind() == "array" => o.underlying().and_then(|u| slice_items(&u)),
        _ => None,
    }
}

/// Sprig's `strslice` (`toStrings`, `join`, `sortAlpha`): nil elements are dropped.
pub(crate) fn strslice(v: &Value) -> Vec<String> {
    if let Value::List(l) = v {
        if l.elem == Elem::String {
            return l.items.iter().map(strval).collect();
        }
    }
    match slice_items(v) {
        Some(items) => items.iter().filter(|x| !x.is_nil()).map(strval).collect(),
        None if v.is_nil() => Vec::new(),
        None => vec![strval(v)],
    }
}

/// Sprig's `untilStep`, capped so that a runaway range cannot exhaust memory.
pub(crate) fn until_step(start: i64, stop: i64, step: i64) -> Result<Vec<i64>, String> {
    const CAP: usize = 1_000_000;
    let mut v = Vec::new();
    if stop < start {
        if step >= 0 {
            return Ok(v);
        }
        let mut i = start;
        while i > stop {
            v.push(i);
            if v.len() > CAP {
                return Err("untilStep: too many elements".into());
            }
            i = match i.checked_add(step) {
                Some(n) => n,
                None => break,
            };
        }
        return Ok(v);
    }
    if step <= 0 {
        return Ok(v);
    }
    let mut i = start;
    while i < stop {
        v.push(i);
        if v.len() > CAP {
            return Err("untilStep: too many elements".into());
        }
        i = match i.checked_add(step) {
            Some(n) => n,
            None => break,
        };
    }
    Ok(v)
}

fn seq(params: &[i64]) -> Result<String, String> {
    let join = |v: Vec<i64>| v.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(" ");
    Ok(match params.len() {
        1 => {
            let (start, end) = (1, params[0]);
            let inc = if end < start { -1 } else { 1 };
            join(until_step(start, end.wrapping_add(inc), inc)?)
        }
        2 => {
            let (start, end) = (params[0], params[1]);
            let step = if end < start { -1 } else { 1 };
            join(until_step(start, end.wrapping_add(step), step)?)
        }
        3 => {
            let (start, step, end) = (params[0], params[1], params[2]);
            let mut inc = 1;
            if end < start {
                inc = -1;
                if step > 0 {
                    return Ok(String::new());
                }
            }
            join(until_step(start, end.wrapping_add(inc), step)?)
        }
        _ => String::new(),
    })
}

// ---- registration ----

fn arg_str(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

pub(crate) fn arg_int(v: &Value) -> i64 {
    match v {
        Value::Int(i) | Value::Int64(i) => *i,
        _ => 0,
    }
}

fn s1(m: &mut FuncMap, name: &str, f: fn(&str) -> String) {
    m.insert(
        name.into(),
        Func::pure(Sig::fixed(&[Param::String]), move |a| Ok(Value::str(f(arg_str(&a[0]))))),
    );
}

/// `func(a, b string) string` where the template passes (a, b).
fn s2(m: &mut FuncMap, name: &str, f: fn(&str, &str) -> String) {
    m.insert(
        name.into(),
        Func::pure(Sig::fixed(&[Param::String, Param::String]), move |a| {
            Ok(Value::str(f(arg_str(&a[0]), arg_str(&a[1]))))
        }),
    );
}

fn b2(m: &mut FuncMap, name: &str, f: fn(&str, &str) -> bool) {
    m.insert(
        name.into(),
        Func::pure(Sig::fixed(&[Param::String, Param::String]), move |a| {
            Ok(Value::Bool(f(arg_str(&a[0]), arg_str(&a[1]))))
        }),
    );
}

pub fn register(m: &mut FuncMap) {
    use Param::*;
    m.insert(
        "hello".into(),
        Func::pure(Sig::fixed(&[]), |_| Ok(Value::str("Hello!"))),
    );
    m.insert(
        "abbrev".into(),
        Func::pure(Sig::fixed(&[Int, String]), |a| {
            Ok(Value::str(abbrev(arg_int(&a[0]), arg_str(&a[1]))))
        }),
    );
    m.insert(
        "abbrevboth".into(),
        Func::pure(Sig::fixed(&[Int, Int, String]), |a| {
            Ok(Value::str(abbrevboth(arg_int(&a[0]), arg_int(&a[1]), arg_str(&a[2]))))
        }),
    );
    m.insert(
        "trunc".into(),
        Func::pure(Sig::fixed(&[Int, String]), |a| {
            Ok(Value::str(trunc(arg_int(&a[0]), arg_str(&a[1]))))
        }),
    );
    s1(m, "trim", |s| s.trim().to_string());
    s1(m, "upper", |s| s.chars().map(go_to_upper).collect());
    s1(m, "lower", |s| s.chars().map(go_to_lower).collect());
    s1(m, "title", title);
    s1(m, "untitle", untitle);
    m.insert(
        "substr".into(),
        Func::pure(Sig::fixed(&[Int, Int, String]), |a| {
            substr(arg_int(&a[0]), arg_int(&a[1]), arg_str(&a[2])).map(Value::str)
        }),
    );
    m.insert(
        "repeat".into(),
        Func::pure(Sig::fixed(&[Int, String]), |a| {
            repeat(arg_int(&a[0]), arg_str(&a[1])).map(Value::str)
        }),
    );
    s2(m, "trimall", |a, b| trim_cutset(b, a));
    s2(m, "trimAll", |a, b| trim_cutset(b, a));
    s2(m, "trimSuffix", |a, b| b.strip_suffix(a).unwrap_or(b).to_string());
    s2(m, "trimPrefix", |a, b| b.strip_prefix(a).unwrap_or(b).to_string());
    s1(m, "nospace", nospace);
    s1(m, "initials", initials);
    s1(m, "swapcase", swapcase);
    s1(m, "snakecase", |s| camel_to_lower(s, '_'));
    s1(m, "camelcase", to_pascal_case);
    s1(m, "kebabcase", |s| camel_to_lower(s, '-'));
    m.insert(
        "wrap".into(),
        Func::pure(Sig::fixed(&[Int, String]), |a| {
            Ok(Value::str(wrap_custom(arg_str(&a[1]), arg_int(&a[0]), "", false)))
        }),
    );
    m.insert(
        "wrapWith".into(),
        Func::pure(Sig::fixed(&[Int, String, String]), |a| {
            Ok(Value::str(wrap_custom(
                arg_str(&a[2]),
                arg_int(&a[0]),
                arg_str(&a[1]),
                true,
            )))
        }),
    );
    b2(m, "contains", |sub, s| s.contains(sub));
    b2(m, "hasPrefix", |p, s| s.starts_with(p));
    b2(m, "hasSuffix", |p, s| s.ends_with(p));
    m.insert(
        "quote".into(),
        Func::pure(Sig::variadic(&[], Any), |a| {
            let parts: Vec<std::string::String> =
                a.iter().filter(|v| !v.is_nil()).map(|v| go_quote(&strval(v))).collect();
            Ok(Value::str(parts.join(" ")))
        }),
    );
    m.insert(
        "squote".into(),
        Func::pure(Sig::variadic(&[], Any), |a| {
            let parts: Vec<std::string::String> = a
                .iter()
                .filter(|v| !v.is_nil())
                .map(|v| format!("'{}'", fmt_v(v)))
                .collect();
            Ok(Value::str(parts.join(" ")))
        }),
    );
    m.insert(
        "cat".into(),
        Func::pure(Sig::variadic(&[], Any), |a| {
            let parts: Vec<std::string::String> = a.iter().filter(|v| !v.is_nil()).map(fmt_v).collect();
            Ok(Value::str(parts.join(" ")))
        }),
    );
    m.insert(
        "indent".into(),
        Func::pure(Sig::fixed(&[Int, String]), |a| {
            indent(arg_int(&a[0]), arg_str(&a[1])).map(Value::str)
        }),
    );
    m.insert(
        "nindent".into(),
        Func::pure(Sig::fixed(&[Int, String]), |a| {
            indent(arg_int(&a[0]), arg_str(&a[1])).map(|s| Value::str(format!("\n{s}")))
        }),
    );
    m.insert(
        "replace".into(),
        Func::pure(Sig::fixed(&[String, String, String]), |a| {
            Ok(Value::str(arg_str(&a[2]).replace(arg_str(&a[0]), arg_str(&a[1]))))
        }),
    );
    m.insert(
        "plural".into(),
        Func::pure(Sig::fixed(&[String, String, Int]), |a| {
            Ok(if arg_int(&a[2]) == 1 {
                a[0].clone()
            } else {
                a[1].clone()
            })
        }),
    );
    m.insert(
        "toString".into(),
        Func::pure(Sig::fixed(&[Any]), |a| Ok(Value::str(strval(&a[0])))),
    );
    m.insert(
        "toStrings".into(),
        Func::pure(Sig::fixed(&[Any]), |a| Ok(Value::str_list(strslice(&a[0])))),
    );
    m.insert(
        "join".into(),
        Func::pure(Sig::fixed(&[String, Any]), |a| {
            Ok(Value::str(strslice(&a[1]).join(arg_str(&a[0]))))
        }),
    );
    m.insert(
        "sortAlpha".into(),
        Func::pure(Sig::fixed(&[Any]), |a| {
            if slice_items(&a[0]).is_none() {
                return Ok(Value::str_list([strval(&a[0])]));
            }
            let mut v = strslice(&a[0]);
            v.sort();
            Ok(Value::str_list(v))
        }),
    );
    m.insert(
        "split".into(),
        Func::pure(Sig::fixed(&[String, String]), |a| {
            Ok(split_map(go_split(arg_str(&a[1]), arg_str(&a[0]))))
        }),
    );
    m.insert(
        "splitList".into(),
        Func::pure(Sig::fixed(&[String, String]), |a| {
            Ok(Value::str_list(go_split(arg_str(&a[1]), arg_str(&a[0]))))
        }),
    );
    m.insert(
        "splitn".into(),
        Func::pure(Sig::fixed(&[String, Int, String]), |a| {
            Ok(split_map(go_split_n(arg_str(&a[2]), arg_str(&a[0]), arg_int(&a[1]))))
        }),
    );
    m.insert(
        "seq".into(),
        Func::pure(Sig::variadic(&[], Int), |a| {
            let p: Vec<i64> = a.iter().map(arg_int).collect();
            seq(&p).map(Value::str)
        }),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected outputs below come from helm 4.1.4 (`helm template` of a chart calling each function).

    #[test]
    fn case_functions_match_go() {
        assert_eq!(go_quote("a\u{a0}b\u{200b}c\u{e9}\u{7}"), "\"a\\u00a0b\\u200bcé\\a\"");
        assert_eq!("straße ǆ".chars().map(go_to_upper).collect::<String>(), "STRAßE Ǆ");
        assert_eq!(title("hello wORLD-foo_bar ǆx"), "Hello WORLD-Foo_bar ǅx");
        assert_eq!(swapcase("hello World ǆ"), "HELLO wORLD ǅ");
        assert_eq!(nospace("a é b"), "aÃ©b");
        assert_eq!(initials("ab cd éf"), "acÃ");
        assert_eq!(camel_to_lower("HTTPServer2xx fooBar", '_'), "http_server_2xx_foo_bar");
        assert_eq!(to_pascal_case("http_server-foo bar"), "HttpServerFooBar");
        assert_eq!(camel_to_lower("Bld4Floor3rd", '-'), "bld4-floor-3rd");
    }

    #[test]
    fn abbreviation_and_wrapping() {
        assert_eq!(abbrev(5, "hello world"), "he...");
        assert_eq!(abbrevboth(5, 10, "1234567890abcdefghij"), "...6789...");
        assert_eq!(wrap_custom("hello world foo", 5, "", false), "hello\nworld\nfoo");
        assert_eq!(wrap_custom("hello world foo", 5, "|", true), "hello|world|foo");
    }

    #[test]
    fn byte_cutting_and_errors() {
        assert_eq!(substr(0, 5, "abc").unwrap(), "abc");
        assert_eq!(
            substr(-1, 5, "abc").unwrap_err(),
            "runtime error: slice bounds out of range [:5] with length 3"
        );
        assert_eq!(trunc(-2, "abcde"), "de");
        assert_eq!(trunc(3, "abcde"), "abc");
        assert_eq!(trunc(-9, "abc"), "abc");
        assert_eq!(indent(2, "a\n\nb").unwrap(), "  a\n  \n  b");
    }
}
