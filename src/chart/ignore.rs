//! `.helmignore` rules, as Helm 4's `pkg/ignore/rules.go` applies them when loading a chart
//! directory (archives are never filtered).
//!
//! Patterns are Go `filepath.Match` globs (ported below, byte for byte, because its `*` does not
//! cross `/` and its error cases decide which `.helmignore` files are rejected). Helm's rule
//! semantics are kept even where they surprise: a rule without `/` matches the base name only,
//! a leading `/` anchors it, a trailing `/` makes it match directories only, `**` is refused,
//! and a negated rule (`!x`) *ignores every path it does not match* and stops evaluation there.
//! `templates/.?*` is always appended, so dotfiles under `templates/` never load.

use std::fmt;

/// The name of the ignore file at the top of a chart directory.
pub const HELM_IGNORE: &str = ".helmignore";

/// An error in a `.helmignore` file; `Display` is Helm's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoreError(pub String);

impl fmt::Display for IgnoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for IgnoreError {}

#[derive(Debug, Clone)]
enum Kind {
    /// Leading `/`: the whole path must match.
    Anchored,
    /// Contains `/`: the whole path must match.
    Structural,
    /// No `/`: the base name must match.
    Base,
}

#[derive(Debug, Clone)]
struct Pattern {
    rule: String,
    kind: Kind,
    negate: bool,
    must_dir: bool,
}

/// A parsed set of rules, evaluated in order.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    patterns: Vec<Pattern>,
}

impl Rules {
    /// `ignore.Empty()`.
    pub fn empty() -> Rules {
        Rules::default()
    }

    /// `ignore.Parse`: one rule a line, a UTF-8 BOM on the first line stripped.
    pub fn parse(text: &[u8]) -> Result<Rules, IgnoreError> {
        let text = text.strip_prefix(&[0xEF, 0xBB, 0xBF][..]).unwrap_or(text);
        let mut r = Rules::empty();
        // bufio.Scanner's ScanLines: split on \n and drop one trailing \r.
        for line in text.split(|&b| b == b'\n') {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            r.parse_rule(&String::from_utf8_lossy(line))?;
        }
        Ok(r)
    }

    /// `AddDefaults`: dotfiles in `templates/` are always ignored.
    pub fn add_defaults(&mut self) {
        // The default rule is valid; parse_rule cannot fail on it.
        let _ = self.parse_rule("templates/.?*");
    }

    fn parse_rule(&mut self, rule: &str) -> Result<(), IgnoreError> {
        // Go's strings.TrimSpace.
        let rule = rule.trim_matches(|c: char| c.is_whitespace());
        if rule.is_empty() || rule.starts_with('#') {
            return Ok(());
        }
        if rule.contains("**") {
            return Err(IgnoreError("double-star (**) syntax is not supported".into()));
        }
        go_match(rule, "abc").map_err(|_| IgnoreError("syntax error in pattern".into()))?;
        let mut rule = rule;
        let mut negate = false;
        let mut must_dir = false;
        if let Some(r) = rule.strip_prefix('!') {
            negate = true;
            rule = r;
        }
        if let Some(r) = rule.strip_suffix('/') {
            must_dir = true;
            rule = r;
        }
        let (rule, kind) = if let Some(r) = rule.strip_prefix('/') {
            (r, Kind::Anchored)
        } else if rule.contains('/') {
            (rule, Kind::Structural)
        } else {
            (rule, Kind::Base)
        };
        self.patterns.push(Pattern {
            rule: rule.to_string(),
            kind,
            negate,
            must_dir,
        });
        Ok(())
    }

    /// `Rules.Ignore`: true when `path` (slash-separated, relative to the chart) is ignored.
    pub fn ignore(&self, path: &str, is_dir: bool) -> bool {
        if path.is_empty() || path == "." || path == "./" {
            return false;
        }
        for p in &self.patterns {
            let matched = || {
                let name = match p.kind {
                    Kind::Base => go_base(path),
                    _ => path,
                };
                go_match(&p.rule, name).unwrap_or(false)
            };
            if p.negate {
                if p.must_dir && !is_dir {
                    return true;
                }
                if !matched() {
                    return true;
                }
                continue;
            }
            if p.must_dir && !is_dir {
                continue;
            }
            if matched() {
                return true;
            }
        }
        false
    }
}

/// Go's `filepath.Base` for slash paths.
fn go_base(path: &str) -> &str {
    let p = path.trim_end_matches('/');
    if p.is_empty() {
        return if path.is_empty() { "." } else { "/" };
    }
    match p.rfind('/') {
        Some(i) => &p[i + 1..],
        None => p,
    }
}

/// Go's `filepath.ErrBadPattern`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadPattern;

/// Go's `filepath.Match` on Unix.
pub fn go_match(pattern: &str, name: &str) -> Result<bool, BadPattern> {
    let mut pattern = pattern.as_bytes();
    let mut name = name.as_bytes();
    'pattern: while !pattern.is_empty() {
        let (star, chunk, rest) = scan_chunk(pattern);
        pattern = rest;
        if star && chunk.is_empty() {
            return Ok(!name.contains(&b'/'));
        }
        let (t, ok, err) = match_chunk(chunk, name);
        if ok && (t.is_empty() || !pattern.is_empty()) {
            name = t;
            continue;
        }
        if err {
            return Err(BadPattern);
        }
        if star {
            let mut i = 0;
            while i < name.len() && name[i] != b'/' {
                let (t, ok, err) = match_chunk(chunk, &name[i + 1..]);
                if ok {
                    if pattern.is_empty() && !t.is_empty() {
                        i += 1;
                        continue;
                    }
                    name = t;
                    continue 'pattern;
                }
                if err {
                    return Err(BadPattern);
                }
                i += 1;
            }
        }
        while !pattern.is_empty() {
            let (_, chunk, rest) = scan_chunk(pattern);
            pattern = rest;
            if match_chunk(chunk, b"").2 {
                return Err(BadPattern);
            }
        }
        return Ok(false);
    }
    Ok(name.is_empty())
}

fn scan_chunk(mut pattern: &[u8]) -> (bool, &[u8], &[u8]) {
    let mut star = false;
    while let [b'*', rest @ ..] = pattern {
        pattern = rest;
        star = true;
    }
    let mut inrange = false;
    let mut i = 0;
    while i < pattern.len() {
        match pattern[i] {
            b'\\' if i + 1 < pattern.len() => i += 1,
            b'[' => inrange = true,
            b']' => inrange = false,
            b'*' if !inrange => break,
            _ => {}
        }
        i += 1;
    }
    (star, &pattern[..i], &pattern[i..])
}

/// Go's `utf8.DecodeRuneInString`: (rune, width), `(0xFFFD, 1)` for bad bytes, `(0xFFFD, 0)` at end.
fn decode_rune(s: &[u8]) -> (u32, usize) {
    if s.is_empty() {
        return (0xFFFD, 0);
    }
    let n = match s[0] {
        0x00..=0x7F => 1,
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => return (0xFFFD, 1),
    };
    match s.get(..n).and_then(|b| std::str::from_utf8(b).ok()) {
        Some(st) => (st.chars().next().map(|c| c as u32).unwrap_or(0xFFFD), n),
        None => (0xFFFD, 1),
    }
}

/// Returns (rest, ok, bad_pattern).
fn match_chunk<'a>(mut chunk: &[u8], mut s: &'a [u8]) -> (&'a [u8], bool, bool) {
    let mut failed = false;
    while !chunk.is_empty() {
        if !failed && s.is_empty() {
            failed = true;
        }
        match chunk[0] {
            b'[' => {
                let mut r = 0u32;
                if !failed {
                    let (rr, n) = decode_rune(s);
                    r = rr;
                    s = &s[n..];
                }
                chunk = &chunk[1..];
                let mut negated = false;
                if chunk.first() == Some(&b'^') {
                    negated = true;
                    chunk = &chunk[1..];
                }
                let mut matched = false;
                let mut nrange = 0;
                loop {
                    if chunk.first() == Some(&b']') && nrange > 0 {
                        chunk = &chunk[1..];
                        break;
                    }
                    let Some((lo, rest)) = get_esc(chunk) else {
                        return (b"", false, true);
                    };
                    chunk = rest;
                    let mut hi = lo;
                    if chunk.first() == Some(&b'-') {
                        let Some((h, rest)) = get_esc(&chunk[1..]) else {
                            return (b"", false, true);
                        };
                        hi = h;
                        chunk = rest;
                    }
                    if lo <= r && r <= hi {
                        matched = true;
                    }
                    nrange += 1;
                }
                if matched == negated {
                    failed = true;
                }
            }
            b'?' => {
                if !failed {
                    if s[0] == b'/' {
                        failed = true;
                    }
                    let (_, n) = decode_rune(s);
                    s = &s[n..];
                }
                chunk = &chunk[1..];
            }
            c => {
                let mut c = c;
                if c == b'\\' {
                    chunk = &chunk[1..];
                    if chunk.is_empty() {
                        return (b"", false, true);
                    }
                    c = chunk[0];
                }
                if !failed {
                    if c != s[0] {
                        failed = true;
                    }
                    s = &s[1..];
                }
                chunk = &chunk[1..];
            }
        }
    }
    if failed {
        return (b"", false, false);
    }
    (s, true, false)
}

/// `getEsc`: a possibly escaped character of a class; `None` is ErrBadPattern.
fn get_esc(mut chunk: &[u8]) -> Option<(u32, &[u8])> {
    if chunk.is_empty() || chunk[0] == b'-' || chunk[0] == b']' {
        return None;
    }
    if chunk[0] == b'\\' {
        chunk = &chunk[1..];
        if chunk.is_empty() {
            return None;
        }
    }
    let (r, n) = decode_rune(chunk);
    if r == 0xFFFD && n == 1 {
        return None;
    }
    let rest = &chunk[n..];
    if rest.is_empty() {
        return None;
    }
    Some((r, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Go's own filepath.Match table (path/filepath/match_test.go).
    #[test]
    fn go_match_table() {
        let ok = |p: &str, s: &str, want: bool| assert_eq!(go_match(p, s), Ok(want), "{p} {s}");
        ok("abc", "abc", true);
        ok("*", "abc", true);
        ok("*c", "abc", true);
        ok("a*", "a", true);
        ok("a*", "abc", true);
        ok("a*", "ab/c", false);
        ok("a*/b", "abc/b", true);
        ok("a*/b", "a/c/b", false);
        ok("a*b*c*d*e*/f", "axbxcxdxe/f", true);
        ok("a*b*c*d*e*/f", "axbxcxdxexxx/f", true);
        ok("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false);
        ok("a*b*c*d*e*/f", "axbxcxdxexxx/fff", false);
        ok("a*b?c*x", "abxbbxdbxebxczzx", true);
        ok("a*b?c*x", "abxbbxdbxebxczzy", false);
        ok("ab[c]", "abc", true);
        ok("ab[b-d]", "abc", true);
        ok("ab[e-g]", "abc", false);
        ok("ab[^c]", "abc", false);
        ok("ab[^b-d]", "abc", false);
        ok("ab[^e-g]", "abc", true);
        ok("a\\*b", "a*b", true);
        ok("a\\*b", "ab", false);
        ok("a?b", "a☺b", true);
        ok("a[^a]b", "a☺b", true);
        ok("a???b", "a☺b", false);
        ok("a[^a][^a][^a]b", "a☺b", false);
        ok("[a-ζ]*", "α", true);
        ok("*[a-ζ]", "A", false);
        ok("a?b", "a/b", false);
        ok("a*b", "a/b", false);
        ok("[\\]a]", "]", true);
        ok("[\\-]", "-", true);
        ok("[x\\-]", "x", true);
        ok("[x\\-]", "-", true);
        ok("[x\\-]", "z", false);
        ok("[\\-x]", "x", true);
        ok("*x", "xxx", true);
        let bad = |p: &str, s: &str| assert_eq!(go_match(p, s), Err(BadPattern), "{p} {s}");
        bad("[]a]", "]");
        bad("[-]", "-");
        bad("[x-]", "x");
        bad("[-x]", "x");
        bad("\\", "a");
        bad("[a-b-c]", "a");
        bad("[", "a");
        bad("[^", "a");
        bad("[^bc", "a");
        bad("a[", "a");
        bad("a[", "ab");
        bad("a[", "x");
        bad("a/b[", "x");
        bad("*x[", "xxx");
    }

    // Helm's pkg/ignore/rules_test.go table (v4.1.4); `cargo` and `mast` are directories there.
    #[test]
    fn helm_rules_table() {
        let case = |rule: &str, path: &str, want: bool| {
            let r = Rules::parse(rule.as_bytes()).unwrap();
            let is_dir = matches!(path.trim_end_matches('/'), "cargo" | "mast" | "." | "");
            assert_eq!(r.ignore(path, is_dir), want, "{rule:?} {path}");
        };
        case("helm.txt", "helm.txt", true);
        case("helm.*", "helm.txt", true);
        case("helm.*", "rudder.txt", false);
        case("*.txt", "tiller.txt", true);
        case("*.txt", "cargo/a.txt", true);
        case("cargo/*.txt", "cargo/a.txt", true);
        case("cargo/*.*", "cargo/a.txt", true);
        case("cargo/*.txt", "mast/a.txt", false);
        case("ru[c-e]?er.txt", "rudder.txt", true);
        case("templates/.?*", "templates/.dotfile", true);
        case(".*", ".", false);
        case(".*", "./", false);
        case(".*", ".joonix", true);
        case(".*", "helm.txt", false);
        case(".*", "", false);
        case("cargo/", "cargo", true);
        case("cargo/", "cargo/", true);
        case("cargo/", "mast/", false);
        case("helm.txt/", "helm.txt", false);
        case("!helm.txt", "helm.txt", false);
        case("!helm.txt", "tiller.txt", true);
        case("!*.txt", "cargo", true);
        case("!cargo/", "mast/", true);
        case("/a.txt", "a.txt", true);
        case("/a.txt", "cargo/a.txt", false);
        case("/cargo/a.txt", "cargo/a.txt", true);
    }

    #[test]
    fn defaults_bom_and_errors() {
        let mut r = Rules::parse(b"\xEF\xBB\xBFREADME.md\r\n").unwrap();
        r.add_defaults();
        assert!(r.ignore("README.md", false));
        assert!(r.ignore("templates/.swp", false));
        assert!(r.ignore("templates/.a", false));
        assert!(!r.ignore("templates/a.yaml", false));
        assert!(!r.ignore("templates/sub/.a", false));
        assert_eq!(
            Rules::parse(b"a/**/b").unwrap_err().0,
            "double-star (**) syntax is not supported"
        );
        assert_eq!(Rules::parse(b"[").unwrap_err().0, "syntax error in pattern");
    }
}
