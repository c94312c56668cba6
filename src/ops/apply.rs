//! Apply a reviewed plan (`chartup apply PLAN.json`, and the second half of `apply RELEASE
//! CHART`), with `--atomic`: when the run fails, roll back to the revision that was deployed —
//! a second operation ([`super::rollback`]) composed here, so the executor only ever executes.

use super::rollback;
use crate::cluster::Cluster;
use crate::executor::{self, ApplyError, ApplyOptions, Reporter};
use crate::plan::saved::SavedPlan;
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
    }) = result
    else {
        return result;
    };
    if !opts.atomic {
        return Err(ApplyError::Failed {
            revision,
            message,
            rollback: None,
        });
    }
    let release = &saved.plan.release.name;
    // A run stopped by a signal rolls back too; the stop is handled, so the rollback runs on (a
    // second signal still aborts at once).
    crate::recovery::signal::handled();
    // The failed run superseded nothing: the deployed revision is still the one before it.
    let target = store.history(release).await?.deployed().map(|r| r.version);
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
    })
}
