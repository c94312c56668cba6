//! A fault-injecting HTTPS proxy between chartup and the real API server (scripts/fault-proxy.py),
//! started by the test itself: chartup talks to the proxy through a kubeconfig of its own (the
//! proxy's CA, the same user's token, which the proxy passes on), and the proxy breaks only the
//! transport on the rules the test sets — the answer of a write that reached the server is lost,
//! a write is dropped before it reaches the server, 503/429 for a while. The real server decides
//! everything else; the proxy's log says what reached it and what it answered.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{ensure, Context as _};
use serde_json::Value as Json;
use testkit::Cluster;

use super::root;

pub struct FaultProxy {
    child: std::process::Child,
    pub dir: PathBuf,
    /// The cluster as seen through the proxy (admin and no-rights kubeconfigs of the proxy).
    pub c: Cluster,
}

/// `kubeconfig` with the proxy as its server: the proxy's CA, the same user and token.
fn rewrite(kubeconfig: &Path, port: u16, ca: &Path, out: &Path) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(kubeconfig).with_context(|| kubeconfig.display().to_string())?;
    let lines: Vec<String> = text
        .lines()
        .map(|l| {
            let indent = &l[..l.len() - l.trim_start().len()];
            if l.trim_start().starts_with("server:") {
                format!("{indent}server: https://127.0.0.1:{port}")
            } else if l.trim_start().starts_with("certificate-authority-data:") {
                format!("{indent}certificate-authority: {}", ca.display())
            } else {
                l.to_string()
            }
        })
        .collect();
    std::fs::write(out, lines.join("\n") + "\n")?;
    Ok(())
}

/// The API server's address in a kubeconfig.
fn server_of(kubeconfig: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(kubeconfig)?;
    text.lines()
        .find_map(|l| l.trim_start().strip_prefix("server:").map(|s| s.trim().to_string()))
        .with_context(|| format!("no server in {}", kubeconfig.display()))
}

impl FaultProxy {
    /// Start a proxy in `dir` in front of `c`'s API server; wait until it serves.
    pub fn start(c: &Cluster, dir: &Path) -> anyhow::Result<FaultProxy> {
        std::fs::create_dir_all(dir)?;
        let child = std::process::Command::new("python3")
            .arg(root().join("scripts/fault-proxy.py"))
            .arg("--dir")
            .arg(dir)
            .arg("--upstream")
            .arg(server_of(&c.kubeconfig)?)
            .arg("--upstream-ca")
            .arg(c.dir.join("pki/ca.crt"))
            .stdin(std::process::Stdio::null())
            .stderr(std::fs::File::create(dir.join("proxy.stderr"))?)
            .spawn()
            .context("starting scripts/fault-proxy.py (python3)")?;
        let mut proxy = FaultProxy {
            child,
            dir: dir.to_path_buf(),
            c: c.clone(),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        let port: u16 = loop {
            if let Ok(p) = std::fs::read_to_string(dir.join("port")) {
                break p.trim().parse()?;
            }
            if let Some(st) = proxy.child.try_wait()? {
                anyhow::bail!(
                    "fault-proxy exited ({st}): {}",
                    std::fs::read_to_string(dir.join("proxy.stderr")).unwrap_or_default()
                );
            }
            ensure!(Instant::now() < deadline, "fault-proxy did not start in 60s");
            std::thread::sleep(Duration::from_millis(100));
        };
        let ca = dir.join("ca.crt");
        rewrite(&c.kubeconfig, port, &ca, &dir.join("admin.kubeconfig"))?;
        rewrite(&c.kubeconfig_norights, port, &ca, &dir.join("nobody.kubeconfig"))?;
        proxy.c.kubeconfig = dir.join("admin.kubeconfig");
        proxy.c.kubeconfig_norights = dir.join("nobody.kubeconfig");
        Ok(proxy)
    }

    /// Replace the rules (see scripts/fault-proxy.py); their counters start again.
    pub fn rules(&self, rules: Json) -> anyhow::Result<()> {
        let tmp = self.dir.join("rules.json.tmp");
        std::fs::write(&tmp, serde_json::to_vec(&rules)?)?;
        std::fs::rename(tmp, self.dir.join("rules.json"))?;
        Ok(())
    }

    /// Every request the proxy saw: `{n, method, path, action, upstream}` (`upstream`: the real
    /// server's status, null when the request never reached it).
    pub fn log(&self) -> anyhow::Result<Vec<Json>> {
        let text = std::fs::read_to_string(self.dir.join("log.jsonl")).unwrap_or_default();
        Ok(text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect())
    }

    /// The requests with this method whose path contains `path` and not `dryRun`.
    pub fn writes(&self, method: &str, path: &str) -> anyhow::Result<Vec<Json>> {
        Ok(self
            .log()?
            .into_iter()
            .filter(|e| {
                let p = e["path"].as_str().unwrap_or("");
                e["method"] == method && p.contains(path) && !p.contains("dryRun")
            })
            .collect())
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
