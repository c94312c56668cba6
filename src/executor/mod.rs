//! Executes a plan against a cluster: ordered, gated, recorded.
//!
//! [`health`] holds the pure judgements (is this pod broken, is this workload rolled out), so
//! they are unit-tested on status JSON; the async driving code only observes and acts.

pub mod health;
