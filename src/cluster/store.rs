//! Release records in the cluster, in Helm's Secret driver format (see `crate::release`).
//!
//! Creation uses `create`, never apply: two writers racing for the same revision collide on the
//! Secret name and the loser gets a conflict instead of overwriting — the same guard Helm has.

use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use serde_json::Value as Json;

use super::{Cluster, ClusterError, Result};
use crate::release::records::{self, History};
use crate::release::Release;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    #[error(transparent)]
    Record(#[from] records::RecordError),
    #[error("release record encoding failed: {0}")]
    Codec(#[from] crate::release::codec::CodecError),
    #[error("revision {revision} of release {release} already exists: another operation wrote it first")]
    Conflict { release: String, revision: u32 },
}

/// One namespace's release records.
pub struct SecretStore<'a> {
    cluster: &'a Cluster,
    namespace: String,
}

impl<'a> SecretStore<'a> {
    pub fn new(cluster: &'a Cluster, namespace: &str) -> SecretStore<'a> {
        SecretStore {
            cluster,
            namespace: namespace.to_string(),
        }
    }

    fn api(&self) -> Api<Secret> {
        Api::namespaced(self.cluster.client().clone(), &self.namespace)
    }

    /// Every revision of `release`, ordered.
    pub async fn history(&self, release: &str) -> std::result::Result<History, StoreError> {
        let lp = ListParams::default().labels(&records::history_selector(release));
        let list = self.api().list(&lp).await.map_err(|e| ClusterError::Api {
            what: format!("listing release records of {release}"),
            source: e,
        })?;
        let mut revisions = Vec::new();
        for s in list.items {
            let json = serde_json::to_value(&s).unwrap_or(Json::Null);
            revisions.push(records::from_secret(&json)?);
        }
        Ok(History::new(revisions))
    }

    /// Write a new revision. Fails with [`StoreError::Conflict`] if that revision exists.
    pub async fn create(&self, rel: &Release) -> std::result::Result<(), StoreError> {
        let now = jiff::Timestamp::now().as_second();
        let secret: Secret = serde_json::from_value(records::to_secret(rel, Some(now), None)?)
            .map_err(|_| ClusterError::Malformed("release Secret"))?;
        match self.api().create(&PostParams::default(), &secret).await {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(s)) if s.code == 409 => Err(StoreError::Conflict {
                release: rel.name.clone(),
                revision: rel.version,
            }),
            Err(e) => Err(ClusterError::Api {
                what: format!("writing revision {} of {}", rel.version, rel.name),
                source: e,
            }
            .into()),
        }
    }

    /// Rewrite an existing revision (status changes), keeping its `createdAt` label.
    pub async fn update(&self, rel: &Release) -> std::result::Result<(), StoreError> {
        let name = records::secret_name(&rel.name, rel.version);
        let live = self.api().get_opt(&name).await.map_err(|e| ClusterError::Api {
            what: format!("reading {name}"),
            source: e,
        })?;
        let created = live
            .as_ref()
            .and_then(|s| s.metadata.labels.as_ref())
            .and_then(|l| l.get("createdAt"))
            .and_then(|v| v.parse::<i64>().ok());
        let now = jiff::Timestamp::now().as_second();
        let mut secret: Secret = serde_json::from_value(records::to_secret(rel, created, Some(now))?)
            .map_err(|_| ClusterError::Malformed("release Secret"))?;
        match live {
            Some(l) => {
                secret.metadata.resource_version = l.metadata.resource_version;
                self.api()
                    .replace(&name, &PostParams::default(), &secret)
                    .await
                    .map_err(|e| ClusterError::Api {
                        what: format!("updating {name}"),
                        source: e,
                    })?;
            }
            None => {
                self.api()
                    .create(&PostParams::default(), &secret)
                    .await
                    .map_err(|e| ClusterError::Api {
                        what: format!("writing {name}"),
                        source: e,
                    })?;
            }
        }
        Ok(())
    }

    pub async fn delete(&self, release: &str, revision: u32) -> Result<()> {
        let name = records::secret_name(release, revision);
        match self.api().delete(&name, &DeleteParams::default()).await {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
            Err(e) => Err(ClusterError::Api {
                what: format!("deleting {name}"),
                source: e,
            }),
        }
    }
}
