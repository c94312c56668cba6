//! `chartup uninstall`: the plan first ([`crate::plan::uninstall`]: what goes, what stays, the
//! fate of every volume, with the live claims and volumes read from the cluster, the delete hooks
//! that will run), then — unless `--dry-run` — as `helm uninstall` (`pkg/action/uninstall.go`):
//! the `pre-delete` hooks (a failure stops here, the record untouched), the record marked
//! `uninstalling`, the deletes in reverse install order, the `post-delete` hooks (a failure is
//! reported after the records are dealt with), and the records deleted (or, with
//! `--keep-history`, the last one marked `uninstalled`). Hooks run through the executor
//! ([`crate::executor::hooks::delete_hooks`]): weight then name, delete policies honoured.

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
    /// How long each delete hook may take (`--timeout`, helm's default 5m).
    pub timeout: std::time::Duration,
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
    let mut warnings: Vec<String> = cluster_plan::cluster_reclaim_policies(cluster, &mut reclaim)
        .await?
        .into_iter()
        .collect();
    for s in &req.storage_classes {
        reclaim.add_spec(s)?;
    }
    // PersistentVolumes are cluster-scoped: a namespace tenant may not read them. Then each
    // claim's fate comes from its storage class (`--storage-class`), else it is unknown (at risk).
    let pvs = match cluster.list("v1", "PersistentVolume", "", None).await {
        Ok(pvs) => pvs,
        Err(e) if e.status_code() == Some(403) => {
            warnings.push(format!(
                "cannot read the cluster's PersistentVolumes ({}): each claim's reclaim policy is taken from its \
                 storage class (--storage-class NAME=Retain|Delete), else it is unknown",
                e.server_message()
            ));
            Vec::new()
        }
        Err(e) => return Err(e.into()),
    };
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
    let mut p = uninstall::plan(
        &req.release,
        &ns,
        last.version,
        &objects,
        &claims,
        &reclaim,
        req.keep_history,
    );
    p.warnings = warnings;
    for event in ["pre-delete", "post-delete"] {
        let mut hooks: Vec<&crate::release::Hook> = last
            .hooks
            .iter()
            .filter(|h| h.events.iter().any(|e| e == event))
            .collect();
        hooks.sort_by(|a, b| a.weight.cmp(&b.weight).then(a.name.cmp(&b.name)));
        for h in hooks {
            let mut line = format!("{event}: {}/{} (weight {})", h.kind, h.name, h.weight);
            if req.no_hooks {
                line.push_str(" — not run (--no-hooks)");
            }
            p.hooks.push(line);
        }
    }
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
    rep: &mut dyn crate::executor::Reporter,
) -> Result<()> {
    let ns = store.namespace().to_string();
    refuse_a_live_run(cluster, store, &req.release).await?;
    let opts = crate::executor::ApplyOptions {
        timeout: req.timeout,
        actor: crate::executor::options::default_actor(),
        ..Default::default()
    };
    // The record as it goes (hooks journal into it).
    let mut current = last.clone();
    if !req.no_hooks {
        // helm runs pre-delete hooks before marking the release: a failure leaves it as it was.
        crate::executor::hooks::delete_hooks(cluster, store, &mut current, "pre-delete", &opts, rep).await?;
    }
    current.info.status = Status::Uninstalling;
    current.info.description = "Deletion in progress (or silently failed)".into();
    store.update(&current).await?;
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
    // Post-delete hooks: a failure is reported once the records are dealt with, as helm does.
    let mut errors = Vec::new();
    if !req.no_hooks {
        if let Err(e) =
            crate::executor::hooks::delete_hooks(cluster, store, &mut current, "post-delete", &opts, rep).await
        {
            errors.push(e.to_string());
        }
    }
    if plan.keep_history {
        let mut done = current;
        done.info.status = Status::Uninstalled;
        done.info.description = "Uninstallation complete".into();
        done.info.deleted = Some(jiff::Timestamp::now());
        store.update(&done).await?;
    } else {
        for r in store.history(&req.release).await?.revisions {
            store.delete(&req.release, r.version).await?;
        }
        // chartup's lock object goes with the records (best effort: a released Lease only).
        crate::recovery::lease::remove_released(cluster, &ns, &req.release).await;
    }
    if !errors.is_empty() {
        // helm's words (pkg/action/uninstall.go).
        return Err(Error::Invalid(format!(
            "uninstallation completed with {} error(s): {}",
            errors.len(),
            errors.join("; ")
        )));
    }
    Ok(())
}

/// A chartup run that is alive holds the release's lock (its pending record, its Lease): deleting
/// the release under it leaves that run failing on vanished objects with no record to mark. A
/// dead run's lock (`status` calls it stale) and a pending record helm wrote (no holder named)
/// do not stop the uninstall: that is how helm users clear a stuck `pending-install`.
async fn refuse_a_live_run(cluster: &dyn Cluster, store: &dyn ReleaseStore, release: &str) -> Result<()> {
    use crate::executor::recover::{holder_liveness, with_lease_heartbeat};
    let history = store.history(release).await?;
    let Some(pending) = history.lock_holder() else {
        return Ok(());
    };
    let pending = with_lease_heartbeat(cluster, pending).await;
    if let Some((h, crate::recovery::holder::Liveness::Alive(why))) = holder_liveness(&pending) {
        return Err(Error::Invalid(format!(
            "release {release} is locked by a run that is still alive: chartup {} by {} since {} ({why}); \
             nothing was deleted.\n  wait for it, or stop it (Ctrl-C marks the revision failed), then uninstall; if \
             that run is in fact gone (a heartbeat written from another machine), `chartup recover {release} --force` \
             releases its lock",
            h.operation,
            h.who(),
            h.acquired
        )));
    }
    Ok(())
}
