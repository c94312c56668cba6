//! `--create-namespace`: the release's namespace, created when it does not exist (as helm's
//! install does). An existing namespace is left as it is.

use super::Result;
use crate::cluster::{Cluster, ObjRef};

/// Create `namespace` unless it exists; true when it was created.
pub async fn ensure(cluster: &dyn Cluster, namespace: &str) -> Result<bool> {
    if cluster
        .get(&ObjRef::new("v1", "Namespace", "", namespace))
        .await?
        .is_some()
    {
        return Ok(false);
    }
    let ns = serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}});
    match cluster.create(&ns, false).await {
        Ok(_) => Ok(true),
        Err(e) if e.status_code() == Some(409) => Ok(false),
        Err(e) => Err(e.into()),
    }
}
