//! Roll a release back (`chartup rollback`, and `--atomic`): plan it here — from what the cluster
//! was last given to the target revision's manifest, with the cluster's reclaim policies, in the
//! order the release was upgraded in, and the schema's down-migrations from the records — then
//! let the executor run it ([`crate::executor::rollback`]).

use super::cluster_plan::cluster_reclaim_policies;
use crate::cluster::Cluster;
use crate::diff::component_name;
use crate::executor::{self, migrate, ApplyError, ApplyOptions, Reporter, RollbackPlan};
use crate::manifest::{self, Document};
use crate::plan::saved::SavedPlan;
use crate::plan::{self, PlanOptions, ReleaseSide};
use crate::release::Status;
use crate::storage::ReleaseStore;

/// Plan the rollback of `release` to `revision` (default: the previous deployed one).
pub async fn plan_rollback(
    cluster: &dyn Cluster,
    store: &dyn ReleaseStore,
    release: &str,
    revision: Option<u32>,
) -> Result<RollbackPlan, ApplyError> {
    plan_rollback_with(cluster, store, release, revision, false).await
}

/// [`plan_rollback`], with `restore_data` (`--restore-data`, issue 15): the claims snapshotted by
/// the revisions undone are restored from those snapshots (and the down-migrations, which the
/// restored data predates, are not run).
pub async fn plan_rollback_with(
    cluster: &dyn Cluster,
    store: &dyn ReleaseStore,
    release: &str,
    revision: Option<u32>,
    restore_data: bool,
) -> Result<RollbackPlan, ApplyError> {
    let ns = store.namespace();
    let history = store.history(release).await?;
    if history.revisions.is_empty() {
        return Err(ApplyError::Other(crate::helm_env::release_not_found(release, ns)));
    }
    if let Some(h) = history.lock_holder() {
        // Its Lease's heartbeat says best whether a run elsewhere is alive (as apply's refusal).
        let h = executor::recover::with_lease_heartbeat(cluster, h).await;
        return Err(executor::locked(&h, ns));
    }
    let current = history
        .last()
        .cloned()
        .ok_or_else(|| ApplyError::Other("no revisions".into()))?;
    let target = match revision {
        Some(r) => history
            .get(r)
            .cloned()
            .ok_or_else(|| ApplyError::Other(format!("release {release} has no revision {r}")))?,
        None => history
            .revisions
            .iter()
            .rev()
            .find(|r| r.version < current.version && matches!(r.status(), Status::Superseded | Status::Deployed))
            .cloned()
            .ok_or_else(|| ApplyError::Other(format!("release {release} has no earlier revision to roll back to")))?,
    };
    // From what the cluster was last given (a failed revision's manifest was partly applied), as Helm does;
    // nothing when the release was uninstalled with --keep-history: its objects are gone, and
    // every object of the target is created again (helm's rollback creates what is missing).
    let given = if current.status() == Status::Uninstalled {
        ""
    } else {
        current.manifest.as_str()
    };
    let from_docs = manifest::split_documents(given);
    let to_docs = manifest::split_documents(&target.manifest);
    let old = ReleaseSide::new(&format!("revision {}", current.version), from_docs, ns)
        .map_err(|e| ApplyError::Other(e.to_string()))?;
    let new = ReleaseSide::new(&format!("revision {}", target.version), to_docs, ns)
        .map_err(|e| ApplyError::Other(e.to_string()))?;
    let mut popts = PlanOptions {
        release: release.into(),
        namespace: ns.into(),
        // An upgrade that carried volumes to renamed claims is rolled back by carrying them back:
        // otherwise the old claim names would come back empty while the data sits unmounted.
        carry_volumes: current.extra.contains_key("chartup_carry"),
        ..Default::default()
    };
    // The volume verdicts need the cluster's reclaim policies, as `plan RELEASE CHART` reads them.
    let mut forbidden: Vec<String> = cluster_reclaim_policies(cluster, &mut popts.reclaim)
        .await?
        .into_iter()
        .collect();
    forbidden.extend(super::cluster_plan::cluster_volume_policies(cluster, ns, &mut popts.reclaim).await?);
    let mut plan = plan::build(&old, &new, None, &popts);
    plan.warnings.extend(forbidden);
    // Roll back in the order the release was upgraded in (recorded from the matrix).
    if let Some(order) = executor::rollout_order(&current).or_else(|| executor::rollout_order(&target)) {
        plan.rollout = order
            .iter()
            .map(|comp| plan::RolloutStep {
                component: comp.clone(),
                objects: new
                    .objects
                    .objects
                    .iter()
                    .filter(|o| !executor::is_hook(o) && o.is_workload() && component_name(o) == *comp)
                    .map(|o| o.key.to_string())
                    .collect(),
            })
            .filter(|s| !s.objects.is_empty())
            .collect();
    }
    // The schema: what the records say was migrated since the target, undone newest first.
    let mut undo = migrate::undo(
        &migrate::current_schema(&history.revisions),
        &migrate::schema_at(&history.revisions, target.version),
    );
    if restore_data {
        let restores = super::snapshots::restores(cluster, &history.revisions, target.version, current.version)
            .await
            .map_err(|e| ApplyError::Refused(vec![e]))?;
        plan.snapshots = Some(super::snapshots::restore_plan(restores));
        if !undo.run.is_empty() {
            let files: Vec<&str> = undo.run.iter().map(|a| a.file.as_str()).collect();
            plan.warnings.push(format!(
                "down-migrations {} are not run: the data is restored from snapshots taken before them",
                files.join(", ")
            ));
        }
        undo = migrate::Undo::default();
    }
    let mut saved = SavedPlan::new(plan, &old, &new).map_err(ApplyError::Other)?;
    // The target's hooks (its pre-/post-rollback hooks run, as Helm runs them).
    saved.manifests.to.extend(target.hooks.iter().map(|h| Document {
        source: h.path.clone(),
        text: format!("# Source: {}\n{}\n", h.path, h.manifest.trim_end()),
    }));
    saved.plan.base_revision = history.baseline().map(|r| u64::from(r.version));
    saved.manifests.from = manifest::split_documents(given);
    Ok(RollbackPlan {
        history,
        current,
        target,
        saved,
        undo,
    })
}

/// Plan and run the rollback of `release` to `revision` (default: the previous deployed one).
/// Returns the new revision.
pub async fn rollback(
    cluster: &dyn Cluster,
    store: &dyn ReleaseStore,
    release: &str,
    revision: Option<u32>,
    opts: &ApplyOptions,
    rep: &mut dyn Reporter,
) -> Result<u32, ApplyError> {
    rollback_with(cluster, store, release, revision, false, opts, rep).await
}

/// [`rollback`], restoring the data from snapshots with `restore_data` (`--restore-data`).
pub async fn rollback_with(
    cluster: &dyn Cluster,
    store: &dyn ReleaseStore,
    release: &str,
    revision: Option<u32>,
    restore_data: bool,
    opts: &ApplyOptions,
    rep: &mut dyn Reporter,
) -> Result<u32, ApplyError> {
    let planned = plan_rollback_with(cluster, store, release, revision, restore_data).await?;
    executor::rollback(cluster, store, &planned, opts, rep).await
}
