//! Go's `strconv/ftoa.go`: `FormatFloat`'s `%e %E %f %g %G %x %X %b` layouts. Rust's float
//! formatting only supplies the decimal digits (shortest round-trip, or rounded half-to-even to a
//! precision — the same digits Go computes); the layout is Go's.

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
pub(super) fn append_float(dst: &mut String, v: f64, fmt: u8, prec: i32) {
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
    // strconv's own `lowerhex`/`upperhex` (quote.go), as `fmtX` uses them.
    let hex: &[u8; 16] = if fmt == b'X' {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
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
