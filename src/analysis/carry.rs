//! `--carry-volumes`: which new claim a dropped claim's volume moves to (ordinal to ordinal), and
//! the labels the moved claim gets, as the StatefulSet controller would give them.

use crate::manifest::JsonAt as _;
use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::fate::{CarryTarget, Ctx};
use super::uses::{pvc_key, Src, Use};
use super::Carry;

impl Ctx<'_> {
    pub(super) fn carry_target(
        &self,
        a: &Use,
        b: &Use,
        old_claims: &[String],
        new_claims: &[String],
        c: &str,
    ) -> CarryTarget {
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

    pub(super) fn carry_of(&self, a: &Use, b: &Use, from: &str, to: &str, ordinal: Option<u64>) -> Carry {
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
}
