//! Dynamic hostPath provisioner and reclaimer for the test StorageClasses.
//!
//! Classes: `standard` (reclaimPolicy Delete, the default class) and `retain` (Retain), both with
//! provisioner `chartup.io/hostpath` and Immediate binding. For each pending claim of such a class
//! the provisioner creates a directory `<volumes-dir>/pvc-<claim uid>` and a PV pre-bound to the
//! claim (`claimRef`); the real PV binder in kube-controller-manager completes the binding. When a
//! claim is deleted the binder marks its PV Released; for policy Delete, the binder leaves deletion
//! to the external provisioner named in `pv.kubernetes.io/provisioned-by`, i.e. us: the reaper
//! removes the directory and the PV, so data loss is visible as files gone. Retain keeps both.
//! A claim whose `dataSource` is a VolumeSnapshot (or another claim, a clone) gets a copy of the
//! snapshot's (the claim's) directory, once external-provisioner's checks pass
//! (`snapshots/restore.rs`); until then it stays Pending.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
use k8s_openapi::api::storage::v1::StorageClass;
use kube::api::{Api, DeleteParams, PostParams, Preconditions};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;
use kube::{Client, ResourceExt};
use serde_json::json;

use crate::snapshots::driver::copy_dir_atomic;
use crate::snapshots::restore;
use crate::{is_conflict, is_not_found, Ctx, SimError};

pub const PROVISIONER: &str = "chartup.io/hostpath";
const PROVISIONED_BY: &str = "pv.kubernetes.io/provisioned-by";

/// Create the test StorageClasses if they are missing.
pub async fn ensure_classes(client: &Client) -> Result<(), SimError> {
    let classes: Api<StorageClass> = Api::all(client.clone());
    for (name, policy, default) in [("standard", "Delete", true), ("retain", "Retain", false)] {
        let mut annotations = serde_json::Map::new();
        if default {
            annotations.insert("storageclass.kubernetes.io/is-default-class".into(), "true".into());
        }
        let sc: StorageClass = serde_json::from_value(json!({
            "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": {"name": name, "annotations": annotations},
            "provisioner": PROVISIONER,
            "reclaimPolicy": policy,
            "volumeBindingMode": "Immediate",
            "allowVolumeExpansion": true,
        }))?;
        match classes.create(&PostParams::default(), &sc).await {
            Ok(_) => tracing::info!(class = name, "created StorageClass"),
            Err(e) if is_conflict(&e) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

fn volume_dir(ctx: &Ctx, pv_name: &str) -> PathBuf {
    ctx.opts.volumes_dir.join(pv_name)
}

async fn provision(pvc: Arc<PersistentVolumeClaim>, ctx: Arc<Ctx>) -> Result<Action, SimError> {
    let spec = pvc.spec.clone().unwrap_or_default();
    let phase = pvc
        .status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("Pending");
    if pvc.metadata.deletion_timestamp.is_some() || spec.volume_name.is_some() || phase != "Pending" {
        return Ok(Action::await_change());
    }
    let class_name = spec.storage_class_name.clone().or_else(|| {
        pvc.annotations()
            .get("volume.beta.kubernetes.io/storage-class")
            .cloned()
    });
    let Some(class_name) = class_name else {
        return Ok(Action::await_change());
    };
    let classes: Api<StorageClass> = Api::all(ctx.client.clone());
    let class = match classes.get(&class_name).await {
        Ok(c) => c,
        Err(e) if is_not_found(&e) => return Ok(Action::requeue(Duration::from_secs(5))),
        Err(e) => return Err(e.into()),
    };
    if class.provisioner != PROVISIONER {
        return Ok(Action::await_change());
    }
    let (Some(ns), Some(uid)) = (pvc.namespace(), pvc.uid()) else {
        return Ok(Action::await_change());
    };
    let pv_name = format!("pvc-{uid}");
    let dir = volume_dir(&ctx, &pv_name);
    let snapshot = restore::snapshot_source(&pvc);
    let clone = restore::clone_source(&pvc);
    let source = match (&snapshot, &clone) {
        (Some(snap), _) => Some(restore::source_dir(&ctx, &pvc, PROVISIONER, snap).await),
        (None, Some(src)) => Some(restore::clone_dir(&ctx, &pvc, PROVISIONER, src).await),
        (None, None) => None,
    };
    if let Some(source) = source {
        let claim = format!("{ns}/{}", pvc.name_any());
        let start = format!("External provisioner is provisioning volume for claim \"{claim}\"");
        restore::claim_event(&ctx, &pvc, "Normal", "Provisioning", &start).await;
        match source {
            Ok(data) => {
                // A volume already copied (a crash before its PV was created) is kept.
                if !dir.exists() {
                    copy_dir_atomic(&data, &dir).await?;
                }
                tracing::info!(claim = %claim, from = ?snapshot.as_ref().or(clone.as_ref()), "volume made from its data source");
            }
            Err(restore::NotYet::Wait(d)) => return Ok(crate::snapshots::look_again_in(d)),
            Err(restore::NotYet::Failed(e)) => {
                let msg = format!("failed to provision volume with StorageClass \"{class_name}\": {e}");
                restore::claim_event(&ctx, &pvc, "Warning", "ProvisioningFailed", &msg).await;
                return Ok(Action::requeue(Duration::from_secs(1)));
            }
        }
    } else {
        tokio::fs::create_dir_all(&dir).await?;
        // World-writable like a fresh hostPath dir that any container user may write to.
        set_mode(&dir, 0o777).await?;
    }
    let storage = spec
        .resources
        .as_ref()
        .and_then(|r| r.requests.as_ref())
        .and_then(|r| r.get("storage"))
        .map(|q| q.0.clone())
        .unwrap_or_else(|| "1Gi".to_string());
    let access_modes = spec
        .access_modes
        .clone()
        .unwrap_or_else(|| vec!["ReadWriteOnce".to_string()]);
    let pv: PersistentVolume = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "PersistentVolume",
        "metadata": {"name": pv_name, "annotations": {PROVISIONED_BY: PROVISIONER},
                     "labels": {"chartup.io/claim-namespace": ns}},
        "spec": {
            "capacity": {"storage": storage},
            "accessModes": access_modes,
            "hostPath": {"path": dir.to_string_lossy(), "type": "Directory"},
            "persistentVolumeReclaimPolicy": class.reclaim_policy.clone().unwrap_or_else(|| "Delete".into()),
            "storageClassName": class_name,
            "volumeMode": spec.volume_mode.clone().unwrap_or_else(|| "Filesystem".into()),
            "mountOptions": class.mount_options.clone(),
            "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "namespace": ns,
                         "name": pvc.name_any(), "uid": uid},
        }
    }))?;
    let pvs: Api<PersistentVolume> = Api::all(ctx.client.clone());
    match pvs.create(&PostParams::default(), &pv).await {
        Ok(_) => tracing::info!(claim = %format!("{ns}/{}", pvc.name_any()), pv = %pv_name, "provisioned"),
        Err(e) if is_conflict(&e) => {}
        Err(e) => return Err(e.into()),
    }
    Ok(Action::await_change())
}

async fn set_mode(dir: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    tokio::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode)).await
}

async fn reap(pv: Arc<PersistentVolume>, ctx: Arc<Ctx>) -> Result<Action, SimError> {
    if pv.annotations().get(PROVISIONED_BY).map(String::as_str) != Some(PROVISIONER) {
        return Ok(Action::await_change());
    }
    let phase = pv.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or("");
    let policy = pv
        .spec
        .as_ref()
        .and_then(|s| s.persistent_volume_reclaim_policy.as_deref())
        .unwrap_or("");
    if phase != "Released" || policy != "Delete" || pv.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let name = pv.name_any();
    let dir = volume_dir(&ctx, &name);
    // Only ever remove directories we created: the one named after this PV under our root.
    let path_in_spec = pv
        .spec
        .as_ref()
        .and_then(|s| s.host_path.as_ref())
        .map(|h| PathBuf::from(&h.path));
    if path_in_spec.as_deref() == Some(dir.as_path()) {
        match tokio::fs::remove_dir_all(&dir).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
    }
    let pvs: Api<PersistentVolume> = Api::all(ctx.client.clone());
    let dp = DeleteParams {
        preconditions: Some(Preconditions {
            uid: pv.uid(),
            resource_version: None,
        }),
        ..DeleteParams::default()
    };
    match pvs.delete(&name, &dp).await {
        Ok(_) => tracing::info!(pv = %name, "deleted released volume and its directory"),
        Err(e) if is_not_found(&e) || is_conflict(&e) => {}
        Err(e) => return Err(e.into()),
    }
    Ok(Action::await_change())
}

fn retry(_: Arc<impl Sized>, e: &SimError, _: Arc<Ctx>) -> Action {
    tracing::warn!("storage reconcile failed, retrying: {e}");
    Action::requeue(Duration::from_millis(500))
}

/// Provision volumes for pending claims of our classes.
pub async fn run_provisioner(ctx: Arc<Ctx>) {
    let claims: Api<PersistentVolumeClaim> = Api::all(ctx.client.clone());
    Controller::new(claims, watcher::Config::default())
        .run(provision, retry, ctx)
        .for_each(|_| async {})
        .await;
}

/// Delete Released volumes of policy Delete, with their directories.
pub async fn run_reaper(ctx: Arc<Ctx>) {
    let pvs: Api<PersistentVolume> = Api::all(ctx.client.clone());
    Controller::new(pvs, watcher::Config::default())
        .run(reap, retry, ctx)
        .for_each(|_| async {})
        .await;
}
