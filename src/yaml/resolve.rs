//! go-yaml v2's implicit scalar resolution (`resolve.go`), shared by the reader and the writer.
//!
//! Reading: a plain scalar becomes null, bool, int, float or string by these rules (YAML 1.1 with
//! Go's `strconv` number syntax). Writing: a string is quoted exactly when reading it back plain
//! would give something other than a string, so both directions must use the same table.

/// What a scalar resolves to, with go-yaml's tag names for error messages.
#[derive(Clone, Debug, PartialEq)]
pub enum Resolved {
    Null,
    Bool(bool),
    /// An `int`/`int64`.
    Int(i64),
    /// A `uint64` (non-negative integers above `i64::MAX`).
    Uint(u64),
    Float(f64),
    /// A timestamp: decoded into `interface{}` it stays the original string.
    Timestamp,
    /// The merge key `<<`.
    Merge,
    Str,
}

impl Resolved {
    /// go-yaml's short tag (`!!int`) for error messages.
    pub fn short_tag(&self) -> &'static str {
        match self {
            Resolved::Null => "!!null",
            Resolved::Bool(_) => "!!bool",
            Resolved::Int(_) | Resolved::Uint(_) => "!!int",
            Resolved::Float(_) => "!!float",
            Resolved::Timestamp => "!!timestamp",
            Resolved::Merge => "!!merge",
            Resolved::Str => "!!str",
        }
    }
}

pub const LONG_TAG_PREFIX: &str = "tag:yaml.org,2002:";

/// go-yaml's `shortTag`: `tag:yaml.org,2002:int` → `!!int`.
pub fn short_tag(tag: &str) -> String {
    match tag.strip_prefix(LONG_TAG_PREFIX) {
        Some(rest) => format!("!!{rest}"),
        None => tag.to_string(),
    }
}

fn lookup(s: &str) -> Option<Resolved> {
    Some(match s {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => Resolved::Bool(true),
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => Resolved::Bool(false),
        "" | "~" | "null" | "Null" | "NULL" => Resolved::Null,
        ".nan" | ".NaN" | ".NAN" => Resolved::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => Resolved::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => Resolved::Float(f64::NEG_INFINITY),
        "<<" => Resolved::Merge,
        _ => return None,
    })
}

/// go-yaml's `yamlStyleFloat`, `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`, by hand:
/// compiling the regex was ≈ 2 % of a one-object plan (Chart.yaml's `version: 1.0.0` asks).
fn yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |i: usize| b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let int = digits(i);
    i += int;
    if b.get(i) == Some(&b'.') {
        let frac = digits(i + 1);
        // `.` needs digits after it unless digits came before (`1.` is a float, `.` is not).
        if int == 0 && frac == 0 {
            return false;
        }
        i += 1 + frac;
    } else if int == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp = digits(i);
        if exp == 0 {
            return false;
        }
        i += exp;
    }
    i == b.len()
}

/// Implicit resolution of an untagged plain scalar (go-yaml v2 `resolve("", in)`).
pub fn resolve_plain(s: &str) -> Resolved {
    let hint = match s.as_bytes().first() {
        None => b'N',
        Some(b'+') | Some(b'-') => b'S',
        Some(c) if c.is_ascii_digit() => b'D',
        Some(b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~') => b'M',
        Some(b'.') => b'.',
        _ => return Resolved::Str,
    };
    if let Some(r) = lookup(s) {
        return r;
    }
    match hint {
        b'.' => {
            if let Some(f) = go_parse_float(s) {
                return Resolved::Float(f);
            }
        }
        b'D' | b'S' => {
            if is_timestamp(s) {
                return Resolved::Timestamp;
            }
            let plain: String = s.chars().filter(|&c| c != '_').collect();
            if let Some(i) = go_parse_int(&plain) {
                return Resolved::Int(i);
            }
            if let Some(u) = go_parse_uint(&plain) {
                return Resolved::Uint(u);
            }
            if yaml_style_float(&plain) {
                if let Some(f) = go_parse_float(&plain) {
                    return Resolved::Float(f);
                }
            }
            // The explicit `0b`/`-0b` branches of resolve.go are covered by ParseInt's base 0.
        }
        _ => {}
    }
    Resolved::Str
}

/// Resolution of a scalar with an explicit tag (long form), as go-yaml's `resolve(tag, in)` plus
/// its deferred check that the result fits the tag. `Ok(None)` means "keep the text as a string".
pub fn resolve_tagged(tag: &str, s: &str) -> Result<Resolved, String> {
    let suffix = match tag.strip_prefix(LONG_TAG_PREFIX) {
        Some(x) => x,
        None => return Ok(Resolved::Str), // custom tags are not resolvable: the text stays a string
    };
    match suffix {
        "str" | "binary" => return Ok(Resolved::Str),
        "bool" | "int" | "float" | "null" | "timestamp" => {}
        _ => return Ok(Resolved::Str),
    }
    // Tagged timestamps are tried even when quoted; other tags skip the timestamp check.
    let r = match resolve_plain(s) {
        Resolved::Timestamp if suffix != "timestamp" => Resolved::Str,
        r => r,
    };
    let ok = matches!(
        (suffix, &r),
        ("bool", Resolved::Bool(_))
            | ("null", Resolved::Null)
            | ("timestamp", Resolved::Timestamp)
            | ("int", Resolved::Int(_) | Resolved::Uint(_))
            | ("float", Resolved::Float(_))
    );
    if ok {
        return Ok(r);
    }
    // go-yaml converts an int (not a uint64) to the float a `!!float` tag asks for.
    if let ("float", Resolved::Int(i)) = (suffix, &r) {
        return Ok(Resolved::Float(*i as f64));
    }
    // Unknown strings resolve to !!str, and a `<<` that is not a merge stays a string in the message.
    let got = if r == Resolved::Merge { "!!merge" } else { r.short_tag() };
    Err(format!("cannot decode {got} `{s}` as a !!{suffix}"))
}

/// Go's `strconv.ParseUint(s, 0, 64)` (underscores already removed).
pub fn go_parse_uint(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.is_empty() {
        return None;
    }
    let (base, digits) = if b[0] == b'0' {
        if b.len() >= 3 && (b[1] | 0x20) == b'b' {
            (2, &b[2..])
        } else if b.len() >= 3 && (b[1] | 0x20) == b'o' {
            (8, &b[2..])
        } else if b.len() >= 3 && (b[1] | 0x20) == b'x' {
            (16, &b[2..])
        } else {
            (8, &b[1..])
        }
    } else {
        (10, b)
    };
    let mut n: u64 = 0;
    for &c in digits {
        let d = match c {
            b'0'..=b'9' => (c - b'0') as u64,
            b'a'..=b'z' => (c - b'a' + 10) as u64,
            b'A'..=b'Z' => (c - b'A' + 10) as u64,
            _ => return None,
        };
        if d >= base {
            return None;
        }
        n = n.checked_mul(base)?.checked_add(d)?;
    }
    Some(n)
}

/// Go's `strconv.ParseInt(s, 0, 64)`.
pub fn go_parse_int(s: &str) -> Option<i64> {
    let (neg, rest) = match s.as_bytes().first() {
        Some(b'+') => (false, &s[1..]),
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    let u = go_parse_uint(rest)?;
    if neg {
        if u > 1u64 << 63 {
            None
        } else {
            Some((u as i64).wrapping_neg())
        }
    } else if u >= 1u64 << 63 {
        None
    } else {
        Some(u as i64)
    }
}

/// Go's `strconv.ParseFloat(s, 64)` for the decimal syntax YAML can reach here: a result out of
/// range is an error (the scalar then stays a string), underscores only between digits.
pub fn go_parse_float(s: &str) -> Option<f64> {
    let cleaned;
    let s = if s.contains('_') {
        if !underscore_ok(s) {
            return None;
        }
        cleaned = s.replace('_', "");
        cleaned.as_str()
    } else {
        s
    };
    // Only the decimal syntax: YAML reaches this with a leading digit, sign or dot; Go's "inf",
    // "nan" and hex floats cannot get here through resolve.go's hints and regex.
    let body = s.trim_start_matches(['+', '-']);
    if s.len() - body.len() > 1 || !body.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        return None;
    }
    if body.contains(['x', 'X', 'p', 'P']) {
        return None;
    }
    let f: f64 = s.parse().ok()?;
    if f.is_infinite() {
        return None;
    }
    Some(f)
}

/// Go's `underscoreOK` for decimal literals.
fn underscore_ok(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if !b.is_empty() && (b[0] == b'-' || b[0] == b'+') {
        i = 1;
    }
    let mut saw = b'^';
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
        i += 1;
    }
    saw != b'_'
}

/// go-yaml's `parseTimestamp`: `YYYY-` and then one of the layouts
/// `2006-1-2T15:4:5.999999999Z07:00` (also with `t`), `2006-1-2 15:4:5.999999999`, `2006-1-2`,
/// with Go `time.Parse`'s field rules (one- or two-digit fields, range checks).
pub fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    if i != 4 || i == b.len() || b[i] != b'-' {
        return false;
    }
    parse_layout(b, Some(b'T'), true)
        || parse_layout(b, Some(b't'), true)
        || parse_layout(b, Some(b' '), false)
        || parse_layout(b, None, false)
}

/// One or two digits (Go's `getnum(s, false)`).
fn getnum(b: &[u8], pos: &mut usize) -> Option<u32> {
    let d0 = *b.get(*pos)?;
    if !d0.is_ascii_digit() {
        return None;
    }
    *pos += 1;
    let mut n = (d0 - b'0') as u32;
    if let Some(&d1) = b.get(*pos) {
        if d1.is_ascii_digit() {
            n = n * 10 + (d1 - b'0') as u32;
            *pos += 1;
        }
    }
    Some(n)
}

fn expect(b: &[u8], pos: &mut usize, c: u8) -> Option<()> {
    if b.get(*pos) == Some(&c) {
        *pos += 1;
        Some(())
    } else {
        None
    }
}

fn parse_layout(b: &[u8], sep: Option<u8>, zone: bool) -> bool {
    (|| -> Option<()> {
        let year: i32 = std::str::from_utf8(&b[..4]).ok()?.parse().ok()?;
        let mut p = 4;
        expect(b, &mut p, b'-')?;
        let month = getnum(b, &mut p)?;
        if !(1..=12).contains(&month) {
            return None;
        }
        expect(b, &mut p, b'-')?;
        let day = getnum(b, &mut p)?;
        if let Some(sep) = sep {
            expect(b, &mut p, sep)?;
            let hour = getnum(b, &mut p)?;
            if hour >= 24 {
                return None;
            }
            expect(b, &mut p, b':')?;
            let min = getnum(b, &mut p)?;
            if min >= 60 {
                return None;
            }
            expect(b, &mut p, b':')?;
            let sec = getnum(b, &mut p)?;
            if sec >= 60 {
                return None;
            }
            // Optional fraction: a '.' or ',' followed by at least one digit.
            if matches!(b.get(p), Some(b'.' | b',')) && b.get(p + 1).is_some_and(|c| c.is_ascii_digit()) {
                p += 1;
                while b.get(p).is_some_and(|c| c.is_ascii_digit()) {
                    p += 1;
                }
            }
            if zone {
                if b.get(p) == Some(&b'Z') {
                    p += 1;
                } else {
                    let z = b.get(p..p + 6)?;
                    if !(z[0] == b'+' || z[0] == b'-') || z[3] != b':' {
                        return None;
                    }
                    if !(z[1].is_ascii_digit()
                        && z[2].is_ascii_digit()
                        && z[4].is_ascii_digit()
                        && z[5].is_ascii_digit())
                    {
                        return None;
                    }
                    let hh = (z[1] - b'0') * 10 + (z[2] - b'0');
                    let mm = (z[4] - b'0') * 10 + (z[5] - b'0');
                    if hh > 24 || mm > 60 {
                        return None;
                    }
                    p += 6;
                }
            }
        }
        if p != b.len() {
            return None;
        }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let dim = match month {
            2 if leap => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        if day < 1 || day > dim {
            return None;
        }
        Some(())
    })()
    .is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_style_float_is_go_yamls_regex() {
        // The regex go-yaml v2 compiles (resolve.go), against the hand-written matcher.
        let re = regex::Regex::new(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$").unwrap();
        let parts = [
            "", "+", "-", "1", "12", ".", ".5", "1.", "1.5", "e", "E", "e5", "e+", "e-3", "E10", "x", "_", " ",
        ];
        let mut n = 0;
        for a in parts {
            for b in parts {
                for c in parts {
                    let s = format!("{a}{b}{c}");
                    assert_eq!(yaml_style_float(&s), re.is_match(&s), "{s:?}");
                    n += 1;
                }
            }
        }
        assert_eq!(n, parts.len().pow(3));
    }

    // Expectations from go-yaml v2's resolve table and Go's strconv rules (checked with helm).
    #[test]
    fn numbers_like_go() {
        assert_eq!(resolve_plain("0755"), Resolved::Int(493));
        assert_eq!(resolve_plain("0x1F"), Resolved::Int(31));
        assert_eq!(resolve_plain("-0x1F"), Resolved::Int(-31));
        assert_eq!(resolve_plain("1_000"), Resolved::Int(1000));
        assert_eq!(resolve_plain("0o17"), Resolved::Int(15));
        assert_eq!(resolve_plain("08"), Resolved::Float(8.0));
        assert_eq!(resolve_plain("-0b101"), Resolved::Int(-5));
        assert_eq!(resolve_plain("+12"), Resolved::Int(12));
        assert_eq!(resolve_plain("1e400"), Resolved::Str);
        assert_eq!(resolve_plain(".5"), Resolved::Float(0.5));
        assert_eq!(
            resolve_plain("12345678901234567891"),
            Resolved::Uint(12345678901234567891)
        );
        assert_eq!(resolve_plain("1."), Resolved::Float(1.0));
        assert_eq!(resolve_plain("0x"), Resolved::Str);
        assert_eq!(resolve_plain("1:20"), Resolved::Str);
    }

    #[test]
    fn words_and_timestamps() {
        assert_eq!(resolve_plain("on"), Resolved::Bool(true));
        assert_eq!(resolve_plain("N"), Resolved::Bool(false));
        assert_eq!(resolve_plain("nO"), Resolved::Str);
        assert_eq!(resolve_plain("~"), Resolved::Null);
        assert_eq!(resolve_plain("2001-12-14"), Resolved::Timestamp);
        assert_eq!(resolve_plain("2001-2-30"), Resolved::Str);
        assert_eq!(resolve_plain("2001-12-14t21:59:43.10-05:00"), Resolved::Timestamp);
        assert_eq!(resolve_plain("2001-12-14 21:59:43.10"), Resolved::Timestamp);
        assert_eq!(resolve_plain("2001-12-14 21:59:43.10 -5"), Resolved::Str);
    }
}
