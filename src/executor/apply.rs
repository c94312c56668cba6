//! Applying a reviewed plan: refuse before touching anything (the plan's refusals, staleness, live
//! changes since planning, the carries' and every write's dry run), take the lock by writing the
//! `pending-*` revision, run the upgrade, close the record.

use std::collections::BTreeMap;

use serde_json::{json, Value as Json};

use super::error::ApplyError;
use super::hooks::{release_hooks, split_hooks};
use super::objects::manifest_text;
use super::options::ApplyOptions;
use super::progress::{Progress, Reporter};
use super::records::{chart_record, close_failed, finish, locked, HELM_APPLY_METHOD};
use super::refusals::{refusals, staleness};
use super::upgrade::run_upgrade;
use super::{carry, live, migrate, preflight};
use crate::cluster::Cluster;
use crate::manifest;
use crate::plan::saved::SavedPlan;
use crate::release::records::SYSTEM_LABELS;
use crate::release::{Info, Release, Status};
use crate::storage::{ReleaseStore, StoreError};

/// Apply a reviewed plan. Returns the new revision. On failure the revision is marked failed and
/// the error says so ([`ApplyError::Failed`]); rolling back (`--atomic`) is the caller's next
/// operation.
pub async fn apply(
    cluster: &dyn Cluster,
    store: &dyn ReleaseStore,
    saved: &SavedPlan,
    opts: &ApplyOptions,
    rep: &mut dyn Reporter,
) -> Result<u32, ApplyError> {
    let release = saved.plan.release.name.clone();
    let ns = saved.plan.release.namespace.clone();
    let refused = refusals(saved, opts);
    if !refused.is_empty() {
        return Err(ApplyError::Refused(refused));
    }
    // The records and the live objects at once (two reads; one after the other they were two
    // round trips before the first write, issue 16).
    let live_now = async {
        if saved.live_versions.is_empty() {
            return Ok(Vec::new());
        }
        let sets = [
            &live::set_of(&saved.manifests.from, &ns),
            &live::set_of(&saved.manifests.to, &ns),
        ];
        live::changed_since(cluster, &saved.live_versions, &sets).await
    };
    let (history, changed) = futures::join!(store.history(&release), live_now);
    let history = history?;
    if let Some(h) = history.lock_holder() {
        // Its Lease's heartbeat says best whether a run elsewhere is alive.
        let h = super::recover::with_lease_heartbeat(cluster, h).await;
        return Err(locked(&h, &ns));
    }
    if let Some(why) = staleness(saved, &history) {
        return Err(ApplyError::Stale(why));
    }
    if !saved.live_versions.is_empty() {
        // A run of this very plan that crashed and was recovered changed objects itself: resuming
        // it is what `recover` is for, so its own changes do not make the plan stale.
        let resumed = history.revisions.iter().any(|r| {
            r.status() == Status::Failed
                && r.extra.get("chartup_plan").and_then(Json::as_str) == Some(&saved.fingerprint)
        });
        let changed = changed?;
        if !changed.is_empty() {
            if resumed {
                rep.report(Progress::Warning {
                    message: format!(
                        "resuming plan {} after a recovered run: {} object(s) changed since planning, by that run",
                        saved.fingerprint,
                        changed.len()
                    ),
                });
            } else {
                return Err(ApplyError::Stale(format!(
                    "live objects changed since planning:\n    {}",
                    changed.join("\n    ")
                )));
            }
        }
    }
    if opts.labels.keys().any(|k| SYSTEM_LABELS.contains(&k.as_str())) {
        // helm's words (pkg/action/upgrade.go), with its `%+v` of the list.
        return Err(ApplyError::Other(format!(
            "user supplied labels contains system reserved label name. System labels: [{}]",
            SYSTEM_LABELS.join(" ")
        )));
    }
    // Objects of the release deleted by hand, and a failed run since the baseline that left
    // objects partly applied: the plan calls them unchanged, yet they must be applied
    // (`missing_live`, `after_a_failed_run`).
    let repaired;
    let saved = match missing_live(saved) {
        Some((again, warning)) => {
            rep.report(Progress::Warning { message: warning });
            repaired = again;
            &repaired
        }
        None => saved,
    };
    let repaired_again;
    let saved = match after_a_failed_run(saved, &history) {
        Some((again, warning)) => {
            rep.report(Progress::Warning { message: warning });
            repaired_again = again;
            &repaired_again
        }
        None => saved,
    };
    carry::preflight(cluster, saved).await?;
    super::snapshot::preflight(cluster, saved).await?;
    let (to_set, to_plain) = split_hooks(&saved.manifests.to, &ns)?;
    let from_set =
        manifest::parse_documents(saved.manifests.from.clone(), &ns).map_err(|e| ApplyError::Other(e.to_string()))?;
    let installing = history.baseline().is_none();
    // Every write is dry-run before the first one (record pruning, the pending record): preflight.rs.
    let event = if installing { "install" } else { "upgrade" };
    preflight::check(cluster, saved, &from_set, &to_set, event, opts, rep).await?;
    let revision = history.next_revision();
    let now = jiff::Timestamp::now();
    let mut rel = Release {
        name: release.clone(),
        info: Info {
            first_deployed: history
                .revisions
                .first()
                .and_then(|r| r.info.first_deployed)
                .or(Some(now)),
            last_deployed: Some(now),
            status: if installing {
                Status::PendingInstall
            } else {
                Status::PendingUpgrade
            },
            description: format!("chartup apply by {} in progress", opts.actor),
            ..Default::default()
        },
        chart: chart_record(saved),
        // Helm writes `{}` when no values were given.
        config: saved.config.clone().unwrap_or_else(|| json!({})),
        manifest: manifest_text(&to_plain),
        hooks: release_hooks(&to_set, &saved.manifests.to),
        version: revision,
        namespace: ns.clone(),
        apply_method: HELM_APPLY_METHOD.into(),
        extra: Default::default(),
        labels: merge_labels(history.last().map(|r| &r.labels), &opts.labels),
    };
    super::runner::hold(&mut rel, "apply");
    rel.extra.insert("chartup_plan".into(), json!(saved.fingerprint));
    if let Some(a) = super::acceptance::of(&saved.plan, opts) {
        super::acceptance::record(&mut rel, &a);
    }
    migrate::carry_schema(&history.revisions, &mut rel);
    if !saved.plan.rollout.is_empty() {
        // The matrix's component order, so a later rollback (which has no matrix) keeps it; only
        // the components the matrix orders, so the others roll back in parallel (schedule.rs).
        let ordered = saved.plan.matrix.as_ref().map(|m| m.order.as_slice()).unwrap_or(&[]);
        let order: Vec<&str> = saved
            .plan
            .rollout
            .iter()
            .map(|s| s.component.as_str())
            .filter(|c| ordered.iter().any(|o| o == c))
            .collect();
        if !order.is_empty() {
            rel.extra.insert("chartup_order".into(), json!(order));
        }
    }
    // The Lease before the first write (crate::recovery::lease); renewed beside the run and
    // released when it ends, however it ends.
    let lease = super::runner::take_lease(cluster, &rel, rep).await?;
    crate::recovery::lease::holding(cluster, lease, async move {
        for old in history.prune_before_create(opts.history_max) {
            store.delete(&release, old).await?;
        }
        match store.create(&rel).await {
            Ok(()) => {}
            Err(StoreError::Conflict { .. }) => {
                let h = store.history(&release).await?;
                return Err(h.lock_holder().map(|r| locked(r, &ns)).unwrap_or_else(|| {
                    ApplyError::Stale(format!(
                        "revision {revision} was written by another operation meanwhile"
                    ))
                }));
            }
            Err(e) => return Err(e.into()),
        }
        // An install over `uninstall --keep-history`: helm's install (`replaceRelease`) marks
        // the uninstalled record superseded as it records the new one.
        if let Some(gone) = history
            .last()
            .filter(|r| installing && r.status() == Status::Uninstalled)
        {
            let mut gone = gone.clone();
            gone.info.status = Status::Superseded;
            gone.info.description = super::records::REPLACED.into();
            // Not worth failing over: the new record is written and holds the lock, and an error
            // here would leave it pending (locked until `recover`) with nothing applied.
            if let Err(e) = store.update(&gone).await {
                rep.report(Progress::Warning {
                    message: format!(
                        "could not mark the uninstalled revision {} superseded: {e}",
                        gone.version
                    ),
                });
            }
        }

        // Requests retry within their step's time and beat while they do (runner::run_upgrade).
        let result = run_upgrade(cluster, store, &mut rel, rep, opts, saved, &from_set, &to_set, event).await;
        match result {
            Ok(()) => {
                let desc = match &opts.description {
                    Some(d) if !d.is_empty() => d.as_str(),
                    _ if installing => "Install complete",
                    _ => "Upgrade complete",
                };
                finish(store, &history, &mut rel, Status::Deployed, desc).await?;
                Ok(revision)
            }
            // Never left pending if the server lets us say it failed (super::records::close_failed).
            Err(e) => Err(close_failed(store, &history, &mut rel, revision, format!("UpgradeFailed: {e}")).await),
        }
    })
    .await
}

/// helm's `mergeCustomLabels`: the newest revision's labels with the given ones over them; a
/// label given as `null` is removed.
pub fn merge_labels(
    current: Option<&BTreeMap<String, String>>,
    given: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut out = current.cloned().unwrap_or_default();
    out.extend(given.iter().map(|(k, v)| (k.clone(), v.clone())));
    out.retain(|_, v| v != "null");
    out
}

/// When the newest record is a failed run (an upgrade that failed or was interrupted, a failed
/// install, a run `recover` closed), the live objects may be anywhere between the baseline and
/// that run's manifest: the plan, made against the baseline, calls an object unchanged although
/// the failed run changed it live (a StatefulSet left on the failed template, a Deployment on a
/// broken image), and skipping it would record `deployed` over it. helm's three-way merge puts
/// such fields back on every upgrade; here every object the plan leaves unchanged is applied
/// again (a no-op where the failed run never got to) and every workload is health-gated. Returns
/// the plan to execute so, and the warning that says it.
fn after_a_failed_run(saved: &SavedPlan, history: &crate::release::records::History) -> Option<(SavedPlan, String)> {
    let failed = history.last().filter(|r| r.status() == Status::Failed)?;
    let unchanged = saved
        .plan
        .changes
        .iter()
        .filter(|c| c.action == crate::diff::Action::Unchanged)
        .count();
    if unchanged == 0 {
        return None;
    }
    let mut again = saved.clone();
    for c in again.plan.changes.iter_mut() {
        if c.action == crate::diff::Action::Unchanged {
            c.action = crate::diff::Action::Change;
        }
    }
    let warning = format!(
        "revision {} failed and may have changed objects live: the {unchanged} object(s) this plan leaves \
         unchanged are applied again and their workloads checked",
        failed.version
    );
    Some((again, warning))
}

/// Objects the plan leaves unchanged that were missing from the cluster when it was made (the
/// saved live version `absent`; the staleness check has just confirmed they still are): someone
/// deleted them by hand. helm's upgrade creates what is missing; so does this run, as additions.
/// Returns the plan to execute so, and the warning that says it.
fn missing_live(saved: &SavedPlan) -> Option<(SavedPlan, String)> {
    let missing = |c: &crate::diff::ObjectChange| {
        c.action == crate::diff::Action::Unchanged
            && saved.live_versions.get(&c.key.to_string()).map(String::as_str) == Some("absent")
    };
    let names: Vec<String> = saved
        .plan
        .changes
        .iter()
        .filter(|c| missing(c))
        .map(|c| c.key.to_string())
        .collect();
    if names.is_empty() {
        return None;
    }
    let mut again = saved.clone();
    for c in again.plan.changes.iter_mut() {
        if names.contains(&c.key.to_string()) {
            c.action = crate::diff::Action::Add;
        }
    }
    let warning = format!(
        "{} object(s) of the release are missing from the cluster (deleted by hand?): created again: {}",
        names.len(),
        names.join(", ")
    );
    Some((again, warning))
}
