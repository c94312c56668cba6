//! The plan of `chartup uninstall`: which objects go, which stay, and what becomes of every
//! volume — shown before anything is deleted, because `helm uninstall` deletes claims (and with a
//! `Delete` reclaim policy their data) without a word.
//!
//! Helm's rules (`pkg/action/uninstall.go`): every object of the last revision's manifest is
//! deleted, in reverse install order, except those annotated `helm.sh/resource-policy: keep`;
//! claims created from a StatefulSet's `volumeClaimTemplates` are not part of the release and
//! Kubernetes keeps them, unless the StatefulSet's `persistentVolumeClaimRetentionPolicy` says
//! `whenDeleted: Delete`. Whether the data of a deleted claim survives is its volume's reclaim
//! policy, read from the live PersistentVolume (the cluster edge gathers [`LiveClaim`]s), else
//! from the storage class.
//!
//! Pure: the caller lists the live claims; nothing here talks to a cluster.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::analysis::{Reclaim, ReclaimPolicies};
use crate::manifest::{ManifestSet, Object};

/// A claim as it is in the cluster, with its bound volume's reclaim policy.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LiveClaim {
    pub name: String,
    pub storage_class: Option<String>,
    /// The bound PersistentVolume's name and `persistentVolumeReclaimPolicy`.
    pub volume: Option<String>,
    pub volume_reclaim: Option<Reclaim>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DataOutcome {
    /// The claim stays (kept, or not the release's to delete).
    ClaimKept,
    /// The claim is deleted but its volume is `Retain`: the data stays on a `Released` volume.
    VolumeRetained,
    /// The claim and (reclaim `Delete`) its volume and data are deleted.
    Lost,
    /// The claim is deleted and the volume's policy is unknown (no bound volume, class not known).
    AtRisk,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeOutcome {
    pub claim: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub volume: Option<String>,
    pub outcome: DataOutcome,
    pub why: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UninstallPlan {
    pub release: String,
    pub namespace: String,
    pub revision: u32,
    /// Objects deleted, in the order they are deleted (reverse install order).
    pub delete: Vec<String>,
    /// Objects left in place, with why.
    pub keep: Vec<(String, String)>,
    pub volumes: Vec<VolumeOutcome>,
    /// `--keep-history`: the records stay, the last marked `uninstalled`.
    pub keep_history: bool,
    /// What the plan could not read and what it assumed instead (a namespace tenant may not read
    /// StorageClasses or PersistentVolumes, which are cluster-scoped).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The delete hooks, in the order they run (`pre-delete: Job/x (weight 0)`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hooks: Vec<String>,
    /// The release's VolumeSnapshots (issue 15): not release objects, they stay.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub snapshots: Vec<String>,
}

impl UninstallPlan {
    pub fn lost(&self) -> usize {
        self.volumes.iter().filter(|v| v.outcome == DataOutcome::Lost).count()
    }

    pub fn at_risk(&self) -> usize {
        self.volumes.iter().filter(|v| v.outcome == DataOutcome::AtRisk).count()
    }

    /// One line: what the uninstall does.
    pub fn summary(&self) -> String {
        let objects = |n: usize| if n == 1 { "object" } else { "objects" };
        format!(
            "Uninstall {} (revision {}, namespace {}): {} {} to delete, {} kept · volumes: {} lost, {} at risk, {} survive",
            self.release,
            self.revision,
            self.namespace,
            self.delete.len(),
            objects(self.delete.len()),
            self.keep.len(),
            self.lost(),
            self.at_risk(),
            self.volumes.len() - self.lost() - self.at_risk()
        )
    }

    pub fn text(&self) -> String {
        let mut o = format!("{}\n", self.summary());
        if !self.warnings.is_empty() {
            o.push_str("\nWarnings:\n");
            for w in &self.warnings {
                o.push_str(&format!("  ! {w}\n"));
            }
        }
        o.push_str("\nDeleted:\n");
        if self.delete.is_empty() {
            o.push_str("  (nothing)\n");
        }
        for d in &self.delete {
            o.push_str(&format!("  - {d}\n"));
        }
        if !self.hooks.is_empty() {
            o.push_str("\nHooks (pre-delete before the deletes, post-delete after):\n");
            for h in &self.hooks {
                o.push_str(&format!("  {h}\n"));
            }
        }
        if !self.keep.is_empty() {
            o.push_str("\nKept:\n");
            for (k, why) in &self.keep {
                o.push_str(&format!("  = {k} ({why})\n"));
            }
        }
        o.push_str("\nVolumes:\n");
        if self.volumes.is_empty() {
            o.push_str("  (no claims)\n");
        }
        for v in &self.volumes {
            let tag = match v.outcome {
                DataOutcome::ClaimKept => "survives",
                DataOutcome::VolumeRetained => "survives (volume retained)",
                DataOutcome::Lost => "LOST",
                DataOutcome::AtRisk => "AT RISK",
            };
            let vol = v.volume.as_deref().map(|p| format!(" → {p}")).unwrap_or_default();
            o.push_str(&format!("  {tag}: claim {}{vol}\n          {}\n", v.claim, v.why));
        }
        if !self.snapshots.is_empty() {
            // Issue 15: snapshots are not release objects; they outlive the release until pruned.
            o.push_str(&format!(
                "\nSnapshots: {} VolumeSnapshot(s) kept ({}): `chartup snapshots prune {} --keep 0` deletes them\n",
                self.snapshots.len(),
                self.snapshots.join(", "),
                self.release
            ));
        }
        o.push_str(if self.keep_history {
            "\nRelease records: kept (--keep-history), the last revision marked uninstalled\n"
        } else {
            "\nRelease records: deleted (--keep-history keeps them)\n"
        });
        o
    }
}

fn name_of(o: &Object) -> String {
    if o.key.group.is_empty() {
        format!("{}/{}", o.key.kind, o.key.name)
    } else {
        format!("{}.{}/{}", o.key.kind, o.key.group, o.key.name)
    }
}

fn data_fate(
    claim: &str,
    live: Option<&LiveClaim>,
    class: Option<&str>,
    reclaim: &ReclaimPolicies,
) -> (DataOutcome, String, Option<String>) {
    let volume = live.and_then(|l| l.volume.clone());
    if let Some(policy) = live.and_then(|l| l.volume_reclaim) {
        let pv = volume.clone().unwrap_or_default();
        return match policy {
            Reclaim::Retain => (
                DataOutcome::VolumeRetained,
                format!(
                    "claim {claim} is deleted; volume {pv} is Retain: its data stays on the Released volume (clear its \
                     spec.claimRef to bind it again)"
                ),
                volume,
            ),
            Reclaim::Delete => (
                DataOutcome::Lost,
                format!("claim {claim} is deleted and volume {pv} is reclaimed with Delete: the data is deleted"),
                volume,
            ),
        };
    }
    let class = live.and_then(|l| l.storage_class.clone()).or(class.map(str::to_string));
    match reclaim.lookup(class.as_deref()) {
        (Reclaim::Retain, true) => (
            DataOutcome::VolumeRetained,
            format!(
                "claim {claim} is deleted; storage class {} retains volumes",
                class.as_deref().unwrap_or("(default)")
            ),
            volume,
        ),
        (Reclaim::Delete, true) => (
            DataOutcome::Lost,
            format!(
                "claim {claim} is deleted; storage class {} deletes volumes with their claims",
                class.as_deref().unwrap_or("(default)")
            ),
            volume,
        ),
        (_, false) => (
            DataOutcome::AtRisk,
            match &volume {
                // Bound, but the volume could not be read (a namespace tenant: see the warnings).
                Some(pv) => format!(
                    "claim {claim} is deleted; the reclaim policy of volume {pv} could not be read and its class's is \
                     not known"
                ),
                None => format!(
                    "claim {claim} is deleted; its volume's reclaim policy is not known (no bound volume, class unknown)"
                ),
            },
            volume,
        ),
    }
}

/// Plan the uninstall of the revision whose objects are `objects`, with the namespace's live
/// claims `claims`.
pub fn plan(
    release: &str,
    namespace: &str,
    revision: u32,
    objects: &ManifestSet,
    claims: &[LiveClaim],
    reclaim: &ReclaimPolicies,
    keep_history: bool,
) -> UninstallPlan {
    let live = |name: &str| claims.iter().find(|c| c.name == name);
    let mut delete = Vec::new();
    let mut keep = Vec::new();
    let mut volumes = Vec::new();
    for o in objects.objects.iter().rev() {
        if o.kept_on_delete() {
            keep.push((name_of(o), "helm.sh/resource-policy: keep".to_string()));
        } else {
            delete.push(name_of(o));
        }
    }
    for o in &objects.objects {
        match o.key.kind.as_str() {
            "PersistentVolumeClaim" if o.key.group.is_empty() => {
                let class = o.value.pointer("/spec/storageClassName").and_then(Json::as_str);
                if o.kept_on_delete() {
                    volumes.push(VolumeOutcome {
                        claim: o.key.name.clone(),
                        volume: live(&o.key.name).and_then(|l| l.volume.clone()),
                        outcome: DataOutcome::ClaimKept,
                        why: "the claim is annotated helm.sh/resource-policy: keep".into(),
                    });
                } else {
                    let (outcome, why, volume) = data_fate(&o.key.name, live(&o.key.name), class, reclaim);
                    volumes.push(VolumeOutcome {
                        claim: o.key.name.clone(),
                        volume,
                        outcome,
                        why,
                    });
                }
            }
            "StatefulSet" => {
                let sts = &o.key.name;
                let delete_claims = o
                    .value
                    .pointer("/spec/persistentVolumeClaimRetentionPolicy/whenDeleted")
                    .and_then(Json::as_str)
                    == Some("Delete")
                    && !o.kept_on_delete();
                let templates = o
                    .value
                    .pointer("/spec/volumeClaimTemplates")
                    .and_then(Json::as_array)
                    .cloned()
                    .unwrap_or_default();
                for t in templates {
                    let tname = t.pointer("/metadata/name").and_then(Json::as_str).unwrap_or("");
                    let prefix = format!("{tname}-{sts}-");
                    let class = t.pointer("/spec/storageClassName").and_then(Json::as_str);
                    let mut found: Vec<&LiveClaim> = claims
                        .iter()
                        .filter(|c| c.name.strip_prefix(&prefix).is_some_and(|n| n.parse::<u32>().is_ok()))
                        .collect();
                    found.sort_by_key(|c| c.name.strip_prefix(&prefix).and_then(|n| n.parse::<u32>().ok()));
                    for c in found {
                        if delete_claims {
                            let (outcome, why, volume) = data_fate(&c.name, Some(c), class, reclaim);
                            volumes.push(VolumeOutcome {
                                claim: c.name.clone(),
                                volume,
                                outcome,
                                why: format!("StatefulSet {sts} has whenDeleted: Delete; {why}"),
                            });
                        } else {
                            volumes.push(VolumeOutcome {
                                claim: c.name.clone(),
                                volume: c.volume.clone(),
                                outcome: DataOutcome::ClaimKept,
                                why: format!(
                                    "created from StatefulSet {sts}'s volumeClaimTemplates: not part of the release, \
                                     Kubernetes keeps it"
                                ),
                            });
                        }
                    }
                }
            }
            _ => {}
        }
    }
    UninstallPlan {
        release: release.into(),
        namespace: namespace.into(),
        revision,
        delete,
        keep,
        volumes,
        keep_history,
        warnings: Vec::new(),
        hooks: vec![],
        snapshots: vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(yaml: &str) -> ManifestSet {
        crate::manifest::parse_manifest(yaml, "ns").unwrap()
    }

    fn claim(name: &str, pv: &str, policy: Option<Reclaim>) -> LiveClaim {
        LiveClaim {
            name: name.into(),
            storage_class: Some("standard".into()),
            volume: Some(pv.into()),
            volume_reclaim: policy,
        }
    }

    const MANIFEST: &str = "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\nspec:\n  \
        storageClassName: standard\n---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: keepme\n  \
        annotations:\n    helm.sh/resource-policy: keep\n---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  \
        name: retained\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: db\n---\napiVersion: apps/v1\nkind: \
        StatefulSet\nmetadata:\n  name: db\nspec:\n  volumeClaimTemplates:\n  - metadata:\n      name: www\n";

    // Kubernetes semantics: claims from volumeClaimTemplates are not deleted with the StatefulSet
    // (without a retention policy); a deleted claim's data follows its PV's reclaim policy.
    #[test]
    fn objects_volumes_and_order() {
        let claims = vec![
            claim("data", "pv-1", Some(Reclaim::Delete)),
            claim("keepme", "pv-2", Some(Reclaim::Delete)),
            claim("retained", "pv-3", Some(Reclaim::Retain)),
            claim("www-db-1", "pv-5", Some(Reclaim::Delete)),
            claim("www-db-0", "pv-4", Some(Reclaim::Delete)),
            claim("www-dbx-0", "pv-6", Some(Reclaim::Delete)),
        ];
        let p = plan(
            "db",
            "ns",
            2,
            &set(MANIFEST),
            &claims,
            &ReclaimPolicies::default(),
            false,
        );
        // reverse install order: StatefulSet, Service, then claims
        assert_eq!(
            p.delete,
            vec![
                "StatefulSet.apps/db",
                "Service/db",
                "PersistentVolumeClaim/retained",
                "PersistentVolumeClaim/data"
            ]
        );
        assert_eq!(
            p.keep,
            vec![(
                "PersistentVolumeClaim/keepme".to_string(),
                "helm.sh/resource-policy: keep".to_string()
            )]
        );
        let got: Vec<(&str, DataOutcome)> = p.volumes.iter().map(|v| (v.claim.as_str(), v.outcome)).collect();
        assert_eq!(
            got,
            vec![
                ("data", DataOutcome::Lost),
                ("keepme", DataOutcome::ClaimKept),
                ("retained", DataOutcome::VolumeRetained),
                ("www-db-0", DataOutcome::ClaimKept),
                ("www-db-1", DataOutcome::ClaimKept),
            ]
        );
        assert!(
            p.summary()
                .ends_with("4 objects to delete, 1 kept · volumes: 1 lost, 0 at risk, 4 survive"),
            "{}",
            p.summary()
        );
        assert!(p.text().contains("LOST: claim data → pv-1"));
    }

    #[test]
    fn retention_policy_delete_and_unknown_policies() {
        let m = "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\nspec:\n  \
                 persistentVolumeClaimRetentionPolicy:\n    whenDeleted: Delete\n  volumeClaimTemplates:\n  - metadata:\n      \
                 name: www\n---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: pending\n";
        let claims = vec![claim("www-db-0", "pv-4", Some(Reclaim::Retain))];
        let p = plan("db", "ns", 1, &set(m), &claims, &ReclaimPolicies::default(), true);
        let got: Vec<(&str, DataOutcome)> = p.volumes.iter().map(|v| (v.claim.as_str(), v.outcome)).collect();
        assert_eq!(
            got,
            vec![
                ("pending", DataOutcome::AtRisk),
                ("www-db-0", DataOutcome::VolumeRetained)
            ]
        );
        let mut known = ReclaimPolicies::default();
        known.add_spec("default=Delete").unwrap();
        let p = plan("db", "ns", 1, &set(m), &claims, &known, true);
        assert_eq!(p.volumes[0].outcome, DataOutcome::Lost);
        assert!(p.text().contains("kept (--keep-history)"));
    }
}
