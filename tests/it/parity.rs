//! Parity suite: every case in `tests/parity/cases.txt` is rendered by `chartup template` and by the
//! real `helm template` (4.1.4), and the two must agree byte for byte.
//!
//! Why this shape: the expected output is never written by us — helm produces it on each run — so
//! a case can only pass when chartup behaves like Helm. Cases are data (one line each) so a failing
//! case is easy to rerun by hand: `cd tests/parity && helm template ARGS`.
//!
//! Comparison rules:
//! * success cases (`NAME: ARGS`): both exit 0 and stdout is identical after masking;
//! * failure cases (`NAME!: ARGS`): both exit non-zero, both print nothing on stdout, and the error
//!   message is identical: the block of stderr from the line starting with `Error: ` up to the
//!   first empty line (Helm adds a `Use --debug flag…` hint after it, and may log `level=INFO`
//!   lines before it; neither is compared).
//!
//! Masking is narrow and opt-in: fixture templates wrap nondeterministic output (random strings,
//! certificates, uuids, `now`) in `RANDOM<…>` markers, and only the text between `RANDOM<` and the
//! next `>` is replaced. Shapes (lengths, PEM headers) are printed outside the markers by the
//! fixtures, so they are still compared exactly.
//!
//! helm comes from `testkit::helm` (`CHARTUP_HELM`, else `PATH`). Without it the suite
//! is skipped with a message, except when `CI=true`: then a missing helm fails.
//! `PARITY_FILTER=substring` runs only matching cases.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Case {
    name: String,
    expect_failure: bool,
    args: Vec<String>,
}

fn parity_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/parity")
}

/// Split ARGS like a shell would for the subset we use: whitespace separates words, '…' and "…"
/// quote (no escapes inside '…'; `\"` and `\\` inside "…"), a backslash elsewhere is literal.
fn split_args(s: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(ch) => cur.push(ch),
                        None => return Err(format!("unclosed ' in {s}")),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') if matches!(chars.peek(), Some('"') | Some('\\')) => {
                            cur.push(chars.next().unwrap_or('\\'));
                        }
                        Some(ch) => cur.push(ch),
                        None => return Err(format!("unclosed \" in {s}")),
                    }
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    Ok(out)
}

fn load_cases() -> Vec<Case> {
    let text = std::fs::read_to_string(parity_dir().join("cases.txt")).expect("tests/parity/cases.txt");
    let mut cases = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (head, args) = line
            .split_once(": ")
            .unwrap_or_else(|| panic!("cases.txt:{}: expected `NAME: ARGS`", n + 1));
        let (name, expect_failure) = match head.strip_suffix('!') {
            Some(n) => (n.to_string(), true),
            None => (head.to_string(), false),
        };
        let args = split_args(args).unwrap_or_else(|e| panic!("cases.txt:{}: {e}", n + 1));
        cases.push(Case {
            name,
            expect_failure,
            args,
        });
    }
    cases
}

/// Run `<bin> template ARGS` in tests/parity with an environment that cannot reach a cluster and
/// carries no namespace (both tools then default to "default").
fn run(bin: &Path, args: &[String], home: &Path) -> Output {
    Command::new(bin)
        .arg("template")
        .args(args)
        .current_dir(parity_dir())
        .env_remove("HELM_NAMESPACE")
        .env_remove("HELM_DEBUG")
        .env("KUBECONFIG", home.join("no-kubeconfig"))
        .env("HOME", home)
        .env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_CACHE_HOME", home.join("cache"))
        .env("HELM_DATA_HOME", home.join("data"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()))
}

/// Replace the text of every `RANDOM<…>` marker by `RANDOM<masked>`.
fn mask(s: &str) -> String {
    const OPEN: &str = "RANDOM<";
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(OPEN) {
        out.push_str(&rest[..i + OPEN.len()]);
        let after = &rest[i + OPEN.len()..];
        match after.find('>') {
            Some(j) => {
                out.push_str("masked");
                rest = &after[j..];
            }
            None => {
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The compared part of an error report: from the `Error: ` line to the first empty line.
fn error_block(stderr: &str) -> String {
    let mut lines = stderr.lines().skip_while(|l| !l.starts_with("Error: "));
    let mut block = Vec::new();
    for l in lines.by_ref() {
        if l.is_empty() {
            break;
        }
        block.push(l);
    }
    block.join("\n")
}

/// A small unified diff (line based, LCS), enough to show where two renders part.
fn unified_diff(expected: &str, actual: &str) -> String {
    let a: Vec<&str> = expected.lines().collect();
    let b: Vec<&str> = actual.lines().collect();
    let (n, m) = (a.len(), b.len());
    if n * m > 25_000_000 {
        return format!("(outputs too large to diff: {n} vs {m} lines)");
    }
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    // Edit script: (' ' | '-' | '+', line).
    let mut ops: Vec<(char, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            ops.push((' ', a[i]));
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
            ops.push(('+', b[j]));
            j += 1;
        } else {
            ops.push(('-', a[i]));
            i += 1;
        }
    }
    // Print hunks with 3 lines of context.
    let mut out = String::from("--- helm\n+++ chartup\n");
    let changed: Vec<usize> = ops
        .iter()
        .enumerate()
        .filter(|(_, o)| o.0 != ' ')
        .map(|(k, _)| k)
        .collect();
    let mut k = 0;
    while k < changed.len() {
        let start = changed[k].saturating_sub(3);
        let mut end = changed[k] + 4;
        while k + 1 < changed.len() && changed[k + 1] < end + 3 {
            k += 1;
            end = changed[k] + 4;
        }
        let end = end.min(ops.len());
        let (mut la, mut lb) = (1, 1);
        for op in &ops[..start] {
            match op.0 {
                ' ' => {
                    la += 1;
                    lb += 1
                }
                '-' => la += 1,
                _ => lb += 1,
            }
        }
        out.push_str(&format!("@@ -{la} +{lb} @@\n"));
        for (c, l) in &ops[start..end] {
            out.push_str(&format!("{c}{l}\n"));
        }
        k += 1;
    }
    out
}

fn compare(case: &Case, helm: &Output, ours: &Output) -> Result<(), String> {
    let h_out = String::from_utf8_lossy(&helm.stdout);
    let o_out = String::from_utf8_lossy(&ours.stdout);
    let h_err = String::from_utf8_lossy(&helm.stderr);
    let o_err = String::from_utf8_lossy(&ours.stderr);
    if case.expect_failure {
        if helm.status.success() {
            return Err(format!("helm succeeded but the case expects a failure:\n{h_out}"));
        }
        if ours.status.success() {
            return Err(format!("chartup succeeded, helm failed with:\n{h_err}"));
        }
        if !ours.stdout.is_empty() {
            return Err(format!("chartup printed on stdout while failing:\n{o_out}"));
        }
        if !helm.stdout.is_empty() {
            return Err(format!(
                "helm printed on stdout while failing (fixture problem):\n{h_out}"
            ));
        }
        let (he, oe) = (error_block(&h_err), error_block(&o_err));
        if he != oe {
            return Err(format!("error messages differ:\n{}", unified_diff(&he, &oe)));
        }
        return Ok(());
    }
    if !helm.status.success() {
        return Err(format!("helm failed (fixture problem):\n{h_err}"));
    }
    if !ours.status.success() {
        return Err(format!("chartup failed:\n{o_err}"));
    }
    let (h, o) = (mask(&h_out), mask(&o_out));
    if h != o {
        return Err(format!("stdout differs:\n{}", unified_diff(&h, &o)));
    }
    Ok(())
}

#[test]
fn parity_with_helm() {
    let Some(helm) = testkit::helm_or_skip() else {
        return;
    };
    let chartup = PathBuf::from(env!("CARGO_BIN_EXE_chartup"));
    let home = tempfile::tempdir().expect("temp dir");
    let filter = std::env::var("PARITY_FILTER").ok();
    let mut failures = Vec::new();
    let mut ran = 0;
    for case in load_cases() {
        if filter.as_deref().is_some_and(|f| !case.name.contains(f)) {
            continue;
        }
        ran += 1;
        let h = run(&helm, &case.args, home.path());
        let o = run(&chartup, &case.args, home.path());
        if let Err(msg) = compare(&case, &h, &o) {
            failures.push(format!(
                "=== case {} (template {}) ===\n{msg}",
                case.name,
                case.args.join(" ")
            ));
        }
    }
    assert!(ran > 0, "no parity case ran (filter {filter:?})");
    if !failures.is_empty() {
        panic!(
            "{} of {ran} parity cases differ from helm:\n\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}

#[test]
fn masking_is_narrow() {
    assert_eq!(
        mask("a: RANDOM<x1y2>\nb: RANDOM<>"),
        "a: RANDOM<masked>\nb: RANDOM<masked>"
    );
    assert_eq!(mask("keep <this>"), "keep <this>");
    assert_eq!(
        split_args(r#"a 'b c' "d\"e" f\g"#).unwrap(),
        vec!["a", "b c", "d\"e", "f\\g"]
    );
    assert_eq!(
        error_block("level=INFO x\nError: a\n  b\n\nUse --debug"),
        "Error: a\n  b"
    );
}
