//! Which user values an upgrade renders with, by Helm's rules, and the plan section that shows
//! the user what happened to the values they set ("user values: deployed → new").
//!
//! The rules are helm 3.14+/4's `Upgrade.reuseValues` (`pkg/action/upgrade.go`), in its order:
//! `--reset-values` wins over `--reuse-values`, which wins over `--reset-then-reuse-values`; with
//! none of them, the deployed user values are reused when no values are given at all. They work on
//! the renderer's Go-typed values ([`Map`]) with Helm's own `CoalesceTables`, because the typed
//! result is what the templates see (`--set a=1` is an int64, a stored value a float64).
//!
//! The section compares the deployed release's user values (its `config`) with the ones the new
//! revision will record, key by key. A value the user set that is gone afterwards is the defect
//! issue #18 describes (a silent switch back to chart defaults), so it is listed separately and
//! raised as a plan warning. Values under keys that look like secrets are masked unless the user
//! asked for `--show-secrets`.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::chart::coalesce::{coalesce_tables, coalesce_values};
use crate::template::value::{Map, Value};

/// Helm's values flags of `upgrade` (`--reuse-values`, `--reset-values`,
/// `--reset-then-reuse-values`); `Default` is none of them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ValuesMode {
    #[default]
    Default,
    Reuse,
    Reset,
    ResetThenReuse,
}

impl ValuesMode {
    /// The mode the flags select, with Helm's precedence (reset, then reuse, then reset-then-reuse).
    pub fn from_flags(reuse: bool, reset: bool, reset_then_reuse: bool) -> ValuesMode {
        if reset {
            ValuesMode::Reset
        } else if reuse {
            ValuesMode::Reuse
        } else if reset_then_reuse {
            ValuesMode::ResetThenReuse
        } else {
            ValuesMode::Default
        }
    }

    pub fn flag(self) -> &'static str {
        match self {
            ValuesMode::Default => "(no values flag)",
            ValuesMode::Reuse => "--reuse-values",
            ValuesMode::Reset => "--reset-values",
            ValuesMode::ResetThenReuse => "--reset-then-reuse-values",
        }
    }
}

/// What the deployed release contributes to an upgrade's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reused {
    /// Nothing: only the values given (and the new chart's defaults) count.
    None,
    /// No values were given, so the deployed user values are used as they are.
    Whole,
    /// The deployed user values under the given ones (`--reuse-values`,
    /// `--reset-then-reuse-values`).
    Merged,
}

/// The outcome of [`resolve`].
#[derive(Clone)]
pub struct Resolved {
    /// The user values of the new revision: what the render coalesces over the chart's defaults
    /// and what the release record keeps as `config`.
    pub config: Map,
    /// `--reuse-values` only: the chart's defaults are replaced by the deployed release's values
    /// coalesced with its own chart's defaults (Helm sets `chart.Values = oldVals`), so defaults
    /// the new chart adds are not seen.
    pub chart_values: Option<Map>,
    pub reused: Reused,
}

/// Helm's `reuseValues`. `given` are the values from `-f`/`--set…` (already merged in Helm's flag
/// order); `deployed` the deployed revision's user values (`config`, empty when it had none);
/// `deployed_chart_values` that revision's chart defaults (its record's `chart.values`), used by
/// `--reuse-values` only. The inputs are not changed.
pub fn resolve(mode: ValuesMode, given: &Map, deployed: &Map, deployed_chart_values: Option<&Map>) -> Resolved {
    let given_copy = deep(given);
    match mode {
        ValuesMode::Reset => Resolved {
            config: given_copy,
            chart_values: None,
            reused: Reused::None,
        },
        ValuesMode::Reuse => {
            // The record's chart has no subcharts (Helm does not store them), so coalescing with
            // it is coalescing with its root values.
            let old_chart = crate::chart::Chart {
                metadata: Default::default(),
                templates: Vec::new(),
                files: Vec::new(),
                values: Value::map(deployed_chart_values.map(deep).unwrap_or_default()),
                schema: None,
                dependencies: Vec::new(),
            };
            let old_vals = coalesce_values(&old_chart, &deep(deployed)).unwrap_or_default();
            Resolved {
                config: coalesce_tables(&given_copy, &deep(deployed)),
                chart_values: Some(old_vals),
                reused: Reused::Merged,
            }
        }
        ValuesMode::ResetThenReuse => Resolved {
            config: coalesce_tables(&given_copy, &deep(deployed)),
            chart_values: None,
            reused: Reused::Merged,
        },
        ValuesMode::Default => {
            if given.is_empty() && !deployed.is_empty() {
                Resolved {
                    config: deep(deployed),
                    chart_values: None,
                    reused: Reused::Whole,
                }
            } else {
                Resolved {
                    config: given_copy,
                    chart_values: None,
                    reused: Reused::None,
                }
            }
        }
    }
}

fn deep(m: &Map) -> Map {
    match Value::map(m.clone()).deep_copy() {
        Value::Map(m) => m,
        _ => Map::new(),
    }
}

/// How one user value changes between the deployed revision and the new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ValueChangeKind {
    Added,
    Changed,
    /// Set by the user on the deployed revision, not set on the new one: the chart's default
    /// applies again.
    Dropped,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValueChange {
    /// Dotted path (`image.registry`); list elements are compared whole.
    pub key: String,
    pub change: ValueChangeKind,
    /// The value as compact JSON (strings unquoted), `(masked)` for a secret-looking key.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub to: Option<String>,
}

/// The plan section "user values: deployed → new".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserValues {
    pub mode: ValuesMode,
    pub reused: Reused,
    /// One line saying which rule applied.
    pub rule: String,
    pub changes: Vec<ValueChange>,
}

impl UserValues {
    pub fn dropped(&self) -> Vec<&str> {
        self.changes
            .iter()
            .filter(|c| c.change == ValueChangeKind::Dropped)
            .map(|c| c.key.as_str())
            .collect()
    }

    /// The loud warning for dropped values, if any.
    pub fn warning(&self) -> Option<String> {
        let dropped = self.dropped();
        if dropped.is_empty() {
            return None;
        }
        Some(format!(
            "user values set on the deployed revision are dropped and fall back to the chart's defaults: {} \
             — give them again (-f/--set) or use --reuse-values / --reset-then-reuse-values to keep them",
            dropped.join(", ")
        ))
    }

    /// The section for a terminal (no colour; the caller adds headings' style).
    pub fn text(&self) -> String {
        let mut o = format!("  {}\n", self.rule);
        if self.changes.is_empty() {
            o.push_str("  (no user value changes)\n");
        }
        for c in &self.changes {
            o.push_str(&match c.change {
                ValueChangeKind::Added => format!("  + {}: {}\n", c.key, c.to.as_deref().unwrap_or("")),
                ValueChangeKind::Changed => format!(
                    "  ~ {}: {} → {}\n",
                    c.key,
                    c.from.as_deref().unwrap_or(""),
                    c.to.as_deref().unwrap_or("")
                ),
                ValueChangeKind::Dropped => format!(
                    "  - {}: {} → (chart default)  ⚠ DROPPED\n",
                    c.key,
                    c.from.as_deref().unwrap_or("")
                ),
            });
        }
        o
    }

    /// The section as Markdown (a heading, the rule, a table).
    pub fn markdown(&self) -> String {
        let mut o = format!("### User values: deployed → new\n\n{}\n", md_cell(&self.rule));
        if self.changes.is_empty() {
            o.push_str("\nNo user value changes.\n");
            return o;
        }
        if let Some(w) = self.warning() {
            o.push_str(&format!("\n> ⚠️ **{}**\n", md_cell(&w)));
        }
        o.push_str("\n| | Key | Deployed | New |\n|---|---|---|---|\n");
        for c in &self.changes {
            let sign = match c.change {
                ValueChangeKind::Added => "➕ added",
                ValueChangeKind::Changed => "✏️ changed",
                ValueChangeKind::Dropped => "⚠️ **dropped**",
            };
            let to = match c.change {
                ValueChangeKind::Dropped => "(chart default)".to_string(),
                _ => format!("`{}`", md_cell(c.to.as_deref().unwrap_or(""))),
            };
            let from = c
                .from
                .as_deref()
                .map(|f| format!("`{}`", md_cell(f)))
                .unwrap_or_default();
            o.push_str(&format!("| {sign} | `{}` | {from} | {to} |\n", c.key));
        }
        o
    }
}

impl super::Plan {
    /// Add the user values section; a dropped value also becomes a plan warning (shown first).
    pub fn set_user_values(&mut self, section: UserValues) {
        if let Some(w) = section.warning() {
            self.warnings.insert(0, w);
        }
        self.user_values = Some(section);
    }
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The section for an upgrade whose deployed user values are `deployed` and whose new ones are
/// `new`. `given` says whether any values flag was given (for the rule line).
pub fn section(mode: ValuesMode, reused: Reused, deployed: &Json, new: &Json, show_secrets: bool) -> UserValues {
    let rule = match (mode, reused) {
        (ValuesMode::Default, Reused::Whole) => {
            "no values given: the deployed user values are reused as they are (helm upgrade's rule)".to_string()
        }
        (ValuesMode::Default, _) => {
            "values given: they replace the deployed user values (helm upgrade's rule; --reuse-values or \
             --reset-then-reuse-values would merge them)"
                .to_string()
        }
        (ValuesMode::Reset, _) => "--reset-values: only the values given count, over the new chart's defaults".into(),
        (ValuesMode::Reuse, _) => "--reuse-values: the values given over the deployed user values and the deployed \
                                   chart's defaults (defaults the new chart adds are not used)"
            .into(),
        (ValuesMode::ResetThenReuse, _) => {
            "--reset-then-reuse-values: the values given over the deployed user values, over the new chart's defaults"
                .into()
        }
    };
    let mut changes = Vec::new();
    walk("", Some(deployed), Some(new), show_secrets, false, &mut changes);
    UserValues {
        mode,
        reused,
        rule,
        changes,
    }
}

/// Keys whose values are masked: the last path segment names a secret.
pub fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase().replace(['-', '_'], "");
    const WORDS: &[&str] = &[
        "password",
        "passwd",
        "secret",
        "token",
        "apikey",
        "privatekey",
        "credential",
        "accesskey",
        "auth",
        "cert",
        "tlskey",
        "key",
    ];
    WORDS
        .iter()
        .any(|w| if *w == "key" { k == "key" } else { k.contains(w) })
}

fn walk(prefix: &str, a: Option<&Json>, b: Option<&Json>, show: bool, masked: bool, out: &mut Vec<ValueChange>) {
    match (a, b) {
        (Some(Json::Object(x)), Some(Json::Object(y))) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                walk(&p, x.get(k), y.get(k), show, masked || is_secret_key(k), out);
            }
        }
        // A whole table appears or goes: list its leaves, so each value the user set is named.
        (Some(Json::Object(x)), None) | (None, Some(Json::Object(x))) if !x.is_empty() => {
            let (a_side, b_side) = (a.is_some(), b.is_some());
            for (k, v) in x {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                let (aa, bb) = (a_side.then_some(v), b_side.then_some(v));
                walk(&p, aa, bb, show, masked || is_secret_key(k), out);
            }
        }
        (a, b) if a != b => {
            let shown = |v: Option<&Json>| {
                v.map(|v| {
                    if masked && !show {
                        "(masked)".to_string()
                    } else {
                        match v {
                            Json::String(s) => s.clone(),
                            other => other.to_string(),
                        }
                    }
                })
            };
            let change = match (a, b) {
                (None, _) => ValueChangeKind::Added,
                (_, None) => ValueChangeKind::Dropped,
                _ => ValueChangeKind::Changed,
            };
            out.push(ValueChange {
                key: prefix.to_string(),
                change,
                from: shown(a),
                to: shown(b),
            });
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::value::Value;

    fn m(yaml: &str) -> Map {
        match crate::yaml::from_str(yaml).unwrap() {
            Value::Map(m) => m,
            Value::Nil => Map::new(),
            v => panic!("not a map: {v:?}"),
        }
    }

    fn j(map: &Map) -> Json {
        let text = crate::yaml::to_json(
            &Value::map(map.clone()),
            crate::yaml::JsonOpts {
                escape_html: false,
                indent: false,
            },
        )
        .unwrap();
        serde_json::from_str(&text).unwrap()
    }

    // Expected values follow pkg/action/upgrade.go reuseValues and the CoalesceTables semantics it
    // calls (dst wins, src fills in, a null in dst deletes); the e2e helmuser suite checks the same rules
    // against the real `helm upgrade` on the test cluster.
    #[test]
    fn default_reuses_only_when_no_values_are_given() {
        let deployed = m("image: {registry: r.example}\nstorageClass: fast\n");
        let none = resolve(ValuesMode::Default, &Map::new(), &deployed, None);
        assert_eq!(none.reused, Reused::Whole);
        assert_eq!(j(&none.config), j(&deployed));
        let some = resolve(ValuesMode::Default, &m("replicas: 2\n"), &deployed, None);
        assert_eq!(some.reused, Reused::None);
        assert_eq!(j(&some.config), serde_json::json!({"replicas": 2}));
    }

    #[test]
    fn reset_ignores_the_deployed_values() {
        let deployed = m("a: 1\n");
        let r = resolve(ValuesMode::Reset, &Map::new(), &deployed, None);
        assert!(r.config.is_empty());
        assert_eq!(r.reused, Reused::None);
        assert!(r.chart_values.is_none());
    }

    #[test]
    fn reset_then_reuse_merges_given_over_deployed() {
        let deployed = m("image: {registry: r.example, tag: '1'}\nkeep: yes\ngone: x\n");
        let given = m("image: {tag: '2'}\ngone: null\n");
        let r = resolve(ValuesMode::ResetThenReuse, &given, &deployed, None);
        assert_eq!(
            j(&r.config),
            serde_json::json!({"image": {"registry": "r.example", "tag": "2"}, "keep": true})
        );
        assert!(r.chart_values.is_none());
        // the inputs are untouched (CoalesceTables writes into both in Go)
        assert_eq!(j(&given), serde_json::json!({"image": {"tag": "2"}, "gone": null}));
        assert!(deployed.contains_key("gone"));
    }

    #[test]
    fn reuse_replaces_chart_defaults_with_the_deployed_ones() {
        let deployed = m("image: {registry: r.example}\n");
        let old_defaults = m("image: {registry: docker.io, tag: '1'}\nreplicas: 1\n");
        let r = resolve(ValuesMode::Reuse, &m("replicas: 3\n"), &deployed, Some(&old_defaults));
        assert_eq!(
            j(&r.config),
            serde_json::json!({"image": {"registry": "r.example"}, "replicas": 3})
        );
        assert_eq!(
            j(r.chart_values.as_ref().unwrap()),
            serde_json::json!({"image": {"registry": "r.example", "tag": "1"}, "replicas": 1})
        );
    }

    #[test]
    fn precedence_of_the_flags_is_helms() {
        assert_eq!(ValuesMode::from_flags(true, true, true), ValuesMode::Reset);
        assert_eq!(ValuesMode::from_flags(true, false, true), ValuesMode::Reuse);
        assert_eq!(ValuesMode::from_flags(false, false, true), ValuesMode::ResetThenReuse);
        assert_eq!(ValuesMode::from_flags(false, false, false), ValuesMode::Default);
    }

    #[test]
    fn section_lists_every_changed_key_and_warns_on_drops() {
        let deployed = serde_json::json!({"image": {"registry": "r.example", "tag": "1"},
            "persistence": {"storageClass": "fast"}, "db": {"password": "hunter2"}});
        let new = serde_json::json!({"image": {"tag": "2"}, "replicas": 3, "db": {"password": "s3cret"}});
        let s = section(ValuesMode::Default, Reused::None, &deployed, &new, false);
        let got: Vec<(String, ValueChangeKind, Option<String>, Option<String>)> = s
            .changes
            .iter()
            .map(|c| (c.key.clone(), c.change, c.from.clone(), c.to.clone()))
            .collect();
        use ValueChangeKind::*;
        assert_eq!(
            got,
            vec![
                (
                    "db.password".into(),
                    Changed,
                    Some("(masked)".into()),
                    Some("(masked)".into())
                ),
                ("image.registry".into(), Dropped, Some("r.example".into()), None),
                ("image.tag".into(), Changed, Some("1".into()), Some("2".into())),
                ("persistence.storageClass".into(), Dropped, Some("fast".into()), None),
                ("replicas".into(), Added, None, Some("3".into())),
            ]
        );
        let w = s.warning().unwrap();
        assert!(w.contains("image.registry, persistence.storageClass"), "{w}");
        assert!(!s.text().contains("hunter2") && !s.markdown().contains("s3cret"));
        let shown = section(ValuesMode::Default, Reused::None, &deployed, &new, true);
        assert!(shown.text().contains("hunter2 → s3cret"), "{}", shown.text());
    }

    #[test]
    fn reused_values_show_no_changes() {
        let v = serde_json::json!({"a": {"b": 1}});
        let s = section(ValuesMode::Default, Reused::Whole, &v, &v, false);
        assert!(s.changes.is_empty() && s.warning().is_none());
        assert!(s.text().contains("reused as they are"));
    }
}
