//! Finishing a recreate: the pods a deleted workload left behind are replaced one at a time.
//!
//! A workload whose immutable fields change (selector, serviceName, volumeClaimTemplates…) is
//! deleted with its dependents orphaned and created again, so its pods keep serving and its
//! claims stay. What happens to those orphans next depends on whether they still match the new
//! selector:
//!
//! - they match: the new controller adopts them and rolls them as any update (`roll`);
//! - they do not (the label scheme changed), and nothing ever removes them on its own:
//!   - StatefulSet: the orphans hold the names (`db-0`) the new controller must create, so it
//!     fails on `AlreadyExists` forever — the `kubectl delete --cascade=orphan` trap. Each is
//!     deleted in the order the controller creates pods (ordinal 0 up), and the next waits until
//!     the new controller's pod of that name is Ready: it mounts the same claim, so data stays.
//!   - Deployment: the orphaned ReplicaSets keep their pods. Once the new Deployment is available
//!     they are scaled down a pod at a time, then deleted (make before break).
//!   - DaemonSet: old and new pods run side by side; node by node, the old pod goes once the new
//!     pod on that node is Ready (or at once when the new pod cannot be scheduled beside it).
//!
//! Leftovers are only ever recognised by all of: no controller owner, labels matching the OLD
//! selector but not the new one, and the name its controller gives them (`<set>-<ordinal>`,
//! `<deployment>-<pod-template-hash>`, `<daemonset>-xxxxx`). Orphaned ControllerRevisions of the
//! old object are deleted last. Every action is journaled first.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use serde_json::{json, Value as Json};

use super::error::{broken, ApplyError};
use super::objects::obj_ref;
use super::progress::{ms, Beat, Progress};
use super::runner::Run;
use crate::cluster::{Cascade, ObjRef};
use crate::executor::health::{pod_health, PodHealth};
use crate::manifest::Object;

/// A label selector (`matchLabels` and `matchExpressions`), as workloads carry it.
#[derive(Debug, Clone, PartialEq)]
pub struct Selector {
    labels: BTreeMap<String, String>,
    exprs: Vec<(String, String, Vec<String>)>,
}

impl Selector {
    /// The workload's `spec.selector`; `None` when it has none or an empty one (which would match
    /// everything, so nothing may be cleaned up by it).
    pub fn of(workload: &Json) -> Option<Selector> {
        let sel = workload.pointer("/spec/selector")?;
        let labels: BTreeMap<String, String> = sel
            .get("matchLabels")
            .and_then(Json::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let exprs: Vec<(String, String, Vec<String>)> = sel
            .get("matchExpressions")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
            .map(|e| {
                let s = |k: &str| e.get(k).and_then(Json::as_str).unwrap_or("").to_string();
                let values = e
                    .get("values")
                    .and_then(Json::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect();
                (s("key"), s("operator"), values)
            })
            .collect();
        (!labels.is_empty() || !exprs.is_empty()).then_some(Selector { labels, exprs })
    }

    /// Whether an object with these labels is selected (Kubernetes' label selector semantics;
    /// an unknown operator selects nothing).
    pub fn matches(&self, labels: Option<&Json>) -> bool {
        let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Json::as_str);
        self.labels.iter().all(|(k, v)| get(k) == Some(v.as_str()))
            && self.exprs.iter().all(|(k, op, values)| match op.as_str() {
                "In" => get(k).is_some_and(|v| values.iter().any(|x| x == v)),
                "NotIn" => get(k).is_none_or(|v| values.iter().all(|x| x != v)),
                "Exists" => get(k).is_some(),
                "DoesNotExist" => get(k).is_none(),
                _ => false,
            })
    }

    /// The `matchLabels` part as a label selector string, to narrow a list on the server.
    fn server_filter(&self) -> Option<String> {
        (!self.labels.is_empty()).then(|| {
            self.labels
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",")
        })
    }
}

fn name_of(o: &Json) -> &str {
    o.pointer("/metadata/name").and_then(Json::as_str).unwrap_or("")
}

fn uid_of(o: &Json) -> &str {
    o.pointer("/metadata/uid").and_then(Json::as_str).unwrap_or("")
}

/// The uid of the object's controller (the ownerReference with `controller: true`).
fn controller_uid(o: &Json) -> Option<&str> {
    o.pointer("/metadata/ownerReferences")
        .and_then(Json::as_array)?
        .iter()
        .find(|r| r.get("controller").and_then(Json::as_bool) == Some(true))
        .and_then(|r| r.get("uid").and_then(Json::as_str))
}

/// Left behind by the old workload: no controller, selected by the old selector and not by the
/// new one, named after the workload.
fn left_behind(o: &Json, old: &Selector, new: Option<&Selector>, prefix: &str) -> bool {
    let labels = o.pointer("/metadata/labels");
    controller_uid(o).is_none()
        && o.pointer("/metadata/deletionTimestamp").is_none_or(Json::is_null)
        && old.matches(labels)
        && !new.is_some_and(|n| n.matches(labels))
        && name_of(o).starts_with(prefix)
}

/// `db-3` → 3 for StatefulSet `db`.
fn ordinal(pod: &str, set: &str) -> Option<i64> {
    let rest = pod.strip_prefix(set)?.strip_prefix('-')?;
    if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit()) || (rest.len() > 1 && rest.starts_with('0')) {
        return None;
    }
    rest.parse().ok()
}

/// `name` is what `generateName: <base>-` gives: the base, a dash and 5 random characters.
fn generated_from(name: &str, base: &str) -> bool {
    name.strip_prefix(base)
        .and_then(|r| r.strip_prefix('-'))
        .is_some_and(|r| r.len() == 5 && r.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
}

/// The node a pod runs on, or is meant for: `spec.nodeName`, else the node a DaemonSet pinned it
/// to through a required node affinity on `metadata.name` (what the 1.20 controller emits).
pub fn target_node(pod: &Json) -> Option<String> {
    if let Some(n) = pod.pointer("/spec/nodeName").and_then(Json::as_str) {
        return Some(n.to_string());
    }
    pod.pointer("/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms")
        .and_then(Json::as_array)?
        .iter()
        .flat_map(|t| t.get("matchFields").and_then(Json::as_array).into_iter().flatten())
        .find(|f| {
            f.get("key").and_then(Json::as_str) == Some("metadata.name")
                && f.get("operator").and_then(Json::as_str) == Some("In")
        })
        .and_then(|f| f.pointer("/values/0"))
        .and_then(Json::as_str)
        .map(str::to_string)
}

/// A pod the scheduler said it cannot place (e.g. the old pod still holds a host port).
fn unschedulable(pod: &Json) -> bool {
    pod.pointer("/status/conditions")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "PodScheduled" && c["status"] == "False" && c["reason"] == "Unschedulable")
}

fn pod_ref(ns: &str, name: &str) -> ObjRef {
    ObjRef {
        api_version: "v1".into(),
        kind: "Pod".into(),
        namespace: ns.into(),
        name: name.into(),
    }
}

/// Does `live` contain everything `want` says? Objects: every key of `want`, recursively (the
/// server adds defaults and status); arrays: same length, element by element; numbers by value
/// (manifests parse them as floats).
fn contains(live: &Json, want: &Json) -> bool {
    match (live, want) {
        (_, Json::Null) => true,
        (Json::Object(l), Json::Object(w)) => w.iter().all(|(k, v)| l.get(k).is_some_and(|lv| contains(lv, v))),
        (Json::Array(l), Json::Array(w)) => l.len() == w.len() && l.iter().zip(w).all(|(a, b)| contains(a, b)),
        (Json::Number(a), Json::Number(b)) => a.as_f64() == b.as_f64(),
        (a, b) => a == b,
    }
}

/// Whether the live object already carries the new values of every immutable field that forces
/// the recreate (`fields`: `spec.selector`, `spec.serviceName`…): an interrupted run, or a hand,
/// recreated it already, and deleting it again would only orphan its pods once more. Selectors
/// must be equal (a live selector with more labels selects less); other fields may carry server
/// defaults beside the manifest's. A field the new manifest leaves out is never confirmed.
pub(super) fn already_recreated(live: &Json, new: &Json, fields: &[String]) -> bool {
    !fields.is_empty()
        && fields.iter().all(|f| {
            let path = format!("/{}", f.replace('.', "/"));
            match (live.pointer(&path), new.pointer(&path)) {
                (Some(l), Some(n)) if f == "spec.selector" => {
                    Selector::of(live).is_some() && Selector::of(live) == Selector::of(new) && contains(l, n)
                }
                (Some(l), Some(n)) => contains(l, n),
                _ => false,
            }
        })
}

impl Run<'_, '_> {
    /// Roll a workload that was just deleted (dependents orphaned) and created again as `new`
    /// (`applied` is the created object), finishing what the new controller cannot.
    pub(super) async fn roll_recreated(
        &mut self,
        component: &str,
        old: &Object,
        new: &Object,
        applied: &Json,
        t0: Instant,
    ) -> Result<(), ApplyError> {
        let Some(old_sel) = Selector::of(&old.value) else {
            self.rep.report(Progress::Warning {
                message: format!(
                    "{} had no selector: pods it left behind (if any) are not looked for",
                    old.key
                ),
            });
            return self.roll(component, new, applied, t0).await;
        };
        let new_sel = Selector::of(&new.value);
        let owner = match uid_of(applied) {
            "" => self
                .cluster
                .get(&obj_ref(new))
                .await?
                .map(|l| uid_of(&l).to_string())
                .unwrap_or_default(),
            uid => uid.to_string(),
        };
        match new.key.kind.as_str() {
            "StatefulSet" => {
                self.replace_set_pods(component, new, &owner, &old_sel, new_sel.as_ref())
                    .await?;
                self.roll(component, new, applied, t0).await?;
            }
            "DaemonSet" => {
                self.replace_daemon_pods(component, new, &owner, &old_sel, new_sel.as_ref())
                    .await?;
                self.roll(component, new, applied, t0).await?;
            }
            "Deployment" => {
                self.roll(component, new, applied, t0).await?;
                self.retire_replica_sets(component, new, &old_sel, new_sel.as_ref())
                    .await?;
            }
            _ => self.roll(component, new, applied, t0).await?,
        }
        if matches!(new.key.kind.as_str(), "StatefulSet" | "DaemonSet") {
            self.remove_old_revisions(new, &old_sel, new_sel.as_ref()).await?;
        }
        Ok(())
    }

    async fn left_behind(
        &self,
        api_version: &str,
        kind: &str,
        ns: &str,
        old: &Selector,
        new: Option<&Selector>,
        prefix: &str,
    ) -> Result<Vec<Json>, ApplyError> {
        let filter = old.server_filter();
        let mut out: Vec<Json> = self
            .cluster
            .list(api_version, kind, ns, filter.as_deref())
            .await?
            .into_iter()
            .filter(|o| left_behind(o, old, new, prefix))
            .collect();
        out.sort_by(|a, b| name_of(a).cmp(name_of(b)));
        Ok(out)
    }

    /// StatefulSet: ordinal 0 up, one at a time, free each name the new controller needs (a pod
    /// left by the old set), and replace each pod it adopted that still carries the old
    /// `serviceName` as its DNS subdomain (the controller never changes that, and the template may
    /// be unchanged). Before each, every lower ordinal must be Ready under the new set; after
    /// each, the new pod of that name must be. Surplus ordinals go last, highest first.
    async fn replace_set_pods(
        &mut self,
        component: &str,
        new: &Object,
        owner: &str,
        old_sel: &Selector,
        new_sel: Option<&Selector>,
    ) -> Result<(), ApplyError> {
        let ns = new.key.namespace.clone();
        let set = new.key.name.clone();
        let replicas = new.value.pointer("/spec/replicas").and_then(Json::as_i64).unwrap_or(1);
        let service = new
            .value
            .pointer("/spec/serviceName")
            .and_then(Json::as_str)
            .unwrap_or("");
        let stale: BTreeMap<i64, Json> = self
            .left_behind("v1", "Pod", &ns, old_sel, new_sel, &format!("{set}-"))
            .await?
            .into_iter()
            .filter_map(|p| ordinal(name_of(&p), &set).map(|i| (i, p)))
            .collect();
        for i in 0..replicas {
            let name = format!("{set}-{i}");
            let r = pod_ref(&ns, &name);
            let (pod, why) = match stale.get(&i) {
                Some(p) => (
                    p.clone(),
                    "left by the old StatefulSet: the new one needs its name (same claims)".to_string(),
                ),
                None => match self.cluster.get(&r).await? {
                    Some(p)
                        if new_sel.is_some_and(|s| s.matches(p.pointer("/metadata/labels")))
                            && p.pointer("/metadata/deletionTimestamp").is_none_or(Json::is_null)
                            && p.pointer("/spec/subdomain").and_then(Json::as_str).unwrap_or("") != service =>
                    {
                        (p, format!("its DNS subdomain is the old service, not {service}"))
                    }
                    _ => continue,
                },
            };
            for j in 0..i {
                self.wait_new_pod(component, &pod_ref(&ns, &format!("{set}-{j}")), "", owner)
                    .await?;
            }
            let t = Instant::now();
            self.note(format!("deleting pod {name} of StatefulSet {set}: {why}"))
                .await?;
            self.cluster.delete(&r, Cascade::Background, false).await?;
            self.wait_new_pod(component, &r, uid_of(&pod), owner).await?;
            self.note(format!("pod {name} Ready under the new StatefulSet {set}"))
                .await?;
            self.rep.report(Progress::PodReplaced {
                component: component.into(),
                pod: name,
                elapsed_ms: ms(t),
            });
        }
        for (_, pod) in stale.range(replicas..).rev() {
            let name = name_of(pod).to_string();
            self.note(format!(
                "deleting pod {name} left by the old StatefulSet {set}: beyond the new replica count"
            ))
            .await?;
            let r = pod_ref(&ns, &name);
            self.cluster.delete(&r, Cascade::Background, false).await?;
            self.wait_gone(component, &r).await?;
        }
        Ok(())
    }

    /// Wait until the pod `r` exists as a new pod (not `old_uid`) controlled by `owner` and is
    /// Ready; fail fast when it is broken.
    async fn wait_new_pod(
        &mut self,
        component: &str,
        r: &ObjRef,
        old_uid: &str,
        owner: &str,
    ) -> Result<(), ApplyError> {
        let deadline = self.step_deadline();
        let mut hb = Beat::new();
        loop {
            let current = self.cluster.get(r).await?;
            let pods: Vec<Json> = current.iter().cloned().collect();
            self.beat(
                &mut hb,
                component,
                r,
                "to be created and Ready under the new controller",
                &pods,
            )
            .await;
            if let Some(p) = current {
                if uid_of(&p) != old_uid && controller_uid(&p) == Some(owner) {
                    match pod_health(&p) {
                        PodHealth::Ready => return Ok(()),
                        PodHealth::Broken {
                            container,
                            reason,
                            message,
                        } => return Err(broken(&r.name, &container, &reason, &message)),
                        PodHealth::Failed { reason, message } => {
                            return Err(ApplyError::Other(format!("pod {} failed: {reason} {message}", r.name)))
                        }
                        _ => {}
                    }
                }
            }
            self.check_deadline(deadline, r, "to be created and Ready under the new controller")?;
            self.pause().await?;
        }
    }

    /// DaemonSet: node by node (sorted), the old pods there go once the new DaemonSet's pod on that
    /// node is Ready — or at once when that pod cannot be scheduled beside them, or when the new
    /// DaemonSet does not want the node at all.
    async fn replace_daemon_pods(
        &mut self,
        component: &str,
        new: &Object,
        owner: &str,
        old_sel: &Selector,
        new_sel: Option<&Selector>,
    ) -> Result<(), ApplyError> {
        let ns = new.key.namespace.clone();
        let ds = new.key.name.clone();
        let old_pods: Vec<Json> = self
            .left_behind("v1", "Pod", &ns, old_sel, new_sel, &format!("{ds}-"))
            .await?
            .into_iter()
            .filter(|p| generated_from(name_of(p), ds.as_str()))
            .collect();
        let mut by_node: BTreeMap<String, Vec<Json>> = BTreeMap::new();
        for p in old_pods {
            by_node.entry(target_node(&p).unwrap_or_default()).or_default().push(p);
        }
        let ds_ref = obj_ref(new);
        for (node, olds) in by_node {
            let t = Instant::now();
            let deadline = self.step_deadline();
            let mut hb = Beat::new();
            let mut deleted = false;
            let replacement = loop {
                let mine: Vec<Json> = match new_sel {
                    Some(sel) => self
                        .cluster
                        .list("v1", "Pod", &ns, sel.server_filter().as_deref())
                        .await?
                        .into_iter()
                        .filter(|p| controller_uid(p) == Some(owner))
                        .collect(),
                    None => vec![],
                };
                let here = mine.iter().find(|p| target_node(p).as_deref() == Some(node.as_str()));
                match here {
                    Some(p) => match pod_health(p) {
                        PodHealth::Ready => break Some(name_of(p).to_string()),
                        PodHealth::Broken {
                            container,
                            reason,
                            message,
                        } => return Err(broken(name_of(p), &container, &reason, &message)),
                        _ if unschedulable(p) && !deleted => {
                            self.delete_daemon_pods(&ds, &node, &olds, "its new pod cannot be scheduled beside them")
                                .await?;
                            deleted = true;
                        }
                        _ => {}
                    },
                    None => {
                        // Does the new DaemonSet want this node? Once its controller has placed
                        // every pod it wants and none is here, no.
                        let live = self.cluster.get(&ds_ref).await?.unwrap_or(Json::Null);
                        let n = |p: &str| live.pointer(p).and_then(Json::as_i64).unwrap_or(0);
                        let placed: BTreeSet<String> = mine.iter().filter_map(target_node).collect();
                        if n("/status/observedGeneration") >= n("/metadata/generation")
                            && placed.len() as i64 >= n("/status/desiredNumberScheduled")
                            && live.pointer("/status/desiredNumberScheduled").is_some()
                        {
                            break None;
                        }
                    }
                }
                let what = format!("to run a Ready pod on node {node} before its old pods there are removed");
                self.check_deadline(deadline, &ds_ref, &what)?;
                let here: Vec<Json> = here.into_iter().cloned().collect();
                self.beat(&mut hb, component, &ds_ref, &what, &here).await;
                self.pause().await?;
            };
            if !deleted {
                let why = match &replacement {
                    Some(p) => format!("pod {p} of the new DaemonSet is Ready there"),
                    None => "the new DaemonSet does not run there".to_string(),
                };
                self.delete_daemon_pods(&ds, &node, &olds, &why).await?;
            }
            for p in &olds {
                self.wait_gone(component, &pod_ref(&ns, name_of(p))).await?;
            }
            if let Some(p) = replacement {
                self.note(format!("node {node}: old DaemonSet pods gone, pod {p} Ready"))
                    .await?;
                self.rep.report(Progress::PodReplaced {
                    component: component.into(),
                    pod: p,
                    elapsed_ms: ms(t),
                });
            }
        }
        Ok(())
    }

    async fn delete_daemon_pods(&mut self, ds: &str, node: &str, pods: &[Json], why: &str) -> Result<(), ApplyError> {
        for p in pods {
            let name = name_of(p);
            let ns = p.pointer("/metadata/namespace").and_then(Json::as_str).unwrap_or("");
            self.note(format!(
                "deleting pod {name} left by the old DaemonSet {ds} on node {node}: {why}"
            ))
            .await?;
            self.cluster
                .delete(&pod_ref(ns, name), Cascade::Background, false)
                .await?;
        }
        Ok(())
    }

    /// Deployment (after the new one is available): scale each orphaned ReplicaSet of the old one
    /// down a pod at a time, then delete it.
    async fn retire_replica_sets(
        &mut self,
        component: &str,
        new: &Object,
        old_sel: &Selector,
        new_sel: Option<&Selector>,
    ) -> Result<(), ApplyError> {
        let ns = new.key.namespace.clone();
        let deploy = new.key.name.clone();
        let sets: Vec<Json> = self
            .left_behind("apps/v1", "ReplicaSet", &ns, old_sel, new_sel, &format!("{deploy}-"))
            .await?
            .into_iter()
            .filter(|rs| {
                // A Deployment names its ReplicaSets `<deployment>-<pod-template-hash>`.
                let hash = rs.pointer("/metadata/labels/pod-template-hash").and_then(Json::as_str);
                hash.is_some_and(|h| name_of(rs) == format!("{deploy}-{h}"))
            })
            .collect();
        for rs in sets {
            let name = name_of(&rs).to_string();
            let r = ObjRef {
                api_version: "apps/v1".into(),
                kind: "ReplicaSet".into(),
                namespace: ns.clone(),
                name: name.clone(),
            };
            let mut replicas = rs.pointer("/spec/replicas").and_then(Json::as_i64).unwrap_or(1);
            let t = Instant::now();
            while replicas > 0 {
                replicas -= 1;
                self.note(format!(
                    "scaling ReplicaSet {name} left by the old Deployment {deploy} down to {replicas}"
                ))
                .await?;
                let patched = self
                    .cluster
                    .patch(&r, &json!({"spec": {"replicas": replicas}}), false)
                    .await?;
                let gen = patched
                    .pointer("/metadata/generation")
                    .and_then(Json::as_i64)
                    .unwrap_or(0);
                let deadline = self.step_deadline();
                let mut hb = Beat::new();
                loop {
                    let live = self.cluster.get(&r).await?.unwrap_or(Json::Null);
                    let n = |p: &str| live.pointer(p).and_then(Json::as_i64).unwrap_or(0);
                    // Its status does not count terminating pods: count them too, so the next pod
                    // goes only when this one is gone.
                    let rs_uid = uid_of(&rs);
                    let left: Vec<Json> = match Selector::of(&rs).and_then(|sel| sel.server_filter()) {
                        Some(f) => self
                            .cluster
                            .list("v1", "Pod", &ns, Some(&f))
                            .await?
                            .into_iter()
                            .filter(|p| controller_uid(p) == Some(rs_uid))
                            .collect(),
                        None => vec![],
                    };
                    if live.is_null()
                        || (n("/status/observedGeneration") >= gen
                            && n("/status/replicas") <= replicas
                            && left.len() as i64 <= replicas)
                    {
                        break;
                    }
                    let what = format!("to scale down to {replicas}");
                    self.check_deadline(deadline, &r, &what)?;
                    // The pods going are the ones it still has beyond `replicas`: deleting ones first.
                    let mut going = left;
                    going.sort_by_key(|p| p.pointer("/metadata/deletionTimestamp").is_none());
                    self.beat_holders(&mut hb, component, &r, &what, &going).await;
                    self.pause().await?;
                }
                self.rep.report(Progress::Step {
                    step: format!(
                        "{component}: old ReplicaSet {name} scaled down to {replicas} ({:.1}s)",
                        ms(t) as f64 / 1000.0
                    ),
                });
            }
            self.cluster.delete(&r, Cascade::Background, false).await?;
            self.wait_gone(component, &r).await?;
            self.note(format!("deleted ReplicaSet {name} left by the old Deployment {deploy}"))
                .await?;
        }
        Ok(())
    }

    /// The old object's ControllerRevisions (its template history): orphaned and useless now.
    async fn remove_old_revisions(
        &mut self,
        new: &Object,
        old_sel: &Selector,
        new_sel: Option<&Selector>,
    ) -> Result<(), ApplyError> {
        let ns = new.key.namespace.clone();
        let revs = self
            .left_behind(
                "apps/v1",
                "ControllerRevision",
                &ns,
                old_sel,
                new_sel,
                &format!("{}-", new.key.name),
            )
            .await?;
        for rev in revs {
            let name = name_of(&rev).to_string();
            let r = ObjRef {
                api_version: "apps/v1".into(),
                kind: "ControllerRevision".into(),
                namespace: ns.clone(),
                name: name.clone(),
            };
            self.cluster.delete(&r, Cascade::Background, false).await?;
            self.note(format!(
                "deleted ControllerRevision {name} left by the old {} {}",
                new.key.kind, new.key.name
            ))
            .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_match_labels_and_expressions() {
        let w = json!({"spec": {"selector": {"matchLabels": {"app": "db"},
            "matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]},
                                 {"key": "canary", "operator": "DoesNotExist"}]}}});
        let s = Selector::of(&w).unwrap();
        assert!(s.matches(Some(&json!({"app": "db", "tier": "a"}))));
        assert!(!s.matches(Some(&json!({"app": "db", "tier": "c"}))));
        assert!(!s.matches(Some(&json!({"app": "db", "tier": "a", "canary": "1"}))));
        assert!(!s.matches(None));
        assert_eq!(s.server_filter().as_deref(), Some("app=db"));
        assert_eq!(
            Selector::of(&json!({"spec": {"selector": {}}})),
            None,
            "empty selects all: unusable"
        );
        assert_eq!(Selector::of(&json!({"spec": {}})), None);
        let odd =
            json!({"spec": {"selector": {"matchExpressions": [{"key": "x", "operator": "Gt", "values": ["1"]}]}}});
        assert!(!Selector::of(&odd).unwrap().matches(Some(&json!({"x": "2"}))));
    }

    #[test]
    fn left_behind_needs_no_controller_old_labels_not_new_and_the_name() {
        let old = Selector::of(&json!({"spec": {"selector": {"matchLabels": {"app": "db"}}}})).unwrap();
        let new =
            Selector::of(&json!({"spec": {"selector": {"matchLabels": {"app.kubernetes.io/name": "db"}}}})).unwrap();
        let pod = |name: &str, labels: Json, owner: bool| {
            let mut p = json!({"metadata": {"name": name, "labels": labels}});
            if owner {
                p["metadata"]["ownerReferences"] = json!([{"uid": "u1", "controller": true}]);
            }
            p
        };
        assert!(left_behind(
            &pod("db-0", json!({"app": "db"}), false),
            &old,
            Some(&new),
            "db-"
        ));
        assert!(
            !left_behind(&pod("db-0", json!({"app": "db"}), true), &old, Some(&new), "db-"),
            "controlled"
        );
        assert!(
            !left_behind(&pod("db-0", json!({"app": "web"}), false), &old, Some(&new), "db-"),
            "not ours"
        );
        assert!(
            !left_behind(&pod("other-0", json!({"app": "db"}), false), &old, Some(&new), "db-"),
            "other name"
        );
        let both = json!({"app": "db", "app.kubernetes.io/name": "db"});
        assert!(
            !left_behind(&pod("db-0", both, false), &old, Some(&new), "db-"),
            "the new controller adopts it"
        );
        let mut gone = pod("db-1", json!({"app": "db"}), false);
        gone["metadata"]["deletionTimestamp"] = json!("2026-11-21T00:00:00Z");
        assert!(!left_behind(&gone, &old, Some(&new), "db-"), "already going");
    }

    #[test]
    fn a_live_object_with_the_new_immutable_fields_is_not_recreated_again() {
        let new = json!({"spec": {"serviceName": "q-hl", "selector": {"matchLabels": {"app.kubernetes.io/name": "q"}},
            "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"resources": {"requests": {"storage": "1Gi"}}}}],
            "replicas": 3.0}});
        let live = json!({"spec": {"serviceName": "q-hl", "selector": {"matchLabels": {"app.kubernetes.io/name": "q"}},
            "volumeClaimTemplates": [{"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
                "spec": {"resources": {"requests": {"storage": "1Gi"}}, "volumeMode": "Filesystem"}, "status": {"phase": "Pending"}}],
            "replicas": 3}});
        let f = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let all = f(&["spec.selector", "spec.serviceName", "spec.volumeClaimTemplates"]);
        assert!(already_recreated(&live, &new, &all));
        assert!(
            contains(&live["spec"]["replicas"], &new["spec"]["replicas"]),
            "3 == 3.0"
        );
        let mut old = live.clone();
        old["spec"]["serviceName"] = json!("q-headless");
        assert!(!already_recreated(&old, &new, &all));
        let mut wider = live.clone();
        wider["spec"]["selector"]["matchLabels"]["release"] = json!("q");
        assert!(
            !already_recreated(&wider, &new, &all),
            "a selector with more labels is another selector"
        );
        assert!(
            !already_recreated(&live, &new, &f(&["spec.podManagementPolicy"])),
            "not in the manifest"
        );
        assert!(!already_recreated(&live, &new, &[]));
    }

    #[test]
    fn ordinals_of_statefulset_pods() {
        assert_eq!(ordinal("db-0", "db"), Some(0));
        assert_eq!(ordinal("db-12", "db"), Some(12));
        assert_eq!(ordinal("db-web-0", "db"), None);
        assert_eq!(ordinal("db-", "db"), None);
        assert_eq!(ordinal("db-01", "db"), None);
        assert_eq!(ordinal("dbx-1", "db"), None);
        assert!(generated_from("agent-x7k2q", "agent"));
        assert!(
            !generated_from("agent-web-7f9c6d-x7k2q", "agent"),
            "another workload's pod"
        );
        assert!(!generated_from("agent-0", "agent"));
    }

    #[test]
    fn daemonset_pods_are_pinned_by_node_affinity() {
        let p = json!({"spec": {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution":
            {"nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n2"]}]}]}}}}});
        assert_eq!(target_node(&p).as_deref(), Some("n2"));
        let bound = json!({"spec": {"nodeName": "n1"}});
        assert_eq!(target_node(&bound).as_deref(), Some("n1"));
        assert_eq!(target_node(&json!({"spec": {}})), None);
        let unsched =
            json!({"status": {"conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}]}});
        assert!(unschedulable(&unsched));
    }
}
