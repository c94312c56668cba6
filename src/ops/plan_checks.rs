//! The checks only a connected plan can make (issue 17), run on the finished plan.
//!
//! - API availability: every object's `apiVersion`/`kind` against discovery, so a chart using an
//!   API the server does not serve (`policy/v1` PodDisruptionBudget on a 1.20 server) is refused
//!   in the plan, not first in apply's preflight.
//! - Predicted recreates confirmed: each object the offline rules would recreate is sent as a
//!   server-side dry-run apply; one the server accepts in place is planned as a change, and the
//!   plan says so. Claims are left to the offline rule: their recreate also decides volume fates.
//! - Claims mounted from outside the release that do not exist: the pods would stay Pending.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value as Json;

use crate::analysis::{Persistence, Verdict};
use crate::cluster::{Cluster, ClusterError, ObjRef};
use crate::diff::Action;
use crate::manifest::ManifestSet;
use crate::plan::review::Hazard;
use crate::plan::Plan;

/// Run the connected checks; `new` is the set the plan installs.
pub async fn check(cluster: &dyn Cluster, plan: &mut Plan, new: &ManifestSet) -> Result<(), ClusterError> {
    served(cluster, plan, new).await?;
    confirm_recreates(cluster, plan, new).await?;
    missing_claims(cluster, plan).await?;
    Ok(())
}

async fn served(cluster: &dyn Cluster, plan: &mut Plan, new: &ManifestSet) -> Result<(), ClusterError> {
    // Discovery is open to every authenticated user by default (system:discovery), but a
    // hardened cluster may close it: then which APIs are served is unknown, and the plan says so
    // instead of failing (the apply's dry run still checks every object).
    let versions: BTreeSet<String> = match cluster.group_versions().await {
        Ok(v) => v.into_iter().collect(),
        Err(e) if e.status_code() == Some(403) => {
            plan.warnings.push(format!(
                "cannot discover the APIs the cluster serves ({}): whether it serves every apiVersion and kind of \
                 the chart (its CustomResourceDefinitions included) is not checked; apply's dry run checks each object; \
                 templates see helm's default .Capabilities.APIVersions",
                e.server_message()
            ));
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    let mut kinds: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut undiscoverable: BTreeSet<String> = BTreeSet::new();
    // Groups whose CRD the chart itself brings are served once it is installed.
    let chart_groups: BTreeSet<&str> = new
        .objects
        .iter()
        .filter(|o| o.key.kind == "CustomResourceDefinition")
        .filter_map(|o| o.value.pointer("/spec/group").and_then(Json::as_str))
        .collect();
    for o in &new.objects {
        let Some(av) = o.value.get("apiVersion").and_then(Json::as_str) else {
            continue;
        };
        let group = av.rsplit_once('/').map(|(g, _)| g).unwrap_or("");
        if chart_groups.contains(group) {
            continue;
        }
        let builtin = group.is_empty() || !group.contains('.') || group.ends_with(".k8s.io");
        if !builtin && !versions.contains(av) {
            plan.warnings.push(format!(
                "{}: apiVersion {av} is not served by this cluster: its CustomResourceDefinition must be installed \
                 before this upgrade",
                o.key
            ));
            continue;
        }
        if !versions.contains(av) {
            let served: Vec<&String> = versions
                .iter()
                .filter(|v| v.split('/').next() == av.split('/').next() && v.contains('/') == av.contains('/'))
                .collect();
            let also = if served.is_empty() {
                String::new()
            } else {
                format!(
                    " (the server serves {})",
                    served.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                )
            };
            plan.refusals.push(format!(
                "{}: apiVersion {av} is not served by this cluster{also}; the chart needs a newer Kubernetes, or \
                 values that select an API the server has",
                o.key
            ));
            continue;
        }
        if undiscoverable.contains(av) {
            continue;
        }
        if !kinds.contains_key(av) {
            let list = match cluster.resources(av).await {
                Ok(list) => list,
                Err(e) if e.status_code() == Some(403) => {
                    plan.warnings.push(format!(
                        "cannot discover the kinds of {av} ({}): not checked",
                        e.server_message()
                    ));
                    undiscoverable.insert(av.to_string());
                    continue;
                }
                Err(e) => return Err(e),
            };
            kinds.insert(av.to_string(), list.into_iter().map(|r| r.kind).collect());
        }
        if !kinds[av].contains(&o.key.kind) {
            plan.refusals.push(format!(
                "{}: kind {} is not served in {av} by this cluster",
                o.key, o.key.kind
            ));
        }
    }
    Ok(())
}

async fn confirm_recreates(cluster: &dyn Cluster, plan: &mut Plan, new: &ManifestSet) -> Result<(), ClusterError> {
    for c in plan
        .changes
        .iter_mut()
        .filter(|c| c.action == Action::Recreate && c.key.kind != "PersistentVolumeClaim")
    {
        let Some(o) = new.get(&c.key) else { continue };
        let Ok(r) = ObjRef::of(&o.value, &c.key.namespace) else {
            continue;
        };
        let Some(live) = cluster.get(&r).await? else {
            continue;
        };
        // A live object that already carries the new immutable values was recreated by an earlier,
        // interrupted run: the server accepts the "update" only because nothing immutable changes
        // any more. It stays a recreate, so apply finishes it (replacing the pods the old object
        // left) instead of waiting for a rollout those pods block.
        if !c.immutable.is_empty()
            && c.immutable.iter().all(|f| {
                let path = f.field.split('[').next().unwrap_or(&f.field);
                let (a, b) = (at_path(&live, path), at_path(&o.value, path));
                a.is_some() && a == b
            })
        {
            c.notes.push(
                "the live object already has the new immutable fields (an interrupted run recreated it): \
                 kept as a recreate so apply replaces what the old object left"
                    .to_string(),
            );
            continue;
        }
        match cluster.apply(&o.value, true).await {
            Ok(_) => {
                let fields: Vec<String> = c.immutable.iter().map(|f| f.field.clone()).collect();
                c.action = Action::Change;
                c.immutable.clear();
                c.consequence = None;
                c.notes.push(format!(
                    "the offline rules predicted a recreate ({}), but the server accepts this update in place \
                     (server-side dry run): updated, not recreated",
                    fields.join(", ")
                ));
                plan.summary.recreate -= 1;
                plan.summary.change += 1;
            }
            Err(e) => {
                // The server's message, without the client's debug dump of the Status.
                let e = e.to_string();
                let e = e.split(" (Status {").next().unwrap_or(&e);
                c.notes.push(format!(
                    "recreate confirmed: the server refuses the update in place ({e})"
                ))
            }
        }
    }
    Ok(())
}

/// The value at a dotted path (`spec.selector`), if every step is an object key.
fn at_path<'a>(v: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    path.split('.').try_fold(v, |v, k| v.get(k))
}

async fn missing_claims(cluster: &dyn Cluster, plan: &mut Plan) -> Result<(), ClusterError> {
    let mut seen = BTreeSet::new();
    let mut hazards = Vec::new();
    for v in &plan.volumes {
        let Some(a) = &v.after else { continue };
        if a.source != "claim" || a.mode != Persistence::ExistingClaim {
            continue;
        }
        for claim in &a.claims {
            if !seen.insert((a.workload.namespace.clone(), claim.clone())) {
                continue;
            }
            let r = ObjRef {
                api_version: "v1".into(),
                kind: "PersistentVolumeClaim".into(),
                namespace: a.workload.namespace.clone(),
                name: claim.clone(),
            };
            if cluster.get(&r).await?.is_none() {
                hazards.push(Hazard {
                    rule: "claim-missing".into(),
                    object: format!("{}/PersistentVolumeClaim/{claim}", a.workload.namespace),
                    verdict: Verdict::AtRisk,
                    reason: format!(
                        "{} mounts claim {claim}, which is not part of the release and does not exist in the \
                         cluster: its pods stay Pending",
                        a.workload
                    ),
                    workaround: format!(
                        "Create claim {claim} in namespace {} (or point the chart's existingClaim value at the \
                         claim that holds the data) before upgrading.",
                        a.workload.namespace
                    ),
                });
            }
        }
    }
    if !hazards.is_empty() {
        plan.hazards.extend(hazards);
        plan.verdict = plan.verdict.max(Verdict::AtRisk);
    }
    Ok(())
}
