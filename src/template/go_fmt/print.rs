//! Go's `fmt/print.go`: which verb applies to which value, `%v` of lists, maps and typed values,
//! `%!verb(type=value)` errors, and the `Printf` format-string parser (flags, width, precision,
//! argument indexes). `%v` of a time is Go's `time.Time.String()`, from `gotime`.

use super::format::{parsenum, too_large, Flags, Printer, LDIGITS, UDIGITS};
use crate::template::gotime::time_string;
use crate::value::{Elem, Value};

impl Printer {
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

    pub(super) fn print_arg(&mut self, arg: &Value, verb: char) {
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

    pub(super) fn do_printf(&mut self, format: &str, a: &[Value]) {
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
