//! The plan for a terminal. What needs a decision comes first — refusals, what apply will
//! require, losses and risks with their workarounds, hazards, recreates, renamed components — then
//! the volume table (one line per volume, emptyDir volumes folded into one line), the images that
//! change, the matrix's view, the rollout order, and last the per-object diffs, which can be long
//! (label-only churn hidden and counted unless asked; `--compact` / `--no-diff` leave them out).
//! A long plan repeats its summary line at the end. Colour is added here and stripped by the
//! printer (anstream) when NO_COLOR is set or stdout is not a terminal.

use std::fmt::Write as _;

use owo_colors::OwoColorize;

use super::Plan;
use crate::analysis::{Fate, Verdict};
use crate::diff::{label_only, Action};

struct Painter {
    color: bool,
}

impl Painter {
    fn red(&self, s: &str) -> String {
        if self.color {
            s.red().bold().to_string()
        } else {
            s.to_string()
        }
    }
    fn yellow(&self, s: &str) -> String {
        if self.color {
            s.yellow().bold().to_string()
        } else {
            s.to_string()
        }
    }
    fn green(&self, s: &str) -> String {
        if self.color {
            s.green().to_string()
        } else {
            s.to_string()
        }
    }
    fn bold(&self, s: &str) -> String {
        if self.color {
            s.bold().to_string()
        } else {
            s.to_string()
        }
    }
    fn dim(&self, s: &str) -> String {
        if self.color {
            s.dimmed().to_string()
        } else {
            s.to_string()
        }
    }
    fn verdict(&self, v: Verdict) -> String {
        let label = format!("{:<7}", v.as_str().to_uppercase());
        match v {
            Verdict::Loss => self.red(&label),
            Verdict::AtRisk => self.yellow(&label),
            Verdict::Safe => self.green(&label),
        }
    }
}

/// How much of a plan to print.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextOptions {
    /// `--compact`: decisions, the volume table and the images, without diffs or safe reasons.
    pub compact: bool,
    /// `--no-diff`: everything but the per-object diffs.
    pub no_diff: bool,
    /// `--show-label-churn`: print changes that only rewrite `helm.sh/chart` / version labels.
    pub show_label_churn: bool,
}

/// Render a plan for a terminal.
pub fn render(plan: &Plan, color: bool) -> String {
    render_with(plan, color, TextOptions::default())
}

/// [`render`] with options.
pub fn render_with(plan: &Plan, color: bool, opts: TextOptions) -> String {
    let p = Painter { color };
    // Room for the diffs and a line or two per object up front: growing a 300 KB text by doubling
    // copied it about ten times into fresh pages (capacity never written costs no page faults).
    let room = plan
        .changes
        .iter()
        .map(|c| c.diff.len() + 2 * c.key.name.len() + 96)
        .sum::<usize>();
    let mut o = String::with_capacity(4096 + room + 64 * (plan.volumes.len() + plan.images.len()));
    let _ = writeln!(o, "{}", p.bold(&plan.summary_line()));
    let from = plan
        .from
        .chart
        .as_ref()
        .map(|c| format!("{} {}", c.name, c.version))
        .unwrap_or_else(|| plan.from.origin.clone());
    let to = plan
        .to
        .chart
        .as_ref()
        .map(|c| format!("{} {}", c.name, c.version))
        .unwrap_or_else(|| plan.to.origin.clone());
    let _ = writeln!(
        o,
        "Release {} in namespace {}: {from} → {to}",
        plan.release.name, plan.release.namespace
    );
    let verdict = match plan.verdict {
        Verdict::Loss => p.red("data loss"),
        Verdict::AtRisk => p.yellow("data at risk"),
        Verdict::Safe => p.green("no data at risk"),
    };
    let hazards = plan.hazards.iter().map(|h| h.verdict).max();
    let by = match (plan.matrix_verdict, hazards) {
        (Some(m), Some(h)) => format!(" (analysis: {}, hazards: {h}, matrix: {m})", plan.analysis_verdict),
        (Some(m), None) => format!(" (analysis: {}, matrix: {m})", plan.analysis_verdict),
        (None, Some(h)) => format!(" (volumes: {}, hazards: {h})", plan.analysis_verdict),
        (None, None) => String::new(),
    };
    let unchecked = if plan.hazards.iter().any(|h| h.rule == "image-major") {
        "; data format: not checked, no matrix"
    } else {
        ""
    };
    let _ = writeln!(o, "Verdict: {verdict}{by}{unchecked}");

    // What needs a decision.
    if !plan.refusals.is_empty() {
        let _ = writeln!(o, "\n{}", p.red("Refused:"));
        for r in &plan.refusals {
            let _ = writeln!(o, "  ✗ {r}");
        }
    }
    let needs_flag: Vec<_> = plan.requirements.iter().filter(|r| r.flag.is_some()).collect();
    let refuses: Vec<_> = plan
        .requirements
        .iter()
        .filter(|r| r.flag.is_none() && !r.reason.starts_with("refused: "))
        .collect();
    if !needs_flag.is_empty() || !refuses.is_empty() {
        let _ = writeln!(o, "\n{}", p.bold("Apply requires:"));
        for r in refuses {
            let _ = writeln!(o, "  ✗ {}", r.reason);
        }
        for r in needs_flag {
            let _ = writeln!(o, "  {} — {}", r.flag.as_deref().unwrap_or(""), r.reason);
            if !r.accept.is_empty() {
                let _ = writeln!(o, "      accept one by one: --accept-risk={}", r.accept.join(","));
            }
        }
    }
    let risky: Vec<_> = plan.volumes.iter().filter(|v| v.verdict != Verdict::Safe).collect();
    if !risky.is_empty() || !plan.hazards.is_empty() {
        let _ = writeln!(o, "\n{}", p.bold("Decide:"));
        for v in &risky {
            let _ = writeln!(
                o,
                "  {} {}/{} — {} [{}]",
                p.verdict(v.verdict),
                v.component,
                v.volume,
                v.fate_text(),
                v.mode.as_str()
            );
            let _ = writeln!(o, "          {}", v.reason);
            let _ = writeln!(o, "          objects: {}", v.objects.join(", "));
            if let Some(w) = &v.workaround {
                let _ = writeln!(o, "          workaround: {w}");
            }
        }
        for h in &plan.hazards {
            let _ = writeln!(o, "  {} {} — {}", p.verdict(h.verdict), h.object, h.rule);
            let _ = writeln!(o, "          {}", h.reason);
            let _ = writeln!(o, "          workaround: {}", h.workaround);
        }
    }
    let recreates: Vec<_> = plan
        .changes
        .iter()
        .filter(|c| matches!(c.action, Action::Recreate | Action::KindChange))
        .collect();
    if !recreates.is_empty() {
        let _ = writeln!(o, "\n{}", p.bold("Recreated (deleted and created again):"));
        for c in recreates {
            let fields: Vec<String> = c
                .immutable
                .iter()
                .map(|f| format!("{}: {}", f.field, f.detail))
                .collect();
            let _ = writeln!(o, "  ± {} — {}", c.key, fields.join("; "));
        }
    }
    if !plan.pairings.is_empty() {
        let _ = writeln!(o, "\n{}", p.bold("Same component (renamed or changing kind):"));
        for pr in &plan.pairings {
            let _ = writeln!(o, "  {} → {} ({})", pr.from, pr.to, pr.evidence.join("; "));
        }
    }
    if !plan.warnings.is_empty() {
        let _ = writeln!(o, "\n{}", p.bold("Warnings:"));
        for w in &plan.warnings {
            let _ = writeln!(o, "  ! {w}");
        }
    }

    // issue #18: which user values the new revision gets (a separate section, HELMUSER's).
    if let Some(uv) = &plan.user_values {
        let _ = writeln!(o, "\n{}", p.bold("User values: deployed → new:"));
        o.push_str(&uv.text());
    }

    let _ = writeln!(o, "\n{}", p.bold("Volumes:"));
    if plan.volumes.is_empty() {
        let _ = writeln!(o, "  (no workload mounts a volume)");
    }
    let ephemeral: Vec<_> = plan
        .volumes
        .iter()
        .filter(|v| v.fate == Fate::Ephemeral && v.verdict == Verdict::Safe)
        .collect();
    for v in plan
        .volumes
        .iter()
        .filter(|v| !(v.fate == Fate::Ephemeral && v.verdict == Verdict::Safe))
    {
        let _ = writeln!(
            o,
            "  {} {}/{} — {} [{}]",
            p.verdict(v.verdict),
            v.component,
            v.volume,
            v.fate_text(),
            v.mode.as_str()
        );
        if v.verdict == Verdict::Safe && !opts.compact {
            let _ = writeln!(o, "          {}", v.reason);
        }
    }
    if !ephemeral.is_empty() {
        let mut workloads: Vec<String> = ephemeral
            .iter()
            .filter_map(|v| v.after.as_ref().or(v.before.as_ref()).map(|s| s.workload.name.clone()))
            .collect();
        workloads.sort();
        workloads.dedup();
        let _ = writeln!(
            o,
            "  {} emptyDir: {} volume(s) without persistence in {} (data lives as long as each pod)",
            p.verdict(Verdict::Safe),
            ephemeral.len(),
            workloads.join(", ")
        );
    }
    if !plan.images.is_empty() {
        let _ = writeln!(o, "\n{}", p.bold("Images:"));
        for i in &plan.images {
            let _ = writeln!(
                o,
                "  {} {}: {} → {}",
                i.workload,
                i.container,
                i.from.as_deref().unwrap_or("(new container)"),
                i.to.as_deref().unwrap_or("(removed)")
            );
        }
    }

    // issue #15: the VolumeSnapshots taken before the upgrade (or restored by a rollback).
    if let Some(snap) = &plan.snapshots {
        let _ = writeln!(o, "\n{}", p.bold("Snapshots:"));
        let _ = writeln!(o, "  {}", snap.headline());
        for l in snap.lines() {
            let _ = writeln!(o, "    {l}");
        }
    }

    if let Some(m) = &plan.matrix {
        let _ = writeln!(o, "\n{} ({})", p.bold("Matrix:"), m.file);
        if !m.path.is_empty() {
            let _ = writeln!(o, "  path: {}", m.path.join(" → "));
        }
        for h in &m.hops {
            let losses: Vec<String> = h.data_loss.iter().map(|(k, v)| format!("{k}: {v}")).collect();
            let _ = writeln!(
                o,
                "  hop {} → {}: data {}",
                h.from,
                h.to,
                if losses.is_empty() {
                    "-".into()
                } else {
                    losses.join(", ")
                }
            );
            if h.migrates_data {
                let _ = writeln!(
                    o,
                    "    migrates data on the volumes (snapshots before it: see Snapshots)"
                );
            }
            if h.backup_required {
                let how = h.backup_how.as_deref().map(|s| format!(" ({s})")).unwrap_or_default();
                let _ = writeln!(o, "    backup required before this hop{how}");
            }
            for mg in &h.migrations {
                let comp = mg.component.as_deref().map(|c| format!(" on {c}")).unwrap_or_default();
                let _ = writeln!(
                    o,
                    "    migration {} ({} → {}){comp}, after a healthy rollout",
                    mg.path, mg.from, mg.to
                );
            }
            if let Some(n) = &h.note {
                let _ = writeln!(o, "    note: {n}");
            }
        }
        let _ = writeln!(o, "  verdict: {}", matrix_verdict_text(plan));
    }
    if !plan.rollout.is_empty() {
        let _ = writeln!(o, "\n{}", p.bold("Rollout order:"));
        for (i, s) in plan.rollout.iter().enumerate() {
            let objs = if s.objects.is_empty() {
                "(no change)".to_string()
            } else {
                s.objects.join(", ")
            };
            let _ = writeln!(o, "  {}. {}: {objs}", i + 1, s.component);
        }
    }

    let show_diffs = !opts.compact && !opts.no_diff;
    let _ = writeln!(o, "\n{}", p.bold("Changes:"));
    let mut any = false;
    let mut churn = 0;
    for c in plan.changes.iter().filter(|c| c.action != Action::Unchanged) {
        if !opts.show_label_churn && label_only(c) {
            churn += 1;
            continue;
        }
        any = true;
        let (sym, label) = match c.action {
            Action::Add => (p.green("+"), "add".to_string()),
            Action::Remove if c.notes.iter().any(|n| n.contains("helm.sh/resource-policy: keep")) => (
                p.yellow("-"),
                "kept: leaves the release, stays in the cluster".to_string(),
            ),
            Action::Remove => (p.red("-"), "delete".to_string()),
            Action::Change => (p.yellow("~"), "change".to_string()),
            Action::Recreate => (p.red("±"), "recreate".to_string()),
            Action::KindChange => (
                p.red("±"),
                format!(
                    "kind change {} → {}",
                    c.old_key.as_ref().map(|k| k.kind.as_str()).unwrap_or("?"),
                    c.key.kind
                ),
            ),
            Action::Unchanged => (" ".to_string(), String::new()),
        };
        let _ = writeln!(
            o,
            "\n{sym} {} ({label}, +{} -{})",
            p.bold(&c.key.text()),
            c.lines_added,
            c.lines_removed
        );
        for f in &c.immutable {
            let _ = writeln!(o, "    immutable {}: {}", f.field, f.detail);
        }
        if let Some(cq) = &c.consequence {
            let _ = writeln!(o, "    {cq}");
        }
        for n in &c.notes {
            let _ = writeln!(o, "    note: {n}");
        }
        if !show_diffs {
            continue;
        }
        if !p.color {
            // Without colour the diff is copied as is, indented (no String per line).
            for line in c.diff.lines() {
                o.push_str("    ");
                o.push_str(line);
                o.push('\n');
            }
            continue;
        }
        for line in c.diff.lines() {
            let l = if line.starts_with("+++") || line.starts_with("---") {
                p.bold(line)
            } else if line.starts_with('+') {
                p.green(line)
            } else if line.starts_with('-') {
                p.red(line)
            } else if line.starts_with("@@") {
                p.dim(line)
            } else {
                line.to_string()
            };
            let _ = writeln!(o, "    {l}");
        }
    }
    if !any {
        let n = plan.summary.unchanged;
        let _ = writeln!(
            o,
            "  (none: {n} {} unchanged)",
            if n == 1 { "object" } else { "objects" }
        );
    } else if plan.summary.unchanged > 0 {
        let n = plan.summary.unchanged;
        let _ = writeln!(o, "\n{n} {} unchanged.", if n == 1 { "object" } else { "objects" });
    }
    if churn > 0 {
        let _ = writeln!(
            o,
            "{churn} change(s) only rewrite helm.sh/chart or app.kubernetes.io/version labels: not shown (--show-label-churn)"
        );
    }
    // A long plan ends with its summary, where the reader's eye is when the scroll stops.
    if o.lines().count() > 40 {
        let _ = writeln!(o, "\n{}", p.bold(&plan.summary_line()));
    }
    o
}

/// The matrix's verdict as the plan applies it: the stated one, or the carried one with what it
/// was (`safe (stated loss, met by carrying every volume)`), so the matrix section and the verdict
/// line agree.
pub fn matrix_verdict_text(plan: &Plan) -> String {
    match (&plan.matrix, plan.matrix_verdict) {
        (Some(m), Some(v)) if v != m.verdict => {
            format!("{v} (stated {}, met by carrying every volume)", m.verdict)
        }
        (Some(m), _) => m.verdict.to_string(),
        (None, _) => String::new(),
    }
}
