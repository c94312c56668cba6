//! The plan as Markdown for a pull-request comment, rendered with a tera template.
//!
//! GitHub refuses comments over 65,536 characters, so the renderer tries progressively shorter
//! forms — full diffs, diffs cut to 200, 50, then 10 lines, then no diffs — and takes the first
//! that fits, saying what was collapsed. Verdicts, refusals and the volume table are never cut:
//! they are the reason the comment exists.

use serde::Serialize;

use super::Plan;
use crate::analysis::Verdict;
use crate::diff::Action;

/// GitHub's limit for a comment body.
pub const LIMIT: usize = 65_536;

const TEMPLATE: &str = r#"## chartup plan: `{{ release }}` {{ from }} → {{ to }}

**{{ summary }}**

{{ verdict_icon }} **{{ verdict_text }}**{{ verdict_by }}
{% if refusals %}
### ⛔ Refused
{% for r in refusals %}
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
{% endfor %}{% if collapsed %}
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
struct View {
    release: String,
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

fn view(plan: &Plan, max_diff_lines: Option<usize>) -> View {
    let side = |s: &super::SideInfo| {
        s.chart
            .as_ref()
            .map(|c| format!("{} {}", c.name, c.version))
            .unwrap_or_else(|| s.origin.clone())
    };
    let mut collapsed_count = 0;
    let changes = plan
        .changes
        .iter()
        .filter(|c| c.action != Action::Unchanged)
        .map(|c| {
            let (symbol, label) = match c.action {
                Action::Add => ("➕", "add".to_string()),
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
            let total = c.diff.lines().count();
            let (diff, cut) = match max_diff_lines {
                Some(n) if total > n => {
                    collapsed_count += 1;
                    let kept: Vec<&str> = c.diff.lines().take(n).collect();
                    (
                        kept.join("\n"),
                        Some(if n == 0 {
                            format!("diff of {total} lines omitted to keep this comment under {LIMIT} characters")
                        } else {
                            format!("diff cut after {n} of {total} lines to keep this comment under {LIMIT} characters")
                        }),
                    )
                }
                _ => (c.diff.trim_end().to_string(), None),
            };
            // A fence inside the diff would end ours early.
            let diff = diff.replace("```", "`\u{200b}``");
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
    View {
        release: plan.release.name.clone(),
        from: side(&plan.from),
        to: side(&plan.to),
        summary: plan.summary.line(),
        verdict_icon: icon(plan.verdict),
        verdict_text: match plan.verdict {
            Verdict::Loss => "Data loss".into(),
            Verdict::AtRisk => "Data at risk".into(),
            Verdict::Safe => "No data at risk".into(),
        },
        verdict_by: plan
            .matrix_verdict
            .map(|m| format!(" (analysis: {}, matrix: {m})", plan.analysis_verdict))
            .unwrap_or_default(),
        refusals: plan.refusals.clone(),
        warnings: plan.warnings.clone(),
        user_values: plan.user_values.as_ref().map(|u| u.markdown()),
        volumes: plan
            .volumes
            .iter()
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
            format!("{collapsed_count} long diffs were collapsed to keep this comment under {LIMIT} characters; `chartup plan -o text` or the saved plan has them in full.")
        }),
    }
}

/// Render a plan as Markdown, under [`LIMIT`] characters.
pub fn render(plan: &Plan) -> Result<String, String> {
    let mut tera = tera::Tera::new();
    tera.add_raw_template("plan.md", TEMPLATE)
        .map_err(|e| format!("markdown template: {e}"))?;
    let mut last = String::new();
    for max in [None, Some(200), Some(50), Some(10), Some(0)] {
        let ctx = tera::Context::from_serialize(&view(plan, max)).map_err(|e| format!("markdown context: {e}"))?;
        last = tera.render("plan.md", &ctx).map_err(|e| format!("markdown: {e:?}"))?;
        if last.chars().count() < LIMIT {
            return Ok(last);
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
