//! Why a run did not happen or did not finish.

use crate::cluster::ClusterError;
use crate::release::Status;
use crate::storage::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("refusing to apply:\n{}", .0.iter().map(|r| format!("  - {r}")).collect::<Vec<_>>().join("\n"))]
    Refused(Vec<String>),
    #[error(
        "release {release} is locked by revision {revision} ({status}, since {since}): {description}\n  \
         if that operation is dead, run `chartup recover {release} -n {namespace}`"
    )]
    Locked {
        release: String,
        namespace: String,
        revision: u32,
        status: Status,
        since: String,
        description: String,
    },
    #[error("the plan is stale: {0}\n  make a new plan against the current release")]
    Stale(String),
    #[error("{message}")]
    Failed {
        revision: u32,
        message: String,
        /// With `--atomic`: the rollback's revision, or why the rollback failed too.
        rollback: Option<Result<u32, String>>,
        /// With `--atomic` on a failed install (nothing to roll back to): the release was
        /// uninstalled, as helm's install does, or why that failed too.
        uninstalled: Option<Result<(), String>>,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    /// A signal asked the run to stop; it stopped at a safe point (between pods or steps).
    #[error("interrupted by {0} (stopped at a safe point, between pods or steps)")]
    Interrupted(&'static str),
    /// Another component rolling at the same time failed: this one stopped at its next safe
    /// point (before its next pod or workload), finishing the pod in hand (executor::parallel).
    #[error("stopped at a safe point because component {0} failed")]
    Halted(String),
    #[error("{0}")]
    Other(String),
}

impl ApplyError {
    /// True when a rollback (or a failed install's uninstall) was attempted and failed as well.
    pub fn rollback_failed(&self) -> bool {
        matches!(
            self,
            ApplyError::Failed {
                rollback: Some(Err(_)),
                ..
            } | ApplyError::Failed {
                uninstalled: Some(Err(_)),
                ..
            }
        )
    }
}

pub(super) fn broken(pod: &str, container: &str, reason: &str, message: &str) -> ApplyError {
    ApplyError::Other(format!("pod {pod} (container {container}) is {reason}: {message}"))
}
