//! The lexer of Go's `text/template` (`text/template/parse/lex.go`, Go 1.25).
//!
//! It follows Go's state machine closely because parse error messages and their line numbers are
//! part of the output contract (`template: x.yaml:3: unexpected "}" in operand`), and trim markers
//! (`{{- `, ` -}}`), comments and multi-line actions have subtle edge cases that charts hit.
//! Unlike Go it scans the whole input eagerly into a vector; the parser then reads tokens with the
//! same look-ahead discipline as Go's, which keeps error line numbers identical.

/// Token types, in Go's order (keywords after `Keyword`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ItemType {
    Error,
    Bool,
    Char,
    CharConstant,
    Comment,
    Complex,
    Assign,
    Declare,
    Eof,
    Field,
    Identifier,
    LeftDelim,
    LeftParen,
    Number,
    Pipe,
    RawString,
    RightDelim,
    RightParen,
    Space,
    String,
    Text,
    Variable,
    Keyword,
    Block,
    Break,
    Continue,
    Dot,
    Define,
    Else,
    End,
    If,
    Nil,
    Range,
    Template,
    With,
}

/// One token: its type, byte position, text (or error message) and starting line.
#[derive(Clone, Debug)]
pub struct Item {
    pub typ: ItemType,
    pub pos: usize,
    pub val: std::rc::Rc<str>,
    pub line: usize,
}

impl std::fmt::Display for Item {
    /// Go's `item.String()`, used in "unexpected X in Y" messages.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.typ {
            ItemType::Eof => write!(f, "EOF"),
            ItemType::Error => write!(f, "{}", self.val),
            t if t > ItemType::Keyword => write!(f, "<{}>", self.val),
            _ => {
                if self.val.len() > 10 {
                    write!(
                        f,
                        "{}",
                        super::go_fmt::sprintf("%.10q...", &[crate::value::Value::str(&self.val)])
                    )
                } else {
                    write!(f, "{}", super::go_fmt::quote(&self.val))
                }
            }
        }
    }
}

fn keyword(word: &str) -> Option<ItemType> {
    Some(match word {
        "." => ItemType::Dot,
        "block" => ItemType::Block,
        "break" => ItemType::Break,
        "continue" => ItemType::Continue,
        "define" => ItemType::Define,
        "else" => ItemType::Else,
        "end" => ItemType::End,
        "if" => ItemType::If,
        "range" => ItemType::Range,
        "nil" => ItemType::Nil,
        "template" => ItemType::Template,
        "with" => ItemType::With,
        _ => return None,
    })
}

const LEFT_DELIM: &str = "{{";
const RIGHT_DELIM: &str = "}}";
const LEFT_COMMENT: &str = "/*";
const RIGHT_COMMENT: &str = "*/";
const TRIM_MARKER_LEN: usize = 2;

#[derive(Clone, Copy)]
enum State {
    Text,
    LeftDelim,
    Comment,
    RightDelim,
    InsideAction,
    Space,
    Identifier,
    Field,
    Variable,
    Char,
    Number,
    Quote,
    RawQuote,
}

struct Lexer<'a> {
    input: &'a str,
    pos: usize,
    start: usize,
    width: usize,
    items: Vec<Item>,
    paren_depth: i32,
    line: usize,
    start_line: usize,
    inside_action: bool,
    done: bool,
}

const EOF: char = '\u{0}';

fn is_space(r: char) -> bool {
    r == ' ' || r == '\t' || r == '\r' || r == '\n'
}

fn is_alnum(r: char) -> bool {
    r == '_' || r.is_alphabetic() || is_unicode_digit(r)
}

/// Go's `unicode.IsDigit` is category Nd; Rust's `is_numeric` also takes Nl/No. Close enough
/// outside ASCII, exact inside it.
fn is_unicode_digit(r: char) -> bool {
    r.is_ascii_digit() || (!r.is_ascii() && r.is_numeric())
}

fn has_left_trim_marker(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && b[0] == b'-' && is_space(b[1] as char)
}

fn has_right_trim_marker(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && is_space(b[0] as char) && b[1] == b'-'
}

fn right_trim_length(s: &str) -> usize {
    s.len() - s.trim_end_matches([' ', '\t', '\r', '\n']).len()
}

fn left_trim_length(s: &str) -> usize {
    s.len() - s.trim_start_matches([' ', '\t', '\r', '\n']).len()
}

impl<'a> Lexer<'a> {
    /// The next rune, or `EOF` (`\0` is not a valid template character inside actions anyway;
    /// `at_eof` distinguishes).
    fn next(&mut self) -> Option<char> {
        if self.pos >= self.input.len() {
            self.width = 0;
            return None;
        }
        let r = self.input[self.pos..].chars().next()?;
        self.width = r.len_utf8();
        self.pos += self.width;
        if r == '\n' {
            self.line += 1;
        }
        Some(r)
    }

    fn peek(&mut self) -> Option<char> {
        let r = self.next();
        self.backup();
        r
    }

    fn backup(&mut self) {
        if self.width > 0 {
            self.pos -= self.width;
            if self.width == 1 && self.input.as_bytes()[self.pos] == b'\n' {
                self.line -= 1;
            }
        }
    }

    fn this_item(&mut self, t: ItemType) -> Item {
        let i = Item {
            typ: t,
            pos: self.start,
            val: std::rc::Rc::from(&self.input[self.start..self.pos]),
            line: self.start_line,
        };
        self.start = self.pos;
        self.start_line = self.line;
        i
    }

    fn emit(&mut self, t: ItemType) {
        let i = self.this_item(t);
        self.items.push(i);
    }

    fn ignore(&mut self) {
        self.line += self.input[self.start..self.pos].matches('\n').count();
        self.start = self.pos;
        self.start_line = self.line;
    }

    fn accept(&mut self, valid: &str) -> bool {
        match self.next() {
            Some(c) if valid.contains(c) => true,
            _ => {
                self.backup();
                false
            }
        }
    }

    fn accept_run(&mut self, valid: &str) {
        loop {
            match self.next() {
                Some(c) if valid.contains(c) => {}
                _ => break,
            }
        }
        self.backup();
    }

    fn errorf(&mut self, msg: String) -> Option<State> {
        self.items.push(Item {
            typ: ItemType::Error,
            pos: self.start,
            val: std::rc::Rc::from(msg.as_str()),
            line: self.start_line,
        });
        self.done = true;
        None
    }

    fn at_right_delim(&self) -> (bool, bool) {
        let rest = &self.input[self.pos..];
        if has_right_trim_marker(rest) && rest[TRIM_MARKER_LEN..].starts_with(RIGHT_DELIM) {
            return (true, true);
        }
        if rest.starts_with(RIGHT_DELIM) {
            return (true, false);
        }
        (false, false)
    }

    fn at_terminator(&mut self) -> bool {
        match self.peek() {
            None => true,
            Some(r) if is_space(r) || matches!(r, '.' | ',' | '|' | ':' | ')' | '(') => true,
            // Only a whole right delimiter ends an identifier: `.a}` is a bad character.
            Some(_) => self.input[self.pos..].starts_with(RIGHT_DELIM),
        }
    }

    fn run(&mut self) {
        let mut state = Some(State::Text);
        while let Some(s) = state {
            if self.done {
                break;
            }
            state = match s {
                State::Text => self.lex_text(),
                State::LeftDelim => self.lex_left_delim(),
                State::Comment => self.lex_comment(),
                State::RightDelim => self.lex_right_delim(),
                State::InsideAction => self.lex_inside_action(),
                State::Space => self.lex_space(),
                State::Identifier => self.lex_identifier(),
                State::Field => self.lex_field_or_variable(ItemType::Field),
                State::Variable => self.lex_variable(),
                State::Char => self.lex_char(),
                State::Number => self.lex_number(),
                State::Quote => self.lex_quote(),
                State::RawQuote => self.lex_raw_quote(),
            };
        }
    }

    fn lex_text(&mut self) -> Option<State> {
        self.width = 0;
        if let Some(x) = self.input[self.pos..].find(LEFT_DELIM) {
            if x > 0 {
                self.pos += x;
                let mut trim_length = 0;
                let delim_end = self.pos + LEFT_DELIM.len();
                if has_left_trim_marker(&self.input[delim_end..]) {
                    trim_length = right_trim_length(&self.input[self.start..self.pos]);
                }
                self.pos -= trim_length;
                self.line += self.input[self.start..self.pos].matches('\n').count();
                let i = self.this_item(ItemType::Text);
                self.pos += trim_length;
                self.ignore();
                if !i.val.is_empty() {
                    self.items.push(i);
                }
            }
            return Some(State::LeftDelim);
        }
        self.pos = self.input.len();
        if self.pos > self.start {
            self.line += self.input[self.start..self.pos].matches('\n').count();
            self.emit(ItemType::Text);
        }
        self.emit(ItemType::Eof);
        None
    }

    fn lex_left_delim(&mut self) -> Option<State> {
        self.pos += LEFT_DELIM.len();
        let trim_space = has_left_trim_marker(&self.input[self.pos..]);
        let after_marker = if trim_space { TRIM_MARKER_LEN } else { 0 };
        if self.input[self.pos + after_marker..].starts_with(LEFT_COMMENT) {
            self.pos += after_marker;
            self.ignore();
            return Some(State::Comment);
        }
        let i = self.this_item(ItemType::LeftDelim);
        self.inside_action = true;
        self.pos += after_marker;
        self.ignore();
        self.paren_depth = 0;
        self.items.push(i);
        Some(State::InsideAction)
    }

    fn lex_comment(&mut self) -> Option<State> {
        self.pos += LEFT_COMMENT.len();
        let x = match self.input[self.pos..].find(RIGHT_COMMENT) {
            Some(x) => x,
            None => return self.errorf("unclosed comment".into()),
        };
        self.pos += x + RIGHT_COMMENT.len();
        let (delim, trim_space) = self.at_right_delim();
        if !delim {
            return self.errorf("comment ends before closing delimiter".into());
        }
        // Comments are not emitted (Go emits them only with the ParseComments mode).
        self.line += self.input[self.start..self.pos].matches('\n').count();
        self.start = self.pos;
        self.start_line = self.line;
        if trim_space {
            self.pos += TRIM_MARKER_LEN;
        }
        self.pos += RIGHT_DELIM.len();
        if trim_space {
            self.pos += left_trim_length(&self.input[self.pos..]);
        }
        self.ignore();
        Some(State::Text)
    }

    fn lex_right_delim(&mut self) -> Option<State> {
        let (_, trim_space) = self.at_right_delim();
        if trim_space {
            self.pos += TRIM_MARKER_LEN;
            self.ignore();
        }
        self.pos += RIGHT_DELIM.len();
        let i = self.this_item(ItemType::RightDelim);
        if trim_space {
            self.pos += left_trim_length(&self.input[self.pos..]);
            self.ignore();
        }
        self.inside_action = false;
        self.items.push(i);
        Some(State::Text)
    }

    fn lex_inside_action(&mut self) -> Option<State> {
        let (delim, _) = self.at_right_delim();
        if delim {
            if self.paren_depth == 0 {
                return Some(State::RightDelim);
            }
            return self.errorf("unclosed left paren".into());
        }
        let r = match self.next() {
            None => return self.errorf("unclosed action".into()),
            Some(r) => r,
        };
        match r {
            _ if is_space(r) => {
                self.backup();
                return Some(State::Space);
            }
            '=' => self.emit(ItemType::Assign),
            ':' => {
                if self.next() != Some('=') {
                    return self.errorf("expected :=".into());
                }
                self.emit(ItemType::Declare);
            }
            '|' => self.emit(ItemType::Pipe),
            '"' => return Some(State::Quote),
            '`' => return Some(State::RawQuote),
            '$' => return Some(State::Variable),
            '\'' => return Some(State::Char),
            '.' => {
                // Special look-ahead for ".field".
                if self.pos < self.input.len() {
                    let c = self.input.as_bytes()[self.pos];
                    if !c.is_ascii_digit() {
                        return Some(State::Field);
                    }
                }
                self.backup();
                return Some(State::Number);
            }
            '+' | '-' | '0'..='9' => {
                self.backup();
                return Some(State::Number);
            }
            _ if is_alnum(r) => {
                self.backup();
                return Some(State::Identifier);
            }
            '(' => {
                self.paren_depth += 1;
                self.emit(ItemType::LeftParen);
            }
            ')' => {
                self.paren_depth -= 1;
                if self.paren_depth < 0 {
                    return self.errorf("unexpected right paren".into());
                }
                self.emit(ItemType::RightParen);
            }
            _ if r.is_ascii() && !r.is_ascii_control() => self.emit(ItemType::Char),
            _ => {
                let u = super::go_fmt::sprintf("%#U", &[crate::value::Value::Int(r as i64)]);
                return self.errorf(format!("unrecognized character in action: {u}"));
            }
        }
        Some(State::InsideAction)
    }

    fn lex_space(&mut self) -> Option<State> {
        let mut num_spaces = 0;
        while let Some(r) = self.peek() {
            if !is_space(r) {
                break;
            }
            self.next();
            num_spaces += 1;
        }
        // A trim-marked closing delimiter has a minus after a space.
        if has_right_trim_marker(&self.input[self.pos - 1..])
            && self.input[self.pos - 1 + TRIM_MARKER_LEN..].starts_with(RIGHT_DELIM)
        {
            self.backup();
            if num_spaces == 1 {
                return Some(State::RightDelim);
            }
        }
        self.emit(ItemType::Space);
        Some(State::InsideAction)
    }

    fn bad_char(&mut self, r: Option<char>) -> Option<State> {
        let code = r.map(|c| c as i64).unwrap_or(-1);
        let u = super::go_fmt::sprintf("%#U", &[crate::value::Value::Int(code)]);
        self.errorf(format!("bad character {u}"))
    }

    fn lex_identifier(&mut self) -> Option<State> {
        loop {
            let r = self.next();
            match r {
                Some(c) if is_alnum(c) => {}
                _ => {
                    self.backup();
                    if !self.at_terminator() {
                        return self.bad_char(r);
                    }
                    let word = &self.input[self.start..self.pos];
                    let t = match keyword(word) {
                        Some(k) => k,
                        None if word.starts_with('.') => ItemType::Field,
                        None if word == "true" || word == "false" => ItemType::Bool,
                        None => ItemType::Identifier,
                    };
                    self.emit(t);
                    return Some(State::InsideAction);
                }
            }
        }
    }

    fn lex_variable(&mut self) -> Option<State> {
        if self.at_terminator() {
            self.emit(ItemType::Variable);
            return Some(State::InsideAction);
        }
        self.lex_field_or_variable(ItemType::Variable)
    }

    fn lex_field_or_variable(&mut self, typ: ItemType) -> Option<State> {
        if self.at_terminator() {
            self.emit(if typ == ItemType::Variable {
                ItemType::Variable
            } else {
                ItemType::Dot
            });
            return Some(State::InsideAction);
        }
        let mut r;
        loop {
            r = self.next();
            match r {
                Some(c) if is_alnum(c) => {}
                _ => {
                    self.backup();
                    break;
                }
            }
        }
        if !self.at_terminator() {
            return self.bad_char(r);
        }
        self.emit(typ);
        Some(State::InsideAction)
    }

    fn lex_char(&mut self) -> Option<State> {
        loop {
            match self.next() {
                Some('\\') => {
                    let r = self.next();
                    if r.is_some() && r != Some('\n') {
                        continue;
                    }
                    return self.errorf("unterminated character constant".into());
                }
                None | Some('\n') => return self.errorf("unterminated character constant".into()),
                Some('\'') => break,
                _ => {}
            }
        }
        self.emit(ItemType::CharConstant);
        Some(State::InsideAction)
    }

    fn lex_number(&mut self) -> Option<State> {
        if !self.scan_number() {
            let text = self.input[self.start..self.pos].to_string();
            return self.errorf(format!("bad number syntax: {}", super::go_fmt::quote(&text)));
        }
        if let Some(sign) = self.peek() {
            if sign == '+' || sign == '-' {
                if !self.scan_number() || !self.input[..self.pos].ends_with('i') {
                    let text = self.input[self.start..self.pos].to_string();
                    return self.errorf(format!("bad number syntax: {}", super::go_fmt::quote(&text)));
                }
                self.emit(ItemType::Complex);
                return Some(State::InsideAction);
            }
        }
        self.emit(ItemType::Number);
        Some(State::InsideAction)
    }

    fn scan_number(&mut self) -> bool {
        self.accept("+-");
        let mut digits = "0123456789_";
        if self.accept("0") {
            if self.accept("xX") {
                digits = "0123456789abcdefABCDEF_";
            } else if self.accept("oO") {
                digits = "01234567_";
            } else if self.accept("bB") {
                digits = "01_";
            }
        }
        self.accept_run(digits);
        if self.accept(".") {
            self.accept_run(digits);
        }
        if digits.len() == 10 + 1 && self.accept("eE") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        if digits.len() == 16 + 6 + 1 && self.accept("pP") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        self.accept("i");
        if let Some(c) = self.peek() {
            if is_alnum(c) {
                self.next();
                return false;
            }
        }
        true
    }

    fn lex_quote(&mut self) -> Option<State> {
        loop {
            match self.next() {
                Some('\\') => {
                    let r = self.next();
                    if r.is_some() && r != Some('\n') {
                        continue;
                    }
                    return self.errorf("unterminated quoted string".into());
                }
                None | Some('\n') => return self.errorf("unterminated quoted string".into()),
                Some('"') => break,
                _ => {}
            }
        }
        self.emit(ItemType::String);
        Some(State::InsideAction)
    }

    fn lex_raw_quote(&mut self) -> Option<State> {
        loop {
            match self.next() {
                None => return self.errorf("unterminated raw quoted string".into()),
                Some('`') => break,
                _ => {}
            }
        }
        self.emit(ItemType::RawString);
        Some(State::InsideAction)
    }
}

/// Scans a whole template. The last item is `Eof` or `Error`.
pub fn lex(input: &str) -> Vec<Item> {
    let mut l = Lexer {
        input,
        pos: 0,
        start: 0,
        width: 0,
        items: Vec::new(),
        paren_depth: 0,
        line: 1,
        start_line: 1,
        inside_action: false,
        done: false,
    };
    l.run();
    let _ = (l.inside_action, EOF);
    l.items
}

#[cfg(test)]
mod tests {
    use super::*;

    fn types(s: &str) -> Vec<(ItemType, String)> {
        lex(s).into_iter().map(|i| (i.typ, i.val.to_string())).collect()
    }

    #[test]
    fn trim_markers_and_text() {
        use ItemType::*;
        let got = types("a  {{- 3 -}}  b");
        assert_eq!(
            got,
            vec![
                (Text, "a".into()),
                (LeftDelim, "{{".into()),
                (Number, "3".into()),
                (RightDelim, "}}".into()),
                (Text, "b".into()),
                (Eof, "".into())
            ]
        );
        // "{{-3}}" is the number -3, not a trim marker.
        assert_eq!(types("{{-3}}")[1], (Number, "-3".into()));
    }

    #[test]
    fn comments_vanish() {
        use ItemType::*;
        let got = types("x {{- /* c\n */ -}} y");
        assert_eq!(got, vec![(Text, "x".into()), (Text, "y".into()), (Eof, "".into())]);
        assert_eq!(
            types("{{/* a */ 1}}").last().map(|i| i.1.clone()).unwrap(),
            "comment ends before closing delimiter"
        );
    }

    #[test]
    fn action_tokens() {
        use ItemType::*;
        let got: Vec<ItemType> = lex("{{ $x := .a.b | printf \"%d\" `r` 'c' 0x1p4 (nil) }}")
            .into_iter()
            .map(|i| i.typ)
            .collect();
        assert_eq!(
            got,
            vec![
                LeftDelim,
                Space,
                Variable,
                Space,
                Declare,
                Space,
                Field,
                Field,
                Space,
                Pipe,
                Space,
                Identifier,
                Space,
                String,
                Space,
                RawString,
                Space,
                CharConstant,
                Space,
                Number,
                Space,
                LeftParen,
                Nil,
                RightParen,
                Space,
                RightDelim,
                Eof
            ]
        );
    }

    #[test]
    fn errors() {
        let last = |s: &str| lex(s).last().map(|i| i.val.to_string()).unwrap_or_default();
        assert_eq!(last("{{ \"a }}"), "unterminated quoted string");
        assert_eq!(last("{{ 3x }}"), "bad number syntax: \"3x\"");
        assert_eq!(last("{{ ) }}"), "unexpected right paren");
        assert_eq!(last("{{ (1 }}"), "unclosed left paren");
        assert_eq!(last("{{ 1"), "unclosed action");
        assert_eq!(last("{{ a;b }}"), "bad character U+003B ';'");
    }

    #[test]
    fn line_numbers() {
        let items = lex("a\nb{{ 1\n 2 }}\n{{ 3 }}");
        let num: Vec<(String, usize)> = items
            .iter()
            .filter(|i| i.typ == ItemType::Number)
            .map(|i| (i.val.to_string(), i.line))
            .collect();
        assert_eq!(num, vec![("1".into(), 2), ("2".into(), 3), ("3".into(), 4)]);
    }
}
