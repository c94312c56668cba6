//! Executes a plan against a cluster: ordered, gated, recorded.
