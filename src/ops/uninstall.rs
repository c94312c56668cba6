//! `chartup uninstall`: the plan first ([`crate::plan::uninstall`]: what goes, what stays, the
//! fate of every volume, with the live claims and volumes read from the cluster), then — unless
//! `--dry-run` — the deletes in reverse install order and the records deleted (or, with
//! `--keep-history`, the last one marked `uninstalled`), as `helm uninstall`.

use serde_json::Value as Json;

use super::{cluster_plan, Error, Result};
use crate::analysis::{Reclaim, ReclaimPolicies};
use crate::cluster::{Cascade, Cluster, ObjRef};
use crate::plan::uninstall::{self, LiveClaim, UninstallPlan};
use crate::release::{Release, Status};
use crate::storage::ReleaseStore;

#[derive(Debug, Clone, Default)]
pub struct UninstallRequest {
    pub release: String,
    pub keep_history: bool,
    /// `--no-hooks`: uninstall although the release has delete hooks (they are not run).
    pub no_hooks: bool,
    /// `--storage-class NAME=POLICY` given by the user; the cluster's classes fill in the rest.
    pub storage_classes: Vec<String>,
}

/// Plan the uninstall: the newest revision's objects and the namespace's claims.
pub async fn plan(
    cluster: &dyn Cluster,
    store: &dyn ReleaseStore,
    req: &UninstallRequest,
) -> Result<(UninstallPlan, Release)> {
    let ns = store.namespace().to_string();
    let h = store.history(&req.release).await?;
    let Some(last) = h.last().cloned() else {
        return Err(Error::Invalid(crate::helm_env::release_not_found(&req.release, &ns)));
    };
    if last.status() == Status::Uninstalled {
        return Err(Error::Invalid(format!(
            "release {} in namespace {ns} is already uninstalled (its history was kept with --keep-history)",
            req.release
        )));
    }
    let objects = crate::manifest::parse_manifest(&last.manifest, &ns).map_err(|e| Error::Invalid(e.to_string()))?;
    let mut reclaim = ReclaimPolicies::default();
    cluster_plan::cluster_reclaim_policies(cluster, &mut reclaim).await?;
    for s in &req.storage_classes {
        reclaim.add_spec(s)?;
    }
    let pvs = cluster.list("v1", "PersistentVolume", "", None).await?;
    let claims: Vec<LiveClaim> = cluster
        .list("v1", "PersistentVolumeClaim", &ns, None)
        .await?
        .iter()
        .map(|c| {
            let volume = c.pointer("/spec/volumeName").and_then(Json::as_str).map(str::to_string);
            let volume_reclaim = volume.as_deref().and_then(|v| {
                pvs.iter()
                    .find(|pv| pv.pointer("/metadata/name").and_then(Json::as_str) == Some(v))
                    .and_then(|pv| pv.pointer("/spec/persistentVolumeReclaimPolicy").and_then(Json::as_str))
                    .map(|p| {
                        if p == "Retain" {
                            Reclaim::Retain
                        } else {
                            Reclaim::Delete
                        }
                    })
            });
            LiveClaim {
                name: c
                    .pointer("/metadata/name")
                    .and_then(Json::as_str)
                    .unwrap_or_default()
                    .to_string(),
                storage_class: c
                    .pointer("/spec/storageClassName")
                    .and_then(Json::as_str)
                    .map(str::to_string),
                volume,
                volume_reclaim,
            }
        })
        .collect();
    let p = uninstall::plan(
        &req.release,
        &ns,
        last.version,
        &objects,
        &claims,
        &reclaim,
        req.keep_history,
    );
    let mut p = p;
    // Issue 15: the release's snapshots stay (a cluster without the snapshot API has none).
    if let Ok(taken) = super::snapshots::list(cluster, &ns, &req.release).await {
        p.snapshots = taken.into_iter().map(|t| t.name).collect();
    }
    Ok((p, last))
}

/// Carry out a reviewed uninstall plan.
pub async fn uninstall(
    cluster: &dyn Cluster,
    store: &dyn ReleaseStore,
    req: &UninstallRequest,
    plan: &UninstallPlan,
    last: &Release,
) -> Result<()> {
    let ns = store.namespace().to_string();
    let delete_hooks: Vec<&str> = last
        .hooks
        .iter()
        .filter(|h| h.events.iter().any(|e| e == "pre-delete" || e == "post-delete"))
        .map(|h| h.path.as_str())
        .collect();
    if !delete_hooks.is_empty() && !req.no_hooks {
        return Err(Error::Invalid(format!(
            "release {} has delete hooks ({}), which chartup does not run yet: uninstall with --no-hooks to skip \
             them, or use helm uninstall",
            req.release,
            delete_hooks.join(", ")
        )));
    }
    let mut uninstalling = last.clone();
    uninstalling.info.status = Status::Uninstalling;
    store.update(&uninstalling).await?;
    let objects = crate::manifest::parse_manifest(&last.manifest, &ns).map_err(|e| Error::Invalid(e.to_string()))?;
    let mut failures = Vec::new();
    for o in objects.objects.iter().rev() {
        if o.kept_on_delete() {
            continue;
        }
        let r = ObjRef::of(&o.value, &ns)?;
        if let Err(e) = cluster.delete(&r, Cascade::Background, false).await {
            if !e.is_not_found() {
                failures.push(format!("{r}: {}", e.cause_text()));
            }
        }
    }
    if !failures.is_empty() {
        return Err(Error::Invalid(format!(
            "uninstall of {} left objects behind: {} (the record stays `uninstalling`; run again)",
            req.release,
            failures.join("; ")
        )));
    }
    if plan.keep_history {
        let mut done = last.clone();
        done.info.status = Status::Uninstalled;
        done.info.description = "Uninstallation complete".into();
        done.info.deleted = Some(jiff::Timestamp::now());
        store.update(&done).await?;
    } else {
        for r in store.history(&req.release).await?.revisions {
            store.delete(&req.release, r.version).await?;
        }
    }
    Ok(())
}
