//! Which store a command uses (`HELM_DRIVER`, [`crate::helm_env::Driver`]) and the guard issue
//! #18 asked for: a release whose records are under another driver than the one in use is
//! refused, never installed a second time beside them (two diverging histories).

use super::{ConfigMapStore, MemoryStore, ReleaseStore, SecretStore, StoreError};
use crate::cluster::Cluster;
use crate::helm_env::{other_driver_refusal, Driver};
use crate::release::records;

/// The store of `driver` for `namespace`.
pub fn open<'a>(driver: Driver, cluster: &'a dyn Cluster, namespace: &str) -> Box<dyn ReleaseStore + 'a> {
    match driver {
        Driver::Secret => Box::new(SecretStore::new(cluster, namespace)),
        Driver::ConfigMap => Box::new(ConfigMapStore::new(cluster, namespace)),
        Driver::Memory => Box::new(MemoryStore::new(namespace)),
    }
}

/// Refuse when `release` has records under a cluster driver other than `driver` in `namespace`.
pub async fn check_other_drivers(
    driver: Driver,
    cluster: &dyn Cluster,
    namespace: &str,
    release: &str,
) -> Result<(), String> {
    for other in [Driver::Secret, Driver::ConfigMap] {
        if other == driver {
            continue;
        }
        let kind = other.kind().unwrap_or_default();
        let found = cluster
            .list("v1", kind, namespace, Some(&records::history_selector(release)))
            .await
            .map_err(|e| StoreError::from(e).to_string())?;
        if !found.is_empty() {
            return Err(other_driver_refusal(release, namespace, driver, other));
        }
    }
    Ok(())
}

/// [`open`] for `HELM_DRIVER`, after [`check_other_drivers`] for `release`.
pub async fn for_release<'a>(
    cluster: &'a dyn Cluster,
    namespace: &str,
    release: &str,
) -> Result<Box<dyn ReleaseStore + 'a>, String> {
    let driver = Driver::from_env()?;
    check_other_drivers(driver, cluster, namespace, release).await?;
    Ok(open(driver, cluster, namespace))
}
