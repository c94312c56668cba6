//! One run of the executor ([`Run`]): the pending record it journals into, and the waiting every
//! step shares.
//!
//! Waiting is always on an observed condition with a deadline: the executor polls the objects it
//! waits for every [`POLL`] and judges them with [`super::health`]. Polling keeps the code simple
//! and old-server friendly; 250 ms is well inside the "report within seconds" the fail-fast rule
//! asks for. The other files of the executor add the steps to `Run` (`impl Run` in each).

use std::time::{Duration, Instant};

use serde_json::Value as Json;

use super::error::{broken, ApplyError};
use super::health::{pod_health, PodHealth};
use super::journal::journal;
use super::options::ApplyOptions;
use super::progress::{ms, Progress, Reporter};
use crate::cluster::{Cluster, ObjRef};
use crate::release::Release;
use crate::storage::ReleaseStore;

pub(super) const POLL: Duration = Duration::from_millis(250);

/// One run of the executor, holding the pending record it journals into.
pub(super) struct Run<'a, 'b> {
    pub(super) cluster: &'a dyn Cluster,
    pub(super) store: &'a dyn ReleaseStore,
    pub(super) rel: &'b mut Release,
    pub(super) rep: &'b mut dyn Reporter,
    pub(super) opts: &'a ApplyOptions,
    /// What waits are bounded by now: `--timeout`, or the matrix's timeout for the component
    /// being rolled out.
    pub(super) timeout: std::time::Duration,
}

impl Run<'_, '_> {
    pub(super) async fn note(&mut self, line: String) -> Result<(), ApplyError> {
        journal(self.rel, line);
        self.store.update(self.rel).await?;
        Ok(())
    }

    pub(super) async fn wait_gone(&mut self, r: &ObjRef) -> Result<(), ApplyError> {
        let deadline = Instant::now() + self.timeout;
        while self.cluster.get(r).await?.is_some() {
            if Instant::now() > deadline {
                return Err(ApplyError::Other(format!(
                    "{r} was not deleted within {:?}",
                    self.timeout
                )));
            }
            tokio::time::sleep(POLL).await;
        }
        Ok(())
    }

    pub(super) fn progress(&mut self, component: &str, live: &Json, t0: Instant) {
        let n = |p: &str| live.pointer(p).and_then(Json::as_i64).unwrap_or(0);
        let desired = live.pointer("/spec/replicas").and_then(Json::as_i64).unwrap_or(1);
        // A DaemonSet counts per node, under other names.
        let (updated, desired, ready) = if live.pointer("/kind").and_then(Json::as_str) == Some("DaemonSet") {
            (
                n("/status/updatedNumberScheduled"),
                n("/status/desiredNumberScheduled"),
                n("/status/numberReady"),
            )
        } else {
            (
                n("/status/updatedReplicas"),
                desired,
                n("/status/readyReplicas").max(n("/status/availableReplicas")),
            )
        };
        self.rep.report(Progress::Component {
            component: component.into(),
            updated,
            desired,
            ready,
            elapsed_ms: ms(t0),
        });
    }

    /// The error when a workload (or pod) is not healthy by its deadline: it names the pod that is
    /// not ready, with its reason and message, as a broken pod's error does.
    pub(super) fn timed_out(&self, r: &ObjRef, what: &str, pods: &[Json]) -> ApplyError {
        let stuck = pods.iter().find_map(|p| {
            let name = p.pointer("/metadata/name").and_then(Json::as_str).unwrap_or("");
            super::health::unready_detail(p).map(|d| (name.to_string(), d))
        });
        match stuck {
            Some((pod, (container, reason, message))) => {
                let container = if container.is_empty() {
                    String::new()
                } else {
                    format!(" (container {container})")
                };
                ApplyError::Other(format!(
                    "pod {pod}{container} is still {reason} after the {:?} timeout: {message} (waiting for {r} {what})",
                    self.timeout
                ))
            }
            None => ApplyError::Other(format!("timed out after {:?} waiting for {r} {what}", self.timeout)),
        }
    }

    pub(super) fn check_deadline(&self, deadline: Instant, r: &ObjRef, what: &str) -> Result<(), ApplyError> {
        if Instant::now() > deadline {
            return Err(ApplyError::Other(format!(
                "timed out after {:?} waiting for {r} {what}",
                self.timeout
            )));
        }
        Ok(())
    }

    pub(super) async fn pods(&self, ns: &str, selector: &str) -> Result<Vec<Json>, ApplyError> {
        if selector.is_empty() {
            return Ok(vec![]);
        }
        Ok(self.cluster.list("v1", "Pod", ns, Some(selector)).await?)
    }

    /// Wait for a Job (or Pod) to complete; other kinds are done once applied.
    pub(super) async fn complete(&mut self, r: &ObjRef) -> Result<(), ApplyError> {
        let deadline = Instant::now() + self.timeout;
        loop {
            let live = self.cluster.get(r).await?.unwrap_or(Json::Null);
            match r.kind.as_str() {
                "Job" => {
                    let conds = live
                        .pointer("/status/conditions")
                        .and_then(Json::as_array)
                        .cloned()
                        .unwrap_or_default();
                    let has = |t: &str| conds.iter().any(|c| c["type"] == t && c["status"] == "True");
                    if has("Complete") {
                        return Ok(());
                    }
                    if has("Failed") {
                        return Err(ApplyError::Other(format!("{r} failed")));
                    }
                    let selector = format!("job-name={}", r.name);
                    for p in self.pods(&r.namespace, &selector).await? {
                        if let PodHealth::Broken {
                            container,
                            reason,
                            message,
                        } = pod_health(&p)
                        {
                            let name = p.pointer("/metadata/name").and_then(Json::as_str).unwrap_or("");
                            return Err(broken(name, &container, &reason, &message));
                        }
                    }
                }
                "Pod" => match pod_health(&live) {
                    PodHealth::Succeeded => return Ok(()),
                    PodHealth::Failed { reason, message } => {
                        return Err(ApplyError::Other(format!("{r} failed: {reason} {message}")))
                    }
                    PodHealth::Broken {
                        container,
                        reason,
                        message,
                    } => return Err(broken(&r.name, &container, &reason, &message)),
                    _ => {}
                },
                _ => return Ok(()),
            }
            self.check_deadline(deadline, r, "to complete")?;
            tokio::time::sleep(POLL).await;
        }
    }
}
