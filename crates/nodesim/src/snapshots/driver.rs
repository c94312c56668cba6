//! VolumeSnapshotContents: the common controller's part (the `volumesnapshotcontent-bound-protection`
//! finalizer, the `volumesnapshot-being-deleted` mark) and the csi-snapshotter sidecar's
//! (external-snapshotter v4.2 `pkg/sidecar-controller`) with the CSI driver behind it, which is
//! csi-driver-host-path's behaviour on nodesim's volume directories:
//!
//! - CreateSnapshot copies the source volume's directory to `<snapshots-dir>/<handle>` (through a
//!   temporary directory, so a half copy is never taken for a snapshot); the handle is derived
//!   from the content's uid, which makes a repeated call after a crash find the same snapshot;
//!   `restoreSize` is the volume's provisioned capacity (hostpath's `SizeBytes`), `creationTime`
//!   the moment of the copy in Unix nanoseconds. A small metadata file beside the copy answers
//!   ListSnapshots for pre-provisioned contents and after a restart.
//! - `readyToUse` is true at once, as with csi-driver-host-path, unless a delay is asked for
//!   (`snapshot-ready-after`); then false, and true once the delay has passed (the sidecar's
//!   ListSnapshots polling).
//! - Injected failures: `snapshot-fail` is a final gRPC error (Internal) on every attempt,
//!   `snapshot-fail-times: N` fails the first N attempts with a non-final one (Unavailable), which
//!   keeps `volumesnapshot-being-created` set as upstream does while the outcome is unknown.
//! - DeleteSnapshot (policy Delete, once the snapshot's deletion reached the content) removes the
//!   copy, then the finalizer goes; with Retain the copy stays.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;
use kube::ResourceExt;
use serde_json::{json, Value};

use super::controller::set_finalizers;
use super::*;
use crate::{Ctx, SimError};

const COMPONENT: &str = "csi-snapshotter chartup.io/hostpath";
const RETRY: Duration = Duration::from_secs(1);

/// Attempts per content, for `snapshot-fail-times` (kept in memory, like the driver's own state).
#[derive(Default)]
pub struct Attempts(Mutex<HashMap<String, u32>>);

impl Attempts {
    fn next(&self, uid: &str) -> u32 {
        let mut m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let n = m.entry(uid.to_string()).or_insert(0);
        *n += 1;
        *n
    }
}

/// A gRPC status as the sidecar prints it.
struct CsiError {
    code: &'static str,
    msg: String,
}

impl CsiError {
    fn new(code: &'static str, msg: impl Into<String>) -> CsiError {
        CsiError { code, msg: msg.into() }
    }

    /// Upstream `isCSIFinalError`: these codes mean the outcome is not known yet.
    fn is_final(&self) -> bool {
        !matches!(
            self.code,
            "Canceled" | "DeadlineExceeded" | "Unavailable" | "ResourceExhausted" | "Aborted"
        )
    }
}

impl std::fmt::Display for CsiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "rpc error: code = {} desc = {}", self.code, self.msg)
    }
}

/// What CreateSnapshot / ListSnapshots report.
struct SnapInfo {
    handle: String,
    creation_ns: i64,
    size: i64,
    ready: bool,
    /// When not ready: how long until it will be.
    ready_in: Option<Duration>,
}

pub async fn run(ctx: Arc<Ctx>) {
    Controller::new_with(vsc_api(&ctx.client), watcher::Config::default(), vsc_resource())
        .run(reconcile, retry, ctx)
        .for_each(|_| async {})
        .await;
}

fn retry(_: Arc<DynamicObject>, e: &SimError, _: Arc<Ctx>) -> Action {
    tracing::debug!("snapshot content reconcile: {e}");
    Action::requeue(RETRY)
}

fn snapshot_dir(ctx: &Ctx, handle: &str) -> PathBuf {
    ctx.opts.snapshots_dir.join(handle)
}

fn meta_file(ctx: &Ctx, handle: &str) -> PathBuf {
    ctx.opts.snapshots_dir.join(format!("{handle}.json"))
}

/// The snapshot directory behind a handle, when it is a complete snapshot of ours.
pub fn snapshot_data(ctx: &Ctx, handle: &str) -> Option<PathBuf> {
    let valid = !handle.is_empty() && handle.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    let dir = snapshot_dir(ctx, handle);
    (valid && dir.is_dir() && meta_file(ctx, handle).is_file()).then_some(dir)
}

async fn reconcile(vsc: Arc<DynamicObject>, ctx: Arc<Ctx>) -> Result<Action, SimError> {
    if str_at(&vsc, "/spec/driver") != Some(DRIVER) {
        return Ok(Action::await_change());
    }
    let api = vsc_api(&ctx.client);
    let name = vsc.name_any();
    let volume_handle = str_at(&vsc, "/spec/source/volumeHandle");
    let snapshot_handle = str_at(&vsc, "/spec/source/snapshotHandle");
    if volume_handle.is_some() == snapshot_handle.is_some() {
        let msg = "Exactly one of VolumeHandle and SnapshotHandle should be specified";
        event(
            &ctx,
            "snapshot-controller",
            &vsc,
            "Warning",
            "ContentValidationError",
            msg,
        )
        .await;
        return Ok(Action::await_change());
    }
    let ref_uid = str_at(&vsc, "/spec/volumeSnapshotRef/uid").unwrap_or("");
    let deleting = vsc.metadata.deletion_timestamp.is_some();
    // Common controller: a bound content carries its finalizer; a deleted snapshot marks it.
    if !ref_uid.is_empty() && !deleting && !vsc.finalizers().iter().any(|f| f == VSC_BOUND_FINALIZER) {
        let mut fins = vsc.finalizers().to_vec();
        fins.push(VSC_BOUND_FINALIZER.to_string());
        set_finalizers(&api, &vsc, fins).await?;
        return Ok(Action::await_change());
    }
    if !ref_uid.is_empty() && !vsc.annotations().contains_key(ANN_BEING_DELETED) {
        if let Some(vs) = referenced_snapshot(&ctx, &vsc).await? {
            let candidate = vs.metadata.deletion_timestamp.is_some()
                && vs
                    .finalizers()
                    .iter()
                    .any(|f| f == VS_SOURCE_FINALIZER || f == VS_BOUND_FINALIZER);
            if candidate {
                let patch = json!({"metadata": {"annotations": {ANN_BEING_DELETED: "yes"}}});
                api.patch(&name, &PatchParams::default(), &Patch::Merge(patch)).await?;
                return Ok(Action::await_change());
            }
        }
    }
    // Sidecar.
    if should_delete(&vsc) {
        let status_handle = str_at(&vsc, "/status/snapshotHandle");
        if str_at(&vsc, "/spec/deletionPolicy") == Some("Delete") && status_handle.is_some() {
            let handle = status_handle.unwrap_or_default().to_string();
            if let Err(e) = delete_snapshot(&ctx, &handle).await {
                event(
                    &ctx,
                    COMPONENT,
                    &vsc,
                    "Warning",
                    "SnapshotDeleteError",
                    "Failed to delete snapshot",
                )
                .await;
                return Err(SimError(format!("failed to delete snapshot {name:?}, err: {e}")));
            }
            let clear = json!({"status": {"snapshotHandle": null, "readyToUse": null, "creationTime": null,
                                          "restoreSize": null}});
            api.patch_status(&name, &PatchParams::default(), &Patch::Merge(clear))
                .await?;
            tracing::info!(content = %name, %handle, "deleted snapshot data");
            return Ok(Action::await_change());
        }
        let fins: Vec<String> = vsc
            .finalizers()
            .iter()
            .filter(|f| *f != VSC_BOUND_FINALIZER)
            .cloned()
            .collect();
        if fins.len() != vsc.finalizers().len() {
            set_finalizers(&api, &vsc, fins).await?;
        }
        return Ok(Action::await_change());
    }
    // A content being deleted but not deletable yet (a CreateSnapshot outcome is pending, or its
    // snapshot still exists) goes on being synced, as upstream: creation finishes, then deletion.
    let status = vsc.data.get("status").filter(|s| !s.is_null());
    if status.and_then(|s| s.get("readyToUse")).and_then(Value::as_bool) == Some(true) {
        remove_being_created(&api, &vsc).await?;
        return Ok(Action::await_change());
    }
    let first = status.is_none();
    let creating = volume_handle.is_some() && status.and_then(|s| s.get("snapshotHandle")).is_none();
    let result = if creating {
        create(&ctx, &api, &vsc).await
    } else {
        list(&ctx, &vsc).await.map_err(|e| {
            format!(
                "failed to list snapshot for content {name}: {}",
                go_quote(&e.to_string())
            )
        })
    };
    match result {
        Ok(info) => {
            update_content_status(&api, &vsc, &info).await?;
            // After a create, the annotation it set is not in this (older) copy of the object.
            if creating || vsc.annotations().contains_key(ANN_BEING_CREATED) {
                let patch = json!({"metadata": {"annotations": {ANN_BEING_CREATED: null}}});
                api.patch(&name, &PatchParams::default(), &Patch::Merge(patch)).await?;
            }
            Ok(match info.ready_in {
                Some(d) if !info.ready => look_again_in(d),
                _ => Action::await_change(),
            })
        }
        Err(err) => {
            let (reason, msg) = if first && volume_handle.is_some() {
                ("SnapshotCreationFailed", format!("Failed to create snapshot: {err}"))
            } else {
                (
                    "SnapshotContentCheckandUpdateFailed",
                    format!("Failed to check and update snapshot content: {err}"),
                )
            };
            content_error(&ctx, &api, &vsc, reason, &msg).await?;
            Ok(Action::requeue(RETRY))
        }
    }
}

/// The snapshot a content's ref names, if it is the one with that uid.
async fn referenced_snapshot(ctx: &Ctx, vsc: &DynamicObject) -> Result<Option<DynamicObject>, SimError> {
    let (Some(ns), Some(name)) = (
        str_at(vsc, "/spec/volumeSnapshotRef/namespace"),
        str_at(vsc, "/spec/volumeSnapshotRef/name"),
    ) else {
        return Ok(None);
    };
    let vs = vs_api(&ctx.client, ns).get_opt(name).await?;
    Ok(vs.filter(|v| v.uid().as_deref() == str_at(vsc, "/spec/volumeSnapshotRef/uid")))
}

/// Upstream `shouldDelete` (sidecar).
fn should_delete(vsc: &DynamicObject) -> bool {
    if vsc.metadata.deletion_timestamp.is_none() {
        return false;
    }
    let unbound_static = str_at(vsc, "/spec/source/snapshotHandle").is_some()
        && str_at(vsc, "/spec/volumeSnapshotRef/uid").unwrap_or("").is_empty();
    if unbound_static {
        return true;
    }
    if vsc.annotations().contains_key(ANN_BEING_CREATED) {
        return false;
    }
    vsc.annotations().contains_key(ANN_BEING_DELETED)
}

async fn remove_being_created(api: &Api<DynamicObject>, vsc: &DynamicObject) -> Result<(), SimError> {
    if vsc.annotations().contains_key(ANN_BEING_CREATED) {
        let patch = json!({"metadata": {"annotations": {ANN_BEING_CREATED: null}}});
        api.patch(&vsc.name_any(), &PatchParams::default(), &Patch::Merge(patch))
            .await?;
    }
    Ok(())
}

/// Upstream `updateContentErrorStatusWithEvent`: readyToUse false and the error, unless the same
/// message is already there.
async fn content_error(
    ctx: &Ctx,
    api: &Api<DynamicObject>,
    vsc: &DynamicObject,
    reason: &str,
    msg: &str,
) -> Result<(), SimError> {
    if str_at(vsc, "/status/error/message") == Some(msg) {
        return Ok(());
    }
    let status = json!({"status": {"error": {"time": rfc3339(jiff::Timestamp::now()), "message": msg},
                                   "readyToUse": false}});
    let res = api
        .patch_status(&vsc.name_any(), &PatchParams::default(), &Patch::Merge(status))
        .await;
    event(ctx, COMPONENT, vsc, "Warning", reason, msg).await;
    res?;
    Ok(())
}

/// Upstream `updateSnapshotContentStatus`: fills what is missing; readiness clears the error.
async fn update_content_status(api: &Api<DynamicObject>, vsc: &DynamicObject, info: &SnapInfo) -> Result<(), SimError> {
    // From the API server, as upstream does: the cached copy may lag behind our last write.
    let vsc = &api.get(&vsc.name_any()).await?;
    let old = vsc.data.get("status").cloned().unwrap_or(Value::Null);
    let mut new = serde_json::Map::new();
    if old.get("snapshotHandle").is_none_or(Value::is_null) {
        new.insert("snapshotHandle".into(), json!(info.handle));
    }
    if old.get("readyToUse").and_then(Value::as_bool) != Some(info.ready) {
        new.insert("readyToUse".into(), json!(info.ready));
        if info.ready && old.get("error").is_some_and(|e| !e.is_null()) {
            new.insert("error".into(), Value::Null);
        }
    }
    if old.get("creationTime").is_none_or(Value::is_null) {
        new.insert("creationTime".into(), json!(info.creation_ns));
    }
    if old.get("restoreSize").is_none_or(Value::is_null) {
        new.insert("restoreSize".into(), json!(info.size));
    }
    if !new.is_empty() {
        api.patch_status(
            &vsc.name_any(),
            &PatchParams::default(),
            &Patch::Merge(json!({ "status": new })),
        )
        .await?;
    }
    Ok(())
}

/// The knobs that apply to a content: its snapshot's annotations, then the source claim's, then
/// the class parameters.
async fn knobs(ctx: &Ctx, vsc: &DynamicObject) -> Result<[Option<BTreeMap<String, String>>; 3], SimError> {
    let vs = referenced_snapshot(ctx, vsc).await?;
    let vs_ann = vs.as_ref().map(|v| v.annotations().clone());
    let pvc_ann = match vs.as_ref().and_then(|v| {
        Some((
            v.namespace()?,
            str_at(v, "/spec/source/persistentVolumeClaimName")?.to_string(),
        ))
    }) {
        Some((ns, claim)) => {
            let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(ctx.client.clone(), &ns);
            pvcs.get_opt(&claim).await?.map(|p| p.annotations().clone())
        }
        None => None,
    };
    let class = match str_at(vsc, "/spec/volumeSnapshotClassName") {
        Some(c) => class_api(&ctx.client).get_opt(c).await?,
        None => None,
    };
    Ok([vs_ann, pvc_ann, class.as_ref().map(class_parameters)])
}

/// createSnapshotWrapper + the driver's CreateSnapshot.
async fn create(ctx: &Ctx, api: &Api<DynamicObject>, vsc: &DynamicObject) -> Result<SnapInfo, String> {
    let name = vsc.name_any();
    if let Some(class_name) = str_at(vsc, "/spec/volumeSnapshotClassName") {
        match class_api(&ctx.client).get_opt(class_name).await {
            Ok(Some(_)) => {}
            Ok(None) => {
                let inner = format!("volumesnapshotclass.{GROUP} {} not found", go_quote(class_name));
                return Err(format!(
                    "failed to get input parameters to create snapshot for content {name}: {}",
                    go_quote(&inner)
                ));
            }
            Err(e) => return Err(api_message(&e)),
        }
    } else {
        let inner = format!("failed to take snapshot {name} without a snapshot class");
        return Err(format!(
            "failed to get input parameters to create snapshot for content {name}: {}",
            go_quote(&inner)
        ));
    }
    if !vsc.annotations().contains_key(ANN_BEING_CREATED) {
        let patch = json!({"metadata": {"annotations": {ANN_BEING_CREATED: "yes"}}});
        api.patch(&name, &PatchParams::default(), &Patch::Merge(patch))
            .await
            .map_err(|e| {
                format!(
                    "failed to add VolumeSnapshotBeingCreated annotation on the content {name}: {}",
                    go_quote(&api_message(&e))
                )
            })?;
    }
    let volume = str_at(vsc, "/spec/source/volumeHandle").unwrap_or_default();
    match create_snapshot(ctx, vsc, volume).await {
        Ok(info) => Ok(info),
        Err(e) => {
            if e.is_final() {
                let patch = json!({"metadata": {"annotations": {ANN_BEING_CREATED: null}}});
                api.patch(&name, &PatchParams::default(), &Patch::Merge(patch))
                    .await
                    .map_err(|e| {
                        format!(
                            "failed to remove VolumeSnapshotBeingCreated annotation from the content {name}: {}",
                            api_message(&e)
                        )
                    })?;
            }
            Err(format!(
                "failed to take snapshot of the volume {volume}: {}",
                go_quote(&e.to_string())
            ))
        }
    }
}

fn now_ns() -> i64 {
    i64::try_from(jiff::Timestamp::now().as_nanosecond()).unwrap_or(i64::MAX)
}

fn readiness(delay: Option<Duration>, creation_ns: i64) -> (bool, Option<Duration>) {
    let Some(delay) = delay else {
        return (true, None);
    };
    let elapsed = Duration::from_nanos(u64::try_from(now_ns().saturating_sub(creation_ns)).unwrap_or(0));
    if elapsed >= delay {
        (true, None)
    } else {
        (false, Some(delay - elapsed))
    }
}

/// The driver's CreateSnapshot for volume `volume` (a PV name).
async fn create_snapshot(ctx: &Ctx, vsc: &DynamicObject, volume: &str) -> Result<SnapInfo, CsiError> {
    let knobs = knobs(ctx, vsc)
        .await
        .map_err(|e| CsiError::new("Unavailable", e.to_string()))?;
    let maps = [knobs[0].as_ref(), knobs[1].as_ref(), knobs[2].as_ref()];
    if let Some(msg) = knob(KNOB_FAIL, &maps) {
        return Err(CsiError::new("Internal", msg));
    }
    if let Some(n) = knob(KNOB_FAIL_TIMES, &maps).and_then(|n| n.parse::<u32>().ok()) {
        let attempt = ctx.attempts.next(&vsc.uid().unwrap_or_default());
        if attempt <= n {
            return Err(CsiError::new(
                "Unavailable",
                format!("nodesim: injected transient failure, attempt {attempt} of {n}"),
            ));
        }
    }
    let delay = knob(KNOB_READY_AFTER, &maps).and_then(seconds);
    let handle = format!("snapshot-{}", vsc.uid().unwrap_or_default());
    // Idempotent: a snapshot already cut for this content is returned as it is.
    if let Some(meta) = read_meta(ctx, &handle).await {
        if meta.get("sourceVolume").and_then(Value::as_str) != Some(volume) {
            return Err(CsiError::new(
                "AlreadyExists",
                format!("snapshot with the same name: {handle} but with different SourceVolumeId already exist"),
            ));
        }
        let creation_ns = meta.get("creationTime").and_then(Value::as_i64).unwrap_or(0);
        let (ready, ready_in) = readiness(delay, creation_ns);
        return Ok(SnapInfo {
            handle,
            creation_ns,
            size: meta.get("sizeBytes").and_then(Value::as_i64).unwrap_or(0),
            ready,
            ready_in,
        });
    }
    let pvs: Api<PersistentVolume> = Api::all(ctx.client.clone());
    let pv = match pvs.get_opt(volume).await {
        Ok(Some(pv)) => pv,
        Ok(None) => return Err(CsiError::new("NotFound", format!("volume id {volume} does not exist"))),
        Err(e) => return Err(CsiError::new("Unavailable", e.to_string())),
    };
    let spec = pv.spec.clone().unwrap_or_default();
    let Some(src) = spec.host_path.as_ref().map(|h| PathBuf::from(&h.path)) else {
        return Err(CsiError::new("NotFound", format!("volume id {volume} does not exist")));
    };
    if src != ctx.opts.volumes_dir.join(volume) || !src.is_dir() {
        return Err(CsiError::new("NotFound", format!("volume id {volume} does not exist")));
    }
    let size = spec
        .capacity
        .as_ref()
        .and_then(|c| c.get("storage"))
        .and_then(|q| parse_quantity(&q.0))
        .unwrap_or(0);
    let creation_ns = now_ns();
    let dest = snapshot_dir(ctx, &handle);
    copy_dir_atomic(&src, &dest)
        .await
        .map_err(|e| CsiError::new("Internal", format!("failed create snapshot: {e}")))?;
    let meta = json!({"sourceVolume": volume, "sizeBytes": size, "creationTime": creation_ns});
    tokio::fs::write(meta_file(ctx, &handle), meta.to_string())
        .await
        .map_err(|e| CsiError::new("Internal", format!("failed create snapshot: {e}")))?;
    tracing::info!(content = %vsc.name_any(), volume, %handle, size, "snapshot cut");
    let (ready, ready_in) = readiness(delay, creation_ns);
    Ok(SnapInfo {
        handle,
        creation_ns,
        size,
        ready,
        ready_in,
    })
}

async fn read_meta(ctx: &Ctx, handle: &str) -> Option<Value> {
    snapshot_data(ctx, handle)?;
    let text = tokio::fs::read_to_string(meta_file(ctx, handle)).await.ok()?;
    serde_json::from_str(&text).ok()
}

/// The sidecar's status check (ListSnapshots by handle).
async fn list(ctx: &Ctx, vsc: &DynamicObject) -> Result<SnapInfo, CsiError> {
    let handle = str_at(vsc, "/status/snapshotHandle")
        .or_else(|| str_at(vsc, "/spec/source/snapshotHandle"))
        .unwrap_or_default()
        .to_string();
    let Some(meta) = read_meta(ctx, &handle).await else {
        return Err(CsiError::new("NotFound", format!("snapshot {handle} not found")));
    };
    let knobs = knobs(ctx, vsc)
        .await
        .map_err(|e| CsiError::new("Unavailable", e.to_string()))?;
    let maps = [knobs[0].as_ref(), knobs[1].as_ref(), knobs[2].as_ref()];
    let delay = knob(KNOB_READY_AFTER, &maps).and_then(seconds);
    let creation_ns = meta.get("creationTime").and_then(Value::as_i64).unwrap_or(0);
    let (ready, ready_in) = readiness(delay, creation_ns);
    Ok(SnapInfo {
        handle,
        creation_ns,
        size: meta.get("sizeBytes").and_then(Value::as_i64).unwrap_or(0),
        ready,
        ready_in,
    })
}

/// The driver's DeleteSnapshot: the copy and its metadata go; a missing one is fine.
async fn delete_snapshot(ctx: &Ctx, handle: &str) -> std::io::Result<()> {
    let valid = !handle.is_empty() && handle.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !valid {
        return Ok(());
    }
    for r in [
        tokio::fs::remove_dir_all(snapshot_dir(ctx, handle)).await,
        tokio::fs::remove_file(meta_file(ctx, handle)).await,
    ] {
        match r {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Copy a directory tree to `dest` through `dest.partial`, renamed into place when complete.
pub async fn copy_dir_atomic(src: &Path, dest: &Path) -> std::io::Result<()> {
    let (src, dest) = (src.to_path_buf(), dest.to_path_buf());
    tokio::task::spawn_blocking(move || {
        let mut tmp = dest.clone().into_os_string();
        tmp.push(".partial");
        let tmp = PathBuf::from(tmp);
        match std::fs::remove_dir_all(&tmp) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        if let Some(parent) = tmp.parent() {
            std::fs::create_dir_all(parent)?;
        }
        copy_tree(&src, &tmp)?;
        std::fs::rename(&tmp, &dest)
    })
    .await
    .map_err(std::io::Error::other)?
}

/// Files, directories and symlinks with their permission bits, as `tar` keeps them.
pub fn copy_tree(src: &Path, dest: &Path) -> std::io::Result<()> {
    let meta = std::fs::symlink_metadata(src)?;
    std::fs::create_dir(dest)?;
    for entry in std::fs::read_dir(src)? {
        let entry = entry?;
        let (from, to) = (entry.path(), dest.join(entry.file_name()));
        let ft = entry.file_type()?;
        if ft.is_dir() {
            copy_tree(&from, &to)?;
        } else if ft.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&from)?, &to)?;
        } else if ft.is_file() {
            std::fs::copy(&from, &to)?;
        }
        // Sockets, fifos and devices are not volume data tests write; they are skipped.
    }
    std::fs::set_permissions(dest, meta.permissions())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(root: &Path) -> Vec<(String, Vec<u8>, u32)> {
        use std::os::unix::fs::PermissionsExt;
        let mut out = Vec::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                let m = std::fs::symlink_metadata(&p).unwrap();
                let rel = p.strip_prefix(root).unwrap().display().to_string();
                if m.file_type().is_symlink() {
                    out.push((
                        rel,
                        std::fs::read_link(&p).unwrap().display().to_string().into_bytes(),
                        0,
                    ));
                } else if m.is_dir() {
                    out.push((rel, Vec::new(), m.permissions().mode() & 0o7777));
                    stack.push(p);
                } else {
                    out.push((rel, std::fs::read(&p).unwrap(), m.permissions().mode() & 0o7777));
                }
            }
        }
        out.sort();
        out
    }

    #[tokio::test]
    async fn copies_are_byte_identical_with_modes_and_links() {
        use std::os::unix::fs::PermissionsExt;
        let t = tempfile::tempdir().unwrap();
        let src = t.path().join("vol");
        std::fs::create_dir_all(src.join("sub/deeper")).unwrap();
        std::fs::write(src.join("a.bin"), (0..=255u8).cycle().take(70_000).collect::<Vec<_>>()).unwrap();
        std::fs::write(src.join("sub/deeper/b.txt"), b"hello\n").unwrap();
        std::fs::set_permissions(src.join("sub/deeper/b.txt"), std::fs::Permissions::from_mode(0o640)).unwrap();
        std::fs::set_permissions(&src, std::fs::Permissions::from_mode(0o777)).unwrap();
        std::os::unix::fs::symlink("sub/deeper/b.txt", src.join("link")).unwrap();
        let dest = t.path().join("snaps/snapshot-1");
        copy_dir_atomic(&src, &dest).await.unwrap();
        assert_eq!(tree(&src), tree(&dest));
        assert_eq!(std::fs::metadata(&dest).unwrap().permissions().mode() & 0o777, 0o777);
        assert!(!t.path().join("snaps/snapshot-1.partial").exists());
    }

    #[tokio::test]
    async fn a_leftover_partial_copy_is_replaced() {
        let t = tempfile::tempdir().unwrap();
        let src = t.path().join("vol");
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(src.join("f"), b"new").unwrap();
        let partial = t.path().join("s.partial");
        std::fs::create_dir_all(&partial).unwrap();
        std::fs::write(partial.join("junk"), b"old").unwrap();
        copy_dir_atomic(&src, &t.path().join("s")).await.unwrap();
        assert_eq!(tree(&src), tree(&t.path().join("s")));
    }

    #[test]
    fn final_and_transient_csi_errors_as_upstream() {
        assert!(CsiError::new("Internal", "x").is_final());
        assert!(CsiError::new("InvalidArgument", "x").is_final());
        for code in [
            "Canceled",
            "DeadlineExceeded",
            "Unavailable",
            "ResourceExhausted",
            "Aborted",
        ] {
            assert!(!CsiError::new(code, "x").is_final(), "{code}");
        }
        assert_eq!(
            CsiError::new("Internal", "disk on fire").to_string(),
            "rpc error: code = Internal desc = disk on fire"
        );
    }

    fn vsc(annotations: Value, deleting: bool, source: Value, uid: &str) -> DynamicObject {
        let mut meta = json!({"name": "c", "annotations": annotations});
        if deleting {
            meta["deletionTimestamp"] = json!("2026-12-06T08:00:00Z");
        }
        serde_json::from_value(
            json!({"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshotContent",
            "metadata": meta, "spec": {"source": source, "volumeSnapshotRef": {"uid": uid}}}),
        )
        .unwrap()
    }

    #[test]
    fn deletion_waits_for_the_snapshot_and_for_creation_to_end() {
        let dynamic = json!({"volumeHandle": "pvc-1"});
        // Not being deleted.
        assert!(!should_delete(&vsc(
            json!({ANN_BEING_DELETED: "yes"}),
            false,
            dynamic.clone(),
            "u"
        )));
        // Deleted directly while its snapshot lives: lingers.
        assert!(!should_delete(&vsc(json!({}), true, dynamic.clone(), "u")));
        // The snapshot's deletion reached it: goes.
        assert!(should_delete(&vsc(
            json!({ANN_BEING_DELETED: "yes"}),
            true,
            dynamic.clone(),
            "u"
        )));
        // …but never while a CreateSnapshot is unanswered.
        let both = json!({ANN_BEING_DELETED: "yes", ANN_BEING_CREATED: "yes"});
        assert!(!should_delete(&vsc(both, true, dynamic, "u")));
        // An unbound pre-provisioned content goes at once.
        assert!(should_delete(&vsc(json!({}), true, json!({"snapshotHandle": "h"}), "")));
    }

    #[test]
    fn readiness_waits_for_the_delay() {
        assert_eq!(readiness(None, 0), (true, None));
        let (ready, left) = readiness(Some(Duration::from_secs(60)), now_ns());
        assert!(!ready);
        assert!(left.is_some_and(|d| d > Duration::from_secs(50)));
        let (ready, _) = readiness(Some(Duration::from_secs(1)), now_ns() - 2_000_000_000);
        assert!(ready);
    }
}
