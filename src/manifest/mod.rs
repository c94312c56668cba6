//! Rendered manifests as a typed resource set: identity, kinds, ordering.
