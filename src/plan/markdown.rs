//! The plan as Markdown for a pull-request comment, rendered with a tera template.
//!
//! GitHub refuses comments over 65,536 characters, and one dashboard ConfigMap can be a single
//! 60 KB line, so the budget counts characters, not lines: long lines are truncated, then the
//! largest diffs are dropped first until the comment fits — workload diffs last, because they are
//! what a reviewer reads — and each dropped diff says so. Verdicts, refusals, requirements and the
//! volume table are never cut: they are the reason the comment exists. A hidden marker
//! (`<!-- chartup-plan: RELEASE/NAMESPACE -->`) lets CI update one sticky comment per release.

use serde::Serialize;

use std::collections::BTreeSet;

use super::Plan;
use crate::analysis::{Fate, Verdict};
use crate::diff::{label_only, Action};

/// GitHub's limit for a comment body.
pub const LIMIT: usize = 65_536;

/// Longest diff line kept in a comment (a minified JSON dashboard is one line).
const MAX_LINE: usize = 300;

const TEMPLATE: &str = r#"<!-- chartup-plan: {{ release }}/{{ namespace }} -->
## chartup plan: `{{ release }}` {{ from }} → {{ to }}

**{{ summary }}**

{{ verdict_icon }} **{{ verdict_text }}**{{ verdict_by }}
{% if refusals %}
### ⛔ Refused
{% for r in refusals %}
- {{ r }}
{%- endfor %}
{% endif %}{% if requirements %}
### Apply requires
{% for r in requirements %}
- {{ r }}
{%- endfor %}
{% endif %}{% if hazards %}
### Hazards
{% for h in hazards %}
- {{ h.icon }} **{{ h.verdict }}** `{{ h.object }}` ({{ h.rule }}): {{ h.reason }}. _Workaround:_ {{ h.workaround }}
{%- endfor %}
{% endif %}{% if recreates %}
### Recreated (deleted and created again)
{% for r in recreates %}
- {{ r }}
{%- endfor %}
{% endif %}{% if pairings %}
### Same component (renamed or changing kind)
{% for r in pairings %}
- {{ r }}
{%- endfor %}
{% endif %}{% if warnings %}
### Warnings
{% for w in warnings %}
- {{ w }}
{%- endfor %}
{% endif %}{% if user_values %}
{{ user_values }}{% endif %}
### Volumes
{% if volumes %}
| Verdict | Volume | Fate | Mode | Why |
|---|---|---|---|---|
{%- for v in volumes %}
| {{ v.icon }} {{ v.verdict }} | `{{ v.name }}` | {{ v.fate }} | {{ v.mode }} | {{ v.reason }} |
{%- endfor %}
{% for v in volumes %}{% if v.workaround %}
<details><summary>Workaround for <code>{{ v.name }}</code> ({{ v.verdict }})</summary>

Objects: {{ v.objects }}

{{ v.workaround }}
</details>
{% endif %}{% endfor %}
{%- else %}
No workload mounts a volume.
{% endif %}{% if ephemeral %}
{{ ephemeral }}
{% endif %}{% if images %}
### Images
| Workload | Container | From | To |
|---|---|---|---|
{%- for i in images %}
| `{{ i.workload }}` | {{ i.container }} | `{{ i.from }}` | `{{ i.to }}` |
{%- endfor %}
{% endif %}{% if matrix %}
### Compatibility matrix (`{{ matrix.file }}`)

Path: {{ matrix.path }} — verdict **{{ matrix.verdict }}**
{% for h in matrix.hops %}
- **{{ h.from }} → {{ h.to }}**: data {{ h.loss }}{% if h.backup %}; backup required first{% endif %}{% for m in h.migrations %}
  - migration `{{ m }}` after a healthy rollout{% endfor %}{% if h.note %}
  - {{ h.note }}{% endif %}
{%- endfor %}
{% endif %}{% if rollout %}
### Rollout order
{% for s in rollout %}
{{ loop.index }}. **{{ s.component }}**: {{ s.objects }}
{%- endfor %}
{% endif %}
### Changes ({{ unchanged }} unchanged)
{% for c in changes %}
<details><summary>{{ c.symbol }} <code>{{ c.key }}</code> — {{ c.label }} (+{{ c.added }} −{{ c.removed }})</summary>
{% for n in c.notes %}
- {{ n }}
{%- endfor %}
{% if c.diff %}
```diff
{{ c.diff }}
```
{% endif %}{% if c.cut %}
_{{ c.cut }}_
{% endif %}
</details>
{% endfor %}{% if churn %}
_{{ churn }}_
{% endif %}{% if collapsed %}
_{{ collapsed }}_
{% endif %}"#;

#[derive(Serialize)]
struct Vol {
    icon: &'static str,
    verdict: String,
    name: String,
    fate: String,
    mode: String,
    reason: String,
    objects: String,
    workaround: Option<String>,
}

#[derive(Serialize)]
struct HopView {
    from: String,
    to: String,
    loss: String,
    backup: bool,
    migrations: Vec<String>,
    note: Option<String>,
}

#[derive(Serialize)]
struct MatrixView {
    file: String,
    path: String,
    verdict: String,
    hops: Vec<HopView>,
}

#[derive(Serialize)]
struct Step {
    component: String,
    objects: String,
}

#[derive(Serialize)]
struct Change {
    symbol: &'static str,
    key: String,
    label: String,
    added: usize,
    removed: usize,
    notes: Vec<String>,
    diff: String,
    cut: Option<String>,
}

#[derive(Serialize)]
struct ImageRow {
    workload: String,
    container: String,
    from: String,
    to: String,
}

#[derive(Serialize)]
struct HazardView {
    icon: &'static str,
    verdict: String,
    object: String,
    rule: String,
    reason: String,
    workaround: String,
}

#[derive(Serialize)]
struct View {
    release: String,
    namespace: String,
    requirements: Vec<String>,
    hazards: Vec<HazardView>,
    recreates: Vec<String>,
    pairings: Vec<String>,
    ephemeral: Option<String>,
    images: Vec<ImageRow>,
    churn: Option<String>,
    from: String,
    to: String,
    summary: String,
    verdict_icon: &'static str,
    verdict_text: String,
    verdict_by: String,
    refusals: Vec<String>,
    warnings: Vec<String>,
    user_values: Option<String>,
    volumes: Vec<Vol>,
    matrix: Option<MatrixView>,
    rollout: Vec<Step>,
    changes: Vec<Change>,
    unchanged: usize,
    collapsed: Option<String>,
}

fn cell(s: &str) -> String {
    // A table cell: no pipes, no newlines.
    s.replace('|', "\\|").replace('\n', " ")
}

fn icon(v: Verdict) -> &'static str {
    match v {
        Verdict::Loss => "🔴",
        Verdict::AtRisk => "🟠",
        Verdict::Safe => "🟢",
    }
}

/// The changes a comment shows: label-only churn left out.
fn shown(plan: &Plan) -> Vec<&crate::diff::ObjectChange> {
    plan.changes
        .iter()
        .filter(|c| c.action != Action::Unchanged && !label_only(c))
        .collect()
}

/// A diff as a comment shows it: long lines truncated, fences defused.
fn prepared(diff: &str) -> String {
    let mut out = String::with_capacity(diff.len().min(64 * 1024));
    for l in diff.trim_end().lines() {
        if l.chars().count() > MAX_LINE {
            out.extend(l.chars().take(MAX_LINE));
            out.push_str(&format!("… ({} characters cut)", l.chars().count() - MAX_LINE));
        } else {
            out.push_str(l);
        }
        out.push('\n');
    }
    // A fence inside the diff would end ours early.
    out.trim_end().replace("```", "`\u{200b}``")
}

/// `dropped`: indexes (into [`shown`]) of the diffs left out to fit the budget.
fn view(plan: &Plan, diffs: &[String], dropped: &BTreeSet<usize>) -> View {
    let side = |s: &super::SideInfo| {
        s.chart
            .as_ref()
            .map(|c| format!("{} {}", c.name, c.version))
            .unwrap_or_else(|| s.origin.clone())
    };
    let mut collapsed_count = 0;
    let shown = shown(plan);
    let churn = plan.changes.iter().filter(|c| label_only(c)).count();
    let changes = shown
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let (symbol, label) = match c.action {
                Action::Add => ("➕", "add".to_string()),
                Action::Remove if c.notes.iter().any(|n| n.contains("helm.sh/resource-policy: keep")) => {
                    ("➖", "kept: leaves the release, stays in the cluster".to_string())
                }
                Action::Remove => ("➖", "delete".to_string()),
                Action::Change => ("✏️", "change".to_string()),
                Action::Recreate => ("♻️", "recreate".to_string()),
                Action::KindChange => (
                    "♻️",
                    format!(
                        "kind change {} → {}",
                        c.old_key.as_ref().map(|k| k.kind.as_str()).unwrap_or("?"),
                        c.key.kind
                    ),
                ),
                Action::Unchanged => ("", String::new()),
            };
            let mut notes: Vec<String> = c
                .immutable
                .iter()
                .map(|f| format!("immutable `{}`: {}", f.field, f.detail))
                .collect();
            notes.extend(c.consequence.iter().cloned());
            notes.extend(c.notes.iter().cloned());
            let (diff, cut) = if dropped.contains(&i) {
                collapsed_count += 1;
                (
                    String::new(),
                    Some(format!(
                        "diff of {} lines ({} characters) left out to keep this comment under {LIMIT} characters",
                        c.diff.lines().count(),
                        c.diff.chars().count()
                    )),
                )
            } else {
                (diffs[i].clone(), None)
            };
            Change {
                symbol,
                key: c.key.to_string(),
                label,
                added: c.lines_added,
                removed: c.lines_removed,
                notes,
                diff,
                cut,
            }
        })
        .collect();
    let ephemeral: Vec<_> = plan
        .volumes
        .iter()
        .filter(|v| v.fate == Fate::Ephemeral && v.verdict == Verdict::Safe)
        .collect();
    View {
        release: plan.release.name.clone(),
        namespace: plan.release.namespace.clone(),
        requirements: plan
            .requirements
            .iter()
            .map(|r| match &r.flag {
                Some(f) if !r.accept.is_empty() => format!(
                    "`{f}` — {} (one by one: `--accept-risk={}`)",
                    r.reason,
                    r.accept.join(",")
                ),
                Some(f) => format!("`{f}` — {}", r.reason),
                None => format!("⛔ {}", r.reason),
            })
            .collect(),
        hazards: plan
            .hazards
            .iter()
            .map(|h| HazardView {
                icon: icon(h.verdict),
                verdict: h.verdict.to_string(),
                object: h.object.clone(),
                rule: h.rule.clone(),
                reason: h.reason.clone(),
                workaround: h.workaround.clone(),
            })
            .collect(),
        recreates: plan
            .changes
            .iter()
            .filter(|c| matches!(c.action, Action::Recreate | Action::KindChange))
            .map(|c| {
                let f: Vec<String> = c.immutable.iter().map(|f| format!("`{}`: {}", f.field, f.detail)).collect();
                format!("`{}` — {}", c.key, f.join("; "))
            })
            .collect(),
        pairings: plan
            .pairings
            .iter()
            .map(|p| {
                format!(
                    "`{}` → `{}`{} ({})",
                    p.from,
                    p.to,
                    if p.declared { " (declared)" } else { "" },
                    p.evidence.join("; ")
                )
            })
            .collect(),
        ephemeral: (!ephemeral.is_empty()).then(|| {
            format!(
                "🟢 emptyDir: {} volume(s) without persistence (data lives as long as each pod), not listed.",
                ephemeral.len()
            )
        }),
        images: plan
            .images
            .iter()
            .map(|i| ImageRow {
                workload: i.workload.clone(),
                container: cell(&i.container),
                from: i.from.clone().unwrap_or_else(|| "(new container)".into()),
                to: i.to.clone().unwrap_or_else(|| "(removed)".into()),
            })
            .collect(),
        churn: (churn > 0).then(|| {
            format!("{churn} change(s) only rewrite helm.sh/chart or app.kubernetes.io/version labels: not shown")
        }),
        from: side(&plan.from),
        to: side(&plan.to),
        summary: plan.summary_line(),
        verdict_icon: icon(plan.verdict),
        verdict_text: match plan.verdict {
            Verdict::Loss => "Data loss".into(),
            Verdict::AtRisk => "Data at risk".into(),
            Verdict::Safe => "No data at risk".into(),
        },
        verdict_by: match (plan.matrix_verdict, plan.hazards.iter().map(|h| h.verdict).max()) {
            (Some(m), Some(h)) => format!(" (analysis: {}, hazards: {h}, matrix: {m})", plan.analysis_verdict),
            (Some(m), None) => format!(" (analysis: {}, matrix: {m})", plan.analysis_verdict),
            (None, Some(h)) => format!(" (volumes: {}, hazards: {h})", plan.analysis_verdict),
            (None, None) => String::new(),
        },
        refusals: plan.refusals.clone(),
        warnings: plan.warnings.clone(),
        user_values: plan.user_values.as_ref().map(|u| u.markdown()),
        volumes: plan
            .volumes
            .iter()
            .filter(|v| !(v.fate == Fate::Ephemeral && v.verdict == Verdict::Safe))
            .map(|v| Vol {
                icon: icon(v.verdict),
                verdict: v.verdict.to_string(),
                name: format!("{}/{}", v.component, v.volume),
                fate: v.fate_text(),
                mode: v.mode.as_str().into(),
                reason: cell(&v.reason),
                objects: v.objects.iter().map(|o| format!("`{o}`")).collect::<Vec<_>>().join(", "),
                workaround: if v.verdict == Verdict::Safe { None } else { v.workaround.clone() },
            })
            .collect(),
        matrix: plan.matrix.as_ref().map(|m| MatrixView {
            file: m.file.clone(),
            path: m.path.join(" → "),
            verdict: m.verdict.to_string(),
            hops: m
                .hops
                .iter()
                .map(|h| HopView {
                    from: h.from.clone(),
                    to: h.to.clone(),
                    loss: if h.data_loss.is_empty() {
                        "-".into()
                    } else {
                        h.data_loss.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join(", ")
                    },
                    backup: h.backup_required,
                    migrations: h.migrations.iter().map(|m| m.path.clone()).collect(),
                    note: h.note.clone(),
                })
                .collect(),
        }),
        rollout: plan
            .rollout
            .iter()
            .map(|s| Step {
                component: s.component.clone(),
                objects: if s.objects.is_empty() {
                    "(no change)".into()
                } else {
                    s.objects.iter().map(|o| format!("`{o}`")).collect::<Vec<_>>().join(", ")
                },
            })
            .collect(),
        changes,
        unchanged: plan.summary.unchanged,
        collapsed: (collapsed_count > 0).then(|| {
            format!("{collapsed_count} of the largest diffs were left out to keep this comment under {LIMIT} characters; `chartup plan -o text` or the saved plan has them in full.")
        }),
    }
}

/// Render a plan as Markdown, under [`LIMIT`] characters.
pub fn render(plan: &Plan) -> Result<String, String> {
    let mut tera = tera::Tera::new();
    tera.add_raw_template("plan.md", TEMPLATE)
        .map_err(|e| format!("markdown template: {e}"))?;
    let shown = shown(plan);
    let diffs: Vec<String> = shown.iter().map(|c| prepared(&c.diff)).collect();
    // Largest first, workload diffs after every other: the order diffs are given up in.
    let mut order: Vec<usize> = (0..shown.len()).collect();
    order.sort_by_key(|&i| {
        (
            crate::diff::is_pod_controller(&shown[i].key.kind),
            std::cmp::Reverse(diffs[i].chars().count()),
        )
    });
    let mut dropped: BTreeSet<usize> = BTreeSet::new();
    let mut next = order.iter().copied().filter(|&i| !diffs[i].is_empty());
    let mut last;
    loop {
        let ctx = tera::Context::from_serialize(&view(plan, &diffs, &dropped))
            .map_err(|e| format!("markdown context: {e}"))?;
        last = tera.render("plan.md", &ctx).map_err(|e| format!("markdown: {e:?}"))?;
        let len = last.chars().count();
        if len < LIMIT {
            return Ok(last);
        }
        // Drop the largest remaining diffs until their size covers the excess.
        let mut freed = 0;
        let mut any = false;
        for i in next.by_ref() {
            dropped.insert(i);
            any = true;
            freed += diffs[i].chars().count();
            if freed > len - LIMIT + 200 {
                break;
            }
        }
        if !any {
            break;
        }
    }
    // Even without diffs it is too long (thousands of objects): cut at a line boundary and say so.
    let note = format!("\n\n_…plan cut at {LIMIT} characters; see `chartup plan -o json` for the rest._\n");
    let mut cut = String::new();
    for line in last.lines() {
        if cut.chars().count() + line.chars().count() + note.chars().count() + 1 >= LIMIT {
            break;
        }
        cut.push_str(line);
        cut.push('\n');
    }
    cut.push_str(&note);
    Ok(cut)
}
