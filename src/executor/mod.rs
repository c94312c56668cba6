//! Executes a plan against a cluster: ordered, gated, recorded.
//!
//! The executor takes a [`crate::plan::saved::SavedPlan`] — what a human reviewed — and never
//! renders or plans anything (a rollback is planned by `crate::ops::rollback` and handed over as a
//! [`RollbackPlan`]). It reaches the cluster only through [`crate::cluster::Cluster`] and the
//! release records only through [`crate::storage::ReleaseStore`], so its decisions are unit-tested
//! on the in-memory fakes (`tests.rs`), and proven on a real server by the e2e suites.
//!
//! Its order of work follows the seed operators (Pravega, Aerospike, FATE): refuse before touching
//! anything, including a server-side dry run of every write ([`preflight`]); take the release lock
//! by writing a `pending-*` revision; backup; pre-upgrade hooks; configuration objects; then each
//! component in the order the matrix, annotations and chart dependencies declare — in parallel
//! where none is ([`schedule`], [`parallel`]) — pod by pod for `OnDelete` StatefulSets, each gated
//! on health with fail-fast on broken pods; post-upgrade hooks; migrations after the whole rollout is
//! healthy; pruning last. A rollback runs the down scripts of the migrations it undoes before its
//! workloads roll back ([`migrate`]). Every step is appended to a journal inside the pending
//! revision record, so `chartup recover` can say what an interrupted run had done.
//!
//! One concern per file, from the bottom up:
//!
//! - [`options`], [`progress`], [`error`]: what a run takes, reports and fails with;
//! - [`objects`], [`hooks`], [`journal`], [`records`]: objects as written, Helm hooks, the journal,
//!   the release records a run writes;
//! - [`health`] (pure judgements on status JSON), [`migrate`] (the schema's bookkeeping),
//!   [`live`] (live versions for staleness), [`refusals`] (what refuses a run), [`acceptance`]
//!   (who accepted what at risk, kept in the revision);
//! - [`runner`]: one run ([`runner::Run`]) and its waiting ([`heartbeat`]: what a wait waits for,
//!   and why a pod stalls); the steps extend it —
//!   [`rollout`], [`unstick`], [`recreate`], [`carry`], [`backup`], [`migrations`], [`hooks`],
//!   [`snapshot`] and [`restore`] (issue 15) — and
//!   [`upgrade`] orders them, [`schedule`] decides which components may roll at once and
//!   [`parallel`] runs them; [`wake`] ends a wait's pause when a watched object changes;
//! - [`preflight`]: the dry run of every write;
//! - the entry points: [`apply()`], [`rollback()`], [`recover()`].

pub mod acceptance;
pub mod apply;
pub mod backup;
pub mod carry;
pub mod error;
pub mod health;
pub mod heartbeat;
pub mod hooks;
pub mod journal;
pub mod live;
pub mod migrate;
pub mod migrations;
pub mod objects;
pub mod options;
pub mod parallel;
pub mod preflight;
pub mod progress;
pub mod records;
pub mod recover;
pub mod recreate;
pub mod refusals;
pub mod restore;
pub mod rollback;
pub mod rollout;
pub mod runner;
pub mod schedule;
pub mod snapshot;
pub mod unstick;
pub mod upgrade;
pub mod wake;

pub use apply::apply;
pub use error::ApplyError;
pub use hooks::is_hook;
pub use journal::journal_lines;
pub use objects::obj_ref;
pub use options::ApplyOptions;
pub use progress::{Progress, Reporter, SharedReporter};
pub use records::{locked, rollout_order};
pub use recover::recover;
pub use rollback::{rollback, RollbackPlan};

#[cfg(test)]
pub(crate) mod snapshot_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_heartbeat;
#[cfg(test)]
mod tests_parallel;
