//! Apply a reviewed plan (`chartup apply PLAN.json`, and the second half of `apply RELEASE
//! CHART`), with `--atomic`: when the run fails, roll back to the revision that was deployed —
//! a second operation ([`super::rollback`]) composed here, so the executor only ever executes.
//! A failed install has nothing to roll back to: as helm's `install --atomic`
//! (`--rollback-on-failure`), the release is uninstalled ([`super::uninstall`]) instead.

use super::rollback;
use crate::cluster::Cluster;
use crate::executor::{self, ApplyError, ApplyOptions, Reporter};
use crate::plan::saved::SavedPlan;
use crate::release::Status;
use crate::storage::ReleaseStore;

/// Apply `saved`; returns the new revision. With `opts.atomic`, a failed run is followed by a
/// rollback to the last deployed revision, whose outcome is in [`ApplyError::Failed`].
pub async fn apply(
    cluster: &dyn Cluster,
    store: &dyn ReleaseStore,
    saved: &SavedPlan,
    opts: &ApplyOptions,
    rep: &mut dyn Reporter,
) -> Result<u32, ApplyError> {
    let result = executor::apply(cluster, store, saved, opts, rep).await;
    if result.is_ok() {
        super::snapshots::retain(cluster, saved, opts, rep).await;
    }
    let Err(ApplyError::Failed {
        revision,
        message,
        rollback: None,
        uninstalled: None,
    }) = result
    else {
        return result;
    };
    if !opts.atomic {
        return Err(ApplyError::Failed {
            revision,
            message,
            rollback: None,
            uninstalled: None,
        });
    }
    let release = &saved.plan.release.name;
    // A run stopped by a signal rolls back too; the stop is handled, so the rollback runs on (a
    // second signal still aborts at once).
    crate::recovery::signal::handled();
    // The failed run superseded nothing: the deployed revision is still the one before it.
    let history = store.history(release).await?;
    let target = history.deployed().map(|r| r.version);
    // An install: the plan starts from nothing, and the record before the failed one is none
    // (or was pruned), or the one an install over `uninstall --keep-history` superseded with
    // helm's words. Only the newest earlier record counts: a kept history has older superseded
    // ones, and an upgrade whose earlier records `--history-max` pruned is still an upgrade.
    let previous = history
        .revisions
        .iter()
        .filter(|r| r.version < revision)
        .max_by_key(|r| r.version);
    let from_nothing = crate::manifest::parse_documents(saved.manifests.from.clone(), &saved.plan.release.namespace)
        .map(|s| s.objects.iter().all(|o| o.is_hook()))
        .unwrap_or(false);
    let installed = from_nothing
        && previous.is_none_or(|r| {
            r.status() == Status::Uninstalled
                || (r.status() == Status::Superseded && r.info.description == executor::records::REPLACED)
        });
    if target.is_none() && installed {
        // helm's install refuses objects that exist without its ownership (`--take-ownership`
        // aside), so its uninstall deletes only what the install made. chartup's install adopts
        // them: uninstalling would delete objects that were there before (a claim's data).
        let before = existed_before(saved);
        if !before.is_empty() {
            return Err(ApplyError::Failed {
                revision,
                message,
                rollback: None,
                uninstalled: Some(Err(format!(
                    "not uninstalled: {} existed before this install, and uninstalling would delete it; delete the \
                     objects the install created by hand, or uninstall once you are sure",
                    before.join(", ")
                ))),
            });
        }
        rep.report(executor::Progress::Step {
            step: format!("uninstalling release {release}: its install failed (--atomic)"),
        });
        let uninstalled = uninstall_failed_install(cluster, store, release, opts, rep).await;
        return Err(ApplyError::Failed {
            revision,
            message,
            rollback: None,
            uninstalled: Some(uninstalled.map_err(|e| e.to_string())),
        });
    }
    let rollback = match target {
        Some(target) => {
            rep.report(executor::Progress::Step {
                step: format!("rolling back to revision {target} (--atomic)"),
            });
            // Issue 15: the data too, when asked (--restore-data, or the matrix's restoreOnFailure)
            // and the failed run took snapshots.
            let restore = super::snapshots::restore_on_failure(store, saved, opts, release, revision).await?;
            Some(
                rollback::rollback_with(cluster, store, release, Some(target), restore, opts, rep)
                    .await
                    .map_err(|e| e.to_string()),
            )
        }
        None => Some(Err("there is no deployed revision to roll back to".into())),
    };
    Err(ApplyError::Failed {
        revision,
        message,
        rollback,
        uninstalled: None,
    })
}

/// The objects of the install (not kept on delete) that existed when it was planned.
fn existed_before(saved: &SavedPlan) -> Vec<String> {
    let Ok(to) = crate::manifest::parse_documents(saved.manifests.to.clone(), &saved.plan.release.namespace) else {
        return Vec::new();
    };
    to.objects
        .iter()
        .filter(|o| !o.is_hook() && !o.kept_on_delete())
        .map(|o| o.key.to_string())
        .filter(|k| saved.live_versions.get(k).is_some_and(|v| v != "absent"))
        .collect()
}

/// helm's `failRelease` with atomic set: uninstall with the delete hooks, without keeping the
/// history (the objects the failed install created go; claims made from a StatefulSet's
/// templates are not the release's and stay, as with `chartup uninstall`).
async fn uninstall_failed_install(
    cluster: &dyn Cluster,
    store: &dyn ReleaseStore,
    release: &str,
    opts: &ApplyOptions,
    rep: &mut dyn Reporter,
) -> Result<(), super::Error> {
    let req = super::uninstall::UninstallRequest {
        release: release.to_string(),
        keep_history: false,
        no_hooks: false,
        storage_classes: Vec::new(),
        timeout: opts.timeout,
    };
    let (plan, last) = super::uninstall::plan(cluster, store, &req).await?;
    super::uninstall::uninstall(cluster, store, &req, &plan, &last, rep).await
}
