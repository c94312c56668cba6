//! A release claim leaving the release or being recreated: Helm deletes it unless it is kept, and
//! its volume goes with the storage class's reclaim policy.

use crate::manifest::JsonAt as _;

use serde_json::Value as Json;

use super::fate::Ctx;
use super::uses::pvc_key;
use super::words::{orphan_workaround, reclaim_words};
use super::{Fate, Persistence, Reclaim, Verdict, VolumeFate, VolumeSide};
use crate::manifest::Object;

impl Ctx<'_> {
    pub(super) fn policy(&self, class: Option<&str>) -> (Reclaim, bool, Vec<String>) {
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

    /// The reclaim policy that decides the data of `claims` when they are deleted, and its words:
    /// the bound volumes' own policies where every claim's volume could be read (any Delete
    /// loses data), else the storage class's (`policy`), else unknown (assumed Delete).
    pub(super) fn claims_policy(&self, claims: &[String], class: Option<&str>) -> (Reclaim, String, Vec<String>) {
        let (class_policy, known, assumptions) = self.policy(class);
        let volumes: Vec<&(String, Reclaim)> = claims.iter().filter_map(|c| self.reclaim.volumes.get(c)).collect();
        if claims.is_empty() || volumes.len() < claims.len() {
            return (class_policy, reclaim_words(class_policy, known), assumptions);
        }
        let deleting: Vec<&str> = volumes
            .iter()
            .filter(|(_, p)| *p == Reclaim::Delete)
            .map(|(pv, _)| pv.as_str())
            .collect();
        let class_says = |p: Reclaim| {
            if known && class_policy != p {
                format!(", not its storage class's {class_policy:?}")
            } else {
                String::new()
            }
        };
        let names = |v: Vec<&str>| v.join(", ");
        if deleting.is_empty() {
            let pvs = names(volumes.iter().map(|(pv, _)| pv.as_str()).collect());
            let words = format!(
                "volume {pvs} is reclaimed with Retain (the volume's own persistentVolumeReclaimPolicy{}): the data \
                 survives in a Released PV that must be re-bound by hand",
                class_says(Reclaim::Retain)
            );
            (Reclaim::Retain, words, vec![])
        } else {
            let words = format!(
                "volume {} is reclaimed with Delete (the volume's own persistentVolumeReclaimPolicy{}): the data is lost",
                names(deleting),
                class_says(Reclaim::Delete)
            );
            (Reclaim::Delete, words, vec![])
        }
    }

    /// A templated claim leaving the release (or being recreated).
    pub(super) fn claim_leaving(
        &self,
        pvc: &Object,
        name: &str,
        ctx: Option<(&String, &String, Option<VolumeSide>, Option<VolumeSide>)>,
    ) -> Option<VolumeFate> {
        let recreated = self.recreated.contains(&pvc.key);
        let ns = &pvc.key.namespace;
        let class = pvc.value.at("/spec/storageClassName").and_then(Json::as_str);
        let (policy, words, assumptions) = self.claims_policy(&[name.to_string()], class);
        let (component, volume, before, after) = match ctx {
            Some((c, v, b, a)) => (c.clone(), v.clone(), b, a),
            None => (name.to_string(), name.to_string(), None, None),
        };
        let mut objects = vec![pvc.key.text()];
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
        let reason = format!("{what}; {words}");
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
