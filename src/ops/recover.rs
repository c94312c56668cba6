//! `chartup recover`: release the lock an interrupted run left (its `pending-*` revision becomes
//! `failed`), finishing or undoing what that run left half-done, and say what to do next.

use crate::cluster::Cluster;
use crate::executor::{self, ApplyError, Reporter};
use crate::release::Release;
use crate::storage::ReleaseStore;

/// What `recover` did.
pub struct Recovered {
    /// The revision that held the lock, now failed.
    pub release: Release,
    /// What the interrupted run had done, then what recover did (one line each).
    pub done: Vec<String>,
    /// The next command to run: the interrupted run again, or the interrupted rollback.
    pub next: &'static str,
}

/// `force`: release the lock even when its holder looks alive (`--force`). Its waits beat to `rep`
/// (at least every [`executor::progress::HEARTBEAT`]).
pub async fn recover(
    cluster: &dyn Cluster,
    store: &dyn ReleaseStore,
    release: &str,
    force: bool,
    rep: &mut dyn Reporter,
) -> Result<Recovered, ApplyError> {
    let every = executor::progress::HEARTBEAT;
    let (rel, done) = executor::recover(cluster, store, release, force, rep, every).await?;
    let next = if rel.info.description.contains("'pending-rollback'") {
        // The schema the interrupted rollback left is in its record: down-migrations it finished
        // are not run again.
        "Run the rollback again to finish it"
    } else {
        "Run the apply again to finish the upgrade"
    };
    Ok(Recovered {
        release: rel,
        done,
        next,
    })
}
