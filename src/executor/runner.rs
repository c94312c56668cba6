//! One run of the executor ([`Run`]): the pending record it journals into, and the waiting every
//! step shares.
//!
//! Waiting is always on an observed condition with a deadline: the executor polls the objects it
//! waits for every [`POLL`] and judges them with [`super::health`]. Polling keeps the code simple
//! and old-server friendly; 250 ms is well inside the "report within seconds" the fail-fast rule
//! asks for. The other files of the executor add the steps to `Run` (`impl Run` in each).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value as Json;

use super::error::{broken, ApplyError};
use super::health::{pod_health, PodHealth};
use super::journal::journal;
use super::options::ApplyOptions;
use super::progress::{ms, state_of, Beat, Progress, Reporter};
use crate::cluster::{Cluster, ObjRef};
use crate::recovery::holder::{Holder, RENEW_EVERY};
use crate::recovery::lease::{self, Acquired, LeaseError, LeaseLock};
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

/// Take the release's Lease for the holder `rel` names (crate::recovery::lease), before the
/// run's first write. A live holder refuses the run; where Leases cannot be used, the record
/// alone is the lock and a warning says why.
pub(super) async fn take_lease(
    cluster: &dyn Cluster,
    rel: &Release,
    rep: &mut dyn Reporter,
) -> Result<Option<LeaseLock>, ApplyError> {
    let Some(me) = holder_of(rel) else { return Ok(None) };
    match lease::acquire(cluster, &rel.namespace, &rel.name, &me).await {
        Ok(Acquired::Held(l)) => Ok(Some(l)),
        Ok(Acquired::Unavailable(why)) => {
            rep.report(Progress::Warning {
                message: format!(
                    "no Lease for the lock ({why}): the pending release record is the only lock, its heartbeat \
                     renewed while the run waits"
                ),
            });
            Ok(None)
        }
        Err(LeaseError::Held(msg)) => Err(ApplyError::Other(msg)),
        Err(LeaseError::Cluster(e)) => Err(e.into()),
    }
}

/// Set by the first failure among components rolling at once: the component that failed.
#[derive(Debug, Default)]
pub(super) struct Halt(Mutex<Option<String>>);

impl Halt {
    pub(super) fn set(&self, component: &str) {
        let mut h = self.0.lock().unwrap_or_else(|p| p.into_inner());
        h.get_or_insert_with(|| component.to_string());
    }

    pub(super) fn failed(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
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
    /// Set when this run rolls one component beside others (executor::parallel): a failure
    /// elsewhere stops it at its next safe point.
    pub(super) halt: Option<std::sync::Arc<Halt>>,
}

impl Run<'_, '_> {
    /// A safe point to stop at when another component failed: before the next workload or pod.
    pub(super) fn keep_going(&self) -> Result<(), ApplyError> {
        match self.halt.as_ref().and_then(|h| h.failed()) {
            Some(component) => Err(ApplyError::Halted(component)),
            None => Ok(()),
        }
    }

    /// Journal a step into the record (renewing the holder's heartbeat with it). A finished step
    /// is a safe point: a stop asked for by a signal is taken right after it is journaled.
    pub(super) async fn note(&mut self, line: String) -> Result<(), ApplyError> {
        // Writes whose answer was lost and how they were settled (issue 12), before the step.
        for n in crate::recovery::retrying::take_notes() {
            self.rep.report(Progress::Warning { message: n.clone() });
            journal(self.rel, n);
        }
        journal(self.rel, line);
        renew_heartbeat(self.rel);
        self.store.update(self.rel).await?;
        // The next step begins: its requests retry within its own timeout.
        self.step_deadline();
        self.checkpoint()
    }

    /// A step or wait begins now: its deadline (the current timeout from now) also bounds how long
    /// every request made in it retries transient faults (crate::recovery::retrying).
    pub(super) fn step_deadline(&self) -> Instant {
        let d = Instant::now() + self.timeout;
        crate::recovery::retrying::set_deadline(d);
        d
    }

    /// Stop here if a signal asked for it (crate::recovery::signal), or if the run lost its Lease
    /// (crate::recovery::lease: `recover --force` released it).
    pub(super) fn checkpoint(&self) -> Result<(), ApplyError> {
        if let Some(why) = crate::recovery::lease::lost() {
            return Err(ApplyError::Other(format!(
                "lost the lock of release {}: {why}; stopped at a safe point (between pods or steps)",
                self.rel.name
            )));
        }
        match crate::recovery::signal::requested() {
            Some(sig) => Err(ApplyError::Interrupted(crate::recovery::signal::name(sig))),
            None => Ok(()),
        }
    }

    /// One poll interval of a wait: also a safe point, and where the heartbeat is renewed while
    /// the run waits (every [`RENEW_EVERY`]).
    pub(super) async fn pause(&mut self) -> Result<(), ApplyError> {
        tokio::time::sleep(POLL).await;
        self.paused().await
    }

    /// What every pause does after its sleep (this one's, or a watching wait's: wake.rs).
    pub(super) async fn paused(&mut self) -> Result<(), ApplyError> {
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

    /// Wait until `r` is gone; `component` is whose step it is (heartbeats name it).
    pub(super) async fn wait_gone(&mut self, component: &str, r: &ObjRef) -> Result<(), ApplyError> {
        let deadline = self.step_deadline();
        let mut hb = Beat::new();
        while let Some(live) = self.cluster.get(r).await? {
            if Instant::now() > deadline {
                return Err(ApplyError::Other(format!(
                    "{r} was not deleted within {:?}",
                    self.timeout
                )));
            }
            let pods: Vec<Json> = if r.kind == "Pod" { vec![live.clone()] } else { vec![] };
            let what = format!("to be deleted{}", state_of(Some(&live)));
            self.beat_holders(&mut hb, component, r, &what, &pods).await;
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
        let deadline = self.step_deadline();
        let mut hb = Beat::new();
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
