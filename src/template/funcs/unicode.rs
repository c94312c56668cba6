//! Go's `unicode` package as Sprig's string functions reach it (`ToUpper`, `ToLower`, `ToTitle`,
//! `IsLetter`, `IsUpper`, `IsNumber`, `IsSpace`…): Go's categories, not Rust's derived properties.

/// `unicode.ToUpper` (simple case mapping: one rune in, one rune out).
pub(super) fn go_to_upper(c: char) -> char {
    let mut it = c.to_uppercase();
    match (it.next(), it.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

/// `unicode.ToLower` (simple case mapping).
pub(super) fn go_to_lower(c: char) -> char {
    if c == '\u{130}' {
        return 'i';
    }
    let mut it = c.to_lowercase();
    match (it.next(), it.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

/// `unicode.ToTitle`: upper case except for the four digraphs that have a title form.
pub(super) fn go_to_title(c: char) -> char {
    match c {
        '\u{1C4}'..='\u{1C6}' => '\u{1C5}',
        '\u{1C7}'..='\u{1C9}' => '\u{1C8}',
        '\u{1CA}'..='\u{1CC}' => '\u{1CB}',
        '\u{1F1}'..='\u{1F3}' => '\u{1F2}',
        c => go_to_upper(c),
    }
}

/// Unicode general categories as Go's `unicode` package tests them. Rust's `char` methods use
/// derived properties instead (`is_alphabetic` includes Ⓐ and combining marks, `is_uppercase`
/// includes Ⅰ), so non-ASCII characters are classified with the `regex` crate's category tables.
#[derive(Clone, Copy)]
pub(super) enum Cat {
    Letter,
    Upper,
    Lower,
    Title,
    Punct,
    Number,
    Digit,
}

pub(super) fn in_category(c: char, cat: Cat) -> bool {
    thread_local! {
        static TABLES: Vec<regex::Regex> = ["L", "Lu", "Ll", "Lt", "P", "N", "Nd"]
            .iter()
            .filter_map(|n| regex::Regex::new(&format!(r"\A\p{{{n}}}\z")).ok())
            .collect();
    }
    let mut buf = [0u8; 4];
    let text = c.encode_utf8(&mut buf);
    TABLES.with(|t| t.get(cat as usize).is_some_and(|re| re.is_match(text)))
}

/// `unicode.IsLetter`.
pub(super) fn go_is_letter(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphabetic();
    }
    in_category(c, Cat::Letter)
}

/// `unicode.IsUpper` (category Lu).
pub(super) fn is_upper(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_uppercase();
    }
    in_category(c, Cat::Upper)
}

/// `unicode.IsLower` (category Ll).
pub(super) fn is_lower(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_lowercase();
    }
    in_category(c, Cat::Lower)
}

/// `unicode.IsTitle` (category Lt).
pub(super) fn is_title(c: char) -> bool {
    !c.is_ascii() && in_category(c, Cat::Title)
}

/// `unicode.IsNumber` (category N).
pub(super) fn go_is_number(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_digit();
    }
    in_category(c, Cat::Number)
}

/// `unicode.IsDigit` (category Nd).
pub(super) fn go_is_digit(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_digit();
    }
    in_category(c, Cat::Digit)
}

/// `unicode.IsSpace`.
pub(super) fn go_is_space(c: char) -> bool {
    c.is_whitespace()
}
