//! More of a Helm user's day on the test cluster (issue #18): a rollout that stalls says what it
//! waits for, on which pod and why, at least every 10 s, and explains the pod without kubectl
//! (its events as the API server has them; nodesim serves no container logs, which chartup says).
//! Expected values come from the API server (the pod, its events) and the documented heartbeat.

use std::path::Path;

use k8s_openapi::api::core::v1::Event;
use kube::api::{Api, ListParams};
use serde_json::Value as Json;
use testkit::cluster;

use crate::e2e_support;
use e2e_support::*;

/// A one-Deployment chart whose pod runs but never becomes Ready (nodesim's `unready`).
fn stalling_chart(dir: &Path) -> anyhow::Result<String> {
    let d = dir.join("stall");
    std::fs::create_dir_all(d.join("templates"))?;
    std::fs::write(d.join("Chart.yaml"), "apiVersion: v2\nname: stall\nversion: 1.0.0\n")?;
    std::fs::write(
        d.join("templates/web.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}-web\nspec:\n  replicas: 1\n  \
         selector:\n    matchLabels: {app: {{ .Release.Name }}}\n  template:\n    metadata:\n      labels: {app: {{ .Release.Name }}}\n      \
         annotations:\n        nodesim.chartup.io/unready: \"true\"\n    spec:\n      containers:\n        - name: web\n          \
         image: busybox:1.36\n",
    )?;
    Ok(d.display().to_string())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stalled_rollout_says_what_it_waits_for_and_why() -> anyhow::Result<()> {
    let c = cluster();
    let ns = c.fresh_namespace("hu-stall").await?;
    let tmp = tempfile::tempdir()?;
    let chart = stalling_chart(tmp.path())?;
    let run = chartup(
        c,
        &[
            "apply",
            "st",
            &chart,
            "-n",
            &ns.name,
            "--yes",
            "--timeout",
            // Two heartbeats fit with room even at the bounds below: the last progress line (up to
            // a few seconds in on a loaded machine) + 15 s + 15 s.
            "45s",
            "-o",
            "json",
        ],
    )
    .await?;
    anyhow::ensure!(!run.ok, "a pod that is never Ready cannot pass: {}", run.stdout);
    let events = run.events();
    let pods = pods(c, &ns.name).await?;
    anyhow::ensure!(pods.len() == 1, "one pod: {pods:?}");
    let pod = pods[0].metadata.name.clone().unwrap_or_default();

    // Heartbeats: the first after 9 to 10 s of silence since the last progress line (a wait looks
    // again at least every second, and a beat due by then goes at once), then about every 10 s
    // (plus whatever the look's API calls take).
    // The silence is measured from the last line, not from the start of the wait: on a loaded
    // machine the pod is scheduled, and its line printed, seconds in. The upper bounds allow the
    // look that sends the beat 5 s of API time on a loaded machine (10 s + 5 s): a wait that beat
    // at 20 s or never still fails. The lower bound (never before 9 s of silence) is checked
    // between beats, whose times share one clock (the wait's start): a component line's time
    // counts from the component's start, a moment before the wait's (the object's apply, longer
    // under load), so the first beat minus the last line may come out under 9 s; it must still be
    // well over a few seconds (FIRST_EARLIEST: a beat sent at once, without the silence, fails).
    const LATEST: u64 = 15_000;
    const FIRST_EARLIEST: u64 = 4_000;
    // 9 s, less 100 ms: the times are truncated to milliseconds, and a beat restarts the silence
    // a moment before it reads its time (a thread preempted in between on a loaded machine).
    const EARLIEST: u64 = 8_900;
    let beats: Vec<&Json> = events.iter().filter(|e| e["event"] == "waiting").collect();
    anyhow::ensure!(beats.len() >= 2, "45 s of waiting, two heartbeats: {}", run.stdout);
    let at: Vec<u64> = beats.iter().filter_map(|b| b["elapsedMs"].as_u64()).collect();
    let first_beat = events.iter().position(|e| e["event"] == "waiting").unwrap_or(0);
    let last_line = events[..first_beat]
        .iter()
        .rev()
        .find(|e| e["event"] == "component")
        .and_then(|e| e["elapsedMs"].as_u64())
        .unwrap_or(0);
    anyhow::ensure!(
        (FIRST_EARLIEST..=LATEST).contains(&at[0].saturating_sub(last_line)),
        "first heartbeat at {at:?}, last progress line at {last_line} ms: {}",
        run.stdout
    );
    for w in at.windows(2) {
        anyhow::ensure!((EARLIEST..=LATEST).contains(&(w[1] - w[0])), "heartbeats {at:?}");
    }
    for b in &beats {
        assert_eq!(b["component"], "st-web", "{b}");
        assert_eq!(b["pod"], pod.as_str(), "{b}");
        assert_eq!(b["reason"], "ContainersNotReady", "{b}");
        assert_eq!(b["timeoutMs"], 45_000, "{b}");
    }

    // The diagnosis: the pod's events as the API server lists them (nodesim records none of its
    // own; the controllers' are on the ReplicaSet), and no logs, with the reason why.
    let api: Api<Event> = Api::namespaced(c.client().await?, &ns.name);
    let server_events = api
        .list(&ListParams::default().fields(&format!("involvedObject.name={pod}")))
        .await?
        .items
        .len();
    let diag: Vec<&Json> = events.iter().filter(|e| e["event"] == "diagnosis").collect();
    anyhow::ensure!(!diag.is_empty(), "a stall is explained: {}", run.stdout);
    for d in &diag {
        assert_eq!(d["pod"], pod.as_str(), "{d}");
        assert_eq!(d["events"].as_array().map(Vec::len), Some(server_events.min(8)), "{d}");
        assert_eq!(d["logs"], serde_json::json!([]), "{d}");
        let note = d["logsNote"].as_str().unwrap_or("");
        assert!(note.starts_with("container logs not available (node nodesim"), "{d}");
    }
    let last = events.last().cloned().unwrap_or_default();
    assert_eq!(
        (last["event"].as_str(), last["status"].as_str()),
        (Some("result"), Some("failed")),
        "{last}"
    );

    // Without -o json the same, as lines naming the component.
    let text = chartup(
        c,
        &["apply", "st2", &chart, "-n", &ns.name, "--yes", "--timeout", "30s"],
    )
    .await?;
    // 9 to 29 s in (whole seconds, rounded down): 9 to 15 s after the last progress line (as
    // above), which a loaded machine prints up to a few seconds in, and always inside the 30 s bound.
    let waiting = |s: u32| {
        format!(
            "    st2-web        waiting {s}s of 30s: Deployment/st2-web (namespace {}) to roll out: pod ",
            ns.name
        )
    };
    assert!(
        text.stdout
            .lines()
            .any(|l| (9..30).any(|s| l.starts_with(&waiting(s))) && l.contains("ContainersNotReady")),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains(": container logs not available (node nodesim"),
        "{}",
        text.stdout
    );
    Ok(())
}

fn helm(c: &testkit::Cluster, args: &[&str]) -> anyhow::Result<String> {
    let out = std::process::Command::new(testkit::helm()?)
        .args(args)
        .arg("--kubeconfig")
        .arg(&c.kubeconfig)
        .env_remove("KUBECONFIG")
        .env_remove("HELM_DRIVER")
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "helm {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A chart of one ConfigMap (no workload: nothing to wait for), `data.v` from the values.
fn config_chart(dir: &Path) -> anyhow::Result<String> {
    let d = dir.join("cfg");
    std::fs::create_dir_all(d.join("templates"))?;
    std::fs::write(d.join("Chart.yaml"), "apiVersion: v2\nname: cfg\nversion: 1.0.0\n")?;
    std::fs::write(d.join("values.yaml"), "v: one\n")?;
    std::fs::write(
        d.join("templates/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cfg\ndata:\n  v: {{ .Values.v | quote }}\n",
    )?;
    Ok(d.display().to_string())
}

/// `--labels` as helm: on the record, merged on upgrade, `null` unsets; helm's `list --selector`
/// sees chartup's labels and chartup's `list -l` sees helm's — the expected lists are helm's own.
#[tokio::test(flavor = "multi_thread")]
async fn labels_are_shared_with_helm_both_ways() -> anyhow::Result<()> {
    let c = cluster();
    let ns = c.fresh_namespace("hu-labels").await?;
    let n = ns.name.as_str();
    let tmp = tempfile::tempdir()?;
    let chart = config_chart(tmp.path())?;
    // `run=<namespace>` marks this test's releases among the whole cluster's (`list -A`).
    let run = format!("run={n}");
    helm(
        c,
        &[
            "install",
            "h",
            &chart,
            "-n",
            n,
            "--labels",
            &format!("team=a,tier=web,{run}"),
        ],
    )?;
    chartup_ok(
        c,
        &[
            "apply", "c", &chart, "-n", n, "--labels", "team=b", "-l", "tier=web", "-l", &run, "--yes",
        ],
    )
    .await?;
    // Each side upgrades the other's release, with labels merged, one unset.
    chartup_ok(
        c,
        &[
            "apply",
            "h",
            &chart,
            "-n",
            n,
            "--set",
            "v=two",
            "--labels",
            "tier=null,x=1",
            "--yes",
        ],
    )
    .await?;
    helm(
        c,
        &["upgrade", "c", &chart, "-n", n, "--set", "v=two", "--labels", "x=2"],
    )?;
    for sel in [
        "team=a",
        "team=b",
        "tier=web",
        "x=1",
        "x=2",
        "x",
        "!tier",
        "team in (a,b)",
    ] {
        let theirs = helm(c, &["list", "-n", n, "--selector", sel, "-q"])?;
        let ours = chartup_ok(c, &["list", "-n", n, "--selector", sel, "-q"]).await?;
        assert_eq!(ours.stdout, theirs, "list --selector {sel}");
    }
    // Not empty on both sides: helm sees chartup's merge (h kept team=a, lost tier, got x=1) and
    // chartup reads helm's (c kept team=b and tier=web, got x=2).
    assert_eq!(helm(c, &["list", "-n", n, "--selector", "x=1", "-q"])?, "h\n");
    assert_eq!(helm(c, &["list", "-n", n, "--selector", "team=a", "-q"])?, "h\n");
    assert_eq!(helm(c, &["list", "-n", n, "--selector", "tier=web", "-q"])?, "c\n");
    assert_eq!(
        chartup_ok(c, &["list", "-n", n, "-l", "x=2", "-q"]).await?.stdout,
        "c\n"
    );
    // Across all namespaces (-A), as helm lists them.
    let theirs = helm(c, &["list", "-A", "--selector", &run, "-o", "json"])?;
    let ours = chartup_ok(c, &["list", "-A", "--selector", &run, "-o", "json"]).await?;
    let names = |s: &str| -> anyhow::Result<Vec<String>> {
        let v: Json = serde_json::from_str(s)?;
        Ok(v.as_array()
            .into_iter()
            .flatten()
            .map(|r| {
                format!(
                    "{}/{}",
                    r["namespace"].as_str().unwrap_or(""),
                    r["name"].as_str().unwrap_or("")
                )
            })
            .collect())
    };
    assert_eq!(names(&theirs)?, [format!("{n}/c"), format!("{n}/h")]);
    assert_eq!(ours.stdout, theirs, "list -A -o json");
    let refused = chartup(c, &["apply", "h", &chart, "-n", n, "--labels", "status=x", "--yes"]).await?;
    assert!(!refused.ok);
    assert!(
        refused
            .stderr
            .contains("user supplied labels contains system reserved label name"),
        "{}",
        refused.stderr
    );
    Ok(())
}

/// A chart with one ConfigMap and delete hooks: `pre` (pre-delete, default policy
/// before-hook-creation: it stays), `pre-gone` (pre-delete, hook-succeeded: deleted once done),
/// `post` (post-delete, stays).
fn delete_hook_chart(dir: &Path) -> anyhow::Result<String> {
    let d = dir.join("hooked");
    std::fs::create_dir_all(d.join("templates"))?;
    std::fs::write(d.join("Chart.yaml"), "apiVersion: v2\nname: hooked\nversion: 1.0.0\n")?;
    std::fs::write(
        d.join("templates/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cfg\ndata:\n  v: \"1\"\n",
    )?;
    for (name, event, weight, policy) in [
        ("pre", "pre-delete", 1, None),
        ("pre-gone", "pre-delete", 0, Some("hook-succeeded")),
        ("post", "post-delete", 0, None),
    ] {
        std::fs::write(
            d.join(format!("templates/{name}.yaml")),
            format!(
                "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: {{{{ .Release.Name }}}}-{name}\n  annotations:\n    \
                 helm.sh/hook: {event}\n    helm.sh/hook-weight: \"{weight}\"\n{}spec:\n  backoffLimit: 0\n  template:\n    \
                 spec:\n      restartPolicy: Never\n      containers:\n        - name: run\n          image: busybox:1.36\n          \
                 command: [\"true\"]\n",
                policy
                    .map(|p| format!("    helm.sh/hook-delete-policy: {p}\n"))
                    .unwrap_or_default()
            ),
        )?;
    }
    Ok(d.display().to_string())
}

/// The Jobs left in a namespace, with whether each completed, by name.
async fn jobs(c: &testkit::Cluster, ns: &str) -> anyhow::Result<Vec<(String, bool)>> {
    let api: Api<k8s_openapi::api::batch::v1::Job> = Api::namespaced(c.client().await?, ns);
    let mut out: Vec<(String, bool)> = api
        .list(&ListParams::default())
        .await?
        .items
        .into_iter()
        .map(|j| {
            let done = j
                .status
                .and_then(|s| s.conditions)
                .unwrap_or_default()
                .iter()
                .any(|c| c.type_ == "Complete" && c.status == "True");
            (j.metadata.name.unwrap_or_default(), done)
        })
        .collect();
    out.sort();
    Ok(out)
}

/// `uninstall` runs the delete hooks as `helm uninstall` does: the same Jobs are left behind
/// (delete policies), each run to completion, and the release's objects and records are gone.
#[tokio::test(flavor = "multi_thread")]
async fn uninstall_runs_delete_hooks_as_helm_does() -> anyhow::Result<()> {
    let c = cluster();
    let theirs = c.fresh_namespace("hu-delhooks-helm").await?;
    let ours = c.fresh_namespace("hu-delhooks").await?;
    let tmp = tempfile::tempdir()?;
    let chart = delete_hook_chart(tmp.path())?;
    helm(c, &["install", "r", &chart, "-n", &theirs.name])?;
    helm(c, &["uninstall", "r", "-n", &theirs.name])?;
    let expected = jobs(c, &theirs.name).await?;
    assert_eq!(
        expected,
        [("r-post".to_string(), true), ("r-pre".to_string(), true)],
        "helm's own result"
    );

    chartup_ok(c, &["apply", "r", &chart, "-n", &ours.name, "--yes"]).await?;
    let dry = chartup_ok(c, &["uninstall", "r", "-n", &ours.name, "--dry-run"]).await?;
    assert!(
        dry.stdout.contains("  pre-delete: Job/r-pre-gone (weight 0)\n  pre-delete: Job/r-pre (weight 1)\n  post-delete: Job/r-post (weight 0)\n"),
        "{}",
        dry.stdout
    );
    let run = chartup_ok(c, &["uninstall", "r", "-n", &ours.name, "--yes"]).await?;
    assert!(
        run.stdout.contains("==> pre-delete hooks") && run.stdout.contains("==> post-delete hooks"),
        "{}",
        run.stdout
    );
    assert_eq!(jobs(c, &ours.name).await?, expected);
    let cms: Api<k8s_openapi::api::core::v1::ConfigMap> = Api::namespaced(c.client().await?, &ours.name);
    assert!(cms.get_opt("r-cfg").await?.is_none());
    assert_eq!(helm(c, &["list", "-n", &ours.name, "-q"])?, "");
    assert_eq!(helm(c, &["list", "-n", &ours.name, "--uninstalled", "-q"])?, "");
    Ok(())
}

/// A missing release is worded one way by every command, helm's words first; `apply` without a
/// terminal and without `--yes` shows the plan, then refuses.
#[tokio::test(flavor = "multi_thread")]
async fn one_message_for_a_missing_release_and_the_plan_before_a_refusal() -> anyhow::Result<()> {
    let c = cluster();
    let ns = c.fresh_namespace("hu-msgs").await?;
    let n = ns.name.as_str();
    let out = std::process::Command::new(testkit::helm()?)
        .args(["status", "nope", "-n", n, "--kubeconfig"])
        .arg(&c.kubeconfig)
        .output()?;
    let helms = String::from_utf8_lossy(&out.stderr).trim_end().to_string();
    assert_eq!(helms, "Error: release: not found");
    let expected = format!("{helms} (nope in namespace {n})\n");
    for args in [
        &["status", "nope", "-n", n][..],
        &["history", "nope", "-n", n],
        &["get", "values", "nope", "-n", n],
        &["get", "manifest", "nope", "-n", n],
        &["rollback", "nope", "-n", n],
        &["uninstall", "nope", "-n", n, "--yes"],
    ] {
        let r = chartup(c, args).await?;
        assert!(!r.ok, "{args:?}");
        assert_eq!(r.stderr, expected, "{args:?}");
    }
    let tmp = tempfile::tempdir()?;
    let chart = config_chart(tmp.path())?;
    let refused = chartup(c, &["apply", "r", &chart, "-n", n]).await?;
    assert!(!refused.ok);
    assert!(refused.stdout.starts_with("Plan: 1 to add"), "{}", refused.stdout);
    assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);
    Ok(())
}
