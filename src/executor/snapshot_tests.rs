//! Issue 15 on the fakes: snapshots taken before the workload changes, recorded and labelled;
//! failures (quota, never ready) stop the run before the workload is touched; preflight rights;
//! a rollback with `--restore-data` swaps the claims in from the snapshots with the old volumes set
//! aside; `recover` finishes a restore a killed run left half done. Expected orders and fields are
//! the executor's documented ones (executor::snapshot, executor::restore), not a run's output.

use serde_json::json;

use super::*;
use crate::cluster::{AccessCheck, Cluster as _, FakeCluster};
use crate::manifest::split_documents;
use crate::plan::saved::SavedPlan;
use crate::plan::snapshots::{self, ClaimFacts, ClusterFacts, SnapClass, SnapshotRequest};
use crate::plan::{self, PlanOptions, ReleaseSide};
use crate::release::{Info, Release, Status};
use crate::storage::{MemoryStore, ReleaseStore};

pub(crate) const NS: &str = "prod";
pub(crate) const REL: &str = "kv";

pub(crate) fn block<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a runtime")
        .block_on(f)
}

pub(crate) fn sts(image: &str) -> String {
    format!(
        "---\n# Source: kv/templates/db.yaml\napiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\nspec:\n  replicas: 2\n  serviceName: db\n  selector:\n    matchLabels: {{app: db}}\n  template:\n    metadata:\n      labels: {{app: db}}\n    spec:\n      containers:\n      - name: db\n        image: {image}\n  volumeClaimTemplates:\n  - metadata: {{name: data}}\n    spec:\n      accessModes: [ReadWriteOnce]\n      resources: {{requests: {{storage: 1Gi}}}}\n"
    )
}

pub(crate) fn side(text: &str) -> ReleaseSide {
    ReleaseSide::new("t", split_documents(text), NS).expect("a side")
}

pub(crate) fn revision(version: u32, status: Status, manifest: &str) -> Release {
    let mut r: Release =
        serde_json::from_value(json!({"name": REL, "version": version, "namespace": NS})).expect("a record");
    r.info = Info {
        status,
        description: format!("revision {version}"),
        ..Default::default()
    };
    r.config = json!({});
    r.manifest = objects::manifest_text(&split_documents(manifest));
    r
}

pub(crate) fn opts() -> ApplyOptions {
    ApplyOptions {
        timeout: std::time::Duration::from_secs(2),
        actor: "test@host, pid 1".into(),
        // db:1 → db:2 is an unchecked major version (a hazard the snapshots make reversible, not safe).
        accept_risk: true,
        ..Default::default()
    }
}

/// A cluster with the snapshot API, a default class and the two Bound claims of db.
pub(crate) fn cluster() -> FakeCluster {
    let c = FakeCluster::new(NS);
    c.serve_snapshots();
    for i in 0..2 {
        c.put(
            json!({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": format!("pv-{i}")},
            "spec": {"persistentVolumeReclaimPolicy": "Delete", "storageClassName": "standard"}}),
        );
        c.put(json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": format!("data-db-{i}"), "namespace": NS, "labels": {"app": "db"}},
            "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "standard", "volumeName": format!("pv-{i}"),
                     "resources": {"requests": {"storage": "1Gi"}}},
            "status": {"phase": "Bound", "capacity": {"storage": "1Gi"}}}));
    }
    c
}

/// The plan of db:1 → db:2 (a major version on claims: both claims snapshotted), decided against
/// `facts` as `chartup plan RELEASE CHART` decides it.
pub(crate) fn saved_plan() -> SavedPlan {
    let (a, b) = (side(&sts("db:1")), side(&sts("db:2")));
    let opts = PlanOptions {
        release: REL.into(),
        namespace: NS.into(),
        ..Default::default()
    };
    let mut p = plan::build(&a, &b, None, &opts);
    p.base_revision = Some(1);
    let mut facts = ClusterFacts {
        api: Ok(()),
        classes: vec![SnapClass {
            name: "hp".into(),
            driver: "hostpath".into(),
            default: true,
            deletion_policy: "Delete".into(),
        }],
        classes_unreadable: None,
        claims: Default::default(),
    };
    for i in 0..2 {
        facts.claims.insert(
            (NS.into(), format!("data-db-{i}")),
            ClaimFacts {
                phase: "Bound".into(),
                capacity: Some("1Gi".into()),
                driver: Some("hostpath".into()),
            },
        );
    }
    let req = SnapshotRequest::default();
    let s = snapshots::decide(&p, None, &req, Some(&facts));
    snapshots::attach(&mut p, s, &req);
    assert_eq!(
        p.snapshots.as_ref().map(|s| s.to_take().len()),
        Some(2),
        "{:?}",
        p.snapshots
    );
    SavedPlan::new(p, &a, &b).expect("saveable")
}

/// The set as it runs, with its two pods Ready on `image` at the revision of `generation` (what the
/// fake names `db-rev<generation>`): the fake has no StatefulSet controller.
pub(crate) fn running(c: &FakeCluster, image: &str, generation: u32) {
    let set = c.put(
        json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db", "namespace": NS},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "db"}},
                 "template": {"spec": {"containers": [{"name": "db", "image": "db:1"}]}}}}),
    );
    let uid = set["metadata"]["uid"].clone();
    for i in 0..2 {
        c.put(json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": format!("db-{i}"), "namespace": NS,
                "labels": {"app": "db", "controller-revision-hash": format!("db-rev{generation}")},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "db", "uid": uid, "controller": true}]},
            "spec": {"containers": [{"name": "db", "image": image}]},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}],
                "containerStatuses": [{"name": "db", "ready": true, "image": image, "state": {"running": {}}}]}}));
    }
}

pub(crate) fn seeded(store: &MemoryStore) {
    block(store.create(&revision(1, Status::Deployed, &sts("db:1")))).expect("seeded");
}

#[test]
fn claims_are_snapshotted_labelled_and_recorded_before_the_workload_changes() {
    let c = cluster();
    running(&c, "db:2", 2);
    let store = MemoryStore::new(NS);
    seeded(&store);
    let rev = block(apply(&c, &store, &saved_plan(), &opts(), &mut |_: Progress| {})).unwrap_or_else(|e| {
        panic!(
            "{e}: {:#}",
            c.object("apps/v1", "StatefulSet", NS, "db").unwrap_or_default()
        )
    });
    assert_eq!(rev, 2);
    let writes = c.writes();
    let at = |w: &str| {
        writes
            .iter()
            .position(|x| x == w)
            .unwrap_or_else(|| panic!("{w} in {writes:#?}"))
    };
    assert!(at("create VolumeSnapshot/kv-2-data-db-0") < at("apply StatefulSet/db"));
    assert!(at("create VolumeSnapshot/kv-2-data-db-1") < at("apply StatefulSet/db"));
    let vs = c
        .object("snapshot.storage.k8s.io/v1", "VolumeSnapshot", NS, "kv-2-data-db-1")
        .expect("snapshot");
    assert_eq!(vs["spec"]["source"]["persistentVolumeClaimName"], "data-db-1");
    assert_eq!(vs["spec"]["volumeSnapshotClassName"], "hp");
    assert_eq!(vs["metadata"]["labels"]["chartup.io/release"], REL);
    assert_eq!(vs["metadata"]["labels"]["chartup.io/revision"], "2");
    // Recorded in the revision (helm ignores the field), ready, with the restore size.
    let h = block(store.history(REL)).expect("history");
    let r = h.get(2).expect("revision 2");
    let rec = snapshot::recorded(r);
    assert_eq!(rec.len(), 2);
    assert!(
        rec.iter()
            .all(|x| x.stage == "ready" && x.restore_size.as_deref() == Some("1Gi")),
        "{rec:?}"
    );
    assert!(journal_lines(r)
        .iter()
        .any(|l| l.contains("snapshot kv-2-data-db-0 of claim data-db-0 ready")));
}

#[test]
fn a_snapshot_the_server_refuses_fails_the_run_before_the_workload_changes() {
    let c = cluster();
    c.fail(
        "create",
        "VolumeSnapshot/*",
        Some(false),
        403,
        "exceeded quota: snaps, requested: count/volumesnapshots.snapshot.storage.k8s.io=1",
    );
    let store = MemoryStore::new(NS);
    seeded(&store);
    let err = block(apply(&c, &store, &saved_plan(), &opts(), &mut |_: Progress| {})).expect_err("fails");
    assert!(err.to_string().contains("exceeded quota"), "{err}");
    assert!(
        !c.writes().iter().any(|w| w == "apply StatefulSet/db"),
        "{:#?}",
        c.writes()
    );
    let h = block(store.history(REL)).expect("history");
    assert_eq!(h.get(2).map(|r| r.status()), Some(Status::Failed));
}

#[test]
fn a_snapshot_never_ready_fails_by_the_deadline_with_its_last_error() {
    let c = cluster();
    c.set_auto_ready(false);
    // What the snapshot controller shows while it retries.
    c.put(json!({"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshot",
        "metadata": {"name": "kv-2-data-db-0", "namespace": NS},
        "spec": {"source": {"persistentVolumeClaimName": "data-db-0"}},
        "status": {"readyToUse": false, "error": {"message": "Failed to check and update snapshot content: driver busy"}}}));
    let store = MemoryStore::new(NS);
    seeded(&store);
    let mut warned = Vec::new();
    let err = block(apply(&c, &store, &saved_plan(), &opts(), &mut |p: Progress| {
        if let Progress::Warning { message } = p {
            warned.push(message)
        }
    }))
    .expect_err("times out");
    let e = err.to_string();
    assert!(
        e.contains("was not ready to use after") && e.contains("driver busy"),
        "{e}"
    );
    assert!(
        warned
            .iter()
            .any(|w| w.contains("driver busy") && w.contains("retries")),
        "{warned:?}"
    );
    assert!(!c.writes().iter().any(|w| w == "apply StatefulSet/db"));
}

#[test]
fn missing_snapshot_rights_are_refused_before_any_write() {
    let c = cluster();
    c.deny(AccessCheck {
        verb: "create".into(),
        group: "snapshot.storage.k8s.io".into(),
        resource: "volumesnapshots".into(),
        ..Default::default()
    });
    let store = MemoryStore::new(NS);
    seeded(&store);
    let err = block(apply(&c, &store, &saved_plan(), &opts(), &mut |_: Progress| {})).expect_err("refused");
    assert!(matches!(err, ApplyError::Refused(_)), "{err}");
    assert!(err.to_string().contains("may not create volumesnapshots"), "{err}");
    assert!(c.writes().is_empty(), "{:#?}", c.writes());
}

/// Revision 2 took snapshots; revision 3 failed; `rollback 1 --restore-data` (planned by ops, run
/// here as the executor runs it).
pub(crate) fn restore_setup(c: &FakeCluster, store: &MemoryStore) {
    block(store.create(&revision(1, Status::Superseded, &sts("db:1")))).expect("r1");
    let mut r2 = revision(2, Status::Failed, &sts("db:2"));
    r2.extra.insert(
        snapshot::RECORD_KEY.into(),
        json!([{"namespace": NS, "claim": "data-db-0", "snapshot": "kv-2-data-db-0", "workload": "prod/StatefulSet.apps/db", "stage": "ready"},
               {"namespace": NS, "claim": "data-db-1", "snapshot": "kv-2-data-db-1", "workload": "prod/StatefulSet.apps/db", "stage": "ready"}]),
    );
    block(store.create(&r2)).expect("r2");
    // As the snapshot controller left them (not the fake's auto-ready status).
    c.set_auto_ready(false);
    for i in 0..2 {
        c.put(
            json!({"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshot",
            "metadata": {"name": format!("kv-2-data-db-{i}"), "namespace": NS},
            "spec": {"source": {"persistentVolumeClaimName": format!("data-db-{i}")}},
            "status": {"readyToUse": true, "restoreSize": "2Gi", "boundVolumeSnapshotContentName": "x"}}),
        );
    }
    c.set_auto_ready(true);
    running(c, "db:1", 3);
}

#[test]
fn recover_finishes_a_restore_whose_claim_was_already_released() {
    let c = cluster();
    let store = MemoryStore::new(NS);
    restore_setup(&c, &store);
    // A rollback killed after the claim was deleted: the record says so.
    let mut pending = revision(3, Status::PendingRollback, &sts("db:1"));
    pending.extra.insert(
        "chartup_restore".into(),
        json!([{"namespace": NS, "claim": "data-db-0", "snapshot": "kv-2-data-db-0", "pv": "pv-0",
                "originalPolicy": "Delete", "stage": "released",
                "body": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data-db-0", "namespace": NS},
                         "spec": {"dataSource": {"apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot", "name": "kv-2-data-db-0"},
                                  "resources": {"requests": {"storage": "2Gi"}}}}}]),
    );
    block(store.create(&pending)).expect("pending");
    block(c.delete(
        &crate::cluster::ObjRef::new("v1", "PersistentVolumeClaim", NS, "data-db-0"),
        crate::cluster::Cascade::Background,
        false,
    ))
    .expect("deleted");
    let (_, done) = block(recover(
        &c,
        &store,
        REL,
        true,
        &mut |_: super::Progress| {},
        super::progress::HEARTBEAT,
    ))
    .expect("recovered");
    assert!(
        done.iter().any(|l| l.contains("restore of data-db-0 finished")),
        "{done:#?}"
    );
    let claim = c
        .object("v1", "PersistentVolumeClaim", NS, "data-db-0")
        .expect("created");
    assert_eq!(claim["spec"]["dataSource"]["name"], "kv-2-data-db-0");
}

#[test]
fn a_quiesced_component_is_scaled_to_zero_for_its_snapshots_then_back() {
    // The matrix's `quiesce: true` (docs/snapshots.md): scaled to 0 before the snapshots are
    // created, back to its replicas after they are ready, and only then the new manifest applied.
    let c = cluster();
    // Pods as the fake names them at generation 4: two scale patches, then the apply.
    running(&c, "db:2", 4);
    let store = MemoryStore::new(NS);
    seeded(&store);
    let mut p = saved_plan().plan;
    for claim in &mut p.snapshots.as_mut().expect("snapshots").claims {
        claim.quiesce = true;
    }
    // Fingerprinted again, as `plan` would have saved it.
    let saved = SavedPlan::new(p, &side(&sts("db:1")), &side(&sts("db:2"))).expect("saveable");
    let rev = block(apply(&c, &store, &saved, &opts(), &mut |_: Progress| {})).unwrap_or_else(|e| {
        panic!(
            "{e}: {:#} {:#?}",
            c.object("apps/v1", "StatefulSet", NS, "db").unwrap_or_default(),
            c.writes()
        )
    });
    assert_eq!(rev, 2);
    let writes = c.writes();
    let all = |w: &str| -> Vec<usize> {
        writes
            .iter()
            .enumerate()
            .filter(|(_, x)| x.as_str() == w)
            .map(|(i, _)| i)
            .collect()
    };
    let patches = all("patch StatefulSet/db");
    assert_eq!(patches.len(), 2, "scaled down, then back: {writes:#?}");
    let snaps = [
        all("create VolumeSnapshot/kv-2-data-db-0"),
        all("create VolumeSnapshot/kv-2-data-db-1"),
    ];
    let applied = all("apply StatefulSet/db");
    for s in &snaps {
        assert_eq!(s.len(), 1, "{writes:#?}");
        assert!(patches[0] < s[0] && s[0] < patches[1], "{writes:#?}");
    }
    assert!(applied.iter().all(|a| *a > patches[1]), "{writes:#?}");
    let h = block(store.history(REL)).expect("history");
    let lines = journal_lines(h.get(2).expect("revision 2"));
    assert!(
        lines.iter().any(|l| l.contains("scaled to 0 (quiesce, was 2)")),
        "{lines:#?}"
    );
    assert!(lines.iter().any(|l| l.contains("scaled back to 2")), "{lines:#?}");
}
