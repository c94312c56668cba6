//! The cluster side of cluster-aware rendering: Helm's `lookup` against the live API server and
//! the server's `.Capabilities`, as `helm upgrade` renders.
//!
//! The renderer only knows the [`crate::render::Lookup`] trait; this file implements it with the
//! kube client, following helm's pkg/engine/lookup_func.go step by step so answers match: the
//! resource is found through the discovery document of the group/version
//! (`ServerResourcesForGroupVersion`, subresources skipped), a namespaced kind is read in the given
//! namespace (all namespaces when it is ""), a cluster-scoped kind ignores the namespace, an empty
//! name lists, NotFound is an empty map and every other error is the server's message. Objects go
//! to the renderer as the server's JSON text decoded (numbers stay integers or floats, see
//! `helmfuncs::unstructured_to_value`); list items get `apiVersion`/`kind` from the list, as
//! apimachinery's unstructured decoder sets them.
//!
//! The render is synchronous and runs on a thread of its own; each lookup is spawned onto the
//! tokio runtime and waited for on that thread. The caller must therefore render outside the
//! runtime's worker threads (`spawn_blocking`), so the runtime stays free to run the request.
//!
//! `.Capabilities` come from discovery as helm's `GetVersionSet` builds them: every served
//! `group/version`, and `group/version/Kind` for every resource of each (subresources included,
//! as helm includes them), deduplicated.

use std::time::Duration;

use kube::core::params::{GetParams, ListParams};
use kube::core::Request;
use kube::Client;
use serde_json::Value as Json;

use crate::cluster::ClusterError;
use crate::render::objects::KubeVersion;

/// How long one lookup may take before the render gives up on it.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(120);

/// `lookup` against a live cluster.
pub struct ClusterLookup {
    client: Client,
    runtime: tokio::runtime::Handle,
}

impl ClusterLookup {
    /// A lookup using `client`, running its requests on the current tokio runtime.
    pub fn new(client: Client) -> ClusterLookup {
        ClusterLookup {
            client,
            runtime: tokio::runtime::Handle::current(),
        }
    }
}

impl crate::render::Lookup for ClusterLookup {
    fn lookup(&self, api_version: &str, kind: &str, namespace: &str, name: &str) -> Result<Json, String> {
        let (tx, rx) = std::sync::mpsc::channel();
        let client = self.client.clone();
        let (av, k, ns, n) = (
            api_version.to_string(),
            kind.to_string(),
            namespace.to_string(),
            name.to_string(),
        );
        self.runtime.spawn(async move {
            let _ = tx.send(lookup(&client, &av, &k, &ns, &n).await);
        });
        rx.recv_timeout(LOOKUP_TIMEOUT).unwrap_or_else(|_| {
            Err(format!(
                "lookup of {api_version} {kind} {namespace}/{name} did not answer within {LOOKUP_TIMEOUT:?}"
            ))
        })
    }
}

/// `schema.GroupVersionKind.String()`: `group/version, Kind=K` (the core group is empty).
fn gvk_string(group: &str, version: &str, kind: &str) -> String {
    format!("{group}/{version}, Kind={kind}")
}

/// The discovery path of a group/version: `/api/v1` for the core group, `/apis/G/V` otherwise.
fn gv_path(api_version: &str) -> String {
    if api_version.contains('/') {
        format!("/apis/{api_version}")
    } else {
        format!("/api/{api_version}")
    }
}

/// Helm's lookup: the object, a list object, `{}` when not found, or the error text.
pub async fn lookup(
    client: &Client,
    api_version: &str,
    kind: &str,
    namespace: &str,
    name: &str,
) -> Result<Json, String> {
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let resources = if group.is_empty() {
        client.list_core_api_resources(version).await
    } else {
        client.list_api_group_resources(api_version).await
    };
    let resources = resources.map_err(|e| {
        format!(
            "unable to get apiresource from unstructured: {}: {}",
            gvk_string(group, version, kind),
            error_text(&e)
        )
    })?;
    let Some(res) = resources
        .resources
        .iter()
        .find(|r| r.kind == kind && !r.name.contains('/'))
    else {
        // Helm goes on with an empty resource name; the request it then makes finds nothing.
        return Ok(Json::Object(Default::default()));
    };
    let mut path = gv_path(api_version);
    if res.namespaced && !namespace.is_empty() {
        path.push_str(&format!("/namespaces/{namespace}"));
    }
    path.push_str(&format!("/{}", res.name));
    let req = Request::new(path);
    let http = if name.is_empty() {
        req.list(&ListParams::default())
    } else {
        req.get(name, &GetParams::default())
    }
    .map_err(|e| e.to_string())?;
    match client.request_text(http).await {
        Ok(text) => {
            let v: Json = serde_json::from_str(&text).map_err(|e| format!("decoding the server's answer: {e}"))?;
            Ok(if name.is_empty() { list_content(v) } else { v })
        }
        Err(kube::Error::Api(s)) if s.code == 404 || s.reason == "NotFound" => Ok(Json::Object(Default::default())),
        Err(e) => Err(error_text(&e)),
    }
}

/// The server's message for API errors (Go's `StatusError.Error()`), else the client's text.
fn error_text(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) if !s.message.is_empty() => s.message.clone(),
        other => other.to_string(),
    }
}

/// `UnstructuredList.UnstructuredContent()` of a decoded list: the list's own fields, `items`
/// always an array, and items without `apiVersion` and `kind` given the list's apiVersion and
/// its kind without the `List` suffix.
pub fn list_content(mut v: Json) -> Json {
    let Some(obj) = v.as_object_mut() else {
        return Json::Object(Default::default());
    };
    let api_version = obj.get("apiVersion").cloned().unwrap_or(Json::Null);
    let kind = obj.get("kind").and_then(Json::as_str).unwrap_or("").to_string();
    let item_kind = kind.strip_suffix("List").unwrap_or(&kind).to_string();
    let mut items = match obj.remove("items") {
        Some(Json::Array(a)) => a,
        _ => Vec::new(),
    };
    for it in items.iter_mut() {
        if let Some(o) = it.as_object_mut() {
            let no_kind = o.get("kind").and_then(Json::as_str).is_none_or(str::is_empty);
            let no_av = o.get("apiVersion").and_then(Json::as_str).is_none_or(str::is_empty);
            if no_kind && no_av {
                o.insert("kind".into(), Json::String(item_kind.clone()));
                o.insert("apiVersion".into(), api_version.clone());
            }
        }
    }
    obj.insert("items".into(), Json::Array(items));
    v
}

/// The server's version and API version set, as helm's `getCapabilities` reads them.
pub struct ServerCapabilities {
    pub kube_version: KubeVersion,
    /// `None` when discovery answered nothing (helm then uses its default list).
    pub api_versions: Option<Vec<String>>,
}

/// Read `.Capabilities` from the server (legacy discovery: works on old servers).
pub async fn server_capabilities(client: &Client) -> Result<ServerCapabilities, ClusterError> {
    let api = |what: &str, e: kube::Error| ClusterError::Api {
        what: what.to_string(),
        source: e,
    };
    let v = client
        .apiserver_version()
        .await
        .map_err(|e| api("reading the server version", e))?;
    // helm 4 builds it from the server's fields without normalizing: `String()` (and so the
    // chart's kubeVersion constraint check) sees the git version as the server reports it, and
    // Major and Minor are the server's (a "+" suffix included).
    let kube_version = KubeVersion {
        version: v.git_version.clone(),
        normalized: v.git_version.clone(),
        major: v.major.clone(),
        minor: v.minor.clone(),
    };

    let mut gvs: Vec<String> = Vec::new();
    let core = client
        .list_core_api_versions()
        .await
        .map_err(|e| api("discovery of /api", e))?;
    gvs.extend(core.versions);
    let groups = client
        .list_api_groups()
        .await
        .map_err(|e| api("discovery of /apis", e))?;
    for g in groups.groups {
        gvs.extend(g.versions.into_iter().map(|v| v.group_version));
    }
    let mut set = std::collections::BTreeSet::new();
    for gv in &gvs {
        set.insert(gv.clone());
        let list = if gv.contains('/') {
            client.list_api_group_resources(gv).await
        } else {
            client.list_core_api_resources(gv).await
        };
        // A group whose discovery fails is skipped, as helm tolerates GroupDiscoveryFailedError.
        if let Ok(list) = list {
            for r in list.resources.iter().filter(|r| !r.kind.is_empty()) {
                set.insert(format!("{gv}/{}", r.kind));
            }
        }
    }
    Ok(ServerCapabilities {
        kube_version,
        api_versions: (!set.is_empty()).then(|| set.into_iter().collect()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lists_look_like_the_dynamic_clients() {
        let v = list_content(json!({
            "kind": "SecretList", "apiVersion": "v1", "metadata": {"resourceVersion": "42"},
            "items": [{"metadata": {"name": "a"}, "data": {"k": "dg=="}},
                      {"kind": "Secret", "apiVersion": "v1", "metadata": {"name": "b"}}]
        }));
        assert_eq!(v["kind"], "SecretList");
        assert_eq!(v["metadata"]["resourceVersion"], "42");
        assert_eq!(v["items"][0]["kind"], "Secret");
        assert_eq!(v["items"][0]["apiVersion"], "v1");
        assert_eq!(v["items"][1]["metadata"]["name"], "b");
        // `items: null` (an empty list from some servers) is an empty array.
        let empty = list_content(json!({"kind": "ConfigMapList", "apiVersion": "v1", "items": null}));
        assert_eq!(empty["items"], json!([]));
    }

    #[test]
    fn names_as_helm_prints_them() {
        assert_eq!(gvk_string("", "v1", "Secret"), "/v1, Kind=Secret");
        assert_eq!(
            gvk_string("policy", "v1", "PodDisruptionBudget"),
            "policy/v1, Kind=PodDisruptionBudget"
        );
        assert_eq!(gv_path("v1"), "/api/v1");
        assert_eq!(gv_path("apps/v1"), "/apis/apps/v1");
    }
}
