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
        description: h.info.description.clone(),
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
    rel.info.description = description.to_string();
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
