//! Issue 15, the restore half on the fakes: `rollback --restore-data` planned here (which claim
//! gets which snapshot, what is set aside) and run by the executor: claims recreated from the
//! snapshots after the old volumes are protected, idempotent when run again; refused without
//! snapshots. The fixtures are the executor's (executor::snapshot_tests).

use crate::executor::snapshot_tests::*;
use crate::executor::{rollback, Progress};
use crate::plan;
use crate::release::Status;
use crate::storage::{MemoryStore, ReleaseStore as _};

#[test]
fn rollback_restore_data_swaps_claims_in_from_snapshots_and_sets_the_old_volumes_aside() {
    let c = cluster();
    let store = MemoryStore::new(NS);
    restore_setup(&c, &store);
    let planned = block(super::rollback::plan_rollback_with(&c, &store, REL, Some(1), true)).expect("planned");
    let restores = &planned.saved.plan.snapshots.as_ref().expect("restores").restores;
    assert_eq!(restores.len(), 2);
    assert_eq!(
        (restores[0].claim.as_str(), restores[0].snapshot.as_str()),
        ("data-db-0", "kv-2-data-db-0")
    );
    assert!(restores[0].set_aside.contains("pv-0"), "{:?}", restores[0]);
    let text = plan::text::render(&planned.saved.plan, false);
    assert!(
        text.contains("restore data-db-0 ← snapshot kv-2-data-db-0 (taken by revision 2, 2Gi)"),
        "{text}"
    );
    let mut steps = Vec::new();
    block(rollback(&c, &store, &planned, &opts(), &mut |p: Progress| {
        if let Progress::Warning { message } | Progress::Step { step: message } = p {
            steps.push(message)
        }
    }))
    .expect("rolled back");
    assert!(
        !steps
            .iter()
            .any(|s| s.contains("volumes and database schemas are not rolled back")),
        "{steps:#?}"
    );
    let writes = c.writes();
    let at = |w: &str| {
        writes
            .iter()
            .position(|x| x == w)
            .unwrap_or_else(|| panic!("{w} in {writes:#?}"))
    };
    // Stopped, protected, released, recreated from the snapshot, then the workload rolls back.
    assert!(at("patch StatefulSet/db") < at("patch PersistentVolume/pv-0"));
    assert!(at("patch PersistentVolume/pv-0") < at("delete PersistentVolumeClaim/data-db-0"));
    assert!(at("delete PersistentVolumeClaim/data-db-0") < at("create PersistentVolumeClaim/data-db-0"));
    assert!(at("create PersistentVolumeClaim/data-db-1") < at("apply StatefulSet/db"));
    let pv = c.object("v1", "PersistentVolume", "", "pv-0").expect("kept");
    assert_eq!(pv["spec"]["persistentVolumeReclaimPolicy"], "Retain");
    assert_eq!(pv["metadata"]["labels"]["chartup.io/set-aside"], "true");
    assert_eq!(
        pv["metadata"]["annotations"]["chartup.io/original-reclaim-policy"],
        "Delete"
    );
    let claim = c
        .object("v1", "PersistentVolumeClaim", NS, "data-db-0")
        .expect("restored");
    assert_eq!(claim["spec"]["dataSource"]["name"], "kv-2-data-db-0");
    assert_eq!(claim["spec"]["resources"]["requests"]["storage"], "2Gi");
    assert_eq!(claim["spec"]["storageClassName"], "standard");
    // A rollback run again finds the claims restored and does not restore them twice.
    let again = block(super::rollback::plan_rollback_with(&c, &store, REL, Some(1), true)).expect("planned");
    let before = c.writes().len();
    block(rollback(&c, &store, &again, &opts(), &mut |_: Progress| {})).expect("rolled back again");
    assert!(
        !c.writes()[before..].iter().any(|w| w.contains("PersistentVolumeClaim")),
        "{:#?}",
        &c.writes()[before..]
    );
}

#[test]
fn restore_data_without_snapshots_is_refused_with_the_reason() {
    let c = cluster();
    let store = MemoryStore::new(NS);
    block(store.create(&revision(1, Status::Superseded, &sts("db:1")))).expect("r1");
    block(store.create(&revision(2, Status::Deployed, &sts("db:2")))).expect("r2");
    let err = block(super::rollback::plan_rollback_with(&c, &store, REL, Some(1), true))
        .err()
        .expect("refused");
    assert!(err.to_string().contains("no revision after 1 took snapshots"), "{err}");
}

#[test]
fn uninstall_says_the_snapshots_stay_and_how_to_prune_them() {
    let c = cluster();
    let store = MemoryStore::new(NS);
    seeded(&store);
    c.put(serde_json::json!({"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshot",
        "metadata": {"name": "kv-2-data-db-0", "namespace": NS, "labels": {"chartup.io/release": REL, "chartup.io/revision": "2"}},
        "spec": {"source": {"persistentVolumeClaimName": "data-db-0"}}}));
    let req = super::uninstall::UninstallRequest {
        release: REL.into(),
        ..Default::default()
    };
    let (p, _) = block(super::uninstall::plan(&c, &store, &req)).expect("planned");
    assert_eq!(p.snapshots, ["kv-2-data-db-0"]);
    let text = p.text();
    assert!(
        text.contains(
            "Snapshots: 1 VolumeSnapshot(s) kept (kv-2-data-db-0): `chartup snapshots prune kv --keep 0` deletes them"
        ),
        "{text}"
    );
    // Retention keeps the newest revisions' snapshots: with revision 3's too, --keep 1 deletes 2's.
    c.put(serde_json::json!({"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshot",
        "metadata": {"name": "kv-3-data-db-0", "namespace": NS, "labels": {"chartup.io/release": REL, "chartup.io/revision": "3"}},
        "spec": {"source": {"persistentVolumeClaimName": "data-db-0"}}}));
    let gone = block(super::snapshots::prune(&c, NS, REL, 1)).expect("pruned");
    assert_eq!(gone, ["kv-2-data-db-0"]);
    // `snapshots prune` (--keep 0) deletes the rest; list then shows none.
    let gone = block(super::snapshots::prune(&c, NS, REL, 0)).expect("pruned");
    assert_eq!(gone, ["kv-3-data-db-0"]);
    assert!(block(super::snapshots::list(&c, NS, REL)).expect("listed").is_empty());
}

/// `apply --atomic` with the matrix's `restoreOnFailure` (here `--restore-data`): the upgrade took
/// its snapshots, then failed (its pods never came up on the new spec); the rollback it runs
/// restores the claims from those snapshots.
#[test]
fn atomic_failure_restores_the_data_the_failed_run_snapshotted() {
    let c = cluster();
    // Pods that will match only the rollback's spec (generation 4: put, upgrade, scale to 0, rollback).
    running(&c, "db:1", 4);
    let store = MemoryStore::new(NS);
    seeded(&store);
    let opts = crate::executor::ApplyOptions {
        atomic: true,
        restore_data: true,
        ..opts()
    };
    let err = block(super::apply::apply(
        &c,
        &store,
        &saved_plan(),
        &opts,
        &mut |_: Progress| {},
    ))
    .expect_err("fails");
    let crate::executor::ApplyError::Failed { rollback, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(rollback.as_ref().map(|r| r.is_ok()), Some(true), "{err:?}");
    for i in 0..2 {
        let claim = c
            .object("v1", "PersistentVolumeClaim", NS, &format!("data-db-{i}"))
            .expect("claim");
        assert_eq!(claim["spec"]["dataSource"]["name"], format!("kv-2-data-db-{i}"));
    }
    let h = block(store.history(REL)).expect("history");
    assert_eq!(h.last().map(|r| (r.version, r.status())), Some((3, Status::Deployed)));
}
