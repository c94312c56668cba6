//! `chartup recover`: release the lock a crashed run left — the pending revision becomes
//! `failed`, with an account of what the interrupted run had done — and finish or undo the volume
//! carries it left half-done.

use super::carry;
use super::error::ApplyError;
use super::journal::{journal, journal_lines};
use crate::cluster::Cluster;
use crate::release::{Release, Status};
use crate::storage::ReleaseStore;

/// Release a lock left by a crashed run: the pending revision becomes `failed`, with an account
/// of what the interrupted run had done. Returns that account.
pub async fn recover(
    cluster: &dyn Cluster,
    store: &dyn ReleaseStore,
    release: &str,
) -> Result<(Release, Vec<String>), ApplyError> {
    let ns = store.namespace();
    let history = store.history(release).await?;
    let Some(holder) = history.lock_holder().cloned() else {
        return Err(ApplyError::Other(format!(
            "release {release} in namespace {ns} is not locked: nothing to recover"
        )));
    };
    let mut done = journal_lines(&holder);
    let mut rel = holder.clone();
    rel.info.status = Status::Failed;
    rel.info.description = format!(
        "Release unlocked from stale '{}' state by chartup recover ({} step(s) had completed)",
        holder.status(),
        done.len()
    );
    done.extend(carry::recover(cluster, &mut rel).await?);
    journal(&mut rel, "recovered: lock released");
    store.update(&rel).await?;
    Ok((rel, done))
}
