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
}
