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
