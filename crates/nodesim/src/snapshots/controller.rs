//! The common snapshot-controller (external-snapshotter v4.2 `pkg/common-controller`), for
//! VolumeSnapshots: class resolution and defaulting, the dynamic VolumeSnapshotContent
//! `snapcontent-<uid>`, binding of pre-provisioned contents, the three finalizers it manages
//! (`volumesnapshot-as-source-protection` and `volumesnapshot-bound-protection` on the snapshot,
//! `pvc-as-source-protection` on the source claim), the content's status copied into the snapshot
//! with the events `CreatingSnapshot`, `SnapshotCreated` and `SnapshotReady`, and deletion by the
//! content's policy. Errors are written as the real controller writes them (`status.error`, the
//! same messages and event reasons) and retried every second, as a controller that keeps trying.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::ResourceExt;
use serde_json::{json, Value};

use super::*;
use crate::{is_conflict, is_not_found, Ctx, SimError};

const COMPONENT: &str = "snapshot-controller";
/// How soon a snapshot waiting on something outside its own objects (a claim to bind, a restore
/// to finish) is looked at again.
const RETRY: Duration = Duration::from_secs(1);

/// Watch VolumeSnapshots (and their contents, to copy status over) and reconcile them.
pub async fn run(ctx: Arc<Ctx>) {
    let vs_all: Api<DynamicObject> = Api::all_with(ctx.client.clone(), &vs_resource());
    let vsr = vs_resource();
    Controller::new_with(vs_all, watcher::Config::default(), vs_resource())
        .watches_with(
            vsc_api(&ctx.client),
            vsc_resource(),
            watcher::Config::default(),
            move |vsc: DynamicObject| {
                let ns = str_at(&vsc, "/spec/volumeSnapshotRef/namespace");
                let name = str_at(&vsc, "/spec/volumeSnapshotRef/name");
                ns.zip(name)
                    .map(|(ns, name)| ObjectRef::new_with(name, vsr.clone()).within(ns))
            },
        )
        .run(reconcile, retry, ctx)
        .for_each(|_| async {})
        .await;
}

/// Claims protected by `pvc-as-source-protection`, looked at again whenever a snapshot of theirs
/// changes or goes: the finalizer is dropped once no snapshot of the claim is unready. Upstream
/// gets there on its periodic resync of the remaining snapshots (15 min); a snapshot deleted
/// without finalizers (one that never started) is never reconciled itself.
pub async fn run_claims(ctx: Arc<Ctx>) {
    let claims: Api<PersistentVolumeClaim> = Api::all(ctx.client.clone());
    let vs_all: Api<DynamicObject> = Api::all_with(ctx.client.clone(), &vs_resource());
    Controller::new(claims, watcher::Config::default())
        .watches_with(
            vs_all,
            vs_resource(),
            watcher::Config::default(),
            |vs: DynamicObject| {
                let ns = vs.namespace()?;
                let claim = str_at(&vs, "/spec/source/persistentVolumeClaimName")?;
                Some(ObjectRef::<PersistentVolumeClaim>::new(claim).within(&ns))
            },
        )
        .run(
            |pvc: Arc<PersistentVolumeClaim>, ctx: Arc<Ctx>| async move {
                if !pvc.finalizers().iter().any(|f| f == PVC_FINALIZER) {
                    return Ok(Action::await_change());
                }
                release_claim(&ctx, &pvc, None).await?;
                Ok(Action::await_change())
            },
            |_, e: &SimError, _| {
                tracing::debug!("claim finalizer reconcile: {e}");
                Action::requeue(RETRY)
            },
            ctx,
        )
        .for_each(|_| async {})
        .await;
}

fn retry(_: Arc<DynamicObject>, e: &SimError, _: Arc<Ctx>) -> Action {
    tracing::debug!("snapshot reconcile: {e}");
    Action::requeue(RETRY)
}

fn has_finalizer(o: &DynamicObject, f: &str) -> bool {
    o.finalizers().iter().any(|x| x == f)
}

fn is_ready(vs: &DynamicObject) -> bool {
    vs.data.pointer("/status/readyToUse").and_then(Value::as_bool) == Some(true)
}

/// Does the content point back at this snapshot (upstream `IsVolumeSnapshotRefSet`)?
pub fn points_back(vs: &DynamicObject, vsc: &DynamicObject) -> bool {
    str_at(vsc, "/spec/volumeSnapshotRef/name") == vs.metadata.name.as_deref()
        && str_at(vsc, "/spec/volumeSnapshotRef/namespace") == vs.metadata.namespace.as_deref()
        && str_at(vsc, "/spec/volumeSnapshotRef/uid") == vs.metadata.uid.as_deref()
}

/// Replace an object's finalizers, guarded by its resourceVersion (a conflict is retried).
pub async fn set_finalizers(api: &Api<DynamicObject>, o: &DynamicObject, fins: Vec<String>) -> Result<(), SimError> {
    let patch = json!({"metadata": {"finalizers": fins, "resourceVersion": o.resource_version()}});
    api.patch(&o.name_any(), &PatchParams::default(), &Patch::Merge(patch))
        .await?;
    Ok(())
}

async fn reconcile(vs: Arc<DynamicObject>, ctx: Arc<Ctx>) -> Result<Action, SimError> {
    let (Some(ns), Some(_)) = (vs.namespace(), vs.uid()) else {
        return Ok(Action::await_change());
    };
    let api = vs_api(&ctx.client, &ns);
    check_and_remove_pvc_finalizer(&ctx, &vs, false).await?;
    if vs.metadata.deletion_timestamp.is_some() {
        return delete(&ctx, &api, &vs).await;
    }
    let pvc_source = str_at(&vs, "/spec/source/persistentVolumeClaimName");
    let content_source = str_at(&vs, "/spec/source/volumeSnapshotContentName");
    if pvc_source.is_some() == content_source.is_some() {
        let msg = "Exactly one of PersistentVolumeClaimName and VolumeSnapshotContentName should be specified";
        error_status(&ctx, &api, &vs, true, "SnapshotValidationError", msg).await?;
        return Ok(Action::await_change());
    }
    // checkAndUpdateSnapshotClass: an unknown class or no default is an error the controller
    // keeps retrying (readyToUse untouched).
    if let Some(class_name) = str_at(&vs, "/spec/volumeSnapshotClassName") {
        if let Err(e) = class_api(&ctx.client).get(class_name).await {
            let err = if is_not_found(&e) {
                format!("volumesnapshotclass.{GROUP} {} not found", go_quote(class_name))
            } else {
                api_message(&e)
            };
            let msg = format!("Failed to get snapshot class with error {err}");
            error_status(&ctx, &api, &vs, false, "GetSnapshotClassFailed", &msg).await?;
            return Ok(Action::requeue(RETRY));
        }
    } else if pvc_source.is_some() {
        match default_class(&ctx, &vs).await {
            Ok(class) => {
                let patch = json!({"spec": {"volumeSnapshotClassName": class}});
                api.patch(&vs.name_any(), &PatchParams::default(), &Patch::Merge(patch))
                    .await?;
                return Ok(Action::await_change());
            }
            Err(err) => {
                let msg = format!("Failed to set default snapshot class with error {err}");
                error_status(&ctx, &api, &vs, false, "SetDefaultSnapshotClassFailed", &msg).await?;
                return Ok(Action::requeue(RETRY));
            }
        }
    }
    // checkandAddSnapshotFinalizers
    let content = bound_content(&ctx, &vs).await?;
    let add_source = !has_finalizer(&vs, VS_SOURCE_FINALIZER);
    let add_bound = !has_finalizer(&vs, VS_BOUND_FINALIZER)
        && content
            .as_ref()
            .is_some_and(|c| str_at(c, "/spec/deletionPolicy") == Some("Delete"));
    if add_source || add_bound {
        let mut fins = vs.finalizers().to_vec();
        if add_source {
            fins.push(VS_SOURCE_FINALIZER.to_string());
        }
        if add_bound {
            fins.push(VS_BOUND_FINALIZER.to_string());
        }
        set_finalizers(&api, &vs, fins).await?;
        return Ok(Action::await_change());
    }
    let bound = str_at(&vs, "/status/boundVolumeSnapshotContentName").is_some();
    if is_ready(&vs) && bound {
        sync_ready(&ctx, &api, &vs).await
    } else {
        sync_unready(&ctx, &api, &vs).await
    }
}

/// The content this snapshot is (or will be) bound to, if it exists and points back.
async fn bound_content(ctx: &Ctx, vs: &DynamicObject) -> Result<Option<DynamicObject>, SimError> {
    let name = match (
        str_at(vs, "/spec/source/volumeSnapshotContentName"),
        str_at(vs, "/status/boundVolumeSnapshotContentName"),
    ) {
        (Some(n), _) | (None, Some(n)) => n.to_string(),
        (None, None) => content_name_for(&vs.uid().unwrap_or_default()),
    };
    let vsc = vsc_api(&ctx.client).get_opt(&name).await?;
    Ok(vsc.filter(|c| points_back(vs, c)))
}

/// The error status of a snapshot (upstream `updateSnapshotErrorStatusWithEvent`): written with
/// an event unless the same message is already there.
pub async fn error_status(
    ctx: &Ctx,
    api: &Api<DynamicObject>,
    vs: &DynamicObject,
    set_ready_false: bool,
    reason: &str,
    msg: &str,
) -> Result<(), SimError> {
    if str_at(vs, "/status/error/message") == Some(msg) {
        return Ok(());
    }
    let mut status = json!({"error": {"time": rfc3339(jiff::Timestamp::now()), "message": msg}});
    if set_ready_false {
        status["readyToUse"] = json!(false);
    }
    let res = api
        .patch_status(
            &vs.name_any(),
            &PatchParams::default(),
            &Patch::Merge(json!({ "status": status })),
        )
        .await;
    event(ctx, COMPONENT, vs, "Warning", reason, msg).await;
    res?;
    Ok(())
}

/// The claim a dynamic snapshot is taken of, and its volume, with upstream's error texts.
pub async fn source_volume(ctx: &Ctx, vs: &DynamicObject) -> Result<(PersistentVolumeClaim, PersistentVolume), String> {
    let ns = vs.namespace().unwrap_or_default();
    let Some(claim) = str_at(vs, "/spec/source/persistentVolumeClaimName") else {
        return Err("the snapshot source PVC name is not specified".into());
    };
    if claim.is_empty() {
        return Err(format!(
            "the PVC name is not specified in snapshot {ns}/{}",
            vs.name_any()
        ));
    }
    let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(ctx.client.clone(), &ns);
    let pvc = match pvcs.get(claim).await {
        Ok(p) => p,
        Err(e) => {
            let inner = if is_not_found(&e) {
                format!("persistentvolumeclaim {} not found", go_quote(claim))
            } else {
                api_message(&e)
            };
            return Err(format!(
                "failed to retrieve PVC {claim} from the lister: {}",
                go_quote(&inner)
            ));
        }
    };
    let phase = pvc.status.as_ref().and_then(|s| s.phase.as_deref());
    if phase != Some("Bound") {
        return Err(format!(
            "the PVC {claim} is not yet bound to a PV, will not attempt to take a snapshot"
        ));
    }
    let pv_name = pvc
        .spec
        .as_ref()
        .and_then(|s| s.volume_name.clone())
        .unwrap_or_default();
    let pvs: Api<PersistentVolume> = Api::all(ctx.client.clone());
    let pv = pvs.get(&pv_name).await.map_err(|e| {
        format!(
            "failed to retrieve PV {pv_name} from the API server: {}",
            go_quote(&api_message(&e))
        )
    })?;
    let claim_ref = pv.spec.as_ref().and_then(|s| s.claim_ref.as_ref());
    let bound = claim_ref.is_some_and(|r| {
        r.name.as_deref() == Some(claim)
            && r.namespace.as_deref() == Some(&ns)
            && (r.uid.as_deref().unwrap_or("").is_empty() || r.uid == pvc.metadata.uid)
    });
    if !bound {
        return Err("claim in dataSource not bound or invalid".into());
    }
    Ok((pvc, pv))
}

/// The CSI driver of a volume: ours for the volumes nodesim provisioned (they are hostPath
/// volumes so that tests can read them, where a real CSI volume would have `spec.csi`).
pub fn pv_driver(pv: &PersistentVolume) -> Option<&'static str> {
    let ours = pv
        .annotations()
        .get("pv.kubernetes.io/provisioned-by")
        .map(String::as_str)
        == Some(crate::storage::PROVISIONER);
    ours.then_some(DRIVER)
}

/// Upstream `SetDefaultSnapshotClass`: the one default class of the source volume's driver.
async fn default_class(ctx: &Ctx, vs: &DynamicObject) -> Result<String, String> {
    let (_, pv) = source_volume(ctx, vs).await?;
    let Some(driver) = pv_driver(&pv) else {
        return Err(format!(
            "snapshotting non-CSI volumes is not supported, snapshot:{}/{}",
            vs.namespace().unwrap_or_default(),
            vs.name_any()
        ));
    };
    let classes = class_api(&ctx.client)
        .list(&Default::default())
        .await
        .map_err(|e| api_message(&e))?;
    let defaults: Vec<String> = classes
        .items
        .iter()
        .filter(|c| c.annotations().get(ANN_DEFAULT_CLASS).map(String::as_str) == Some("true"))
        .filter(|c| str_at(c, "/driver") == Some(driver))
        .map(|c| c.name_any())
        .collect();
    match defaults.as_slice() {
        [] => Err("cannot find default snapshot class".into()),
        [one] => Ok(one.clone()),
        many => Err(format!("{} default snapshot classes were found", many.len())),
    }
}

async fn sync_ready(ctx: &Ctx, api: &Api<DynamicObject>, vs: &DynamicObject) -> Result<Action, SimError> {
    let name = str_at(vs, "/status/boundVolumeSnapshotContentName").unwrap_or_default();
    match vsc_api(&ctx.client).get_opt(name).await? {
        None => {
            let msg = "VolumeSnapshotContent is missing";
            error_status(ctx, api, vs, true, "SnapshotContentMissing", msg).await?;
        }
        Some(c) if !points_back(vs, &c) => {
            let msg = "VolumeSnapshotContent is not bound to the VolumeSnapshot correctly";
            error_status(ctx, api, vs, true, "SnapshotMisbound", msg).await?;
        }
        Some(_) => {}
    }
    Ok(Action::await_change())
}

async fn sync_unready(ctx: &Ctx, api: &Api<DynamicObject>, vs: &DynamicObject) -> Result<Action, SimError> {
    let key = format!("{}/{}", vs.namespace().unwrap_or_default(), vs.name_any());
    let vscs = vsc_api(&ctx.client);
    if let Some(content_name) = str_at(vs, "/spec/source/volumeSnapshotContentName") {
        // Pre-provisioned: bind the named content to this snapshot.
        let Some(content) = vscs.get_opt(content_name).await? else {
            let msg = "VolumeSnapshotContent is missing";
            error_status(ctx, api, vs, true, "SnapshotContentMissing", msg).await?;
            return Ok(Action::requeue(RETRY));
        };
        if str_at(&content, "/spec/source/volumeHandle").is_some() {
            let msg = "VolumeSnapshotContent is dynamically provisioned while expecting a pre-provisioned one";
            error_status(ctx, api, vs, true, "SnapshotContentMismatch", msg).await?;
            return Ok(Action::await_change());
        }
        let ref_name = str_at(&content, "/spec/volumeSnapshotRef/name");
        let ref_ns = str_at(&content, "/spec/volumeSnapshotRef/namespace");
        let ref_uid = str_at(&content, "/spec/volumeSnapshotRef/uid").unwrap_or("");
        if ref_name != vs.metadata.name.as_deref()
            || ref_ns != vs.metadata.namespace.as_deref()
            || (!ref_uid.is_empty() && Some(ref_uid) != vs.metadata.uid.as_deref())
        {
            let msg = format!(
                "Snapshot failed to bind VolumeSnapshotContent, Could not bind snapshot {} and content {content_name}, the VolumeSnapshotRef does not match",
                vs.name_any()
            );
            error_status(ctx, api, vs, true, "SnapshotBindFailed", &msg).await?;
            return Ok(Action::await_change());
        }
        let content = if ref_uid.is_empty() {
            let patch = json!({"spec": {"volumeSnapshotRef": {"uid": vs.uid()}}});
            vscs.patch(content_name, &PatchParams::default(), &Patch::Merge(patch))
                .await?
        } else {
            content
        };
        update_status(ctx, api, vs, &content).await?;
        return Ok(Action::await_change());
    }
    let content_name = content_name_for(&vs.uid().unwrap_or_default());
    if let Some(content) = vscs.get_opt(&content_name).await? {
        if !points_back(vs, &content) {
            let msg = format!("VolumeSnapshotContent [{content_name}] is bound to a different snapshot");
            error_status(ctx, api, vs, true, "SnapshotContentMisbound", &msg).await?;
            return Ok(Action::await_change());
        }
        if str_at(&content, "/spec/source/snapshotHandle").is_some() {
            let msg = format!("Snapshot handle should not be set in content {key} for dynamic provisioning");
            error_status(ctx, api, vs, true, "SnapshotHandleSet", &msg).await?;
            return Ok(Action::await_change());
        }
        update_status(ctx, api, vs, &content).await?;
        return Ok(Action::await_change());
    }
    match create_content(ctx, vs, &content_name).await {
        Ok(content) => {
            let msg = format!("Waiting for a snapshot {key} to be created by the CSI driver.");
            event(ctx, COMPONENT, vs, "Normal", "CreatingSnapshot", &msg).await;
            update_status(ctx, api, vs, &content).await?;
            Ok(Action::await_change())
        }
        Err(err) => {
            let msg = format!("Failed to create snapshot content with error {err}");
            error_status(ctx, api, vs, true, "SnapshotContentCreationFailed", &msg).await?;
            Ok(Action::requeue(RETRY))
        }
    }
}

/// Upstream `createSnapshotContent`: protect the source claim, check the inputs, create the content.
async fn create_content(ctx: &Ctx, vs: &DynamicObject, content_name: &str) -> Result<DynamicObject, String> {
    let ns = vs.namespace().unwrap_or_default();
    let name = vs.name_any();
    ensure_pvc_finalizer(ctx, vs).await?;
    let Some(class_name) = str_at(vs, "/spec/volumeSnapshotClassName") else {
        return Err(format!(
            "failed to get input parameters to create snapshot {name}: {}",
            go_quote(&format!("failed to take snapshot {name} without a snapshot class"))
        ));
    };
    let class = class_api(&ctx.client).get(class_name).await.map_err(|e| {
        let inner = if is_not_found(&e) {
            format!("volumesnapshotclass.{GROUP} {} not found", go_quote(class_name))
        } else {
            api_message(&e)
        };
        format!(
            "failed to get input parameters to create snapshot {name}: {}",
            go_quote(&inner)
        )
    })?;
    let (_, pv) = source_volume(ctx, vs).await.map_err(|e| {
        format!(
            "failed to get input parameters to create snapshot {name}: {}",
            go_quote(&e)
        )
    })?;
    if pv_driver(&pv).is_none() {
        return Err(format!(
            "cannot find CSI PersistentVolumeSource for volume {}",
            pv.name_any()
        ));
    }
    let content: DynamicObject = serde_json::from_value(json!({
        "apiVersion": format!("{GROUP}/v1"), "kind": "VolumeSnapshotContent",
        "metadata": {"name": content_name},
        "spec": {
            "volumeSnapshotRef": {"kind": "VolumeSnapshot", "namespace": ns, "name": name, "uid": vs.uid(),
                                  "apiVersion": format!("{GROUP}/v1"), "resourceVersion": vs.resource_version()},
            "source": {"volumeHandle": pv.name_any()},
            "volumeSnapshotClassName": class_name,
            "deletionPolicy": str_at(&class, "/deletionPolicy").unwrap_or("Delete"),
            "driver": str_at(&class, "/driver").unwrap_or(DRIVER),
        }
    }))
    .map_err(|e| e.to_string())?;
    let vscs = vsc_api(&ctx.client);
    match vscs.create(&PostParams::default(), &content).await {
        Ok(c) => Ok(c),
        Err(e) if is_conflict(&e) => Ok(content),
        Err(e) => {
            let strerr = format!(
                "Error creating volume snapshot content object for snapshot {ns}/{name}: {}.",
                api_message(&e)
            );
            event(ctx, COMPONENT, vs, "Warning", "CreateSnapshotContentFailed", &strerr).await;
            Err(format!(
                "snapshot controller failed to update {ns}/{name} on API server: {}",
                api_message(&e)
            ))
        }
    }
}

/// Upstream `ensurePVCFinalizer`: the source claim can't go while its snapshot is being cut.
async fn ensure_pvc_finalizer(ctx: &Ctx, vs: &DynamicObject) -> Result<(), String> {
    let Some(claim) = str_at(vs, "/spec/source/persistentVolumeClaimName") else {
        return Ok(());
    };
    let ns = vs.namespace().unwrap_or_default();
    let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(ctx.client.clone(), &ns);
    let Ok(pvc) = pvcs.get(claim).await else {
        return Err(format!(
            "snapshot controller failed to update {} on API server: cannot get claim from snapshot",
            vs.name_any()
        ));
    };
    if pvc.finalizers().iter().any(|f| f == PVC_FINALIZER) {
        return Ok(());
    }
    if pvc.metadata.deletion_timestamp.is_some() {
        return Err(format!(
            "snapshot controller failed to update {claim} on API server: cannot add finalizer on claim because it is being deleted"
        ));
    }
    let mut fins = pvc.finalizers().to_vec();
    fins.push(PVC_FINALIZER.to_string());
    let patch = json!({"metadata": {"finalizers": fins, "resourceVersion": pvc.resource_version()}});
    pvcs.patch(claim, &PatchParams::default(), &Patch::Merge(patch))
        .await
        .map_err(|e| {
            format!(
                "snapshot controller failed to update {claim} on API server: {}",
                api_message(&e)
            )
        })?;
    Ok(())
}

/// Upstream `checkandRemovePVCFinalizer`: drop the claim's finalizer once no snapshot of it
/// (other than this one, when `skip_this`) is still unready.
async fn check_and_remove_pvc_finalizer(ctx: &Ctx, vs: &DynamicObject, skip_this: bool) -> Result<(), SimError> {
    let Some(claim) = str_at(vs, "/spec/source/persistentVolumeClaimName") else {
        return Ok(());
    };
    let ns = vs.namespace().unwrap_or_default();
    let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(ctx.client.clone(), &ns);
    let Some(pvc) = pvcs.get_opt(claim).await? else {
        return Ok(());
    };
    if !pvc.finalizers().iter().any(|f| f == PVC_FINALIZER) {
        return Ok(());
    }
    release_claim(ctx, &pvc, skip_this.then(|| vs.name_any())).await
}

/// Drop a claim's `pvc-as-source-protection` unless a snapshot of it (other than `skip`) is unready
/// (upstream `isPVCBeingUsed`).
async fn release_claim(ctx: &Ctx, pvc: &PersistentVolumeClaim, skip: Option<String>) -> Result<(), SimError> {
    let ns = pvc.namespace().unwrap_or_default();
    let claim = pvc.name_any();
    let snaps = vs_api(&ctx.client, &ns).list(&Default::default()).await?;
    let in_use = snaps.items.iter().any(|s| {
        skip.as_deref() != Some(s.name_any().as_str())
            && str_at(s, "/spec/source/persistentVolumeClaimName") == Some(claim.as_str())
            && !is_ready(s)
    });
    if in_use {
        return Ok(());
    }
    let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(ctx.client.clone(), &ns);
    let fins: Vec<String> = pvc
        .finalizers()
        .iter()
        .filter(|f| *f != PVC_FINALIZER)
        .cloned()
        .collect();
    let patch = json!({"metadata": {"finalizers": fins, "resourceVersion": pvc.resource_version()}});
    pvcs.patch(&claim, &PatchParams::default(), &Patch::Merge(patch))
        .await?;
    tracing::info!(claim = %format!("{ns}/{claim}"), "removed {PVC_FINALIZER}");
    Ok(())
}

/// Upstream `updateSnapshotStatus`: the content's status, as the snapshot shows it.
async fn update_status(
    ctx: &Ctx,
    api: &Api<DynamicObject>,
    vs: &DynamicObject,
    content: &DynamicObject,
) -> Result<(), SimError> {
    let key = format!("{}/{}", vs.namespace().unwrap_or_default(), vs.name_any());
    // From the API server, as upstream does: the cached copy may not have our last write yet
    // (a stale error would then survive readiness).
    let vs = &api.get(&vs.name_any()).await?;
    let old = vs.data.get("status").cloned().unwrap_or(Value::Null);
    let new = status_patch(&old, content);
    if new.is_empty() {
        return Ok(());
    }
    api.patch_status(
        &vs.name_any(),
        &PatchParams::default(),
        &Patch::Merge(json!({ "status": new })),
    )
    .await?;
    if old.get("creationTime").is_none() && new.contains_key("creationTime") {
        let msg = format!("Snapshot {key} was successfully created by the CSI driver.");
        event(ctx, COMPONENT, vs, "Normal", "SnapshotCreated", &msg).await;
    }
    let now_ready = new.get("readyToUse").and_then(Value::as_bool) == Some(true);
    if now_ready {
        let msg = format!("Snapshot {key} is ready to use.");
        event(ctx, COMPONENT, vs, "Normal", "SnapshotReady", &msg).await;
    }
    Ok(())
}

/// What of a snapshot's status (`old`) changes to mirror its content's (upstream
/// `updateSnapshotStatus`): the fields to merge-patch, `null` to remove one.
pub fn status_patch(old: &Value, content: &DynamicObject) -> BTreeMap<&'static str, Value> {
    let cs = content.data.get("status");
    let created = cs
        .and_then(|s| s.get("creationTime"))
        .and_then(Value::as_i64)
        .and_then(|ns| jiff::Timestamp::from_nanosecond(ns as i128).ok());
    let size = cs.and_then(|s| s.get("restoreSize")).and_then(Value::as_i64);
    let ready = cs.and_then(|s| s.get("readyToUse")).and_then(Value::as_bool) == Some(true);
    let content_err = cs.and_then(|s| s.get("error")).filter(|e| !e.is_null()).cloned();
    let mut new: BTreeMap<&'static str, Value> = BTreeMap::new();
    if old.get("boundVolumeSnapshotContentName").is_none() {
        new.insert("boundVolumeSnapshotContentName", json!(content.name_any()));
    }
    if old.get("creationTime").is_none() {
        if let Some(t) = created {
            new.insert("creationTime", json!(rfc3339(t)));
        }
    }
    let old_ready = old.get("readyToUse").and_then(Value::as_bool);
    if old_ready != Some(ready) {
        new.insert("readyToUse", json!(ready));
    }
    let old_size = old.get("restoreSize").and_then(Value::as_str).and_then(parse_quantity);
    if let Some(size) = size {
        if old_size.is_none() || (old_size == Some(0) && size > 0) {
            new.insert("restoreSize", json!(format_binary_si(size)));
        }
    }
    // The content's error is the snapshot's; none there (or readiness) clears it.
    let old_err = old.get("error").filter(|e| !e.is_null());
    match (&content_err, old_err) {
        (Some(ce), oe) if oe != Some(ce) => {
            new.insert("error", ce.clone());
        }
        (None, Some(_)) => {
            new.insert("error", Value::Null);
        }
        _ => {}
    }
    if ready && old_err.is_some() {
        new.insert("error", Value::Null);
    }
    new
}

/// Is a Pending claim in the snapshot's namespace being provisioned from it?
async fn restoring_from(ctx: &Ctx, vs: &DynamicObject) -> Result<bool, SimError> {
    let ns = vs.namespace().unwrap_or_default();
    let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(ctx.client.clone(), &ns);
    let list = pvcs.list(&Default::default()).await?;
    Ok(list.items.iter().any(|p| {
        let ds = p.spec.as_ref().and_then(|s| s.data_source.as_ref());
        let pending = p.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or("Pending") == "Pending";
        ds.is_some_and(|d| {
            d.name == vs.name_any() && d.kind == "VolumeSnapshot" && d.api_group.as_deref() == Some(GROUP)
        }) && pending
    }))
}

/// Upstream `processSnapshotWithDeletionTimestamp`: mark the bound content, delete it when its
/// policy is Delete, and let the snapshot go once its content is gone (Delete) or at once (Retain).
async fn delete(ctx: &Ctx, api: &Api<DynamicObject>, vs: &DynamicObject) -> Result<Action, SimError> {
    if !has_finalizer(vs, VS_SOURCE_FINALIZER) && !has_finalizer(vs, VS_BOUND_FINALIZER) {
        return Ok(Action::await_change());
    }
    let content = bound_content(ctx, vs).await?;
    let delete_content = content
        .as_ref()
        .is_some_and(|c| str_at(c, "/spec/deletionPolicy") == Some("Delete"));
    if content.is_some() && restoring_from(ctx, vs).await? {
        let msg = "Snapshot is being used to restore a PVC";
        event(ctx, COMPONENT, vs, "Warning", "SnapshotDeletePending", msg).await;
        return Ok(Action::requeue(RETRY));
    }
    let vscs = vsc_api(&ctx.client);
    if let Some(c) = &content {
        if !c.annotations().contains_key(ANN_BEING_DELETED) {
            let patch = json!({"metadata": {"annotations": {ANN_BEING_DELETED: "yes"}}});
            vscs.patch(&c.name_any(), &PatchParams::default(), &Patch::Merge(patch))
                .await?;
        }
        if delete_content && c.metadata.deletion_timestamp.is_none() {
            match vscs.delete(&c.name_any(), &DeleteParams::default()).await {
                Ok(_) => {}
                Err(e) if is_not_found(&e) => {}
                Err(e) => {
                    let msg = "Failed to delete snapshot content API object";
                    event(ctx, COMPONENT, vs, "Warning", "SnapshotContentObjectDeleteError", msg).await;
                    return Err(e.into());
                }
            }
        }
    }
    check_and_remove_pvc_finalizer(ctx, vs, true).await?;
    let keep_bound = content.is_some() && delete_content;
    let fins: Vec<String> = vs
        .finalizers()
        .iter()
        .filter(|f| *f != VS_SOURCE_FINALIZER && (keep_bound || *f != VS_BOUND_FINALIZER))
        .cloned()
        .collect();
    if fins.len() != vs.finalizers().len() {
        set_finalizers(api, vs, fins).await?;
    }
    Ok(Action::await_change())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content(status: Value) -> DynamicObject {
        serde_json::from_value(
            json!({"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshotContent",
            "metadata": {"name": "snapcontent-1"}, "spec": {}, "status": status}),
        )
        .unwrap()
    }

    #[test]
    fn a_fresh_snapshot_is_bound_not_ready_first() {
        let p = status_patch(&Value::Null, &content(Value::Null));
        assert_eq!(p.get("boundVolumeSnapshotContentName"), Some(&json!("snapcontent-1")));
        assert_eq!(p.get("readyToUse"), Some(&json!(false)));
        assert!(!p.contains_key("restoreSize") && !p.contains_key("creationTime"));
    }

    #[test]
    fn the_contents_fields_in_the_snapshots_forms() {
        let c = content(json!({"readyToUse": true, "restoreSize": 1073741824i64,
                               "creationTime": 1_796_544_944_463_324_075i64, "snapshotHandle": "h"}));
        let old = json!({"boundVolumeSnapshotContentName": "snapcontent-1", "readyToUse": false});
        let p = status_patch(&old, &c);
        assert_eq!(p.get("readyToUse"), Some(&json!(true)));
        assert_eq!(p.get("restoreSize"), Some(&json!("1Gi")));
        // int64 nanoseconds → RFC 3339 seconds (metav1.Time).
        assert_eq!(p.get("creationTime"), Some(&json!("2026-12-06T08:15:44Z")));
        assert!(!p.contains_key("boundVolumeSnapshotContentName"));
    }

    #[test]
    fn errors_follow_the_content_and_readiness_clears_them() {
        let err = json!({"message": "Failed to create snapshot: boom", "time": "2026-12-06T08:00:00Z"});
        let failing = content(json!({"readyToUse": false, "error": err}));
        let p = status_patch(
            &json!({"boundVolumeSnapshotContentName": "snapcontent-1", "readyToUse": false}),
            &failing,
        );
        assert_eq!(p.get("error"), Some(&err));
        let old = json!({"boundVolumeSnapshotContentName": "snapcontent-1", "readyToUse": false, "error": err});
        assert!(status_patch(&old, &failing).is_empty(), "nothing to write twice");
        let ok = content(json!({"readyToUse": true, "restoreSize": 1024, "creationTime": 0}));
        let p = status_patch(&old, &ok);
        assert_eq!(p.get("error"), Some(&Value::Null));
        assert_eq!(p.get("readyToUse"), Some(&json!(true)));
        // The controller's own error (e.g. an unbound claim, since fixed) goes once a content exists.
        let own = json!({"readyToUse": false, "error": {"message": "Failed to create snapshot content with error x"}});
        assert_eq!(
            status_patch(&own, &content(Value::Null)).get("error"),
            Some(&Value::Null)
        );
    }
}
