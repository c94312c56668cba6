//! The release records a run writes, as Helm writes them: the chart, the lock (a `pending-*`
//! revision), closing it (deployed or failed) and superseding the revision it replaces.

use serde_json::json;

use super::error::ApplyError;
use super::journal::journal;
use crate::plan::saved::SavedPlan;
use crate::release::records::History;
use crate::release::{ChartRecord, Release, Status};
use crate::storage::ReleaseStore;

/// `apply_method` written into chartup's records: `csa`, although chartup itself applies
/// server-side. Helm 4 applies the next upgrade or rollback the way the record says, and with
/// `ssa` it would apply under its own field manager without forcing conflicts, so every field
/// chartup owns would conflict (seen with helm 4.1 against chartup's records); with `csa` it does
/// a three-way merge patch, which works whoever owns the fields. Helm 3 ignores the field.
pub const HELM_APPLY_METHOD: &str = "csa";

pub(super) fn chart_record(saved: &SavedPlan) -> ChartRecord {
    if let Some(c) = saved
        .chart
        .as_ref()
        .and_then(|c| serde_json::from_value::<ChartRecord>(c.clone()).ok())
    {
        return c;
    }
    let mut c = ChartRecord::default();
    if let Some(ch) = &saved.plan.to.chart {
        c.metadata.insert("name".into(), json!(ch.name));
        c.metadata.insert("version".into(), json!(ch.version));
        if let Some(a) = &ch.app_version {
            c.metadata.insert("appVersion".into(), json!(a));
        }
        c.metadata.insert("apiVersion".into(), json!("v2"));
    }
    c
}

/// helm's description of an uninstalled record an install replaced (pkg/action/install.go
/// `replaceRelease`).
pub const REPLACED: &str = "superseded by new release";

/// The error for a release whose lock `h` holds.
pub fn locked(h: &Release, ns: &str) -> ApplyError {
    ApplyError::Locked {
        release: h.name.clone(),
        namespace: ns.to_string(),
        revision: h.version,
        status: h.status(),
        since: h
            .info
            .last_deployed
            .map(|t| t.to_string())
            .unwrap_or_else(|| "an unknown time".into()),
        description: match super::recover::holder_liveness(h) {
            // The record says "in progress" whatever became of its run: say which it is.
            Some((_, crate::recovery::holder::Liveness::Dead(why))) => {
                format!("{}; that run is gone ({why})", h.info.description)
            }
            Some((_, crate::recovery::holder::Liveness::Alive(why))) => {
                format!("{} ({why})", h.info.description)
            }
            None => h.info.description.clone(),
        },
    }
}

/// The first line of `text`, at most 200 characters (longer ends in `…`).
fn short_description(text: &str) -> String {
    let line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
    match line.char_indices().nth(200) {
        Some((i, _)) => format!("{}…", &line[..i]),
        None => line.to_string(),
    }
}

/// Close the pending record and supersede the revision it replaces.
pub(super) async fn finish(
    store: &dyn ReleaseStore,
    history: &History,
    rel: &mut Release,
    status: Status,
    description: &str,
) -> Result<(), ApplyError> {
    rel.info.status = status;
    // `helm history` prints the description in a table column: one short line.
    rel.info.description = short_description(description);
    // Writes settled after the last step (crate::recovery::retrying) are part of the account.
    for n in crate::recovery::retrying::take_notes() {
        journal(rel, n);
    }
    journal(rel, format!("finished: {description}"));
    store.update(rel).await?;
    if status == Status::Deployed {
        for old in history
            .revisions
            .iter()
            .filter(|r| r.status() == Status::Deployed && r.version != rel.version)
        {
            let mut o = old.clone();
            o.info.status = Status::Superseded;
            store.update(&o).await?;
        }
    }
    Ok(())
}

/// Close a run that failed with `message` (`UpgradeFailed: …`, `RollbackFailed: …`): mark its
/// revision failed — never leave it pending if the server lets us — trying for at most
/// [`CLOSING_BUDGET`](crate::recovery::retrying::CLOSING_BUDGET), as the step's own time is spent
/// by then. If even that cannot be written (the API is gone), the error says the release stays
/// locked and names `chartup recover`. Returns the run's error either way.
pub(super) async fn close_failed(
    store: &dyn ReleaseStore,
    history: &History,
    rel: &mut Release,
    revision: u32,
    message: String,
) -> ApplyError {
    use crate::recovery::retrying::{with_deadline, CLOSING, CLOSING_BUDGET};
    let until = std::time::Instant::now() + CLOSING_BUDGET;
    match with_deadline(until, CLOSING, finish(store, history, rel, Status::Failed, &message)).await {
        Ok(()) => ApplyError::Failed {
            revision,
            message,
            rollback: None,
            uninstalled: None,
        },
        Err(fe) => ApplyError::Other(format!(
            "{message}\n  and the revision could not be marked failed ({fe}): release {} stays locked; when the API \
             server answers again, run `chartup recover {} -n {}`",
            rel.name, rel.name, rel.namespace
        )),
    }
}

/// The component order a chartup revision recorded (`chartup_order`), if any.
pub fn rollout_order(r: &Release) -> Option<Vec<String>> {
    let order: Vec<String> = r
        .extra
        .get("chartup_order")?
        .as_array()?
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    (!order.is_empty()).then_some(order)
}
