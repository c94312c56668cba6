//! Sprig functions: type conversions (`atoi`, `int`, `int64`, `float64`, `toDecimal`).
//!
//! Sprig converts through spf13/cast v1.7.0, whose rules are not Rust's: strings are parsed with
//! `strconv.ParseInt(trimZeroDecimal(s), 0, 0)`, so `"010"` is octal 8, `"0x1F"` is 31, `"1.0"`
//! is 1 but `"1.5"` is 0 (any error yields 0), and floats truncate toward zero. The integer math
//! functions (`add`, `max`, …) and `slice` share these helpers, so they live here as
//! `pub(crate)` functions.

use crate::template::{Func, FuncMap, Param, Sig, Value};

/// Go's `int64(f)` conversion on amd64: truncation, with the "integer indefinite" value
/// (`math.MinInt64`) for NaN and out-of-range inputs.
pub(crate) fn f64_to_i64(f: f64) -> i64 {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if f.is_nan() || !(-TWO_63..TWO_63).contains(&f) {
        i64::MIN
    } else {
        f as i64
    }
}

/// Go's `underscoreOK`: underscores may only separate digits (or follow a base prefix).
fn underscore_ok(s: &str) -> bool {
    let b = s.as_bytes();
    let mut saw = b'^';
    let mut i = 0;
    let b = if !b.is_empty() && (b[0] == b'-' || b[0] == b'+') {
        &b[1..]
    } else {
        b
    };
    let mut hex = false;
    if b.len() >= 2 && b[0] == b'0' && matches!(b[1].to_ascii_lowercase(), b'b' | b'o' | b'x') {
        i = 2;
        saw = b'0';
        hex = b[1].eq_ignore_ascii_case(&b'x');
    }
    while i < b.len() {
        let c = b[i];
        let lc = c.to_ascii_lowercase();
        if c.is_ascii_digit() || (hex && (b'a'..=b'f').contains(&lc)) {
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

/// Go's `strconv.ParseInt(s, base, 64)`; base 0 means "from the prefix" and allows underscores.
pub(crate) fn parse_int(s: &str, base: u32) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if body.is_empty() {
        return None;
    }
    let (radix, digits) = if base == 0 {
        let lower = body.to_ascii_lowercase();
        if lower.starts_with("0x") {
            (16, &body[2..])
        } else if lower.starts_with("0b") {
            (2, &body[2..])
        } else if lower.starts_with("0o") {
            (8, &body[2..])
        } else if body.starts_with('0') && body.len() > 1 {
            (8, &body[1..])
        } else {
            (10, body)
        }
    } else {
        (base, body)
    };
    if base == 0 && digits.contains('_') && !underscore_ok(s) {
        return None;
    }
    let mut acc: u64 = 0;
    let mut any = false;
    for c in digits.chars() {
        if c == '_' && base == 0 {
            continue;
        }
        let d = c.to_digit(radix)?;
        acc = acc.checked_mul(radix as u64)?.checked_add(d as u64)?;
        any = true;
    }
    if !any {
        return None;
    }
    if neg {
        if acc > (i64::MAX as u64) + 1 {
            None
        } else {
            Some((acc as i128).wrapping_neg() as i64)
        }
    } else if acc > i64::MAX as u64 {
        None
    } else {
        Some(acc as i64)
    }
}

/// Go's `strconv.ParseFloat(s, 64)`: decimal and hex floats, `inf`/`infinity`/`nan`, underscores
/// between digits.
pub(crate) fn parse_float(s: &str) -> Option<f64> {
    let lower = s.to_ascii_lowercase();
    let (neg, body) = match lower.as_bytes().first() {
        Some(b'-') => (true, &lower[1..]),
        Some(b'+') => (false, &lower[1..]),
        _ => (false, &lower[..]),
    };
    let sign = if neg { -1.0 } else { 1.0 };
    match body {
        "inf" | "infinity" => return Some(sign * f64::INFINITY),
        "nan" if !s.starts_with(['+', '-']) => return Some(f64::NAN),
        _ => {}
    }
    if body.contains('_') && !underscore_ok(&lower) {
        return None;
    }
    let body: String = body.chars().filter(|&c| c != '_').collect();
    if body.is_empty() {
        return None;
    }
    if let Some(hex) = body.strip_prefix("0x") {
        return parse_hex_float(hex).map(|v| sign * v);
    }
    // Rust's grammar is close to Go's decimal one but accepts "inf"/"nan" spellings we handled
    // above; reject anything with letters other than the exponent marker.
    if !body
        .bytes()
        .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'+' | b'-'))
    {
        return None;
    }
    body.parse::<f64>().ok().map(|v| sign * v)
}

/// A hex float `h.hhhp±d` (the `0x` already removed); the `p` exponent is mandatory in Go.
fn parse_hex_float(s: &str) -> Option<f64> {
    let (mant, exp) = s.split_once('p')?;
    let exp: i32 = exp.parse().ok()?;
    let (int_part, frac_part) = mant.split_once('.').unwrap_or((mant, ""));
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    let mut v = 0f64;
    for c in int_part.chars() {
        v = v * 16.0 + c.to_digit(16)? as f64;
    }
    let mut scale = 1.0 / 16.0;
    for c in frac_part.chars() {
        v += c.to_digit(16)? as f64 * scale;
        scale /= 16.0;
    }
    Some(v * 2f64.powi(exp))
}

/// cast's `trimZeroDecimal`: "1.0" → "1", "10.00" → "10", anything else unchanged.
fn trim_zero_decimal(s: &str) -> &str {
    let b = s.as_bytes();
    let mut found_zero = false;
    for i in (1..=b.len()).rev() {
        match b[i - 1] {
            b'.' => {
                if found_zero {
                    return &s[..i - 1];
                }
            }
            b'0' => found_zero = true,
            _ => return s,
        }
    }
    s
}

/// `cast.ToInt64E`: `None` where cast reports an error (callers then use 0).
pub(crate) fn to_int64_e(v: &Value) -> Option<i64> {
    match v {
        Value::Nil => Some(0),
        Value::Int(i) | Value::Int64(i) => Some(*i),
        Value::Float(f) => Some(f64_to_i64(*f)),
        Value::Bool(b) => Some(*b as i64),
        Value::String(s) => parse_int(trim_zero_decimal(s), 0),
        _ => None,
    }
}

/// `cast.ToInt64`: errors become 0.
pub(crate) fn to_int64(v: &Value) -> i64 {
    to_int64_e(v).unwrap_or(0)
}

/// `cast.ToFloat64E`.
pub(crate) fn to_float64_e(v: &Value) -> Option<f64> {
    match v {
        Value::Nil => Some(0.0),
        Value::Int(i) | Value::Int64(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        Value::String(s) => parse_float(s),
        _ => None,
    }
}

/// `cast.ToFloat64`: errors become 0.
pub(crate) fn to_float64(v: &Value) -> f64 {
    to_float64_e(v).unwrap_or(0.0)
}

/// Go's `strconv.Atoi`: base 10, optional sign, no underscores.
fn atoi(s: &str) -> i64 {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    if body.is_empty() || !body.bytes().all(|c| c.is_ascii_digit()) {
        return 0;
    }
    parse_int(s, 10).unwrap_or(0)
}

pub fn register(m: &mut FuncMap) {
    use Param::*;
    m.insert(
        "atoi".into(),
        Func::pure(Sig::fixed(&[String]), |a| {
            Ok(Value::Int(atoi(a[0].as_str().unwrap_or(""))))
        }),
    );
    m.insert(
        "int64".into(),
        Func::pure(Sig::fixed(&[Any]), |a| Ok(Value::Int64(to_int64(&a[0])))),
    );
    m.insert(
        "int".into(),
        Func::pure(Sig::fixed(&[Any]), |a| Ok(Value::Int(to_int64(&a[0])))),
    );
    m.insert(
        "float64".into(),
        Func::pure(Sig::fixed(&[Any]), |a| Ok(Value::Float(to_float64(&a[0])))),
    );
    m.insert(
        "toDecimal".into(),
        Func::pure(Sig::fixed(&[Any]), |a| {
            // strconv.ParseInt(fmt.Sprint(v), 8, 64), 0 on error.
            let text = super::strings::fmt_v(&a[0]);
            Ok(Value::Int64(parse_int(&text, 8).unwrap_or(0)))
        }),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values from helm 4.1.4: `{{ int "0x1F" }} {{ int "010" }} {{ int "1.0" }} …`.
    #[test]
    fn cast_rules_follow_spf13_cast() {
        let s = |x: &str| Value::str(x);
        assert_eq!(to_int64(&s("0x1F")), 31);
        assert_eq!(to_int64(&s("010")), 8);
        assert_eq!(to_int64(&s("1.0")), 1);
        assert_eq!(to_int64(&s("1.5")), 0);
        assert_eq!(to_int64(&s("1_000")), 1000);
        assert_eq!(to_int64(&s(" 5")), 0);
        assert_eq!(to_int64(&s("1.")), 0);
        assert_eq!(to_float64(&s("1_000")), 1000.0);
        assert_eq!(to_float64(&s("0x1p-2")), 0.25);
        assert_eq!(to_float64(&s("inf")), f64::INFINITY);
        assert_eq!(to_int64(&Value::Float(-2.7)), -2);
        assert_eq!(to_int64(&Value::Bool(true)), 1);
        assert_eq!(to_int64(&Value::Nil), 0);
    }

    #[test]
    fn atoi_is_strict_base_10() {
        assert_eq!(atoi("42"), 42);
        assert_eq!(atoi("+7"), 7);
        assert_eq!(atoi("0x10"), 0);
        assert_eq!(atoi("1_0"), 0);
        assert_eq!(atoi("010"), 10);
    }

    #[test]
    fn parse_int_limits() {
        assert_eq!(parse_int("-9223372036854775808", 0), Some(i64::MIN));
        assert_eq!(parse_int("9223372036854775808", 0), None);
        assert_eq!(parse_int("0b101", 0), Some(5));
        assert_eq!(parse_int("0o17", 0), Some(15));
        assert_eq!(parse_int("_1", 0), None);
        assert_eq!(parse_int("0755", 8), Some(493));
        assert_eq!(parse_int("493", 8), None);
    }
}
