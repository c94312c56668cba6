//! Ports of huandu/xstrings v1.5.0's `ToCamelCase` and `ToSnakeCase`/`ToKebabCase`, which Sprig
//! calls for `camelcase`, `snakecase` and `kebabcase`: word boundaries (case changes, digits,
//! connectors, punctuation) decide the output, so the Go code's word scanner is followed step by
//! step.

use super::unicode::{go_is_letter, go_is_number, go_is_space, go_to_lower, go_to_upper, in_category, is_upper, Cat};

fn is_connector(r: char) -> bool {
    r == '-' || r == '_' || go_is_space(r)
}

/// xstrings `isAlphabet`: letters, but not CJK ideographs.
fn is_alphabet(r: char) -> bool {
    if !go_is_letter(r) {
        return false;
    }
    let u = r as u32;
    !((0x4E00..=0x9FCC).contains(&u) || (0x3400..=0x4D85).contains(&u) || (0x20000..=0x2B81D).contains(&u))
}

/// `unicode.IsPunct` (category P).
fn is_punct(r: char) -> bool {
    if r.is_ascii() {
        return r.is_ascii_punctuation() && !matches!(r, '$' | '+' | '<' | '=' | '>' | '^' | '`' | '|' | '~');
    }
    in_category(r, Cat::Punct)
}

pub(super) fn to_pascal_case(s: &str) -> String {
    if s.is_empty() {
        return String::new();
    }
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    let mut first_upper = false;
    let mut r0 = '\0';
    while i < chars.len() {
        r0 = chars[i];
        i += 1;
        if !is_connector(r0) {
            first_upper = is_upper(r0);
            r0 = go_to_upper(r0);
            break;
        }
        out.push(r0);
    }
    if i >= chars.len() {
        // Go writes the last rune again even when it was a connector ("-" → "--").
        out.push(r0);
        return out;
    }
    while i < chars.len() {
        let r1 = r0;
        r0 = chars[i];
        i += 1;
        if is_connector(r0) && is_connector(r1) {
            out.push(r1);
            continue;
        }
        if is_connector(r1) {
            first_upper = is_upper(r0);
            r0 = go_to_upper(r0);
        } else {
            if first_upper {
                if is_upper(r0) {
                    r0 = go_to_lower(r0);
                } else {
                    first_upper = false;
                }
            }
            out.push(r1);
        }
    }
    out.push(r0);
    out
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Word {
    Invalid,
    Number,
    Upper,
    Alpha,
    Connector,
    Punct,
    Other,
}

/// xstrings `nextWord` over a `&str` (no invalid UTF-8 can occur in a Rust string).
fn next_word(s: &str) -> (Word, &str, &str) {
    let mut it = s.char_indices().peekable();
    let Some((_, r)) = it.next() else {
        return (Word::Invalid, "", "");
    };
    let mut offset = r.len_utf8();
    let take_while = |offset: &mut usize, pred: &dyn Fn(char) -> bool| {
        for c in s[*offset..].chars() {
            if !pred(c) {
                break;
            }
            *offset += c.len_utf8();
        }
    };
    let wt;
    if is_connector(r) {
        wt = Word::Connector;
        take_while(&mut offset, &is_connector);
    } else if is_punct(r) {
        wt = Word::Punct;
        take_while(&mut offset, &is_punct);
    } else if is_upper(r) {
        wt = Word::Upper;
        if let Some(r2) = s[offset..].chars().next() {
            if is_upper(r2) {
                let mut prev_size = r2.len_utf8();
                offset += prev_size;
                let mut stopped_on: Option<char> = None;
                for c in s[offset..].chars() {
                    if !is_upper(c) {
                        stopped_on = Some(c);
                        break;
                    }
                    prev_size = c.len_utf8();
                    offset += prev_size;
                }
                if let Some(c) = stopped_on {
                    if is_alphabet(c) {
                        offset -= prev_size;
                    }
                }
            } else if is_alphabet(r2) {
                offset += r2.len_utf8();
                take_while(&mut offset, &|c| is_alphabet(c) && !is_upper(c));
            }
        }
    } else if is_alphabet(r) {
        wt = Word::Alpha;
        take_while(&mut offset, &|c| is_alphabet(c) && !is_upper(c));
    } else if go_is_number(r) {
        wt = Word::Number;
        take_while(&mut offset, &go_is_number);
    } else {
        wt = Word::Other;
        take_while(&mut offset, &|c| {
            !(is_connector(c) || is_alphabet(c) || go_is_number(c) || is_punct(c))
        });
    }
    (wt, &s[..offset], &s[offset..])
}

fn to_lower_word(out: &mut String, wt: Word, word: &str, connector: char) {
    if wt != Word::Upper && wt != Word::Connector {
        out.push_str(word);
        return;
    }
    for r in word.chars() {
        if is_connector(r) {
            out.push(connector);
        } else if is_upper(r) {
            out.push(go_to_lower(r));
        } else {
            out.push(r);
        }
    }
}

/// xstrings `camelCaseToLowerCase` (snakecase, kebabcase).
pub(super) fn camel_to_lower(s: &str, connector: char) -> String {
    if s.is_empty() {
        return String::new();
    }
    let mut out = String::new();
    let (mut wt, mut word, mut remaining) = next_word(s);
    while !remaining.is_empty() {
        if wt != Word::Connector {
            to_lower_word(&mut out, wt, word, connector);
        }
        let prev = wt;
        let last = word;
        (wt, word, remaining) = next_word(remaining);
        match prev {
            Word::Number => {
                while wt == Word::Alpha || wt == Word::Number {
                    to_lower_word(&mut out, wt, word, connector);
                    (wt, word, remaining) = next_word(remaining);
                }
                if wt != Word::Invalid && wt != Word::Punct && wt != Word::Connector {
                    out.push(connector);
                }
            }
            Word::Connector => to_lower_word(&mut out, prev, last, connector),
            Word::Punct => {}
            _ => {
                if wt != Word::Number {
                    if wt != Word::Connector && wt != Word::Punct {
                        out.push(connector);
                    }
                    continue;
                }
                if remaining.is_empty() {
                    continue;
                }
                let last = word;
                (wt, word, remaining) = next_word(remaining);
                if wt != Word::Alpha {
                    to_lower_word(&mut out, Word::Number, last, connector);
                    if wt != Word::Connector && wt != Word::Punct {
                        out.push(connector);
                    }
                    continue;
                }
                out.push(connector);
                to_lower_word(&mut out, Word::Number, last, connector);
                while wt == Word::Alpha || wt == Word::Number {
                    to_lower_word(&mut out, wt, word, connector);
                    (wt, word, remaining) = next_word(remaining);
                }
                if wt != Word::Invalid && wt != Word::Connector && wt != Word::Punct {
                    out.push(connector);
                }
            }
        }
    }
    to_lower_word(&mut out, wt, word, connector);
    out
}
