//! Recovering where upgrades really fail (issue #12). The decisions are kept pure so they are
//! tested without a cluster — which API errors are worth retrying and how long to wait
//! ([`retry`]), who holds a release's lock and whether that holder still lives ([`holder`]),
//! signals ([`signal`]). Two pieces speak to the cluster, through the `Cluster` seam only, so the
//! in-memory fake tests them too: the retrying wrapper with its step deadlines ([`retrying`]) and
//! the lock's Lease ([`lease`]). The stuck-pod decision lives with the other pod judgements in
//! `executor::health`.

pub mod holder;
pub mod lease;
pub mod retry;
pub mod retrying;
pub mod signal;
