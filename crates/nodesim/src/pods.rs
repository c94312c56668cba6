//! The simulated scheduler + kubelet: binds pods to the node and writes their status.
//!
//! There is no scheduler in the test control plane, so every pod without `nodeName` is bound to
//! a simulated node through the Binding subresource: the node a required node affinity on
//! `metadata.name` names (how the DaemonSet controller pins its pods), when it is one of ours, else
//! the first node. Taints and resources are not checked. For a pod on the node, status is a pure
//! function of the pod spec, its claims and the time since nodesim first saw it (kept in memory
//! per pod UID), so a reconcile is idempotent and the status is only patched when it changes:
//!
//! - a claim of the pod not Bound → Pending, containers `ContainerCreating`;
//! - an image missing from the catalogue → `ErrImagePull` for 1 s, then `ImagePullBackOff`;
//! - a container marked to crash → runs 1 s, exits 1, `CrashLoopBackOff` (back-off 2 s, 4 s, then
//!   5 s; real kubelets use 10 s … 5 min) with a rising restart count; under restartPolicy Never
//!   it runs for `run-seconds` (default 1) and the pod fails instead;
//! - a container marked unready → Running, never Ready;
//! - restartPolicy Never/OnFailure (Job and hook pods) → Running, then after `run-seconds`
//!   (default 1) terminated with exit code 0 and the pod Succeeded;
//! - otherwise → Running and Ready (readiness probes are considered passing);
//! - deletionTimestamp set → the pod is deleted with grace period 0 (the "containers" are gone).
//!
//! Markers (pod annotations, or the container's env for per-container control):
//! - `nodesim.chartup.io/crash: "true"` (all containers) or `"name1,name2"`; env `NODESIM_CRASH=true`
//! - `nodesim.chartup.io/unready`, env `NODESIM_UNREADY` — same forms
//! - `nodesim.chartup.io/exit-code: "3"`, env `NODESIM_EXIT_CODE=3` — a non-zero code crashes with it
//! - `nodesim.chartup.io/run-seconds: "2.5"` or `"inf"` — how long a Never/OnFailure pod runs
//!   (under Never also before it fails with its exit code); read again on every change of the pod,
//!   so a test ends an `"inf"` run by setting it to `"0"`

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Container, PersistentVolumeClaim, Pod};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, Preconditions};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::ResourceExt;
use serde_json::{json, Value};

use crate::images::{normalize, Catalogue};
use crate::{is_conflict, is_not_found, Ctx, SimError};

const RUN_BEFORE_CRASH: Duration = Duration::from_secs(1);
const PULL_ERROR_FOR: Duration = Duration::from_secs(1);

/// What nodesim remembers about a pod on its node.
struct SimState {
    seen: jiff::Timestamp,
    pull_start: Option<Instant>,
    run_start: Option<(Instant, jiff::Timestamp)>,
    ip: String,
}

/// Per-UID simulation state and the pod IP allocator.
#[derive(Default)]
pub struct PodStates {
    states: Mutex<HashMap<String, SimState>>,
    next_ip: AtomicU32,
    catalogue: Mutex<Option<Arc<Catalogue>>>,
}

impl PodStates {
    fn catalogue(&self, ctx: &Ctx) -> Arc<Catalogue> {
        let mut c = self.catalogue.lock().unwrap_or_else(|e| e.into_inner());
        c.get_or_insert_with(|| Arc::new(Catalogue::new(ctx.opts.images.as_deref())))
            .clone()
    }
}

fn ts(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn after(t: jiff::Timestamp, d: Duration) -> jiff::Timestamp {
    let span = jiff::SignedDuration::try_from(d).unwrap_or(jiff::SignedDuration::ZERO);
    t.checked_add(span).unwrap_or(t)
}

/// Is the pod/container marked by annotation `key` ("true" or a list of names) or env `env`?
fn marked(pod: &Pod, c: &Container, key: &str, env: &str) -> bool {
    let by_annotation = pod.annotations().get(key).is_some_and(|v| {
        let v = v.trim();
        v.eq_ignore_ascii_case("true") || v.split(',').any(|n| n.trim() == c.name)
    });
    by_annotation || env_value(c, env).is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

fn env_value<'a>(c: &'a Container, name: &str) -> Option<&'a str> {
    c.env.as_ref()?.iter().find(|e| e.name == name)?.value.as_deref()
}

fn exit_code(pod: &Pod, c: &Container) -> i32 {
    if marked(pod, c, "nodesim.chartup.io/crash", "NODESIM_CRASH") {
        return 1;
    }
    env_value(c, "NODESIM_EXIT_CODE")
        .or_else(|| {
            pod.annotations()
                .get("nodesim.chartup.io/exit-code")
                .map(String::as_str)
        })
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

fn run_seconds(pod: &Pod) -> Option<Duration> {
    match pod
        .annotations()
        .get("nodesim.chartup.io/run-seconds")
        .map(|s| s.trim())
    {
        Some("inf") | Some("forever") => None,
        Some(v) => Some(
            v.parse::<f64>()
                .ok()
                .filter(|s| s.is_finite() && *s >= 0.0)
                .map_or(Duration::from_secs(1), Duration::from_secs_f64),
        ),
        None => Some(Duration::from_secs(1)),
    }
}

fn crash_backoff(i: u32) -> Duration {
    Duration::from_secs(match i {
        0 => 2,
        1 => 4,
        _ => 5,
    })
}

/// One container's simulated state at `elapsed` since the pod started running.
struct CState {
    state: Value,
    last: Value,
    ready: bool,
    restarts: u32,
    started: bool,
    /// Terminated for good (restartPolicy Never, or a completed job container).
    done: Option<i32>,
    next_change: Option<Duration>,
}

fn running(start: jiff::Timestamp) -> Value {
    json!({"running": {"startedAt": ts(start)}})
}

fn terminated(code: i32, start: jiff::Timestamp, end: jiff::Timestamp, cid: &str) -> Value {
    let reason = if code == 0 { "Completed" } else { "Error" };
    json!({"terminated": {"exitCode": code, "reason": reason, "startedAt": ts(start), "finishedAt": ts(end),
                          "containerID": cid}})
}

fn simulate(pod: &Pod, c: &Container, policy: &str, elapsed: Duration, t0: jiff::Timestamp, cid: &str) -> CState {
    let code = exit_code(pod, c);
    let unready = marked(pod, c, "nodesim.chartup.io/unready", "NODESIM_UNREADY");
    let batch = policy == "Never" || policy == "OnFailure";
    let mut st = CState {
        state: running(t0),
        last: json!({}),
        ready: !unready,
        restarts: 0,
        started: true,
        done: None,
        next_change: None,
    };
    if code == 0 {
        if batch {
            match run_seconds(pod) {
                Some(d) if elapsed >= d => {
                    st.state = terminated(0, t0, after(t0, d), cid);
                    st.ready = false;
                    st.started = false;
                    st.done = Some(0);
                }
                Some(d) => st.next_change = Some(d - elapsed),
                None => {}
            }
        }
        return st;
    }
    // A crashing container: never Ready.
    st.ready = false;
    if policy == "Never" {
        // Runs as long as a succeeding one would (`run-seconds`, default 1 s), then fails: a test
        // can hold a failing hook running and end it by changing the annotation.
        match run_seconds(pod) {
            Some(d) if elapsed >= d => {
                st.state = terminated(code, t0, after(t0, d), cid);
                st.started = false;
                st.done = Some(code);
            }
            Some(d) => st.next_change = Some(d - elapsed),
            None => {}
        }
        return st;
    }
    // Run i lasts RUN_BEFORE_CRASH, then back-off i; the count rises when a run ends.
    let (mut t, mut i) = (Duration::ZERO, 0u32);
    let mut prev: Option<(Duration, Duration)> = None;
    loop {
        let end = t + RUN_BEFORE_CRASH;
        let last = |p: Option<(Duration, Duration)>| match p {
            Some((s, e)) => terminated(
                code,
                after(t0, s),
                after(t0, e),
                &format!("{cid}-{}", i.saturating_sub(1)),
            ),
            None => json!({}),
        };
        if elapsed < end {
            st.state = running(after(t0, t));
            st.last = last(prev);
            st.restarts = i;
            st.next_change = Some(end - elapsed);
            return st;
        }
        let resume = end + crash_backoff(i);
        if elapsed < resume {
            let msg = format!(
                "back-off {}s restarting failed container={} pod={}",
                crash_backoff(i).as_secs(),
                c.name,
                pod.name_any()
            );
            st.state = json!({"waiting": {"reason": "CrashLoopBackOff", "message": msg}});
            st.last = terminated(code, after(t0, t), after(t0, end), &format!("{cid}-{i}"));
            st.restarts = i + 1;
            st.started = false;
            st.next_change = Some(resume - elapsed);
            return st;
        }
        prev = Some((t, end));
        t = resume;
        i += 1;
    }
}

fn waiting_status(c: &Container, reason: &str, message: Option<String>) -> Value {
    let mut w = json!({"reason": reason});
    if let Some(m) = message {
        w["message"] = Value::String(m);
    }
    json!({"name": c.name, "image": c.image.clone().unwrap_or_default(), "imageID": "", "ready": false,
           "restartCount": 0, "started": false, "state": {"waiting": w}, "lastState": {}})
}

fn condition(ty: &str, ok: bool, reason: Option<&str>) -> Value {
    let mut c = json!({"type": ty, "status": if ok { "True" } else { "False" }});
    if let Some(r) = reason {
        c["reason"] = Value::String(r.to_string());
    }
    c
}

/// The status fields nodesim controls, without timestamps: patch only when these differ.
fn signature(status: &Value) -> Value {
    let containers = |key: &str| -> Vec<Value> {
        status[key]
            .as_array()
            .map(|cs| {
                cs.iter()
                    .map(|c| {
                        let state = |s: &Value| {
                            s.as_object()
                                .and_then(|o| o.iter().next())
                                .map(|(k, v)| (k.clone(), v["reason"].clone()))
                        };
                        json!([
                            c["name"],
                            c["ready"],
                            c["restartCount"],
                            state(&c["state"]),
                            state(&c["lastState"])
                        ])
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut conds: Vec<Value> = status["conditions"]
        .as_array()
        .map(|cs| cs.iter().map(|c| json!([c["type"], c["status"]])).collect())
        .unwrap_or_default();
    conds.sort_by_key(|c| c.to_string());
    json!({"phase": status["phase"], "podIP": status["podIP"], "conditions": conds,
           "containers": containers("containerStatuses"), "init": containers("initContainerStatuses")})
}

async fn claims_pending(pod: &Pod, ctx: &Ctx) -> Result<Vec<String>, SimError> {
    let ns = pod.namespace().unwrap_or_default();
    let api: Api<PersistentVolumeClaim> = Api::namespaced(ctx.client.clone(), &ns);
    let mut pending = Vec::new();
    let volumes = pod.spec.as_ref().and_then(|s| s.volumes.clone()).unwrap_or_default();
    for v in volumes {
        let Some(claim) = v.persistent_volume_claim else {
            continue;
        };
        let bound = match api.get_opt(&claim.claim_name).await? {
            Some(pvc) => pvc.status.and_then(|s| s.phase).as_deref() == Some("Bound"),
            None => false,
        };
        if !bound {
            pending.push(claim.claim_name);
        }
    }
    Ok(pending)
}

/// The node names a pod's required node affinity allows through `matchFields` on `metadata.name`
/// (`In`), in order; empty when it has no such term.
fn pinned_nodes(pod: &Pod) -> Vec<String> {
    let terms = pod
        .spec
        .as_ref()
        .and_then(|s| s.affinity.as_ref())
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|n| n.required_during_scheduling_ignored_during_execution.as_ref())
        .map(|r| r.node_selector_terms.clone())
        .unwrap_or_default();
    terms
        .iter()
        .flat_map(|t| t.match_fields.iter().flatten())
        .filter(|f| f.key == "metadata.name" && f.operator == "In")
        .flat_map(|f| f.values.iter().flatten().cloned())
        .collect()
}

/// Where to bind a pod: the first of our nodes it is pinned to, else our first node.
fn choose_node(pod: &Pod, ours: &[String]) -> Option<String> {
    let pinned = pinned_nodes(pod);
    if pinned.is_empty() {
        return ours.first().cloned();
    }
    pinned.into_iter().find(|n| ours.contains(n))
}

async fn bind(pod: &Pod, ctx: &Ctx) -> Result<(), SimError> {
    // Pinned to a node that is not ours: leave it Pending, as a scheduler would.
    let Some(node) = choose_node(pod, &ctx.opts.node_names()) else {
        return Ok(());
    };
    let ns = pod.namespace().unwrap_or_default();
    let api: Api<Pod> = Api::namespaced(ctx.client.clone(), &ns);
    let binding = json!({
        "apiVersion": "v1", "kind": "Binding",
        "metadata": {"name": pod.name_any(), "namespace": ns, "uid": pod.uid()},
        "target": {"apiVersion": "v1", "kind": "Node", "name": node},
    });
    match api
        .create_subresource::<_, Value>("binding", &pod.name_any(), &PostParams::default(), &binding)
        .await
    {
        Ok(_) => Ok(()),
        // Already bound (or gone): the watch brings the new state.
        Err(e) if is_conflict(&e) || is_not_found(&e) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

async fn reconcile(pod: Arc<Pod>, ctx: Arc<Ctx>) -> Result<Action, SimError> {
    let spec = pod.spec.clone().unwrap_or_default();
    let Some(uid) = pod.uid() else {
        return Ok(Action::await_change());
    };
    let ns = pod.namespace().unwrap_or_default();
    let api: Api<Pod> = Api::namespaced(ctx.client.clone(), &ns);
    match spec.node_name.as_deref() {
        None if pod.metadata.deletion_timestamp.is_none() => {
            bind(&pod, &ctx).await?;
            return Ok(Action::await_change());
        }
        Some(n) if ctx.opts.node_names().iter().any(|o| o == n) => {}
        _ => return Ok(Action::await_change()),
    }
    if pod.metadata.deletion_timestamp.is_some() {
        let dp = DeleteParams {
            grace_period_seconds: Some(0),
            preconditions: Some(Preconditions {
                uid: Some(uid.clone()),
                resource_version: None,
            }),
            ..DeleteParams::default()
        };
        match api.delete(&pod.name_any(), &dp).await {
            Ok(_) => {}
            Err(e) if is_not_found(&e) || is_conflict(&e) => {}
            Err(e) => return Err(e.into()),
        }
        ctx.pods.states.lock().unwrap_or_else(|e| e.into_inner()).remove(&uid);
        return Ok(Action::await_change());
    }
    let phase = pod.status.as_ref().and_then(|s| s.phase.clone()).unwrap_or_default();
    if phase == "Succeeded" || phase == "Failed" {
        return Ok(Action::await_change());
    }

    let pending_claims = claims_pending(&pod, &ctx).await?;
    let catalogue = ctx.pods.catalogue(&ctx);
    let now = Instant::now();
    let (desired, next) = {
        let mut states = ctx.pods.states.lock().unwrap_or_else(|e| e.into_inner());
        let st = states.entry(uid.clone()).or_insert_with(|| {
            let n = ctx.pods.next_ip.fetch_add(1, Ordering::Relaxed);
            SimState {
                seen: jiff::Timestamp::now(),
                pull_start: None,
                run_start: None,
                ip: format!("10.244.{}.{}", (n / 250) % 250, n % 250 + 2),
            }
        });
        desired_status(&pod, &spec, st, &pending_claims, &catalogue, now)
    };

    let current = pod
        .status
        .as_ref()
        .map(serde_json::to_value)
        .transpose()?
        .unwrap_or(Value::Null);
    if signature(&current) != signature(&desired) {
        let mut desired = desired;
        keep_transition_times(&current, &mut desired);
        api.patch_status(
            &pod.name_any(),
            &PatchParams::default(),
            &Patch::Merge(json!({ "status": desired })),
        )
        .await?;
    }
    Ok(match next {
        Some(d) => Action::requeue(d + Duration::from_millis(20)),
        None => Action::await_change(),
    })
}

/// Conditions keep their lastTransitionTime while their status stays the same.
fn keep_transition_times(current: &Value, desired: &mut Value) {
    let now = ts(jiff::Timestamp::now());
    let Some(conds) = desired["conditions"].as_array_mut() else {
        return;
    };
    for c in conds {
        let old = current["conditions"]
            .as_array()
            .and_then(|cs| cs.iter().find(|o| o["type"] == c["type"] && o["status"] == c["status"]));
        c["lastProbeTime"] = Value::Null;
        c["lastTransitionTime"] = match old {
            Some(o) if o["lastTransitionTime"].is_string() => o["lastTransitionTime"].clone(),
            _ => Value::String(now.clone()),
        };
    }
}

fn desired_status(
    pod: &Pod,
    spec: &k8s_openapi::api::core::v1::PodSpec,
    st: &mut SimState,
    pending_claims: &[String],
    catalogue: &Catalogue,
    now: Instant,
) -> (Value, Option<Duration>) {
    let policy = spec.restart_policy.clone().unwrap_or_else(|| "Always".into());
    let inits = spec.init_containers.clone().unwrap_or_default();
    let base = |phase: &str, conditions: Vec<Value>, cs: Vec<Value>, ics: Vec<Value>| {
        let mut s = json!({"phase": phase, "conditions": conditions, "hostIP": "127.0.0.1", "podIP": st.ip,
                           "podIPs": [{"ip": st.ip}], "startTime": ts(st.seen), "containerStatuses": cs});
        if !ics.is_empty() {
            s["initContainerStatuses"] = Value::Array(ics);
        }
        s
    };
    let not_ready = |initialized: bool, reason: &str| {
        vec![
            condition("Initialized", initialized, None),
            condition("Ready", false, Some(reason)),
            condition("ContainersReady", false, Some(reason)),
            condition("PodScheduled", true, None),
        ]
    };

    if !pending_claims.is_empty() {
        let cs = spec
            .containers
            .iter()
            .map(|c| waiting_status(c, "ContainerCreating", None))
            .collect();
        let ics = inits
            .iter()
            .map(|c| waiting_status(c, "PodInitializing", None))
            .collect();
        let status = base("Pending", not_ready(inits.is_empty(), "ContainersNotReady"), cs, ics);
        // The claim watch re-triggers; the requeue is a safety net.
        return (status, Some(Duration::from_secs(5)));
    }

    let missing = |c: &Container| !catalogue.has(c.image.as_deref().unwrap_or(""));
    if inits.iter().chain(spec.containers.iter()).any(missing) {
        let pull_start = *st.pull_start.get_or_insert(now);
        let waited = now.saturating_duration_since(pull_start);
        let (reason, next) = if waited < PULL_ERROR_FOR {
            ("ErrImagePull", Some(PULL_ERROR_FOR - waited))
        } else {
            ("ImagePullBackOff", None)
        };
        let pull = |c: &Container| {
            let image = c.image.clone().unwrap_or_default();
            let msg = if reason == "ErrImagePull" {
                format!("rpc error: code = NotFound desc = failed to pull and unpack image \"{}\": not found in the nodesim image catalogue", normalize(&image))
            } else {
                format!("Back-off pulling image \"{image}\"")
            };
            waiting_status(c, reason, Some(msg))
        };
        let init_missing = inits.iter().any(missing);
        let ics: Vec<Value> = inits
            .iter()
            .map(|c| {
                if missing(c) {
                    pull(c)
                } else {
                    waiting_status(c, "PodInitializing", None)
                }
            })
            .collect();
        let cs = spec
            .containers
            .iter()
            .map(|c| {
                if !init_missing && missing(c) {
                    pull(c)
                } else {
                    waiting_status(
                        c,
                        if init_missing {
                            "PodInitializing"
                        } else {
                            "ContainerCreating"
                        },
                        None,
                    )
                }
            })
            .collect();
        return (
            base("Pending", not_ready(!init_missing, "ContainersNotReady"), cs, ics),
            next,
        );
    }

    let (run_start, t0) = *st.run_start.get_or_insert((now, jiff::Timestamp::now()));
    let elapsed = now.saturating_duration_since(run_start);
    let uid = pod.uid().unwrap_or_default();
    let cid = |c: &Container| format!("nodesim://{}-{}", uid, c.name);
    let image_id = |c: &Container| format!("nodesim://{}", normalize(c.image.as_deref().unwrap_or("")));
    let ics: Vec<Value> = inits
        .iter()
        .map(|c| {
            json!({"name": c.name, "image": c.image.clone().unwrap_or_default(), "imageID": image_id(c),
                   "containerID": cid(c), "ready": true, "restartCount": 0, "started": false,
                   "state": terminated(0, t0, t0, &cid(c)), "lastState": {}})
        })
        .collect();
    let sims: Vec<(&Container, CState)> = spec
        .containers
        .iter()
        .map(|c| (c, simulate(pod, c, &policy, elapsed, t0, &cid(c))))
        .collect();
    let next = sims.iter().filter_map(|(_, s)| s.next_change).min();
    let all_done = sims.iter().all(|(_, s)| s.done.is_some());
    let failed = sims.iter().any(|(_, s)| s.done.is_some_and(|c| c != 0));
    let all_ready = sims.iter().all(|(_, s)| s.ready);
    let cs = sims
        .iter()
        .map(|(c, s)| {
            json!({"name": c.name, "image": c.image.clone().unwrap_or_default(), "imageID": image_id(c),
                   "containerID": format!("{}-{}", cid(c), s.restarts), "ready": s.ready,
                   "restartCount": s.restarts, "started": s.started, "state": s.state, "lastState": s.last})
        })
        .collect();
    let (phase, conditions) = if all_done {
        let phase = if failed { "Failed" } else { "Succeeded" };
        (phase, not_ready(true, "PodCompleted"))
    } else if all_ready {
        let ok = vec![
            condition("Initialized", true, None),
            condition("Ready", true, None),
            condition("ContainersReady", true, None),
            condition("PodScheduled", true, None),
        ];
        ("Running", ok)
    } else {
        ("Running", not_ready(true, "ContainersNotReady"))
    };
    (base(phase, conditions, cs, ics), next)
}

fn retry(_: Arc<Pod>, e: &SimError, _: Arc<Ctx>) -> Action {
    tracing::warn!("pod reconcile failed, retrying: {e}");
    Action::requeue(Duration::from_millis(300))
}

/// Bind and run pods; claim changes re-trigger the pods that mount the claim.
pub async fn run(ctx: Arc<Ctx>) {
    let pods: Api<Pod> = Api::all(ctx.client.clone());
    let claims: Api<PersistentVolumeClaim> = Api::all(ctx.client.clone());
    let controller = Controller::new(pods, watcher::Config::default());
    let store = controller.store();
    controller
        .watches(claims, watcher::Config::default(), move |pvc: PersistentVolumeClaim| {
            let ns = pvc.namespace();
            let name = pvc.name_any();
            store
                .state()
                .into_iter()
                .filter(|p| p.namespace() == ns)
                .filter(|p| {
                    let vols = p.spec.as_ref().and_then(|s| s.volumes.as_ref());
                    vols.is_some_and(|vs| {
                        vs.iter()
                            .any(|v| v.persistent_volume_claim.as_ref().is_some_and(|c| c.claim_name == name))
                    })
                })
                .map(|p| ObjectRef::from_obj(&*p))
                .collect::<Vec<_>>()
        })
        .run(reconcile, retry, ctx)
        .for_each(|_| async {})
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(annotations: Value, policy: &str) -> (Pod, Container) {
        let p: Pod = serde_json::from_value(json!({
            "metadata": {"name": "p", "annotations": annotations},
            "spec": {"restartPolicy": policy, "containers": [{"name": "c", "image": "busybox"}]},
        }))
        .unwrap();
        let c = p.spec.as_ref().unwrap().containers[0].clone();
        (p, c)
    }

    #[test]
    fn crash_loop_restart_count_rises() {
        let (p, c) = pod(json!({"nodesim.chartup.io/crash": "true"}), "Always");
        let t0 = jiff::Timestamp::now();
        let at = |s: f64| simulate(&p, &c, "Always", Duration::from_secs_f64(s), t0, "x");
        assert!(at(0.5).state.get("running").is_some());
        let s = at(1.5);
        assert_eq!(s.state["waiting"]["reason"], "CrashLoopBackOff");
        assert_eq!(s.restarts, 1);
        assert_eq!(s.last["terminated"]["exitCode"], 1);
        assert_eq!(at(3.5).restarts, 1); // running again, second run
        assert_eq!(at(4.5).restarts, 2);
        assert!(at(100.0).restarts > at(50.0).restarts);
        assert!(!at(3.5).ready);
    }

    #[test]
    fn job_completes_and_never_crash_fails() {
        let (p, c) = pod(json!({}), "Never");
        let t0 = jiff::Timestamp::now();
        assert_eq!(
            simulate(&p, &c, "Never", Duration::from_millis(100), t0, "x").done,
            None
        );
        assert_eq!(simulate(&p, &c, "Never", Duration::from_secs(2), t0, "x").done, Some(0));
        let (p, c) = pod(json!({"nodesim.chartup.io/exit-code": "3"}), "Never");
        assert_eq!(simulate(&p, &c, "Never", Duration::from_secs(2), t0, "x").done, Some(3));
    }

    #[test]
    fn a_failing_never_pod_runs_for_run_seconds_then_fails() {
        let t0 = jiff::Timestamp::now();
        let at = |ann: Value, s: u64| {
            let (p, c) = pod(ann, "Never");
            simulate(&p, &c, "Never", Duration::from_secs(s), t0, "x")
        };
        let six = json!({"nodesim.chartup.io/exit-code": "3", "nodesim.chartup.io/run-seconds": "6"});
        assert_eq!(at(six.clone(), 5).done, None);
        assert_eq!(at(six.clone(), 5).next_change, Some(Duration::from_secs(1)));
        assert_eq!(at(six, 6).done, Some(3));
        let forever = json!({"nodesim.chartup.io/exit-code": "3", "nodesim.chartup.io/run-seconds": "inf"});
        let s = at(forever, 3600);
        assert_eq!((s.done, s.next_change, s.ready), (None, None, false));
        // Lifted: "0" ends it at the next look.
        let lifted = json!({"nodesim.chartup.io/exit-code": "3", "nodesim.chartup.io/run-seconds": "0"});
        assert_eq!(at(lifted, 3600).done, Some(3));
        // The crash marker under Never, without run-seconds: 1 s as before.
        let crash = json!({"nodesim.chartup.io/crash": "true"});
        assert_eq!(at(crash.clone(), 0).done, None);
        assert_eq!(at(crash, 1).done, Some(1));
    }

    #[test]
    fn daemonset_pods_bind_to_the_node_their_affinity_names() {
        let ours = vec!["nodesim".to_string(), "nodesim-2".to_string()];
        let pinned = |node: &str| -> Pod {
            serde_json::from_value(
                json!({"metadata": {"name": "ds-x"}, "spec": {"containers": [{"name": "c"}],
                "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                    {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}]}}}}}),
            )
            .unwrap()
        };
        assert_eq!(choose_node(&pinned("nodesim-2"), &ours).as_deref(), Some("nodesim-2"));
        assert_eq!(choose_node(&pinned("elsewhere"), &ours), None);
        let (free, _) = pod(json!({}), "Always");
        assert_eq!(choose_node(&free, &ours).as_deref(), Some("nodesim"));
    }

    #[test]
    fn unready_marker_by_name() {
        let (p, c) = pod(json!({"nodesim.chartup.io/unready": "other, c"}), "Always");
        let s = simulate(&p, &c, "Always", Duration::from_secs(10), jiff::Timestamp::now(), "x");
        assert!(!s.ready && s.state.get("running").is_some());
    }
}
