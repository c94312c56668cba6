//! Parallel rollout's decisions on the in-memory seams (issue 16): components without a declared
//! order roll at the same time, declared orders hold, the first failure stops the others at a
//! safe point, and every component's journal lines reach the one record.
//!
//! The FakeCluster has no controllers here (`set_auto_ready(false)`): a driver future plays them,
//! marking workloads done or pods Ready only when the test says, and waits on the request log with
//! deadlines. Run on one thread beside the apply, the driver sees the executor between polls.

use std::time::{Duration, Instant};

use serde_json::{json, Value as Json};

use super::*;
use crate::cluster::FakeCluster;
use crate::manifest::split_documents;
use crate::plan::saved::SavedPlan;
use crate::plan::{self, PlanOptions, ReleaseSide};
use crate::storage::{MemoryStore, ReleaseStore};

const NS: &str = "prod";
const REL: &str = "shop";

fn block<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a runtime")
        .block_on(f)
}

/// A Deployment of chart path `chart` (`shop`, `shop/charts/db`), rolling after `after` if set.
fn deployment(chart: &str, name: &str, after: Option<&str>) -> String {
    let ann = after
        .map(|a| format!("  annotations:\n    chartup.io/rollout-after: \"{a}\"\n"))
        .unwrap_or_default();
    format!(
        "---\n# Source: {chart}/templates/{name}.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n{ann}\
         spec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app: {name}\n  template:\n    metadata:\n      \
         labels:\n        app: {name}\n    spec:\n      containers:\n      - name: {name}\n        image: {name}:1\n"
    )
}

fn on_delete_set(name: &str) -> String {
    format!(
        "---\n# Source: shop/templates/{name}.yaml\napiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: {name}\n\
         spec:\n  replicas: 2\n  serviceName: {name}\n  updateStrategy:\n    type: OnDelete\n  selector:\n    \
         matchLabels:\n      app: {name}\n  template:\n    metadata:\n      labels:\n        app: {name}\n    spec:\n      \
         containers:\n      - name: {name}\n        image: {name}:1\n"
    )
}

fn install_plan(new: &str) -> SavedPlan {
    let (a, b) = (
        ReleaseSide::new("old", vec![], NS).expect("empty side"),
        ReleaseSide::new("new", split_documents(new), NS).expect("a valid side"),
    );
    let opts = PlanOptions {
        release: REL.into(),
        namespace: NS.into(),
        ..Default::default()
    };
    SavedPlan::new(plan::build(&a, &b, None, &opts), &a, &b).expect("a saveable plan")
}

fn opts() -> ApplyOptions {
    ApplyOptions {
        timeout: Duration::from_secs(10),
        actor: "test@host, pid 1".into(),
        ..Default::default()
    }
}

/// The controllers' part: `kind/name` is rolled out (status caught up with its generation).
fn mark_done(cluster: &FakeCluster, kind: &str, name: &str) {
    let mut o = cluster.object("apps/v1", kind, NS, name).expect("applied");
    let g = o.pointer("/metadata/generation").and_then(Json::as_i64).unwrap_or(1);
    o["status"] = json!({"observedGeneration": g, "replicas": 1, "readyReplicas": 1, "updatedReplicas": 1,
                         "availableReplicas": 1});
    cluster.put(o);
}

/// Wait (with a deadline) until the request log satisfies `cond`.
async fn until(cluster: &FakeCluster, what: &str, cond: impl Fn(&[String]) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(8);
    while !cond(&cluster.requests()) {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {:#?}",
            cluster.requests()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn has(log: &[String], line: &str) -> bool {
    log.iter().any(|l| l == line)
}

fn journal_of(store: &MemoryStore) -> Vec<String> {
    let h = block(store.history(REL)).expect("history");
    journal_lines(h.get(1).expect("revision 1"))
}

#[test]
fn unordered_components_roll_together_and_an_annotation_keeps_its_order() {
    let cluster = FakeCluster::new(NS);
    cluster.set_auto_ready(false);
    let store = MemoryStore::new(NS);
    let chart = format!(
        "{}{}{}",
        deployment("shop", "a", None),
        deployment("shop", "b", None),
        deployment("shop", "c", Some("a"))
    );
    let plan = install_plan(&chart);
    let driver = async {
        // Both unordered components are applied while neither is healthy: they roll together.
        until(&cluster, "a and b applied", |l| {
            has(l, "apply Deployment/a") && has(l, "apply Deployment/b")
        })
        .await;
        assert!(!has(&cluster.requests(), "apply Deployment/c"), "c must wait for a");
        mark_done(&cluster, "Deployment", "b");
        // b healthy is not enough for c: the executor keeps polling a, and c stays unapplied.
        let seen = cluster.requests().len();
        until(&cluster, "a polled after b is done", |l| {
            l[seen..].iter().filter(|r| *r == "get Deployment/a").count() >= 2
        })
        .await;
        assert!(
            !has(&cluster.requests(), "apply Deployment/c"),
            "c must wait for a, not b"
        );
        mark_done(&cluster, "Deployment", "a");
        until(&cluster, "c applied after a", |l| has(l, "apply Deployment/c")).await;
        mark_done(&cluster, "Deployment", "c");
    };
    let mut events = Vec::new();
    let o = opts();
    let mut rep = |p: Progress| events.push(p);
    let (result, ()) = block(async { futures::join!(apply(&cluster, &store, &plan, &o, &mut rep), driver) });
    assert_eq!(result.expect("applied"), 1);
    // Every component's lines reached the one record, none lost to another's write.
    let journal = journal_of(&store);
    for want in [
        "rollout: a; b; c after a",
        "applied prod/Deployment.apps/a",
        "applied prod/Deployment.apps/b",
        "applied prod/Deployment.apps/c",
        "component a healthy",
        "component b healthy",
        "component c healthy",
        "finished: Install complete",
    ] {
        assert!(journal.iter().any(|l| l.ends_with(want)), "{want} in {journal:#?}");
    }
    // Output: a (the oldest running) streams live; b, finished while a ran, is printed as one group
    // in the middle; c after. No line of another component falls inside b's or c's group.
    let owner = |e: &Progress| match e {
        Progress::Step { step } | Progress::Done { step, .. } => step.strip_prefix("component ").map(str::to_string),
        Progress::Component { component, .. }
        | Progress::PodReplaced { component, .. }
        | Progress::Waiting { component, .. }
        | Progress::Diagnosis { component, .. } => Some(component.clone()),
        Progress::Warning { .. } => None,
    };
    let owners: Vec<String> = events.iter().filter_map(owner).collect();
    for c in ["b", "c"] {
        let first = owners.iter().position(|o| o == c).expect("its lines");
        let last = owners.iter().rposition(|o| o == c).expect("its lines");
        assert!(
            owners[first..=last].iter().all(|o| o == c),
            "{c}'s lines are one group: {owners:?}"
        );
    }
    let (b_end, a_end) = (
        owners.iter().rposition(|o| o == "b"),
        owners.iter().rposition(|o| o == "a"),
    );
    assert!(b_end < a_end, "b is printed when it ends, before a ends: {owners:?}");
}

#[test]
fn the_first_failure_stops_the_others_after_the_pod_in_hand() {
    let cluster = FakeCluster::new(NS);
    cluster.set_auto_ready(false);
    let store = MemoryStore::new(NS);
    // a and s roll together; c waits for s.
    let chart = format!(
        "{}{}{}",
        deployment("shop", "a", None),
        on_delete_set("s"),
        deployment("shop", "c", Some("s"))
    );
    let plan = install_plan(&chart);
    let driver = async {
        until(&cluster, "a and s applied", |l| {
            has(l, "apply Deployment/a") && has(l, "apply StatefulSet/s")
        })
        .await;
        // The set's controller has seen it; the executor now waits for pod s-1 (highest first).
        let mut set = cluster.object("apps/v1", "StatefulSet", NS, "s").expect("applied");
        set["status"] =
            json!({"observedGeneration": 1, "replicas": 0, "updateRevision": "s-2", "currentRevision": "s-2"});
        cluster.put(set);
        until(&cluster, "s waiting for its pod s-1", |l| has(l, "get Pod/s-1")).await;
        // a's controller has seen it (not done yet); its pod crashes; the next time a's pods are
        // listed, a fails.
        let mut a = cluster.object("apps/v1", "Deployment", NS, "a").expect("applied");
        a["status"] = json!({"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1});
        cluster.put(a);
        let seen = cluster.requests().len();
        cluster.put(json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "a-1", "namespace": NS, "labels": {"app": "a"}},
            "status": {"phase": "Running", "containerStatuses": [{"name": "a",
                "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off restarting"}}}]}}));
        until(&cluster, "a's pods listed after the crash", |l| {
            l[seen..].iter().any(|r| r == "list Pod/*")
        })
        .await;
        // The pod in hand comes up: s finishes it, then stops before s-0.
        cluster.put(json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "s-1", "namespace": NS, "labels": {"app": "s", "controller-revision-hash": "s-2"}},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}}));
    };
    let o = opts();
    let mut rep = |_: Progress| {};
    let (result, ()) = block(async { futures::join!(apply(&cluster, &store, &plan, &o, &mut rep), driver) });
    let err = result.expect_err("a's crash fails the run").to_string();
    assert!(err.contains("pod a-1 (container a) is CrashLoopBackOff"), "{err}");
    let log = cluster.requests();
    assert!(
        !has(&log, "get Pod/s-0") && !has(&log, "delete Pod/s-0"),
        "no pod after the failure: {log:#?}"
    );
    assert!(
        !has(&log, "apply Deployment/c"),
        "nothing starts after the failure: {log:#?}"
    );
    let journal = journal_of(&store);
    for want in [
        "pod s-1 Ready on the new spec",
        "component s: stopped at a safe point because component a failed",
        "not started after the failure: c",
    ] {
        assert!(journal.iter().any(|l| l.ends_with(want)), "{want} in {journal:#?}");
    }
    let h = block(store.history(REL)).expect("history");
    assert_eq!(h.get(1).expect("revision 1").status(), crate::release::Status::Failed);
}

/// Issue 18: a component whose lines are held (another one streams) still beats at once — its
/// heartbeat is not held until its group prints — while its other lines stay one group.
#[test]
fn a_held_components_heartbeat_passes_at_once_and_its_other_lines_stay_grouped() {
    let cluster = FakeCluster::new(NS);
    cluster.set_auto_ready(false);
    let store = MemoryStore::new(NS);
    let plan = install_plan(&format!(
        "{}{}",
        deployment("shop", "a", None),
        deployment("shop", "b", None)
    ));
    let events = std::cell::RefCell::new(Vec::new());
    let beat_of = |c: &str, e: &Progress| matches!(e, Progress::Waiting { component, .. } if component == c);
    let driver = async {
        until(&cluster, "a and b applied", |l| {
            has(l, "apply Deployment/a") && has(l, "apply Deployment/b")
        })
        .await;
        // a (the oldest) streams; b waits longer than a heartbeat: its beat must reach the output now.
        let deadline = Instant::now() + Duration::from_secs(8);
        while !events.borrow().iter().any(|e| beat_of("b", e)) {
            assert!(Instant::now() < deadline, "no heartbeat of b: {:#?}", events.borrow());
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        mark_done(&cluster, "Deployment", "b");
        let b_done = |e: &Progress| matches!(e, Progress::Done { step, .. } if step == "component b");
        while !events.borrow().iter().any(b_done) {
            assert!(Instant::now() < deadline, "b not done: {:#?}", events.borrow());
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        mark_done(&cluster, "Deployment", "a");
    };
    let o = ApplyOptions {
        heartbeat: Duration::from_millis(30),
        ..opts()
    };
    let mut rep = |p: Progress| events.borrow_mut().push(p);
    let (result, ()) = block(async { futures::join!(apply(&cluster, &store, &plan, &o, &mut rep), driver) });
    assert_eq!(result.expect("applied"), 1);
    let events = events.into_inner();
    let step = |c: &str| {
        let want = format!("component {c}");
        events
            .iter()
            .position(|e| matches!(e, Progress::Step { step } if *step == want))
            .unwrap_or_else(|| panic!("{want}: {events:#?}"))
    };
    let done_a = events
        .iter()
        .position(|e| matches!(e, Progress::Done { step, .. } if step == "component a"))
        .expect("a done");
    let first_beat_b = events.iter().position(|e| beat_of("b", e)).expect("b beat");
    // b's heartbeat came while b's own lines were still held: before its group (which opens with
    // its step) and while a was running.
    assert!(first_beat_b < step("b") && first_beat_b < done_a, "{events:#?}");
    // b's other lines are one group.
    let b_lines: Vec<usize> = events
        .iter()
        .enumerate()
        .filter(|(_, e)| match e {
            Progress::Step { step } | Progress::Done { step, .. } => step == "component b",
            Progress::Component { component, .. } | Progress::PodReplaced { component, .. } => component == "b",
            _ => false,
        })
        .map(|(i, _)| i)
        .collect();
    let (first, last) = (b_lines[0], b_lines[b_lines.len() - 1]);
    assert!(
        events[first..=last]
            .iter()
            .all(|e| !matches!(e, Progress::Step { step } if step == "component a")
                && !matches!(e, Progress::Component { component, .. } if component == "a")),
        "{events:#?}"
    );
}
