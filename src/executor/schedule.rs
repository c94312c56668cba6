//! Which components may roll out at the same time: the order a run must keep, and nothing more.
//!
//! Components roll in parallel unless something declares an order between them (issue 16): the
//! matrix's `order` (a chain), an explicit `chartup.io/rollout-after` annotation on a workload
//! (the components named must be healthy first), and chart dependencies (a chart's own workloads
//! roll after those of the charts it depends on, found from each object's `# Source:` path
//! `parent/charts/dep/templates/…`). When two rules contradict each other the stronger one wins —
//! matrix, then annotation, then chart — and a dropped annotation is reported, never a cycle.
//!
//! A component whose rollout keeps state of its own in the release record or takes the cluster
//! through several dependent steps — a volume carry, a recreate (delete, orphan, adopt) — runs
//! *exclusively*: nothing else rolls while it does, as before parallel rollout existed. This is
//! pure (the plan in, [`Unit`]s out) so the decisions are unit-tested without a cluster; the
//! execution is `parallel.rs`.

use std::collections::BTreeMap;

use super::backup::is_backup_job;
use super::hooks::is_hook;
use crate::diff::{component_name, Action};
use crate::manifest::{ManifestSet, Object, ObjectKey};
use crate::plan::saved::SavedPlan;

/// The annotation naming the components (comma-separated) a workload's component rolls after.
pub const AFTER_ANNOTATION: &str = "chartup.io/rollout-after";

/// One component's rollout and what it waits for.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Unit {
    pub component: String,
    pub keys: Vec<ObjectKey>,
    /// Indices of the units that must be healthy before this one starts.
    pub after: Vec<usize>,
    /// Nothing else rolls while this one does (carries, recreates).
    pub exclusive: bool,
}

/// The units of a run, in the order the serial executor used (matrix order, then install order),
/// and warnings about orders that could not be kept.
pub(super) fn units(saved: &SavedPlan, to: &ManifestSet) -> (Vec<Unit>, Vec<String>) {
    let steps = component_steps(saved, to);
    let changes: BTreeMap<_, _> = saved.plan.changes.iter().map(|c| (&c.key, c)).collect();
    let carried: Vec<&ObjectKey> = saved.plan.carries().into_iter().map(|c| &c.to_workload).collect();
    let mut units: Vec<Unit> = steps
        .into_iter()
        .map(|(component, keys)| {
            let exclusive = keys.iter().any(|k| {
                carried.contains(&k)
                    || changes
                        .get(k)
                        .is_some_and(|c| matches!(c.action, Action::Recreate | Action::KindChange))
            });
            Unit {
                component,
                keys,
                after: vec![],
                exclusive,
            }
        })
        .collect();
    let mut warnings = Vec::new();
    let index_of = |units: &[Unit], name: &str| units.iter().position(|u| u.component == name);

    // 1. The matrix's order is a chain. A rollback has no matrix: its rollout steps are the order
    //    the release was upgraded in (only the matrix-ordered components are recorded).
    let ordered: Vec<String> = match &saved.plan.matrix {
        Some(m) => m.order.clone(),
        None => saved.plan.rollout.iter().map(|s| s.component.clone()).collect(),
    };
    let chain: Vec<usize> = ordered.iter().filter_map(|c| index_of(&units, c)).collect();
    for w in chain.windows(2) {
        add_edge(&mut units, w[1], w[0]);
    }

    // 2. Annotations.
    for i in 0..units.len() {
        let mut names: Vec<String> = Vec::new();
        for k in &units[i].keys {
            if let Some(v) = to.get(k).and_then(|o| o.annotation(AFTER_ANNOTATION)) {
                names.extend(v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()));
            }
        }
        for name in names {
            // A component that does not roll in this run is already where it should be.
            let Some(j) = index_of(&units, &name) else { continue };
            if j == i {
                continue;
            }
            if !add_edge(&mut units, i, j) {
                warnings.push(format!(
                    "component {}: {AFTER_ANNOTATION}: {name} is not kept, it contradicts the matrix's order or \
                     another annotation",
                    units[i].component
                ));
            }
        }
    }

    // 3. Chart dependencies: a chart's workloads after those of the charts under its `charts/`.
    let charts: Vec<Vec<String>> = units
        .iter()
        .map(|u| {
            let mut c: Vec<String> = u.keys.iter().filter_map(|k| to.get(k)).map(chart_of).collect();
            c.dedup();
            c
        })
        .collect();
    for i in 0..units.len() {
        for j in 0..units.len() {
            let depends = i != j
                && charts[i].iter().any(|parent| {
                    !parent.is_empty() && charts[j].iter().any(|c| c.starts_with(&format!("{parent}/charts/")))
                });
            if depends {
                add_edge(&mut units, i, j);
            }
        }
    }
    (units, warnings)
}

/// Workloads grouped into components: the plan's rollout steps (matrix order) first, then every
/// other workload in Helm's install order, each its own component.
fn component_steps(saved: &SavedPlan, to: &ManifestSet) -> Vec<(String, Vec<ObjectKey>)> {
    let mut steps: Vec<(String, Vec<ObjectKey>)> = Vec::new();
    let mut placed = std::collections::BTreeSet::new();
    for s in &saved.plan.rollout {
        let keys: Vec<_> = to
            .objects
            .iter()
            .filter(|o| !is_hook(o) && !is_backup_job(o) && o.is_workload() && s.objects.contains(&o.key.to_string()))
            .map(|o| o.key.clone())
            .collect();
        placed.extend(keys.iter().cloned());
        if !keys.is_empty() {
            steps.push((s.component.clone(), keys));
        }
    }
    for o in to
        .objects
        .iter()
        .filter(|o| !is_hook(o) && !is_backup_job(o) && o.is_workload() && !placed.contains(&o.key))
    {
        steps.push((component_name(o), vec![o.key.clone()]));
    }
    steps
}

/// The chart an object was rendered from: `db` for `db/templates/x.yaml`,
/// `app/charts/db` for `app/charts/db/templates/x.yaml`; empty when the source is unknown.
pub(super) fn chart_of(o: &Object) -> String {
    let parts: Vec<&str> = o.source.split('/').collect();
    if parts.len() < 2 {
        return String::new();
    }
    let mut chart = vec![parts[0]];
    let mut i = 1;
    while i + 1 < parts.len() && parts[i] == "charts" {
        chart.push(parts[i]);
        chart.push(parts[i + 1]);
        i += 2;
    }
    chart.join("/")
}

/// `units[i]` after `units[j]`, unless that closes a cycle (then false, nothing added).
fn add_edge(units: &mut [Unit], i: usize, j: usize) -> bool {
    if units[i].after.contains(&j) {
        return true;
    }
    if reaches(units, j, i) {
        return false;
    }
    units[i].after.push(j);
    true
}

/// Does `from` (transitively) wait for `to`?
fn reaches(units: &[Unit], from: usize, to: usize) -> bool {
    let mut stack = vec![from];
    let mut seen = vec![false; units.len()];
    while let Some(u) = stack.pop() {
        if u == to {
            return true;
        }
        if !std::mem::replace(&mut seen[u], true) {
            stack.extend(units[u].after.iter().copied());
        }
    }
    false
}

/// What may start now, given which units are done, running, or started at all: every unit not
/// started whose predecessors are all done — an exclusive one only when nothing runs, and nothing
/// beside a running exclusive one. Units are offered in their serial order.
pub(super) fn ready(units: &[Unit], started: &[bool], done: &[bool]) -> Vec<usize> {
    let running: Vec<usize> = (0..units.len()).filter(|&i| started[i] && !done[i]).collect();
    if running.iter().any(|&i| units[i].exclusive) {
        return vec![];
    }
    let mut out: Vec<usize> = Vec::new();
    for (i, u) in units.iter().enumerate() {
        if started[i] || !u.after.iter().all(|&j| done[j]) {
            continue;
        }
        if u.exclusive {
            // Alone: only if nothing runs or is about to start; else it waits its turn.
            if running.is_empty() && out.is_empty() {
                return vec![i];
            }
            continue;
        }
        out.push(i);
    }
    out
}

/// The schedule in one journal line: `db; app after db; web, worker beside them`.
pub(super) fn describe(units: &[Unit]) -> String {
    units
        .iter()
        .map(|u| {
            let after: Vec<&str> = u.after.iter().map(|&j| units[j].component.as_str()).collect();
            let alone = if u.exclusive { " (alone)" } else { "" };
            if after.is_empty() {
                format!("{}{alone}", u.component)
            } else {
                format!("{} after {}{alone}", u.component, after.join(", "))
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::split_documents;
    use crate::matrix::MatrixVerdict;
    use crate::plan::{self, PlanOptions, ReleaseSide, RolloutStep};

    /// A Deployment rendered from `source`, with component label `component`.
    fn workload(source: &str, name: &str, after: Option<&str>) -> String {
        let ann = after
            .map(|a| format!("  annotations:\n    {AFTER_ANNOTATION}: \"{a}\"\n"))
            .unwrap_or_default();
        format!(
            "---\n# Source: {source}\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n{ann}  labels:\n    \
             app.kubernetes.io/component: {name}\nspec:\n  selector:\n    matchLabels:\n      app: {name}\n  template:\n    \
             metadata:\n      labels:\n        app: {name}\n    spec:\n      containers:\n      - name: c\n        image: x\n"
        )
    }

    fn saved(docs: &[String], order: &[&str]) -> SavedPlan {
        let a = ReleaseSide::new("old", vec![], "ns").expect("empty");
        let b = ReleaseSide::new("new", split_documents(&docs.concat()), "ns").expect("valid");
        let opts = PlanOptions {
            release: "r".into(),
            namespace: "ns".into(),
            ..Default::default()
        };
        let mut s = SavedPlan::new(plan::build(&a, &b, None, &opts), &a, &b).expect("saveable");
        if !order.is_empty() {
            s.plan.matrix = Some(MatrixVerdict {
                file: "m.yaml".into(),
                chart: "r".into(),
                from: "1".into(),
                to: "2".into(),
                path: vec![],
                hops: vec![],
                order: order.iter().map(|s| s.to_string()).collect(),
                timeouts: Default::default(),
                verdict: crate::analysis::Verdict::Safe,
                refusals: vec![],
                warnings: vec![],
            });
            s.plan.rollout = order
                .iter()
                .map(|c| RolloutStep {
                    component: c.to_string(),
                    objects: vec![format!("ns/Deployment.apps/{c}")],
                })
                .collect();
        }
        s
    }

    fn schedule(s: &SavedPlan) -> (Vec<(String, Vec<String>)>, Vec<String>) {
        let to = crate::manifest::parse_documents(s.manifests.to.clone(), "ns").expect("parsed");
        let (units, warnings) = units(s, &to);
        let names = units
            .iter()
            .map(|u| {
                let after = u.after.iter().map(|&j| units[j].component.clone()).collect();
                (u.component.clone(), after)
            })
            .collect();
        (names, warnings)
    }

    fn after(s: &[(String, Vec<String>)], c: &str) -> Vec<String> {
        let mut v = s.iter().find(|(n, _)| n == c).expect("a unit").1.clone();
        v.sort();
        v
    }

    #[test]
    fn no_declared_order_means_no_edges() {
        let docs: Vec<String> = ["a", "b", "c"]
            .iter()
            .map(|n| workload(&format!("r/templates/{n}.yaml"), n, None))
            .collect();
        let (s, w) = schedule(&saved(&docs, &[]));
        assert_eq!(s.len(), 3);
        assert!(s.iter().all(|(_, a)| a.is_empty()), "{s:?}");
        assert!(w.is_empty());
    }

    #[test]
    fn the_matrix_order_is_a_chain_and_the_rest_is_free() {
        let docs: Vec<String> = ["db", "app", "web"]
            .iter()
            .map(|n| workload(&format!("r/templates/{n}.yaml"), n, None))
            .collect();
        let (s, _) = schedule(&saved(&docs, &["db", "app"]));
        assert_eq!(after(&s, "db"), Vec::<String>::new());
        assert_eq!(after(&s, "app"), vec!["db"]);
        assert_eq!(after(&s, "web"), Vec::<String>::new());
    }

    #[test]
    fn a_rollback_keeps_the_recorded_order() {
        // No matrix: the rollout steps are the order the release was upgraded in.
        let docs: Vec<String> = ["db", "app"]
            .iter()
            .map(|n| workload(&format!("r/templates/{n}.yaml"), n, None))
            .collect();
        let mut s = saved(&docs, &["db", "app"]);
        s.plan.matrix = None;
        let (s, _) = schedule(&s);
        assert_eq!(after(&s, "app"), vec!["db"]);
    }

    #[test]
    fn a_chart_rolls_after_its_dependencies() {
        let docs = vec![
            workload("r/templates/api.yaml", "api", None),
            workload("r/charts/cache/templates/cache.yaml", "cache", None),
            workload("r/charts/db/templates/db.yaml", "db", None),
            workload("r/charts/db/charts/backup/templates/b.yaml", "backup", None),
        ];
        let (s, _) = schedule(&saved(&docs, &[]));
        assert_eq!(after(&s, "api"), vec!["backup", "cache", "db"]);
        assert_eq!(after(&s, "db"), vec!["backup"]);
        assert_eq!(after(&s, "cache"), Vec::<String>::new());
    }

    #[test]
    fn an_annotation_orders_and_one_against_the_matrix_is_dropped_with_a_warning() {
        let docs = vec![
            workload("r/templates/db.yaml", "db", Some("app")),
            workload("r/templates/app.yaml", "app", None),
            workload("r/templates/web.yaml", "web", Some("app, gone")),
        ];
        let (s, w) = schedule(&saved(&docs, &["db", "app"]));
        assert_eq!(after(&s, "app"), vec!["db"]);
        assert_eq!(after(&s, "db"), Vec::<String>::new(), "the matrix wins");
        // `gone` does not roll in this run: nothing to wait for.
        assert_eq!(after(&s, "web"), vec!["app"]);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("component db") && w[0].contains("app"), "{w:?}");
    }

    #[test]
    fn the_matrix_overrides_a_contradicting_chart_dependency() {
        // The matrix says the parent's api before its subchart's db: the chart edge is dropped.
        let docs = vec![
            workload("r/templates/api.yaml", "api", None),
            workload("r/charts/db/templates/db.yaml", "db", None),
        ];
        let (s, _) = schedule(&saved(&docs, &["api", "db"]));
        assert_eq!(after(&s, "db"), vec!["api"]);
        assert_eq!(after(&s, "api"), Vec::<String>::new());
    }

    #[test]
    fn ready_starts_free_units_together_and_an_exclusive_one_alone() {
        let unit = |c: &str, after: Vec<usize>, exclusive: bool| Unit {
            component: c.into(),
            keys: vec![],
            after,
            exclusive,
        };
        let units = vec![
            unit("a", vec![], false),
            unit("x", vec![], true),
            unit("b", vec![], false),
            unit("c", vec![0], false),
        ];
        let none = vec![false; 4];
        // a and b together; x waits until nothing runs; c waits for a.
        assert_eq!(ready(&units, &none, &none), vec![0, 2]);
        let started = vec![true, false, true, false];
        assert_eq!(ready(&units, &started, &[true, false, false, false]), vec![3]);
        // Everything done but x: it starts alone, and nothing beside it.
        assert_eq!(
            ready(&units, &[true, false, true, true], &[true, false, true, true]),
            vec![1]
        );
        assert_eq!(ready(&units, &[false, true, false, false], &none), Vec::<usize>::new());
    }
}
