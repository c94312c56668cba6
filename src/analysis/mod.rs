//! Volume fate, from two manifest sets: what happens to every volume a workload mounts.
//!
//! This is the part of the plan no other tool has (shared/notes/anchors.md §4, §6): Helm happily
//! deletes a templated PVC that left the chart, a Deployment → StatefulSet switch silently moves a
//! component onto new empty claims (`<template>-<statefulset>-<ordinal>`), and a renamed
//! volumeClaimTemplate orphans every claim. The analysis is pure: it walks the pod specs of both
//! sides, pairs each old volume with the new volume of the same component (by volume name, then
//! by mount path), follows the claims involved (templated PVCs in the release, claims generated
//! from volumeClaimTemplates, claims that exist outside the release), and decides a [`Fate`] and a
//! [`Verdict`] with the reason, the objects involved and a concrete workaround.
//!
//! Reclaim policies are not in the manifests. They come from the cluster when the plan is
//! connected, else from `--storage-class NAME=Retain|Delete`; an unknown class is assumed
//! `Delete` — the Kubernetes default for dynamically provisioned volumes — and the plan says so.

use crate::manifest::JsonAt as _;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::diff::{component_name, Action, ObjectChange};
use crate::manifest::{ManifestSet, Object, ObjectKey};

/// How bad an outcome is; ordered, so the worst of several is their maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Safe,
    AtRisk,
    Loss,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Safe => "safe",
            Verdict::AtRisk => "at-risk",
            Verdict::Loss => "loss",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a volume's data lives (the modes of the FATE upgrade table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Persistence {
    /// A claim provisioned through a StorageClass: a PVC templated by the chart or a
    /// volumeClaimTemplate.
    StorageClass,
    /// A claim that exists outside the release (`existingClaim`-style values).
    ExistingClaim,
    /// No persistence (emptyDir).
    None,
}

impl Persistence {
    pub fn as_str(self) -> &'static str {
        match self {
            Persistence::StorageClass => "storageClass",
            Persistence::ExistingClaim => "existingClaim",
            Persistence::None => "none",
        }
    }
}

/// What happens to a volume.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fate {
    /// The same claims stay mounted by the same workload.
    Kept,
    /// The same claims are mounted again by another workload of the component (kind change).
    Reattached,
    /// The claims stay in the cluster but nothing will mount them.
    Orphaned,
    /// The claim is deleted (it leaves the release, or is recreated); the data goes with the
    /// reclaim policy.
    Deleted,
    /// A new claim, empty.
    New,
    /// emptyDir: data lives only as long as the pod.
    Ephemeral,
    /// A StatefulSet scales down: claims of the dropped ordinals stay behind.
    ScaleDown,
    /// `--carry-volumes`: the claim's volume (PV) moves to the new claim name; see [`Carry`].
    Carried,
}

impl Fate {
    pub fn as_str(self) -> &'static str {
        match self {
            Fate::Kept => "kept",
            Fate::Reattached => "reattached",
            Fate::Orphaned => "orphaned",
            Fate::Deleted => "deleted",
            Fate::New => "new",
            Fate::Ephemeral => "ephemeral",
            Fate::ScaleDown => "scale-down",
            Fate::Carried => "carried",
        }
    }
}

/// Reclaim policy of a StorageClass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reclaim {
    Retain,
    Delete,
}

/// Known reclaim policies by StorageClass name (`--storage-class NAME=Retain|Delete`).
/// The name `default` stands for claims that name no class.
#[derive(Debug, Clone, Default)]
pub struct ReclaimPolicies {
    pub classes: BTreeMap<String, Reclaim>,
}

impl ReclaimPolicies {
    /// Parse `NAME=Retain|Delete` (case-insensitive policy).
    pub fn add_spec(&mut self, spec: &str) -> Result<(), String> {
        let (name, policy) = spec
            .split_once('=')
            .ok_or_else(|| format!("--storage-class {spec:?}: expected NAME=Retain|Delete"))?;
        let policy = match policy.trim().to_ascii_lowercase().as_str() {
            "retain" => Reclaim::Retain,
            "delete" => Reclaim::Delete,
            other => {
                return Err(format!(
                    "--storage-class {spec:?}: unknown reclaim policy {other:?} (Retain or Delete)"
                ))
            }
        };
        if name.trim().is_empty() {
            return Err(format!("--storage-class {spec:?}: empty class name"));
        }
        self.classes.insert(name.trim().to_string(), policy);
        Ok(())
    }

    /// The policy of a class, and whether it was known (unknown ⇒ Delete).
    pub fn lookup(&self, class: Option<&str>) -> (Reclaim, bool) {
        let name = class.unwrap_or("default");
        match self.classes.get(name) {
            Some(p) => (*p, true),
            None => (Reclaim::Delete, false),
        }
    }
}

/// Which components' volumes are carried over to a new claim name instead of being orphaned or
/// deleted (`--carry-volumes` for all, the matrix's `components.NAME.carryVolumes` for some).
#[derive(Debug, Clone, Default)]
pub struct CarryPolicy {
    pub all: bool,
    pub components: BTreeSet<String>,
}

impl CarryPolicy {
    pub fn applies(&self, component: &str) -> bool {
        self.all || self.components.contains(component)
    }
}

/// One volume carried over: the PV bound to `from_claim` is moved to `to_claim` (same namespace as
/// the workloads). The saved plan carries this, so apply does exactly the reviewed mapping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Carry {
    pub namespace: String,
    pub from_claim: String,
    pub to_claim: String,
    /// The old consumer, stopped (deleted) before its claim is released.
    pub from_workload: ObjectKey,
    /// The new consumer, created once the new claim is bound.
    pub to_workload: ObjectKey,
    /// The new StatefulSet ordinal the volume goes to (old ordinal i → new ordinal i; a single
    /// claim → ordinal 0); absent when the new consumer mounts a plain claim.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ordinal: Option<u64>,
    /// Labels of the new claim: what the StatefulSet controller would give it (template labels
    /// plus the selector's matchLabels), or the new release PVC's labels.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub annotations: BTreeMap<String, String>,
    /// The new claim is an object of the new release (a renamed PVC): apply creates it bound to
    /// the PV instead of applying it (which would provision an empty volume).
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub in_release: bool,
}

/// One side's description of a volume.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeSide {
    /// The workload mounting it.
    pub workload: ObjectKey,
    /// `claim`, `claimTemplate`, `emptyDir`, `hostPath`.
    pub source: String,
    /// Claim names (for a template: one per ordinal).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub claims: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<String>,
    pub mode: Persistence,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub mount_paths: Vec<String>,
}

/// The fate of one volume.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeFate {
    pub component: String,
    /// Volume (or volumeClaimTemplate) name.
    pub volume: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<VolumeSide>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<VolumeSide>,
    pub fate: Fate,
    pub verdict: Verdict,
    /// The persistence mode this volume had (before, else after).
    pub mode: Persistence,
    /// Why, in words.
    pub reason: String,
    /// Objects involved (`ns/Kind/name`, claims as `ns/PersistentVolumeClaim/name`).
    pub objects: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workaround: Option<String>,
    /// Assumptions made (an unknown reclaim policy).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub assumptions: Vec<String>,
    /// For fate `carried`: the move apply performs.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub carry: Option<Carry>,
}

impl VolumeFate {
    /// The fate for people: `carried: data-ledger-0 → data-journal-0`, else the fate's name.
    pub fn fate_text(&self) -> String {
        match &self.carry {
            Some(c) if self.fate == Fate::Carried => format!("carried: {} → {}", c.from_claim, c.to_claim),
            _ => self.fate.as_str().to_string(),
        }
    }
}

/// How a workload refers to storage.
#[derive(Debug, Clone)]
enum Src {
    Claim {
        name: String,
    },
    Template {
        vct: String,
        sts: String,
        replicas: u64,
        class: Option<String>,
        delete_on_scale: bool,
        delete_on_delete: bool,
    },
    EmptyDir,
    HostPath {
        path: String,
    },
}

#[derive(Debug, Clone)]
struct Use<'a> {
    workload: &'a Object,
    component: String,
    volume: String,
    mounts: Vec<String>,
    src: Src,
}

/// Claims are listed per ordinal; a manifest asking for more replicas than this is not a real
/// release, and enumerating its claims must not exhaust memory.
const MAX_ORDINALS: f64 = 10_000.0;

fn pod_spec(o: &Object) -> Option<&Json> {
    match o.key.kind.as_str() {
        "Pod" => o.value.get("spec"),
        "CronJob" => o.value.at("/spec/jobTemplate/spec/template/spec"),
        _ => o.value.at("/spec/template/spec"),
    }
}

fn mounts_of(spec: &Json) -> HashMap<String, Vec<String>> {
    let mut m: HashMap<String, Vec<String>> = HashMap::new();
    for list in ["initContainers", "containers"] {
        for c in spec.get(list).and_then(Json::as_array).into_iter().flatten() {
            for vm in c.get("volumeMounts").and_then(Json::as_array).into_iter().flatten() {
                if let (Some(n), Some(p)) = (
                    vm.get("name").and_then(Json::as_str),
                    vm.get("mountPath").and_then(Json::as_str),
                ) {
                    let e = m.entry(n.to_string()).or_default();
                    if !e.iter().any(|x| x == p) {
                        e.push(p.to_string());
                    }
                }
            }
        }
    }
    m
}

fn uses(set: &ManifestSet) -> Vec<Use<'_>> {
    let mut out = Vec::new();
    for o in set.objects.iter().filter(|o| o.is_workload()) {
        let Some(spec) = pod_spec(o) else { continue };
        let mounts = mounts_of(spec);
        let component = component_name(o);
        for v in spec.get("volumes").and_then(Json::as_array).into_iter().flatten() {
            let Some(name) = v.get("name").and_then(Json::as_str) else {
                continue;
            };
            let src = if let Some(c) = v.at("/persistentVolumeClaim/claimName").and_then(Json::as_str) {
                Src::Claim { name: c.to_string() }
            } else if v.get("emptyDir").is_some() {
                Src::EmptyDir
            } else if let Some(p) = v.at("/hostPath/path").and_then(Json::as_str) {
                Src::HostPath { path: p.to_string() }
            } else {
                continue; // configMap, secret, projected, downwardAPI…: configuration, not data
            };
            let Some(paths) = mounts.get(name) else { continue };
            out.push(Use {
                workload: o,
                component: component.clone(),
                volume: name.to_string(),
                mounts: paths.clone(),
                src,
            });
        }
        if o.key.kind == "StatefulSet" {
            let replicas = o
                .value
                .at("/spec/replicas")
                .and_then(Json::as_f64)
                .map(|r| r.clamp(0.0, MAX_ORDINALS) as u64)
                .unwrap_or(1);
            let policy = |w: &str| {
                o.value
                    .at(&format!("/spec/persistentVolumeClaimRetentionPolicy/{w}"))
                    .and_then(Json::as_str)
                    == Some("Delete")
            };
            for t in o
                .value
                .at("/spec/volumeClaimTemplates")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
            {
                let Some(vct) = t.at("/metadata/name").and_then(Json::as_str) else {
                    continue;
                };
                let class = t
                    .at("/spec/storageClassName")
                    .and_then(Json::as_str)
                    .map(str::to_string);
                out.push(Use {
                    workload: o,
                    component: component.clone(),
                    volume: vct.to_string(),
                    mounts: mounts.get(vct).cloned().unwrap_or_default(),
                    src: Src::Template {
                        vct: vct.to_string(),
                        sts: o.key.name.clone(),
                        replicas,
                        class,
                        delete_on_scale: policy("whenScaled"),
                        delete_on_delete: policy("whenDeleted"),
                    },
                });
            }
        }
    }
    out
}

fn pvc_key(ns: &str, name: &str) -> ObjectKey {
    ObjectKey {
        group: String::new(),
        kind: "PersistentVolumeClaim".into(),
        namespace: ns.into(),
        name: name.into(),
    }
}

fn claims_of(u: &Use) -> Vec<String> {
    match &u.src {
        Src::Claim { name } => vec![name.clone()],
        Src::Template { vct, sts, replicas, .. } => (0..*replicas).map(|i| format!("{vct}-{sts}-{i}")).collect(),
        _ => vec![],
    }
}

fn is_persistent(u: &Use) -> bool {
    matches!(u.src, Src::Claim { .. } | Src::Template { .. })
}

fn side(u: &Use, set: &ManifestSet) -> VolumeSide {
    let ns = &u.workload.key.namespace;
    let (source, class, mode) = match &u.src {
        Src::Claim { name } => {
            let pvc = set.get(&pvc_key(ns, name));
            let class = pvc
                .and_then(|p| p.value.at("/spec/storageClassName"))
                .and_then(Json::as_str)
                .map(str::to_string);
            let mode = if pvc.is_some() {
                Persistence::StorageClass
            } else {
                Persistence::ExistingClaim
            };
            ("claim", class, mode)
        }
        Src::Template { class, .. } => ("claimTemplate", class.clone(), Persistence::StorageClass),
        Src::EmptyDir => ("emptyDir", None, Persistence::None),
        Src::HostPath { .. } => ("hostPath", None, Persistence::ExistingClaim),
    };
    VolumeSide {
        workload: u.workload.key.clone(),
        source: source.to_string(),
        claims: claims_of(u),
        storage_class: class,
        mode,
        mount_paths: u.mounts.clone(),
    }
}

/// Analyse the volumes of an upgrade. `changes` is the diff of the same two sets (to know which
/// claims are recreated and which workloads change kind).
pub fn analyse(
    old: &ManifestSet,
    new: &ManifestSet,
    changes: &[ObjectChange],
    reclaim: &ReclaimPolicies,
) -> Vec<VolumeFate> {
    analyse_with(old, new, changes, reclaim, &CarryPolicy::default())
}

/// [`analyse`], carrying volumes over to renamed claims for the components `carry` names.
pub fn analyse_with(
    old: &ManifestSet,
    new: &ManifestSet,
    changes: &[ObjectChange],
    reclaim: &ReclaimPolicies,
    carry: &CarryPolicy,
) -> Vec<VolumeFate> {
    let (ou, nu) = (uses(old), uses(new));
    // Every claim name the old side knows: a carry never targets one of them.
    let old_claim_names: BTreeSet<String> = ou
        .iter()
        .flat_map(|u| {
            claims_of(u)
                .into_iter()
                .map(move |c| format!("{}/{c}", u.workload.key.namespace))
        })
        .chain(
            old.objects
                .iter()
                .filter(|o| o.key.kind == "PersistentVolumeClaim" && o.key.group.is_empty())
                .map(|o| format!("{}/{}", o.key.namespace, o.key.name)),
        )
        .collect();
    let recreated: BTreeSet<&ObjectKey> = changes
        .iter()
        .filter(|c| c.action == Action::Recreate)
        .map(|c| &c.key)
        .collect();
    let ctx = Ctx {
        old,
        new,
        reclaim,
        recreated,
        carry,
        old_claim_names,
    };

    // Pair old and new uses of the same component: volume name first, then a shared mount path.
    let mut paired_new = vec![false; nu.len()];
    let mut pairs: Vec<(Option<&Use>, Option<&Use>)> = Vec::new();
    // New uses by (namespace, volume), in order: the by-name match without a scan of every new
    // use for every old one (quadratic on large releases).
    let mut by_volume: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
    for (i, b) in nu.iter().enumerate() {
        by_volume
            .entry((b.workload.key.namespace.as_str(), b.volume.as_str()))
            .or_default()
            .push(i);
    }
    for a in &ou {
        // The same workload (kind and name) is the same component even when its labels changed
        // (a label-scheme change is what turns `app: x` into `app.kubernetes.io/component: x`).
        let same_ns = |b: &Use| {
            b.workload.key.namespace == a.workload.key.namespace
                && (b.component == a.component || b.workload.key == a.workload.key)
        };
        let by_name = by_volume
            .get(&(a.workload.key.namespace.as_str(), a.volume.as_str()))
            .and_then(|ix| ix.iter().copied().find(|&i| !paired_new[i] && same_ns(&nu[i])))
            .map(|i| (i, &nu[i]));
        let by_path = || {
            nu.iter()
                .enumerate()
                .find(|(i, b)| !paired_new[*i] && same_ns(b) && b.mounts.iter().any(|p| a.mounts.contains(p)))
        };
        match by_name.or_else(by_path) {
            Some((i, b)) => {
                paired_new[i] = true;
                pairs.push((Some(a), Some(b)));
            }
            None => pairs.push((Some(a), None)),
        }
    }
    for (i, b) in nu.iter().enumerate() {
        if !paired_new[i] {
            pairs.push((None, Some(b)));
        }
    }

    let mut out = Vec::new();
    let mut seen_old_claims: BTreeSet<String> = BTreeSet::new();
    for (a, b) in pairs {
        for c in a.map(claims_of).unwrap_or_default() {
            seen_old_claims.insert(format!(
                "{}/{}",
                a.map(|u| u.workload.key.namespace.as_str()).unwrap_or(""),
                c
            ));
        }
        out.extend(ctx.fate(a, b, &nu));
    }
    // Templated claims no workload mounted: they still hold data and still may be deleted.
    for o in old
        .objects
        .iter()
        .filter(|o| o.key.kind == "PersistentVolumeClaim" && o.key.group.is_empty())
    {
        if seen_old_claims.contains(&format!("{}/{}", o.key.namespace, o.key.name)) {
            continue;
        }
        let mentioned_new = nu
            .iter()
            .any(|u| u.workload.key.namespace == o.key.namespace && claims_of(u).contains(&o.key.name));
        if mentioned_new {
            continue;
        }
        if let Some(f) = ctx.claim_leaving(o, &o.key.name, None) {
            out.push(f);
        }
    }
    out.sort_by(|x, y| {
        y.verdict
            .cmp(&x.verdict)
            .then_with(|| x.component.cmp(&y.component))
            .then_with(|| x.volume.cmp(&y.volume))
    });
    out
}

struct Ctx<'a> {
    old: &'a ManifestSet,
    new: &'a ManifestSet,
    reclaim: &'a ReclaimPolicies,
    recreated: BTreeSet<&'a ObjectKey>,
    carry: &'a CarryPolicy,
    old_claim_names: BTreeSet<String>,
}

/// Where a dropped claim's volume would go under `--carry-volumes`.
enum CarryTarget {
    /// Not a carry case.
    None,
    To {
        claim: String,
        ordinal: Option<u64>,
    },
    /// An old ordinal the new workload has no counterpart for.
    Surplus,
}

impl Ctx<'_> {
    fn fate(&self, a: Option<&Use>, b: Option<&Use>, all_new: &[Use]) -> Vec<VolumeFate> {
        let before = a.map(|u| side(u, self.old));
        let after = b.map(|u| side(u, self.new));
        let component = a.or(b).map(|u| u.component.clone()).unwrap_or_default();
        let volume = b.or(a).map(|u| u.volume.clone()).unwrap_or_default();
        let mode = before
            .as_ref()
            .or(after.as_ref())
            .map(|s| s.mode)
            .unwrap_or(Persistence::None);
        let mk = |fate: Fate,
                  verdict: Verdict,
                  reason: String,
                  objects: Vec<String>,
                  workaround: Option<String>,
                  assumptions: Vec<String>| VolumeFate {
            component: component.clone(),
            volume: volume.clone(),
            before: before.clone(),
            after: after.clone(),
            fate,
            verdict,
            mode,
            reason,
            objects,
            workaround,
            assumptions,
            carry: None,
        };
        let mut workloads: Vec<String> = a.iter().chain(b.iter()).map(|u| u.workload.key.to_string()).collect();
        workloads.dedup();

        match (a, b) {
            (None, None) => vec![],
            (None, Some(b)) => {
                let (fate, reason) = match &b.src {
                    Src::EmptyDir => (
                        Fate::Ephemeral,
                        "emptyDir: no persistence; its data is lost whenever the pod is replaced".to_string(),
                    ),
                    Src::HostPath { path } => (
                        Fate::New,
                        format!("hostPath {path}: node-local data outside the release, now mounted"),
                    ),
                    Src::Claim { name } if self.new.get(&pvc_key(&b.workload.key.namespace, name)).is_none() => (
                        Fate::Kept,
                        format!("mounts the existing claim {name}, which the release does not manage"),
                    ),
                    _ => (Fate::New, {
                        let c = claims_of(b);
                        format!(
                            "new volume: {} {} empty",
                            plural_claims(&c),
                            if c.len() == 1 { "starts" } else { "start" }
                        )
                    }),
                };
                let mut objects = workloads.clone();
                objects.extend(
                    claims_of(b)
                        .iter()
                        .map(|c| pvc_key(&b.workload.key.namespace, c).to_string()),
                );
                vec![mk(fate, Verdict::Safe, reason, objects, None, vec![])]
            }
            (Some(a), b) => {
                let ns = a.workload.key.namespace.clone();
                let old_claims = claims_of(a);
                let new_claims = b.map(claims_of).unwrap_or_default();
                // Claims the new side mounts anywhere (another component may take it over).
                let mounted_anywhere = |c: &str| {
                    all_new
                        .iter()
                        .any(|u| u.workload.key.namespace == ns && claims_of(u).iter().any(|x| x == c))
                };
                let mut results = Vec::new();
                if !is_persistent(a) {
                    let reason = match b.map(|b| &b.src) {
                        None if matches!(a.src, Src::HostPath { .. }) => {
                            "hostPath: no longer mounted; the node-local data stays on the node".to_string()
                        }
                        Some(Src::EmptyDir) | None => {
                            "emptyDir: no persistence; its data is lost whenever the pod is replaced".to_string()
                        }
                        Some(_) => {
                            "persistence switched on: the new claims start empty (the old emptyDir data was never kept)"
                                .to_string()
                        }
                    };
                    let fate = if b.is_some_and(is_persistent) {
                        Fate::New
                    } else {
                        Fate::Ephemeral
                    };
                    if let (Src::HostPath { path }, Some(Src::HostPath { path: p2 })) = (&a.src, b.map(|b| &b.src)) {
                        let (fate, verdict) = if path == p2 {
                            (Fate::Kept, Verdict::Safe)
                        } else {
                            (Fate::Orphaned, Verdict::AtRisk)
                        };
                        return vec![mk(
                            fate,
                            verdict,
                            format!("hostPath {path} → {p2} (node-local data)"),
                            workloads,
                            None,
                            vec![],
                        )];
                    }
                    return vec![mk(fate, Verdict::Safe, reason, workloads, None, vec![])];
                }
                // Claims carried over.
                let kept: Vec<&String> = old_claims.iter().filter(|c| new_claims.contains(c)).collect();
                let dropped: Vec<&String> = old_claims.iter().filter(|c| !new_claims.contains(c)).collect();
                if !kept.is_empty() {
                    let same_workload = b.is_some_and(|b| b.workload.key == a.workload.key);
                    let fate = if same_workload { Fate::Kept } else { Fate::Reattached };
                    // A kept templated claim can still be lost: recreated, or removed from the release.
                    let mut worst: Option<VolumeFate> = None;
                    for c in &kept {
                        if let Some(pvc) = self.old.get(&pvc_key(&ns, c)) {
                            if self.new.get(&pvc.key).is_none() || self.recreated.contains(&pvc.key) {
                                if let Some(f) = self.claim_leaving(
                                    pvc,
                                    c,
                                    Some((&component, &volume, before.clone(), after.clone())),
                                ) {
                                    worst = Some(f);
                                }
                            }
                        }
                    }
                    if let Some(w) = worst {
                        results.push(w);
                    } else {
                        let mut objects = workloads.clone();
                        objects.extend(kept.iter().map(|c| pvc_key(&ns, c).to_string()));
                        let reason = if same_workload {
                            let names: Vec<String> = kept.iter().map(|s| s.to_string()).collect();
                            let verb = if names.len() == 1 { "stays" } else { "stay" };
                            format!("{} {verb} mounted", plural_claims(&names))
                        } else {
                            format!(
                                "the new {} mounts the same {} again",
                                b.map(|b| b.workload.key.kind.as_str()).unwrap_or(""),
                                plural_claims(&kept.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                            )
                        };
                        results.push(mk(fate, Verdict::Safe, reason, objects, None, vec![]));
                    }
                }
                // Scale-up of the same template: the new ordinals start on new, empty claims.
                if let (
                    Src::Template { vct, sts, .. },
                    Some(Src::Template {
                        vct: v2,
                        sts: s2,
                        replicas: r2,
                        ..
                    }),
                ) = (&a.src, b.map(|b| &b.src))
                {
                    let added: Vec<String> = new_claims.iter().filter(|c| !old_claims.contains(c)).cloned().collect();
                    if vct == v2 && sts == s2 && !added.is_empty() {
                        let mut objects = workloads.clone();
                        objects.extend(added.iter().map(|c| pvc_key(&ns, c).to_string()));
                        results.push(mk(
                            Fate::New,
                            Verdict::Safe,
                            format!(
                                "{sts} scales up to {r2}: {} {} empty",
                                plural_claims(&added),
                                if added.len() == 1 { "starts" } else { "start" }
                            ),
                            objects,
                            None,
                            vec![],
                        ));
                    }
                }
                if dropped.is_empty() {
                    return results;
                }
                // Scale-down of the same template: the dropped ordinals' claims stay behind.
                if let (
                    Src::Template {
                        vct,
                        sts,
                        delete_on_scale,
                        class,
                        ..
                    },
                    Some(Src::Template {
                        vct: v2,
                        sts: s2,
                        replicas: r2,
                        ..
                    }),
                ) = (&a.src, b.map(|b| &b.src))
                {
                    if vct == v2 && sts == s2 {
                        let names: Vec<String> = dropped.iter().map(|s| s.to_string()).collect();
                        let mut objects = workloads.clone();
                        objects.extend(names.iter().map(|c| pvc_key(&ns, c).to_string()));
                        if *delete_on_scale {
                            let (policy, known, assumption) = self.policy(class.as_deref());
                            let verdict = if policy == Reclaim::Delete {
                                Verdict::Loss
                            } else {
                                Verdict::AtRisk
                            };
                            let mut v = mk(
                                Fate::Deleted,
                                verdict,
                                format!(
                                    "{sts} scales down to {r2}; persistentVolumeClaimRetentionPolicy.whenScaled=Delete deletes {} ({})",
                                    plural_claims(&names),
                                    reclaim_words(policy, known)
                                ),
                                objects,
                                Some(format!("Back up {} before scaling down, or set whenScaled: Retain.", names.join(", "))),
                                assumption,
                            );
                            v.fate = Fate::Deleted;
                            results.push(v);
                        } else {
                            results.push(mk(
                                Fate::ScaleDown,
                                Verdict::AtRisk,
                                format!(
                                    "{sts} scales down to {r2}: {} stay behind unmounted; their data is no longer served",
                                    plural_claims(&names)
                                ),
                                objects,
                                Some(format!(
                                    "Make sure the data of the dropped replicas is replicated elsewhere first; scaling back up \
                                     reattaches {}. Delete them explicitly once they are no longer needed.",
                                    names.join(", ")
                                )),
                                vec![],
                            ));
                        }
                        return results;
                    }
                }
                // Claims the component stops mounting.
                let names: Vec<String> = dropped.iter().map(|s| s.to_string()).collect();
                let mut carried: Vec<String> = Vec::new();
                for c in &names {
                    if mounted_anywhere(c) {
                        let mut objects = workloads.clone();
                        objects.push(pvc_key(&ns, c).to_string());
                        results.push(mk(
                            Fate::Reattached,
                            Verdict::Safe,
                            format!("claim {c} is mounted by another workload"),
                            objects,
                            None,
                            vec![],
                        ));
                        continue;
                    }
                    if let Some(b) = b.filter(|_| self.carry.applies(&component)) {
                        match self.carry_target(a, b, &old_claims, &new_claims, c) {
                            CarryTarget::To { claim, ordinal } => {
                                let mut objects = workloads.clone();
                                objects.push(pvc_key(&ns, c).to_string());
                                objects.push(pvc_key(&ns, &claim).to_string());
                                let mut reason = format!(
                                    "{}; --carry-volumes moves the volume of {c} to {claim}: reclaim policy Retain \
                                     first, stop {}, release {c}, bind {claim} to the same PV, restore the reclaim policy",
                                    rename_why(a, Some(b), false),
                                    a.workload.key
                                );
                                if matches!(a.src, Src::Claim { .. }) && new_claims.len() > 1 {
                                    reason.push_str(&format!(
                                        "; the single claim goes to ordinal 0, the other {} ordinal(s) of {} start on new empty volumes",
                                        new_claims.len() - 1,
                                        b.workload.key.name
                                    ));
                                }
                                let mut f = mk(Fate::Carried, Verdict::Safe, reason, objects, None, vec![]);
                                f.carry = Some(self.carry_of(a, b, c, &claim, ordinal));
                                carried.push(claim);
                                results.push(f);
                                continue;
                            }
                            CarryTarget::Surplus => {
                                let mut objects = workloads.clone();
                                objects.push(pvc_key(&ns, c).to_string());
                                results.push(mk(
                                    Fate::Orphaned,
                                    Verdict::AtRisk,
                                    format!(
                                        "surplus: {} has no ordinal for {c} ({} new replica(s)); with --carry-volumes it \
                                         is left in place, unmounted, never deleted",
                                        b.workload.key.name,
                                        new_claims.len()
                                    ),
                                    objects,
                                    Some(orphan_workaround(c, None, &ns)),
                                    vec![],
                                ));
                                continue;
                            }
                            CarryTarget::None => {}
                        }
                    }
                    if let Some(pvc) = self.old.get(&pvc_key(&ns, c)) {
                        if self.new.get(&pvc.key).is_none() || self.recreated.contains(&pvc.key) {
                            if let Some(f) =
                                self.claim_leaving(pvc, c, Some((&component, &volume, before.clone(), after.clone())))
                            {
                                results.push(f);
                                continue;
                            }
                        }
                    }
                    // The claim stays (generated by a template, outside the release, or kept) but
                    // nothing mounts it: the component starts on whatever the new side gives it.
                    let replacement = match b.map(|b| &b.src) {
                        Some(Src::EmptyDir) => {
                            "an emptyDir (persistence switched off: data lost on every restart)".to_string()
                        }
                        Some(_) => format!("new empty {}", plural_claims(&new_claims)),
                        None => "no volume at this path".to_string(),
                    };
                    let statefulset_deleted = matches!(
                        &a.src,
                        Src::Template {
                            delete_on_delete: true,
                            ..
                        }
                    ) && self.new.get(&a.workload.key).is_none();
                    let (fate, verdict) = if statefulset_deleted {
                        (Fate::Deleted, Verdict::Loss)
                    } else {
                        (Fate::Orphaned, Verdict::AtRisk)
                    };
                    let mut objects = workloads.clone();
                    objects.push(pvc_key(&ns, c).to_string());
                    objects.extend(new_claims.iter().map(|n| pvc_key(&ns, n).to_string()));
                    let why = rename_why(a, b, true);
                    let reason = if statefulset_deleted {
                        format!("{why}; persistentVolumeClaimRetentionPolicy.whenDeleted=Delete deletes {c} with the StatefulSet")
                    } else {
                        format!("{why}: {c} stays in the cluster but nothing mounts it; the component starts on {replacement}")
                    };
                    let new_claim = new_claims.first().cloned();
                    results.push(mk(
                        fate,
                        verdict,
                        reason,
                        objects,
                        Some(orphan_workaround(c, new_claim.as_deref(), &ns)),
                        vec![],
                    ));
                }
                // Carried volumes fill ordinals from 0; the new workload's other claims start empty.
                if let Some(b) = b.filter(|_| !carried.is_empty()) {
                    let extra: Vec<String> = new_claims
                        .iter()
                        .filter(|n| !carried.contains(n) && !old_claims.contains(n))
                        .cloned()
                        .collect();
                    if !extra.is_empty() {
                        let mut objects = vec![b.workload.key.to_string()];
                        objects.extend(extra.iter().map(|n| pvc_key(&ns, n).to_string()));
                        results.push(mk(
                            Fate::New,
                            Verdict::Safe,
                            format!(
                                "{} {} empty: the old side has no volume for {} ({} carried)",
                                plural_claims(&extra),
                                if extra.len() == 1 { "starts" } else { "start" },
                                if extra.len() == 1 {
                                    "that ordinal"
                                } else {
                                    "those ordinals"
                                },
                                carried.len()
                            ),
                            objects,
                            None,
                            vec![],
                        ));
                    }
                }
                results
            }
        }
    }

    /// The new claim a dropped claim `c` is carried to: old ordinal i → new ordinal i, a single
    /// claim → ordinal 0 (or the new plain claim); old ordinals beyond the new replicas are surplus.
    fn carry_target(&self, a: &Use, b: &Use, old_claims: &[String], new_claims: &[String], c: &str) -> CarryTarget {
        let ns = &b.workload.key.namespace;
        if ns != &a.workload.key.namespace {
            return CarryTarget::None;
        }
        let Some(i) = old_claims.iter().position(|x| x == c) else {
            return CarryTarget::None;
        };
        let (claim, ordinal) = match &b.src {
            Src::Template { .. } => match new_claims.get(i) {
                Some(n) => (n.clone(), Some(i as u64)),
                None => return CarryTarget::Surplus,
            },
            Src::Claim { name } if i == 0 => (name.clone(), None),
            Src::Claim { .. } => return CarryTarget::Surplus,
            _ => return CarryTarget::None,
        };
        if self.old_claim_names.contains(&format!("{ns}/{claim}")) {
            // The target already holds a volume of the old release: not a rename.
            return CarryTarget::None;
        }
        CarryTarget::To { claim, ordinal }
    }

    fn carry_of(&self, a: &Use, b: &Use, from: &str, to: &str, ordinal: Option<u64>) -> Carry {
        let ns = b.workload.key.namespace.clone();
        let strings = |v: Option<&Json>| -> BTreeMap<String, String> {
            v.and_then(Json::as_object)
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                        .collect()
                })
                .unwrap_or_default()
        };
        let (labels, annotations, in_release) = match &b.src {
            Src::Template { vct, .. } => {
                let t = b
                    .workload
                    .value
                    .at("/spec/volumeClaimTemplates")
                    .and_then(Json::as_array)
                    .and_then(|ts| {
                        ts.iter()
                            .find(|t| t.at("/metadata/name").and_then(Json::as_str) == Some(vct))
                    });
                // As the StatefulSet controller labels its claims: template labels + selector.
                let mut labels = strings(t.and_then(|t| t.at("/metadata/labels")));
                labels.extend(strings(b.workload.value.at("/spec/selector/matchLabels")));
                (labels, strings(t.and_then(|t| t.at("/metadata/annotations"))), false)
            }
            _ => match self.new.get(&pvc_key(&ns, to)) {
                Some(p) => (
                    strings(p.value.at("/metadata/labels")),
                    strings(p.value.at("/metadata/annotations")),
                    true,
                ),
                None => (BTreeMap::new(), BTreeMap::new(), false),
            },
        };
        Carry {
            namespace: ns,
            from_claim: from.to_string(),
            to_claim: to.to_string(),
            from_workload: a.workload.key.clone(),
            to_workload: b.workload.key.clone(),
            ordinal,
            labels,
            annotations,
            in_release,
        }
    }

    fn policy(&self, class: Option<&str>) -> (Reclaim, bool, Vec<String>) {
        let (p, known) = self.reclaim.lookup(class);
        let assumption = if known {
            vec![]
        } else {
            let name = class.unwrap_or("default");
            vec![format!(
                "reclaim policy of storage class {name:?} unknown: assumed Delete (pass --storage-class {name}=Retain if it retains)"
            )]
        };
        (p, known, assumption)
    }

    /// A templated claim leaving the release (or being recreated).
    fn claim_leaving(
        &self,
        pvc: &Object,
        name: &str,
        ctx: Option<(&String, &String, Option<VolumeSide>, Option<VolumeSide>)>,
    ) -> Option<VolumeFate> {
        let recreated = self.recreated.contains(&pvc.key);
        let ns = &pvc.key.namespace;
        let class = pvc.value.at("/spec/storageClassName").and_then(Json::as_str);
        let (policy, known, assumptions) = self.policy(class);
        let (component, volume, before, after) = match ctx {
            Some((c, v, b, a)) => (c.clone(), v.clone(), b, a),
            None => (name.to_string(), name.to_string(), None, None),
        };
        let mut objects = vec![pvc.key.to_string()];
        if let Some(b) = &before {
            objects.insert(0, b.workload.to_string());
        }
        if let Some(a) = &after {
            if !objects.contains(&a.workload.to_string()) {
                objects.insert(1.min(objects.len()), a.workload.to_string());
            }
            objects.extend(
                a.claims
                    .iter()
                    .filter(|c| c.as_str() != name)
                    .map(|c| pvc_key(ns, c).to_string()),
            );
        }
        if pvc.kept_on_delete() && !recreated {
            return Some(VolumeFate {
                component,
                volume,
                before,
                after,
                fate: Fate::Orphaned,
                verdict: Verdict::AtRisk,
                mode: Persistence::StorageClass,
                reason: format!(
                    "claim {name} leaves the release but is annotated helm.sh/resource-policy: keep: it stays, unmanaged and unmounted"
                ),
                objects,
                workaround: Some(orphan_workaround(name, None, ns)),
                assumptions: vec![],
                carry: None,
            });
        }
        let verdict = if policy == Reclaim::Delete {
            Verdict::Loss
        } else {
            Verdict::AtRisk
        };
        let what = if recreated {
            format!("claim {name} is recreated (its spec changes an immutable field): deleting it releases its volume")
        } else {
            format!("claim {name} leaves the release without helm.sh/resource-policy: keep, so Helm deletes it")
        };
        let reason = format!("{what}; {}", reclaim_words(policy, known));
        let workaround = format!(
            "Before upgrading, keep the data: `kubectl -n {ns} annotate pvc {name} helm.sh/resource-policy=keep` and \
             `kubectl patch pv $(kubectl -n {ns} get pvc {name} -o jsonpath='{{.spec.volumeName}}') -p \
             '{{\"spec\":{{\"persistentVolumeReclaimPolicy\":\"Retain\"}}}}'`; then point the new version at it through \
             its existingClaim value, or copy the data into the new claim."
        );
        Some(VolumeFate {
            component,
            volume,
            before,
            after,
            fate: Fate::Deleted,
            verdict,
            mode: Persistence::StorageClass,
            reason,
            objects,
            workaround: Some(workaround),
            assumptions,
            carry: None,
        })
    }
}

/// Why a claim's name changes between the two sides, in words.
/// `orphaning`: the old claims stay behind (said so); else they are carried.
fn rename_why(a: &Use, b: Option<&Use>, orphaning: bool) -> String {
    match (&a.src, b.map(|b| &b.src)) {
        (Src::Claim { .. }, Some(Src::Template { vct, sts, .. })) => {
            format!("the component moves to the {sts} StatefulSet, whose claims are named {vct}-{sts}-<ordinal>")
        }
        (Src::Template { vct, sts, .. }, Some(Src::Template { vct: v2, sts: s2, .. })) if sts != s2 => {
            let left = if orphaning {
                format!("; {vct} claims are left")
            } else {
                String::new()
            };
            format!("the StatefulSet is renamed {sts} → {s2}, so its claims become {v2}-{s2}-<ordinal>{left}")
        }
        (Src::Template { vct, .. }, Some(Src::Template { vct: v2, .. })) if vct != v2 => {
            format!("the volumeClaimTemplate is renamed {vct} → {v2}")
        }
        (Src::Claim { name }, Some(Src::Claim { name: n2 })) => format!("the claim is renamed {name} → {n2}"),
        (Src::Template { sts, .. }, Some(Src::Claim { name })) => {
            format!("the component leaves the {sts} StatefulSet for a workload mounting claim {name}")
        }
        _ => "the new version no longer mounts it".to_string(),
    }
}

fn reclaim_words(p: Reclaim, known: bool) -> String {
    match (p, known) {
        (Reclaim::Delete, true) => "its storage class deletes the volume (reclaimPolicy Delete): the data is lost".into(),
        (Reclaim::Delete, false) => "the volume goes with its storage class's reclaim policy, assumed Delete: the data is lost".into(),
        (Reclaim::Retain, _) => "its storage class retains the volume (Retain): the data survives in a Released PV that must be re-bound by hand".into(),
    }
}

fn plural_claims(c: &[String]) -> String {
    match c.len() {
        0 => "no claims".into(),
        1 => format!("claim {}", c[0]),
        _ => format!("claims {}", c.join(", ")),
    }
}

fn orphan_workaround(old: &str, new: Option<&str>, ns: &str) -> String {
    match new {
        Some(n) => format!(
            "Keep the component on {old} through the chart's existingClaim value; or move the volume: set its PV to \
             Retain, delete claim {old}, clear the PV's claimRef and create claim {n} with spec.volumeName set to that \
             PV before the upgrade (namespace {ns}); or copy the data from {old} into {n} with a Job that mounts both."
        ),
        None => format!(
            "Keep mounting {old} (existingClaim), or copy its data to the new volume before the upgrade; delete claim \
             {old} in namespace {ns} only once the data is safe."
        ),
    }
}

/// The worst verdict of a list (Safe when empty).
pub fn worst(fates: &[VolumeFate]) -> Verdict {
    fates.iter().map(|f| f.verdict).max().unwrap_or(Verdict::Safe)
}

/// The persistence modes the old side (else the new side) uses, for matrix verdicts.
pub fn modes(fates: &[VolumeFate]) -> BTreeSet<Persistence> {
    fates.iter().map(|f| f.mode).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::{diff, DiffOptions};
    use crate::manifest::parse_manifest;

    fn run(old: &str, new: &str, classes: &[&str]) -> Vec<VolumeFate> {
        let (o, n) = (
            parse_manifest(old, "fate").unwrap(),
            parse_manifest(new, "fate").unwrap(),
        );
        let changes = diff(&o, &n, &DiffOptions::default());
        let mut r = ReclaimPolicies::default();
        for c in classes {
            r.add_spec(c).unwrap();
        }
        analyse(&o, &n, &changes, &r)
    }

    fn deploy(volume: &str) -> String {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: mysql, labels: {{app.kubernetes.io/component: mysql}}}}\nspec:\n  selector: {{matchLabels: {{c: mysql}}}}\n  template:\n    metadata: {{labels: {{c: mysql}}}}\n    spec:\n      containers:\n      - name: mysql\n        image: mysql:8\n        volumeMounts: [{{name: data, mountPath: /var/lib/mysql}}, {{name: cfg, mountPath: /etc/mysql}}]\n      volumes:\n      - name: cfg\n        configMap: {{name: mysql-config}}\n      - name: data\n{volume}"
        )
    }
    const PVC: &str = "---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: mysql-data}\nspec:\n  storageClassName: standard\n  accessModes: [ReadWriteOnce]\n  resources: {requests: {storage: 1Gi}}\n";
    fn sts(name: &str, vct: &str, replicas: u32, volumes: &str) -> String {
        format!(
            "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {{name: {name}, labels: {{app.kubernetes.io/component: mysql}}}}\nspec:\n  serviceName: mysql\n  replicas: {replicas}\n  selector: {{matchLabels: {{c: mysql}}}}\n  template:\n    metadata: {{labels: {{c: mysql}}}}\n    spec:\n      containers:\n      - name: mysql\n        image: mysql:8\n        volumeMounts: [{{name: {vct}, mountPath: /var/lib/mysql}}]\n{volumes}  volumeClaimTemplates:\n  - metadata: {{name: {vct}}}\n    spec: {{storageClassName: standard, accessModes: [ReadWriteOnce], resources: {{requests: {{storage: 1Gi}}}}}}\n"
        )
    }
    const CLAIM: &str = "        persistentVolumeClaim: {claimName: mysql-data}\n";

    #[test]
    fn same_workload_with_relabelled_component_keeps_its_host_path() {
        // edge 1.0.0 → 2.0.0: the DaemonSet keeps its name but its labels move to the
        // app.kubernetes.io scheme, so the component name derived from them changes.
        let ds = |labels: &str, path: &str| {
            format!(
                "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {{name: agent, labels: {{{labels}}}}}\nspec:\n  selector: {{matchLabels: {{{labels}}}}}\n  template:\n    metadata: {{labels: {{{labels}}}}}\n    spec:\n      containers:\n      - name: a\n        image: agent:1\n        volumeMounts: [{{name: varlog, mountPath: /var/log}}]\n      volumes:\n      - name: varlog\n        hostPath: {{path: {path}}}\n"
            )
        };
        let f = run(
            &ds("app: edge-agent", "/var/log"),
            &ds("app.kubernetes.io/component: logs", "/var/log"),
            &[],
        );
        assert_eq!(f.len(), 1, "one volume, paired across the relabelling: {f:#?}");
        assert_eq!(f[0].fate, Fate::Kept);
        assert!(f[0].reason.contains("hostPath /var/log"), "{}", f[0].reason);
        // Dropped: said as what it is, not as an emptyDir.
        let gone = run(&ds("app: edge-agent", "/var/log"), "", &[]);
        assert!(gone.iter().all(|v| !v.reason.contains("emptyDir")), "{gone:#?}");
    }

    #[test]
    fn deployment_to_statefulset_with_storage_class_loses_data() {
        let old = deploy(CLAIM) + PVC;
        let new = sts("mysql", "data", 1, "");
        let f = run(&old, &new, &[]);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].fate, Fate::Deleted);
        assert_eq!(f[0].verdict, Verdict::Loss);
        assert_eq!(f[0].mode, Persistence::StorageClass);
        assert!(
            f[0].assumptions[0].contains("\"standard\" unknown: assumed Delete"),
            "{:?}",
            f[0].assumptions
        );
        assert!(
            f[0].objects
                .contains(&"fate/PersistentVolumeClaim/data-mysql-0".to_string()),
            "{:?}",
            f[0].objects
        );
        assert!(f[0]
            .workaround
            .as_ref()
            .unwrap()
            .contains("helm.sh/resource-policy=keep"));
        // With a retaining class the data survives in a Released PV: at risk, not lost.
        let f = run(&old, &new, &["standard=Retain"]);
        assert_eq!(f[0].verdict, Verdict::AtRisk);
        assert!(f[0].assumptions.is_empty());
    }

    #[test]
    fn deployment_to_statefulset_with_existing_claim_keeps_data() {
        let old = deploy(CLAIM);
        let vols = "      volumes:\n      - name: data\n        persistentVolumeClaim: {claimName: mysql-data}\n";
        let new = sts("mysql", "data", 1, vols).replace("  volumeClaimTemplates:\n  - metadata: {name: data}\n    spec: {storageClassName: standard, accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}\n", "");
        let f = run(&old, &new, &[]);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].fate, Fate::Reattached);
        assert_eq!(f[0].verdict, Verdict::Safe);
        assert_eq!(f[0].mode, Persistence::ExistingClaim);
    }

    #[test]
    fn existing_claim_replaced_by_claim_template_is_orphaned() {
        let f = run(&deploy(CLAIM), &sts("mysql", "data", 1, ""), &[]);
        assert_eq!(f[0].fate, Fate::Orphaned);
        assert_eq!(f[0].verdict, Verdict::AtRisk);
        assert!(f[0].reason.contains("data-mysql-<ordinal>"), "{}", f[0].reason);
        assert!(f[0].workaround.as_ref().unwrap().contains("create claim data-mysql-0"));
    }

    #[test]
    fn renamed_claim_template_orphans_claims() {
        let f = run(&sts("mysql", "data", 2, ""), &sts("mysql", "storage", 2, ""), &[]);
        assert_eq!(f.len(), 2, "{f:#?}");
        assert!(f
            .iter()
            .all(|f| f.fate == Fate::Orphaned && f.verdict == Verdict::AtRisk));
        assert!(f[0].reason.contains("renamed data → storage"));
    }

    #[test]
    fn scale_up_adds_empty_claims() {
        let f = run(&sts("mysql", "data", 1, ""), &sts("mysql", "data", 2, ""), &[]);
        let n: Vec<_> = f.iter().filter(|f| f.fate == Fate::New).collect();
        assert_eq!(n.len(), 1, "{f:#?}");
        assert!(
            n[0].reason.contains("claim data-mysql-1 starts empty"),
            "{}",
            n[0].reason
        );
    }

    #[test]
    fn scale_down_leaves_claims() {
        let f = run(&sts("mysql", "data", 3, ""), &sts("mysql", "data", 1, ""), &[]);
        let s: Vec<_> = f.iter().filter(|f| f.fate == Fate::ScaleDown).collect();
        assert_eq!(s.len(), 1, "{f:#?}");
        assert!(s[0].reason.contains("claims data-mysql-1, data-mysql-2"));
        assert!(f.iter().any(|f| f.fate == Fate::Kept && f.verdict == Verdict::Safe));
    }

    #[test]
    fn persistence_switched_off() {
        let old = deploy(CLAIM) + PVC;
        let new = deploy("        emptyDir: {}\n");
        let f = run(&old, &new, &["standard=Delete"]);
        assert_eq!(f[0].fate, Fate::Deleted);
        assert_eq!(f[0].verdict, Verdict::Loss);
        assert_eq!(f[0].after.as_ref().unwrap().source, "emptyDir");
    }

    #[test]
    fn kept_claim_is_orphaned_not_deleted() {
        let old = deploy(CLAIM)
            + &PVC.replace(
                "{name: mysql-data}",
                "{name: mysql-data, annotations: {helm.sh/resource-policy: keep}}",
            );
        let f = run(&old, &sts("mysql", "data", 1, ""), &[]);
        assert_eq!(f[0].fate, Fate::Orphaned);
        assert_eq!(f[0].verdict, Verdict::AtRisk);
    }

    #[test]
    fn unchanged_volume_is_kept() {
        let old = deploy(CLAIM) + PVC;
        let f = run(&old, &old, &[]);
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].fate, f[0].verdict), (Fate::Kept, Verdict::Safe));
    }

    #[test]
    fn recreated_claim_is_deleted() {
        let old = deploy(CLAIM) + PVC;
        let new = deploy(CLAIM) + &PVC.replace("standard", "fast");
        let f = run(&old, &new, &[]);
        assert_eq!(f[0].fate, Fate::Deleted);
        assert!(f[0].reason.contains("recreated"));
    }

    fn run_carry(old: &str, new: &str) -> Vec<VolumeFate> {
        let (o, n) = (
            parse_manifest(old, "fate").unwrap(),
            parse_manifest(new, "fate").unwrap(),
        );
        let changes = diff(&o, &n, &DiffOptions::default());
        let mut r = ReclaimPolicies::default();
        r.add_spec("standard=Delete").unwrap();
        let carry = CarryPolicy {
            all: true,
            ..Default::default()
        };
        analyse_with(&o, &n, &changes, &r, &carry)
    }

    fn carries(f: &[VolumeFate]) -> Vec<(String, String, Option<u64>)> {
        let mut v: Vec<_> = f
            .iter()
            .filter_map(|f| f.carry.as_ref())
            .map(|c| (c.from_claim.clone(), c.to_claim.clone(), c.ordinal))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn renamed_statefulset_carries_ordinal_to_ordinal() {
        let f = run_carry(&sts("mysql", "data", 2, ""), &sts("db", "storage", 2, ""));
        assert_eq!(
            carries(&f),
            vec![
                ("data-mysql-0".to_string(), "storage-db-0".to_string(), Some(0)),
                ("data-mysql-1".to_string(), "storage-db-1".to_string(), Some(1)),
            ],
            "{f:#?}"
        );
        assert!(f.iter().all(|f| f.fate == Fate::Carried && f.verdict == Verdict::Safe));
        assert_eq!(f[0].fate_text(), "carried: data-mysql-0 → storage-db-0");
        let c = f[0].carry.as_ref().unwrap();
        assert_eq!(
            (c.from_workload.name.as_str(), c.to_workload.name.as_str()),
            ("mysql", "db")
        );
        // The StatefulSet controller labels its claims with the selector's matchLabels.
        assert_eq!(c.labels.get("c").map(String::as_str), Some("mysql"));
        assert!(!c.in_release);
        // Without the policy the same upgrade orphans them.
        let f = run(
            &sts("mysql", "data", 2, ""),
            &sts("db", "storage", 2, ""),
            &["standard=Delete"],
        );
        assert!(
            f.iter().all(|f| f.fate == Fate::Orphaned && f.carry.is_none()),
            "{f:#?}"
        );
    }

    #[test]
    fn extra_new_ordinals_start_empty_and_surplus_old_ones_stay() {
        // 2 → 3: ordinals 0 and 1 carried, ordinal 2 new and empty.
        let f = run_carry(&sts("mysql", "data", 2, ""), &sts("db", "data", 3, ""));
        assert_eq!(carries(&f).len(), 2, "{f:#?}");
        let new: Vec<_> = f.iter().filter(|f| f.fate == Fate::New).collect();
        assert_eq!(new.len(), 1, "{f:#?}");
        assert!(
            new[0].reason.contains("claim data-db-2 starts empty"),
            "{}",
            new[0].reason
        );
        // 3 → 1: ordinal 0 carried; ordinals 1 and 2 reported as surplus, never deleted.
        let f = run_carry(&sts("mysql", "data", 3, ""), &sts("db", "data", 1, ""));
        assert_eq!(
            carries(&f),
            vec![("data-mysql-0".to_string(), "data-db-0".to_string(), Some(0))]
        );
        let surplus: Vec<_> = f.iter().filter(|f| f.reason.starts_with("surplus:")).collect();
        assert_eq!(surplus.len(), 2, "{f:#?}");
        assert!(surplus
            .iter()
            .all(|s| s.fate == Fate::Orphaned && s.verdict == Verdict::AtRisk && s.carry.is_none()));
        assert!(surplus.iter().any(|s| s
            .objects
            .contains(&"fate/PersistentVolumeClaim/data-mysql-2".to_string())));
    }

    #[test]
    fn deployment_claim_carries_to_ordinal_zero() {
        let old = deploy(CLAIM) + PVC;
        let f = run_carry(&old, &sts("mysql", "data", 1, ""));
        assert_eq!(
            carries(&f),
            vec![("mysql-data".to_string(), "data-mysql-0".to_string(), Some(0))],
            "{f:#?}"
        );
        assert_eq!((f[0].fate, f[0].verdict), (Fate::Carried, Verdict::Safe));
        let c = f[0].carry.as_ref().unwrap();
        assert_eq!(c.from_workload.kind, "Deployment");
        assert_eq!(c.to_workload.kind, "StatefulSet");
        // replicas 3: ordinal 0 gets the data, ordinals 1 and 2 start empty, and the plan says so.
        let f = run_carry(&old, &sts("mysql", "data", 3, ""));
        let carried = f.iter().find(|f| f.fate == Fate::Carried).unwrap();
        assert!(
            carried.reason.contains("the single claim goes to ordinal 0"),
            "{}",
            carried.reason
        );
        let new = f.iter().find(|f| f.fate == Fate::New).unwrap();
        assert!(
            new.reason.contains("claims data-mysql-1, data-mysql-2 start empty"),
            "{}",
            new.reason
        );
    }

    #[test]
    fn renamed_release_claim_is_carried_in_release() {
        let old = deploy(CLAIM) + PVC;
        let new = deploy("        persistentVolumeClaim: {claimName: mysql-store}\n")
            + &PVC.replace("{name: mysql-data}", "{name: mysql-store, labels: {tier: db}}");
        let f = run_carry(&old, &new);
        assert_eq!(
            carries(&f),
            vec![("mysql-data".to_string(), "mysql-store".to_string(), None)],
            "{f:#?}"
        );
        let c = f[0].carry.as_ref().unwrap();
        assert!(c.in_release);
        assert_eq!(c.labels.get("tier").map(String::as_str), Some("db"));
    }

    #[test]
    fn carry_is_per_component() {
        let (o, n) = (
            parse_manifest(&sts("mysql", "data", 1, ""), "fate").unwrap(),
            parse_manifest(&sts("db", "storage", 1, ""), "fate").unwrap(),
        );
        let changes = diff(&o, &n, &DiffOptions::default());
        let mut carry = CarryPolicy::default();
        carry.components.insert("other".into());
        let f = analyse_with(&o, &n, &changes, &ReclaimPolicies::default(), &carry);
        assert_eq!(f[0].fate, Fate::Orphaned);
        carry.components.insert("mysql".into());
        let f = analyse_with(&o, &n, &changes, &ReclaimPolicies::default(), &carry);
        assert_eq!(f[0].fate, Fate::Carried);
    }

    #[test]
    fn carried_fate_json_shape() {
        let f = run_carry(&sts("mysql", "data", 1, ""), &sts("db", "storage", 1, ""));
        let j = serde_json::to_value(&f[0]).unwrap();
        assert_eq!(j["fate"], "carried");
        assert_eq!(j["verdict"], "safe");
        assert_eq!(
            j["carry"],
            serde_json::json!({
                "namespace": "fate",
                "fromClaim": "data-mysql-0",
                "toClaim": "storage-db-0",
                "fromWorkload": {"group": "apps", "kind": "StatefulSet", "namespace": "fate", "name": "mysql"},
                "toWorkload": {"group": "apps", "kind": "StatefulSet", "namespace": "fate", "name": "db"},
                "ordinal": 0,
                "labels": {"c": "mysql"}
            })
        );
        // Round trip (the saved plan carries it to apply).
        let back: VolumeFate = serde_json::from_value(j).unwrap();
        assert_eq!(back, f[0]);
    }

    #[test]
    fn storage_class_specs() {
        let mut r = ReclaimPolicies::default();
        assert!(r.add_spec("x").is_err());
        assert!(r.add_spec("x=Keep").is_err());
        r.add_spec("fast=retain").unwrap();
        assert_eq!(r.lookup(Some("fast")), (Reclaim::Retain, true));
        assert_eq!(r.lookup(None), (Reclaim::Delete, false));
    }
}
