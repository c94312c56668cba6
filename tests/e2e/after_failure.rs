//! What a user does after an upgrade or install failed, on the real control plane: apply again
//! (fix forward, or back to the deployed values), `--atomic` on a first install, `status` of a
//! release whose pods carry no `app.kubernetes.io/instance` label. Each expectation is what helm
//! does (helm 4.1.4 run beside it where its outcome is the oracle) or what the docs promise; the
//! live objects are read from the API server. Every wait is a condition with a deadline.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::ensure;
use testkit::k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use testkit::k8s_openapi::api::core::v1::{ConfigMap, Pod, Service};
use testkit::kube::api::{Api, ListParams};
use testkit::kube::ResourceExt;
use testkit::{cluster, Cluster};

use crate::e2e_support;
use e2e_support::*;

const WAIT: Duration = Duration::from_secs(120);
/// Not in nodesim's catalogue: its pull fails (ErrImagePull, then ImagePullBackOff).
const BROKEN: &str = "registry.example.invalid/chartup/no-such-image:1";

/// A small chart as users write them — no `app.kubernetes.io/*` labels: a ConfigMap, a
/// Deployment `<rel>-web` (image `image`; a StatefulSet with `webKind=StatefulSet`), a headless
/// Service and a RollingUpdate StatefulSet
/// `<rel>-db` with claims (image `dbImage`; `dbUnready` keeps its new pods unready).
fn app_chart(dir: &Path) -> anyhow::Result<String> {
    let d = dir.join("app");
    std::fs::create_dir_all(d.join("templates"))?;
    std::fs::write(
        d.join("Chart.yaml"),
        "apiVersion: v2\nname: app\nversion: 1.0.0\nappVersion: \"1.0\"\n",
    )?;
    std::fs::write(
        d.join("values.yaml"),
        "image: nginx:1.25\ndbImage: postgres:16\ndbUnready: false\nwebKind: Deployment\n",
    )?;
    std::fs::write(
        d.join("templates/all.yaml"),
        r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-cfg
data:
  image: {{ .Values.image | quote }}
---
apiVersion: apps/v1
kind: {{ .Values.webKind }}
metadata:
  name: {{ .Release.Name }}-web
spec:
  {{- if eq .Values.webKind "StatefulSet" }}
  serviceName: {{ .Release.Name }}-web
  {{- end }}
  replicas: 2
  selector:
    matchLabels: {app: {{ .Release.Name }}-web}
  template:
    metadata:
      labels: {app: {{ .Release.Name }}-web}
    spec:
      containers:
        - name: web
          image: {{ .Values.image }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}-db
spec:
  clusterIP: None
  selector: {app: {{ .Release.Name }}-db}
  ports: [{port: 5432, protocol: TCP}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {{ .Release.Name }}-db
spec:
  serviceName: {{ .Release.Name }}-db
  replicas: 3
  selector:
    matchLabels: {app: {{ .Release.Name }}-db}
  template:
    metadata:
      labels: {app: {{ .Release.Name }}-db}
      {{- if .Values.dbUnready }}
      annotations: {nodesim.chartup.io/unready: "true"}
      {{- end }}
    spec:
      containers:
        - name: db
          image: {{ .Values.dbImage }}
          volumeMounts: [{name: data, mountPath: /data}]
  volumeClaimTemplates:
    - metadata: {name: data}
      spec:
        accessModes: [ReadWriteOnce]
        resources: {requests: {storage: 1Gi}}
"#,
    )?;
    Ok(d.display().to_string())
}

fn ready(p: &Pod) -> bool {
    p.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

fn image(p: &Pod) -> String {
    p.spec
        .as_ref()
        .and_then(|s| s.containers.first())
        .and_then(|c| c.image.clone())
        .unwrap_or_default()
}

/// Both helm lines' and chartup's history statuses of `rel`, which must agree.
async fn agreed_statuses(c: &Cluster, ns: &str, rel: &str) -> anyhow::Result<Vec<(u64, String)>> {
    let ours = statuses(&chartup_history(c, ns, rel).await?);
    for helm in helms()? {
        let theirs = statuses(&helm_history(c, &helm, ns, rel)?);
        ensure!(
            theirs == ours,
            "{} history {theirs:?}, chartup {ours:?}",
            helm.display()
        );
    }
    Ok(ours)
}

/// SIGTERM while a StatefulSet rolls onto an unready template stops the run (exit 143, revision
/// failed) with the set left on the failed template; applying again with the deployed values
/// (no values given: helm's rule reuses the deployed revision's) must put the set back on the
/// deployed template and replace the pod the failed run left — the plan, made against the
/// deployed revision, calls the set unchanged. Before: `Release … deployed` with the set still on
/// the failed template and its pod unready.
#[tokio::test(flavor = "multi_thread")]
async fn an_apply_after_an_interrupted_rollout_puts_back_what_it_changed() -> anyhow::Result<()> {
    let c = cluster();
    let tmp = tempfile::tempdir()?;
    let ns = c.fresh_namespace("af-term").await?;
    let chart = app_chart(tmp.path())?;
    chartup_ok(c, &["apply", "a", &chart, "-n", &ns.name, "--yes", "--timeout", "90s"]).await?;
    let child = chartup_cmd(
        c,
        &[
            "apply",
            "a",
            &chart,
            "-n",
            &ns.name,
            "--yes",
            "--set",
            "dbImage=postgres:16.2",
            "--set",
            "dbUnready=true",
            "--timeout",
            "150s",
        ],
    )?
    .spawn()?;
    // Under way: the controller made a pod on the new, unready template.
    let pods: Api<Pod> = Api::namespaced(c.client().await?, &ns.name);
    let deadline = Instant::now() + WAIT;
    loop {
        let list = pods.list(&ListParams::default().labels("app=a-db")).await?;
        if list.items.iter().any(|p| image(p) == "postgres:16.2") {
            break;
        }
        ensure!(Instant::now() < deadline, "the upgrade never reached the StatefulSet");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    crate::recovery::signal(&child, "-TERM")?;
    let out = tokio::time::timeout(RUN, child.wait_with_output()).await??;
    let stderr = String::from_utf8_lossy(&out.stderr);
    ensure!(out.status.code() == Some(143), "exit {:?}: {stderr}", out.status.code());
    ensure!(
        agreed_statuses(c, &ns.name, "a").await? == vec![(1, "deployed".into()), (2, "failed".into())],
        "after SIGTERM"
    );

    let r = chartup(c, &["apply", "a", &chart, "-n", &ns.name, "--yes", "--timeout", "90s"]).await?;
    ensure!(
        r.ok,
        "apply after the interrupted run failed:\n{}\n{}",
        r.stdout,
        r.stderr
    );
    let sets: Api<StatefulSet> = Api::namespaced(c.client().await?, &ns.name);
    let set = sets.get("a-db").await?;
    let tpl = set
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .and_then(|s| s.containers.first())
        .and_then(|c| c.image.clone());
    ensure!(
        tpl.as_deref() == Some("postgres:16"),
        "revision 3 is recorded deployed (postgres:16) but the live StatefulSet runs {tpl:?}:\n{}\n{}",
        r.stdout,
        r.stderr
    );
    let annotated = set
        .spec
        .as_ref()
        .and_then(|s| s.template.metadata.as_ref())
        .and_then(|m| m.annotations.as_ref())
        .is_some_and(|a| a.contains_key("nodesim.chartup.io/unready"));
    ensure!(!annotated, "the failed run's template annotation is still live");
    let list = pods.list(&ListParams::default().labels("app=a-db")).await?;
    ensure!(list.items.len() == 3, "{} db pods", list.items.len());
    for p in &list.items {
        ensure!(
            ready(p) && image(p) == "postgres:16",
            "pod {} ready={} on {}",
            p.name_any(),
            ready(p),
            image(p)
        );
    }
    ensure!(
        agreed_statuses(c, &ns.name, "a").await?
            == vec![(1, "superseded".into()), (2, "failed".into()), (3, "deployed".into())],
        "after the second apply"
    );
    Ok(())
}

/// A first install that fails (a broken image) leaves a failed revision 1. Applying again with no
/// values reuses revision 1's (helm's rule when nothing is deployed), so the plan sees no change —
/// yet the Deployment's pods are still broken: the apply must fail on them, naming the pod, not
/// record `deployed` (helm 4 `upgrade --wait` fails too). A fix-forward apply then deploys.
#[tokio::test(flavor = "multi_thread")]
async fn an_apply_after_a_failed_install_checks_what_it_did_not_change() -> anyhow::Result<()> {
    let c = cluster();
    let tmp = tempfile::tempdir()?;
    let ns = c.fresh_namespace("af-inst").await?;
    let chart = app_chart(tmp.path())?;
    let bad = format!("image={BROKEN}");
    let args = |extra: &[&str]| {
        let mut v: Vec<String> = ["apply", "a", &chart, "-n", &ns.name, "--yes", "--timeout", "90s"]
            .map(String::from)
            .to_vec();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let run = |a: Vec<String>| async move {
        let refs: Vec<&str> = a.iter().map(String::as_str).collect();
        chartup(c, &refs).await
    };
    let r = run(args(&["--set", &bad])).await?;
    ensure!(r.code == Some(1), "broken install: exit {:?}\n{}", r.code, r.stderr);

    let r = run(args(&[])).await?;
    ensure!(
        r.code == Some(1),
        "an apply over the failed install's broken pods succeeded (exit {:?}):\n{}\n{}",
        r.code,
        r.stdout,
        r.stderr
    );
    ensure!(
        r.stderr.contains("pod a-web-") && (r.stderr.contains("ErrImagePull") || r.stderr.contains("ImagePullBackOff")),
        "the failure does not name the broken pod: {}",
        r.stderr
    );
    // The plan said so before anything ran.
    ensure!(
        r.stdout
            .contains("revision 1 failed and may have changed objects live: apply applies"),
        "the plan does not say what apply will do after the failed revision:\n{}",
        r.stdout
    );
    ensure!(
        agreed_statuses(c, &ns.name, "a").await? == vec![(1, "failed".into()), (2, "failed".into())],
        "after the second apply"
    );

    let r = run(args(&["--set", "image=nginx:1.25"])).await?;
    ensure!(r.ok, "fix forward failed:\n{}\n{}", r.stdout, r.stderr);
    let deps: Api<Deployment> = Api::namespaced(c.client().await?, &ns.name);
    let d = deps.get("a-web").await?;
    ensure!(
        d.status.as_ref().and_then(|s| s.available_replicas) == Some(2),
        "a-web not available after the fix: {:?}",
        d.status
    );
    Ok(())
}

/// Whether an object of kind `K` named `name` exists in `ns`.
async fn exists<K>(client: &testkit::kube::Client, ns: &str, name: &str) -> anyhow::Result<bool>
where
    K: testkit::kube::Resource<Scope = testkit::k8s_openapi::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
    K::DynamicType: Default,
{
    Ok(Api::<K>::namespaced(client.clone(), ns).get_opt(name).await?.is_some())
}

/// Which of `app_chart`'s objects exist in `ns` (`Kind/name`).
async fn app_objects(c: &Cluster, ns: &str) -> anyhow::Result<Vec<String>> {
    let client = c.client().await?;
    let mut out = Vec::new();
    for (found, what) in [
        (exists::<Deployment>(&client, ns, "a-web").await?, "Deployment/a-web"),
        (exists::<StatefulSet>(&client, ns, "a-db").await?, "StatefulSet/a-db"),
        (exists::<Service>(&client, ns, "a-db").await?, "Service/a-db"),
        (exists::<ConfigMap>(&client, ns, "a-cfg").await?, "ConfigMap/a-cfg"),
    ] {
        if found {
            out.push(what.to_string());
        }
    }
    Ok(out)
}

/// The release's own objects left in `ns` (by name), and whether its Lease is still there.
async fn leftovers(c: &Cluster, ns: &str) -> anyhow::Result<Vec<String>> {
    use testkit::k8s_openapi::api::coordination::v1::Lease;
    let client = c.client().await?;
    let mut out = app_objects(c, ns).await?;
    if exists::<Lease>(&client, ns, "chartup.a").await? {
        out.push("Lease/chartup.a".to_string());
    }
    let records = Api::<testkit::k8s_openapi::api::core::v1::Secret>::namespaced(client, ns)
        .list(&ListParams::default().labels("owner=helm,name=a"))
        .await?;
    out.extend(records.items.iter().map(|s| format!("Secret/{}", s.name_any())));
    Ok(out)
}

/// `--atomic` on a first install that fails: helm 4 (`install --rollback-on-failure`, the same
/// flag as `--atomic`) uninstalls the release — records and objects gone — and exits 1. chartup
/// must do the same, not exit 4 with "the rollback failed too: there is no deployed revision to
/// roll back to", leaving a failed release and its broken pods behind.
#[tokio::test(flavor = "multi_thread")]
async fn atomic_on_a_failed_install_uninstalls_as_helm_does() -> anyhow::Result<()> {
    let c = cluster();
    let tmp = tempfile::tempdir()?;
    let chart = app_chart(tmp.path())?;
    let bad = format!("image={BROKEN}");
    // The oracle: helm 4 on the same chart in its own namespace.
    let theirs = c.fresh_namespace("af-helm").await?;
    let helm = std::process::Command::new(testkit::helm()?)
        .args([
            "install",
            "a",
            &chart,
            "-n",
            &theirs.name,
            "--rollback-on-failure",
            "--set",
            &bad,
        ])
        .args(["--timeout", "15s", "--server-side=false", "--kubeconfig"])
        .arg(&c.kubeconfig)
        .env_remove("KUBECONFIG")
        .output()?;
    let helm_err = String::from_utf8_lossy(&helm.stderr);
    ensure!(
        helm.status.code() == Some(1) && helm_err.contains("has been uninstalled"),
        "helm: exit {:?}: {helm_err}",
        helm.status.code()
    );
    ensure!(
        leftovers(c, &theirs.name).await?.is_empty(),
        "helm left {:?}",
        leftovers(c, &theirs.name).await?
    );

    let ns = c.fresh_namespace("af-atomic").await?;
    let r = chartup(
        c,
        &[
            "apply",
            "a",
            &chart,
            "-n",
            &ns.name,
            "--yes",
            "--atomic",
            "--set",
            &bad,
            "--timeout",
            "90s",
        ],
    )
    .await?;
    ensure!(
        r.code == helm.status.code(),
        "exit {:?} (helm {:?}):\n{}",
        r.code,
        helm.status.code(),
        r.stderr
    );
    ensure!(
        r.stderr.contains("pod a-web-") && r.stderr.contains("has been uninstalled due to --atomic"),
        "{}",
        r.stderr
    );
    let left = leftovers(c, &ns.name).await?;
    ensure!(left.is_empty(), "chartup's atomic install left {left:?}:\n{}", r.stderr);
    let h = chartup(c, &["history", "a", "-n", &ns.name]).await?;
    ensure!(
        !h.ok && h.stderr.contains("not found"),
        "history: {}{}",
        h.stdout,
        h.stderr
    );
    // Installing again is a plain install (revision 1).
    chartup_ok(c, &["apply", "a", &chart, "-n", &ns.name, "--yes", "--timeout", "90s"]).await?;
    ensure!(agreed_statuses(c, &ns.name, "a").await? == vec![(1, "deployed".into())]);
    Ok(())
}

/// `chartup status` after a failed install of a chart whose pods carry no
/// `app.kubernetes.io/instance` label (few hand-written charts set it): the members are the pods
/// of the release's workloads, so PodsReady is False and the broken pods are named. Before:
/// `PodsReady=True`, `MEMBERS: 0 ready, 0 unready` beside two pods in ImagePullBackOff.
#[tokio::test(flavor = "multi_thread")]
async fn status_counts_the_pods_of_the_release_workloads() -> anyhow::Result<()> {
    let c = cluster();
    let tmp = tempfile::tempdir()?;
    let ns = c.fresh_namespace("af-status").await?;
    let chart = app_chart(tmp.path())?;
    let bad = format!("image={BROKEN}");
    let r = chartup(
        c,
        &[
            "apply",
            "a",
            &chart,
            "-n",
            &ns.name,
            "--yes",
            "--set",
            &bad,
            "--timeout",
            "90s",
        ],
    )
    .await?;
    ensure!(r.code == Some(1), "exit {:?}: {}", r.code, r.stderr);
    // The truth, from the API server: the release's pods and which are Ready (a-db's may still be
    // starting: wait until its three pods are Ready, so the count below is stable).
    let pods: Api<Pod> = Api::namespaced(c.client().await?, &ns.name);
    let deadline = Instant::now() + WAIT;
    let list = loop {
        let list = pods.list(&ListParams::default()).await?.items;
        let db_ready = list
            .iter()
            .filter(|p| p.name_any().starts_with("a-db-") && ready(p))
            .count();
        let web = list.iter().filter(|p| p.name_any().starts_with("a-web-")).count();
        if db_ready == 3 && web == 2 {
            break list;
        }
        ensure!(
            Instant::now() < deadline,
            "pods never settled: {db_ready} db ready, {web} web"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    let s = chartup_ok(c, &["status", "a", "-n", &ns.name, "-o", "json"]).await?;
    let s: serde_json::Value = serde_json::from_str(&s.stdout)?;
    let names = |k: &str| -> Vec<String> {
        s["members"][k]
            .as_array()
            .map(|a| a.iter().filter_map(|v| v.as_str()).map(str::to_string).collect())
            .unwrap_or_default()
    };
    let (readies, unready) = (names("ready"), names("unready"));
    for p in &list {
        let n = p.name_any();
        if ready(p) {
            ensure!(readies.contains(&n), "ready pod {n} missing from {s:#}");
        } else {
            ensure!(
                unready.iter().any(|u| u.starts_with(&n)),
                "unready pod {n} missing from {s:#}"
            );
        }
    }
    let pods_ready = crate::recovery::condition(&s, "PodsReady");
    ensure!(pods_ready["status"] == "False", "{s:#}");
    Ok(())
}

/// `chartup uninstall` while another chartup run holds the release's lock (its pending record
/// and a live Lease) deleted the release from under it: the run then failed on a vanished
/// workload, could not mark its revision (the records were gone) and named `chartup recover`,
/// which had nothing to recover; its Lease stayed behind. The docs promise that a live holder's
/// lock refuses other runs: uninstall must refuse it too, naming the holder, and change nothing.
/// Once the run stopped (SIGINT: revision failed), the uninstall goes through and leaves nothing.
#[tokio::test(flavor = "multi_thread")]
async fn uninstall_refuses_a_release_a_live_run_holds() -> anyhow::Result<()> {
    use testkit::k8s_openapi::api::coordination::v1::Lease;
    let c = cluster();
    let tmp = tempfile::tempdir()?;
    let ns = c.fresh_namespace("af-unlock").await?;
    let child = crate::recovery::hanging_upgrade(c, &ns.name, tmp.path(), &[]).await?;
    let r = chartup(c, &["uninstall", "web", "-n", &ns.name, "--yes"]).await?;
    ensure!(
        !r.ok,
        "uninstall went ahead under a live run:\n{}\n{}",
        r.stdout,
        r.stderr
    );
    ensure!(
        r.stderr.contains("still alive") && r.stderr.contains(&format!("pid {}", child.id().unwrap_or(0))),
        "{}",
        r.stderr
    );
    let client = c.client().await?;
    ensure!(
        Api::<Deployment>::namespaced(client.clone(), &ns.name)
            .get_opt("web")
            .await?
            .is_some(),
        "the refused uninstall deleted the Deployment"
    );
    crate::recovery::signal(&child, "-INT")?;
    let out = tokio::time::timeout(RUN, child.wait_with_output()).await??;
    ensure!(
        out.status.code() == Some(130),
        "the run did not stop as interrupted: {:?} {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    ensure!(agreed_statuses(c, &ns.name, "web").await? == vec![(1, "deployed".into()), (2, "failed".into())]);
    chartup_ok(c, &["uninstall", "web", "-n", &ns.name, "--yes"]).await?;
    ensure!(
        Api::<Deployment>::namespaced(client.clone(), &ns.name)
            .get_opt("web")
            .await?
            .is_none(),
        "the Deployment stayed"
    );
    ensure!(
        Api::<Lease>::namespaced(client, &ns.name)
            .get_opt("chartup.web")
            .await?
            .is_none(),
        "the Lease stayed"
    );
    let h = chartup(c, &["history", "web", "-n", &ns.name]).await?;
    ensure!(
        !h.ok && h.stderr.contains("not found"),
        "history: {}{}",
        h.stdout,
        h.stderr
    );
    Ok(())
}

/// A run killed outright (SIGKILL) leaves its pending record: the next apply and rollback are
/// refused — rightly — but the refusal repeated the record's "chartup apply by …, pid N in
/// progress" although `status` knows that process is gone. The refusal must say which it is
/// (gone: the process no longer exists), so the user runs `recover` without a second look.
#[tokio::test(flavor = "multi_thread")]
async fn a_lock_refusal_says_whether_its_run_is_gone() -> anyhow::Result<()> {
    let c = cluster();
    let tmp = tempfile::tempdir()?;
    let ns = c.fresh_namespace("af-gone").await?;
    let mut child = crate::recovery::hanging_upgrade(c, &ns.name, tmp.path(), &[]).await?;
    let pid = child.id().unwrap_or(0);
    // While it runs, the refusal calls it running.
    let v1 = crate::recovery::web(tmp.path(), "1.25", false)?;
    let r = chartup(c, &["apply", "web", &v1, "-n", &ns.name, "--yes"]).await?;
    ensure!(
        !r.ok && r.stderr.contains(&format!("process {pid} is still running")),
        "{}",
        r.stderr
    );
    crate::recovery::signal(&child, "-KILL")?;
    child.wait().await?;
    let r = chartup(c, &["apply", "web", &v1, "-n", &ns.name, "--yes"]).await?;
    ensure!(!r.ok, "applied over the lock:\n{}", r.stdout);
    ensure!(
        r.stderr.contains("locked by revision 2")
            && r.stderr.contains(&format!("process {pid} no longer exists"))
            && r.stderr.contains("chartup recover web"),
        "the refusal does not say the run is gone:\n{}",
        r.stderr
    );
    let r = chartup(c, &["rollback", "web", "-n", &ns.name]).await?;
    ensure!(
        !r.ok && r.stderr.contains(&format!("process {pid} no longer exists")),
        "{}",
        r.stderr
    );
    chartup_ok(c, &["recover", "web", "-n", &ns.name]).await?;
    chartup_ok(c, &["apply", "web", &v1, "-n", &ns.name, "--yes", "--timeout", "90s"]).await?;
    Ok(())
}

/// Install, upgrade, `uninstall --keep-history`, then apply the chart again: helm 4 (`upgrade --install`) installs
/// it as the next revision (`Install complete`, the uninstalled record superseded) and creates
/// the objects. chartup planned from the last failed/superseded revision before the uninstall —
/// objects that were all deleted — saw no change, created nothing and recorded `Upgrade complete`,
/// deployed, over an empty namespace.
#[tokio::test(flavor = "multi_thread")]
async fn an_apply_after_uninstall_keep_history_installs_again() -> anyhow::Result<()> {
    let c = cluster();
    let tmp = tempfile::tempdir()?;
    let chart = app_chart(tmp.path())?;
    let rows = |h: Vec<serde_json::Value>| -> Vec<(u64, String, String)> {
        h.iter()
            .map(|r| {
                (
                    r["revision"].as_u64().unwrap_or(0),
                    r["status"].as_str().unwrap_or("").to_string(),
                    r["description"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    };
    // The oracle.
    let theirs = c.fresh_namespace("af-keep-helm").await?;
    testkit::run_helm(c, &["install", "a", &chart, "-n", &theirs.name, "--server-side=false"])?;
    testkit::run_helm(
        c,
        &[
            "upgrade",
            "a",
            &chart,
            "-n",
            &theirs.name,
            "--server-side=false",
            "--set",
            "dbUnready=false",
        ],
    )?;
    testkit::run_helm(c, &["uninstall", "a", "-n", &theirs.name, "--keep-history"])?;
    testkit::run_helm(
        c,
        &[
            "upgrade",
            "--install",
            "a",
            &chart,
            "-n",
            &theirs.name,
            "--server-side=false",
        ],
    )?;
    let want = rows(helm_history(c, &testkit::helm()?, &theirs.name, "a")?);

    let ns = c.fresh_namespace("af-keep").await?;
    chartup_ok(c, &["apply", "a", &chart, "-n", &ns.name, "--yes", "--timeout", "90s"]).await?;
    chartup_ok(
        c,
        &[
            "apply",
            "a",
            &chart,
            "-n",
            &ns.name,
            "--yes",
            "--set",
            "dbUnready=false",
            "--timeout",
            "90s",
        ],
    )
    .await?;
    chartup_ok(c, &["uninstall", "a", "-n", &ns.name, "--yes", "--keep-history"]).await?;
    let r = chartup_ok(c, &["apply", "a", &chart, "-n", &ns.name, "--yes", "--timeout", "90s"]).await?;
    let deps: Api<Deployment> = Api::namespaced(c.client().await?, &ns.name);
    let d = deps.get_opt("a-web").await?;
    ensure!(
        d.as_ref()
            .and_then(|d| d.status.as_ref())
            .and_then(|s| s.available_replicas)
            == Some(2),
        "the reinstall created no available Deployment ({:?}):\n{}",
        d.map(|d| d.status),
        r.stdout
    );
    let sets: Api<StatefulSet> = Api::namespaced(c.client().await?, &ns.name);
    ensure!(
        sets.get_opt("a-db").await?.is_some(),
        "no StatefulSet after the reinstall"
    );
    let got = rows(helm_history(c, &testkit::helm()?, &ns.name, "a")?);
    ensure!(got == want, "helm history after chartup: {got:?}\nafter helm: {want:?}");
    Ok(())
}

/// `chartup rollback` of a release uninstalled with `--keep-history`: helm 4's rollback brings
/// every object of the target back. chartup planned from the uninstalled record's manifest — as
/// if its objects were still there — so only what differed from the target was applied: the
/// StatefulSet, Service and ConfigMap stayed missing under a `deployed` record.
#[tokio::test(flavor = "multi_thread")]
async fn a_rollback_after_uninstall_keep_history_restores_every_object() -> anyhow::Result<()> {
    let c = cluster();
    let tmp = tempfile::tempdir()?;
    let chart = app_chart(tmp.path())?;
    let present = |ns: String| async move { app_objects(c, &ns).await };
    let theirs = c.fresh_namespace("af-unrb-helm").await?;
    testkit::run_helm(c, &["install", "a", &chart, "-n", &theirs.name, "--server-side=false"])?;
    testkit::run_helm(
        c,
        &[
            "upgrade",
            "a",
            &chart,
            "-n",
            &theirs.name,
            "--server-side=false",
            "--set",
            "image=nginx:1.26",
        ],
    )?;
    testkit::run_helm(c, &["uninstall", "a", "-n", &theirs.name, "--keep-history"])?;
    testkit::run_helm(c, &["rollback", "a", "1", "-n", &theirs.name])?;
    let want = present(theirs.name.clone()).await?;
    ensure!(want.len() == 4, "helm restored {want:?}");

    let ns = c.fresh_namespace("af-unrb").await?;
    chartup_ok(c, &["apply", "a", &chart, "-n", &ns.name, "--yes", "--timeout", "90s"]).await?;
    chartup_ok(
        c,
        &[
            "apply",
            "a",
            &chart,
            "-n",
            &ns.name,
            "--yes",
            "--set",
            "image=nginx:1.26",
            "--timeout",
            "90s",
        ],
    )
    .await?;
    chartup_ok(c, &["uninstall", "a", "-n", &ns.name, "--yes", "--keep-history"]).await?;
    let r = chartup_ok(c, &["rollback", "a", "1", "-n", &ns.name, "--timeout", "90s"]).await?;
    let got = present(ns.name.clone()).await?;
    ensure!(got == want, "chartup restored {got:?}, helm {want:?}:\n{}", r.stdout);
    ensure!(
        statuses(&helm_history(c, &testkit::helm()?, &ns.name, "a")?)
            == statuses(&helm_history(c, &testkit::helm()?, &theirs.name, "a")?),
        "the histories differ"
    );
    let sets: Api<StatefulSet> = Api::namespaced(c.client().await?, &ns.name);
    let ready = sets.get("a-db").await?.status.and_then(|s| s.ready_replicas);
    ensure!(ready == Some(3), "a-db ready {ready:?}");
    Ok(())
}

/// Someone deleted objects of the release by hand (`kubectl delete deployment`, a cleanup
/// script). helm 4's next upgrade creates them again. chartup's plan noted them as live drift
/// ("missing from the cluster") but, the chart being unchanged for them, apply skipped them and
/// recorded `deployed` with the Deployment and the ConfigMap still gone.
#[tokio::test(flavor = "multi_thread")]
async fn an_apply_creates_the_objects_deleted_by_hand() -> anyhow::Result<()> {
    use testkit::kube::api::DeleteParams;
    let c = cluster();
    let tmp = tempfile::tempdir()?;
    let chart = app_chart(tmp.path())?;
    let delete_by_hand = |ns: String| async move {
        let client = c.client().await?;
        Api::<Deployment>::namespaced(client.clone(), &ns)
            .delete("a-web", &DeleteParams::default())
            .await?;
        Api::<ConfigMap>::namespaced(client.clone(), &ns)
            .delete("a-cfg", &DeleteParams::default())
            .await?;
        testkit::wait_deleted(&Api::<Deployment>::namespaced(client, &ns), "a-web", WAIT).await
    };
    let theirs = c.fresh_namespace("af-miss-helm").await?;
    testkit::run_helm(c, &["install", "a", &chart, "-n", &theirs.name, "--server-side=false"])?;
    delete_by_hand(theirs.name.clone()).await?;
    testkit::run_helm(
        c,
        &[
            "upgrade",
            "a",
            &chart,
            "-n",
            &theirs.name,
            "--server-side=false",
            "--set",
            "dbImage=postgres:16.3",
        ],
    )?;
    let client = c.client().await?;
    ensure!(
        Api::<Deployment>::namespaced(client.clone(), &theirs.name)
            .get_opt("a-web")
            .await?
            .is_some()
            && Api::<ConfigMap>::namespaced(client.clone(), &theirs.name)
                .get_opt("a-cfg")
                .await?
                .is_some(),
        "helm did not create them again"
    );

    let ns = c.fresh_namespace("af-miss").await?;
    chartup_ok(c, &["apply", "a", &chart, "-n", &ns.name, "--yes", "--timeout", "90s"]).await?;
    delete_by_hand(ns.name.clone()).await?;
    let r = chartup_ok(
        c,
        &[
            "apply",
            "a",
            &chart,
            "-n",
            &ns.name,
            "--yes",
            "--set",
            "dbImage=postgres:16.3",
            "--timeout",
            "90s",
        ],
    )
    .await?;
    let d = Api::<Deployment>::namespaced(client.clone(), &ns.name)
        .get_opt("a-web")
        .await?;
    ensure!(
        d.as_ref()
            .and_then(|d| d.status.as_ref())
            .and_then(|s| s.available_replicas)
            == Some(2),
        "the Deployment deleted by hand was not created again and available: {:?}\n{}\n{}",
        d.map(|d| d.status),
        r.stdout,
        r.stderr
    );
    ensure!(
        Api::<ConfigMap>::namespaced(client, &ns.name)
            .get_opt("a-cfg")
            .await?
            .is_some(),
        "the ConfigMap deleted by hand was not created again"
    );
    Ok(())
}

/// `recover` of a release that does not exist said `is not locked: nothing to recover`, as if
/// it existed; every other command words a missing release one way, helm's first
/// (`helmuser_ops::one_message_for_a_missing_release_and_the_plan_before_a_refusal`).
#[tokio::test(flavor = "multi_thread")]
async fn recover_words_a_missing_release_as_every_command_does() -> anyhow::Result<()> {
    let c = cluster();
    let ns = c.fresh_namespace("af-nope").await?;
    let status = chartup(c, &["status", "nope", "-n", &ns.name]).await?;
    let r = chartup(c, &["recover", "nope", "-n", &ns.name]).await?;
    ensure!(!status.ok && !r.ok);
    ensure!(
        r.stderr == status.stderr,
        "recover: {}status: {}",
        r.stderr,
        status.stderr
    );
    Ok(())
}

/// `--atomic` on an upgrade that turns a Deployment into a StatefulSet with a broken image: the
/// rollback turns it back into the Deployment, whose new pods are Ready. The rollback deleted the
/// StatefulSet without waiting for its pods, so the Deployment's health gate, selecting by the
/// same labels, met the dying StatefulSet pod in ErrImagePull and failed the rollback
/// (`RollbackFailed`, exit 4) although the release was back where it was.
#[tokio::test(flavor = "multi_thread")]
async fn atomic_rolls_back_a_failed_kind_change() -> anyhow::Result<()> {
    let c = cluster();
    let tmp = tempfile::tempdir()?;
    let ns = c.fresh_namespace("af-kind").await?;
    let chart = app_chart(tmp.path())?;
    chartup_ok(c, &["apply", "a", &chart, "-n", &ns.name, "--yes", "--timeout", "90s"]).await?;
    let bad = format!("image={BROKEN}");
    let r = chartup(
        c,
        &[
            "apply",
            "a",
            &chart,
            "-n",
            &ns.name,
            "--yes",
            "--atomic",
            "--set",
            "webKind=StatefulSet",
            "--set",
            &bad,
            "--timeout",
            "60s",
        ],
    )
    .await?;
    ensure!(
        r.code == Some(1) && r.stderr.contains("rolled back (--atomic)"),
        "exit {:?}:\n{}",
        r.code,
        r.stderr
    );
    ensure!(
        agreed_statuses(c, &ns.name, "a").await?
            == vec![(1, "superseded".into()), (2, "failed".into()), (3, "deployed".into())],
        "after the atomic rollback"
    );
    let client = c.client().await?;
    ensure!(
        Api::<StatefulSet>::namespaced(client.clone(), &ns.name)
            .get_opt("a-web")
            .await?
            .is_none(),
        "the StatefulSet of the failed revision stayed"
    );
    let d = Api::<Deployment>::namespaced(client, &ns.name).get("a-web").await?;
    ensure!(
        d.status.as_ref().and_then(|s| s.available_replicas) == Some(2),
        "a-web not available: {:?}",
        d.status
    );
    Ok(())
}
