//! A fast path for reading one rendered document into `serde_json::Value`, giving exactly what
//! [`super::parse_yaml`] (serde-saphyr, legacy octal) gives.
//!
//! Parsing every rendered document with serde-saphyr's deserializer was about half of the
//! planner's instructions on large releases (`benches/plan.sh`): its event buffering and the
//! serde visitor machinery cost about as much again as granit's scanner itself. This pass walks
//! granit's events directly and builds the JSON value in one go. It only handles the plain case —
//! no anchors, aliases, tags, merge keys, null keys, duplicate keys, complex keys, several
//! documents — and answers `None` for anything else (and for every error), so the caller runs
//! serde-saphyr and errors and unusual documents keep one source of truth. Plain scalars whose
//! type is not obvious (numbers other than small decimal integers, YAML 1.1 bool/null words in any
//! case, `.inf`/`.nan` forms) are resolved by serde-saphyr itself, one scalar at a time.
//! `tests::agrees_with_serde_saphyr` compares both paths on every YAML file of the repository.

use serde_json::{Map, Value as Json};
use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle, StructureStyle};

use crate::yaml::saphyr::{odd_key, plain};

/// `None`: not the plain case, or an error; use serde-saphyr.
pub fn parse(text: &str) -> Option<Json> {
    let mut p = Parser::new_from_str(text);
    let mut root = None;
    loop {
        let (ev, _) = p.next_event()?.ok()?;
        match ev {
            Event::StreamStart | Event::Comment(..) => continue,
            Event::DocumentStart(..) if root.is_none() => continue,
            Event::DocumentEnd => continue,
            Event::StreamEnd => return Some(root.unwrap_or(Json::Null)),
            ev if root.is_none() => root = Some(node(&mut p, ev, 0)?),
            // A second document or anything unexpected: serde-saphyr decides.
            _ => return None,
        }
    }
}

fn event<'a>(p: &mut Parser<'a, serde_saphyr::granit_parser::StrInput<'a>>) -> Option<Event<'a>> {
    loop {
        match p.next_event()?.ok()?.0 {
            Event::Comment(..) => continue,
            Event::Anchor(..) => return None,
            ev => return Some(ev),
        }
    }
}

fn node<'a>(
    p: &mut Parser<'a, serde_saphyr::granit_parser::StrInput<'a>>,
    ev: Event<'a>,
    depth: usize,
) -> Option<Json> {
    if depth > 64 {
        return None;
    }
    match ev {
        Event::Scalar(v, style, anchor, tag) => {
            if anchor != 0 || tag.is_some() {
                return None;
            }
            if style != ScalarStyle::Plain {
                return Some(Json::String(v.into_owned()));
            }
            plain(&v)
        }
        Event::SequenceStart(_, anchor, tag) => {
            if anchor != 0 || tag.is_some() {
                return None;
            }
            let mut items = Vec::new();
            loop {
                match event(p)? {
                    Event::SequenceEnd => return Some(Json::Array(items)),
                    ev => items.push(node(p, ev, depth + 1)?),
                }
            }
        }
        Event::MappingStart(style, anchor, tag) => {
            if anchor != 0 || tag.is_some() {
                return None;
            }
            let block = style == StructureStyle::Block;
            let mut map = Map::new();
            loop {
                let key = match event(p)? {
                    Event::MappingEnd => return Some(Json::Object(map)),
                    Event::Scalar(k, style, anchor, tag) => {
                        if anchor != 0 || tag.is_some() {
                            return None;
                        }
                        // Null keys (serde-saphyr refuses them), the merge key, empty keys in
                        // block style and `k: v` read as one scalar go the slow way.
                        if style == ScalarStyle::Plain && ((block && k.is_empty()) || k.contains(": ") || odd_key(&k)) {
                            return None;
                        }
                        k.into_owned()
                    }
                    _ => return None,
                };
                if map.contains_key(&key) {
                    return None;
                }
                let ev = event(p)?;
                let value = node(p, ev, depth + 1)?;
                map.insert(key, value);
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_serde_saphyr() {
        let files = crate::testutil::repo_files(&[""], &["yaml", "yml"]);
        let mut texts: Vec<String> = Vec::new();
        for f in &files {
            if let Ok(t) = std::fs::read_to_string(f) {
                // Each document on its own, as the planner sees them.
                for d in super::super::split_documents(&t) {
                    texts.push(d.text);
                }
                texts.push(t);
            }
        }
        let extra = [
            "a: 1\nb: -2\nc: 01\nd: 0755\ne: 1.0\nf: 1_000\ng: 0x1F\nh: +1\n",
            "a: yes\nb: No\nc: oN\nd: nULL\ne: ~\nf:\ng: .inf\nh: inf\ni: Infinity\n",
            "a: 1.1.0\nb: 100m\nc: 128Mi\nd: 2001-12-14\ne: 12:30\nf: \"1\"\ng: '0755'\n",
            "a: 9223372036854775807\nb: 9223372036854775808\nc: 18446744073709551616\nd: 123456789012345678\n",
            "on: 1\nyes: 2\n1: 3\n",
            "a: &x 1\nb: *x\n",
            "a: 1\na: 2\n",
            "<<: {a: 1}\n",
            "~: 1\n",
            "- 1\n- [a, {b: c}]\n",
            "a: |\n  text\n  more\nb: >\n  folded\n  text\n",
            "a: !!str 1\n",
            "a: 1\n---\nb: 2\n",
            "",
            "# only a comment\n",
            "a: [\n",
            "a: b: c\n",
        ];
        texts.extend(extra.iter().map(|s| s.to_string()));
        let mut fast = 0;
        let mut shared = 0;
        for t in &texts {
            // The renderer's sorting pass reads the same JSON (and exactly the head it read alone).
            let (head, json) = crate::yaml::head_and_json_from_str(t);
            assert_eq!(
                format!("{head:?}"),
                format!("{:?}", crate::yaml::head_from_str(t)),
                "{t}"
            );
            // Equal to serde-saphyr's reading, key order included (the diff prints keys as they come).
            let same_as_slow = |v: &Json| {
                let slow = super::super::parse_yaml(t);
                assert_eq!(slow.as_ref(), Ok(v), "{t}");
                assert_eq!(
                    serde_json::to_string(v).ok(),
                    slow.ok().and_then(|s| serde_json::to_string(&s).ok()),
                    "{t}"
                );
            };
            if let Some(j) = json {
                shared += 1;
                same_as_slow(&j);
            }
            if let Some(v) = parse(t) {
                fast += 1;
                same_as_slow(&v);
            }
        }
        // Most repository files are templates (not YAML); the rendered and plain ones must take
        // the fast path, and so must the plain examples above.
        assert!(fast > 200, "the fast path took {fast} of {} texts", texts.len());
        assert!(shared > 200, "the shared pass read {shared} of {} texts", texts.len());
        for i in [0, 2, 3, 4, 9, 10] {
            let t = extra[i];
            assert!(parse(t).is_some(), "{t}");
            // (A root key go-yaml reads as a bool, `on:`, sends the head pass to the full loader.)
            assert!(crate::yaml::head_and_json_from_str(t).1.is_some() || i == 4, "{t}");
        }
    }
}
