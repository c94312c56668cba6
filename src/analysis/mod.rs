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

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::diff::{Action, ObjectChange};
use crate::manifest::{ManifestSet, ObjectKey};

mod carry;
mod claims;
mod fate;
pub mod identity;
#[cfg(test)]
mod tests;
mod uses;
mod words;

pub use identity::WorkloadPairing;

use fate::Ctx;
use uses::{claims_of, uses, Use};

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
    /// Node-local data (hostPath): outlives pods, stays on one node, never in a claim.
    HostPath,
}

impl Persistence {
    pub fn as_str(self) -> &'static str {
        match self {
            Persistence::StorageClass => "storageClass",
            Persistence::ExistingClaim => "existingClaim",
            Persistence::None => "none",
            Persistence::HostPath => "hostPath",
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
    /// The live claims' bound volumes and their own `persistentVolumeReclaimPolicy`, by claim
    /// name (the release's namespace), where PersistentVolumes could be read: a volume's policy
    /// decides, not its class's (an admin may have set Retain on one volume of a Delete class).
    pub volumes: BTreeMap<String, (String, Reclaim)>,
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

    /// Record the volume `pv` bound to `claim`, with its own reclaim policy (`Retain`, or any
    /// other value — `Delete`, the deprecated `Recycle` — which does not keep the data).
    pub fn add_volume(&mut self, claim: &str, pv: &str, policy: &str) {
        let p = if policy == "Retain" {
            Reclaim::Retain
        } else {
            Reclaim::Delete
        };
        self.volumes.insert(claim.to_string(), (pv.to_string(), p));
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
            _ => {
                // A claim template's ordinals are one line each: name the line's own claim, so
                // two lines never read the same.
                let before = self.before.as_ref().map(|b| b.claims.as_slice()).unwrap_or_default();
                let own: Vec<&String> = before
                    .iter()
                    .filter(|c| {
                        self.objects
                            .iter()
                            .any(|o| o.ends_with(&format!("/PersistentVolumeClaim/{c}")))
                    })
                    .collect();
                match own.as_slice() {
                    [one] if before.len() > 1 => format!("{}: {one}", self.fate.as_str()),
                    _ => self.fate.as_str().to_string(),
                }
            }
        }
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
    let (pairings, _) = identity::pair_workloads(old, new, &[]);
    analyse_paired(old, new, changes, reclaim, carry, &pairings)
}

/// [`analyse_with`], with the workloads `pairings` names treated as one component each (renamed,
/// relabelled or changing kind).
pub fn analyse_paired(
    old: &ManifestSet,
    new: &ManifestSet,
    changes: &[ObjectChange],
    reclaim: &ReclaimPolicies,
    carry: &CarryPolicy,
    pairings: &[WorkloadPairing],
) -> Vec<VolumeFate> {
    let renamed: BTreeSet<(&ObjectKey, &ObjectKey)> = pairings.iter().map(|p| (&p.from, &p.to)).collect();
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
                && (b.component == a.component
                    || b.workload.key == a.workload.key
                    || renamed.contains(&(&a.workload.key, &b.workload.key)))
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

/// The worst verdict of a list (Safe when empty).
pub fn worst(fates: &[VolumeFate]) -> Verdict {
    fates.iter().map(|f| f.verdict).max().unwrap_or(Verdict::Safe)
}

/// The persistence modes the old side (else the new side) uses, for matrix verdicts.
pub fn modes(fates: &[VolumeFate]) -> BTreeSet<Persistence> {
    fates.iter().map(|f| f.mode).collect()
}
