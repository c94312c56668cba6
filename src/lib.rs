//! chartup: predictable, reversible upgrades of stateful applications from Helm charts.
//!
//! Data flows one way through the stages, one module each:
//!
//! ```text
//! chart (load dir/.tgz, values) → template (Go text/template + functions)
//!   → render (Helm semantics: objects, subcharts, output) → manifest (typed resource set)
//!   → diff → analysis (volume fate, immutable fields) + matrix → plan (model, outputs)
//!   → executor (apply, rollout, health, hooks, migrations) → release (revision records)
//! ```
//!
//! Two seams separate the stages from the outside world: every request to a cluster goes through
//! the [`cluster::Cluster`] trait and every release record through [`storage::ReleaseStore`], each
//! with a real implementation (kube-rs; Helm's Secret driver) and an in-memory one for tests.
//!
//! Above the stages, [`ops`] holds one operation per use case (plan, plan against a cluster,
//! apply, rollback, status, history, recover, template): it composes the stages and the seams.
//! [`cli`] parses arguments, calls one operation and prints; `main.rs` only hands over to it.
//!
//! The planner never needs a cluster; the executor takes a plan and never renders or plans (it
//! imports neither `render` nor `plan::source`); no stage imports `ops` or `cli`. `layers.rs`
//! checks these rules and that no two modules or files import each other.

pub mod analysis;
pub mod chart;
pub mod cli;
pub mod cluster;
pub mod diff;
pub mod duration;
pub mod executor;
pub mod helm_env;
#[cfg(test)]
mod layers;
pub mod manifest;
pub mod matrix;
pub mod ops;
pub mod plan;
pub mod recovery;
pub mod release;
pub mod render;
pub mod source;
pub mod stack;
pub mod storage;
pub mod template;
#[cfg(test)]
mod testutil;
pub mod value;
pub mod version;
pub mod yaml;
