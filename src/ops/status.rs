//! `chartup status`: the state of a release and of its last operation — the newest revision's
//! status as conditions (`Upgrading`, `RollbackInProgress`, `Error`), the pods of the release
//! ready or not (with the kubelet's reason), and the journal of the last run.

use serde::Serialize;

use crate::recovery::holder::Liveness;

use super::{Error, Result};
use crate::cluster::Cluster;
use crate::executor::health::{pod_health, unready_detail, PodHealth};
use crate::executor::journal_lines;
use crate::release::{Release, Status};
use crate::storage::ReleaseStore;

/// A condition, as Kubernetes objects carry them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Condition {
    #[serde(rename = "type")]
    pub kind: String,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl Condition {
    fn new(kind: &str, status: &str) -> Condition {
        Condition {
            kind: kind.into(),
            status: status.into(),
            reason: None,
            message: None,
        }
    }
}

/// The pods of the release: names of the ready ones, `name (reason)` of the others.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Members {
    pub ready: Vec<String>,
    pub unready: Vec<String>,
}

/// What `chartup status` reports (its JSON form, field for field).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusReport {
    pub name: String,
    pub namespace: String,
    pub revision: u32,
    pub status: Status,
    /// The chart version of the deployed revision ("" when none is).
    pub current_version: String,
    /// The chart version of the newest revision.
    pub desired_version: String,
    pub conditions: Vec<Condition>,
    pub members: Members,
    pub last_error: Option<String>,
    pub journal: Vec<String>,
    /// What the newest revision's run accepted at risk or lost, and who (`chartup_accepted`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accepted: Option<crate::executor::acceptance::Acceptance>,
}

/// The pods' readiness, one judgement each (see [`crate::executor::health`]).
pub fn members(pods: &[serde_json::Value]) -> Members {
    let mut m = Members::default();
    for pod in pods {
        let name = pod
            .pointer("/metadata/name")
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string();
        match pod_health(pod) {
            PodHealth::Ready | PodHealth::Succeeded => m.ready.push(name),
            PodHealth::Broken { reason, .. } => m.unready.push(format!("{name} ({reason})")),
            PodHealth::Progressing { reason } => {
                // The kubelet's reason when it says one (ContainersNotReady, ContainerCreating…).
                let why = unready_detail(pod).map(|d| d.1).unwrap_or(reason);
                m.unready.push(format!("{name} ({why})"))
            }
            PodHealth::Failed { reason, .. } => m.unready.push(format!("{name} (Failed {reason})")),
            PodHealth::Terminating => m.unready.push(format!("{name} (Terminating)")),
        }
    }
    m
}

/// The condition of a pending revision: a run that provably died holds a stale lock (status
/// `Unknown`, reason `StaleLock`, pointing at `recover`), not `Upgrading=True`; a live holder is
/// named with the time it took the lock.
fn lock_condition(kind: &str, name: &str, last: &Release) -> Condition {
    match crate::executor::recover::holder_liveness(last) {
        Some((h, Liveness::Dead(why))) => Condition {
            reason: Some("StaleLock".into()),
            message: Some(format!(
                "the lock of revision {} is stale: chartup {} by {}, since {}, is gone ({why}); run `chartup recover {name} -n {}`",
                last.version, h.operation, h.who(), h.acquired, last.namespace
            )),
            ..Condition::new(kind, "Unknown")
        },
        Some((h, Liveness::Alive(why))) => Condition {
            reason: Some("Running".into()),
            message: Some(format!(
                "chartup {} by {}, since {} ({why})",
                h.operation,
                h.who(),
                h.acquired
            )),
            ..Condition::new(kind, "True")
        },
        // Helm's lock, or an older chartup's: nothing says who holds it.
        None => Condition {
            message: Some(format!(
                "revision {} is {}: {}; if that operation is dead, run `chartup recover {name} -n {}`",
                last.version,
                last.status(),
                last.info.description,
                last.namespace
            )),
            ..Condition::new(kind, "True")
        },
    }
}

/// The report for the newest revision `last`, the deployed one, and the release's pods.
pub fn report(name: &str, last: &Release, deployed: Option<&Release>, pods: &[serde_json::Value]) -> StatusReport {
    let members = members(pods);
    let mut conditions = Vec::new();
    match last.status() {
        st @ (Status::PendingUpgrade | Status::PendingInstall | Status::PendingRollback) => {
            let kind = if st == Status::PendingRollback {
                "RollbackInProgress"
            } else {
                "Upgrading"
            };
            conditions.push(lock_condition(kind, name, last));
        }
        Status::Failed => {
            let reason = if last.info.description.starts_with("RollbackFailed") {
                "RollbackFailed"
            } else {
                "UpgradeFailed"
            };
            conditions.push(Condition {
                reason: Some(reason.into()),
                message: Some(last.info.description.clone()),
                ..Condition::new("Error", "True")
            });
        }
        _ => {}
    }
    let ready = if members.unready.is_empty() { "True" } else { "False" };
    conditions.push(Condition::new("PodsReady", ready));
    let version = |r: Option<&Release>| r.map(|r| r.chart.version().to_string()).unwrap_or_default();
    StatusReport {
        name: name.to_string(),
        namespace: last.namespace.clone(),
        revision: last.version,
        status: last.status(),
        current_version: version(deployed),
        desired_version: version(Some(last)),
        conditions,
        members,
        last_error: (last.status() == Status::Failed).then(|| last.info.description.clone()),
        journal: journal_lines(last),
        accepted: crate::executor::acceptance::recorded(last),
    }
}

/// Read the release's records and pods and report.
pub async fn status(cluster: &dyn Cluster, store: &dyn ReleaseStore, release: &str) -> Result<StatusReport> {
    let h = store.history(release).await?;
    let Some(last) = h.last() else {
        return Err(Error::Invalid(crate::helm_env::release_not_found(
            release,
            store.namespace(),
        )));
    };
    let pods = release_pods(cluster, store.namespace(), release, last).await?;
    // A live run renews its Lease: its heartbeat is there (crate::recovery::lease).
    let last = crate::executor::recover::with_lease_heartbeat(cluster, last).await;
    Ok(report(release, &last, h.deployed(), &pods))
}

/// The release's pods: those labelled `app.kubernetes.io/instance=RELEASE` (the convention of
/// `helm create` charts) and those of the newest revision's workloads, by their selectors — a
/// chart need not set the label, and without them its broken pods went unseen (PodsReady=True,
/// no members).
async fn release_pods(
    cluster: &dyn Cluster,
    ns: &str,
    release: &str,
    last: &Release,
) -> Result<Vec<serde_json::Value>> {
    let name = |p: &serde_json::Value| p.pointer("/metadata/name").and_then(|v| v.as_str()).map(str::to_string);
    let selector = format!("app.kubernetes.io/instance={release}");
    let mut pods = cluster.list("v1", "Pod", ns, Some(&selector)).await?;
    // A record whose manifest cannot be read still has its labelled pods.
    let Ok(set) = crate::manifest::parse_manifest(&last.manifest, ns) else {
        return Ok(pods);
    };
    let mut seen: std::collections::BTreeSet<String> = pods.iter().filter_map(name).collect();
    for o in set.objects.iter().filter(|o| o.is_workload()) {
        let selector = crate::executor::objects::match_labels(&o.value);
        if selector.is_empty() {
            continue;
        }
        for p in cluster.list("v1", "Pod", ns, Some(&selector)).await? {
            if name(&p).is_some_and(|n| seen.insert(n)) {
                pods.push(p);
            }
        }
    }
    Ok(pods)
}
