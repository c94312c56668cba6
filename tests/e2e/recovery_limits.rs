//! End-to-end tests of issue #12's limits, on the real control plane: how long a run rides out an
//! API outage (its step's timeout, then a bounded attempt to mark the revision failed), the lock's
//! Lease (held, renewed, released; read by `status` and `recover`), and a namespace tenant's
//! cluster-scoped reads (PersistentVolumes, StorageClasses) degrading with the real cause named.
//! Tenants are the no-rights user bound to a Role in a fresh namespace (as scripts/test-cluster.sh
//! binds its `tenant`), so tests running in parallel do not share a namespace. Every wait is a
//! condition with a deadline; the outage itself is the only timed pause, on the test's own cluster
//! instance (never the shared one).

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::ensure;
use testkit::k8s_openapi::api::coordination::v1::Lease;
use testkit::k8s_openapi::api::core::v1::PersistentVolumeClaim;
use testkit::kube::api::Api;
use testkit::{cluster, Cluster};

use crate::e2e_support::*;
use crate::recovery::{
    as_tenant, bind_tenant, condition, hanging_upgrade, one_file_chart, signal, status_json, web, OwnCluster,
    OUTAGE_LOCK, WAIT,
};

fn all_rights() -> serde_json::Value {
    serde_json::json!([{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}])
}

async fn lease(c: &Cluster, ns: &str, release: &str) -> anyhow::Result<Option<Lease>> {
    let api: Api<Lease> = Api::namespaced(c.client().await?, ns);
    Ok(api.get_opt(&format!("chartup.{release}")).await?)
}

fn holder_identity(l: &Lease) -> String {
    l.spec
        .as_ref()
        .and_then(|s| s.holder_identity.clone())
        .unwrap_or_default()
}

fn renew_time(l: &Lease) -> String {
    l.spec
        .as_ref()
        .and_then(|s| s.renew_time.as_ref())
        .map(|t| format!("{:?}", t.0))
        .unwrap_or_default()
}

/// The API server stays away longer than the step's timeout: chartup retries until the step's
/// deadline (not a minute per request), then tries for a bounded time to mark the revision
/// failed, and since it cannot, says the release stays locked and names `chartup recover`. Once
/// the server is back, `status` calls the lock stale and `recover` releases it and the Lease.
#[tokio::test(flavor = "multi_thread")]
async fn an_outage_longer_than_the_step_ends_at_its_deadline_and_names_recover() -> anyhow::Result<()> {
    let _one_at_a_time = OUTAGE_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let own = OwnCluster::up()?;
    let c = &own.c;
    let tmp = tempfile::tempdir()?;
    let ns = c.fresh_namespace("rec-deadline").await?;
    let v1 = web(tmp.path(), "1.25", false)?;
    chartup_ok(c, &["apply", "web", &v1, "-n", &ns.name, "--yes", "--timeout", "60s"]).await?;
    let v2 = web(tmp.path(), "1.26", false)?;
    std::fs::write(
        Path::new(&v2).join("templates/hook.yaml"),
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: slow-hook\n  annotations:\n    helm.sh/hook: post-upgrade\n\
         spec:\n  backoffLimit: 0\n  template:\n    metadata:\n      annotations:\n        nodesim.chartup.io/run-seconds: \"30\"\n    \
         spec:\n      restartPolicy: Never\n      containers:\n        - name: run\n          image: busybox:1.36\n",
    )?;
    let child = chartup_cmd(c, &["apply", "web", &v2, "-n", &ns.name, "--yes", "--timeout", "12s"])?.spawn()?;
    let jobs: Api<testkit::k8s_openapi::api::batch::v1::Job> = Api::namespaced(c.client().await?, &ns.name);
    testkit::wait_for(
        &jobs,
        "slow-hook",
        WAIT,
        "the hook Job",
        |j: Option<&testkit::k8s_openapi::api::batch::v1::Job>| j.is_some(),
    )
    .await?;
    own.apiserver("stop")?;
    let stopped = Instant::now();
    // The server stays down until chartup gives up (bounded: a run that hangs fails the test).
    let out = tokio::time::timeout(Duration::from_secs(150), child.wait_with_output()).await;
    let spent = stopped.elapsed();
    own.apiserver("start")?;
    let out = out??;
    let stderr = String::from_utf8_lossy(&out.stderr);
    ensure!(!out.status.success(), "the apply succeeded without a server:\n{stderr}");
    ensure!(stderr.contains("until the step's deadline"), "{stderr}");
    ensure!(
        stderr.contains("could not be marked failed")
            && stderr.contains(&format!("run `chartup recover web -n {}`", ns.name)),
        "{stderr}"
    );
    // ≤ 12 s of the step left, 30 s to mark it failed, 5 s to release the Lease; retrying each
    // request for a minute (before) took over two.
    ensure!(
        spent >= Duration::from_secs(30) && spent < Duration::from_secs(75),
        "gave up after {spent:?}"
    );
    // Back: the dead run's lock is stale, and `recover` releases it and its Lease.
    let deadline = Instant::now() + WAIT;
    let s = loop {
        match chartup(c, &["status", "web", "-n", &ns.name, "-o", "json"]).await? {
            r if r.ok => break serde_json::from_str::<serde_json::Value>(&r.stdout)?,
            r => ensure!(Instant::now() < deadline, "the server did not come back: {}", r.stderr),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    ensure!(condition(&s, "Upgrading")["reason"] == "StaleLock", "{s:#}");
    let r = chartup_ok(c, &["recover", "web", "-n", &ns.name]).await?;
    ensure!(
        r.stdout.contains(&format!("Lease {}/chartup.web released", ns.name)),
        "{}",
        r.stdout
    );
    let h = chartup_history(c, &ns.name, "web").await?;
    ensure!(
        statuses(&h) == vec![(1, "deployed".into()), (2, "failed".into())],
        "{h:?}"
    );
    Ok(())
}

/// A namespace tenant's run holds a Lease in the release's namespace, naming its process and
/// renewed while it runs; `status` and `recover` (as the tenant) judge the holder alive, then,
/// once it is killed, stale; `recover` releases the record and the Lease; `history` and
/// `rollback` work as the tenant, and the rollback's Lease is released when it ends.
#[tokio::test(flavor = "multi_thread")]
async fn a_tenants_run_holds_a_lease_and_the_tenant_recovers_it() -> anyhow::Result<()> {
    let c = cluster();
    let tmp = tempfile::tempdir()?;
    let ns = c.fresh_namespace("rec-tlease").await?;
    bind_tenant(c, &ns.name, all_rights()).await?;
    let t = as_tenant(c);
    let n = ns.name.as_str();
    let mut child = hanging_upgrade(&t, n, tmp.path(), &[]).await?;
    let pid = child.id().unwrap_or(0);
    let held = lease(c, n, "web")
        .await?
        .ok_or_else(|| anyhow::anyhow!("no Lease chartup.web"))?;
    ensure!(holder_identity(&held).contains(&format!("/{pid}/")), "{:?}", held.spec);
    let first = renew_time(&held);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let now = lease(c, n, "web").await?.map(|l| renew_time(&l)).unwrap_or_default();
        if now != first {
            break;
        }
        ensure!(Instant::now() < deadline, "the Lease was not renewed: {first}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let s = status_json(&t, n).await?;
    ensure!(condition(&s, "Upgrading")["reason"] == "Running", "{s:#}");
    let r = chartup(&t, &["recover", "web", "-n", n]).await?;
    ensure!(!r.ok && r.stderr.contains("still alive"), "{}\n{}", r.stdout, r.stderr);
    signal(&child, "-KILL")?;
    child.wait().await?;
    let s = status_json(&t, n).await?;
    ensure!(condition(&s, "Upgrading")["reason"] == "StaleLock", "{s:#}");
    let r = chartup_ok(&t, &["recover", "web", "-n", n]).await?;
    ensure!(
        r.stdout.contains(&format!("Lease {n}/chartup.web released")),
        "{}",
        r.stdout
    );
    let l = lease(c, n, "web")
        .await?
        .ok_or_else(|| anyhow::anyhow!("the Lease is gone"))?;
    ensure!(holder_identity(&l).is_empty(), "{:?}", l.spec);
    let h = chartup_history(&t, n, "web").await?;
    ensure!(
        statuses(&h) == vec![(1, "deployed".into()), (2, "failed".into())],
        "{h:?}"
    );
    chartup_ok(&t, &["rollback", "web", "-n", n, "--timeout", "90s"]).await?;
    let h = chartup_history(&t, n, "web").await?;
    ensure!(statuses(&h).last() == Some(&(3, "deployed".into())), "{h:?}");
    let l = lease(c, n, "web")
        .await?
        .ok_or_else(|| anyhow::anyhow!("the Lease is gone"))?;
    ensure!(
        holder_identity(&l).is_empty(),
        "released after the rollback: {:?}",
        l.spec
    );
    Ok(())
}

/// A tenant may not read PersistentVolumes or StorageClasses (cluster-scoped). The uninstall plan
/// then says so, naming the server's refusal, and calls the claim's data at risk where an admin's
/// plan, reading the volume, says lost; `--storage-class` supplies the class's policy. A carry
/// of volumes (`--carry-volumes` patches PersistentVolumes) is refused before any write, naming
/// the missing right.
#[tokio::test(flavor = "multi_thread")]
async fn a_tenant_is_told_which_cluster_scoped_reads_it_lacks() -> anyhow::Result<()> {
    let c = cluster();
    let tmp = tempfile::tempdir()?;
    let ns = c.fresh_namespace("rec-tpv").await?;
    bind_tenant(c, &ns.name, all_rights()).await?;
    let t = as_tenant(c);
    let n = ns.name.as_str();
    let vol = one_file_chart(
        tmp.path(),
        "vol",
        "1.0.0",
        "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\nspec:\n  storageClassName: standard\n  \
         accessModes: [ReadWriteOnce]\n  resources:\n    requests:\n      storage: 1Gi\n",
    )?;
    chartup_ok(&t, &["apply", "vol", &vol, "-n", n, "--yes"]).await?;
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(c.client().await?, n);
    testkit::wait_for(
        &claims,
        "data",
        WAIT,
        "the claim bound",
        |p: Option<&PersistentVolumeClaim>| {
            p.and_then(|p| p.status.as_ref()).and_then(|s| s.phase.as_deref()) == Some("Bound")
        },
    )
    .await?;
    // The admin reads the volume: its policy (the standard class's Delete) makes the data lost.
    let admin = chartup_ok(c, &["uninstall", "vol", "-n", n, "--dry-run"]).await?;
    ensure!(admin.stdout.contains("LOST: claim data → pvc-"), "{}", admin.stdout);
    let tenant = chartup_ok(&t, &["uninstall", "vol", "-n", n, "--dry-run"]).await?;
    ensure!(
        tenant.stdout.contains("cannot read the cluster's PersistentVolumes")
            && tenant.stdout.contains("cannot list resource \"persistentvolumes\"")
            && tenant.stdout.contains("cannot read the cluster's StorageClasses")
            && tenant.stdout.contains("AT RISK: claim data"),
        "{}",
        tenant.stdout
    );
    let classed = chartup_ok(
        &t,
        &[
            "uninstall",
            "vol",
            "-n",
            n,
            "--dry-run",
            "--storage-class",
            "standard=Delete",
        ],
    )
    .await?;
    ensure!(classed.stdout.contains("LOST: claim data"), "{}", classed.stdout);

    // --carry-volumes needs PersistentVolumes: refused before any write.
    chartup_ok(&t, &["apply", "ledger", &chart("ledger/1.0.0"), "-n", n, "--yes"]).await?;
    let r = chartup(
        &t,
        &[
            "apply",
            "ledger",
            &chart("ledger/2.0.0"),
            "-n",
            n,
            "--yes",
            "--carry-volumes",
            "--accept-risk",
        ],
    )
    .await?;
    ensure!(!r.ok, "carried without rights:\n{}", r.stdout);
    ensure!(
        r.stderr.contains("PersistentVolumes, which are cluster-scoped") && r.stderr.contains("forbidden"),
        "{}",
        r.stderr
    );
    let h = chartup_history(c, n, "ledger").await?;
    ensure!(statuses(&h) == vec![(1, "deployed".into())], "{h:?}");
    Ok(())
}

/// A Deployment `web` whose image is the value `image`.
fn web_image(dir: &Path) -> anyhow::Result<String> {
    let d = dir.join("webimg");
    std::fs::create_dir_all(d.join("templates"))?;
    std::fs::write(d.join("Chart.yaml"), "apiVersion: v2\nname: web\nversion: 1.0.0\n")?;
    std::fs::write(d.join("values.yaml"), "image: nginx:1.25\n")?;
    std::fs::write(
        d.join("templates/web.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n  selector:\n    \
         matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web, app.kubernetes.io/instance: web}\n    \
         spec:\n      containers:\n        - name: web\n          image: {{ .Values.image }}\n",
    )?;
    Ok(d.display().to_string())
}

/// A Deployment whose upgrade broke (an image nodesim cannot pull) needs no pod surgery: after
/// `rollback` its controller drains the broken ReplicaSet, and every pod ends Ready on the old
/// image, without kubectl.
#[tokio::test(flavor = "multi_thread")]
async fn a_broken_deployment_rolls_back_without_manual_steps() -> anyhow::Result<()> {
    use testkit::k8s_openapi::api::core::v1::Pod;
    let c = cluster();
    let tmp = tempfile::tempdir()?;
    let ns = c.fresh_namespace("rec-deploy").await?;
    let n = ns.name.as_str();
    let chart = web_image(tmp.path())?;
    chartup_ok(c, &["apply", "web", &chart, "-n", n, "--yes", "--timeout", "90s"]).await?;
    let broken = format!("image={}", crate::recovery::BROKEN);
    let r = chartup(
        c,
        &[
            "apply",
            "web",
            &chart,
            "-n",
            n,
            "--yes",
            "--set",
            &broken,
            "--timeout",
            "40s",
        ],
    )
    .await?;
    ensure!(!r.ok && r.stderr.contains("Err"), "{}\n{}", r.stdout, r.stderr);
    chartup_ok(c, &["rollback", "web", "-n", n, "--timeout", "90s"]).await?;
    let pods: Api<Pod> = Api::namespaced(c.client().await?, n);
    let deadline = Instant::now() + WAIT;
    loop {
        let list = pods
            .list(&testkit::kube::api::ListParams::default().labels("app=web"))
            .await?;
        let good = list.items.iter().all(|p| {
            let ready = p
                .status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
            let image = p.spec.as_ref().and_then(|s| s.containers[0].image.clone());
            ready && image.as_deref() == Some("nginx:1.25")
        });
        if good && list.items.len() == 3 {
            break;
        }
        ensure!(
            Instant::now() < deadline,
            "pods after the rollback: {:?}",
            list.items
                .iter()
                .map(|p| (
                    p.metadata.name.clone(),
                    p.spec.as_ref().map(|s| s.containers[0].image.clone())
                ))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let h = chartup_history(c, n, "web").await?;
    ensure!(statuses(&h).last() == Some(&(3, "deployed".into())), "{h:?}");
    Ok(())
}

/// Where the stuck pod cannot be replaced, the rollback says which pod, why and the command. A
/// PodDisruptionBudget (policy/v1beta1 on 1.20, `minAvailable: 3`) refuses the eviction of a
/// crash-looping (Running, not Ready) pod: the rollback fails naming the budget and `kubectl
/// delete pod`, and the pod is left alone. A tenant without `create pods/eviction` is refused by
/// the preflight before any write.
#[tokio::test(flavor = "multi_thread")]
async fn a_stuck_pod_that_cannot_be_evicted_is_named_with_the_command() -> anyhow::Result<()> {
    use testkit::k8s_openapi::api::core::v1::Pod;
    let c = cluster();
    let tmp = tempfile::tempdir()?;
    let ns = c.fresh_namespace("rec-pdb").await?;
    let n = ns.name.as_str();
    let chart = crate::recovery::db_chart(tmp.path())?;
    // The broken revision crashes instead of missing its image: a Pending pod would skip the
    // budget (the eviction API ignores PDBs for Pending pods).
    let tpl = Path::new(&chart).join("templates/db.yaml");
    let text = std::fs::read_to_string(&tpl)?.replace(
        "    metadata:\n      labels:\n",
        "    metadata:\n      {{- if .Values.crash }}\n      annotations: {nodesim.chartup.io/crash: \"true\"}\n      {{- end }}\n      labels:\n",
    );
    ensure!(text.contains(".Values.crash"), "the template changed: {text}");
    std::fs::write(&tpl, text)?;
    std::fs::write(
        Path::new(&chart).join("templates/pdb.yaml"),
        "apiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata:\n  name: db\nspec:\n  minAvailable: 3\n  \
         selector:\n    matchLabels: {app: db}\n",
    )?;
    chartup_ok(c, &["apply", "db", &chart, "-n", n, "--yes", "--timeout", "90s"]).await?;
    let r = chartup(
        c,
        &[
            "apply",
            "db",
            &chart,
            "-n",
            n,
            "--yes",
            "--set",
            "crash=true",
            "--timeout",
            "40s",
        ],
    )
    .await?;
    ensure!(
        !r.ok && r.stderr.contains("db-2") && r.stderr.contains("CrashLoopBackOff"),
        "{}\n{}",
        r.stdout,
        r.stderr
    );
    let pods: Api<Pod> = Api::namespaced(c.client().await?, n);
    let stuck_uid = pods.get("db-2").await?.metadata.uid;

    // A tenant who may do everything but evict: refused before any write.
    bind_tenant(
        c,
        n,
        serde_json::json!([{"apiGroups": ["", "apps", "policy", "coordination.k8s.io"],
            "resources": ["secrets", "configmaps", "services", "persistentvolumeclaims", "statefulsets",
                "controllerrevisions", "pods", "poddisruptionbudgets", "leases"], "verbs": ["*"]}]),
    )
    .await?;
    let t = as_tenant(c);
    let r = chartup(&t, &["rollback", "db", "-n", n, "--timeout", "60s"]).await?;
    ensure!(!r.ok, "{}", r.stdout);
    ensure!(
        r.stderr.contains("you may not create pods/eviction") && r.stderr.contains("not Ready"),
        "{}",
        r.stderr
    );
    let h = chartup_history(c, n, "db").await?;
    ensure!(
        statuses(&h) == vec![(1, "deployed".into()), (2, "failed".into())],
        "{h:?}"
    );

    // With the right, the budget refuses: named, with the command, after retrying.
    let r = chartup(c, &["rollback", "db", "-n", n, "--timeout", "90s"]).await?;
    ensure!(!r.ok, "{}", r.stdout);
    ensure!(
        r.stderr.contains("pod db-2 is stuck")
            && r.stderr.contains("PodDisruptionBudget does not allow evicting it")
            && r.stderr.contains(&format!("kubectl delete pod db-2 -n {n}")),
        "{}",
        r.stderr
    );
    ensure!(
        pods.get("db-2").await?.metadata.uid == stuck_uid,
        "the stuck pod was replaced despite the budget"
    );
    Ok(())
}
