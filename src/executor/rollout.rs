//! Bringing one applied workload to health: pod by pod for `OnDelete` StatefulSets (highest
//! ordinal first, each pod Ready on the new spec before the next), else following the
//! controller's rollout; failing fast on a broken pod. Its waits wake on watches of the workload
//! and its pods (wake.rs), and a Deployment is done as soon as its pods say so (health.rs), not
//! one controller round trip later when its status does.

use std::time::Instant;

use serde_json::Value as Json;

use super::error::{broken, ApplyError};
use super::health::{
    current_replica_set_hash, deployment_done_by_pods, pod_health, rollout, set_pods_behind, stuck_pods, PodHealth,
    Rollout, Unstick,
};
use super::objects::{match_labels, obj_ref};
use super::progress::{ms, Beat, Progress};
use super::runner::Run;
use super::wake::Wake;
use crate::cluster::{Cascade, ObjRef};
use crate::manifest::Object;

impl Run<'_, '_> {
    /// Bring one applied workload to health: pod by pod for OnDelete StatefulSets, else follow
    /// the controller's rollout. Fails fast on a broken pod.
    pub(super) async fn roll(
        &mut self,
        component: &str,
        o: &Object,
        applied: &Json,
        t0: Instant,
    ) -> Result<(), ApplyError> {
        let res = self.roll_once(component, o, applied, t0).await;
        // Say why, without kubectl: the events and logs of the pods that are not healthy.
        if let Err(e) = &res {
            if !matches!(e, ApplyError::Interrupted(_)) {
                let selector = match o.key.kind.as_str() {
                    "Job" => format!("job-name={}", o.key.name),
                    _ => match_labels(&o.value),
                };
                self.diagnose_failure(component, &o.key.namespace, &selector).await;
            }
        }
        res
    }

    async fn roll_once(&mut self, component: &str, o: &Object, applied: &Json, t0: Instant) -> Result<(), ApplyError> {
        let r = obj_ref(o);
        // Jobs and bare pods run to completion: there is no rollout to follow (a Job's status has
        // no observedGeneration to wait for), and a CronJob has nothing to wait for.
        match o.key.kind.as_str() {
            "Job" | "Pod" => return self.complete(&r).await,
            "CronJob" => return Ok(()),
            _ => {}
        }
        let selector = match_labels(&o.value);
        let on_delete = o.key.kind == "StatefulSet"
            && o.value.pointer("/spec/updateStrategy/type").and_then(Json::as_str) == Some("OnDelete");
        let deadline = self.step_deadline();
        let mut hb = Beat::new();
        // Each pause ends as soon as the workload or one of its pods changes (wake.rs).
        let cluster = self.cluster;
        let mut wake = Wake::default();
        wake.watch(cluster, &r.api_version, &r.kind, &r.namespace, None, &r.name)
            .await;
        if !selector.is_empty() {
            wake.watch(cluster, "v1", "Pod", &r.namespace, Some(&selector), "")
                .await;
        }
        // Wait for the controller to see the new generation.
        let gen = applied
            .pointer("/metadata/generation")
            .and_then(Json::as_i64)
            .unwrap_or(0);
        let live = loop {
            let live = self
                .cluster
                .get(&r)
                .await?
                .ok_or_else(|| ApplyError::Other(format!("{r} vanished")))?;
            if live
                .pointer("/status/observedGeneration")
                .and_then(Json::as_i64)
                .unwrap_or(0)
                >= gen
            {
                break live;
            }
            self.check_deadline(deadline, &r, "to be observed by its controller")?;
            self.beat(&mut hb, component, &r, "to be observed by its controller", &[])
                .await;
            self.idle(&mut wake).await?;
        };
        if on_delete {
            let update_rev = live
                .pointer("/status/updateRevision")
                .and_then(Json::as_str)
                .unwrap_or("")
                .to_string();
            let desired = live.pointer("/spec/replicas").and_then(Json::as_i64).unwrap_or(1);
            // Highest ordinal first, as the StatefulSet controller updates; one pod at a time.
            for ord in (0..desired).rev() {
                // Another component failed: no pod goes down after that (the one in hand is Ready).
                self.keep_going()?;
                let name = format!("{}-{ord}", o.key.name);
                let pod_ref = ObjRef {
                    api_version: "v1".into(),
                    kind: "Pod".into(),
                    namespace: o.key.namespace.clone(),
                    name: name.clone(),
                };
                let t = Instant::now();
                let current = self.cluster.get(&pod_ref).await?;
                let on_new_spec = current.as_ref().is_some_and(|p| {
                    p.pointer("/metadata/labels/controller-revision-hash")
                        .and_then(Json::as_str)
                        == Some(update_rev.as_str())
                });
                let old_uid = match &current {
                    Some(p) if !on_new_spec => {
                        let uid = p.pointer("/metadata/uid").cloned();
                        // Issue 15: this pod's claims are snapshotted right before it goes down.
                        self.snapshot_pod(&o.key, &name).await?;
                        self.cluster.delete(&pod_ref, Cascade::Background, false).await?;
                        self.note(format!("deleted pod {name} to update it")).await?;
                        uid
                    }
                    _ => None,
                };
                self.wait_pod(component, &pod_ref, old_uid.as_ref(), &update_rev)
                    .await?;
                if !on_new_spec {
                    // Journal first: whatever was reported must be in the record if we die now.
                    self.note(format!("pod {name} Ready on the new spec")).await?;
                    self.rep.report(Progress::PodReplaced {
                        component: component.into(),
                        pod: name.clone(),
                        elapsed_ms: ms(t),
                    });
                }
                let live = self.cluster.get(&r).await?.unwrap_or(Json::Null);
                self.progress(component, &live, t0);
                hb.spoke();
            }
            // Then the controller's own account must agree (no extra pods, status caught up).
            loop {
                let live = self.cluster.get(&r).await?.unwrap_or(Json::Null);
                let n = |p: &str| live.pointer(p).and_then(Json::as_i64).unwrap_or(0);
                if n("/status/updatedReplicas") >= desired
                    && n("/status/readyReplicas") >= desired
                    && n("/status/replicas") <= desired
                {
                    self.progress(component, &live, t0);
                    return Ok(());
                }
                let pods = self.pods(&o.key.namespace, &selector).await?;
                if Instant::now() > deadline {
                    return Err(self.timed_out(&r, "to report every pod updated and ready", &pods));
                }
                self.beat(&mut hb, component, &r, "to report every pod updated and ready", &pods)
                    .await;
                self.idle(&mut wake).await?;
            }
        }
        let mut last = String::new();
        let mut current_rs = None;
        loop {
            // Another component failed: the controller's rollout is its own, chartup stops waiting.
            self.keep_going()?;
            let live = self
                .cluster
                .get(&r)
                .await?
                .ok_or_else(|| ApplyError::Other(format!("{r} vanished")))?;
            let pods = self.pods(&o.key.namespace, &selector).await?;
            // Pods stuck on an earlier, bad template are replaced (or left to their controller),
            // not taken for the new template's failure (unstick.rs).
            let leave = match stuck_pods(&live, &pods) {
                Unstick::Replace(stuck) => {
                    let update_rev = live
                        .pointer("/status/updateRevision")
                        .and_then(Json::as_str)
                        .unwrap_or("");
                    self.replace_stuck(component, &r, &update_rev.to_string(), &stuck)
                        .await?;
                    continue;
                }
                Unstick::ControllerReplaces(names) => names,
                Unstick::Nothing => vec![],
            };
            for p in pods.iter().filter(|p| {
                !leave
                    .iter()
                    .any(|n| Some(n.as_str()) == p.pointer("/metadata/name").and_then(Json::as_str))
            }) {
                if let PodHealth::Broken {
                    container,
                    reason,
                    message,
                } = pod_health(p)
                {
                    let name = p.pointer("/metadata/name").and_then(Json::as_str).unwrap_or("");
                    return Err(broken(name, &container, &reason, &message));
                }
            }
            // A StatefulSet's status can read done while pods it adopted (a recreate) are still on
            // the old template: believe it only when the pods agree.
            let verdict = match rollout(&live) {
                Rollout::Done if o.key.kind == "StatefulSet" => match set_pods_behind(&live, &pods) {
                    Some(detail) => Rollout::InProgress { detail },
                    None => Rollout::Done,
                },
                v => v,
            };
            if matches!(verdict, Rollout::InProgress { .. })
                && o.key.kind == "Deployment"
                && self
                    .done_by_pods(&live, &o.key.namespace, &selector, &pods, &mut current_rs)
                    .await
            {
                let desired = live.pointer("/spec/replicas").and_then(Json::as_i64).unwrap_or(1);
                self.rep.report(Progress::Component {
                    component: component.into(),
                    updated: desired,
                    desired,
                    ready: desired,
                    elapsed_ms: ms(t0),
                });
                return Ok(());
            }
            match verdict {
                Rollout::Done => {
                    self.progress(component, &live, t0);
                    return Ok(());
                }
                Rollout::InProgress { detail } => {
                    if detail != last {
                        self.progress(component, &live, t0);
                        hb.spoke();
                        last = detail;
                    }
                }
            }
            if Instant::now() > deadline {
                let pods = self.pods(&o.key.namespace, &selector).await?;
                return Err(self.timed_out(&r, "to roll out", &pods));
            }
            self.beat(&mut hb, component, &r, "to roll out", &pods).await;
            self.idle(&mut wake).await?;
        }
    }

    /// Whether a Deployment's pods already say its rollout is done (health.rs). `rs` keeps its
    /// current ReplicaSet's pod-template hash per revision: one list of ReplicaSets per revision,
    /// not per poll. A failed list only means the status decides, as it would without this.
    async fn done_by_pods(
        &self,
        live: &Json,
        ns: &str,
        selector: &str,
        pods: &[Json],
        rs: &mut Option<(String, Option<String>)>,
    ) -> bool {
        let rev = live
            .pointer("/metadata/annotations/deployment.kubernetes.io~1revision")
            .and_then(Json::as_str)
            .unwrap_or("");
        if rev.is_empty() || selector.is_empty() {
            return false;
        }
        if rs.as_ref().is_none_or(|(r, _)| r != rev) {
            let sets = self
                .cluster
                .list("apps/v1", "ReplicaSet", ns, Some(selector))
                .await
                .unwrap_or_default();
            *rs = Some((rev.to_string(), current_replica_set_hash(live, &sets)));
        }
        match rs {
            Some((_, Some(hash))) => deployment_done_by_pods(live, hash, pods),
            _ => false,
        }
    }

    /// Wait until the pod exists as a new pod (not `old_uid`) on `update_rev` and is Ready; fail
    /// fast when it is broken.
    pub(super) async fn wait_pod(
        &mut self,
        component: &str,
        pod_ref: &ObjRef,
        old_uid: Option<&Json>,
        update_rev: &str,
    ) -> Result<(), ApplyError> {
        let deadline = self.step_deadline();
        let mut hb = Beat::new();
        // Woken as soon as the pod changes (wake.rs): its Ready is seen at once.
        let cluster = self.cluster;
        let mut wake = Wake::default();
        wake.watch(cluster, "v1", "Pod", &pod_ref.namespace, None, &pod_ref.name)
            .await;
        loop {
            let current = self.cluster.get(pod_ref).await?;
            if let Some(np) = &current {
                let fresh = old_uid.is_none_or(|u| np.pointer("/metadata/uid") != Some(u));
                let h = np
                    .pointer("/metadata/labels/controller-revision-hash")
                    .and_then(Json::as_str)
                    .unwrap_or("");
                if fresh && h == update_rev {
                    match pod_health(np) {
                        PodHealth::Ready => return Ok(()),
                        PodHealth::Broken {
                            reason,
                            message,
                            container,
                        } => return Err(broken(&pod_ref.name, &container, &reason, &message)),
                        PodHealth::Failed { reason, message } => {
                            return Err(ApplyError::Other(format!(
                                "pod {} failed: {reason} {message}",
                                pod_ref.name
                            )))
                        }
                        _ => {}
                    }
                }
            }
            if Instant::now() > deadline {
                let pods: Vec<Json> = self.cluster.get(pod_ref).await?.into_iter().collect();
                return Err(self.timed_out(pod_ref, "to be Ready on the new spec", &pods));
            }
            let pods: Vec<Json> = current.into_iter().collect();
            self.beat(&mut hb, component, pod_ref, "to be Ready on the new spec", &pods)
                .await;
            self.idle(&mut wake).await?;
        }
    }
}
