//! The upgrade plan: model, outputs, fingerprint.
