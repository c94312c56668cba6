//! Taking the plan's VolumeSnapshots during an apply (issue 15; the decision is the plan's,
//! `crate::plan::snapshots`).
//!
//! When: for a component the controller rolls (Deployment, RollingUpdate StatefulSet), all its
//! claims right before its workload is applied — the controller takes the pods down right after;
//! for an `OnDelete` StatefulSet, which chartup replaces pod by pod, each pod's claims right
//! before that pod is deleted ([`Run::snapshot_pod`]). With the matrix's `quiesce`, the component
//! is first scaled to zero (no writer: application-consistent) and scaled back after. A snapshot
//! that fails (an error the API returns, such as a quota's 403, or not `readyToUse` by the
//! deadline — `status.error` is shown as it appears, since the controller retries) fails the run
//! before the pod holding that data goes down.
//!
//! Each snapshot is labelled with the release and revision (`chartup snapshots list|prune` and
//! the retention find them by label) and recorded in the revision's release record under
//! `chartup_snapshots` — a field Helm ignores, like the journal — first when created and again
//! when ready, so a killed run leaves a record `recover` can read, and `rollback --restore-data`
//! knows which snapshot holds which claim's data. Names are `<release>-<revision>-<claim>`, so a
//! resumed run finds the snapshot it created before and does not take a second one.

use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

use super::error::ApplyError;
use super::progress::{ms, Beat, Progress};
use super::runner::Run;
use crate::cluster::{AccessCheck, Cluster, ClusterError, ObjRef};
use crate::manifest::ObjectKey;
use crate::plan::saved::SavedPlan;
use crate::plan::snapshots::{ClaimSnapshot, API_VERSION};
use crate::release::Release;

/// Label: the release a snapshot (or a set-aside volume) belongs to.
pub const LABEL_RELEASE: &str = "chartup.io/release";
/// Label: the revision whose run took the snapshot.
pub const LABEL_REVISION: &str = "chartup.io/revision";
/// Annotation: the claim a snapshot was taken of.
pub const ANN_CLAIM: &str = "chartup.io/claim";
/// Where the revision's record keeps its snapshots.
pub const RECORD_KEY: &str = "chartup_snapshots";

/// One snapshot as the revision's record keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Recorded {
    pub namespace: String,
    pub claim: String,
    pub snapshot: String,
    pub workload: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_size: Option<String>,
    /// `created`, then `ready`.
    pub stage: String,
}

/// The snapshots a revision's run took (from its record).
pub fn recorded(rel: &Release) -> Vec<Recorded> {
    super::journal::states(rel, RECORD_KEY)
}

fn record(rel: &mut Release, r: &Recorded) {
    super::journal::set_state(rel, RECORD_KEY, r, |x, r| {
        x.namespace == r.namespace && x.claim == r.claim
    });
}

/// A snapshot of a release as the cluster has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Taken {
    pub namespace: String,
    pub name: String,
    pub claim: String,
    pub revision: u32,
    pub ready: bool,
    pub restore_size: String,
    pub created: String,
    /// The last error the snapshot controller reported, if any.
    pub error: String,
}

fn s<'j>(v: &'j Json, p: &str) -> &'j str {
    v.pointer(p).and_then(Json::as_str).unwrap_or("")
}

fn vs_ref(ns: &str, name: &str) -> ObjRef {
    ObjRef::new(API_VERSION, "VolumeSnapshot", ns, name)
}

/// The release's snapshots in the cluster, newest revision first.
pub async fn list_release(cluster: &dyn Cluster, ns: &str, release: &str) -> Result<Vec<Taken>, ClusterError> {
    let sel = format!("{LABEL_RELEASE}={release}");
    let mut out: Vec<Taken> = cluster
        .list(API_VERSION, "VolumeSnapshot", ns, Some(&sel))
        .await?
        .iter()
        .map(|v| Taken {
            namespace: s(v, "/metadata/namespace").into(),
            name: s(v, "/metadata/name").into(),
            claim: s(v, "/spec/source/persistentVolumeClaimName").into(),
            revision: s(v, "/metadata/labels/chartup.io~1revision").parse().unwrap_or(0),
            ready: v.pointer("/status/readyToUse") == Some(&Json::Bool(true)),
            restore_size: s(v, "/status/restoreSize").into(),
            created: s(v, "/metadata/creationTimestamp").into(),
            error: s(v, "/status/error/message").into(),
        })
        .collect();
    out.sort_by(|a, b| b.revision.cmp(&a.revision).then(a.name.cmp(&b.name)));
    Ok(out)
}

/// `<release>-<revision>-<claim>`, cut to the 253 characters a name may have.
pub fn snapshot_name(release: &str, revision: u32, claim: &str) -> String {
    let mut n = format!("{release}-{revision}-{claim}");
    n.truncate(253);
    n.trim_end_matches(['-', '.']).to_string()
}

fn body(c: &ClaimSnapshot, name: &str, release: &str, revision: u32) -> Json {
    let mut vs = json!({
        "apiVersion": API_VERSION,
        "kind": "VolumeSnapshot",
        "metadata": {
            "name": name,
            "namespace": c.namespace,
            "labels": {LABEL_RELEASE: release, LABEL_REVISION: revision.to_string(),
                       "app.kubernetes.io/managed-by": "chartup"},
            "annotations": {ANN_CLAIM: c.claim, "chartup.io/workload": c.workload},
        },
        "spec": {"source": {"persistentVolumeClaimName": c.claim}},
    });
    // Unset means the driver's default class; the empty string is invalid (the webhook's rule).
    if let Some(class) = c.class.as_deref().filter(|x| !x.is_empty()) {
        vs["spec"]["volumeSnapshotClassName"] = json!(class);
    }
    vs
}

/// Before the first write: the snapshot API is still served and the rights to use it are there
/// (create/get/delete snapshots; for `--restore-data` also create claims and patch volumes).
pub(super) async fn preflight(cluster: &dyn Cluster, saved: &SavedPlan) -> Result<(), ApplyError> {
    let Some(plan) = saved.plan.snapshots.as_ref() else {
        return Ok(());
    };
    let restoring = !plan.restores.is_empty();
    if plan.to_take().is_empty() && !restoring {
        return Ok(());
    }
    let mut problems = Vec::new();
    if !cluster.group_versions().await?.iter().any(|g| g == API_VERSION) {
        problems.push(format!(
            "the plan takes VolumeSnapshots, but the cluster does not serve {API_VERSION} (any more)"
        ));
    }
    let ns: std::collections::BTreeSet<&str> = plan
        .to_take()
        .iter()
        .map(|c| c.namespace.as_str())
        .chain(plan.restores.iter().map(|r| r.namespace.as_str()))
        .collect();
    let mut need: Vec<(&str, &str, &str)> = vec![
        ("create", "snapshot.storage.k8s.io", "volumesnapshots"),
        ("get", "snapshot.storage.k8s.io", "volumesnapshots"),
        ("delete", "snapshot.storage.k8s.io", "volumesnapshots"),
    ];
    if restoring {
        need.push(("create", "", "persistentvolumeclaims"));
        need.push(("delete", "", "persistentvolumeclaims"));
    }
    for n in ns {
        for (verb, group, resource) in &need {
            let check = AccessCheck {
                verb: verb.to_string(),
                group: group.to_string(),
                resource: resource.to_string(),
                namespace: n.into(),
                ..Default::default()
            };
            match cluster.access_review(&check).await {
                Ok(v) if !v.allowed => problems.push(format!(
                    "you may not {verb} {resource} in namespace {n}, needed for the plan's snapshots{}",
                    if v.reason.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", v.reason)
                    }
                )),
                _ => {}
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ApplyError::Refused(problems))
    }
}

/// Crash tests: `CHARTUP_FAILPOINT=snapshot-created` stops the run for good right after its
/// snapshots are created and journaled (before they are confirmed ready), `restore-protected`
/// right after a restore set the volumes aside, so an e2e test can SIGKILL it at exactly that point.
pub(super) async fn failpoint(name: &str) {
    if std::env::var("CHARTUP_FAILPOINT").is_ok_and(|v| v == name) {
        std::future::pending::<()>().await;
    }
}

impl Run<'_, '_> {
    /// Snapshot the plan's claims of workload `key` that are due before it is applied: all of
    /// them, unless chartup replaces its pods itself (an `OnDelete` StatefulSet): then each pod's
    /// claims wait for [`Run::snapshot_pod`].
    pub(super) async fn snapshot_before(
        &mut self,
        saved: &SavedPlan,
        key: &ObjectKey,
        pod_by_pod: bool,
    ) -> Result<(), ApplyError> {
        let claims: Vec<ClaimSnapshot> = due(saved, key);
        if claims.is_empty() {
            return Ok(());
        }
        let quiesce = claims.iter().any(|c| c.quiesce);
        if pod_by_pod && !quiesce {
            // Recorded as planned: each is taken by `snapshot_pod` when its pod is about to go.
            for c in &claims {
                if recorded(self.rel)
                    .iter()
                    .any(|r| r.claim == c.claim && r.namespace == c.namespace)
                {
                    continue;
                }
                record(
                    self.rel,
                    &Recorded {
                        namespace: c.namespace.clone(),
                        claim: c.claim.clone(),
                        snapshot: snapshot_name(&saved.plan.release.name, self.rel.version, &c.claim),
                        workload: c.workload.clone(),
                        class: c.class.clone(),
                        restore_size: c.restore_size.clone(),
                        stage: "planned".into(),
                    },
                );
            }
            return Ok(());
        }
        let scaled = if quiesce {
            self.quiesce(key, &claims).await?
        } else {
            None
        };
        self.take(&key.name, &saved.plan.release.name, &claims).await?;
        if let Some(replicas) = scaled {
            // Back to where it was: the apply that follows sets what the new manifest says.
            let r = ObjRef::new(&api_version(key), &key.kind, &key.namespace, &key.name);
            self.cluster
                .patch(&r, &json!({"spec": {"replicas": replicas}}), false)
                .await?;
            self.note(format!("snapshots: {key} scaled back to {replicas}")).await?;
        }
        Ok(())
    }

    /// Snapshot the claims of one pod of `key` (an `OnDelete` StatefulSet) right before it goes
    /// down: those [`Run::snapshot_before`] recorded as planned.
    pub(super) async fn snapshot_pod(&mut self, key: &ObjectKey, pod: &str) -> Result<(), ApplyError> {
        let want = key.to_string();
        let claims: Vec<ClaimSnapshot> = recorded(self.rel)
            .into_iter()
            .filter(|r| r.stage == "planned" && r.workload == want && r.claim.ends_with(&format!("-{pod}")))
            .map(|r| ClaimSnapshot {
                namespace: r.namespace,
                claim: r.claim,
                component: String::new(),
                workload: r.workload,
                reasons: vec![],
                class: r.class,
                restore_size: r.restore_size,
                quiesce: false,
            })
            .collect();
        if claims.is_empty() {
            return Ok(());
        }
        let release = self.rel.name.clone();
        self.take(&key.name, &release, &claims).await
    }

    /// Scale the workload to zero and wait until no pod mounts the claims; returns the replicas
    /// it had.
    async fn quiesce(&mut self, key: &ObjectKey, claims: &[ClaimSnapshot]) -> Result<Option<i64>, ApplyError> {
        let r = ObjRef::new(&api_version(key), &key.kind, &key.namespace, &key.name);
        let Some(live) = self.cluster.get(&r).await? else {
            return Ok(None);
        };
        let replicas = live.pointer("/spec/replicas").and_then(Json::as_i64).unwrap_or(1);
        self.cluster.patch(&r, &json!({"spec": {"replicas": 0}}), false).await?;
        self.note(format!("snapshots: {key} scaled to 0 (quiesce, was {replicas})"))
            .await?;
        let names: Vec<&str> = claims.iter().map(|c| c.claim.as_str()).collect();
        self.wait_unmounted(&key.name, &key.namespace, &names).await?;
        Ok(Some(replicas))
    }

    /// Wait until no pod of the namespace mounts any of these claims (`component`: whose step it is).
    pub(super) async fn wait_unmounted(
        &mut self,
        component: &str,
        ns: &str,
        claims: &[&str],
    ) -> Result<(), ApplyError> {
        let deadline = self.step_deadline();
        let mut hb = Beat::new();
        let mounted = |p: &Json| -> Option<String> {
            p.pointer("/spec/volumes")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
                .map(|v| s(v, "/persistentVolumeClaim/claimName"))
                .find(|c| claims.contains(c))
                .map(str::to_string)
        };
        loop {
            let held: Vec<Json> = self
                .cluster
                .list("v1", "Pod", ns, None)
                .await?
                .into_iter()
                .filter(|p| mounted(p).is_some())
                .collect();
            let Some(claim) = held.first().and_then(mounted) else {
                return Ok(());
            };
            if Instant::now() > deadline {
                let holders: Vec<&str> = held.iter().map(|p| s(p, "/metadata/name")).collect();
                return Err(ApplyError::Other(format!(
                    "pods {} still mount claims {} after {:?}",
                    holders.join(", "),
                    claims.join(", "),
                    self.timeout
                )));
            }
            let r = ObjRef::claim(ns, &claim);
            self.beat_holders(&mut hb, component, &r, "to be unmounted by every pod", &held)
                .await;
            self.pause().await?;
        }
    }

    /// Create the snapshots (or find the ones a resumed run created), record them, and wait until
    /// every one is `readyToUse` and bound to its content.
    async fn take(&mut self, component: &str, release: &str, claims: &[ClaimSnapshot]) -> Result<(), ApplyError> {
        let revision = self.rel.version;
        let t = Instant::now();
        let names: Vec<&str> = claims.iter().map(|c| c.claim.as_str()).collect();
        self.rep.report(Progress::Step {
            step: format!("snapshot {}", names.join(", ")),
        });
        let mut pending = Vec::new();
        for c in claims {
            let name = snapshot_name(release, revision, &c.claim);
            let r = vs_ref(&c.namespace, &name);
            let live = match self.cluster.get(&r).await? {
                Some(v) if s(&v, "/spec/source/persistentVolumeClaimName") == c.claim => v,
                Some(_) => {
                    return Err(ApplyError::Other(format!(
                        "snapshot {name} exists already, of another claim than {}: delete it or rename the release",
                        c.claim
                    )))
                }
                None => self
                    .cluster
                    .create(&body(c, &name, release, revision), false)
                    .await
                    .map_err(|e| {
                        ApplyError::Other(format!(
                            "snapshot of claim {} could not be created: {}",
                            c.claim,
                            e.cause_text()
                        ))
                    })?,
            };
            let rec = Recorded {
                namespace: c.namespace.clone(),
                claim: c.claim.clone(),
                snapshot: name.clone(),
                workload: c.workload.clone(),
                class: c.class.clone(),
                restore_size: c.restore_size.clone(),
                stage: "created".into(),
            };
            record(self.rel, &rec);
            self.note(format!("snapshot {name} of claim {} created", c.claim))
                .await?;
            pending.push((rec, live));
        }
        failpoint("snapshot-created").await;
        let deadline = Instant::now() + self.timeout;
        let mut shown = std::collections::BTreeSet::new();
        let mut hb = Beat::new();
        while !pending.is_empty() {
            let mut still = Vec::new();
            for (mut rec, _) in pending {
                let live = self
                    .cluster
                    .get(&vs_ref(&rec.namespace, &rec.snapshot))
                    .await?
                    .ok_or_else(|| {
                        ApplyError::Other(format!("snapshot {} vanished while it was taken", rec.snapshot))
                    })?;
                let err = s(&live, "/status/error/message").to_string();
                if !err.is_empty() && shown.insert((rec.snapshot.clone(), err.clone())) {
                    self.rep.report(Progress::Warning {
                        message: format!("snapshot {}: {err} (the snapshot controller retries)", rec.snapshot),
                    });
                }
                let ready = live.pointer("/status/readyToUse") == Some(&Json::Bool(true))
                    && !s(&live, "/status/boundVolumeSnapshotContentName").is_empty();
                if ready {
                    rec.stage = "ready".into();
                    if let Some(size) = live.pointer("/status/restoreSize").and_then(Json::as_str) {
                        rec.restore_size = Some(size.into());
                    }
                    record(self.rel, &rec);
                    self.note(format!(
                        "snapshot {} of claim {} ready (restore size {})",
                        rec.snapshot,
                        rec.claim,
                        rec.restore_size.as_deref().unwrap_or("unknown")
                    ))
                    .await?;
                } else if Instant::now() > deadline {
                    return Err(ApplyError::Other(format!(
                        "snapshot {} of claim {} was not ready to use after {:?}{}: the workload was not changed",
                        rec.snapshot,
                        rec.claim,
                        self.timeout,
                        if err.is_empty() {
                            String::new()
                        } else {
                            format!(" (last error: {err})")
                        }
                    )));
                } else {
                    still.push((rec, live));
                }
            }
            pending = still;
            if let Some((rec, live)) = pending.first() {
                let r = vs_ref(&rec.namespace, &rec.snapshot);
                let what = match s(live, "/status/error/message") {
                    "" => format!("of claim {} to be ready to use", rec.claim),
                    err => format!("of claim {} to be ready to use (last error: {err})", rec.claim),
                };
                self.beat(&mut hb, component, &r, &what, &[]).await;
                self.pause().await?;
            }
        }
        self.rep.report(Progress::Done {
            step: format!("snapshot {}", names.join(", ")),
            elapsed_ms: ms(t),
        });
        Ok(())
    }
}

fn api_version(key: &ObjectKey) -> String {
    if key.group.is_empty() {
        "v1".into()
    } else {
        format!("{}/v1", key.group)
    }
}

/// The plan's claims of workload `key`.
fn due(saved: &SavedPlan, key: &ObjectKey) -> Vec<ClaimSnapshot> {
    let key = key.to_string();
    saved
        .plan
        .snapshots
        .as_ref()
        .map(|p| p.to_take())
        .unwrap_or(&[])
        .iter()
        .filter(|c| c.workload == key)
        .cloned()
        .collect()
}

/// `chartup recover`: say what the interrupted run's snapshots are (they are kept: each holds the
/// data from before the run, whatever state the run stopped in).
pub(super) async fn recover(cluster: &dyn Cluster, rel: &mut Release) -> Result<Vec<String>, ApplyError> {
    let mut out = Vec::new();
    for rec in recorded(rel) {
        let live = cluster.get(&vs_ref(&rec.namespace, &rec.snapshot)).await?;
        let line = match live {
            None => format!(
                "recover: snapshot {} of claim {} was recorded but does not exist",
                rec.snapshot, rec.claim
            ),
            Some(v) if v.pointer("/status/readyToUse") == Some(&Json::Bool(true)) => {
                let mut r = rec.clone();
                r.stage = "ready".into();
                r.restore_size = v
                    .pointer("/status/restoreSize")
                    .and_then(Json::as_str)
                    .map(str::to_string)
                    .or(r.restore_size);
                record(rel, &r);
                format!(
                    "recover: snapshot {} of claim {} is ready: kept for `rollback --restore-data`",
                    rec.snapshot, rec.claim
                )
            }
            Some(v) => format!(
                "recover: snapshot {} of claim {} is not ready yet{}: kept (`chartup snapshots list` shows it)",
                rec.snapshot,
                rec.claim,
                match s(&v, "/status/error/message") {
                    "" => String::new(),
                    e => format!(" ({e})"),
                }
            ),
        };
        super::journal::journal(rel, line.clone());
        out.push(line);
    }
    Ok(out)
}
