//! Saying what a wait is waiting for, and why a pod stalls or fails, without kubectl.
//!
//! A wait keeps a [`Beat`]; each poll calls [`Run::beat`], which stays quiet until the wait has
//! been silent for `ApplyOptions::heartbeat` (10 s), then reports [`Progress::Waiting`]: what,
//! the first pod holding it up with its reason, and how much of the timeout is gone. The first
//! time a pod holds a wait up it is a stall, and [`Run::diagnose`] reports its recent events and
//! its containers' last log lines once (nelm prints both during a deploy). A failed component
//! gets the same diagnosis for its unhealthy pods. Diagnosis never fails a run: what cannot be
//! read is said (a node that does not serve logs — the test cluster's simulated node — gives
//! events only, with a note).

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use serde_json::Value as Json;

use super::error::ApplyError;
use super::health::{pod_health, unready_detail, PodHealth};
use super::progress::{state_of, Beat, Progress, Reporter, SharedReporter, DIAGNOSIS_EVENTS, DIAGNOSIS_LOG_LINES};
use super::runner::{Run, POLL};
use crate::cluster::{Cluster, ObjRef};
use crate::recovery::retrying::{with_retry_hook, Outage, RetryHook};

fn s<'a>(o: &'a Json, p: &str) -> &'a str {
    o.pointer(p).and_then(Json::as_str).unwrap_or("")
}

/// `Reason: message (×N, Warning)`, as `kubectl describe` lists events.
fn event_line(e: &Json) -> String {
    let count = e.pointer("/count").and_then(Json::as_i64).unwrap_or(1);
    let times = if count > 1 {
        format!(" ×{count}")
    } else {
        String::new()
    };
    let kind = s(e, "/type");
    let kind = if kind.is_empty() || kind == "Normal" {
        String::new()
    } else {
        format!(" ({kind})")
    };
    format!("{}: {}{times}{kind}", s(e, "/reason"), s(e, "/message").trim_end())
}

/// When an event last happened (RFC 3339 strings compare in time order).
fn event_time(e: &Json) -> &str {
    [
        "/lastTimestamp",
        "/eventTime",
        "/firstTimestamp",
        "/metadata/creationTimestamp",
    ]
    .iter()
    .map(|p| s(e, p))
    .find(|t| !t.is_empty())
    .unwrap_or("")
}

/// Who holds a wait up, as its heartbeat names them: the first pod that is not ready (a stall: it
/// gets a diagnosis), else the first one being deleted; with `holders` (a wait for pods to go
/// away), else the first pod still there. `(pod, reason, message, stalled)`.
fn blame(pods: &[Json], holders: bool) -> Option<(&Json, String, String, bool)> {
    if let Some((p, (_, reason, message))) = pods.iter().find_map(|p| unready_detail(p).map(|d| (p, d))) {
        return Some((p, reason, message, true));
    }
    let deleting = |p: &&Json| !s(p, "/metadata/deletionTimestamp").is_empty();
    if let Some(p) = pods.iter().find(deleting) {
        let grace = p
            .pointer("/metadata/deletionGracePeriodSeconds")
            .and_then(Json::as_i64)
            .map(|g| format!(", grace period {g}s"))
            .unwrap_or_default();
        let message = format!("deletion requested at {}{grace}", s(p, "/metadata/deletionTimestamp"));
        return Some((p, "Terminating".into(), message, false));
    }
    let p = pods.first().filter(|_| holders)?;
    let phase = match s(p, "/status/phase") {
        "" => "Pending",
        phase => phase,
    };
    Some((p, phase.to_string(), "not deleted yet".into(), false))
}

/// The one heartbeat every wait shares: nothing until the wait has been silent for `every`, then
/// the [`Progress::Waiting`] to report (what, the pod holding it up and why, how much of its
/// bound is gone) and, the first time a pod stalls it, that pod to diagnose.
fn due(
    hb: &mut Beat,
    every: Duration,
    timeout: Duration,
    component: &str,
    what: String,
    pods: &[Json],
    holders: bool,
) -> Option<(Progress, Option<Json>)> {
    // Waits look again at least every tenth of the interval (a 250 ms poll, a watch's 1 s): a
    // beat that is due by the next look goes now, so no wait is silent for more than `every`
    // (plus the look's own API time, which a slow server stretches).
    if hb.silent_for() < every - every / 10 {
        return None;
    }
    let blamed = blame(pods, holders);
    let (pod, reason, message) = match &blamed {
        Some((p, reason, message, _)) => (s(p, "/metadata/name").to_string(), reason.clone(), message.clone()),
        None => (String::new(), String::new(), String::new()),
    };
    let stalled = match blamed {
        Some((p, _, _, true)) if hb.first_stall_of(&pod) => Some(p.clone()),
        _ => None,
    };
    hb.spoke();
    let waiting = Progress::Waiting {
        component: component.into(),
        what,
        pod,
        reason,
        message,
        elapsed_ms: hb.elapsed().as_millis(),
        timeout_ms: hb.bound.unwrap_or(timeout).as_millis(),
    };
    Some((waiting, stalled))
}

/// Where the heartbeats of a wait outside a [`Run`] go (the volume steps a run shares with
/// `recover`): [`wait_until`] beats through it.
pub(super) struct Pulse<'r> {
    rep: &'r mut dyn Reporter,
    every: Duration,
    component: String,
}

impl<'r> Pulse<'r> {
    pub(super) fn to(rep: &'r mut dyn Reporter, every: Duration, component: &str) -> Pulse<'r> {
        Pulse {
            rep,
            every,
            component: component.into(),
        }
    }

    pub(super) fn beat(&mut self, hb: &mut Beat, timeout: Duration, r: &ObjRef, what: &str) {
        if let Some((waiting, _)) = due(
            hb,
            self.every,
            timeout,
            &self.component,
            format!("{r} {what}"),
            &[],
            false,
        ) {
            self.rep.report(waiting);
        }
    }
}

/// Run `f` with the requests it retries through an API outage beating like its waits
/// ([`crate::recovery::retrying::with_retry_hook`]): each [`Outage`] becomes a [`Progress::Waiting`]
/// of `component` (empty: no component of the run). The hook only queues (it may be called from
/// inside any request); the beats are reported here, between polls of `f`, to the reporter `f`'s
/// run shares (one task: never both at once).
pub(super) async fn with_retry_beats<F: std::future::Future>(
    mut rep: SharedReporter<'_>,
    every: Duration,
    component: &str,
    f: F,
) -> F::Output {
    let (tx, mut rx) = futures::channel::mpsc::unbounded::<Outage>();
    let hook = RetryHook {
        every,
        call: Arc::new(move |o| {
            let _ = tx.unbounded_send(o);
        }),
    };
    let mut report = |o: Outage| {
        rep.report(Progress::Waiting {
            component: component.into(),
            what: o.what,
            pod: String::new(),
            reason: String::new(),
            message: String::new(),
            elapsed_ms: o.elapsed.as_millis(),
            timeout_ms: o.timeout.as_millis(),
        })
    };
    let f = with_retry_hook(hook, f);
    tokio::pin!(f);
    loop {
        tokio::select! {
            biased;
            Some(o) = rx.next() => report(o),
            out = &mut f => {
                while let Ok(o) = rx.try_recv() {
                    report(o);
                }
                return out;
            }
        }
    }
}

/// Poll `r` until `done(object)` holds (None: absent), or `timeout`; the object as last seen.
/// For the volume steps a run shares with `recover` (no [`Run`] there): heartbeats go to `pulse`.
pub(super) async fn wait_until(
    cluster: &dyn Cluster,
    r: &ObjRef,
    timeout: Duration,
    what: &str,
    pulse: &mut Pulse<'_>,
    done: impl Fn(Option<&Json>) -> bool,
) -> Result<Json, ApplyError> {
    let deadline = Instant::now() + timeout;
    crate::recovery::retrying::set_deadline(deadline);
    let mut hb = Beat::new();
    loop {
        let live = cluster.get(r).await?;
        if done(live.as_ref()) {
            return Ok(live.unwrap_or(Json::Null));
        }
        let why = state_of(live.as_ref());
        if Instant::now() > deadline {
            return Err(ApplyError::Other(format!(
                "timed out after {timeout:?} waiting for {r} {what}{why}"
            )));
        }
        pulse.beat(&mut hb, timeout, r, &format!("{what}{why}"));
        tokio::time::sleep(POLL).await;
    }
}

impl Run<'_, '_> {
    /// A heartbeat when the wait has been silent for `opts.heartbeat`; a stalled pod's diagnosis
    /// the first time it holds the wait up.
    pub(super) async fn beat(&mut self, hb: &mut Beat, component: &str, r: &ObjRef, what: &str, pods: &[Json]) {
        self.beat_on(hb, component, format!("{r} {what}"), pods, false).await;
    }

    /// The heartbeat of a wait for `pods` to go away (or to let go of a claim): the first of them
    /// is named whatever its state.
    pub(super) async fn beat_holders(&mut self, hb: &mut Beat, component: &str, r: &ObjRef, what: &str, pods: &[Json]) {
        self.beat_on(hb, component, format!("{r} {what}"), pods, true).await;
    }

    /// [`Run::beat`] with `what` said in full (a wait on something that is no object: a command).
    pub(super) async fn beat_on(&mut self, hb: &mut Beat, component: &str, what: String, pods: &[Json], holders: bool) {
        let Some((waiting, stalled)) = due(hb, self.opts.heartbeat, self.timeout, component, what, pods, holders)
        else {
            return;
        };
        self.rep.report(waiting);
        if let Some(p) = stalled {
            self.diagnose(component, &p).await;
        }
    }

    /// After a component failed: the diagnosis of its pods that are not healthy (at most three).
    pub(super) async fn diagnose_failure(&mut self, component: &str, namespace: &str, selector: &str) {
        let Ok(pods) = self.pods(namespace, selector).await else {
            return;
        };
        let sick: Vec<&Json> = pods
            .iter()
            .filter(|p| {
                !matches!(
                    pod_health(p),
                    PodHealth::Ready | PodHealth::Succeeded | PodHealth::Terminating
                )
            })
            .take(3)
            .collect();
        for p in sick {
            self.diagnose(component, p).await;
        }
    }

    /// Report a pod's recent events and its containers' last log lines.
    pub(super) async fn diagnose(&mut self, component: &str, pod: &Json) {
        let name = s(pod, "/metadata/name").to_string();
        let ns = s(pod, "/metadata/namespace").to_string();
        let uid = s(pod, "/metadata/uid");
        let events = match self.cluster.list("v1", "Event", &ns, None).await {
            Ok(all) => {
                let mut mine: Vec<&Json> = all
                    .iter()
                    .filter(|e| {
                        s(e, "/involvedObject/kind") == "Pod"
                            && s(e, "/involvedObject/name") == name
                            && (uid.is_empty()
                                || s(e, "/involvedObject/uid").is_empty()
                                || s(e, "/involvedObject/uid") == uid)
                    })
                    .collect();
                mine.sort_by(|a, b| event_time(a).cmp(event_time(b)));
                let from = mine.len().saturating_sub(DIAGNOSIS_EVENTS);
                mine[from..].iter().map(|e| event_line(e)).collect()
            }
            Err(e) => vec![format!("(events could not be read: {})", e.cause_text())],
        };
        let containers: Vec<String> = ["/spec/initContainers", "/spec/containers"]
            .iter()
            .flat_map(|p| pod.pointer(p).and_then(Json::as_array).into_iter().flatten())
            .map(|c| s(c, "/name").to_string())
            .filter(|c| !c.is_empty())
            .collect();
        let mut logs = Vec::new();
        let mut failures = Vec::new();
        let pod_ref = ObjRef::new("v1", "Pod", &ns, &name);
        for c in &containers {
            match self.cluster.pod_logs(&pod_ref, c, DIAGNOSIS_LOG_LINES).await {
                Ok(text) => logs.extend(text.lines().map(|l| format!("[{c}] {l}"))),
                Err(e) => failures.push(format!("{c}: {}", e.cause_text())),
            }
        }
        let node = s(pod, "/spec/nodeName");
        let logs_note = (!failures.is_empty()).then(|| {
            let node = if node.is_empty() {
                "the pod is on no node yet".to_string()
            } else {
                format!("node {node}")
            };
            format!("container logs not available ({node}): {}", failures.join("; "))
        });
        self.rep.report(Progress::Diagnosis {
            component: component.into(),
            pod: name,
            events,
            logs,
            logs_note,
        });
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use serde_json::{json, Value as Json};

    use super::super::options::ApplyOptions;
    use super::super::progress::Progress;
    use super::super::runner::Run;
    use crate::cluster::fake::FakeCluster;
    use crate::release::Release;
    use crate::storage::memory::MemoryStore;

    const WEB: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: ns\nspec:\n  \
                       replicas: 2\n  selector:\n    matchLabels:\n      app: web\n  template:\n    metadata:\n      \
                       labels:\n        app: web\n    spec:\n      containers:\n      - name: web\n        image: web:2\n";

    /// The Deployment mid-rollout (one of two pods ready), and a pod that runs but never gets Ready.
    fn stalled(fake: &FakeCluster) {
        fake.set_auto_ready(false);
        let mut d: Json = serde_saphyr::from_str(WEB).unwrap();
        d["status"] = json!({"observedGeneration": 1, "replicas": 2, "updatedReplicas": 2, "readyReplicas": 1});
        fake.put(d);
        fake.put(json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web-b", "namespace": "ns", "labels": {"app": "web"}},
            "spec": {"nodeName": "n1", "containers": [{"name": "web", "image": "web:2"}]},
            "status": {"phase": "Running",
                "conditions": [{"type": "Ready", "status": "False", "reason": "ContainersNotReady",
                                "message": "containers with unready status: [web]"}],
                "containerStatuses": [{"name": "web", "ready": false, "state": {"running": {}}}]}}));
        fake.serve("v1", "Event", "events", true);
        for (name, pod, reason, at) in [
            ("e1", "web-b", "Unhealthy", "2026-01-01T00:00:02Z"),
            ("e2", "web-b", "Started", "2026-01-01T00:00:01Z"),
            ("e3", "web-a", "Killing", "2026-01-01T00:00:03Z"),
        ] {
            fake.put(json!({"apiVersion": "v1", "kind": "Event",
                "metadata": {"name": name, "namespace": "ns"},
                "involvedObject": {"kind": "Pod", "name": pod, "namespace": "ns"},
                "reason": reason, "message": format!("{reason} message"), "type": "Warning", "count": 2,
                "lastTimestamp": at}));
        }
    }

    async fn roll(fake: &FakeCluster, opts: &ApplyOptions) -> (Result<(), String>, Vec<Progress>) {
        let store = MemoryStore::new("ns");
        let mut rel: Release = serde_json::from_value(json!({"name": "web", "version": 2, "namespace": "ns",
            "info": {"status": "pending-upgrade"}, "chart": {}, "manifest": ""}))
        .unwrap();
        let set = crate::manifest::parse_manifest(WEB, "ns").unwrap();
        let o = &set.objects[0];
        let mut seen = Vec::new();
        let mut rep = |p: Progress| seen.push(p);
        let mut run = Run {
            cluster: fake,
            store: &store,
            rel: &mut rel,
            rep: &mut rep,
            opts,
            timeout: opts.timeout,
            halt: None,
        };
        let r = run
            .roll("web", o, &json!({"metadata": {"generation": 1}}), Instant::now())
            .await
            .map_err(|e| e.to_string());
        (r, seen)
    }

    #[tokio::test]
    async fn a_stalled_rollout_beats_names_the_pod_and_explains_it_once() {
        let fake = FakeCluster::new("ns");
        stalled(&fake);
        let opts = ApplyOptions {
            timeout: Duration::from_millis(1900),
            heartbeat: Duration::from_millis(500),
            ..Default::default()
        };
        let t = Instant::now();
        let (r, seen) = roll(&fake, &opts).await;
        let err = r.unwrap_err();
        assert!(err.contains("pod web-b") && err.contains("ContainersNotReady"), "{err}");
        let beats: Vec<&Progress> = seen.iter().filter(|p| matches!(p, Progress::Waiting { .. })).collect();
        // 1.9 s of waiting with a beat at least every 0.5 s: three of them (not one per poll).
        assert!((2..=4).contains(&beats.len()), "{seen:#?}");
        let Progress::Waiting {
            component,
            pod,
            reason,
            message,
            timeout_ms,
            what,
            elapsed_ms,
        } = beats[0]
        else {
            unreachable!()
        };
        assert_eq!(
            (
                component.as_str(),
                pod.as_str(),
                reason.as_str(),
                message.as_str(),
                *timeout_ms
            ),
            (
                "web",
                "web-b",
                "ContainersNotReady",
                "containers with unready status: [web]",
                1900
            )
        );
        assert_eq!(what, "Deployment/web (namespace ns) to roll out");
        assert!(*elapsed_ms >= 500, "{elapsed_ms}");
        let diagnoses: Vec<&Progress> = seen
            .iter()
            .filter(|p| matches!(p, Progress::Diagnosis { .. }))
            .collect();
        // Once at the stall, once when it failed.
        assert_eq!(diagnoses.len(), 2, "{seen:#?}");
        let Progress::Diagnosis {
            pod,
            events,
            logs,
            logs_note,
            ..
        } = diagnoses[1]
        else {
            unreachable!()
        };
        assert_eq!(pod, "web-b");
        // The pod's own events, oldest first; another pod's are not shown.
        assert_eq!(
            events,
            &[
                "Started: Started message ×2 (Warning)".to_string(),
                "Unhealthy: Unhealthy message ×2 (Warning)".to_string()
            ]
        );
        assert!(logs.is_empty());
        let note = logs_note.as_deref().unwrap_or("");
        assert!(
            note.starts_with("container logs not available (node n1): web: ") && note.contains("connection refused"),
            "{note}"
        );
        assert!(t.elapsed() < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn a_node_that_serves_logs_gives_the_last_lines() {
        let fake = FakeCluster::new("ns");
        stalled(&fake);
        let log: String = (1..=30).map(|i| format!("line {i}\n")).collect();
        fake.set_logs("ns", "web-b", "web", &log);
        let opts = ApplyOptions {
            timeout: Duration::from_millis(300),
            heartbeat: Duration::from_secs(10),
            ..Default::default()
        };
        let (r, seen) = roll(&fake, &opts).await;
        assert!(r.is_err());
        // No heartbeat in a wait shorter than the heartbeat; the failure still explains itself.
        assert!(!seen.iter().any(|p| matches!(p, Progress::Waiting { .. })), "{seen:#?}");
        let Some(Progress::Diagnosis { logs, logs_note, .. }) =
            seen.iter().find(|p| matches!(p, Progress::Diagnosis { .. }))
        else {
            panic!("{seen:#?}")
        };
        let expected: Vec<String> = (21..=30).map(|i| format!("[web] line {i}")).collect();
        assert_eq!((logs, logs_note), (&expected, &None));
    }
}
