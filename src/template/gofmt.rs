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

use super::value::{Elem, Value};

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
    append_float(&mut out, v, fmt, prec);
    out
}

/// `strconv.Quote`.
pub fn quote(s: &str) -> String {
    quote_with(s.as_bytes(), b'"', false)
}

/// `strconv.QuoteToASCII`.
pub fn quote_to_ascii(s: &str) -> String {
    quote_with(s.as_bytes(), b'"', true)
}

/// `strconv.QuoteRune`.
pub fn quote_rune(r: char) -> String {
    let mut b = [0u8; 4];
    quote_with(r.encode_utf8(&mut b).as_bytes(), b'\'', false)
}

#[derive(Clone, Copy, Default)]
struct Flags {
    wid: usize,
    prec: usize,
    wid_present: bool,
    prec_present: bool,
    minus: bool,
    plus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    plus_v: bool,
    sharp_v: bool,
}

struct Printer {
    buf: Vec<u8>,
    f: Flags,
    erroring: bool,
}

const LDIGITS: &[u8; 17] = b"0123456789abcdefx";
const UDIGITS: &[u8; 17] = b"0123456789ABCDEFX";

fn too_large(x: i64) -> bool {
    !(-1_000_000..=1_000_000).contains(&x)
}

/// Go's `parsenum`: (num, isnum, newi).
fn parsenum(s: &[u8], start: usize, end: usize) -> (usize, bool, usize) {
    if start >= end {
        return (0, false, end);
    }
    let mut num: i64 = 0;
    let mut isnum = false;
    let mut i = start;
    while i < end && s[i].is_ascii_digit() {
        if too_large(num) {
            return (0, false, end);
        }
        num = num * 10 + i64::from(s[i] - b'0');
        isnum = true;
        i += 1;
    }
    (num as usize, isnum, i)
}

impl Printer {
    fn new() -> Printer {
        Printer {
            buf: Vec::new(),
            f: Flags::default(),
            erroring: false,
        }
    }

    fn finish(self) -> String {
        match String::from_utf8(self.buf) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        }
    }

    fn write_str(&mut self, s: &str) {
        self.buf.extend_from_slice(s.as_bytes());
    }

    fn write_rune(&mut self, c: char) {
        let mut b = [0u8; 4];
        self.buf.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
    }

    // ---- format.go ----

    fn write_padding(&mut self, n: i64) {
        if n <= 0 {
            return;
        }
        // Zero padding is allowed only to the left.
        let pad = if self.f.zero && !self.f.minus { b'0' } else { b' ' };
        self.buf.extend(std::iter::repeat_n(pad, n as usize));
    }

    fn pad(&mut self, b: &[u8]) {
        if !self.f.wid_present || self.f.wid == 0 {
            self.buf.extend_from_slice(b);
            return;
        }
        let count = String::from_utf8_lossy(b).chars().count() as i64;
        let width = self.f.wid as i64 - count;
        if !self.f.minus {
            self.write_padding(width);
            self.buf.extend_from_slice(b);
        } else {
            self.buf.extend_from_slice(b);
            self.write_padding(width);
        }
    }

    fn pad_string(&mut self, s: &str) {
        if !self.f.wid_present || self.f.wid == 0 {
            self.write_str(s);
            return;
        }
        let width = self.f.wid as i64 - s.chars().count() as i64;
        if !self.f.minus {
            self.write_padding(width);
            self.write_str(s);
        } else {
            self.write_str(s);
            self.write_padding(width);
        }
    }

    fn fmt_boolean(&mut self, v: bool) {
        self.pad_string(if v { "true" } else { "false" });
    }

    fn fmt_unicode(&mut self, u: u64) {
        let mut prec: i64 = 4;
        if self.f.prec_present && self.f.prec > 4 {
            prec = self.f.prec as i64;
        }
        let mut digits = Vec::new();
        let mut x = u;
        loop {
            digits.push(UDIGITS[(x & 0xF) as usize]);
            prec -= 1;
            x >>= 4;
            if x == 0 {
                break;
            }
        }
        while prec > 0 {
            digits.push(b'0');
            prec -= 1;
        }
        let mut out = b"U+".to_vec();
        out.extend(digits.iter().rev());
        if self.f.sharp && u <= 0x10FFFF {
            if let Some(c) = char::from_u32(u as u32) {
                if is_print(c) {
                    out.extend_from_slice(b" '");
                    let mut b = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
                    out.push(b'\'');
                }
            }
        }
        let old_zero = self.f.zero;
        self.f.zero = false;
        self.pad(&out);
        self.f.zero = old_zero;
    }

    fn fmt_integer(&mut self, u: u64, base: u64, is_signed: bool, verb: char, digits: &[u8; 17]) {
        let negative = is_signed && (u as i64) < 0;
        let mut u = if negative { (u as i64).unsigned_abs() } else { u };
        let mut prec: i64 = 0;
        if self.f.prec_present {
            prec = self.f.prec as i64;
            if prec == 0 && u == 0 {
                let old_zero = self.f.zero;
                self.f.zero = false;
                self.write_padding(self.f.wid as i64);
                self.f.zero = old_zero;
                return;
            }
        } else if self.f.zero && !self.f.minus && self.f.wid_present {
            prec = self.f.wid as i64;
            if negative || self.f.plus || self.f.space {
                prec -= 1;
            }
        }
        let mut rev: Vec<u8> = Vec::with_capacity(24);
        while u >= base {
            rev.push(digits[(u % base) as usize]);
            u /= base;
        }
        rev.push(digits[u as usize]);
        while (rev.len() as i64) < prec {
            rev.push(b'0');
        }
        if self.f.sharp {
            match base {
                2 => rev.extend_from_slice(b"b0"),
                8 if rev.last() != Some(&b'0') => rev.push(b'0'),
                16 => {
                    rev.push(digits[16]);
                    rev.push(b'0');
                }
                _ => {}
            }
        }
        if verb == 'O' {
            rev.extend_from_slice(b"o0");
        }
        if negative {
            rev.push(b'-');
        } else if self.f.plus {
            rev.push(b'+');
        } else if self.f.space {
            rev.push(b' ');
        }
        rev.reverse();
        let old_zero = self.f.zero;
        self.f.zero = false;
        self.pad(&rev);
        self.f.zero = old_zero;
    }

    fn truncate<'a>(&self, s: &'a str) -> &'a str {
        if self.f.prec_present {
            let mut n = self.f.prec as i64;
            for (i, _) in s.char_indices() {
                n -= 1;
                if n < 0 {
                    return &s[..i];
                }
            }
        }
        s
    }

    fn fmt_s(&mut self, s: &str) {
        let s = self.truncate(s);
        self.pad_string(s);
    }

    fn fmt_bs(&mut self, b: &[u8]) {
        // Truncation counts runes of the (possibly invalid) UTF-8.
        let s = String::from_utf8_lossy(b);
        if s.as_bytes() == b {
            self.fmt_s(&s);
        } else {
            self.pad(b);
        }
    }

    fn fmt_sbx(&mut self, b: &[u8], digits: &[u8; 17]) {
        let mut length = b.len();
        if self.f.prec_present && self.f.prec < length {
            length = self.f.prec;
        }
        let mut width = 2 * length;
        if width > 0 {
            if self.f.space {
                if self.f.sharp {
                    width *= 2;
                }
                width += length - 1;
            } else if self.f.sharp {
                width += 2;
            }
        } else {
            if self.f.wid_present {
                self.write_padding(self.f.wid as i64);
            }
            return;
        }
        if self.f.wid_present && self.f.wid > width && !self.f.minus {
            self.write_padding((self.f.wid - width) as i64);
        }
        if self.f.sharp {
            self.buf.push(b'0');
            self.buf.push(digits[16]);
        }
        for (i, &c) in b.iter().take(length).enumerate() {
            if self.f.space && i > 0 {
                self.buf.push(b' ');
                if self.f.sharp {
                    self.buf.push(b'0');
                    self.buf.push(digits[16]);
                }
            }
            self.buf.push(digits[(c >> 4) as usize]);
            self.buf.push(digits[(c & 0xF) as usize]);
        }
        if self.f.wid_present && self.f.wid > width && self.f.minus {
            self.write_padding((self.f.wid - width) as i64);
        }
    }

    fn fmt_q(&mut self, s: &str) {
        let s = self.truncate(s);
        if self.f.sharp && can_backquote(s) {
            let q = format!("`{s}`");
            self.pad_string(&q);
            return;
        }
        let q = if self.f.plus { quote_to_ascii(s) } else { quote(s) };
        self.pad(q.as_bytes());
    }

    fn fmt_c(&mut self, c: u64) {
        let r = if c > 0x10FFFF {
            '\u{FFFD}'
        } else {
            char::from_u32(c as u32).unwrap_or('\u{FFFD}')
        };
        let mut b = [0u8; 4];
        let s = r.encode_utf8(&mut b).as_bytes().to_vec();
        self.pad(&s);
    }

    fn fmt_qc(&mut self, c: u64) {
        let r = if c > 0x10FFFF {
            '\u{FFFD}'
        } else {
            char::from_u32(c as u32).unwrap_or('\u{FFFD}')
        };
        let mut b = [0u8; 4];
        let q = quote_with(r.encode_utf8(&mut b).as_bytes(), b'\'', self.f.plus);
        self.pad(q.as_bytes());
    }

    fn fmt_float_raw(&mut self, v: f64, verb: u8, prec: i32) {
        let prec = if self.f.prec_present { self.f.prec as i32 } else { prec };
        let mut s = String::with_capacity(24);
        s.push('+');
        append_float(&mut s, v, verb, prec);
        let mut num: Vec<u8> = s.into_bytes();
        if num[1] == b'-' || num[1] == b'+' {
            num.remove(0);
        } else {
            num[0] = b'+';
        }
        if self.f.space && num[0] == b'+' && !self.f.plus {
            num[0] = b' ';
        }
        if num[1] == b'I' || num[1] == b'N' {
            let old_zero = self.f.zero;
            self.f.zero = false;
            if num[1] == b'N' && !self.f.space && !self.f.plus {
                num.remove(0);
            }
            self.pad(&num);
            self.f.zero = old_zero;
            return;
        }
        if self.f.sharp && verb != b'b' {
            let mut digits: i64 = 0;
            if matches!(verb, b'v' | b'g' | b'G' | b'x') {
                digits = i64::from(prec);
                if digits == -1 {
                    digits = 6;
                }
            }
            let mut tail: Vec<u8> = Vec::new();
            let mut has_decimal_point = false;
            let mut saw_nonzero = false;
            let mut i = 1;
            while i < num.len() {
                match num[i] {
                    b'.' => has_decimal_point = true,
                    b'p' | b'P' => {
                        tail.extend_from_slice(&num[i..]);
                        num.truncate(i);
                        break;
                    }
                    b'e' | b'E' if verb != b'x' && verb != b'X' => {
                        tail.extend_from_slice(&num[i..]);
                        num.truncate(i);
                        break;
                    }
                    c => {
                        if c != b'0' {
                            saw_nonzero = true;
                        }
                        if saw_nonzero {
                            digits -= 1;
                        }
                    }
                }
                i += 1;
            }
            if !has_decimal_point {
                if num.len() == 2 && num[1] == b'0' {
                    digits -= 1;
                }
                num.push(b'.');
            }
            while digits > 0 {
                num.push(b'0');
                digits -= 1;
            }
            num.extend_from_slice(&tail);
        }
        if self.f.plus || num[0] != b'+' {
            if self.f.zero && !self.f.minus && self.f.wid_present && self.f.wid > num.len() {
                self.buf.push(num[0]);
                self.write_padding((self.f.wid - num.len()) as i64);
                self.buf.extend_from_slice(&num[1..]);
                return;
            }
            self.pad(&num);
            return;
        }
        self.pad(&num[1..]);
    }

    // ---- print.go ----

    fn bad_verb_value(&mut self, verb: char, v: Option<&Value>) {
        self.erroring = true;
        self.write_str("%!");
        self.write_rune(verb);
        self.buf.push(b'(');
        match v {
            Some(v) if !v.is_nil() => {
                let t = v.type_name();
                self.write_str(&t);
                self.buf.push(b'=');
                self.print_arg(v, 'v');
            }
            _ => self.write_str("<nil>"),
        }
        self.buf.push(b')');
        self.erroring = false;
    }

    fn fmt_bool(&mut self, v: bool, verb: char, arg: &Value) {
        match verb {
            't' | 'v' => self.fmt_boolean(v),
            _ => self.bad_verb_value(verb, Some(arg)),
        }
    }

    fn fmt_0x64(&mut self, v: u64, leading0x: bool) {
        let sharp = self.f.sharp;
        self.f.sharp = leading0x;
        self.fmt_integer(v, 16, false, 'v', LDIGITS);
        self.f.sharp = sharp;
    }

    fn fmt_int(&mut self, v: u64, is_signed: bool, verb: char, arg: &Value) {
        match verb {
            'v' => {
                if self.f.sharp_v && !is_signed {
                    self.fmt_0x64(v, true);
                } else {
                    self.fmt_integer(v, 10, is_signed, verb, LDIGITS);
                }
            }
            'd' => self.fmt_integer(v, 10, is_signed, verb, LDIGITS),
            'b' => self.fmt_integer(v, 2, is_signed, verb, LDIGITS),
            'o' | 'O' => self.fmt_integer(v, 8, is_signed, verb, LDIGITS),
            'x' => self.fmt_integer(v, 16, is_signed, verb, LDIGITS),
            'X' => self.fmt_integer(v, 16, is_signed, verb, UDIGITS),
            'c' => self.fmt_c(v),
            'q' => self.fmt_qc(v),
            'U' => self.fmt_unicode(v),
            _ => self.bad_verb_value(verb, Some(arg)),
        }
    }

    fn fmt_float(&mut self, v: f64, verb: char, arg: &Value) {
        match verb {
            'v' => self.fmt_float_raw(v, b'g', -1),
            'b' | 'g' | 'G' | 'x' | 'X' => self.fmt_float_raw(v, verb as u8, -1),
            'f' | 'e' | 'E' => self.fmt_float_raw(v, verb as u8, 6),
            'F' => self.fmt_float_raw(v, b'f', 6),
            _ => self.bad_verb_value(verb, Some(arg)),
        }
    }

    fn fmt_string(&mut self, s: &str, verb: char, arg: &Value) {
        match verb {
            'v' => {
                if self.f.sharp_v {
                    self.fmt_q(s);
                } else {
                    self.fmt_s(s);
                }
            }
            's' => self.fmt_s(s),
            'x' => self.fmt_sbx(s.as_bytes(), LDIGITS),
            'X' => self.fmt_sbx(s.as_bytes(), UDIGITS),
            'q' => self.fmt_q(s),
            _ => self.bad_verb_value(verb, Some(arg)),
        }
    }

    fn fmt_bytes(&mut self, b: &[u8], verb: char, type_string: &str, arg: &Value) {
        match verb {
            'v' | 'd' => {
                if self.f.sharp_v {
                    self.write_str(type_string);
                    self.buf.push(b'{');
                    for (i, &c) in b.iter().enumerate() {
                        if i > 0 {
                            self.write_str(", ");
                        }
                        self.fmt_0x64(u64::from(c), true);
                    }
                    self.buf.push(b'}');
                } else {
                    self.buf.push(b'[');
                    for (i, &c) in b.iter().enumerate() {
                        if i > 0 {
                            self.buf.push(b' ');
                        }
                        self.fmt_integer(u64::from(c), 10, false, verb, LDIGITS);
                    }
                    self.buf.push(b']');
                }
            }
            's' => self.fmt_bs(b),
            'x' => self.fmt_sbx(b, LDIGITS),
            'X' => self.fmt_sbx(b, UDIGITS),
            'q' => {
                let s = String::from_utf8_lossy(b).into_owned();
                self.fmt_q(&s);
            }
            _ => {
                // printValue of a []uint8: each element with the verb.
                let _ = arg;
                if self.f.sharp_v {
                    self.write_str(type_string);
                    self.buf.push(b'{');
                } else {
                    self.buf.push(b'[');
                }
                for (i, &c) in b.iter().enumerate() {
                    if i > 0 {
                        if self.f.sharp_v {
                            self.write_str(", ");
                        } else {
                            self.buf.push(b' ');
                        }
                    }
                    let e = Value::Int(i64::from(c));
                    self.fmt_uint8(c, verb, &e);
                }
                self.buf.push(if self.f.sharp_v { b'}' } else { b']' });
            }
        }
    }

    /// A `uint8` element (of `[]uint8`): unsigned, type name `uint8` in bad-verb markers.
    fn fmt_uint8(&mut self, c: u8, verb: char, _e: &Value) {
        match verb {
            'v' | 'd' | 'b' | 'o' | 'O' | 'x' | 'X' | 'c' | 'q' | 'U' => {
                let e = Value::Int(i64::from(c));
                self.fmt_int(u64::from(c), false, verb, &e)
            }
            _ => {
                self.erroring = true;
                self.write_str("%!");
                self.write_rune(verb);
                self.write_str("(uint8=");
                self.fmt_integer(u64::from(c), 10, false, 'v', LDIGITS);
                self.buf.push(b')');
                self.erroring = false;
            }
        }
    }

    fn fmt_pointer(&mut self, addr: usize, verb: char, arg: &Value) {
        match verb {
            'v' | 'p' => {
                let sharp = self.f.sharp;
                self.fmt_0x64(addr as u64, !sharp);
            }
            'b' | 'o' | 'd' | 'x' | 'X' => self.fmt_int(addr as u64, false, verb, arg),
            _ => self.bad_verb_value(verb, Some(arg)),
        }
    }

    fn print_arg(&mut self, arg: &Value, verb: char) {
        if arg.is_nil() {
            match verb {
                'T' | 'v' => self.pad_string("<nil>"),
                _ => self.bad_verb_value(verb, None),
            }
            return;
        }
        match verb {
            'T' => {
                let t = arg.type_name();
                self.fmt_s(&t);
                return;
            }
            'p' => {
                match pointer_of(arg) {
                    Some(addr) => self.fmt_pointer(addr, 'p', arg),
                    None => self.bad_verb_value(verb, Some(arg)),
                }
                return;
            }
            _ => {}
        }
        match arg {
            Value::Bool(b) => self.fmt_bool(*b, verb, arg),
            Value::Float(f) => self.fmt_float(*f, verb, arg),
            Value::Int(i) | Value::Int64(i) => self.fmt_int(*i as u64, true, verb, arg),
            Value::String(s) => self.fmt_string(s, verb, arg),
            Value::Bytes(b) => self.fmt_bytes(b, verb, "[]byte", arg),
            _ => {
                if !self.handle_methods(arg, verb) {
                    self.print_value(arg, verb, 0);
                }
            }
        }
    }

    /// Stringer handling: `time.Time` and objects print their string form for `v s x X q`.
    fn handle_methods(&mut self, arg: &Value, verb: char) -> bool {
        if self.erroring {
            return false;
        }
        if self.f.sharp_v {
            return false;
        }
        match arg {
            Value::Time(t) if matches!(verb, 'v' | 's' | 'x' | 'X' | 'q') => {
                let s = time_string(t);
                self.fmt_string(&s, verb, arg);
                true
            }
            _ => false,
        }
    }

    fn print_value(&mut self, v: &Value, verb: char, depth: usize) {
        if depth > 0 && self.handle_methods(v, verb) {
            return;
        }
        match v {
            Value::Nil => {
                // A nil interface inside a container.
                if self.f.sharp_v {
                    self.write_str("interface {}(nil)");
                } else {
                    self.write_str("<nil>");
                }
            }
            Value::Bool(b) => self.fmt_bool(*b, verb, v),
            Value::Int(i) | Value::Int64(i) => self.fmt_int(*i as u64, true, verb, v),
            Value::Float(f) => self.fmt_float(*f, verb, v),
            Value::String(s) => self.fmt_string(s, verb, v),
            Value::Bytes(b) => self.fmt_bytes(b, verb, "[]uint8", v),
            Value::List(l) => {
                if l.elem == Elem::Uint8 && matches!(verb, 's' | 'q' | 'x' | 'X') {
                    let bytes: Vec<u8> = l
                        .items
                        .iter()
                        .map(|x| match x {
                            Value::Int(i) | Value::Int64(i) => *i as u8,
                            _ => 0,
                        })
                        .collect();
                    self.fmt_bytes(&bytes, verb, "[]uint8", v);
                    return;
                }
                if self.f.sharp_v {
                    let t = l.type_name();
                    self.write_str(&t);
                    self.buf.push(b'{');
                    for (i, e) in l.items.iter().enumerate() {
                        if i > 0 {
                            self.write_str(", ");
                        }
                        self.print_value(e, verb, depth + 1);
                    }
                    self.buf.push(b'}');
                } else {
                    self.buf.push(b'[');
                    for (i, e) in l.items.iter().enumerate() {
                        if i > 0 {
                            self.buf.push(b' ');
                        }
                        if l.elem == Elem::Uint8 {
                            if let Value::Int(x) | Value::Int64(x) = e {
                                self.fmt_uint8(*x as u8, verb, e);
                                continue;
                            }
                        }
                        self.print_value(e, verb, depth + 1);
                    }
                    self.buf.push(b']');
                }
            }
            Value::Map(m) => {
                if self.f.sharp_v {
                    let t = m.type_name();
                    self.write_str(&t);
                    self.buf.push(b'{');
                } else {
                    self.write_str("map[");
                }
                let entries = m.entries();
                for (i, (k, val)) in entries.iter().enumerate() {
                    if i > 0 {
                        if self.f.sharp_v {
                            self.write_str(", ");
                        } else {
                            self.buf.push(b' ');
                        }
                    }
                    let kv = Value::str(k);
                    self.print_value(&kv, verb, depth + 1);
                    self.buf.push(b':');
                    self.print_value(val, verb, depth + 1);
                }
                self.buf.push(if self.f.sharp_v { b'}' } else { b']' });
            }
            Value::Time(t) => {
                // Only reached for verbs that are not string-like: Go prints the struct fields,
                // which are meaningless; use a bad-verb marker with the time's string instead.
                let s = time_string(t);
                self.erroring = true;
                self.write_str("%!");
                self.write_rune(verb);
                self.write_str("(time.Time=");
                self.write_str(&s);
                self.buf.push(b')');
                self.erroring = false;
            }
            Value::Object(o) => {
                if let Some(u) = o.underlying() {
                    if !matches!(u, Value::Object(_)) {
                        if self.f.sharp_v {
                            self.print_value(&u, verb, depth);
                        } else {
                            self.print_value(&u, verb, depth + 1);
                        }
                        return;
                    }
                }
                let s = o.fmt_v();
                self.pad_string(&s);
            }
        }
    }

    fn arg_number(
        &mut self,
        arg_num: usize,
        format: &[u8],
        i: usize,
        num_args: usize,
        reordered: &mut bool,
        good_arg_num: &mut bool,
    ) -> (usize, usize, bool) {
        if format.len() <= i || format[i] != b'[' {
            return (arg_num, i, false);
        }
        *reordered = true;
        let (index, wid, ok) = parse_arg_number(&format[i..]);
        if ok && 0 <= index && (index as usize) < num_args {
            return (index as usize, i + wid, true);
        }
        *good_arg_num = false;
        (arg_num, i + wid, ok)
    }

    fn do_printf(&mut self, format: &str, a: &[Value]) {
        let fb = format.as_bytes();
        let end = fb.len();
        let mut arg_num = 0usize;
        let mut after_index;
        let mut reordered = false;
        let mut i = 0usize;
        'format_loop: while i < end {
            let mut good_arg_num = true;
            let lasti = i;
            while i < end && fb[i] != b'%' {
                i += 1;
            }
            if i > lasti {
                self.buf.extend_from_slice(&fb[lasti..i]);
            }
            if i >= end {
                break;
            }
            i += 1;
            self.f = Flags::default();
            while i < end {
                let c = fb[i];
                match c {
                    b'#' => self.f.sharp = true,
                    b'0' => self.f.zero = true,
                    b'+' => self.f.plus = true,
                    b'-' => self.f.minus = true,
                    b' ' => self.f.space = true,
                    _ => {
                        if c.is_ascii_lowercase() && arg_num < a.len() {
                            if c == b'v' {
                                self.f.sharp_v = self.f.sharp;
                                self.f.sharp = false;
                                self.f.plus_v = self.f.plus;
                                self.f.plus = false;
                            }
                            self.print_arg(&a[arg_num], c as char);
                            arg_num += 1;
                            i += 1;
                            continue 'format_loop;
                        }
                        break;
                    }
                }
                i += 1;
            }

            let r = self.arg_number(arg_num, fb, i, a.len(), &mut reordered, &mut good_arg_num);
            arg_num = r.0;
            i = r.1;
            after_index = r.2;

            if i < end && fb[i] == b'*' {
                i += 1;
                let (num, is_int, new_arg) = int_from_arg(a, arg_num);
                arg_num = new_arg;
                self.f.wid_present = is_int;
                if !is_int {
                    self.write_str("%!(BADWIDTH)");
                }
                if num < 0 {
                    self.f.wid = num.unsigned_abs() as usize;
                    self.f.minus = true;
                    self.f.zero = false;
                } else {
                    self.f.wid = num as usize;
                }
                after_index = false;
            } else {
                let (num, isnum, ni) = parsenum(fb, i, end);
                self.f.wid = num;
                self.f.wid_present = isnum;
                i = ni;
                if after_index && self.f.wid_present {
                    good_arg_num = false;
                }
            }

            if i + 1 < end && fb[i] == b'.' {
                i += 1;
                if after_index {
                    good_arg_num = false;
                }
                let r = self.arg_number(arg_num, fb, i, a.len(), &mut reordered, &mut good_arg_num);
                arg_num = r.0;
                i = r.1;
                after_index = r.2;
                if i < end && fb[i] == b'*' {
                    i += 1;
                    let (num, is_int, new_arg) = int_from_arg(a, arg_num);
                    arg_num = new_arg;
                    self.f.prec_present = is_int;
                    if num < 0 {
                        self.f.prec = 0;
                        self.f.prec_present = false;
                    } else {
                        self.f.prec = num as usize;
                    }
                    if !self.f.prec_present {
                        self.write_str("%!(BADPREC)");
                    }
                    after_index = false;
                } else {
                    let (num, isnum, ni) = parsenum(fb, i, end);
                    self.f.prec = num;
                    self.f.prec_present = isnum;
                    i = ni;
                    if !self.f.prec_present {
                        self.f.prec = 0;
                        self.f.prec_present = true;
                    }
                }
            }

            if !after_index {
                let r = self.arg_number(arg_num, fb, i, a.len(), &mut reordered, &mut good_arg_num);
                arg_num = r.0;
                i = r.1;
            }

            if i >= end {
                self.write_str("%!(NOVERB)");
                break;
            }

            let verb = format[i..].chars().next().unwrap_or('\u{FFFD}');
            i += verb.len_utf8();

            if verb == '%' {
                self.buf.push(b'%');
            } else if !good_arg_num {
                self.write_str("%!");
                self.write_rune(verb);
                self.write_str("(BADINDEX)");
            } else if arg_num >= a.len() {
                self.write_str("%!");
                self.write_rune(verb);
                self.write_str("(MISSING)");
            } else {
                if verb == 'v' {
                    self.f.sharp_v = self.f.sharp;
                    self.f.sharp = false;
                    self.f.plus_v = self.f.plus;
                    self.f.plus = false;
                }
                self.print_arg(&a[arg_num], verb);
                arg_num += 1;
            }
        }

        if !reordered && arg_num < a.len() {
            self.f = Flags::default();
            self.write_str("%!(EXTRA ");
            for (i, arg) in a[arg_num..].iter().enumerate() {
                if i > 0 {
                    self.write_str(", ");
                }
                if arg.is_nil() {
                    self.write_str("<nil>");
                } else {
                    let t = arg.type_name();
                    self.write_str(&t);
                    self.buf.push(b'=');
                    self.print_arg(arg, 'v');
                }
            }
            self.buf.push(b')');
        }
    }
}

fn parse_arg_number(format: &[u8]) -> (i64, usize, bool) {
    if format.len() < 3 {
        return (0, 1, false);
    }
    for i in 1..format.len() {
        if format[i] == b']' {
            let (width, ok, newi) = parsenum(format, 1, i);
            if !ok || newi != i {
                return (0, i + 1, false);
            }
            return (width as i64 - 1, i + 1, true);
        }
    }
    (0, 1, false)
}

fn int_from_arg(a: &[Value], arg_num: usize) -> (i64, bool, usize) {
    let mut new_arg = arg_num;
    let mut num = 0i64;
    let mut is_int = false;
    if arg_num < a.len() {
        if let Value::Int(n) | Value::Int64(n) = &a[arg_num] {
            num = *n;
            is_int = true;
        }
        new_arg = arg_num + 1;
        if too_large(num) {
            num = 0;
            is_int = false;
        }
    }
    (num, is_int, new_arg)
}

fn pointer_of(v: &Value) -> Option<usize> {
    match v {
        Value::Map(m) => Some(std::rc::Rc::as_ptr(&m.cell) as *const u8 as usize),
        Value::List(l) => Some(std::rc::Rc::as_ptr(&l.items) as *const u8 as usize),
        Value::Bytes(b) => Some(b.as_ptr() as usize),
        Value::Object(o) if matches!(o.kind(), "ptr" | "map" | "slice") => {
            Some(std::rc::Rc::as_ptr(o) as *const u8 as usize)
        }
        _ => None,
    }
}

/// Go's `time.Time.String()`: `2006-01-02 15:04:05.999999999 -0700 MST`.
pub fn time_string(t: &jiff::Zoned) -> String {
    let dt = t.datetime();
    let mut s = format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    );
    let nanos = dt.subsec_nanosecond();
    if nanos > 0 {
        let frac = format!("{nanos:09}");
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    let off = t.offset().seconds();
    let sign = if off < 0 { '-' } else { '+' };
    let a = off.unsigned_abs();
    s.push_str(&format!(" {sign}{:02}{:02}", a / 3600, (a / 60) % 60));
    let info = t.time_zone().to_offset_info(t.timestamp());
    let abbr = info.abbreviation();
    s.push(' ');
    if abbr.is_empty() || abbr.starts_with('+') || abbr.starts_with('-') {
        // Go names an unnamed zone by its offset, without the colon.
        s.push(sign);
        s.push_str(&format!("{:02}{:02}", a / 3600, (a / 60) % 60));
        if a % 60 != 0 {
            s.push_str(&format!("{:02}", a % 60));
        }
    } else {
        s.push_str(abbr);
    }
    s
}

// ---- strconv ----

/// Shortest round-trip decimal digits of |v| (v finite, non-zero): (digits, decimal point).
fn shortest_digits(v: f64) -> (Vec<u8>, i32) {
    split_exp(&format!("{:e}", v.abs()))
}

/// |v| rounded to `n` (≥1) significant digits, trailing zeros trimmed: (digits, decimal point).
fn fixed_digits(v: f64, n: usize) -> (Vec<u8>, i32) {
    // A double has at most 767 significant decimal digits; the rest are zeros (trimmed below),
    // and Rust's formatter rejects precisions above u16.
    let n = n.min(800);
    let (mut d, dp) = split_exp(&format!("{:.*e}", n.saturating_sub(1), v.abs()));
    while d.len() > 1 && d.last() == Some(&b'0') {
        d.pop();
    }
    (d, dp)
}

/// Parses Rust's `d.ddde±x` into digits and Go's decimal-point position (exp + 1).
fn split_exp(s: &str) -> (Vec<u8>, i32) {
    let (mant, exp) = match s.split_once('e') {
        Some(x) => x,
        None => (s, "0"),
    };
    let digits: Vec<u8> = mant.bytes().filter(|c| c.is_ascii_digit()).collect();
    let exp: i32 = exp.parse().unwrap_or(0);
    (digits, exp + 1)
}

/// `strconv.AppendFloat(dst, v, fmt, prec, 64)`.
fn append_float(dst: &mut String, v: f64, fmt: u8, prec: i32) {
    if v.is_nan() {
        dst.push_str("NaN");
        return;
    }
    if v.is_infinite() {
        dst.push_str(if v > 0.0 { "+Inf" } else { "-Inf" });
        return;
    }
    let neg = v.is_sign_negative();
    let bits = v.to_bits();
    if fmt == b'b' || fmt == b'x' || fmt == b'X' {
        let mut exp = ((bits >> 52) & 0x7FF) as i32;
        let mut mant = bits & ((1u64 << 52) - 1);
        if exp == 0 {
            exp += 1;
        } else {
            mant |= 1u64 << 52;
        }
        exp -= 1023;
        if fmt == b'b' {
            if neg {
                dst.push('-');
            }
            dst.push_str(&mant.to_string());
            exp -= 52;
            dst.push('p');
            if exp >= 0 {
                dst.push('+');
            }
            dst.push_str(&exp.to_string());
        } else {
            fmt_x(dst, prec, fmt, neg, mant, exp);
        }
        return;
    }
    if neg {
        dst.push('-');
    }
    let shortest = prec < 0;
    // %g with precision 0 means 1 significant digit.
    let prec = if !shortest && (fmt == b'g' || fmt == b'G') && prec == 0 {
        1
    } else {
        prec
    };
    let (digits, dp): (Vec<u8>, i32) = if v == 0.0 {
        (Vec::new(), 0)
    } else if shortest {
        shortest_digits(v)
    } else {
        match fmt {
            b'e' | b'E' => fixed_digits(v, prec as usize + 1),
            b'g' | b'G' => fixed_digits(v, if prec == 0 { 1 } else { prec as usize }),
            _ => {
                // %f: Rust's exact fixed formatting is already Go's. No double has more than
                // 1074 fractional digits, so longer precisions only add zeros.
                let p = prec as usize;
                dst.push_str(&format!("{:.*}", p.min(1100), v.abs()));
                dst.extend(std::iter::repeat_n('0', p.saturating_sub(1100)));
                return;
            }
        }
    };
    let nd = digits.len() as i32;
    match fmt {
        b'e' | b'E' => {
            let p = if shortest { (nd - 1).max(0) } else { prec };
            fmt_e(dst, &digits, dp, p, fmt);
        }
        b'f' => {
            let p = if shortest { (nd - dp).max(0) } else { prec };
            fmt_f(dst, &digits, dp, p);
        }
        b'g' | b'G' => {
            let mut prec = prec;
            let mut eprec = prec;
            if eprec > nd && nd >= dp {
                eprec = nd;
            }
            if shortest {
                eprec = 6;
            }
            let exp = dp - 1;
            if v == 0.0 {
                // Go's zero has nd = 0, dp = 0: exp = -1, printed as %f.
            }
            if exp < -4 || exp >= eprec {
                if shortest || prec > nd {
                    prec = nd;
                }
                fmt_e(dst, &digits, dp, (prec - 1).max(0), fmt + b'e' - b'g');
                return;
            }
            if shortest || prec > dp {
                prec = nd;
            }
            fmt_f(dst, &digits, dp, (prec - dp).max(0));
        }
        _ => {
            dst.push('%');
            dst.push(fmt as char);
        }
    }
}

fn fmt_e(dst: &mut String, d: &[u8], dp: i32, prec: i32, fmt: u8) {
    let first = if d.is_empty() { b'0' } else { d[0] };
    dst.push(first as char);
    if prec > 0 {
        dst.push('.');
        let mut i = 1usize;
        let m = (d.len()).min(prec as usize + 1);
        if i < m {
            for &c in &d[i..m] {
                dst.push(c as char);
            }
            i = m;
        }
        while i <= prec as usize {
            dst.push('0');
            i += 1;
        }
    }
    dst.push(fmt as char);
    let mut exp = dp - 1;
    if d.is_empty() {
        exp = 0;
    }
    if exp < 0 {
        dst.push('-');
        exp = -exp;
    } else {
        dst.push('+');
    }
    if exp < 10 {
        dst.push('0');
        dst.push((b'0' + exp as u8) as char);
    } else {
        dst.push_str(&exp.to_string());
    }
}

fn fmt_f(dst: &mut String, d: &[u8], dp: i32, prec: i32) {
    if dp > 0 {
        let mut m = d.len().min(dp as usize);
        for &c in &d[..m] {
            dst.push(c as char);
        }
        while m < dp as usize {
            dst.push('0');
            m += 1;
        }
    } else {
        dst.push('0');
    }
    if prec > 0 {
        dst.push('.');
        for i in 1..=prec {
            let j = dp + i - 1;
            let ch = if j >= 0 && (j as usize) < d.len() {
                d[j as usize]
            } else {
                b'0'
            };
            dst.push(ch as char);
        }
    }
}

fn fmt_x(dst: &mut String, prec: i32, fmt: u8, neg: bool, mant: u64, exp: i32) {
    let mut mant = mant;
    let mut exp = exp;
    if mant == 0 {
        exp = 0;
    }
    mant <<= 60 - 52;
    while mant != 0 && mant & (1 << 60) == 0 {
        mant <<= 1;
        exp -= 1;
    }
    if (0..15).contains(&prec) {
        let shift = (prec * 4) as u32;
        let extra = (mant << shift) & ((1u64 << 60) - 1);
        mant >>= 60 - shift;
        if extra | (mant & 1) > 1 << 59 {
            mant += 1;
        }
        mant <<= 60 - shift;
        if mant & (1 << 61) != 0 {
            mant >>= 1;
            exp += 1;
        }
    }
    let hex: &[u8; 17] = if fmt == b'X' { UDIGITS } else { LDIGITS };
    if neg {
        dst.push('-');
    }
    dst.push('0');
    dst.push(fmt as char);
    dst.push((b'0' + ((mant >> 60) & 1) as u8) as char);
    mant <<= 4;
    if prec < 0 && mant != 0 {
        dst.push('.');
        while mant != 0 {
            dst.push(hex[((mant >> 60) & 15) as usize] as char);
            mant <<= 4;
        }
    } else if prec > 0 {
        dst.push('.');
        for _ in 0..prec {
            dst.push(hex[((mant >> 60) & 15) as usize] as char);
            mant <<= 4;
        }
    }
    dst.push(if fmt == b'X' { 'P' } else { 'p' });
    if exp < 0 {
        dst.push('-');
        exp = -exp;
    } else {
        dst.push('+');
    }
    if exp < 10 {
        dst.push('0');
    }
    dst.push_str(&exp.to_string());
}

/// An approximation of Go's `unicode.IsPrint` without Unicode tables: controls, format
/// characters, separators other than ASCII space, private use and noncharacters are not printable.
pub fn is_print(c: char) -> bool {
    let u = c as u32;
    if u < 0x20 || (0x7F..0xA0).contains(&u) {
        return false;
    }
    if u < 0x7F {
        return true;
    }
    !matches!(u,
        0xA0 | 0xAD | 0x1680 | 0x180E | 0x2000..=0x200F | 0x2028..=0x202F | 0x205F..=0x2064
        | 0x2066..=0x206F | 0x3000 | 0xD800..=0xF8FF | 0xFEFF | 0xFFF0..=0xFFFB | 0xFFFE | 0xFFFF
        | 0x600..=0x605 | 0x61C | 0x6DD | 0x70F | 0x110BD | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A
        | 0xE0000..=0xE007F | 0xF0000..=0x10FFFF)
}

fn can_backquote(s: &str) -> bool {
    for c in s.chars() {
        if c == '`' || c == '\u{FEFF}' {
            return false;
        }
        if (c as u32) < 0x20 && c != '\t' || c == '\u{7F}' {
            return false;
        }
    }
    true
}

fn quote_with(s: &[u8], q: u8, ascii_only: bool) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push(q as char);
    let mut i = 0;
    while i < s.len() {
        let b = s[i];
        if b < 0x80 {
            push_escaped(&mut out, b as char, q, ascii_only);
            i += 1;
            continue;
        }
        // Decode one UTF-8 sequence; invalid bytes print as \xNN.
        let len = utf8_len(b);
        let end = (i + len).min(s.len());
        match std::str::from_utf8(&s[i..end]) {
            Ok(ch) if len > 1 => {
                if let Some(c) = ch.chars().next() {
                    push_escaped(&mut out, c, q, ascii_only);
                }
                i = end;
            }
            _ => {
                out.push_str(&format!("\\x{:02x}", b));
                i += 1;
            }
        }
    }
    out.push(q as char);
    out
}

fn utf8_len(b: u8) -> usize {
    match b {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => 1,
    }
}

fn push_escaped(out: &mut String, c: char, q: u8, ascii_only: bool) {
    if c as u32 == u32::from(q) || c == '\\' {
        out.push('\\');
        out.push(c);
        return;
    }
    if ascii_only {
        if (c as u32) < 0x80 && is_print(c) {
            out.push(c);
            return;
        }
    } else if is_print(c) {
        out.push(c);
        return;
    }
    match c {
        '\x07' => out.push_str("\\a"),
        '\x08' => out.push_str("\\b"),
        '\x0C' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\x0B' => out.push_str("\\v"),
        _ => {
            let u = c as u32;
            if u < 0x20 || u == 0x7F {
                out.push_str(&format!("\\x{:02x}", u));
            } else if u < 0x10000 {
                out.push_str(&format!("\\u{:04x}", u));
            } else {
                out.push_str(&format!("\\U{:08x}", u));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::value::{List, Map};

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
}
