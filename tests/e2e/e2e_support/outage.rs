//! The API-outage tests' shared parts: the test's own cluster instance (an API server may only be
//! stopped there, never on the shared cluster), the lock that runs them one at a time, and an
//! upgrade caught waiting for its 30-second post-upgrade hook — the moment the outage begins.

use std::path::{Path, PathBuf};

use anyhow::ensure;
use testkit::k8s_openapi::api::batch::v1::Job;
use testkit::kube::api::Api;
use testkit::Cluster;

use super::{chartup_cmd, chartup_ok, root};

/// The tests that stop and start their instance's API server, or change its setup (RBAC), run
/// one at a time.
pub static OUTAGE_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// How long the setup waits for a condition.
const WAIT: std::time::Duration = std::time::Duration::from_secs(120);

/// The test's own cluster instance (never the shared one): `up` in its own run dir
/// (`CHARTUP_E2E_OUTAGE_DIR`, default `target/e2e-outage-cluster`), reused when healthy; stopped
/// at the end only if this test started it.
pub struct OwnCluster {
    pub c: Cluster,
    started: bool,
}

impl OwnCluster {
    pub fn up() -> anyhow::Result<OwnCluster> {
        let dir = std::env::var_os("CHARTUP_E2E_OUTAGE_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| root().join("target/e2e-outage-cluster"));
        std::fs::create_dir_all(&dir)?;
        let running = script(&["status"], &dir)?.status.success();
        if !running {
            let up = script(&["up"], &dir)?;
            ensure!(
                up.status.success(),
                "test-cluster.sh up {}:\n{}",
                dir.display(),
                String::from_utf8_lossy(&up.stderr)
            );
        }
        Ok(OwnCluster {
            c: Cluster {
                kubeconfig: dir.join("admin.kubeconfig"),
                kubeconfig_norights: dir.join("nobody.kubeconfig"),
                volumes_dir: dir.join("volumes"),
                dir,
            },
            started: !running,
        })
    }

    /// `stop` or `start` the instance's API server (`start` waits for /healthz).
    pub fn apiserver(&self, what: &str) -> anyhow::Result<()> {
        let out = script(&["apiserver", what], &self.c.dir)?;
        ensure!(
            out.status.success(),
            "apiserver {what}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(())
    }
}

fn script(args: &[&str], dir: &Path) -> std::io::Result<std::process::Output> {
    std::process::Command::new(root().join("scripts/test-cluster.sh"))
        .args(args)
        .arg(dir)
        .output()
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        if self.started {
            let _ = script(&["down"], &self.c.dir);
        }
    }
}

/// Install `v1` as release `web`, then start upgrading to `v2` with a post-upgrade hook Job that
/// runs 30 s added (`--timeout timeout`), and return once the hook Job exists: the run is then
/// waiting on the server. Also returns when the upgrade was started.
pub async fn upgrade_waiting_on_a_hook(
    c: &Cluster,
    ns: &str,
    v1: &str,
    v2: &str,
    timeout: &str,
) -> anyhow::Result<(tokio::process::Child, std::time::Instant)> {
    chartup_ok(c, &["apply", "web", v1, "-n", ns, "--yes", "--timeout", "60s"]).await?;
    std::fs::write(
        Path::new(v2).join("templates/hook.yaml"),
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: slow-hook\n  annotations:\n    helm.sh/hook: post-upgrade\n\
         spec:\n  backoffLimit: 0\n  template:\n    metadata:\n      annotations:\n        nodesim.chartup.io/run-seconds: \"30\"\n    \
         spec:\n      restartPolicy: Never\n      containers:\n        - name: run\n          image: busybox:1.36\n",
    )?;
    let child = chartup_cmd(c, &["apply", "web", v2, "-n", ns, "--yes", "--timeout", timeout])?.spawn()?;
    let started = std::time::Instant::now();
    let jobs: Api<Job> = Api::namespaced(c.client().await?, ns);
    testkit::wait_for(&jobs, "slow-hook", WAIT, "the hook Job", |j: Option<&Job>| j.is_some()).await?;
    Ok((child, started))
}
