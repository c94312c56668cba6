//! Semantic versions and constraints with Masterminds/semver rules (Helm kubeVersion, Sprig).
