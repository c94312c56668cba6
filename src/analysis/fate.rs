//! The fate of one paired volume: one function per case (a volume that appears, a volume without
//! persistence, claims kept, a scale-up, a scale-down, claims dropped, carried ordinals), so each
//! rule reads on its own and a new rule is a new function, not another arm of one match.

use std::collections::BTreeSet;

use super::uses::{claims_of, is_persistent, pvc_key, side, Src, Use};
use super::words::{orphan_workaround, plural_claims, rename_why};
use super::{CarryPolicy, Fate, Persistence, Reclaim, ReclaimPolicies, Verdict, VolumeFate, VolumeSide};
use crate::manifest::{ManifestSet, ObjectKey};

pub(super) struct Ctx<'a> {
    pub(super) old: &'a ManifestSet,
    pub(super) new: &'a ManifestSet,
    pub(super) reclaim: &'a ReclaimPolicies,
    pub(super) recreated: BTreeSet<&'a ObjectKey>,
    pub(super) carry: &'a CarryPolicy,
    pub(super) old_claim_names: BTreeSet<String>,
}

/// Where a dropped claim's volume would go under `--carry-volumes`.
pub(super) enum CarryTarget {
    /// Not a carry case.
    None,
    To {
        claim: String,
        ordinal: Option<u64>,
    },
    /// An old ordinal the new workload has no counterpart for.
    Surplus,
}

/// One old/new pairing and what both sides say about it: every verdict of the pairing is built
/// from it, so the cases share one description of the volume.
pub(super) struct Pair<'p, 'a> {
    pub(super) b: Option<&'p Use<'a>>,
    pub(super) before: Option<VolumeSide>,
    pub(super) after: Option<VolumeSide>,
    pub(super) component: String,
    pub(super) volume: String,
    mode: Persistence,
    /// The workloads involved (`ns/Kind/name`), old first.
    workloads: Vec<String>,
    /// The new side's claims (empty when the volume leaves).
    new_claims: Vec<String>,
}

impl Pair<'_, '_> {
    fn mk(
        &self,
        fate: Fate,
        verdict: Verdict,
        reason: String,
        objects: Vec<String>,
        workaround: Option<String>,
        assumptions: Vec<String>,
    ) -> VolumeFate {
        VolumeFate {
            component: self.component.clone(),
            volume: self.volume.clone(),
            before: self.before.clone(),
            after: self.after.clone(),
            fate,
            verdict,
            mode: self.mode,
            reason,
            objects,
            workaround,
            assumptions,
            carry: None,
        }
    }

    /// What [`Ctx::claim_leaving`] needs to describe the claim as this pairing's volume.
    fn leaving_ctx(&self) -> Option<(&String, &String, Option<VolumeSide>, Option<VolumeSide>)> {
        Some((&self.component, &self.volume, self.before.clone(), self.after.clone()))
    }
}

impl Ctx<'_> {
    pub(super) fn fate(&self, a: Option<&Use>, b: Option<&Use>, all_new: &[Use]) -> Vec<VolumeFate> {
        let before = a.map(|u| side(u, self.old));
        let after = b.map(|u| side(u, self.new));
        let mode = before
            .as_ref()
            .or(after.as_ref())
            .map(|s| s.mode)
            .unwrap_or(Persistence::None);
        let mut workloads: Vec<String> = a.iter().chain(b.iter()).map(|u| u.workload.key.text()).collect();
        workloads.dedup();
        let p = Pair {
            b,
            before,
            after,
            component: a.or(b).map(|u| u.component.clone()).unwrap_or_default(),
            volume: b.or(a).map(|u| u.volume.clone()).unwrap_or_default(),
            mode,
            workloads,
            new_claims: b.map(claims_of).unwrap_or_default(),
        };
        match (a, b) {
            (None, None) => vec![],
            (None, Some(b)) => vec![self.appears(&p, b)],
            (Some(a), _) => self.existing(&p, a, all_new),
        }
    }

    /// A volume only the new side mounts.
    fn appears(&self, p: &Pair, b: &Use) -> VolumeFate {
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
        let mut objects = p.workloads.clone();
        objects.extend(
            claims_of(b)
                .iter()
                .map(|c| pvc_key(&b.workload.key.namespace, c).to_string()),
        );
        p.mk(fate, Verdict::Safe, reason, objects, None, vec![])
    }

    /// A volume the old side mounts: its claims are kept, grown, shrunk or dropped.
    fn existing(&self, p: &Pair, a: &Use, all_new: &[Use]) -> Vec<VolumeFate> {
        if !is_persistent(a) {
            return vec![self.without_persistence(p, a)];
        }
        let old_claims = claims_of(a);
        let kept: Vec<&String> = old_claims.iter().filter(|c| p.new_claims.contains(c)).collect();
        let dropped: Vec<&String> = old_claims.iter().filter(|c| !p.new_claims.contains(c)).collect();
        let mut results = Vec::new();
        if !kept.is_empty() {
            results.push(self.kept(p, a, &kept));
        }
        results.extend(self.scale_up(p, a, &old_claims));
        if dropped.is_empty() {
            return results;
        }
        if let Some(f) = self.scale_down(p, a, &dropped) {
            results.push(f);
            return results;
        }
        let mut carried: Vec<String> = Vec::new();
        for c in &dropped {
            results.push(self.dropped(p, a, c, &old_claims, all_new, &mut carried));
        }
        results.extend(self.carried_rest(p, &old_claims, &carried));
        results
    }

    /// emptyDir and hostPath on the old side.
    fn without_persistence(&self, p: &Pair, a: &Use) -> VolumeFate {
        let b = p.b;
        if let (Src::HostPath { path }, Some(Src::HostPath { path: p2 })) = (&a.src, b.map(|b| &b.src)) {
            let (fate, verdict) = if path == p2 {
                (Fate::Kept, Verdict::Safe)
            } else {
                (Fate::Orphaned, Verdict::AtRisk)
            };
            return p.mk(
                fate,
                verdict,
                format!("hostPath {path} → {p2} (node-local data)"),
                p.workloads.clone(),
                None,
                vec![],
            );
        }
        let reason = match b.map(|b| &b.src) {
            None if matches!(a.src, Src::HostPath { .. }) => {
                "hostPath: no longer mounted; the node-local data stays on the node".to_string()
            }
            Some(Src::EmptyDir) | None => {
                "emptyDir: no persistence; its data is lost whenever the pod is replaced".to_string()
            }
            Some(_) => {
                "persistence switched on: the new claims start empty (the old emptyDir data was never kept)".to_string()
            }
        };
        let fate = if b.is_some_and(is_persistent) {
            Fate::New
        } else {
            Fate::Ephemeral
        };
        p.mk(fate, Verdict::Safe, reason, p.workloads.clone(), None, vec![])
    }

    /// Claims both sides mount: kept, or reattached by another workload of the component — unless
    /// the release deletes or recreates the claim itself.
    fn kept(&self, p: &Pair, a: &Use, kept: &[&String]) -> VolumeFate {
        let ns = &a.workload.key.namespace;
        let same_workload = p.b.is_some_and(|b| b.workload.key == a.workload.key);
        let fate = if same_workload { Fate::Kept } else { Fate::Reattached };
        // A kept templated claim can still be lost: recreated, or removed from the release.
        let mut worst: Option<VolumeFate> = None;
        for c in kept {
            if let Some(pvc) = self.old.get(&pvc_key(ns, c)) {
                if self.new.get(&pvc.key).is_none() || self.recreated.contains(&pvc.key) {
                    if let Some(f) = self.claim_leaving(pvc, c, p.leaving_ctx()) {
                        worst = Some(f);
                    }
                }
            }
        }
        if let Some(w) = worst {
            return w;
        }
        let mut objects = p.workloads.clone();
        objects.extend(kept.iter().map(|c| pvc_key(ns, c).to_string()));
        let names: Vec<String> = kept.iter().map(|s| s.to_string()).collect();
        let reason = if same_workload {
            let verb = if names.len() == 1 { "stays" } else { "stay" };
            format!("{} {verb} mounted", plural_claims(&names))
        } else {
            format!(
                "the new {} mounts the same {} again",
                p.b.map(|b| b.workload.key.kind.as_str()).unwrap_or(""),
                plural_claims(&names)
            )
        };
        p.mk(fate, Verdict::Safe, reason, objects, None, vec![])
    }

    /// Scale-up of the same template: the new ordinals start on new, empty claims.
    fn scale_up(&self, p: &Pair, a: &Use, old_claims: &[String]) -> Option<VolumeFate> {
        let (
            Src::Template { vct, sts, .. },
            Some(Src::Template {
                vct: v2,
                sts: s2,
                replicas: r2,
                ..
            }),
        ) = (&a.src, p.b.map(|b| &b.src))
        else {
            return None;
        };
        let added: Vec<String> = p
            .new_claims
            .iter()
            .filter(|c| !old_claims.contains(c))
            .cloned()
            .collect();
        if vct != v2 || sts != s2 || added.is_empty() {
            return None;
        }
        let ns = &a.workload.key.namespace;
        let mut objects = p.workloads.clone();
        objects.extend(added.iter().map(|c| pvc_key(ns, c).to_string()));
        Some(p.mk(
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
        ))
    }

    /// Scale-down of the same template: the dropped ordinals' claims stay behind (or are deleted
    /// by a `whenScaled: Delete` retention policy).
    fn scale_down(&self, p: &Pair, a: &Use, dropped: &[&String]) -> Option<VolumeFate> {
        let (
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
        ) = (&a.src, p.b.map(|b| &b.src))
        else {
            return None;
        };
        if vct != v2 || sts != s2 {
            return None;
        }
        let ns = &a.workload.key.namespace;
        let names: Vec<String> = dropped.iter().map(|s| s.to_string()).collect();
        let mut objects = p.workloads.clone();
        objects.extend(names.iter().map(|c| pvc_key(ns, c).to_string()));
        if *delete_on_scale {
            let (policy, words, assumption) = self.claims_policy(&names, class.as_deref());
            let verdict = if policy == Reclaim::Delete {
                Verdict::Loss
            } else {
                Verdict::AtRisk
            };
            return Some(p.mk(
                Fate::Deleted,
                verdict,
                format!(
                    "{sts} scales down to {r2}; persistentVolumeClaimRetentionPolicy.whenScaled=Delete deletes {} ({})",
                    plural_claims(&names),
                    words
                ),
                objects,
                Some(format!(
                    "Back up {} before scaling down, or set whenScaled: Retain.",
                    names.join(", ")
                )),
                assumption,
            ));
        }
        Some(p.mk(
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
        ))
    }

    /// A claim the component stops mounting: mounted by another workload, carried, deleted with
    /// the release, or orphaned. `carried` collects the claims carried to.
    fn dropped(
        &self,
        p: &Pair,
        a: &Use,
        c: &str,
        old_claims: &[String],
        all_new: &[Use],
        carried: &mut Vec<String>,
    ) -> VolumeFate {
        let ns = &a.workload.key.namespace;
        let b = p.b;
        // Claims the new side mounts anywhere (another component may take it over).
        let mounted_anywhere = all_new
            .iter()
            .any(|u| &u.workload.key.namespace == ns && claims_of(u).iter().any(|x| x == c));
        if mounted_anywhere {
            let mut objects = p.workloads.clone();
            objects.push(pvc_key(ns, c).to_string());
            return p.mk(
                Fate::Reattached,
                Verdict::Safe,
                format!("claim {c} is mounted by another workload"),
                objects,
                None,
                vec![],
            );
        }
        if let Some(b) = b.filter(|_| self.carry.applies(&p.component)) {
            match self.carry_target(a, b, old_claims, &p.new_claims, c) {
                CarryTarget::To { claim, ordinal } => return self.carried(p, a, b, c, claim, ordinal, carried),
                CarryTarget::Surplus => {
                    let mut objects = p.workloads.clone();
                    objects.push(pvc_key(ns, c).to_string());
                    return p.mk(
                        Fate::Orphaned,
                        Verdict::AtRisk,
                        format!(
                            "surplus: {} has no ordinal for {c} ({} new replica(s)); with --carry-volumes it \
                             is left in place, unmounted, never deleted",
                            b.workload.key.name,
                            p.new_claims.len()
                        ),
                        objects,
                        Some(orphan_workaround(c, None, ns)),
                        vec![],
                    );
                }
                CarryTarget::None => {}
            }
        }
        if let Some(pvc) = self.old.get(&pvc_key(ns, c)) {
            if self.new.get(&pvc.key).is_none() || self.recreated.contains(&pvc.key) {
                if let Some(f) = self.claim_leaving(pvc, c, p.leaving_ctx()) {
                    return f;
                }
            }
        }
        self.orphaned(p, a, c)
    }

    /// `--carry-volumes`: the volume of `c` moves to `claim`.
    #[allow(clippy::too_many_arguments)]
    fn carried(
        &self,
        p: &Pair,
        a: &Use,
        b: &Use,
        c: &str,
        claim: String,
        ordinal: Option<u64>,
        carried: &mut Vec<String>,
    ) -> VolumeFate {
        let ns = &a.workload.key.namespace;
        let mut objects = p.workloads.clone();
        objects.push(pvc_key(ns, c).to_string());
        objects.push(pvc_key(ns, &claim).to_string());
        // Name what asked for the carry: the flag, or the matrix's declaration for the component.
        let by = if self.carry.all {
            "--carry-volumes"
        } else {
            "the matrix's carryVolumes"
        };
        let mut reason = format!(
            "{}; {by} moves the volume of {c} to {claim}: reclaim policy Retain \
             first, stop {}, release {c}, bind {claim} to the same PV, restore the reclaim policy",
            rename_why(a, Some(b), false),
            a.workload.key
        );
        if matches!(a.src, Src::Claim { .. }) && p.new_claims.len() > 1 {
            reason.push_str(&format!(
                "; the single claim goes to ordinal 0, the other {} ordinal(s) of {} start on new empty volumes",
                p.new_claims.len() - 1,
                b.workload.key.name
            ));
        }
        let mut f = p.mk(Fate::Carried, Verdict::Safe, reason, objects, None, vec![]);
        f.carry = Some(self.carry_of(a, b, c, &claim, ordinal));
        carried.push(claim);
        f
    }

    /// The claim stays (generated by a template, outside the release, or kept) but nothing mounts
    /// it: the component starts on whatever the new side gives it.
    fn orphaned(&self, p: &Pair, a: &Use, c: &str) -> VolumeFate {
        let ns = &a.workload.key.namespace;
        let b = p.b;
        let replacement = match b.map(|b| &b.src) {
            Some(Src::EmptyDir) => "an emptyDir (persistence switched off: data lost on every restart)".to_string(),
            Some(_) => format!("new empty {}", plural_claims(&p.new_claims)),
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
        let mut objects = p.workloads.clone();
        objects.push(pvc_key(ns, c).to_string());
        objects.extend(p.new_claims.iter().map(|n| pvc_key(ns, n).to_string()));
        let why = rename_why(a, b, true);
        let reason = if statefulset_deleted {
            format!("{why}; persistentVolumeClaimRetentionPolicy.whenDeleted=Delete deletes {c} with the StatefulSet")
        } else {
            format!("{why}: {c} stays in the cluster but nothing mounts it; the component starts on {replacement}")
        };
        // The claim of the same ordinal takes over (as a carry would map it), not always ordinal 0.
        let ordinal = claims_of(a).iter().position(|x| x == c).unwrap_or(0);
        let new_claim = p.new_claims.get(ordinal).cloned();
        p.mk(
            fate,
            verdict,
            reason,
            objects,
            Some(orphan_workaround(c, new_claim.as_deref(), ns)),
            vec![],
        )
    }

    /// Carried volumes fill ordinals from 0; the new workload's other claims start empty.
    fn carried_rest(&self, p: &Pair, old_claims: &[String], carried: &[String]) -> Option<VolumeFate> {
        let b = p.b.filter(|_| !carried.is_empty())?;
        let ns = &b.workload.key.namespace;
        let extra: Vec<String> = p
            .new_claims
            .iter()
            .filter(|n| !carried.contains(n) && !old_claims.contains(n))
            .cloned()
            .collect();
        if extra.is_empty() {
            return None;
        }
        let mut objects = vec![b.workload.key.text()];
        objects.extend(extra.iter().map(|n| pvc_key(ns, n).to_string()));
        Some(p.mk(
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
        ))
    }
}
