//! chartup: predictable, reversible upgrades of stateful applications from Helm charts.
//!
//! Data flows one way through the stages, one module each:
//!
//! ```text
//! chart (load dir/.tgz, values) → template (Go text/template + functions)
//!   → render (Helm semantics: objects, subcharts, output) → manifest (typed resource set)
//!   → diff → analysis (volume fate, immutable fields) + matrix → plan (model, outputs)
//!   → executor (apply, rollout, health, hooks, migrations) → release (revision records)
//!   ↔ cluster (Kubernetes client)
//! ```
//!
//! The planner never needs a cluster; the executor takes a plan and never looks inside the
//! renderer. `main.rs` only parses arguments and hands over to [`cli`].

pub mod analysis;
pub mod chart;
pub mod cli;
pub mod cluster;
pub mod diff;
pub mod duration;
pub mod executor;
#[cfg(test)]
mod layers;
pub mod manifest;
pub mod matrix;
pub mod ops;
pub mod plan;
pub mod recovery;
pub mod release;
pub mod render;
pub mod storage;
pub mod template;
#[cfg(test)]
mod testutil;
pub mod version;
pub mod yaml;
