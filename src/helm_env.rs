//! Helm's environment, read the way helm reads it, so every chartup command agrees with helm (and
//! with each other) on where a release lives: the namespace, the storage driver, the kubeconfig.
//!
//! One rule for every command (issue #18: `plan` used `default` while `apply` used the context's
//! namespace, and a saved plan was applied into another namespace than it was planned for):
//! `-n`, then `HELM_NAMESPACE`, then the kubeconfig context's namespace (the service account's
//! namespace inside a pod), then `default` — helm's `EnvSettings.Namespace()`.
//!
//! Kept free of network I/O: the functions take what they read (environment values, file
//! contents) as arguments where tests need to vary them, and the thin `*_from_env` wrappers read
//! the process environment.

use std::path::{Path, PathBuf};

/// The service account files a pod gets (client-go's in-cluster config reads the same ones).
pub const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// helm's namespace rule. `flag` is `-n` (clap also fills it from `HELM_NAMESPACE` where the
/// argument declares `env`; passing both here keeps the rule explicit), `context_ns` the
/// namespace of the kubeconfig context in use (or of the pod's service account).
pub fn resolve_namespace(flag: Option<&str>, helm_namespace_env: Option<&str>, context_ns: Option<&str>) -> String {
    [flag, helm_namespace_env, context_ns]
        .into_iter()
        .flatten()
        .map(str::trim)
        .find(|s| !s.is_empty())
        .unwrap_or("default")
        .to_string()
}

/// Where the cluster credentials come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KubeSource {
    /// kubeconfig files (`--kubeconfig`, else each existing path of `$KUBECONFIG`, else `~/.kube/config`).
    Files(Vec<PathBuf>),
    /// No kubeconfig found, but running in a pod (`KUBERNETES_SERVICE_HOST` set and a service
    /// account token mounted): client-go's in-cluster configuration, as helm falls back to it.
    InCluster,
    /// Neither: the message says what was looked for, with plain paths.
    Missing(String),
}

/// Decide the source as kubectl/helm do. `kubeconfig_env` is `$KUBECONFIG` (a `:`-separated
/// list), `home` the home directory, `in_cluster` whether a pod's service account is present.
/// A `--kubeconfig` that does not exist is an error, never a silent fallback.
pub fn kube_source(
    flag: Option<&Path>,
    kubeconfig_env: Option<&str>,
    home: Option<&Path>,
    in_cluster: bool,
) -> KubeSource {
    if let Some(p) = flag {
        if p.exists() {
            return KubeSource::Files(vec![p.to_path_buf()]);
        }
        return KubeSource::Missing(format!(
            "the kubeconfig file {} (--kubeconfig) does not exist",
            p.display()
        ));
    }
    let mut looked = Vec::new();
    if let Some(env) = kubeconfig_env.filter(|e| !e.trim().is_empty()) {
        let paths: Vec<PathBuf> = std::env::split_paths(env)
            .filter(|p| !p.as_os_str().is_empty())
            .collect();
        let existing: Vec<PathBuf> = paths.iter().filter(|p| p.exists()).cloned().collect();
        if !existing.is_empty() {
            return KubeSource::Files(existing);
        }
        looked.push(format!(
            "$KUBECONFIG ({})",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    } else if let Some(h) = home {
        let p = h.join(".kube").join("config");
        if p.exists() {
            return KubeSource::Files(vec![p]);
        }
        looked.push(p.display().to_string());
    }
    if in_cluster {
        return KubeSource::InCluster;
    }
    let looked = if looked.is_empty() {
        "no $KUBECONFIG and no home directory".to_string()
    } else {
        format!("{} does not exist", looked.join(" and "))
    };
    KubeSource::Missing(format!(
        "no kubeconfig found ({looked}) and not running in a pod (no KUBERNETES_SERVICE_HOST and service \
         account token); give --kubeconfig FILE or set KUBECONFIG"
    ))
}

/// [`kube_source`] from the process environment.
pub fn kube_source_from_env(flag: Option<&Path>) -> KubeSource {
    let env = std::env::var("KUBECONFIG").ok();
    let home = std::env::var_os("HOME").map(PathBuf::from);
    kube_source(flag, env.as_deref(), home.as_deref(), in_cluster())
}

/// Whether this process runs in a pod with a service account (client-go's `InClusterConfig` test).
pub fn in_cluster() -> bool {
    std::env::var("KUBERNETES_SERVICE_HOST").is_ok_and(|h| !h.is_empty())
        && Path::new(SERVICE_ACCOUNT_DIR).join("token").exists()
}

/// The namespace of the kubeconfig context `context` (else the current context) in the
/// kubeconfig text `yaml`; `None` when the context sets none or cannot be read.
pub fn context_namespace_in(yaml: &str, context: Option<&str>) -> Option<String> {
    let kc = kube::config::Kubeconfig::from_yaml(yaml).ok()?;
    context_namespace_of(&kc, context)
}

fn context_namespace_of(kc: &kube::config::Kubeconfig, context: Option<&str>) -> Option<String> {
    let name = context.map(str::to_string).or_else(|| kc.current_context.clone())?;
    kc.contexts
        .iter()
        .find(|c| c.name == name)
        .and_then(|c| c.context.as_ref())
        .and_then(|c| c.namespace.clone())
        .filter(|n| !n.is_empty())
}

/// The context's namespace for the kubeconfig chartup would use (merged as kubectl merges
/// `$KUBECONFIG`), or the pod's namespace in-cluster. Reads files, never the network.
pub fn context_namespace(kubeconfig: Option<&Path>, context: Option<&str>) -> Option<String> {
    match kube_source_from_env(kubeconfig) {
        KubeSource::Files(paths) => {
            let mut merged: Option<kube::config::Kubeconfig> = None;
            for p in paths {
                let kc = kube::config::Kubeconfig::read_from(&p).ok()?;
                merged = Some(match merged {
                    None => kc,
                    Some(m) => m.merge(kc).ok()?,
                });
            }
            context_namespace_of(&merged?, context)
        }
        KubeSource::InCluster => std::fs::read_to_string(Path::new(SERVICE_ACCOUNT_DIR).join("namespace"))
            .ok()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty()),
        KubeSource::Missing(_) => None,
    }
}

/// [`resolve_namespace`] with `HELM_NAMESPACE` and the kubeconfig read from the environment:
/// what every command uses.
pub fn namespace(flag: Option<&str>, kubeconfig: Option<&Path>, context: Option<&str>) -> String {
    let env = std::env::var("HELM_NAMESPACE").ok();
    if let Some(ns) = [flag, env.as_deref()]
        .into_iter()
        .flatten()
        .find(|s| !s.trim().is_empty())
    {
        return ns.trim().to_string();
    }
    resolve_namespace(None, None, context_namespace(kubeconfig, context).as_deref())
}

/// `--version VERSION` on a command that takes a chart: the chart's version, as in helm (issue
/// #18: it printed chartup's own version and exited 0, so a pipeline passed). chartup reads
/// local charts only, so instead of picking a version from a repository it checks that the chart
/// given is one the constraint accepts (Masterminds constraints, as helm's repository lookup).
pub fn check_chart_version(chart: &Path, constraint: &str) -> Result<(), String> {
    let constraint = constraint.trim();
    if constraint.is_empty() {
        return Ok(());
    }
    let c = crate::version::Constraints::parse(constraint)
        .map_err(|e| format!("--version {constraint}: not a version or constraint: {e}"))?;
    let chart_md = crate::chart::load(chart)
        .map_err(|e| format!("{}: {e}", chart.display()))?
        .metadata;
    let v = crate::version::Version::parse(&chart_md.version)
        .map_err(|e| format!("{}: chart version {}: {e}", chart.display(), chart_md.version))?;
    if c.matches(&v) {
        Ok(())
    } else {
        Err(format!(
            "chart {} is {} version {}, which --version {constraint} does not accept",
            chart.display(),
            chart_md.name,
            chart_md.version
        ))
    }
}

/// The one wording of "no such release" for every command: helm's own text first (scripts match
/// `release: not found`), then which release and where.
pub fn release_not_found(release: &str, namespace: &str) -> String {
    format!("release: not found ({release} in namespace {namespace})")
}

/// Helm's storage drivers (`HELM_DRIVER`, `pkg/action/action.go` `Init`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Driver {
    #[default]
    Secret,
    ConfigMap,
    /// In this process only: nothing is read from or written to the cluster.
    Memory,
}

impl Driver {
    /// helm's spelling rules: `secret`/`secrets`/empty, `configmap`/`configmaps`, `memory`;
    /// `sql` exists in helm but not here; anything else is helm's `unknown driver` error.
    pub fn parse(s: &str) -> Result<Driver, String> {
        match s {
            "" | "secret" | "secrets" => Ok(Driver::Secret),
            "configmap" | "configmaps" => Ok(Driver::ConfigMap),
            "memory" => Ok(Driver::Memory),
            "sql" => Err(
                "HELM_DRIVER=sql: the SQL storage driver is not supported by chartup (use secret, \
                          configmap or memory)"
                    .into(),
            ),
            other => Err(format!(
                "unknown driver \"{other}\" (HELM_DRIVER: secret, configmap or memory)"
            )),
        }
    }

    pub fn from_env() -> Result<Driver, String> {
        Driver::parse(&std::env::var("HELM_DRIVER").unwrap_or_default())
    }

    /// The name helm's `HELM_DRIVER` uses, and the kind of object holding a record.
    pub fn name(self) -> &'static str {
        match self {
            Driver::Secret => "secret",
            Driver::ConfigMap => "configmap",
            Driver::Memory => "memory",
        }
    }

    pub fn kind(self) -> Option<&'static str> {
        match self {
            Driver::Secret => Some("Secret"),
            Driver::ConfigMap => Some("ConfigMap"),
            Driver::Memory => None,
        }
    }
}

impl std::fmt::Display for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The refusal when a release's records are found under another driver than the one in use
/// (issue #18: `apply` installed a second history beside helm's ConfigMap records).
pub fn other_driver_refusal(release: &str, namespace: &str, in_use: Driver, found: Driver) -> String {
    format!(
        "release {release} in namespace {namespace} is stored by the {found} driver, but chartup uses the {in_use} \
         driver (HELM_DRIVER={}): refusing to read or write a second history — run with HELM_DRIVER={}",
        in_use.name(),
        found.name()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    // helm's rule (pkg/cli/environment.go Namespace(): the flag — whose default is
    // $HELM_NAMESPACE — then the kubeconfig context's namespace, then "default").
    #[test]
    fn namespace_precedence() {
        assert_eq!(resolve_namespace(Some("a"), Some("b"), Some("c")), "a");
        assert_eq!(resolve_namespace(None, Some("b"), Some("c")), "b");
        assert_eq!(resolve_namespace(None, Some(""), Some("c")), "c");
        assert_eq!(resolve_namespace(None, None, None), "default");
    }

    #[test]
    fn context_namespace_follows_current_or_named_context() {
        let kc = "apiVersion: v1\nkind: Config\ncurrent-context: one\ncontexts:\n- name: one\n  context: {cluster: c, \
                  user: u, namespace: ns1}\n- name: two\n  context: {cluster: c, user: u}\nclusters: []\nusers: []\n";
        assert_eq!(context_namespace_in(kc, None).as_deref(), Some("ns1"));
        assert_eq!(context_namespace_in(kc, Some("two")), None);
        assert_eq!(context_namespace_in(kc, Some("missing")), None);
    }

    #[test]
    fn kube_source_order_and_plain_messages() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("kc");
        std::fs::write(&file, "apiVersion: v1\nkind: Config\n").unwrap();
        let home = dir.path().join("home");
        assert_eq!(
            kube_source(Some(&file), None, None, false),
            KubeSource::Files(vec![file.clone()])
        );
        let env = format!("{}:{}", dir.path().join("nope").display(), file.display());
        assert_eq!(
            kube_source(None, Some(&env), None, false),
            KubeSource::Files(vec![file.clone()])
        );
        assert_eq!(kube_source(None, None, Some(&home), true), KubeSource::InCluster);
        let KubeSource::Missing(m) = kube_source(None, None, Some(&home), false) else {
            panic!()
        };
        // the path as it is, not Debug-quoted ('"~/.kube/config"')
        assert!(
            m.contains(&format!("{} does not exist", home.join(".kube/config").display())),
            "{m}"
        );
        assert!(!m.contains('"') && !m.contains('\''), "{m}");
        let KubeSource::Missing(m) = kube_source(Some(&dir.path().join("gone")), None, None, true) else {
            panic!()
        };
        assert!(m.contains("gone (--kubeconfig) does not exist"), "{m}");
    }

    #[test]
    fn chart_version_constraint() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("Chart.yaml"),
            "apiVersion: v2\nname: db\nversion: 1.9.0\n",
        )
        .unwrap();
        assert_eq!(check_chart_version(dir.path(), "1.9.0"), Ok(()));
        assert_eq!(check_chart_version(dir.path(), "~1.9"), Ok(()));
        assert_eq!(check_chart_version(dir.path(), ""), Ok(()));
        let e = check_chart_version(dir.path(), "4.2.0").unwrap_err();
        assert!(
            e.ends_with("is db version 1.9.0, which --version 4.2.0 does not accept"),
            "{e}"
        );
        assert!(check_chart_version(dir.path(), "x.y")
            .unwrap_err()
            .contains("not a version"));
    }

    #[test]
    fn drivers_as_helm_spells_them() {
        for (s, d) in [
            ("", Driver::Secret),
            ("secret", Driver::Secret),
            ("secrets", Driver::Secret),
            ("configmap", Driver::ConfigMap),
            ("configmaps", Driver::ConfigMap),
            ("memory", Driver::Memory),
        ] {
            assert_eq!(Driver::parse(s), Ok(d), "{s}");
        }
        assert!(Driver::parse("sql").unwrap_err().contains("not supported"));
        assert!(Driver::parse("Secret")
            .unwrap_err()
            .starts_with("unknown driver \"Secret\""));
    }
}
