//! `chartup recover`: release the lock a crashed run left — the pending revision becomes
//! `failed`, with an account of what the interrupted run had done — and finish or undo the volume
//! carries it left half-done.

use std::time::Duration;

use super::carry;
use super::error::ApplyError;
use super::heartbeat::{with_retry_beats, Pulse};
use super::journal::{journal, journal_lines};
use super::progress::{Reporter, SharedReporter};
use super::runner::{holder_of, HOLDER_KEY};
use crate::cluster::Cluster;
use crate::recovery::holder::{liveness, proc_start_ticks, Here, Holder, Liveness};
use crate::release::{Release, Status};
use crate::storage::ReleaseStore;

/// The pending record `rel` with its holder's heartbeat brought up to date from the release's
/// Lease, when the Lease names the same holder (crate::recovery::lease): the run renews the Lease
/// beside its work, the record only when it journals or polls.
pub async fn with_lease_heartbeat(cluster: &dyn Cluster, rel: &Release) -> Release {
    let mut rel = rel.clone();
    let Some(mut h) = holder_of(&rel) else { return rel };
    let Some(lease) = crate::recovery::lease::read(cluster, &rel.namespace, &rel.name).await else {
        return rel;
    };
    if lease.identity == h.identity() {
        if let Some(t) = lease.renewed {
            h.heartbeat = h.heartbeat.max(t);
            rel.extra
                .insert(HOLDER_KEY.into(), serde_json::to_value(h).unwrap_or_default());
        }
    }
    rel
}

/// Whether the run holding `rel` (a pending record) still lives, by the holder chartup recorded
/// (crate::recovery::holder): `None` when the record names none (helm's, or an older chartup's).
pub fn holder_liveness(rel: &Release) -> Option<(Holder, Liveness)> {
    let h = holder_of(rel)?;
    let l = liveness(&h, &Here::now(), proc_start_ticks, jiff::Timestamp::now());
    Some((h, l))
}

/// Release a lock left by a crashed run: the pending revision becomes `failed`, with an account
/// of what the interrupted run had done. Returns that account. A holder that provably still lives
/// is refused unless `force`: releasing its lock would let a second run alongside it. Its waits
/// (a claim to go or to bind, up to two minutes) and requests retried through an API outage beat
/// to `rep` at least every `every`, as a run's do.
pub async fn recover(
    cluster: &dyn Cluster,
    store: &dyn ReleaseStore,
    release: &str,
    force: bool,
    rep: &mut dyn Reporter,
    every: Duration,
) -> Result<(Release, Vec<String>), ApplyError> {
    let shared = SharedReporter::new(rep);
    let mut waits = shared.clone();
    let mut pulse = Pulse::to(&mut waits, every, release);
    with_retry_beats(
        shared,
        every,
        release,
        unlock(cluster, store, release, force, &mut pulse),
    )
    .await
}

async fn unlock(
    cluster: &dyn Cluster,
    store: &dyn ReleaseStore,
    release: &str,
    force: bool,
    pulse: &mut Pulse<'_>,
) -> Result<(Release, Vec<String>), ApplyError> {
    let ns = store.namespace();
    let history = store.history(release).await?;
    // No records at all: the one wording every command gives a missing release (helm's first).
    if history.revisions.is_empty() {
        return Err(ApplyError::Other(crate::helm_env::release_not_found(release, ns)));
    }
    let Some(holder) = history.lock_holder() else {
        return Err(ApplyError::Other(format!(
            "release {release} in namespace {ns} is not locked: nothing to recover"
        )));
    };
    let holder = with_lease_heartbeat(cluster, holder).await;
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
    done.extend(carry::recover(cluster, &mut rel, pulse).await?);
    done.extend(super::snapshot::recover(cluster, &mut rel).await?);
    done.extend(super::restore::recover(cluster, &mut rel, pulse).await?);
    journal(&mut rel, "recovered: lock released");
    store.update(&rel).await?;
    // The dead run's Lease too (any holder's with --force), so the next run need not judge it.
    let identity = holder_of(&holder).map(|h| h.identity()).unwrap_or_default();
    if crate::recovery::lease::clear(cluster, ns, release, &identity, force).await {
        done.push(format!(
            "recover: Lease {ns}/{} released",
            crate::recovery::lease::lease_name(release)
        ));
    }
    Ok((rel, done))
}
