//! Replacing pods stuck on a bad template (kubernetes#67250), inside the health gate.
//!
//! After a failed RollingUpdate of an `OrderedReady` StatefulSet, reverting the template (a
//! rollback, `--atomic`) or applying a good one (fix-forward) changes nothing by itself: the
//! controller's walk stops at the first pod that is not Ready, before its update phase, so the
//! broken pod is never replaced (`OnDelete` never replaces one at all). The documented manual fix
//! is deleting the pod ("Forced rollback", kubernetes.io StatefulSet docs). chartup does that
//! itself, one pod at a time, highest ordinal first, and only for a pod the controller would
//! replace if it could reach its update phase: not Ready and created from neither the current
//! nor the target revision (`health::stuck_pods`). It evicts rather than deletes (PDBs are
//! honoured) with a UID precondition (the replacement has the same name), journals the action
//! first, then waits for the replacement to be Ready on the target revision before the next.
//! When the eviction cannot happen — a budget forbids it, or no permission — the error names the
//! pod, why, and the exact command.

use std::time::{Duration, Instant};

use serde_json::json;

use super::error::ApplyError;
use super::health::{replace_command, StuckPod};
use super::progress::{ms, Progress};
use super::runner::Run;
use crate::cluster::{Eviction, ObjRef};

/// How long a PodDisruptionBudget's refusal is retried before it is reported: a budget that is
/// only briefly exhausted (another pod starting) frees up within seconds.
const PDB_PATIENCE: Duration = Duration::from_secs(20);

impl Run<'_, '_> {
    /// Replace the first of `stuck` (they come highest ordinal first) and wait until its
    /// replacement is Ready on `update_rev`. The caller re-reads the workload and asks again.
    pub(super) async fn replace_stuck(
        &mut self,
        component: &str,
        workload: &ObjRef,
        update_rev: &str,
        stuck: &[StuckPod],
    ) -> Result<(), ApplyError> {
        let Some(p) = stuck.first() else { return Ok(()) };
        let ns = workload.namespace.clone();
        let t = Instant::now();
        let why = format!(
            "pod {} is stuck ({}, revision {}: neither the current nor the target template; its controller will not replace it)",
            p.name, p.reason, p.revision
        );
        self.rep.report(Progress::Step {
            step: format!("replacing stuck pod {} of {workload} ({})", p.name, p.reason),
        });
        self.note(format!(
            "replacing stuck pod {} ({}, revision {})",
            p.name, p.reason, p.revision
        ))
        .await?;
        let pod_ref = ObjRef::new("v1", "Pod", &ns, &p.name);
        let refused_until = Instant::now() + PDB_PATIENCE;
        let mut attempt = 0;
        loop {
            match self.cluster.evict(&pod_ref, Some(&p.uid)).await {
                Ok(Eviction::Evicted) => break,
                Ok(Eviction::Blocked(msg)) => {
                    if Instant::now() > refused_until {
                        return Err(ApplyError::Other(format!(
                            "{why}, but a PodDisruptionBudget does not allow evicting it: {msg}\n  \
                             if the disruption is acceptable, replace it yourself: {}",
                            replace_command(&ns, &p.name)
                        )));
                    }
                    let wait =
                        crate::recovery::retry::Backoff::default().delay(attempt, crate::recovery::retry::jitter());
                    attempt += 1;
                    tokio::time::sleep(wait).await;
                }
                Err(e) if e.status_code() == Some(403) => {
                    return Err(ApplyError::Other(format!(
                        "{why}, but you may not evict it (no permission: {})\n  ask for `create pods/eviction` in \
                         namespace {ns}, or have someone run: {}",
                        e.server_message(),
                        replace_command(&ns, &p.name)
                    )))
                }
                Err(e) => return Err(e.into()),
            }
        }
        self.wait_pod(&pod_ref, Some(&json!(p.uid)), update_rev).await?;
        self.note(format!("stuck pod {} replaced: Ready on revision {update_rev}", p.name))
            .await?;
        self.rep.report(Progress::PodReplaced {
            component: component.into(),
            pod: p.name.clone(),
            elapsed_ms: ms(t),
        });
        Ok(())
    }
}
