//! The end-to-end tests on the test cluster (scripts/test-cluster.sh), one binary. Each suite is
//! a module: `cargo test --test e2e apply::` runs one, `cargo test --test e2e` all of them. They
//! fail, never skip, when the cluster is not running (crates/testkit); every test isolates itself
//! in fresh namespaces, so the suites share the cluster while running in parallel.

mod e2e_support;

mod after_failure;
mod apply;
mod aware;
mod carry;
mod cluster;
mod crds;
mod helmuser;
mod helmuser_ops;
mod hostile;
mod parallel;
mod recovery;
mod recovery_limits;
mod recovery_transport;
mod recovery_volumes;
mod recreate;
mod rollback;
mod snapshot_infra;
mod snapshots;
mod sources;
// issue 17's connected-plan decisions (after the others: added last).
mod precision;
