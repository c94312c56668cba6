//! Go's `strconv/quote.go`: `Quote`, `QuoteToASCII`, `QuoteRune` and the `IsPrint` they use.

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

pub(super) fn can_backquote(s: &str) -> bool {
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

pub(super) fn quote_with(s: &[u8], q: u8, ascii_only: bool) -> String {
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
