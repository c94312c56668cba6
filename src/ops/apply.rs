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
    // An install (no revision before the failed one that was ever applied): helm uninstalls.
    // An install over `uninstall --keep-history` superseded the uninstalled record with helm's
    // words; that one does not count.
    let installed = history.revisions.iter().filter(|r| r.version != revision).all(|r| {
        !matches!(r.status(), Status::Deployed | Status::Superseded | Status::Failed)
            || (r.status() == Status::Superseded && r.info.description == executor::records::REPLACED)
    });
    if target.is_none() && installed {
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
