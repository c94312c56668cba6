//! Executes a plan against a cluster: ordered, gated, recorded.
//!
//! The executor takes a [`crate::plan::saved::SavedPlan`] — what a human reviewed — and never
//! re-renders anything. Its order of work follows the seed operators (Pravega, Aerospike, FATE):
//! refuse before touching anything, including a server-side dry run of every write
//! ([`preflight`]); take the release lock by writing a `pending-*` revision; backup; pre-upgrade hooks; configuration objects; then each component in the matrix's order,
//! pod by pod for `OnDelete` StatefulSets, each gated on health with fail-fast on broken pods;
//! post-upgrade hooks; migrations after the whole rollout is healthy; pruning last. A rollback
//! runs the down scripts of the migrations it undoes before its workloads roll back ([`migrate`]).
//!
//! Every step is appended to a journal inside the pending revision record, so `chartup recover`
//! can say what an interrupted run had done.
//!
//! [`health`] holds the pure judgements (is this pod broken, is this workload rolled out), so
//! they are unit-tested on status JSON; the async driving code only observes and acts.

pub mod health;
pub mod live;
pub mod lookup;
pub mod migrate;
pub mod preflight;
pub mod run;

pub use run::{apply, recover, rollback, ApplyError, ApplyOptions, Progress, Reporter};
