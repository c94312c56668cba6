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

use crate::e2e_support::outage::{upgrade_waiting_on_a_hook, OwnCluster, OUTAGE_LOCK};
use crate::e2e_support::*;
use crate::recovery::{
    as_tenant, bind_tenant, condition, hanging_upgrade, one_file_chart, signal, status_json, web, WAIT,
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
    let v2 = web(tmp.path(), "1.26", false)?;
    // The step's timeout must outlast the wait for the hook Job and the server's stop (seconds on a
    // loaded machine), else the step ends with the server up.
    let (child, started) = upgrade_waiting_on_a_hook(c, &ns.name, &v1, &v2, "20s").await?;
    own.apiserver("stop")?;
    let stopped = Instant::now();
    let window = format!(
        "(the API server was down {:?} after the upgrade started; its step's timeout is 20 s)",
        stopped.saturating_duration_since(started)
    );
    // The server stays down until chartup gives up (bounded: a run that hangs fails the test).
    let out = tokio::time::timeout(Duration::from_secs(150), child.wait_with_output()).await;
    let spent = stopped.elapsed();
    own.apiserver("start")?;
    let out = out??;
    let stderr = String::from_utf8_lossy(&out.stderr);
    ensure!(!out.status.success(), "the apply succeeded without a server:\n{stderr}");
    ensure!(stderr.contains("until the step's deadline"), "{window}\n{stderr}");
    ensure!(
        stderr.contains("could not be marked failed")
            && stderr.contains(&format!("run `chartup recover web -n {}`", ns.name)),
        "{stderr}"
    );
    // ≤ 20 s of the step left, 30 s to mark it failed, 5 s to release the Lease, and slack for a
    // loaded machine; retrying each request for a minute (before) took over two.
    ensure!(
        spent >= Duration::from_secs(30) && spent < Duration::from_secs(85),
        "gave up after {spent:?} {window}"
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

/// A Deployment `web` (3 replicas), or a DaemonSet `web` (one pod per node, every taint
/// tolerated as node agents do), whose image is the value `image`.
fn web_image(dir: &Path, kind: &str) -> anyhow::Result<String> {
    let d = dir.join(format!("web-{kind}"));
    std::fs::create_dir_all(d.join("templates"))?;
    std::fs::write(d.join("Chart.yaml"), "apiVersion: v2\nname: web\nversion: 1.0.0\n")?;
    std::fs::write(d.join("values.yaml"), "image: nginx:1.25\n")?;
    let (replicas, tolerations) = if kind == "DaemonSet" {
        ("", "      tolerations: [{operator: Exists}]\n")
    } else {
        ("  replicas: 3\n", "")
    };
    std::fs::write(
        d.join("templates/web.yaml"),
        format!(
            "apiVersion: apps/v1\nkind: {kind}\nmetadata:\n  name: web\nspec:\n{replicas}  selector:\n    \
             matchLabels: {{app: web}}\n  template:\n    metadata:\n      labels: {{app: web, app.kubernetes.io/instance: web}}\n    \
             spec:\n{tolerations}      containers:\n        - name: web\n          image: {{{{ .Values.image }}}}\n"
        ),
    )?;
    Ok(d.display().to_string())
}

/// A Deployment or DaemonSet whose upgrade broke (an image nodesim cannot pull) needs no pod
/// surgery: after `rollback` its controller replaces the broken pods (the Deployment controller
/// drains the broken ReplicaSet; the DaemonSet controller replaces an unavailable out-of-date pod),
/// and every pod ends Ready on the old image, without kubectl.
async fn broken_then_rolled_back(kind: &str, prefix: &str) -> anyhow::Result<()> {
    use testkit::k8s_openapi::api::core::v1::Pod;
    let c = cluster();
    let tmp = tempfile::tempdir()?;
    let ns = c.fresh_namespace(prefix).await?;
    let n = ns.name.as_str();
    let chart = web_image(tmp.path(), kind)?;
    chartup_ok(c, &["apply", "web", &chart, "-n", n, "--yes", "--timeout", "90s"]).await?;
    let pods: Api<Pod> = Api::namespaced(c.client().await?, n);
    let lp = testkit::kube::api::ListParams::default().labels("app=web");
    let count = pods.list(&lp).await?.items.len();
    ensure!(count > 0, "no pods");
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
    let deadline = Instant::now() + WAIT;
    loop {
        let list = pods.list(&lp).await?;
        let good = list.items.iter().all(|p| {
            let ready = p
                .status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
            let image = p.spec.as_ref().and_then(|s| s.containers[0].image.clone());
            ready && image.as_deref() == Some("nginx:1.25")
        });
        if good && list.items.len() == count {
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

#[tokio::test(flavor = "multi_thread")]
async fn a_broken_deployment_rolls_back_without_manual_steps() -> anyhow::Result<()> {
    broken_then_rolled_back("Deployment", "rec-deploy").await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broken_daemonset_rolls_back_without_manual_steps() -> anyhow::Result<()> {
    broken_then_rolled_back("DaemonSet", "rec-daemon").await
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

    // The disruption is accepted (the budget removed): the rollback, run again, plans no change
    // for the set (the failed one reverted its template already) and still replaces the pod.
    use testkit::kube::core::{ApiResource, DynamicObject, GroupVersionKind};
    let ar = ApiResource::from_gvk(&GroupVersionKind::gvk("policy", "v1beta1", "PodDisruptionBudget"));
    let pdbs: Api<DynamicObject> = Api::namespaced_with(c.client().await?, n, &ar);
    pdbs.delete("db", &Default::default()).await?;
    let r = chartup_ok(c, &["rollback", "db", "-n", n, "--timeout", "90s"]).await?;
    ensure!(r.stdout.contains("replacing stuck pod db-2"), "{}", r.stdout);
    crate::recovery::all_ready_on(c, n, crate::recovery::GOOD, &[]).await?;
    Ok(())
}

/// A second signal aborts at once: no safe point, the revision left pending (as a kill would),
/// `recover` releases it.
#[tokio::test(flavor = "multi_thread")]
async fn a_second_signal_aborts_at_once_leaving_the_lock_for_recover() -> anyhow::Result<()> {
    let c = cluster();
    let tmp = tempfile::tempdir()?;
    let ns = c.fresh_namespace("rec-twice").await?;
    let n = ns.name.as_str();
    let child = hanging_upgrade(c, n, tmp.path(), &[]).await?;
    // Two different signals (the same one twice may be delivered once), sent by one shell's
    // builtin `kill` back to back: two `kill` processes could be far enough apart on a loaded
    // machine for the first signal's stop (the next safe point, within a second) to end the run.
    let pid = child.id().ok_or_else(|| anyhow::anyhow!("chartup already exited"))?;
    let st = std::process::Command::new("sh")
        .args(["-c", "kill -INT \"$1\" && kill -TERM \"$1\"", "sh", &pid.to_string()])
        .status()?;
    ensure!(st.success(), "kill -INT/-TERM {pid} failed");
    let out = tokio::time::timeout(RUN, child.wait_with_output()).await??;
    let stderr = String::from_utf8_lossy(&out.stderr);
    ensure!(
        matches!(out.status.code(), Some(130) | Some(143)) && stderr.contains("again: aborting now"),
        "exit {:?}: {stderr}",
        out.status.code()
    );
    let h = chartup_history(c, n, "web").await?;
    ensure!(
        statuses(&h) == vec![(1, "deployed".into()), (2, "pending-upgrade".into())],
        "{h:?}"
    );
    chartup_ok(c, &["recover", "web", "-n", n]).await?;
    let h = chartup_history(c, n, "web").await?;
    ensure!(statuses(&h).last() == Some(&(2, "failed".into())), "{h:?}");
    Ok(())
}

/// `recover --force` takes the lock from a run that is still alive: it releases the record and
/// the Lease; the run learns at its next renewal that it lost the Lease and stops at its next
/// safe point instead of running on beside whatever comes next.
#[tokio::test(flavor = "multi_thread")]
async fn recover_force_takes_the_lock_and_the_live_run_stops() -> anyhow::Result<()> {
    let c = cluster();
    let tmp = tempfile::tempdir()?;
    let ns = c.fresh_namespace("rec-force").await?;
    let n = ns.name.as_str();
    let child = hanging_upgrade(c, n, tmp.path(), &[]).await?;
    let r = chartup_ok(c, &["recover", "web", "-n", n, "--force"]).await?;
    ensure!(
        r.stdout.contains(&format!("Lease {n}/chartup.web released")),
        "{}",
        r.stdout
    );
    // Renewals come every 5 s: the run stops well within a lease duration.
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output()).await??;
    let stderr = String::from_utf8_lossy(&out.stderr);
    ensure!(
        out.status.code() == Some(1) && stderr.contains("lost the lock of release web"),
        "exit {:?}: {stderr}",
        out.status.code()
    );
    let h = chartup_history(c, n, "web").await?;
    ensure!(statuses(&h).last() == Some(&(2, "failed".into())), "{h:?}");
    Ok(())
}

/// A run on another host (here: another UTS namespace, so another hostname) is judged by its
/// heartbeat, not its pid: `recover` refuses while the Lease is renewed, and only once it has
/// gone unrenewed for the lease duration (30 s) after the run was killed does it release it.
#[tokio::test(flavor = "multi_thread")]
async fn another_hosts_run_is_alive_until_its_lease_goes_stale() -> anyhow::Result<()> {
    let c = cluster();
    let tmp = tempfile::tempdir()?;
    let ns = c.fresh_namespace("rec-host").await?;
    let n = ns.name.as_str();
    let v1 = web(tmp.path(), "1.25", false)?;
    chartup_ok(c, &["apply", "web", &v1, "-n", n, "--yes", "--timeout", "60s"]).await?;
    let v2 = web(tmp.path(), "1.26", true)?;
    let kubeconfig = c.kubeconfig.display().to_string();
    let child = tokio::process::Command::new("unshare")
        .args(["--uts", "sh", "-c", "hostname chartup-other-host && exec \"$0\" \"$@\""])
        .arg(env!("CARGO_BIN_EXE_chartup"))
        .args([
            "apply",
            "web",
            &v2,
            "-n",
            n,
            "--yes",
            "--timeout",
            "150s",
            "--kubeconfig",
            &kubeconfig,
        ])
        .env_remove("KUBECONFIG")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let deadline = Instant::now() + WAIT;
    loop {
        let s = status_json(c, n).await?;
        let up = condition(&s, "Upgrading");
        if up["reason"] == "Running" {
            ensure!(
                up["message"].to_string().contains("chartup-other-host")
                    && up["message"].to_string().contains("another host"),
                "{s:#}"
            );
            break;
        }
        ensure!(Instant::now() < deadline, "the upgrade never got under way: {s:#}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let r = chartup(c, &["recover", "web", "-n", n]).await?;
    ensure!(!r.ok && r.stderr.contains("another host"), "{}\n{}", r.stdout, r.stderr);
    signal(&child, "-KILL")?;
    let killed = Instant::now();
    let deadline = killed + Duration::from_secs(90);
    // The dead run's last renewal, as the server has it before each attempt.
    let mut last_renewal = None;
    let r = loop {
        if let Some(t) = lease(c, n, "web").await?.and_then(|l| l.spec?.renew_time) {
            last_renewal = Some(t.0);
        }
        let r = chartup(c, &["recover", "web", "-n", n]).await?;
        if r.ok {
            break r;
        }
        ensure!(r.stderr.contains("still alive"), "{}", r.stderr);
        ensure!(Instant::now() < deadline, "never judged stale: {}", r.stderr);
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    // Not before the lease (30 s) ran out after the last renewal, whenever a loaded machine made
    // that (renewals every 5 s). The renewal time is the dead run's clock, this machine's; the
    // release is read after `recover` returned, so the bound is loose by that one call.
    let renewed = last_renewal.ok_or_else(|| anyhow::anyhow!("the Lease was never renewed"))?;
    let released = jiff::Timestamp::now();
    ensure!(
        released.duration_since(renewed) >= jiff::SignedDuration::from_secs(30),
        "released at {released}, {:?} after the last renewal at {renewed} ({:?} after the kill)",
        released.duration_since(renewed),
        killed.elapsed()
    );
    ensure!(
        r.stdout.contains(&format!("Lease {n}/chartup.web released")),
        "{}",
        r.stdout
    );
    Ok(())
}

/// A user of its own on the private cluster (a client certificate the cluster's CA signs: the
/// shared cluster's users cannot be added to without restarting its API server), in no group
/// but system:authenticated; its kubeconfig.
fn certificate_user(own: &OwnCluster, dir: &Path, user: &str, ns: &str) -> anyhow::Result<testkit::Cluster> {
    let pki = own.c.dir.join("pki");
    let run = |args: &[&str]| -> anyhow::Result<()> {
        let out = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()?;
        ensure!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(())
    };
    let subject = format!("/CN={user}");
    run(&[
        "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "user.key", "-out", "user.csr", "-subj", &subject,
    ])?;
    std::fs::write(
        dir.join("user.ext"),
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n",
    )?;
    let (ca, key) = (pki.join("ca.crt"), pki.join("ca.key"));
    run(&[
        "x509",
        "-req",
        "-in",
        "user.csr",
        "-CA",
        &ca.display().to_string(),
        "-CAkey",
        &key.display().to_string(),
        "-CAcreateserial",
        "-out",
        "user.crt",
        "-days",
        "1",
        "-extfile",
        "user.ext",
    ])?;
    let admin = std::fs::read_to_string(&own.c.kubeconfig)?;
    let server = admin
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("server:"))
        .map(str::trim)
        .ok_or_else(|| anyhow::anyhow!("no server in {}", own.c.kubeconfig.display()))?;
    let kubeconfig = dir.join("user.kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: own\n  cluster:\n    server: {server}\n    \
             certificate-authority: {}\nusers:\n- name: {user}\n  user:\n    client-certificate: {}\n    \
             client-key: {}\ncontexts:\n- name: {user}\n  context: {{cluster: own, user: {user}, namespace: {ns}}}\n\
             current-context: {user}\n",
            ca.display(),
            dir.join("user.crt").display(),
            dir.join("user.key").display()
        ),
    )?;
    Ok(testkit::Cluster {
        kubeconfig,
        ..own.c.clone()
    })
}

/// `system:discovery` bound to `subjects` (with `rbac.authorization.kubernetes.io/autoupdate:
/// "false"`, so an API server restart keeps it), or back to Kubernetes' default.
async fn discovery_binding(c: &testkit::Cluster, subjects: Option<serde_json::Value>) -> anyhow::Result<()> {
    use testkit::k8s_openapi::api::rbac::v1::ClusterRoleBinding;
    use testkit::kube::api::{Patch, PatchParams};
    let api: Api<ClusterRoleBinding> = Api::all(c.client().await?);
    let default =
        serde_json::json!([{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:authenticated"}]);
    let autoupdate = if subjects.is_some() { "false" } else { "true" };
    let patch = serde_json::json!({
        "metadata": {"annotations": {"rbac.authorization.kubernetes.io/autoupdate": autoupdate}},
        "subjects": subjects.unwrap_or(default),
    });
    api.patch("system:discovery", &PatchParams::default(), &Patch::Merge(&patch))
        .await?;
    Ok(())
}

/// Discovery closed by real RBAC, on the test's own cluster instance (never the shared one):
/// `system:discovery` is bound to the other users only, so a user with every right in one
/// namespace cannot read `/api` or `/apis`. chartup's plan says so with the server's words and
/// goes on (Kubernetes' own kinds are known without discovery; the render sees helm's default
/// API versions); install, upgrade, status, history and rollback work; a custom resource's kind
/// cannot be resolved, and the error names the forbidden discovery.
#[tokio::test(flavor = "multi_thread")]
async fn a_user_without_discovery_plans_applies_and_is_told_why() -> anyhow::Result<()> {
    let _one_at_a_time = OUTAGE_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let own = OwnCluster::up()?;
    let others = serde_json::json!([
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "nobody"},
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "tenant"},
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:serviceaccounts"},
    ]);
    discovery_binding(&own.c, Some(others)).await?;
    let result = without_discovery(&own).await;
    // Put Kubernetes' default back whatever happened (the instance is reused by other tests).
    discovery_binding(&own.c, None).await?;
    result
}

async fn without_discovery(own: &OwnCluster) -> anyhow::Result<()> {
    use testkit::k8s_openapi::api::rbac::v1::{Role, RoleBinding};
    let c = &own.c;
    let tmp = tempfile::tempdir()?;
    let ns = c.fresh_namespace("rec-nodisc").await?;
    let n = ns.name.as_str();
    let user = "chartup-no-discovery";
    let u = certificate_user(own, tmp.path(), user, n)?;
    let client = c.client().await?;
    testkit::create(
        &Api::<Role>::namespaced(client.clone(), n),
        serde_json::json!({"metadata": {"name": "all"}, "rules": all_rights()}),
    )
    .await?;
    testkit::create(
        &Api::<RoleBinding>::namespaced(client, n),
        serde_json::json!({"metadata": {"name": "all"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "all"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}]}),
    )
    .await?;
    // The user's discovery is really closed (RBAC takes a moment to see the binding change).
    let deadline = Instant::now() + WAIT;
    loop {
        let r = u.client().await?.list_api_groups().await;
        match r {
            Err(testkit::kube::Error::Api(s)) if s.code == 403 => break,
            other => ensure!(Instant::now() < deadline, "discovery still open to {user}: {other:?}"),
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let v1 = web(tmp.path(), "1.25", false)?;
    chartup_ok(&u, &["apply", "web", &v1, "-n", n, "--yes", "--timeout", "60s"]).await?;
    let v2 = web(tmp.path(), "1.26", false)?;
    let plan = chartup_ok(&u, &["plan", "web", &v2, "-n", n]).await?;
    ensure!(
        plan.stdout.contains(
            "cannot discover the APIs the cluster serves (forbidden: User \"chartup-no-discovery\" cannot get path"
        ) && plan.stdout.contains("~ "),
        "{}",
        plan.stdout
    );
    chartup_ok(&u, &["apply", "web", &v2, "-n", n, "--yes", "--timeout", "60s"]).await?;
    let status = chartup_ok(&u, &["status", "web", "-n", n]).await?;
    ensure!(status.stdout.contains("STATUS: deployed"), "{}", status.stdout);
    chartup_ok(&u, &["rollback", "web", "-n", n, "--timeout", "60s"]).await?;
    let h = chartup_ok(&u, &["history", "web", "-n", n]).await?;
    ensure!(h.stdout.contains("Rollback to 1"), "{}", h.stdout);
    let admin_view = chartup_history(c, n, "web").await?;
    ensure!(
        statuses(&admin_view)
            == vec![
                (1, "superseded".into()),
                (2, "superseded".into()),
                (3, "deployed".into())
            ],
        "{admin_view:?}"
    );
    // A custom resource: its kind cannot be resolved without discovery, and the error says why.
    let cr = one_file_chart(
        &tmp.path().join("cr"),
        "widget",
        "1.0.0",
        "apiVersion: example.chartup.io/v1\nkind: Widget\nmetadata:\n  name: w\nspec: {}\n",
    )?;
    let r = chartup(&u, &["apply", "widget", &cr, "-n", n, "--yes"]).await?;
    ensure!(
        !r.ok
            && r.stderr
                .contains("example.chartup.io/v1 Widget: API discovery is forbidden")
            && r.stderr.contains("cannot get path"),
        "{}\n{}",
        r.stdout,
        r.stderr
    );
    Ok(())
}
