//! `chartup recover`: release the lock a crashed run left — the pending revision becomes
//! `failed`, with an account of what the interrupted run had done — and finish or undo the volume
//! carries it left half-done.

use super::carry;
use super::error::ApplyError;
use super::journal::{journal, journal_lines};
use super::runner::holder_of;
use crate::cluster::Cluster;
use crate::recovery::holder::{liveness, proc_start_ticks, Here, Holder, Liveness};
use crate::release::{Release, Status};
use crate::storage::ReleaseStore;

/// Whether the run holding `rel` (a pending record) still lives, by the holder chartup recorded
/// (crate::recovery::holder): `None` when the record names none (helm's, or an older chartup's).
pub fn holder_liveness(rel: &Release) -> Option<(Holder, Liveness)> {
    let h = holder_of(rel)?;
    let l = liveness(&h, &Here::now(), proc_start_ticks, jiff::Timestamp::now());
    Some((h, l))
}

/// Release a lock left by a crashed run: the pending revision becomes `failed`, with an account
/// of what the interrupted run had done. Returns that account. A holder that provably still lives
/// is refused unless `force`: releasing its lock would let a second run alongside it.
pub async fn recover(
    cluster: &dyn Cluster,
    store: &dyn ReleaseStore,
    release: &str,
    force: bool,
) -> Result<(Release, Vec<String>), ApplyError> {
    let ns = store.namespace();
    let history = store.history(release).await?;
    let Some(holder) = history.lock_holder().cloned() else {
        return Err(ApplyError::Other(format!(
            "release {release} in namespace {ns} is not locked: nothing to recover"
        )));
    };
    if let Some((h, Liveness::Alive(why))) = holder_liveness(&holder) {
        if !force {
            return Err(ApplyError::Other(format!(
                "release {release} is locked by a run that is still alive: chartup {} by {} since {} ({why}); \
                 its last heartbeat was at {}.\n  wait for it, or stop it (Ctrl-C marks the revision failed); \
                 `chartup recover {release} -n {ns} --force` only if you know it is gone",
                h.operation,
                h.who(),
                h.acquired,
                h.heartbeat
            )));
        }
    }
    let mut done = journal_lines(&holder);
    let mut rel = holder.clone();
    rel.info.status = Status::Failed;
    rel.info.description = format!(
        "Release unlocked from stale '{}' state by chartup recover ({} step(s) had completed)",
        holder.status(),
        done.len()
    );
    done.extend(carry::recover(cluster, &mut rel).await?);
    done.extend(super::snapshot::recover(cluster, &mut rel).await?);
    done.extend(super::restore::recover(cluster, &mut rel).await?);
    journal(&mut rel, "recovered: lock released");
    store.update(&rel).await?;
    Ok((rel, done))
}
