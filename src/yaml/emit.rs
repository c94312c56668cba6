//! go-yaml v2's `Marshal` for JSON-shaped data: the `toYaml` output format.
//!
//! Helm's `toYaml` marshals to JSON, decodes that with go-yaml v2 and marshals the result with
//! go-yaml v2, so the input here is a [`Json`] tree. The emitter is a port of the parts of
//! libyaml's `emitterc.go` that such data reaches (block mappings and sequences, `{}`/`[]` for
//! empty ones, the four scalar styles, 80-column folding, simple vs `?` keys); the string style
//! choice follows `encode.go`'s `stringv` and keys are ordered by `sorter.go`'s natural order.

use super::gofloat::{self, Fmt};
use super::json::Json;
use super::resolve::{self, Resolved};

const BEST_INDENT: i32 = 2;
const BEST_WIDTH: usize = 80;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

/// The result of libyaml's `analyze_scalar`.
struct Analysis {
    multiline: bool,
    flow_plain_allowed: bool,
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

fn is_break_char(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// libyaml's `is_printable` (non-BMP characters are not printable, so they get `\U` escapes).
fn is_printable(c: char) -> bool {
    let u = c as u32;
    u == 0x0A
        || (0x20..=0x7E).contains(&u)
        || (0xA0..=0xD7FF).contains(&u)
        || ((0xE000..=0xFFFD).contains(&u) && u != 0xFEFF)
}

fn analyze(value: &str, v3: bool) -> Analysis {
    if value.is_empty() {
        return Analysis {
            multiline: false,
            flow_plain_allowed: false,
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        };
    }
    let mut block_indicators = false;
    let mut flow_indicators = false;
    let mut line_breaks = false;
    let mut special_characters = false;
    let mut tab_characters = false;
    let mut leading_space = false;
    let mut leading_break = false;
    let mut trailing_space = false;
    let mut trailing_break = false;
    let mut break_space = false;
    let mut space_break = false;
    let mut previous_space = false;
    let mut previous_break = false;
    if value.starts_with("---") || value.starts_with("...") {
        block_indicators = true;
        flow_indicators = true;
    }
    let mut preceded_by_whitespace = true;
    // One pass with a look-ahead of one character (no Vec<char> per scalar: this runs for every
    // string `toYaml` writes).
    let mut chars = value.chars().peekable();
    let mut i = 0usize;
    while let Some(c) = chars.next() {
        let last = chars.peek().is_none();
        let followed_by_whitespace = matches!(chars.peek(), None | Some(' ' | '\t'));
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"' | '%' | '@' | '`' => {
                    flow_indicators = true;
                    block_indicators = true;
                }
                '?' | ':' => {
                    flow_indicators = true;
                    if followed_by_whitespace {
                        block_indicators = true;
                    }
                }
                '-' => {
                    if followed_by_whitespace {
                        flow_indicators = true;
                        block_indicators = true;
                    }
                }
                _ => {}
            }
        } else {
            match c {
                ',' | '?' | '[' | ']' | '{' | '}' => flow_indicators = true,
                ':' => {
                    flow_indicators = true;
                    if followed_by_whitespace {
                        block_indicators = true;
                    }
                }
                '#' => {
                    if preceded_by_whitespace {
                        flow_indicators = true;
                        block_indicators = true;
                    }
                }
                _ => {}
            }
        }
        if v3 && c == '\t' {
            // yaml.v3 lets tabs into block scalars but not into plain or single-quoted ones.
            tab_characters = true;
        } else if !is_printable(c) {
            special_characters = true;
        }
        if c == ' ' {
            if i == 0 {
                leading_space = true;
            }
            if last {
                trailing_space = true;
            }
            if previous_break {
                break_space = true;
            }
            previous_space = true;
            previous_break = false;
        } else if is_break_char(c) {
            line_breaks = true;
            if i == 0 {
                leading_break = true;
            }
            if last {
                trailing_break = true;
            }
            if previous_space {
                space_break = true;
            }
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_whitespace = matches!(c, ' ' | '\t' | '\0') || is_break_char(c);
        i += 1;
    }
    let mut a = Analysis {
        multiline: line_breaks,
        flow_plain_allowed: true,
        block_plain_allowed: true,
        single_quoted_allowed: true,
        block_allowed: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.flow_plain_allowed = false;
        a.block_plain_allowed = false;
    }
    if trailing_space {
        a.block_allowed = false;
    }
    if break_space {
        a.flow_plain_allowed = false;
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || tab_characters || special_characters {
        a.flow_plain_allowed = false;
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || special_characters {
        a.block_allowed = false;
    }
    if line_breaks {
        a.flow_plain_allowed = false;
        a.block_plain_allowed = false;
    }
    if flow_indicators {
        a.flow_plain_allowed = false;
    }
    if block_indicators {
        a.block_plain_allowed = false;
    }
    a
}

/// go-yaml's `isBase60Float`: such strings are quoted for YAML 1.1 parsers.
fn is_base60_float(s: &str) -> bool {
    let b = s.as_bytes();
    let Some(&c) = b.first() else { return false };
    if !(c == b'+' || c == b'-' || c.is_ascii_digit()) || !s.contains(':') {
        return false;
    }
    // ^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$
    let mut i = 0;
    if b[0] == b'+' || b[0] == b'-' {
        i = 1;
    }
    if !b.get(i).is_some_and(|c| c.is_ascii_digit()) {
        return false;
    }
    i += 1;
    while b.get(i).is_some_and(|c| c.is_ascii_digit() || *c == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while b.get(i) == Some(&b':') {
        i += 1;
        // [0-5]?[0-9]
        let d1 = b.get(i).copied();
        let d2 = b.get(i + 1).copied();
        match (d1, d2) {
            (Some(x), Some(y)) if (b'0'..=b'5').contains(&x) && y.is_ascii_digit() => i += 2,
            (Some(x), _) if x.is_ascii_digit() => i += 1,
            _ => return false,
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        while b.get(i).is_some_and(|c| c.is_ascii_digit() || *c == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

/// go-yaml's natural key order (`sorter.go`) for string keys.
/// With `v3`, yaml.v3's variant: after a run of equal digits a letter sorts before a non-letter.
/// The order is not transitive for some mixes of digits and letters (`a10`, `a1b2`, `a9`); Go's
/// sort then depends on map iteration order, so helm itself is not deterministic there.
fn natural_less(a: &str, b: &str, v3: bool) -> bool {
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    let is_letter = |c: char| c.is_alphabetic();
    let is_digit = |c: char| c.is_ascii_digit();
    let mut i = 0;
    let mut digits = false;
    while i < ar.len() && i < br.len() {
        if ar[i] == br[i] {
            digits = is_digit(ar[i]);
            i += 1;
            continue;
        }
        let al = is_letter(ar[i]);
        let bl = is_letter(br[i]);
        if al && bl {
            return ar[i] < br[i];
        }
        if al || bl {
            return if v3 && digits { al } else { bl };
        }
        let mut an: i64 = 0;
        let mut bn: i64 = 0;
        if ar[i] == '0' || br[i] == '0' {
            let mut j = i;
            while j > 0 && is_digit(ar[j - 1]) {
                j -= 1;
                if ar[j] != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let mut ai = i;
        while ai < ar.len() && is_digit(ar[ai]) {
            an = an.wrapping_mul(10).wrapping_add(ar[ai] as i64 - '0' as i64);
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && is_digit(br[bi]) {
            bn = bn.wrapping_mul(10).wrapping_add(br[bi] as i64 - '0' as i64);
            bi += 1;
        }
        if an != bn {
            return an < bn;
        }
        if ai != bi {
            return ai < bi;
        }
        return ar[i] < br[i];
    }
    ar.len() < br.len()
}

/// Sorts with `natural_less` without assuming it is a total order (Rust's sort may panic on
/// inconsistent comparators; this never does).
fn natural_sort(pairs: &mut [(String, Json)], v3: bool) {
    for i in 1..pairs.len() {
        let mut j = i;
        while j > 0 && natural_less(&pairs[j].0, &pairs[j - 1].0, v3) {
            pairs.swap(j, j - 1);
            j -= 1;
        }
    }
}

/// A scalar about to be written.
struct Scalar<'a> {
    value: &'a str,
    /// The style `encode.go` asks for.
    style: Style,
}

struct Emitter {
    out: String,
    column: usize,
    indent: i32,
    indents: Vec<i32>,
    whitespace: bool,
    indention: bool,
    flow_level: usize,
    mapping_context: bool,
    simple_key_context: bool,
    /// yaml.v3 (`toYamlPretty`) instead of go-yaml v2.
    v3: bool,
    best_width: usize,
}

impl Emitter {
    fn put(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn put_break(&mut self) {
        self.out.push('\n');
        self.column = 0;
        if self.v3 {
            self.indention = true;
        }
    }

    fn write_break(&mut self, c: char) {
        if c == '\n' {
            self.put_break();
        } else {
            self.out.push(c);
            self.column = 0;
            if self.v3 {
                self.indention = true;
            }
        }
    }

    fn increase_indent(&mut self, flow: bool, indentless: bool) {
        self.indents.push(self.indent);
        if self.indent < 0 {
            self.indent = if flow { BEST_INDENT } else { 0 };
        } else if !indentless {
            self.indent += BEST_INDENT;
        }
    }

    fn pop_indent(&mut self) {
        self.indent = self.indents.pop().unwrap_or(-1);
    }

    fn write_indent(&mut self) {
        let indent = self.indent.max(0) as usize;
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        while self.column < indent {
            self.put(' ');
        }
        self.whitespace = true;
        if !self.v3 {
            self.indention = true;
        }
    }

    fn write_indicator(&mut self, ind: &str, need_whitespace: bool, is_whitespace: bool, is_indention: bool) {
        if need_whitespace && !self.whitespace {
            self.put(' ');
        }
        for c in ind.chars() {
            self.put(c);
        }
        self.whitespace = is_whitespace;
        self.indention = self.indention && is_indention;
    }

    fn emit_node(&mut self, j: &Json, sequence: bool, mapping: bool, simple_key: bool) {
        let _ = sequence;
        self.mapping_context = mapping;
        self.simple_key_context = simple_key;
        match j {
            Json::Null => self.emit_scalar(&Scalar {
                value: "null",
                style: Style::Plain,
            }),
            Json::Bool(b) => self.emit_scalar(&Scalar {
                value: if *b { "true" } else { "false" },
                style: Style::Plain,
            }),
            Json::Num(text) => {
                // go-yaml v2 sees JSON number text and re-resolves it; v3 gets preformatted text.
                let s = if self.v3 { text.clone() } else { number_text(text) };
                self.emit_scalar(&Scalar {
                    value: &s,
                    style: Style::Plain,
                })
            }
            Json::Str(s) => {
                let style = string_style(s);
                self.emit_scalar(&Scalar { value: s, style })
            }
            Json::Arr(items) => {
                if items.is_empty() || self.flow_level > 0 {
                    self.emit_flow_empty("[", "]");
                    return;
                }
                let indentless = !self.v3 && self.mapping_context && !self.indention;
                self.increase_indent(false, indentless);
                for it in items {
                    self.write_indent();
                    self.write_indicator("-", true, false, true);
                    self.emit_node(it, true, false, false);
                }
                self.pop_indent();
            }
            Json::Obj(pairs) => {
                if pairs.is_empty() || self.flow_level > 0 {
                    self.emit_flow_empty("{", "}");
                    return;
                }
                let mut pairs = pairs.clone();
                natural_sort(&mut pairs, self.v3);
                self.increase_indent(false, false);
                for (k, v) in &pairs {
                    self.write_indent();
                    let key = Json::Str(k.clone());
                    if !analyze(k, self.v3).multiline && k.len() <= 128 {
                        self.emit_node(&key, false, true, true);
                        self.write_indicator(":", false, false, false);
                    } else {
                        self.write_indicator("?", true, false, true);
                        self.emit_node(&key, false, true, false);
                        self.write_indent();
                        self.write_indicator(":", true, false, true);
                    }
                    self.emit_node(v, false, true, false);
                }
                self.pop_indent();
            }
        }
    }

    fn emit_flow_empty(&mut self, open: &str, close: &str) {
        self.write_indicator(open, true, true, false);
        self.increase_indent(true, false);
        self.pop_indent();
        self.write_indicator(close, false, false, false);
    }

    fn emit_scalar(&mut self, s: &Scalar) {
        let a = analyze(s.value, self.v3);
        let mut style = s.style;
        if self.simple_key_context && a.multiline {
            style = Style::Double;
        }
        if style == Style::Plain {
            if (self.flow_level > 0 && !a.flow_plain_allowed) || (self.flow_level == 0 && !a.block_plain_allowed) {
                style = Style::Single;
            }
            if s.value.is_empty() && (self.flow_level > 0 || self.simple_key_context) {
                style = Style::Single;
            }
        }
        if style == Style::Single && !a.single_quoted_allowed {
            style = Style::Double;
        }
        if style == Style::Literal && (!a.block_allowed || self.flow_level > 0 || self.simple_key_context) {
            style = Style::Double;
        }
        self.increase_indent(true, false);
        let allow_breaks = !self.simple_key_context;
        match style {
            Style::Plain => self.write_plain(s.value, allow_breaks),
            Style::Single => self.write_single(s.value, allow_breaks),
            Style::Double => self.write_double(s.value, allow_breaks),
            Style::Literal => self.write_literal(s.value),
        }
        self.pop_indent();
    }

    fn write_plain(&mut self, value: &str, allow_breaks: bool) {
        if !(self.whitespace || self.v3 && value.is_empty()) {
            self.put(' ');
        }
        let chars: Vec<char> = value.chars().collect();
        let mut spaces = false;
        let mut breaks = false;
        for i in 0..chars.len() {
            let c = chars[i];
            if c == ' ' {
                if allow_breaks && !spaces && self.column > self.best_width && chars.get(i + 1) != Some(&' ') {
                    self.write_indent();
                } else {
                    self.put(c);
                }
                spaces = true;
            } else if is_break_char(c) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.put(c);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        if !(self.v3 && value.is_empty()) {
            self.whitespace = false;
        }
        self.indention = false;
    }

    fn write_single(&mut self, value: &str, allow_breaks: bool) {
        self.write_indicator("'", true, false, false);
        let chars: Vec<char> = value.chars().collect();
        let n = chars.len();
        let mut spaces = false;
        let mut breaks = false;
        for i in 0..n {
            let c = chars[i];
            if c == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > self.best_width
                    && i > 0
                    && i < n - 1
                    && chars.get(i + 1) != Some(&' ')
                {
                    self.write_indent();
                } else {
                    self.put(c);
                }
                spaces = true;
            } else if is_break_char(c) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                if c == '\'' {
                    self.put('\'');
                }
                self.put(c);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        self.write_indicator("'", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_double(&mut self, value: &str, allow_breaks: bool) {
        let chars: Vec<char> = value.chars().collect();
        let n = chars.len();
        // libyaml's is_bom looks at the start of the string for every position.
        let bom = value.starts_with('\u{feff}');
        let mut spaces = false;
        self.write_indicator("\"", true, false, false);
        for i in 0..n {
            let c = chars[i];
            if !is_printable(c) || bom || is_break_char(c) || c == '"' || c == '\\' {
                self.put('\\');
                let esc = match c {
                    '\0' => Some('0'),
                    '\u{7}' => Some('a'),
                    '\u{8}' => Some('b'),
                    '\t' => Some('t'),
                    '\n' => Some('n'),
                    '\u{b}' => Some('v'),
                    '\u{c}' => Some('f'),
                    '\r' => Some('r'),
                    '\u{1b}' => Some('e'),
                    '"' => Some('"'),
                    '\\' => Some('\\'),
                    '\u{85}' => Some('N'),
                    '\u{a0}' => Some('_'),
                    '\u{2028}' => Some('L'),
                    '\u{2029}' => Some('P'),
                    _ => None,
                };
                match esc {
                    Some(e) => self.put(e),
                    None => {
                        let v = c as u32;
                        let (ind, w) = if v <= 0xFF {
                            ('x', 2)
                        } else if v <= 0xFFFF {
                            ('u', 4)
                        } else {
                            ('U', 8)
                        };
                        self.put(ind);
                        for k in (0..w).rev() {
                            let d = (v >> (k * 4)) & 0xF;
                            self.put(char::from_digit(d, 16).unwrap_or('0').to_ascii_uppercase());
                        }
                    }
                }
                spaces = false;
            } else if c == ' ' {
                if allow_breaks && !spaces && self.column > self.best_width && i > 0 && i < n - 1 {
                    self.write_indent();
                    if chars.get(i + 1) == Some(&' ') {
                        self.put('\\');
                    }
                } else {
                    self.put(c);
                }
                spaces = true;
            } else {
                self.put(c);
                spaces = false;
            }
        }
        self.write_indicator("\"", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_literal(&mut self, value: &str) {
        self.write_indicator("|", true, false, false);
        // Block scalar hints.
        if value.starts_with(' ') || value.starts_with(is_break_char) {
            let hint = char::from_digit(BEST_INDENT as u32, 10).unwrap_or('2').to_string();
            self.write_indicator(&hint, false, false, false);
        }
        let mut rev = value.chars().rev();
        let last = rev.next();
        let chomp = match last {
            None => Some("-"),
            Some(c) if !is_break_char(c) => Some("-"),
            Some(_) => match rev.next() {
                None => Some("+"),
                Some(p) if is_break_char(p) => Some("+"),
                Some(_) => None,
            },
        };
        if let Some(h) = chomp {
            self.write_indicator(h, false, false, false);
        }
        // yaml.v3 3.0.1 left this break out and lost leading empty lines; go.yaml.in 3.0.5
        // (Helm's) writes it like v2.
        self.put_break();
        self.indention = true;
        self.whitespace = true;
        let mut breaks = true;
        for c in value.chars() {
            if is_break_char(c) {
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.put(c);
                self.indention = false;
                breaks = false;
            }
        }
    }
}

/// How go-yaml prints a number that came from JSON text: it re-resolves the text, so integers
/// that fit 64 bits print as integers and the rest through `FormatFloat(f, 'g', -1, 64)`.
fn number_text(text: &str) -> String {
    match resolve::resolve_plain(text) {
        Resolved::Int(i) => i.to_string(),
        Resolved::Uint(u) => u.to_string(),
        Resolved::Float(f) => match gofloat::format64(f, Fmt::G).as_str() {
            "+Inf" => ".inf".into(),
            "-Inf" => "-.inf".into(),
            "NaN" => ".nan".into(),
            s => s.to_string(),
        },
        _ => text.to_string(),
    }
}

/// `encode.go`'s `stringv`: literal for multi-line text, plain when reading it back plain gives
/// the same string, double-quoted otherwise. The emitter may still downgrade plain to quoted.
fn string_style(s: &str) -> Style {
    let can_use_plain = resolve::resolve_plain(s) == Resolved::Str && !is_base60_float(s);
    if s.contains('\n') {
        Style::Literal
    } else if can_use_plain {
        Style::Plain
    } else {
        Style::Double
    }
}

/// What go-yaml's parser makes of a JSON string on the way back in: JSON leaves U+0085 (NEL)
/// unescaped, and in a YAML double-quoted scalar it is a line break that folds, taking the
/// spaces around it (one break becomes a space, n breaks become n-1 newlines).
fn fold_nel(s: &str) -> String {
    if !s.contains('\u{85}') {
        return s.to_string();
    }
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        // A run of spaces followed by a NEL starts a fold.
        let mut j = i;
        while j < chars.len() && chars[j] == ' ' {
            j += 1;
        }
        if j < chars.len() && chars[j] == '\u{85}' {
            let mut breaks = 0;
            while j < chars.len() && (chars[j] == ' ' || chars[j] == '\u{85}') {
                if chars[j] == '\u{85}' {
                    breaks += 1;
                }
                j += 1;
            }
            if breaks == 1 {
                out.push(' ');
            } else {
                for _ in 1..breaks {
                    out.push('\n');
                }
            }
            i = j;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// Characters libyaml's reader rejects ("control characters are not allowed") that
/// encoding/json leaves unescaped: DEL, the C1 controls other than NEL, U+FFFE and U+FFFF.
fn reader_rejects(s: &str) -> bool {
    s.chars().any(|c| {
        let u = c as u32;
        u == 0x7F || ((0x80..=0x9F).contains(&u) && u != 0x85) || u == 0xFFFE || u == 0xFFFF
    })
}

/// Applies [`fold_nel`] to every string and key, as the JSON → go-yaml step of `toYaml` does,
/// and fails where that step fails: on characters the YAML reader rejects, and on a NEL inside a
/// key (a line break in a flow mapping key).
pub fn reparse_json_strings(j: Json) -> Result<Json, String> {
    Ok(match j {
        Json::Str(s) => {
            if reader_rejects(&s) {
                return Err("yaml: control characters are not allowed".into());
            }
            Json::Str(fold_nel(&s))
        }
        Json::Arr(items) => Json::Arr(items.into_iter().map(reparse_json_strings).collect::<Result<_, _>>()?),
        Json::Obj(pairs) => {
            let mut out: Vec<(String, Json)> = Vec::with_capacity(pairs.len());
            for (k, v) in pairs {
                if reader_rejects(&k) {
                    return Err("yaml: control characters are not allowed".into());
                }
                if k.contains('\u{85}') {
                    return Err("yaml: line 1: could not find expected ':'".into());
                }
                let v = reparse_json_strings(v)?;
                // Folding can make two keys equal; the later one wins as in a Go map.
                if let Some(slot) = out.iter_mut().find(|p| p.0 == k) {
                    slot.1 = v;
                } else {
                    out.push((k, v));
                }
            }
            Json::Obj(out)
        }
        other => other,
    })
}

/// go-yaml v2 `Marshal` of a JSON-shaped tree, as a single implicit document.
pub fn marshal(j: &Json) -> String {
    marshal_with(j, false)
}

/// yaml.v3 `Encoder` with `SetIndent(2)`: numbers in `Json::Num` are printed as given.
pub fn marshal_v3(j: &Json) -> String {
    marshal_with(j, true)
}

fn marshal_with(j: &Json, v3: bool) -> String {
    let mut e = Emitter {
        v3,
        best_width: if v3 { usize::MAX } else { BEST_WIDTH },
        out: String::new(),
        column: 0,
        indent: -1,
        indents: Vec::new(),
        whitespace: true,
        indention: true,
        flow_level: 0,
        mapping_context: false,
        simple_key_context: false,
    };
    e.emit_node(j, false, false, false);
    // Document end.
    e.indent = e.indent.max(-1);
    e.write_indent();
    e.out
}

#[cfg(test)]
mod tests {
    use super::*;

    // Order observed in helm's toYaml output (helm-semantics.md §3.2).
    #[test]
    fn natural_order() {
        let mut keys = ["b", "a10", "B", "a9", "_u"]
            .map(|k| (k.to_string(), Json::Null))
            .to_vec();
        natural_sort(&mut keys, false);
        let got: Vec<&str> = keys.iter().map(|k| k.0.as_str()).collect();
        assert_eq!(got, ["_u", "B", "a9", "a10", "b"]);
    }
}
