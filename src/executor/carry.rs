//! Volume carry-over (`--carry-volumes`): move the data's PersistentVolume from a claim the
//! upgrade abandons to the claim name the new version mounts, instead of leaving the old claim
//! orphaned or letting Helm delete it.
//!
//! The planner decided the mapping by names (`plan.volumes[].carry`, see
//! [`crate::analysis::Carry`]); here it is checked against the live claims before anything is
//! written ([`preflight`]) and executed, per new workload, just before that workload is applied
//! ([`Run::carry_before`]). For each carried volume, in this order:
//!
//! 1. protect the PV: reclaim policy `Retain` (and annotations saying where it goes and its
//!    original policy) — from here on no claim deletion can lose the data;
//! 2. stop the old consumer: delete the old workload, wait until no pod mounts the old claims;
//! 3. release the old claim: delete it, wait until it is gone (the PV becomes Released);
//! 4. reserve the PV for the new claim only: `spec.claimRef` = new namespace/name, no uid;
//! 5. create the new claim with `spec.volumeName` = the PV and the PV's class, access modes and
//!    size (labels as the StatefulSet controller would give its claims), wait until Bound;
//! 6. restore the PV's original reclaim policy (the PV is bound to the new claim again).
//!
//! The new workload is applied after that by the executor, and its pods find their claims bound.
//! A PV is never deleted, and no claim is deleted before its PV is `Retain`.
//!
//! Each step is journaled in the pending release record before the next starts — a line for
//! people and, in `chartup_carry`, the state a crash would need (PV, original policy, old and new
//! claim, the new claim's body, the stage reached) — so [`recover`] can finish a carry whose old
//! claim is already released, or undo one that had not yet released it.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

use super::error::ApplyError;
use super::heartbeat::{wait_until, Pulse};
use super::journal::journal;
use super::objects::{obj_ref, owned};
use super::progress::{ms, Progress};
use super::runner::Run;
use crate::analysis::Carry;
use crate::cluster::{Cascade, Cluster, ObjRef};
use crate::manifest::{ManifestSet, ObjectKey};
use crate::plan::saved::SavedPlan;
use crate::release::Release;

/// On the PV: the claim it was carried from (`ns/name`), kept afterwards as provenance.
const ANN_FROM: &str = "chartup.io/carried-from";
/// On the PV: the claim it is carried to (`ns/name`).
const ANN_TO: &str = "chartup.io/carried-to";
/// On the PV while a carry runs: the reclaim policy to restore.
const ANN_POLICY: &str = "chartup.io/original-reclaim-policy";
/// How long `recover` waits for a claim to go or bind.
const RECOVER_TIMEOUT: Duration = Duration::from_secs(120);

/// What a crash needs to know about one carry (`chartup_carry` in the pending record).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CarryState {
    namespace: String,
    from_claim: String,
    to_claim: String,
    pv: String,
    original_policy: String,
    /// The new claim as it is created (volumeName set).
    claim: Json,
    /// `protected`, `stopped`, `released`, `rebound`, `claimed`, `bound`, `done`.
    stage: String,
}

fn s<'j>(v: &'j Json, p: &str) -> &'j str {
    v.pointer(p).and_then(Json::as_str).unwrap_or("")
}

/// True when a live claim of the carry's target name is bound to a PV this carry moved there
/// (a carry finished by an earlier, interrupted run and `recover`).
async fn already_carried(cluster: &dyn Cluster, c: &Carry) -> Result<bool, ApplyError> {
    let Some(claim) = cluster.get(&ObjRef::claim(&c.namespace, &c.to_claim)).await? else {
        return Ok(false);
    };
    let pv = s(&claim, "/spec/volumeName");
    if pv.is_empty() {
        return Ok(false);
    }
    let from = format!("{}/{}", c.namespace, c.from_claim);
    let pv = match cluster.get(&ObjRef::volume(pv)).await {
        // PersistentVolumes are cluster-scoped: a namespace tenant may not read them (preflight
        // names that below).
        Err(e) if e.status_code() == Some(403) => return Ok(false),
        other => other?,
    };
    Ok(pv.is_some_and(|p| {
        p.pointer(&format!("/metadata/annotations/{}", ANN_FROM.replace('/', "~1"))) == Some(&json!(from))
    }))
}

/// Before any write: every carry's source claim must exist, be Bound and have its PV; its target
/// name must be free (or already hold this very PV from a recovered run).
pub(super) async fn preflight(cluster: &dyn Cluster, saved: &SavedPlan) -> Result<(), ApplyError> {
    let mut problems = Vec::new();
    for c in saved.plan.carries() {
        let what = format!("carrying {} → {} (namespace {})", c.from_claim, c.to_claim, c.namespace);
        if already_carried(cluster, c).await? {
            continue;
        }
        if let Some(t) = cluster.get(&ObjRef::claim(&c.namespace, &c.to_claim)).await? {
            let pv = s(&t, "/spec/volumeName");
            problems.push(if pv.is_empty() {
                format!(
                    "{what}: claim {} already exists (not bound to the carried volume)",
                    c.to_claim
                )
            } else {
                format!(
                    "{what}: claim {} already exists, bound to another volume ({pv})",
                    c.to_claim
                )
            });
            continue;
        }
        let Some(src) = cluster.get(&ObjRef::claim(&c.namespace, &c.from_claim)).await? else {
            problems.push(format!("{what}: claim {} does not exist", c.from_claim));
            continue;
        };
        let pv = s(&src, "/spec/volumeName");
        if s(&src, "/status/phase") != "Bound" || pv.is_empty() {
            problems.push(format!(
                "{what}: claim {} is not bound to a volume (phase {})",
                c.from_claim,
                s(&src, "/status/phase")
            ));
            continue;
        }
        match cluster.get(&ObjRef::volume(pv)).await {
            Ok(Some(_)) => {}
            Ok(None) => problems.push(format!(
                "{what}: the volume {pv} of claim {} does not exist",
                c.from_claim
            )),
            Err(e) if e.status_code() == Some(403) => problems.push(format!(
                "{what}: you may not read PersistentVolumes, which are cluster-scoped ({}); --carry-volumes needs \
                 get and patch on persistentvolumes cluster-wide (a ClusterRole), or apply without it",
                e.server_message()
            )),
            Err(e) => return Err(e.into()),
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ApplyError::Refused(problems))
    }
}

/// A claim the new release defines but that a carry creates itself (bound to the carried PV):
/// applying it with the configuration objects would provision an empty volume first.
pub(super) fn is_carry_target(saved: &SavedPlan, key: &ObjectKey) -> bool {
    key.kind == "PersistentVolumeClaim"
        && saved
            .plan
            .carries()
            .iter()
            .any(|c| c.in_release && c.to_claim == key.name && c.namespace == key.namespace)
}

/// A claim a carry released (pruning it is moot; it is gone with its data safe in the PV).
pub(super) fn is_carry_source(saved: &SavedPlan, key: &ObjectKey) -> bool {
    key.kind == "PersistentVolumeClaim"
        && saved
            .plan
            .carries()
            .iter()
            .any(|c| c.from_claim == key.name && c.namespace == key.namespace)
}

/// The new claim for `c`, bound to `pv`: the PV's class, access modes, mode and size.
fn claim_body(c: &Carry, pv: &Json, release: &str) -> Json {
    let mut claim = json!({
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": c.to_claim, "namespace": c.namespace},
        "spec": {
            "accessModes": pv.pointer("/spec/accessModes").cloned().unwrap_or_else(|| json!(["ReadWriteOnce"])),
            "resources": {"requests": {"storage": pv.pointer("/spec/capacity/storage").cloned().unwrap_or_else(|| json!("1Gi"))}},
            "volumeName": s(pv, "/metadata/name"),
            "volumeMode": pv.pointer("/spec/volumeMode").cloned().unwrap_or_else(|| json!("Filesystem")),
        },
    });
    // An empty class must stay "" (not the default class), as the PV has it.
    claim["spec"]["storageClassName"] = json!(s(pv, "/spec/storageClassName"));
    if !c.labels.is_empty() {
        claim["metadata"]["labels"] = json!(c.labels);
    }
    if !c.annotations.is_empty() {
        claim["metadata"]["annotations"] = json!(c.annotations);
    }
    if c.in_release {
        // A release object: owned as Helm owns it.
        claim = owned(&claim, release, &c.namespace);
    }
    claim
}

fn states(rel: &Release) -> Vec<CarryState> {
    super::journal::states(rel, "chartup_carry")
}

fn set_state(rel: &mut Release, st: &CarryState) {
    super::journal::set_state(rel, "chartup_carry", st, |x, st| {
        x.namespace == st.namespace && x.from_claim == st.from_claim && x.to_claim == st.to_claim
    });
}

/// Crash tests: `CHARTUP_FAILPOINT=carry-protected` / `carry-released` makes the run stop for good
/// right after the PVs are protected / the old claims are released (and journaled), so an e2e test
/// can SIGKILL it at exactly that point instead of racing the executor.
async fn failpoint(name: &str) {
    if std::env::var("CHARTUP_FAILPOINT").is_ok_and(|v| v == name) {
        std::future::pending::<()>().await;
    }
}

async fn set_policy(cluster: &dyn Cluster, pv: &str, policy: &str, annotations: Json) -> Result<(), ApplyError> {
    cluster
        .patch(
            &ObjRef::volume(pv),
            &json!({"metadata": {"annotations": annotations}, "spec": {"persistentVolumeReclaimPolicy": policy}}),
            false,
        )
        .await?;
    Ok(())
}

/// Steps 4–6 from wherever a carry stopped: reserve the PV for the new claim, create the claim,
/// wait Bound, restore the reclaim policy. Journals through `note`.
async fn finish_carry<F, Fut>(
    cluster: &dyn Cluster,
    st: &mut CarryState,
    timeout: Duration,
    pulse: &mut Pulse<'_>,
    mut note: F,
) -> Result<(), ApplyError>
where
    F: FnMut(CarryState, String) -> Fut,
    Fut: std::future::Future<Output = Result<(), ApplyError>>,
{
    let label = format!("carry {} → {}", st.from_claim, st.to_claim);
    let pvr = ObjRef::volume(&st.pv);
    let pvc = ObjRef::claim(&st.namespace, &st.to_claim);
    if matches!(st.stage.as_str(), "protected" | "stopped" | "released") {
        // Only now, with the old claim gone: the PV may bind to exactly the new claim.
        cluster
            .patch(
                &pvr,
                &json!({"spec": {"claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                    "namespace": st.namespace, "name": st.to_claim, "uid": null, "resourceVersion": null}}}),
                false,
            )
            .await?;
        st.stage = "rebound".into();
        note(
            st.clone(),
            format!("{label}: PV {} reserved for claim {}", st.pv, st.to_claim),
        )
        .await?;
    }
    if st.stage == "rebound" {
        if cluster.get(&pvc).await?.is_none() {
            cluster.apply(&st.claim, false).await?;
        }
        st.stage = "claimed".into();
        note(
            st.clone(),
            format!("{label}: created claim {} on PV {}", st.to_claim, st.pv),
        )
        .await?;
    }
    if st.stage == "claimed" {
        let pv = st.pv.clone();
        wait_until(
            cluster,
            &pvc,
            timeout,
            "to be Bound to the carried volume",
            pulse,
            |c| c.is_some_and(|c| s(c, "/status/phase") == "Bound" && s(c, "/spec/volumeName") == pv),
        )
        .await?;
        st.stage = "bound".into();
        note(
            st.clone(),
            format!("{label}: claim {} Bound to PV {}", st.to_claim, st.pv),
        )
        .await?;
    }
    if st.stage == "bound" {
        set_policy(cluster, &st.pv, &st.original_policy, json!({ ANN_POLICY: null })).await?;
        st.stage = "done".into();
        note(
            st.clone(),
            format!(
                "{label}: done; PV {} reclaim policy {} restored",
                st.pv, st.original_policy
            ),
        )
        .await?;
    }
    Ok(())
}

impl Run<'_, '_> {
    /// Carry the volumes the plan moves to `key` (the new consumer) before it is applied.
    pub(super) async fn carry_before(
        &mut self,
        saved: &SavedPlan,
        from: &ManifestSet,
        key: &ObjectKey,
    ) -> Result<(), ApplyError> {
        let release = saved.plan.release.name.clone();
        let mut todo = Vec::new();
        for c in saved.plan.carries().into_iter().filter(|c| &c.to_workload == key) {
            if !already_carried(self.cluster, c).await? {
                todo.push(c.clone());
            }
        }
        if todo.is_empty() {
            return Ok(());
        }
        let t = Instant::now();
        self.rep.report(Progress::Step {
            step: format!("carry volumes to {key}"),
        });
        // 1. Protect every PV before anything is deleted.
        let mut sts = Vec::new();
        for c in &todo {
            let src = self
                .cluster
                .get(&ObjRef::claim(&c.namespace, &c.from_claim))
                .await?
                .ok_or_else(|| ApplyError::Other(format!("carry: claim {} vanished", c.from_claim)))?;
            let pv_name = s(&src, "/spec/volumeName").to_string();
            let pv =
                self.cluster.get(&ObjRef::volume(&pv_name)).await?.ok_or_else(|| {
                    ApplyError::Other(format!("carry: volume {pv_name} of {} vanished", c.from_claim))
                })?;
            // A carry interrupted and undone earlier left the true original policy on the PV.
            let ann = format!("/metadata/annotations/{}", ANN_POLICY.replace('/', "~1"));
            let original = pv
                .pointer(&ann)
                .and_then(Json::as_str)
                .unwrap_or_else(|| s(&pv, "/spec/persistentVolumeReclaimPolicy"))
                .to_string();
            let original = if original.is_empty() {
                "Delete".to_string()
            } else {
                original
            };
            set_policy(
                self.cluster,
                &pv_name,
                "Retain",
                json!({ ANN_POLICY: original, ANN_FROM: format!("{}/{}", c.namespace, c.from_claim),
                        ANN_TO: format!("{}/{}", c.namespace, c.to_claim) }),
            )
            .await?;
            let st = CarryState {
                namespace: c.namespace.clone(),
                from_claim: c.from_claim.clone(),
                to_claim: c.to_claim.clone(),
                pv: pv_name.clone(),
                original_policy: original.clone(),
                claim: claim_body(c, &pv, &release),
                stage: "protected".into(),
            };
            set_state(self.rel, &st);
            self.note(format!(
                "carry {} → {}: PV {pv_name} protected (reclaim policy {original} → Retain)",
                c.from_claim, c.to_claim
            ))
            .await?;
            sts.push(st);
        }
        failpoint("carry-protected").await;
        // 2. Stop the old consumers: no pod may hold an old claim when it is released.
        let mut stopped: Vec<&ObjectKey> = Vec::new();
        for c in &todo {
            if stopped.contains(&&c.from_workload) {
                continue;
            }
            stopped.push(&c.from_workload);
            if let Some(old) = from.get(&c.from_workload) {
                self.cluster.delete(&obj_ref(old), Cascade::Background, false).await?;
                self.wait_gone(&key.name, &obj_ref(old)).await?;
            }
        }
        let claims: Vec<&str> = todo.iter().map(|c| c.from_claim.as_str()).collect();
        let ns = todo.first().map(|c| c.namespace.clone()).unwrap_or_default();
        self.wait_unmounted(&key.name, &ns, &claims)
            .await
            .map_err(|e| ApplyError::Other(format!("carry: {e}")))?;
        for st in &mut sts {
            st.stage = "stopped".into();
            set_state(self.rel, st);
        }
        let names: Vec<String> = stopped.iter().map(|k| k.to_string()).collect();
        self.note(format!(
            "carry: stopped {}; no pod mounts the old claims",
            names.join(", ")
        ))
        .await?;
        // 3. Release the old claims (their PVs are Retain: the data stays).
        for st in &mut sts {
            let r = ObjRef::claim(&st.namespace, &st.from_claim);
            self.cluster.delete(&r, Cascade::Background, false).await?;
            self.wait_gone(&key.name, &r).await?;
            st.stage = "released".into();
            set_state(self.rel, st);
            self.note(format!(
                "carry {} → {}: released old claim {} (PV {} kept: Retain)",
                st.from_claim, st.to_claim, st.from_claim, st.pv
            ))
            .await?;
        }
        failpoint("carry-released").await;
        // 4–6. Bind the new claims to the same PVs, restore the policies.
        let timeout = self.timeout;
        let cluster = self.cluster;
        for st in &mut sts {
            let store = self.store;
            let rel = &mut *self.rel;
            let mut pulse = Pulse::to(&mut *self.rep, self.opts.heartbeat, &key.name);
            finish_carry(cluster, st, timeout, &mut pulse, |state, line| {
                set_state(rel, &state);
                journal(rel, line);
                let snapshot = rel.clone();
                async move { store.update(&snapshot).await.map_err(ApplyError::from) }
            })
            .await?;
        }
        self.rep.report(Progress::Done {
            step: format!("carry volumes to {key}"),
            elapsed_ms: ms(t),
        });
        Ok(())
    }
}

/// `chartup recover`: finish (or undo) the carries an interrupted run left half-done, journaling
/// into `rel`. Returns one line per carry saying what was done.
pub(super) async fn recover(
    cluster: &dyn Cluster,
    rel: &mut Release,
    pulse: &mut Pulse<'_>,
) -> Result<Vec<String>, ApplyError> {
    let mut out = Vec::new();
    for mut st in states(rel).into_iter().filter(|s| s.stage != "done") {
        let label = format!("carry {} → {} (PV {})", st.from_claim, st.to_claim, st.pv);
        let src = cluster.get(&ObjRef::claim(&st.namespace, &st.from_claim)).await?;
        let deleting = src
            .as_ref()
            .is_some_and(|c| c.pointer("/metadata/deletionTimestamp").is_some());
        if matches!(st.stage.as_str(), "protected" | "stopped") && src.is_some() && !deleting {
            // The old claim still holds the volume: undo the protection; the apply starts over.
            set_policy(
                cluster,
                &st.pv,
                &st.original_policy,
                json!({ ANN_POLICY: null, ANN_FROM: null, ANN_TO: null }),
            )
            .await?;
            let line = format!(
                "recover: {label} undone: {} still holds the volume, reclaim policy {} restored; run the apply again",
                st.from_claim, st.original_policy
            );
            st.stage = "done".into();
            set_state(rel, &st);
            journal(rel, line.clone());
            out.push(line);
            continue;
        }
        if src.is_some() {
            wait_until(
                cluster,
                &ObjRef::claim(&st.namespace, &st.from_claim),
                RECOVER_TIMEOUT,
                "to be deleted",
                pulse,
                |c| c.is_none(),
            )
            .await?;
        }
        finish_carry(cluster, &mut st, RECOVER_TIMEOUT, pulse, |state, line| {
            set_state(rel, &state);
            journal(rel, format!("recover: {line}"));
            async { Ok(()) }
        })
        .await?;
        let line = format!(
            "recover: {label} finished: claim {} Bound to the volume, reclaim policy {} restored",
            st.to_claim, st.original_policy
        );
        journal(rel, line.clone());
        out.push(line);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn carry() -> Carry {
        Carry {
            namespace: "ns".into(),
            from_claim: "data-ledger-0".into(),
            to_claim: "journal-books-0".into(),
            from_workload: ObjectKey {
                group: "apps".into(),
                kind: "StatefulSet".into(),
                namespace: "ns".into(),
                name: "ledger".into(),
            },
            to_workload: ObjectKey {
                group: "apps".into(),
                kind: "StatefulSet".into(),
                namespace: "ns".into(),
                name: "books".into(),
            },
            ordinal: Some(0),
            labels: [("app".to_string(), "books".to_string())].into_iter().collect(),
            annotations: Default::default(),
            in_release: false,
        }
    }

    #[test]
    fn new_claim_takes_the_volumes_shape() {
        let pv = json!({"metadata": {"name": "pvc-1"}, "spec": {"accessModes": ["ReadWriteOnce"],
            "capacity": {"storage": "2Gi"}, "storageClassName": "standard", "volumeMode": "Filesystem"}});
        let b = claim_body(&carry(), &pv, "r");
        assert_eq!(b["metadata"]["name"], "journal-books-0");
        assert_eq!(b["spec"]["volumeName"], "pvc-1");
        assert_eq!(b["spec"]["resources"]["requests"]["storage"], "2Gi");
        assert_eq!(b["spec"]["storageClassName"], "standard");
        assert_eq!(b["metadata"]["labels"]["app"], "books");
        assert!(b.pointer("/metadata/labels/app.kubernetes.io~1managed-by").is_none());
        let mut c = carry();
        c.in_release = true;
        let b = claim_body(&c, &pv, "r");
        assert_eq!(b["metadata"]["labels"]["app.kubernetes.io/managed-by"], "Helm");
    }

    #[test]
    fn carry_state_round_trips_through_the_record() {
        let mut rel: Release = serde_json::from_value(json!({"name": "r", "version": 1})).unwrap();
        let mut st = CarryState {
            namespace: "ns".into(),
            from_claim: "a".into(),
            to_claim: "b".into(),
            pv: "pvc-1".into(),
            original_policy: "Delete".into(),
            claim: json!({}),
            stage: "protected".into(),
        };
        set_state(&mut rel, &st);
        st.stage = "released".into();
        set_state(&mut rel, &st);
        let back = crate::release::codec::decode(&crate::release::codec::encode(&rel).unwrap()).unwrap();
        assert_eq!(states(&back), vec![st]);
    }

    /// Issue 18: the wait for the new claim to bind to the carried volume beats (the reporter plays
    /// the PV controller: it binds the claim at the first heartbeat, so a wait that never beats
    /// fails by its timeout).
    #[tokio::test]
    async fn the_rebind_wait_beats_until_the_new_claim_is_bound() {
        let fake = crate::cluster::FakeCluster::new("ns");
        fake.set_auto_ready(false);
        fake.put(json!({"apiVersion": "v1", "kind": "PersistentVolume",
            "metadata": {"name": "pvc-1", "annotations": {ANN_POLICY: "Delete"}},
            "spec": {"persistentVolumeReclaimPolicy": "Retain"}}));
        let claim = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": "journal-books-0", "namespace": "ns"}, "spec": {"volumeName": "pvc-1"}});
        let mut pending = claim.clone();
        pending["status"] = json!({"phase": "Pending"});
        fake.put(pending);
        let mut st = CarryState {
            namespace: "ns".into(),
            from_claim: "data-ledger-0".into(),
            to_claim: "journal-books-0".into(),
            pv: "pvc-1".into(),
            original_policy: "Delete".into(),
            claim: claim.clone(),
            stage: "claimed".into(),
        };
        let mut seen = Vec::new();
        let mut rep = |p: Progress| {
            if matches!(p, Progress::Waiting { .. }) {
                let mut bound = claim.clone();
                bound["status"] = json!({"phase": "Bound"});
                fake.put(bound);
            }
            seen.push(p);
        };
        let every = crate::executor::tests_heartbeat::EVERY;
        let mut pulse = Pulse::to(&mut rep, every, "books");
        finish_carry(&fake, &mut st, Duration::from_secs(5), &mut pulse, |_, _| async {
            Ok(())
        })
        .await
        .expect("bound");
        drop(pulse);
        assert_eq!(st.stage, "done");
        use crate::executor::tests_heartbeat::{beat, beats};
        assert_eq!(
            beats(&seen).first(),
            Some(&beat(
                "books",
                "PersistentVolumeClaim/journal-books-0 (namespace ns) to be Bound to the carried volume \
                 (phase Pending)",
                "",
                "",
                Duration::from_secs(5)
            )),
            "{seen:#?}"
        );
    }
}
