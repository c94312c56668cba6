//! Recovering where upgrades really fail (issue #12): the decisions, kept pure so they are tested
//! without a cluster — which API errors are worth retrying and how long to wait ([`retry`]), and
//! who holds a release's lock and whether that holder still lives ([`holder`], with the Lease the
//! run renews: [`lease`]). The executor
//! applies them through the cluster; the stuck-pod decision lives with the other pod judgements in
//! `executor::health`.

pub mod holder;
pub mod lease;
pub mod retry;
pub mod retrying;
pub mod signal;
