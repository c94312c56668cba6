//! Helm's ConfigMap driver (`HELM_DRIVER=configmap`): one ConfigMap per revision, same name and
//! labels as the Secret driver, the payload in `data.release` (see [`crate::release::cfgmap`]).
//! Written like [`super::secrets`]: `create` for a new revision (a race loses with a conflict),
//! `replace` at the read `resourceVersion` for an update.

use serde_json::Value as Json;

use super::{ReleaseStore, Result, StoreError};
use crate::cluster::{BoxFut, Cluster, ClusterError, ObjRef};
use crate::release::cfgmap;
use crate::release::records::{self, History};
use crate::release::Release;

pub struct ConfigMapStore<'a> {
    cluster: &'a dyn Cluster,
    namespace: String,
}

impl<'a> ConfigMapStore<'a> {
    pub fn new(cluster: &'a dyn Cluster, namespace: &str) -> ConfigMapStore<'a> {
        ConfigMapStore {
            cluster,
            namespace: namespace.to_string(),
        }
    }

    fn cm_ref(&self, release: &str, revision: u32) -> ObjRef {
        ObjRef::new(
            "v1",
            "ConfigMap",
            &self.namespace,
            &records::secret_name(release, revision),
        )
    }

    async fn do_history(&self, release: &str) -> Result<History> {
        let list = self
            .cluster
            .list(
                "v1",
                "ConfigMap",
                &self.namespace,
                Some(&records::history_selector(release)),
            )
            .await
            .map_err(|e| match e {
                ClusterError::Api { source, .. } => ClusterError::Api {
                    what: format!("listing release records (ConfigMaps) of {release}"),
                    source,
                },
                other => other,
            })?;
        let mut revisions = Vec::new();
        for cm in &list {
            revisions.push(cfgmap::from_configmap(cm)?);
        }
        Ok(History::new(revisions))
    }

    async fn do_create(&self, rel: &Release) -> Result<()> {
        let now = jiff::Timestamp::now().as_second();
        let mut cm = cfgmap::to_configmap(rel, Some(now), None)?;
        cm["metadata"]["namespace"] = Json::String(self.namespace.clone());
        match self.cluster.create(&cm, false).await {
            Ok(_) => Ok(()),
            Err(e) if e.status_code() == Some(409) => Err(StoreError::Conflict {
                release: rel.name.clone(),
                revision: rel.version,
            }),
            Err(e) => Err(e.into()),
        }
    }

    async fn do_update(&self, rel: &Release) -> Result<()> {
        let live = self.cluster.get(&self.cm_ref(&rel.name, rel.version)).await?;
        // helm's Update sets modifiedAt only (createdAt is dropped: observed on helm 4.1.4).
        let now = jiff::Timestamp::now().as_second();
        let mut cm = cfgmap::to_configmap(rel, None, Some(now))?;
        cm["metadata"]["namespace"] = Json::String(self.namespace.clone());
        match live {
            Some(l) => {
                if let Some(rv) = l.pointer("/metadata/resourceVersion") {
                    cm["metadata"]["resourceVersion"] = rv.clone();
                }
                self.cluster.replace(&cm).await?;
            }
            None => {
                self.cluster.create(&cm, false).await?;
            }
        }
        Ok(())
    }
}

impl ReleaseStore for ConfigMapStore<'_> {
    fn namespace(&self) -> &str {
        &self.namespace
    }

    fn list(&self) -> BoxFut<'_, Result<Vec<Release>>> {
        Box::pin(async move {
            let list = self
                .cluster
                .list("v1", "ConfigMap", &self.namespace, Some("owner=helm"))
                .await?;
            let mut out = Vec::new();
            for cm in &list {
                out.push(cfgmap::from_configmap(cm)?);
            }
            out.sort_by(|a, b| (&a.name, a.version).cmp(&(&b.name, b.version)));
            Ok(out)
        })
    }

    fn history<'a>(&'a self, release: &'a str) -> BoxFut<'a, Result<History>> {
        Box::pin(self.do_history(release))
    }

    fn create<'a>(&'a self, rel: &'a Release) -> BoxFut<'a, Result<()>> {
        Box::pin(self.do_create(rel))
    }

    fn update<'a>(&'a self, rel: &'a Release) -> BoxFut<'a, Result<()>> {
        Box::pin(self.do_update(rel))
    }

    fn delete<'a>(&'a self, release: &'a str, revision: u32) -> BoxFut<'a, Result<()>> {
        Box::pin(async move {
            let r = self.cm_ref(release, revision);
            self.cluster
                .delete(&r, crate::cluster::Cascade::Background, false)
                .await?;
            Ok(())
        })
    }
}
