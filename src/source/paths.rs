//! Helm's file locations (`pkg/cli/environment.go`, `pkg/helmpath`): the same environment
//! variables and XDG fallbacks, so chartup reads and writes exactly the files helm does.

use std::path::PathBuf;

fn env(name: &str) -> Option<PathBuf> {
    std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from)
}

pub fn home() -> PathBuf {
    env("HOME").unwrap_or_else(|| PathBuf::from("/"))
}

fn base(helm_var: &str, xdg_var: &str, default: &str) -> PathBuf {
    if let Some(p) = env(helm_var) {
        return p;
    }
    if let Some(p) = env(xdg_var) {
        return p.join("helm");
    }
    home().join(default).join("helm")
}

pub fn config_home() -> PathBuf {
    base("HELM_CONFIG_HOME", "XDG_CONFIG_HOME", ".config")
}

pub fn cache_home() -> PathBuf {
    base("HELM_CACHE_HOME", "XDG_CACHE_HOME", ".cache")
}

/// `HELM_REPOSITORY_CONFIG`, else `<config>/repositories.yaml`.
pub fn repository_config() -> PathBuf {
    env("HELM_REPOSITORY_CONFIG").unwrap_or_else(|| config_home().join("repositories.yaml"))
}

/// `HELM_REPOSITORY_CACHE`, else `<cache>/repository`.
pub fn repository_cache() -> PathBuf {
    env("HELM_REPOSITORY_CACHE").unwrap_or_else(|| cache_home().join("repository"))
}

/// `HELM_REGISTRY_CONFIG`, else `<config>/registry/config.json`.
pub fn registry_config() -> PathBuf {
    env("HELM_REGISTRY_CONFIG").unwrap_or_else(|| config_home().join("registry").join("config.json"))
}

/// Docker's own config, Helm's fallback for registry credentials.
pub fn docker_config() -> PathBuf {
    env("DOCKER_CONFIG")
        .map(|d| d.join("config.json"))
        .unwrap_or_else(|| home().join(".docker").join("config.json"))
}

/// Helm 4's content cache (`HELM_CONTENT_CACHE`, else `<cache>/content`): archives by sha256.
pub fn content_cache() -> PathBuf {
    env("HELM_CONTENT_CACHE").unwrap_or_else(|| cache_home().join("content"))
}
