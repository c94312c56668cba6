//! An in-memory [`Cluster`], for unit tests of the decisions made above the seam (the executor,
//! the operations): fast, deterministic, no server.
//!
//! It keeps objects as JSON and answers as an API server does where those decisions depend on it:
//! 404 for a missing object, 409 for a name taken or a stale `resourceVersion`, `generation`
//! set and bumped on spec changes, `UnknownKind` for a kind it does not serve, dry runs that persist
//! nothing. It is not a simulation of Kubernetes: instead of controllers, a write of a workload or
//! Job is marked done at once ([`FakeCluster::set_auto_ready`] turns that off), and a test sets the
//! status it needs with [`FakeCluster::put`]. Every request is logged ([`FakeCluster::requests`]),
//! so a test can assert the order of writes, and any request can be made to fail
//! ([`FakeCluster::fail`]). The end-to-end suites remain the proof against a real server.

use std::collections::BTreeMap;
use std::sync::Mutex;

use futures::StreamExt as _;
use serde_json::{json, Value as Json};

use super::{
    AccessCheck, AccessVerdict, ApplyMode, BoxFut, BoxStream, Cascade, Cluster, ClusterError, Eviction, ObjRef,
    RawRead, ResourceInfo, Result, ServerVersion, WatchEvent,
};

/// Kinds served by default: (apiVersion, kind, plural, namespaced).
const KINDS: &[(&str, &str, &str, bool)] = &[
    ("v1", "ConfigMap", "configmaps", true),
    ("v1", "Secret", "secrets", true),
    ("v1", "Service", "services", true),
    ("v1", "ServiceAccount", "serviceaccounts", true),
    ("v1", "Pod", "pods", true),
    ("v1", "PersistentVolumeClaim", "persistentvolumeclaims", true),
    ("v1", "PersistentVolume", "persistentvolumes", false),
    ("v1", "Namespace", "namespaces", false),
    ("apps/v1", "Deployment", "deployments", true),
    ("apps/v1", "StatefulSet", "statefulsets", true),
    ("apps/v1", "DaemonSet", "daemonsets", true),
    ("apps/v1", "ReplicaSet", "replicasets", true),
    ("apps/v1", "ControllerRevision", "controllerrevisions", true),
    ("batch/v1", "Job", "jobs", true),
    ("batch/v1", "CronJob", "cronjobs", true),
    ("policy/v1", "PodDisruptionBudget", "poddisruptionbudgets", true),
    ("storage.k8s.io/v1", "StorageClass", "storageclasses", false),
    ("rbac.authorization.k8s.io/v1", "Role", "roles", true),
    ("rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings", true),
    ("networking.k8s.io/v1", "Ingress", "ingresses", true),
    ("coordination.k8s.io/v1", "Lease", "leases", true),
    (
        "apiextensions.k8s.io/v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        false,
    ),
];

/// Which requests a [`FakeCluster::fail`] rule matches.
#[derive(Debug, Clone)]
struct FailRule {
    verb: String,
    /// `Kind/name`, `Kind/*` or `*`.
    target: String,
    dry_run: Option<bool>,
    code: u16,
    message: String,
    /// Fail only this many more times (None: always).
    remaining: Option<usize>,
    /// The write lands first, then the answer is the error: an uncertain outcome (a 504 after
    /// the server committed, a connection reset before the answer).
    after_landing: bool,
}

#[derive(Default)]
struct State {
    /// (apiVersion, kind, namespace, name) → object.
    objects: BTreeMap<(String, String, String, String), Json>,
    kinds: Vec<(String, String, String, bool)>,
    log: Vec<String>,
    fail: Vec<FailRule>,
    denied: Vec<AccessCheck>,
    blocked_evictions: Vec<String>,
    version: u64,
    no_auto_ready: bool,
    /// (namespace, pod, container) → log text; a pod not here has no log to serve.
    logs: BTreeMap<(String, String, String), String>,
    watchers: Vec<futures::channel::mpsc::UnboundedSender<(String, String, WatchEvent)>>,
}

/// An API server in memory. See the module comment for what it answers like a real one.
pub struct FakeCluster {
    namespace: String,
    state: Mutex<State>,
}

fn s<'a>(o: &'a Json, p: &str) -> &'a str {
    o.pointer(p).and_then(Json::as_str).unwrap_or("")
}

/// RFC 7386 JSON merge patch.
fn merge_patch(target: &mut Json, patch: &Json) {
    match patch {
        Json::Object(p) => {
            if !target.is_object() {
                *target = json!({});
            }
            let t = target.as_object_mut().expect("object");
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge_patch(t.entry(k.clone()).or_insert(Json::Null), v);
                }
            }
        }
        other => *target = other.clone(),
    }
}

/// `k=v,k2=v2` (and `k`) selectors, as far as chartup uses them.
fn selects(obj: &Json, selector: Option<&str>) -> bool {
    let Some(sel) = selector.filter(|s| !s.is_empty()) else {
        return true;
    };
    let labels = obj.pointer("/metadata/labels");
    sel.split(',').all(|term| {
        let term = term.trim();
        match term.split_once("!=") {
            Some((k, v)) => labels.and_then(|l| l.get(k)).and_then(Json::as_str) != Some(v),
            None => match term.split_once('=') {
                Some((k, v)) => {
                    labels
                        .and_then(|l| l.get(k.trim_end_matches('=')))
                        .and_then(Json::as_str)
                        == Some(v)
                }
                None => labels.and_then(|l| l.get(term)).is_some(),
            },
        }
    })
}

impl Default for FakeCluster {
    fn default() -> Self {
        FakeCluster::new("default")
    }
}

impl FakeCluster {
    /// An empty cluster serving the common built-in kinds; `namespace` is the default namespace.
    pub fn new(namespace: &str) -> FakeCluster {
        let state = State {
            kinds: KINDS
                .iter()
                .map(|(a, k, p, n)| (a.to_string(), k.to_string(), p.to_string(), *n))
                .collect(),
            ..Default::default()
        };
        FakeCluster {
            namespace: namespace.to_string(),
            state: Mutex::new(state),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A test that panicked while holding the lock has failed already; keep answering.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Serve another kind (a CustomResourceDefinition's).
    pub fn serve(&self, api_version: &str, kind: &str, plural: &str, namespaced: bool) {
        self.state()
            .kinds
            .push((api_version.into(), kind.into(), plural.into(), namespaced));
    }

    /// Give a container a log (`pod_logs` answers its last lines); without one, `pod_logs` fails as
    /// a node that does not serve logs does.
    pub fn set_logs(&self, namespace: &str, pod: &str, container: &str, text: &str) {
        self.state()
            .logs
            .insert((namespace.into(), pod.into(), container.into()), text.into());
    }

    /// Serve the snapshot.storage.k8s.io/v1 kinds, as a cluster with external-snapshotter's CRDs
    /// does; with auto-ready a VolumeSnapshot is ready (bound, `restoreSize` 1Gi) once written.
    pub fn serve_snapshots(&self) {
        let g = "snapshot.storage.k8s.io/v1";
        self.serve(g, "VolumeSnapshot", "volumesnapshots", true);
        self.serve(g, "VolumeSnapshotContent", "volumesnapshotcontents", false);
        self.serve(g, "VolumeSnapshotClass", "volumesnapshotclasses", false);
    }

    /// Whether workloads and Jobs are marked done as soon as they are written (default: yes).
    pub fn set_auto_ready(&self, on: bool) {
        self.state().no_auto_ready = !on;
    }

    /// Store an object as it is (status included), as if the server and its controllers had
    /// written it. Returns it with the metadata the server adds.
    pub fn put(&self, obj: Json) -> Json {
        let mut st = self.state();
        let key = self.key_of(&st, &obj).expect("put: an object of a served kind");
        let stored = self.stamp(&mut st, obj, None);
        // Watchers see it as they would see a controller's write.
        let ev = if st.objects.insert(key, stored.clone()).is_some() {
            WatchEvent::Modified(stored.clone())
        } else {
            WatchEvent::Added(stored.clone())
        };
        self.notify(&mut st, ev);
        stored
    }

    /// The stored object, if any (without logging a request).
    pub fn object(&self, api_version: &str, kind: &str, namespace: &str, name: &str) -> Option<Json> {
        let st = self.state();
        let ns = if self.namespaced(&st, api_version, kind).unwrap_or(true) {
            if namespace.is_empty() {
                self.namespace.clone()
            } else {
                namespace.to_string()
            }
        } else {
            String::new()
        };
        st.objects
            .get(&(api_version.into(), kind.into(), ns, name.into()))
            .cloned()
    }

    /// Every stored object of a kind.
    pub fn objects_of(&self, kind: &str) -> Vec<Json> {
        self.state()
            .objects
            .iter()
            .filter(|(k, _)| k.1 == kind)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// The requests made so far, one line each: `verb Kind/name` (`dry-run verb …` for dry runs).
    pub fn requests(&self) -> Vec<String> {
        self.state().log.clone()
    }

    /// The requests that changed something (dry runs and reads left out).
    pub fn writes(&self) -> Vec<String> {
        self.requests()
            .into_iter()
            .filter(|l| {
                // An access review is a question, not a change.
                !l.starts_with("dry-run")
                    && !l.starts_with("create SelfSubjectAccessReview")
                    && ["create", "replace", "apply", "patch", "delete", "evict"]
                        .iter()
                        .any(|v| l.starts_with(v))
            })
            .collect()
    }

    /// Make requests fail with the server's `code` and `message`: `verb` is `get`, `list`,
    /// `create`, `replace`, `apply`, `patch`, `delete` (or `*`); `target` is `Kind/name`, `Kind/*`
    /// or `*`; `dry_run` restricts the rule to dry runs (`Some(true)`) or real writes.
    pub fn fail(&self, verb: &str, target: &str, dry_run: Option<bool>, code: u16, message: &str) {
        self.state().fail.push(FailRule {
            verb: verb.into(),
            target: target.into(),
            dry_run,
            code,
            message: message.into(),
            remaining: None,
            after_landing: false,
        });
    }

    /// Like [`FakeCluster::fail`] for real requests only, but `times` times, and with
    /// `after_landing` a write is stored before the error is returned (the client cannot tell
    /// whether it happened): transient faults, for the retrying layer.
    pub fn fail_times(&self, verb: &str, target: &str, code: u16, message: &str, times: usize, after_landing: bool) {
        self.state().fail.push(FailRule {
            verb: verb.into(),
            target: target.into(),
            dry_run: Some(false),
            code,
            message: message.into(),
            remaining: Some(times),
            after_landing,
        });
    }

    /// Answer this access check with "denied".
    pub fn deny(&self, check: AccessCheck) {
        self.state().denied.push(check);
    }

    /// Refuse evictions of this pod, as a PodDisruptionBudget would (HTTP 429).
    pub fn block_eviction(&self, pod: &str) {
        self.state().blocked_evictions.push(pod.into());
    }

    fn namespaced(&self, st: &State, api_version: &str, kind: &str) -> Option<bool> {
        st.kinds
            .iter()
            .find(|(a, k, _, _)| a == api_version && k == kind)
            .map(|(_, _, _, n)| *n)
    }

    fn key_of(&self, st: &State, obj: &Json) -> Result<(String, String, String, String)> {
        let r = ObjRef::of(obj, &self.namespace).or_else(|e| {
            // generateName: named when stored.
            if obj.pointer("/metadata/generateName").is_some() {
                Ok(ObjRef::new(
                    s(obj, "/apiVersion"),
                    s(obj, "/kind"),
                    s(obj, "/metadata/namespace"),
                    "",
                ))
            } else {
                Err(e)
            }
        })?;
        self.key(st, &r)
    }

    fn key(&self, st: &State, r: &ObjRef) -> Result<(String, String, String, String)> {
        let namespaced = self
            .namespaced(st, &r.api_version, &r.kind)
            .ok_or_else(|| ClusterError::UnknownKind {
                api_version: r.api_version.clone(),
                kind: r.kind.clone(),
            })?;
        let ns = match (namespaced, r.namespace.is_empty()) {
            (false, _) => String::new(),
            (true, true) => self.namespace.clone(),
            (true, false) => r.namespace.clone(),
        };
        Ok((r.api_version.clone(), r.kind.clone(), ns, r.name.clone()))
    }

    /// Log the request and apply the failure rules.
    fn request(&self, st: &mut State, verb: &str, kind: &str, name: &str, dry_run: bool) -> Result<()> {
        let line = format!("{}{verb} {kind}/{name}", if dry_run { "dry-run " } else { "" });
        st.log.push(line);
        Self::failure(st, verb, kind, name, dry_run, false)
    }

    /// The first failure rule this request hits (`landed`: the rules that fire after the write).
    fn failure(st: &mut State, verb: &str, kind: &str, name: &str, dry_run: bool, landed: bool) -> Result<()> {
        let hit = st.fail.iter_mut().find(|f| {
            (f.verb == verb || f.verb == "*")
                && f.after_landing == landed
                && f.remaining != Some(0)
                && f.dry_run.is_none_or(|d| d == dry_run)
                && (f.target == "*" || f.target == format!("{kind}/{name}") || f.target == format!("{kind}/*"))
        });
        let hit = hit.map(|f| {
            if let Some(n) = f.remaining.as_mut() {
                *n -= 1;
            }
            f.clone()
        });
        match hit {
            Some(f) => Err(ClusterError::status(
                format!("{verb} {kind}/{name}"),
                f.code,
                "Injected",
                &f.message,
            )),
            None => Ok(()),
        }
    }

    /// The object as the server stores it: namespace, uid, resourceVersion, generation, and (with
    /// auto-ready) the status of a finished rollout.
    fn stamp(&self, st: &mut State, mut obj: Json, old: Option<&Json>) -> Json {
        st.version += 1;
        let rv = st.version.to_string();
        let namespaced = self
            .namespaced(st, s(&obj, "/apiVersion"), s(&obj, "/kind"))
            .unwrap_or(true);
        let generation = match old {
            None => 1,
            Some(o) => {
                let g = o.pointer("/metadata/generation").and_then(Json::as_i64).unwrap_or(1);
                if o.get("spec") != obj.get("spec") {
                    g + 1
                } else {
                    g
                }
            }
        };
        let has_spec = obj.get("spec").is_some();
        if obj.get("metadata").is_none_or(|m| !m.is_object()) {
            obj["metadata"] = json!({});
        }
        let meta = obj["metadata"].as_object_mut().expect("metadata object");
        if meta.get("name").and_then(Json::as_str).is_none_or(str::is_empty) {
            let base = meta
                .get("generateName")
                .and_then(Json::as_str)
                .unwrap_or("")
                .to_string();
            meta.insert("name".into(), json!(format!("{base}{rv:0>5}")));
        }
        if namespaced && meta.get("namespace").and_then(Json::as_str).is_none_or(str::is_empty) {
            meta.insert("namespace".into(), json!(self.namespace));
        }
        let uid = old
            .and_then(|o| o.pointer("/metadata/uid").cloned())
            .unwrap_or_else(|| json!(format!("uid-{rv}")));
        meta.insert("uid".into(), uid);
        meta.insert("resourceVersion".into(), json!(rv));
        // Objects without a spec (ConfigMaps, Secrets) have no generation, as on a real server.
        if has_spec {
            meta.insert("generation".into(), json!(generation));
        }
        if !st.no_auto_ready {
            done_status(&mut obj, generation);
        }
        obj
    }

    fn notify(&self, st: &mut State, ev: WatchEvent) {
        let (kind, ns) = match &ev {
            WatchEvent::Added(o) | WatchEvent::Modified(o) | WatchEvent::Deleted(o) => {
                (s(o, "/kind").to_string(), s(o, "/metadata/namespace").to_string())
            }
            WatchEvent::Bookmark(_) => return,
        };
        st.watchers
            .retain(|w| w.unbounded_send((kind.clone(), ns.clone(), ev.clone())).is_ok());
    }

    fn write(&self, obj: &Json, dry_run: bool, verb: &str, must_exist: Option<bool>) -> Result<Json> {
        let mut st = self.state();
        let key = self.key_of(&st, obj)?;
        self.request(&mut st, verb, &key.1, &key.3, dry_run)?;
        let old = if key.3.is_empty() {
            None
        } else {
            st.objects.get(&key).cloned()
        };
        match (must_exist, &old) {
            (Some(false), Some(_)) => {
                return Err(ClusterError::status(
                    format!("creating {}/{}", key.1, key.3),
                    409,
                    "AlreadyExists",
                    &format!("{} \"{}\" already exists", key.1.to_lowercase(), key.3),
                ))
            }
            (Some(true), None) => {
                return Err(ClusterError::status(
                    format!("updating {}/{}", key.1, key.3),
                    404,
                    "NotFound",
                    &format!("{} \"{}\" not found", key.1.to_lowercase(), key.3),
                ))
            }
            _ => {}
        }
        if verb == "replace" {
            let want = s(obj, "/metadata/resourceVersion");
            let have = old.as_ref().map(|o| s(o, "/metadata/resourceVersion")).unwrap_or("");
            if !want.is_empty() && want != have {
                return Err(ClusterError::status(
                    format!("updating {}/{}", key.1, key.3),
                    409,
                    "Conflict",
                    "the object has been modified; please apply your changes to the latest version and try again",
                ));
            }
        }
        let mut body = obj.clone();
        if verb == "apply" {
            // Keep what the server and others wrote that this body does not set (status, labels).
            if let Some(o) = &old {
                let mut merged = o.clone();
                merge_patch(&mut merged, &body);
                body = merged;
            }
        }
        let stored = self.stamp(&mut st, body, old.as_ref());
        if !dry_run {
            let key = (key.0, key.1, key.2, s(&stored, "/metadata/name").to_string());
            st.objects.insert(key.clone(), stored.clone());
            let ev = if old.is_some() {
                WatchEvent::Modified(stored.clone())
            } else {
                WatchEvent::Added(stored.clone())
            };
            self.notify(&mut st, ev);
            Self::failure(&mut st, verb, &key.1, &key.3, dry_run, true)?;
        }
        Ok(stored)
    }
}

/// A workload whose rollout is finished, a Job that completed.
fn done_status(obj: &mut Json, generation: i64) {
    let replicas = obj.pointer("/spec/replicas").and_then(Json::as_i64).unwrap_or(1);
    let status = match s(obj, "/kind") {
        "Deployment" | "StatefulSet" | "ReplicaSet" => json!({
            "observedGeneration": generation, "replicas": replicas, "readyReplicas": replicas,
            "updatedReplicas": replicas, "availableReplicas": replicas, "currentReplicas": replicas,
            "currentRevision": format!("{}-rev{generation}", s(obj, "/metadata/name")),
            "updateRevision": format!("{}-rev{generation}", s(obj, "/metadata/name")),
        }),
        "DaemonSet" => json!({
            "observedGeneration": generation, "desiredNumberScheduled": 1, "currentNumberScheduled": 1,
            "updatedNumberScheduled": 1, "numberReady": 1, "numberAvailable": 1,
        }),
        "Job" => json!({"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]}),
        "PersistentVolumeClaim" => json!({"phase": "Bound"}),
        "CustomResourceDefinition" => json!({"conditions": [{"type": "Established", "status": "True"}]}),
        "VolumeSnapshot" => json!({"readyToUse": true, "restoreSize": "1Gi",
            "boundVolumeSnapshotContentName": format!("snapcontent-{}", s(obj, "/metadata/name"))}),
        _ => return,
    };
    obj["status"] = status;
}

impl Cluster for FakeCluster {
    fn namespace(&self) -> &str {
        &self.namespace
    }

    fn get<'a>(&'a self, r: &'a ObjRef) -> BoxFut<'a, Result<Option<Json>>> {
        Box::pin(async move {
            let mut st = self.state();
            let key = self.key(&st, r)?;
            self.request(&mut st, "get", &r.kind, &r.name, false)?;
            Ok(st.objects.get(&key).cloned())
        })
    }

    fn list<'a>(
        &'a self,
        api_version: &'a str,
        kind: &'a str,
        namespace: &'a str,
        selector: Option<&'a str>,
    ) -> BoxFut<'a, Result<Vec<Json>>> {
        Box::pin(async move {
            let mut st = self.state();
            let key = self.key(&st, &ObjRef::new(api_version, kind, namespace, ""))?;
            self.request(&mut st, "list", kind, "*", false)?;
            Ok(st
                .objects
                .iter()
                .filter(|(k, v)| {
                    k.0 == key.0
                        && k.1 == key.1
                        && (k.2 == key.2 || namespace == super::ALL_NAMESPACES)
                        && selects(v, selector)
                })
                .map(|(_, v)| v.clone())
                .collect())
        })
    }

    fn create<'a>(&'a self, obj: &'a Json, dry_run: bool) -> BoxFut<'a, Result<Json>> {
        Box::pin(async move { self.write(obj, dry_run, "create", Some(false)) })
    }

    fn replace<'a>(&'a self, obj: &'a Json) -> BoxFut<'a, Result<Json>> {
        Box::pin(async move { self.write(obj, false, "replace", Some(true)) })
    }

    fn apply<'a>(&'a self, obj: &'a Json, dry_run: bool) -> BoxFut<'a, Result<(Json, ApplyMode)>> {
        Box::pin(async move { Ok((self.write(obj, dry_run, "apply", None)?, ApplyMode::ServerSide)) })
    }

    fn patch<'a>(&'a self, r: &'a ObjRef, patch: &'a Json, dry_run: bool) -> BoxFut<'a, Result<Json>> {
        Box::pin(async move {
            let current = {
                let st = self.state();
                let key = self.key(&st, r)?;
                st.objects.get(&key).cloned()
            };
            let Some(mut obj) = current else {
                let mut st = self.state();
                self.request(&mut st, "patch", &r.kind, &r.name, dry_run)?;
                return Err(ClusterError::status(
                    format!("patching {r}"),
                    404,
                    "NotFound",
                    &format!("{} \"{}\" not found", r.kind.to_lowercase(), r.name),
                ));
            };
            merge_patch(&mut obj, patch);
            if let Some(m) = obj.get_mut("metadata").and_then(Json::as_object_mut) {
                m.remove("resourceVersion");
            }
            self.write(&obj, dry_run, "patch", Some(true))
        })
    }

    fn delete<'a>(&'a self, r: &'a ObjRef, _cascade: Cascade, dry_run: bool) -> BoxFut<'a, Result<bool>> {
        Box::pin(async move {
            let mut st = self.state();
            let key = self.key(&st, r)?;
            self.request(&mut st, "delete", &r.kind, &r.name, dry_run)?;
            if dry_run {
                return Ok(st.objects.contains_key(&key));
            }
            match st.objects.remove(&key) {
                Some(o) => {
                    self.notify(&mut st, WatchEvent::Deleted(o));
                    // A fault after the delete landed (`fail_times(…, after_landing)`).
                    Self::failure(&mut st, "delete", &r.kind, &r.name, false, true)?;
                    Ok(true)
                }
                None => Ok(false),
            }
        })
    }

    fn evict<'a>(&'a self, pod: &'a ObjRef, uid: Option<&'a str>) -> BoxFut<'a, Result<Eviction>> {
        Box::pin(async move {
            let mut st = self.state();
            self.request(&mut st, "evict", "Pod", &pod.name, false)?;
            if st.blocked_evictions.contains(&pod.name) {
                return Ok(Eviction::Blocked(
                    "Cannot evict pod as it would violate the pod's disruption budget.".into(),
                ));
            }
            let key = self.key(&st, pod)?;
            // The UID precondition: a pod replaced under the same name is not touched.
            let other = |o: &Json| uid.is_some_and(|u| o.pointer("/metadata/uid").and_then(Json::as_str) != Some(u));
            if st.objects.get(&key).is_some_and(other) {
                return Ok(Eviction::Evicted);
            }
            if let Some(o) = st.objects.remove(&key) {
                self.notify(&mut st, WatchEvent::Deleted(o));
            }
            Ok(Eviction::Evicted)
        })
    }

    fn watch<'a>(
        &'a self,
        api_version: &'a str,
        kind: &'a str,
        namespace: &'a str,
        selector: Option<&'a str>,
        _resource_version: Option<&'a str>,
    ) -> BoxFut<'a, Result<BoxStream<'a, Result<WatchEvent>>>> {
        Box::pin(async move {
            let mut st = self.state();
            let key = self.key(&st, &ObjRef::new(api_version, kind, namespace, ""))?;
            self.request(&mut st, "watch", kind, "*", false)?;
            let (tx, rx) = futures::channel::mpsc::unbounded();
            st.watchers.push(tx);
            let (kind, ns) = (key.1, key.2);
            let sel = selector.map(str::to_string);
            let stream = rx.filter_map(move |(k, n, ev)| {
                let wanted = k == kind
                    && n == ns
                    && match &ev {
                        WatchEvent::Added(o) | WatchEvent::Modified(o) | WatchEvent::Deleted(o) => {
                            selects(o, sel.as_deref())
                        }
                        WatchEvent::Bookmark(_) => true,
                    };
                async move { wanted.then_some(Ok(ev)) }
            });
            Ok(stream.boxed())
        })
    }

    fn access_review<'a>(&'a self, check: &'a AccessCheck) -> BoxFut<'a, Result<AccessVerdict>> {
        Box::pin(async move {
            let mut st = self.state();
            self.request(&mut st, "create", "SelfSubjectAccessReview", &check.verb, false)?;
            let denied = st.denied.iter().any(|d| {
                d.verb == check.verb
                    && d.resource == check.resource
                    && d.group == check.group
                    && (d.namespace.is_empty() || d.namespace == check.namespace)
            });
            Ok(AccessVerdict {
                allowed: !denied,
                reason: if denied {
                    "denied by the fake cluster".into()
                } else {
                    String::new()
                },
            })
        })
    }

    fn server_version(&self) -> BoxFut<'_, Result<ServerVersion>> {
        Box::pin(async move {
            Ok(ServerVersion {
                git_version: "v1.20.2".into(),
                major: "1".into(),
                minor: "20".into(),
            })
        })
    }

    fn group_versions(&self) -> BoxFut<'_, Result<Vec<String>>> {
        Box::pin(async move {
            let mut st = self.state();
            // Discovery can be made to fail too (`fail("discover", "APIVersions/*", …)`).
            self.request(&mut st, "discover", "APIVersions", "*", false)?;
            let mut out: Vec<String> = Vec::new();
            for (a, _, _, _) in &st.kinds {
                if !out.contains(a) {
                    out.push(a.clone());
                }
            }
            Ok(out)
        })
    }

    fn resources<'a>(&'a self, group_version: &'a str) -> BoxFut<'a, Result<Vec<ResourceInfo>>> {
        Box::pin(async move {
            let mut st = self.state();
            self.request(&mut st, "discover", "APIResources", group_version, false)?;
            let out: Vec<ResourceInfo> = st
                .kinds
                .iter()
                .filter(|(a, _, _, _)| a == group_version)
                .map(|(_, k, p, n)| ResourceInfo {
                    name: p.clone(),
                    kind: k.clone(),
                    namespaced: *n,
                })
                .collect();
            if out.is_empty() {
                return Err(ClusterError::status(
                    format!("discovery of {group_version}"),
                    404,
                    "NotFound",
                    "the server could not find the requested resource",
                ));
            }
            Ok(out)
        })
    }

    fn read_raw<'a>(&'a self, read: &'a RawRead) -> BoxFut<'a, Result<Json>> {
        Box::pin(async move {
            let kind = {
                let st = self.state();
                st.kinds
                    .iter()
                    .find(|(a, _, p, _)| *a == read.api_version && *p == read.resource)
                    .map(|(_, k, _, _)| k.clone())
            };
            let Some(kind) = kind else {
                return Err(ClusterError::status(
                    format!("reading {}", read.resource),
                    404,
                    "NotFound",
                    "the server could not find the requested resource",
                ));
            };
            let ns = read.namespace.clone().unwrap_or_default();
            match &read.name {
                Some(name) => {
                    let st = self.state();
                    let found = st
                        .objects
                        .iter()
                        .find(|(k, _)| {
                            k.0 == read.api_version && k.1 == kind && (ns.is_empty() || k.2 == ns) && &k.3 == name
                        })
                        .map(|(_, v)| v.clone());
                    found.ok_or_else(|| {
                        ClusterError::status(
                            format!("reading {kind}/{name}"),
                            404,
                            "NotFound",
                            &format!("{} \"{name}\" not found", read.resource),
                        )
                    })
                }
                None => {
                    let st = self.state();
                    let items: Vec<Json> = st
                        .objects
                        .iter()
                        .filter(|(k, _)| k.0 == read.api_version && k.1 == kind && (ns.is_empty() || k.2 == ns))
                        .map(|(_, v)| v.clone())
                        .collect();
                    Ok(json!({"apiVersion": read.api_version, "kind": format!("{kind}List"),
                              "metadata": {"resourceVersion": st.version.to_string()}, "items": items}))
                }
            }
        })
    }

    fn pod_logs<'a>(&'a self, pod: &'a ObjRef, container: &'a str, tail: i64) -> BoxFut<'a, Result<String>> {
        Box::pin(async move {
            let ns = if pod.namespace.is_empty() {
                self.namespace.clone()
            } else {
                pod.namespace.clone()
            };
            let st = self.state();
            match st.logs.get(&(ns, pod.name.clone(), container.to_string())) {
                Some(text) => {
                    let lines: Vec<&str> = text.lines().collect();
                    let from = lines.len().saturating_sub(tail.max(0) as usize);
                    Ok(lines[from..].iter().map(|l| format!("{l}\n")).collect())
                }
                // What the API server answers when the node's kubelet endpoint does not answer.
                None => Err(ClusterError::status(
                    format!("reading the log of pod {} container {container}", pod.name),
                    500,
                    "InternalError",
                    "Get \"https://nodesim:10250/containerLogs\": dial tcp: connection refused",
                )),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cm(name: &str, data: &str) -> Json {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": data}})
    }

    fn block<F: std::future::Future>(f: F) -> F::Output {
        futures::executor::block_on(f)
    }

    #[test]
    fn answers_like_a_server_where_decisions_depend_on_it() {
        let c = FakeCluster::new("ns");
        let r = ObjRef::new("v1", "ConfigMap", "", "a");
        assert_eq!(block(c.get(&r)).unwrap(), None);
        block(c.create(&cm("a", "1"), false)).unwrap();
        let taken = block(c.create(&cm("a", "2"), false)).unwrap_err();
        assert_eq!(taken.status_code(), Some(409));
        let live = block(c.get(&r)).unwrap().unwrap();
        assert_eq!(live["metadata"]["namespace"], "ns");
        // A replace carrying an old resourceVersion conflicts.
        let mut stale = live.clone();
        stale["metadata"]["resourceVersion"] = json!("0");
        assert_eq!(block(c.replace(&stale)).unwrap_err().status_code(), Some(409));
        // Dry runs persist nothing.
        block(c.apply(&cm("b", "1"), true)).unwrap();
        assert!(c.object("v1", "ConfigMap", "ns", "b").is_none());
        let unknown = ObjRef::new("example.com/v1", "Widget", "", "w");
        assert!(matches!(block(c.get(&unknown)), Err(ClusterError::UnknownKind { .. })));
        assert!(block(c.delete(&r, Cascade::Background, false)).unwrap());
        assert!(!block(c.delete(&r, Cascade::Background, false)).unwrap());
        assert_eq!(
            c.writes(),
            [
                "create ConfigMap/a",
                "create ConfigMap/a",
                "replace ConfigMap/a",
                "delete ConfigMap/a",
                "delete ConfigMap/a"
            ]
        );
    }

    #[test]
    fn generation_follows_the_spec_and_patches_merge() {
        let c = FakeCluster::new("ns");
        let d = |img: &str| {
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                   "spec": {"replicas": 2, "template": {"spec": {"containers": [{"image": img}]}}}})
        };
        let (a, _) = block(c.apply(&d("a"), false)).unwrap();
        let (b, _) = block(c.apply(&d("b"), false)).unwrap();
        assert_eq!(
            (
                a["metadata"]["generation"].as_i64(),
                b["metadata"]["generation"].as_i64()
            ),
            (Some(1), Some(2))
        );
        assert_eq!(
            b["status"]["observedGeneration"], 2,
            "auto-ready marks the rollout done"
        );
        let r = ObjRef::new("apps/v1", "Deployment", "", "web");
        let p = block(c.patch(&r, &json!({"metadata": {"labels": {"x": "y"}}}), false)).unwrap();
        assert_eq!(p["metadata"]["labels"]["x"], "y");
        assert_eq!(p["spec"]["replicas"], 2);
        assert_eq!(
            block(c.list("apps/v1", "Deployment", "", Some("x=y"))).unwrap().len(),
            1
        );
        assert_eq!(
            block(c.list("apps/v1", "Deployment", "", Some("x=z"))).unwrap().len(),
            0
        );
    }

    #[test]
    fn injected_failures_and_evictions() {
        let c = FakeCluster::new("ns");
        c.fail("apply", "ConfigMap/*", Some(true), 422, "bad");
        let e = block(c.apply(&cm("a", "1"), true)).unwrap_err();
        assert_eq!((e.status_code(), e.server_message()), (Some(422), "bad".to_string()));
        block(c.apply(&cm("a", "1"), false)).unwrap();
        c.block_eviction("p-0");
        let pod = ObjRef::new("v1", "Pod", "", "p-0");
        assert!(matches!(block(c.evict(&pod, None)).unwrap(), Eviction::Blocked(_)));
    }
}
