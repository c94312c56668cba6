//! Preflight: nothing changes unless everything can.
//!
//! Before the executor writes anything — not even the pending release record or the pruning of
//! old records — every write the run will make is tried as a server-side dry run: each object the
//! plan creates or updates, each recreated object, each hook of the run's events, the backup Jobs,
//! and each delete (the old objects of recreates and kind changes, and the objects that are
//! pruned). The server runs its whole admission chain for a dry run (defaulting, validation,
//! immutable-field checks, admission plugins and webhooks) without persisting, so a rejection the
//! plan could not foresee — an immutable field the plan missed, a schema error, an admission error,
//! a kind an old server does not serve — is found while the release is still untouched. All
//! rejections are collected and reported together, each naming the object and the server's words.
//!
//! Writes are dry-run the way the run will make them, through the same [`Cluster::apply`]: where
//! an old server refuses server-side apply for an object it would accept otherwise (Kubernetes 1.20
//! and Service ports without `protocol`), the dry run falls back exactly as the real apply will, so
//! the preflight never rejects what the run would do; such fallbacks are announced once per run.
//!
//! A recreate's new spec cannot be dry-run as an update of the live object (the immutable change
//! is why it is recreated) nor as a create under its own name (the old object still holds the
//! name). It is dry-run as a create under a scratch name (`generateName`): the server validates
//! and admits the new spec as the create that will follow the delete. What the old object holds
//! and the delete frees first — a Service's cluster IP and node ports — is left out of that copy so
//! it does not collide with its own predecessor. Hooks that are deleted before creation, and backup
//! Jobs (deleted and created again each run) are checked the same way when they exist.
//!
//! What cannot be dry-run is said, not rejected: an object of a kind whose
//! CustomResourceDefinition, or in a namespace that, the release itself creates (the server cannot
//! know them before they are written).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use futures::StreamExt as _;
use serde_json::Value as Json;

use super::error::ApplyError;
use super::hooks::{deletes_before_creation, hook_events};
use super::objects::{obj_ref, owned};
use super::options::ApplyOptions;
use super::progress::{Progress, Reporter};
use crate::cluster::{ApplyMode, Cascade, Cluster, ClusterError, ObjRef};
use crate::diff::{Action, ObjectChange};
use crate::manifest::{ManifestSet, Object};
use crate::plan::saved::SavedPlan;

/// How many dry runs of plain writes (and access reviews) are in flight at once; as many as
/// `live::READS_AT_ONCE`.
const DRY_RUNS_AT_ONCE: usize = 16;

/// What the preflight found.
#[derive(Debug, Default)]
struct Findings {
    rejected: Vec<String>,
    /// Objects whose server-side apply the server refused, applied by a merge patch instead.
    fallbacks: Vec<String>,
    notes: Vec<String>,
    /// (group, kind) of the CustomResourceDefinitions the release itself creates.
    crds: BTreeSet<(String, String)>,
    /// Namespaces the release itself creates.
    namespaces: BTreeSet<String>,
}

impl Findings {
    fn reject(&mut self, what: &str, e: &ClusterError) {
        self.rejected.push(format!("{what}: {}", e.server_message()));
    }

    /// Reject, unless the object cannot be checked yet because it depends on something the
    /// release creates first (its CustomResourceDefinition, its namespace): a dry run cannot see
    /// what is not written yet, and the real apply, which writes those first, will check it.
    fn reject_object(&mut self, o: &Object, what: &str, e: &ClusterError) {
        let missing_crd = matches!(e, ClusterError::UnknownKind { .. })
            && self.crds.contains(&(o.key.group.clone(), o.key.kind.clone()));
        let missing_ns = e.status_code() == Some(404)
            && self.namespaces.contains(&o.key.namespace)
            && e.server_message()
                .contains(&format!("namespaces \"{}\" not found", o.key.namespace));
        if missing_crd || missing_ns {
            self.notes.push(format!(
                "{} cannot be dry-run before the {} this release creates exists; the server checks it when it is applied",
                o.key,
                if missing_crd { "CustomResourceDefinition" } else { "namespace" }
            ));
        } else {
            self.reject(what, e);
        }
    }
}

/// Check every write of the run with a server-side dry run. `event` is `install`, `upgrade` or
/// `rollback` (which hooks run). Returns `ApplyError::Refused` listing every rejection.
pub async fn check(
    cluster: &dyn Cluster,
    saved: &SavedPlan,
    from: &ManifestSet,
    to: &ManifestSet,
    event: &str,
    opts: &ApplyOptions,
    rep: &mut dyn Reporter,
) -> Result<(), ApplyError> {
    rep.report(Progress::Step {
        step: "preflight (server-side dry run)".into(),
    });
    let t = Instant::now();
    let release = saved.plan.release.name.as_str();
    let ns = saved.plan.release.namespace.as_str();
    let changes: BTreeMap<_, &ObjectChange> = saved.plan.changes.iter().map(|c| (c.key.clone(), c)).collect();
    let mut f = Findings::default();
    // An install's `crds/` definitions are created first (upgrade.rs): their kinds too.
    let crd_dir = crate::manifest::parse_documents(saved.manifests.crds.clone(), ns)
        .map_err(|e| ApplyError::Other(format!("the plan's crds/ definitions: {e}")))?;
    for o in crd_dir.objects.iter().chain(&to.objects) {
        let s = |p: &str| o.value.pointer(p).and_then(Json::as_str).unwrap_or("").to_string();
        match o.key.kind.as_str() {
            "CustomResourceDefinition" => {
                f.crds.insert((s("/spec/group"), s("/spec/names/kind")));
            }
            "Namespace" => {
                f.namespaces.insert(o.key.name.clone());
            }
            _ => {}
        }
    }
    let mut checked = BTreeSet::new();

    // Objects of the release: created, updated or recreated.
    let mut objects = Vec::new();
    for o in to.objects.iter().filter(|o| hook_events(o).is_empty()) {
        let action = changes.get(&o.key).map(|c| c.action).unwrap_or(Action::Add);
        // A backup Job is never applied as an object of the release: it is deleted and created
        // again when a backup runs (its template is immutable), checked below.
        if o.key.kind == "Job" && o.annotation("chartup.io/backup") == Some("true") {
            continue;
        }
        if !matches!(action, Action::Unchanged | Action::Remove) {
            objects.push((o, action, owned(&o.value, release, ns)));
        }
    }
    // The plain writes' dry runs are independent of each other: a few at a time (issue 16: one
    // round trip after another was most of the preflight), their findings taken in order.
    let mut answers = futures::stream::iter(
        objects
            .iter()
            .filter(|(_, action, _)| *action != Action::Recreate)
            .map(|(_, _, body)| cluster.apply(body, true)),
    )
    .buffered(DRY_RUNS_AT_ONCE);
    for (o, action, body) in &objects {
        if *action == Action::Recreate {
            replace(cluster, o, body, "recreate", &mut f).await;
        } else if let Some(answer) = answers.next().await {
            written(o, answer, &mut f);
        }
        checked.insert(o.key.clone());
    }
    drop(answers);

    // Deletes: the old objects of recreates and kind changes.
    for c in saved
        .plan
        .changes
        .iter()
        .filter(|c| matches!(c.action, Action::Recreate | Action::KindChange))
    {
        let old_key = c.old_key.clone().unwrap_or_else(|| c.key.clone());
        if let Some(old) = from.get(&old_key) {
            let cascade = if c.action == Action::Recreate {
                Cascade::Orphan
            } else {
                Cascade::Background
            };
            if let Err(e) = cluster.delete(&obj_ref(old), cascade, true).await {
                f.reject(&format!("deleting {} for the {}", old.key, c.action.as_str()), &e);
            }
        }
    }

    // Prunes: every object that leaves the chart and will be deleted must exist and be deletable.
    for c in saved.plan.changes.iter().filter(|c| c.action == Action::Remove) {
        let Some(o) = from.get(&c.key) else { continue };
        if !hook_events(o).is_empty()
            || o.kept_on_delete()
            || (o.key.kind == "PersistentVolumeClaim" && !opts.accept_data_loss)
        {
            continue;
        }
        match cluster.delete(&obj_ref(o), Cascade::Background, true).await {
            Ok(true) => {}
            Ok(false) => f.notes.push(format!(
                "{} is to be pruned but is already gone from the cluster",
                o.key
            )),
            Err(e) => f.reject(&format!("pruning {}", o.key), &e),
        }
    }

    // Hooks of this run's events: created (after a delete, by default).
    let events = [format!("pre-{event}"), format!("post-{event}")];
    for h in to
        .objects
        .iter()
        .filter(|o| hook_events(o).iter().any(|e| events.contains(e)))
    {
        if deletes_before_creation(h) {
            replace(cluster, h, &h.value, "hook", &mut f).await;
        } else {
            write(cluster, h, &h.value, &mut f).await;
        }
    }

    // Backup Jobs the matrix requires: deleted and created again.
    let backup = saved
        .plan
        .matrix
        .as_ref()
        .is_some_and(|m| m.hops.iter().any(|h| h.backup_required));
    if backup {
        for o in to.objects.iter().filter(|o| {
            o.key.kind == "Job" && o.annotation("chartup.io/backup") == Some("true") && !checked.contains(&o.key)
        }) {
            replace(cluster, o, &o.value, "backup job", &mut f).await;
        }
    }

    // Rights the run needs beyond the writes dry-run above, and claims it mounts from outside.
    permissions(cluster, saved, from, to, ns, &mut f).await;
    outside_claims(cluster, to, ns, &mut f).await;

    for n in &f.notes {
        rep.report(Progress::Warning { message: n.clone() });
    }
    if !f.fallbacks.is_empty() {
        rep.report(Progress::Warning {
            message: format!(
                "the server refuses server-side apply for {} object(s) it accepts otherwise (old servers: e.g. \
                 Service ports without protocol); they are applied with a merge patch (or created) instead: {}",
                f.fallbacks.len(),
                f.fallbacks.join(", ")
            ),
        });
    }
    if !f.rejected.is_empty() {
        return Err(ApplyError::Refused(
            f.rejected
                .into_iter()
                .map(|r| format!("preflight: {r}"))
                .chain(std::iter::once(
                    "nothing was changed: the server rejected the dry run of the writes above".to_string(),
                ))
                .collect(),
        ));
    }
    rep.report(Progress::Done {
        step: "preflight".into(),
        elapsed_ms: t.elapsed().as_millis(),
    });
    Ok(())
}

/// Ask the server (SelfSubjectAccessReview, authoritative per question) for every verb the run
/// uses besides the object writes the dry run covers: the release records (Secrets), reading pods
/// for the health gates, deleting pods (OnDelete StatefulSets, recreates) and evicting them (pods
/// left stuck by an earlier failed revision, kubernetes#67250). An apply that cannot finish does
/// not start: without `delete pods` it would otherwise patch workloads and then fail half-way.
async fn permissions(
    cluster: &dyn Cluster,
    saved: &SavedPlan,
    from: &ManifestSet,
    to: &ManifestSet,
    ns: &str,
    f: &mut Findings,
) {
    let mut need: Vec<(&str, &str, &str, &str, String)> = vec![
        ("get", "", "secrets", "", "to read the release records".into()),
        ("list", "", "secrets", "", "to read the release records".into()),
        ("create", "", "secrets", "", "to write the new release record".into()),
        ("update", "", "secrets", "", "to journal into the release record".into()),
        ("list", "", "pods", "", "to follow the rollout's pods".into()),
    ];
    // Updated, not added: a new set's pods are created by its controller, none deleted.
    let changed: BTreeSet<_> = saved
        .plan
        .changes
        .iter()
        .filter(|c| matches!(c.action, Action::Change | Action::Recreate | Action::KindChange))
        .map(|c| c.key.clone())
        .collect();
    let sets: Vec<&Object> = to
        .objects
        .iter()
        .filter(|o| o.key.kind == "StatefulSet" && changed.contains(&o.key))
        .collect();
    if let Some(o) = sets
        .iter()
        .find(|o| o.value.pointer("/spec/updateStrategy/type").and_then(Json::as_str) == Some("OnDelete"))
    {
        need.push((
            "delete",
            "",
            "pods",
            "",
            format!("to update the pods of the OnDelete {}", o.key),
        ));
    }
    if let Some(c) = saved.plan.changes.iter().find(|c| c.action == Action::Recreate) {
        need.push((
            "delete",
            "",
            "pods",
            "",
            format!("to replace the pods {} leaves behind", c.key),
        ));
    }
    // Pods not Ready now may be stuck on a bad template once the new one is applied.
    for o in sets
        .iter()
        .copied()
        .chain(from.objects.iter().filter(|o| o.key.kind == "StatefulSet"))
    {
        if let Ok(Some(live)) = cluster.get(&obj_ref(o)).await {
            let n = |p: &str| live.pointer(p).and_then(Json::as_i64).unwrap_or(0);
            if n("/status/readyReplicas") < n("/spec/replicas") {
                need.push((
                    "create",
                    "",
                    "pods",
                    "eviction",
                    format!(
                        "to replace pods of {} that are not Ready (they may be stuck on a bad template)",
                        o.key
                    ),
                ));
                break;
            }
        }
    }
    // A carry protects and rebinds the PersistentVolume under the claims: cluster-scoped.
    if let Some(c) = saved.plan.carries().first() {
        need.push((
            "patch",
            "",
            "persistentvolumes",
            "",
            format!(
                "to carry the volume of claim {} to {} (--carry-volumes)",
                c.from_claim, c.to_claim
            ),
        ));
    }
    let mut asked = BTreeSet::new();
    let need: Vec<_> = need
        .into_iter()
        .filter(|(verb, _, resource, sub, _)| asked.insert((*verb, *resource, *sub)))
        .collect();
    // The reviews are independent: all at once (one after another they were five or more round
    // trips before the first write, issue 16), findings still in this order.
    let reviews = need.iter().map(|(verb, group, resource, sub, _)| {
        let cluster_scoped = *resource == "persistentvolumes";
        let check = crate::cluster::AccessCheck {
            verb: verb.to_string(),
            group: group.to_string(),
            resource: resource.to_string(),
            subresource: sub.to_string(),
            namespace: if cluster_scoped { String::new() } else { ns.into() },
            name: String::new(),
        };
        async move { cluster.access_review(&check).await }
    });
    let answers: Vec<_> = futures::stream::iter(reviews)
        .buffered(DRY_RUNS_AT_ONCE)
        .collect()
        .await;
    for ((verb, _, resource, sub, why), answer) in need.into_iter().zip(answers) {
        let cluster_scoped = resource == "persistentvolumes";
        let place = if cluster_scoped {
            "cluster-wide (PersistentVolumes are cluster-scoped)".to_string()
        } else {
            format!("in namespace {ns}")
        };
        let what = if sub.is_empty() {
            resource.to_string()
        } else {
            format!("{resource}/{sub}")
        };
        match answer {
            Ok(v) if v.allowed => {}
            Ok(v) => f.rejected.push(format!(
                "you may not {verb} {what} {place}, needed {why}{}",
                if v.reason.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", v.reason)
                }
            )),
            // No answer is no proof either way: said, not refused.
            Err(e) => f.notes.push(format!(
                "could not check whether you may {verb} {what} {place}: {}",
                e.server_message()
            )),
        }
    }
}

/// Claims the workloads mount by name (`persistentVolumeClaim.claimName`, an `existingClaim`)
/// that the release does not create must exist: otherwise the pod waits in ContainerCreating
/// until the timeout, after the workload was already changed.
async fn outside_claims(cluster: &dyn Cluster, to: &ManifestSet, ns: &str, f: &mut Findings) {
    let own: BTreeSet<&str> = to
        .objects
        .iter()
        .filter(|o| o.key.kind == "PersistentVolumeClaim")
        .map(|o| o.key.name.as_str())
        .collect();
    let mut seen = BTreeSet::new();
    for o in to.objects.iter().filter(|o| o.is_workload()) {
        let spec = if o.key.kind == "Pod" {
            "/spec/volumes"
        } else {
            "/spec/template/spec/volumes"
        };
        let spec = if o.key.kind == "CronJob" {
            "/spec/jobTemplate/spec/template/spec/volumes"
        } else {
            spec
        };
        for v in o.value.pointer(spec).and_then(Json::as_array).into_iter().flatten() {
            let Some(claim) = v.pointer("/persistentVolumeClaim/claimName").and_then(Json::as_str) else {
                continue;
            };
            if own.contains(claim) || !seen.insert(claim.to_string()) {
                continue;
            }
            let claim_ns = if o.key.namespace.is_empty() {
                ns
            } else {
                o.key.namespace.as_str()
            };
            let r = ObjRef::claim(claim_ns, claim);
            match cluster.get(&r).await {
                Ok(Some(_)) => {}
                Ok(None) => f.rejected.push(format!(
                    "{} mounts claim {claim}, which does not exist in namespace {claim_ns} and the release does not \
                     create it: its pods would wait in ContainerCreating (create the claim, or fix the value that names it)",
                    o.key
                )),
                Err(e) => f.notes.push(format!("could not check claim {claim} that {} mounts: {}", o.key, e.server_message())),
            }
        }
    }
}

/// Dry-run the apply the run will make (create or update, with the same SSA fallback).
async fn write(cluster: &dyn Cluster, o: &Object, body: &Json, f: &mut Findings) {
    written(o, cluster.apply(body, true).await, f)
}

/// What a write's dry run answered.
fn written(o: &Object, answer: Result<(Json, ApplyMode), ClusterError>, f: &mut Findings) {
    match answer {
        Ok((_, ApplyMode::ServerSide)) => {}
        Ok((_, ApplyMode::MergePatchFallback)) => f.fallbacks.push(o.key.to_string()),
        Err(e) => f.reject_object(o, &format!("{} rejected by the server", o.key), &e),
    }
}

/// Dry-run a delete-then-create: as a create under a scratch name while the old object exists,
/// else as the plain apply it then is.
async fn replace(cluster: &dyn Cluster, o: &Object, body: &Json, what: &str, f: &mut Findings) {
    let r = obj_ref(o);
    match cluster.get(&r).await {
        Ok(None) => write(cluster, o, body, f).await,
        Ok(Some(_)) => {
            if let Err(e) = create_scratch(cluster, &r, body).await {
                f.reject_object(o, &format!("{} ({what}) rejected by the server", o.key), &e);
            }
        }
        Err(e) => f.reject_object(o, &format!("{} rejected by the server", o.key), &e),
    }
}

/// The object as the create after its predecessor's delete will see the server: no name (the
/// server generates one from the old name), and without what the predecessor holds until then.
pub fn scratch_copy(body: &Json, name: &str) -> Json {
    let mut b = body.clone();
    if let Some(meta) = b.get_mut("metadata").and_then(Json::as_object_mut) {
        meta.remove("name");
        meta.remove("resourceVersion");
        meta.remove("uid");
        meta.insert("generateName".into(), Json::String(format!("{name}-")));
    }
    if b.get("kind").and_then(Json::as_str) == Some("Service")
        && b.get("apiVersion").and_then(Json::as_str) == Some("v1")
    {
        if let Some(spec) = b.get_mut("spec").and_then(Json::as_object_mut) {
            // "None" (headless) allocates nothing and must stay.
            if spec.get("clusterIP").and_then(Json::as_str) != Some("None") {
                spec.remove("clusterIP");
                spec.remove("clusterIPs");
            }
            spec.remove("healthCheckNodePort");
            if let Some(ports) = spec.get_mut("ports").and_then(Json::as_array_mut) {
                for p in ports.iter_mut().filter_map(Json::as_object_mut) {
                    p.remove("nodePort");
                }
            }
        }
    }
    b
}

/// A dry-run create of the object's scratch copy.
async fn create_scratch(cluster: &dyn Cluster, r: &ObjRef, body: &Json) -> Result<(), ClusterError> {
    let mut copy = scratch_copy(body, &r.name);
    if !r.namespace.is_empty() {
        if let Some(meta) = copy.get_mut("metadata").and_then(Json::as_object_mut) {
            meta.insert("namespace".into(), Json::String(r.namespace.clone()));
        }
    }
    cluster.create(&copy, true).await.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scratch_copies_free_what_the_predecessor_holds() {
        let svc = json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "db", "namespace": "ns", "labels": {"a": "b"}},
            "spec": {"clusterIP": "10.0.0.7", "clusterIPs": ["10.0.0.7"], "type": "NodePort",
                     "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"}]}});
        let c = scratch_copy(&svc, "db");
        assert_eq!(c["metadata"]["generateName"], "db-");
        assert!(c["metadata"].get("name").is_none());
        assert_eq!(c["metadata"]["labels"]["a"], "b");
        assert!(c["spec"].get("clusterIP").is_none());
        assert!(c["spec"]["ports"][0].get("nodePort").is_none());
        assert_eq!(c["spec"]["ports"][0]["port"], 80);
        let headless = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "h"},
            "spec": {"clusterIP": "None"}});
        assert_eq!(scratch_copy(&headless, "h")["spec"]["clusterIP"], "None");
        // Other kinds keep their spec whole.
        let sts = json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
            "spec": {"serviceName": "db", "selector": {"matchLabels": {"app": "db"}}}});
        assert_eq!(scratch_copy(&sts, "db")["spec"], sts["spec"]);
    }

    #[test]
    fn kinds_the_release_defines_are_noted_not_rejected() {
        let doc = |text: &str| crate::manifest::Document {
            source: "c/templates/x.yaml".into(),
            text: text.into(),
        };
        let set = crate::manifest::parse_documents(
            vec![doc("apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n")],
            "ns",
        )
        .unwrap();
        let w = &set.objects[0];
        let unknown = ClusterError::UnknownKind {
            api_version: "example.com/v1".into(),
            kind: "Widget".into(),
        };
        let mut f = Findings::default();
        f.reject_object(w, "w rejected", &unknown);
        assert_eq!(
            f.rejected,
            ["w rejected: the server does not serve example.com/v1 Widget"]
        );
        let mut f = Findings::default();
        f.crds.insert(("example.com".into(), "Widget".into()));
        f.reject_object(w, "w rejected", &unknown);
        assert!(f.rejected.is_empty());
        assert!(f.notes[0].contains("CustomResourceDefinition"), "{:?}", f.notes);
    }

    #[test]
    fn hook_delete_policy_defaults_to_before_creation() {
        let hook = |ann: Json| {
            let text = serde_json::to_string(&json!({"apiVersion": "batch/v1", "kind": "Job",
                "metadata": {"name": "h", "annotations": ann}}))
            .unwrap();
            let set = crate::manifest::parse_documents(
                vec![crate::manifest::Document {
                    source: "c/templates/h.yaml".into(),
                    text,
                }],
                "ns",
            )
            .unwrap();
            set.objects[0].clone()
        };
        assert!(deletes_before_creation(&hook(json!({"helm.sh/hook": "pre-upgrade"}))));
        assert!(!deletes_before_creation(&hook(
            json!({"helm.sh/hook": "pre-upgrade", "helm.sh/hook-delete-policy": "hook-succeeded"})
        )));
        assert_eq!(
            hook_events(&hook(json!({"helm.sh/hook": "pre-upgrade, post-install"}))),
            ["pre-upgrade", "post-install"]
        );
    }
}
