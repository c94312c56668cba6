//! The upgrade plan: model, outputs, fingerprint.
//!
//! `build` takes two rendered sides (manifest documents plus what is known about the chart and
//! values that produced them), diffs them, analyses every volume, asks the matrix (if any) about
//! the version change, and returns one [`Plan`] — a plain serialisable value. Everything that
//! prints a plan (terminal, JSON, markdown) and everything that executes one (`apply`, from a
//! saved plan) reads this value; nothing re-derives a verdict. The JSON form is versioned
//! ([`SCHEMA`]) and documented in docs/plan-format.md.
//!
//! Verdicts combine: the analysis judges the manifests, the matrix states what the maintainers
//! know; where they disagree both are shown and the worse wins.

use crate::manifest::JsonAt as _;
use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::analysis::{self, CarryPolicy, Fate, ReclaimPolicies, Verdict, VolumeFate, WorkloadPairing};
use crate::diff::{self, component_name, Action, DiffOptions, ObjectChange};
use crate::manifest::{self, Document, ManifestError, ManifestSet};
use crate::matrix::{Matrix, MatrixVerdict, UpgradeFacts};

pub mod markdown;
pub mod review;
pub mod saved;
pub mod sign;
pub mod snapshots;
pub mod source;
pub mod text;
pub mod uninstall;
pub mod values;

/// The plan JSON schema identifier; bump on incompatible changes.
pub const SCHEMA: &str = "chartup.dev/plan/v1";

/// The chart a side was rendered from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChartRef {
    pub name: String,
    pub version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_version: Option<String>,
}

/// One side of an upgrade: rendered manifests plus provenance.
#[derive(Debug, Clone)]
pub struct ReleaseSide {
    /// Where it came from, for people (`chart charts/fate/1.8.0`, `manifest deployed.yaml`).
    pub origin: String,
    pub chart: Option<ChartRef>,
    pub chart_digest: Option<String>,
    pub values_digest: Option<String>,
    /// The values the user gave for this side (files and --set merged; chart defaults not
    /// included): what a matrix's `configChange` judges. None when unknown (a manifest).
    pub user_values: Option<Json>,
    pub documents: Vec<Document>,
    pub objects: ManifestSet,
    /// Where the chart came from (reference, resolved version, archive digest), when a chart.
    pub source: Option<crate::source::SourceRecord>,
    /// Holds placeholder keys (`plan::source::NativeUnapplied`, the old side of a chart-to-chart
    /// plan, made some): the diff says so where one shows.
    pub placeholder_keys: bool,
}

impl ReleaseSide {
    /// Parse documents into a side; `namespace` fills objects that name none.
    pub fn new(origin: &str, documents: Vec<Document>, namespace: &str) -> Result<ReleaseSide, ManifestError> {
        Self::new_parsed(origin, documents, Vec::new(), namespace)
    }

    /// [`ReleaseSide::new`] with documents the renderer already read (`parsed[i]` for `documents[i]`).
    pub fn new_parsed(
        origin: &str,
        documents: Vec<Document>,
        parsed: Vec<Option<serde_json::Value>>,
        namespace: &str,
    ) -> Result<ReleaseSide, ManifestError> {
        let objects = manifest::parse_documents_with(documents.clone(), parsed, namespace)?;
        let chart = infer_chart(&objects);
        Ok(ReleaseSide {
            origin: origin.to_string(),
            chart,
            chart_digest: None,
            values_digest: None,
            user_values: None,
            documents,
            objects,
            source: None,
            placeholder_keys: false,
        })
    }

    /// An empty side (a first install).
    pub fn empty(origin: &str) -> ReleaseSide {
        ReleaseSide {
            origin: origin.to_string(),
            chart: None,
            chart_digest: None,
            values_digest: None,
            user_values: None,
            documents: vec![],
            objects: ManifestSet::default(),
            source: None,
            placeholder_keys: false,
        }
    }
}

/// The chart from the `helm.sh/chart: NAME-VERSION` label the Helm starter charts set (the only
/// trace of it in a manifest printed by `helm get manifest`), with `app.kubernetes.io/version`.
pub fn infer_chart(set: &ManifestSet) -> Option<ChartRef> {
    // The parent chart's own templates first: subchart objects carry the subchart's label.
    let top = set.objects.iter().filter(|o| !o.source.contains("/charts/"));
    let sub = set.objects.iter().filter(|o| o.source.contains("/charts/"));
    for o in top.chain(sub) {
        let Some(label) = o.label("helm.sh/chart") else {
            continue;
        };
        // Helm writes `name-version` with `+` replaced by `_`; names may contain `-`, so try each split.
        for (i, _) in label.match_indices('-') {
            let (name, ver) = (&label[..i], &label[i + 1..]);
            let ver = ver.replace('_', "+");
            if crate::version::Version::parse(&ver).is_ok() && ver.starts_with(|c: char| c.is_ascii_digit() || c == 'v')
            {
                return Some(ChartRef {
                    name: name.to_string(),
                    version: ver,
                    app_version: o.label("app.kubernetes.io/version").map(str::to_string),
                });
            }
        }
    }
    None
}

/// How to plan.
#[derive(Debug, Clone)]
pub struct PlanOptions {
    pub release: String,
    pub namespace: String,
    pub diff: DiffOptions,
    pub reclaim: ReclaimPolicies,
    pub allow_unlisted: bool,
    /// `--carry-volumes`: move volumes to renamed claims instead of orphaning or deleting them
    /// (the matrix's `components.NAME.carryVolumes` adds components).
    pub carry_volumes: bool,
    /// `--same-component OLD=NEW`: workloads declared to be one component across a rename.
    pub same_component: Vec<(String, String)>,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            release: "release-name".into(),
            namespace: "default".into(),
            diff: DiffOptions::default(),
            reclaim: ReclaimPolicies::default(),
            allow_unlisted: false,
            carry_volumes: false,
            same_component: vec![],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Release {
    pub name: String,
    pub namespace: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SideInfo {
    pub origin: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chart: Option<ChartRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chart_digest: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub values_digest: Option<String>,
    pub objects: usize,
    /// Where the chart came from: reference, resolved version, sha256 of the archive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<crate::source::SourceRecord>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeCounts {
    pub loss: usize,
    pub at_risk: usize,
    pub safe: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub add: usize,
    pub change: usize,
    /// Recreates, kind changes included.
    pub recreate: usize,
    /// Of the recreates: workloads changing kind.
    pub kind_change: usize,
    pub delete: usize,
    /// Of the deletes: objects annotated `helm.sh/resource-policy: keep`, which Helm leaves in
    /// the cluster (counted here, not under delete).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub keep: usize,
    pub unchanged: usize,
    pub volumes: VolumeCounts,
    /// Changes whose only difference is label churn (`helm.sh/chart`, `app.kubernetes.io/version`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub label_only: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Summary {
    pub fn has_changes(&self) -> bool {
        self.add + self.change + self.recreate + self.delete > 0
    }

    /// `Plan: 2 to add, 5 to change, 1 to recreate, 0 to delete · volumes: 1 loss, 2 at risk`
    pub fn line(&self) -> String {
        let keep = if self.keep > 0 {
            format!(", {} kept", self.keep)
        } else {
            String::new()
        };
        format!(
            "Plan: {} to add, {} to change, {} to recreate, {} to delete{keep} · volumes: {} loss, {} at risk",
            self.add, self.change, self.recreate, self.delete, self.volumes.loss, self.volumes.at_risk
        )
    }
}

/// One step of the rollout: a component's workloads, in matrix order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RolloutStep {
    pub component: String,
    pub objects: Vec<String>,
}

/// An upgrade plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub schema: String,
    pub release: Release,
    pub from: SideInfo,
    pub to: SideInfo,
    /// The deployed revision the plan was made against (None offline).
    pub base_revision: Option<u64>,
    pub summary: Summary,
    /// The verdict on data: the worse of the analysis and the matrix.
    pub verdict: Verdict,
    pub analysis_verdict: Verdict,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matrix_verdict: Option<Verdict>,
    /// Non-empty: the upgrade must not run.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub refusals: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub warnings: Vec<String>,
    pub volumes: Vec<VolumeFate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matrix: Option<MatrixVerdict>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub rollout: Vec<RolloutStep>,
    /// Workloads paired across a rename (same component in substance), with the evidence.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub pairings: Vec<WorkloadPairing>,
    /// Object-level hazards (CRD, Namespace, PV leaving; image major versions on kept data).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub hazards: Vec<review::Hazard>,
    /// Images that change, per workload and container.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub images: Vec<review::ImageChange>,
    /// What apply will demand before it runs this plan.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub requirements: Vec<review::Requirement>,
    pub changes: Vec<ObjectChange>,
    /// "user values: deployed → new" (plans against a release: which values rule applied and
    /// every user value that changes, secrets masked).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub user_values: Option<values::UserValues>,
    /// VolumeSnapshots taken before the upgrade, or restored by a rollback (issue 15).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub snapshots: Option<snapshots::SnapshotPlan>,
}

impl Plan {
    pub fn refused(&self) -> bool {
        !self.refusals.is_empty()
    }

    /// Apply would refuse this plan whatever flags are passed (a refusal, a multi-hop jump).
    pub fn apply_refuses(&self) -> bool {
        self.requirements.iter().any(|r| r.flag.is_none())
    }

    /// The summary line with the combined verdict, so the first line never contradicts the rest.
    pub fn summary_line(&self) -> String {
        let carried = self.volumes.iter().filter(|v| v.fate == Fate::Carried).count();
        let carried = if carried > 0 {
            format!(", {carried} carried")
        } else {
            String::new()
        };
        format!("{}{carried} · verdict: {}", self.summary.line(), self.verdict)
    }

    /// `apply PLAN --carry-volumes`: the flag cannot change a reviewed plan, so a saved plan that
    /// still orphans or deletes a volume (planned without the flag) is refused with what to do.
    pub fn check_carried(&self) -> Result<(), String> {
        let left: Vec<String> = self
            .volumes
            .iter()
            .filter(|v| matches!(v.fate, analysis::Fate::Orphaned | analysis::Fate::Deleted))
            .filter(|v| !v.reason.starts_with("surplus:"))
            // Only what a carry could have moved: the claim's name changes, the new side mounts one.
            .filter(|v| match (&v.before, &v.after) {
                (Some(b), Some(a)) => {
                    !b.claims.is_empty() && !a.claims.is_empty() && b.claims.iter().all(|c| !a.claims.contains(c))
                }
                _ => false,
            })
            .map(|v| format!("{}/{} ({})", v.component, v.volume, v.fate.as_str()))
            .collect();
        if left.is_empty() {
            return Ok(());
        }
        Err(format!(
            "--carry-volumes: this plan does not carry {} over; plan again with `chartup plan … --carry-volumes --out PLAN` and review it",
            left.join(", ")
        ))
    }

    /// The volume moves this plan makes (fate `carried`).
    pub fn carries(&self) -> Vec<&analysis::Carry> {
        self.volumes.iter().filter_map(|v| v.carry.as_ref()).collect()
    }
}

/// Build a plan from two sides.
pub fn build(old: &ReleaseSide, new: &ReleaseSide, matrix: Option<&Matrix>, opts: &PlanOptions) -> Plan {
    let diff_opts = diff::DiffOptions {
        old_placeholders: old.placeholder_keys,
        ..opts.diff.clone()
    };
    let changes = diff::diff(&old.objects, &new.objects, &diff_opts);
    let carry = CarryPolicy {
        all: opts.carry_volumes,
        components: matrix.map(|m| m.carried_components()).unwrap_or_default(),
    };
    // Renames the user declares (`--same-component`) win over the matrix's (`renamedFrom`).
    let declared: Vec<analysis::identity::Declared> = opts
        .same_component
        .iter()
        .map(|(a, b)| analysis::identity::Declared::flag(a, b))
        .chain(matrix.into_iter().flat_map(|m| {
            m.renames.iter().map(|(a, b)| analysis::identity::Declared {
                from: a.clone(),
                to: b.clone(),
                by: format!("matrix {} (components.{b}.renamedFrom: {a})", m.file),
                strict: false,
            })
        }))
        .collect();
    let (pairings, pairing_warnings) = analysis::identity::pair_workloads(&old.objects, &new.objects, &declared);
    let volumes = analysis::analyse_paired(&old.objects, &new.objects, &changes, &opts.reclaim, &carry, &pairings);

    let mut s = Summary::default();
    for c in &changes {
        match c.action {
            Action::Add => s.add += 1,
            Action::Change => s.change += 1,
            Action::Recreate => s.recreate += 1,
            Action::KindChange => {
                s.recreate += 1;
                s.kind_change += 1
            }
            Action::Remove if old.objects.get(&c.key).is_some_and(|o| o.kept_on_delete()) => s.keep += 1,
            Action::Remove => s.delete += 1,
            Action::Unchanged => s.unchanged += 1,
        }
        if c.action == Action::Change && diff::label_only(c) {
            s.label_only += 1;
        }
    }
    for v in &volumes {
        match v.verdict {
            Verdict::Loss => s.volumes.loss += 1,
            Verdict::AtRisk => s.volumes.at_risk += 1,
            Verdict::Safe => s.volumes.safe += 1,
        }
    }
    let images = review::images(&changes, &pairings, &old.objects, &new.objects);
    let hazards = review::hazards(
        &changes,
        &pairings,
        &volumes,
        &old.objects,
        &new.objects,
        matrix.is_some() && old.chart.is_some() && new.chart.is_some(),
    );
    let analysis_verdict = analysis::worst(&volumes);
    let hazard_verdict = hazards.iter().map(|h| h.verdict).max().unwrap_or(Verdict::Safe);
    let mut refusals = Vec::new();
    let mut warnings = pairing_warnings;
    for v in &volumes {
        for a in &v.assumptions {
            if !warnings.contains(a) {
                warnings.push(a.clone());
            }
        }
    }

    let matrix_result = matrix.and_then(|m| {
        let (Some(f), Some(t)) = (&old.chart, &new.chart) else {
            warnings.push(format!(
                "matrix {} not consulted: the chart version of {} is unknown",
                m.file,
                if old.chart.is_none() {
                    "the deployed side"
                } else {
                    "the new side"
                }
            ));
            return None;
        };
        if f.name != m.chart || t.name != m.chart {
            warnings.push(format!(
                "matrix {} is for chart {:?}, the release uses {:?}",
                m.file, m.chart, t.name
            ));
        }
        // Matrices state losses per storageClass / existingClaim / none; node-local hostPath data
        // is judged like a claim that exists outside the release.
        let mut modes: BTreeSet<_> = analysis::modes(&volumes)
            .into_iter()
            .map(|m| match m {
                analysis::Persistence::HostPath => analysis::Persistence::ExistingClaim,
                m => m,
            })
            .collect();
        if modes.is_empty() {
            modes.insert(analysis::Persistence::None);
        }
        let facts = UpgradeFacts {
            modes,
            config_changes: config_changes(old.user_values.as_ref(), new.user_values.as_ref()),
            topology_changes: topology_changes(&changes, &old.objects, &new.objects),
            allow_unlisted: opts.allow_unlisted,
        };
        Some(m.evaluate(&f.version, &t.version, &facts))
    });
    let mut matrix_verdict = matrix_result.as_ref().map(|m| m.verdict);
    // A matrix that names a component's volumes for carrying (`components.NAME.carryVolumes`)
    // declares that carrying them is how the hop keeps its data: when every persistent volume of
    // the upgrade is carried or kept and the analysis finds nothing, the matrix's loss statement
    // is met, and saying "loss" beside "0 loss" would contradict the volume table.
    if let (Some(m), Some(mv)) = (matrix, matrix_verdict) {
        let persistent: Vec<&VolumeFate> = volumes
            .iter()
            .filter(|v| v.mode != analysis::Persistence::None)
            .collect();
        let carried = persistent.iter().filter(|v| v.fate == Fate::Carried).count();
        let all_carried = carried > 0
            && persistent.iter().all(|v| v.verdict == Verdict::Safe)
            && persistent
                .iter()
                .filter(|v| v.fate == Fate::Carried)
                .all(|v| m.carried_components().contains(&v.component));
        if mv > Verdict::Safe && all_carried && analysis_verdict == Verdict::Safe {
            warnings.push(format!(
                "the matrix states {mv} for this hop, but it declares carrying for {} and all {carried} volume(s) are \
                 carried: the carry keeps the data, so the matrix verdict is met (safe)",
                m.carry_volumes.iter().cloned().collect::<Vec<_>>().join(", ")
            ));
            matrix_verdict = Some(Verdict::Safe);
        }
    }
    if let Some(m) = &matrix_result {
        refusals.extend(m.refusals.iter().cloned());
        warnings.extend(m.warnings.iter().cloned());
        let mv = matrix_verdict.unwrap_or(m.verdict);
        if mv > analysis_verdict {
            warnings.push(format!(
                "the matrix says {} for this upgrade but the analysis of the manifests finds {}: the matrix verdict stands",
                mv, analysis_verdict
            ));
        } else if mv < analysis_verdict {
            warnings.push(format!(
                "the matrix says {} for this upgrade but the analysis of the manifests finds {}: the analysis verdict stands",
                mv, analysis_verdict
            ));
        }
    }
    if let Some(m) = matrix_result.as_ref().filter(|m| m.path.len() > 2) {
        warnings.push(format!(
            "the matrix allows this upgrade only through {}: the diff below shows the whole jump, but apply refuses it — plan and apply one hop at a time",
            m.path[1..m.path.len() - 1].join(", ")
        ));
    }
    let verdict = analysis_verdict
        .max(hazard_verdict)
        .max(matrix_verdict.unwrap_or(Verdict::Safe));
    let rollout = rollout(
        &changes,
        &new.objects,
        matrix_result.as_ref().map(|m| m.order.as_slice()).unwrap_or(&[]),
    );

    let mut plan = Plan {
        schema: SCHEMA.to_string(),
        release: Release {
            name: opts.release.clone(),
            namespace: opts.namespace.clone(),
        },
        from: side_info(old),
        to: side_info(new),
        base_revision: None,
        summary: s,
        verdict,
        analysis_verdict,
        matrix_verdict,
        refusals,
        warnings,
        volumes,
        matrix: matrix_result,
        rollout,
        pairings,
        hazards,
        images,
        requirements: vec![],
        changes,
        user_values: None,
        snapshots: None,
    };
    plan.requirements = review::requirements(&plan, &new.objects);
    plan
}

fn side_info(s: &ReleaseSide) -> SideInfo {
    SideInfo {
        origin: s.origin.clone(),
        chart: s.chart.clone(),
        chart_digest: s.chart_digest.clone(),
        values_digest: s.values_digest.clone(),
        objects: s.objects.len(),
        source: s.source.clone(),
    }
}

/// Values paths that differ between the two sides' user values (what a matrix's
/// `configChange: refuse` forbids alongside a version change). Unknown values: no finding.
fn config_changes(old: Option<&Json>, new: Option<&Json>) -> Vec<String> {
    fn walk(prefix: &str, a: Option<&Json>, b: Option<&Json>, out: &mut Vec<String>) {
        match (a, b) {
            (Some(Json::Object(x)), Some(Json::Object(y))) => {
                let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
                for k in keys {
                    let p = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&p, x.get(k), y.get(k), out);
                }
            }
            (a, b) if a != b => out.push(format!("value {prefix} changes")),
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let (Some(a), Some(b)) = (old, new) {
        walk("", Some(a), Some(b), &mut out);
    }
    out
}

/// Workloads added or removed, and replica counts changing.
fn topology_changes(changes: &[ObjectChange], old: &ManifestSet, new: &ManifestSet) -> Vec<String> {
    let replicas = |o: Option<&manifest::Object>| o.and_then(|o| o.value.at("/spec/replicas")).and_then(Json::as_f64);
    let mut out = Vec::new();
    for c in changes.iter().filter(|c| diff::is_pod_controller(&c.key.kind)) {
        match c.action {
            Action::Add => out.push(format!("{} {} is added", c.key.kind, c.key.name)),
            Action::Remove => out.push(format!("{} {} is removed", c.key.kind, c.key.name)),
            Action::Change | Action::Recreate | Action::KindChange => {
                let ok = c.old_key.as_ref().unwrap_or(&c.key);
                let (a, b) = (replicas(old.get(ok)), replicas(new.get(&c.key)));
                if a.unwrap_or(1.0) != b.unwrap_or(1.0) {
                    out.push(format!(
                        "{} {} replicas {} → {}",
                        c.key.kind,
                        c.key.name,
                        a.unwrap_or(1.0),
                        b.unwrap_or(1.0)
                    ));
                }
            }
            Action::Unchanged => {}
        }
    }
    out
}

/// Changed workloads grouped by component in the matrix's order; components the order does not
/// name follow, in install order.
fn rollout(changes: &[ObjectChange], new: &ManifestSet, order: &[String]) -> Vec<RolloutStep> {
    let mut steps: Vec<RolloutStep> = order
        .iter()
        .map(|c| RolloutStep {
            component: c.clone(),
            objects: vec![],
        })
        .collect();
    for c in changes
        .iter()
        .filter(|c| diff::is_pod_controller(&c.key.kind) && c.action != Action::Unchanged && c.action != Action::Remove)
    {
        let Some(o) = new.get(&c.key) else { continue };
        let comp = component_name(o);
        let pos = steps
            .iter()
            .position(|s| s.component == comp || o.key.name.contains(&s.component));
        match pos {
            Some(i) => steps[i].objects.push(c.key.text()),
            None => steps.push(RolloutStep {
                component: comp,
                objects: vec![c.key.text()],
            }),
        }
    }
    if order.is_empty() {
        return vec![];
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::split_documents;

    #[test]
    fn chart_from_helm_label() {
        let t = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  labels: {helm.sh/chart: my-chart-0.6.0-2252.b6f6512, app.kubernetes.io/version: \"0.6\"}\n";
        let side = ReleaseSide::new("m", split_documents(t), "d").unwrap();
        let c = side.chart.unwrap();
        assert_eq!(
            (c.name.as_str(), c.version.as_str()),
            ("my-chart", "0.6.0-2252.b6f6512")
        );
        assert_eq!(c.app_version.as_deref(), Some("0.6"));
    }

    #[test]
    fn summary_line_format() {
        let s = Summary {
            add: 2,
            change: 5,
            recreate: 1,
            delete: 0,
            volumes: VolumeCounts {
                loss: 1,
                at_risk: 2,
                safe: 0,
            },
            ..Default::default()
        };
        assert_eq!(
            s.line(),
            "Plan: 2 to add, 5 to change, 1 to recreate, 0 to delete · volumes: 1 loss, 2 at risk"
        );
    }
}
