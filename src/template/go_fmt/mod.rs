//! Go's `fmt` package (`Sprint`, `Sprintln`, `Sprintf`) and the `strconv` pieces it needs, for
//! [`Value`]s.
//!
//! Helm output is full of `fmt`: every `{{ .x }}` prints with `%v`, `printf`/`print` are the most
//! used functions after `include`, and Sprig's `quote`/`toString` go through `%q`/`%v`. Charts
//! rely on its exact quirks (a float64 of 1000000 prints `1e+06`, `%d` of a float64 prints
//! `%!d(float64=8080)`), so this is a close port of Go's `fmt/print.go` and `fmt/format.go`
//! control flow rather than an approximation with Rust's formatting. Rust's float formatting is
//! used only to obtain decimal digits: both languages produce the shortest round-trip digits
//! and round exact conversions half-to-even, so the digits agree and Go's layout is applied on top.
//!
//! The name says Go's `fmt` (the package, not the `go_fmt` tool). Its parts follow Go's files:
//! [`format`] is `fmt/format.go` (padding, integers, strings, quoting per verb), [`print`] is
//! `fmt/print.go` (argument dispatch, `%v` of composite values, the `Printf` verb parser),
//! [`float`] is `strconv/ftoa.go` (the `%e %f %g %x` layouts), [`quote`] is `strconv/quote.go`.

mod float;
mod format;
mod print;
mod quote;

use crate::value::Value;
use format::Printer;
pub use quote::is_print;

/// `fmt.Sprint`: operands in `%v`, with a space between two operands when neither is a string.
pub fn sprint(args: &[Value]) -> String {
    let mut p = Printer::new();
    let mut prev_string = false;
    for (i, a) in args.iter().enumerate() {
        let is_string = is_string_kind(a);
        if i > 0 && !is_string && !prev_string {
            p.buf.push(b' ');
        }
        p.print_arg(a, 'v');
        prev_string = is_string;
    }
    p.finish()
}

/// `fmt.Sprintln`: operands in `%v`, always separated by spaces, and a trailing newline.
pub fn sprintln(args: &[Value]) -> String {
    let mut p = Printer::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            p.buf.push(b' ');
        }
        p.print_arg(a, 'v');
    }
    p.buf.push(b'\n');
    p.finish()
}

/// `fmt.Sprintf`.
pub fn sprintf(format: &str, args: &[Value]) -> String {
    let mut p = Printer::new();
    p.do_printf(format, args);
    p.finish()
}

/// `%v` of one value (what `{{ . }}` prints, before the template's `<no value>` rule).
pub fn format_v(v: &Value) -> String {
    // Fast paths for the overwhelmingly common cases.
    match v {
        Value::String(s) => return s.to_string(),
        Value::Bool(b) => return if *b { "true".into() } else { "false".into() },
        Value::Int(i) | Value::Int64(i) => return i.to_string(),
        // Whole numbers below 1e6 print like integers under %v (above, Go switches to %e).
        Value::Float(f) if f.fract() == 0.0 && f.abs() < 1e6 && (*f != 0.0 || f.is_sign_positive()) => {
            return (*f as i64).to_string()
        }
        _ => {}
    }
    let mut p = Printer::new();
    p.print_arg(v, 'v');
    p.finish()
}

fn is_string_kind(v: &Value) -> bool {
    match v {
        Value::String(_) => true,
        Value::Object(o) => o.kind() == "string",
        _ => false,
    }
}

/// `strconv.FormatFloat(v, fmt, prec, 64)` for fmt in `b e E f g G x X`.
pub fn format_float(v: f64, fmt: u8, prec: i32) -> String {
    let mut out = String::new();
    float::append_float(&mut out, v, fmt, prec);
    out
}

/// `strconv.Quote`.
pub fn quote(s: &str) -> String {
    quote::quote_with(s.as_bytes(), b'"', false)
}

/// `strconv.QuoteToASCII`.
pub fn quote_to_ascii(s: &str) -> String {
    quote::quote_with(s.as_bytes(), b'"', true)
}

/// `strconv.QuoteRune`.
pub fn quote_rune(r: char) -> String {
    let mut b = [0u8; 4];
    quote::quote_with(r.encode_utf8(&mut b).as_bytes(), b'\'', false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::{Elem, List, Map};

    fn s(x: &str) -> Value {
        Value::str(x)
    }

    // Expected strings are Go's outputs (fmt_test.go tables and runs of helm 4.1.4 / Go 1.25).
    #[test]
    fn percent_v_of_values() {
        let m = Map::new();
        m.insert("b", s("x"));
        m.insert("a", Value::Float(1.0));
        let cases: Vec<(Value, &str)> = vec![
            (Value::Float(1000000.0), "1e+06"),
            (Value::Float(8080.0), "8080"),
            (Value::Float(0.1), "0.1"),
            (Value::Float(123456789.0), "1.23456789e+08"),
            (Value::Float(100000.0), "100000"),
            (Value::Float(0.0001), "0.0001"),
            (Value::Float(0.00001), "1e-05"),
            (Value::Float(-2.5), "-2.5"),
            (Value::Float(0.0), "0"),
            (Value::Float(1e21), "1e+21"),
            (Value::Float(999999.0), "999999"),
            (Value::Float(-999999.0), "-999999"),
            (Value::Float(-0.0), "-0"),
            (Value::Float(f64::INFINITY), "+Inf"),
            (Value::Float(f64::NAN), "NaN"),
            (Value::Int(-3), "-3"),
            (Value::Nil, "<nil>"),
            (Value::Bool(true), "true"),
            (Value::Map(m), "map[a:1 b:x]"),
            (
                Value::list(vec![s("a"), Value::Int(2), Value::Bool(true), Value::Nil]),
                "[a 2 true <nil>]",
            ),
            (Value::Bytes(b"hi".to_vec().into()), "[104 105]"),
            (Value::Map(Map::new()), "map[]"),
        ];
        for (v, want) in cases {
            assert_eq!(format_v(&v), want, "{v:?}");
            assert_eq!(sprintf("%v", std::slice::from_ref(&v)), want, "{v:?}");
        }
    }

    #[test]
    #[allow(clippy::approx_constant)] // 3.14159 is an input, not a stand-in for π
    fn sprintf_table() {
        let i = Value::Int;
        let f = Value::Float;
        let cases: Vec<(&str, Vec<Value>, &str)> = vec![
            ("%d", vec![f(8080.0)], "%!d(float64=8080)"),
            ("%s", vec![i(1)], "%!s(int=1)"),
            ("%d", vec![s("x")], "%!d(string=x)"),
            ("%v %v", vec![i(1)], "1 %!v(MISSING)"),
            ("%v", vec![i(1), i(2)], "1%!(EXTRA int=2)"),
            ("x", vec![s("a"), Value::Nil], "x%!(EXTRA string=a, <nil>)"),
            ("%", vec![], "%!(NOVERB)"),
            ("%*d", vec![s("a"), i(1)], "%!(BADWIDTH)1"),
            ("%.*d", vec![s("a"), i(1)], "%!(BADPREC)1"),
            ("%[3]d", vec![i(1)], "%!d(BADINDEX)"),
            ("%[2]d %[1]d", vec![i(1), i(2)], "2 1"),
            ("%s", vec![Value::Nil], "%!s(<nil>)"),
            (
                "%05s|%-05d|%05.1f|%-08.3f",
                vec![s("ab"), i(3), f(2.5), f(1.5)],
                "000ab|3    |002.5|1.500   ",
            ),
            (
                "%+v|%+d|% d|%x|%X|%#x",
                vec![i(5), i(5), i(5), i(255), s("hi"), i(255)],
                "5|+5| 5|ff|6869|0xff",
            ),
            (
                "%#o|%O|%q|%#q|%U|%#U|%c",
                vec![i(8), i(8), s("a\"b"), s("ab"), i(65), i(65), i(65)],
                "010|0o10|\"a\\\"b\"|`ab`|U+0041|U+0041 'A'|A",
            ),
            (
                "%5.2s|%T|%T|%T",
                vec![s("hello"), f(1.0), Value::Nil, Value::str_list(["a"])],
                "   he|float64|<nil>|[]string",
            ),
            (
                "%.2f|%.0f|%.0f|%e|%E|%g|%G",
                vec![f(3.14159), f(0.5), f(1.5), f(1234.5678), f(1e-7), f(1e-7), f(1e21)],
                "3.14|0|2|1.234568e+03|1.000000E-07|1e-07|1E+21",
            ),
            (
                "%.3g|%.3g|%.10g|%g|%.0e",
                vec![f(1.0), f(100000.0), f(1.0 / 3.0), f(100000.0), f(15.0)],
                "1|1e+05|0.3333333333|100000|2e+01",
            ),
            (
                "%6.2f|%-8v|%08.3f|%+.1e",
                vec![f(3.14159), s("ab"), f(-3.5), f(12345.0)],
                "  3.14|ab      |-003.500|+1.2e+04",
            ),
            (
                "%x|%X|%o|%b|%08b",
                vec![i(-255), i(3054), i(64), i(5), i(5)],
                "-ff|BEE|100|101|00000101",
            ),
            ("%.3d|%.0d|%5.0d|", vec![i(7), i(0), i(0)], "007||     |"),
            ("%t|%t", vec![Value::Bool(false), i(1)], "false|%!t(int=1)"),
            (
                "%q|%+q|%x|% x|%#x",
                vec![s("héllo\n"), s("é"), s("hi"), s("hi"), s("hi")],
                "\"héllo\\n\"|\"\\u00e9\"|6869|68 69|0x6869",
            ),
            ("%d", vec![Value::list(vec![i(1), i(2)])], "[1 2]"),
            ("%s", vec![Value::list(vec![s("a"), i(2)])], "[a %!s(int=2)]"),
            ("%q", vec![Value::str_list(["a", "b"])], "[\"a\" \"b\"]"),
            ("%5v", vec![Value::list(vec![i(1), i(2)])], "[    1     2]"),
            ("%s", vec![Value::Bytes(b"hi".to_vec().into())], "hi"),
            ("%x", vec![Value::Bytes(b"hi".to_vec().into())], "6869"),
            ("%#v", vec![s("a")], "\"a\""),
            (
                "%#v",
                vec![Value::list(vec![i(1), s("a"), Value::Nil])],
                "[]interface {}{1, \"a\", interface {}(nil)}",
            ),
            ("%#v", vec![f(1.0)], "1"),
            (
                "%x|%X|%b",
                vec![f(1.0), f(3.0), f(1.0)],
                "0x1p+00|0X1.8P+01|4503599627370496p-52",
            ),
            ("%#g|%#.3g|%#v", vec![f(1.0), f(1.0), f(2.0)], "1.00000|1.00|2"),
            ("%v|%.1f", vec![f(-0.0), f(0.05)], "-0|0.1"),
            ("%c|%q", vec![i(0x1F600), i(10)], "😀|'\\n'"),
            ("%-5t|%5t", vec![Value::Bool(true), Value::Bool(true)], "true | true"),
            ("%!", vec![], "%!!(MISSING)"),
            ("%z", vec![i(1)], "%!z(int=1)"),
            ("%%|%5%", vec![], "%|%"),
            // Found by differential testing against Go's fmt (go1.19, go1.25 agree).
            ("-%-9.0s|%.0g", vec![f(1.5), f(2.5)], "-%!s(float64=2        )|2"),
            (
                "%[0]d %[-1]d %[1 %[x]d %[1]*d %[2]*[1]d %.[2]d %[1]",
                vec![i(5), i(3)],
                "%!d(BADINDEX) %!d(BADINDEX) %!d(BADINDEX)     3   5 3 %!(NOVERB)",
            ),
            (
                "%08.3e|%-08.3e|%+08.3g|% 8.3f|%+.0f|%#.0f|%#.0e|%#g|%#.1g|%#x",
                vec![f(-3.5), f(3.5), f(3.5), f(3.5), f(0.4), f(3.0), f(3.0), f(100000.0), f(0.0001), f(1.5)],
                "-3.500e+00|3.500e+00|+00003.5|   3.500|+0|3.|3.e+00|100000.|0.0001|0x1.8000p+00",
            ),
            (
                "%6.2f|%-6.2f|%06.2f|%+06.2f|% 06.2f|%0-6.2f|%x|%X|%.3x|%#.3X",
                vec![
                    f(f64::INFINITY),
                    f(f64::NEG_INFINITY),
                    f(f64::NAN),
                    f(f64::NAN),
                    f(f64::INFINITY),
                    f(1.5),
                    f(-0.1),
                    f(1e300),
                    f(1.0),
                    f(3.0),
                ],
                "  +Inf|-Inf  |   NaN|  +NaN|   Inf|1.50  |-0x1.999999999999ap-04|0X1.7E43C8800759CP+996|0x1.000p+00|0X1.800P+01",
            ),
        ];
        for (fmt, args, want) in cases {
            assert_eq!(sprintf(fmt, &args), want, "format {fmt:?}");
        }
    }

    #[test]
    fn huge_precisions_do_not_panic() {
        let s = sprintf("%.1000001f|%.70000e", &[Value::Float(0.5), Value::Float(0.1)]);
        assert!(s.starts_with("0.5000") && s.len() > 1_000_000);
        assert_eq!(sprintf("%.800g", &[Value::Float(0.1)]).len(), 57);
    }

    #[test]
    fn sprint_spacing_follows_go() {
        let args = vec![Value::Int(1), Value::Int(2), s("a"), s("b"), Value::Int(3)];
        assert_eq!(sprint(&args), "1 2ab3");
        assert_eq!(sprintln(&args), "1 2 a b 3\n");
        assert_eq!(sprint(&[Value::Nil, Value::Nil]), "<nil> <nil>");
        assert_eq!(sprint(&[Value::Float(1.5), s("x"), Value::Bool(true)]), "1.5xtrue");
    }

    #[test]
    fn typed_lists_and_maps() {
        let l = List::typed(vec![Value::Int(104), Value::Int(105)], Elem::Uint8);
        assert_eq!(
            sprintf(
                "%s|%v|%T",
                &[Value::List(l.clone()), Value::List(l.clone()), Value::List(l)]
            ),
            "hi|[104 105]|[]uint8"
        );
        let m = Map::new();
        m.insert("a", Value::Int(1));
        assert_eq!(
            sprintf("%#v", &[Value::Map(m.clone())]),
            "map[string]interface {}{\"a\":1}"
        );
        assert_eq!(sprintf("%d", &[Value::Map(m)]), "map[%!d(string=a):1]");
    }

    #[test]
    fn quoting() {
        assert_eq!(quote("a\tb\u{7f}\u{a0}€"), "\"a\\tb\\x7f\\u00a0€\"");
        assert_eq!(quote_to_ascii("€😀"), "\"\\u20ac\\U0001f600\"");
        assert_eq!(quote_rune('\''), "'\\''");
        assert_eq!(format_float(1e6, b'g', -1), "1e+06");
        assert_eq!(format_float(0.000012, b'e', -1), "1.2e-05");
        assert_eq!(format_float(12.0, b'f', -1), "12");
    }

    /// `%v` of a time is Go's `Time.String()`: a zone whose tzdata abbreviation is numeric prints
    /// it as is. Recorded with helm 4.1.4: `TZ=Asia/Dubai helm template` of
    /// `{{ printf "%v" (toDate "2006-01-02" "2020-01-01") }}`.
    #[test]
    fn time_prints_its_zone_abbreviation_as_go_does() {
        let t = jiff::civil::date(2020, 1, 1)
            .at(0, 0, 0, 0)
            .to_zoned(jiff::tz::TimeZone::get("Asia/Dubai").unwrap())
            .unwrap();
        let v = Value::Time(std::rc::Rc::new(t));
        assert_eq!(format_v(&v), "2020-01-01 00:00:00 +0400 +04");
        assert_eq!(sprintf("%s", std::slice::from_ref(&v)), "2020-01-01 00:00:00 +0400 +04");
    }
}
