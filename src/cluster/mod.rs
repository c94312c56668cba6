//! The Kubernetes edge: every request chartup makes to a cluster goes through [`Cluster`].
//!
//! Objects from charts are of any kind, so they travel as JSON (`serde_json::Value`) and are
//! resolved to API resources through discovery (never by guessing plurals). Typed k8s-openapi
//! structs are used only where chartup reads status it reasons about (pods, workloads).
//!
//! Old servers matter (the test control plane is Kubernetes 1.20): no aggregated discovery, no
//! `fieldValidation`, and server-side apply that rejects some objects the server itself accepts
//! (Service ports without `protocol`). [`Cluster::apply`] falls back to a merge patch or a create
//! in that case and records that it did, so the caller can say so once.

pub mod evict;
pub mod store;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams, PropagationPolicy};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::GroupVersionKind;
use kube::discovery::{ApiCapabilities, ApiResource, Scope};
use kube::{Client, Config};
use serde_json::Value as Json;

/// The field manager chartup writes under (server-side apply).
pub const FIELD_MANAGER: &str = "chartup";

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("cannot load kubeconfig: {0}")]
    Config(String),
    #[error("{what}: {source}")]
    Api {
        what: String,
        #[source]
        source: kube::Error,
    },
    #[error("the server does not serve {api_version} {kind}")]
    UnknownKind { api_version: String, kind: String },
    #[error("object has no {0}")]
    Malformed(&'static str),
}

impl ClusterError {
    pub(crate) fn api(what: impl Into<String>, source: kube::Error) -> ClusterError {
        ClusterError::Api {
            what: what.into(),
            source,
        }
    }

    /// The HTTP status code the server answered with, if any.
    pub fn status_code(&self) -> Option<u16> {
        match self {
            ClusterError::Api {
                source: kube::Error::Api(s),
                ..
            } => Some(s.code),
            _ => None,
        }
    }

    /// The server's own message, for reports.
    pub fn server_message(&self) -> String {
        match self {
            ClusterError::Api {
                source: kube::Error::Api(s),
                ..
            } => s.message.clone(),
            other => other.to_string(),
        }
    }
}

pub type Result<T> = std::result::Result<T, ClusterError>;

/// Identity of one object: what the plan keys objects by.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjRef {
    pub api_version: String,
    pub kind: String,
    /// Empty for cluster-scoped objects (and for namespaced ones meaning "the default namespace").
    pub namespace: String,
    pub name: String,
}

impl ObjRef {
    /// The identity of a manifest object, with `default_ns` where it names none.
    pub fn of(obj: &Json, default_ns: &str) -> Result<ObjRef> {
        let s = |p: &str| obj.pointer(p).and_then(Json::as_str).map(str::to_string);
        Ok(ObjRef {
            api_version: s("/apiVersion").ok_or(ClusterError::Malformed("apiVersion"))?,
            kind: s("/kind").ok_or(ClusterError::Malformed("kind"))?,
            namespace: s("/metadata/namespace").unwrap_or_else(|| default_ns.to_string()),
            name: s("/metadata/name").ok_or(ClusterError::Malformed("metadata.name"))?,
        })
    }

    fn gvk(&self) -> GroupVersionKind {
        let (group, version) = match self.api_version.split_once('/') {
            Some((g, v)) => (g, v),
            None => ("", self.api_version.as_str()),
        };
        GroupVersionKind::gvk(group, version, &self.kind)
    }
}

impl std::fmt::Display for ObjRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{}/{}", self.kind, self.name)
        } else {
            write!(f, "{}/{} (namespace {})", self.kind, self.name, self.namespace)
        }
    }
}

/// How dependents of a deleted object are treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cascade {
    /// Keep the dependents (pods of a recreated StatefulSet keep running and keep their claims).
    Orphan,
    Background,
    Foreground,
}

/// How an apply went through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplyMode {
    ServerSide,
    /// Server-side apply was refused for this object; a JSON merge patch (or a create) was used.
    MergePatchFallback,
}

/// Server version and served API versions, for `.Capabilities` when rendering against a cluster.
#[derive(Debug, Clone)]
pub struct ServerInfo {
    pub git_version: String,
    pub major: String,
    pub minor: String,
    /// `group/version` and `group/version/Kind` strings, as Helm's `APIVersions`.
    pub api_versions: Vec<String>,
}

/// A connection to one cluster, with a discovery cache.
pub struct Cluster {
    client: Client,
    default_namespace: String,
    resources: Mutex<HashMap<(String, String), (ApiResource, ApiCapabilities)>>,
}

impl Cluster {
    /// Connect as kubectl does: `kubeconfig` if given, else `$KUBECONFIG`, else `~/.kube/config`;
    /// `context` selects a context; `namespace` overrides the context's namespace.
    pub async fn connect(kubeconfig: Option<&Path>, context: Option<&str>, namespace: Option<&str>) -> Result<Cluster> {
        let opts = KubeConfigOptions {
            context: context.map(str::to_string),
            ..Default::default()
        };
        let config = match kubeconfig {
            Some(path) => {
                let kc = Kubeconfig::read_from(path)
                    .map_err(|e| ClusterError::Config(format!("{}: {e}", path.display())))?;
                Config::from_custom_kubeconfig(kc, &opts).await
            }
            None => Config::from_kubeconfig(&opts).await,
        }
        .map_err(|e| ClusterError::Config(e.to_string()))?;
        let default_namespace = namespace
            .map(str::to_string)
            .unwrap_or_else(|| config.default_namespace.clone());
        let client = Client::try_from(config).map_err(|e| ClusterError::api("creating client", e))?;
        Ok(Cluster {
            client,
            default_namespace,
            resources: Mutex::new(HashMap::new()),
        })
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn namespace(&self) -> &str {
        &self.default_namespace
    }

    /// Version and served API versions (legacy discovery: works on old servers).
    pub async fn server_info(&self) -> Result<ServerInfo> {
        let v = self
            .client
            .apiserver_version()
            .await
            .map_err(|e| ClusterError::api("reading server version", e))?;
        let mut api_versions = Vec::new();
        let core = self
            .client
            .list_core_api_versions()
            .await
            .map_err(|e| ClusterError::api("discovery", e))?;
        for ver in core.versions {
            if let Ok(list) = self.client.list_core_api_resources(&ver).await {
                for r in list.resources.iter().filter(|r| !r.name.contains('/')) {
                    api_versions.push(format!("{ver}/{}", r.kind));
                }
            }
            api_versions.push(ver);
        }
        let groups = self
            .client
            .list_api_groups()
            .await
            .map_err(|e| ClusterError::api("discovery", e))?;
        for g in groups.groups {
            for gv in g.versions {
                if let Ok(list) = self.client.list_api_group_resources(&gv.group_version).await {
                    for r in list.resources.iter().filter(|r| !r.name.contains('/')) {
                        api_versions.push(format!("{}/{}", gv.group_version, r.kind));
                    }
                }
                api_versions.push(gv.group_version);
            }
        }
        Ok(ServerInfo {
            git_version: v.git_version,
            major: v.major,
            minor: v.minor.trim_end_matches('+').to_string(),
            api_versions,
        })
    }

    async fn resolve(&self, r: &ObjRef) -> Result<(ApiResource, ApiCapabilities)> {
        let key = (r.api_version.clone(), r.kind.clone());
        if let Some(hit) = self.resources.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(hit);
        }
        let found = kube::discovery::pinned_kind(&self.client, &r.gvk())
            .await
            .map_err(|e| match e {
                kube::Error::Discovery(_) | kube::Error::Api(_) => ClusterError::UnknownKind {
                    api_version: r.api_version.clone(),
                    kind: r.kind.clone(),
                },
                other => ClusterError::api(format!("discovering {} {}", r.api_version, r.kind), other),
            })?;
        if let Ok(mut m) = self.resources.lock() {
            m.insert(key, found.clone());
        }
        Ok(found)
    }

    async fn api_for(&self, r: &ObjRef) -> Result<(Api<DynamicObject>, bool)> {
        let (ar, caps) = self.resolve(r).await?;
        Ok(match caps.scope {
            Scope::Cluster => (Api::all_with(self.client.clone(), &ar), false),
            Scope::Namespaced => {
                let ns = if r.namespace.is_empty() {
                    self.default_namespace.as_str()
                } else {
                    r.namespace.as_str()
                };
                (Api::namespaced_with(self.client.clone(), ns, &ar), true)
            }
        })
    }

    /// Whether the object's kind is namespaced (for defaulting namespaces in manifests).
    pub async fn is_namespaced(&self, r: &ObjRef) -> Result<bool> {
        Ok(matches!(self.resolve(r).await?.1.scope, Scope::Namespaced))
    }

    /// The live object, or `None` when it does not exist.
    pub async fn get(&self, r: &ObjRef) -> Result<Option<Json>> {
        let (api, _) = self.api_for(r).await?;
        let got = api
            .get_opt(&r.name)
            .await
            .map_err(|e| ClusterError::api(format!("reading {r}"), e))?;
        Ok(got.map(|o| serde_json::to_value(o).unwrap_or(Json::Null)))
    }

    /// Objects of a kind in a namespace, filtered by a label selector.
    pub async fn list(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        selector: Option<&str>,
    ) -> Result<Vec<Json>> {
        let r = ObjRef {
            api_version: api_version.into(),
            kind: kind.into(),
            namespace: namespace.into(),
            name: String::new(),
        };
        let (api, _) = self.api_for(&r).await?;
        let mut lp = ListParams::default();
        if let Some(s) = selector {
            lp = lp.labels(s);
        }
        let list = api
            .list(&lp)
            .await
            .map_err(|e| ClusterError::api(format!("listing {kind}"), e))?;
        Ok(list
            .items
            .into_iter()
            .map(|o| serde_json::to_value(o).unwrap_or(Json::Null))
            .collect())
    }

    /// Server-side apply `obj` under the `chartup` field manager (forcing conflicts, as the plan
    /// was reviewed), or only check it when `dry_run`. Falls back to a JSON merge patch, or a create
    /// for a new object, when the server refuses server-side apply for a reason a plain write
    /// would not hit.
    pub async fn apply(&self, obj: &Json, dry_run: bool) -> Result<(Json, ApplyMode)> {
        let r = ObjRef::of(obj, &self.default_namespace)?;
        let (api, namespaced) = self.api_for(&r).await?;
        let mut body = obj.clone();
        if namespaced && body.pointer("/metadata/namespace").is_none() {
            if let Some(meta) = body.get_mut("metadata").and_then(Json::as_object_mut) {
                meta.insert(
                    "namespace".into(),
                    Json::String(api_namespace(&r, &self.default_namespace)),
                );
            }
        }
        let mut pp = PatchParams::apply(FIELD_MANAGER).force();
        if dry_run {
            pp = pp.dry_run();
        }
        match api.patch(&r.name, &pp, &Patch::Apply(&body)).await {
            Ok(o) => Ok((serde_json::to_value(o).unwrap_or(Json::Null), ApplyMode::ServerSide)),
            Err(kube::Error::Api(s)) if ssa_refusal_worth_fallback(&s.message) => {
                let live = api
                    .get_opt(&r.name)
                    .await
                    .map_err(|e| ClusterError::api(format!("reading {r}"), e))?;
                let out = match live {
                    None => {
                        let pp = PostParams {
                            dry_run,
                            field_manager: Some(FIELD_MANAGER.into()),
                        };
                        let dynobj: DynamicObject =
                            serde_json::from_value(body.clone()).map_err(|_| ClusterError::Malformed("object body"))?;
                        api.create(&pp, &dynobj)
                            .await
                            .map_err(|e| ClusterError::api(format!("creating {r}"), e))?
                    }
                    Some(_) => {
                        let mut pp = PatchParams {
                            field_manager: Some(FIELD_MANAGER.into()),
                            ..Default::default()
                        };
                        pp.dry_run = dry_run;
                        api.patch(&r.name, &pp, &Patch::Merge(&body))
                            .await
                            .map_err(|e| ClusterError::api(format!("patching {r}"), e))?
                    }
                };
                Ok((
                    serde_json::to_value(out).unwrap_or(Json::Null),
                    ApplyMode::MergePatchFallback,
                ))
            }
            Err(e) => Err(ClusterError::api(format!("applying {r}"), e)),
        }
    }

    /// Delete an object. `Ok(false)` when it was already gone.
    pub async fn delete(&self, r: &ObjRef, cascade: Cascade, dry_run: bool) -> Result<bool> {
        let (api, _) = self.api_for(r).await?;
        let mut dp = DeleteParams {
            propagation_policy: Some(match cascade {
                Cascade::Orphan => PropagationPolicy::Orphan,
                Cascade::Background => PropagationPolicy::Background,
                Cascade::Foreground => PropagationPolicy::Foreground,
            }),
            ..Default::default()
        };
        dp.dry_run = dry_run;
        match api.delete(&r.name, &dp).await {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(false),
            Err(e) => Err(ClusterError::api(format!("deleting {r}"), e)),
        }
    }

    /// A JSON merge patch (for small targeted changes such as a PV's reclaim policy).
    pub async fn merge_patch(&self, r: &ObjRef, patch: &Json) -> Result<Json> {
        let (api, _) = self.api_for(r).await?;
        let pp = PatchParams {
            field_manager: Some(FIELD_MANAGER.into()),
            ..Default::default()
        };
        let out = api
            .patch(&r.name, &pp, &Patch::Merge(patch))
            .await
            .map_err(|e| ClusterError::api(format!("patching {r}"), e))?;
        Ok(serde_json::to_value(out).unwrap_or(Json::Null))
    }
}

fn api_namespace(r: &ObjRef, default_ns: &str) -> String {
    if r.namespace.is_empty() {
        default_ns.to_string()
    } else {
        r.namespace.clone()
    }
}

/// Server-side apply refusals that a plain write does not hit on old servers: 1.20 requires
/// `protocol` on Service/container ports as a merge key under SSA, though it defaults it otherwise.
fn ssa_refusal_worth_fallback(message: &str) -> bool {
    message.contains("failed to create typed patch object")
        || message.contains("failed to create manager for existing fields")
        || message.contains(".protocol: Required value")
        || message.contains("associative list with keys has an element that omits key field")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn object_identity_defaults_the_namespace() {
        let o = json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"}});
        let r = ObjRef::of(&o, "prod").unwrap();
        assert_eq!(r.namespace, "prod");
        assert_eq!(r.gvk().group, "apps");
        assert_eq!(r.to_string(), "StatefulSet/db (namespace prod)");
        let core = ObjRef::of(
            &json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}}),
            "x",
        )
        .unwrap();
        assert_eq!(core.gvk().group, "");
        assert!(ObjRef::of(&json!({"kind": "Service"}), "x").is_err());
    }

    #[test]
    fn old_server_ssa_refusals_are_recognised() {
        assert!(ssa_refusal_worth_fallback(
            "failed to create typed patch object: .spec.ports: element 0: associative list with keys has an element that omits key field \"protocol\""
        ));
        assert!(!ssa_refusal_worth_fallback(
            "spec.selector: Invalid value: field is immutable"
        ));
    }
}
