//! Issue 18 on the fakes: every wait beats. Each test starts a wait that cannot end by itself
//! and lets it end only when its first heartbeat arrives (the reporter plays the controller or the
//! user's command): so a wait that never beats fails by its timeout, and no test sleeps and hopes.
//! The heartbeat is shortened to [`EVERY`]; the timeout stays long ([`TIMEOUT`]).
//! What a heartbeat must say is issue 18's: what is waited for, on which pod, why, and how much of
//! the wait's bound is gone.

use std::time::Duration;

use serde_json::{json, Value as Json};

use super::health::StuckPod;
use super::options::ApplyOptions;
use super::progress::Progress;
use super::runner::Run;
use crate::cluster::{Cascade, Cluster as _, FakeCluster, ObjRef};
use crate::manifest::Object;
use crate::release::Release;
use crate::storage::{MemoryStore, ReleaseStore as _};

const NS: &str = "ns";
pub(super) const EVERY: Duration = Duration::from_millis(30);
const TIMEOUT: Duration = Duration::from_secs(5);

fn opts() -> ApplyOptions {
    ApplyOptions {
        timeout: TIMEOUT,
        heartbeat: EVERY,
        actor: "test@host, pid 1".into(),
        ..Default::default()
    }
}

fn record() -> Release {
    serde_json::from_value(json!({"name": "r", "version": 2, "namespace": NS,
        "info": {"status": "pending-upgrade"}, "chart": {}, "manifest": ""}))
    .expect("a record")
}

/// One heartbeat as the tests compare it: (component, what, pod, reason, timeout in ms).
pub(super) type Beat = (String, String, String, String, u128);

/// The heartbeats among `seen`; each must say how long it has waited, at least one interval.
pub(super) fn beats(seen: &[Progress]) -> Vec<Beat> {
    seen.iter()
        .filter_map(|p| match p {
            Progress::Waiting {
                component,
                what,
                pod,
                reason,
                elapsed_ms,
                timeout_ms,
                ..
            } => {
                assert!(*elapsed_ms >= EVERY.as_millis(), "{p:?}");
                Some((
                    component.clone(),
                    what.clone(),
                    pod.clone(),
                    reason.clone(),
                    *timeout_ms,
                ))
            }
            _ => None,
        })
        .collect()
}

pub(super) fn beat(component: &str, what: &str, pod: &str, reason: &str, timeout: Duration) -> Beat {
    (
        component.into(),
        what.into(),
        pod.into(),
        reason.into(),
        timeout.as_millis(),
    )
}

/// Run `$wait` (an expression on `$run`, a [`Run`] over `$fake`) with a reporter that calls
/// `$release(&FakeCluster)` at the first heartbeat; gives the wait's result and what was reported.
macro_rules! released_by_a_beat {
    ($fake:expr, $opts:expr, $release:expr, |$run:ident| $wait:expr) => {{
        let fake: &FakeCluster = $fake;
        let opts: ApplyOptions = $opts;
        let store = MemoryStore::new(NS);
        let mut rel = record();
        store.create(&rel).await.expect("a record");
        let mut release = Some($release);
        let mut seen: Vec<Progress> = Vec::new();
        let mut rep = |p: Progress| {
            if matches!(p, Progress::Waiting { .. }) {
                if let Some(f) = release.take() {
                    f(fake);
                }
            }
            seen.push(p);
        };
        let result = {
            let mut $run = Run {
                cluster: fake,
                store: &store,
                rel: &mut rel,
                rep: &mut rep,
                opts: &opts,
                timeout: opts.timeout,
                halt: None,
            };
            $wait.await.map_err(|e| e.to_string())
        };
        (result, seen)
    }};
}

fn object(yaml: &str) -> Object {
    let set = crate::manifest::parse_manifest(yaml, NS).expect("a manifest");
    set.objects[0].clone()
}

/// A pod as its kubelet reports it: Running, Ready or not (`ContainersNotReady`).
fn pod(name: &str, labels: Json, owner: Option<(&str, &str, &str)>, node: &str, ready: bool) -> Json {
    let mut p = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": NS, "labels": labels},
        "spec": {"nodeName": node, "containers": [{"name": "c", "image": "i:2"}]},
        "status": {"phase": "Running",
            "conditions": [if ready { json!({"type": "Ready", "status": "True"}) } else {
                json!({"type": "Ready", "status": "False", "reason": "ContainersNotReady",
                       "message": "containers with unready status: [c]"}) }],
            "containerStatuses": [{"name": "c", "ready": ready, "state": {"running": {}}}]}});
    if let Some((kind, name, uid)) = owner {
        p["metadata"]["ownerReferences"] =
            json!([{"apiVersion": "apps/v1", "kind": kind, "name": name, "uid": uid, "controller": true}]);
    }
    p
}

fn delete(fake: &FakeCluster, kind: &str, name: &str) {
    let api = if kind == "ReplicaSet" { "apps/v1" } else { "v1" };
    // The fake answers at once: nothing to drive but the future itself.
    futures::executor::block_on(fake.delete(&ObjRef::new(api, kind, NS, name), Cascade::Background, false))
        .expect("deleted");
}

const OLD_DS: &str = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: agent\nspec:\n  selector:\n    \
                      matchLabels: {app: agent}\n  template:\n    metadata:\n      labels: {app: agent}\n    spec:\n      \
                      containers: [{name: c, image: 'i:1'}]\n";
const NEW_DS: &str = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: agent\nspec:\n  selector:\n    \
                      matchLabels: {app.kubernetes.io/name: agent}\n  template:\n    metadata:\n      \
                      labels: {app.kubernetes.io/name: agent}\n    spec:\n      containers: [{name: c, image: 'i:2'}]\n";

/// A recreated DaemonSet: on node n1 the old pod stays until the new one there is Ready; the wait
/// beats naming the new pod and why it is not Ready.
#[tokio::test]
async fn the_daemonset_node_by_node_wait_beats() {
    let fake = FakeCluster::new(NS);
    let (old, new) = (object(OLD_DS), object(NEW_DS));
    let applied = fake.put(new.value.clone());
    let uid = applied["metadata"]["uid"].as_str().expect("a uid").to_string();
    fake.put(pod("agent-x7k2q", json!({"app": "agent"}), None, "n1", true));
    let fresh = |ready| {
        pod(
            "agent-b9m4z",
            json!({"app.kubernetes.io/name": "agent"}),
            Some(("DaemonSet", "agent", &uid)),
            "n1",
            ready,
        )
    };
    fake.put(fresh(false));
    let (result, seen) = released_by_a_beat!(
        &fake,
        opts(),
        |f: &FakeCluster| {
            f.put(fresh(true));
        },
        |run| run.roll_recreated("agent", &old, &new, &applied, std::time::Instant::now())
    );
    result.expect("replaced");
    assert_eq!(
        beats(&seen).first(),
        Some(&beat(
            "agent",
            "DaemonSet/agent (namespace ns) to run a Ready pod on node n1 before its old pods there are removed",
            "agent-b9m4z",
            "ContainersNotReady",
            TIMEOUT
        )),
        "{seen:#?}"
    );
    assert!(
        fake.object("v1", "Pod", NS, "agent-x7k2q").is_none(),
        "the old pod went"
    );
}

const OLD_DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n  \
                          selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      \
                          labels: {app: web}\n    spec:\n      containers: [{name: c, image: 'i:1'}]\n";
const NEW_DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n  \
                          selector:\n    matchLabels: {app.kubernetes.io/name: web}\n  template:\n    metadata:\n      \
                          labels: {app.kubernetes.io/name: web}\n    spec:\n      \
                          containers: [{name: c, image: 'i:2'}]\n";

/// A recreated Deployment: its old ReplicaSet is scaled down a pod at a time; the wait for its
/// pod to go beats naming that pod.
#[tokio::test]
async fn the_replicaset_retirement_wait_beats() {
    let fake = FakeCluster::new(NS);
    let (old, new) = (object(OLD_DEPLOY), object(NEW_DEPLOY));
    let applied = fake.put(new.value.clone());
    let rs = fake.put(json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": "web-5d8f9", "namespace": NS, "labels": {"app": "web", "pod-template-hash": "5d8f9"}},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web", "pod-template-hash": "5d8f9"}}}}));
    let rs_uid = rs["metadata"]["uid"].as_str().expect("a uid").to_string();
    fake.put(pod(
        "web-5d8f9-abcde",
        json!({"app": "web", "pod-template-hash": "5d8f9"}),
        Some(("ReplicaSet", "web-5d8f9", &rs_uid)),
        "n1",
        true,
    ));
    let (result, seen) = released_by_a_beat!(
        &fake,
        opts(),
        |f: &FakeCluster| delete(f, "Pod", "web-5d8f9-abcde"),
        |run| run.roll_recreated("web", &old, &new, &applied, std::time::Instant::now())
    );
    result.expect("retired");
    assert_eq!(
        beats(&seen).first(),
        Some(&beat(
            "web",
            "ReplicaSet/web-5d8f9 (namespace ns) to scale down to 0",
            "web-5d8f9-abcde",
            "Running",
            TIMEOUT
        )),
        "{seen:#?}"
    );
    assert!(fake.object("apps/v1", "ReplicaSet", NS, "web-5d8f9").is_none());
}

const OLD_STS: &str = "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\nspec:\n  replicas: 1\n  \
                       serviceName: db\n  selector:\n    matchLabels: {app: db}\n  template:\n    metadata:\n      \
                       labels: {app: db}\n    spec:\n      containers: [{name: c, image: 'i:1'}]\n";
const NEW_STS: &str = "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\nspec:\n  replicas: 1\n  \
                       serviceName: db\n  selector:\n    matchLabels: {app.kubernetes.io/name: db}\n  template:\n    \
                       metadata:\n      labels: {app.kubernetes.io/name: db}\n    spec:\n      \
                       containers: [{name: c, image: 'i:2'}]\n";

/// A recreated StatefulSet: the pod the old set left is deleted and the new set's pod of that
/// name awaited; that wait beats while the pod does not exist yet.
#[tokio::test]
async fn the_recreated_statefulsets_new_pod_wait_beats() {
    let fake = FakeCluster::new(NS);
    let (old, new) = (object(OLD_STS), object(NEW_STS));
    let applied = fake.put(new.value.clone());
    let uid = applied["metadata"]["uid"].as_str().expect("a uid").to_string();
    let rev = applied["status"]["updateRevision"].clone();
    fake.put(pod("db-0", json!({"app": "db"}), None, "n1", true));
    let (result, seen) = released_by_a_beat!(
        &fake,
        opts(),
        |f: &FakeCluster| {
            let labels = json!({"app.kubernetes.io/name": "db", "controller-revision-hash": rev});
            f.put(pod("db-0", labels, Some(("StatefulSet", "db", &uid)), "n1", true));
        },
        |run| run.roll_recreated("db", &old, &new, &applied, std::time::Instant::now())
    );
    result.expect("replaced");
    assert_eq!(
        beats(&seen).first(),
        Some(&beat(
            "db",
            "Pod/db-0 (namespace ns) to be created and Ready under the new controller",
            "",
            "",
            TIMEOUT
        )),
        "{seen:#?}"
    );
    assert!(seen
        .iter()
        .any(|p| matches!(p, Progress::PodReplaced { pod, .. } if pod == "db-0")));
}

/// The wait until no pod mounts the claims (a carry's old claims, a snapshot's quiesce, a
/// restore's stop) beats naming the pod that still mounts one.
#[tokio::test]
async fn the_carry_unmount_wait_beats() {
    let fake = FakeCluster::new(NS);
    let mut holder = pod("ledger-0", json!({"app": "ledger"}), None, "n1", true);
    holder["spec"]["volumes"] = json!([{"name": "data", "persistentVolumeClaim": {"claimName": "data-ledger-0"}}]);
    holder["metadata"]["deletionTimestamp"] = json!("2026-12-06T11:00:00Z");
    holder["metadata"]["deletionGracePeriodSeconds"] = json!(30);
    fake.put(holder);
    let (result, seen) = released_by_a_beat!(&fake, opts(), |f: &FakeCluster| delete(f, "Pod", "ledger-0"), |run| run
        .wait_unmounted("books", NS, &["data-ledger-0"]));
    result.expect("unmounted");
    assert_eq!(
        beats(&seen).first(),
        Some(&beat(
            "books",
            "PersistentVolumeClaim/data-ledger-0 (namespace ns) to be unmounted by every pod",
            "ledger-0",
            "Terminating",
            TIMEOUT
        )),
        "{seen:#?}"
    );
    let Some(Progress::Waiting { message, .. }) = seen.iter().find(|p| matches!(p, Progress::Waiting { .. })) else {
        unreachable!()
    };
    assert_eq!(message, "deletion requested at 2026-12-06T11:00:00Z, grace period 30s");
}

/// Deleting an object waits until it is gone; the heartbeat says what holds it (its finalizers).
#[tokio::test]
async fn the_deletion_wait_beats_with_what_holds_the_object() {
    let fake = FakeCluster::new(NS);
    fake.set_auto_ready(false);
    fake.put(json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data", "namespace": NS, "finalizers": ["kubernetes.io/pvc-protection"],
                     "deletionTimestamp": "2026-12-06T11:00:00Z"},
        "spec": {}, "status": {"phase": "Bound"}}));
    let r = ObjRef::new("v1", "PersistentVolumeClaim", NS, "data");
    let (result, seen) = released_by_a_beat!(
        &fake,
        opts(),
        |f: &FakeCluster| delete(f, "PersistentVolumeClaim", "data"),
        |run| run.wait_gone("db", &r)
    );
    result.expect("gone");
    assert_eq!(
        beats(&seen).first(),
        Some(&beat(
            "db",
            "PersistentVolumeClaim/data (namespace ns) to be deleted (phase Bound; deleting; finalizers: \
             kubernetes.io/pvc-protection)",
            "",
            "",
            TIMEOUT
        )),
        "{seen:#?}"
    );
}

/// An eviction a PodDisruptionBudget refuses is retried for a while: the retries beat, their share
/// counted against that patience, not the run's timeout.
#[tokio::test]
async fn an_eviction_refused_by_a_budget_beats_while_it_is_retried() {
    let fake = FakeCluster::new(NS);
    let p = fake.put(pod("db-1", json!({"app": "db"}), None, "n1", false));
    fake.block_eviction("db-1");
    let stuck = [StuckPod {
        name: "db-1".into(),
        uid: p["metadata"]["uid"].as_str().unwrap_or("").into(),
        revision: "db-b".into(),
        reason: "ContainersNotReady".into(),
    }];
    let set = ObjRef::new("apps/v1", "StatefulSet", NS, "db");
    // The budget never relents here: the run gives up after its patience (300 ms in tests).
    let (result, seen) = released_by_a_beat!(&fake, opts(), |_: &FakeCluster| {}, |run| run
        .replace_stuck("db", &set, "db-a", &stuck));
    assert!(result.expect_err("refused").contains("PodDisruptionBudget"));
    let all = beats(&seen);
    let (component, what, pod, reason, bound) = all.first().cloned().unwrap_or_else(|| panic!("{seen:#?}"));
    assert_eq!(
        (component.as_str(), pod.as_str(), reason.as_str(), bound),
        ("db", "db-1", "ContainersNotReady", 300)
    );
    assert!(
        what.starts_with("Pod/db-1 (namespace ns) to be evicted: a PodDisruptionBudget refuses it ("),
        "{what}"
    );
}

/// The backup command runs as long as it needs: it beats meanwhile (and ends here only once told to
/// by the beat, through a file it waits for).
#[tokio::test]
async fn a_running_backup_command_beats() {
    let fake = FakeCluster::new(NS);
    let dir = tempfile::tempdir().expect("a temp dir");
    let go = dir.path().join("go");
    // Gives up (and fails the backup) after about the timeout if no heartbeat ever comes.
    let cmd = format!(
        "for i in $(seq 250); do [ -e '{}' ] && exit 0; sleep 0.02; done; exit 1",
        go.display()
    );
    let saved = super::snapshot_tests::saved_plan();
    let o = ApplyOptions {
        backup_command: Some(cmd.clone()),
        ..opts()
    };
    let (result, seen) = released_by_a_beat!(
        &fake,
        o,
        |_: &FakeCluster| std::fs::write(&go, "").expect("written"),
        |run| run.backup(&saved, NS)
    );
    result.expect("backed up");
    assert_eq!(
        beats(&seen).first(),
        Some(&beat(
            "backup",
            &format!("backup command to finish: {cmd}"),
            "",
            "",
            TIMEOUT
        )),
        "{seen:#?}"
    );
}

/// A hook's (or backup's, or migration's) Job is waited for until it completes; the wait beats
/// naming its pod that is not done.
#[tokio::test]
async fn a_jobs_completion_wait_beats() {
    let fake = FakeCluster::new(NS);
    fake.set_auto_ready(false);
    let job = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "migrate", "namespace": NS},
        "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "i:2"}]}}}});
    fake.put(job.clone());
    fake.put(pod("migrate-x1", json!({"job-name": "migrate"}), None, "n1", false));
    let r = ObjRef::new("batch/v1", "Job", NS, "migrate");
    let (result, seen) = released_by_a_beat!(
        &fake,
        opts(),
        |f: &FakeCluster| {
            let mut done = job.clone();
            done["status"] = json!({"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]});
            f.put(done);
        },
        |run| run.complete(&r)
    );
    result.expect("completed");
    assert_eq!(
        beats(&seen).first(),
        Some(&beat(
            "migrate",
            "Job/migrate (namespace ns) to complete",
            "migrate-x1",
            "ContainersNotReady",
            TIMEOUT
        )),
        "{seen:#?}"
    );
}

/// Snapshots taken before a workload changes are waited for until ready to use; the wait beats
/// with the snapshot controller's last error. Through a whole apply (the snapshot fakes' plan).
#[test]
fn the_snapshot_readiness_wait_beats() {
    use super::snapshot_tests as snap;
    let c = snap::cluster();
    snap::running(&c, "db:2", 2);
    c.set_auto_ready(false);
    let vs = |name: &str, claim: &str| {
        json!({"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshot",
        "metadata": {"name": name, "namespace": snap::NS}, "spec": {"source": {"persistentVolumeClaimName": claim}}})
    };
    let mut busy = vs("kv-2-data-db-0", "data-db-0");
    busy["status"] = json!({"readyToUse": false, "error": {"message": "driver busy"}});
    c.put(busy);
    let store = MemoryStore::new(snap::NS);
    snap::seeded(&store);
    let o = ApplyOptions {
        heartbeat: EVERY,
        ..snap::opts()
    };
    let mut seen = Vec::new();
    let mut released = false;
    let mut rep = |p: Progress| {
        if matches!(p, Progress::Waiting { .. }) && !released {
            // The snapshot controller's part: both snapshots become ready (the fake's status).
            released = true;
            c.set_auto_ready(true);
            c.put(vs("kv-2-data-db-0", "data-db-0"));
            c.put(vs("kv-2-data-db-1", "data-db-1"));
        }
        seen.push(p);
    };
    let rev = snap::block(super::apply(&c, &store, &snap::saved_plan(), &o, &mut rep)).expect("applied");
    assert_eq!(rev, 2);
    assert_eq!(
        beats(&seen).first(),
        Some(&beat(
            "db",
            "VolumeSnapshot/kv-2-data-db-0 (namespace prod) of claim data-db-0 to be ready to use (last error: \
             driver busy)",
            "",
            "",
            Duration::from_secs(2)
        )),
        "{seen:#?}"
    );
}
