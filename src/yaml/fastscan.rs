//! A line-based reader for the plain block YAML that rendered manifests are made of, giving the
//! same event stream as granit-parser for the documents it accepts and declining everything else.
//!
//! Why: the planner parses every rendered document once (the head for sorting, the whole value
//! for the diff). On a release of 1,000 objects granit's scanner and parser were more than half
//! of `chartup plan`'s instructions — a general YAML 1.2 parser keeps a token queue, simple-key
//! candidates and spans for every token. Rendered manifests are mostly one narrow shape: block
//! mappings and sequences indented with spaces, single-line plain or quoted scalars, literal block
//! scalars, `{}` and `[]`. This reader handles exactly that shape line by line and answers `None`
//! on anything else — anchors, aliases, tags, flow collections with content, folded or
//! indentation-indicated block scalars, multi-line flow scalars, explicit keys, tabs, `\r`,
//! directives, several documents, and every error — so the caller falls back to granit, which
//! stays the one source of truth for errors and unusual documents.
//!
//! It is checked against granit event by event (`tests::same_events_as_granit`) on every YAML file
//! of the repository, cut at several places, and on hand-written edge cases.

use std::borrow::Cow;

use serde_saphyr::granit_parser::{Event, ScalarStyle, StructureStyle};

/// Nesting deeper than this is left to granit (which has its own limits and errors).
const MAX_DEPTH: usize = 200;
/// libyaml refuses simple keys longer than this; leave them to granit's error path.
const MAX_KEY: usize = 1024;

/// The events of `text` as granit emits them (comments and spans left out), or `None` when the
/// document is not in the plain subset.
pub fn events(text: &str) -> Option<Vec<Event<'_>>> {
    if !clean(text.as_bytes()) {
        return None;
    }
    let mut r = Reader {
        text,
        pos: 0,
        last_line: std::cell::Cell::new((1, 0)),
        events: Vec::with_capacity(text.len() / 8),
    };
    r.events.push(Event::StreamStart);
    // Leading comments, blank lines and at most one `---` marker.
    let mut explicit = false;
    loop {
        let line = r.line();
        match line {
            Line::Blank => r.skip_line(),
            Line::Content { indent: 0, start } if text[start..].starts_with("---") => {
                let rest = r.line_rest(start + 3);
                if explicit || !ends_line(rest) {
                    return None;
                }
                explicit = true;
                r.skip_line();
            }
            Line::Content { indent: 0, start } => {
                r.events.push(Event::DocumentStart(explicit, None));
                r.block_node_at(0, start, 0)?;
                break;
            }
            // An indented root, or an empty document: granit decides.
            Line::Content { .. } | Line::End => return None,
        }
    }
    // Only blank lines and comments may follow the root.
    loop {
        match r.line() {
            Line::Blank => r.skip_line(),
            Line::End => break,
            Line::Content { .. } => return None,
        }
    }
    r.events.push(Event::DocumentEnd);
    r.events.push(Event::StreamEnd);
    Some(r.events)
}

/// No byte this reader would have to treat specially: tabs, `\r`, control characters, and the
/// characters libyaml or granit read as line breaks, byte order marks or non-printable (C1
/// controls incl. NEL, U+2028, U+2029, U+FEFF, U+FFFE, U+FFFF).
fn clean(b: &[u8]) -> bool {
    // Printable ASCII and line breaks, the common case, checked in bulk (no early exit, so the
    // compiler can vectorise it).
    if b.iter()
        .fold(true, |ok, &c| ok & ((0x20..0x7f).contains(&c) | (c == b'\n')))
    {
        return true;
    }
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c < 0x80 {
            if (c < 0x20 && c != b'\n') || c == 0x7f {
                return false;
            }
        } else {
            match c {
                0xc2 if matches!(b.get(i + 1), Some(0x80..=0x9f)) => return false,
                0xe2 if b.get(i + 1) == Some(&0x80) && matches!(b.get(i + 2), Some(0xa8 | 0xa9)) => return false,
                0xef if matches!(
                    (b.get(i + 1), b.get(i + 2)),
                    (Some(0xbb), Some(0xbf)) | (Some(0xbf), Some(0xbe | 0xbf))
                ) =>
                {
                    return false
                }
                _ => {}
            }
        }
        i += 1;
    }
    true
}

/// What the line at the cursor holds.
#[derive(Clone, Copy)]
enum Line {
    /// Nothing but spaces, or a comment.
    Blank,
    /// Content starting at byte `start`, `indent` spaces in.
    Content {
        indent: usize,
        start: usize,
    },
    End,
}

struct Reader<'a> {
    text: &'a str,
    /// The last line end found, `(from, end)`: every position in `from..=end` has that line end.
    /// The reader asks for the end of the same line several times (key, value, next line).
    last_line: std::cell::Cell<(usize, usize)>,
    /// Start of the current line.
    pos: usize,
    events: Vec<Event<'a>>,
}

/// What may follow a token that ends a line's content: nothing, or spaces and a comment.
fn ends_line(tail: &str) -> bool {
    (tail.is_empty() || tail.starts_with(' ')) && blank_or_comment(tail)
}

fn blank_or_comment(rest: &str) -> bool {
    let t = rest.trim_start_matches(' ');
    t.is_empty() || t.starts_with('#')
}

fn plain(s: &str) -> Event<'_> {
    Event::Scalar(Cow::Borrowed(s), ScalarStyle::Plain, 0, None)
}

impl<'a> Reader<'a> {
    fn line_end(&self, from: usize) -> usize {
        let (lo, end) = self.last_line.get();
        // No line break in lo..end, so the first one at or after `from` is still `end`.
        if lo <= from && from <= end {
            return end;
        }
        let end = match memchr(b'\n', &self.text.as_bytes()[from..]) {
            Some(i) => from + i,
            None => self.text.len(),
        };
        self.last_line.set((from, end));
        end
    }

    /// The text from `from` to the end of its line.
    fn line_rest(&self, from: usize) -> &'a str {
        &self.text[from..self.line_end(from)]
    }

    fn skip_line(&mut self) {
        let end = self.line_end(self.pos);
        self.pos = (end + 1).min(self.text.len());
        if end == self.text.len() {
            self.pos = self.text.len();
        }
    }

    /// Classifies the line at the cursor. A `#` as first non-space character is a comment.
    fn line(&self) -> Line {
        if self.pos >= self.text.len() {
            return Line::End;
        }
        let b = self.text.as_bytes();
        let mut i = self.pos;
        while i < b.len() && b[i] == b' ' {
            i += 1;
        }
        if i >= b.len() || b[i] == b'\n' || b[i] == b'#' {
            return Line::Blank;
        }
        Line::Content {
            indent: i - self.pos,
            start: i,
        }
    }

    /// The next line holding content (blank lines and comments skipped), without moving past it.
    fn next_content(&mut self) -> Line {
        loop {
            match self.line() {
                Line::Blank => self.skip_line(),
                l => return l,
            }
        }
    }

    /// A block collection whose first line starts at `start`, `col` columns in (a mapping or a
    /// sequence; a lone scalar on its own line is left to granit).
    fn block_node_at(&mut self, col: usize, start: usize, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        if is_dash(self.line_rest(start)) {
            self.sequence(col, depth)
        } else {
            self.mapping(col, start, depth)
        }
    }

    /// A block mapping whose keys sit at column `col`; the first key starts at byte `start` (which
    /// may be inside a line, after `- `), the others at the start of later lines.
    fn mapping(&mut self, col: usize, mut start: usize, depth: usize) -> Option<()> {
        self.events.push(Event::MappingStart(StructureStyle::Block, 0, None));
        loop {
            let rest = self.line_rest(start);
            let (key, after) = key(rest)?;
            self.events.push(key);
            let value_at = start + after;
            let value = self.line_rest(value_at).trim_start_matches(' ');
            let value_at = self.line_end(value_at) - value.len();
            if blank_or_comment(value) {
                // The value is on the following lines: a deeper collection, a sequence at the
                // key's own column, or nothing (null).
                self.skip_line();
                match self.next_content() {
                    Line::Content { indent, start } if indent > col => self.block_node_at(indent, start, depth + 1)?,
                    Line::Content { indent, start } if indent == col && is_dash(self.line_rest(start)) => {
                        self.sequence(col, depth + 1)?
                    }
                    _ => self.events.push(plain("")),
                }
            } else {
                self.inline_value(value_at, col, depth + 1)?;
            }
            match self.next_content() {
                Line::Content { indent, start: s } if indent == col => {
                    if is_dash(self.line_rest(s)) {
                        // A sequence entry at the keys' column after a complete value: granit decides.
                        return None;
                    }
                    start = s;
                }
                Line::Content { indent, .. } if indent > col => return None,
                _ => break,
            }
        }
        self.events.push(Event::MappingEnd);
        Some(())
    }

    /// A block sequence whose dashes sit at column `col`; the cursor is on the first entry's line.
    fn sequence(&mut self, col: usize, depth: usize) -> Option<()> {
        self.events.push(Event::SequenceStart(StructureStyle::Block, 0, None));
        loop {
            let Line::Content { indent, start } = self.next_content() else {
                break;
            };
            if indent != col || !is_dash(self.line_rest(start)) {
                if indent > col {
                    return None;
                }
                break;
            }
            let after_dash = self.line_rest(start + 1);
            let item = after_dash.trim_start_matches(' ');
            let item_at = start + 1 + (after_dash.len() - item.len());
            if blank_or_comment(item) {
                self.skip_line();
                match self.next_content() {
                    Line::Content { indent, start } if indent > col => self.block_node_at(indent, start, depth + 1)?,
                    _ => self.events.push(plain("")),
                }
            } else if is_dash(item) {
                // `- - x`: granit decides.
                return None;
            } else if key(item).is_some() {
                // `- key: value`: a mapping whose keys sit at the column of this first key.
                self.mapping(col + (item_at - start), item_at, depth + 1)?;
            } else {
                self.inline_value(item_at, col, depth + 1)?;
            }
        }
        self.events.push(Event::SequenceEnd);
        Some(())
    }

    /// A value that starts on the current line at byte `at` (not blank, not a comment); `col` is
    /// the column of the key or dash it belongs to. Leaves the cursor on the next line.
    fn inline_value(&mut self, at: usize, col: usize, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        let rest = self.line_rest(at);
        let b = rest.as_bytes();
        match b[0] {
            b'"' | b'\'' => {
                let (v, used, style) = if b[0] == b'"' {
                    let (v, used) = double_quoted(rest)?;
                    (v, used, ScalarStyle::DoubleQuoted)
                } else {
                    let (v, used) = single_quoted(rest)?;
                    (v, used, ScalarStyle::SingleQuoted)
                };
                if !ends_line(&rest[used..]) {
                    return None;
                }
                self.events.push(Event::Scalar(v, style, 0, None));
                self.skip_line();
            }
            b'|' => {
                let header = &rest[1..];
                let (chomp, tail) = match header.as_bytes().first() {
                    Some(b'-') => (Chomp::Strip, &header[1..]),
                    Some(b'+') => (Chomp::Keep, &header[1..]),
                    _ => (Chomp::Clip, header),
                };
                if !ends_line(tail) {
                    return None;
                }
                self.skip_line();
                let v = self.literal(col, chomp)?;
                self.events.push(Event::Scalar(v, ScalarStyle::Literal, 0, None));
            }
            b'{' | b'[' => {
                let used = flow(rest, &mut self.events)?;
                if !ends_line(&rest[used..]) {
                    return None;
                }
                self.skip_line();
            }
            _ => {
                let v = plain_scalar(rest)?;
                self.events.push(plain(v));
                self.skip_line();
            }
        }
        Some(())
    }

    /// A literal block scalar's content, the cursor on its first line; `col` is the column of its
    /// key or dash (content must be indented more). Leaves the cursor on the first line after it.
    fn literal(&mut self, col: usize, chomp: Chomp) -> Option<Cow<'a, str>> {
        let b = self.text.as_bytes();
        // Find the content indentation: the first line with a non-space character.
        let mut p = self.pos;
        let mut max_blank = 0;
        let indent = loop {
            if p >= b.len() {
                // Only blank lines to the end: an empty scalar (granit decides the details).
                return None;
            }
            let end = self.line_end(p);
            let spaces = b[p..end].iter().take_while(|&&c| c == b' ').count();
            if p + spaces == end {
                max_blank = max_blank.max(spaces);
                p = end + 1;
                continue;
            }
            break spaces;
        };
        if indent <= col || max_blank > indent {
            return None;
        }
        let mut out = String::new();
        // Blank lines (with their line break) since the last content line, and whether a content
        // line was seen (granit counts the end of the text as the last line's break).
        let mut breaks = 0usize;
        let mut seen = false;
        while self.pos < b.len() {
            let end = self.line_end(self.pos);
            let has_break = end < b.len();
            let line = &self.text[self.pos..end];
            let spaces = line.bytes().take_while(|&c| c == b' ').count();
            if spaces == line.len() {
                // A blank line; with more spaces than the indentation it would hold content.
                if spaces > indent {
                    return None;
                }
                breaks += usize::from(has_break);
            } else if spaces < indent {
                break;
            } else {
                if seen {
                    out.push('\n');
                }
                for _ in 0..breaks {
                    out.push('\n');
                }
                breaks = 0;
                seen = true;
                out.push_str(&line[indent..]);
            }
            self.pos = if has_break { end + 1 } else { b.len() };
        }
        // `out` ends without the last content line's break; chomping decides what follows.
        match chomp {
            Chomp::Strip => {}
            Chomp::Clip => {
                if seen {
                    out.push('\n');
                }
            }
            Chomp::Keep => {
                for _ in 0..breaks + usize::from(seen) {
                    out.push('\n');
                }
            }
        }
        Some(Cow::Owned(out))
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Chomp {
    Strip,
    Clip,
    Keep,
}

/// A flow sequence of scalars or a flow mapping of scalar pairs, closed on this line
/// (`["a", b]`, `{}`, `{a: "b"}`); pushes its events and returns the bytes it used. Nested
/// collections, multi-line flows, empty entries and plain scalars with `:` are left to granit.
fn flow<'a>(rest: &'a str, events: &mut Vec<Event<'a>>) -> Option<usize> {
    let b = rest.as_bytes();
    let map = b[0] == b'{';
    let close = if map { b'}' } else { b']' };
    events.push(if map {
        Event::MappingStart(StructureStyle::Flow, 0, None)
    } else {
        Event::SequenceStart(StructureStyle::Flow, 0, None)
    });
    let skip = |mut i: usize| {
        while b.get(i) == Some(&b' ') {
            i += 1;
        }
        i
    };
    let mut i = skip(1);
    if b.get(i) != Some(&close) {
        loop {
            let (ev, next) = flow_scalar(rest, i, map)?;
            events.push(ev);
            i = skip(next);
            if map {
                // `key: value`, the `:` right after the key and followed by a space.
                if b.get(i) != Some(&b':') || i != next || b.get(i + 1) != Some(&b' ') {
                    return None;
                }
                let (ev, next) = flow_scalar(rest, skip(i + 1), false)?;
                events.push(ev);
                i = skip(next);
            }
            match b.get(i)? {
                b',' => {
                    i = skip(i + 1);
                    if b.get(i) == Some(&close) {
                        // A trailing comma: granit decides.
                        return None;
                    }
                }
                c if *c == close => break,
                _ => return None,
            }
        }
    }
    events.push(if map { Event::MappingEnd } else { Event::SequenceEnd });
    Some(i + 1)
}

/// One scalar inside a flow collection starting at byte `i` (a mapping's key when `key`), and
/// the byte after it.
fn flow_scalar(rest: &str, i: usize, key: bool) -> Option<(Event<'_>, usize)> {
    let s = &rest[i..];
    match s.as_bytes().first()? {
        b'"' => {
            let (v, used) = double_quoted(s)?;
            Some((Event::Scalar(v, ScalarStyle::DoubleQuoted, 0, None), i + used))
        }
        b'\'' => {
            let (v, used) = single_quoted(s)?;
            Some((Event::Scalar(v, ScalarStyle::SingleQuoted, 0, None), i + used))
        }
        c if starts_plain_badly(*c) => None,
        _ => {
            let end = s
                .bytes()
                .position(|c| matches!(c, b',' | b']' | b'}' | b'[' | b'{' | b':' | b'#'))
                .unwrap_or(s.len());
            match s.as_bytes().get(end) {
                Some(b':') if key => {}
                None | Some(b'[' | b'{' | b':' | b'#') => return None,
                _ => {}
            }
            let v = s[..end].trim_end_matches(' ');
            if v.is_empty() {
                return None;
            }
            Some((plain(v), i + v.len()))
        }
    }
}

fn is_dash(rest: &str) -> bool {
    let b = rest.as_bytes();
    b.first() == Some(&b'-') && (b.len() == 1 || b[1] == b' ')
}

/// A simple key at the start of `rest` and the byte offset just after its `:`; `None` when `rest`
/// does not start with a key this reader handles.
fn key(rest: &str) -> Option<(Event<'_>, usize)> {
    let b = rest.as_bytes();
    let (ev, end) = match b.first()? {
        b'"' => {
            let (v, used) = double_quoted(rest)?;
            (Event::Scalar(v, ScalarStyle::DoubleQuoted, 0, None), used)
        }
        b'\'' => {
            let (v, used) = single_quoted(rest)?;
            (Event::Scalar(v, ScalarStyle::SingleQuoted, 0, None), used)
        }
        c if starts_plain_badly(*c) => return None,
        _ => {
            // One pass: the first `:` followed by a space or the end of the line ends the key;
            // a comment (` #`) or a flow indicator before it leaves the line to granit.
            let mut colon = None;
            for (j, &c) in b.iter().enumerate() {
                match c {
                    b':' if j + 1 == b.len() || b[j + 1] == b' ' => {
                        colon = Some(j);
                        break;
                    }
                    b'#' if b[j - 1] == b' ' => return None,
                    b',' | b'[' | b']' | b'{' | b'}' => return None,
                    _ => {}
                }
            }
            let colon = colon?;
            if colon == 0 || b[colon - 1] == b' ' {
                return None;
            }
            (plain(&rest[..colon]), colon)
        }
    };
    if end > MAX_KEY || b.get(end) != Some(&b':') || !(end + 1 == b.len() || b[end + 1] == b' ') {
        return None;
    }
    Some((ev, end + 1))
}

/// First characters of plain scalars this reader leaves to granit: indicators, and `-`, `?`, `:`
/// (which start plain scalars only in some contexts).
fn starts_plain_badly(c: u8) -> bool {
    matches!(
        c,
        b'-' | b'?'
            | b':'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
    )
}

/// A single-line plain scalar value running to the end of `rest` (or to a ` #` comment).
fn plain_scalar(rest: &str) -> Option<&str> {
    let b = rest.as_bytes();
    if starts_plain_badly(b[0]) {
        // Plain scalars like `-1` or `-foo` are common enough to keep: a `-` not followed by a space.
        if !(b[0] == b'-' && b.len() > 1 && b[1] != b' ') {
            return None;
        }
    }
    // One pass: a ` #` starts a comment; a `: ` inside (or a `:` at the end) would make a key,
    // an error here: granit decides.
    let mut end = b.len();
    for (j, &c) in b.iter().enumerate() {
        match c {
            b'#' if j > 0 && b[j - 1] == b' ' => {
                end = j;
                break;
            }
            b':' if j + 1 == b.len() || b[j + 1] == b' ' => return None,
            _ => {}
        }
    }
    let v = rest[..end].trim_end_matches(' ');
    if v.ends_with(':') {
        return None;
    }
    Some(v)
}

/// A single-quoted scalar closed on this line: its value and the bytes it used.
fn single_quoted(rest: &str) -> Option<(Cow<'_, str>, usize)> {
    let b = rest.as_bytes();
    let mut i = 1;
    let mut owned: Option<String> = None;
    let mut from = 1;
    loop {
        let j = i + memchr(b'\'', &b[i..])?;
        if b.get(j + 1) == Some(&b'\'') {
            owned.get_or_insert_with(String::new).push_str(&rest[from..=j]);
            i = j + 2;
            from = i;
            continue;
        }
        let v = match owned {
            Some(mut s) => {
                s.push_str(&rest[from..j]);
                Cow::Owned(s)
            }
            None => Cow::Borrowed(&rest[1..j]),
        };
        return Some((v, j + 1));
    }
}

/// A double-quoted scalar closed on this line: its value and the bytes it used.
fn double_quoted(rest: &str) -> Option<(Cow<'_, str>, usize)> {
    let b = rest.as_bytes();
    let mut i = 1;
    let mut out: Option<String> = None;
    let mut from = 1;
    loop {
        let j = i + b[i..].iter().position(|&c| c == b'"' || c == b'\\')?;
        if b[j] == b'"' {
            let v = match out {
                Some(mut s) => {
                    s.push_str(&rest[from..j]);
                    Cow::Owned(s)
                }
                None => Cow::Borrowed(&rest[1..j]),
            };
            return Some((v, j + 1));
        }
        let s = out.get_or_insert_with(String::new);
        s.push_str(&rest[from..j]);
        let e = *b.get(j + 1)?;
        let mut next = j + 2;
        let c = match e {
            b'0' => '\0',
            b'a' => '\x07',
            b'b' => '\x08',
            b't' => '\t',
            b'n' => '\n',
            b'v' => '\x0b',
            b'f' => '\x0c',
            b'r' => '\r',
            b'e' => '\x1b',
            b' ' => ' ',
            b'"' => '"',
            b'/' => '/',
            b'\\' => '\\',
            b'N' => '\u{85}',
            b'_' => '\u{a0}',
            b'L' => '\u{2028}',
            b'P' => '\u{2029}',
            b'x' | b'u' | b'U' => {
                let n = match e {
                    b'x' => 2,
                    b'u' => 4,
                    _ => 8,
                };
                let hex = rest.get(j + 2..j + 2 + n)?;
                if !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
                    return None;
                }
                next = j + 2 + n;
                char::from_u32(u32::from_str_radix(hex, 16).ok()?)?
            }
            _ => return None,
        };
        s.push(c);
        i = next;
        from = next;
    }
}

fn memchr(needle: u8, hay: &[u8]) -> Option<usize> {
    memchr::memchr(needle, hay)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_saphyr::granit_parser::Parser;

    /// granit's events without comments and anchors-metadata, with the empty plain scalar as ""
    /// (what `load.rs`'s Builder makes of it); `None` on an error.
    fn granit(text: &str) -> Option<Vec<Event<'_>>> {
        let mut p = Parser::new_from_str(text);
        let mut out = vec![];
        loop {
            match p.next_event() {
                None => return Some(out),
                Some(Err(_)) => return None,
                Some(Ok((ev, span))) => match ev {
                    Event::Comment(..) => {}
                    Event::Scalar(v, ScalarStyle::Plain, a, t)
                        if span.start.index() == span.end.index() && v == "~" =>
                    {
                        out.push(Event::Scalar(Cow::Borrowed(""), ScalarStyle::Plain, a, t))
                    }
                    ev => out.push(ev),
                },
            }
        }
    }

    /// Both readers agree wherever the fast one answers; returns whether it answered.
    fn agree(text: &str) -> bool {
        match events(text) {
            None => false,
            Some(fast) => {
                let slow = granit(text);
                assert_eq!(Some(fast), slow, "for {text:?}");
                true
            }
        }
    }

    #[test]
    fn handles_the_common_shapes() {
        let cases = [
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  labels:\n    app: x\ndata:\n  k: v\n",
            "# Source: x/templates/a.yaml\napiVersion: v1\nkind: A\n",
            "---\n# Source: x\napiVersion: v1\n",
            "a:\n- x\n- y\nb: 1\n",
            "a:\n  - name: x\n    image: \"y:1\"\n    args: []\n    env: {}\n  - name: z\nb: ~\n",
            "a: |\n  line 1\n\n  line 3\nb: 2\n",
            "a: |-\n  line 1\n  line 2\n\n\nb: 2\n",
            "a: |+\n  line 1\n\n\nb: 2\n",
            "a: |\n  text\n",
            "a: |-\n  text\n\n",
            "a: |+\n  text\n\n",
            "a: |\n  text",
            "a: |+\n  text\n\n  ",
            "a: |-\n  text\n ",
            "a:\n  b: |\n    x\n\n    y",
            "a: 'it''s'\nb: \"q\\\"\\n\\u00e9\\x41\\\\\"\nc: \"\"\nd: ''\n",
            "a: 1 # comment\nb: x#y\nc: -1\nd: -foo\ne: http://x:80/y\n",
            "a:\nb:\n  c:\n",
            "- a\n-\n- b\n",
            "-\n  a: 1\n- b: 2\n  c: 3\n",
            "a:   spaced   \nb:    \"q\"   # c\n",
            "'quoted key': 1\n\"dq\": 2\n",
            "a: \"unicode é ü 漢\"\nb: 漢字\n",
            "a:\n  b:\n  - c:\n    - d\n    e: f\n",
            "a: [1, 2]\nb: [ \"x\", 'y' ]  # c\nc: {d: 1, \"e\": 'f'}\nd: [\"a,b\", \"c]\"]\n",
            "- [a, b]\n- {}\n- []\n- {a: b}\n",
            "a: |\n  # not a comment\n  x\n# a comment\nb: 1\n",
        ];
        for c in cases {
            assert!(agree(c), "declined {c:?}");
        }
    }

    #[test]
    fn declines_what_it_does_not_handle() {
        let cases = [
            "a: &x 1\nb: *x\n",
            "a: |\n    indented\n  less\nb: 1\n",
            "a: !!str 1\n",
            "a: [1, [2]]\n",
            "a: {b: {c: 1}}\n",
            "a: [1, 2,]\n",
            "a: [1,\n  2]\n",
            "a: [a:b]\n",
            "a: {b:c}\n",
            "a: >\n  folded\n",
            "a: |2\n  x\n",
            "a: \"multi\n  line\"\n",
            "a: plain\n  continued\n",
            "? a\n: 1\n",
            "a:\tb\n",
            "a: b\r\n",
            "%YAML 1.1\n---\na: 1\n",
            "a: 1\n---\nb: 2\n",
            "a: 1\n...\n",
            "  a: 1\n",
            "just a scalar\n",
            "",
            "# only a comment\n",
            "a: b: c\n",
            "a: 1\n  b: 2\n",
            "a: |\n\n\n",
            "a:\n  text on its own line\n",
        ];
        for c in cases {
            assert!(events(c).is_none(), "accepted {c:?}");
        }
    }

    #[test]
    fn same_events_as_granit() {
        let (mut docs, mut taken) = (0, 0);
        for doc in crate::testutil::yaml_documents(&["charts", "tests", "matrices"]) {
            let doc = doc.as_str();
            docs += 1;
            if agree(doc) {
                taken += 1;
            }
            // Rendered documents reach the reader trimmed (render::output::split_manifests).
            agree(doc.trim());
            // Cut short anywhere: half-written lines, unclosed quotes and blocks.
            let mut cut = 1;
            while cut < doc.len() {
                if doc.is_char_boundary(cut) {
                    agree(&doc[..cut]);
                }
                cut += 1 + cut / 7;
            }
        }
        assert!(docs > 300, "only {docs} documents found");
        assert!(taken > 0);
    }

    /// Every document the example charts and the parity fixtures render, as the sorter reads
    /// them: (where it came from, text).
    fn rendered_documents() -> Vec<(String, String)> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut charts = vec![];
        for dir in ["charts", "tests/parity/charts"] {
            for e in std::fs::read_dir(root.join(dir)).unwrap().flatten() {
                let p = e.path();
                if p.join("Chart.yaml").exists() {
                    charts.push(p);
                } else if p.is_dir() {
                    let versions = std::fs::read_dir(&p).unwrap().flatten().map(|v| v.path());
                    charts.extend(versions.filter(|v| v.join("Chart.yaml").exists()));
                }
            }
        }
        let mut out = vec![];
        for chart in &charts {
            let job = crate::render::chart::TemplateJob {
                chart_path: chart.clone(),
                values: Default::default(),
                render: Default::default(),
                skip_schema_validation: true,
                include_crds: false,
                name_check: None,
            };
            let Ok((rendered, _)) = crate::render::chart::render_chart(&job) else {
                continue;
            };
            for m in rendered.manifests.into_iter().chain(rendered.hooks) {
                out.push((format!("{}: {}", chart.display(), m.source), m.content));
            }
        }
        out
    }

    /// The fast path must be the common path on rendered charts, or it is not worth having.
    #[test]
    fn takes_rendered_documents() {
        let docs = rendered_documents();
        let declined: Vec<&String> = docs.iter().filter(|(_, d)| !agree(d)).map(|(w, _)| w).collect();
        assert!(docs.len() > 200, "only {} rendered documents", docs.len());
        assert!(
            declined.len() * 20 <= docs.len(),
            "{} of {} rendered documents declined: {declined:#?}",
            declined.len(),
            docs.len()
        );
    }

    /// Rendered documents with small random edits (the characters YAML's structure hangs on,
    /// inserted, deleted or replaced) — the near misses where a line-based reader could go wrong.
    #[test]
    fn agrees_on_mutated_documents() {
        let docs = rendered_documents();
        let chars = [
            ":", " ", "-", "\"", "'", "|", "|-", ">", "#", "\n", "[", "]", "{", "}", ",", "  ", "\\", "&", "*", "!",
            "?",
        ];
        // A fixed xorshift sequence: the same cases on every run.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut rand = |n: usize| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % n as u64) as usize
        };
        let (mut tried, mut taken) = (0, 0);
        for (_, doc) in &docs {
            for _ in 0..40 {
                let mut at = rand(doc.len() + 1);
                while !doc.is_char_boundary(at) {
                    at -= 1;
                }
                let mut end = (at + rand(3)).min(doc.len());
                while !doc.is_char_boundary(end) {
                    end -= 1;
                }
                let with = if rand(3) == 0 { "" } else { chars[rand(chars.len())] };
                let text = format!("{}{}{}", &doc[..at], with, &doc[end..]);
                tried += 1;
                if agree(&text) {
                    taken += 1;
                }
            }
        }
        assert!(
            tried > 5000 && taken > tried / 4,
            "{taken} of {tried} mutated documents taken"
        );
    }
}
