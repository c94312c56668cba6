//! The layering rules, checked over the source text (a unit test, so `cargo test` runs it in CI).
//!
//! Every `crate::`, `super::` and `self::` path outside the test modules is a dependency of its
//! file on the deepest source file that path names (a re-export in a `mod.rs` is followed to the
//! file that defines the item). From those edges:
//!
//! - no circle between top-level modules, and none between files;
//! - the executor depends on neither `render` nor `plan::source` (it executes a plan, it never
//!   renders or plans);
//! - no stage depends on `ops` or `cli`, and `ops` not on `cli`.
//!
//! Reading paths from text rather than from the compiler keeps the check dependency-free; it
//! sees `use` lines and inline paths alike, which is what a reader follows too.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module-level edges allowed to close a circle: none since the lower floor of issue #11 broke the
/// last ones; an entry that no longer exists fails the test, so the list can only shrink.
const TOLERATED: &[(&str, &str)] = &[];

/// Source files by module path (`executor::run`; `executor` for `executor/mod.rs`).
fn sources() -> BTreeMap<String, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = BTreeMap::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).expect("src is readable").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            if p.extension().is_none_or(|x| x != "rs") {
                continue;
            }
            let rel = p.strip_prefix(&root).expect("under src").with_extension("");
            let mut parts: Vec<String> = rel.iter().map(|s| s.to_string_lossy().into_owned()).collect();
            if parts.last().is_some_and(|l| l == "mod") {
                parts.pop();
            }
            if parts == ["lib"] || parts == ["main"] {
                continue;
            }
            let text = std::fs::read_to_string(&p).expect("source is readable");
            out.insert(parts.join("::"), text);
        }
    }
    out
}

/// The text without comments, string literals and the test modules.
fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]\nmod tests").next().unwrap_or("");
    let mut out = String::with_capacity(text.len());
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if b[i] == b'\'' && b.get(i + 2) == Some(&b'\'') {
            // A char literal such as '"' or '{'.
            i += 3;
        } else if b[i] == b'\'' && b.get(i + 1) == Some(&b'\\') {
            i += 2;
            while i < b.len() && b[i] != b'\'' {
                i += 1;
            }
            i += 1;
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    out
}

fn ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The paths a `use` tree names: `a::{b, c::{d, e}}` → `a::b`, `a::c::d`, `a::c::e`.
fn expand(prefix: &[String], tree: &str, out: &mut Vec<Vec<String>>) {
    let tree = tree.trim();
    if let Some(inner) = tree.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
        let (mut depth, mut start) = (0, 0);
        for (i, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand(prefix, &inner[start..i], out);
                    start = i + 1;
                }
                _ => {}
            }
        }
        expand(prefix, &inner[start..], out);
        return;
    }
    let mut path = prefix.to_vec();
    let mut rest = tree;
    loop {
        let end = rest.find(|c: char| !ident(c)).unwrap_or(rest.len());
        if end == 0 {
            break;
        }
        path.push(rest[..end].to_string());
        rest = &rest[end..];
        match rest.strip_prefix("::") {
            Some(r) if r.trim_start().starts_with('{') => return expand(&path, r, out),
            Some(r) => rest = r,
            None => break,
        }
    }
    if !path.is_empty() {
        out.push(path);
    }
}

/// Every path of a file's code that starts at `crate`, `super` or `self`.
fn paths(code: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("use ") {
        let before = rest[..at].chars().last();
        rest = &rest[at + 4..];
        if before.is_some_and(ident) {
            continue;
        }
        if let Some(end) = rest.find(';') {
            expand(&[], &rest[..end], &mut out);
        }
    }
    for start in ["crate::", "super::", "self::"] {
        let mut rest = code;
        while let Some(at) = rest.find(start) {
            let before = rest[..at].chars().last();
            rest = &rest[at..];
            let end = rest.find(|c: char| !(ident(c) || c == ':')).unwrap_or(rest.len());
            if !before.is_some_and(|c| ident(c) || c == ':') {
                let p: Vec<String> = rest[..end]
                    .split("::")
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect();
                out.push(p);
            }
            rest = &rest[end.max(1)..];
        }
    }
    out
}

/// Items a `mod.rs` re-exports from its children: (module, item) → child module.
fn reexports(files: &BTreeMap<String, String>) -> BTreeMap<(String, String), String> {
    let mut out = BTreeMap::new();
    for (m, text) in files {
        let code = code(text);
        let mut rest = code.as_str();
        while let Some(at) = rest.find("pub use ") {
            rest = &rest[at + 8..];
            let Some(end) = rest.find(';') else { break };
            let mut ps = Vec::new();
            expand(&[], &rest[..end], &mut ps);
            for p in ps {
                let p: Vec<&str> = p.iter().map(|s| s.as_str()).collect();
                let child = match p.first() {
                    Some(&"self") => p.get(1),
                    Some(&"crate") | Some(&"super") => None,
                    first => first,
                };
                if let (Some(child), Some(item)) = (child, p.last()) {
                    let child = if m.is_empty() {
                        child.to_string()
                    } else {
                        format!("{m}::{child}")
                    };
                    if files.contains_key(&child) {
                        out.insert((m.clone(), item.to_string()), child);
                    }
                }
            }
        }
    }
    out
}

/// File → the files it depends on.
fn edges(files: &BTreeMap<String, String>) -> BTreeMap<String, BTreeSet<String>> {
    let re = reexports(files);
    let mut out = BTreeMap::new();
    for (m, text) in files {
        let here: Vec<String> = m.split("::").map(str::to_string).collect();
        let mut deps = BTreeSet::new();
        for p in paths(&code(text)) {
            let abs: Vec<String> = match p.first().map(String::as_str) {
                Some("crate") => p[1..].to_vec(),
                Some("super") => {
                    let mut base = here[..here.len() - 1].to_vec();
                    let mut q = &p[1..];
                    while q.first().is_some_and(|s| s == "super") {
                        base.pop();
                        q = &q[1..];
                    }
                    base.extend_from_slice(q);
                    base
                }
                Some("self") => here.iter().chain(&p[1..]).cloned().collect(),
                _ => continue,
            };
            let Some(depth) = (1..=abs.len())
                .rev()
                .find(|&i| files.contains_key(&abs[..i].join("::")))
            else {
                continue;
            };
            let mut target = abs[..depth].join("::");
            if let Some(item) = abs.get(depth) {
                if let Some(child) = re.get(&(target.clone(), item.clone())) {
                    target = child.clone();
                }
            }
            // A parent's `mod`/`pub use` lines are its interface, not a dependency on its children.
            if target != *m && !target.starts_with(&format!("{m}::")) {
                deps.insert(target);
            }
        }
        out.insert(m.clone(), deps);
    }
    out
}

/// The circles of a graph (strongly connected components of more than one node).
fn circles(g: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct Tarjan<'a> {
        g: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        out: Vec<Vec<String>>,
    }
    impl<'a> Tarjan<'a> {
        fn visit(&mut self, v: &'a str) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            self.on.insert(v);
            for w in self.g.get(v).into_iter().flatten() {
                let w = w.as_str();
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let lw = self.low[w];
                    let lv = self.low.get_mut(v).expect("visited");
                    *lv = (*lv).min(lw);
                } else if self.on.contains(w) {
                    let iw = self.index[w];
                    let lv = self.low.get_mut(v).expect("visited");
                    *lv = (*lv).min(iw);
                }
            }
            if self.low[v] == self.index[v] {
                let mut comp = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on.remove(w);
                    comp.push(w.to_string());
                    if w == v {
                        break;
                    }
                }
                if comp.len() > 1 {
                    comp.sort();
                    self.out.push(comp);
                }
            }
        }
    }
    let mut t = Tarjan {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in g.keys() {
        if !t.index.contains_key(v.as_str()) {
            t.visit(v);
        }
    }
    t.out
}

fn top(m: &str) -> &str {
    m.split("::").next().unwrap_or(m)
}

#[test]
fn no_circle_between_files() {
    let g = edges(&sources());
    assert_eq!(circles(&g), Vec::<Vec<String>>::new(), "files that import each other");
}

#[test]
fn no_circle_between_modules() {
    let g = edges(&sources());
    let mut modules: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    for (m, deps) in &g {
        for d in deps {
            let (a, b) = (top(m), top(d));
            if a == b {
                continue;
            }
            if TOLERATED.contains(&(a, b)) {
                seen.insert((a, b));
                continue;
            }
            modules.entry(a.to_string()).or_default().insert(b.to_string());
        }
    }
    let gone: Vec<_> = TOLERATED.iter().filter(|e| !seen.contains(e)).collect();
    assert!(
        gone.is_empty(),
        "tolerated edges that no longer exist (remove them): {gone:?}"
    );
    assert_eq!(
        circles(&modules),
        Vec::<Vec<String>>::new(),
        "modules that import each other"
    );
}

#[test]
fn the_executor_executes_and_no_stage_reaches_up() {
    let g = edges(&sources());
    let mut wrong = Vec::new();
    for (m, deps) in &g {
        for d in deps {
            let executor_plans = top(m) == "executor" && (top(d) == "render" || d == "plan::source");
            let reaches_up = !matches!(top(m), "ops" | "cli") && matches!(top(d), "ops" | "cli");
            let ops_to_cli = top(m) == "ops" && top(d) == "cli";
            if executor_plans || reaches_up || ops_to_cli {
                wrong.push(format!("{m} → {d}"));
            }
        }
    }
    assert_eq!(wrong, Vec::<String>::new());
}

#[test]
fn the_checker_reads_paths_as_rust_does() {
    let mut out = Vec::new();
    expand(&[], "crate::{a::b, c::{d, e}}", &mut out);
    let joined: Vec<String> = out.iter().map(|p| p.join("::")).collect();
    assert_eq!(joined, ["crate::a::b", "crate::c::d", "crate::c::e"]);
    let code = code("use super::x; // crate::commented\nlet s = \"crate::in_string\"; crate::y::z();");
    let found: Vec<String> = paths(&code).iter().map(|p| p.join("::")).collect();
    assert_eq!(found, ["super::x", "crate::y::z", "super::x"]);
    let mut g = BTreeMap::new();
    g.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
    g.insert("b".to_string(), BTreeSet::from(["a".to_string()]));
    assert_eq!(circles(&g), [vec!["a".to_string(), "b".to_string()]]);
}
