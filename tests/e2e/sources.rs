//! End-to-end: an upgrade between two versions of a chart taken from the test OCI registry
//! (scripts/test-sources.sh: the CNCF distribution registry with htpasswd auth and TLS, charts put
//! there by `helm push`), planned and applied by chartup on the shared test cluster. The deployed
//! revision is installed by the real helm from the same registry; the plan must record where the
//! new chart came from, and what is applied is what the saved plan holds.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{ensure, Context as _};
use serde_json::Value as Json;
use testkit::cluster;

use crate::e2e_support;
use e2e_support::*;

/// `scripts/test-sources.sh up` (reuses a running setup): its env lines.
fn sources_env() -> anyhow::Result<Vec<(String, String)>> {
    let out = Command::new(root().join("scripts/test-sources.sh"))
        .arg("up")
        .output()?;
    ensure!(
        out.status.success(),
        "scripts/test-sources.sh up failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("export ")?.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect())
}

fn get<'a>(env: &'a [(String, String)], k: &str) -> &'a str {
    env.iter().find(|(a, _)| a == k).map(|(_, v)| v.as_str()).unwrap_or("")
}

fn sha256_file(p: &Path) -> anyhow::Result<String> {
    Ok(format!("sha256:{}", chartup::source::sha256_hex(&std::fs::read(p)?)))
}

#[tokio::test(flavor = "multi_thread")]
async fn upgrade_between_two_registry_versions() -> anyhow::Result<()> {
    let c = cluster();
    let env = sources_env()?;
    let (registry, ca, user, pass) = (
        get(&env, "CHARTUP_SRC_REGISTRY"),
        get(&env, "CHARTUP_SRC_CA"),
        get(&env, "CHARTUP_SRC_USER"),
        get(&env, "CHARTUP_SRC_PASSWORD"),
    );
    let www = PathBuf::from(get(&env, "CHARTUP_SRC_DIR")).join("www/charts");
    let chart = format!("oci://{registry}/charts/demo");
    let ns = c.fresh_namespace("sources").await?;
    let home = tempfile::tempdir()?;
    let regcfg = home.path().join("registry.json");
    // The image must be one the nodesim catalogue knows.
    let image = "image=docker.io/chartup/bookkeeper:0.6.0";

    // helm logs in and installs 1.0.0 from the registry.
    let helm = testkit::helm()?;
    let helm_run = |args: &[&str]| -> anyhow::Result<String> {
        let out = Command::new(&helm)
            .args(args)
            .arg("--kubeconfig")
            .arg(&c.kubeconfig)
            .env("HELM_REGISTRY_CONFIG", &regcfg)
            .env("HELM_CACHE_HOME", home.path().join("cache"))
            .env("HELM_CONFIG_HOME", home.path().join("config"))
            .output()?;
        ensure!(
            out.status.success(),
            "helm {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    helm_run(&["registry", "login", registry, "--ca-file", ca, "-u", user, "-p", pass])?;
    let mut install = vec![
        "install",
        "demo",
        &chart,
        "--version",
        "1.0.0",
        "--ca-file",
        ca,
        "-n",
        &ns.name,
        "--set",
        image,
        "--wait",
        "--timeout",
        "120s",
    ];
    if helm_run(&["version", "--short"])?.starts_with("v4") {
        install.push("--server-side=false");
    }
    helm_run(&install)?;

    // chartup plans the upgrade to 1.1.0 from the registry against the cluster, with helm's login.
    let plan_file = home.path().join("plan.json");
    let plan_path = plan_file.to_str().context("utf-8 path")?;
    let with_env = |mut cmd: tokio::process::Command| {
        cmd.env("HELM_REGISTRY_CONFIG", &regcfg)
            .env("HELM_CACHE_HOME", home.path().join("cache"))
            .env("HELM_CONFIG_HOME", home.path().join("config"));
        cmd
    };
    let plan_args = [
        "plan",
        "demo",
        &chart,
        "--version",
        "1.1.0",
        "--ca-file",
        ca,
        "-n",
        &ns.name,
        "--set",
        image,
        "--out",
        plan_path,
    ];
    let out = with_env(chartup_cmd(c, &plan_args)?).output().await?;
    ensure!(
        out.status.success(),
        "chartup plan: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let saved: Json = serde_json::from_str(&std::fs::read_to_string(&plan_file)?)?;
    let to = &saved["plan"]["to"];
    assert_eq!(to["source"]["reference"], chart.as_str());
    assert_eq!(to["source"]["version"], "1.1.0");
    // The archive helm packaged and pushed, byte for byte.
    assert_eq!(
        to["source"]["digest"],
        sha256_file(&www.join("demo-1.1.0.tgz"))?.as_str()
    );

    // apply the saved plan.
    let out = with_env(chartup_cmd(c, &["apply", plan_path])?).output().await?;
    ensure!(
        out.status.success(),
        "chartup apply: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let list: Json = serde_json::from_str(&helm_run(&["list", "-n", &ns.name, "-o", "json"])?)?;
    assert_eq!(list[0]["chart"], "demo-1.1.0");
    assert_eq!(list[0]["revision"], "2");
    assert_eq!(list[0]["status"], "deployed");
    let cm = helm_run(&["get", "manifest", "demo", "-n", &ns.name])?;
    assert!(cm.contains("version: \"1.1.0\""), "{cm}");
    Ok(())
}
