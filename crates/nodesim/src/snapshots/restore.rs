//! A claim with `dataSource: {apiGroup: snapshot.storage.k8s.io, kind: VolumeSnapshot, name}`:
//! external-provisioner v2's checks before it asks the driver for a volume from a snapshot
//! (`getSnapshotSource`: the snapshot exists, is not being deleted, is bound both ways to a content
//! of this class's driver, is ready, has a handle, and is not bigger than the request), with its
//! messages in a `ProvisioningFailed` event and a retry, as the claim stays Pending. When they pass,
//! the provisioner (storage.rs) copies the snapshot's directory into the new volume's.
//!
//! Knobs: `restore-after` (seconds after the claim's creation before the volume is made, so a test
//! can act while a restore is in flight) and `restore-fail` (the driver's CreateVolume fails with
//! that message), read from the claim's annotations, then the snapshot's, then its class parameters.

use std::path::PathBuf;
use std::time::Duration;

use k8s_openapi::api::core::v1::PersistentVolumeClaim;
use kube::ResourceExt;
use serde_json::Value;

use super::controller::points_back;
use super::*;
use crate::Ctx;

const COMPONENT: &str = "chartup.io/hostpath";

/// Why a claim from a snapshot is not provisioned (yet).
#[derive(Debug, PartialEq)]
pub enum NotYet {
    /// Waiting without an error (a `restore-after` delay).
    Wait(Duration),
    /// A provisioning failure, retried: the message of the `ProvisioningFailed` event.
    Failed(String),
}

/// Is this claim's data source a VolumeSnapshot (the only snapshot form 1.20 keeps)?
pub fn snapshot_source(pvc: &PersistentVolumeClaim) -> Option<String> {
    let ds = pvc.spec.as_ref()?.data_source.as_ref()?;
    (ds.kind == "VolumeSnapshot" && ds.api_group.as_deref() == Some(GROUP)).then(|| ds.name.clone())
}

/// The snapshot directory to copy into the claim's new volume, after the provisioner's checks.
pub async fn source_dir(
    ctx: &Ctx,
    pvc: &PersistentVolumeClaim,
    provisioner: &str,
    snap: &str,
) -> Result<PathBuf, NotYet> {
    let ns = pvc.namespace().unwrap_or_default();
    let handle_err = |e: String| {
        NotYet::Failed(format!(
            "error getting handle for DataSource Type VolumeSnapshot by Name {snap}: {e}"
        ))
    };
    let not_bound = || handle_err(format!("snapshot {snap} not bound"));
    let vs = vs_api(&ctx.client, &ns).get(snap).await.map_err(|e| {
        handle_err(format!(
            "error getting snapshot {snap} from api server: {}",
            api_message(&e)
        ))
    })?;
    if vs.metadata.deletion_timestamp.is_some() {
        return Err(handle_err(format!("snapshot {snap} is currently being deleted")));
    }
    let Some(content_name) = str_at(&vs, "/status/boundVolumeSnapshotContentName") else {
        return Err(not_bound());
    };
    let Ok(vsc) = vsc_api(&ctx.client).get(content_name).await else {
        return Err(not_bound());
    };
    if !points_back(&vs, &vsc) || str_at(&vsc, "/spec/driver") != Some(provisioner) {
        return Err(not_bound());
    }
    if vs.data.pointer("/status/readyToUse").and_then(Value::as_bool) != Some(true) {
        return Err(handle_err(format!("snapshot {snap} is not Ready")));
    }
    let Some(handle) = str_at(&vsc, "/status/snapshotHandle") else {
        return Err(handle_err(format!("snapshot handle {snap} is not available")));
    };
    if let Some(restore_size) = str_at(&vs, "/status/restoreSize").and_then(parse_quantity) {
        let request = pvc
            .spec
            .as_ref()
            .and_then(|s| s.resources.as_ref())
            .and_then(|r| r.requests.as_ref())
            .and_then(|r| r.get("storage"))
            .and_then(|q| parse_quantity(&q.0));
        let Some(request) = request else {
            return Err(handle_err(format!(
                "error getting capacity for PVC {} when creating snapshot {snap}",
                pvc.name_any()
            )));
        };
        if request < restore_size {
            return Err(handle_err(format!(
                "requested volume size {request} is less than the size {restore_size} for the source snapshot {snap}"
            )));
        }
    }
    // The driver's CreateVolume with a snapshot source.
    let class = match str_at(&vsc, "/spec/volumeSnapshotClassName") {
        Some(c) => class_api(&ctx.client).get_opt(c).await.ok().flatten(),
        None => None,
    };
    let params = class.as_ref().map(class_parameters);
    let maps = [Some(pvc.annotations()), Some(vs.annotations()), params.as_ref()];
    if let Some(msg) = knob(KNOB_RESTORE_FAIL, &maps) {
        return Err(NotYet::Failed(format!("rpc error: code = Internal desc = {msg}")));
    }
    if let Some(delay) = knob(KNOB_RESTORE_AFTER, &maps).and_then(seconds) {
        let created = pvc
            .metadata
            .creation_timestamp
            .as_ref()
            .map(|t| t.0)
            .unwrap_or_else(jiff::Timestamp::now);
        let elapsed = jiff::Timestamp::now()
            .duration_since(created)
            .try_into()
            .unwrap_or(Duration::ZERO);
        if elapsed < delay {
            return Err(NotYet::Wait(delay - elapsed));
        }
    }
    super::driver::snapshot_data(ctx, handle).ok_or_else(|| {
        NotYet::Failed(format!(
            "rpc error: code = NotFound desc = cannot find snapshot {handle}"
        ))
    })
}

/// Record a provisioner event about a claim.
pub async fn claim_event(ctx: &Ctx, pvc: &PersistentVolumeClaim, type_: &str, reason: &str, message: &str) {
    tracing::info!(claim = %format!("{}/{}", pvc.namespace().unwrap_or_default(), pvc.name_any()), reason, "{message}");
    ctx.events
        .record(
            &ctx.client,
            COMPONENT,
            "v1",
            "PersistentVolumeClaim",
            &pvc.metadata,
            type_,
            reason,
            message,
        )
        .await;
}

/// Is this claim a clone of another claim (`dataSource` kind PersistentVolumeClaim, core group)?
pub fn clone_source(pvc: &PersistentVolumeClaim) -> Option<String> {
    let ds = pvc.spec.as_ref()?.data_source.as_ref()?;
    (ds.kind == "PersistentVolumeClaim" && ds.api_group.as_deref().unwrap_or("").is_empty()).then(|| ds.name.clone())
}

/// The volume directory a clone copies, after external-provisioner v2's checks (`getPVCSource`),
/// so that a clone is a copy and never silently an empty volume.
pub async fn clone_dir(
    ctx: &Ctx,
    pvc: &PersistentVolumeClaim,
    provisioner: &str,
    src: &str,
) -> Result<PathBuf, NotYet> {
    use k8s_openapi::api::core::v1::PersistentVolume;
    let ns = pvc.namespace().unwrap_or_default();
    let fail = |e: String| {
        NotYet::Failed(format!(
            "error getting handle for DataSource Type PersistentVolumeClaim by Name {src}: {e}"
        ))
    };
    let invalid = || fail("claim in dataSource not bound or invalid".to_string());
    let pvcs: kube::Api<PersistentVolumeClaim> = kube::Api::namespaced(ctx.client.clone(), &ns);
    let source = match pvcs.get_opt(src).await {
        Ok(Some(p)) => p,
        Ok(None) => {
            return Err(fail(format!(
                "error getting PVC {src} (namespace {}) from api server: persistentvolumeclaim {} not found",
                go_quote(&ns),
                go_quote(src)
            )))
        }
        Err(e) => return Err(fail(api_message(&e))),
    };
    let phase = source.status.as_ref().and_then(|s| s.phase.clone()).unwrap_or_default();
    if phase != "Bound" {
        // Upstream prints the whole status struct (%v); the phase is what matters.
        return Err(fail(format!(
            "the PVC DataSource {src} must have a status of Bound.  Got {{Phase:{phase}}}"
        )));
    }
    if source.metadata.deletion_timestamp.is_some() {
        return Err(fail(format!("the PVC DataSource {src} is currently being deleted")));
    }
    let (ss, sd) = (
        source.spec.clone().unwrap_or_default(),
        pvc.spec.clone().unwrap_or_default(),
    );
    let (Some(src_class), Some(dst_class)) = (ss.storage_class_name.clone(), sd.storage_class_name.clone()) else {
        return Err(fail(format!("the source PVC ({src}) storageclass cannot be empty")));
    };
    if src_class != dst_class {
        return Err(fail(format!(
            "the source PVC and destination PVCs must be in the same storage class for cloning.  Source is in {src_class}, but new PVC is in {dst_class}"
        )));
    }
    let size = |s: &k8s_openapi::api::core::v1::PersistentVolumeClaimSpec| {
        s.resources
            .as_ref()
            .and_then(|r| r.requests.as_ref())
            .and_then(|r| r.get("storage"))
            .and_then(|q| parse_quantity(&q.0))
            .unwrap_or(0)
    };
    let (want, have) = (size(&sd), size(&ss));
    if want < have {
        return Err(fail(format!(
            "error, new PVC request must be greater than or equal in size to the specified PVC data source, requested {want} but source is {have}"
        )));
    }
    let Some(pv_name) = ss.volume_name.filter(|v| !v.is_empty()) else {
        return Err(fail(format!("volume name is empty in source PVC {src}")));
    };
    let pvs: kube::Api<PersistentVolume> = kube::Api::all(ctx.client.clone());
    let Ok(pv) = pvs.get(&pv_name).await else {
        return Err(invalid());
    };
    if super::controller::pv_driver(&pv) != Some(provisioner) {
        return Err(invalid());
    }
    let dir = ctx.opts.volumes_dir.join(&pv_name);
    let host_path = pv
        .spec
        .as_ref()
        .and_then(|s| s.host_path.as_ref())
        .map(|h| PathBuf::from(&h.path));
    if host_path.as_deref() != Some(dir.as_path()) || !dir.is_dir() {
        return Err(invalid());
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(ds: serde_json::Value) -> PersistentVolumeClaim {
        serde_json::from_value(serde_json::json!({"metadata": {"name": "c"}, "spec": {"dataSource": ds}})).unwrap()
    }

    #[test]
    fn data_sources_by_kind_and_group() {
        let vs = claim(serde_json::json!({"apiGroup": GROUP, "kind": "VolumeSnapshot", "name": "s"}));
        assert_eq!(snapshot_source(&vs).as_deref(), Some("s"));
        assert_eq!(clone_source(&vs), None);
        let other_group = claim(serde_json::json!({"apiGroup": "example.com", "kind": "VolumeSnapshot", "name": "s"}));
        assert_eq!(snapshot_source(&other_group), None);
        let pvc = claim(serde_json::json!({"kind": "PersistentVolumeClaim", "name": "src"}));
        assert_eq!(clone_source(&pvc).as_deref(), Some("src"));
        assert_eq!(snapshot_source(&pvc), None);
        let none: PersistentVolumeClaim =
            serde_json::from_value(serde_json::json!({"metadata": {"name": "c"}})).unwrap();
        assert_eq!((snapshot_source(&none), clone_source(&none)), (None, None));
    }
}
