//! Reading YAML the way Helm does: `sigs.k8s.io/yaml.Unmarshal` into `interface{}`.
//!
//! That is three steps in Go: go-yaml v2 decodes into `map[interface{}]interface{}` with YAML 1.1
//! resolution, sigs.k8s.io stringifies the keys, and `encoding/json` round-trips the result so every
//! number becomes a `float64`. We parse with granit-parser's event stream (the parser inside
//! serde-saphyr) into a small node tree, then decode that tree following go-yaml's `decode.go`
//! (merge keys, aliases decoded afresh at each use, last duplicate key wins) and apply the two
//! conversions directly instead of going through JSON text.
//!
//! Errors: Helm shows libyaml's messages (`yaml: line 3: mapping values are not allowed in this
//! context`), whose wording and line rules (scanner errors 1-based, parser errors 0-based, none
//! on the first line) differ from granit's. `scan_error` translates granit's error kinds and,
//! where libyaml stops at a different place (stale simple keys, quotes opened after a value,
//! tabs at the start of a line that granit tolerates), finds libyaml's position with small text
//! scans. Checked against helm on a few hundred mutated real-world values files.

use std::collections::HashMap;
use std::rc::Rc;

use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle, ScanError};

use super::resolve::{self, Resolved};
use super::YamlError;
use crate::value::{Map, Value};

/// A parsed YAML node (go-yaml's `node`).
enum Node {
    Scalar {
        value: String,
        /// Plain and untagged (or tagged `!`): resolved implicitly.
        implicit: bool,
        /// The full tag, when one was written.
        tag: Option<String>,
        #[allow(dead_code)]
        line: usize,
    },
    Seq(Vec<Rc<Node>>),
    Map(Vec<(Rc<Node>, Rc<Node>)>),
    Alias(Rc<Node>),
}

/// Builds nodes from events for one document.
struct Builder<'a> {
    parser: Parser<'a, serde_saphyr::granit_parser::StrInput<'a>>,
    anchors: HashMap<usize, Rc<Node>>,
    names: HashMap<usize, String>,
    text: &'a str,
    /// Flow collections open around the current node (go-yaml's `flow_level`).
    flow: usize,
    /// encoding/json's depth error, reported only once the whole document parsed: go-yaml reads
    /// the document (and fails on its own limits) before sigs.k8s.io/yaml decodes it as JSON.
    json_depth: Option<YamlError>,
}

impl<'a> Builder<'a> {
    fn next(&mut self) -> Result<Option<(Event<'a>, usize)>, YamlError> {
        match self.parser.next_event() {
            None => Ok(None),
            Some(Ok((ev, span))) => {
                // granit reports an empty plain scalar as "~" with an empty span; go-yaml sees "".
                let ev = match ev {
                    Event::Scalar(v, ScalarStyle::Plain, a, t)
                        if span.start.index() == span.end.index() && v == "~" =>
                    {
                        Event::Scalar(std::borrow::Cow::Borrowed(""), ScalarStyle::Plain, a, t)
                    }
                    ev => ev,
                };
                Ok(Some((ev, span.start.line())))
            }
            Some(Err(e)) => Err(scan_error(&e, self.text)),
        }
    }

    /// Reads one node whose first event is `ev`.
    fn node(&mut self, ev: Event<'a>, line: usize, depth: usize) -> Result<Rc<Node>, YamlError> {
        use serde_saphyr::granit_parser::StructureStyle::Flow;
        // go-yaml refuses more than 10,000 nested flow collections (`max_flow_level`) and block
        // levels (`max_indents`).
        let flow = matches!(&ev, Event::SequenceStart(Flow, ..) | Event::MappingStart(Flow, ..));
        let collection = matches!(&ev, Event::SequenceStart(..) | Event::MappingStart(..));
        if (collection && depth > GO_NESTING) || (flow && self.flow >= GO_NESTING) {
            return Err(YamlError::Yaml("yaml: exceeded max depth of 10000".into()));
        }
        // sigs.k8s.io/yaml then decodes the document as JSON, whose scanner allows 10,000 nested
        // lists/maps: helm loads 9,999 nested `[` under a key and refuses 10,000 with this error.
        if depth >= GO_NESTING && self.json_depth.is_none() {
            match &ev {
                Event::SequenceStart(..) => {
                    self.json_depth = Some(YamlError::Unmarshal("invalid character '[' exceeded max depth".into()))
                }
                Event::MappingStart(..) => {
                    self.json_depth = Some(YamlError::Unmarshal("invalid character '{' exceeded max depth".into()))
                }
                _ => {}
            }
        }
        self.flow += usize::from(flow);
        let built = self.node_inner(ev, line, depth);
        self.flow -= usize::from(flow);
        built
    }

    fn node_inner(&mut self, ev: Event<'a>, line: usize, depth: usize) -> Result<Rc<Node>, YamlError> {
        let (node, anchor) = match ev {
            Event::Scalar(value, style, anchor, tag) => {
                // granit reads `k: v` as one plain scalar where libyaml refuses the ':' (a
                // simple key longer than 1024 characters, a continuation line holding `k: v`).
                if style == ScalarStyle::Plain && value.contains(": ") {
                    let at = line.saturating_sub(1);
                    return Err(YamlError::Yaml(if at == 0 {
                        "yaml: mapping values are not allowed in this context".into()
                    } else {
                        format!("yaml: line {}: mapping values are not allowed in this context", at + 1)
                    }));
                }
                let tag = tag.map(|t| format!("{}{}", t.handle(), t.suffix()));
                let plain = style == ScalarStyle::Plain;
                let (implicit, tag) = match tag.as_deref() {
                    None => (plain, None),
                    Some("!") => (plain, None),
                    Some(_) => (false, tag),
                };
                (
                    Node::Scalar {
                        value: value.into_owned(),
                        implicit,
                        tag,
                        line,
                    },
                    anchor,
                )
            }
            Event::SequenceStart(_, anchor, _) => {
                let mut items = Vec::new();
                loop {
                    match self.next()? {
                        None => return Err(YamlError::Yaml("yaml: unexpected end of stream".into())),
                        Some((Event::SequenceEnd, _)) => break,
                        Some((Event::Comment(..), _)) => continue,
                        Some((Event::Anchor(id, name), _)) => {
                            self.names.insert(id, name.into_owned());
                        }
                        Some((ev, l)) => items.push(self.node(ev, l, depth + 1)?),
                    }
                }
                (Node::Seq(items), anchor)
            }
            Event::MappingStart(style, anchor, _) => {
                let block = style == serde_saphyr::granit_parser::StructureStyle::Block;
                let mut pairs = Vec::new();
                loop {
                    let key = match self.next()? {
                        None => return Err(YamlError::Yaml("yaml: unexpected end of stream".into())),
                        Some((Event::MappingEnd, _)) => break,
                        Some((Event::Comment(..), _)) => continue,
                        Some((Event::Anchor(id, name), _)) => {
                            self.names.insert(id, name.into_owned());
                            continue;
                        }
                        Some((ev, l)) => {
                            // libyaml has no implicit empty key in block mappings (`: 1`).
                            if block {
                                if let Event::Scalar(v, ScalarStyle::Plain, 0, None) = &ev {
                                    if v.is_empty() {
                                        let at = l.saturating_sub(1);
                                        return Err(YamlError::Yaml(if at == 0 {
                                            "yaml: did not find expected key".into()
                                        } else {
                                            format!("yaml: line {at}: did not find expected key")
                                        }));
                                    }
                                }
                            }
                            self.node(ev, l, depth + 1)?
                        }
                    };
                    let value = loop {
                        match self.next()? {
                            None => return Err(YamlError::Yaml("yaml: unexpected end of stream".into())),
                            Some((Event::Comment(..), _)) => continue,
                            Some((Event::Anchor(id, name), _)) => {
                                self.names.insert(id, name.into_owned());
                            }
                            Some((ev, l)) => break self.node(ev, l, depth + 1)?,
                        }
                    };
                    pairs.push((key, value));
                }
                (Node::Map(pairs), anchor)
            }
            Event::Alias(id) => match self.anchors.get(&id) {
                Some(n) => return Ok(Rc::new(Node::Alias(n.clone()))),
                // The anchor is still open: the alias is inside the node it names.
                None => {
                    let name = self.names.get(&id).cloned().unwrap_or_default();
                    return Err(YamlError::Yaml(format!("yaml: anchor '{name}' value contains itself")));
                }
            },
            _ => return Err(YamlError::Yaml("yaml: did not find expected node content".into())),
        };
        let node = Rc::new(node);
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        Ok(node)
    }

    /// The first document's root node, `None` for an empty stream.
    fn first_document(&mut self) -> Result<Option<Rc<Node>>, YamlError> {
        loop {
            match self.next()? {
                None | Some((Event::StreamEnd, _)) => return Ok(None),
                Some((Event::DocumentEnd, _)) => return Ok(None),
                Some((Event::StreamStart, _))
                | Some((Event::DocumentStart(..), _))
                | Some((Event::Comment(..), _))
                | Some((Event::Anchor(..), _)) => continue,
                Some((ev, line)) => {
                    let root = self.node(ev, line, 0)?;
                    // go-yaml reads up to the document end, so errors right after the root count.
                    loop {
                        match self.next()? {
                            Some((Event::Comment(..), _)) | Some((Event::Anchor(..), _)) => continue,
                            _ => break,
                        }
                    }
                    if let Some(e) = self.json_depth.take() {
                        return Err(e);
                    }
                    return Ok(Some(root));
                }
            }
        }
    }
}

/// Maps granit's scanner/parser errors to libyaml's wording and go-yaml's line rule: a scanner
/// error shows the 1-based line, a parser error the 0-based line of the problem, and neither
/// shows a line when the 0-based line is 0.
fn scan_error(e: &ScanError, text: &str) -> YamlError {
    use serde_saphyr::granit_parser::ErrorKind as K;
    let mut line0 = e.marker().line().saturating_sub(1);
    // libyaml's stream end forces a new line when the last line has content.
    let eof_line0 = text.matches('\n').count() + usize::from(!text.is_empty() && !text.ends_with('\n'));
    // At the end of the stream, an open flow collection whose last token is `[`, `{` or `,`
    // wants a node; after an entry it wants a separator.
    let wants_node = matches!(text.trim_end().chars().last(), Some('[' | '{' | ','));
    // (message, is a scanner error)
    let (msg, scanner): (String, bool) = match e.kind() {
        K::MappingValueNotAllowed | K::InvalidMappingValueWhitespace | K::InvalidColonPlacement => {
            // Inside a flow sequence libyaml scans the ':' and its parser then rejects it.
            match e.marker().byte_offset().and_then(|o| open_flow(text, o)) {
                Some('[') => ("did not find expected ',' or ']'".into(), false),
                _ => ("mapping values are not allowed in this context".into(), true),
            }
        }
        K::ExpectedBlockMappingKey | K::UnexpectedEofBlockMapping => ("did not find expected key".into(), false),
        K::ExpectedBlockSequenceEntry | K::UnexpectedEofBlockSequence => {
            ("did not find expected '-' indicator".into(), false)
        }
        K::UnexpectedCharacter { .. } | K::TabNotAllowed | K::TabInIndentation => {
            ("found character that cannot start any token".into(), true)
        }
        K::TabInBlockIndentation => (
            "found a tab character where an indentation space is expected".into(),
            true,
        ),
        K::TabInPlainScalar => {
            // libyaml stops at the tab on the continuation line, granit at the scalar.
            if let Some(at) = e.marker().byte_offset().map(|o| floor_boundary(text, o)) {
                if let Some(tab) = text.get(at..).and_then(|r| r.find('\t')) {
                    line0 = text[..at + tab].matches('\n').count();
                }
            }
            ("found a tab character that violates indentation".into(), true)
        }
        K::InvalidTrailingDoubleQuotedScalar | K::InvalidTrailingSingleQuotedScalar => {
            // What follows the scalar is another token; a quote there is scanned to its end first.
            let at = e.marker().byte_offset().unwrap_or(usize::MAX);
            let is_quote = matches!(text.as_bytes().get(at), Some(b'"' | b'\''));
            match (is_quote, is_quote.then(|| quote_outcome(text, at)).flatten()) {
                (true, None) => {
                    line0 = eof_line0;
                    ("found unexpected end of stream".into(), true)
                }
                (true, Some(l)) => {
                    line0 = l;
                    ("did not find expected key".into(), false)
                }
                (false, _) => ("did not find expected key".into(), false),
            }
        }
        K::SimpleKeyExpected | K::InvalidSimpleKey => {
            // libyaml notices the stale key where its plain scalar scan stopped: the first line
            // after the key's line that is not blank (a comment counts).
            if let Some(at) = e.marker().byte_offset() {
                let at = floor_boundary(text, at);
                let mut l = text[..at].matches('\n').count();
                let mut lines = text[at..].split('\n').skip(1);
                loop {
                    l += 1;
                    match lines.next() {
                        Some(x) if x.trim().is_empty() => continue,
                        _ => break,
                    }
                }
                line0 = l;
            }
            ("could not find expected ':'".into(), true)
        }
        K::UnexpectedEofFlowSequence | K::UnclosedFlowCollection { open: '[' } => {
            line0 = eof_line0;
            if wants_node {
                ("did not find expected node content".into(), false)
            } else {
                ("did not find expected ',' or ']'".into(), false)
            }
        }
        K::UnexpectedEofFlowMapping | K::UnclosedFlowCollection { .. } => {
            line0 = eof_line0;
            if wants_node {
                ("did not find expected node content".into(), false)
            } else {
                ("did not find expected ',' or '}'".into(), false)
            }
        }
        K::ExpectedFlowSequenceSeparator => ("did not find expected ',' or ']'".into(), false),
        K::ExpectedFlowMappingSeparator => {
            // An implicit `k: v` pair inside a flow sequence is still the sequence to libyaml.
            match e.marker().byte_offset().and_then(|o| open_flow(text, o)) {
                Some('[') => ("did not find expected ',' or ']'".into(), false),
                _ => ("did not find expected ',' or '}'".into(), false),
            }
        }
        K::ExpectedNodeContent => ("did not find expected node content".into(), false),
        // A stray `]`/`}`: where a value should start libyaml wants node content, after a
        // value it wants the next key.
        K::MisplacedFlowCollectionEnd => {
            let at = floor_boundary(text, e.marker().byte_offset().unwrap_or(0));
            let line_start = text[..at].rfind('\n').map(|i| i + 1).unwrap_or(0);
            let lead = text.get(line_start..at).unwrap_or("").trim_end();
            if lead.ends_with(':') || lead.ends_with('-') {
                ("did not find expected node content".into(), false)
            } else {
                ("did not find expected key".into(), false)
            }
        }
        K::MismatchedFlowCollectionEnd { open: '[', .. } => ("did not find expected ',' or ']'".into(), false),
        K::MismatchedFlowCollectionEnd { .. } => ("did not find expected ',' or '}'".into(), false),
        K::ExpectedDocumentStart => ("did not find expected <document start>".into(), false),
        K::UnclosedQuotedScalar | K::InvalidQuotedScalarIndent | K::UnexpectedEof => {
            match e.marker().byte_offset().and_then(|o| stray_quote_line(text, o)) {
                // A quote after a complete value on its line: libyaml's parser wanted a key.
                Some(l) => {
                    line0 = l;
                    ("did not find expected key".into(), false)
                }
                // libyaml does not check indentation inside quoted scalars: an unclosed quote
                // runs to the end of the stream.
                None => {
                    line0 = eof_line0;
                    ("found unexpected end of stream".into(), true)
                }
            }
        }
        K::UnknownQuotedScalarEscape => ("found unknown escape character".into(), true),
        K::BlockSequenceEntryNotAllowed => ("block sequence entries are not allowed in this context".into(), true),
        // In flow context libyaml's scanner lets `- ` through and its parser finds no node.
        K::BlockEntryInFlowCollection => ("did not find expected node content".into(), false),
        K::UnknownAnchor => {
            // go-yaml reports this from its own parser, by name and without a line.
            let at = e.marker().byte_offset().unwrap_or(usize::MAX);
            let name: String = text
                .get(at..)
                .unwrap_or("")
                .trim_start_matches('*')
                .chars()
                .take_while(|c| !c.is_whitespace() && !matches!(c, ',' | '[' | ']' | '{' | '}'))
                .collect();
            return YamlError::Yaml(format!("yaml: unknown anchor '{name}' referenced"));
        }
        other => {
            // granit prefixes some texts with libyaml's context ("while scanning a block scalar, ").
            let m = other.to_string();
            let m = match m.strip_prefix("while scanning ") {
                Some(rest) => rest.split_once(", ").map(|x| x.1.to_string()).unwrap_or(m.clone()),
                None => m,
            };
            (m, true)
        }
    };
    let shown = if line0 == 0 {
        0
    } else if scanner {
        line0 + 1
    } else {
        line0
    };
    if shown == 0 {
        YamlError::Yaml(format!("yaml: {msg}"))
    } else {
        YamlError::Yaml(format!("yaml: line {shown}: {msg}"))
    }
}

/// `offset` moved back onto a character boundary of `text` (and into range), for safe slicing.
fn floor_boundary(text: &str, offset: usize) -> usize {
    let mut at = offset.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// For a quoted scalar granit could not finish: the 0-based line of its opening quote when that
/// quote follows a complete value on the same line (`key: {} "x`), where libyaml's parser fails
/// first, wanting a key. `None` when the quote starts a value.
fn stray_quote_line(text: &str, offset: usize) -> Option<usize> {
    let q = open_quote_at(text, offset)?;
    quote_outcome(text, q)
}

/// Where a quoted scalar opened at byte `q` leads libyaml (see [`stray_quote_line`]).
fn quote_outcome(text: &str, q: usize) -> Option<usize> {
    let before = text.get(..q)?;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let lead = text[line_start..q].trim_end();
    let starts_value = lead.is_empty()
        || lead.ends_with(':')
        || lead.ends_with('-')
        || lead.ends_with('[')
        || lead.ends_with('{')
        || lead.ends_with(',')
        || lead.ends_with('?')
        || lead.ends_with('|')
        || lead.ends_with('>');
    // libyaml scans the quoted scalar to its closing quote, wherever that is (at the end of the
    // stream: "found unexpected end of stream").
    let quote_char = text[q..].chars().next()?;
    let mut i = q + 1;
    let b = text.as_bytes();
    let close = loop {
        let c = *b.get(i)?;
        if quote_char == '"' && c == b'\\' {
            i += 2;
            continue;
        }
        if c == quote_char as u8 {
            if quote_char == '\'' && b.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            break i;
        }
        i += 1;
    };
    if !starts_value {
        // After a complete value the parser wanted a key at the quote.
        return Some(text[..line_start].matches('\n').count());
    }
    // The quote starts a value; the parser then fails on what follows the closing quote.
    let line_end = text[close..].find('\n').map(|e| close + e).unwrap_or(text.len());
    let rest = text[close + 1..line_end].trim();
    if rest.is_empty() || rest.starts_with('#') || rest.starts_with(':') {
        return None;
    }
    Some(text[..close].matches('\n').count())
}

/// The byte offset of the quote that opened the quoted scalar still open at `offset`, following
/// libyaml's rule that a quote opens a scalar only where a token starts (after indentation,
/// `: `, `- `, `? `, `[`, `{`, `,`), not inside a plain scalar. A light scan that ignores
/// block scalars; only used to place an error.
fn open_quote_at(text: &str, offset: usize) -> Option<usize> {
    let b = text.as_bytes();
    let end = offset.min(b.len());
    let mut i = 0;
    let mut open: Option<usize> = None;
    // Whether only indentation or an indicator has been seen since the last token start.
    let mut token_start = true;
    let mut prev = b'\n';
    while i < end {
        let c = b[i];
        if let Some(q) = open {
            let qc = b[q];
            if qc == b'"' && c == b'\\' {
                i += 2;
                continue;
            }
            if c == qc {
                if qc == b'\'' && b.get(i + 1) == Some(&b'\'') {
                    i += 2;
                    continue;
                }
                open = None;
                token_start = false;
                // A complete token: whatever follows after blanks starts a new one.
                prev = b']';
                i += 1;
                continue;
            }
            prev = c;
            i += 1;
            continue;
        }
        match c {
            b'\n' => token_start = true,
            b' ' | b'\t' => {
                if matches!(prev, b':' | b'-' | b'?' | b',' | b']' | b'}') {
                    token_start = true;
                }
            }
            b'#' if prev == b' ' || prev == b'\t' || prev == b'\n' => {
                while i < end && b[i] != b'\n' {
                    i += 1;
                }
                prev = b'\n';
                token_start = true;
                continue;
            }
            b'[' | b'{' | b',' => token_start = true,
            b'"' | b'\'' if token_start => open = Some(i),
            _ => token_start = false,
        }
        prev = c;
        i += 1;
    }
    open
}

/// libyaml does not skip a tab at the start of a line in block context, so such a line fails
/// with "found character that cannot start any token" even where granit accepts it. Returns the
/// 0-based line of the first such tab, skipping block scalar bodies, open quotes and flow
/// collections (a light scan: only used to report libyaml's error).
fn leading_tab_line(text: &str) -> Option<(usize, &'static str)> {
    const TOKEN: &str = "found character that cannot start any token";
    const PLAIN: &str = "found a tab character that violates indentation";
    const BLOCK: &str = "found a tab character where an indentation space is expected";
    // Every finding below is a line that starts with a tab: none without a tab anywhere.
    if !text.as_bytes().contains(&b'\t') {
        return None;
    }
    let mut depth: i32 = 0;
    // Whether the last content line (blank lines aside) ended in a plain scalar that a following
    // line could continue.
    let mut plain_open = false;
    let mut quote: Option<char> = None;
    // Indentation of the line that opened a block scalar; its body is more indented.
    let mut block_parent: Option<usize> = None;
    for (n, line) in text.split('\n').enumerate() {
        let indent = line.len() - line.trim_start_matches(' ').len();
        let body = line.trim_end_matches('\r');
        if let Some(p) = block_parent {
            if body.starts_with('\t') {
                return Some((n, BLOCK));
            }
            if body.trim().is_empty() || indent > p {
                continue;
            }
            block_parent = None;
        }
        if n > 0 && (body == "---" || body.starts_with("--- ") || body == "...") {
            return None; // later documents are not read
        }
        if quote.is_none() && depth == 0 && body.starts_with('\t') {
            return Some((n, if plain_open { PLAIN } else { TOKEN }));
        }
        if body.trim().is_empty() {
            continue;
        }
        // Track quotes, flow brackets and block scalar headers on this line.
        let mut prev = ' ';
        let mut chars = body.chars().peekable();
        let mut last_token = String::new();
        while let Some(c) = chars.next() {
            match quote {
                Some('"') => {
                    if c == '\\' {
                        chars.next();
                    } else if c == '"' {
                        quote = None;
                    }
                }
                Some(_) => {
                    if c == '\'' {
                        if chars.peek() == Some(&'\'') {
                            chars.next();
                        } else {
                            quote = None;
                        }
                    }
                }
                None => match c {
                    '#' if prev == ' ' || prev == '\t' => break,
                    '"' | '\'' if prev == ' ' || prev == '\t' || matches!(prev, '[' | '{' | ',' | ':' | '-') => {
                        quote = Some(c)
                    }
                    '[' | '{' => depth += 1,
                    ']' | '}' => depth = (depth - 1).max(0),
                    _ => {}
                },
            }
            if !c.is_whitespace() {
                last_token.push(c);
            } else {
                last_token.clear();
            }
            prev = c;
        }
        let content = match body.find(" #") {
            Some(i) => body[..i].trim_end(),
            None if body.trim_start().starts_with('#') => "",
            None => body.trim_end(),
        };
        plain_open = quote.is_none()
            && depth == 0
            && !content.is_empty()
            && !content.ends_with([':', '"', '\'', ']', '}', '|', '>', '-']);
        if quote.is_none() && depth == 0 {
            let t = last_token.trim_start_matches(['|', '>']);
            let is_header = (last_token.starts_with('|') || last_token.starts_with('>'))
                && t.chars().all(|c| c.is_ascii_digit() || c == '+' || c == '-');
            let head = body.trim_end();
            let head = match head.find(" #") {
                Some(i) => head[..i].trim_end(),
                None => head,
            };
            if is_header && (head.ends_with(&last_token[..]) || head.ends_with('|') || head.ends_with('>')) {
                block_parent = Some(indent);
            }
        }
    }
    None
}

fn tab_error((line0, msg): (usize, &str)) -> YamlError {
    if line0 == 0 {
        YamlError::Yaml(format!("yaml: {msg}"))
    } else {
        YamlError::Yaml(format!("yaml: line {}: {msg}", line0 + 1))
    }
}

/// The innermost flow collection (`[` or `{`) open at byte `offset`, skipping quoted text and
/// comments (a rough scan, only used to pick libyaml's wording for an error).
fn open_flow(text: &str, offset: usize) -> Option<char> {
    let mut stack = Vec::new();
    let mut quote: Option<char> = None;
    let mut comment = false;
    let mut prev = ' ';
    for (i, c) in text.char_indices() {
        if i >= offset {
            break;
        }
        if comment {
            if c == '\n' {
                comment = false;
            }
        } else if let Some(q) = quote {
            if c == q && !(q == '"' && prev == '\\') {
                quote = None;
            }
        } else {
            match c {
                '"' | '\'' if prev.is_whitespace() || matches!(prev, '[' | '{' | ',' | ':') => quote = Some(c),
                '#' if prev.is_whitespace() => comment = true,
                '[' | '{' => stack.push(c),
                ']' | '}' => {
                    stack.pop();
                }
                _ => {}
            }
        }
        prev = c;
    }
    stack.pop()
}

/// go-yaml's guard against alias bombs (`allowedAliasRatio`).
fn allowed_alias_ratio(decode_count: usize) -> f64 {
    const ALIAS_RATIO_RANGE_LOW: f64 = 400_000.0;
    const ALIAS_RATIO_RANGE_HIGH: f64 = 4_000_000.0;
    let c = decode_count as f64;
    if c <= ALIAS_RATIO_RANGE_LOW {
        0.99
    } else if c >= ALIAS_RATIO_RANGE_HIGH {
        0.10
    } else {
        0.99 - 0.89 * ((c - ALIAS_RATIO_RANGE_LOW) / (ALIAS_RATIO_RANGE_HIGH - ALIAS_RATIO_RANGE_LOW))
    }
}

/// Decodes nodes into Values, as go-yaml into `interface{}` then the JSON conversions.
struct Decoder {
    decode_count: usize,
    alias_count: usize,
    alias_depth: usize,
    /// Apply the JSON round trip (float64 numbers, no NaN/Inf); off for go-yaml's own types.
    json_numbers: bool,
}

/// A decoded map key before stringification (what go-yaml puts in `map[interface{}]interface{}`).
enum Key {
    Str(String),
    Int(i64),
    Uint(u64),
    Float(f64),
    Bool(bool),
    Nil,
    Collection,
}

impl Decoder {
    fn count(&mut self) -> Result<(), YamlError> {
        self.decode_count += 1;
        if self.alias_depth > 0 {
            self.alias_count += 1;
        }
        if self.alias_count > 100
            && self.decode_count > 1000
            && (self.alias_count as f64) / (self.decode_count as f64) > allowed_alias_ratio(self.decode_count)
        {
            return Err(YamlError::Yaml("yaml: document contains excessive aliasing".into()));
        }
        Ok(())
    }

    fn scalar(&mut self, value: &str, implicit: bool, tag: &Option<String>) -> Result<Value, YamlError> {
        let r = match (implicit, tag) {
            (true, _) => resolve::resolve_plain(value),
            (false, None) => Resolved::Str,
            (false, Some(t)) => {
                if t == &format!("{}binary", resolve::LONG_TAG_PREFIX) {
                    use base64::Engine;
                    let cleaned: String = value.chars().filter(|c| !c.is_whitespace()).collect();
                    return match base64::engine::general_purpose::STANDARD.decode(cleaned.as_bytes()) {
                        Ok(bytes) => Ok(Value::from(String::from_utf8_lossy(&bytes).into_owned())),
                        Err(_) => Err(YamlError::Yaml(
                            "yaml: !!binary value contains invalid base64 data".into(),
                        )),
                    };
                }
                resolve::resolve_tagged(t, value).map_err(|m| YamlError::Yaml(format!("yaml: {m}")))?
            }
        };
        Ok(match r {
            Resolved::Null => Value::Nil,
            Resolved::Bool(b) => Value::Bool(b),
            // encoding/json turns every number into a float64.
            Resolved::Int(i) if !self.json_numbers => Value::Int(i),
            Resolved::Int(i) => Value::Float(i as f64),
            Resolved::Uint(u) => Value::Float(u as f64),
            Resolved::Float(f) => {
                if f.is_finite() || !self.json_numbers {
                    Value::Float(f)
                } else {
                    let s = if f.is_nan() {
                        "NaN"
                    } else if f > 0.0 {
                        "+Inf"
                    } else {
                        "-Inf"
                    };
                    return Err(YamlError::Json(format!("json: unsupported value: {s}")));
                }
            }
            Resolved::Timestamp | Resolved::Str | Resolved::Merge => Value::from(value),
        })
    }

    fn key(&mut self, n: &Node) -> Result<Key, YamlError> {
        let v = self.decode(n)?;
        // The decoded value carries floats for every number; go-yaml's key keeps the int type, so
        // resolve the scalar again to tell `1` (int → "1") from `1.0` (float → "1").
        let n = match n {
            Node::Alias(inner) => inner.as_ref(),
            other => other,
        };
        Ok(match v {
            Value::Nil => Key::Nil,
            Value::Bool(b) => Key::Bool(b),
            Value::String(s) => Key::Str(s.to_string()),
            Value::Float(f) => match n {
                Node::Scalar {
                    value, implicit, tag, ..
                } => {
                    let r = if *implicit {
                        resolve::resolve_plain(value)
                    } else {
                        match tag {
                            Some(t) => resolve::resolve_tagged(t, value).unwrap_or(Resolved::Str),
                            None => Resolved::Str,
                        }
                    };
                    match r {
                        Resolved::Int(i) => Key::Int(i),
                        Resolved::Uint(u) => Key::Uint(u),
                        _ => Key::Float(f),
                    }
                }
                _ => Key::Float(f),
            },
            _ => Key::Collection,
        })
    }

    fn decode(&mut self, n: &Node) -> Result<Value, YamlError> {
        self.count()?;
        match n {
            Node::Scalar {
                value, implicit, tag, ..
            } => self.scalar(value, *implicit, tag),
            Node::Alias(target) => {
                self.alias_depth += 1;
                let r = self.decode(target);
                self.alias_depth -= 1;
                r
            }
            Node::Seq(items) => {
                let mut out = Vec::with_capacity(items.len());
                for it in items {
                    out.push(self.decode(it)?);
                }
                Ok(Value::list(out))
            }
            Node::Map(_) => {
                let m = Map::new();
                self.mapping_into(n, &m)?;
                Ok(Value::Map(m))
            }
        }
    }

    /// go-yaml's `mapping` into an existing map (also used by merges).
    fn mapping_into(&mut self, n: &Node, out: &Map) -> Result<(), YamlError> {
        let pairs = match n {
            Node::Map(p) => p,
            Node::Alias(t) => return self.mapping_into(t, out),
            _ => return Err(want_map()),
        };
        for (k, v) in pairs {
            if is_merge(k) {
                self.merge(v, out)?;
                continue;
            }
            let key = self.key(k)?;
            let value = self.decode(v)?;
            let key = match key {
                Key::Str(s) => s,
                Key::Int(i) => i.to_string(),
                Key::Float(f) => match super::gofloat::format32(f, super::gofloat::Fmt::G).as_str() {
                    "+Inf" => ".inf".to_string(),
                    "-Inf" => "-.inf".to_string(),
                    "NaN" => ".nan".to_string(),
                    s => s.to_string(),
                },
                Key::Bool(b) => b.to_string(),
                Key::Uint(u) => {
                    return Err(YamlError::Yaml(format!(
                        "unsupported map key of type: uint64, key: 0x{u:x}, value: {}",
                        go_plus_sharp_v(v)
                    )))
                }
                Key::Nil => {
                    return Err(YamlError::Yaml(format!(
                        "unsupported map key of type: %!s(<nil>), key: <nil>, value: {}",
                        go_plus_sharp_v(v)
                    )))
                }
                Key::Collection => {
                    return Err(YamlError::Yaml(format!("yaml: invalid map key: {}", go_sharp_v(k))));
                }
            };
            out.insert(key, value);
        }
        Ok(())
    }

    fn merge(&mut self, n: &Node, out: &Map) -> Result<(), YamlError> {
        match n {
            Node::Map(_) => self.mapping_into(n, out),
            Node::Alias(t) => match t.as_ref() {
                Node::Map(_) => {
                    self.alias_depth += 1;
                    let r = self.mapping_into(t, out);
                    self.alias_depth -= 1;
                    r
                }
                _ => Err(want_map()),
            },
            Node::Seq(items) => {
                // Earlier maps take precedence, so apply them last.
                for it in items.iter().rev() {
                    match it.as_ref() {
                        Node::Map(_) => self.mapping_into(it, out)?,
                        Node::Alias(t) if matches!(t.as_ref(), Node::Map(_)) => {
                            self.alias_depth += 1;
                            let r = self.mapping_into(t, out);
                            self.alias_depth -= 1;
                            r?
                        }
                        _ => return Err(want_map()),
                    }
                }
                Ok(())
            }
            _ => Err(want_map()),
        }
    }
}

/// `%+#v` of a top-level `interface{}`: a nil prints as `<nil>`, the rest as `%#v`.
fn go_plus_sharp_v(n: &Node) -> String {
    let s = go_sharp_v(n);
    if s == "interface {}(nil)" {
        "<nil>".into()
    } else {
        s
    }
}

/// Go's `%#v` of what go-yaml decoded for a node (for "invalid map key" messages).
fn go_sharp_v(n: &Node) -> String {
    match n {
        Node::Alias(t) => go_sharp_v(t),
        Node::Scalar {
            value, implicit, tag, ..
        } => {
            let r = match (implicit, tag) {
                (true, _) => resolve::resolve_plain(value),
                (false, Some(t)) => resolve::resolve_tagged(t, value).unwrap_or(Resolved::Str),
                (false, None) => Resolved::Str,
            };
            match r {
                Resolved::Null => "interface {}(nil)".into(),
                Resolved::Bool(b) => b.to_string(),
                Resolved::Int(i) => i.to_string(),
                Resolved::Uint(u) => format!("0x{u:x}"),
                Resolved::Float(f) => super::gofloat::format64(f, super::gofloat::Fmt::G),
                _ => format!("{value:?}"),
            }
        }
        Node::Seq(items) => {
            let inner: Vec<String> = items.iter().map(|i| go_sharp_v(i)).collect();
            format!("[]interface {{}}{{{}}}", inner.join(", "))
        }
        Node::Map(pairs) => {
            let inner: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("{}:{}", go_sharp_v(k), go_sharp_v(v)))
                .collect();
            format!("map[interface {{}}]interface {{}}{{{}}}", inner.join(", "))
        }
    }
}

fn want_map() -> YamlError {
    YamlError::Yaml("yaml: map merge requires map or sequence of maps as the value".into())
}

fn is_merge(n: &Node) -> bool {
    match n {
        Node::Scalar {
            value, implicit, tag, ..
        } => value == "<<" && (*implicit || tag.as_deref() == Some(&format!("{}merge", resolve::LONG_TAG_PREFIX)[..])),
        _ => false,
    }
}

/// The first document of `text` as Helm's values reader sees it; `Nil` for an empty document.
pub fn load_first(text: &str) -> Result<Value, YamlError> {
    load_first_with(text, true)
}

/// The first document with go-yaml's own scalar types (before sigs.k8s.io/yaml's JSON step):
/// integers are Go `int` ([`Value::Int`]), `.inf`/`.nan` are allowed, keys are stringified.
pub fn load_first_typed(text: &str) -> Result<Value, YamlError> {
    load_first_with(text, false)
}

fn load_first_with(text: &str, json_numbers: bool) -> Result<Value, YamlError> {
    let tab = leading_tab_line(text);
    match load_first_inner(text, json_numbers) {
        Ok(v) => match tab {
            Some(l) => Err(tab_error(l)),
            None => Ok(v),
        },
        // granit's own tab errors carry libyaml's more precise wording.
        Err(e) if e.to_string().contains("tab character that violates") => Err(e),
        Err(e) => match (tab, error_line0(&e)) {
            (Some(t), Some(l)) if t.0 <= l => Err(tab_error(t)),
            (Some(t), None) => Err(tab_error(t)),
            _ => Err(e),
        },
    }
}

/// The 0-based line an error message points at (approximately: parser errors already show a
/// 0-based line, scanner errors a 1-based one).
fn error_line0(e: &YamlError) -> Option<usize> {
    let YamlError::Yaml(m) = e else { return None };
    let rest = m.strip_prefix("yaml: line ")?;
    let n: usize = rest.split(':').next()?.parse().ok()?;
    Some(n)
}

/// go-yaml's and encoding/json's nesting limit (granit's own default is 255).
const GO_NESTING: usize = 10_000;

/// The reader recurses once per nesting level: Go's limit where the stack allows it (the
/// big-stack thread, where values, charts and renders are read), granit's default elsewhere.
fn nesting_limit() -> usize {
    if crate::stack::on_big_stack_thread() {
        GO_NESTING + 2
    } else {
        255
    }
}

fn load_first_inner(text: &str, json_numbers: bool) -> Result<Value, YamlError> {
    let mut b = Builder {
        parser: Parser::new_from_str_with_options(
            text,
            serde_saphyr::granit_parser::options! { emit_anchor_events: true, flow_nesting_limit: nesting_limit(), block_nesting_limit: nesting_limit() },
        ),
        anchors: HashMap::new(),
        names: HashMap::new(),
        text,
        flow: 0,
        json_depth: None,
    };
    let root = match b.first_document()? {
        Some(r) => r,
        None => return Ok(Value::Nil),
    };
    let mut d = Decoder {
        decode_count: 0,
        alias_count: 0,
        alias_depth: 0,
        json_numbers,
    };
    d.decode(&root)
}

/// The parts of a document Helm's `SimpleHead` reads, for sorting rendered manifests: the same
/// result as [`load_first`] as far as `apiVersion`, `kind`, `metadata.name`,
/// `metadata.namespace` and `metadata.annotations` go, and the same errors. Everything else is
/// validated but not built: a value outside those paths, or a head value that is neither a
/// string nor null, reads as `true` (a placeholder; callers only ask "string, nil or other").
///
/// Building the whole value tree of every rendered document was most of `helm template`'s cost
/// in chartup, so this pass walks granit's events without allocating nodes. It only handles the
/// plain case — no anchors, aliases, tags or merge keys, no key that go-yaml would reject —
/// and hands anything else (and every error) to [`load_first`], so errors keep one source.
pub fn load_head(text: &str) -> Result<Value, YamlError> {
    load_head_and_json(text, false).0
}

/// [`load_head`], and with `json` also the whole document as `crate::manifest::parse_yaml` reads
/// it (serde-saphyr's typing, see `crate::manifest::fast`), built from the same granit events so a
/// planner that renders does not parse every document twice. The JSON is `None` when it was not
/// asked for, or when the document is not the plain case of either reading (the caller then
/// parses it with `parse_yaml`); the head is exactly [`load_head`]'s in every case.
pub fn load_head_and_json(text: &str, json: bool) -> (Result<Value, YamlError>, Option<serde_json::Value>) {
    // Most rendered documents are plain block YAML, which `fastscan` reads for a fraction of
    // granit's cost; it declines anything else, and granit reads that.
    if let Some(events) = super::fastscan::events(text) {
        let mut h = HeadPass {
            b: Replay(events.into_iter()),
            _text: std::marker::PhantomData,
            // The pair stack is reused from document to document (it is empty between them).
            pairs: PAIRS.with(|p| std::mem::take(&mut *p.borrow_mut())),
            json,
        };
        let done = h.document();
        h.pairs.clear();
        PAIRS.with(|p| *p.borrow_mut() = std::mem::take(&mut h.pairs));
        if let Ok((v, j)) = done {
            return (Ok(v), j);
        }
    }
    if leading_tab_line(text).is_none() {
        let mut h = HeadPass {
            b: Builder {
                parser: Parser::new_from_str_with_options(
                    text,
                    serde_saphyr::granit_parser::options! { emit_anchor_events: true, flow_nesting_limit: nesting_limit(), block_nesting_limit: nesting_limit() },
                ),
                anchors: HashMap::new(),
                names: HashMap::new(),
                text,
                flow: 0,
                json_depth: None,
            },
            _text: std::marker::PhantomData,
            pairs: Vec::new(),
            json,
        };
        if let Ok((v, j)) = h.document() {
            return (Ok(v), j);
        }
    }
    (load_first(text), None)
}

/// What the head pass wants from a node.
#[derive(Clone, Copy, PartialEq)]
enum Want {
    /// Validate only.
    Skip,
    /// A head field: string, nil or other.
    Scalar,
    /// A mapping whose keys are read as this level (`Other` if the node is not a mapping).
    Root,
    Metadata,
    Annotations,
}

/// A value as the head sees it.
enum Got {
    Str(String),
    Nil,
    Other,
    Map(Map),
}

impl Got {
    fn into_value(self) -> Value {
        match self {
            Got::Str(s) => Value::from(s),
            Got::Nil => Value::Nil,
            Got::Other => Value::Bool(true),
            Got::Map(m) => Value::Map(m),
        }
    }
}

/// `Err(())`: not the plain case (or an error); the caller runs the full loader.
type HeadResult<T> = Result<T, ()>;

thread_local! {
    static PAIRS: std::cell::RefCell<Vec<(String, serde_json::Value)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Where the head pass takes its events from: granit's parser, or a list `fastscan` made.
trait Events<'a> {
    /// Plain scalars never hold `: ` (`fastscan` declines such documents), so the pass need not
    /// look for it.
    const VETTED: bool = false;
    fn next(&mut self) -> Result<Option<(Event<'a>, usize)>, YamlError>;
}

impl<'a> Events<'a> for Builder<'a> {
    fn next(&mut self) -> Result<Option<(Event<'a>, usize)>, YamlError> {
        Builder::next(self)
    }
}

/// Events read ahead by `fastscan` (which keeps no line numbers: the head pass needs none).
struct Replay<'a>(std::vec::IntoIter<Event<'a>>);

impl<'a> Events<'a> for Replay<'a> {
    const VETTED: bool = true;
    fn next(&mut self) -> Result<Option<(Event<'a>, usize)>, YamlError> {
        Ok(self.0.next().map(|e| (e, 0)))
    }
}

struct HeadPass<'a, E: Events<'a>> {
    b: E,
    /// JSON pairs of the mappings being read (see the mapping case of [`HeadPass::node`]).
    pairs: Vec<(String, serde_json::Value)>,
    _text: std::marker::PhantomData<&'a str>,
    /// Also build the JSON reading (see [`load_head_and_json`]).
    json: bool,
}

impl<'a, E: Events<'a>> HeadPass<'a, E> {
    /// The next event that is not a comment; anchors and the end of input leave the fast path.
    fn event(&mut self) -> HeadResult<Event<'a>> {
        loop {
            match self.b.next() {
                Ok(Some((Event::Comment(..), _))) => continue,
                Ok(Some((Event::Anchor(..), _))) | Ok(None) | Err(_) => return Err(()),
                Ok(Some((ev, _))) => return Ok(ev),
            }
        }
    }

    fn document(&mut self) -> HeadResult<(Value, Option<serde_json::Value>)> {
        loop {
            match self.b.next() {
                Ok(None) | Ok(Some((Event::StreamEnd, _))) | Ok(Some((Event::DocumentEnd, _))) => {
                    return Ok((Value::Nil, self.json.then_some(serde_json::Value::Null)))
                }
                Ok(Some((Event::StreamStart, _)))
                | Ok(Some((Event::DocumentStart(..), _)))
                | Ok(Some((Event::Comment(..), _))) => continue,
                Ok(Some((Event::Anchor(..), _))) | Err(_) => return Err(()),
                Ok(Some((ev, _))) => {
                    let (root, mut json) = self.node(ev, 0, Want::Root)?;
                    // As in `first_document`: errors right after the root count.
                    loop {
                        match self.b.next() {
                            Ok(Some((Event::Comment(..), _))) => continue,
                            Ok(Some((Event::Anchor(..), _))) | Err(_) => return Err(()),
                            Ok(Some((Event::StreamEnd, _))) => break,
                            Ok(Some((Event::DocumentEnd, _))) => {
                                // Only the head counts beyond here: a second document (or an
                                // error in it) leaves the JSON to serde-saphyr.
                                if json.is_some() && !matches!(self.b.next(), Ok(Some((Event::StreamEnd, _)))) {
                                    json = None;
                                }
                                break;
                            }
                            // A second document: serde-saphyr decides what that means.
                            _ => {
                                json = None;
                                break;
                            }
                        }
                    }
                    return Ok((root.into_value(), json));
                }
            }
        }
    }

    /// The node as the head sees it, and (when asked for and still possible) as JSON.
    fn node(&mut self, ev: Event<'a>, depth: usize, want: Want) -> HeadResult<(Got, Option<serde_json::Value>)> {
        if depth > 1000 {
            return Err(());
        }
        match ev {
            Event::Scalar(v, style, anchor, tag) => {
                if anchor != 0 || tag.is_some() {
                    return Err(());
                }
                if style != ScalarStyle::Plain {
                    let json = self.json.then(|| serde_json::Value::String(v.to_string()));
                    return Ok((
                        if want == Want::Skip {
                            Got::Other
                        } else {
                            Got::Str(v.into_owned())
                        },
                        json,
                    ));
                }
                // Builder::node refuses these (libyaml's "mapping values are not allowed").
                if !E::VETTED && v.contains(": ") {
                    return Err(());
                }
                let json = if self.json { super::saphyr::plain(&v) } else { None };
                if want == Want::Skip && !matches!(v.as_bytes().first(), Some(b'.' | b'+' | b'-')) {
                    // Only `.inf`/`.nan` forms fail (in the JSON step), and they start so.
                    return Ok((Got::Other, json));
                }
                let got = match resolve::resolve_plain(&v) {
                    Resolved::Float(f) if !f.is_finite() => return Err(()),
                    _ if want == Want::Skip => Got::Other,
                    Resolved::Null => Got::Nil,
                    Resolved::Str | Resolved::Timestamp | Resolved::Merge => Got::Str(v.into_owned()),
                    _ => Got::Other,
                };
                Ok((got, json))
            }
            Event::SequenceStart(_, anchor, tag) => {
                if anchor != 0 || tag.is_some() {
                    return Err(());
                }
                let mut items = self.json.then(Vec::new);
                loop {
                    match self.event()? {
                        Event::SequenceEnd => return Ok((Got::Other, items.map(serde_json::Value::Array))),
                        ev => {
                            let (_, j) = self.node(ev, depth + 1, Want::Skip)?;
                            if let Some(list) = &mut items {
                                match j {
                                    Some(j) if depth < 64 => list.push(j),
                                    _ => items = None,
                                }
                            }
                        }
                    }
                }
            }
            Event::MappingStart(style, anchor, tag) => {
                if anchor != 0 || tag.is_some() {
                    return Err(());
                }
                let block = style == serde_saphyr::granit_parser::StructureStyle::Block;
                let out = matches!(want, Want::Root | Want::Metadata | Want::Annotations).then(Map::new);
                // The JSON pairs wait on a stack shared by the whole document and become a map of
                // exactly their size at the end (growing each map entry by entry was a good part
                // of the planner's allocations).
                let base = self.pairs.len();
                let mut json_ok = self.json && depth < 64;
                loop {
                    let key = match self.event()? {
                        Event::MappingEnd => break,
                        Event::Scalar(k, style, anchor, tag) => {
                            if anchor != 0 || tag.is_some() {
                                return Err(());
                            }
                            if style == ScalarStyle::Plain {
                                if (block && k.is_empty()) || (!E::VETTED && k.contains(": ")) {
                                    return Err(());
                                }
                                // In a collected map the key must read as itself (`n:` is the
                                // key "false"); elsewhere only null, uint64 and merge keys are
                                // go-yaml's special cases.
                                if out.is_some()
                                    && !matches!(resolve::resolve_plain(&k), Resolved::Str | Resolved::Timestamp)
                                {
                                    return Err(());
                                }
                                if matches!(
                                    k.as_bytes().first(),
                                    None | Some(b'0'..=b'9' | b'+' | b'-' | b'.' | b'~' | b'n' | b'N' | b'<')
                                ) && matches!(
                                    resolve::resolve_plain(&k),
                                    Resolved::Null | Resolved::Uint(_) | Resolved::Merge
                                ) {
                                    return Err(());
                                }
                            }
                            // Keys serde-saphyr refuses or reads otherwise (`super::saphyr`).
                            if style == ScalarStyle::Plain && super::saphyr::odd_key(&k) {
                                json_ok = false;
                            }
                            k
                        }
                        // Collection or alias keys.
                        _ => return Err(()),
                    };
                    let child = match (want, &*key) {
                        (Want::Root, "apiVersion" | "kind") => Want::Scalar,
                        (Want::Root, "metadata") => Want::Metadata,
                        (Want::Metadata, "name" | "namespace") => Want::Scalar,
                        (Want::Metadata, "annotations") => Want::Annotations,
                        (Want::Annotations, _) => Want::Scalar,
                        _ => Want::Skip,
                    };
                    let ev = self.event()?;
                    let (got, j) = self.node(ev, depth + 1, child)?;
                    if json_ok {
                        match j {
                            Some(j) => self.pairs.push((key.to_string(), j)),
                            None => json_ok = false,
                        }
                    }
                    if let Some(m) = &out {
                        if child != Want::Skip {
                            m.insert(key.into_owned(), got.into_value());
                        }
                    }
                }
                let mut jmap = None;
                if json_ok {
                    let mut m = serde_json::Map::with_capacity(self.pairs.len() - base);
                    // A duplicate key: serde-saphyr decides what it means.
                    let dup = self.pairs.drain(base..).any(|(k, v)| m.insert(k, v).is_some());
                    jmap = (!dup).then_some(m);
                }
                self.pairs.truncate(base);
                let got = match out {
                    Some(m) => Got::Map(m),
                    None => Got::Other,
                };
                Ok((got, jmap.map(serde_json::Value::Object)))
            }
            _ => Err(()),
        }
    }
}

/// Splits a stream into documents like apimachinery's `YAMLReader` (Helm 4's `LoadValues`): a line
/// starting with `---` ends a document; only spaces or a comment may follow the marker. A
/// separator met with nothing buffered is kept as the first line of the next document.
pub fn split_documents(text: &str) -> Result<Vec<String>, YamlError> {
    split_documents_with(text, true)
}

/// [`split_documents`], the one document splitter for line-based streams (values files, release
/// manifests). `strict: false` reads a `---` line followed by other text as an ordinary line
/// instead of failing (`crate::manifest`, which must not fail on a manifest Helm wrote).
pub fn split_documents_with(text: &str, strict: bool) -> Result<Vec<String>, YamlError> {
    let mut docs = Vec::new();
    let mut buf = String::new();
    for line in text.split_inclusive('\n') {
        if let Some(rest) = line.strip_prefix("---") {
            let trimmed = rest.trim();
            let separator = trimmed.is_empty() || trimmed.starts_with('#');
            if !separator && strict {
                return Err(YamlError::Split(format!("invalid Yaml document separator: {trimmed}")));
            }
            if separator && !buf.is_empty() {
                docs.push(std::mem::take(&mut buf));
                continue;
            }
            // A separator that starts a document stays in it (line numbers count it).
        }
        buf.push_str(line);
    }
    if !buf.is_empty() {
        docs.push(buf);
    }
    Ok(docs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(v: &Value, k: &str) -> Value {
        v.as_map().and_then(|m| m.get(k)).unwrap_or(Value::Nil)
    }

    // Expectations from `helm template` with `{{ toJson .Values }}` (helm 4.1.4).
    #[test]
    fn values_like_helm() {
        let text = "a: yes\nb: on\non: 1\nc: 0755\nd: 0x1F\ne: 1_000\nf: 2001-12-14\ng: ~\nh:\n\
                    i: 12345678901234567891\nj: 0o17\nk: 08\nl: .5\nm: 1e3\nn: +12\no: -0b101\np: !!str 12\n\
                    q: !!int \"12\"\n1.5: x\n0.1: y\n3: z\nr: &x {a: 1, b: 2}\ns:\n  <<: *x\n  b: 3\nt: 'yes'\n\
                    u: \"0x1F\"\nv: 1e400\nw: 1.0\nx2: 2001-12-14 21:59:43.10 -5\n";
        let v = from_str_for_test(text);
        assert_eq!(format!("{:?}", get(&v, "a")), "true");
        assert_eq!(format!("{:?}", get(&v, "true")), "float64(1)");
        assert_eq!(format!("{:?}", get(&v, "false")), "float64(12)");
        assert_eq!(format!("{:?}", get(&v, "c")), "float64(493)");
        assert_eq!(format!("{:?}", get(&v, "d")), "float64(31)");
        assert_eq!(format!("{:?}", get(&v, "e")), "float64(1000)");
        assert_eq!(format!("{:?}", get(&v, "f")), "\"2001-12-14\"");
        assert!(get(&v, "g").is_nil() && v.as_map().unwrap().contains_key("h"));
        assert_eq!(format!("{:?}", get(&v, "i")), "float64(12345678901234567000)");
        assert_eq!(format!("{:?}", get(&v, "j")), "float64(15)");
        assert_eq!(format!("{:?}", get(&v, "k")), "float64(8)");
        assert_eq!(format!("{:?}", get(&v, "o")), "float64(-5)");
        assert_eq!(format!("{:?}", get(&v, "p")), "\"12\"");
        assert_eq!(format!("{:?}", get(&v, "q")), "float64(12)");
        assert_eq!(format!("{:?}", get(&v, "1.5")), "\"x\"");
        assert_eq!(format!("{:?}", get(&v, "0.1")), "true");
        assert_eq!(format!("{:?}", get(&v, "3")), "\"z\"");
        assert_eq!(format!("{:?}", get(&v, "s")), "{\"a\": float64(1), \"b\": float64(3)}");
        assert_eq!(format!("{:?}", get(&v, "t")), "\"yes\"");
        assert_eq!(format!("{:?}", get(&v, "u")), "\"0x1F\"");
        assert_eq!(format!("{:?}", get(&v, "v")), "\"1e400\"");
        assert_eq!(format!("{:?}", get(&v, "x2")), "\"2001-12-14 21:59:43.10 -5\"");
    }

    #[test]
    fn typed_keeps_go_yaml_types() {
        // go-yaml v2 gives int for 0755/0x1F/1_000 and float64 for 1.10 (resolve.go).
        let v = load_first_typed("a: 0755\nb: 1.10\nc: .inf\nd: 0x1F\n").unwrap();
        assert_eq!(format!("{:?}", get(&v, "a")), "int(493)");
        assert_eq!(format!("{:?}", get(&v, "b")), "float64(1.1)");
        assert_eq!(format!("{:?}", get(&v, "c")), "float64(inf)");
        assert_eq!(format!("{:?}", get(&v, "d")), "int(31)");
    }

    /// What output.rs reads of a document: the head fields, strings or "" (annotations: nil
    /// skipped, other types "").
    fn head_of(v: &Value) -> String {
        let at = |path: &[&str]| -> Option<Value> {
            let mut cur = v.clone();
            for k in path {
                cur = cur.as_map()?.get(k)?;
            }
            Some(cur)
        };
        let s = |path: &[&str]| match at(path) {
            Some(Value::String(s)) => s.to_string(),
            _ => String::new(),
        };
        let mut ann = Vec::new();
        if let Some(Value::Map(m)) = at(&["metadata", "annotations"]) {
            for (k, x) in m.entries() {
                match x {
                    Value::String(s) => ann.push(format!("{k}={s}")),
                    Value::Nil => {}
                    _ => ann.push(format!("{k}=")),
                }
            }
        }
        format!(
            "{}|{}|{}|{}|{}",
            s(&["apiVersion"]),
            s(&["kind"]),
            s(&["metadata", "name"]),
            s(&["metadata", "namespace"]),
            ann.join(",")
        )
    }

    fn same_head(text: &str) {
        let full = load_first(text).map(|v| head_of(&v)).map_err(|e| e.to_string());
        let head = load_head(text).map(|v| head_of(&v)).map_err(|e| e.to_string());
        assert_eq!(full, head, "for {text:?}");
    }

    #[test]
    fn head_pass_agrees_with_full_load() {
        let cases = [
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: n\ndata:\n  x: 1\n",
            "apiVersion: v1\nkind: Job\nmetadata:\n  name: h\n  annotations:\n    helm.sh/hook: pre-install\n    helm.sh/hook-weight: \"5\"\n    n: 5\n    z: ~\n    l: [a]\n",
            "kind: 5\napiVersion: true\nmetadata: {name: x, annotations: {a: b}}\n",
            "kind: A\nkind: B\nmetadata:\n  name: a\nmetadata:\n  namespace: b\n",
            "'kind': \"Q\"\nmetadata:\n  \"name\": 'n'\n",
            "kind: A\nmetadata: x\n",
            "kind: A\nmetadata:\n  name: ~\n  namespace: null\n  annotations: 3\n",
            "kind: 2001-12-14\nmetadata:\n  name: <<\n",
            "- a\n- b\n",
            "just text\n",
            "",
            "# only a comment\n",
            "kind: A\nx: .inf\n",
            "kind: A\nx: [1, -.Inf]\n",
            "kind: A\nx: &a {b: 1}\ny: *a\n",
            "kind: A\nx:\n  <<: {b: 1}\n",
            "kind: A\n~: 1\n",
            "kind: A\n18446744073709551615: 1\n",
            "kind: A\n? [a]\n: 1\n",
            "kind: !!str A\n",
            "kind: !!int x\n",
            "kind: A\nx: !!binary \"%%%\"\n",
            "kind: A\n\tx: 1\n",
            "kind: A\nmetadata:\n\tname: b\n",
            "kind: A\nb: c: d\n",
            "kind: [\n",
            "kind: A\n  b: 1\n",
            "kind: \"unclosed\n",
            "kind: A\n---\nkind: B\n",
            "kind: A\n...\n",
            "kind: A\nlist:\n- a: 1\n  b: {c: [d, e]}\n- |\n  text\n",
            "kind: A\nmetadata:\n  annotations:\n    checksum/config: |\n      abc\n    other: >-\n      folded\n",
            "kind: A\n: 1\n",
            "{kind: A, metadata: {name: b}}\n",
            "kind: A\nx: 1\nx: 2\n",
        ];
        for c in cases {
            same_head(c);
        }
        // Every YAML-ish document of the repository's charts and fixtures, whole and cut short at
        // a few places.
        let mut n = 0;
        for doc in crate::testutil::yaml_documents(&["charts", "tests"]) {
            let doc = doc.as_str();
            same_head(doc);
            for cut in [doc.len() / 3, doc.len() / 2, doc.len() * 4 / 5] {
                let mut c = cut;
                while !doc.is_char_boundary(c) {
                    c -= 1;
                }
                same_head(&doc[..c]);
            }
            n += 1;
        }
        assert!(n > 100, "only {n} documents found");
    }

    fn from_str_for_test(t: &str) -> Value {
        match load_first(t) {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        }
    }
}
