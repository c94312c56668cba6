//! The Kubernetes edge: every request chartup makes to a cluster goes through the [`Cluster`]
//! trait — one seam, so the executor and the operations above it run the same against the real
//! API server ([`KubeCluster`], kube-rs) and against an in-memory one ([`FakeCluster`], for fast
//! unit tests of the executor's decisions).
//!
//! Objects from charts are of any kind, so they travel as JSON (`serde_json::Value`) and are
//! resolved to API resources through discovery (never by guessing plurals).
//!
//! Old servers matter (the test control plane is Kubernetes 1.20): no aggregated discovery, no
//! `fieldValidation`, and server-side apply that rejects some objects the server itself accepts
//! (Service ports without `protocol`). [`Cluster::apply`] falls back to a merge patch or a create
//! in that case and says so ([`ApplyMode`]), so the caller can tell the user once.
//!
//! The trait's methods return boxed futures ([`BoxFut`]) rather than being `async fn`s: an `async
//! fn` in a trait cannot be called through `dyn`, and the cluster is held as a trait object
//! everywhere (`&dyn Cluster` in the executor, `Arc<dyn Cluster>` in the render's `lookup`, which
//! runs requests on the runtime from another thread). Generics would do as well at run time but
//! put a type parameter on every executor and operation signature and compile the executor once
//! per implementation; one allocation per request is nothing next to a network round trip.
//!
//! Adding a kind of request: a method here (with a `what` for its errors), its kube-rs version in
//! [`client`] and its in-memory version in [`fake`]; callers never touch kube-rs.

pub mod builtin;
pub mod client;
pub mod fake;

use std::future::Future;
use std::pin::Pin;

use serde_json::Value as Json;

pub use self::client::KubeCluster;
pub use self::fake::FakeCluster;

/// A boxed future that can be awaited through `dyn Cluster` (and sent to the runtime).
pub type BoxFut<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
/// A boxed stream of watch events.
pub type BoxStream<'a, T> = futures::stream::BoxStream<'a, T>;

/// The field manager chartup writes under (server-side apply).
pub const FIELD_MANAGER: &str = "chartup";

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("cannot load kubeconfig: {0}")]
    Config(String),
    #[error("{what}: {}", api_message(source))]
    Api {
        what: String,
        #[source]
        source: ::kube::Error,
    },
    #[error("the server does not serve {api_version} {kind}")]
    UnknownKind { api_version: String, kind: String },
    #[error("object has no {0}")]
    Malformed(&'static str),
}

/// kube's own text for a status error repeats the status as a Rust debug dump; the API server's
/// message is already one sentence (`deployments.apps "x" is forbidden: User "u" cannot patch…`).
fn api_message(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) if !s.message.is_empty() => status_message(s),
        other => other.to_string(),
    }
}

fn status_message(s: &kube::core::Status) -> String {
    match s.reason.as_str() {
        "" => s.message.clone(),
        reason => format!("{} ({reason})", s.message),
    }
}

impl ClusterError {
    pub(crate) fn api(what: impl Into<String>, source: ::kube::Error) -> ClusterError {
        ClusterError::Api {
            what: what.into(),
            source,
        }
    }

    /// The HTTP status code the server answered with, if any.
    pub fn status_code(&self) -> Option<u16> {
        match self {
            ClusterError::Api {
                source: ::kube::Error::Api(s),
                ..
            } => Some(s.code),
            _ => None,
        }
    }

    /// The server's own message, for reports.
    pub fn server_message(&self) -> String {
        match self {
            ClusterError::Api {
                source: ::kube::Error::Api(s),
                ..
            } => s.message.clone(),
            other => other.to_string(),
        }
    }
}

impl ClusterError {
    /// The server said the object (or resource) does not exist.
    pub fn is_not_found(&self) -> bool {
        match self {
            ClusterError::Api {
                source: ::kube::Error::Api(s),
                ..
            } => s.code == 404 || s.reason == "NotFound",
            _ => false,
        }
    }

    /// An error answer of the server (what an in-memory cluster returns where the real one would).
    pub fn status(what: impl Into<String>, code: u16, reason: &str, message: &str) -> ClusterError {
        ClusterError::api(
            what,
            ::kube::Error::Api(::kube::core::Status::failure(message, reason).with_code(code).boxed()),
        )
    }

    /// The server's message for an API error, else the client's own text (as Go's `err.Error()`
    /// prints it: without the `what` of this error).
    pub fn cause_text(&self) -> String {
        match self {
            ClusterError::Api {
                source: ::kube::Error::Api(s),
                ..
            } if !s.message.is_empty() => s.message.clone(),
            ClusterError::Api { source, .. } => source.to_string(),
            other => other.to_string(),
        }
    }
}

/// An error and its causes as `a: b: c` (what anyhow's `{:#}` prints), ending at the API server's
/// answer: kube's own text for a status error repeats the server's sentence inside a Rust debug
/// dump of the whole `Status` (issue 14: a 403 must read as one human sentence). Causes whose text
/// is already said are left out.
pub fn error_text(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = String::new();
    let mut cur = Some(err);
    while let Some(e) = cur {
        let (text, last) = if let Some(ce) = e.downcast_ref::<ClusterError>() {
            (ce.to_string(), ce.status_code().is_some())
        } else if let Some(::kube::Error::Api(s)) = e.downcast_ref::<::kube::Error>() {
            (status_message(s), true)
        } else {
            (e.to_string(), false)
        };
        if !text.is_empty() && !out.contains(&text) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&text);
        }
        if last {
            break;
        }
        cur = e.source();
    }
    out
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

    /// A reference to an object of this kind (for lists, `name` is empty).
    pub fn new(api_version: &str, kind: &str, namespace: &str, name: &str) -> ObjRef {
        ObjRef {
            api_version: api_version.into(),
            kind: kind.into(),
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    /// A PersistentVolumeClaim: the volume steps (carry, snapshot, restore) and their checks name
    /// claims and volumes everywhere.
    pub fn claim(namespace: &str, name: &str) -> ObjRef {
        ObjRef::new("v1", "PersistentVolumeClaim", namespace, name)
    }

    /// A PersistentVolume (cluster-scoped).
    pub fn volume(name: &str) -> ObjRef {
        ObjRef::new("v1", "PersistentVolume", "", name)
    }

    /// The API group (`""` for the core group) and version.
    pub fn group_version(&self) -> (&str, &str) {
        match self.api_version.split_once('/') {
            Some((g, v)) => (g, v),
            None => ("", self.api_version.as_str()),
        }
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

/// The namespace argument of [`Cluster::list`] meaning every namespace (`list -A`).
pub const ALL_NAMESPACES: &str = "*";

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

/// The server's version (`/version`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerVersion {
    pub git_version: String,
    pub major: String,
    pub minor: String,
}

/// One resource of a group/version, as discovery lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceInfo {
    /// The plural (`statefulsets`), or `plural/subresource` (`pods/eviction`).
    pub name: String,
    pub kind: String,
    pub namespaced: bool,
}

/// A read by resource name, answered with the server's JSON as it sent it (Helm's `lookup` goes
/// through the dynamic client like this).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRead {
    pub api_version: String,
    /// The plural, from discovery.
    pub resource: String,
    /// `None`: cluster-scoped, or all namespaces.
    pub namespace: Option<String>,
    /// `None`: list.
    pub name: Option<String>,
}

/// What a SelfSubjectAccessReview asks: may the current user do `verb` on this resource?
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessCheck {
    pub verb: String,
    pub group: String,
    pub resource: String,
    pub subresource: String,
    /// Empty: cluster-wide.
    pub namespace: String,
    /// Empty: any name.
    pub name: String,
}

/// The server's answer to an [`AccessCheck`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessVerdict {
    pub allowed: bool,
    /// The authorizer's reason, when it gives one.
    pub reason: String,
}

/// How a pod eviction went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Eviction {
    /// The server accepted the eviction (the pod is terminating, or was already gone).
    Evicted,
    /// A PodDisruptionBudget forbids it now (HTTP 429); the server's message.
    Blocked(String),
}

/// One event of a watch.
#[derive(Debug, Clone, PartialEq)]
pub enum WatchEvent {
    Added(Json),
    Modified(Json),
    Deleted(Json),
    /// A bookmark: the resourceVersion to resume from.
    Bookmark(String),
}

/// Every request chartup makes to a cluster. Namespaced requests whose [`ObjRef`] names no
/// namespace go to [`Cluster::namespace`].
pub trait Cluster: Send + Sync {
    /// The namespace requests default to (the context's, or `-n`).
    fn namespace(&self) -> &str;

    /// The live object, or `None` when it does not exist.
    fn get<'a>(&'a self, r: &'a ObjRef) -> BoxFut<'a, Result<Option<Json>>>;

    /// Objects of a kind in a namespace (`""`: the default one; [`ALL_NAMESPACES`]: every one;
    /// cluster-scoped kinds ignore it), filtered by a label selector.
    fn list<'a>(
        &'a self,
        api_version: &'a str,
        kind: &'a str,
        namespace: &'a str,
        selector: Option<&'a str>,
    ) -> BoxFut<'a, Result<Vec<Json>>>;

    /// Create (HTTP POST) under the `chartup` field manager; a name already taken is a 409 error.
    /// `metadata.generateName` without a name lets the server name it.
    fn create<'a>(&'a self, obj: &'a Json, dry_run: bool) -> BoxFut<'a, Result<Json>>;

    /// Replace (HTTP PUT) an existing object; with `metadata.resourceVersion` set, a concurrent
    /// change is a 409 error instead of being overwritten.
    fn replace<'a>(&'a self, obj: &'a Json) -> BoxFut<'a, Result<Json>>;

    /// Server-side apply under the `chartup` field manager (forcing conflicts, as the plan was
    /// reviewed), or only check it when `dry_run`. Falls back to a JSON merge patch, or a create
    /// for a new object, when the server refuses server-side apply for a reason a plain write
    /// would not hit.
    fn apply<'a>(&'a self, obj: &'a Json, dry_run: bool) -> BoxFut<'a, Result<(Json, ApplyMode)>>;

    /// A JSON merge patch (small targeted changes such as a PV's reclaim policy).
    fn patch<'a>(&'a self, r: &'a ObjRef, patch: &'a Json, dry_run: bool) -> BoxFut<'a, Result<Json>>;

    /// Delete an object. `Ok(false)` when it was already gone.
    fn delete<'a>(&'a self, r: &'a ObjRef, cascade: Cascade, dry_run: bool) -> BoxFut<'a, Result<bool>>;

    /// Evict a pod (the `pods/eviction` subresource), honouring PodDisruptionBudgets; with `uid`,
    /// only while the pod still has it (a StatefulSet's replacement has the same name).
    fn evict<'a>(&'a self, pod: &'a ObjRef, uid: Option<&'a str>) -> BoxFut<'a, Result<Eviction>>;

    /// Watch objects of a kind from `resource_version` (`None`: from now).
    fn watch<'a>(
        &'a self,
        api_version: &'a str,
        kind: &'a str,
        namespace: &'a str,
        selector: Option<&'a str>,
        resource_version: Option<&'a str>,
    ) -> BoxFut<'a, Result<BoxStream<'a, Result<WatchEvent>>>>;

    /// Ask the server whether the current user may do something (SelfSubjectAccessReview).
    fn access_review<'a>(&'a self, check: &'a AccessCheck) -> BoxFut<'a, Result<AccessVerdict>>;

    /// The server's version.
    fn server_version(&self) -> BoxFut<'_, Result<ServerVersion>>;

    /// Every served `group/version` (the core group's versions first, as `v1`).
    fn group_versions(&self) -> BoxFut<'_, Result<Vec<String>>>;

    /// The resources of one group/version (legacy discovery: works on old servers).
    fn resources<'a>(&'a self, group_version: &'a str) -> BoxFut<'a, Result<Vec<ResourceInfo>>>;

    /// Read by resource name and return the server's JSON untouched (numbers as it wrote them).
    fn read_raw<'a>(&'a self, read: &'a RawRead) -> BoxFut<'a, Result<Json>>;

    /// The last `tail` lines of one container's log (`pods/log`, which the API server fetches from
    /// the node: a node that does not serve logs answers with an error).
    fn pod_logs<'a>(&'a self, pod: &'a ObjRef, container: &'a str, tail: i64) -> BoxFut<'a, Result<String>>;
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
        assert_eq!(r.group_version(), ("apps", "v1"));
        assert_eq!(r.to_string(), "StatefulSet/db (namespace prod)");
        let core = ObjRef::of(
            &json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}}),
            "x",
        )
        .unwrap();
        assert_eq!(core.group_version(), ("", "v1"));
        assert!(ObjRef::of(&json!({"kind": "Service"}), "x").is_err());
    }

    #[test]
    fn an_api_answer_ends_the_error_text_in_one_sentence() {
        // The API server's words for a forbidden write (its `Status.message`), as a user sees them
        // through every layer: no debug dump of the Status, the sentence once.
        let msg = "configmaps \"x\" is forbidden: User \"nobody\" cannot patch resource \"configmaps\" in API \
                   group \"\" in the namespace \"b\"";
        let e = ClusterError::status("applying ConfigMap/x (namespace b)", 403, "Forbidden", msg);
        let err = anyhow::Error::new(e).context("applying the plan");
        assert_eq!(
            error_text(err.as_ref()),
            format!("applying the plan: applying ConfigMap/x (namespace b): {msg} (Forbidden)")
        );
        // kube's own text of the same error holds the dump this leaves out.
        assert!(format!("{err:#}").contains("Status {"));
        // Other causes (the transport's) are kept.
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
        let err = anyhow::Error::new(io).context("reading the release");
        assert_eq!(error_text(err.as_ref()), "reading the release: connection refused");
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
