//! End-to-end tests of recovery where upgrades really fail (issue #12), on the real control plane
//! of the test cluster (docs/test-cluster.md): a RollingUpdate StatefulSet whose upgrade broke on
//! an image nodesim cannot pull (not in crates/nodesim/images.txt → ErrImagePull, then
//! ImagePullBackOff) stays broken after its template is reverted, because the StatefulSet
//! controller never replaces a pod that is not Ready (kubernetes#67250); `rollback`, `--atomic` and
//! a fix-forward apply must each end with every pod Ready on the intended image and every claim
//! (with the marker file written into it) kept, without any kubectl.
//! Every wait is a condition with a deadline.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::ensure;
use serde_json::Value as Json;
use testkit::k8s_openapi::api::apps::v1::StatefulSet;
use testkit::k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use testkit::kube::api::{Api, ListParams};
use testkit::kube::ResourceExt;
use testkit::{cluster, Cluster};

use crate::e2e_support;
use e2e_support::outage::{upgrade_waiting_on_a_hook, OwnCluster, OUTAGE_LOCK};
use e2e_support::*;

pub(crate) const GOOD: &str = "postgres:16";
const FIXED: &str = "postgres:17";
/// Not in nodesim's catalogue: its pull fails.
pub(crate) const BROKEN: &str = "registry.example.invalid/chartup/no-such-image:1";
pub(crate) const WAIT: Duration = Duration::from_secs(120);

/// A chart with one RollingUpdate StatefulSet `db` (3 replicas, OrderedReady, a claim each) whose
/// image is the value `image`.
pub(crate) fn db_chart(dir: &Path) -> anyhow::Result<String> {
    let d = dir.join("db");
    std::fs::create_dir_all(d.join("templates"))?;
    std::fs::write(d.join("Chart.yaml"), "apiVersion: v2\nname: db\nversion: 1.0.0\n")?;
    std::fs::write(d.join("values.yaml"), format!("image: {GOOD}\n"))?;
    std::fs::write(
        d.join("templates/db.yaml"),
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: db\nspec:\n  clusterIP: None\n  selector: {app: db}\n  ports:\n    - port: 5432\n      protocol: TCP\n---\n\
         apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\nspec:\n  serviceName: db\n  replicas: 3\n  \
         updateStrategy: {type: RollingUpdate}\n  selector:\n    matchLabels: {app: db}\n  template:\n    metadata:\n      labels:\n        app: db\n        \
         app.kubernetes.io/instance: {{ .Release.Name }}\n    spec:\n      containers:\n        - name: db\n          image: {{ .Values.image }}\n          \
         volumeMounts: [{name: data, mountPath: /data}]\n  volumeClaimTemplates:\n    - metadata: {name: data}\n      spec:\n        \
         accessModes: [ReadWriteOnce]\n        resources: {requests: {storage: 1Gi}}\n",
    )?;
    Ok(d.display().to_string())
}

/// Install `db` on the good image, mark each claim's directory, then upgrade to the broken image,
/// which fails fast on db-2's ImagePullBackOff. Returns the claims' uids and directories.
pub(crate) async fn broken_upgrade(
    c: &Cluster,
    ns: &str,
    chart: &str,
    extra: &[&str],
) -> anyhow::Result<(Vec<(String, PathBuf)>, Run)> {
    let img = |i: &str| format!("image={i}");
    chartup_ok(
        c,
        &[
            "apply",
            "db",
            chart,
            "-n",
            ns,
            "--yes",
            "--set",
            &img(GOOD),
            "--timeout",
            "90s",
        ],
    )
    .await?;
    let client = c.client().await?;
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), ns);
    let mut marked = Vec::new();
    for i in 0..3 {
        let name = format!("data-db-{i}");
        let dir = c.claim_dir(&client, ns, &name, WAIT).await?;
        testkit::write_marker(&dir, "before", &name)?;
        marked.push((claims.get(&name).await?.uid().unwrap_or_default(), dir));
    }
    let set = img(BROKEN);
    let mut args = vec![
        "apply",
        "db",
        chart,
        "-n",
        ns,
        "--yes",
        "--set",
        set.as_str(),
        "--timeout",
        "40s",
    ];
    args.extend_from_slice(extra);
    let r = chartup(c, &args).await?;
    ensure!(!r.ok, "the broken upgrade succeeded?\n{}\n{}", r.stdout, r.stderr);
    ensure!(r.stderr.contains("db-2") && r.stderr.contains("Err"), "{}", r.stderr);
    Ok((marked, r))
}

/// Every pod of `db` Ready on `image`, the set rolled out, and the claims those of before with
/// their marker files.
pub(crate) async fn all_ready_on(
    c: &Cluster,
    ns: &str,
    image: &str,
    claims: &[(String, PathBuf)],
) -> anyhow::Result<()> {
    let client = c.client().await?;
    let sets: Api<StatefulSet> = Api::namespaced(client.clone(), ns);
    let set = sets.get("db").await?;
    let st = set.status.clone().unwrap_or_default();
    ensure!(
        st.ready_replicas == Some(3) && st.updated_replicas == Some(3) && st.current_revision == st.update_revision,
        "db not rolled out: {st:?}"
    );
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let list = pods.list(&ListParams::default().labels("app=db")).await?;
    ensure!(list.items.len() == 3, "{} pods", list.items.len());
    for p in &list.items {
        let ready = p
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
        let img = p
            .spec
            .as_ref()
            .map(|s| s.containers[0].image.clone().unwrap_or_default());
        ensure!(ready, "pod {} not Ready: {:?}", p.name_any(), p.status);
        ensure!(
            img.as_deref() == Some(image),
            "pod {} runs {img:?}, not {image}",
            p.name_any()
        );
    }
    let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(client, ns);
    for (i, (uid, dir)) in claims.iter().enumerate() {
        let name = format!("data-db-{i}");
        ensure!(
            pvcs.get(&name).await?.uid().as_deref() == Some(uid.as_str()),
            "claim {name} was replaced"
        );
        ensure!(
            testkit::read_marker(dir, "before").as_deref() == Some(name.as_str()),
            "marker of {name} lost"
        );
    }
    Ok(())
}

fn replaced_stuck(r: &Run) -> bool {
    r.stdout.contains("db-2") && r.stdout.contains("stuck")
}

/// The headline: `chartup rollback` after a failed RollingUpdate upgrade replaces the stuck pod
/// and ends with every pod Ready on the old image, every claim kept.
#[tokio::test(flavor = "multi_thread")]
async fn rollback_replaces_the_stuck_statefulset_pod() -> anyhow::Result<()> {
    let c = cluster();
    let tmp = tempfile::tempdir()?;
    let ns = c.fresh_namespace("rec-rollback").await?;
    let chart = db_chart(tmp.path())?;
    let (claims, _) = broken_upgrade(c, &ns.name, &chart, &[]).await?;
    let r = chartup(c, &["rollback", "db", "-n", &ns.name, "--timeout", "90s"]).await?;
    ensure!(r.ok, "rollback failed:\n{}\n{}", r.stdout, r.stderr);
    ensure!(
        replaced_stuck(&r),
        "progress does not say the stuck pod was replaced:\n{}",
        r.stdout
    );
    all_ready_on(c, &ns.name, GOOD, &claims).await?;
    let h = chartup_history(c, &ns.name, "db").await?;
    assert_eq!(statuses(&h).last(), Some(&(3, "deployed".into())), "{h:?}");
    Ok(())
}

/// `apply --atomic` with the broken image rolls back by itself, replacing the stuck pod.
#[tokio::test(flavor = "multi_thread")]
async fn atomic_rolls_back_through_the_stuck_pod() -> anyhow::Result<()> {
    let c = cluster();
    let tmp = tempfile::tempdir()?;
    let ns = c.fresh_namespace("rec-atomic").await?;
    let chart = db_chart(tmp.path())?;
    let (claims, r) = broken_upgrade(c, &ns.name, &chart, &["--atomic"]).await?;
    ensure!(r.code == Some(1), "exit {:?}:\n{}\n{}", r.code, r.stdout, r.stderr);
    ensure!(r.stderr.contains("rolled back (--atomic)"), "{}", r.stderr);
    ensure!(replaced_stuck(&r), "{}", r.stdout);
    all_ready_on(c, &ns.name, GOOD, &claims).await?;
    let h = chartup_history(c, &ns.name, "db").await?;
    assert_eq!(
        statuses(&h),
        vec![(1, "superseded".into()), (2, "failed".into()), (3, "deployed".into())]
    );
    Ok(())
}

/// A fix-forward apply (a good new image) after the failed upgrade replaces the stuck pod first,
/// then rolls everything to the new image.
#[tokio::test(flavor = "multi_thread")]
async fn fix_forward_apply_replaces_the_stuck_pod() -> anyhow::Result<()> {
    let c = cluster();
    let tmp = tempfile::tempdir()?;
    let ns = c.fresh_namespace("rec-fixfwd").await?;
    let chart = db_chart(tmp.path())?;
    let (claims, _) = broken_upgrade(c, &ns.name, &chart, &[]).await?;
    let set = format!("image={FIXED}");
    let r = chartup(
        c,
        &[
            "apply",
            "db",
            &chart,
            "-n",
            &ns.name,
            "--yes",
            // postgres 16 → 17 with no matrix is at risk (issue 17); accepted here.
            "--accept-risk",
            "--set",
            &set,
            "--timeout",
            "90s",
        ],
    )
    .await?;
    ensure!(r.ok, "fix-forward failed:\n{}\n{}", r.stdout, r.stderr);
    ensure!(replaced_stuck(&r), "{}", r.stdout);
    all_ready_on(c, &ns.name, FIXED, &claims).await?;
    let _ = Json::Null;
    Ok(())
}

/// A chart `name` of one template file.
pub(crate) fn one_file_chart(dir: &Path, name: &str, version: &str, yaml: &str) -> anyhow::Result<String> {
    let d = dir.join(format!("{name}-{version}"));
    std::fs::create_dir_all(d.join("templates"))?;
    std::fs::write(
        d.join("Chart.yaml"),
        format!("apiVersion: v2\nname: {name}\nversion: {version}\n"),
    )?;
    std::fs::write(d.join("templates/all.yaml"), yaml)?;
    Ok(d.display().to_string())
}

/// Bind user `nobody` (no rights anywhere) to a Role in `ns` with these rules: a tenant.
pub(crate) async fn bind_tenant(c: &Cluster, ns: &str, rules: Json) -> anyhow::Result<()> {
    use testkit::k8s_openapi::api::rbac::v1::{Role, RoleBinding};
    let client = c.client().await?;
    let roles: Api<Role> = Api::namespaced(client.clone(), ns);
    // What the first rule grants first, to see the grant in effect below.
    let first = |key: &str| rules[0][key][0].as_str().unwrap_or("").to_string();
    let (group, resource, verb) = (first("apiGroups"), first("resources"), first("verbs"));
    testkit::create(
        &roles,
        serde_json::json!({"metadata": {"name": "tenant"}, "rules": rules}),
    )
    .await?;
    let rbs: Api<RoleBinding> = Api::namespaced(client, ns);
    testkit::create(
        &rbs,
        serde_json::json!({"metadata": {"name": "tenant"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "tenant"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "nobody"}]}),
    )
    .await?;
    wait_access(&as_tenant(c), ns, &verb, &group, &resource, true).await
}

/// The cluster as the tenant sees it: the same, with the no-rights user's kubeconfig.
pub(crate) fn as_tenant(c: &Cluster) -> Cluster {
    Cluster {
        kubeconfig: c.kubeconfig_norights.clone(),
        ..c.clone()
    }
}

/// A user with every right in one namespace and none cluster-wide plans, applies, upgrades, sees
/// status and history, and rolls back; the plan says why reclaim policies are unknown (the
/// StorageClasses are cluster-scoped).
#[tokio::test(flavor = "multi_thread")]
async fn a_namespace_tenant_plans_applies_and_rolls_back() -> anyhow::Result<()> {
    let c = cluster();
    let tmp = tempfile::tempdir()?;
    let ns = c.fresh_namespace("rec-tenant").await?;
    bind_tenant(
        c,
        &ns.name,
        serde_json::json!([{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]),
    )
    .await?;
    let t = as_tenant(c);
    let chart = db_chart(tmp.path())?;
    let n = ns.name.as_str();
    chartup_ok(&t, &["apply", "db", &chart, "-n", n, "--yes", "--timeout", "90s"]).await?;
    let plan = chartup_ok(&t, &["plan", "db", &chart, "-n", n, "--set", &format!("image={FIXED}")]).await?;
    ensure!(
        plan.stdout.contains("cannot read the cluster's StorageClasses")
            && plan.stdout.contains("cannot list resource \"storageclasses\""),
        "{}",
        plan.stdout
    );
    chartup_ok(
        &t,
        &[
            "apply",
            "db",
            &chart,
            "-n",
            n,
            "--yes",
            "--accept-risk",
            "--set",
            &format!("image={FIXED}"),
            "--timeout",
            "90s",
        ],
    )
    .await?;
    chartup_ok(&t, &["status", "db", "-n", n]).await?;
    chartup_ok(&t, &["history", "db", "-n", n]).await?;
    chartup_ok(&t, &["rollback", "db", "-n", n, "--timeout", "90s"]).await?;
    let h = chartup_history(&t, n, "db").await?;
    assert_eq!(statuses(&h).last(), Some(&(3, "deployed".into())));
    // A cluster-scoped object of the chart the tenant may not create: named before any write.
    let cr = one_file_chart(
        tmp.path(),
        "cr",
        "1.0.0",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cr\n---\napiVersion: rbac.authorization.k8s.io/v1\n\
         kind: ClusterRole\nmetadata:\n  name: rec-tenant-reader\nrules: []\n",
    )?;
    let r = chartup(&t, &["apply", "cr", &cr, "-n", n, "--yes"]).await?;
    ensure!(!r.ok, "{}", r.stdout);
    ensure!(
        r.stderr.contains("ClusterRole") && r.stderr.contains("rec-tenant-reader") && r.stderr.contains("forbidden"),
        "{}",
        r.stderr
    );
    ensure!(
        chartup_history(c, n, "cr").await.map(|h| h.is_empty()).unwrap_or(true),
        "a record was written"
    );
    let cms: Api<testkit::k8s_openapi::api::core::v1::ConfigMap> = Api::namespaced(c.client().await?, n);
    ensure!(cms.get_opt("cr").await?.is_none(), "the ConfigMap was written");
    Ok(())
}

/// Without `delete pods`, an upgrade of an OnDelete StatefulSet (which chartup updates by deleting
/// its pods) is refused by the preflight before any write; a workload mounting a claim that
/// neither exists nor comes with the release is refused too.
#[tokio::test(flavor = "multi_thread")]
async fn preflight_checks_pod_rights_and_outside_claims_before_any_write() -> anyhow::Result<()> {
    let c = cluster();
    let tmp = tempfile::tempdir()?;
    let ns = c.fresh_namespace("rec-preflight").await?;
    let n = ns.name.as_str();
    bind_tenant(
        c,
        n,
        serde_json::json!([
            {"apiGroups": ["", "apps"], "resources": ["secrets", "configmaps", "services", "persistentvolumeclaims",
                "statefulsets", "deployments"], "verbs": ["*"]},
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}
        ]),
    )
    .await?;
    let set = |image: &str| {
        format!(
            "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: q\nspec:\n  serviceName: q\n  replicas: 2\n  \
             updateStrategy: {{type: OnDelete}}\n  selector:\n    matchLabels: {{app: q}}\n  template:\n    metadata:\n      \
             labels: {{app: q}}\n    spec:\n      containers:\n        - name: q\n          image: {image}\n"
        )
    };
    let v1 = one_file_chart(tmp.path(), "q", "1.0.0", &set("redis:6"))?;
    let v2 = one_file_chart(tmp.path(), "q", "2.0.0", &set("redis:7"))?;
    chartup_ok(c, &["apply", "q", &v1, "-n", n, "--yes", "--timeout", "90s"]).await?;
    let t = as_tenant(c);
    let r = chartup(&t, &["apply", "q", &v2, "-n", n, "--yes", "--timeout", "60s"]).await?;
    ensure!(!r.ok, "{}", r.stdout);
    ensure!(
        r.stderr.contains("you may not delete pods in namespace") && r.stderr.contains("OnDelete"),
        "{}",
        r.stderr
    );
    let client = c.client().await?;
    let sets: Api<StatefulSet> = Api::namespaced(client.clone(), n);
    let live = sets.get("q").await?;
    let image = live
        .spec
        .and_then(|s| s.template.spec)
        .map(|s| s.containers[0].image.clone());
    assert_eq!(image, Some(Some("redis:6".to_string())), "the set was changed");
    let h = chartup_history(c, n, "q").await?;
    assert_eq!(statuses(&h), vec![(1, "deployed".into())]);

    let mounts = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: m\nspec:\n  replicas: 1\n  selector:\n    \
                  matchLabels: {app: m}\n  template:\n    metadata:\n      labels: {app: m}\n    spec:\n      containers:\n        \
                  - name: m\n          image: redis:7\n      volumes:\n        - name: data\n          \
                  persistentVolumeClaim: {claimName: not-there}\n";
    let m = one_file_chart(tmp.path(), "m", "1.0.0", mounts)?;
    let r = chartup(c, &["apply", "m", &m, "-n", n, "--yes", "--timeout", "60s"]).await?;
    ensure!(!r.ok, "{}", r.stdout);
    ensure!(
        r.stderr
            .contains("mounts claim not-there, which does not exist in namespace"),
        "{}",
        r.stderr
    );
    ensure!(
        chartup_history(c, n, "m").await.map(|h| h.is_empty()).unwrap_or(true),
        "a record was written"
    );
    Ok(())
}

/// A Deployment `web` (2 replicas); `unready` makes its pods run but never become Ready.
pub(crate) fn web(dir: &Path, version: &str, unready: bool) -> anyhow::Result<String> {
    let marker = if unready {
        "      annotations: {nodesim.chartup.io/unready: \"true\"}\n"
    } else {
        ""
    };
    one_file_chart(
        dir,
        "web",
        version,
        &format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n  selector:\n    \
             matchLabels: {{app: web}}\n  template:\n    metadata:\n      labels: {{app: web, app.kubernetes.io/instance: web}}\n{marker}    \
             spec:\n      containers:\n        - name: web\n          image: nginx:{version}\n"
        ),
    )
}

pub(crate) async fn status_json(c: &Cluster, ns: &str) -> anyhow::Result<Json> {
    let s = chartup_ok(c, &["status", "web", "-n", ns, "-o", "json"]).await?;
    Ok(serde_json::from_str(&s.stdout)?)
}

pub(crate) fn condition(s: &Json, kind: &str) -> Json {
    s["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == kind).cloned())
        .unwrap_or(Json::Null)
}

/// Start `apply web <unready v2>` and wait until the upgrade is under way (status: Upgrading).
pub(crate) async fn hanging_upgrade(
    c: &Cluster,
    ns: &str,
    dir: &Path,
    extra: &[&str],
) -> anyhow::Result<tokio::process::Child> {
    let v1 = web(dir, "1.25", false)?;
    chartup_ok(c, &["apply", "web", &v1, "-n", ns, "--yes", "--timeout", "60s"]).await?;
    let v2 = web(dir, "1.26", true)?;
    let mut args = vec!["apply", "web", v2.as_str(), "-n", ns, "--yes", "--timeout", "150s"];
    args.extend_from_slice(extra);
    let child = chartup_cmd(c, &args)?.spawn()?;
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let s = status_json(c, ns).await?;
        if condition(&s, "Upgrading")["status"] == "True"
            && s["members"]["unready"].to_string().contains("ContainersNotReady")
        {
            return Ok(child);
        }
        ensure!(
            std::time::Instant::now() < deadline,
            "the upgrade never got under way: {s:#}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

pub(crate) fn signal(child: &tokio::process::Child, sig: &str) -> anyhow::Result<()> {
    let pid = child.id().ok_or_else(|| anyhow::anyhow!("chartup already exited"))?;
    let st = std::process::Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()?;
    ensure!(st.success(), "kill {sig} {pid} failed");
    Ok(())
}

/// `recover` refuses the lock of a run that is alive (same host: its pid with its start time),
/// naming the holder and since when; SIGINT then stops the run at a safe point: the revision is
/// marked failed with a clear description, the lock is released, the exit status is 130.
#[tokio::test(flavor = "multi_thread")]
async fn recover_refuses_a_live_run_and_sigint_fails_the_revision() -> anyhow::Result<()> {
    let c = cluster();
    let tmp = tempfile::tempdir()?;
    let ns = c.fresh_namespace("rec-sigint").await?;
    let child = hanging_upgrade(c, &ns.name, tmp.path(), &[]).await?;
    let s = status_json(c, &ns.name).await?;
    let up = condition(&s, "Upgrading");
    ensure!(
        up["reason"] == "Running" && up["message"].to_string().contains("pid"),
        "{s:#}"
    );
    let r = chartup(c, &["recover", "web", "-n", &ns.name]).await?;
    ensure!(!r.ok, "recover released a live run's lock:\n{}", r.stdout);
    ensure!(
        r.stderr.contains("still alive")
            && r.stderr.contains(&format!("pid {}", child.id().unwrap_or(0)))
            && r.stderr.contains("since"),
        "{}",
        r.stderr
    );
    signal(&child, "-INT")?;
    let out = tokio::time::timeout(RUN, child.wait_with_output()).await??;
    let stderr = String::from_utf8_lossy(&out.stderr);
    ensure!(out.status.code() == Some(130), "exit {:?}: {stderr}", out.status.code());
    let h = chartup_history(c, &ns.name, "web").await?;
    ensure!(
        statuses(&h) == vec![(1, "deployed".into()), (2, "failed".into())],
        "{h:?}"
    );
    ensure!(
        h[1]["description"].to_string().contains("interrupted by SIGINT"),
        "{h:?}"
    );
    let s = status_json(c, &ns.name).await?;
    ensure!(condition(&s, "Upgrading").is_null(), "still locked: {s:#}");
    Ok(())
}

/// With `--atomic`, SIGTERM stops the run, marks it failed and rolls back; exit status 143.
#[tokio::test(flavor = "multi_thread")]
async fn sigterm_with_atomic_rolls_back() -> anyhow::Result<()> {
    let c = cluster();
    let tmp = tempfile::tempdir()?;
    let ns = c.fresh_namespace("rec-sigterm").await?;
    let child = hanging_upgrade(c, &ns.name, tmp.path(), &["--atomic"]).await?;
    signal(&child, "-TERM")?;
    let out = tokio::time::timeout(RUN, child.wait_with_output()).await??;
    let stderr = String::from_utf8_lossy(&out.stderr);
    ensure!(out.status.code() == Some(143), "exit {:?}: {stderr}", out.status.code());
    ensure!(stderr.contains("rolled back (--atomic)"), "{stderr}");
    let h = chartup_history(c, &ns.name, "web").await?;
    ensure!(
        statuses(&h) == vec![(1, "superseded".into()), (2, "failed".into()), (3, "deployed".into())],
        "{h:?}"
    );
    ensure!(
        h[1]["description"].to_string().contains("interrupted by SIGTERM"),
        "{h:?}"
    );
    Ok(())
}

/// A run killed outright (SIGKILL) leaves its lock: `status` calls it stale and points at
/// `recover`, which then releases it without `--force`.
#[tokio::test(flavor = "multi_thread")]
async fn a_dead_runs_lock_is_shown_stale_and_recovered() -> anyhow::Result<()> {
    let c = cluster();
    let tmp = tempfile::tempdir()?;
    let ns = c.fresh_namespace("rec-stale").await?;
    let mut child = hanging_upgrade(c, &ns.name, tmp.path(), &[]).await?;
    signal(&child, "-KILL")?;
    child.wait().await?;
    let s = status_json(c, &ns.name).await?;
    let up = condition(&s, "Upgrading");
    ensure!(
        up["status"] == "Unknown"
            && up["reason"] == "StaleLock"
            && up["message"].to_string().contains("chartup recover web"),
        "{s:#}"
    );
    let table = chartup_ok(c, &["status", "web", "-n", &ns.name]).await?;
    ensure!(
        table.stdout.contains("Upgrading=Unknown (StaleLock)") && table.stdout.contains("is gone"),
        "{}",
        table.stdout
    );
    chartup_ok(c, &["recover", "web", "-n", &ns.name]).await?;
    let h = chartup_history(c, &ns.name, "web").await?;
    ensure!(statuses(&h).last() == Some(&(2, "failed".into())), "{h:?}");
    Ok(())
}

/// The API server goes away for 20 s while an upgrade waits for its post-upgrade hook: chartup
/// retries instead of exiting, and the upgrade finishes deployed once the server is back.
#[tokio::test(flavor = "multi_thread")]
async fn an_api_outage_mid_apply_is_ridden_out() -> anyhow::Result<()> {
    let _one_at_a_time = OUTAGE_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let own = OwnCluster::up()?;
    let c = &own.c;
    let tmp = tempfile::tempdir()?;
    let ns = c.fresh_namespace("rec-outage").await?;
    let v1 = web(tmp.path(), "1.25", false)?;
    let v2 = web(tmp.path(), "1.26", false)?;
    // Under way: the hook Job exists.
    let (child, _) = upgrade_waiting_on_a_hook(c, &ns.name, &v1, &v2, "150s").await?;
    own.apiserver("stop")?;
    // The outage itself, not a wait for a condition: 20 s without an API server.
    tokio::time::sleep(Duration::from_secs(20)).await;
    own.apiserver("start")?;
    let out = tokio::time::timeout(RUN, child.wait_with_output()).await??;
    let stderr = String::from_utf8_lossy(&out.stderr);
    ensure!(
        out.status.success(),
        "the apply did not ride out the outage ({:?}):\n{stderr}",
        out.status.code()
    );
    let h = chartup_history(c, &ns.name, "web").await?;
    ensure!(
        statuses(&h) == vec![(1, "superseded".into()), (2, "deployed".into())],
        "{h:?}"
    );
    Ok(())
}
