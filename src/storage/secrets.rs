//! Helm's Secret driver: one Secret per revision (`sh.helm.release.v1.<name>.v<revision>`, see
//! [`crate::release::records`]), read and written through the cluster seam.
//!
//! Creation uses `create`, never apply: two writers racing for the same revision collide on the
//! Secret name and the loser gets a conflict instead of overwriting — the same guard Helm has.
//! An update replaces the Secret at the `resourceVersion` it read, keeping its `createdAt` label.

use serde_json::Value as Json;

use super::{ReleaseStore, Result, StoreError};
use crate::cluster::{BoxFut, Cluster, ClusterError, ObjRef};
use crate::release::records::{self, History};
use crate::release::Release;

/// One namespace's release records, as Secrets.
pub struct SecretStore<'a> {
    cluster: &'a dyn Cluster,
    namespace: String,
}

impl<'a> SecretStore<'a> {
    pub fn new(cluster: &'a dyn Cluster, namespace: &str) -> SecretStore<'a> {
        SecretStore {
            cluster,
            namespace: namespace.to_string(),
        }
    }

    fn secret_ref(&self, release: &str, revision: u32) -> ObjRef {
        ObjRef::new(
            "v1",
            "Secret",
            &self.namespace,
            &records::secret_name(release, revision),
        )
    }

    async fn do_history(&self, release: &str) -> Result<History> {
        let list = self
            .cluster
            .list(
                "v1",
                "Secret",
                &self.namespace,
                Some(&records::history_selector(release)),
            )
            .await
            .map_err(|e| match e {
                ClusterError::Api { source, .. } => ClusterError::Api {
                    what: format!("listing release records of {release}"),
                    source,
                },
                other => other,
            })?;
        let mut revisions = Vec::new();
        for s in &list {
            revisions.push(records::from_secret(s)?);
        }
        Ok(History::new(revisions))
    }

    async fn do_create(&self, rel: &Release) -> Result<()> {
        let now = jiff::Timestamp::now().as_second();
        let mut secret = records::to_secret(rel, Some(now), None)?;
        secret["metadata"]["namespace"] = Json::String(self.namespace.clone());
        match self.cluster.create(&secret, false).await {
            Ok(_) => Ok(()),
            Err(e) if e.status_code() == Some(409) => Err(StoreError::Conflict {
                release: rel.name.clone(),
                revision: rel.version,
            }),
            Err(e) => Err(e.into()),
        }
    }

    async fn do_update(&self, rel: &Release) -> Result<()> {
        let live = self.cluster.get(&self.secret_ref(&rel.name, rel.version)).await?;
        let created = live
            .as_ref()
            .and_then(|s| s.pointer("/metadata/labels/createdAt"))
            .and_then(Json::as_str)
            .and_then(|v| v.parse::<i64>().ok());
        let now = jiff::Timestamp::now().as_second();
        let mut secret = records::to_secret(rel, created, Some(now))?;
        secret["metadata"]["namespace"] = Json::String(self.namespace.clone());
        match live {
            Some(l) => {
                if let Some(rv) = l.pointer("/metadata/resourceVersion") {
                    secret["metadata"]["resourceVersion"] = rv.clone();
                }
                self.cluster.replace(&secret).await?;
            }
            None => {
                self.cluster.create(&secret, false).await?;
            }
        }
        Ok(())
    }
}

impl ReleaseStore for SecretStore<'_> {
    fn namespace(&self) -> &str {
        &self.namespace
    }

    fn list(&self) -> BoxFut<'_, Result<Vec<Release>>> {
        Box::pin(async move {
            let list = self
                .cluster
                .list("v1", "Secret", &self.namespace, Some("owner=helm"))
                .await?;
            let mut out = Vec::new();
            for s in &list {
                out.push(records::from_secret(s)?);
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
            let r = self.secret_ref(release, revision);
            self.cluster
                .delete(&r, crate::cluster::Cascade::Background, false)
                .await?;
            Ok(())
        })
    }
}
