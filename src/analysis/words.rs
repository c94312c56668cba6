//! The words of the volume verdicts: why a claim name changes, what a reclaim policy does to the
//! data, and the workarounds offered.

use super::uses::{Src, Use};
use super::Reclaim;

/// Why a claim's name changes between the two sides, in words.
/// `orphaning`: the old claims stay behind (said so); else they are carried.
pub(super) fn rename_why(a: &Use, b: Option<&Use>, orphaning: bool) -> String {
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

pub(super) fn reclaim_words(p: Reclaim, known: bool) -> String {
    match (p, known) {
        (Reclaim::Delete, true) => "its storage class deletes the volume (reclaimPolicy Delete): the data is lost".into(),
        (Reclaim::Delete, false) => "the volume goes with its storage class's reclaim policy, assumed Delete: the data is lost".into(),
        (Reclaim::Retain, _) => "its storage class retains the volume (Retain): the data survives in a Released PV that must be re-bound by hand".into(),
    }
}

pub(super) fn plural_claims(c: &[String]) -> String {
    match c.len() {
        0 => "no claims".into(),
        1 => format!("claim {}", c[0]),
        _ => format!("claims {}", c.join(", ")),
    }
}

pub(super) fn orphan_workaround(old: &str, new: Option<&str>, ns: &str) -> String {
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
