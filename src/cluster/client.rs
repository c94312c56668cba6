//! [`Cluster`] on a real API server, through kube-rs: the only file that speaks kube-rs's API.
//!
//! Kinds are resolved through discovery once per `apiVersion`/`kind` and cached. Writes go out
//! as `DynamicObject`s; reads come back as JSON.
//!
//! Discovery answers (the served group/versions, each group/version's resources) are kept for the
//! process and fetched once even when many tasks ask at the same time, as client-go's memory cache
//! does for helm: an apply asks for them while rendering (`.Capabilities`), while checking the plan
//! (served API versions) and for every kind it reads or writes (issue 16: a fleet apply sent ~40
//! sequential discovery requests, and each of 8 concurrent first reads of a kind its own). The
//! answers change only when a CustomResourceDefinition or an APIService does: writing one drops
//! them, and a kind not found in a kept answer is looked up once more, fresh.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use futures::{StreamExt as _, TryStreamExt as _};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{
    Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams, PropagationPolicy, WatchParams,
};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::params::GetParams;
use kube::core::Request;
use kube::discovery::{ApiCapabilities, ApiResource, Scope};
use kube::{Client, Config};
use serde_json::{json, Value as Json};

use super::{
    ssa_refusal_worth_fallback, AccessCheck, AccessVerdict, ApplyMode, BoxFut, BoxStream, Cascade, Cluster,
    ClusterError, Eviction, ObjRef, RawRead, ResourceInfo, Result, ServerVersion, WatchEvent, FIELD_MANAGER,
};

/// A connection to one cluster, with a discovery cache.
pub struct KubeCluster {
    client: Client,
    default_namespace: String,
    discovery: Discovery,
}

/// One discovery answer, fetched by the first caller while the others wait for it; a failure is
/// not kept (the next caller asks again).
type Kept<T> = Arc<tokio::sync::OnceCell<Arc<T>>>;

/// The discovery answers kept for the process (module comment).
#[derive(Default)]
struct Discovery {
    group_versions: Mutex<Kept<Vec<String>>>,
    resources: Mutex<HashMap<String, Kept<Vec<ResourceInfo>>>>,
    /// Each resolved `(apiVersion, kind)`, from the answers above or, where discovery is
    /// forbidden, from the built-in table.
    kinds: Mutex<HashMap<(String, String), (ApiResource, ApiCapabilities)>>,
}

impl Discovery {
    fn group_versions(&self) -> Kept<Vec<String>> {
        self.group_versions.lock().map(|k| k.clone()).unwrap_or_default()
    }

    fn resources(&self, gv: &str) -> Kept<Vec<ResourceInfo>> {
        match self.resources.lock() {
            Ok(mut m) => m.entry(gv.to_string()).or_default().clone(),
            Err(_) => Kept::default(),
        }
    }

    /// Forget one group/version's resources (a kind not found there may have just been added).
    fn forget(&self, gv: &str) {
        if let Ok(mut m) = self.resources.lock() {
            m.remove(gv);
        }
    }

    /// Forget everything: a CustomResourceDefinition or APIService was written.
    fn forget_all(&self) {
        if let Ok(mut g) = self.group_versions.lock() {
            *g = Kept::default();
        }
        if let Ok(mut m) = self.resources.lock() {
            m.clear();
        }
        if let Ok(mut m) = self.kinds.lock() {
            m.clear();
        }
    }
}

/// Whether writing this object changes what discovery serves.
fn changes_discovery(r: &ObjRef) -> bool {
    matches!(
        (r.group_version().0, r.kind.as_str()),
        ("apiextensions.k8s.io", "CustomResourceDefinition") | ("apiregistration.k8s.io", "APIService")
    )
}

fn to_json<T: serde::Serialize>(o: T) -> Json {
    serde_json::to_value(o).unwrap_or(Json::Null)
}

impl KubeCluster {
    /// Connect as kubectl does: `kubeconfig` if given, else `$KUBECONFIG`, else `~/.kube/config`;
    /// `context` selects a context; `namespace` overrides the context's namespace.
    pub async fn connect(
        kubeconfig: Option<&Path>,
        context: Option<&str>,
        namespace: Option<&str>,
    ) -> Result<KubeCluster> {
        let opts = KubeConfigOptions {
            context: context.map(str::to_string),
            ..Default::default()
        };
        // Where the credentials are, as kubectl/helm look (crate::helm_env): --kubeconfig, each
        // file of $KUBECONFIG (merged), ~/.kube/config, else the pod's service account. Files are
        // read here so errors name them plainly (kube's own messages quote paths twice).
        let config = match crate::helm_env::kube_source_from_env(kubeconfig) {
            crate::helm_env::KubeSource::Files(paths) => {
                let mut merged: Option<Kubeconfig> = None;
                for path in &paths {
                    let kc = Kubeconfig::read_from(path)
                        .map_err(|e| ClusterError::Config(format!("kubeconfig {}: {e}", path.display())))?;
                    merged = Some(match merged {
                        None => kc,
                        Some(m) => m
                            .merge(kc)
                            .map_err(|e| ClusterError::Config(format!("kubeconfig {}: {e}", path.display())))?,
                    });
                }
                let kc = merged.unwrap_or_default();
                let files = paths
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ");
                Config::from_custom_kubeconfig(kc, &opts)
                    .await
                    .map_err(|e| ClusterError::Config(format!("kubeconfig {files}: {e}")))?
            }
            crate::helm_env::KubeSource::InCluster => Config::incluster()
                .map_err(|e| ClusterError::Config(format!("in-cluster configuration (service account): {e}")))?,
            crate::helm_env::KubeSource::Missing(msg) => return Err(ClusterError::Config(msg)),
        };
        let default_namespace = namespace
            .map(str::to_string)
            .unwrap_or_else(|| config.default_namespace.clone());
        // kube-rs retries 429/503/504 itself by default (15 times, backoff up to 1000 s: minutes
        // for one request, writes after a 504 included). chartup's own layer
        // (crate::recovery::retrying) decides what is safe to repeat and stops at the step's
        // deadline, so the client's is off: a PodDisruptionBudget's 429 on an eviction took 5 min.
        let mut config = config;
        config.default_retry = false;
        let client = Client::try_from(config).map_err(|e| ClusterError::api("creating client", e))?;
        Ok(KubeCluster {
            client,
            default_namespace,
            discovery: Discovery::default(),
        })
    }

    async fn resolve(&self, r: &ObjRef) -> Result<(ApiResource, ApiCapabilities)> {
        let key = (r.api_version.clone(), r.kind.clone());
        if let Some(hit) = self.discovery.kinds.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(hit);
        }
        let (group, version) = r.group_version();
        let resource = |plural: &str, namespaced: bool| {
            (
                ApiResource {
                    group: group.to_string(),
                    version: version.to_string(),
                    api_version: r.api_version.clone(),
                    kind: r.kind.clone(),
                    plural: plural.to_string(),
                },
                ApiCapabilities {
                    scope: if namespaced { Scope::Namespaced } else { Scope::Cluster },
                    subresources: vec![],
                    operations: vec![],
                },
            )
        };
        let found = match self.find_kind(&r.api_version, &r.kind).await {
            Ok(Some(info)) => resource(&info.name, info.namespaced),
            // A group/version the server does not serve, or a kind it does not list there.
            Ok(None) => {
                return Err(ClusterError::UnknownKind {
                    api_version: r.api_version.clone(),
                    kind: r.kind.clone(),
                })
            }
            // Discovery forbidden (a hardened cluster): Kubernetes' own kinds are known without it
            // (super::builtin); any other kind's error names the real cause.
            Err(ClusterError::Api { source, .. }) if matches!(&source, kube::Error::Api(s) if s.code == 403) => {
                match super::builtin::resource(group, &r.kind) {
                    Some((plural, namespaced)) => resource(plural, namespaced),
                    None => {
                        return Err(ClusterError::api(
                            format!(
                                "cannot resolve {} {}: API discovery is forbidden, and it is not a kind built into \
                                 Kubernetes",
                                r.api_version, r.kind
                            ),
                            source,
                        ))
                    }
                }
            }
            Err(ClusterError::Api { source, .. }) => {
                return Err(ClusterError::api(
                    format!("discovering {} {}", r.api_version, r.kind),
                    source,
                ))
            }
            Err(other) => return Err(other),
        };
        if let Ok(mut m) = self.discovery.kinds.lock() {
            m.insert(key, found.clone());
        }
        Ok(found)
    }

    /// The resource of `kind` in `gv` from the kept discovery answer; a kind not in a kept answer
    /// is looked for once more in a fresh one (a CustomResourceDefinition may just have been
    /// established). `None`: not served (the group/version is unknown, 404, or does not list it).
    async fn find_kind(&self, gv: &str, kind: &str) -> Result<Option<ResourceInfo>> {
        let find = |list: &[ResourceInfo]| list.iter().find(|i| i.kind == kind && !i.name.contains('/')).cloned();
        for fresh in [false, true] {
            if fresh {
                self.discovery.forget(gv);
            }
            let (list, was_kept) = match self.kept_resources(gv).await {
                Ok(kept) => kept,
                Err(e) if e.status_code() == Some(404) => (Arc::new(Vec::new()), false),
                Err(e) => return Err(e),
            };
            if let Some(info) = find(&list) {
                return Ok(Some(info));
            }
            if !was_kept {
                break;
            }
        }
        Ok(None)
    }

    /// One group/version's resources from the kept answer (fetched if there is none), and whether
    /// it was kept already.
    async fn kept_resources(&self, gv: &str) -> Result<(Arc<Vec<ResourceInfo>>, bool)> {
        let cell = self.discovery.resources(gv);
        let was_kept = cell.initialized();
        let list = cell
            .get_or_try_init(|| async { self.do_resources(gv).await.map(Arc::new) })
            .await?;
        Ok((list.clone(), was_kept))
    }

    /// After a write (answered or not): a CustomResourceDefinition or APIService changes what
    /// discovery serves, so the kept answers go.
    fn wrote(&self, r: &ObjRef, dry_run: bool) {
        if !dry_run && changes_discovery(r) {
            self.discovery.forget_all();
        }
    }

    fn wrote_body(&self, obj: &Json, dry_run: bool) {
        if let Ok(r) = ObjRef::of(obj, &self.default_namespace) {
            self.wrote(&r, dry_run);
        }
    }

    /// The API of the object's kind, in its namespace (or the default one) when namespaced, with
    /// the namespace it resolved to.
    async fn api_for(&self, r: &ObjRef) -> Result<(Api<DynamicObject>, Option<String>)> {
        let (ar, caps) = self.resolve(r).await?;
        Ok(match caps.scope {
            Scope::Cluster => (Api::all_with(self.client.clone(), &ar), None),
            Scope::Namespaced => {
                let ns = if r.namespace.is_empty() {
                    self.default_namespace.clone()
                } else {
                    r.namespace.clone()
                };
                (Api::namespaced_with(self.client.clone(), &ns, &ar), Some(ns))
            }
        })
    }

    /// The body with `metadata.namespace` set when its kind is namespaced and it names none.
    fn with_namespace(body: &Json, ns: &Option<String>) -> Json {
        let mut body = body.clone();
        if let Some(ns) = ns {
            if body.pointer("/metadata/namespace").is_none() {
                if let Some(meta) = body.get_mut("metadata").and_then(Json::as_object_mut) {
                    meta.insert("namespace".into(), Json::String(ns.clone()));
                }
            }
        }
        body
    }

    async fn do_apply(&self, obj: &Json, dry_run: bool) -> Result<(Json, ApplyMode)> {
        let r = ObjRef::of(obj, &self.default_namespace)?;
        let (api, ns) = self.api_for(&r).await?;
        let body = Self::with_namespace(obj, &ns);
        let mut pp = PatchParams::apply(FIELD_MANAGER).force();
        if dry_run {
            pp = pp.dry_run();
        }
        match api.patch(&r.name, &pp, &Patch::Apply(&body)).await {
            Ok(o) => Ok((to_json(o), ApplyMode::ServerSide)),
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
                Ok((to_json(out), ApplyMode::MergePatchFallback))
            }
            Err(e) => Err(ClusterError::api(format!("applying {r}"), e)),
        }
    }

    async fn do_create(&self, obj: &Json, dry_run: bool) -> Result<Json> {
        let s = |p: &str| obj.pointer(p).and_then(Json::as_str).unwrap_or("").to_string();
        let r = ObjRef {
            api_version: s("/apiVersion"),
            kind: s("/kind"),
            namespace: s("/metadata/namespace"),
            name: match s("/metadata/name") {
                n if n.is_empty() => s("/metadata/generateName"),
                n => n,
            },
        };
        let (api, ns) = self.api_for(&r).await?;
        let body = Self::with_namespace(obj, &ns);
        let dynobj: DynamicObject = serde_json::from_value(body).map_err(|_| ClusterError::Malformed("object body"))?;
        let pp = PostParams {
            dry_run,
            field_manager: Some(FIELD_MANAGER.into()),
        };
        let what = if dry_run { "dry-run creating" } else { "creating" };
        api.create(&pp, &dynobj)
            .await
            .map(to_json)
            .map_err(|e| ClusterError::api(format!("{what} {r}"), e))
    }

    async fn do_replace(&self, obj: &Json) -> Result<Json> {
        let r = ObjRef::of(obj, &self.default_namespace)?;
        let (api, ns) = self.api_for(&r).await?;
        let body = Self::with_namespace(obj, &ns);
        let dynobj: DynamicObject = serde_json::from_value(body).map_err(|_| ClusterError::Malformed("object body"))?;
        api.replace(&r.name, &PostParams::default(), &dynobj)
            .await
            .map(to_json)
            .map_err(|e| ClusterError::api(format!("updating {r}"), e))
    }

    async fn do_list(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        selector: Option<&str>,
    ) -> Result<Vec<Json>> {
        let r = ObjRef::new(api_version, kind, namespace, "");
        let (mut api, _) = self.api_for(&r).await?;
        if namespace == super::ALL_NAMESPACES {
            api = Api::all_with(self.client.clone(), &self.resolve(&r).await?.0);
        }
        let mut lp = ListParams::default();
        if let Some(s) = selector {
            lp = lp.labels(s);
        }
        let list = api
            .list(&lp)
            .await
            .map_err(|e| ClusterError::api(format!("listing {kind}"), e))?;
        Ok(list.items.into_iter().map(to_json).collect())
    }

    async fn do_delete(&self, r: &ObjRef, cascade: Cascade, dry_run: bool) -> Result<bool> {
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

    async fn do_patch(&self, r: &ObjRef, patch: &Json, dry_run: bool) -> Result<Json> {
        let (api, _) = self.api_for(r).await?;
        let mut pp = PatchParams {
            field_manager: Some(FIELD_MANAGER.into()),
            ..Default::default()
        };
        pp.dry_run = dry_run;
        api.patch(&r.name, &pp, &Patch::Merge(patch))
            .await
            .map(to_json)
            .map_err(|e| ClusterError::api(format!("patching {r}"), e))
    }

    /// `apiVersion` of the Eviction kind the server takes, from discovery (`pods/eviction` in
    /// `/api/v1`): Kubernetes 1.20 serves policy/v1beta1, 1.22+ policy/v1.
    async fn eviction_version(&self) -> Result<String> {
        let list = match self.client.list_core_api_resources("v1").await {
            Ok(list) => list,
            // Discovery forbidden: by the server's version (policy/v1 from 1.22 on).
            Err(kube::Error::Api(s)) if s.code == 403 => {
                let v = self.do_server_version().await?;
                let minor: u32 = v.minor.trim_end_matches('+').parse().unwrap_or(0);
                return Ok(if v.major == "1" && minor < 22 {
                    "policy/v1beta1"
                } else {
                    "policy/v1"
                }
                .into());
            }
            Err(e) => return Err(ClusterError::api("discovering pods/eviction", e)),
        };
        let r = list.resources.iter().find(|r| r.name == "pods/eviction");
        Ok(match r.map(|r| (r.group.as_deref(), r.version.as_deref())) {
            Some((Some(g), Some(v))) if !g.is_empty() => format!("{g}/{v}"),
            // Discovery without the fields (very old servers): the group has always been policy.
            _ => "policy/v1beta1".into(),
        })
    }

    async fn do_evict(&self, pod: &ObjRef, uid: Option<&str>) -> Result<Eviction> {
        let ns = if pod.namespace.is_empty() {
            &self.default_namespace
        } else {
            &pod.namespace
        };
        // Our own body, not kube-rs' `Api::evict`: that one sends `delete_options` (snake case),
        // which the server ignores, so a UID precondition would be dropped silently.
        let mut body = serde_json::json!({
            "apiVersion": self.eviction_version().await?,
            "kind": "Eviction",
            "metadata": {"name": pod.name, "namespace": ns},
        });
        if let Some(uid) = uid {
            body["deleteOptions"] = serde_json::json!({"preconditions": {"uid": uid}});
        }
        let api: Api<Pod> = Api::namespaced(self.client.clone(), ns);
        match api
            .create_subresource::<Json, Json>("eviction", &pod.name, &PostParams::default(), &body)
            .await
        {
            Ok(_) => Ok(Eviction::Evicted),
            // Gone, or replaced meanwhile (the UID precondition failed): nothing left to evict.
            Err(kube::Error::Api(s)) if s.code == 404 || s.code == 409 => Ok(Eviction::Evicted),
            Err(kube::Error::Api(s)) if s.code == 429 => Ok(Eviction::Blocked(s.message.clone())),
            Err(e) => Err(ClusterError::api(format!("evicting {pod}"), e)),
        }
    }

    async fn do_watch(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        selector: Option<&str>,
        resource_version: Option<&str>,
    ) -> Result<BoxStream<'static, Result<WatchEvent>>> {
        let r = ObjRef::new(api_version, kind, namespace, "");
        let (api, _) = self.api_for(&r).await?;
        let mut wp = WatchParams::default();
        if let Some(s) = selector {
            wp = wp.labels(s);
        }
        let rv = resource_version.unwrap_or("0").to_string();
        let what = format!("watching {kind}");
        let stream = api
            .watch(&wp, &rv)
            .await
            .map_err(|e| ClusterError::api(what.clone(), e))?;
        Ok(stream
            .map_err(move |e| ClusterError::api(what.clone(), e))
            .filter_map(|ev| async move {
                match ev {
                    Ok(kube::api::WatchEvent::Added(o)) => Some(Ok(WatchEvent::Added(to_json(o)))),
                    Ok(kube::api::WatchEvent::Modified(o)) => Some(Ok(WatchEvent::Modified(to_json(o)))),
                    Ok(kube::api::WatchEvent::Deleted(o)) => Some(Ok(WatchEvent::Deleted(to_json(o)))),
                    Ok(kube::api::WatchEvent::Bookmark(b)) => {
                        Some(Ok(WatchEvent::Bookmark(b.metadata.resource_version)))
                    }
                    Ok(kube::api::WatchEvent::Error(s)) => Some(Err(ClusterError::api(
                        "watch",
                        kube::Error::Api(
                            kube::core::Status::failure(&s.message, &s.reason)
                                .with_code(s.code)
                                .boxed(),
                        ),
                    ))),
                    Err(e) => Some(Err(e)),
                }
            })
            .boxed())
    }

    async fn do_access_review(&self, c: &AccessCheck) -> Result<AccessVerdict> {
        let mut attrs = json!({"verb": c.verb, "group": c.group, "resource": c.resource});
        for (k, v) in [
            ("subresource", &c.subresource),
            ("namespace", &c.namespace),
            ("name", &c.name),
        ] {
            if !v.is_empty() {
                attrs[k] = json!(v);
            }
        }
        let review = json!({
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "metadata": {},
            "spec": {"resourceAttributes": attrs},
        });
        let out = self.do_create(&review, false).await?;
        Ok(AccessVerdict {
            allowed: out.pointer("/status/allowed").and_then(Json::as_bool).unwrap_or(false),
            reason: out
                .pointer("/status/reason")
                .and_then(Json::as_str)
                .unwrap_or("")
                .to_string(),
        })
    }

    async fn do_server_version(&self) -> Result<ServerVersion> {
        let v = self
            .client
            .apiserver_version()
            .await
            .map_err(|e| ClusterError::api("reading the server version", e))?;
        Ok(ServerVersion {
            git_version: v.git_version,
            major: v.major,
            minor: v.minor,
        })
    }

    async fn do_group_versions(&self) -> Result<Vec<String>> {
        let mut gvs: Vec<String> = Vec::new();
        let core = self
            .client
            .list_core_api_versions()
            .await
            .map_err(|e| ClusterError::api("discovery of /api", e))?;
        gvs.extend(core.versions);
        let groups = self
            .client
            .list_api_groups()
            .await
            .map_err(|e| ClusterError::api("discovery of /apis", e))?;
        for g in groups.groups {
            gvs.extend(g.versions.into_iter().map(|v| v.group_version));
        }
        Ok(gvs)
    }

    async fn do_resources(&self, gv: &str) -> Result<Vec<ResourceInfo>> {
        let list = if gv.contains('/') {
            self.client.list_api_group_resources(gv).await
        } else {
            self.client.list_core_api_resources(gv).await
        }
        .map_err(|e| ClusterError::api(format!("discovery of {gv}"), e))?;
        Ok(list
            .resources
            .into_iter()
            .map(|r| ResourceInfo {
                name: r.name,
                kind: r.kind,
                namespaced: r.namespaced,
            })
            .collect())
    }

    async fn do_read_raw(&self, read: &RawRead) -> Result<Json> {
        let mut path = if read.api_version.contains('/') {
            format!("/apis/{}", read.api_version)
        } else {
            format!("/api/{}", read.api_version)
        };
        if let Some(ns) = &read.namespace {
            path.push_str(&format!("/namespaces/{ns}"));
        }
        path.push_str(&format!("/{}", read.resource));
        let req = Request::new(path);
        let what = format!("reading {} {}", read.resource, read.name.as_deref().unwrap_or("(list)"));
        let http = match &read.name {
            None => req.list(&ListParams::default()),
            Some(name) => req.get(name, &GetParams::default()),
        }
        .map_err(|e| ClusterError::api(what.clone(), kube::Error::BuildRequest(e)))?;
        let text = self
            .client
            .request_text(http)
            .await
            .map_err(|e| ClusterError::api(what.clone(), e))?;
        serde_json::from_str(&text).map_err(|_| ClusterError::Malformed("server answer (not JSON)"))
    }
}

impl Cluster for KubeCluster {
    fn namespace(&self) -> &str {
        &self.default_namespace
    }

    fn get<'a>(&'a self, r: &'a ObjRef) -> BoxFut<'a, Result<Option<Json>>> {
        Box::pin(async move {
            let (api, _) = self.api_for(r).await?;
            let got = api
                .get_opt(&r.name)
                .await
                .map_err(|e| ClusterError::api(format!("reading {r}"), e))?;
            Ok(got.map(to_json))
        })
    }

    fn list<'a>(
        &'a self,
        api_version: &'a str,
        kind: &'a str,
        namespace: &'a str,
        selector: Option<&'a str>,
    ) -> BoxFut<'a, Result<Vec<Json>>> {
        Box::pin(self.do_list(api_version, kind, namespace, selector))
    }

    fn create<'a>(&'a self, obj: &'a Json, dry_run: bool) -> BoxFut<'a, Result<Json>> {
        Box::pin(async move {
            let out = self.do_create(obj, dry_run).await;
            self.wrote_body(obj, dry_run);
            out
        })
    }

    fn replace<'a>(&'a self, obj: &'a Json) -> BoxFut<'a, Result<Json>> {
        Box::pin(async move {
            let out = self.do_replace(obj).await;
            self.wrote_body(obj, false);
            out
        })
    }

    fn apply<'a>(&'a self, obj: &'a Json, dry_run: bool) -> BoxFut<'a, Result<(Json, ApplyMode)>> {
        Box::pin(async move {
            let out = self.do_apply(obj, dry_run).await;
            self.wrote_body(obj, dry_run);
            out
        })
    }

    fn patch<'a>(&'a self, r: &'a ObjRef, patch: &'a Json, dry_run: bool) -> BoxFut<'a, Result<Json>> {
        Box::pin(async move {
            let out = self.do_patch(r, patch, dry_run).await;
            self.wrote(r, dry_run);
            out
        })
    }

    fn delete<'a>(&'a self, r: &'a ObjRef, cascade: Cascade, dry_run: bool) -> BoxFut<'a, Result<bool>> {
        Box::pin(async move {
            let out = self.do_delete(r, cascade, dry_run).await;
            self.wrote(r, dry_run);
            out
        })
    }

    fn evict<'a>(&'a self, pod: &'a ObjRef, uid: Option<&'a str>) -> BoxFut<'a, Result<Eviction>> {
        Box::pin(self.do_evict(pod, uid))
    }

    fn watch<'a>(
        &'a self,
        api_version: &'a str,
        kind: &'a str,
        namespace: &'a str,
        selector: Option<&'a str>,
        resource_version: Option<&'a str>,
    ) -> BoxFut<'a, Result<BoxStream<'a, Result<WatchEvent>>>> {
        Box::pin(async move {
            let s = self
                .do_watch(api_version, kind, namespace, selector, resource_version)
                .await?;
            Ok(s as BoxStream<'a, Result<WatchEvent>>)
        })
    }

    fn access_review<'a>(&'a self, check: &'a AccessCheck) -> BoxFut<'a, Result<AccessVerdict>> {
        Box::pin(self.do_access_review(check))
    }

    fn server_version(&self) -> BoxFut<'_, Result<ServerVersion>> {
        Box::pin(self.do_server_version())
    }

    fn group_versions(&self) -> BoxFut<'_, Result<Vec<String>>> {
        Box::pin(async move {
            let cell = self.discovery.group_versions();
            let gvs = cell
                .get_or_try_init(|| async { self.do_group_versions().await.map(Arc::new) })
                .await?;
            Ok(gvs.as_ref().clone())
        })
    }

    fn resources<'a>(&'a self, group_version: &'a str) -> BoxFut<'a, Result<Vec<ResourceInfo>>> {
        Box::pin(async move { Ok(self.kept_resources(group_version).await?.0.as_ref().clone()) })
    }

    fn read_raw<'a>(&'a self, read: &'a RawRead) -> BoxFut<'a, Result<Json>> {
        Box::pin(self.do_read_raw(read))
    }

    fn pod_logs<'a>(&'a self, pod: &'a ObjRef, container: &'a str, tail: i64) -> BoxFut<'a, Result<String>> {
        Box::pin(async move {
            let ns = if pod.namespace.is_empty() {
                &self.default_namespace
            } else {
                &pod.namespace
            };
            let api: Api<Pod> = Api::namespaced(self.client.clone(), ns);
            let params = kube::api::LogParams {
                container: (!container.is_empty()).then(|| container.to_string()),
                tail_lines: Some(tail),
                ..Default::default()
            };
            api.logs(&pod.name, &params)
                .await
                .map_err(|e| ClusterError::api(format!("reading the log of pod {} container {container}", pod.name), e))
        })
    }
}
