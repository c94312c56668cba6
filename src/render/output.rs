//! From rendered files to what `helm template` prints: Helm's `SortManifests` (split each file
//! into documents, read each document's head, separate hooks), the install-order kind sort, and
//! the printing of pkg/cmd/template.go (`# Source:` headers, hooks after manifests,
//! `--skip-tests`, `--show-only`, `--output-dir`).
//!
//! Everything here follows helm v4.1.4's code closely, including its quirks (documents are split
//! with `(?:^|\s*\n)---\s*`, so `---` followed by another `---` leaves a document that starts with
//! `---`; `--show-only` re-splits the printed stream), because parity is byte for byte.

use std::collections::BTreeMap;

use crate::manifest::INSTALL_ORDER;
use crate::value::Value;

/// Hook information of a document annotated `helm.sh/hook`.
#[derive(Debug, Clone, PartialEq)]
pub struct HookInfo {
    /// Normalised event names (`test-success` becomes `test`), in annotation order.
    pub events: Vec<String>,
    /// `helm.sh/hook-weight` (0 when absent or not an integer).
    pub weight: i64,
    /// `helm.sh/hook-delete-policy` entries.
    pub delete_policies: Vec<String>,
    /// `helm.sh/hook-output-log-policy` entries.
    pub output_log_policies: Vec<String>,
}

impl HookInfo {
    pub fn is_test(&self) -> bool {
        self.events.iter().any(|e| e == "test")
    }
}

/// One YAML document of the rendered output, with the parts of its head Helm reads.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// Template path, e.g. `mychart/templates/deployment.yaml` (the `# Source:` line).
    pub source: String,
    /// The document text (trimmed, without the `---` separator).
    pub content: String,
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub namespace: String,
    /// `Some` for hooks.
    pub hook: Option<HookInfo>,
    /// Which document this is in reading order (the n-th call of `sort_manifests`'s parser).
    pub doc: usize,
}

/// Go's `strings.TrimSpace`.
fn trim_space(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace())
}

/// Go's `\s` (ASCII whitespace: `[\t\n\f\r ]`).
fn go_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0C | b'\r' | b' ')
}

/// The pieces between matches of helm's separator `(?:^|\s*\n)---\s*` (Go's `Regexp.Split(s,
/// -1)`), found by hand: compiling the regex and running it over every rendered byte was ≈ 2 %
/// of a 1,000-object plan. Leftmost-first, as the regex: a match ends at the first `\n---` at or
/// after the search position, starts where the whitespace run before that newline starts (not
/// before the search position; `^` only at 0), and takes all whitespace after the `---`.
fn split_on_separators(s: &str) -> Vec<&str> {
    let b = s.as_bytes();
    let (mut pieces, mut start, mut from) = (Vec::new(), 0, 0);
    loop {
        let (m_start, dashes) = if from == 0 && b.starts_with(b"---") {
            (0, 0)
        } else {
            let Some(nl) = memchr::memmem::find(&b[from..], b"\n---").map(|i| from + i) else {
                break;
            };
            let mut m = nl;
            while m > from && go_space(b[m - 1]) {
                m -= 1;
            }
            (m, nl + 1)
        };
        let mut end = dashes + 3;
        while end < b.len() && go_space(b[end]) {
            end += 1;
        }
        pieces.push(&s[start..m_start]);
        start = end;
        from = end;
    }
    pieces.push(&s[start..]);
    pieces
}

/// `releaseutil.SplitManifests`, returning the documents in order.
pub fn split_manifests(big: &str) -> Vec<String> {
    let big = trim_space(big);
    split_on_separators(big)
        .into_iter()
        .filter(|d| !d.is_empty())
        .map(|d| {
            // One byte of room: a plan's document ends with the newline it adds (`push` into a
            // full string doubled it: a copy of every document and twice its memory).
            let d = trim_space(d);
            let mut s = String::with_capacity(d.len() + 1);
            s.push_str(d);
            s
        })
        .collect()
}

/// Read one document's head like `yaml.Unmarshal(doc, &SimpleHead{})`. `head` parses YAML.
fn parse_head(
    source: &str,
    doc: &str,
    parse_yaml: &dyn Fn(&str) -> Result<Value, String>,
) -> Result<(String, String, String, String, BTreeMap<String, String>), String> {
    if let Some(e) = crate::yaml::raw_bytes_error(doc) {
        return Err(format!(
            "YAML parse error on {source}: error converting YAML to JSON: yaml: {e}"
        ));
    }
    let v = parse_yaml(doc).map_err(|e| format!("YAML parse error on {source}: {e}"))?;
    // A document that is not a mapping cannot fill Helm's SimpleHead struct: helm fails.
    let kind_of = |v: &Value| match v {
        Value::Map(_) | Value::Nil => None,
        Value::List(_) => Some("array"),
        Value::String(_) => Some("string"),
        Value::Bool(_) => Some("bool"),
        _ => Some("number"),
    };
    // The head reader stands scalars in with placeholders: read the rare non-mapping in full.
    let not_object = kind_of(&v).and_then(|_| kind_of(&crate::yaml::from_str(doc).unwrap_or(Value::Bool(true))));
    if let Some(kind) = not_object {
        return Err(format!(
            "YAML parse error on {source}: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {kind} into Go value of type util.SimpleHead"
        ));
    }
    // Read in place (borrowed, not cloned level by level: this runs for every rendered document).
    let text = |v: Option<&Value>| match v {
        Some(Value::String(s)) => s.to_string(),
        _ => String::new(),
    };
    let mut annotations = BTreeMap::new();
    let Value::Map(root) = &v else {
        return Ok((String::new(), String::new(), String::new(), String::new(), annotations));
    };
    let root = root.cell.borrow();
    let (mut name, mut namespace) = (String::new(), String::new());
    if let Some(Value::Map(md)) = root.get("metadata") {
        let md = md.cell.borrow();
        name = text(md.get("name"));
        namespace = text(md.get("namespace"));
        if let Some(Value::Map(m)) = md.get("annotations") {
            for (k, val) in m.cell.borrow().iter() {
                if let Value::String(s) = val {
                    annotations.insert(k.clone(), s.to_string());
                } else if !val.is_nil() {
                    annotations.insert(k.clone(), String::new());
                }
            }
        }
    }
    Ok((
        text(root.get("apiVersion")),
        text(root.get("kind")),
        name,
        namespace,
        annotations,
    ))
}

/// Helm's `SortManifests`: `files` are (path, rendered text); partials and blank files are
/// skipped, documents with an unknown hook are dropped. Returns (hooks, manifests), each stably
/// sorted by kind in install order.
pub fn sort_manifests(
    files: &BTreeMap<String, String>,
    parse_yaml: &dyn Fn(&str) -> Result<Value, String>,
) -> Result<(Vec<Manifest>, Vec<Manifest>), String> {
    let mut hooks = Vec::new();
    let mut generic = Vec::new();
    let mut read = 0;
    for (path, content) in files {
        let base = path.rsplit('/').next().unwrap_or(path);
        if base.starts_with('_') || trim_space(content).is_empty() {
            continue;
        }
        for doc in split_manifests(content) {
            let (api_version, kind, name, namespace, annotations) = parse_head(path, &doc, parse_yaml)?;
            read += 1;
            let mut m = Manifest {
                source: path.clone(),
                content: doc,
                api_version,
                kind,
                name,
                namespace,
                hook: None,
                doc: read - 1,
            };
            let Some(hook_types) = annotations.get("helm.sh/hook") else {
                generic.push(m);
                continue;
            };
            // A hook naming an event Helm does not know is dropped, as Helm drops it.
            let Some(Ok(spec)) = crate::release::hooks::parse(|k| match k {
                "helm.sh/hook" => Some(hook_types.as_str()),
                other => annotations.get(other).map(String::as_str),
            }) else {
                continue;
            };
            m.hook = Some(HookInfo {
                events: spec.events,
                weight: spec.weight,
                delete_policies: spec.delete_policies,
                output_log_policies: spec.output_log_policies,
            });
            hooks.push(m);
        }
    }
    sort_by_kind(&mut hooks);
    sort_by_kind(&mut generic);
    Ok((hooks, generic))
}

/// Stable sort in install order; unknown kinds go last, alphabetically among themselves.
pub fn sort_by_kind(ms: &mut [Manifest]) {
    // Ranked once per manifest (a stable sort by key), not twice per comparison; unknown kinds
    // rank after every known one and among themselves by name.
    ms.sort_by_cached_key(|m| match INSTALL_ORDER.iter().position(|o| *o == m.kind) {
        Some(r) => (r, String::new()),
        None => (INSTALL_ORDER.len(), m.kind.clone()),
    });
}

/// Go's `filepath.Match` on `/`-separated paths (used by `--show-only`). Returns `None` for a
/// malformed pattern (Helm then treats it as not matching).
pub fn path_match(pattern: &str, name: &str) -> Option<bool> {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    fn class(p: &[char], mut i: usize, c: char) -> Option<(bool, usize)> {
        // p[i] is just after '['.
        let neg = p.get(i) == Some(&'^');
        if neg {
            i += 1;
        }
        let mut matched = false;
        let mut first = true;
        loop {
            let ch = *p.get(i)?;
            if ch == ']' && !first {
                return Some((matched != neg, i + 1));
            }
            first = false;
            let lo = if ch == '\\' {
                i += 1;
                *p.get(i)?
            } else {
                ch
            };
            i += 1;
            let mut hi = lo;
            if p.get(i) == Some(&'-') && p.get(i + 1).is_some_and(|c| *c != ']') {
                hi = if p[i + 1] == '\\' {
                    i += 1;
                    *p.get(i + 1)?
                } else {
                    p[i + 1]
                };
                i += 2;
            }
            if lo <= c && c <= hi {
                matched = true;
            }
        }
    }
    fn m(p: &[char], n: &[char]) -> Option<bool> {
        let Some(&c) = p.first() else {
            return Some(n.is_empty());
        };
        match c {
            '*' => {
                let rest = &p[1..];
                for i in 0..=n.len() {
                    if m(rest, &n[i..])? {
                        return Some(true);
                    }
                    if i < n.len() && n[i] == '/' {
                        break;
                    }
                }
                Some(false)
            }
            '?' => Some(n.first().is_some_and(|x| *x != '/') && m(&p[1..], &n[1..])?),
            '[' => {
                let Some(&x) = n.first() else {
                    // Still validate the pattern.
                    return Some(false);
                };
                if x == '/' {
                    return Some(false);
                }
                let (ok, next) = class(p, 1, x)?;
                Some(ok && m(&p[next..], &n[1..])?)
            }
            '\\' => {
                let e = *p.get(1)?;
                Some(n.first() == Some(&e) && m(&p[2..], &n[1..])?)
            }
            _ => Some(n.first() == Some(&c) && m(&p[1..], &n[1..])?),
        }
    }
    m(&p, &n)
}

/// What `helm template` writes on stdout for these documents (no `--output-dir`).
/// `crds` are (path, raw file text) printed first when `--include-crds`.
pub fn helm_template_output(
    crds: &[(String, String)],
    manifests: &[Manifest],
    hooks: &[Manifest],
    skip_tests: bool,
    no_hooks: bool,
    show_only: &[String],
) -> Result<String, String> {
    let mut body = String::new();
    for (path, data) in crds {
        body.push_str(&format!("---\n# Source: {path}\n{data}\n"));
    }
    for m in manifests {
        body.push_str(&format!("---\n# Source: {}\n{}\n", m.source, m.content));
    }
    let mut out = String::new();
    out.push_str(trim_space(&body));
    out.push('\n');
    if !no_hooks {
        for h in hooks {
            if skip_tests && h.hook.as_ref().is_some_and(HookInfo::is_test) {
                continue;
            }
            out.push_str(&format!("---\n# Source: {}\n{}\n", h.source, h.content));
        }
    }
    if show_only.is_empty() {
        return Ok(out);
    }
    let docs = split_manifests(&out);
    let mut shown = String::new();
    for f in show_only {
        // filepath.ToSlash: only where the separator is a backslash; elsewhere a backslash is
        // filepath.Match's escape.
        let f = if cfg!(windows) { f.replace('\\', "/") } else { f.clone() };
        let mut missing = true;
        for doc in &docs {
            // "# Source: [^/]+/(.+)": the first match in the document.
            let Some(name) = source_suffix(doc) else { continue };
            if path_match(&f, name) != Some(true) {
                continue;
            }
            shown.push_str(&format!("---\n{doc}\n"));
            missing = false;
        }
        if missing {
            return Err(format!("could not find template {f} in chart"));
        }
    }
    Ok(shown)
}

/// The path after the chart name on the first `# Source: chart/path` of a document.
fn source_suffix(doc: &str) -> Option<&str> {
    let mut rest = doc;
    while let Some(i) = rest.find("# Source: ") {
        let after = &rest[i + "# Source: ".len()..];
        // [^/]+ then '/', then (.+) up to the end of the line.
        let slash = after.find(['/', '\n']);
        if let Some(s) = slash {
            if after.as_bytes()[s] == b'/' && s > 0 {
                let tail = &after[s + 1..];
                let end = tail.find('\n').unwrap_or(tail.len());
                if end > 0 {
                    return Some(&tail[..end]);
                }
            }
        }
        rest = after;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators_split_as_helms_regex() {
        // helm's `sep` (releaseutil/manifest.go) with Go's `\s`, split by the regex crate as by Go.
        let re = regex::Regex::new(r"(?:^|[\t\n\x0C\r ]*\n)---[\t\n\x0C\r ]*").unwrap();
        let parts = ["---", "\n", " ", "\t\r", "a", "-", "--", "\x0C", "b c"];
        let mut texts = vec![String::new()];
        for _ in 0..5 {
            texts = texts
                .iter()
                .flat_map(|t| parts.iter().map(move |p| format!("{t}{p}")))
                .collect();
            for t in &texts {
                assert_eq!(split_on_separators(t), re.split(t).collect::<Vec<_>>(), "{t:?}");
            }
        }
        assert_eq!(texts.len(), parts.len().pow(5));
    }

    #[test]
    fn split_like_helm() {
        // releaseutil's tests: leading separator, trailing whitespace, separators with spaces.
        assert_eq!(split_manifests("---\na: 1\n---\nb: 2\n"), vec!["a: 1", "b: 2"]);
        // Observed with helm 4.1.4 (fixture actions/templates/multidoc.yaml): `---   \n---`
        // leaves a document starting with `---`.
        assert_eq!(split_manifests("a: 1\n---   \n---\nb: 2"), vec!["a: 1", "---\nb: 2"]);
    }

    #[test]
    fn kind_order_is_stable_and_unknown_last() {
        let mk = |k: &str, n: &str| Manifest {
            source: String::new(),
            content: n.into(),
            api_version: String::new(),
            kind: k.into(),
            name: n.into(),
            namespace: String::new(),
            hook: None,
            doc: 0,
        };
        let mut v = vec![
            mk("Widget", "w"),
            mk("Service", "s1"),
            mk("Gadget", "g"),
            mk("Namespace", "n"),
            mk("Service", "s2"),
        ];
        sort_by_kind(&mut v);
        let names: Vec<&str> = v.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["n", "s1", "s2", "g", "w"]);
    }

    #[test]
    fn filepath_match() {
        assert_eq!(path_match("templates/*.yaml", "templates/a.yaml"), Some(true));
        assert_eq!(path_match("templates/*", "templates/x/a.yaml"), Some(false));
        assert_eq!(
            path_match(
                "charts/web/templates/deployment.yaml",
                "charts/web/templates/deployment.yaml"
            ),
            Some(true)
        );
        assert_eq!(path_match("[", "x"), None);
    }
}
