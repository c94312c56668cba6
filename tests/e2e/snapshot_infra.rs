//! End-to-end checks of the test cluster's snapshot support (issue 15): the snapshot.storage.k8s.io/v1
//! CRDs that scripts/test-cluster.sh installs, served by the real kube-apiserver 1.20, and nodesim
//! acting as external-snapshotter's controller and sidecar plus the hostPath CSI driver and the
//! restore provisioner. chartup's snapshot tests rely on exactly this behaviour, so it is checked
//! here on its own: objects and fields as the upstream controller writes them, data copied byte
//! for byte, the failure texts of upstream, finalizers and deletion policy.
//!
//! Expected values are the upstream ones (kubernetes-csi/external-snapshotter v4.2 and
//! external-provisioner v2.2 messages, csi-driver-host-path's restoreSize = the volume's
//! capacity), never nodesim's output. Every wait is a watch or a poll with a deadline.

use std::time::Duration;

use serde_json::{json, Value};
use testkit::k8s_openapi::api::core::v1::PersistentVolumeClaim;
use testkit::kube::api::{Api, DeleteParams, DynamicObject, PostParams};
use testkit::kube::{Client, ResourceExt};
use testkit::snapshots::{self as snap, at, str_at};
use testkit::{cluster, create, wait_deleted, wait_for};

const WAIT: Duration = Duration::from_secs(60);

async fn claim(client: &Client, ns: &str, name: &str, size: &str, extra: Value) -> anyhow::Result<()> {
    let api: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), ns);
    let mut obj = json!({"metadata": {"name": name},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}});
    merge(&mut obj, extra);
    create(&api, obj).await?;
    Ok(())
}

fn merge(a: &mut Value, b: Value) {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                merge(a.entry(k).or_insert(Value::Null), v);
            }
        }
        (a, b) => *a = b,
    }
}

async fn snapshot(client: &Client, ns: &str, name: &str, spec: Value, annotations: Value) -> anyhow::Result<()> {
    let obj: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshot",
        "metadata": {"name": name, "annotations": annotations}, "spec": spec}))?;
    snap::vs_api(client, ns).create(&PostParams::default(), &obj).await?;
    Ok(())
}

fn from_snapshot(name: &str) -> Value {
    json!({"spec": {"dataSource": {"apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot", "name": name}}})
}

fn ready(o: Option<&DynamicObject>) -> bool {
    o.and_then(|o| at(o, "/status/readyToUse")).and_then(Value::as_bool) == Some(true)
}

fn error_message(o: Option<&DynamicObject>) -> Option<String> {
    o.and_then(|o| str_at(o, "/status/error/message")).map(str::to_string)
}

async fn wait_error(api: &Api<DynamicObject>, name: &str, want: &str) -> anyhow::Result<DynamicObject> {
    let want = want.to_string();
    wait_for(
        api,
        name,
        WAIT,
        &format!("status.error {want:?}"),
        move |o: Option<&DynamicObject>| error_message(o).is_some_and(|m| m.contains(&want)),
    )
    .await
}

/// Fill a volume as an application would: nested files, a binary file, modes, a symlink.
fn write_data(dir: &std::path::Path, tag: &str) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir.join("db/wal"))?;
    std::fs::write(dir.join("db/VERSION"), format!("schema 1 ({tag})\n"))?;
    let blob: Vec<u8> = (0..200_000u32).map(|i| (i * 7919 % 251) as u8).collect();
    std::fs::write(dir.join("db/wal/0001.bin"), blob)?;
    std::fs::set_permissions(dir.join("db/VERSION"), std::fs::Permissions::from_mode(0o600))?;
    std::os::unix::fs::symlink("db/VERSION", dir.join("current"))?;
    Ok(())
}

/// A dynamic snapshot of a bound claim goes through the upstream states (bound to
/// `snapcontent-<uid>`, default class filled in, ready, restoreSize = the claim's capacity), and a
/// claim restored from it holds the data as it was when the snapshot was cut, byte for byte.
#[tokio::test(flavor = "multi_thread")]
async fn snapshot_and_restore_are_byte_identical() -> anyhow::Result<()> {
    let c = cluster();
    snap::ensure_support(c).await?;
    let ns = c.fresh_namespace("snapinfra").await?;
    let client = c.client().await?;
    claim(&client, &ns.name, "data", "1Gi", json!({})).await?;
    let dir = c.claim_dir(&client, &ns.name, "data", WAIT).await?;
    write_data(&dir, "before")?;
    let before = snap::tree(&dir)?;

    snapshot(
        &client,
        &ns.name,
        "pre-upgrade",
        json!({"source": {"persistentVolumeClaimName": "data"}}),
        json!({}),
    )
    .await?;
    let vss = snap::vs_api(&client, &ns.name);
    let vs = wait_for(&vss, "pre-upgrade", WAIT, "readyToUse", ready).await?;
    let uid = vs.uid().unwrap_or_default();
    let content_name = format!("snapcontent-{uid}");
    assert_eq!(
        str_at(&vs, "/status/boundVolumeSnapshotContentName"),
        Some(content_name.as_str())
    );
    assert_eq!(str_at(&vs, "/spec/volumeSnapshotClassName"), Some(snap::DEFAULT_CLASS));
    assert_eq!(str_at(&vs, "/status/restoreSize"), Some("1Gi"));
    assert!(str_at(&vs, "/status/creationTime").is_some(), "{vs:?}");
    assert!(at(&vs, "/status/error").is_none(), "{vs:?}");
    let fins = vs.finalizers();
    for f in [
        "snapshot.storage.kubernetes.io/volumesnapshot-as-source-protection",
        "snapshot.storage.kubernetes.io/volumesnapshot-bound-protection",
    ] {
        assert!(fins.iter().any(|x| x == f), "{f} missing: {fins:?}");
    }

    // The content points back, with the class's policy and driver, and the driver's fields.
    let vsc = snap::vsc_api(&client).get(&content_name).await?;
    assert_eq!(str_at(&vsc, "/spec/volumeSnapshotRef/uid"), Some(uid.as_str()));
    assert_eq!(str_at(&vsc, "/spec/volumeSnapshotRef/name"), Some("pre-upgrade"));
    assert_eq!(
        str_at(&vsc, "/spec/volumeSnapshotRef/namespace"),
        Some(ns.name.as_str())
    );
    assert_eq!(str_at(&vsc, "/spec/deletionPolicy"), Some("Delete"));
    assert_eq!(str_at(&vsc, "/spec/driver"), Some(snap::DRIVER));
    assert_eq!(at(&vsc, "/status/restoreSize").and_then(Value::as_i64), Some(1 << 30));
    assert_eq!(at(&vsc, "/status/readyToUse").and_then(Value::as_bool), Some(true));
    let created_ns = at(&vsc, "/status/creationTime").and_then(Value::as_i64).unwrap_or(0);
    let vs_created: jiff::Timestamp = str_at(&vs, "/status/creationTime").unwrap_or("").parse()?;
    assert_eq!(
        created_ns / 1_000_000_000,
        vs_created.as_second(),
        "VS creationTime is the VSC's, in seconds"
    );
    assert!(vsc
        .finalizers()
        .iter()
        .any(|f| f == "snapshot.storage.kubernetes.io/volumesnapshotcontent-bound-protection"));
    // Once ready, the source claim is no longer protected by the snapshot.
    let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), &ns.name);
    wait_for(
        &pvcs,
        "data",
        WAIT,
        "pvc-as-source-protection removed",
        |p: Option<&PersistentVolumeClaim>| {
            p.is_some_and(|p| {
                !p.finalizers()
                    .iter()
                    .any(|f| f == "snapshot.storage.kubernetes.io/pvc-as-source-protection")
            })
        },
    )
    .await?;
    // Events are written beside the status, not before it: each is waited for.
    for r in ["CreatingSnapshot", "SnapshotCreated", "SnapshotReady"] {
        snap::wait_event(&client, &ns.name, "pre-upgrade", r, WAIT).await?;
    }

    // A migration changes the data; the restored claim has the data of the snapshot.
    std::fs::write(dir.join("db/VERSION"), "schema 2\n")?;
    std::fs::write(dir.join("db/wal/0002.bin"), b"after")?;
    claim(&client, &ns.name, "restored", "1Gi", from_snapshot("pre-upgrade")).await?;
    let restored = c.claim_dir(&client, &ns.name, "restored", WAIT).await?;
    assert_ne!(restored, dir);
    snap::assert_same_tree(&before, &snap::tree(&restored)?)?;
    // And the original keeps its own, changed data.
    assert_eq!(std::fs::read_to_string(dir.join("db/VERSION"))?, "schema 2\n");
    Ok(())
}

/// With a readiness delay the snapshot is bound but not ready first (what chartup must wait on),
/// and a claim restored from it meanwhile stays Pending with external-provisioner's message,
/// then binds once the snapshot is ready.
///
/// The delay is an hour, lifted by the test once it has seen all that, so no step depends on how
/// fast the machine is; the driver looks again at least every second and notices the lift.
#[tokio::test(flavor = "multi_thread")]
async fn not_ready_snapshots_hold_restores_pending() -> anyhow::Result<()> {
    const READY_AFTER: &str = "nodesim.chartup.io/snapshot-ready-after";
    let c = cluster();
    snap::ensure_support(c).await?;
    c.ensure_nodesim("lifts")?;
    let ns = c.fresh_namespace("snapinfra").await?;
    let client = c.client().await?;
    claim(&client, &ns.name, "data", "1Gi", json!({})).await?;
    let dir = c.claim_dir(&client, &ns.name, "data", WAIT).await?;
    write_data(&dir, "slow")?;
    let before = snap::tree(&dir)?;
    snapshot(
        &client,
        &ns.name,
        "slow",
        json!({"source": {"persistentVolumeClaimName": "data"}}),
        json!({READY_AFTER: "3600"}),
    )
    .await?;
    let vss = snap::vs_api(&client, &ns.name);
    let vs = wait_for(&vss, "slow", WAIT, "bound, not ready", |o: Option<&DynamicObject>| {
        o.is_some_and(|o| {
            str_at(o, "/status/boundVolumeSnapshotContentName").is_some()
                && at(o, "/status/readyToUse").and_then(Value::as_bool) == Some(false)
        })
    })
    .await?;
    assert!(at(&vs, "/status/error").is_none(), "a delay is not an error: {vs:?}");

    claim(&client, &ns.name, "early", "1Gi", from_snapshot("slow")).await?;
    let msg = snap::wait_event(&client, &ns.name, "early", "ProvisioningFailed", WAIT).await?;
    assert_eq!(
        msg,
        "failed to provision volume with StorageClass \"standard\": error getting handle for DataSource Type \
         VolumeSnapshot by Name slow: snapshot slow is not Ready"
    );
    let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), &ns.name);
    let early = pvcs.get("early").await?;
    assert_eq!(early.status.and_then(|s| s.phase).as_deref(), Some("Pending"));

    // The snapshot becomes ready (the delay lifted), and the claim binds to a copy of it.
    let lift = json!({"metadata": {"annotations": {READY_AFTER: "0"}}});
    vss.patch(
        "slow",
        &testkit::kube::api::PatchParams::default(),
        &testkit::kube::api::Patch::Merge(lift),
    )
    .await?;
    wait_for(&vss, "slow", WAIT, "readyToUse", ready).await?;
    let restored = c.claim_dir(&client, &ns.name, "early", WAIT).await?;
    snap::assert_same_tree(&before, &snap::tree(&restored)?)?;
    Ok(())
}

/// A claim asking for less than the snapshot's restoreSize is refused with external-provisioner's
/// message and stays Pending; the snapshot can't be deleted while that claim waits on it.
#[tokio::test(flavor = "multi_thread")]
async fn too_small_restores_are_refused_and_protect_the_snapshot() -> anyhow::Result<()> {
    let c = cluster();
    snap::ensure_support(c).await?;
    let ns = c.fresh_namespace("snapinfra").await?;
    let client = c.client().await?;
    claim(&client, &ns.name, "data", "2Gi", json!({})).await?;
    c.claim_dir(&client, &ns.name, "data", WAIT).await?;
    snapshot(
        &client,
        &ns.name,
        "big",
        json!({"source": {"persistentVolumeClaimName": "data"}}),
        json!({}),
    )
    .await?;
    let vss = snap::vs_api(&client, &ns.name);
    let vs = wait_for(&vss, "big", WAIT, "readyToUse", ready).await?;
    assert_eq!(str_at(&vs, "/status/restoreSize"), Some("2Gi"));

    claim(&client, &ns.name, "small", "1Gi", from_snapshot("big")).await?;
    let msg = snap::wait_event(&client, &ns.name, "small", "ProvisioningFailed", WAIT).await?;
    assert_eq!(
        msg,
        "failed to provision volume with StorageClass \"standard\": error getting handle for DataSource Type \
         VolumeSnapshot by Name big: requested volume size 1073741824 is less than the size 2147483648 for the \
         source snapshot big"
    );
    let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), &ns.name);
    let small = pvcs.get("small").await?;
    assert_eq!(small.status.and_then(|s| s.phase).as_deref(), Some("Pending"));

    // volumesnapshot-as-source-protection: deletion waits for the pending restore.
    vss.delete("big", &DeleteParams::default()).await?;
    let pending = snap::wait_event(&client, &ns.name, "big", "SnapshotDeletePending", WAIT).await?;
    assert_eq!(pending, "Snapshot is being used to restore a PVC");
    assert!(
        vss.get_opt("big").await?.is_some(),
        "the snapshot went while a restore waited on it"
    );
    pvcs.delete("small", &DeleteParams::default()).await?;
    wait_deleted(&vss, "big", WAIT).await?;
    Ok(())
}

/// The errors a user sees in `status.error`, worded as external-snapshotter words them: a missing
/// claim, an unbound claim, an unknown class, and a driver failure (final, injected); a transient
/// driver failure is retried until the snapshot is ready, and the error is cleared.
#[tokio::test(flavor = "multi_thread")]
async fn failures_show_in_status_error() -> anyhow::Result<()> {
    let c = cluster();
    snap::ensure_support(c).await?;
    let ns = c.fresh_namespace("snapinfra").await?;
    let client = c.client().await?;
    let n = ns.name.as_str();
    claim(&client, n, "data", "1Gi", json!({})).await?;
    c.claim_dir(&client, n, "data", WAIT).await?;
    // No provisioner serves this class: the claim stays Pending.
    claim(
        &client,
        n,
        "unbound",
        "1Gi",
        json!({"spec": {"storageClassName": "no-such-class"}}),
    )
    .await?;
    let src = |claim: &str| json!({"source": {"persistentVolumeClaimName": claim}});
    let with_class = |claim: &str, class: &str| {
        json!({"source": {"persistentVolumeClaimName": claim},
                                                       "volumeSnapshotClassName": class})
    };
    snapshot(&client, n, "missing", src("nosuch"), json!({})).await?;
    snapshot(
        &client,
        n,
        "missing-class",
        with_class("nosuch", snap::DEFAULT_CLASS),
        json!({}),
    )
    .await?;
    snapshot(
        &client,
        n,
        "unbound",
        with_class("unbound", snap::DEFAULT_CLASS),
        json!({}),
    )
    .await?;
    snapshot(&client, n, "gold", with_class("data", "gold"), json!({})).await?;
    snapshot(
        &client,
        n,
        "broken",
        src("data"),
        json!({"nodesim.chartup.io/snapshot-fail": "disk on fire"}),
    )
    .await?;
    snapshot(
        &client,
        n,
        "flaky",
        src("data"),
        json!({"nodesim.chartup.io/snapshot-fail-times": "2"}),
    )
    .await?;
    let vss = snap::vs_api(&client, n);

    wait_error(
        &vss,
        "missing",
        "Failed to set default snapshot class with error failed to retrieve PVC nosuch from the lister: \
         \"persistentvolumeclaim \\\"nosuch\\\" not found\"",
    )
    .await?;
    let vs = wait_error(
        &vss,
        "missing-class",
        "Failed to create snapshot content with error snapshot controller failed to update missing-class on API \
         server: cannot get claim from snapshot",
    )
    .await?;
    assert_eq!(at(&vs, "/status/readyToUse").and_then(Value::as_bool), Some(false));
    let vs = wait_error(
        &vss,
        "unbound",
        "Failed to create snapshot content with error failed to get input parameters to create snapshot unbound: \
         \"the PVC unbound is not yet bound to a PV, will not attempt to take a snapshot\"",
    )
    .await?;
    assert!(str_at(&vs, "/status/boundVolumeSnapshotContentName").is_none());
    wait_error(
        &vss,
        "gold",
        "Failed to get snapshot class with error volumesnapshotclass.snapshot.storage.k8s.io \"gold\" not found",
    )
    .await?;
    // A driver failure: the content carries it and the snapshot shows it, bound but not ready.
    let vs = wait_error(&vss, "broken", "\"rpc error: code = Internal desc = disk on fire\"").await?;
    assert_eq!(at(&vs, "/status/readyToUse").and_then(Value::as_bool), Some(false));
    let msg = error_message(Some(&vs)).unwrap_or_default();
    assert!(
        msg.contains("failed to take snapshot of the volume pvc-"),
        "not the sidecar's wording: {msg}"
    );
    let content = str_at(&vs, "/status/boundVolumeSnapshotContentName")
        .unwrap_or_default()
        .to_string();
    let vsc = snap::vsc_api(&client).get(&content).await?;
    assert!(str_at(&vsc, "/status/error/message").is_some_and(|m| m.contains("disk on fire")));
    assert!(at(&vsc, "/status/snapshotHandle").is_none(), "{vsc:?}");
    // The driver writes the content's error before its event (and the snapshot may show it first).
    snap::wait_event(&client, "default", &content, "SnapshotCreationFailed", WAIT).await?;
    // The source claim stays protected while a snapshot of it is unfinished (upstream behaviour).
    let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), n);
    let data = pvcs.get("data").await?;
    assert!(data
        .finalizers()
        .iter()
        .any(|f| f == "snapshot.storage.kubernetes.io/pvc-as-source-protection"));

    let vs = wait_for(&vss, "flaky", WAIT, "readyToUse after transient failures", ready).await?;
    assert!(
        at(&vs, "/status/error").is_none(),
        "the error is cleared on success: {vs:?}"
    );

    // pvc-as-source-protection holds the claim's deletion while its snapshot is unfinished, and
    // lets it go with that snapshot (the "stuck finalizer" users meet upstream).
    pvcs.delete("data", &DeleteParams::default()).await?;
    let data = wait_for(
        &pvcs,
        "data",
        WAIT,
        "terminating",
        |p: Option<&PersistentVolumeClaim>| p.is_some_and(|p| p.metadata.deletion_timestamp.is_some()),
    )
    .await?;
    assert!(data
        .finalizers()
        .iter()
        .any(|f| f == "snapshot.storage.kubernetes.io/pvc-as-source-protection"));
    // Every unready snapshot of the claim counts, even one that never started ("gold"), as upstream.
    vss.delete("broken", &DeleteParams::default()).await?;
    wait_deleted(&vss, "broken", WAIT).await?;
    assert!(
        pvcs.get_opt("data").await?.is_some(),
        "\"gold\" (unready) still holds the claim"
    );
    vss.delete("gold", &DeleteParams::default()).await?;
    wait_deleted(&pvcs, "data", WAIT).await?;
    Ok(())
}

/// Deleting a snapshot follows the content's deletionPolicy: Delete removes the content and the
/// snapshot's data; Retain leaves both (the content loses its snapshot but keeps its handle).
#[tokio::test(flavor = "multi_thread")]
async fn deletion_follows_the_policy() -> anyhow::Result<()> {
    let c = cluster();
    snap::ensure_support(c).await?;
    let ns = c.fresh_namespace("snapinfra").await?;
    let client = c.client().await?;
    let n = ns.name.as_str();
    claim(&client, n, "data", "1Gi", json!({})).await?;
    let dir = c.claim_dir(&client, n, "data", WAIT).await?;
    write_data(&dir, "del")?;
    let src = json!({"source": {"persistentVolumeClaimName": "data"}});
    let mut retain = src.clone();
    retain["volumeSnapshotClassName"] = json!(snap::RETAIN_CLASS);
    snapshot(&client, n, "gone", src, json!({})).await?;
    snapshot(&client, n, "kept", retain, json!({})).await?;
    let vss = snap::vs_api(&client, n);
    let vscs = snap::vsc_api(&client);
    let mut contents = Vec::new();
    for name in ["gone", "kept"] {
        let vs = wait_for(&vss, name, WAIT, "readyToUse", ready).await?;
        let content = str_at(&vs, "/status/boundVolumeSnapshotContentName")
            .unwrap_or_default()
            .to_string();
        let vsc = vscs.get(&content).await?;
        let handle = str_at(&vsc, "/status/snapshotHandle").unwrap_or_default().to_string();
        let data = snap::snapshot_dir(c, &handle);
        assert!(data.is_dir(), "{name}: no snapshot data at {}", data.display());
        contents.push((content, data));
    }
    let kept = vss.get("kept").await?;
    assert!(
        !kept
            .finalizers()
            .iter()
            .any(|f| f == "snapshot.storage.kubernetes.io/volumesnapshot-bound-protection"),
        "a Retain snapshot has no bound-protection finalizer upstream: {:?}",
        kept.finalizers()
    );

    vss.delete("gone", &DeleteParams::default()).await?;
    wait_deleted(&vss, "gone", WAIT).await?;
    wait_deleted(&vscs, &contents[0].0, WAIT).await?;
    assert!(!contents[0].1.exists(), "Delete left the snapshot data behind");

    vss.delete("kept", &DeleteParams::default()).await?;
    wait_deleted(&vss, "kept", WAIT).await?;
    let vsc = vscs.get(&contents[1].0).await?;
    assert!(vsc.metadata.deletion_timestamp.is_none());
    assert_eq!(str_at(&vsc, "/spec/deletionPolicy"), Some("Retain"));
    assert!(contents[1].1.is_dir(), "Retain lost the snapshot data");
    // Tidy up what Retain keeps: the content object (its data stays, as upstream), then the data.
    vscs.delete(&contents[1].0, &DeleteParams::default()).await?;
    wait_deleted(&vscs, &contents[1].0, WAIT).await?;
    assert!(
        contents[1].1.is_dir(),
        "deleting a Retain content must not delete the snapshot"
    );
    std::fs::remove_dir_all(&contents[1].1)?;
    let _ = std::fs::remove_file(contents[1].1.with_extension("json"));
    Ok(())
}

/// The namespace tenant (scripts/test-cluster.sh's `tenant` user) snapshots and restores in its
/// namespace; it cannot read the cluster-scoped classes and contents, as on a shared cluster.
#[tokio::test(flavor = "multi_thread")]
async fn a_namespace_tenant_snapshots_and_restores() -> anyhow::Result<()> {
    let c = cluster();
    snap::ensure_support(c).await?;
    let kubeconfig = c.dir.join("tenant.kubeconfig");
    let tenant = testkit::client_from(&kubeconfig).await?;
    let n = "tenant";
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let suffix = format!("{:x}", std::process::id() ^ nanos);
    let (data, vs_name, restored) = (
        format!("snapinfra-{suffix}"),
        format!("snapinfra-{suffix}"),
        format!("snapinfra-{suffix}-r"),
    );
    claim(&tenant, n, &data, "1Gi", json!({})).await?;
    let admin = c.client().await?;
    let dir = c.claim_dir(&admin, n, &data, WAIT).await?;
    write_data(&dir, "tenant")?;
    let before = snap::tree(&dir)?;
    snapshot(
        &tenant,
        n,
        &vs_name,
        json!({"source": {"persistentVolumeClaimName": data}, "volumeSnapshotClassName": snap::DEFAULT_CLASS}),
        json!({}),
    )
    .await?;
    let vss = snap::vs_api(&tenant, n);
    wait_for(&vss, &vs_name, WAIT, "readyToUse", ready).await?;
    claim(&tenant, n, &restored, "1Gi", from_snapshot(&vs_name)).await?;
    let rdir = c.claim_dir(&admin, n, &restored, WAIT).await?;
    snap::assert_same_tree(&before, &snap::tree(&rdir)?)?;

    for (what, res) in [
        (
            "VolumeSnapshotClasses",
            snap::class_api(&tenant).list(&Default::default()).await.map(|_| ()),
        ),
        (
            "VolumeSnapshotContents",
            snap::vsc_api(&tenant).list(&Default::default()).await.map(|_| ()),
        ),
    ] {
        match res {
            Err(testkit::kube::Error::Api(s)) if s.code == 403 => {}
            other => panic!("the tenant listing {what}: expected 403, got {other:?}"),
        }
    }
    // Clean up the shared tenant namespace.
    let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(tenant.clone(), n);
    pvcs.delete(&restored, &DeleteParams::default()).await?;
    vss.delete(&vs_name, &DeleteParams::default()).await?;
    wait_deleted(&vss, &vs_name, WAIT).await?;
    pvcs.delete(&data, &DeleteParams::default()).await?;
    Ok(())
}

/// A snapshot quota is the real API server's: the snapshot over `count/volumesnapshots…` is refused
/// with 403 "exceeded quota" at create time.
#[tokio::test(flavor = "multi_thread")]
async fn snapshot_quota_is_enforced_by_the_api_server() -> anyhow::Result<()> {
    use testkit::k8s_openapi::api::core::v1::ResourceQuota;
    let c = cluster();
    snap::ensure_support(c).await?;
    let ns = c.fresh_namespace("snapinfra").await?;
    let client = c.client().await?;
    let n = ns.name.as_str();
    let quotas: Api<ResourceQuota> = Api::namespaced(client.clone(), n);
    create(
        &quotas,
        json!({"metadata": {"name": "snapshots"},
               "spec": {"hard": {"count/volumesnapshots.snapshot.storage.k8s.io": "1"}}}),
    )
    .await?;
    // Admission counts against the quota's status, which the quota controller fills in.
    wait_for(
        &quotas,
        "snapshots",
        WAIT,
        "quota status",
        |q: Option<&ResourceQuota>| {
            q.and_then(|q| q.status.as_ref())
                .and_then(|s| s.hard.as_ref())
                .is_some_and(|h| h.contains_key("count/volumesnapshots.snapshot.storage.k8s.io"))
        },
    )
    .await?;
    claim(&client, n, "data", "1Gi", json!({})).await?;
    let src = json!({"source": {"persistentVolumeClaimName": "data"}});
    snapshot(&client, n, "one", src.clone(), json!({})).await?;
    match snapshot(&client, n, "two", src, json!({})).await {
        Err(e) => {
            let api = e.downcast_ref::<testkit::kube::Error>();
            match api {
                Some(testkit::kube::Error::Api(s)) => {
                    assert_eq!(s.code, 403, "{s:?}");
                    assert!(s.message.contains("exceeded quota"), "{}", s.message);
                }
                _ => panic!("expected a 403 from the API server, got {e:#}"),
            }
        }
        Ok(()) => panic!("a second snapshot was accepted over a quota of 1"),
    }
    Ok(())
}

/// A retained snapshot can be brought back as a pre-provisioned one (a VolumeSnapshotContent with
/// `source.snapshotHandle`, the way Velero restores): it binds, becomes ready, and restores the data.
#[tokio::test(flavor = "multi_thread")]
async fn a_retained_snapshot_is_reused_pre_provisioned() -> anyhow::Result<()> {
    let c = cluster();
    snap::ensure_support(c).await?;
    let ns = c.fresh_namespace("snapinfra").await?;
    let client = c.client().await?;
    let n = ns.name.as_str();
    claim(&client, n, "data", "1Gi", json!({})).await?;
    let dir = c.claim_dir(&client, n, "data", WAIT).await?;
    write_data(&dir, "retained")?;
    let before = snap::tree(&dir)?;
    snapshot(
        &client,
        n,
        "first",
        json!({"source": {"persistentVolumeClaimName": "data"}, "volumeSnapshotClassName": snap::RETAIN_CLASS}),
        json!({}),
    )
    .await?;
    let vss = snap::vs_api(&client, n);
    let vscs = snap::vsc_api(&client);
    let vs = wait_for(&vss, "first", WAIT, "readyToUse", ready).await?;
    let old_content = str_at(&vs, "/status/boundVolumeSnapshotContentName")
        .unwrap_or_default()
        .to_string();
    let handle = vscs.get(&old_content).await?;
    let handle = str_at(&handle, "/status/snapshotHandle")
        .unwrap_or_default()
        .to_string();
    vss.delete("first", &DeleteParams::default()).await?;
    wait_deleted(&vss, "first", WAIT).await?;
    std::fs::write(dir.join("db/VERSION"), "changed after the snapshot\n")?;

    let content_name = format!("{n}-again");
    let content: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshotContent",
        "metadata": {"name": content_name},
        "spec": {"deletionPolicy": "Delete", "driver": snap::DRIVER,
                 "source": {"snapshotHandle": handle},
                 "volumeSnapshotRef": {"name": "again", "namespace": n}}}))?;
    vscs.create(&PostParams::default(), &content).await?;
    snapshot(
        &client,
        n,
        "again",
        json!({"source": {"volumeSnapshotContentName": content_name}}),
        json!({}),
    )
    .await?;
    let vs = wait_for(&vss, "again", WAIT, "readyToUse", ready).await?;
    assert_eq!(
        str_at(&vs, "/status/boundVolumeSnapshotContentName"),
        Some(content_name.as_str())
    );
    assert_eq!(str_at(&vs, "/status/restoreSize"), Some("1Gi"));
    let bound = vscs.get(&content_name).await?;
    assert_eq!(
        str_at(&bound, "/spec/volumeSnapshotRef/uid"),
        vs.uid().as_deref(),
        "the content is bound back"
    );

    claim(&client, n, "restored", "1Gi", from_snapshot("again")).await?;
    let rdir = c.claim_dir(&client, n, "restored", WAIT).await?;
    snap::assert_same_tree(&before, &snap::tree(&rdir)?)?;

    // Policy Delete on the new content: deleting the snapshot removes the data behind the handle;
    // the old retained content object is then tidied up.
    vss.delete("again", &DeleteParams::default()).await?;
    wait_deleted(&vscs, &content_name, WAIT).await?;
    assert!(!snap::snapshot_dir(c, &handle).exists(), "Delete left the data behind");
    vscs.delete(&old_content, &DeleteParams::default()).await?;
    wait_deleted(&vscs, &old_content, WAIT).await?;
    Ok(())
}

/// Kubernetes 1.20 keeps a VolumeSnapshot `dataSource` but silently drops one of another kind
/// (AnyVolumeDataSource is off): why a restore must read its claim back before trusting it.
#[tokio::test(flavor = "multi_thread")]
async fn the_api_server_drops_unsupported_data_sources() -> anyhow::Result<()> {
    let c = cluster();
    snap::ensure_support(c).await?;
    let ns = c.fresh_namespace("snapinfra").await?;
    let client = c.client().await?;
    let n = ns.name.as_str();
    let foreign = json!({"spec": {"dataSource": {"apiGroup": "example.com", "kind": "Backup", "name": "x"}}});
    claim(&client, n, "foreign", "1Gi", foreign).await?;
    claim(&client, n, "from-snapshot", "1Gi", from_snapshot("not-yet")).await?;
    let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), n);
    let foreign = pvcs.get("foreign").await?;
    assert!(
        foreign.spec.and_then(|s| s.data_source).is_none(),
        "kept an unsupported dataSource"
    );
    let kept = pvcs.get("from-snapshot").await?;
    let ds = kept.spec.and_then(|s| s.data_source);
    assert_eq!(
        ds.as_ref().map(|d| (d.kind.as_str(), d.name.as_str())),
        Some(("VolumeSnapshot", "not-yet"))
    );
    // A snapshot that does not exist: Pending, with external-provisioner's message.
    let msg = snap::wait_event(&client, n, "from-snapshot", "ProvisioningFailed", WAIT).await?;
    assert!(
        msg.ends_with(
            "error getting handle for DataSource Type VolumeSnapshot by Name not-yet: error getting snapshot \
             not-yet from api server: volumesnapshots.snapshot.storage.k8s.io \"not-yet\" not found"
        ),
        "{msg}"
    );
    Ok(())
}

/// A snapshot deleted while the driver's CreateSnapshot has no final answer yet (transient
/// failures keep `volumesnapshot-being-created`) is not deleted under the driver's feet: creation
/// goes on after the delete, finishes, then the data and both objects go (upstream `shouldDelete`).
///
/// The driver fails until the test lifts the knob, so no step depends on how fast the machine is.
#[tokio::test(flavor = "multi_thread")]
async fn deletion_during_creation_waits_for_the_driver() -> anyhow::Result<()> {
    const FAIL_TIMES: &str = "nodesim.chartup.io/snapshot-fail-times";
    let c = cluster();
    snap::ensure_support(c).await?;
    let ns = c.fresh_namespace("snapinfra").await?;
    let client = c.client().await?;
    let n = ns.name.as_str();
    claim(&client, n, "data", "1Gi", json!({})).await?;
    c.claim_dir(&client, n, "data", WAIT).await?;
    snapshot(
        &client,
        n,
        "busy",
        json!({"source": {"persistentVolumeClaimName": "data"}}),
        json!({FAIL_TIMES: "1000000"}),
    )
    .await?;
    let vss = snap::vs_api(&client, n);
    let vs = wait_error(&vss, "busy", "code = Unavailable").await?;
    let content = str_at(&vs, "/status/boundVolumeSnapshotContentName")
        .unwrap_or_default()
        .to_string();
    let vscs = snap::vsc_api(&client);
    let vsc = vscs.get(&content).await?;
    let being_created = "snapshot.storage.kubernetes.io/volumesnapshot-being-created";
    assert!(
        vsc.annotations().contains_key(being_created),
        "a non-final error keeps the being-created mark: {:?}",
        vsc.annotations()
    );
    let handle = format!("snapshot-{}", vsc.uid().unwrap_or_default());

    // Deleted while creating: the content is marked and deleted, but the driver goes on creating.
    vss.delete("busy", &DeleteParams::default()).await?;
    let marked = wait_for(
        &vscs,
        &content,
        WAIT,
        "deleted and marked being-deleted",
        |o: Option<&DynamicObject>| {
            o.is_some_and(|o| {
                o.metadata.deletion_timestamp.is_some()
                    && o.annotations()
                        .contains_key("snapshot.storage.kubernetes.io/volumesnapshot-being-deleted")
            })
        },
    )
    .await?;
    let seen = attempt(error_message(Some(&marked)).as_deref());
    let again = wait_for(
        &vscs,
        &content,
        WAIT,
        "another CreateSnapshot attempt",
        move |o: Option<&DynamicObject>| attempt(error_message(o).as_deref()) > seen,
    )
    .await?;
    assert!(
        again.annotations().contains_key(being_created),
        "still being created after the delete: {:?}",
        again.annotations()
    );
    assert!(
        vss.get_opt("busy").await?.is_some(),
        "the snapshot went before its content"
    );
    assert!(!snap::snapshot_dir(c, &handle).exists(), "no snapshot is cut yet");

    // The driver answers: creation finishes (a version of the content carries the snapshot's
    // handle, seen by a watch started before the lift), then the data and both objects go.
    let cut = handle_seen(vscs.clone(), &content).await?;
    let lift = json!({"metadata": {"annotations": {FAIL_TIMES: "0"}}});
    vss.patch(
        "busy",
        &testkit::kube::api::PatchParams::default(),
        &testkit::kube::api::Patch::Merge(lift),
    )
    .await?;
    wait_deleted(&vscs, &content, WAIT).await?;
    wait_deleted(&vss, "busy", WAIT).await?;
    let cut = tokio::time::timeout(WAIT, cut).await??;
    assert_eq!(
        cut.as_deref(),
        Some(handle.as_str()),
        "creation finished before the deletion"
    );
    assert!(
        !snap::snapshot_dir(c, &handle).exists(),
        "the snapshot cut after the delete was left behind"
    );
    Ok(())
}

/// Watches content `name` (the watch is established when this returns) until it is deleted: the
/// task's result is the first `status.snapshotHandle` any version of it carried.
async fn handle_seen(api: Api<DynamicObject>, name: &str) -> anyhow::Result<tokio::task::JoinHandle<Option<String>>> {
    use futures::StreamExt as _;
    use testkit::kube::runtime::watcher;
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let config = watcher::Config::default().fields(&format!("metadata.name={name}"));
    let task = tokio::spawn(async move {
        let mut ready = Some(ready_tx);
        let mut stream = watcher(api, config).boxed();
        let mut seen = None;
        while let Some(event) = stream.next().await {
            let (o, gone) = match event {
                Ok(watcher::Event::Apply(o)) | Ok(watcher::Event::InitApply(o)) => (o, false),
                Ok(watcher::Event::Delete(o)) => (o, true),
                Ok(watcher::Event::InitDone) => {
                    ready.take().map(|tx| tx.send(()));
                    continue;
                }
                _ => continue,
            };
            if seen.is_none() {
                seen = str_at(&o, "/status/snapshotHandle").map(str::to_string);
            }
            if gone {
                break;
            }
        }
        seen
    });
    tokio::time::timeout(WAIT, ready_rx).await??;
    Ok(task)
}

/// The attempt number in nodesim's injected transient failure ("attempt 3 of 1000000"), 0 when none.
fn attempt(message: Option<&str>) -> u64 {
    message
        .and_then(|m| m.split("attempt ").nth(1))
        .map(|rest| rest.chars().take_while(char::is_ascii_digit).collect::<String>())
        .and_then(|d| d.parse().ok())
        .unwrap_or(0)
}

/// A clone (`dataSource` kind PersistentVolumeClaim, GA in 1.18 and kept by the API server) is a copy
/// of the source volume, never an empty volume; a smaller request is refused as external-provisioner does.
#[tokio::test(flavor = "multi_thread")]
async fn clones_copy_the_source_volume() -> anyhow::Result<()> {
    let c = cluster();
    snap::ensure_support(c).await?;
    let ns = c.fresh_namespace("snapinfra").await?;
    let client = c.client().await?;
    let n = ns.name.as_str();
    claim(&client, n, "data", "2Gi", json!({})).await?;
    let dir = c.claim_dir(&client, n, "data", WAIT).await?;
    write_data(&dir, "clone")?;
    let before = snap::tree(&dir)?;
    let clone_of = |size: &str| {
        json!({"spec": {"dataSource": {"kind": "PersistentVolumeClaim", "name": "data"},
                                                "resources": {"requests": {"storage": size}}}})
    };
    claim(&client, n, "copy", "2Gi", clone_of("2Gi")).await?;
    claim(&client, n, "too-small", "1Gi", clone_of("1Gi")).await?;
    let copy = c.claim_dir(&client, n, "copy", WAIT).await?;
    snap::assert_same_tree(&before, &snap::tree(&copy)?)?;
    let msg = snap::wait_event(&client, n, "too-small", "ProvisioningFailed", WAIT).await?;
    assert_eq!(
        msg,
        "failed to provision volume with StorageClass \"standard\": error getting handle for DataSource Type \
         PersistentVolumeClaim by Name data: error, new PVC request must be greater than or equal in size to the \
         specified PVC data source, requested 1073741824 but source is 2147483648"
    );
    Ok(())
}
