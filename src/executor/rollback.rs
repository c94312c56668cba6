//! Executing a rollback the operations layer planned (`crate::ops::rollback`): refused on a loss
//! verdict unless accepted, reported (volumes, the schema's down-migrations), then run like an
//! upgrade as a new revision `Rollback to N`.

use serde_json::json;

use super::error::ApplyError;
use super::hooks::split_hooks;
use super::options::ApplyOptions;
use super::progress::{Progress, Reporter};
use super::records::{close_failed, finish, locked, rollout_order, HELM_APPLY_METHOD};
use super::upgrade::run_upgrade;
use super::{carry, migrate, preflight};
use crate::analysis::Verdict;
use crate::cluster::Cluster;
use crate::manifest;
use crate::plan::saved::SavedPlan;
use crate::release::records::History;
use crate::release::{Info, Release, Status};
use crate::storage::ReleaseStore;

/// A rollback the operations layer planned: the revision that runs now, the one to go back to,
/// and the plan between them (from the current manifest to the target's, the target's hooks
/// among the documents; its rollout in the order the release was upgraded in).
pub struct RollbackPlan {
    pub history: History,
    pub current: Release,
    pub target: Release,
    pub saved: SavedPlan,
    /// The down-migrations to run and those that stay (see [`migrate::undo`]).
    pub undo: migrate::Undo,
}

/// Roll a release back as planned, as a new revision `Rollback to N`: refused on a loss verdict
/// unless accepted, executed in order and pod by pod like an upgrade.
pub async fn rollback(
    cluster: &dyn Cluster,
    store: &dyn ReleaseStore,
    rb: &RollbackPlan,
    opts: &ApplyOptions,
    rep: &mut dyn Reporter,
) -> Result<u32, ApplyError> {
    let (history, current, target, saved) = (&rb.history, &rb.current, &rb.target, &rb.saved);
    let release = saved.plan.release.name.as_str();
    let ns = saved.plan.release.namespace.as_str();
    if let Some(h) = history.lock_holder() {
        let h = super::recover::with_lease_heartbeat(cluster, h).await;
        return Err(locked(&h, ns));
    }
    let plan = &saved.plan;
    if plan.volumes.iter().any(|v| v.verdict == Verdict::Loss) && !opts.accept_data_loss {
        return Err(ApplyError::Refused(
            plan.volumes
                .iter()
                .filter(|v| v.verdict == Verdict::Loss)
                .map(|v| {
                    format!(
                        "rolling back loses volume {} of {}: {}",
                        v.volume, v.component, v.reason
                    )
                })
                .collect(),
        ));
    }
    rep.report(Progress::Step {
        step: format!(
            "rollback plan, revision {} → revision {}: {}",
            current.version,
            target.version,
            plan.summary.line()
        ),
    });
    for v in &plan.volumes {
        rep.report(Progress::Step {
            step: format!("  volume {}/{}: {} — {}", v.component, v.volume, v.verdict, v.reason),
        });
    }
    let undo = &rb.undo;
    let restores = plan.snapshots.as_ref().map(|s| s.restores.as_slice()).unwrap_or(&[]);
    if restores.is_empty() {
        report_undo(undo, target.version, rep);
    } else {
        // Issue 15: the data comes back from snapshots taken before the revisions undone.
        for l in plan.snapshots.iter().flat_map(|s| s.lines()) {
            rep.report(Progress::Step { step: format!("  {l}") });
        }
    }
    let revision = history.next_revision();
    let now = jiff::Timestamp::now();
    let (to_set, _) = split_hooks(&saved.manifests.to, ns)?;
    let from_set =
        manifest::parse_documents(saved.manifests.from.clone(), ns).map_err(|e| ApplyError::Other(e.to_string()))?;
    let mut rel = Release {
        name: release.into(),
        info: Info {
            first_deployed: current.info.first_deployed,
            last_deployed: Some(now),
            status: Status::PendingRollback,
            description: format!("Rollback to {}", target.version),
            ..Default::default()
        },
        chart: target.chart.clone(),
        config: target.config.clone(),
        manifest: target.manifest.clone(),
        hooks: target.hooks.clone(),
        version: revision,
        namespace: ns.into(),
        apply_method: HELM_APPLY_METHOD.into(),
        extra: Default::default(),
        // helm's rollback: the target revision's labels.
        labels: target.labels.clone(),
    };
    super::runner::hold(&mut rel, "rollback");
    // What the rollback was allowed to lose (or put at risk), and by whom, as for an upgrade.
    if let Some(a) = super::acceptance::of(plan, opts) {
        super::acceptance::record(&mut rel, &a);
    }
    // Helm 4 keeps the rollback's target in `info.rollback_revision` (`helm history` shows it).
    rel.info.extra.insert("rollback_revision".into(), json!(target.version));
    if let Some(order) = rollout_order(current).or_else(|| rollout_order(target)) {
        rel.extra.insert("chartup_order".into(), json!(order));
    }
    carry::preflight(cluster, saved).await?;
    super::snapshot::preflight(cluster, saved).await?;
    preflight::check(cluster, saved, &from_set, &to_set, "rollback", opts, rep).await?;
    migrate::carry_schema(&history.revisions, &mut rel);
    if !restores.is_empty() {
        // The restored data is the target's: so is its schema (no down-migration runs).
        migrate::set_schema(&mut rel, &migrate::schema_at(&history.revisions, target.version));
    }
    if !undo.run.is_empty() {
        rel.extra.insert(migrate::UNDO.into(), json!(undo.run));
    }
    // The Lease before the first write (crate::recovery::lease), released when the run ends.
    let lease = super::runner::take_lease(cluster, &rel, rep).await?;
    crate::recovery::lease::holding(cluster, lease, async move {
        for old in history.prune_before_create(opts.history_max) {
            store.delete(release, old).await?;
        }
        store.create(&rel).await?;
        // Requests retry within their step's time and beat while they do (runner::run_upgrade).
        let result = run_upgrade(
            cluster, store, &mut rel, rep, opts, saved, &from_set, &to_set, "rollback",
        )
        .await;
        match result {
            Ok(()) => {
                let desc = format!("Rollback to {}", target.version);
                finish(store, history, &mut rel, Status::Deployed, &desc).await?;
                Ok(revision)
            }
            Err(e) => Err(close_failed(store, history, &mut rel, revision, format!("RollbackFailed: {e}")).await),
        }
    })
    .await
}

/// Say what a rollback does to the schema, before it starts.
pub(super) fn report_undo(undo: &migrate::Undo, target: u32, rep: &mut dyn Reporter) {
    for a in &undo.run {
        let down = a.down.as_ref().map(|d| d.file.as_str()).unwrap_or("");
        rep.report(Progress::Step {
            step: format!(
                "  down-migration {down}: undoes {} ({} → {}), before the workloads roll back",
                a.file, a.to, a.from
            ),
        });
    }
    rep.report(Progress::Warning {
        message: if undo.run.is_empty() {
            "rollback restores manifests only: volumes and database schemas are not rolled back".into()
        } else {
            "rollback restores manifests and runs the down-migrations above: volumes are not rolled back".into()
        },
    });
    if let Some((first, older)) = undo.kept.split_first() {
        let mut message = format!(
            "the schema is not rolled back past migration {} ({} → {}): the matrix gave it no down script",
            first.file, first.from, first.to
        );
        if !older.is_empty() {
            let files: Vec<&str> = older.iter().map(|a| a.file.as_str()).collect();
            message.push_str(&format!("; the older migrations {} stay applied too", files.join(", ")));
        }
        rep.report(Progress::Warning { message });
    }
    if !undo.missing.is_empty() {
        let files: Vec<&str> = undo.missing.iter().map(|a| a.file.as_str()).collect();
        rep.report(Progress::Warning {
            message: format!(
                "revision {target} ran migrations {} that a later rollback undid; a rollback does not run up \
                 scripts: upgrade again to apply them",
                files.join(", ")
            ),
        });
    }
}
