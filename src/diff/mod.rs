//! Object-by-object comparison of two manifest sets.
//!
//! Every object of either side gets one [`ObjectChange`]: add, change, remove, unchanged, recreate,
//! or — for a workload that keeps its name or component identity but changes kind (Deployment ↔
//! StatefulSet ↔ DaemonSet) — one `kind-change` instead of an unrelated add and remove, because
//! that is what the upgrade means to a reviewer and what the volume analysis must pair.
//!
//! Changes to fields Kubernetes refuses to update (StatefulSet spec outside the mutable list,
//! workload selectors, Job templates, PVC spec other than a storage increase, Service clusterIP)
//! turn a change into a *recreate*: `helm upgrade` would fail on them, so the plan says so before
//! anything is applied, together with the consequence.
//!
//! Diffs are unified diffs (the `similar` crate) of a canonical YAML form of each object, so
//! formatting differences between renders do not show up as changes. Secret `data` and
//! `stringData` values are masked unless asked otherwise: a reviewer sees that a key changed and
//! its size, never the value.

mod emit;
pub mod normalize;

use crate::manifest::JsonAt as _;
use std::collections::{BTreeSet, HashMap, HashSet};

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

use crate::manifest::{ManifestSet, Object, ObjectKey};

/// How to diff.
#[derive(Debug, Clone)]
pub struct DiffOptions {
    /// Lines of context around each hunk.
    pub context: usize,
    /// Show Secret values instead of masking them.
    pub show_secrets: bool,
    /// The old side's keys may be placeholders (`plan::source::NativeUnapplied`): where a value
    /// holds one, [`PLACEHOLDER_SHOWN`] says so on that side (`explained_text`).
    pub old_placeholders: bool,
}

impl Default for DiffOptions {
    fn default() -> Self {
        DiffOptions {
            context: 3,
            show_secrets: false,
            old_placeholders: false,
        }
    }
}

/// What happens to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Add,
    Change,
    /// Deleted and created again (an immutable field changed).
    Recreate,
    /// The same component as another kind of workload: the old object is deleted, the new created.
    KindChange,
    Remove,
    Unchanged,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Add => "add",
            Action::Change => "change",
            Action::Recreate => "recreate",
            Action::KindChange => "kind-change",
            Action::Remove => "remove",
            Action::Unchanged => "unchanged",
        }
    }
}

/// One field Kubernetes will not let an update change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImmutableField {
    /// Dotted path, e.g. `spec.volumeClaimTemplates`.
    pub field: String,
    /// What changed, in words.
    pub detail: String,
}

/// The comparison result for one object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectChange {
    pub action: Action,
    /// The object's identity after the upgrade (before it, for a removal).
    pub key: ObjectKey,
    /// For a kind change: the identity before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_key: Option<ObjectKey>,
    /// Immutable fields that force a recreate.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub immutable: Vec<ImmutableField>,
    /// What the recreate or kind change means, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consequence: Option<String>,
    /// Other remarks (e.g. a PVC expansion needs allowVolumeExpansion).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub notes: Vec<String>,
    /// Unified diff of the canonical YAML (empty when unchanged).
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub diff: String,
    pub lines_added: usize,
    pub lines_removed: usize,
}

/// Compare two sets. The result lists changes in the new set's install order, then removals in
/// the old set's order.
pub fn diff(old: &ManifestSet, new: &ManifestSet, opts: &DiffOptions) -> Vec<ObjectChange> {
    // Pair kind changes first: an old workload absent from the new set with a new workload absent
    // from the old set, same namespace, different workload kind, same name or component identity.
    let removed: Vec<&Object> = old.objects.iter().filter(|o| new.get(&o.key).is_none()).collect();
    let added: Vec<&Object> = new.objects.iter().filter(|o| old.get(&o.key).is_none()).collect();
    let mut pair_of_new: HashMap<&ObjectKey, &Object> = HashMap::new();
    let mut paired_old: HashSet<&ObjectKey> = HashSet::new();
    for n in added.iter().filter(|o| is_pod_controller(&o.key.kind)) {
        let candidate = removed
            .iter()
            .filter(|o| is_pod_controller(&o.key.kind) && o.key.kind != n.key.kind)
            .filter(|o| o.key.namespace == n.key.namespace && !paired_old.contains(&o.key))
            .find(|o| o.key.name == n.key.name)
            .or_else(|| {
                let id = component_identity(n)?;
                removed
                    .iter()
                    .filter(|o| is_pod_controller(&o.key.kind) && o.key.kind != n.key.kind)
                    .filter(|o| o.key.namespace == n.key.namespace && !paired_old.contains(&o.key))
                    .find(|o| component_identity(o).as_ref() == Some(&id))
            });
        if let Some(o) = candidate {
            paired_old.insert(&o.key);
            pair_of_new.insert(&n.key, o);
        }
    }

    let one = |n: &Object| -> ObjectChange {
        if let Some(o) = old.get(&n.key) {
            compare(o, n, opts)
        } else if let Some(o) = pair_of_new.get(&n.key) {
            let (a, b) = canonical_pair(Some(o), Some(n), opts);
            let (diff, plus, minus) = unified(&a, &b, &o.key.text(), &n.key.text(), opts.context);
            ObjectChange {
                action: Action::KindChange,
                key: n.key.clone(),
                old_key: Some(o.key.clone()),
                immutable: vec![ImmutableField {
                    field: "kind".into(),
                    detail: format!("{} → {}", o.key.kind, n.key.kind),
                }],
                consequence: Some(format!(
                    "The {} {} is deleted and a {} of the same component is created: its pods are replaced \
                     all at once, and any volume the new {} does not mount by the same claim name is left \
                     behind or deleted (see the volume verdicts).",
                    o.key.kind, o.key.name, n.key.kind, n.key.kind
                )),
                notes: vec![],
                diff,
                lines_added: plus,
                lines_removed: minus,
            }
        } else {
            let (a, b) = canonical_pair(None, Some(n), opts);
            let (diff, plus, minus) = unified(&a, &b, "/dev/null", &n.key.text(), opts.context);
            ObjectChange {
                action: Action::Add,
                key: n.key.clone(),
                old_key: None,
                immutable: vec![],
                consequence: None,
                notes: vec![],
                diff,
                lines_added: plus,
                lines_removed: minus,
            }
        }
    };
    // Objects are compared independently: on large releases the two halves go to two threads
    // (canonical YAML and unified diffs of 1,000 objects are most of the planner's own work).
    let mut out = Vec::with_capacity(new.len() + removed.len());
    if new.objects.len() >= 64 {
        let (a, b) = new.objects.split_at(new.objects.len() / 2);
        let second = std::thread::scope(|s| {
            let t = s.spawn(|| b.iter().map(one).collect::<Vec<_>>());
            out.extend(a.iter().map(one));
            t.join()
        });
        match second {
            Ok(v) => out.extend(v),
            Err(p) => std::panic::resume_unwind(p),
        }
    } else {
        out.extend(new.objects.iter().map(one));
    }
    for o in removed.iter().filter(|o| !paired_old.contains(&o.key)) {
        let (a, b) = canonical_pair(Some(o), None, opts);
        let (diff, plus, minus) = unified(&a, &b, &o.key.text(), "/dev/null", opts.context);
        let mut notes = vec![];
        if o.kept_on_delete() {
            notes.push("annotated helm.sh/resource-policy: keep — Helm leaves it in the cluster, unmanaged".into());
        }
        out.push(ObjectChange {
            action: Action::Remove,
            key: o.key.clone(),
            old_key: None,
            immutable: vec![],
            consequence: None,
            notes,
            diff,
            lines_added: plus,
            lines_removed: minus,
        });
    }
    out
}

fn compare(o: &Object, n: &Object, opts: &DiffOptions) -> ObjectChange {
    // The same text reads as the same value: no need to walk it.
    if o.text == n.text || crate::manifest::json_eq(&o.value, &n.value) {
        return ObjectChange {
            action: Action::Unchanged,
            key: n.key.clone(),
            old_key: None,
            immutable: vec![],
            consequence: None,
            notes: vec![],
            diff: String::new(),
            lines_added: 0,
            lines_removed: 0,
        };
    }
    let (immutable, mut notes) = immutable_changes(&n.key.kind, &n.key.group, &o.value, &n.value);
    let (a, b) = canonical_pair(Some(o), Some(n), opts);
    let (diff, plus, minus) = unified(&a, &b, &o.key.text(), &n.key.text(), opts.context);
    if diff.is_empty() && !opts.show_secrets {
        notes.push("only masked Secret values or formatting differ".into());
    }
    if n.key.kind == "StatefulSet"
        && n.value.at("/spec/updateStrategy/type").and_then(Json::as_str) == Some("OnDelete")
        && o.value.at("/spec/template") != n.value.at("/spec/template")
    {
        notes.push(
            "updateStrategy OnDelete: the new pod template takes effect only when pods are deleted; apply replaces \
             them one at a time, highest ordinal first, waiting for each to be ready"
                .into(),
        );
    }
    let action = if immutable.is_empty() {
        Action::Change
    } else {
        Action::Recreate
    };
    let consequence = (!immutable.is_empty()).then(|| recreate_consequence(&n.key, &immutable));
    ObjectChange {
        action,
        key: n.key.clone(),
        old_key: (o.key != n.key).then(|| o.key.clone()),
        immutable,
        consequence,
        notes,
        diff,
        lines_added: plus,
        lines_removed: minus,
    }
}

/// Labels every chart bump rewrites: a change touching only these is churn, not a decision.
const CHURN_LABELS: &[&str] = &["helm.sh/chart:", "app.kubernetes.io/version:"];

/// A change whose diff only rewrites churn labels (`helm.sh/chart`, `app.kubernetes.io/version`),
/// as helm-diff's `--suppress` would hide them.
pub fn label_only(c: &ObjectChange) -> bool {
    // A Secret's masked values could change unseen beside its labels: never call it churn.
    if c.action != Action::Change || c.diff.is_empty() || c.key.kind == "Secret" {
        return false;
    }
    let mut any = false;
    for l in c.diff.lines() {
        if l.starts_with("+++") || l.starts_with("---") {
            continue;
        }
        if let Some(rest) = l.strip_prefix('+').or_else(|| l.strip_prefix('-')) {
            let t = rest.trim_start();
            if !CHURN_LABELS.iter().any(|p| t.starts_with(p)) {
                return false;
            }
            any = true;
        }
    }
    any
}

/// Deployment, StatefulSet, DaemonSet: the kinds one component may move between.
pub fn is_pod_controller(kind: &str) -> bool {
    matches!(kind, "Deployment" | "StatefulSet" | "DaemonSet")
}

/// A workload's component identity from its labels: (`app.kubernetes.io/name` or `app`,
/// `app.kubernetes.io/component` or `component`), from the object's labels or its pod template's.
/// None when there is no component label: then only the name can pair two objects.
pub fn component_identity(o: &Object) -> Option<(String, String)> {
    let labels = |ptr: &str| o.value.at(ptr).and_then(Json::as_object);
    for ptr in ["/metadata/labels", "/spec/template/metadata/labels"] {
        let Some(l) = labels(ptr) else { continue };
        let get = |k: &str| crate::manifest::field(l, k).and_then(Json::as_str).map(str::to_string);
        let component = get("app.kubernetes.io/component").or_else(|| get("component"));
        if let Some(c) = component {
            let name = get("app.kubernetes.io/name").or_else(|| get("app")).unwrap_or_default();
            let instance = get("app.kubernetes.io/instance")
                .or_else(|| get("release"))
                .unwrap_or_default();
            return Some((format!("{instance}/{name}"), c));
        }
    }
    None
}

/// A short name for the component a workload serves: the component label, else the object name.
pub fn component_name(o: &Object) -> String {
    component_identity(o)
        .map(|(_, c)| c)
        .unwrap_or_else(|| o.key.name.clone())
}

const STS_MUTABLE: &[&str] = &[
    "replicas",
    "template",
    "updateStrategy",
    "persistentVolumeClaimRetentionPolicy",
    "minReadySeconds",
    "ordinals",
];

/// Immutable-field changes between two versions of one object, plus notes for allowed changes
/// that need attention.
pub fn immutable_changes(kind: &str, group: &str, old: &Json, new: &Json) -> (Vec<ImmutableField>, Vec<String>) {
    let mut out = Vec::new();
    let mut notes = Vec::new();
    // Borrowed: cloning every changed object's spec was a visible part of large plans.
    static NULL: Json = Json::Null;
    let (os, ns) = (old.field("spec").unwrap_or(&NULL), new.field("spec").unwrap_or(&NULL));
    // Compared as the server stores them: a spelt-out default, a null or an empty value is not a
    // change the server refuses (only the kinds with immutable rules pay for the copy).
    let server = |s: &Json| normalize::server_spec(group, kind, s);
    // Only the selector of these is immutable: normalizing the whole spec (the pod template) was
    // ~5 % of a 1,000-object plan's instructions (benches/PROFILE.md). The selector alone, at the
    // same path, normalizes the same.
    let selector_only = |s: &Json| match s.field("selector") {
        Some(sel) => serde_json::json!({ "selector": sel }),
        None => Json::Null,
    };
    let kept;
    let (os, ns) = match (group, kind) {
        ("apps", "Deployment" | "DaemonSet" | "ReplicaSet") => {
            kept = (server(&selector_only(os)), server(&selector_only(ns)));
            (&kept.0, &kept.1)
        }
        ("apps", "StatefulSet") | ("batch", "Job") | ("", "PersistentVolumeClaim" | "Service") => {
            kept = (server(os), server(ns));
            (&kept.0, &kept.1)
        }
        _ => (os, ns),
    };
    if let ("", "Secret" | "ConfigMap") = (group, kind) {
        immutable_data(kind, old, new, &mut out);
    }
    match (group, kind) {
        ("apps", "StatefulSet") => {
            let keys: BTreeSet<&String> = obj_keys(&os).chain(obj_keys(&ns)).collect();
            for k in keys {
                if STS_MUTABLE.contains(&k.as_str()) {
                    continue;
                }
                let (a, b) = (os.field(k), ns.field(k));
                if a != b {
                    out.push(ImmutableField {
                        field: format!("spec.{k}"),
                        detail: describe_change(k, a, b),
                    });
                }
            }
        }
        ("apps", "Deployment") | ("apps", "DaemonSet") | ("apps", "ReplicaSet") => {
            if os.field("selector") != ns.field("selector") {
                out.push(ImmutableField {
                    field: "spec.selector".into(),
                    detail: describe_change("selector", os.field("selector"), ns.field("selector")),
                });
            }
        }
        ("batch", "Job") => {
            // completions too: Kubernetes before 1.27 refuses any change (later only for Indexed
            // Jobs); a connected plan confirms each predicted recreate with the server.
            for k in ["selector", "template", "completions"] {
                if os.field(k) != ns.field(k) {
                    out.push(ImmutableField {
                        field: format!("spec.{k}"),
                        detail: describe_change(k, os.field(k), ns.field(k)),
                    });
                }
            }
        }
        ("", "PersistentVolumeClaim") => {
            let storage = |s: &Json| s.at("/resources/requests/storage").cloned();
            let (a, b) = (storage(os), storage(ns));
            if a != b {
                let (qa, qb) = (a.as_ref().and_then(quantity_bytes), b.as_ref().and_then(quantity_bytes));
                match (qa, qb) {
                    (Some(x), Some(y)) if y > x => notes.push(format!(
                        "storage request grows {} → {}: needs allowVolumeExpansion on the StorageClass",
                        show(a.as_ref()),
                        show(b.as_ref())
                    )),
                    _ => out.push(ImmutableField {
                        field: "spec.resources.requests.storage".into(),
                        detail: format!("{} → {} (a claim can only grow)", show(a.as_ref()), show(b.as_ref())),
                    }),
                }
            }
            let strip = |s: &Json| {
                let mut s = s.clone();
                if let Some(r) = s.pointer_mut("/resources/requests").and_then(Json::as_object_mut) {
                    r.remove("storage");
                }
                s
            };
            let (sa, sb) = (strip(os), strip(ns));
            let keys: BTreeSet<&String> = obj_keys(&sa).chain(obj_keys(&sb)).collect();
            for k in keys {
                if sa.get(k) != sb.get(k) {
                    out.push(ImmutableField {
                        field: format!("spec.{k}"),
                        detail: describe_change(k, sa.get(k), sb.get(k)),
                    });
                }
            }
        }
        ("", "Service") => {
            let (a, b) = (os.field("clusterIP"), ns.field("clusterIP"));
            // Leaving clusterIP out keeps the allocated one; setting a different one (or switching
            // to or from a headless `None`) is refused.
            let differs = match (a.and_then(Json::as_str), b.and_then(Json::as_str)) {
                (x, Some(y)) => x != Some(y) && !(x.is_none() && y.is_empty()),
                (Some("None"), None) => true,
                _ => false,
            };
            if differs {
                out.push(ImmutableField {
                    field: "spec.clusterIP".into(),
                    detail: describe_change("clusterIP", a, b),
                });
            }
            // Type changes the server accepts (1.20+ drops the clusterIP and nodePorts the new
            // type does not use), but clients notice: said as a note with what to check.
            let ty = |s: &Json| {
                s.field("type")
                    .and_then(Json::as_str)
                    .unwrap_or("ClusterIP")
                    .to_string()
            };
            let (ta, tb) = (ty(os), ty(ns));
            if ta != tb {
                let what = match (ta.as_str(), tb.as_str()) {
                    (_, "ExternalName") => "its cluster IP is released: clients that cached the address fail",
                    ("ExternalName", _) => "the DNS name becomes an A record of a new cluster IP",
                    ("NodePort" | "LoadBalancer", _) => {
                        "its node ports (and load balancer) are released: external clients lose the address"
                    }
                    _ => "new node ports or a load balancer are allocated: the external address is new",
                };
                notes.push(format!(
                    "Service type {ta} → {tb}: {what}; servers before Kubernetes 1.20 refuse the update while the \
                     old type's clusterIP or nodePorts remain (then delete the Service first)"
                ));
            }
        }
        _ => {}
    }
    (out, notes)
}

/// An `immutable: true` Secret or ConfigMap whose data changes, and a Secret whose `type`
/// changes: the server refuses both updates (`field is immutable when immutable is set`, `type`
/// is immutable), so the object must be deleted and created again.
fn immutable_data(kind: &str, old: &Json, new: &Json, out: &mut Vec<ImmutableField>) {
    if old.field("immutable").and_then(Json::as_bool) == Some(true) {
        for k in ["data", "binaryData", "stringData"] {
            if old.get(k) != new.get(k) {
                out.push(ImmutableField {
                    field: k.into(),
                    detail: format!("the {kind} is immutable: true and its {k} changes"),
                });
            }
        }
        if new.field("immutable").and_then(Json::as_bool) != Some(true) {
            out.push(ImmutableField {
                field: "immutable".into(),
                detail: "true → (unset): an immutable object cannot be made mutable".into(),
            });
        }
    }
    if kind == "Secret" {
        let ty = |v: &Json| v.field("type").and_then(Json::as_str).unwrap_or("Opaque").to_string();
        if ty(old) != ty(new) {
            out.push(ImmutableField {
                field: "type".into(),
                detail: format!("{} → {}", ty(old), ty(new)),
            });
        }
    }
}

fn obj_keys(v: &Json) -> impl Iterator<Item = &String> {
    v.as_object().into_iter().flat_map(|m| m.keys())
}

fn show(v: Option<&Json>) -> String {
    match v {
        None => "(unset)".into(),
        Some(Json::String(s)) => s.clone(),
        Some(v) => v.to_string(),
    }
}

fn describe_change(field: &str, a: Option<&Json>, b: Option<&Json>) -> String {
    match (a, b) {
        (None, Some(y)) if !y.is_object() && !y.is_array() => format!("(unset) → {}", show(b)),
        (Some(x), None) if !x.is_object() && !x.is_array() => format!("{} → (unset)", show(a)),
        (None, Some(_)) => "added".into(),
        (Some(_), None) => "removed".into(),
        (Some(x), Some(y)) if field == "volumeClaimTemplates" => {
            let names = |v: &Json| -> Vec<String> {
                v.as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|t| t.at("/metadata/name").and_then(Json::as_str).map(str::to_string))
                    .collect()
            };
            let (na, nb) = (names(x), names(y));
            if na != nb {
                format!("templates [{}] → [{}]", na.join(", "), nb.join(", "))
            } else {
                format!("template contents of [{}] changed", nb.join(", "))
            }
        }
        (Some(x), Some(y)) if !x.is_object() && !x.is_array() && !y.is_object() && !y.is_array() => {
            format!("{} → {}", show(a), show(b))
        }
        _ => "changed".into(),
    }
}

fn recreate_consequence(key: &ObjectKey, fields: &[ImmutableField]) -> String {
    let list = fields.iter().map(|f| f.field.as_str()).collect::<Vec<_>>().join(", ");
    match key.kind.as_str() {
        "StatefulSet" => format!(
            "Kubernetes refuses to update {list} of a StatefulSet, so `helm upgrade` would fail. The StatefulSet \
             {} is deleted with its pods and claims orphaned and created again; `chartup apply` then replaces the \
             old pods one at a time, ordinal 0 first, each on its same claim (by hand, `kubectl delete --cascade=orphan` \
             alone leaves old pods holding the names the new StatefulSet needs). Existing claims are not changed by \
             a new volumeClaimTemplate.",
            key.name
        ),
        "Deployment" | "DaemonSet" | "ReplicaSet" => format!(
            "{list} is immutable in apps/v1: the {} {} is deleted with its pods orphaned and created again; \
             `chartup apply` then removes the old pods one at a time once the new ones are ready (a DaemonSet's \
             node by node), leaving none behind.",
            key.kind, key.name
        ),
        "Job" => format!(
            "A Job's {list} cannot change: the old Job {} (with its pods and logs) is deleted before the new one runs.",
            key.name
        ),
        "PersistentVolumeClaim" => format!(
            "A claim's spec cannot change except to grow its storage ({list} changed): recreating the claim {} \
             deletes it, and its volume goes with the storage class's reclaim policy.",
            key.name
        ),
        "Service" => format!(
            "{list} is immutable: the Service {} is deleted and created again; clients holding the old address \
             fail until they resolve the name again.",
            key.name
        ),
        "Secret" | "ConfigMap" => format!(
            "The server refuses to update {list} of this {kind}, so `helm upgrade` would fail: the {kind} {name} is \
             deleted and created again; pods that mount it keep the old content until they restart, and between \
             the delete and the create a starting pod cannot mount it. Workaround: give the new content a new name \
             (a content hash in the name) so both exist while pods move over.",
            kind = key.kind,
            name = key.name
        ),
        _ => format!("{list} cannot be updated in place: the object is deleted and created again."),
    }
}

/// Bytes of a Kubernetes quantity (`10Gi`, `500M`, `1.5Ti`, `100m`); None if malformed.
pub fn quantity_bytes(v: &Json) -> Option<f64> {
    let s = match v {
        Json::String(s) => s.trim().to_string(),
        Json::Number(n) => return n.as_f64(),
        _ => return None,
    };
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(s.len());
    let (num, suffix) = s.split_at(split);
    let n: f64 = num.parse().ok()?;
    let mult = match suffix {
        "" => 1.0,
        "Ki" => 1024f64,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        s if s.starts_with(['e', 'E']) => 10f64.powi(s[1..].parse().ok()?),
        _ => return None,
    };
    Some(n * mult)
}

/// Canonical YAML texts of both sides, with Secret values masked unless `show_secrets`.
fn canonical_pair(o: Option<&Object>, n: Option<&Object>, opts: &DiffOptions) -> (String, String) {
    let is_secret = |x: &Object| x.key.kind == "Secret" && x.key.group.is_empty();
    let secret = o.is_some_and(is_secret) || n.is_some_and(is_secret);
    // The old side of a chart-to-chart plan: its values holding a placeholder key say so.
    let explained = o
        .filter(|x| opts.old_placeholders && holds_placeholder(&x.value))
        .map(|x| {
            let mut v = x.value.clone();
            explain_placeholders(&mut v);
            v
        });
    let mask = secret && !opts.show_secrets;
    if explained.is_none() && !mask {
        // Nothing to mask or explain: print the parsed values as they are, without copying them.
        return (
            o.map(|x| to_yaml(&x.value)).unwrap_or_default(),
            n.map(|x| to_yaml(&x.value)).unwrap_or_default(),
        );
    }
    let mut a = explained.or_else(|| o.map(|x| x.value.clone()));
    let mut b = n.map(|x| x.value.clone());
    if mask {
        mask_secrets(a.as_mut(), b.as_mut());
    }
    (
        a.map(|v| to_yaml(&v)).unwrap_or_default(),
        b.map(|v| to_yaml(&v)).unwrap_or_default(),
    )
}

/// What an old side's value that holds a placeholder key reads in a plan.
pub const PLACEHOLDER_SHOWN: &str = "(not generated for the old side; keys are new on every render)";

/// Whether a string holds a placeholder key, as text or base64.
fn is_placeholder_text(s: &str) -> bool {
    use crate::template::funcs::crypto::is_placeholder;
    // A placeholder is ≈ 150 bytes, so its base64 is longer than 190 characters.
    is_placeholder(s)
        || (s.len() > 190
            && base64::engine::general_purpose::STANDARD
                .decode(s.trim())
                .is_ok_and(|b| is_placeholder(&String::from_utf8_lossy(&b))))
}

fn holds_placeholder(v: &Json) -> bool {
    match v {
        Json::String(s) => is_placeholder_text(s),
        Json::Array(items) => items.iter().any(holds_placeholder),
        Json::Object(m) => m.values().any(holds_placeholder),
        _ => false,
    }
}

/// What a string holding a placeholder key reads: [`PLACEHOLDER_SHOWN`] when it is nothing but
/// placeholder blocks (or base64); in a longer text (a configuration file around a certificate)
/// only each placeholder's line, so the rest of the old text still shows in the diff.
fn explained_text(s: &str) -> String {
    use crate::template::funcs::crypto::PLACEHOLDER_MARK;
    let armour = |l: &str| {
        (l.starts_with("-----BEGIN ") || l.starts_with("-----END ")) && l.ends_with("-----") || l == PLACEHOLDER_MARK
    };
    if !s.contains(PLACEHOLDER_MARK) || s.lines().map(str::trim).all(|l| l.is_empty() || armour(l)) {
        return PLACEHOLDER_SHOWN.to_string();
    }
    s.replace(PLACEHOLDER_MARK, PLACEHOLDER_SHOWN)
}

/// Replace what every string of `v` holding a placeholder key says by [`explained_text`].
fn explain_placeholders(v: &mut Json) {
    match v {
        Json::String(s) if is_placeholder_text(s) => *s = explained_text(s),
        Json::Array(items) => items.iter_mut().for_each(explain_placeholders),
        Json::Object(m) => m.values_mut().for_each(explain_placeholders),
        _ => {}
    }
}

/// Replace Secret values by their size: `(hidden, 12 bytes)`; on the new side, a value that
/// differs from the old reads `(hidden) changed (12 bytes)`, so a change of equal length still
/// shows. `data` sizes are of the decoded bytes.
pub fn mask_secrets(mut old: Option<&mut Json>, mut new: Option<&mut Json>) {
    for field in ["data", "stringData"] {
        let size = |v: &Json| -> usize {
            match v.as_str() {
                Some(s) if field == "data" => base64::engine::general_purpose::STANDARD
                    .decode(s.trim())
                    .map(|b| b.len())
                    .unwrap_or(s.len()),
                Some(s) => s.len(),
                None => v.to_string().len(),
            }
        };
        let old_map: Option<Map<String, Json>> = old
            .as_deref()
            .and_then(|v| v.get(field))
            .and_then(Json::as_object)
            .cloned();
        if let Some(m) = new
            .as_deref_mut()
            .and_then(|v| v.get_mut(field))
            .and_then(Json::as_object_mut)
        {
            for (k, val) in m.iter_mut() {
                let text = match old_map.as_ref().and_then(|om| om.get(k)) {
                    Some(b) if b != val => format!("(hidden) changed ({} bytes)", size(val)),
                    _ => format!("(hidden, {} bytes)", size(val)),
                };
                *val = Json::String(text);
            }
        }
        if let Some(m) = old
            .as_deref_mut()
            .and_then(|v| v.get_mut(field))
            .and_then(Json::as_object_mut)
        {
            for val in m.values_mut() {
                // A placeholder says so; a text around one stays hidden (its size is not the real one).
                *val = Json::String(match val.as_str() {
                    Some(s) if s.contains(PLACEHOLDER_SHOWN) => PLACEHOLDER_SHOWN.to_string(),
                    _ => format!("(hidden, {} bytes)", size(val)),
                });
            }
        }
    }
}

/// Canonical YAML of a value (serde-saphyr, block style, no folding).
pub fn to_yaml(v: &Json) -> String {
    if let Some(text) = emit::to_yaml(v) {
        return text;
    }
    let mut opts = serde_saphyr::SerializerOptions::default();
    opts.folded_wrap_chars = 100_000;
    serde_saphyr::to_string_with_options(v, opts).unwrap_or_else(|_| format!("{v:#}\n"))
}

/// A unified diff of two texts, with the count of added and removed lines.
pub fn unified(a: &str, b: &str, name_a: &str, name_b: &str, context: usize) -> (String, usize, usize) {
    if a == b {
        return (String::new(), 0, 0);
    }
    let d = similar::TextDiff::from_lines(a, b);
    // Counted from the ops' ranges (walking every change of every op cost as much as the diff).
    let (mut plus, mut minus) = (0, 0);
    for op in d.ops() {
        let (tag, old, new) = op.as_tag_tuple();
        match tag {
            similar::DiffTag::Equal => {}
            similar::DiffTag::Delete => minus += old.len(),
            similar::DiffTag::Insert => plus += new.len(),
            similar::DiffTag::Replace => {
                minus += old.len();
                plus += new.len();
            }
        }
    }
    (write_unified(&d, name_a, name_b, context), plus, minus)
}

/// `similar`'s unified diff text, written directly: its `Display` implementation formats every
/// line through `fmt` (a visible part of a 1,000-object plan). `tests::unified_text_is_similars`
/// compares both.
fn write_unified(d: &similar::TextDiff<'_, '_, str>, name_a: &str, name_b: &str, context: usize) -> String {
    use std::fmt::Write as _;
    let range = |start: usize, end: usize| {
        let len = end.saturating_sub(start);
        match len {
            1 => (start + 1).to_string(),
            0 => format!("{start},0"),
            _ => format!("{},{len}", start + 1),
        }
    };
    let mut out = String::new();
    for (i, ops) in d.grouped_ops(context).into_iter().filter(|g| !g.is_empty()).enumerate() {
        if i == 0 {
            let _ = writeln!(out, "--- {name_a}\n+++ {name_b}");
        }
        let (first, last) = (&ops[0], &ops[ops.len() - 1]);
        let _ = writeln!(
            out,
            "@@ -{} +{} @@",
            range(first.old_range().start, last.old_range().end),
            range(first.new_range().start, last.new_range().end)
        );
        for op in &ops {
            for change in d.iter_changes(op) {
                out.push(match change.tag() {
                    similar::ChangeTag::Equal => ' ',
                    similar::ChangeTag::Delete => '-',
                    similar::ChangeTag::Insert => '+',
                });
                out.push_str(change.value());
                if !d.newline_terminated() {
                    out.push('\n');
                } else if change.missing_newline() {
                    out.push_str("\n\\ No newline at end of file\n");
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
