//! Snapshots as operations (issue 15): the cluster facts a plan's snapshot decision needs (is the
//! snapshot API served, which VolumeSnapshotClasses exist, the claims' phase, size and driver),
//! `chartup snapshots list|prune RELEASE`, and the restore half of `rollback --restore-data`
//! (which claim gets which snapshot back).
//!
//! The decisions themselves are pure and live in `crate::plan::snapshots`; the executor takes and
//! restores them (`crate::executor::snapshot`). This file only asks the cluster and the records.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use crate::cluster::{Cascade, Cluster, ClusterError, ObjRef};
use crate::executor::restore;
use crate::executor::snapshot::{self as exec_snap, Taken};
use crate::executor::{ApplyError, ApplyOptions, Progress, Reporter};
use crate::matrix::Matrix;
use crate::plan::snapshots::{
    self, ClaimFacts, ClaimRestore, ClusterFacts, SnapClass, SnapshotPlan, SnapshotRequest, SnapshotStatus,
    API_VERSION, DEFAULT_CLASS_ANNOTATION,
};
use crate::plan::Plan;
use crate::release::Release;
use crate::storage::ReleaseStore;

fn s<'j>(v: &'j Json, p: &str) -> &'j str {
    v.pointer(p).and_then(Json::as_str).unwrap_or("")
}

/// Whether the snapshot API is served (`Err`: why not, in words).
pub async fn api_served(cluster: &dyn Cluster) -> Result<Result<(), String>, ClusterError> {
    let gvs = cluster.group_versions().await?;
    if !gvs.iter().any(|g| g == API_VERSION) {
        return Ok(Err(format!(
            "the cluster does not serve {API_VERSION} (the VolumeSnapshot CRDs and a snapshot controller are not installed)"
        )));
    }
    let res = cluster.resources(API_VERSION).await?;
    if !res.iter().any(|r| r.kind == "VolumeSnapshot") {
        return Ok(Err(format!("{API_VERSION} is served without VolumeSnapshot")));
    }
    Ok(Ok(()))
}

/// The driver behind a claim's volume: the PV's CSI driver, the provisioner that made it, or the
/// class's provisioner (a tenant may not read PVs or classes: then unknown).
async fn claim_driver(cluster: &dyn Cluster, claim: &Json) -> Option<String> {
    let pv_name = s(claim, "/spec/volumeName");
    if !pv_name.is_empty() {
        if let Ok(Some(pv)) = cluster.get(&ObjRef::volume(pv_name)).await {
            let csi = s(&pv, "/spec/csi/driver");
            if !csi.is_empty() {
                return Some(csi.into());
            }
            let by = s(&pv, "/metadata/annotations/pv.kubernetes.io~1provisioned-by");
            if !by.is_empty() {
                return Some(by.into());
            }
        }
    }
    let class = s(claim, "/spec/storageClassName");
    if class.is_empty() {
        return None;
    }
    let sc = cluster
        .get(&ObjRef::new("storage.k8s.io/v1", "StorageClass", "", class))
        .await
        .ok()??;
    Some(s(&sc, "/provisioner").to_string()).filter(|p| !p.is_empty())
}

/// What the cluster has for these claims.
pub async fn cluster_facts(cluster: &dyn Cluster, claims: &[(String, String)]) -> Result<ClusterFacts, ClusterError> {
    let mut f = ClusterFacts {
        api: api_served(cluster).await?,
        classes: vec![],
        classes_unreadable: None,
        claims: BTreeMap::new(),
    };
    if f.api.is_ok() {
        match cluster.list(API_VERSION, "VolumeSnapshotClass", "", None).await {
            Ok(list) => {
                f.classes = list
                    .iter()
                    .map(|c| SnapClass {
                        name: s(c, "/metadata/name").into(),
                        driver: s(c, "/driver").into(),
                        default: c
                            .pointer(&format!(
                                "/metadata/annotations/{}",
                                DEFAULT_CLASS_ANNOTATION.replace('/', "~1")
                            ))
                            .and_then(Json::as_str)
                            == Some("true"),
                        deletion_policy: s(c, "/deletionPolicy").into(),
                    })
                    .collect()
            }
            // A namespace's tenant may not list cluster-scoped classes: a class named by the user or
            // the matrix is then taken on trust, else the snapshot controller picks the default.
            Err(e) if e.status_code() == Some(403) => f.classes_unreadable = Some(e.server_message()),
            Err(e) => return Err(e),
        }
    }
    for (ns, name) in claims {
        let Some(c) = cluster.get(&ObjRef::claim(ns, name)).await? else {
            continue;
        };
        let capacity = c
            .pointer("/status/capacity/storage")
            .or_else(|| c.pointer("/spec/resources/requests/storage"))
            .and_then(Json::as_str)
            .map(str::to_string);
        let driver = claim_driver(cluster, &c).await;
        f.claims.insert(
            (ns.clone(), name.clone()),
            ClaimFacts {
                phase: s(&c, "/status/phase").into(),
                capacity,
                driver,
            },
        );
    }
    Ok(f)
}

/// Decide the plan's snapshots (with the cluster's facts when there is a cluster) and attach them.
pub async fn plan_snapshots(
    cluster: Option<&dyn Cluster>,
    plan: &mut Plan,
    matrix: Option<&Matrix>,
    req: &SnapshotRequest,
) -> Result<(), ClusterError> {
    let Some(first) = snapshots::decide(plan, matrix, req, None) else {
        snapshots::attach(plan, None, req);
        return Ok(());
    };
    let decided = match cluster {
        None => Some(first),
        Some(c) => {
            let claims: Vec<(String, String)> = first
                .claims
                .iter()
                .map(|x| (x.namespace.clone(), x.claim.clone()))
                .collect();
            let facts = cluster_facts(c, &claims).await?;
            snapshots::decide(plan, matrix, req, Some(&facts))
        }
    };
    snapshots::attach(plan, decided, req);
    Ok(())
}

/// The snapshots chartup took for a release, as the cluster has them (newest revision first).
pub async fn list(cluster: &dyn Cluster, ns: &str, release: &str) -> Result<Vec<Taken>, ClusterError> {
    exec_snap::list_release(cluster, ns, release).await
}

/// `chartup snapshots prune RELEASE --keep N`: delete the snapshots of all but the newest `keep`
/// revisions that took some. Returns the names deleted.
pub async fn prune(cluster: &dyn Cluster, ns: &str, release: &str, keep: usize) -> Result<Vec<String>, ClusterError> {
    let taken = list(cluster, ns, release).await?;
    let mut revisions: Vec<u32> = taken.iter().map(|t| t.revision).collect();
    revisions.sort_unstable_by(|a, b| b.cmp(a));
    revisions.dedup();
    let kept: Vec<u32> = revisions.into_iter().take(keep).collect();
    let mut gone = Vec::new();
    for t in taken.iter().filter(|t| !kept.contains(&t.revision)) {
        cluster
            .delete(
                &ObjRef::new(API_VERSION, "VolumeSnapshot", &t.namespace, &t.name),
                Cascade::Background,
                false,
            )
            .await?;
        gone.push(t.name.clone());
    }
    Ok(gone)
}

/// The volumes restores set aside for a release (`pv (from ns/claim, reclaim policy P before)`).
pub async fn set_aside(cluster: &dyn Cluster, release: &str) -> Result<Vec<String>, ClusterError> {
    let sel = format!(
        "{}={release},{}=true",
        exec_snap::LABEL_RELEASE,
        restore::LABEL_SET_ASIDE
    );
    Ok(cluster
        .list("v1", "PersistentVolume", "", Some(&sel))
        .await?
        .iter()
        .map(|pv| {
            format!(
                "{} (the data of {} written after its snapshot; {}, reclaim policy {} before)",
                s(pv, "/metadata/name"),
                s(pv, "/metadata/annotations/chartup.io~1set-aside-from"),
                s(pv, "/status/phase"),
                s(pv, "/metadata/annotations/chartup.io~1original-reclaim-policy")
            )
        })
        .collect())
}

/// Let go of the set-aside volumes: the original reclaim policy back (a `Delete` policy then
/// deletes a Released volume), the set-aside label off. Returns the PV names.
pub async fn release_set_aside(cluster: &dyn Cluster, release: &str) -> Result<Vec<String>, ClusterError> {
    let sel = format!(
        "{}={release},{}=true",
        exec_snap::LABEL_RELEASE,
        restore::LABEL_SET_ASIDE
    );
    let mut out = Vec::new();
    for pv in cluster.list("v1", "PersistentVolume", "", Some(&sel)).await? {
        let name = s(&pv, "/metadata/name").to_string();
        let policy = match s(&pv, "/metadata/annotations/chartup.io~1original-reclaim-policy") {
            "" => "Delete",
            p => p,
        };
        cluster
            .patch(
                &ObjRef::volume(&name),
                &serde_json::json!({"metadata": {"labels": {restore::LABEL_SET_ASIDE: null},
                    "annotations": {restore::ANN_POLICY: null}},
                    "spec": {"persistentVolumeReclaimPolicy": policy}}),
                false,
            )
            .await?;
        out.push(name);
    }
    Ok(out)
}

/// The restores of `rollback --restore-data` from `current` back to `target`: for every claim
/// snapshotted by a revision after the target (the oldest such snapshot holds the target's data),
/// a new claim from that snapshot. A claim whose snapshot is gone or not ready is an error: the
/// data cannot be restored, and a rollback that silently skipped it would not be what was asked.
pub async fn restores(
    cluster: &dyn Cluster,
    revisions: &[Release],
    target: u32,
    current: u32,
) -> Result<Vec<ClaimRestore>, String> {
    let mut by_claim: BTreeMap<(String, String), (u32, exec_snap::Recorded)> = BTreeMap::new();
    for r in revisions.iter().filter(|r| r.version > target && r.version <= current) {
        for rec in exec_snap::recorded(r).into_iter().filter(|x| x.stage != "planned") {
            let key = (rec.namespace.clone(), rec.claim.clone());
            if by_claim.get(&key).is_none_or(|(v, _)| r.version < *v) {
                by_claim.insert(key, (r.version, rec));
            }
        }
    }
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for ((ns, claim), (rev, rec)) in by_claim {
        let vs = cluster
            .get(&ObjRef::new(API_VERSION, "VolumeSnapshot", &ns, &rec.snapshot))
            .await
            .map_err(|e| e.to_string())?;
        match vs {
            None => problems.push(format!(
                "snapshot {} of claim {claim} (revision {rev}) no longer exists",
                rec.snapshot
            )),
            Some(v) if v.pointer("/status/readyToUse") != Some(&Json::Bool(true)) => problems.push(format!(
                "snapshot {} of claim {claim} is not ready to use",
                rec.snapshot
            )),
            Some(v) => {
                let live = cluster
                    .get(&ObjRef::claim(&ns, &claim))
                    .await
                    .map_err(|e| e.to_string())?;
                let set_aside = match live.as_ref().map(|c| s(c, "/spec/volumeName")) {
                    Some(pv) if !pv.is_empty() => format!(
                        "the data written since (volume {pv}) is kept: its PV is set to Retain and labelled for `chartup snapshots prune`"
                    ),
                    _ => "the claim does not exist now: nothing is set aside".into(),
                };
                out.push(ClaimRestore {
                    namespace: ns.clone(),
                    claim: claim.clone(),
                    workload: rec.workload.clone(),
                    snapshot: rec.snapshot.clone(),
                    revision: rev,
                    restore_size: v
                        .pointer("/status/restoreSize")
                        .and_then(Json::as_str)
                        .map(str::to_string)
                        .or(rec.restore_size.clone()),
                    set_aside,
                })
            }
        }
    }
    if !problems.is_empty() {
        return Err(format!("--restore-data: {}", problems.join("; ")));
    }
    if out.is_empty() {
        return Err(format!(
            "--restore-data: no revision after {target} took snapshots of this release's volumes: there is no data to restore"
        ));
    }
    Ok(out)
}

/// The snapshot section of a rollback plan with `--restore-data`.
pub fn restore_plan(restores: Vec<ClaimRestore>) -> SnapshotPlan {
    SnapshotPlan {
        status: SnapshotStatus::Planned,
        detail: None,
        class: None,
        class_source: None,
        claims: vec![],
        restore_bytes: None,
        fallback: None,
        restore_on_failure: false,
        restores,
    }
}

/// After a successful run: keep the snapshots of the newest `--keep-snapshots` revisions that took
/// some, delete the older ones (a failure to delete is said, not fatal: the run succeeded).
pub async fn retain(
    cluster: &dyn Cluster,
    saved: &crate::plan::saved::SavedPlan,
    opts: &ApplyOptions,
    rep: &mut dyn Reporter,
) {
    if opts.keep_snapshots == 0 || saved.plan.snapshots.as_ref().is_none_or(|s| s.to_take().is_empty()) {
        return;
    }
    let (ns, release) = (&saved.plan.release.namespace, &saved.plan.release.name);
    match prune(cluster, ns, release, opts.keep_snapshots).await {
        Ok(gone) if !gone.is_empty() => rep.report(Progress::Step {
            step: format!(
                "snapshots: deleted {} of older revisions (--keep-snapshots {})",
                gone.join(", "),
                opts.keep_snapshots
            ),
        }),
        Ok(_) => {}
        Err(e) => rep.report(Progress::Warning {
            message: format!("snapshots of older revisions were not pruned: {e}"),
        }),
    }
}

/// Whether `--atomic`'s rollback restores the data: asked for (`--restore-data`, the matrix's
/// `restoreOnFailure`) and the failed revision took snapshots that are ready.
pub async fn restore_on_failure(
    store: &dyn ReleaseStore,
    saved: &crate::plan::saved::SavedPlan,
    opts: &ApplyOptions,
    release: &str,
    failed: u32,
) -> Result<bool, ApplyError> {
    let asked = opts.restore_data || saved.plan.snapshots.as_ref().is_some_and(|s| s.restore_on_failure);
    if !asked {
        return Ok(false);
    }
    let history = store.history(release).await?;
    Ok(history
        .get(failed)
        .is_some_and(|r| exec_snap::recorded(r).iter().any(|x| x.stage == "ready")))
}
