//! Issue 17, "no line of a plan contradicts another": every plan the repository's chart pairs make
//! (the example charts under `charts/` with their matrices, both FATE value sets, the precision
//! pairs of tests/data/charts/precision), with and without `--carry-volumes`, is rendered as
//! text and checked line against line — the summary's counts against the volume table and the
//! recreate list, the summary's verdict against the verdict line, what "Apply requires" demands
//! against the outcomes the plan shows, no claim both kept and left behind, no carried claim also
//! "new, empty". Plus the presentation options (`--compact`, `--no-diff`, `--show-label-churn`)
//! through the real binary, and the summary repeated at the end of long plans only.
//!
//! The invariants are the plan's own promises (docs/plan-format.md); the plans come from charts
//! rendered by chartup, which `plan_precision`/`plan_rules` check against helm's renders.

use crate::plan_support;

use std::process::Command;

use chartup::analysis::{Fate, Verdict};
use chartup::plan::{self, Plan};
use plan_support::*;

/// Every plan of the repository's chart pairs, with a name for messages.
fn all_plans() -> Vec<(String, Plan)> {
    let mut out = Vec::new();
    let versions = |dir: &str| -> Vec<String> {
        let mut v: Vec<(chartup::version::Version, String)> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.path().join("Chart.yaml").is_file())
            .filter_map(|e| {
                let n = e.file_name().to_string_lossy().into_owned();
                chartup::version::Version::parse(&n).ok().map(|v| (v, n))
            })
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v.into_iter().map(|(_, n)| format!("{dir}/{n}")).collect()
    };
    let mut cases: Vec<(String, String, Vec<String>, Option<String>)> = Vec::new();
    for chart in std::fs::read_dir("charts").unwrap() {
        let chart = chart.unwrap().file_name().to_string_lossy().into_owned();
        let vs = versions(&format!("charts/{chart}"));
        let m = std::path::Path::new(&format!("matrices/{chart}.yaml"))
            .is_file()
            .then(|| chart.clone());
        let value_sets: Vec<Vec<String>> = if chart == "fate" {
            vec![
                STORAGE_CLASS.iter().map(|s| s.to_string()).collect(),
                EXISTING_CLAIMS.iter().map(|s| s.to_string()).collect(),
            ]
        } else {
            vec![vec![]]
        };
        for w in vs.windows(2) {
            for vals in &value_sets {
                cases.push((w[0].clone(), w[1].clone(), vals.clone(), m.clone()));
            }
        }
    }
    for case in std::fs::read_dir("tests/data/charts/precision").unwrap() {
        let dir = case.unwrap().path().display().to_string();
        let vs = versions(&dir);
        cases.push((vs[0].clone(), vs[1].clone(), vec![], None));
    }
    for (from, to, vals, m) in &cases {
        let vals: Vec<&str> = vals.iter().map(String::as_str).collect();
        let c = Case {
            release: "rel",
            namespace: "ns",
            from,
            to,
            values: &vals,
            to_values: &[],
            matrix: m.as_deref(),
            storage_classes: &["standard=Delete"],
        };
        let (old, new) = c.sides();
        let mat = m.as_deref().map(matrix);
        for carry in [false, true] {
            let mut o = c.options();
            o.carry_volumes = carry;
            let name = format!("{from} → {to} {vals:?}{}", if carry { " --carry-volumes" } else { "" });
            out.push((name, plan::build(&old, &new, mat.as_ref(), &o)));
        }
    }
    out
}

/// `N` in `… N word…` of the summary line.
fn count(line: &str, word: &str) -> usize {
    let at = line.find(word).unwrap_or_else(|| panic!("{word:?} in {line}"));
    line[..at]
        .trim_end()
        .rsplit([' ', ','])
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// The lines of a section (from its heading to the next blank line).
fn section<'a>(text: &'a str, heading: &str) -> Vec<&'a str> {
    let mut lines = text.lines().skip_while(|l| *l != heading);
    if lines.next().is_none() {
        return vec![];
    }
    lines.take_while(|l| !l.is_empty()).collect()
}

#[test]
fn no_line_of_a_plan_contradicts_another() {
    let plans = all_plans();
    assert!(plans.len() >= 40, "{} plans", plans.len());
    let mut seen_loss = false;
    let mut seen_carried = false;
    for (name, p) in &plans {
        let text = plan::text::render(p, false);
        let first = text.lines().next().unwrap();
        // The summary line against the volume table.
        let table = section(&text, "Volumes:");
        let rows = |label: &str| table.iter().filter(|l| l.starts_with(&format!("  {label} "))).count();
        assert_eq!(count(first, "loss,"), rows("LOSS"), "{name}: loss count\n{text}");
        assert_eq!(
            count(first, "at risk"),
            rows("AT-RISK"),
            "{name}: at-risk count\n{text}"
        );
        let carried = table.iter().filter(|l| l.contains(" — carried: ")).count();
        if carried > 0 {
            seen_carried = true;
            assert_eq!(count(first, "carried"), carried, "{name}: carried count\n{text}");
        } else {
            assert!(!first.contains("carried"), "{name}: {first}");
        }
        // The recreate count against the recreate list.
        let recreated = section(&text, "Recreated (deleted and created again):").len();
        assert_eq!(count(first, "to recreate"), recreated, "{name}: recreates\n{text}");
        // The summary's verdict against the verdict line and the plan's.
        let verdict = first.rsplit("verdict: ").next().unwrap();
        assert_eq!(verdict, p.verdict.as_str(), "{name}: {first}");
        let words = match p.verdict {
            Verdict::Loss => "Verdict: data loss",
            Verdict::AtRisk => "Verdict: data at risk",
            Verdict::Safe => "Verdict: no data at risk",
        };
        assert!(text.lines().nth(2).unwrap().starts_with(words), "{name}\n{text}");
        seen_loss |= p.verdict == Verdict::Loss;
        // What apply requires against what the plan shows.
        let requires = section(&text, "Apply requires:");
        let needs = |flag: &str| requires.iter().any(|l| l.starts_with(&format!("  {flag} — ")));
        assert_eq!(
            needs("--accept-data-loss"),
            p.verdict == Verdict::Loss,
            "{name}\n{text}"
        );
        let at_risk = p.volumes.iter().any(|v| v.verdict == Verdict::AtRisk)
            || p.hazards.iter().any(|h| h.verdict == Verdict::AtRisk);
        assert_eq!(needs("--accept-risk"), at_risk, "{name}\n{text}");
        if p.verdict == Verdict::Safe {
            assert!(
                section(&text, "Decide:").is_empty(),
                "{name}: safe, but decisions\n{text}"
            );
        }
        // A claim is either kept (mounted, carried) or left behind (orphaned, deleted), never both.
        let claims = |pred: &dyn Fn(Fate) -> bool| -> Vec<String> {
            p.volumes
                .iter()
                .filter(|v| pred(v.fate))
                .flat_map(|v| {
                    let b = v.before.as_ref().map(|b| b.claims.as_slice()).unwrap_or_default();
                    let a = v.after.as_ref().map(|a| a.claims.as_slice()).unwrap_or_default();
                    plan::review::volume_claims(v, b, a)
                })
                .collect()
        };
        let kept = claims(&|f| matches!(f, Fate::Kept | Fate::Reattached));
        let left = claims(&|f| matches!(f, Fate::Orphaned | Fate::Deleted));
        for c in &kept {
            assert!(!left.contains(c), "{name}: claim {c} both kept and left behind\n{text}");
        }
        // A carried claim's target is not also a new, empty claim.
        let new_claims: Vec<String> = p
            .volumes
            .iter()
            .filter(|v| v.fate == Fate::New)
            .flat_map(|v| v.after.iter().flat_map(|a| a.claims.clone()))
            .collect();
        for c in p.carries() {
            assert!(
                !new_claims.contains(&c.to_claim),
                "{name}: {} is carried to and new\n{text}",
                c.to_claim
            );
            assert!(
                !kept.contains(&c.from_claim),
                "{name}: {} carried and kept\n{text}",
                c.from_claim
            );
        }
        // No two lines of the volume table read the same.
        let mut sorted: Vec<&&str> = table.iter().filter(|l| !l.starts_with("          ")).collect();
        let n = sorted.len();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), n, "{name}: two volume lines read the same\n{text}");
        // Long plans end with their summary; short ones say it once.
        let lines = text.lines().count();
        let last = text.lines().filter(|l| !l.is_empty()).last().unwrap();
        if lines > 40 {
            assert_eq!(last, first, "{name}: a long plan repeats its summary at the end");
        } else {
            assert_eq!(text.matches(first).count(), 1, "{name}\n{text}");
        }
        // The Markdown says the same verdict and the same summary.
        let md = plan::markdown::render(p).unwrap();
        assert!(md.contains(&p.summary_line()), "{name}: Markdown summary\n{md}");
    }
    assert!(seen_loss && seen_carried, "the set covers losses and carries");
}

fn chartup(args: &[&str]) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_chartup"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn compact_no_diff_and_label_churn_flags() {
    let base = [
        "plan",
        "--release",
        "rel",
        "-n",
        "ns",
        "--from",
        "charts/fate/1.8.0",
        "--to",
        "charts/fate/1.9.0",
        "-f",
        "charts/fate/values-existing-claims.yaml",
        "--storage-class",
        "standard=Delete",
    ];
    let run = |extra: &[&str]| chartup(&[&base[..], extra].concat());
    let full = run(&[]);
    assert!(full.contains("@@ "), "the full plan has diffs");
    // A safe volume's reason is printed under its line.
    let safe_reason = |t: &str| {
        t.lines()
            .zip(t.lines().skip(1))
            .any(|(a, b)| a.starts_with("  SAFE ") && b.starts_with("          "))
    };
    assert!(safe_reason(&full), "{full}");
    let no_diff = run(&["--no-diff"]);
    assert!(!no_diff.contains("@@ ") && !no_diff.contains("+++ "), "{no_diff}");
    assert!(
        no_diff.contains("Changes:") && no_diff.contains("(change, +"),
        "{no_diff}"
    );
    assert!(safe_reason(&no_diff), "--no-diff keeps reasons: {no_diff}");
    let compact = run(&["--compact"]);
    assert!(!compact.contains("@@ "), "{compact}");
    assert!(!safe_reason(&compact), "--compact drops safe reasons: {compact}");
    assert!(compact.contains("Volumes:") && compact.contains("Images:"), "{compact}");
    assert!(compact.lines().count() < full.lines().count());

    // Label churn: counted and hidden, shown with the flag.
    let leaving = [
        "plan",
        "--release",
        "rel",
        "-n",
        "prec",
        "--from",
        "tests/data/charts/precision/leaving/1.0.0",
        "--to",
        "tests/data/charts/precision/leaving/2.0.0",
    ];
    let hidden = chartup(&leaving);
    assert!(
        hidden.contains("1 change(s) only rewrite helm.sh/chart or app.kubernetes.io/version labels: not shown"),
        "{hidden}"
    );
    assert!(!hidden.contains("prec/ConfigMap/settings"), "{hidden}");
    let shown = chartup(&[&leaving[..], &["--show-label-churn"]].concat());
    assert!(shown.contains("prec/ConfigMap/settings (change"), "{shown}");
    assert!(!shown.contains("only rewrite helm.sh/chart"), "{shown}");
    // JSON keeps every change and the count, whatever the text hides.
    let json: serde_json::Value = serde_json::from_str(&chartup(&[&leaving[..], &["-o", "json"]].concat())).unwrap();
    assert_eq!(json["summary"]["labelOnly"], 1);
    assert!(json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["key"]["name"] == "settings" && c["action"] == "change"));
}
