//! The store behind Helm's object drivers — Secret and ConfigMap alike: one object per revision,
//! named `sh.helm.release.v1.<name>.v<revision>`, read and written through the cluster seam.
//! The drivers differ only in the object's kind and encoding ([`Format`]: [`super::secrets`],
//! [`super::configmaps`]), so the writing rules live here once:
//!
//! - creation uses `create`, never apply: two writers racing for the same revision collide on the
//!   name and the loser gets a conflict instead of overwriting — the same guard Helm has;
//! - an update replaces the object at the `resourceVersion` it read (recreating it if it went).

use serde_json::Value as Json;

use super::{ReleaseStore, Result, StoreError};
use crate::cluster::{BoxFut, Cluster, ClusterError, ObjRef};
use crate::release::records::{self, History, RecordError};
use crate::release::Release;

/// How one driver lays a record out in its object.
pub trait Format: Send + Sync {
    /// The object's kind (`v1`): `Secret`, `ConfigMap`.
    const KIND: &'static str;
    /// The records, in an error message: `release records`.
    const WHAT: &'static str;
    fn decode(obj: &Json) -> std::result::Result<Release, RecordError>;
    /// The object for `rel`, with helm's `createdAt`/`modifiedAt` labels.
    fn encode(
        rel: &Release,
        created_at: Option<i64>,
        modified_at: Option<i64>,
    ) -> std::result::Result<Json, crate::release::codec::CodecError>;
    /// The `createdAt` an update keeps, read from the live object (None: helm drops it).
    fn created_on_update(live: Option<&Json>) -> Option<i64>;
}

/// One namespace's release records, one object of format `F` per revision.
pub struct ObjectStore<'a, F> {
    cluster: &'a dyn Cluster,
    namespace: String,
    format: std::marker::PhantomData<F>,
}

impl<'a, F: Format> ObjectStore<'a, F> {
    pub fn new(cluster: &'a dyn Cluster, namespace: &str) -> ObjectStore<'a, F> {
        ObjectStore {
            cluster,
            namespace: namespace.to_string(),
            format: std::marker::PhantomData,
        }
    }

    fn record_ref(&self, release: &str, revision: u32) -> ObjRef {
        ObjRef::new("v1", F::KIND, &self.namespace, &records::secret_name(release, revision))
    }

    async fn do_history(&self, release: &str) -> Result<History> {
        let list = self
            .cluster
            .list(
                "v1",
                F::KIND,
                &self.namespace,
                Some(&records::history_selector(release)),
            )
            .await
            .map_err(|e| match e {
                ClusterError::Api { source, .. } => ClusterError::Api {
                    what: format!("listing {} of {release}", F::WHAT),
                    source,
                },
                other => other,
            })?;
        let mut revisions = Vec::new();
        for o in &list {
            revisions.push(F::decode(o)?);
        }
        Ok(History::new(revisions))
    }

    async fn do_create(&self, rel: &Release) -> Result<()> {
        let now = jiff::Timestamp::now().as_second();
        let mut obj = F::encode(rel, Some(now), None)?;
        obj["metadata"]["namespace"] = Json::String(self.namespace.clone());
        match self.cluster.create(&obj, false).await {
            Ok(_) => Ok(()),
            Err(e) if e.status_code() == Some(409) => Err(StoreError::Conflict {
                release: rel.name.clone(),
                revision: rel.version,
            }),
            Err(e) => Err(e.into()),
        }
    }

    async fn do_update(&self, rel: &Release) -> Result<()> {
        let live = self.cluster.get(&self.record_ref(&rel.name, rel.version)).await?;
        let now = jiff::Timestamp::now().as_second();
        let mut obj = F::encode(rel, F::created_on_update(live.as_ref()), Some(now))?;
        obj["metadata"]["namespace"] = Json::String(self.namespace.clone());
        match live {
            Some(l) => {
                if let Some(rv) = l.pointer("/metadata/resourceVersion") {
                    obj["metadata"]["resourceVersion"] = rv.clone();
                }
                self.cluster.replace(&obj).await?;
            }
            None => {
                self.cluster.create(&obj, false).await?;
            }
        }
        Ok(())
    }
}

impl<F: Format> ReleaseStore for ObjectStore<'_, F> {
    fn namespace(&self) -> &str {
        &self.namespace
    }

    fn list(&self) -> BoxFut<'_, Result<Vec<Release>>> {
        Box::pin(async move {
            let list = self
                .cluster
                .list("v1", F::KIND, &self.namespace, Some("owner=helm"))
                .await?;
            let mut out = Vec::new();
            for o in &list {
                out.push(F::decode(o)?);
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
            let r = self.record_ref(release, revision);
            self.cluster
                .delete(&r, crate::cluster::Cascade::Background, false)
                .await?;
            Ok(())
        })
    }
}
