//! Rendered manifests as a typed resource set: identity, kinds, ordering.
//!
//! The planner compares *objects*, not files, so the first step splits a rendered manifest (as
//! `helm template` or `helm get manifest` prints it) into documents the way Helm's kube client
//! reads a release manifest (apimachinery's `YAMLReader`, through `crate::yaml`'s one line-based
//! splitter: `---` lines, empty and comment-only documents dropped, `# Source:` comments kept as
//! provenance), reads each into `serde_json::Value` with YAML 1.1 scalars (the structural form the
//! diff and the analysis walk: [`fast`] for the plain shapes, serde-saphyr in [`parse_yaml`] for
//! the rest), and keys it by (API group, kind, namespace, name) — the identity Kubernetes and Helm
//! use. The API version is deliberately *not* part of the key: `apps/v1beta2` → `apps/v1` is the
//! same object. Objects are kept in Helm's install order.

pub(crate) mod fast;

use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// One rendered document with its provenance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    /// Template path from the `# Source:` comment (`mychart/templates/x.yaml`), empty if none.
    pub source: String,
    /// The document text as rendered, without the `---` separator and the `# Source:` line.
    pub text: String,
}

/// The identity of an object in a release.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ObjectKey {
    /// API group (`apps`, `batch`; empty for the core group).
    pub group: String,
    pub kind: String,
    /// Empty for cluster-scoped kinds.
    pub namespace: String,
    pub name: String,
}

impl ObjectKey {
    /// The [`Display`](fmt::Display) spelling in a string of exactly its size: `to_string` grows
    /// an empty string piece by piece (a few reallocations per key, several keys per object).
    pub fn text(&self) -> String {
        use fmt::Write as _;
        let mut s =
            String::with_capacity(self.namespace.len() + self.kind.len() + self.group.len() + self.name.len() + 3);
        let _ = write!(s, "{self}");
        s
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // kubectl's `kind.group/name` spelling, with the namespace in front when there is one.
        // Written piece by piece: this runs several times per object in large plans.
        if !self.namespace.is_empty() {
            f.write_str(&self.namespace)?;
            f.write_str("/")?;
        }
        f.write_str(&self.kind)?;
        if !self.group.is_empty() {
            f.write_str(".")?;
            f.write_str(&self.group)?;
        }
        f.write_str("/")?;
        f.write_str(&self.name)
    }
}

/// One parsed object.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    pub key: ObjectKey,
    pub api_version: String,
    pub source: String,
    /// The document text as rendered.
    pub text: String,
    /// The parsed document.
    pub value: Json,
    /// For an item of a `kind: List` document: that document's number (1-based, in the order
    /// given), so the release record can keep the List as rendered, as Helm's does.
    pub list_doc: Option<usize>,
    /// For an item of a `kind: List` document: that List's own `metadata.annotations` (Null when
    /// it has none). Helm sorts hooks by each rendered document's own annotations, so an item's
    /// `helm.sh/hook` counts for nothing (the item is installed as an ordinary object) and the
    /// List's counts for every item.
    pub list_annotations: Option<Json>,
}

impl Object {
    /// `metadata.labels[name]`.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.value
            .at("/metadata/labels")
            .and_then(|l| l.field(name))
            .and_then(Json::as_str)
    }

    /// `metadata.annotations[name]`.
    pub fn annotation(&self, name: &str) -> Option<&str> {
        self.value
            .at("/metadata/annotations")
            .and_then(|l| l.field(name))
            .and_then(Json::as_str)
    }

    /// A hook annotation (`helm.sh/hook*`) as Helm reads it: from the document's own metadata,
    /// which for an item of a List is the List's.
    pub fn hook_annotation(&self, name: &str) -> Option<&str> {
        match &self.list_annotations {
            Some(list) => list.field(name).and_then(Json::as_str),
            None => self.annotation(name),
        }
    }

    /// A hook (a non-empty `helm.sh/hook` as Helm reads it): never applied as an object of the
    /// release.
    pub fn is_hook(&self) -> bool {
        self.hook_annotation("helm.sh/hook")
            .is_some_and(|h| !h.trim().is_empty())
    }

    /// Helm leaves objects annotated `helm.sh/resource-policy: keep` in place when they leave a release.
    pub fn kept_on_delete(&self) -> bool {
        self.annotation("helm.sh/resource-policy")
            .is_some_and(|v| v.trim() == "keep")
    }

    /// True for the workload kinds whose pods mount volumes.
    pub fn is_workload(&self) -> bool {
        is_workload_kind(&self.key.kind)
    }
}

/// Deployment, StatefulSet, DaemonSet (apps), plus the batch kinds and bare pods.
pub fn is_workload_kind(kind: &str) -> bool {
    matches!(
        kind,
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" | "CronJob" | "Pod"
    )
}

/// A release's objects, in Helm's install order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ManifestSet {
    pub objects: Vec<Object>,
    index: HashMap<ObjectKey, usize, FastHash>,
}

impl ManifestSet {
    pub fn get(&self, key: &ObjectKey) -> Option<&Object> {
        self.index.get(key).map(|&i| &self.objects[i])
    }

    pub fn len(&self) -> usize {
        self.objects.len()
    }

    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// The documents, as they came in (for a saved plan).
    pub fn documents(&self) -> Vec<Document> {
        self.objects
            .iter()
            .map(|o| Document {
                source: o.source.clone(),
                text: o.text.clone(),
            })
            .collect()
    }
}

/// Why a manifest could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    #[error("{source_name}: document {index}: invalid YAML: {message}")]
    Yaml {
        source_name: String,
        index: usize,
        message: String,
    },
    #[error("{source_name}: document {index}: not a Kubernetes object: {message}")]
    NotAnObject {
        source_name: String,
        index: usize,
        message: String,
    },
    #[error("{key} is defined twice ({first} and {second})")]
    Duplicate { key: String, first: String, second: String },
}

/// Split a multi-document manifest into its objects' documents, as Helm's kube client reads a
/// release manifest (apimachinery's `YAMLReader`, `crate::yaml::split_documents_with`): `---`
/// lines separate documents; documents that are only whitespace or comments are dropped. The
/// `# Source:` comment at the top of a document names its template. A line such as `---x`, which
/// Helm would refuse, stays in its document (where the YAML parse reports it).
pub fn split_documents(text: &str) -> Vec<Document> {
    let pieces = crate::yaml::split_documents_with(text, false).unwrap_or_default();
    let mut docs = Vec::new();
    for piece in &pieces {
        // The splitter keeps a separator that opens the text in the first document.
        let body = match piece.strip_prefix("---") {
            Some(rest)
                if rest
                    .lines()
                    .next()
                    .is_some_and(|l| l.trim().is_empty() || l.trim().starts_with('#')) =>
            {
                rest.split_once('\n').map_or("", |(_, t)| t)
            }
            _ => piece,
        }
        .trim();
        // Comment-only documents (a template whose output is all comments) are not objects.
        if body.is_empty() || is_only_comments(body) {
            continue;
        }
        let source = source_of(body);
        // The `# Source:` line is provenance, kept in `source`; the text is the document as
        // Helm's manifest records hold it after that line.
        let text = match body.strip_prefix("# Source:") {
            Some(rest) => rest
                .split_once('\n')
                .map(|(_, t)| t.trim_start_matches('\n'))
                .unwrap_or(""),
            None => body,
        };
        docs.push(Document {
            source,
            text: format!("{text}\n"),
        });
    }
    docs
}

fn is_only_comments(body: &str) -> bool {
    body.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#')
    })
}

fn source_of(body: &str) -> String {
    for line in body.lines() {
        let t = line.trim();
        if let Some(rest) = t.strip_prefix("# Source:") {
            return rest.trim().to_string();
        }
        if !t.is_empty() && !t.starts_with('#') {
            break;
        }
    }
    String::new()
}

/// Parse one YAML text into JSON with YAML 1.1 scalars, as Kubernetes' sigs.k8s.io/yaml reads it.
pub fn parse_yaml(text: &str) -> Result<Json, String> {
    let opts = serde_saphyr::options! { legacy_octal_numbers: true };
    serde_saphyr::from_str_with_options::<Json>(text, opts).map_err(|e| first_line(&e.to_string()))
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").to_string()
}

/// Parse documents into a keyed set. `default_namespace` is what `-n` gives objects that do not
/// name one (Helm leaves the namespace out of the manifest and the client fills it in).
pub fn parse_documents(docs: Vec<Document>, default_namespace: &str) -> Result<ManifestSet, ManifestError> {
    parse_documents_with(docs, Vec::new(), default_namespace)
}

/// [`parse_documents`] where `parsed[i]`, when given, is `docs[i]` already read as [`parse_yaml`]
/// reads it (the renderer reads every document once to sort it and keeps that reading).
pub fn parse_documents_with(
    docs: Vec<Document>,
    parsed: Vec<Option<Json>>,
    default_namespace: &str,
) -> Result<ManifestSet, ManifestError> {
    let mut objects: Vec<Object> = Vec::with_capacity(docs.len());
    let mut parsed = parsed.into_iter();
    // Items of `kind: List` documents, waiting their turn right after their List.
    // Each with the annotations of the document it came from (the List Helm sorted).
    let mut pending: Vec<(usize, Document, Json, Json)> = Vec::new();
    let mut docs = docs.into_iter().enumerate();
    loop {
        let (index, doc, value, list_annotations) = match pending.pop() {
            Some((index, doc, value, annotations)) => (index, doc, value, Some(annotations)),
            None => {
                let Some((i, doc)) = docs.next() else { break };
                // The fast path gives what `parse_yaml` gives, or nothing (then `parse_yaml` decides).
                let value = match parsed.next().flatten().or_else(|| fast::parse(&doc.text)) {
                    Some(v) => Ok(v),
                    None => parse_yaml(&doc.text),
                };
                let value = value.map_err(|message| ManifestError::Yaml {
                    source_name: display_source(&doc.source),
                    index: i + 1,
                    message,
                })?;
                (i + 1, doc, value, None)
            }
        };
        if value.is_null() {
            continue;
        }
        // Helm builds resources with kubectl's `Flatten`: a List (`kind: List`, `ConfigMapList`…)
        // stands for its items, each analysed, masked, applied and pruned as its own object.
        if let Some(items) = list_items(&value) {
            let annotations = list_annotations
                .clone()
                .unwrap_or_else(|| value.at("/metadata/annotations").cloned().unwrap_or(Json::Null));
            for item in items.into_iter().rev() {
                let text = serde_json::to_string_pretty(&item).unwrap_or_default() + "\n";
                let source = doc.source.clone();
                pending.push((index, Document { source, text }, item, annotations.clone()));
            }
            continue;
        }
        let list_doc = list_annotations.is_some().then_some(index);
        let not_object = |message: &str| ManifestError::NotAnObject {
            source_name: display_source(&doc.source),
            index,
            message: message.to_string(),
        };
        if !value.is_object() {
            return Err(not_object("the document is not a mapping"));
        }
        let api_version = value
            .field("apiVersion")
            .and_then(Json::as_str)
            .ok_or_else(|| not_object("no apiVersion"))?;
        let kind = value
            .field("kind")
            .and_then(Json::as_str)
            .ok_or_else(|| not_object("no kind"))?;
        let metadata = value.field("metadata");
        let name = metadata
            .and_then(|m| m.field("name"))
            .and_then(Json::as_str)
            .ok_or_else(|| not_object("no metadata.name"))?;
        let group = match api_version.rsplit_once('/') {
            Some((g, _)) => g.to_string(),
            None => String::new(),
        };
        let namespace = if is_cluster_scoped(kind) {
            String::new()
        } else {
            metadata
                .and_then(|m| m.field("namespace"))
                .and_then(Json::as_str)
                .filter(|s| !s.is_empty())
                .unwrap_or(default_namespace)
                .to_string()
        };
        let key = ObjectKey {
            group,
            kind: kind.to_string(),
            namespace,
            name: name.to_string(),
        };
        objects.push(Object {
            key,
            api_version: api_version.to_string(),
            source: doc.source,
            text: doc.text,
            value,
            list_doc,
            list_annotations,
        });
    }
    sort_install_order(&mut objects);
    let mut index = HashMap::with_capacity_and_hasher(objects.len(), FastHash::default());
    for (i, o) in objects.iter().enumerate() {
        if let Some(&first) = index.get(&o.key) {
            let first: &Object = &objects[first];
            return Err(ManifestError::Duplicate {
                key: o.key.to_string(),
                first: display_source(&first.source),
                second: display_source(&o.source),
            });
        }
        index.insert(o.key.clone(), i);
    }
    Ok(ManifestSet { objects, index })
}

/// The items of a list document (kubectl's `meta.IsListType`: a `kind` ending in `List` with an
/// `items` array), or None.
fn list_items(value: &Json) -> Option<Vec<Json>> {
    let kind = value.field("kind")?.as_str()?;
    if !kind.ends_with("List") {
        return None;
    }
    value.field("items")?.as_array().cloned()
}

/// Split and parse a whole manifest text.
pub fn parse_manifest(text: &str, default_namespace: &str) -> Result<ManifestSet, ManifestError> {
    parse_documents(split_documents(text), default_namespace)
}

fn display_source(s: &str) -> String {
    if s.is_empty() {
        "<manifest>".to_string()
    } else {
        s.to_string()
    }
}

/// Kinds that live outside namespaces (the built-in ones a chart may carry).
pub fn is_cluster_scoped(kind: &str) -> bool {
    matches!(
        kind,
        "Namespace"
            | "PersistentVolume"
            | "StorageClass"
            | "CustomResourceDefinition"
            | "ClusterRole"
            | "ClusterRoleList"
            | "ClusterRoleBinding"
            | "ClusterRoleBindingList"
            | "PriorityClass"
            | "IngressClass"
            | "APIService"
            | "MutatingWebhookConfiguration"
            | "ValidatingWebhookConfiguration"
            | "PodSecurityPolicy"
            | "CSIDriver"
            | "RuntimeClass"
            | "VolumeAttachment"
    )
}

/// Helm's `InstallOrder` (pkg/release/v1/util/kind_sorter.go, v4.1.4). The renderer
/// sorts by it too; it is defined here, below the renderer, because the planner and the executor
/// order objects by it without rendering.
pub const INSTALL_ORDER: &[&str] = &[
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

/// The hasher of lookups by keys the user's own chart spells (object identities, printed
/// scalars), looked up thousands of times in a large plan, where std's SipHash (DoS-resistant, for
/// untrusted keys) was a visible cost: foldhash, already hashbrown's. Only lookups use it (nothing
/// iterates these maps), so no output depends on it.
pub type FastHash = foldhash::fast::FixedState;

/// `serde_json::Value::pointer` without its cost: `pointer` builds an owned `String` for every
/// path segment (to undo `~0`/`~1` escapes), which was ~8 % of a 1,000-object plan. Paths here are
/// literals without escapes; one that has them goes to `pointer`.
pub trait JsonAt {
    fn at(&self, path: &str) -> Option<&Json>;
    /// `Value::get(key)` for a string key, through [`field`].
    fn field(&self, key: &str) -> Option<&Json>;
}

/// `map.get(key)` without hashing the key when the map is small, as most of an object's maps are:
/// `serde_json`'s ordered maps hash every key looked up with SipHash, which was ~8 % of a
/// 1,000-object plan; comparing a handful of short keys costs a fraction of that. Keys are unique,
/// so the first match is the entry `get` finds.
#[inline]
pub fn field<'a>(m: &'a serde_json::Map<String, Json>, key: &str) -> Option<&'a Json> {
    if m.len() <= 8 {
        m.iter().find(|(k, _)| k.as_str() == key).map(|(_, v)| v)
    } else {
        m.get(key)
    }
}

/// `a == b` for JSON values, without hashing a key when both maps hold the same keys in the
/// same order (two renders of one template do): serde_json's map equality looks every key up in
/// the other map. Maps with other key orders are compared as `==` does, order-insensitively.
pub fn json_eq(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Object(x), Json::Object(y)) => {
            if x.len() != y.len() {
                return false;
            }
            if x.keys().zip(y.keys()).all(|(p, q)| p == q) {
                x.values().zip(y.values()).all(|(p, q)| json_eq(p, q))
            } else {
                x.iter().all(|(k, v)| field(y, k).is_some_and(|w| json_eq(v, w)))
            }
        }
        (Json::Array(x), Json::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q)),
        _ => a == b,
    }
}

impl JsonAt for Json {
    fn field(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(m) => field(m, key),
            _ => None,
        }
    }

    fn at(&self, path: &str) -> Option<&Json> {
        if path.contains('~') || !(path.is_empty() || path.starts_with('/')) {
            return self.pointer(path);
        }
        let mut cur = self;
        for seg in path.split('/').skip(1) {
            cur = match cur {
                Json::Object(m) => field(m, seg)?,
                // As `pointer`: no sign, no leading zero.
                Json::Array(a) if !seg.starts_with('+') && (seg == "0" || !seg.starts_with('0')) => {
                    a.get(seg.parse::<usize>().ok()?)?
                }
                _ => return None,
            };
        }
        Some(cur)
    }
}

/// Rank of a kind in install order; unknown kinds after all known ones.
pub fn kind_rank(kind: &str) -> usize {
    INSTALL_ORDER
        .iter()
        .position(|k| *k == kind)
        .unwrap_or(INSTALL_ORDER.len())
}

/// Stable sort by install order; unknown kinds last, alphabetically by kind (as Helm does).
pub fn sort_install_order(objects: &mut [Object]) {
    // Each object's rank is looked up once (a stable sort by key), not twice per comparison: the
    // lookup scans the install order list.
    objects.sort_by_cached_key(|o| {
        let r = kind_rank(&o.key.kind);
        (
            r,
            if r == INSTALL_ORDER.len() {
                o.key.kind.clone()
            } else {
                String::new()
            },
        )
    });
}

#[cfg(test)]
mod tests {
    #[test]
    fn at_is_pointer() {
        let v: Json = serde_json::json!({"a": {"b": [1, {"c": "d"}], "": 2, "x/y": 3, "m~n": 4}});
        for p in [
            "", "/a", "/a/b", "/a/b/0", "/a/b/1/c", "/a/b/01", "/a/b/+1", "/a/b/2", "/a/", "/a/x~1y", "/a/m~0n", "/z",
            "/a/b/c", "a",
        ] {
            assert_eq!(v.at(p), v.pointer(p), "{p}");
        }
    }

    #[test]
    fn json_eq_is_eq() {
        let vals: Vec<Json> = [
            r#"{"a": 1, "b": {"c": [1, 2, {"d": null}]}}"#,
            r#"{"b": {"c": [1, 2, {"d": null}]}, "a": 1}"#,
            r#"{"a": 1, "b": {"c": [1, 2, {"d": 0}]}}"#,
            r#"{"a": 1.0, "b": {"c": [1, 2, {"d": null}]}}"#,
            r#"{"a": 1, "b": {"c": [1, 2]}}"#,
            r#"{"a": 1, "x": {"c": [1, 2, {"d": null}]}}"#,
            r#"{"a": 1}"#,
            r#"[1, {"a": "b"}]"#,
            r#"[1, {"a": "c"}]"#,
            r#""s""#,
            "null",
        ]
        .iter()
        .map(|t| serde_json::from_str(t).unwrap())
        .collect();
        for a in &vals {
            for b in &vals {
                assert_eq!(json_eq(a, b), a == b, "{a} {b}");
            }
        }
    }

    #[test]
    fn field_is_get_and_text_is_display() {
        // Maps below and above the size where `field` stops scanning, with every key looked up and
        // some absent ones.
        for n in [0, 1, 7, 8, 9, 20] {
            let m: serde_json::Map<String, Json> = (0..n).map(|i| (format!("k{i}"), Json::from(i))).collect();
            let v = Json::Object(m.clone());
            for k in (0..n + 2)
                .map(|i| format!("k{i}"))
                .chain(["".to_string(), "k".to_string()])
            {
                assert_eq!(field(&m, &k), m.get(&k), "{n} {k}");
                assert_eq!(v.field(&k), v.get(&k), "{n} {k}");
            }
        }
        assert_eq!(Json::from(1).field("a"), None);
        for (group, namespace) in [("", ""), ("apps", ""), ("", "ns"), ("apps", "ns")] {
            let k = ObjectKey {
                group: group.into(),
                kind: "Deployment".into(),
                namespace: namespace.into(),
                name: "web".into(),
            };
            assert_eq!(k.text(), k.to_string());
        }
    }

    use super::*;

    const TEXT: &str = "---\n# Source: c/templates/svc.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n  - port: 80\n---\n# Source: c/templates/deploy.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: other\n---\n# Source: c/templates/empty.yaml\n# nothing\n---\n# Source: c/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  on: yes\n";

    #[test]
    fn splits_like_helm_and_keys_objects() {
        let docs = split_documents(TEXT);
        assert_eq!(docs.len(), 3, "the comment-only document is dropped");
        assert_eq!(docs[0].source, "c/templates/svc.yaml");
        assert!(
            docs[0].text.starts_with("apiVersion: v1\nkind: Service\n"),
            "{:?}",
            docs[0].text
        );
        let set = parse_documents(docs, "prod").unwrap();
        let keys: Vec<String> = set.objects.iter().map(|o| o.key.to_string()).collect();
        // ConfigMap before Service before Deployment (install order).
        assert_eq!(
            keys,
            ["prod/ConfigMap/cfg", "prod/Service/web", "other/Deployment.apps/web"]
        );
    }

    /// Helm reads hook annotations from each document's own metadata: a List's, not its items'.
    #[test]
    fn hook_annotations_of_list_items_are_the_lists() {
        let text = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    \
                    name: a\n    annotations:\n      helm.sh/hook: pre-install\n---\napiVersion: v1\nkind: List\n\
                    metadata:\n  annotations:\n    helm.sh/hook: post-install\nitems:\n- apiVersion: v1\n  \
                    kind: List\n  items:\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata:\n      name: b\n\
                    ---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  annotations:\n    \
                    helm.sh/hook: pre-install\n";
        let set = parse_manifest(text, "ns").unwrap();
        let hook = |name: &str| {
            let o = set.objects.iter().find(|o| o.key.name == name).unwrap();
            (o.is_hook(), o.hook_annotation("helm.sh/hook").map(str::to_string))
        };
        assert_eq!(hook("a"), (false, None));
        // A List inside a hook List: the outer document's annotations still count.
        assert_eq!(hook("b"), (true, Some("post-install".into())));
        assert_eq!(hook("c"), (true, Some("pre-install".into())));
    }

    #[test]
    fn yaml_11_scalars() {
        let set = parse_manifest(TEXT, "default").unwrap();
        let cm = &set.objects[0];
        // YAML 1.1 (go-yaml v2, as Kubernetes reads manifests): `yes` is the boolean true.
        let data = cm.value.at("/data").unwrap().as_object().unwrap();
        assert_eq!(data.values().next(), Some(&Json::Bool(true)));
    }

    #[test]
    fn separators_as_helms_kube_client_reads_them() {
        let docs = split_documents("---\n--- # c\na: 1\n---   \n\n---\nb: 2\n---x: 3\n");
        let texts: Vec<&str> = docs.iter().map(|d| d.text.as_str()).collect();
        assert_eq!(texts, ["a: 1\n", "b: 2\n---x: 3\n"]);
    }

    #[test]
    fn separator_needs_line_start() {
        let docs = split_documents("a: 1\nb: x---y\n---\nc: 2\n");
        assert_eq!(docs.len(), 2);
    }

    #[test]
    fn duplicate_is_an_error() {
        let t = "kind: ConfigMap\napiVersion: v1\nmetadata: {name: a}\n---\nkind: ConfigMap\napiVersion: v1\nmetadata: {name: a}\n";
        assert!(matches!(parse_manifest(t, "d"), Err(ManifestError::Duplicate { .. })));
    }

    #[test]
    fn missing_kind_is_an_error_not_a_panic() {
        assert!(parse_manifest("apiVersion: v1\nmetadata: {name: a}\n", "d").is_err());
        assert!(parse_manifest("- 1\n- 2\n", "d").is_err());
        assert!(parse_manifest("a: [\n", "d").is_err());
    }

    #[test]
    fn cluster_scoped_objects_have_no_namespace() {
        let set = parse_manifest("apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: pv}\n", "x").unwrap();
        assert_eq!(set.objects[0].key.namespace, "");
    }
}
