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
use crate::recovery::holder::{Holder, RENEW_EVERY};
use crate::release::Release;
use crate::storage::ReleaseStore;

pub(super) const POLL: Duration = Duration::from_millis(250);

/// Key of the lock holder in chartup's pending records (crate::recovery::holder).
pub const HOLDER_KEY: &str = "chartup_holder";

/// The holder a pending record names, if chartup wrote it.
pub fn holder_of(rel: &Release) -> Option<Holder> {
    serde_json::from_value(rel.extra.get(HOLDER_KEY)?.clone()).ok()
}

/// Name this process as the record's holder (taking the lock).
pub fn hold(rel: &mut Release, operation: &str) {
    let me = Holder::me(operation, jiff::Timestamp::now());
    rel.extra
        .insert(HOLDER_KEY.into(), serde_json::to_value(me).unwrap_or_default());
}

fn renew_heartbeat(rel: &mut Release) {
    if let Some(mut h) = holder_of(rel) {
        h.heartbeat = jiff::Timestamp::now();
        rel.extra
            .insert(HOLDER_KEY.into(), serde_json::to_value(h).unwrap_or_default());
    }
}

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
    /// Journal a step into the record (renewing the holder's heartbeat with it). A finished step
    /// is a safe point: a stop asked for by a signal is taken right after it is journaled.
    pub(super) async fn note(&mut self, line: String) -> Result<(), ApplyError> {
        journal(self.rel, line);
        renew_heartbeat(self.rel);
        self.store.update(self.rel).await?;
        self.checkpoint()
    }

    /// Stop here if a signal asked for it (crate::recovery::signal).
    pub(super) fn checkpoint(&self) -> Result<(), ApplyError> {
        match crate::recovery::signal::requested() {
            Some(sig) => Err(ApplyError::Interrupted(crate::recovery::signal::name(sig))),
            None => Ok(()),
        }
    }

    /// One poll interval of a wait: also a safe point, and where the heartbeat is renewed while
    /// the run waits (every [`RENEW_EVERY`]).
    pub(super) async fn pause(&mut self) -> Result<(), ApplyError> {
        tokio::time::sleep(POLL).await;
        self.checkpoint()?;
        let due = holder_of(self.rel).is_some_and(|h| {
            jiff::Timestamp::now().duration_since(h.heartbeat)
                >= jiff::SignedDuration::try_from(RENEW_EVERY).unwrap_or_default()
        });
        if due {
            renew_heartbeat(self.rel);
            self.store.update(self.rel).await?;
        }
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
            self.pause().await?;
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
        let mut hb = super::progress::Beat::new();
        loop {
            let live = self.cluster.get(r).await?.unwrap_or(Json::Null);
            let mut waiting_on = vec![];
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
                    waiting_on = self.pods(&r.namespace, &selector).await?;
                    for p in &waiting_on {
                        if let PodHealth::Broken {
                            container,
                            reason,
                            message,
                        } = pod_health(p)
                        {
                            let name = p.pointer("/metadata/name").and_then(Json::as_str).unwrap_or("");
                            let err = broken(name, &container, &reason, &message);
                            let p = p.clone();
                            self.diagnose(&r.name, &p).await;
                            return Err(err);
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
            if r.kind == "Pod" {
                waiting_on.push(live);
            }
            self.check_deadline(deadline, r, "to complete")?;
            self.beat(&mut hb, &r.name, r, "to complete", &waiting_on).await;
            self.pause().await?;
        }
    }
}
