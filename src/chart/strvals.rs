//! `--set`, `--set-string`, `--set-file`, `--set-json` and `--set-literal`: a port of Helm 4's
//! `pkg/strvals` (`parser.go`, `literal_parser.go`).
//!
//! The port keeps Helm's control flow, not just its grammar, because users see its quirks:
//! * a key or index cut off by the end of input is *silently accepted* (Go wraps `io.EOF` and
//!   `parse` treats any error that `errors.Is(io.EOF)` as the end), so `a[0]` alone leaves `a: []`;
//! * Go type assertions that panic on a clash (`a=1,a.b=2`) come back as
//!   `unable to parse key: interface conversion: interface {} is int64, not map[string]interface {}`;
//! * values are typed as `typedVal` does: `true`/`false`/`null` in any case, integers without a
//!   leading zero become `int64`, everything else (floats too) stays a string.
//!
//! Maps are shared [`Map`]s (changed in place like Go maps); lists are rebuilt and stored back,
//! which gives the same result as Go's slice writes for every input that does not fail.

use std::fmt;

use crate::value::{List, Map, Value};

/// Helm's `MaxIndex`: the largest list index `--set` accepts.
pub const MAX_INDEX: i64 = 65536;
/// Helm's `MaxNestedNameLevel`: the most `.` levels in one name.
pub const MAX_NESTED_NAME_LEVEL: usize = 30;

/// A strvals parse error; `Display` is Helm's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrvalsError(pub String);

impl fmt::Display for StrvalsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StrvalsError {}

/// Reads the value of a `--set-file` entry: gets the (unescaped) path, returns the value.
pub type FileReader<'a> = dyn FnMut(&str) -> Result<Value, String> + 'a;

/// `strvals.ParseInto`: typed values merged into `dest`.
pub fn parse_set(s: &str, dest: &Map) -> Result<(), StrvalsError> {
    Parser::new(s, Mode::Typed { force_string: false }).run(dest)
}

/// `strvals.ParseIntoString`: every value a string.
pub fn parse_set_string(s: &str, dest: &Map) -> Result<(), StrvalsError> {
    Parser::new(s, Mode::Typed { force_string: true }).run(dest)
}

/// `strvals.ParseJSON`: each value is a JSON document (numbers become float64); empty means null.
pub fn parse_set_json(s: &str, dest: &Map) -> Result<(), StrvalsError> {
    Parser::new(s, Mode::Json).run(dest)
}

/// `strvals.ParseIntoFile`: each value is a path handed to `reader`.
pub fn parse_set_file(s: &str, dest: &Map, reader: &mut FileReader<'_>) -> Result<(), StrvalsError> {
    Parser::new(s, Mode::File(reader)).run(dest)
}

/// `strvals.ParseLiteralInto`: one `name=value`, the value taken verbatim to the end.
pub fn parse_set_literal(s: &str, dest: &Map) -> Result<(), StrvalsError> {
    let mut p = Parser::new(s, Mode::Typed { force_string: true });
    p.literal = true;
    p.run(dest)
}

/// An internal error: Helm's message, and whether it wraps `io.EOF` (then parsing just stops).
#[derive(Debug)]
struct Err {
    msg: String,
    eof: bool,
    not_list: bool,
}

impl Err {
    fn msg(m: impl Into<String>) -> Err {
        Err {
            msg: m.into(),
            eof: false,
            not_list: false,
        }
    }
    fn eof() -> Err {
        Err {
            msg: "EOF".into(),
            eof: true,
            not_list: false,
        }
    }
    fn not_list() -> Err {
        Err {
            msg: "not a list".into(),
            eof: false,
            not_list: true,
        }
    }
    /// `fmt.Errorf("prefix%w", e)`: keeps the EOF identity.
    fn wrap(self, prefix: &str) -> Err {
        Err {
            msg: format!("{prefix}{}", self.msg),
            ..self
        }
    }
}

type R<T> = Result<T, Err>;

enum Mode<'a, 'b> {
    Typed { force_string: bool },
    Json,
    File(&'a mut FileReader<'b>),
}

struct Parser<'a, 'b> {
    sc: Vec<char>,
    pos: usize,
    mode: Mode<'a, 'b>,
    literal: bool,
}

/// Go's panic text for a failed `x.(T)` on an `interface {}`.
fn conversion_panic(v: &Value, want: &str) -> Err {
    let got = match v {
        Value::Nil => "nil".to_string(),
        other => other.type_name(),
    };
    Err::msg(format!(
        "unable to parse key: interface conversion: interface {{}} is {got}, not {want}"
    ))
}

const LIST_T: &str = "[]interface {}";
const MAP_T: &str = "map[string]interface {}";

impl<'a, 'b> Parser<'a, 'b> {
    fn new(s: &str, mode: Mode<'a, 'b>) -> Parser<'a, 'b> {
        Parser {
            sc: s.chars().collect(),
            pos: 0,
            mode,
            literal: false,
        }
    }

    fn run(&mut self, dest: &Map) -> Result<(), StrvalsError> {
        loop {
            let r = if self.literal {
                self.lit_key(dest, 0)
            } else {
                self.key(dest, 0)
            };
            match r {
                Ok(()) => continue,
                Err(e) if e.eof => return Ok(()),
                Err(e) => return Err(StrvalsError(e.msg)),
            }
        }
    }

    fn read_rune(&mut self) -> Option<char> {
        let c = self.sc.get(self.pos).copied();
        if c.is_some() {
            self.pos += 1;
        }
        c
    }

    fn unread_rune(&mut self) {
        self.pos -= 1;
    }

    /// `runesUntil` (with `\` escapes) or `runesUntilLiteral` (without): the runes read, and the
    /// stop rune, or `None` at the end of input.
    fn runes_until(&mut self, stop: &[char], escapes: bool) -> (String, Option<char>) {
        let mut v = String::new();
        loop {
            match self.read_rune() {
                None => return (v, None),
                Some(r) if stop.contains(&r) => return (v, Some(r)),
                Some('\\') if escapes => match self.read_rune() {
                    None => return (v, None),
                    Some(n) => v.push(n),
                },
                Some(r) => v.push(r),
            }
        }
    }

    fn read_value(&mut self, rs: &str) -> R<Value> {
        match &mut self.mode {
            Mode::Typed { force_string } => Ok(typed_val(rs, *force_string)),
            Mode::File(reader) => reader(rs).map_err(Err::msg),
            Mode::Json => Ok(Value::str(rs)),
        }
    }

    fn key(&mut self, data: &Map, nested: usize) -> R<()> {
        let (k, last) = self.runes_until(&['=', '[', ',', '.'], true);
        let Some(last) = last else {
            if k.is_empty() {
                return Err(Err::eof());
            }
            return Err(Err::msg(format!("key {} has no value", go_quote(&k))));
        };
        match last {
            '[' => {
                let i = self.key_index(true).map_err(|e| e.wrap("error parsing index: "))?;
                let list = match data.get(&k) {
                    Some(Value::List(l)) => l.items.as_ref().clone(),
                    Some(other) => return Err(conversion_panic(&other, LIST_T)),
                    None if data.contains_key(&k) => return Err(conversion_panic(&Value::Nil, LIST_T)),
                    None => Vec::new(),
                };
                let (list, r) = self.list_item(list, i, nested);
                set(data, &k, Value::list(list));
                r
            }
            '=' => {
                if let Mode::Json = self.mode {
                    if self.empty_val() {
                        set(data, &k, Value::Nil);
                        return Ok(());
                    }
                    let v = self.json_value()?;
                    set(data, &k, v);
                    self.empty_val();
                    return Ok(());
                }
                match self.val_list() {
                    Ok(vl) => {
                        set(data, &k, Value::list(vl));
                        Ok(())
                    }
                    Err(e) if e.eof => {
                        set(data, &k, Value::str(""));
                        Err(e)
                    }
                    Err(e) if e.not_list => {
                        let rs = self.val();
                        let v = self.read_value(&rs)?;
                        set(data, &k, v);
                        Ok(())
                    }
                    Err(e) => Err(e),
                }
            }
            ',' => {
                set(data, &k, Value::str(""));
                Err(Err::msg(format!(
                    "key {} has no value (cannot end with ,)",
                    go_quote(&k)
                )))
            }
            _ => self.nested_map(data, &k, nested),
        }
    }

    /// The `.` case of `key`, shared by both parsers.
    fn nested_map(&mut self, data: &Map, k: &str, nested: usize) -> R<()> {
        let nested = nested + 1;
        if nested > MAX_NESTED_NAME_LEVEL {
            return Err(Err::msg(format!(
                "value name nested level is greater than maximum supported nested level of {MAX_NESTED_NAME_LEVEL}"
            )));
        }
        let inner = match data.get(k) {
            Some(Value::Map(m)) => m,
            Some(other) => return Err(conversion_panic(&other, MAP_T)),
            None if data.contains_key(k) => return Err(conversion_panic(&Value::Nil, MAP_T)),
            None => Map::new(),
        };
        let e = if self.literal {
            self.lit_key(&inner, nested)
        } else {
            self.key(&inner, nested)
        };
        if e.is_ok() && inner.is_empty() {
            return Err(Err::msg(format!("key map {} has no value", go_quote(k))));
        }
        if !inner.is_empty() {
            set(data, k, Value::Map(inner));
        }
        e
    }

    fn key_index(&mut self, escapes: bool) -> R<i64> {
        let (v, last) = self.runes_until(&[']'], escapes);
        if last.is_none() {
            return Err(Err::eof());
        }
        atoi(&v).map_err(Err::msg)
    }

    /// `listItem` of both parsers. Returns the list even on error, as Go's caller stores it.
    fn list_item(&mut self, mut list: Vec<Value>, i: i64, nested: usize) -> (Vec<Value>, R<()>) {
        if i < 0 {
            return (list, Err(Err::msg(format!("negative {i} index not allowed"))));
        }
        // `a[0][0]…` recurses once per index and Helm sets no limit (it renders 20,000): on the
        // big-stack thread that is ~40,000 levels deep, and past its end an error, not an abort.
        if crate::stack::stack_exhausted() {
            return (
                list,
                Err(Err::msg("list indexes nested too deeply (chartup's stack limit)")),
            );
        }
        let escapes = !self.literal;
        let (k, last) = self.runes_until(&['[', '.', '='], escapes);
        if !k.is_empty() {
            // Go formats the `[]rune` with %q: `['x' 'y']`.
            let runes: Vec<String> = k.chars().map(go_quote_rune).collect();
            let msg = format!("unexpected data at end of array index: [{}]", runes.join(" "));
            return (list, Err(Err::msg(msg)));
        }
        let Some(last) = last else {
            return (list, Err(Err::eof()));
        };
        let idx = i as usize;
        match last {
            '=' => {
                if self.literal {
                    let value = self.rest();
                    let r = set_index(&mut list, i, Value::str(value));
                    return (list, r);
                }
                if let Mode::Json = self.mode {
                    if self.empty_val() {
                        let r = set_index(&mut list, i, Value::Nil);
                        return (list, r);
                    }
                    let v = match self.json_value() {
                        Ok(v) => v,
                        Err(e) => return (list, Err(e)),
                    };
                    if let Err(e) = set_index(&mut list, i, v) {
                        return (list, Err(e));
                    }
                    self.empty_val();
                    return (list, Ok(()));
                }
                let r = match self.val_list() {
                    Ok(vl) => set_index(&mut list, i, Value::list(vl)),
                    Err(e) if e.eof => set_index(&mut list, i, Value::str("")),
                    Err(e) if e.not_list => {
                        let rs = self.val();
                        match self.read_value(&rs) {
                            Ok(v) => set_index(&mut list, i, v),
                            Err(e) => Err(e),
                        }
                    }
                    Err(e) => Err(e),
                };
                (list, r)
            }
            '[' => {
                let next_i = match self.key_index(escapes) {
                    Ok(n) => n,
                    Err(e) => return (list, Err(e.wrap("error parsing index: "))),
                };
                let mut existed = false;
                let mut crt = Vec::new();
                if list.len() > idx {
                    match &list[idx] {
                        Value::Nil => {}
                        Value::List(l) => {
                            existed = true;
                            crt = l.items.as_ref().clone();
                        }
                        other => {
                            let e = conversion_panic(other, LIST_T);
                            return (list, Err(e));
                        }
                    }
                }
                let (list2, r) = self.list_item(crt, next_i, nested);
                match r {
                    Err(e) => {
                        // Go's inner slice shares its array with list[i]: in-place writes show.
                        if existed {
                            list[idx] = Value::list(list2);
                        }
                        (list, Err(e))
                    }
                    Ok(()) => {
                        let r = set_index(&mut list, i, Value::list(list2));
                        (list, r)
                    }
                }
            }
            _ => {
                let inner = if list.len() > idx {
                    match &list[idx] {
                        Value::Map(m) => m.clone(),
                        _ => {
                            // Indices out of order: Go initialises the slot in place.
                            let m = Map::new();
                            list[idx] = Value::Map(m.clone());
                            m
                        }
                    }
                } else {
                    Map::new()
                };
                let e = if self.literal {
                    self.lit_key(&inner, nested)
                } else {
                    self.key(&inner, nested)
                };
                if let Err(e) = e {
                    return (list, Err(e));
                }
                let r = set_index(&mut list, i, Value::Map(inner));
                (list, r)
            }
        }
    }

    /// `emptyVal`: skips spaces; true at a `,` (consumed) or the end.
    fn empty_val(&mut self) -> bool {
        loop {
            match self.read_rune() {
                None | Some(',') => return true,
                Some(r) if r.is_whitespace() => continue,
                Some(_) => {
                    self.unread_rune();
                    return false;
                }
            }
        }
    }

    /// One JSON document from the rest of the input, as `json.Decoder.Decode` reads it.
    fn json_value(&mut self) -> R<Value> {
        let rest: String = self.sc[self.pos..].iter().collect();
        let mut stream = serde_json::Deserializer::from_str(&rest).into_iter::<serde_json::Value>();
        match stream.next() {
            None => Err(Err::msg("unexpected EOF")),
            Some(Err(e)) => Err(Err::msg(e.to_string())),
            Some(Ok(v)) => {
                let consumed = rest[..stream.byte_offset()].chars().count();
                self.pos += consumed;
                Ok(json_to_value(&v))
            }
        }
    }

    fn val(&mut self) -> String {
        self.runes_until(&[','], true).0
    }

    fn rest(&mut self) -> String {
        let s: String = self.sc[self.pos..].iter().collect();
        self.pos = self.sc.len();
        s
    }

    /// `valList`: a `{a,b}` list, or `not_list` (nothing consumed), or EOF.
    fn val_list(&mut self) -> R<Vec<Value>> {
        match self.read_rune() {
            None => return Err(Err::eof()),
            Some('{') => {}
            Some(_) => {
                self.unread_rune();
                return Err(Err::not_list());
            }
        }
        let mut list = Vec::new();
        loop {
            let (rs, last) = self.runes_until(&[',', '}'], true);
            match last {
                None => return Err(Err::msg("list must terminate with '}'")),
                Some('}') => {
                    if let Some(r) = self.read_rune() {
                        if r != ',' {
                            self.unread_rune();
                        }
                    }
                    let v = self.read_value(&rs)?;
                    list.push(v);
                    return Ok(list);
                }
                Some(_) => {
                    let v = self.read_value(&rs)?;
                    list.push(v);
                }
            }
        }
    }

    /// `literalParser.key`.
    fn lit_key(&mut self, data: &Map, nested: usize) -> R<()> {
        let (k, last) = self.runes_until(&['=', '[', '.'], false);
        let Some(last) = last else {
            if k.is_empty() {
                return Err(Err::eof());
            }
            return Err(Err::msg(format!("key {} has no value", go_quote(&k))));
        };
        match last {
            '=' => {
                let value = self.rest();
                set(data, &k, Value::str(value));
                Ok(())
            }
            '.' => self.nested_map(data, &k, nested),
            _ => {
                let i = self.key_index(false).map_err(|e| e.wrap("error parsing index: "))?;
                let list = match data.get(&k) {
                    Some(Value::List(l)) => l.items.as_ref().clone(),
                    Some(other) => return Err(conversion_panic(&other, LIST_T)),
                    None if data.contains_key(&k) => return Err(conversion_panic(&Value::Nil, LIST_T)),
                    None => Vec::new(),
                };
                let (list, r) = self.list_item(list, i, nested);
                set(data, &k, Value::list(list));
                r
            }
        }
    }
}

/// Helm's `set`: an empty key is never stored.
fn set(data: &Map, key: &str, val: Value) {
    if !key.is_empty() {
        data.insert(key, val);
    }
}

fn set_index(list: &mut Vec<Value>, index: i64, val: Value) -> R<()> {
    if index < 0 {
        return Err(Err::msg(format!("negative {index} index not allowed")));
    }
    if index > MAX_INDEX {
        return Err(Err::msg(format!(
            "index of {index} is greater than maximum supported index of {MAX_INDEX}"
        )));
    }
    let idx = index as usize;
    if list.len() <= idx {
        list.resize(idx + 1, Value::Nil);
    }
    list[idx] = val;
    Ok(())
}

/// Go's `strconv.Atoi`, with its error text.
fn atoi(s: &str) -> Result<i64, String> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("strconv.Atoi: parsing {}: invalid syntax", go_quote(s)));
    }
    s.parse::<i64>()
        .map_err(|_| format!("strconv.Atoi: parsing {}: value out of range", go_quote(s)))
}

/// Go's `strings.EqualFold` for an ASCII lowercase `word`: Unicode simple folding adds only
/// `ſ` (U+017F) ≡ `s` and `K` (U+212A) ≡ `k` among the letters that can occur here.
fn equal_fold(s: &str, word: &str) -> bool {
    let mut a = s.chars();
    let mut b = word.chars();
    loop {
        match (a.next(), b.next()) {
            (None, None) => return true,
            (Some(x), Some(y)) => {
                let ok = x.to_ascii_lowercase() == y || (x == '\u{17F}' && y == 's') || (x == '\u{212A}' && y == 'k');
                if !ok {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

/// `typedVal`: how `--set` types a scalar.
pub fn typed_val(val: &str, force_string: bool) -> Value {
    if force_string {
        return Value::str(val);
    }
    if equal_fold(val, "true") {
        return Value::Bool(true);
    }
    if equal_fold(val, "false") {
        return Value::Bool(false);
    }
    if equal_fold(val, "null") {
        return Value::Nil;
    }
    if val == "0" {
        return Value::Int64(0);
    }
    if !val.is_empty() && !val.starts_with('0') && parse_int10(val) {
        if let Ok(i) = val.parse::<i64>() {
            return Value::Int64(i);
        }
    }
    Value::str(val)
}

/// `strconv.ParseInt(s, 10, 64)` syntax: optional sign, ASCII digits.
fn parse_int10(s: &str) -> bool {
    let d = s.strip_prefix(['+', '-']).unwrap_or(s);
    !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit())
}

/// `encoding/json` into `interface{}`: numbers are float64, objects `map[string]interface {}`.
pub fn json_to_value(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Nil,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        serde_json::Value::String(s) => Value::str(s),
        serde_json::Value::Array(a) => Value::List(List::new(a.iter().map(json_to_value).collect())),
        serde_json::Value::Object(o) => {
            let m = Map::new();
            for (k, v) in o {
                m.insert(k.clone(), json_to_value(v));
            }
            Value::Map(m)
        }
    }
}

/// Go's `strconv.QuoteRune` (as `%q` prints a rune).
fn go_quote_rune(c: char) -> String {
    if c == '\'' {
        return "'\\''".to_string();
    }
    if c == '"' {
        return "'\"'".to_string();
    }
    let q = go_quote(&c.to_string());
    format!("'{}'", &q[1..q.len() - 1])
}

/// Go's `strconv.Quote` (as `%q` prints a string).
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if c.is_control() || c == '\u{FEFF}' => {
                if (c as u32) < 0x10000 {
                    out.push_str(&format!("\\u{:04x}", c as u32))
                } else {
                    out.push_str(&format!("\\U{:08x}", c as u32))
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dump(v: &Value) -> String {
        format!("{v:?}")
    }

    fn set_ok(s: &str) -> String {
        let m = Map::new();
        parse_set(s, &m).unwrap_or_else(|e| panic!("{s}: {e}"));
        dump(&Value::Map(m))
    }

    fn set_err(s: &str) -> String {
        let m = Map::new();
        parse_set(s, &m).expect_err(s).0
    }

    // Expectations below come from Helm's own parser_test.go table (pkg/strvals, v4.1.4) and
    // from running `helm template --set …` with `{{ toJson .Values }}` / `{{ typeOf … }}`.

    #[test]
    fn typing_follows_typed_val() {
        assert_eq!(set_ok("a=1"), r#"{"a": int64(1)}"#);
        assert_eq!(set_ok("a=0"), r#"{"a": int64(0)}"#);
        assert_eq!(set_ok("a=01"), r#"{"a": "01"}"#);
        assert_eq!(set_ok("a=-5"), r#"{"a": int64(-5)}"#);
        assert_eq!(set_ok("a=1.5"), r#"{"a": "1.5"}"#);
        assert_eq!(set_ok("a=TRUE,b=False,c=NuLL"), r#"{"a": true, "b": false, "c": nil}"#);
        assert_eq!(set_ok("a=9223372036854775808"), r#"{"a": "9223372036854775808"}"#);
        assert_eq!(set_ok("a="), r#"{"a": ""}"#);
        let m = Map::new();
        parse_set_string("a=1,b=true", &m).unwrap();
        assert_eq!(dump(&Value::Map(m)), r#"{"a": "1", "b": "true"}"#);
    }

    #[test]
    fn nesting_lists_and_escapes() {
        assert_eq!(set_ok("a.b.c=x"), r#"{"a": {"b": {"c": "x"}}}"#);
        assert_eq!(set_ok("a[2]=x"), r#"{"a": [nil, nil, "x"]}"#);
        assert_eq!(
            set_ok("a[0].b=1,a[0].c=2"),
            r#"{"a": [{"b": int64(1), "c": int64(2)}]}"#
        );
        assert_eq!(set_ok("a[1][0]=x"), r#"{"a": [nil, ["x"]]}"#);
        assert_eq!(set_ok("a={x,y,1}"), r#"{"a": ["x", "y", int64(1)]}"#);
        assert_eq!(set_ok(r"a=x\,y,b=c\.d"), r#"{"a": "x,y", "b": "c.d"}"#);
        assert_eq!(set_ok(r"a\.b=1"), r#"{"a.b": int64(1)}"#);
        assert_eq!(
            set_ok("name1=value1,name2=value2"),
            r#"{"name1": "value1", "name2": "value2"}"#
        );
        assert_eq!(set_ok("list[0]=foo,list[1]=bar"), r#"{"list": ["foo", "bar"]}"#);
        assert_eq!(set_ok("a.b=1,a.c=2"), r#"{"a": {"b": int64(1), "c": int64(2)}}"#);
    }

    #[test]
    fn end_of_input_is_silently_accepted() {
        assert_eq!(set_ok("a[0]"), r#"{"a": []}"#);
        assert_eq!(set_ok("a."), "{}");
        assert_eq!(set_ok(""), "{}");
        assert_eq!(set_ok("a[1"), "{}");
    }

    #[test]
    fn errors_are_helms() {
        assert_eq!(set_err("name"), r#"key "name" has no value"#);
        assert_eq!(
            set_err("name1,name2="),
            r#"key "name1" has no value (cannot end with ,)"#
        );
        assert_eq!(
            set_err("a=1,a.b=2"),
            "unable to parse key: interface conversion: interface {} is int64, not map[string]interface {}"
        );
        assert_eq!(
            set_err("a=x,a[0]=2"),
            "unable to parse key: interface conversion: interface {} is string, not []interface {}"
        );
        assert_eq!(
            set_err("a[x]=1"),
            r#"error parsing index: strconv.Atoi: parsing "x": invalid syntax"#
        );
        assert_eq!(set_err("a[-1]=1"), "negative -1 index not allowed");
        assert_eq!(
            set_err("a[65537]=1"),
            "index of 65537 is greater than maximum supported index of 65536"
        );
        assert_eq!(set_err("a[0]x=1"), "unexpected data at end of array index: ['x']");
        assert_eq!(set_err("a[0]xy=1"), "unexpected data at end of array index: ['x' 'y']");
        assert_eq!(set_err("a={x,y"), "list must terminate with '}'");
        assert_eq!(set_err(".=x"), r#"key map "" has no value"#);
        let deep = format!("{}=1", vec!["a"; 32].join("."));
        assert_eq!(
            set_err(&deep),
            "value name nested level is greater than maximum supported nested level of 30"
        );
    }

    #[test]
    fn json_values() {
        let m = Map::new();
        parse_set_json(r#"a={"b":[1,"x",null]},c=,d="s""#, &m).unwrap();
        assert_eq!(
            dump(&Value::Map(m)),
            r#"{"a": {"b": [float64(1), "x", nil]}, "c": nil, "d": "s"}"#
        );
        let m = Map::new();
        parse_set_json(r#"a[1]=true"#, &m).unwrap();
        assert_eq!(dump(&Value::Map(m)), r#"{"a": [nil, true]}"#);
    }

    #[test]
    fn literal_values() {
        let m = Map::new();
        parse_set_literal(r"a.b=x,y={z}\n", &m).unwrap();
        assert_eq!(dump(&Value::Map(m)), r#"{"a": {"b": "x,y={z}\\n"}}"#);
        let m = Map::new();
        parse_set_literal("a[1]=1", &m).unwrap();
        assert_eq!(dump(&Value::Map(m)), r#"{"a": [nil, "1"]}"#);
    }

    #[test]
    fn file_values() {
        let m = Map::new();
        let mut reader = |p: &str| -> Result<Value, String> { Ok(Value::str(format!("<{p}>"))) };
        parse_set_file("a=x.txt,b[0]=y", &m, &mut reader).unwrap();
        assert_eq!(dump(&Value::Map(m)), r#"{"a": "<x.txt>", "b": ["<y>"]}"#);
    }

    #[test]
    fn merges_into_existing() {
        let m = Map::new();
        parse_set("a.b=1", &m).unwrap();
        parse_set("a.c=2,l[1]=x", &m).unwrap();
        parse_set("l[0]=y", &m).unwrap();
        assert_eq!(
            dump(&Value::Map(m)),
            r#"{"a": {"b": int64(1), "c": int64(2)}, "l": ["y", "x"]}"#
        );
    }

    /// Random strings over the grammar's alphabet: every parser must return, never panic.
    #[test]
    fn random_inputs_never_panic() {
        let alphabet: Vec<char> = "ab.[]{}=,\\019- \"nulTRUE:ſ".chars().collect();
        let mut seed: u64 = 0x9E3779B97F4A7C15;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..20000 {
            let len = (next() % 24) as usize;
            let s: String = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            let m = Map::new();
            let _ = parse_set(&s, &m);
            let _ = parse_set_string(&s, &m);
            let _ = parse_set_json(&s, &Map::new());
            let _ = parse_set_literal(&s, &Map::new());
            let mut reader = |p: &str| -> Result<Value, String> { Ok(Value::str(p)) };
            let _ = parse_set_file(&s, &Map::new(), &mut reader);
            let _ = crate::chart::ignore::go_match(&s, "a.b[c]");
            let _ = crate::chart::ignore::Rules::parse(s.as_bytes());
        }
    }
}
