//! `rollback --restore-data` (issue 15): put the data a snapshot holds back under the claim's own
//! name, before the rolled-back workload starts on it.
//!
//! Restoring in place means the claim's name cannot change (a StatefulSet finds its claims by
//! name), so the claim is recreated from the snapshot (`spec.dataSource`) under the same name —
//! the order the notes on snapshots recommend (docs: /work/shared/notes/snapshots.md §6, sequence
//! A) — with the volume-carry rules kept: no claim is deleted before its PV is `Retain`, and no
//! pod may mount it. For each workload of the rollback, just before it is applied:
//!
//! 1. stop it: scale to zero, wait until no pod mounts its claims (a StatefulSet controller
//!    creates a missing claim from its template as soon as a pod needs it: at zero it needs none);
//! 2. per claim, protect the data written since the snapshot: its PV to `Retain`, labelled with the
//!    release and `chartup.io/set-aside` (kept until `chartup snapshots prune --set-aside`);
//! 3. delete the claim, wait until it is gone;
//! 4. create it again from the snapshot: the old claim's class, access modes and labels, a request
//!    of at least the snapshot's `restoreSize`, annotated `chartup.io/restored-from`; read it back
//!    and check the server kept `dataSource` (a 1.20 server silently drops a data source it does
//!    not support, which would give an empty volume); wait until Bound;
//! 5. the executor then applies the workload, whose replicas come back on the restored data.
//!
//! Each step is journaled (`chartup_restore` in the pending record, like `chartup_carry`), so
//! [`recover`] can finish a restore whose old claim is already gone, or undo the protection of one
//! that had not started. A claim already annotated as restored from its snapshot is skipped, so a
//! rollback run again after a crash picks up where it stopped.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

use super::error::ApplyError;
use super::heartbeat::{wait_until, Pulse};
use super::journal::journal;
use super::progress::{ms, Progress};
use super::runner::Run;
use super::snapshot::LABEL_RELEASE;
use crate::cluster::{Cascade, Cluster, ObjRef};
use crate::manifest::ObjectKey;
use crate::plan::saved::SavedPlan;
use crate::plan::snapshots::{quantity_bytes, ClaimRestore};
use crate::release::Release;

/// On a restored claim: the snapshot it was restored from.
pub const ANN_RESTORED_FROM: &str = "chartup.io/restored-from";
/// Label on a PV set aside by a restore (the data written after the snapshot).
pub const LABEL_SET_ASIDE: &str = "chartup.io/set-aside";
/// On a set-aside PV: the reclaim policy it had before.
pub const ANN_POLICY: &str = "chartup.io/original-reclaim-policy";
const ANN_ASIDE_FROM: &str = "chartup.io/set-aside-from";
const RECORD_KEY: &str = "chartup_restore";
const RECOVER_TIMEOUT: Duration = Duration::from_secs(120);

/// What a crash needs to know about one restore.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RestoreState {
    namespace: String,
    claim: String,
    snapshot: String,
    /// The PV set aside (empty: the claim did not exist).
    pv: String,
    original_policy: String,
    /// The claim as it is created from the snapshot.
    body: Json,
    /// `protected`, `released`, `created`, `done`.
    stage: String,
}

fn s<'j>(v: &'j Json, p: &str) -> &'j str {
    v.pointer(p).and_then(Json::as_str).unwrap_or("")
}

fn states(rel: &Release) -> Vec<RestoreState> {
    super::journal::states(rel, RECORD_KEY)
}

fn set_state(rel: &mut Release, st: &RestoreState) {
    super::journal::set_state(rel, RECORD_KEY, st, |x, st| {
        x.namespace == st.namespace && x.claim == st.claim
    });
}

/// The claim recreated from the snapshot: the old claim's shape, at least the restore size.
fn claim_body(r: &ClaimRestore, old: Option<&Json>) -> Json {
    let old_req = old
        .and_then(|c| c.pointer("/spec/resources/requests/storage"))
        .and_then(Json::as_str)
        .map(str::to_string);
    let size = match (old_req, r.restore_size.clone()) {
        (Some(a), Some(b)) => match (quantity_bytes(&a), quantity_bytes(&b)) {
            (Some(x), Some(y)) if y > x => b,
            _ => a,
        },
        (Some(a), None) => a,
        (None, Some(b)) => b,
        (None, None) => "1Gi".into(),
    };
    let mut labels = old
        .and_then(|c| c.pointer("/metadata/labels"))
        .cloned()
        .unwrap_or_else(|| json!({}));
    if !labels.is_object() {
        labels = json!({});
    }
    let mut annotations = json!({ ANN_RESTORED_FROM: r.snapshot });
    // Helm's ownership, when the claim is a release object.
    for k in ["meta.helm.sh/release-name", "meta.helm.sh/release-namespace"] {
        let p = format!("/metadata/annotations/{}", k.replace('/', "~1"));
        if let Some(v) = old.and_then(|c| c.pointer(&p)) {
            annotations[k] = v.clone();
        }
    }
    let mut body = json!({
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": r.claim, "namespace": r.namespace, "labels": labels, "annotations": annotations},
        "spec": {
            "accessModes": old.and_then(|c| c.pointer("/spec/accessModes")).cloned().unwrap_or_else(|| json!(["ReadWriteOnce"])),
            "resources": {"requests": {"storage": size}},
            "dataSource": {"apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot", "name": r.snapshot},
        },
    });
    if let Some(class) = old.and_then(|c| c.pointer("/spec/storageClassName")) {
        body["spec"]["storageClassName"] = class.clone();
    }
    if let Some(mode) = old.and_then(|c| c.pointer("/spec/volumeMode")) {
        body["spec"]["volumeMode"] = mode.clone();
    }
    body
}

/// Steps 3–4 from wherever a restore stopped. Journals through `note`.
async fn finish<F, Fut>(
    cluster: &dyn Cluster,
    st: &mut RestoreState,
    timeout: Duration,
    pulse: &mut Pulse<'_>,
    mut note: F,
) -> Result<(), ApplyError>
where
    F: FnMut(RestoreState, String) -> Fut,
    Fut: std::future::Future<Output = Result<(), ApplyError>>,
{
    let r = ObjRef::claim(&st.namespace, &st.claim);
    if st.stage == "protected" {
        cluster.delete(&r, Cascade::Background, false).await?;
        wait_until(cluster, &r, timeout, "to be deleted", pulse, |c| c.is_none()).await?;
        st.stage = "released".into();
        let kept = if st.pv.is_empty() {
            String::new()
        } else {
            format!(" (its volume {} set aside: Retain)", st.pv)
        };
        note(st.clone(), format!("restore {}: deleted the claim{kept}", st.claim)).await?;
    }
    if st.stage == "released" {
        let created = match cluster.get(&r).await? {
            Some(c) => c,
            None => cluster.create(&st.body, false).await?,
        };
        if s(&created, "/spec/dataSource/name") != st.snapshot {
            return Err(ApplyError::Other(format!(
                "restore {}: the server did not keep spec.dataSource (snapshot {}) on the new claim: it would be empty; \
                 the old data is on volume {} (Retain)",
                st.claim, st.snapshot, st.pv
            )));
        }
        st.stage = "created".into();
        note(
            st.clone(),
            format!("restore {}: claim created from snapshot {}", st.claim, st.snapshot),
        )
        .await?;
    }
    if st.stage == "created" {
        let live = wait_until(cluster, &r, timeout, "to be Bound to the restored volume", pulse, |c| {
            c.is_some_and(|c| s(c, "/status/phase") == "Bound")
        })
        .await?;
        st.stage = "done".into();
        note(
            st.clone(),
            format!(
                "restore {}: Bound to volume {} with the data of snapshot {}",
                st.claim,
                s(&live, "/spec/volumeName"),
                st.snapshot
            ),
        )
        .await?;
    }
    Ok(())
}

impl Run<'_, '_> {
    /// Restore the claims of workload `key` from their snapshots before it is applied. True when
    /// it restored some: the workload was scaled to zero and must be applied (the manifest's
    /// replicas) even if the plan sees no change.
    pub(super) async fn restore_before(&mut self, saved: &SavedPlan, key: &ObjectKey) -> Result<bool, ApplyError> {
        let want = key.to_string();
        let all: Vec<ClaimRestore> = saved
            .plan
            .snapshots
            .as_ref()
            .map(|p| p.restores.iter().filter(|r| r.workload == want).cloned().collect())
            .unwrap_or_default();
        let mut todo = Vec::new();
        for r in all {
            let live = self.cluster.get(&ObjRef::claim(&r.namespace, &r.claim)).await?;
            let done = live.as_ref().is_some_and(|c| {
                c.pointer(&format!(
                    "/metadata/annotations/{}",
                    ANN_RESTORED_FROM.replace('/', "~1")
                ))
                .and_then(Json::as_str)
                    == Some(r.snapshot.as_str())
            });
            if !done {
                todo.push((r, live));
            }
        }
        if todo.is_empty() {
            return Ok(false);
        }
        let t = Instant::now();
        let release = saved.plan.release.name.clone();
        self.rep.report(Progress::Step {
            step: format!("restore data of {key} from snapshots"),
        });
        // 1. Stop the workload.
        let wr = ObjRef::new(
            &if key.group.is_empty() {
                "v1".to_string()
            } else {
                format!("{}/v1", key.group)
            },
            &key.kind,
            &key.namespace,
            &key.name,
        );
        if let Some(live) = self.cluster.get(&wr).await? {
            {
                let n = live.pointer("/spec/replicas").and_then(Json::as_i64).unwrap_or(1);
                self.cluster
                    .patch(&wr, &json!({"spec": {"replicas": 0}}), false)
                    .await?;
                self.note(format!("restore: {key} scaled to 0 (was {n})")).await?;
            }
        }
        let claims: Vec<String> = todo.iter().map(|(r, _)| r.claim.clone()).collect();
        let names: Vec<&str> = claims.iter().map(String::as_str).collect();
        self.wait_unmounted(&key.name, &key.namespace, &names).await?;
        // 2. Protect the data written since the snapshot.
        let mut sts = Vec::new();
        for (r, live) in &todo {
            let pv = live
                .as_ref()
                .map(|c| s(c, "/spec/volumeName").to_string())
                .unwrap_or_default();
            let mut original = String::new();
            if !pv.is_empty() {
                if let Some(p) = self.cluster.get(&ObjRef::volume(&pv)).await? {
                    let ann = format!("/metadata/annotations/{}", ANN_POLICY.replace('/', "~1"));
                    original = p
                        .pointer(&ann)
                        .and_then(Json::as_str)
                        .unwrap_or_else(|| s(&p, "/spec/persistentVolumeReclaimPolicy"))
                        .to_string();
                    self.cluster
                        .patch(
                            &ObjRef::volume(&pv),
                            &json!({"metadata": {
                                "labels": {LABEL_RELEASE: release, LABEL_SET_ASIDE: "true"},
                                "annotations": {ANN_POLICY: original, ANN_ASIDE_FROM: format!("{}/{}", r.namespace, r.claim)}},
                                "spec": {"persistentVolumeReclaimPolicy": "Retain"}}),
                            false,
                        )
                        .await?;
                }
            }
            let st = RestoreState {
                namespace: r.namespace.clone(),
                claim: r.claim.clone(),
                snapshot: r.snapshot.clone(),
                pv: pv.clone(),
                original_policy: original.clone(),
                body: claim_body(r, live.as_ref()),
                stage: "protected".into(),
            };
            set_state(self.rel, &st);
            self.note(if pv.is_empty() {
                format!("restore {}: the claim does not exist; nothing to set aside", r.claim)
            } else {
                format!(
                    "restore {}: volume {pv} set aside (reclaim policy {original} → Retain)",
                    r.claim
                )
            })
            .await?;
            sts.push(st);
        }
        super::snapshot::failpoint("restore-protected").await;
        // 3–4. Recreate each claim from its snapshot.
        let timeout = self.timeout;
        let cluster = self.cluster;
        for st in &mut sts {
            if st.pv.is_empty() {
                st.stage = "released".into();
            }
            let store = self.store;
            let rel = &mut *self.rel;
            let mut pulse = Pulse::to(&mut *self.rep, self.opts.heartbeat, &key.name);
            finish(cluster, st, timeout, &mut pulse, |state, line| {
                set_state(rel, &state);
                journal(rel, line);
                let copy = rel.clone();
                async move { store.update(&copy).await.map_err(ApplyError::from) }
            })
            .await?;
        }
        self.rep.report(Progress::Done {
            step: format!("restore data of {key} from snapshots"),
            elapsed_ms: ms(t),
        });
        Ok(true)
    }
}

/// `chartup recover`: finish the restores an interrupted rollback left with the old claim gone,
/// undo the protection of those that had not started. One line per restore.
pub(super) async fn recover(
    cluster: &dyn Cluster,
    rel: &mut Release,
    pulse: &mut Pulse<'_>,
) -> Result<Vec<String>, ApplyError> {
    let mut out = Vec::new();
    for mut st in states(rel).into_iter().filter(|s| s.stage != "done") {
        let live = cluster.get(&ObjRef::claim(&st.namespace, &st.claim)).await?;
        let deleting = live
            .as_ref()
            .is_some_and(|c| c.pointer("/metadata/deletionTimestamp").is_some());
        let still_old = live
            .as_ref()
            .is_some_and(|c| !st.pv.is_empty() && s(c, "/spec/volumeName") == st.pv);
        if st.stage == "protected" && still_old && !deleting {
            cluster
                .patch(
                    &ObjRef::volume(&st.pv),
                    &json!({"metadata": {"labels": {LABEL_SET_ASIDE: null}, "annotations": {ANN_POLICY: null, ANN_ASIDE_FROM: null}},
                            "spec": {"persistentVolumeReclaimPolicy": st.original_policy}}),
                    false,
                )
                .await?;
            let line = format!(
                "recover: restore of {} not started: the claim keeps volume {} (reclaim policy {} restored); \
                 run `chartup rollback … --restore-data` again",
                st.claim, st.pv, st.original_policy
            );
            st.stage = "done".into();
            set_state(rel, &st);
            journal(rel, line.clone());
            out.push(line);
            continue;
        }
        if st.stage == "protected" {
            // The delete was sent: let it finish, then create the claim from the snapshot.
            wait_until(
                cluster,
                &ObjRef::claim(&st.namespace, &st.claim),
                RECOVER_TIMEOUT,
                "to be deleted",
                pulse,
                |c| c.is_none() || c.is_some_and(|c| s(c, "/spec/dataSource/name") == st.snapshot),
            )
            .await?;
            st.stage = "released".into();
        }
        finish(cluster, &mut st, RECOVER_TIMEOUT, pulse, |state, line| {
            set_state(rel, &state);
            journal(rel, format!("recover: {line}"));
            async { Ok(()) }
        })
        .await?;
        let line = format!(
            "recover: restore of {} finished: the claim holds the data of snapshot {}{}; the workload is still \
             scaled to 0 — run `chartup rollback … --restore-data` again to roll it back",
            st.claim,
            st.snapshot,
            if st.pv.is_empty() {
                String::new()
            } else {
                format!(" (the newer data is set aside on volume {})", st.pv)
            }
        );
        journal(rel, line.clone());
        out.push(line);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restored_claim_asks_for_at_least_the_restore_size_and_keeps_the_shape() {
        let r = ClaimRestore {
            namespace: "ns".into(),
            claim: "data-db-0".into(),
            workload: "ns/StatefulSet.apps/db".into(),
            snapshot: "kv-2-data-db-0".into(),
            revision: 2,
            restore_size: Some("2Gi".into()),
            set_aside: String::new(),
        };
        let old = json!({"metadata": {"labels": {"app": "db"}}, "spec": {"accessModes": ["ReadWriteOnce"],
            "storageClassName": "standard", "resources": {"requests": {"storage": "1Gi"}}}});
        let b = claim_body(&r, Some(&old));
        assert_eq!(b["spec"]["resources"]["requests"]["storage"], "2Gi");
        assert_eq!(b["spec"]["storageClassName"], "standard");
        assert_eq!(b["spec"]["dataSource"]["kind"], "VolumeSnapshot");
        assert_eq!(b["metadata"]["labels"]["app"], "db");
        assert_eq!(b["metadata"]["annotations"][ANN_RESTORED_FROM], "kv-2-data-db-0");
        let small = ClaimRestore {
            restore_size: Some("512Mi".into()),
            ..r
        };
        assert_eq!(
            claim_body(&small, Some(&old))["spec"]["resources"]["requests"]["storage"],
            "1Gi"
        );
    }

    /// Issue 18: the wait for the claim restored from a snapshot to bind beats (the reporter plays
    /// the provisioner: it binds the claim at the first heartbeat).
    #[tokio::test]
    async fn the_restored_claims_bind_wait_beats() {
        let fake = crate::cluster::FakeCluster::new("ns");
        fake.set_auto_ready(false);
        let body = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": "data-db-0", "namespace": "ns"},
            "spec": {"dataSource": {"apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot", "name": "kv-2-data-db-0"}}});
        let mut st = RestoreState {
            namespace: "ns".into(),
            claim: "data-db-0".into(),
            snapshot: "kv-2-data-db-0".into(),
            pv: "pv-0".into(),
            original_policy: "Delete".into(),
            body: body.clone(),
            stage: "released".into(),
        };
        let mut seen = Vec::new();
        let mut rep = |p: Progress| {
            if matches!(p, Progress::Waiting { .. }) {
                let mut bound = body.clone();
                bound["spec"]["volumeName"] = json!("pv-9");
                bound["status"] = json!({"phase": "Bound"});
                fake.put(bound);
            }
            seen.push(p);
        };
        let every = crate::executor::tests_heartbeat::EVERY;
        let mut pulse = Pulse::to(&mut rep, every, "db");
        finish(&fake, &mut st, Duration::from_secs(5), &mut pulse, |_, _| async {
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
                "db",
                "PersistentVolumeClaim/data-db-0 (namespace ns) to be Bound to the restored volume",
                "",
                "",
                Duration::from_secs(5)
            )),
            "{seen:#?}"
        );
    }
}
