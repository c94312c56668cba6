//! The operations: one file per use case (template, plan, plan against a cluster, apply, rollback,
//! status, history, recover), as helm's `pkg/action` and cargo's `ops`.
//!
//! An operation composes the stages — loads and renders through `plan::source`, plans with
//! `plan::build`, reads and writes releases through [`crate::storage::ReleaseStore`], talks to the
//! cluster through [`crate::cluster::Cluster`], executes with [`crate::executor`] — and returns a
//! result for the caller to show. It prints nothing and parses no flags: the CLI (`crate::cli`)
//! turns arguments into an operation's options, calls it, and prints through its `Printer`. No
//! stage imports this module (`src/layers.rs` checks it).
//!
//! Operations that talk to a cluster take the two seams as arguments, so the same operation runs
//! against a real server ([`connect`]) or against [`crate::cluster::FakeCluster`] and
//! [`crate::storage::MemoryStore`] in unit tests.
//!
//! Adding a verb: a file here with an options struct and one `pub fn`/`pub async fn`, a file (or
//! a subcommand) in `crate::cli` that builds the options and prints the result.

pub mod apply;
pub mod cluster_plan;
pub mod cluster_render;
pub mod deployed;
pub mod get;
pub mod history;
pub mod list;
pub mod namespace;
pub mod plan;
pub mod plan_checks;
pub mod recover;
pub mod rollback;
pub mod status;
pub mod template;
pub mod uninstall;

use std::path::Path;
use std::sync::Arc;

use crate::cluster::{Cluster, ClusterError, KubeCluster};
use crate::executor::ApplyError;
use crate::storage::StoreError;

/// Why an operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Apply(#[from] ApplyError),
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// Input the operation cannot work with, said in full (file, field, why).
    #[error("{0}")]
    Invalid(String),
    /// A failure that comes with output to print first: `template --debug` prints what was
    /// rendered (the invalid document included) before the error, as helm does.
    #[error("{message}")]
    WithOutput { output: String, message: String },
    /// What the operation was doing when `source` happened (`rendering charts/db`).
    #[error("{what}")]
    Context {
        what: String,
        #[source]
        source: Box<Error>,
    },
}

impl Error {
    /// This error as the cause of `what`.
    pub fn context(self, what: impl Into<String>) -> Error {
        Error::Context {
            what: what.into(),
            source: Box::new(self),
        }
    }

    /// The executor's error, if this is one (the CLI picks exit statuses by it).
    pub fn as_apply(&self) -> Option<&ApplyError> {
        match self {
            Error::Apply(e) => Some(e),
            Error::Context { source, .. } => source.as_apply(),
            _ => None,
        }
    }
}

impl From<String> for Error {
    fn from(s: String) -> Error {
        Error::Invalid(s)
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// Connect to the cluster as kubectl does (see [`KubeCluster::connect`]).
pub async fn connect(
    kubeconfig: Option<&Path>,
    context: Option<&str>,
    namespace: Option<&str>,
) -> Result<Arc<dyn Cluster>> {
    // Transient API faults are retried under every operation (crate::recovery::retrying).
    let kube: Arc<dyn Cluster> = Arc::new(KubeCluster::connect(kubeconfig, context, namespace).await?);
    Ok(Arc::new(crate::recovery::retrying::Retrying::new(kube)))
}

/// Read a file, or standard input for `-`.
pub(crate) fn read_input(path: &Path) -> Result<String> {
    let what = || format!("reading {}", path.display());
    if path == Path::new("-") {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
            .map_err(|e| Error::from(e).context("reading stdin"))?;
        return Ok(s);
    }
    std::fs::read_to_string(path).map_err(|e| Error::from(e).context(what()))
}

/// Load a compatibility matrix, every problem in the message.
pub(crate) fn load_matrix(path: Option<&Path>) -> Result<Option<crate::matrix::Matrix>> {
    match path {
        Some(p) => Ok(Some(crate::matrix::load(p).map_err(|e| Error::Invalid(e.to_string()))?)),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests;
