//! End-to-end test support for chartup: the shared test cluster, fresh namespaces, condition waits
//! and volume markers.
//!
//! The cluster is the one `scripts/test-cluster.sh` runs (a real kube-apiserver and
//! kube-controller-manager 1.20.2 plus the nodesim node simulator). Tests find it through the run
//! directory (`CHARTUP_TEST_CLUSTER_DIR`, default `${CHARTUP_CACHE:-~/.cache/chartup}/run/default`)
//! and never through `KUBECONFIG`, so an e2e test can't touch a developer's real cluster by accident.
//!
//! When the cluster isn't running: with `CHARTUP_E2E_START=1` the tests start it (the script reuses
//! a running one and builds the binaries once, ~10+ minutes cold); under `CI=true` they fail,
//! because CI brings it up first (scripts/test.sh); otherwise they fail with how to start it.
//!
//! Markers: a test writes a file into a claim's volume directory (the PV's hostPath, a real
//! directory on this machine) and later checks that it survived, which is how "data kept" and
//! "data lost" become observable without a container runtime.

pub mod snapshots;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _};
use k8s_openapi::api::core::v1::{Namespace, PersistentVolume, PersistentVolumeClaim};
use kube::api::{Api, DeleteParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::wait::{await_condition, Condition};
use kube::{Client, Config, Resource};
use serde::de::DeserializeOwned;

pub use k8s_openapi;
pub use kube;

/// The repository root (this crate lives in `crates/testkit`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A running test cluster, described by its run directory.
#[derive(Debug, Clone)]
pub struct Cluster {
    pub dir: PathBuf,
    /// kubeconfig of `admin` (group system:masters).
    pub kubeconfig: PathBuf,
    /// kubeconfig of `nobody`, a user with no RBAC rights.
    pub kubeconfig_norights: PathBuf,
    /// Where provisioned volumes' directories live.
    pub volumes_dir: PathBuf,
}

fn default_dir() -> PathBuf {
    // The first is what `test-cluster.sh env` exports; the second is the script's own setting.
    for var in ["CHARTUP_TEST_CLUSTER_DIR", "CHARTUP_CLUSTER_DIR"] {
        if let Some(d) = std::env::var_os(var).filter(|d| !d.is_empty()) {
            return d.into();
        }
    }
    let cache = std::env::var_os("CHARTUP_CACHE").map(PathBuf::from).unwrap_or_else(|| {
        Path::new(&std::env::var_os("HOME").unwrap_or_else(|| "/tmp".into())).join(".cache/chartup")
    });
    cache.join("run/default")
}

fn script(args: &[&str], dir: &Path) -> std::io::Result<std::process::Output> {
    Command::new(repo_root().join("scripts/test-cluster.sh"))
        .args(args)
        .arg(dir)
        .output()
}

fn truthy(var: &str) -> bool {
    std::env::var(var).is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

impl Cluster {
    fn at(dir: PathBuf) -> Cluster {
        Cluster {
            kubeconfig: dir.join("admin.kubeconfig"),
            kubeconfig_norights: dir.join("nobody.kubeconfig"),
            volumes_dir: dir.join("volumes"),
            dir,
        }
    }

    /// Find the running cluster, or start it when allowed (see the module docs).
    pub fn ensure() -> anyhow::Result<Cluster> {
        let dir = default_dir();
        let status = script(&["status"], &dir).context("running scripts/test-cluster.sh status")?;
        if status.status.success() {
            return Ok(Cluster::at(dir));
        }
        let why = String::from_utf8_lossy(&status.stderr).trim().to_string();
        if truthy("CHARTUP_E2E_START") {
            let up = script(&["up"], &dir).context("running scripts/test-cluster.sh up")?;
            if !up.status.success() {
                bail!(
                    "scripts/test-cluster.sh up failed:\n{}",
                    String::from_utf8_lossy(&up.stderr)
                );
            }
            return Ok(Cluster::at(dir));
        }
        if truthy("CI") {
            bail!(
                "the e2e test cluster is not running at {} ({why}); CI must start it first \
                 (scripts/test.sh runs scripts/test-cluster.sh up)",
                dir.display()
            );
        }
        bail!(
            "the e2e test cluster is not running at {} ({why}).\nStart it with `scripts/test-cluster.sh up` \
             (first time ~10+ min: builds Kubernetes 1.20.2 into ~/.cache/chartup), or rerun with \
             CHARTUP_E2E_START=1 to start it automatically.",
            dir.display()
        )
    }

    /// Fail with what to do when the cluster's nodesim lacks `feature` (a line of its ready file,
    /// crates/nodesim/src/main.rs): it predates this checkout's nodesim.
    pub fn ensure_nodesim(&self, feature: &str) -> anyhow::Result<()> {
        let ready = std::fs::read_to_string(self.dir.join("nodesim.ready")).unwrap_or_default();
        if !ready.lines().any(|l| l == feature) {
            bail!(
                "the test cluster at {} runs a nodesim without `{feature}`; run `scripts/test-cluster.sh up` \
                 (it restarts an older nodesim once)",
                self.dir.display()
            );
        }
        Ok(())
    }

    /// An admin client (a new one per call: a client belongs to the test's tokio runtime).
    pub async fn client(&self) -> anyhow::Result<Client> {
        client_from(&self.kubeconfig).await
    }

    /// A client for the user with no rights.
    pub async fn client_norights(&self) -> anyhow::Result<Client> {
        client_from(&self.kubeconfig_norights).await
    }

    /// A new namespace `e2e-<prefix>-<random>`, deleted when the guard drops (unless
    /// `CHARTUP_E2E_KEEP=1`, to inspect a failure).
    pub async fn fresh_namespace(&self, prefix: &str) -> anyhow::Result<TestNamespace> {
        let client = self.client().await?;
        let api: Api<Namespace> = Api::all(client);
        let name = format!("e2e-{prefix}-{}", random_suffix());
        let ns: Namespace = serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "labels": {"chartup.io/e2e": "true"}}
        }))?;
        api.create(&PostParams::default(), &ns)
            .await
            .with_context(|| format!("creating namespace {name}"))?;
        Ok(TestNamespace {
            name,
            kubeconfig: self.kubeconfig.clone(),
        })
    }

    /// The directory backing a claim: waits until it is Bound, then reads its PV's hostPath.
    pub async fn claim_dir(
        &self,
        client: &Client,
        ns: &str,
        claim: &str,
        timeout: Duration,
    ) -> anyhow::Result<PathBuf> {
        let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), ns);
        let pvc = wait_for(
            &pvcs,
            claim,
            timeout,
            "claim Bound",
            |c: Option<&PersistentVolumeClaim>| {
                c.and_then(|c| c.status.as_ref()).and_then(|s| s.phase.as_deref()) == Some("Bound")
            },
        )
        .await?;
        let pv_name = pvc
            .spec
            .and_then(|s| s.volume_name)
            .ok_or_else(|| anyhow!("claim {ns}/{claim} has no volumeName"))?;
        let pvs: Api<PersistentVolume> = Api::all(client.clone());
        let pv = pvs.get(&pv_name).await?;
        let path = pv
            .spec
            .and_then(|s| s.host_path)
            .map(|h| PathBuf::from(h.path))
            .ok_or_else(|| anyhow!("volume {pv_name} is not a hostPath volume"))?;
        Ok(path)
    }
}

/// The shared cluster for this test process; panics with the reason when it isn't available.
pub fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Result<Cluster, String>> = OnceLock::new();
    match CLUSTER.get_or_init(|| Cluster::ensure().map_err(|e| format!("{e:#}"))) {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    }
}

/// A kube client for a kubeconfig file.
pub async fn client_from(path: &Path) -> anyhow::Result<Client> {
    let kc = Kubeconfig::read_from(path).with_context(|| format!("reading {}", path.display()))?;
    let config = Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default()).await?;
    Ok(Client::try_from(config)?)
}

fn random_suffix() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    format!("{:08x}", h.finish() as u32)
}

/// A test namespace; deleted (asynchronously, by the cluster) on drop.
#[derive(Debug)]
pub struct TestNamespace {
    pub name: String,
    kubeconfig: PathBuf,
}

impl Drop for TestNamespace {
    fn drop(&mut self) {
        if truthy("CHARTUP_E2E_KEEP") {
            eprintln!("keeping namespace {}", self.name);
            return;
        }
        // Drop can't await, and the test's runtime may be shutting down: use a private one.
        let (name, kubeconfig) = (self.name.clone(), self.kubeconfig.clone());
        let done = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let api: Api<Namespace> = Api::all(client_from(&kubeconfig).await.ok()?);
                api.delete(&name, &DeleteParams::background()).await.ok()
            })
        });
        let _ = done.join();
    }
}

/// Wait (by watching) until `cond` holds for the object `name`; on timeout the error shows the
/// last state seen. `cond` gets `None` while the object doesn't exist.
pub async fn wait_for<K>(
    api: &Api<K>,
    name: &str,
    timeout: Duration,
    what: &str,
    cond: impl Condition<K> + Clone,
) -> anyhow::Result<K>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug + Send + serde::Serialize + 'static,
{
    match tokio::time::timeout(timeout, await_condition(api.clone(), name, cond)).await {
        Ok(Ok(Some(obj))) => Ok(obj),
        Ok(Ok(None)) => bail!("{name}: waiting for {what}: the object does not exist"),
        Ok(Err(e)) => bail!("{name}: waiting for {what}: {e}"),
        Err(_) => {
            let last = api.get_opt(name).await.ok().flatten();
            let last = last.map(|o| serde_json::to_string_pretty(&o).unwrap_or_default());
            bail!(
                "{name}: timed out after {timeout:?} waiting for {what}; last state: {}",
                last.unwrap_or_else(|| "absent".into())
            )
        }
    }
}

/// Wait until the object is gone.
pub async fn wait_deleted<K>(api: &Api<K>, name: &str, timeout: Duration) -> anyhow::Result<()>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug + Send + serde::Serialize + 'static,
{
    match tokio::time::timeout(timeout, await_condition(api.clone(), name, |o: Option<&K>| o.is_none())).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => bail!("{name}: waiting for deletion: {e}"),
        Err(_) => bail!("{name}: still exists after {timeout:?}"),
    }
}

/// Create an object from JSON (the wire form) in the api's namespace.
pub async fn create<K>(api: &Api<K>, obj: serde_json::Value) -> anyhow::Result<K>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug + serde::Serialize,
{
    let obj: K = serde_json::from_value(obj).context("object JSON does not fit the type")?;
    Ok(api.create(&PostParams::default(), &obj).await?)
}

/// The marker file's path inside a volume directory.
pub fn marker_path(volume_dir: &Path, name: &str) -> PathBuf {
    volume_dir.join(format!(".chartup-marker-{name}"))
}

/// Write a marker file into a volume directory (as a container would write data).
pub fn write_marker(volume_dir: &Path, name: &str, content: &str) -> anyhow::Result<PathBuf> {
    let p = marker_path(volume_dir, name);
    std::fs::write(&p, content).with_context(|| format!("writing {}", p.display()))?;
    Ok(p)
}

/// The marker's content, or None if it (or its whole volume) is gone.
pub fn read_marker(volume_dir: &Path, name: &str) -> Option<String> {
    std::fs::read_to_string(marker_path(volume_dir, name)).ok()
}

/// The real helm, found the one documented way: `CHARTUP_HELM` if set, else `helm` on `PATH`
/// (scripts/test.sh puts the repository's `.tools/bin` first). Every test finds helm here.
pub fn helm() -> anyhow::Result<PathBuf> {
    if let Some(h) = std::env::var_os("CHARTUP_HELM").filter(|h| !h.is_empty()) {
        let h = PathBuf::from(h);
        if !h.is_file() {
            bail!("CHARTUP_HELM={} is not a file", h.display());
        }
        return Ok(h);
    }
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join("helm"))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            anyhow::anyhow!(
                "no helm binary: set CHARTUP_HELM or put helm on PATH (scripts/install-helm.sh \
                 installs it in .tools/bin)"
            )
        })
}

/// helm for a suite that compares with it: None (after saying so on stderr) when there is none,
/// so a developer without helm can still run the rest; under `CI=true` a missing helm fails the
/// test instead, because CI must never pass a suite that did not run.
pub fn helm_or_skip() -> Option<PathBuf> {
    match helm() {
        Ok(h) => Some(h),
        Err(e) if truthy("CI") => panic!("{e} (CI=true: a suite that needs helm must not skip)"),
        Err(e) => {
            eprintln!("SKIPPED: {e}");
            None
        }
    }
}

/// Run helm against the test cluster as admin; returns stdout, or an error with stderr.
pub fn run_helm(cluster: &Cluster, args: &[&str]) -> anyhow::Result<String> {
    let started = Instant::now();
    let out = Command::new(helm()?)
        .args(args)
        .arg("--kubeconfig")
        .arg(&cluster.kubeconfig)
        .env_remove("KUBECONFIG")
        .output()
        .context("running helm")?;
    if !out.status.success() {
        bail!(
            "helm {} failed after {:?}:\n{}{}",
            args.join(" "),
            started.elapsed(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
