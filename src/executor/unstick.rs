//! Replacing pods stuck on a bad template (kubernetes#67250), inside the health gate.
//!
//! After a failed RollingUpdate of an `OrderedReady` StatefulSet, reverting the template (a
//! rollback, `--atomic`) or applying a good one (fix-forward) changes nothing by itself: the
//! controller's walk stops at the first pod that is not Ready, before its update phase, so the
//! broken pod is never replaced (`OnDelete` never replaces one at all). The documented manual fix
//! is deleting the pod ("Forced rollback", kubernetes.io StatefulSet docs). chartup does that
//! itself, one pod at a time, highest ordinal first, and only for a pod the controller would
//! replace if it could reach its update phase: not Ready and created from neither the current
//! nor the target revision (`health::stuck_pods`). It evicts rather than deletes (PDBs are
//! honoured) with a UID precondition (the replacement has the same name), journals the action
//! first, then waits for the replacement to be Ready on the target revision before the next.
//! When the eviction cannot happen — a budget forbids it, or no permission — the error names the
//! pod, why, and the exact command.

use std::time::{Duration, Instant};

use serde_json::{json, Value as Json};

use super::error::ApplyError;
use super::health::{replace_command, StuckPod};
use super::progress::{ms, Beat, Progress};
use super::runner::Run;
use crate::cluster::{Eviction, ObjRef};

/// How long a PodDisruptionBudget's refusal is retried before it is reported: a budget that is
/// only briefly exhausted (another pod starting) frees up within seconds.
const PDB_PATIENCE: Duration = if cfg!(test) {
    Duration::from_millis(300)
} else {
    Duration::from_secs(20)
};

impl Run<'_, '_> {
    /// The live StatefulSet `o` when the plan leaves it unchanged but pods of it are stuck on an
    /// earlier template: a rollback that stopped at such a pod (its template was reverted
    /// already), or a retried one, plans no change for the set, yet the pod stays stuck unless
    /// replaced. Rolling it (rollout.rs) replaces them.
    pub(super) async fn stuck_though_unchanged(
        &mut self,
        o: &crate::manifest::Object,
    ) -> Result<Option<serde_json::Value>, ApplyError> {
        if o.key.kind != "StatefulSet" {
            return Ok(None);
        }
        let Some(live) = self.cluster.get(&super::objects::obj_ref(o)).await? else {
            return Ok(None);
        };
        let selector = super::objects::match_labels(&o.value);
        let pods = self.pods(&o.key.namespace, &selector).await?;
        Ok(matches!(
            super::health::stuck_pods(&live, &pods),
            super::health::Unstick::Replace(_)
        )
        .then_some(live))
    }

    /// Replace the first of `stuck` (they come highest ordinal first) and wait until its
    /// replacement is Ready on `update_rev`. The caller re-reads the workload and asks again.
    pub(super) async fn replace_stuck(
        &mut self,
        component: &str,
        workload: &ObjRef,
        update_rev: &str,
        stuck: &[StuckPod],
    ) -> Result<(), ApplyError> {
        let Some(p) = stuck.first() else { return Ok(()) };
        let ns = workload.namespace.clone();
        let t = Instant::now();
        let why = format!(
            "pod {} is stuck ({}, revision {}: neither the current nor the target template; its controller will not replace it)",
            p.name, p.reason, p.revision
        );
        self.rep.report(Progress::Step {
            step: format!("replacing stuck pod {} of {workload} ({})", p.name, p.reason),
        });
        self.note(format!(
            "replacing stuck pod {} ({}, revision {})",
            p.name, p.reason, p.revision
        ))
        .await?;
        let pod_ref = ObjRef::new("v1", "Pod", &ns, &p.name);
        let refused_until = Instant::now() + PDB_PATIENCE;
        let mut hb = Beat::within(PDB_PATIENCE);
        let mut attempt = 0;
        loop {
            match self.cluster.evict(&pod_ref, Some(&p.uid)).await {
                Ok(Eviction::Evicted) => break,
                Ok(Eviction::Blocked(msg)) => {
                    if Instant::now() > refused_until {
                        return Err(ApplyError::Other(format!(
                            "{why}, but a PodDisruptionBudget does not allow evicting it: {msg}\n  \
                             if the disruption is acceptable, replace it yourself: {}",
                            replace_command(&ns, &p.name)
                        )));
                    }
                    let wait =
                        crate::recovery::retry::Backoff::default().delay(attempt, crate::recovery::retry::jitter());
                    attempt += 1;
                    let what = format!("to be evicted: a PodDisruptionBudget refuses it ({msg})");
                    let pods: Vec<Json> = self.cluster.get(&pod_ref).await?.into_iter().collect();
                    self.beat_holders(&mut hb, component, &pod_ref, &what, &pods).await;
                    // A long backoff is cut short when the next heartbeat is due.
                    tokio::time::sleep(wait.min(hb.due_in(self.opts.heartbeat))).await;
                }
                Err(e) if e.status_code() == Some(403) => {
                    return Err(ApplyError::Other(format!(
                        "{why}, but you may not evict it (no permission: {})\n  ask for `create pods/eviction` in \
                         namespace {ns}, or have someone run: {}",
                        e.server_message(),
                        replace_command(&ns, &p.name)
                    )))
                }
                Err(e) => return Err(e.into()),
            }
        }
        self.wait_pod(component, &pod_ref, Some(&json!(p.uid)), update_rev)
            .await?;
        self.note(format!("stuck pod {} replaced: Ready on revision {update_rev}", p.name))
            .await?;
        self.rep.report(Progress::PodReplaced {
            component: component.into(),
            pod: p.name.clone(),
            elapsed_ms: ms(t),
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::{json, Value as Json};

    use super::super::options::ApplyOptions;
    use super::super::progress::Progress;
    use super::super::runner::Run;
    use crate::cluster::fake::FakeCluster;
    use crate::cluster::{Cluster, ObjRef};
    use crate::executor::health::{stuck_pods, Unstick};
    use crate::release::Release;
    use crate::storage::memory::MemoryStore;
    use crate::storage::ReleaseStore;

    fn pod(owner: &str, name: &str, rev: &str, ready: bool) -> Json {
        let waiting = json!({"waiting": {"reason": "ImagePullBackOff", "message": "no such image"}});
        json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "ns", "labels": {"app": "db", "controller-revision-hash": rev},
                         "ownerReferences": [{"controller": true, "uid": owner, "kind": "StatefulSet", "name": "db"}]},
            "status": {"phase": if ready { "Running" } else { "Pending" },
                "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}],
                "containerStatuses": [{"name": "db", "ready": ready,
                    "state": if ready { json!({"running": {}}) } else { waiting }}]}})
    }

    fn set() -> Json {
        json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db", "namespace": "ns", "uid": "set-uid"},
            "spec": {"replicas": 2, "updateStrategy": {"type": "RollingUpdate"}},
            "status": {"currentRevision": "db-a", "updateRevision": "db-a"}})
    }

    async fn run_replace(fake: &FakeCluster, stuck_name: &str) -> Result<Vec<Progress>, String> {
        let store = MemoryStore::new("ns");
        let mut rel: Release = serde_json::from_value(json!({"name": "db", "version": 2, "namespace": "ns",
            "info": {"status": "pending-rollback"}, "chart": {}, "manifest": ""}))
        .map_err(|e| e.to_string())?;
        store.create(&rel).await.map_err(|e| e.to_string())?;
        let live = fake.object("apps/v1", "StatefulSet", "ns", "db").unwrap();
        let pods = fake.objects_of("Pod");
        let Unstick::Replace(stuck) = stuck_pods(&live, &pods) else {
            return Err(format!("not stuck: {pods:?}"));
        };
        assert_eq!(stuck[0].name, stuck_name);
        let mut seen = Vec::new();
        let mut rep = |p: Progress| seen.push(p);
        let opts = ApplyOptions {
            timeout: Duration::from_secs(5),
            ..Default::default()
        };
        let mut run = Run {
            cluster: fake,
            store: &store,
            rel: &mut rel,
            rep: &mut rep,
            opts: &opts,
            timeout: opts.timeout,
            halt: None,
        };
        let r = ObjRef::new("apps/v1", "StatefulSet", "ns", "db");
        let result = run
            .replace_stuck("db", &r, "db-a", &stuck)
            .await
            .map_err(|e| e.to_string());
        result.map(|()| seen)
    }

    #[tokio::test]
    async fn a_stuck_pod_is_evicted_with_its_uid_and_its_replacement_awaited() {
        let fake = std::sync::Arc::new(FakeCluster::new("ns"));
        // The fake stamps its own uids: the pods name the set's.
        let owner = fake.put(set())["metadata"]["uid"].as_str().unwrap().to_string();
        fake.put(pod(&owner, "db-0", "db-a", true));
        let old = fake.put(pod(&owner, "db-1", "db-b", false));
        let old_uid = old["metadata"]["uid"].clone();
        // The controller's part: once the stuck pod is gone, its replacement comes, Ready, on db-a.
        let f = fake.clone();
        let controller = tokio::spawn(async move {
            while f.object("v1", "Pod", "ns", "db-1").is_some() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            f.put(pod(&owner, "db-1", "db-a", true));
        });
        let seen = run_replace(&fake, "db-1").await.unwrap();
        controller.await.unwrap();
        assert!(
            fake.requests()
                .iter()
                .any(|r| r.contains("evict") && r.contains("db-1")),
            "{:?}",
            fake.requests()
        );
        assert_ne!(
            fake.object("v1", "Pod", "ns", "db-1").unwrap()["metadata"]["uid"],
            old_uid
        );
        assert!(seen
            .iter()
            .any(|p| matches!(p, Progress::Step { step } if step.contains("replacing stuck pod db-1"))));
        assert!(seen
            .iter()
            .any(|p| matches!(p, Progress::PodReplaced { pod, .. } if pod == "db-1")));
        // The ready pod of the target revision was left alone.
        assert!(!fake
            .requests()
            .iter()
            .any(|r| r.contains("evict") && r.contains("db-0")));
    }

    /// A rollback that stopped at the stuck pod reverted the template already: run again, it
    /// plans no change for the set, yet the stuck pod must still be found (and only then).
    #[tokio::test]
    async fn an_unchanged_set_with_a_stuck_pod_is_still_rolled() {
        let fake = FakeCluster::new("ns");
        let owner = fake.put(set())["metadata"]["uid"].as_str().unwrap().to_string();
        fake.put(pod(&owner, "db-0", "db-a", true));
        let manifest = "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\n  namespace: ns\nspec:\n  \
                        selector:\n    matchLabels: {app: db}\n";
        let objects =
            crate::manifest::parse_documents(crate::manifest::split_documents(manifest), "ns").expect("a manifest");
        let o = &objects.objects[0];
        let store = MemoryStore::new("ns");
        let mut rel: Release = serde_json::from_value(json!({"name": "db", "version": 3, "namespace": "ns",
            "info": {"status": "pending-rollback"}, "chart": {}, "manifest": ""}))
        .unwrap();
        let opts = ApplyOptions::default();
        let mut rep = |_: Progress| {};
        let mut run = Run {
            cluster: &fake,
            store: &store,
            rel: &mut rel,
            rep: &mut rep,
            opts: &opts,
            timeout: opts.timeout,
            halt: None,
        };
        assert!(
            run.stuck_though_unchanged(o).await.unwrap().is_none(),
            "all Ready: left alone"
        );
        fake.put(pod(&owner, "db-1", "db-b", false));
        let live = run.stuck_though_unchanged(o).await.unwrap();
        assert_eq!(live.map(|l| l["metadata"]["name"].clone()), Some(json!("db")));
    }

    #[tokio::test]
    async fn a_budget_that_forbids_it_names_the_pod_and_the_command() {
        let fake = FakeCluster::new("ns");
        let owner = fake.put(set())["metadata"]["uid"].as_str().unwrap().to_string();
        fake.put(pod(&owner, "db-1", "db-b", false));
        fake.block_eviction("db-1");
        let e = run_replace(&fake, "db-1").await.unwrap_err();
        assert!(e.contains("pod db-1 is stuck (ImagePullBackOff, revision db-b"), "{e}");
        assert!(
            e.contains("PodDisruptionBudget") && e.contains("kubectl delete pod db-1 -n ns"),
            "{e}"
        );
        assert!(
            fake.object("v1", "Pod", "ns", "db-1").is_some(),
            "not deleted behind the budget's back"
        );
        let _ = fake.namespace();
    }
}
