//! What the end-to-end test files share: running the chartup binary as a user would, recording
//! the pod events of a namespace in the order the API server delivers them, and reading release
//! history through chartup and through both helm lines.
//!
//! A module of the `e2e` test binary (`tests/e2e/main.rs`); each suite uses it with
//! `use crate::e2e_support;`, and not every suite uses every helper.
#![allow(dead_code)]

pub mod fault_proxy;
pub mod outage;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{anyhow, ensure, Context as _};
use futures::StreamExt as _;
use serde_json::Value as Json;
use testkit::k8s_openapi::api::core::v1::Pod;
use testkit::kube::api::{Api, ListParams};
use testkit::kube::runtime::watcher;
use testkit::kube::ResourceExt;
use testkit::Cluster;

/// Generous: the machine is shared; the fail-fast bound is checked separately and strictly.
pub const RUN: Duration = Duration::from_secs(180);
pub const REGISTRY: &str = "global.image.registry=docker.io/chartup";

/// The bound on "fails fast": from the test's first sight of a bad pod status to chartup's exit.
/// Well above what a loaded machine adds (the watch's delivery to the test, the failed record, the
/// exit) and far below the `--timeout 5m` a run that did not fail fast would wait for.
pub const FAIL_FAST: Duration = Duration::from_secs(60);

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn chart(rel: &str) -> String {
    root().join("charts").join(rel).display().to_string()
}

pub fn matrix(name: &str) -> String {
    root().join("matrices").join(name).display().to_string()
}

/// What one chartup run printed and how it ended.
#[derive(Debug)]
pub struct Run {
    pub ok: bool,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// When the process exited.
    pub ended: Instant,
}

impl Run {
    pub fn events(&self) -> Vec<Json> {
        self.stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<Json>(l).ok())
            .filter(|v| v.get("event").is_some())
            .collect()
    }
}

pub fn chartup_cmd(c: &Cluster, args: &[&str]) -> anyhow::Result<tokio::process::Command> {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_chartup"));
    cmd.args(args)
        .arg("--kubeconfig")
        .arg(&c.kubeconfig)
        .env_remove("KUBECONFIG")
        .env("CHARTUP_HELM", testkit::helm()?)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    Ok(cmd)
}

/// Run chartup to the end (bounded by [`RUN`]).
pub async fn chartup(c: &Cluster, args: &[&str]) -> anyhow::Result<Run> {
    let child = chartup_cmd(c, args)?.spawn().context("starting chartup")?;
    let out = tokio::time::timeout(RUN, child.wait_with_output())
        .await
        .map_err(|_| anyhow!("chartup {} did not finish within {RUN:?}", args.join(" ")))??;
    let ended = Instant::now();
    Ok(Run {
        ok: out.status.success(),
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        ended,
    })
}

pub async fn chartup_ok(c: &Cluster, args: &[&str]) -> anyhow::Result<Run> {
    let r = chartup(c, args).await?;
    ensure!(
        r.ok,
        "chartup {} failed ({:?}):\n{}\n{}",
        args.join(" "),
        r.code,
        r.stdout,
        r.stderr
    );
    Ok(r)
}

/// One pod event as a watch delivered it.
#[derive(Debug, Clone)]
pub struct PodEvent {
    pub name: String,
    pub uid: String,
    pub ready: bool,
    pub waiting: Option<String>,
    pub image: String,
    pub at: Instant,
}

/// Records every pod event of a namespace, in the order the API server delivers them.
pub struct PodLog {
    pub events: Arc<Mutex<Vec<PodEvent>>>,
    pub task: tokio::task::JoinHandle<()>,
}

impl PodLog {
    pub async fn start(c: &Cluster, ns: &str) -> anyhow::Result<PodLog> {
        let api: Api<Pod> = Api::namespaced(c.client().await?, ns);
        let events = Arc::new(Mutex::new(Vec::new()));
        let sink = events.clone();
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(async move {
            let mut ready_tx = Some(ready_tx);
            let mut stream = watcher(api, watcher::Config::default()).boxed();
            while let Some(ev) = stream.next().await {
                let pod = match ev {
                    Ok(watcher::Event::Apply(p)) | Ok(watcher::Event::InitApply(p)) => p,
                    Ok(watcher::Event::InitDone) => {
                        if let Some(tx) = ready_tx.take() {
                            let _ = tx.send(());
                        }
                        continue;
                    }
                    _ => continue,
                };
                let st = pod.status.clone().unwrap_or_default();
                let ready = st
                    .conditions
                    .iter()
                    .flatten()
                    .any(|c| c.type_ == "Ready" && c.status == "True");
                let waiting = st
                    .container_statuses
                    .iter()
                    .flatten()
                    .find_map(|c| c.state.as_ref()?.waiting.as_ref()?.reason.clone());
                let image = pod
                    .spec
                    .as_ref()
                    .and_then(|s| s.containers.first())
                    .and_then(|c| c.image.clone())
                    .unwrap_or_default();
                if let Ok(mut v) = sink.lock() {
                    v.push(PodEvent {
                        name: pod.name_any(),
                        uid: pod.uid().unwrap_or_default(),
                        ready,
                        waiting,
                        image,
                        at: Instant::now(),
                    });
                }
            }
        });
        tokio::time::timeout(Duration::from_secs(30), ready_rx)
            .await
            .map_err(|_| anyhow!("pod watch did not start"))??;
        Ok(PodLog { events, task })
    }

    pub fn snapshot(&self) -> Vec<PodEvent> {
        self.events.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

impl Drop for PodLog {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// For the pods that appeared after `since_uids` (new pods): index of the first event of each
/// new uid, and of its first Ready event.
pub fn appearances(log: &[PodEvent], old_uids: &[String], prefix: &str) -> Vec<(String, usize, Option<usize>)> {
    let mut out: Vec<(String, String, usize, Option<usize>)> = Vec::new();
    for (i, e) in log.iter().enumerate() {
        if !e.name.starts_with(prefix) || old_uids.contains(&e.uid) {
            continue;
        }
        match out.iter_mut().find(|(_, uid, _, _)| *uid == e.uid) {
            Some(entry) => {
                if e.ready && entry.3.is_none() {
                    entry.3 = Some(i);
                }
            }
            None => out.push((e.name.clone(), e.uid.clone(), i, e.ready.then_some(i))),
        }
    }
    out.into_iter().map(|(n, _, a, r)| (n, a, r)).collect()
}

pub async fn pods(c: &Cluster, ns: &str) -> anyhow::Result<Vec<Pod>> {
    let api: Api<Pod> = Api::namespaced(c.client().await?, ns);
    Ok(api.list(&ListParams::default()).await?.items)
}

pub fn history_json(r: &Run) -> anyhow::Result<Vec<Json>> {
    let v: Json = serde_json::from_str(&r.stdout).with_context(|| format!("history -o json: {}", r.stdout))?;
    Ok(v.as_array().cloned().unwrap_or_default())
}

pub async fn chartup_history(c: &Cluster, ns: &str, rel: &str) -> anyhow::Result<Vec<Json>> {
    history_json(&chartup_ok(c, &["history", rel, "-n", ns, "-o", "json"]).await?)
}

pub fn helm_history(c: &Cluster, helm: &Path, ns: &str, rel: &str) -> anyhow::Result<Vec<Json>> {
    let out = std::process::Command::new(helm)
        .args(["history", rel, "-n", ns, "-o", "json", "--kubeconfig"])
        .arg(&c.kubeconfig)
        .env_remove("KUBECONFIG")
        .output()?;
    ensure!(
        out.status.success(),
        "{} history failed: {}",
        helm.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(serde_json::from_slice::<Json>(&out.stdout)?
        .as_array()
        .cloned()
        .unwrap_or_default())
}

/// Both helm lines, when available: helm 4 (`helm`) and helm 3 (`helm3` beside it).
pub fn helms() -> anyhow::Result<Vec<PathBuf>> {
    let h4 = testkit::helm()?;
    let mut out = vec![h4.clone()];
    if let Some(dir) = h4.parent() {
        let h3 = dir.join("helm3");
        if h3.is_file() {
            out.push(h3);
        }
    }
    Ok(out)
}

pub fn statuses(h: &[Json]) -> Vec<(u64, String)> {
    h.iter()
        .map(|r| {
            (
                r["revision"].as_u64().unwrap_or(0),
                r["status"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

pub fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let target = to.join(e.file_name());
        if e.file_type()?.is_dir() {
            copy_dir(&e.path(), &target)?;
        } else {
            std::fs::copy(e.path(), target)?;
        }
    }
    Ok(())
}

/// Wait until the API server's authorizer says `allowed` for `user` (a cluster as some user sees
/// it) doing `verb` on `resource` of API group `group` in `ns`. RBAC authorizes from a cache of
/// Roles and bindings that may lag behind a grant or a revocation just written, so a test that
/// needs the new rights (or their absence) waits for them here: a SelfSubjectAccessReview goes
/// through the same authorizer as the user's own requests.
pub async fn wait_access(
    user: &Cluster,
    ns: &str,
    verb: &str,
    group: &str,
    resource: &str,
    allowed: bool,
) -> anyhow::Result<()> {
    use testkit::k8s_openapi::api::authorization::v1::SelfSubjectAccessReview;
    use testkit::kube::api::PostParams;
    let api: Api<SelfSubjectAccessReview> = Api::all(user.client().await?);
    let review: SelfSubjectAccessReview = serde_json::from_value(serde_json::json!({
        "spec": {"resourceAttributes": {"namespace": ns, "verb": verb, "group": group, "resource": resource}}
    }))?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let answer = api.create(&PostParams::default(), &review).await?;
        let now = answer.status.as_ref().is_some_and(|s| s.allowed);
        if now == allowed {
            return Ok(());
        }
        ensure!(
            Instant::now() < deadline,
            "the authorizer still says allowed={now} for {verb} {group}/{resource} in {ns}: {:?}",
            answer.status
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
