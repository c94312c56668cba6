//! Rendering a chart as `helm upgrade` renders it against a cluster: Helm's `lookup` against the
//! live API server, the server's `.Capabilities`, `.Release.IsUpgrade` true when the release has a
//! revision to upgrade from and `.Release.Revision` the revision the apply will write. Rendering
//! happens once; its hooks travel with the plan.
//!
//! The renderer only knows the [`crate::render::Lookup`] trait; [`ClusterLookup`] implements it over
//! the cluster seam, following helm's pkg/engine/lookup_func.go step by step so answers match: the
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

use std::cell::RefCell;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value as Json;

use super::deployed::DeployedSide;
use crate::cluster::{Cluster, ClusterError, RawRead};
use crate::manifest::Document;
use crate::plan::source::{RenderedChart, Renderer, ValuesInput};
use crate::plan::ReleaseSide;
use crate::render::objects::KubeVersion;

/// How long one lookup may take before the render gives up on it.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(120);

/// `lookup` against a live cluster.
pub struct ClusterLookup {
    cluster: Arc<dyn Cluster>,
    runtime: tokio::runtime::Handle,
}

impl ClusterLookup {
    /// A lookup through `cluster`, running its requests on the current tokio runtime.
    pub fn new(cluster: Arc<dyn Cluster>) -> ClusterLookup {
        ClusterLookup {
            cluster,
            runtime: tokio::runtime::Handle::current(),
        }
    }
}

impl crate::render::Lookup for ClusterLookup {
    fn lookup(&self, api_version: &str, kind: &str, namespace: &str, name: &str) -> Result<Json, String> {
        let (tx, rx) = std::sync::mpsc::channel();
        let cluster = self.cluster.clone();
        let (av, k, ns, n) = (
            api_version.to_string(),
            kind.to_string(),
            namespace.to_string(),
            name.to_string(),
        );
        self.runtime.spawn(async move {
            let _ = tx.send(lookup(cluster.as_ref(), &av, &k, &ns, &n).await);
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

/// Helm's lookup: the object, a list object, `{}` when not found, or the error text.
pub async fn lookup(
    cluster: &dyn Cluster,
    api_version: &str,
    kind: &str,
    namespace: &str,
    name: &str,
) -> Result<Json, String> {
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let resources = cluster.resources(api_version).await.map_err(|e| {
        format!(
            "unable to get apiresource from unstructured: {}: {}",
            gvk_string(group, version, kind),
            e.cause_text()
        )
    })?;
    let Some(res) = resources.iter().find(|r| r.kind == kind && !r.name.contains('/')) else {
        // Helm goes on with an empty resource name; the request it then makes finds nothing.
        return Ok(Json::Object(Default::default()));
    };
    let read = RawRead {
        api_version: api_version.to_string(),
        resource: res.name.clone(),
        namespace: (res.namespaced && !namespace.is_empty()).then(|| namespace.to_string()),
        name: (!name.is_empty()).then(|| name.to_string()),
    };
    match cluster.read_raw(&read).await {
        Ok(v) => Ok(if name.is_empty() { list_content(v) } else { v }),
        Err(e) if e.is_not_found() => Ok(Json::Object(Default::default())),
        Err(e) => Err(e.cause_text()),
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

/// How many group/versions' discovery documents are asked for at once (client-go asks for all
/// of them at once; 16 keeps a server of 40–60 group/versions to three rounds).
const DISCOVERY_AT_ONCE: usize = 16;

/// Read `.Capabilities` from the server (legacy discovery: works on old servers).
pub async fn server_capabilities(cluster: &dyn Cluster) -> Result<ServerCapabilities, ClusterError> {
    // Both at once: two round trips in one.
    let (v, gvs) = futures::join!(cluster.server_version(), cluster.group_versions());
    let v = v?;
    // helm 4 builds it from the server's fields without normalizing: `String()` (and so the
    // chart's kubeVersion constraint check) sees the git version as the server reports it, and
    // Major and Minor are the server's (a "+" suffix included).
    let kube_version = KubeVersion {
        version: v.git_version.clone(),
        normalized: String::new(),
        major: v.major.clone(),
        minor: v.minor.clone(),
    };
    // Discovery forbidden (a hardened cluster; the plan's checks say so): helm's default list,
    // as with a server whose discovery answered nothing.
    let gvs = match gvs {
        Ok(gvs) => gvs,
        Err(e) if e.status_code() == Some(403) => Vec::new(),
        Err(e) => return Err(e),
    };
    // Every group/version's resources at once, as client-go's ServerGroupsAndResources fetches
    // them for helm (one by one they were ~40 round trips before an apply's first write).
    use futures::StreamExt as _;
    let lists: Vec<_> = futures::stream::iter(&gvs)
        .map(|gv| async move { (gv, cluster.resources(gv).await) })
        .buffer_unordered(DISCOVERY_AT_ONCE)
        .collect()
        .await;
    let mut set = std::collections::BTreeSet::new();
    for (gv, list) in lists {
        set.insert(gv.clone());
        // A group whose discovery fails is skipped, as helm tolerates GroupDiscoveryFailedError.
        if let Ok(list) = list {
            for r in list.iter().filter(|r| !r.kind.is_empty()) {
                set.insert(format!("{gv}/{}", r.kind));
            }
        }
    }
    Ok(ServerCapabilities {
        kube_version,
        api_versions: (!set.is_empty()).then(|| set.into_iter().collect()),
    })
}

/// What `helm upgrade` (or `install`) renders with against this cluster, besides the chart and
/// values.
#[derive(Clone)]
pub struct ClusterRender {
    pub lookup: Arc<dyn crate::render::Lookup>,
    pub capabilities: Arc<ServerCapabilities>,
    pub is_upgrade: bool,
    pub revision: u32,
}

impl ClusterRender {
    /// Read the server's capabilities; `lookup` goes to the cluster from the current runtime.
    pub async fn new(cluster: Arc<dyn Cluster>, deployed: &DeployedSide) -> Result<ClusterRender, ClusterError> {
        let capabilities = server_capabilities(cluster.as_ref()).await?;
        Ok(ClusterRender {
            lookup: Arc::new(ClusterLookup::new(cluster)),
            capabilities: Arc::new(capabilities),
            // helm upgrade renders with IsUpgrade whenever there is a release to upgrade.
            is_upgrade: deployed.base_revision.is_some(),
            revision: deployed.next_revision,
        })
    }

    fn options(&self, release: &str, namespace: &str) -> crate::render::RenderOptions {
        crate::render::RenderOptions {
            release_name: release.to_string(),
            namespace: namespace.to_string(),
            is_upgrade: self.is_upgrade,
            revision: i64::from(self.revision),
            kube_version: Some(self.capabilities.kube_version.clone()),
            server_api_versions: self.capabilities.api_versions.clone(),
            lookup: Some(self.lookup.clone()),
            ..Default::default()
        }
    }
}

/// What one render of the new side yields besides the side itself.
pub struct SideExtras {
    /// The hook documents.
    pub hooks: Vec<Document>,
    /// The CustomResourceDefinitions of the charts' `crds/` directories.
    pub crds: Vec<Document>,
}

/// Render CHART as the plan's new side with the cluster's context, off the runtime's worker
/// threads (lookups are answered by the runtime while the render waits). Returns the side and the
/// hook and `crds/` documents of the same render.
pub async fn render_side(
    ctx: ClusterRender,
    chart: &Path,
    values: &ValuesInput,
    release: &str,
    namespace: &str,
) -> Result<(ReleaseSide, SideExtras), String> {
    let (chart, values, release, namespace) = (
        chart.to_path_buf(),
        values.clone(),
        release.to_string(),
        namespace.to_string(),
    );
    tokio::task::spawn_blocking(move || {
        let upgrade = ctx.is_upgrade;
        let r = ClusterRenderer {
            ctx,
            hooks: RefCell::default(),
            crds: RefCell::default(),
        };
        let side = crate::plan::source::side_from_chart(&r, &chart, &values, &release, &namespace, upgrade)?;
        let extras = SideExtras {
            hooks: r.hooks.into_inner(),
            crds: r.crds.into_inner(),
        };
        Ok((side, extras))
    })
    .await
    .map_err(|e| format!("the render failed: {e}"))?
}

/// chartup's renderer with a cluster's context. It keeps the hook documents of its render, so
/// the plan's hooks come from the same render as its manifest (a second render could differ:
/// `randAlphaNum`, or a live object changed between two lookups).
pub struct ClusterRenderer {
    pub ctx: ClusterRender,
    pub hooks: RefCell<Vec<Document>>,
    pub crds: RefCell<Vec<Document>>,
}

impl Renderer for ClusterRenderer {
    fn render(
        &self,
        chart: &Path,
        values: &ValuesInput,
        release: &str,
        namespace: &str,
        _upgrade: bool,
    ) -> Result<RenderedChart, String> {
        let (rendered, hooks, crds) = crate::plan::source::render_native(
            chart,
            values,
            self.ctx.options(release, namespace),
            !self.ctx.is_upgrade,
        )?;
        *self.hooks.borrow_mut() = hooks;
        *self.crds.borrow_mut() = crds;
        Ok(rendered)
    }
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
    }
}
