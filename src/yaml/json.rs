//! Go's `encoding/json` for our values: `toJson`, `toRawJson`, `toPrettyJson`, `fromJson`.
//!
//! Output follows `json.Marshal`: map keys sorted, `<>&` escaped unless HTML escaping is off,
//! U+2028/U+2029 always escaped, floats in `'f'` form except below 1e-6 or from 1e21 (`1e-7`,
//! `1e+21`), `[]byte` as base64, `time.Time` as RFC 3339 with nanoseconds. Reading follows
//! `json.Unmarshal` into `interface{}` (numbers are float64) with Go's error texts, because Helm
//! shows them (`fromJson` puts them under an "Error" key).
//!
//! The marshaller first builds a [`Json`] tree; `toYaml` reuses it, since Helm's `toYaml` is
//! `json.Marshal` followed by go-yaml.

use std::fmt::Write as _;

use super::gofloat::{self, Fmt};
use crate::value::{Map, Value};

/// A JSON value as `json.Marshal` would produce it; numbers keep their Go text.
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    /// The number exactly as encoding/json prints it.
    Num(String),
    Str(String),
    Arr(Vec<Json>),
    /// Keys in encoding/json's order (sorted by bytes).
    Obj(Vec<(String, Json)>),
}

/// `json.Marshal`'s float text, or its error for NaN and infinities.
pub fn float_text(f: f64) -> Result<String, String> {
    if !f.is_finite() {
        let s = gofloat::format64(f, Fmt::G);
        return Err(format!("json: unsupported value: {s}"));
    }
    let abs = f.abs();
    if abs != 0.0 && (abs < 1e-6 || abs >= 1e21) {
        let mut s = gofloat::format64(f, Fmt::E);
        // Go cleans up e-09 to e-9.
        let n = s.len();
        let b = s.as_bytes();
        if n >= 4 && b[n - 4] == b'e' && b[n - 3] == b'-' && b[n - 2] == b'0' {
            s.remove(n - 2);
        }
        Ok(s)
    } else {
        Ok(gofloat::format64(f, Fmt::F))
    }
}

/// Go's `time.Time.Format(time.RFC3339Nano)`.
pub fn rfc3339_nano(t: &jiff::Zoned) -> String {
    let dt = t.datetime();
    let mut s = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    );
    let ns = dt.subsec_nanosecond();
    if ns != 0 {
        let frac = format!("{ns:09}");
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    let off = t.offset().seconds();
    if off == 0 {
        s.push('Z');
    } else {
        let sign = if off < 0 { '-' } else { '+' };
        let a = off.abs();
        let _ = write!(s, "{sign}{:02}:{:02}", a / 3600, (a / 60) % 60);
    }
    s
}

/// Converts a value as `json.Marshal` sees it.
pub fn to_tree(v: &Value) -> Result<Json, String> {
    to_tree_depth(v, 0)
}

fn to_tree_depth(v: &Value, depth: usize) -> Result<Json, String> {
    // Callers check nesting and cycles first (`check_nesting`); this only keeps the stack safe.
    if depth > super::MAX_WRITE_DEPTH || crate::stack::stack_exhausted() {
        return Err("json: value nested too deeply".into());
    }
    Ok(match v {
        Value::Nil => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) | Value::Int64(i) => Json::Num(i.to_string()),
        Value::Float(f) => Json::Num(float_text(*f)?),
        Value::String(s) => Json::Str(s.to_string()),
        Value::Bytes(b) => {
            use base64::Engine;
            Json::Str(base64::engine::general_purpose::STANDARD.encode(b))
        }
        Value::List(l) => {
            let mut out = Vec::with_capacity(l.items.len());
            for it in l.items.iter() {
                out.push(to_tree_depth(it, depth + 1)?);
            }
            Json::Arr(out)
        }
        Value::Map(m) => {
            let mut out = Vec::with_capacity(m.len());
            for (k, it) in m.entries() {
                out.push((k, to_tree_depth(&it, depth + 1)?));
            }
            Json::Obj(out)
        }
        Value::Time(t) => Json::Str(rfc3339_nano(t)),
        Value::Object(o) => match (o.underlying(), o.json_fields()) {
            (Some(u), _) => to_tree_depth(&u, depth + 1)?,
            (None, Some(fields)) => {
                let mut out = Vec::with_capacity(fields.len());
                for (k, it) in fields {
                    out.push((k, to_tree_depth(&it, depth + 1)?));
                }
                Json::Obj(out)
            }
            (None, None) => Json::Obj(Vec::new()),
        },
    })
}

/// Appends `s` as a JSON string the way encoding/json does.
pub fn write_string(out: &mut String, s: &str, escape_html: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' if escape_html => {
                let _ = write!(out, "\\u00{:02x}", c as u32);
            }
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u00{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Serializes a tree: compact, or indented like `json.MarshalIndent(v, "", "  ")`.
pub fn write_tree(out: &mut String, j: &Json, escape_html: bool, indent: Option<usize>) {
    match j {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Num(n) => out.push_str(n),
        Json::Str(s) => write_string(out, s, escape_html),
        Json::Arr(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (i, it) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if let Some(d) = indent {
                    newline(out, d + 1);
                }
                write_tree(out, it, escape_html, indent.map(|d| d + 1));
            }
            if let Some(d) = indent {
                newline(out, d);
            }
            out.push(']');
        }
        Json::Obj(pairs) => {
            if pairs.is_empty() {
                out.push_str("{}");
                return;
            }
            out.push('{');
            for (i, (k, it)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if let Some(d) = indent {
                    newline(out, d + 1);
                }
                write_string(out, k, escape_html);
                out.push(':');
                if indent.is_some() {
                    out.push(' ');
                }
                write_tree(out, it, escape_html, indent.map(|d| d + 1));
            }
            if let Some(d) = indent {
                newline(out, d);
            }
            out.push('}');
        }
    }
}

fn newline(out: &mut String, depth: usize) {
    out.push('\n');
    for _ in 0..depth {
        out.push_str("  ");
    }
}

/// Go's `quoteChar` for scanner error messages.
fn quote_char(c: char) -> String {
    match c {
        '\'' => "'\\''".into(),
        '"' => "'\"'".into(),
        c => {
            let q = go_quote_rune_body(c);
            format!("'{q}'")
        }
    }
}

/// The inside of `strconv.Quote(string(c))` for one character.
fn go_quote_rune_body(c: char) -> String {
    match c {
        '\u{7}' => "\\a".into(),
        '\u{8}' => "\\b".into(),
        '\u{c}' => "\\f".into(),
        '\n' => "\\n".into(),
        '\r' => "\\r".into(),
        '\t' => "\\t".into(),
        '\u{b}' => "\\v".into(),
        '\\' => "\\\\".into(),
        c if (c as u32) < 0x20 || c as u32 == 0x7f => format!("\\x{:02x}", c as u32),
        c => c.to_string(),
    }
}

/// `json.Unmarshal` into `interface{}`, with Go's error texts.
pub fn parse(text: &str) -> Result<Value, String> {
    match parse_partial(text) {
        (Some(v), None) => Ok(v),
        (_, Some(e)) => Err(e),
        (None, None) => Err(EOF.into()),
    }
}

/// `json.Unmarshal` as Go leaves things after an error: a syntax error decodes nothing
/// (`(None, Some(err))`); a number out of float64 range becomes nil and decoding goes on, the
/// first such error being returned beside the value (`fromJson` shows both).
pub fn parse_partial(text: &str) -> (Option<Value>, Option<String>) {
    let brackets = || text.bytes().filter(|b| matches!(b, b'[' | b'{')).count();
    if !crate::stack::on_big_stack_thread() && text.len() > SMALL_STACK_BRACKETS && brackets() > SMALL_STACK_BRACKETS {
        if let Ok(r) = crate::stack::on_big_stack(|| parse_partial_here(text)) {
            return r;
        }
    }
    parse_partial_here(text)
}

fn parse_partial_here(text: &str) -> (Option<Value>, Option<String>) {
    let mut p = JsonParser {
        s: text.as_bytes(),
        text,
        pos: 0,
        depth: 0,
        type_error: None,
    };
    p.ws();
    let v = match p.value() {
        Ok(v) => v,
        Err(e) => return (None, Some(e)),
    };
    p.ws();
    if p.pos < p.s.len() {
        let e = format!("invalid character {} after top-level value", quote_char(p.char_at()));
        return (None, Some(e));
    }
    let err = p.type_error.take();
    (Some(v), err)
}

struct JsonParser<'a> {
    s: &'a [u8],
    text: &'a str,
    pos: usize,
    depth: usize,
    /// The first `UnmarshalTypeError` (Go keeps decoding after one).
    type_error: Option<String>,
}

const EOF: &str = "unexpected end of JSON input";

/// encoding/json's `maxNestingDepth`: 10,000 levels parse, one more is Go's error (`invalid
/// character '[' exceeded max depth`). The parser recurses once per level, so a document that
/// may nest deeply is read on the big-stack thread ([`parse_partial`]), and the stack guard
/// turns anything left into an error rather than an overflow.
const MAX_DEPTH: usize = 10_000;

/// Fewer brackets than this cannot nest deeply enough to need the big-stack thread.
const SMALL_STACK_BRACKETS: usize = 200;

impl JsonParser<'_> {
    fn char_at(&self) -> char {
        self.text
            .get(self.pos..)
            .and_then(|r| r.chars().next())
            .unwrap_or('\u{fffd}')
    }

    fn ws(&mut self) {
        while self.pos < self.s.len() && matches!(self.s[self.pos], b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
    }

    fn err(&self, context: &str) -> String {
        if self.pos >= self.s.len() {
            EOF.into()
        } else {
            format!("invalid character {} {context}", quote_char(self.char_at()))
        }
    }

    fn value(&mut self) -> Result<Value, String> {
        if self.pos >= self.s.len() {
            return Err(EOF.into());
        }
        if crate::stack::stack_exhausted() {
            return Err(format!("JSON nested too deeply for the stack at byte {}", self.pos));
        }
        match self.s[self.pos] {
            b'{' => {
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return Err(format!(
                        "invalid character {} exceeded max depth",
                        quote_char(self.char_at())
                    ));
                }
                self.pos += 1;
                let m = Map::new();
                self.ws();
                if self.s.get(self.pos) == Some(&b'}') {
                    self.pos += 1;
                    self.depth -= 1;
                    return Ok(Value::Map(m));
                }
                loop {
                    self.ws();
                    if self.s.get(self.pos) != Some(&b'"') {
                        return Err(self.err("looking for beginning of object key string"));
                    }
                    let k = self.string()?;
                    self.ws();
                    if self.s.get(self.pos) != Some(&b':') {
                        return Err(self.err("after object key"));
                    }
                    self.pos += 1;
                    self.ws();
                    let v = self.value()?;
                    m.insert(k, v);
                    self.ws();
                    match self.s.get(self.pos) {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {
                            self.pos += 1;
                            break;
                        }
                        _ => return Err(self.err("after object key:value pair")),
                    }
                }
                self.depth -= 1;
                Ok(Value::Map(m))
            }
            b'[' => {
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return Err(format!(
                        "invalid character {} exceeded max depth",
                        quote_char(self.char_at())
                    ));
                }
                self.pos += 1;
                let mut items = Vec::new();
                self.ws();
                if self.s.get(self.pos) == Some(&b']') {
                    self.pos += 1;
                    self.depth -= 1;
                    return Ok(Value::list(items));
                }
                loop {
                    self.ws();
                    items.push(self.value()?);
                    self.ws();
                    match self.s.get(self.pos) {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {
                            self.pos += 1;
                            break;
                        }
                        _ => return Err(self.err("after array element")),
                    }
                }
                self.depth -= 1;
                Ok(Value::list(items))
            }
            b'"' => Ok(Value::from(self.string()?)),
            b't' => self.literal("true", Value::Bool(true)),
            b'f' => self.literal("false", Value::Bool(false)),
            b'n' => self.literal("null", Value::Nil),
            b'-' | b'0'..=b'9' => self.number(),
            _ => Err(self.err("looking for beginning of value")),
        }
    }

    fn literal(&mut self, word: &str, v: Value) -> Result<Value, String> {
        let w = word.as_bytes();
        for (i, &c) in w.iter().enumerate() {
            match self.s.get(self.pos) {
                None => return Err(EOF.into()),
                Some(&x) if x == c => self.pos += 1,
                Some(_) => {
                    return Err(format!(
                        "invalid character {} in literal {word} (expecting {})",
                        quote_char(self.char_at()),
                        quote_char(w[i] as char)
                    ))
                }
            }
        }
        Ok(v)
    }

    fn number(&mut self) -> Result<Value, String> {
        let start = self.pos;
        let s = self.s;
        let digit = |p: usize| s.get(p).is_some_and(|c| c.is_ascii_digit());
        if s[self.pos] == b'-' {
            self.pos += 1;
            if self.pos >= s.len() {
                return Err(EOF.into());
            }
            if !digit(self.pos) {
                return Err(self.err("in numeric literal"));
            }
        }
        if s[self.pos] == b'0' {
            self.pos += 1;
        } else {
            while digit(self.pos) {
                self.pos += 1;
            }
        }
        if s.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            if self.pos >= s.len() {
                return Err(EOF.into());
            }
            if !digit(self.pos) {
                return Err(self.err("after decimal point in numeric literal"));
            }
            while digit(self.pos) {
                self.pos += 1;
            }
        }
        if matches!(s.get(self.pos), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(s.get(self.pos), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if self.pos >= s.len() {
                return Err(EOF.into());
            }
            if !digit(self.pos) {
                return Err(self.err("in exponent of numeric literal"));
            }
            while digit(self.pos) {
                self.pos += 1;
            }
        }
        let text = &self.text[start..self.pos];
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Value::Float(f)),
            _ => {
                if self.type_error.is_none() {
                    self.type_error = Some(format!(
                        "json: cannot unmarshal number {text} into Go value of type float64"
                    ));
                }
                Ok(Value::Nil)
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let mut v = 0u32;
        for _ in 0..4 {
            let c = match self.s.get(self.pos) {
                None => return Err(EOF.into()),
                Some(&c) => c,
            };
            let d = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                b'A'..=b'F' => c - b'A' + 10,
                _ => return Err(self.err("in \\u hexadecimal character escape")),
            };
            v = v * 16 + d as u32;
            self.pos += 1;
        }
        Ok(v)
    }

    fn string(&mut self) -> Result<String, String> {
        self.pos += 1; // opening quote
        let mut out = String::new();
        loop {
            let c = match self.s.get(self.pos) {
                None => return Err(EOF.into()),
                Some(&c) => c,
            };
            match c {
                b'"' => {
                    self.pos += 1;
                    return Ok(out);
                }
                b'\\' => {
                    self.pos += 1;
                    let e = match self.s.get(self.pos) {
                        None => return Err(EOF.into()),
                        Some(&e) => e,
                    };
                    self.pos += 1;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let u = self.hex4()?;
                            if (0xD800..0xDC00).contains(&u) {
                                // A high surrogate pairs with an immediately following \uDC00-\uDFFF.
                                let save = self.pos;
                                if self.s.get(self.pos) == Some(&b'\\') && self.s.get(self.pos + 1) == Some(&b'u') {
                                    self.pos += 2;
                                    match self.hex4() {
                                        Ok(lo) if (0xDC00..0xE000).contains(&lo) => {
                                            let cp = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
                                            out.push(char::from_u32(cp).unwrap_or('\u{fffd}'));
                                            continue;
                                        }
                                        Ok(_) => {}
                                        Err(e) => return Err(e),
                                    }
                                }
                                self.pos = save;
                                out.push('\u{fffd}');
                            } else {
                                out.push(char::from_u32(u).unwrap_or('\u{fffd}'));
                            }
                        }
                        _ => {
                            self.pos -= 1;
                            return Err(self.err("in string escape code"));
                        }
                    }
                }
                c if c < 0x20 => return Err(self.err("in string literal")),
                _ => {
                    // Copy one UTF-8 character.
                    let ch = self.char_at();
                    out.push(ch);
                    self.pos += ch.len_utf8();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected texts are encoding/json's documented/observed behaviour (checked with helm's toJson).
    #[test]
    fn floats_like_encoding_json() {
        assert_eq!(float_text(1e-7).unwrap(), "1e-7");
        assert_eq!(float_text(1e21).unwrap(), "1e+21");
        assert_eq!(float_text(1e20).unwrap(), "100000000000000000000");
        assert_eq!(float_text(0.000001).unwrap(), "0.000001");
        assert_eq!(float_text(1.5).unwrap(), "1.5");
        assert_eq!(float_text(f64::NAN).unwrap_err(), "json: unsupported value: NaN");
    }

    #[test]
    fn parse_errors_like_go() {
        assert_eq!(parse("").unwrap_err(), "unexpected end of JSON input");
        assert_eq!(
            parse("{\"a\":1,}").unwrap_err(),
            "invalid character '}' looking for beginning of object key string"
        );
        assert_eq!(parse("[1 2]").unwrap_err(), "invalid character '2' after array element");
        assert_eq!(parse("tru").unwrap_err(), "unexpected end of JSON input");
        assert_eq!(parse("1 x").unwrap_err(), "invalid character 'x' after top-level value");
        assert_eq!(
            parse("{a}").unwrap_err(),
            "invalid character 'a' looking for beginning of object key string"
        );
    }
}
