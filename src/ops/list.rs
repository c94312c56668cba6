//! `chartup list`: the releases of a namespace (or of all, `-A`), read from the records of the
//! driver in use and selected as helm selects them ([`crate::release::list`]).

use super::Result;
use crate::cluster::Cluster;
use crate::helm_env::Driver;
use crate::release::list::{select, ListFilter};
use crate::release::{cfgmap, records, Release};

/// Every release record under `driver` in `namespace` (all namespaces when empty), with an
/// optional extra label selector (`-l`). A record that cannot be decoded is skipped, as helm does.
pub async fn records_in(
    cluster: &dyn Cluster,
    driver: Driver,
    namespace: &str,
    selector: Option<&str>,
) -> Result<Vec<Release>> {
    let Some(kind) = driver.kind() else {
        return Ok(Vec::new());
    };
    let sel = match selector.filter(|s| !s.trim().is_empty()) {
        Some(s) => format!("owner=helm,{s}"),
        None => "owner=helm".to_string(),
    };
    let items = cluster.list("v1", kind, namespace, Some(&sel)).await?;
    Ok(items
        .iter()
        .filter_map(|o| match driver {
            Driver::ConfigMap => cfgmap::from_configmap(o).ok(),
            _ => records::from_secret(o).ok(),
        })
        .collect())
}

/// `helm list`: the selected releases, in helm's order.
pub async fn list(
    cluster: &dyn Cluster,
    driver: Driver,
    namespace: &str,
    selector: Option<&str>,
    filter: &ListFilter,
) -> Result<Vec<Release>> {
    let all = records_in(cluster, driver, namespace, selector).await?;
    Ok(select(all, filter)?)
}
