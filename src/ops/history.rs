//! `chartup history`: a release's revisions, as Helm's records keep them.

use serde::Serialize;

use super::{Error, Result};
use crate::release::Release;
use crate::storage::ReleaseStore;

/// One revision as `helm history -o json` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryRow {
    pub revision: u32,
    pub updated: String,
    pub status: String,
    pub chart: String,
    pub app_version: String,
    pub description: String,
    /// chartup's addition (absent from helm's rows): what the run accepted at risk or lost.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accepted: Option<crate::executor::acceptance::Acceptance>,
}

impl HistoryRow {
    pub fn of(r: &Release) -> HistoryRow {
        HistoryRow {
            revision: r.version,
            updated: r.info.last_deployed.map(|t| t.to_string()).unwrap_or_default(),
            status: r.status().to_string(),
            chart: r.chart_label(),
            app_version: r.chart.app_version().to_string(),
            description: r.info.description.clone(),
            accepted: crate::executor::acceptance::recorded(r),
        }
    }
}

/// The newest `max` revisions of `release`, oldest first. No revision at all is an error, as
/// with helm.
pub async fn history(store: &dyn ReleaseStore, release: &str, max: usize) -> Result<Vec<Release>> {
    let h = store.history(release).await?;
    if h.revisions.is_empty() {
        return Err(Error::Invalid(crate::helm_env::release_not_found(
            release,
            store.namespace(),
        )));
    }
    let skip = h.revisions.len().saturating_sub(max);
    Ok(h.revisions.into_iter().skip(skip).collect())
}
