//! Sprig functions: regular expressions (`regexMatch`, `regexFind`, `regexFindAll`,
//! `regexReplaceAll`, `regexReplaceAllLiteral`, `regexSplit`, `regexQuoteMeta`, `must*`).
//!
//! Charts are written for Go's RE2 dialect, which differs from the `regex` crate in a few ways
//! that change results, so patterns are translated first:
//! - `\d \w \s \b` and their negations are ASCII-only in Go (Rust's are Unicode);
//! - `\Q…\E` quotes literally (Rust has no such syntax);
//! - a `{` that does not start a valid repetition is a literal in Go;
//! - `\<`, `\>` are escaped literals in Go but word boundaries in Rust; `&&`, `~~`, `--` and `[`
//!   inside a class are set syntax in Rust but literals in Go.
//!
//! Go's parse errors (missing argument, nested repetition, repeat count over 1000, bad group
//! flags) are detected during translation and worded as Go words them. Iteration (`FindAll`,
//! `ReplaceAll`, `Split`) follows Go's loops exactly, including the rule that an empty match right
//! after a previous match is skipped, and `$1`/`${name}` expansion follows `regexp.Regexp.Expand`. Non-`must` functions use `MustCompile`, whose panic text becomes the
//! template error.

use std::cell::RefCell;
use std::collections::HashMap;

use regex::Regex;

use crate::template::{Func, FuncMap, Param, Sig, Value};

use super::strings::arg_int;

const ASCII_DIGIT: &str = "0-9";
const ASCII_WORD: &str = "0-9A-Za-z_";
const ASCII_SPACE: &str = "\\t\\n\\f\\r ";

/// The Rust spelling of a Go escape class (`d`, `w`, `s`), as a class body.
fn class_body(c: char) -> Option<&'static str> {
    match c.to_ascii_lowercase() {
        'd' => Some(ASCII_DIGIT),
        'w' => Some(ASCII_WORD),
        's' => Some(ASCII_SPACE),
        _ => None,
    }
}

/// A literal character, escaped for use anywhere in a Rust pattern (inside or outside a class).
fn lit(c: char) -> String {
    regex::escape(c.encode_utf8(&mut [0; 4]))
}

/// Length of a valid `{n}`, `{n,}`, `{n,m}` repetition starting at `chars[i] == '{'`.
fn repetition_len(chars: &[char], i: usize) -> Option<usize> {
    let mut j = i + 1;
    let start = j;
    while j < chars.len() && chars[j].is_ascii_digit() {
        j += 1;
    }
    if j == start {
        return None;
    }
    if j < chars.len() && chars[j] == ',' {
        j += 1;
        while j < chars.len() && chars[j].is_ascii_digit() {
            j += 1;
        }
    }
    if j < chars.len() && chars[j] == '}' {
        Some(j + 1 - i)
    } else {
        None
    }
}

/// Translates an escape at `chars[i] == '\\'`; returns the Rust text and the chars consumed.
fn translate_escape(chars: &[char], i: usize, in_class: bool) -> Result<(String, usize), String> {
    let Some(&c) = chars.get(i + 1) else {
        return Err("trailing backslash at end of expression: ``".into());
    };
    let out = match c {
        'd' | 'w' | 's' => {
            let body = class_body(c).unwrap_or_default();
            if in_class {
                body.to_string()
            } else {
                format!("[{body}]")
            }
        }
        'D' | 'W' | 'S' => format!("[^{}]", class_body(c).unwrap_or_default()),
        'b' | 'B' if !in_class => format!("(?-u:\\{c})"),
        'A' | 'z' if !in_class => format!("\\{c}"),
        'a' | 'f' | 't' | 'n' | 'r' | 'v' => format!("\\{c}"),
        'x' => {
            // \xHH or \x{H…}
            if chars.get(i + 2) == Some(&'{') {
                let end = chars[i + 2..].iter().position(|&x| x == '}').map(|p| p + i + 2);
                let Some(end) = end else {
                    return Err(format!(
                        "invalid escape sequence: `{}`",
                        chars[i..].iter().collect::<String>()
                    ));
                };
                let digits: String = chars[i + 3..end].iter().collect();
                let ok = !digits.is_empty()
                    && digits.chars().all(|h| h.is_ascii_hexdigit())
                    && u32::from_str_radix(&digits, 16).is_ok_and(|v| v <= 0x10FFFF);
                if !ok {
                    return Err(format!(
                        "invalid escape sequence: `{}`",
                        chars[i..end].iter().collect::<String>()
                    ));
                }
                return Ok((chars[i..=end].iter().collect(), end + 1 - i));
            }
            let hex: String = chars.iter().skip(i + 2).take(2).collect();
            if hex.len() != 2 || !hex.chars().all(|h| h.is_ascii_hexdigit()) {
                return Err(format!("invalid escape sequence: `\\x{hex}`"));
            }
            return Ok((format!("\\x{hex}"), 4));
        }
        'p' | 'P' => {
            let (name, len) = if chars.get(i + 2) == Some(&'{') {
                let end = chars[i + 2..].iter().position(|&x| x == '}').map(|p| p + i + 2);
                let Some(end) = end else {
                    return Err(format!(
                        "invalid character class range: `{}`",
                        chars[i..].iter().collect::<String>()
                    ));
                };
                (chars[i + 3..end].iter().collect::<String>(), end + 1 - i)
            } else {
                match chars.get(i + 2) {
                    Some(n) => (n.to_string(), 3),
                    None => return Err(format!("invalid character class range: `\\{c}`")),
                }
            };
            let bare = name.strip_prefix('^').unwrap_or(&name);
            if !go_unicode_class(bare) {
                return Err(format!(
                    "invalid character class range: `{}`",
                    chars[i..i + len].iter().collect::<String>()
                ));
            }
            // `\p{^X}` is Go's negation; the regex crate spells it `\P{X}`.
            let negated = (c == 'P') != name.starts_with('^');
            return Ok((format!("\\{}{{{bare}}}", if negated { 'P' } else { 'p' }), len));
        }
        '1'..='7' => {
            // Go: a single non-zero digit is a (rejected) backreference; otherwise octal.
            let next = chars.get(i + 2).copied();
            if !matches!(next, Some('0'..='7')) {
                return Err(format!("invalid escape sequence: `\\{c}`"));
            }
            return octal(chars, i);
        }
        '0' => return octal(chars, i),
        c if c.is_ascii_punctuation() => lit(c),
        c => return Err(format!("invalid escape sequence: `\\{c}`")),
    };
    Ok((out, 2))
}

/// Whether Go knows `\p{name}`: "Any", a general category, or a script.
fn go_unicode_class(name: &str) -> bool {
    const CATEGORIES: &[&str] = &[
        "C", "Cc", "Cf", "Co", "Cs", "L", "Ll", "Lm", "Lo", "Lt", "Lu", "M", "Mc", "Me", "Mn", "N", "Nd", "Nl", "No",
        "P", "Pc", "Pd", "Pe", "Pf", "Pi", "Po", "Ps", "S", "Sc", "Sk", "Sm", "So", "Z", "Zl", "Zp", "Zs",
    ];
    if name == "Any" || CATEGORIES.contains(&name) {
        return true;
    }
    // Scripts, matched without regard to case by Go 1.26 (`\p{greek}` works); Go rejects
    // underscored names such as `Old_Italic` (checked with helm 4.1.4).
    !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric())
        && Regex::new(&format!(r"\p{{sc={name}}}")).is_ok()
}

/// Go's octal escape (up to three digits after the backslash).
fn octal(chars: &[char], i: usize) -> Result<(String, usize), String> {
    let mut v = 0u32;
    let mut n = 0;
    while n < 3 {
        match chars.get(i + 1 + n) {
            Some(&d @ '0'..='7') => {
                v = v * 8 + (d as u32 - '0' as u32);
                n += 1;
            }
            _ => break,
        }
    }
    Ok((format!("\\x{{{v:x}}}"), 1 + n))
}

/// What precedes a repetition operator, for Go's "missing argument" and "nested repetition" checks.
#[derive(Clone, Copy, PartialEq)]
enum Prev {
    /// Start of the pattern, `(`, `|` or a flag group: nothing to repeat.
    Nothing,
    Atom,
    /// A repetition operator that started at this char index.
    Repeat(usize),
}

/// Go RE2 syntax → `regex` crate syntax with the same meaning.
pub(crate) fn translate(go: &str) -> Result<String, String> {
    let chars: Vec<char> = go.chars().collect();
    let mut out = String::with_capacity(go.len() + 8);
    let mut prev = Prev::Nothing;
    let mut seen_names: Vec<String> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        // A repetition operator: `*`, `+`, `?`, or a valid `{n,m}`, with an optional lazy `?`.
        let rep_len = match c {
            '*' | '+' | '?' => Some(1),
            '{' => repetition_len(&chars, i),
            _ => None,
        };
        if let Some(mut n) = rep_len {
            if c == '{' {
                let body: String = chars[i + 1..i + n - 1].iter().collect();
                let (lo, hi) = match body.split_once(',') {
                    Some((lo, "")) => (lo.parse::<u64>().ok(), Some(0)),
                    Some((lo, hi)) => (lo.parse::<u64>().ok(), hi.parse::<u64>().ok()),
                    None => (body.parse::<u64>().ok(), body.parse::<u64>().ok()),
                };
                let bad = match (lo, hi) {
                    (Some(lo), Some(hi)) => {
                        lo > 1000 || hi > 1000 || (body.contains(',') && !body.ends_with(',') && hi < lo)
                    }
                    _ => true,
                };
                if bad {
                    let text: String = chars[i..i + n].iter().collect();
                    return Err(format!("invalid repeat count: `{text}`"));
                }
            }
            if chars.get(i + n) == Some(&'?') {
                n += 1;
            }
            match prev {
                Prev::Nothing => {
                    let text: String = chars[i..i + n].iter().collect();
                    return Err(format!("missing argument to repetition operator: `{text}`"));
                }
                Prev::Repeat(start) => {
                    let text: String = chars[start..i + n].iter().collect();
                    return Err(format!("invalid nested repetition operator: `{text}`"));
                }
                Prev::Atom => {}
            }
            out.extend(&chars[i..i + n]);
            prev = Prev::Repeat(i);
            i += n;
            continue;
        }
        match c {
            '\\' => {
                if chars.get(i + 1) == Some(&'Q') {
                    let rest: String = chars[i + 2..].iter().collect();
                    let (quoted, consumed) = match rest.find("\\E") {
                        Some(p) => (&rest[..p], 2 + rest[..p].chars().count() + 2),
                        None => (&rest[..], chars.len() - i),
                    };
                    out.push_str(&regex::escape(quoted));
                    if !quoted.is_empty() {
                        prev = Prev::Atom;
                    }
                    i += consumed;
                    continue;
                }
                let (t, n) = translate_escape(&chars, i, false)?;
                out.push_str(&t);
                i += n;
                prev = Prev::Atom;
            }
            '[' => {
                let (t, n) = translate_class(&chars, i)?;
                out.push_str(&t);
                i += n;
                prev = Prev::Atom;
            }
            '{' | '}' => {
                out.push('\\');
                out.push(c);
                i += 1;
                prev = Prev::Atom;
            }
            '(' => {
                // `(?flags)` sets flags and leaves nothing to repeat; other groups open a scope.
                out.push(c);
                i += 1;
                if chars.get(i) == Some(&'?') {
                    let n = group_head(&chars, i)?;
                    let head: String = chars[i..i + n].iter().collect();
                    let name = head
                        .strip_prefix("?P<")
                        .or_else(|| head.strip_prefix("?<"))
                        .and_then(|r| r.strip_suffix('>'));
                    match name {
                        // Go allows a name twice; Rust does not. Later uses get a suffix Go names
                        // cannot contain, and `expand` maps them back.
                        Some(name) => {
                            let k = seen_names.iter().filter(|n| *n == name).count();
                            seen_names.push(name.to_string());
                            if k == 0 {
                                out.push_str(&format!("?P<{name}>"));
                            } else {
                                out.push_str(&format!("?P<{name}.dup{k}>"));
                            }
                        }
                        None => out.push_str(&head),
                    }
                    i += n;
                }
                prev = Prev::Nothing;
            }
            '|' => {
                out.push(c);
                i += 1;
                prev = Prev::Nothing;
            }
            _ => {
                out.push(c);
                i += 1;
                prev = Prev::Atom;
            }
        }
    }
    Ok(out)
}

/// Checks a group head after `(` (at `chars[i] == '?'`) as Go's parser does: named groups
/// `(?P<name>` / `(?<name>` with word-character names, or flags from `imsU` with one optional
/// `-`, ended by `)` or `:`. Returns the length of the head.
fn group_head(chars: &[char], i: usize) -> Result<usize, String> {
    let text = |end: usize| chars[i - 1..end.min(chars.len())].iter().collect::<String>();
    let name_start = match (chars.get(i + 1), chars.get(i + 2)) {
        (Some('P'), Some('<')) => Some(i + 3),
        (Some('<'), _) => Some(i + 2),
        _ => None,
    };
    if let Some(start) = name_start {
        let Some(end) = chars[start..].iter().position(|&c| c == '>').map(|p| p + start) else {
            return Err(format!("invalid named capture: `{}`", text(chars.len())));
        };
        let name = &chars[start..end];
        if name.is_empty() || !name.iter().all(|c| c.is_alphanumeric() || *c == '_') {
            return Err(format!("invalid named capture: `{}`", text(end + 1)));
        }
        return Ok(end + 1 - i);
    }
    let mut j = i + 1;
    let mut saw_minus = false;
    let mut saw_flag = false;
    while let Some(&c) = chars.get(j) {
        match c {
            'i' | 'm' | 's' | 'U' => saw_flag = true,
            '-' if !saw_minus => {
                saw_minus = true;
                saw_flag = false;
            }
            ':' | ')' => {
                if saw_minus && !saw_flag {
                    return Err(format!("invalid or unsupported Perl syntax: `{}`", text(j + 1)));
                }
                return Ok(j + 1 - i);
            }
            _ => return Err(format!("invalid or unsupported Perl syntax: `{}`", text(j + 1))),
        }
        j += 1;
    }
    Err(format!("invalid or unsupported Perl syntax: `{}`", text(chars.len())))
}

/// A bracket class starting at `chars[start] == '['`.
fn translate_class(chars: &[char], start: usize) -> Result<(String, usize), String> {
    let mut out = String::from("[");
    let mut i = start + 1;
    if chars.get(i) == Some(&'^') {
        out.push('^');
        i += 1;
    }
    let mut first = true;
    // The last plain character, for range checks: (char, index).
    let mut prev_lit: Option<(char, usize)> = None;
    loop {
        let Some(&c) = chars.get(i) else {
            return Err(format!(
                "missing closing ]: `{}`",
                chars[start..].iter().collect::<String>()
            ));
        };
        match c {
            ']' if !first => {
                out.push(']');
                i += 1;
                break;
            }
            '[' if chars.get(i + 1) == Some(&':') => {
                let rest: String = chars[i..].iter().collect();
                match rest.find(":]") {
                    Some(p) => {
                        const POSIX: &[&str] = &[
                            "alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph", "lower", "print", "punct",
                            "space", "upper", "word", "xdigit",
                        ];
                        let name = &rest[2..p];
                        if !POSIX.contains(&name.strip_prefix('^').unwrap_or(name)) {
                            return Err(format!("invalid character class range: `{}`", &rest[..p + 2]));
                        }
                        out.push_str(&rest[..p + 2]);
                        i += rest[..p + 2].chars().count();
                    }
                    None => {
                        out.push_str("\\[");
                        i += 1;
                    }
                }
                prev_lit = None;
            }
            '\\' => {
                let (t, n) = translate_escape(chars, i, true)?;
                out.push_str(&t);
                i += n;
                prev_lit = None;
            }
            '-' => {
                // A range `lo-hi` must not run backwards (Go checks plain-character bounds).
                if prev_lit.is_some() && chars.get(i + 1) == Some(&'\\') {
                    if let Some(&e) = chars.get(i + 2) {
                        if matches!(e, 'd' | 'D' | 'w' | 'W' | 's' | 'S' | 'p' | 'P') {
                            return Err(format!("invalid escape sequence: `\\{e}`"));
                        }
                    }
                }
                if let (Some((lo, lo_at)), Some(&hi)) = (prev_lit, chars.get(i + 1)) {
                    if hi != ']' && hi != '\\' && hi < lo {
                        return Err(format!(
                            "invalid character class range: `{}`",
                            chars[lo_at..i + 2].iter().collect::<String>()
                        ));
                    }
                }
                let doubled = chars.get(i + 1) == Some(&'-') || (i > 0 && chars[i - 1] == '-');
                out.push_str(if doubled { "\\-" } else { "-" });
                i += 1;
                prev_lit = None;
            }
            '[' | ']' | '&' | '~' => {
                out.push('\\');
                out.push(c);
                prev_lit = Some((c, i));
                i += 1;
            }
            _ => {
                out.push(c);
                prev_lit = Some((c, i));
                i += 1;
            }
        }
        first = false;
    }
    Ok((out, i - start))
}

/// Go's error text for a pattern that does not compile: the common RE2 parse errors by name,
/// otherwise the crate's own explanation.
fn go_parse_error(expr: &str, err: String) -> String {
    let mut depth = 0i32;
    let mut chars = expr.chars().peekable();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '[' if !in_class => in_class = true,
            ']' if in_class => in_class = false,
            '(' if !in_class => depth += 1,
            ')' if !in_class => {
                depth -= 1;
                if depth < 0 {
                    return format!("error parsing regexp: unexpected ): `{expr}`");
                }
            }
            _ => {}
        }
    }
    if depth > 0 {
        return format!("error parsing regexp: missing closing ): `{expr}`");
    }
    if let Some(first) = expr.chars().next() {
        if matches!(first, '*' | '+' | '?') {
            return format!("error parsing regexp: missing argument to repetition operator: `{first}`");
        }
    }
    if err.starts_with("missing") || err.starts_with("invalid") || err.starts_with("trailing") {
        return format!("error parsing regexp: {err}");
    }
    format!(
        "error parsing regexp: {}",
        err.lines().last().unwrap_or("invalid expression").trim()
    )
}

thread_local! {
    static CACHE: RefCell<HashMap<String, Result<Regex, String>>> = RefCell::new(HashMap::new());
}

/// `regexp.Compile`: the compiled pattern or Go's error text.
pub(crate) fn compile(expr: &str) -> Result<Regex, String> {
    if let Some(hit) = CACHE.with(|c| c.borrow().get(expr).cloned()) {
        return hit;
    }
    let result = match translate(expr) {
        Err(e) => Err(format!("error parsing regexp: {e}")),
        Ok(t) => Regex::new(&t).map_err(|e| go_parse_error(expr, e.to_string())),
    };
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() > 512 {
            c.clear();
        }
        c.insert(expr.to_string(), result.clone());
    });
    result
}

/// Go's `strconv.Quote` unless the text can be back-quoted (`regexp.quote`).
fn go_backquote(s: &str) -> String {
    if s.chars()
        .all(|c| c != '`' && (c == '\t' || !c.is_control()) && c != '\u{FEFF}')
    {
        format!("`{s}`")
    } else {
        super::strings::go_quote(s)
    }
}

/// `regexp.MustCompile`: the panic text as the error.
fn must_compile(expr: &str) -> Result<Regex, String> {
    compile(expr).map_err(|e| format!("regexp: Compile({}): {e}", go_backquote(expr)))
}

/// Go's `allMatches` loop: match spans, at most `n` (all when `n < 0`).
fn all_matches(re: &Regex, s: &str, n: i64) -> Vec<(usize, usize)> {
    let limit = if n < 0 { s.len() + 1 } else { n as usize };
    let mut out = Vec::new();
    let mut pos = 0usize;
    let mut prev_end: Option<usize> = None;
    while out.len() < limit && pos <= s.len() {
        let Some(m) = re.find_at(s, pos) else {
            break;
        };
        let mut accept = true;
        if m.end() == pos {
            if Some(m.start()) == prev_end {
                accept = false;
            }
            pos += s[pos..].chars().next().map_or(1, char::len_utf8);
        } else {
            pos = m.end();
        }
        prev_end = Some(m.end());
        if accept {
            out.push((m.start(), m.end()));
        }
    }
    out
}

/// Go's `Regexp.expand` for a `$`-template.
fn expand(re: &Regex, template: &str, caps: &regex::Captures, out: &mut String) {
    let names: Vec<Option<&str>> = re.capture_names().collect();
    let mut t = template;
    while let Some(p) = t.find('$') {
        out.push_str(&t[..p]);
        t = &t[p + 1..];
        if let Some(rest) = t.strip_prefix('$') {
            out.push('$');
            t = rest;
            continue;
        }
        match extract(t) {
            None => out.push('$'),
            Some((name, num, rest)) => {
                t = rest;
                if let Some(num) = num {
                    if let Some(m) = caps.get(num) {
                        out.push_str(m.as_str());
                    }
                } else {
                    // The first group of that (Go) name that took part in the match.
                    let hit = names
                        .iter()
                        .enumerate()
                        .filter(|(_, n)| n.is_some_and(|n| n.split(".dup").next() == Some(name)))
                        .find_map(|(i, _)| caps.get(i));
                    if let Some(m) = hit {
                        out.push_str(m.as_str());
                    }
                }
            }
        }
    }
    out.push_str(t);
}

/// Go's `extract`: a group name or number after `$`, with its remaining text.
fn extract(s: &str) -> Option<(&str, Option<usize>, &str)> {
    let (brace, body) = match s.strip_prefix('{') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let end = body
        .char_indices()
        .find(|&(_, c)| !(c.is_alphabetic() || c.is_numeric() || c == '_'))
        .map_or(body.len(), |(i, _)| i);
    if end == 0 {
        return None;
    }
    let name = &body[..end];
    let mut rest = &body[end..];
    if brace {
        rest = rest.strip_prefix('}')?;
    }
    let mut num: Option<usize> = Some(0);
    for b in name.bytes() {
        match num {
            Some(n) if b.is_ascii_digit() && n < 100_000_000 => num = Some(n * 10 + (b - b'0') as usize),
            _ => {
                num = None;
                break;
            }
        }
    }
    if name.len() > 1 && name.starts_with('0') {
        num = None;
    }
    Some((name, num, rest))
}

/// Go's `replaceAll` loop; `literal` skips `$` expansion.
fn replace_all(re: &Regex, src: &str, repl: &str, literal: bool) -> String {
    let mut out = String::with_capacity(src.len());
    let mut last_end = 0usize;
    let mut search = 0usize;
    while search <= src.len() {
        let Some(caps) = re.captures_at(src, search) else {
            break;
        };
        let Some(m) = caps.get(0) else {
            break;
        };
        out.push_str(&src[last_end..m.start()]);
        if m.end() > last_end || m.start() == 0 {
            if literal {
                out.push_str(repl);
            } else {
                expand(re, repl, &caps, &mut out);
            }
        }
        last_end = m.end();
        let width = src[search..].chars().next().map_or(1, char::len_utf8);
        if search + width > m.end() {
            search += width;
        } else if search + 1 > m.end() {
            search += 1;
        } else {
            search = m.end();
        }
    }
    out.push_str(&src[last_end..]);
    out
}

/// Go's `Regexp.Split`.
fn split(re: &Regex, expr: &str, s: &str, n: i64) -> Vec<String> {
    if n == 0 {
        return Vec::new();
    }
    if !expr.is_empty() && s.is_empty() {
        return vec![String::new()];
    }
    let matches = all_matches(re, s, n);
    let mut out = Vec::with_capacity(matches.len());
    let (mut beg, mut end) = (0usize, 0usize);
    for (ms, me) in matches {
        if n > 0 && out.len() as i64 == n - 1 {
            break;
        }
        end = ms;
        if me != 0 {
            out.push(s[beg..end].to_string());
        }
        beg = me;
    }
    if end != s.len() {
        out.push(s[beg..].to_string());
    }
    out
}

/// Go's `regexp.QuoteMeta`.
fn quote_meta(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn sarg(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

fn find_all(re: &Regex, s: &str, n: i64) -> Value {
    Value::str_list(all_matches(re, s, n).into_iter().map(|(a, b)| &s[a..b]))
}

pub fn register(m: &mut FuncMap) {
    use Param::*;
    m.insert(
        "regexMatch".into(),
        Func::pure(Sig::fixed(&[String, String]), |a| {
            Ok(Value::Bool(
                compile(sarg(&a[0])).is_ok_and(|re| re.is_match(sarg(&a[1]))),
            ))
        }),
    );
    m.insert(
        "mustRegexMatch".into(),
        Func::pure(Sig::fixed(&[String, String]), |a| {
            Ok(Value::Bool(compile(sarg(&a[0]))?.is_match(sarg(&a[1]))))
        }),
    );
    m.insert(
        "regexFindAll".into(),
        Func::pure(Sig::fixed(&[String, String, Int]), |a| {
            Ok(find_all(&must_compile(sarg(&a[0]))?, sarg(&a[1]), arg_int(&a[2])))
        }),
    );
    m.insert(
        "mustRegexFindAll".into(),
        Func::pure(Sig::fixed(&[String, String, Int]), |a| {
            Ok(find_all(&compile(sarg(&a[0]))?, sarg(&a[1]), arg_int(&a[2])))
        }),
    );
    let find = |re: Regex, s: &str| Value::str(re.find(s).map_or("", |m| m.as_str()));
    m.insert(
        "regexFind".into(),
        Func::pure(Sig::fixed(&[String, String]), move |a| {
            Ok(find(must_compile(sarg(&a[0]))?, sarg(&a[1])))
        }),
    );
    m.insert(
        "mustRegexFind".into(),
        Func::pure(Sig::fixed(&[String, String]), move |a| {
            Ok(find(compile(sarg(&a[0]))?, sarg(&a[1])))
        }),
    );
    for (name, must, literal) in [
        ("regexReplaceAll", false, false),
        ("mustRegexReplaceAll", true, false),
        ("regexReplaceAllLiteral", false, true),
        ("mustRegexReplaceAllLiteral", true, true),
    ] {
        m.insert(
            name.into(),
            Func::pure(Sig::fixed(&[String, String, String]), move |a| {
                let re = if must {
                    compile(sarg(&a[0]))?
                } else {
                    must_compile(sarg(&a[0]))?
                };
                Ok(Value::str(replace_all(&re, sarg(&a[1]), sarg(&a[2]), literal)))
            }),
        );
    }
    for (name, must) in [("regexSplit", false), ("mustRegexSplit", true)] {
        m.insert(
            name.into(),
            Func::pure(Sig::fixed(&[String, String, Int]), move |a| {
                let expr = sarg(&a[0]);
                let re = if must { compile(expr)? } else { must_compile(expr)? };
                Ok(Value::str_list(split(&re, expr, sarg(&a[1]), arg_int(&a[2]))))
            }),
        );
    }
    m.insert(
        "regexQuoteMeta".into(),
        Func::pure(Sig::fixed(&[String]), |a| Ok(Value::str(quote_meta(sarg(&a[0]))))),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strs(v: Vec<(usize, usize)>, s: &str) -> Vec<std::string::String> {
        v.into_iter().map(|(a, b)| s[a..b].to_string()).collect()
    }

    fn re(p: &str) -> Regex {
        compile(p).unwrap()
    }

    // Every expectation below is helm 4.1.4's output for the same call.
    #[test]
    fn iteration_follows_go() {
        assert_eq!(strs(all_matches(&re("a*"), "baaab", -1), "baaab"), ["", "aaa", ""]);
        assert_eq!(replace_all(&re("a*"), "baaab", "X", false), "XbXbX");
        assert_eq!(split(&re("a*"), "a*", "baaab", -1), ["b", "b"]);
        assert_eq!(split(&re(","), ",", "a,b,,c", 2), ["a", "b,,c"]);
        assert_eq!(split(&re(""), "", "abc", -1), ["a", "b", "c"]);
        assert_eq!(replace_all(&re("a"), "aa", "$1", true), "$1$1");
    }

    #[test]
    fn expansion_follows_go() {
        assert_eq!(
            replace_all(&re("(?P<x>a)(b)?"), "abac", "[$x|$2|${1}z|$1z|$$|$]", false),
            "[a|b|az||$|$][a||az||$|$]c"
        );
    }

    #[test]
    fn go_syntax_is_translated() {
        assert_eq!(re(r"\d+").find("x٣12").map(|m| m.as_str()), Some("12"));
        assert!(!re(r"^\w+$").is_match("héllo"));
        assert_eq!(replace_all(&re(r"\Q.*\E"), "a.*b", "-", false), "a-b");
        assert_eq!(strs(all_matches(&re("a{"), "a{a{", -1), "a{a{"), ["a{", "a{"]);
        assert_eq!(strs(all_matches(&re(r"\bx"), "éx x", -1), "éx x"), ["x", "x"]);
        assert_eq!(strs(all_matches(&re("[a-c&&b]"), "a&b", -1), "a&b"), ["a", "&", "b"]);
        assert_eq!(re(r"a\<").find("a<").map(|m| m.as_str()), Some("a<"));
        assert_eq!(quote_meta("a.b*c"), r"a\.b\*c");
    }

    #[test]
    fn errors_read_like_go() {
        assert_eq!(
            must_compile("(").unwrap_err(),
            "regexp: Compile(`(`): error parsing regexp: missing closing ): `(`"
        );
        assert_eq!(
            compile("(").unwrap_err(),
            "error parsing regexp: missing closing ): `(`"
        );
    }
}

#[cfg(test)]
mod error_tests {
    use super::*;

    // helm 4.1.4 `mustRegexFind PATTERN ""` error texts.
    #[test]
    fn parse_errors_match_go() {
        for (p, want) in [
            ("a)", "unexpected ): `a)`"),
            ("[a", "missing closing ]: `[a`"),
            ("*a", "missing argument to repetition operator: `*`"),
            (r"\y", r"invalid escape sequence: `\y`"),
            ("a**", "invalid nested repetition operator: `**`"),
            ("x{1001}", "invalid repeat count: `{1001}`"),
            (r"\8", r"invalid escape sequence: `\8`"),
            ("(?z)", "invalid or unsupported Perl syntax: `(?z`"),
            ("(?i-)", "invalid or unsupported Perl syntax: `(?i-)`"),
            ("(?i", "invalid or unsupported Perl syntax: `(?i`"),
            ("(?=x)", "invalid or unsupported Perl syntax: `(?=`"),
            ("(?P<a-b>x)", "invalid named capture: `(?P<a-b>`"),
            ("a|*", "missing argument to repetition operator: `*`"),
        ] {
            assert_eq!(compile(p).unwrap_err(), format!("error parsing regexp: {want}"), "{p}");
        }
    }
}
