//! A fast path for [`super::to_yaml`]: the canonical YAML of an object exactly as serde-saphyr
//! prints it (block style, no folding), for the common shape of Kubernetes objects.
//!
//! serde-saphyr's serializer checks every string against its quoting rules (YAML 1.1 bools,
//! numbers, timestamps, indicators, comment starts…), which made canonical YAML the largest part of
//! the diff on large releases. This printer writes the structure itself and decides quoting
//! only for strings that are plainly safe (a letter, then letters, digits and `._/-`, and not a
//! YAML 1.1 bool/null word); any other scalar is printed by serde-saphyr on its own, in the
//! same position (key or value), and anything unusual — a multi-line string, a root that is not
//! a non-empty mapping — makes it answer `None` so the caller uses serde-saphyr for the whole value.
//! `tests::agrees_with_serde_saphyr` compares both on every YAML document of the repository.

use serde_json::Value as Json;

pub fn to_yaml(v: &Json) -> Option<String> {
    let Json::Object(m) = v else { return None };
    if m.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(1024);
    map(&mut out, m, 0)?;
    Some(out)
}

fn indent(out: &mut String, n: usize) {
    for _ in 0..n {
        out.push(' ');
    }
}

fn map(out: &mut String, m: &serde_json::Map<String, Json>, ind: usize) -> Option<()> {
    for (i, (k, v)) in m.iter().enumerate() {
        // The first entry of a mapping inside a sequence item follows its `- `.
        if i > 0 {
            indent(out, ind);
        }
        key(out, k)?;
        out.push(':');
        value_after_key(out, v, ind)?;
    }
    Some(())
}

/// What follows `key:` (the value on this line, or a newline and the block below).
fn value_after_key(out: &mut String, v: &Json, ind: usize) -> Option<()> {
    match v {
        Json::Object(c) if c.is_empty() => out.push_str(" {}\n"),
        Json::Array(c) if c.is_empty() => out.push_str(" []\n"),
        Json::Object(c) => {
            out.push('\n');
            indent(out, ind + 2);
            map(out, c, ind + 2)?;
        }
        Json::Array(items) => {
            out.push('\n');
            seq(out, items, ind)?;
        }
        s => {
            out.push(' ');
            scalar(out, s)?;
            out.push('\n');
        }
    }
    Some(())
}

fn seq(out: &mut String, items: &[Json], ind: usize) -> Option<()> {
    for item in items {
        indent(out, ind);
        seq_item(out, item, ind)?;
    }
    Some(())
}

/// One item after its indentation: `- …`.
fn seq_item(out: &mut String, item: &Json, ind: usize) -> Option<()> {
    out.push_str("- ");
    match item {
        Json::Object(c) if c.is_empty() => out.push_str("{}\n"),
        Json::Array(c) if c.is_empty() => out.push_str("[]\n"),
        Json::Object(c) => map(out, c, ind + 2)?,
        Json::Array(c) => {
            let (first, rest) = c.split_first()?;
            seq_item(out, first, ind + 2)?;
            seq(out, rest, ind + 2)?;
        }
        s => {
            scalar(out, s)?;
            out.push('\n');
        }
    }
    Some(())
}

/// A string serde-saphyr certainly prints plain, as key or value.
fn plain_safe(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 200
        && b[0].is_ascii_alphabetic()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'/' | b'-'))
        && !(b.len() <= 5
            && [
                "y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf",
            ]
            .iter()
            .any(|w| s.eq_ignore_ascii_case(w)))
}

/// A string serde-saphyr certainly prints plain in value position: words with spaces, commas
/// and parentheses (masked Secret values read `(hidden, 24 bytes)`), no `:` or `#`, no edge space.
fn plain_safe_value(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 200
        && (b[0].is_ascii_alphabetic() || b[0] == b'(')
        && b[b.len() - 1] != b' '
        // Without a space, comma or parenthesis only `plain_safe` (with its YAML 1.1 words) decides.
        && b.iter().any(|c| matches!(c, b' ' | b'(' | b')' | b','))
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'/' | b'-' | b' ' | b'(' | b')' | b','))
}

fn key(out: &mut String, k: &str) -> Option<()> {
    if plain_safe(k) {
        out.push_str(k);
        return Some(());
    }
    let key = Json::String(k.to_string());
    remembered(out, Pos::Key, &key, || {
        // serde-saphyr's own rendering of this key: `KEY: null`.
        let mut m = serde_json::Map::new();
        m.insert(k.to_string(), Json::Null);
        let text = saphyr(&Json::Object(m))?;
        let k = text.strip_suffix(": null\n")?;
        (!k.contains('\n')).then(|| k.to_string())
    })
}

#[derive(Clone, Copy)]
enum Pos {
    Key = 0,
    Value = 1,
}

thread_local! {
    /// serde-saphyr's renderings of the scalars it was asked for, by position (key, value): a
    /// release repeats the same odd scalars (image references, versions, quoted numbers) in every
    /// object, and each serde-saphyr call costs a few thousand instructions.
    /// (Fx-hashed: these lookups run for every such scalar of every changed object.)
    static SEEN: std::cell::RefCell<[Seen; 2]> = Default::default();
}

type Seen = std::collections::HashMap<Json, Option<String>, crate::manifest::FastHash>;

/// Appends the remembered rendering of `v` (printing it the first time); `None` when there is none.
fn remembered(out: &mut String, pos: Pos, v: &Json, print: impl FnOnce() -> Option<String>) -> Option<()> {
    let at = pos as usize;
    let hit = SEEN.with(|m| {
        m.borrow()[at].get(v).map(|t| match t {
            Some(t) => {
                out.push_str(t);
                Some(())
            }
            None => None,
        })
    });
    if let Some(done) = hit {
        return done;
    }
    let text = print();
    if let Some(t) = &text {
        out.push_str(t);
    }
    SEEN.with(|m| m.borrow_mut()[at].insert(v.clone(), text.clone()));
    text.map(|_| ())
}

fn scalar(out: &mut String, v: &Json) -> Option<()> {
    match v {
        Json::Null => out.push_str("null"),
        Json::Bool(true) => out.push_str("true"),
        Json::Bool(false) => out.push_str("false"),
        Json::Number(n) if n.is_i64() || n.is_u64() => out.push_str(&n.to_string()),
        Json::String(s) if plain_safe(s) || plain_safe_value(s) => out.push_str(s),
        _ => remembered(out, Pos::Value, v, || {
            // serde-saphyr's own rendering of this value: `k: VALUE`.
            let mut m = serde_json::Map::new();
            m.insert("k".to_string(), v.clone());
            let text = saphyr(&Json::Object(m))?;
            let s = text.strip_prefix("k: ")?.strip_suffix('\n')?;
            (!s.contains('\n')).then(|| s.to_string())
        })?,
    }
    Some(())
}

fn saphyr(v: &Json) -> Option<String> {
    let mut opts = serde_saphyr::SerializerOptions::default();
    opts.folded_wrap_chars = 100_000;
    serde_saphyr::to_string_with_options(v, opts).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_serde_saphyr() {
        let files = crate::testutil::repo_files(&[""], &["yaml", "yml", "json"]);
        let mut values: Vec<Json> = Vec::new();
        for f in &files {
            let Ok(t) = std::fs::read_to_string(f) else { continue };
            for d in crate::manifest::split_documents(&t) {
                if let Ok(v) = crate::manifest::parse_yaml(&d.text) {
                    values.push(v);
                }
            }
        }
        let extra = [
            r#"{"a": {"b": [], "c": {}, "d": [[1, [2, 3]], {"e": 1, "f": [{}]}, []], "n": 1.5, "y": "y", "on": "yes"}}"#,
            r##"{"s": ["", " x", "x ", "a: b", "#c", "- d", "1.1.0", "0755", "100m", "*", "~", "null", "a'b", "say \"hi\"", "multi\nline"]}"##,
            r#"{"m": ["(hidden, 24 bytes)", "(hidden) changed (3 bytes)", "a b", "x ,y", "a  b", "(", "()", "a -b", "y n", "no way", "on (x)"], "": 1, "1": 2, "n": 3, "a b": 4, "x:": 5, "-": 6, "k": -3, "big": 18446744073709551615, "f": 1e300}"#,
        ];
        for e in extra {
            values.push(serde_json::from_str(e).unwrap());
        }
        let mut fast = 0;
        for v in &values {
            if let Some(text) = to_yaml(v) {
                fast += 1;
                assert_eq!(Some(text), saphyr(v), "{v:#}");
            }
        }
        assert!(fast > 150, "the fast printer took {fast} of {} values", values.len());
        let n = values.len();
        // The nested shapes and the odd keys above go the fast way (the multi-line string not).
        assert!(to_yaml(&values[n - 3]).is_some() && to_yaml(&values[n - 1]).is_some());
        assert!(to_yaml(&values[n - 2]).is_none());
    }
}
