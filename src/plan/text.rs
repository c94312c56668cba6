//! The plan for a terminal: the summary line first, then what matters most — refusals and the
//! fate of every volume — then the matrix's view, the rollout order, and last the per-object
//! diffs, which can be long. Colour is added here and stripped by the printer (anstream) when
//! NO_COLOR is set or stdout is not a terminal, so one renderer serves both.

use std::fmt::Write as _;

use owo_colors::OwoColorize;

use super::Plan;
use crate::analysis::Verdict;
use crate::diff::Action;

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

/// Render a plan for a terminal.
pub fn render(plan: &Plan, color: bool) -> String {
    let p = Painter { color };
    let mut o = String::new();
    let _ = writeln!(o, "{}", p.bold(&plan.summary.line()));
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
    let by = match plan.matrix_verdict {
        Some(m) => format!(" (analysis: {}, matrix: {m})", plan.analysis_verdict),
        None => String::new(),
    };
    let _ = writeln!(o, "Verdict: {verdict}{by}");

    if !plan.refusals.is_empty() {
        let _ = writeln!(o, "\n{}", p.red("Refused:"));
        for r in &plan.refusals {
            let _ = writeln!(o, "  ✗ {r}");
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
    for v in &plan.volumes {
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
        if v.verdict != Verdict::Safe {
            let _ = writeln!(o, "          objects: {}", v.objects.join(", "));
            if let Some(w) = &v.workaround {
                let _ = writeln!(o, "          workaround: {w}");
            }
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
        let _ = writeln!(o, "  verdict: {}", m.verdict);
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

    let _ = writeln!(o, "\n{}", p.bold("Changes:"));
    let mut any = false;
    for c in plan.changes.iter().filter(|c| c.action != Action::Unchanged) {
        any = true;
        let (sym, label) = match c.action {
            Action::Add => (p.green("+"), "add".to_string()),
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
            p.bold(&c.key.to_string()),
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
    o
}
