//! Go's `strconv.FormatFloat` for the shortest-representation cases our encoders need.
//!
//! go-yaml, encoding/json and sigs.k8s.io/yaml all print floats with `FormatFloat(f, fmt, -1, bits)`.
//! Rust's `{:e}` gives the same shortest round-trip digits, so we take digits and exponent from it
//! and lay them out the way Go's `%e`/`%f`/`%g` do.

/// Shortest decimal digits and decimal exponent of a finite, non-zero |x|: value = 0.d1d2… × 10^dp.
fn digits64(x: f64) -> (String, i32) {
    split_exp(&format!("{:e}", x.abs()))
}

fn digits32(x: f32) -> (String, i32) {
    split_exp(&format!("{:e}", x.abs()))
}

/// "1.2345e3" → ("12345", 4) where 4 is the position of the decimal point (Go's `decimal.dp`).
fn split_exp(s: &str) -> (String, i32) {
    let (mant, exp) = s.split_once('e').unwrap_or((s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let digits = digits.trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    (digits.to_string(), exp + 1)
}

/// Which of Go's float verbs to lay the digits out with.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Fmt {
    /// `'e'`: d.ddde±dd
    E,
    /// `'f'`: ddd.ddd
    F,
    /// `'g'`: %e for large/small exponents, else %f
    G,
}

/// `strconv.FormatFloat(x, fmt, -1, 64)`.
pub fn format64(x: f64, fmt: Fmt) -> String {
    if let Some(s) = special(x) {
        return s;
    }
    let (d, dp) = if x == 0.0 { ("0".to_string(), 1) } else { digits64(x) };
    layout(x.is_sign_negative(), &d, dp, fmt)
}

/// `strconv.FormatFloat(x, fmt, -1, 32)` (the value is first rounded to float32).
pub fn format32(x: f64, fmt: Fmt) -> String {
    if let Some(s) = special(x) {
        return s;
    }
    let f = x as f32;
    if f.is_infinite() {
        return if f > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    let (d, dp) = if f == 0.0 { ("0".to_string(), 1) } else { digits32(f) };
    layout(x.is_sign_negative(), &d, dp, fmt)
}

fn special(x: f64) -> Option<String> {
    if x.is_nan() {
        Some("NaN".into())
    } else if x.is_infinite() {
        Some(if x > 0.0 { "+Inf".into() } else { "-Inf".into() })
    } else {
        None
    }
}

fn layout(neg: bool, d: &str, dp: i32, fmt: Fmt) -> String {
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    let fmt = match fmt {
        Fmt::G => {
            // Go: with the shortest precision, %e is used when the exponent is < -4 or >= 6.
            let exp = dp - 1;
            if exp < -4 || exp >= 6 {
                Fmt::E
            } else {
                Fmt::F
            }
        }
        f => f,
    };
    match fmt {
        Fmt::E => {
            out.push_str(&d[..1]);
            if d.len() > 1 {
                out.push('.');
                out.push_str(&d[1..]);
            }
            let e = dp - 1;
            out.push('e');
            out.push(if e < 0 { '-' } else { '+' });
            let ea = e.abs();
            if ea < 10 {
                out.push('0');
            }
            out.push_str(&ea.to_string());
        }
        _ => {
            if dp <= 0 {
                out.push_str("0.");
                for _ in 0..(-dp) {
                    out.push('0');
                }
                out.push_str(d);
            } else if dp as usize >= d.len() {
                out.push_str(d);
                for _ in 0..(dp as usize - d.len()) {
                    out.push('0');
                }
            } else {
                out.push_str(&d[..dp as usize]);
                out.push('.');
                out.push_str(&d[dp as usize..]);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected strings are Go's documented strconv.FormatFloat outputs.
    #[test]
    fn go_g_format() {
        assert_eq!(format64(1e6, Fmt::G), "1e+06");
        assert_eq!(format64(123456.0, Fmt::G), "123456");
        assert_eq!(format64(1234567.0, Fmt::G), "1.234567e+06");
        assert_eq!(format64(0.0001, Fmt::G), "0.0001");
        assert_eq!(format64(0.00001, Fmt::G), "1e-05");
        assert_eq!(format64(1.5, Fmt::G), "1.5");
        assert_eq!(format64(-0.0, Fmt::G), "-0");
        assert_eq!(format32(0.1, Fmt::G), "0.1");
        assert_eq!(format64(1e21, Fmt::E), "1e+21");
        assert_eq!(format64(1e-7, Fmt::E), "1e-07");
        assert_eq!(format64(123.25, Fmt::F), "123.25");
        assert_eq!(format64(1e20, Fmt::F), "100000000000000000000");
        assert_eq!(format64(f64::INFINITY, Fmt::G), "+Inf");
    }
}
