//! Evicting a pod through the Eviction API, with a UID precondition.
//!
//! Eviction, not delete: the API server checks PodDisruptionBudgets (a Pending pod skips the
//! check), so replacing a stuck pod never breaks a budget behind the user's back. The UID
//! precondition matters because StatefulSet pods come back under the same name: a retried
//! eviction must never hit the replacement. The Eviction body's group version is read from
//! discovery (`pods/eviction` in `/api/v1`): Kubernetes 1.20 serves policy/v1beta1, 1.22+ v1.

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, PostParams};
use serde_json::{json, Value as Json};

use super::{Cluster, ClusterError, Result};

/// What became of an eviction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Eviction {
    /// The server accepted it: the pod is being deleted.
    Evicted,
    /// The pod is already gone, or was replaced meanwhile (the UID no longer matches).
    AlreadyGone,
    /// Refused for now (HTTP 429): a PodDisruptionBudget does not allow it. The server's message.
    Disallowed(String),
}

impl Cluster {
    /// `apiVersion` of the Eviction kind the server takes (`policy/v1beta1` on 1.20).
    pub async fn eviction_version(&self) -> Result<String> {
        let list = self
            .client()
            .list_core_api_resources("v1")
            .await
            .map_err(|e| ClusterError::api("discovering pods/eviction", e))?;
        let r = list
            .resources
            .iter()
            .find(|r| r.name == "pods/eviction")
            .ok_or(ClusterError::UnknownKind {
                api_version: "v1".into(),
                kind: "pods/eviction".into(),
            })?;
        Ok(match (r.group.as_deref(), r.version.as_deref()) {
            (Some(g), Some(v)) if !g.is_empty() => format!("{g}/{v}"),
            // Discovery without the fields (very old servers): the group has always been policy.
            _ => "policy/v1beta1".into(),
        })
    }

    /// Evict pod `ns/name` if it still has `uid`.
    pub async fn evict(&self, ns: &str, name: &str, uid: &str) -> Result<Eviction> {
        let version = self.eviction_version().await?;
        let body: Json = json!({
            "apiVersion": version,
            "kind": "Eviction",
            "metadata": {"name": name, "namespace": ns},
            "deleteOptions": {"preconditions": {"uid": uid}},
        });
        let api: Api<Pod> = Api::namespaced(self.client().clone(), ns);
        match api
            .create_subresource::<Json, Json>("eviction", name, &PostParams::default(), &body)
            .await
        {
            Ok(_) => Ok(Eviction::Evicted),
            Err(kube::Error::Api(s)) if s.code == 404 || s.code == 409 => Ok(Eviction::AlreadyGone),
            Err(kube::Error::Api(s)) if s.code == 429 => Ok(Eviction::Disallowed(s.message.clone())),
            Err(e) => Err(ClusterError::api(format!("evicting pod {ns}/{name}"), e)),
        }
    }
}
