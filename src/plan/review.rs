//! What a reviewer must decide, beyond the volume table: hazards of whole objects (a CRD, a
//! Namespace or a PV leaving the chart, a database image jumping a major version on volumes that
//! stay), the images each workload moves between, and what `apply` will require before it runs.
//!
//! Each hazard carries a verdict and a workaround like a volume fate does, and the verdict joins
//! the plan's; the requirements are derived from the finished plan with the same rules apply's
//! refusals use, so the reviewer sees in the plan what apply will demand.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::Plan;
use crate::analysis::identity::{image_repo, image_tag};
use crate::analysis::{Fate, Persistence, Verdict, VolumeFate, WorkloadPairing};
use crate::diff::{Action, ObjectChange};
use crate::manifest::{JsonAt as _, ManifestSet, Object, ObjectKey};

/// One object-level hazard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hazard {
    /// `crd-removed`, `namespace-removed`, `pv-removed`, `image-major`.
    pub rule: String,
    pub object: String,
    pub verdict: Verdict,
    pub reason: String,
    pub workaround: String,
}

/// A container image that changes (one row of the images table).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageChange {
    pub workload: String,
    pub container: String,
    /// None: a container the old side does not have.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

/// Something `apply` demands before it runs this plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Requirement {
    /// The flag that satisfies it (`--accept-data-loss`, `--accept-risk`, `--backup-command`,
    /// `--migration-command`), or None when apply refuses whatever is passed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flag: Option<String>,
    pub reason: String,
    /// For `--accept-risk`: the names of the outcomes it covers, each acceptable on its own
    /// (`--accept-risk=claim/data-db-master-0`); see [`risks`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accept: Vec<String>,
}

/// One outcome apply refuses unless accepted (a volume at risk or lost, a hazard), under the
/// name `--accept-risk=NAME` accepts it by: `claim/NAME` for each claim of a volume (the claims
/// it leaves behind, else the ones it mounts), `volume/COMPONENT/VOLUME` for a volume with no
/// claim, `RULE/OBJECT` for a hazard. Per claim, so accepting one orphaned ordinal does not
/// accept its siblings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Risk {
    pub id: String,
    pub verdict: Verdict,
    pub reason: String,
}

/// The claims an outcome is about: those the volume leaves behind, else those it mounts, else the
/// claims among its objects (a kept claim no workload mounts).
pub fn volume_claims(v: &VolumeFate, before: &[String], after: &[String]) -> Vec<String> {
    // One line per ordinal names its own claim among its objects.
    let named: Vec<String> = v
        .objects
        .iter()
        .filter_map(|o| o.split_once("/PersistentVolumeClaim/").map(|(_, n)| n.to_string()))
        .collect();
    for side in [before, after] {
        let mine: Vec<String> = named.iter().filter(|c| side.contains(c)).cloned().collect();
        if !mine.is_empty() {
            return mine;
        }
        if !side.is_empty() {
            return side.to_vec();
        }
    }
    named
}

/// Every outcome of the plan that is at risk or lost, with its acceptance name.
pub fn risks(plan: &Plan) -> Vec<Risk> {
    let mut out: Vec<Risk> = Vec::new();
    for v in plan.volumes.iter().filter(|v| v.verdict != Verdict::Safe) {
        let before = v.before.as_ref().map(|b| b.claims.as_slice()).unwrap_or_default();
        let after = v.after.as_ref().map(|a| a.claims.as_slice()).unwrap_or_default();
        let reason = format!("{}/{} {}: {}", v.component, v.volume, v.fate_text(), v.reason);
        let claims = volume_claims(v, before, after);
        let ids: Vec<String> = if claims.is_empty() {
            vec![format!("volume/{}/{}", v.component, v.volume)]
        } else {
            claims.iter().map(|c| format!("claim/{c}")).collect()
        };
        for id in ids {
            if !out.iter().any(|r| r.id == id) {
                out.push(Risk {
                    id,
                    verdict: v.verdict,
                    reason: reason.clone(),
                });
            }
        }
    }
    for h in plan.hazards.iter().filter(|h| h.verdict != Verdict::Safe) {
        out.push(Risk {
            id: format!("{}/{}", h.rule, h.object),
            verdict: h.verdict,
            reason: h.reason.clone(),
        });
    }
    out
}

fn containers(o: &Object) -> BTreeMap<String, String> {
    let spec = match o.key.kind.as_str() {
        "CronJob" => o.value.at("/spec/jobTemplate/spec/template/spec"),
        "Pod" => o.value.field("spec"),
        _ => o.value.at("/spec/template/spec"),
    };
    let mut out = BTreeMap::new();
    for list in ["initContainers", "containers"] {
        for c in spec
            .and_then(|s| s.field(list))
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
        {
            if let (Some(n), Some(i)) = (
                c.field("name").and_then(Json::as_str),
                c.field("image").and_then(Json::as_str),
            ) {
                out.insert(n.to_string(), i.to_string());
            }
        }
    }
    out
}

/// The old object each new workload continues: same key, a kind change, or a pairing.
fn predecessors<'a>(
    changes: &[ObjectChange],
    pairings: &[WorkloadPairing],
    old: &'a ManifestSet,
    new: &'a ManifestSet,
) -> Vec<(&'a Object, &'a Object)> {
    let mut out = Vec::new();
    // The new object's kind is its key's: non-workloads (most objects) are skipped before the
    // two index lookups.
    for c in changes.iter().filter(|c| {
        matches!(c.action, Action::Change | Action::Recreate | Action::KindChange)
            && crate::manifest::is_workload_kind(&c.key.kind)
    }) {
        let ok = c.old_key.as_ref().unwrap_or(&c.key);
        if let (Some(o), Some(n)) = (old.get(ok), new.get(&c.key)) {
            if n.is_workload() {
                out.push((o, n));
            }
        }
    }
    // The old keys already taken, looked up instead of scanned (a scan per pairing was quadratic
    // on large releases).
    let mut taken: std::collections::HashSet<&ObjectKey> = out.iter().map(|(o, _)| &o.key).collect();
    for p in pairings {
        if taken.contains(&p.from) {
            continue;
        }
        if let (Some(o), Some(n)) = (old.get(&p.from), new.get(&p.to)) {
            taken.insert(&o.key);
            out.push((o, n));
        }
    }
    out
}

/// Images that change, per workload and container.
pub fn images(
    changes: &[ObjectChange],
    pairings: &[WorkloadPairing],
    old: &ManifestSet,
    new: &ManifestSet,
) -> Vec<ImageChange> {
    let mut out = Vec::new();
    for (o, n) in predecessors(changes, pairings, old, new) {
        let (a, b) = (containers(o), containers(n));
        for (name, img) in &b {
            if a.get(name) != Some(img) {
                out.push(ImageChange {
                    workload: n.key.text(),
                    container: name.clone(),
                    from: a.get(name).cloned(),
                    to: Some(img.clone()),
                });
            }
        }
        for (name, img) in a.iter().filter(|(k, _)| !b.contains_key(*k)) {
            out.push(ImageChange {
                workload: n.key.text(),
                container: name.clone(),
                from: Some(img.clone()),
                to: None,
            });
        }
    }
    out
}

/// The leading number of a tag (`v16.4.0` → 16, `17-alpine` → 17).
fn major(tag: &str) -> Option<u64> {
    let t = tag.strip_prefix('v').unwrap_or(tag);
    let digits: String = t.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Object-level hazards. `matrix_consulted`: a matrix judged the hop, so image changes are its
/// call (it states what the data format survives), not an unchecked risk.
pub fn hazards(
    changes: &[ObjectChange],
    pairings: &[WorkloadPairing],
    volumes: &[VolumeFate],
    old: &ManifestSet,
    new: &ManifestSet,
    matrix_consulted: bool,
) -> Vec<Hazard> {
    let mut out = Vec::new();
    for c in changes.iter().filter(|c| c.action == Action::Remove) {
        let Some(o) = old.get(&c.key) else { continue };
        if o.kept_on_delete() {
            continue;
        }
        let keep = format!(
            "Before upgrading: `kubectl annotate {} {} helm.sh/resource-policy=keep{}` so Helm leaves it, or keep it in the chart.",
            o.key.kind.to_lowercase(),
            o.key.name,
            if o.key.namespace.is_empty() || !namespaced(&o.key) {
                String::new()
            } else {
                format!(" -n {}", o.key.namespace)
            }
        );
        match (o.key.group.as_str(), o.key.kind.as_str()) {
            ("apiextensions.k8s.io", "CustomResourceDefinition") => {
                let kind = o.value.at("/spec/names/kind").and_then(Json::as_str).unwrap_or("?");
                out.push(Hazard {
                    rule: "crd-removed".into(),
                    object: c.key.text(),
                    verdict: Verdict::Loss,
                    reason: format!(
                        "the CRD leaves the templates, so Helm deletes it — and Kubernetes deletes every custom resource \
                         of kind {kind} in every namespace with it"
                    ),
                    workaround: keep,
                })
            }
            ("", "Namespace") => out.push(Hazard {
                rule: "namespace-removed".into(),
                object: c.key.text(),
                verdict: Verdict::Loss,
                reason: format!(
                    "the Namespace leaves the chart, so Helm deletes it — with every object in it, release or not \
                     (claims included)"
                ),
                workaround: keep,
            }),
            ("", "PersistentVolume") => {
                let policy = o
                    .value
                    .at("/spec/persistentVolumeReclaimPolicy")
                    .and_then(Json::as_str)
                    .unwrap_or("Retain");
                let verdict = if policy == "Delete" {
                    Verdict::Loss
                } else {
                    Verdict::AtRisk
                };
                out.push(Hazard {
                    rule: "pv-removed".into(),
                    object: c.key.text(),
                    verdict,
                    reason: format!(
                        "the PersistentVolume leaves the chart, so Helm deletes it; reclaim policy {policy}: {}",
                        if policy == "Delete" {
                            "the storage is deleted with it"
                        } else {
                            "the storage stays but no volume object points at it any more"
                        }
                    ),
                    workaround: keep,
                });
            }
            _ => {}
        }
    }
    if !matrix_consulted {
        // The volumes that stay mounted, by the workload they stay in (in plan order): looked up
        // per workload instead of a scan of every volume for each (quadratic on large releases).
        let mut kept: HashMap<&ObjectKey, Vec<&VolumeFate>> = HashMap::new();
        for v in volumes {
            if let Some(a) = v.after.as_ref().filter(|a| {
                matches!(v.fate, Fate::Kept | Fate::Reattached | Fate::Carried)
                    && v.mode != Persistence::None
                    && a.source != "hostPath"
            }) {
                kept.entry(&a.workload).or_default().push(v);
            }
        }
        for (o, n) in predecessors(changes, pairings, old, new) {
            let mounted: &[&VolumeFate] = kept.get(&n.key).map(Vec::as_slice).unwrap_or_default();
            if mounted.is_empty() {
                continue;
            }
            let (a, b) = (containers(o), containers(n));
            for (name, to) in &b {
                let Some(from) = a.get(name) else { continue };
                if image_repo(from) != image_repo(to) {
                    continue;
                }
                let (Some(ma), Some(mb)) = (image_tag(from).and_then(major), image_tag(to).and_then(major)) else {
                    continue;
                };
                if ma == mb {
                    continue;
                }
                let vols: Vec<String> = mounted.iter().map(|v| v.volume.clone()).collect();
                out.push(Hazard {
                    rule: "image-major".into(),
                    object: n.key.text(),
                    verdict: Verdict::AtRisk,
                    reason: format!(
                        "container {name}: {} {ma} → {mb} on persistent volumes that stay mounted ({}); data format: \
                         not checked, no matrix",
                        image_repo(to),
                        vols.join(", ")
                    ),
                    workaround: "Back up the data first and follow the application's own major-upgrade procedure \
                                 (dump and restore, or its upgrade tool); a compatibility matrix for the chart \
                                 (docs/matrix-format.md) can state that this hop keeps the data format."
                        .into(),
                });
            }
        }
    }
    out
}

fn namespaced(k: &ObjectKey) -> bool {
    !matches!(
        k.kind.as_str(),
        "Namespace" | "PersistentVolume" | "CustomResourceDefinition" | "ClusterRole" | "ClusterRoleBinding"
    )
}

/// What apply will demand, from the finished plan (same rules as apply's refusals).
pub fn requirements(plan: &Plan, new: &ManifestSet) -> Vec<Requirement> {
    let backup_job = new
        .objects
        .iter()
        .any(|o| o.key.kind == "Job" && o.annotation("chartup.io/backup") == Some("true"));
    let mut out = Vec::new();
    for r in &plan.refusals {
        out.push(Requirement {
            flag: None,
            reason: format!("refused: {r}"),
            accept: vec![],
        });
    }
    if let Some(m) = plan.matrix.as_ref().filter(|m| m.path.len() > 2) {
        out.push(Requirement {
            flag: None,
            reason: format!(
                "one hop at a time: the matrix allows this upgrade only through {}; apply refuses the direct jump — \
                 plan and apply the upgrade to {} first",
                m.path[1..m.path.len() - 1].join(", "),
                m.path[1]
            ),
            accept: vec![],
        });
    }
    if plan.verdict == Verdict::Loss {
        let what: Vec<String> = plan
            .volumes
            .iter()
            .filter(|v| v.verdict == Verdict::Loss)
            .map(|v| format!("{}/{}", v.component, v.volume))
            .chain(
                plan.hazards
                    .iter()
                    .filter(|h| h.verdict == Verdict::Loss)
                    .map(|h| h.object.clone()),
            )
            .collect();
        out.push(Requirement {
            flag: Some("--accept-data-loss".into()),
            reason: if what.is_empty() {
                "the compatibility matrix says this upgrade loses data".into()
            } else {
                format!("data is lost: {}", what.join(", "))
            },
            accept: vec![],
        });
    }
    let at_risk: Vec<String> = plan
        .volumes
        .iter()
        .filter(|v| v.verdict == Verdict::AtRisk)
        .map(|v| {
            // Each ordinal of a claim template is its own line: say which claim.
            let b = v.before.as_ref().map(|b| b.claims.as_slice()).unwrap_or_default();
            let a = v.after.as_ref().map(|a| a.claims.as_slice()).unwrap_or_default();
            let claims = volume_claims(v, b, a);
            if claims.is_empty() {
                format!("{}/{} ({})", v.component, v.volume, v.fate.as_str())
            } else {
                format!(
                    "{}/{} ({} {})",
                    v.component,
                    v.volume,
                    v.fate.as_str(),
                    claims.join(", ")
                )
            }
        })
        .chain(
            plan.hazards
                .iter()
                .filter(|h| h.verdict == Verdict::AtRisk)
                .map(|h| format!("{} ({})", h.object, h.rule)),
        )
        .collect();
    if !at_risk.is_empty() {
        out.push(Requirement {
            flag: Some("--accept-risk".into()),
            reason: format!(
                "data at risk: {} — carry the volumes (--carry-volumes), fix the chart's values, or accept the risk",
                at_risk.join(", ")
            ),
            accept: risks(plan)
                .into_iter()
                .filter(|r| r.verdict == Verdict::AtRisk)
                .map(|r| r.id)
                .collect(),
        });
    }
    if let Some(m) = &plan.matrix {
        // Snapshots of every claim stand in for the backup (issue 15, plan::snapshots).
        let snapshots = plan.snapshots.as_ref().filter(|s| s.covers_backup());
        if m.hops.iter().any(|h| h.backup_required) && !backup_job && snapshots.is_none() {
            let why = plan
                .snapshots
                .as_ref()
                .and_then(|s| s.detail.as_deref())
                .map(|d| format!(" (no VolumeSnapshot instead: {d})"))
                .unwrap_or_default();
            out.push(Requirement {
                flag: Some("--backup-command".into()),
                reason: format!(
                    "the compatibility matrix requires a backup before this upgrade{why}: pass --backup-command CMD \
                     or ship a Job annotated chartup.io/backup: \"true\""
                ),
                accept: vec![],
            });
        }
        for mg in m.hops.iter().flat_map(|h| h.migrations.iter()) {
            let comp = mg.component.clone().unwrap_or_default();
            let annotated = new.objects.iter().any(|o| {
                o.is_workload()
                    && (crate::diff::component_name(o) == comp || o.key.name.contains(&comp))
                    && o.annotation("chartup.io/migration-command").is_some()
            });
            if annotated {
                continue;
            }
            out.push(Requirement {
                flag: Some("--migration-command".into()),
                reason: format!(
                    "migration {} runs in component {comp:?} after a healthy rollout, and its workload has no \
                     chartup.io/migration-command annotation: pass --migration-command",
                    mg.file
                ),
                accept: vec![],
            });
        }
    }
    out
}
