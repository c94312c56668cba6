//! Judging pods and workloads from their status, without I/O.
//!
//! Fail fast is the point: `helm --wait` sits out its timeout while a pod is in ImagePullBackOff
//! (helm/helm#7429). A container waiting for one of [`BROKEN_REASONS`] will not recover on its
//! own, so the rollout stops at the first sighting with the pod, the reason and the message.

use serde_json::Value as Json;

/// Container waiting reasons that mean the pod is broken, not slow.
pub const BROKEN_REASONS: &[&str] = &[
    "ErrImagePull",
    "ImagePullBackOff",
    "CrashLoopBackOff",
    "CreateContainerConfigError",
    "InvalidImageName",
];

/// What a pod's status says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PodHealth {
    /// Running and Ready.
    Ready,
    /// Not (yet) ready, for an ordinary reason (scheduling, pulling, starting, probes).
    Progressing { reason: String },
    /// Broken: will not become ready without a change (bad image, crash loop, bad config).
    Broken {
        container: String,
        reason: String,
        message: String,
    },
    /// Completed (Job pods).
    Succeeded,
    /// The pod failed as a whole.
    Failed { reason: String, message: String },
    /// Being deleted.
    Terminating,
}

fn s<'a>(v: &'a Json, p: &str) -> &'a str {
    v.pointer(p).and_then(Json::as_str).unwrap_or("")
}

/// Judge one pod from its JSON (as the API returns it).
pub fn pod_health(pod: &Json) -> PodHealth {
    if pod.pointer("/metadata/deletionTimestamp").is_some_and(|t| !t.is_null()) {
        return PodHealth::Terminating;
    }
    let statuses = ["/status/initContainerStatuses", "/status/containerStatuses"];
    for path in statuses {
        for cs in pod.pointer(path).and_then(Json::as_array).into_iter().flatten() {
            let reason = s(cs, "/state/waiting/reason");
            if BROKEN_REASONS.contains(&reason) {
                return PodHealth::Broken {
                    container: s(cs, "/name").to_string(),
                    reason: reason.to_string(),
                    message: s(cs, "/state/waiting/message").to_string(),
                };
            }
        }
    }
    match s(pod, "/status/phase") {
        "Succeeded" => return PodHealth::Succeeded,
        "Failed" => {
            return PodHealth::Failed {
                reason: s(pod, "/status/reason").to_string(),
                message: s(pod, "/status/message").to_string(),
            }
        }
        _ => {}
    }
    let ready = pod
        .pointer("/status/conditions")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .any(|c| s(c, "/type") == "Ready" && s(c, "/status") == "True");
    if ready {
        return PodHealth::Ready;
    }
    let phase = s(pod, "/status/phase");
    let reason = pod
        .pointer("/status/containerStatuses")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .find_map(|cs| cs.pointer("/state/waiting/reason").and_then(Json::as_str))
        .map(str::to_string)
        .unwrap_or_else(|| {
            if phase.is_empty() {
                "Pending".to_string()
            } else {
                phase.to_string()
            }
        });
    PodHealth::Progressing { reason }
}

/// Why a pod that is not Ready is not, as `(container, reason, message)` — for the error when it
/// stays so past the timeout, and for `chartup status`. None for a Ready, completed or
/// terminating pod. The reason is the most specific the status holds: an unscheduled pod's
/// scheduling condition, a waiting container's reason, else the Ready condition's (the kubelet's
/// `ContainersNotReady`, with the containers that are running but not ready).
pub fn unready_detail(pod: &Json) -> Option<(String, String, String)> {
    if !matches!(
        pod_health(pod),
        PodHealth::Progressing { .. } | PodHealth::Broken { .. }
    ) {
        return None;
    }
    let conds: Vec<&Json> = pod
        .pointer("/status/conditions")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .collect();
    let cond = |t: &str| conds.iter().find(|c| s(c, "/type") == t).copied();
    if let Some(c) = cond("PodScheduled").filter(|c| s(c, "/status") == "False") {
        let reason = Some(s(c, "/reason"))
            .filter(|r| !r.is_empty())
            .unwrap_or("Unschedulable");
        return Some((String::new(), reason.to_string(), s(c, "/message").to_string()));
    }
    let statuses = ["/status/initContainerStatuses", "/status/containerStatuses"];
    let all: Vec<&Json> = statuses
        .iter()
        .flat_map(|p| pod.pointer(p).and_then(Json::as_array).into_iter().flatten())
        .collect();
    if let Some(cs) = all
        .iter()
        .find(|cs| !s(cs, "/state/waiting/reason").is_empty() && s(cs, "/state/waiting/reason") != "PodInitializing")
    {
        let mut message = s(cs, "/state/waiting/message").to_string();
        if message.is_empty() && s(pod, "/status/phase") == "Pending" {
            message = "the pod is Pending".to_string();
        }
        return Some((
            s(cs, "/name").to_string(),
            s(cs, "/state/waiting/reason").to_string(),
            message,
        ));
    }
    let unready: Vec<&str> = pod
        .pointer("/status/containerStatuses")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter(|cs| cs.get("ready").and_then(Json::as_bool) != Some(true))
        .map(|cs| s(cs, "/name"))
        .collect();
    let ready = cond("Ready");
    let reason =
        ready
            .map(|c| s(c, "/reason"))
            .filter(|r| !r.is_empty())
            .unwrap_or(if s(pod, "/status/phase").is_empty() {
                "Pending"
            } else {
                "ContainersNotReady"
            });
    let mut message = ready.map(|c| s(c, "/message")).unwrap_or("").to_string();
    if message.is_empty() && !unready.is_empty() {
        message = format!("containers with unready status: [{}]", unready.join(" "));
    }
    Some((
        unready.first().map(|c| c.to_string()).unwrap_or_default(),
        reason.to_string(),
        message,
    ))
}

/// Whether a workload has finished rolling out to its current spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rollout {
    Done,
    InProgress { detail: String },
}

fn n(v: &Json, p: &str) -> i64 {
    v.pointer(p).and_then(Json::as_i64).unwrap_or(0)
}

/// Judge a Deployment, StatefulSet (RollingUpdate) or DaemonSet from its JSON. StatefulSets with
/// OnDelete are driven pod by pod by the executor and judged per pod instead.
/// For a StatefulSet whose status says it is rolled out: `Some(why not)` unless exactly
/// `spec.replicas` of its pods exist, each on `status.updateRevision` and Ready.
/// Whether every container of the pod runs the image the workload's template names for it (a
/// pod's revision label can claim the new revision while it was created from the old template).
fn runs_template_images(workload: &Json, pod: &Json) -> bool {
    let containers = |v: &Json, p: &str| v.pointer(p).and_then(Json::as_array).cloned().unwrap_or_default();
    let have = containers(pod, "/spec/containers");
    containers(workload, "/spec/template/spec/containers").iter().all(|w| {
        have.iter()
            .find(|h| h["name"] == w["name"])
            .is_some_and(|h| h["image"] == w["image"])
    })
}

pub fn set_pods_behind(set: &Json, pods: &[Json]) -> Option<String> {
    let update = s(set, "/status/updateRevision");
    let desired = set.pointer("/spec/replicas").and_then(Json::as_i64).unwrap_or(1);
    // Ordinals below a RollingUpdate partition stay on the old revision on purpose.
    let partition = n(set, "/spec/updateStrategy/rollingUpdate/partition");
    let ordinal = |p: &Json| {
        let name = p.pointer("/metadata/name").and_then(Json::as_str).unwrap_or("");
        name.rsplit('-')
            .next()
            .and_then(|o| o.parse::<i64>().ok())
            .unwrap_or(i64::MAX)
    };
    // Only the set's own pods: another workload's selector may match the same labels.
    let uid = set.pointer("/metadata/uid").and_then(Json::as_str).unwrap_or("");
    let pods: Vec<&Json> = pods
        .iter()
        .filter(|p| {
            p.pointer("/metadata/ownerReferences")
                .and_then(Json::as_array)
                .is_some_and(|refs| {
                    refs.iter()
                        .any(|r| r["controller"] == true && r["uid"].as_str() == Some(uid))
                })
        })
        .collect();
    let behind: Vec<&str> = pods
        .iter()
        .filter(|p| {
            let revision = p
                .pointer("/metadata/labels/controller-revision-hash")
                .and_then(Json::as_str);
            let stale = revision != Some(update) || !runs_template_images(set, p);
            (ordinal(p) >= partition && stale) || pod_health(p) != PodHealth::Ready
        })
        .map(|p| p.pointer("/metadata/name").and_then(Json::as_str).unwrap_or(""))
        .collect();
    if behind.is_empty() && pods.len() as i64 == desired {
        None
    } else {
        Some(format!(
            "{} of {desired} pods on revision {update} and ready (not yet: {})",
            pods.len() - behind.len(),
            behind.join(", ")
        ))
    }
}

pub fn rollout(obj: &Json) -> Rollout {
    let generation = n(obj, "/metadata/generation");
    let observed = n(obj, "/status/observedGeneration");
    if observed < generation {
        return Rollout::InProgress {
            detail: format!("waiting for the controller to observe generation {generation}"),
        };
    }
    let kind = s(obj, "/kind");
    let desired = obj.pointer("/spec/replicas").and_then(Json::as_i64).unwrap_or(1);
    let progress = |updated: i64, ready: i64, total: i64, desired: i64| {
        if updated >= desired && ready >= desired && total <= desired {
            Rollout::Done
        } else {
            Rollout::InProgress {
                detail: format!("{updated}/{desired} updated, {ready} ready, {total} total"),
            }
        }
    };
    match kind {
        "Deployment" => progress(
            n(obj, "/status/updatedReplicas"),
            n(obj, "/status/availableReplicas"),
            n(obj, "/status/replicas"),
            desired,
        ),
        "StatefulSet" => {
            let current = s(obj, "/status/currentRevision");
            let update = s(obj, "/status/updateRevision");
            let updated = n(obj, "/status/updatedReplicas");
            let ready = n(obj, "/status/readyReplicas");
            // After a completed RollingUpdate the controller folds updatedReplicas into currentReplicas.
            let updated = if !update.is_empty() && current == update {
                n(obj, "/status/currentReplicas")
            } else {
                updated
            };
            progress(updated, ready, n(obj, "/status/replicas"), desired)
        }
        "DaemonSet" => {
            let want = n(obj, "/status/desiredNumberScheduled");
            progress(
                n(obj, "/status/updatedNumberScheduled"),
                n(obj, "/status/numberAvailable"),
                want,
                want,
            )
        }
        _ => Rollout::Done,
    }
}

/// The pod-template hash of a Deployment's current ReplicaSet among `sets` (listed by the
/// Deployment's selector): the one it owns whose revision annotation is the Deployment's. `None`
/// before the controller has named one.
pub fn current_replica_set_hash(deployment: &Json, sets: &[Json]) -> Option<String> {
    const REVISION: &str = "/metadata/annotations/deployment.kubernetes.io~1revision";
    let (uid, rev) = (s(deployment, "/metadata/uid"), s(deployment, REVISION));
    if uid.is_empty() || rev.is_empty() {
        return None;
    }
    sets.iter()
        .find(|rs| {
            s(rs, REVISION) == rev
                && rs
                    .pointer("/metadata/ownerReferences")
                    .and_then(Json::as_array)
                    .is_some_and(|o| o.iter().any(|r| s(r, "/uid") == uid))
        })
        .map(|rs| s(rs, "/metadata/labels/pod-template-hash").to_string())
        .filter(|h| !h.is_empty())
}

/// A Deployment's rollout judged from its pods (issue 16), which say it before the controller's
/// status does (a pod Ready, then its ReplicaSet's status, then the Deployment's — each a
/// controller round trip): done when as many pods of the current ReplicaSet (`hash`) as desired
/// are Ready and no pod of an older one is left, not even terminating — so never earlier than the
/// status would say (it stops counting a pod once it terminates). `minReadySeconds` is the
/// controller's to count: then only the status decides.
pub fn deployment_done_by_pods(deployment: &Json, hash: &str, pods: &[Json]) -> bool {
    let desired = deployment.pointer("/spec/replicas").and_then(Json::as_i64).unwrap_or(1);
    if n(deployment, "/metadata/generation") > n(deployment, "/status/observedGeneration")
        || n(deployment, "/spec/minReadySeconds") > 0
        || hash.is_empty()
    {
        return false;
    }
    let mut ready = 0;
    for p in pods {
        let current = s(p, "/metadata/labels/pod-template-hash") == hash;
        match pod_health(p) {
            _ if !current => return false,
            PodHealth::Ready => ready += 1,
            _ => {}
        }
    }
    ready >= desired
}

/// A pod no controller will replace by itself although it blocks the rollout (kubernetes#67250):
/// not Ready, and created from neither the workload's current nor its target template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StuckPod {
    pub name: String,
    /// For the eviction's UID precondition: a retry must never evict the replacement.
    pub uid: String,
    /// The revision it was created from.
    pub revision: String,
    /// Why it is not Ready (`ImagePullBackOff`, `CrashLoopBackOff`, `ContainersNotReady`…).
    pub reason: String,
}

/// What has to happen to a workload's pods that are stuck on a bad template, after the good
/// template is back (or a new one applied) and the controller has observed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unstick {
    /// Nothing stuck.
    Nothing,
    /// The controller replaces them itself: a Deployment scales down old ReplicaSets holding
    /// unhealthy pods first (`cleanupUnhealthyReplicas`), a DaemonSet replaces an out-of-date pod
    /// that is not available whatever its budget, a `Parallel` StatefulSet is not monotonic. The
    /// health gate waits for it.
    ControllerReplaces(Vec<String>),
    /// chartup has to replace these, one at a time (highest ordinal first, as the controller
    /// updates): an `OrderedReady` StatefulSet blocks on the first pod that is not Ready before it
    /// ever reaches its update phase, and `OnDelete` never replaces a pod.
    Replace(Vec<StuckPod>),
}

fn owned_by(pod: &Json, uid: &str) -> bool {
    pod.pointer("/metadata/ownerReferences")
        .and_then(Json::as_array)
        .is_some_and(|refs| {
            refs.iter()
                .any(|r| r["controller"] == true && r["uid"].as_str() == Some(uid))
        })
}

fn pod_ordinal(pod: &Json) -> i64 {
    s(pod, "/metadata/name")
        .rsplit('-')
        .next()
        .and_then(|o| o.parse::<i64>().ok())
        .unwrap_or(-1)
}

fn why_unready(pod: &Json) -> String {
    match pod_health(pod) {
        PodHealth::Broken { reason, .. } => reason,
        _ => unready_detail(pod).map(|d| d.1).unwrap_or_else(|| "NotReady".into()),
    }
}

/// Decide which pods of `workload` (its JSON, status observed) are stuck, from its pods (any
/// pods: only those it controls count). A pod not Ready *on* the current or target revision is
/// not stuck: it would come back identical, so it is the new template's own failure and the health
/// gate reports it. A terminating pod is already on its way out.
pub fn stuck_pods(workload: &Json, pods: &[Json]) -> Unstick {
    let uid = s(workload, "/metadata/uid");
    let mine = pods.iter().filter(|p| owned_by(p, uid));
    let unready = |p: &&Json| {
        !matches!(
            pod_health(p),
            PodHealth::Ready | PodHealth::Terminating | PodHealth::Succeeded
        )
    };
    match s(workload, "/kind") {
        "StatefulSet" => {
            let current = s(workload, "/status/currentRevision");
            let update = s(workload, "/status/updateRevision");
            let partition = n(workload, "/spec/updateStrategy/rollingUpdate/partition");
            let on_delete = s(workload, "/spec/updateStrategy/type") == "OnDelete";
            let mut stuck: Vec<StuckPod> = mine
                .filter(unready)
                .filter(|p| {
                    let rev = s(p, "/metadata/labels/controller-revision-hash");
                    rev != current && rev != update && (on_delete || pod_ordinal(p) >= partition)
                })
                .map(|p| StuckPod {
                    name: s(p, "/metadata/name").into(),
                    uid: s(p, "/metadata/uid").into(),
                    revision: s(p, "/metadata/labels/controller-revision-hash").into(),
                    reason: why_unready(p),
                })
                .collect();
            if stuck.is_empty() {
                return Unstick::Nothing;
            }
            if s(workload, "/spec/podManagementPolicy") == "Parallel" && !on_delete {
                return Unstick::ControllerReplaces(stuck.into_iter().map(|p| p.name).collect());
            }
            stuck.sort_by_key(|p| std::cmp::Reverse(pod_ordinal(&json_name(&p.name))));
            Unstick::Replace(stuck)
        }
        "Deployment" | "DaemonSet" => {
            // Judged by the images the template names: a Deployment's pods carry their
            // ReplicaSet's hash and a DaemonSet's its revision hash, neither of which the
            // workload's own status names.
            let names: Vec<String> = pods
                .iter()
                .filter(|p| {
                    owned_by(p, uid)
                        || s(p, "/metadata/ownerReferences/0/kind") == "ReplicaSet"
                            && s(p, "/metadata/ownerReferences/0/name")
                                .strip_prefix(s(workload, "/metadata/name"))
                                .is_some_and(|rest| rest.starts_with('-'))
                })
                .filter(unready)
                .filter(|p| !runs_template_images(workload, p))
                .map(|p| s(p, "/metadata/name").to_string())
                .collect();
            if names.is_empty() {
                Unstick::Nothing
            } else {
                Unstick::ControllerReplaces(names)
            }
        }
        _ => Unstick::Nothing,
    }
}

fn json_name(name: &str) -> Json {
    serde_json::json!({"metadata": {"name": name}})
}

/// The command a person runs when chartup may not replace a stuck pod itself.
pub fn replace_command(namespace: &str, pod: &str) -> String {
    format!("kubectl delete pod {pod} -n {namespace}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(phase: &str, ready: bool, waiting: Option<(&str, &str)>) -> Json {
        let mut cs = json!({"name": "app", "ready": ready, "state": {"running": {}}});
        if let Some((r, m)) = waiting {
            cs["state"] = json!({"waiting": {"reason": r, "message": m}});
        }
        json!({"metadata": {"name": "p"}, "status": {"phase": phase,
            "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}}],
            "containerStatuses": [cs]}})
    }

    /// What the Deployment controller of Kubernetes 1.20 writes: the Deployment's and its
    /// ReplicaSets' `deployment.kubernetes.io/revision`, the ReplicaSet's `pod-template-hash`.
    #[test]
    fn a_deployment_is_done_by_its_pods_only_when_no_old_pod_is_left() {
        let d = json!({"kind": "Deployment", "spec": {"replicas": 2},
            "metadata": {"name": "web", "uid": "d1", "generation": 3,
                         "annotations": {"deployment.kubernetes.io/revision": "2"}},
            "status": {"observedGeneration": 3, "replicas": 3, "updatedReplicas": 1, "readyReplicas": 3}});
        let rs = |hash: &str, rev: &str, owner: &str| {
            json!({"metadata": {"name": format!("web-{hash}"), "labels": {"pod-template-hash": hash},
                "annotations": {"deployment.kubernetes.io/revision": rev},
                "ownerReferences": [{"kind": "Deployment", "controller": true, "uid": owner}]}})
        };
        let sets = [rs("old", "1", "d1"), rs("new", "2", "d1"), rs("other", "2", "d2")];
        assert_eq!(current_replica_set_hash(&d, &sets).as_deref(), Some("new"));
        assert_eq!(current_replica_set_hash(&d, &sets[..1]), None);
        let mut unnamed = d.clone();
        unnamed["metadata"]["annotations"] = json!({});
        assert_eq!(current_replica_set_hash(&unnamed, &sets), None);

        let p = |hash: &str, ready: bool, terminating: bool| {
            let mut p = pod("Running", ready, None);
            p["metadata"] = json!({"name": format!("web-{hash}-x"), "labels": {"pod-template-hash": hash}});
            if terminating {
                p["metadata"]["deletionTimestamp"] = json!("2026-12-06T11:00:00Z");
            }
            p
        };
        let done = |pods: &[Json]| deployment_done_by_pods(&d, "new", pods);
        assert!(done(&[p("new", true, false), p("new", true, false)]));
        // An old pod not yet retired, or still terminating: not done (the status would not say so
        // before it terminates; the pods not before it is gone).
        assert!(!done(&[
            p("new", true, false),
            p("new", true, false),
            p("old", true, false)
        ]));
        assert!(!done(&[
            p("new", true, false),
            p("new", true, false),
            p("old", true, true)
        ]));
        // Too few Ready pods of the current ReplicaSet.
        assert!(!done(&[p("new", true, false), p("new", false, false)]));
        assert!(!done(&[p("new", true, false), p("new", true, true)]));
        // The controller has not seen the new generation, or counts minReadySeconds itself.
        let mut behind = d.clone();
        behind["status"]["observedGeneration"] = json!(2);
        assert!(!deployment_done_by_pods(
            &behind,
            "new",
            &[p("new", true, false), p("new", true, false)]
        ));
        let mut slow = d.clone();
        slow["spec"]["minReadySeconds"] = json!(10);
        assert!(!deployment_done_by_pods(
            &slow,
            "new",
            &[p("new", true, false), p("new", true, false)]
        ));
        assert!(!deployment_done_by_pods(&d, "", &[]));
    }

    #[test]
    fn statefulset_pods_must_agree_with_its_status() {
        let set = json!({"metadata": {"uid": "u1"}, "spec": {"replicas": 2}, "status": {"updateRevision": "db-new"}});
        let pod = |name: &str, rev: &str| {
            json!({"metadata": {"name": name, "labels": {"controller-revision-hash": rev},
                                "ownerReferences": [{"controller": true, "uid": "u1"}]},
                   "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}],
                              "containerStatuses": [{"name": "db", "ready": true, "state": {"running": {}}}]}})
        };
        assert_eq!(
            set_pods_behind(&set, &[pod("db-0", "db-new"), pod("db-1", "db-new")]),
            None
        );
        let templated = json!({"metadata": {"uid": "u1"}, "spec": {"replicas": 1,
            "template": {"spec": {"containers": [{"name": "db", "image": "postgres:16"}]}}},
            "status": {"updateRevision": "db-new"}});
        let mut old_image = pod("db-0", "db-new");
        old_image["spec"] = json!({"containers": [{"name": "db", "image": "postgres:15"}]});
        assert!(set_pods_behind(&templated, &[old_image.clone()]).is_some(), "old image");
        old_image["spec"]["containers"][0]["image"] = json!("postgres:16");
        assert_eq!(set_pods_behind(&templated, &[old_image]), None);
        let behind = set_pods_behind(&set, &[pod("db-0", "db-old"), pod("db-1", "db-new")]).unwrap();
        assert!(behind.contains("not yet: db-0"), "{behind}");
        assert!(
            set_pods_behind(&set, &[pod("db-0", "db-new")]).is_some(),
            "a pod missing"
        );
        // Pods of another set with the same labels do not count.
        let mut other = pod("old-0", "old-x");
        other["metadata"]["ownerReferences"][0]["uid"] = json!("u2");
        assert_eq!(
            set_pods_behind(&set, &[pod("db-0", "db-new"), pod("db-1", "db-new"), other]),
            None
        );
        let canary = json!({"metadata": {"uid": "u1"}, "spec": {"replicas": 2, "updateStrategy": {"rollingUpdate": {"partition": 1}}},
                            "status": {"updateRevision": "db-new"}});
        assert_eq!(
            set_pods_behind(&canary, &[pod("db-0", "db-old"), pod("db-1", "db-new")]),
            None
        );
        assert!(set_pods_behind(&canary, &[pod("db-0", "db-old"), pod("db-1", "db-old")]).is_some());
    }

    #[test]
    fn broken_pods_are_recognised_by_waiting_reason() {
        for r in BROKEN_REASONS {
            let h = pod_health(&pod("Pending", false, Some((r, "boom"))));
            assert_eq!(
                h,
                PodHealth::Broken {
                    container: "app".into(),
                    reason: r.to_string(),
                    message: "boom".into()
                }
            );
        }
        assert_eq!(
            pod_health(&pod("Pending", false, Some(("ContainerCreating", "")))),
            PodHealth::Progressing {
                reason: "ContainerCreating".into()
            }
        );
        assert_eq!(pod_health(&pod("Running", true, None)), PodHealth::Ready);
        assert_eq!(
            pod_health(&pod("Running", false, None)),
            PodHealth::Progressing {
                reason: "Running".into()
            }
        );
        assert_eq!(pod_health(&pod("Succeeded", false, None)), PodHealth::Succeeded);
        let mut t = pod("Running", true, None);
        t["metadata"]["deletionTimestamp"] = json!("2026-11-21T00:00:00Z");
        assert_eq!(pod_health(&t), PodHealth::Terminating);
    }

    #[test]
    fn init_container_crash_loops_count_too() {
        let p = json!({"status": {"phase": "Pending", "initContainerStatuses": [
            {"name": "migrate", "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 10s"}}}]}});
        assert!(matches!(pod_health(&p), PodHealth::Broken { ref container, .. } if container == "migrate"));
    }

    #[test]
    fn unready_pods_say_why() {
        // Running, never Ready (a failing readiness probe), as nodesim and the kubelet write it.
        let mut p = pod("Running", false, None);
        p["status"]["conditions"][0]["reason"] = json!("ContainersNotReady");
        assert_eq!(
            unready_detail(&p),
            Some((
                "app".into(),
                "ContainersNotReady".into(),
                "containers with unready status: [app]".into()
            ))
        );
        // Waiting for its volume.
        let w = pod("Pending", false, Some(("ContainerCreating", "")));
        assert_eq!(
            unready_detail(&w),
            Some(("app".into(), "ContainerCreating".into(), "the pod is Pending".into()))
        );
        // Not scheduled at all.
        let u = json!({"status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False",
            "reason": "Unschedulable", "message": "0/1 nodes are available: 1 Insufficient cpu."}]}});
        assert_eq!(
            unready_detail(&u),
            Some((
                String::new(),
                "Unschedulable".into(),
                "0/1 nodes are available: 1 Insufficient cpu.".into()
            ))
        );
        assert_eq!(unready_detail(&pod("Running", true, None)), None);
        assert_eq!(unready_detail(&pod("Succeeded", false, None)), None);
    }

    #[test]
    fn workload_rollout_needs_observed_generation_and_counts() {
        let d = json!({"kind": "Deployment", "metadata": {"generation": 2}, "spec": {"replicas": 2},
            "status": {"observedGeneration": 2, "updatedReplicas": 2, "availableReplicas": 2, "replicas": 3}});
        assert!(
            matches!(rollout(&d), Rollout::InProgress { .. }),
            "an old pod is still there"
        );
        let done = json!({"kind": "Deployment", "metadata": {"generation": 2}, "spec": {"replicas": 2},
            "status": {"observedGeneration": 2, "updatedReplicas": 2, "availableReplicas": 2, "replicas": 2}});
        assert_eq!(rollout(&done), Rollout::Done);
        let stale = json!({"kind": "Deployment", "metadata": {"generation": 3}, "spec": {"replicas": 2},
            "status": {"observedGeneration": 2, "updatedReplicas": 2, "availableReplicas": 2, "replicas": 2}});
        assert!(matches!(rollout(&stale), Rollout::InProgress { .. }));
        let sts = json!({"kind": "StatefulSet", "metadata": {"generation": 1}, "spec": {"replicas": 3},
            "status": {"observedGeneration": 1, "currentRevision": "a", "updateRevision": "a",
                       "currentReplicas": 3, "readyReplicas": 3, "replicas": 3}});
        assert_eq!(rollout(&sts), Rollout::Done);
    }

    fn sts_pod(name: &str, rev: &str, ready: bool, waiting: Option<&str>) -> Json {
        let mut p = pod(
            if ready { "Running" } else { "Pending" },
            ready,
            waiting.map(|w| (w, "")),
        );
        p["metadata"] = json!({"name": name, "uid": format!("uid-{name}"),
            "labels": {"controller-revision-hash": rev},
            "ownerReferences": [{"controller": true, "uid": "set"}]});
        p
    }

    fn set(strategy: &str, policy: &str, current: &str, update: &str) -> Json {
        json!({"kind": "StatefulSet", "metadata": {"name": "db", "uid": "set"},
            "spec": {"replicas": 3, "podManagementPolicy": policy, "updateStrategy": {"type": strategy}},
            "status": {"currentRevision": current, "updateRevision": update}})
    }

    #[test]
    fn a_broken_pod_of_neither_revision_is_stuck_after_a_rollback() {
        // Upgrade a → b broke db-2 (ImagePullBackOff); the rollback put a back: current = update = a.
        let pods = [
            sts_pod("db-0", "db-a", true, None),
            sts_pod("db-1", "db-a", true, None),
            sts_pod("db-2", "db-b", false, Some("ImagePullBackOff")),
        ];
        let got = stuck_pods(&set("RollingUpdate", "OrderedReady", "db-a", "db-a"), &pods);
        assert_eq!(
            got,
            Unstick::Replace(vec![StuckPod {
                name: "db-2".into(),
                uid: "uid-db-2".into(),
                revision: "db-b".into(),
                reason: "ImagePullBackOff".into()
            }])
        );
        // Fix-forward a → c: the broken b pod is stuck too; ready a pods are the controller's.
        let got = stuck_pods(&set("RollingUpdate", "OrderedReady", "db-a", "db-c"), &pods);
        assert!(
            matches!(got, Unstick::Replace(ref v) if v.len() == 1 && v[0].name == "db-2"),
            "{got:?}"
        );
        // OnDelete: the same pod, and it never heals by itself.
        let got = stuck_pods(&set("OnDelete", "OrderedReady", "db-a", "db-a"), &pods);
        assert!(matches!(got, Unstick::Replace(ref v) if v.len() == 1), "{got:?}");
        // Parallel: the controller's update phase runs and replaces it.
        let got = stuck_pods(&set("RollingUpdate", "Parallel", "db-a", "db-a"), &pods);
        assert_eq!(got, Unstick::ControllerReplaces(vec!["db-2".into()]));
    }

    #[test]
    fn a_pod_failing_on_the_target_revision_is_not_stuck() {
        // It would come back identical: the target template's own failure, for the health gate.
        let pods = [
            sts_pod("db-0", "db-a", true, None),
            sts_pod("db-2", "db-b", false, Some("CrashLoopBackOff")),
        ];
        assert_eq!(
            stuck_pods(&set("RollingUpdate", "OrderedReady", "db-a", "db-b"), &pods),
            Unstick::Nothing
        );
        assert_eq!(
            stuck_pods(&set("RollingUpdate", "OrderedReady", "db-b", "db-b"), &pods),
            Unstick::Nothing
        );
        // Ready pods of an old revision are the controller's to update, not stuck.
        let pods = [sts_pod("db-0", "db-x", true, None)];
        assert_eq!(
            stuck_pods(&set("RollingUpdate", "OrderedReady", "db-a", "db-b"), &pods),
            Unstick::Nothing
        );
        // Terminating pods are on their way out; another set's pods do not count.
        let mut t = sts_pod("db-1", "db-x", false, Some("ImagePullBackOff"));
        t["metadata"]["deletionTimestamp"] = json!("2026-12-06T00:00:00Z");
        let mut other = sts_pod("web-0", "web-x", false, Some("ImagePullBackOff"));
        other["metadata"]["ownerReferences"][0]["uid"] = json!("other");
        assert_eq!(
            stuck_pods(&set("RollingUpdate", "OrderedReady", "db-a", "db-a"), &[t, other]),
            Unstick::Nothing
        );
    }

    #[test]
    fn stuck_pods_go_highest_ordinal_first_and_respect_the_partition() {
        let pods = [
            sts_pod("db-0", "db-b", false, Some("ImagePullBackOff")),
            sts_pod("db-10", "db-b", false, Some("ImagePullBackOff")),
            sts_pod("db-2", "db-b", false, None),
        ];
        let Unstick::Replace(v) = stuck_pods(&set("RollingUpdate", "OrderedReady", "db-a", "db-a"), &pods) else {
            panic!()
        };
        let names: Vec<&str> = v.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["db-10", "db-2", "db-0"]);
        let mut canary = set("RollingUpdate", "OrderedReady", "db-a", "db-a");
        canary["spec"]["updateStrategy"]["rollingUpdate"] = json!({"partition": 1});
        let Unstick::Replace(v) = stuck_pods(&canary, &pods) else {
            panic!()
        };
        assert!(v.iter().all(|p| p.name != "db-0"), "{v:?}");
    }

    #[test]
    fn deployments_and_daemonsets_heal_themselves() {
        let d = json!({"kind": "Deployment", "metadata": {"name": "web", "uid": "d"},
            "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "nginx:1"}]}}}});
        let mut bad = pod("Pending", false, Some(("ImagePullBackOff", "")));
        bad["metadata"] = json!({"name": "web-bad-x", "ownerReferences": [{"kind": "ReplicaSet", "name": "web-bad", "controller": true, "uid": "rs2"}]});
        bad["spec"] = json!({"containers": [{"name": "app", "image": "nginx:nope"}]});
        let mut good = pod("Running", true, None);
        good["metadata"] = json!({"name": "web-good-y", "ownerReferences": [{"kind": "ReplicaSet", "name": "web-good", "controller": true, "uid": "rs1"}]});
        good["spec"] = json!({"containers": [{"name": "app", "image": "nginx:1"}]});
        assert_eq!(
            stuck_pods(&d, &[bad.clone(), good.clone()]),
            Unstick::ControllerReplaces(vec!["web-bad-x".into()])
        );
        assert_eq!(stuck_pods(&d, &[good]), Unstick::Nothing);
        let ds = json!({"kind": "DaemonSet", "metadata": {"name": "agent", "uid": "ds"},
            "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "nginx:1"}]}}}});
        bad["metadata"] =
            json!({"name": "agent-abc", "ownerReferences": [{"kind": "DaemonSet", "controller": true, "uid": "ds"}]});
        assert_eq!(
            stuck_pods(&ds, &[bad]),
            Unstick::ControllerReplaces(vec!["agent-abc".into()])
        );
    }
}
