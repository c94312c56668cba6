//! The Kubernetes client edge: discovery, apply, watch.
