//! End-to-end tests of what `chartup rollback` and the failure paths of `chartup apply` do on the
//! real control plane of the test cluster (docs/test-cluster.md): down-migrations, timeouts on
//! Pending or unready pods, crash loops, a failed `--atomic` rollback, a backup Job from the chart,
//! and what `chartup status` says meanwhile and afterwards.
//!
//! Pods misbehave through nodesim's markers (crates/nodesim/src/pods.rs): `nodesim.chartup.io/unready`
//! (running, never Ready), `crash` (CrashLoopBackOff), `exit-code` (a Job pod fails), `run-seconds`
//! (how long a Job pod runs); a claim of a StorageClass nobody provisions keeps its pod Pending.
//! The small charts are written by the tests; the FATE chart and matrix are the repository's.
//! Every wait is a condition with a deadline.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{anyhow, ensure};
use serde_json::Value as Json;
use testkit::k8s_openapi::api::apps::v1::Deployment;
use testkit::k8s_openapi::api::batch::v1::Job;
use testkit::k8s_openapi::api::core::v1::{ConfigMap, PersistentVolumeClaim, Pod};
use testkit::kube::api::{Api, ListParams, Patch, PatchParams};
use testkit::kube::ResourceExt;
use testkit::{cluster, Cluster};

use crate::e2e_support;
use e2e_support::*;

const FATE_REGISTRY: &str = "image.registry=docker.io/chartup";

fn fate_values(f: &str) -> String {
    root().join("charts/fate").join(f).display().to_string()
}

async fn fate_claims(c: &Cluster, ns: &str) -> anyhow::Result<()> {
    let api: Api<PersistentVolumeClaim> = Api::namespaced(c.client().await?, ns);
    for claim in ["fate-mysql-data", "fate-nodemanager-data", "fate-client-data"] {
        testkit::create(
            &api,
            serde_json::json!({"metadata": {"name": claim},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}),
        )
        .await?;
    }
    Ok(())
}

/// `chartup apply fate <version>` with existing claims and the FATE matrix.
async fn fate_apply(c: &Cluster, ns: &str, version: &str, matrix_too: bool) -> anyhow::Result<Run> {
    let ch = chart(&format!("fate/{version}"));
    let ec = fate_values("values-existing-claims.yaml");
    let m = matrix("fate.yaml");
    let mut args = vec![
        "apply",
        "fate",
        ch.as_str(),
        "-n",
        ns,
        "-f",
        ec.as_str(),
        "--set",
        FATE_REGISTRY,
        "--yes",
    ];
    if matrix_too {
        args.extend([
            "--matrix",
            m.as_str(),
            "--migration-command",
            "mysql < \"$MIGRATION_FILE\"",
        ]);
    }
    chartup_ok(c, &args).await
}

/// Migration Jobs of a direction (`true`: up, `down`), as (file annotation, undoes, uid).
async fn migration_jobs(c: &Cluster, ns: &str, direction: &str) -> anyhow::Result<Vec<Job>> {
    let jobs: Api<Job> = Api::namespaced(c.client().await?, ns);
    Ok(jobs
        .list(&ListParams::default().labels(&format!("chartup.io/migration={direction}")))
        .await?
        .items)
}

/// The journal of the newest revision, as `chartup status -o json` shows it, without timestamps.
fn journal(status: &Json) -> Vec<String> {
    status["journal"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| l.as_str().map(|l| l.split_once("  ").map_or(l, |x| x.1).to_string()))
        .collect()
}

fn position(journal: &[String], needle: &str) -> anyhow::Result<usize> {
    journal
        .iter()
        .position(|l| l.contains(needle))
        .ok_or_else(|| anyhow!("{needle:?} not in the journal: {journal:#?}"))
}

async fn status_json(c: &Cluster, ns: &str, release: &str) -> anyhow::Result<Json> {
    let s = chartup_ok(c, &["status", release, "-n", ns, "-o", "json"]).await?;
    Ok(serde_json::from_str(&s.stdout)?)
}

fn condition<'a>(status: &'a Json, ty: &str) -> Option<&'a Json> {
    status["conditions"].as_array()?.iter().find(|c| c["type"] == ty)
}

/// FATE 1.7.0 → 1.8.0 ran three migrations; `chartup rollback` to 1.7.0 runs their down scripts
/// (the files of matrices/fate/migrations/down), newest first, as Jobs, before any workload rolls
/// back; the up Jobs are deleted, so upgrading again runs the migrations again.
#[tokio::test(flavor = "multi_thread")]
async fn rollback_runs_down_migrations_newest_first_before_the_workloads() -> anyhow::Result<()> {
    let c = cluster();
    let ns = c.fresh_namespace("rb-down").await?;
    fate_claims(c, &ns.name).await?;
    fate_apply(c, &ns.name, "1.7.0", false).await?;
    fate_apply(c, &ns.name, "1.8.0", true).await?;
    let up: Vec<String> = migration_jobs(c, &ns.name, "true")
        .await?
        .iter()
        .map(|j| j.name_any())
        .collect();
    ensure!(up.len() == 3, "1.7.0 → 1.8.0 runs three migrations: {up:?}");
    let old_uids: Vec<String> = pods(c, &ns.name).await?.iter().filter_map(|p| p.uid()).collect();

    let log = PodLog::start(c, &ns.name).await?;
    let run = chartup_ok(c, &["rollback", "fate", "-n", &ns.name]).await?;
    // Said before it starts: which down scripts run, in which order; the schema is rolled back.
    let said: Vec<&str> = run
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("==>   down-migration "))
        .collect();
    assert_eq!(
        said,
        [
            "172-180.sql: undoes 172-180.sql (1.8.0 → 1.7.2), before the workloads roll back",
            "171-172.sql: undoes 171-172.sql (1.7.2 → 1.7.1), before the workloads roll back",
            "170-171.sql: undoes 170-171.sql (1.7.1 → 1.7.0), before the workloads roll back",
        ],
        "{}",
        run.stdout
    );
    assert!(
        run.stderr
            .contains("runs the down-migrations above: volumes are not rolled back")
            || run
                .stdout
                .contains("runs the down-migrations above: volumes are not rolled back"),
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    assert!(!format!("{}{}", run.stdout, run.stderr).contains("database schemas are not rolled back"));

    // The down Jobs ran each down script (the repository's files), each once, newest first.
    let down = migration_jobs(c, &ns.name, "down").await?;
    ensure!(down.len() == 3, "three down Jobs: {down:?}");
    let cms: Api<ConfigMap> = Api::namespaced(c.client().await?, &ns.name);
    for j in &down {
        let file = j
            .annotations()
            .get("chartup.io/migration-file")
            .cloned()
            .unwrap_or_default();
        let want = std::fs::read_to_string(root().join("matrices/fate/migrations/down").join(&file))?;
        let cm = cms.get(&j.name_any()).await?;
        let got = cm.data.and_then(|d| d.get(&file).cloned());
        assert_eq!(got.as_deref(), Some(want.as_str()), "{} mounts {file}", j.name_any());
        assert!(
            j.status.as_ref().and_then(|s| s.succeeded).unwrap_or(0) == 1,
            "{} completed",
            j.name_any()
        );
    }
    let events = log.snapshot();
    let first = |needle: &str| events.iter().position(|e| e.name.contains(needle));
    let order: Vec<Option<usize>> = ["undo-r3-172-180", "undo-r3-171-172", "undo-r3-170-171"]
        .iter()
        .map(|n| first(n))
        .collect();
    ensure!(
        order.iter().all(Option::is_some),
        "every down Job's pod was seen: {order:?}"
    );
    assert!(order.windows(2).all(|w| w[0] < w[1]), "newest first: {order:?}");
    // No workload pod of the rollback appeared before the last down Job's pod.
    let last_down = order.iter().flatten().max().copied().unwrap_or(0);
    let first_workload = events
        .iter()
        .position(|e| !old_uids.contains(&e.uid) && !e.name.contains("-undo-") && !e.name.contains("-migrate-"));
    ensure!(first_workload.is_some(), "the rollback replaced workload pods");
    assert!(
        first_workload > Some(last_down),
        "a workload pod appeared (event {first_workload:?}) before the last down-migration (event {last_down})"
    );
    // The record's journal: every down-migration done before the configuration and the workloads.
    let s = status_json(c, &ns.name, "fate").await?;
    let j = journal(&s);
    let undone = position(&j, "down-migration 170-171.sql undid 170-171.sql")?;
    assert!(position(&j, "down-migration 172-180.sql undid 172-180.sql")? < undone);
    assert!(undone < position(&j, "applied configuration objects")?, "{j:#?}");
    assert!(undone < position(&j, "component mysql healthy")?, "{j:#?}");
    let h = chartup_history(c, &ns.name, "fate").await?;
    assert_eq!(statuses(&h).last(), Some(&(3, "deployed".into())));
    assert_eq!(h[2]["description"], "Rollback to 1");
    assert_eq!(h[2]["chart"], "fate-1.7.0");

    // The up Jobs are gone: upgrading again runs the migrations again.
    let jobs: Api<Job> = Api::namespaced(c.client().await?, &ns.name);
    for name in &up {
        testkit::wait_deleted(&jobs, name, Duration::from_secs(60)).await?;
    }
    fate_apply(c, &ns.name, "1.8.0", true).await?;
    let again = migration_jobs(c, &ns.name, "true").await?;
    let mut files: Vec<String> = again
        .iter()
        .filter(|j| j.status.as_ref().and_then(|s| s.succeeded).unwrap_or(0) == 1)
        .filter_map(|j| j.annotations().get("chartup.io/migration-file").cloned())
        .collect();
    files.sort();
    assert_eq!(files, ["170-171.sql", "171-172.sql", "172-180.sql"]);
    Ok(())
}

/// `--atomic` undoes what the failed revision migrated: FATE 1.7.0 → 1.8.0 where the second
/// migration fails (its Job exists already, failed — as a crashed earlier run would leave it), after
/// the first succeeded. The rollback runs the first one's down script before the workloads roll
/// back, and the release is back on 1.7.0.
#[tokio::test(flavor = "multi_thread")]
async fn atomic_rollback_undoes_the_migrations_the_failed_revision_ran() -> anyhow::Result<()> {
    let c = cluster();
    let ns = c.fresh_namespace("rb-atomic-down").await?;
    fate_claims(c, &ns.name).await?;
    fate_apply(c, &ns.name, "1.7.0", false).await?;
    let jobs: Api<Job> = Api::namespaced(c.client().await?, &ns.name);
    testkit::create(
        &jobs,
        serde_json::json!({"metadata": {"name": "fate-migrate-02-171-172"},
            "spec": {"backoffLimit": 0, "template": {
                "metadata": {"annotations": {"nodesim.chartup.io/exit-code": "3"}},
                "spec": {"restartPolicy": "Never", "containers": [{"name": "m", "image": "busybox:1.36"}]}}}}),
    )
    .await?;
    testkit::wait_for(
        &jobs,
        "fate-migrate-02-171-172",
        Duration::from_secs(60),
        "the job to fail",
        |j: Option<&Job>| j.and_then(|j| j.status.as_ref()).and_then(|s| s.failed).unwrap_or(0) > 0,
    )
    .await?;
    let ch = chart("fate/1.8.0");
    let ec = fate_values("values-existing-claims.yaml");
    let m = matrix("fate.yaml");
    let r = chartup(
        c,
        &[
            "apply",
            "fate",
            &ch,
            "-n",
            &ns.name,
            "-f",
            &ec,
            "--set",
            FATE_REGISTRY,
            "--matrix",
            &m,
            "--migration-command",
            "mysql < \"$MIGRATION_FILE\"",
            "--yes",
            "--atomic",
        ],
    )
    .await?;
    assert_eq!(r.code, Some(1), "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("UpgradeFailed: migration 171-172.sql"),
        "{}",
        r.stderr
    );
    assert!(
        r.stdout
            .contains("down-migration 170-171.sql: undoes 170-171.sql (1.7.1 → 1.7.0)"),
        "{}",
        r.stdout
    );
    let h = chartup_history(c, &ns.name, "fate").await?;
    assert_eq!(
        statuses(&h),
        [(1, "superseded".into()), (2, "failed".into()), (3, "deployed".into())]
    );
    assert_eq!(h[2]["description"], "Rollback to 1");
    let down = migration_jobs(c, &ns.name, "down").await?;
    let undid: Vec<String> = down
        .iter()
        .filter(|j| j.status.as_ref().and_then(|s| s.succeeded).unwrap_or(0) == 1)
        .filter_map(|j| j.annotations().get("chartup.io/undoes").cloned())
        .collect();
    assert_eq!(undid, ["170-171.sql"]);
    testkit::wait_deleted(&jobs, "fate-migrate-01-170-171", Duration::from_secs(60)).await?;
    let s = status_json(c, &ns.name, "fate").await?;
    let j = journal(&s);
    assert!(
        position(&j, "down-migration 170-171.sql undid 170-171.sql")? < position(&j, "component mysql healthy")?,
        "{j:#?}"
    );
    assert_eq!(s["currentVersion"], "1.7.0");
    Ok(())
}

/// FATE 1.9.0 → 1.10.0 ran `190-1100.sql`, which has no down script: rolling back says plainly
/// that the schema is not rolled back past it, runs no down Job, and keeps its up Job.
#[tokio::test(flavor = "multi_thread")]
async fn rollback_across_a_migration_without_down_script_says_the_schema_stays() -> anyhow::Result<()> {
    let c = cluster();
    let ns = c.fresh_namespace("rb-nodown").await?;
    fate_claims(c, &ns.name).await?;
    fate_apply(c, &ns.name, "1.9.0", false).await?;
    fate_apply(c, &ns.name, "1.10.0", true).await?;
    // A downgrade through apply is refused by the matrix before anything changes; rollback is the way back.
    let (ch, ec, m) = (
        chart("fate/1.9.0"),
        fate_values("values-existing-claims.yaml"),
        matrix("fate.yaml"),
    );
    let r = chartup(
        c,
        &[
            "apply",
            "fate",
            &ch,
            "-n",
            &ns.name,
            "-f",
            &ec,
            "--set",
            FATE_REGISTRY,
            "--matrix",
            &m,
            "--yes",
        ],
    )
    .await?;
    assert!(!r.ok);
    assert!(r.stderr.contains("downgrade 1.10.0 → 1.9.0 refused"), "{}", r.stderr);
    assert_eq!(chartup_history(c, &ns.name, "fate").await?.len(), 2, "nothing recorded");
    let run = chartup_ok(c, &["rollback", "fate", "-n", &ns.name]).await?;
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(
        all.contains(
            "the schema is not rolled back past migration 190-1100.sql (1.9.0 → 1.10.0): the matrix gave it no down script"
        ),
        "{all}"
    );
    assert!(
        all.contains("volumes and database schemas are not rolled back"),
        "{all}"
    );
    assert!(!all.contains("down-migration"), "{all}");
    assert!(migration_jobs(c, &ns.name, "down").await?.is_empty());
    assert_eq!(migration_jobs(c, &ns.name, "true").await?.len(), 1);
    let h = chartup_history(c, &ns.name, "fate").await?;
    assert_eq!(statuses(&h).last(), Some(&(3, "deployed".into())));
    assert_eq!(h[2]["chart"], "fate-1.9.0");
    Ok(())
}

/// A one-Deployment chart (`web`, 2 replicas), with optional extras: pod annotations of the new
/// version and more template files.
fn web_chart(dir: &Path, version: &str, pod_annotations: &str, extra: &[(&str, &str)]) -> anyhow::Result<String> {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let d = dir.join(format!("web-{version}-{n}"));
    std::fs::create_dir_all(d.join("templates"))?;
    std::fs::write(
        d.join("Chart.yaml"),
        format!("apiVersion: v2\nname: web\nversion: {version}\nappVersion: \"{version}\"\n"),
    )?;
    std::fs::write(
        d.join("templates/web.yaml"),
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  version: {{{{ .Chart.Version | quote }}}}\n---\n\
             apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {{app: web}}\n  template:\n    metadata:\n      labels:\n        app: web\n        app.kubernetes.io/instance: {{{{ .Release.Name }}}}\n      annotations:\n        version: {{{{ .Chart.Version | quote }}}}\n{pod_annotations}    spec:\n      containers:\n        - name: web\n          image: nginx:1.25\n"
        ),
    )?;
    for (name, text) in extra {
        std::fs::write(d.join("templates").join(name), text)?;
    }
    Ok(d.display().to_string())
}

/// A Job template; `pod_annotations` are nodesim markers of its pod.
fn job(name: &str, annotations: &str, pod_annotations: &str) -> String {
    format!(
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: {name}\n  annotations:\n{annotations}spec:\n  backoffLimit: 0\n  template:\n    metadata:\n      annotations:\n{pod_annotations}    spec:\n      restartPolicy: Never\n      containers:\n        - name: run\n          image: busybox:1.36\n          command: [\"true\"]\n"
    )
}

/// A pod that never becomes Ready (a Deployment's new pod, running but unready) and one that
/// stays Pending (an OnDelete StatefulSet's pod waiting for a claim nobody provisions) stop the
/// upgrade at `--timeout`, naming the pod, the reason and the message; the revision is recorded
/// `UpgradeFailed: …`. While it waits, `chartup status` says Upgrading and lists the unready pod;
/// afterwards it says Error (UpgradeFailed), current and desired version, and the last error.
#[tokio::test(flavor = "multi_thread")]
async fn pending_or_unready_past_the_timeout_fails_with_pod_reason_and_message() -> anyhow::Result<()> {
    let c = cluster();
    let tmp = tempfile::tempdir()?;
    let ns = c.fresh_namespace("rb-unready").await?;
    let v1 = web_chart(tmp.path(), "1.0.0", "", &[])?;
    let v2 = web_chart(
        tmp.path(),
        "2.0.0",
        "        nodesim.chartup.io/unready: \"true\"\n",
        &[],
    )?;
    chartup_ok(c, &["apply", "web", &v1, "-n", &ns.name, "--yes"]).await?;
    // The run waits this long, and everything below that needs it waiting must happen meanwhile:
    // the status poll seeing the waiting pod, then two more chartup commands refused by the lock
    // (each a few seconds on a loaded machine). A minute leaves room for all of it.
    const TIMEOUT: Duration = Duration::from_secs(60);
    let args = ["apply", "web", v2.as_str(), "-n", &ns.name, "--yes", "--timeout", "60s"];
    let child = chartup_cmd(c, &args)?.spawn()?;
    let started = Instant::now();
    let missed = |what: &str| {
        anyhow!(
            "{what} {:?} after the start, past the run's {TIMEOUT:?} timeout: the machine was too slow for \
             the test's window (not a chartup failure as such)",
            started.elapsed()
        )
    };
    // While it runs: Upgrading, PodsReady=False, the new pod unready with the kubelet's reason.
    let deadline = started + TIMEOUT;
    let during = loop {
        let s = status_json(c, &ns.name, "web").await?;
        let unready = s["members"]["unready"].to_string();
        if condition(&s, "Upgrading").is_some() && unready.contains("(ContainersNotReady)") {
            break s;
        }
        if Instant::now() >= deadline {
            return Err(missed("status had not shown the upgrade waiting").context(format!("{s:#}")));
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert_eq!(
        condition(&during, "Upgrading").map(|c| &c["status"]),
        Some(&Json::from("True"))
    );
    assert_eq!(
        condition(&during, "PodsReady").map(|c| &c["status"]),
        Some(&Json::from("False"))
    );
    assert_eq!(during["currentVersion"], "1.0.0");
    assert_eq!(during["desiredVersion"], "2.0.0");
    // The old pods serve meanwhile.
    assert_eq!(
        during["members"]["ready"].as_array().map(Vec::len),
        Some(2),
        "{during:#}"
    );
    // The pending record is a lock: another apply and a rollback are refused, naming the holder.
    for other in [&args[..], &["rollback", "web", "-n", &ns.name][..]] {
        let r = chartup(c, other).await?;
        let refused = r.stderr.contains("locked by revision 2 (pending-upgrade, since 20")
            && r.stderr.contains("chartup apply by");
        if !refused && started.elapsed() >= TIMEOUT {
            return Err(missed(&format!("`chartup {}` ended", other[0])).context(r.stderr));
        }
        assert!(!r.ok);
        assert!(refused, "{}", r.stderr);
    }
    let out = tokio::time::timeout(RUN, child.wait_with_output())
        .await
        .map_err(|_| anyhow!("chartup did not finish"))??;
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(took >= TIMEOUT, "stopped at the timeout, not before: {took:?}");
    assert!(
        stderr.contains("UpgradeFailed: pod web-")
            && stderr.contains("(container web) is still ContainersNotReady after the 60s timeout: containers with unready status: [web]"),
        "{stderr}"
    );
    let h = chartup_history(c, &ns.name, "web").await?;
    assert_eq!(statuses(&h), [(1, "deployed".into()), (2, "failed".into())]);
    let desc = h[1]["description"].as_str().unwrap_or("");
    assert!(
        desc.starts_with("UpgradeFailed: pod web-") && desc.contains("ContainersNotReady"),
        "{desc}"
    );
    let after = status_json(c, &ns.name, "web").await?;
    let err = condition(&after, "Error").ok_or_else(|| anyhow!("no Error condition: {after:#}"))?;
    assert_eq!(err["reason"], "UpgradeFailed");
    assert_eq!(after["lastError"], desc);
    assert!(condition(&after, "Upgrading").is_none());
    assert_eq!(after["currentVersion"], "1.0.0");
    assert_eq!(after["desiredVersion"], "2.0.0");
    let table = chartup_ok(c, &["status", "web", "-n", &ns.name]).await?.stdout;
    assert!(table.contains("  Error=True (UpgradeFailed)"), "{table}");
    assert!(table.contains(&format!("LAST ERROR: {desc}")), "{table}");

    // Pending: an OnDelete StatefulSet whose new spec mounts a claim of a class nobody provisions.
    let ns2 = c.fresh_namespace("rb-pending").await?;
    let db = |version: &str, pending: bool| -> anyhow::Result<String> {
        let d = tmp.path().join(format!("db-{version}"));
        std::fs::create_dir_all(d.join("templates"))?;
        std::fs::write(
            d.join("Chart.yaml"),
            format!("apiVersion: v2\nname: db\nversion: {version}\n"),
        )?;
        let (vol, mount, claim) = if pending {
            (
                "      volumes:\n        - name: extra\n          persistentVolumeClaim: {claimName: db-extra}\n",
                "          volumeMounts: [{name: extra, mountPath: /extra}]\n",
                "---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: db-extra\nspec:\n  storageClassName: nobody-provisions-this\n  accessModes: [ReadWriteOnce]\n  resources: {requests: {storage: 1Gi}}\n",
            )
        } else {
            ("", "", "")
        };
        std::fs::write(
            d.join("templates/db.yaml"),
            format!(
                "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\nspec:\n  serviceName: db\n  replicas: 1\n  updateStrategy: {{type: OnDelete}}\n  selector:\n    matchLabels: {{app: db}}\n  template:\n    metadata:\n      labels: {{app: db, app.kubernetes.io/instance: db}}\n    spec:\n      containers:\n        - name: db\n          image: postgres:15\n{mount}{vol}{claim}"
            ),
        )?;
        Ok(d.display().to_string())
    };
    chartup_ok(c, &["apply", "db", &db("1.0.0", false)?, "-n", &ns2.name, "--yes"]).await?;
    let r = chartup(
        c,
        &[
            "apply",
            "db",
            &db("2.0.0", true)?,
            "-n",
            &ns2.name,
            "--yes",
            // Long enough for the replaced pod to be created, bound and reported Pending on a
            // loaded machine: the message names the state the pod was in at the timeout.
            "--timeout",
            "30s",
        ],
    )
    .await?;
    assert!(!r.ok);
    assert!(
        r.stderr.contains("UpgradeFailed: pod db-0 (container db) is still ContainerCreating after the 30s timeout: the pod is Pending"),
        "{}",
        r.stderr
    );
    let h = chartup_history(c, &ns2.name, "db").await?;
    assert_eq!(statuses(&h), [(1, "deployed".into()), (2, "failed".into())]);
    Ok(())
}

/// A crash-looping pod stops the upgrade soon after its first CrashLoopBackOff (within
/// `FAIL_FAST`, not at the 5 min timeout), naming pod, reason and message. With `--atomic` the
/// rollback runs the target's `pre-rollback` hook; when that fails too, the rollback's revision
/// says `RollbackFailed: …`, chartup exits with status 4, and `chartup status` said
/// RollbackInProgress while it ran and Error (RollbackFailed) after.
///
/// The hook runs until the test has seen RollbackInProgress and ends it (nodesim's `run-seconds`
/// set to "0"), so no step depends on how fast the machine is.
#[tokio::test(flavor = "multi_thread")]
async fn crash_loop_fails_fast_and_a_failed_atomic_rollback_exits_4() -> anyhow::Result<()> {
    const RUN_SECONDS: &str = "nodesim.chartup.io/run-seconds";
    let c = cluster();
    c.ensure_nodesim("lifts")?;
    let tmp = tempfile::tempdir()?;
    let ns = c.fresh_namespace("rb-crash").await?;
    // The old version has a pre-rollback hook that runs until the test ends it, and then fails.
    let hook = job(
        "check-rollback",
        "    helm.sh/hook: pre-rollback\n",
        "        nodesim.chartup.io/exit-code: \"3\"\n        nodesim.chartup.io/run-seconds: \"inf\"\n",
    );
    let v1 = web_chart(tmp.path(), "1.0.0", "", &[("hook.yaml", hook.as_str())])?;
    let v2 = web_chart(tmp.path(), "2.0.0", "        nodesim.chartup.io/crash: \"true\"\n", &[])?;
    chartup_ok(c, &["apply", "web", &v1, "-n", &ns.name, "--yes"]).await?;

    // Without --atomic: fails fast.
    let log = PodLog::start(c, &ns.name).await?;
    let r = chartup(c, &["apply", "web", &v2, "-n", &ns.name, "--yes", "--timeout", "5m"]).await?;
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    let first = log
        .snapshot()
        .into_iter()
        .find(|e| e.waiting.as_deref() == Some("CrashLoopBackOff"))
        .ok_or_else(|| anyhow!("the watch never saw CrashLoopBackOff"))?;
    // Failing fast means not waiting for the 5m timeout (what helm does). A minute covers the
    // watch's delivery, the failed record and the exit on a loaded machine, and is a fifth of it.
    let took = r.ended.saturating_duration_since(first.at);
    assert!(
        took < FAIL_FAST,
        "reported {took:?} after the first CrashLoopBackOff: not fast (the timeout is 5m)"
    );
    assert!(
        r.stderr.contains("UpgradeFailed: pod web-")
            && r.stderr.contains("(container web) is CrashLoopBackOff: back-off"),
        "{}",
        r.stderr
    );

    // With --atomic: the rollback's hook fails too.
    let child = chartup_cmd(c, &["apply", "web", &v2, "-n", &ns.name, "--yes", "--atomic"])?.spawn()?;
    let deadline = Instant::now() + Duration::from_secs(90);
    let during = loop {
        let s = status_json(c, &ns.name, "web").await?;
        if condition(&s, "RollbackInProgress").is_some() {
            break s;
        }
        ensure!(Instant::now() < deadline, "status never showed the rollback: {s:#}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert_eq!(during["status"], "pending-rollback");
    // Now the hook may fail: its pod (which may not exist yet) ends with exit code 3.
    let pod_api: Api<Pod> = Api::namespaced(c.client().await?, &ns.name);
    let hook_pods = ListParams::default().labels("job-name=check-rollback");
    let hook_pod = loop {
        if let Some(p) = pod_api.list(&hook_pods).await?.items.into_iter().next() {
            break p.name_any();
        }
        ensure!(Instant::now() < deadline, "the pre-rollback hook's pod never appeared");
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    let lift = serde_json::json!({"metadata": {"annotations": {RUN_SECONDS: "0"}}});
    pod_api
        .patch(&hook_pod, &PatchParams::default(), &Patch::Merge(lift))
        .await?;
    let out = tokio::time::timeout(RUN, child.wait_with_output())
        .await
        .map_err(|_| anyhow!("chartup did not finish"))??;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(4),
        "exit status 4 when the rollback fails too: {stderr}"
    );
    assert!(
        stderr.contains("the rollback failed too: RollbackFailed: pre-rollback hook"),
        "{stderr}"
    );
    let h = chartup_history(c, &ns.name, "web").await?;
    assert_eq!(
        statuses(&h),
        [
            (1, "deployed".into()),
            (2, "failed".into()),
            (3, "failed".into()),
            (4, "failed".into())
        ]
    );
    assert!(h[2]["description"]
        .as_str()
        .unwrap_or("")
        .starts_with("UpgradeFailed: pod web-"));
    let desc = h[3]["description"].as_str().unwrap_or("");
    assert!(
        desc.starts_with("RollbackFailed: pre-rollback hook") && desc.contains("check-rollback"),
        "{desc}"
    );
    for helm in helms()? {
        let hh = helm_history(c, &helm, &ns.name, "web")?;
        assert_eq!(hh[3]["description"], desc, "{}", helm.display());
    }
    let after = status_json(c, &ns.name, "web").await?;
    let err = condition(&after, "Error").ok_or_else(|| anyhow!("no Error condition: {after:#}"))?;
    assert_eq!(err["reason"], "RollbackFailed");
    assert_eq!(after["lastError"], desc);
    assert!(condition(&after, "RollbackInProgress").is_none());

    // `--history-max 2` prunes the old records before writing the next, but never the last
    // deployed one; `history --max 1` shows the newest only, with helm's columns.
    let r = chartup(c, &["apply", "web", &v2, "-n", &ns.name, "--yes", "--history-max", "2"]).await?;
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    let h = chartup_history(c, &ns.name, "web").await?;
    assert_eq!(statuses(&h), [(1, "deployed".into()), (5, "failed".into())]);
    for helm in helms()? {
        assert_eq!(statuses(&helm_history(c, &helm, &ns.name, "web")?), statuses(&h));
    }
    let table = chartup_ok(c, &["history", "web", "-n", &ns.name, "--max", "1"])
        .await?
        .stdout;
    let helm_table = testkit::run_helm(c, &["history", "web", "-n", &ns.name, "--max", "1"])?;
    let columns = |t: &str| -> Vec<String> {
        t.lines()
            .next()
            .unwrap_or("")
            .split('\t')
            .map(|c| c.trim().to_string())
            .collect()
    };
    assert_eq!(columns(&table), columns(&helm_table), "{table}\n{helm_table}");
    let rows: Vec<&str> = table.lines().skip(1).collect();
    assert_eq!(rows.len(), 1, "{table}");
    assert!(
        rows[0].starts_with("5") && rows[0].contains("failed") && rows[0].contains("web-2.0.0"),
        "{table}"
    );
    let yaml = chartup_ok(c, &["history", "web", "-n", &ns.name, "-o", "yaml"])
        .await?
        .stdout;
    assert!(
        yaml.contains("revision: 5") && yaml.contains("status: failed"),
        "{yaml}"
    );
    Ok(())
}

/// The matrix requires a backup and the chart ships a Job annotated `chartup.io/backup: "true"`:
/// apply runs it first and checks it. A failing backup Job stops the upgrade with nothing changed
/// (configuration and Deployment as they were); a succeeding one runs before the configuration
/// objects and the workloads.
#[tokio::test(flavor = "multi_thread")]
async fn backup_job_from_the_chart_runs_first_and_a_failing_one_changes_nothing() -> anyhow::Result<()> {
    let c = cluster();
    let tmp = tempfile::tempdir()?;
    let ns = c.fresh_namespace("rb-backup").await?;
    let m = tmp.path().join("web.yaml");
    std::fs::write(
        &m,
        "matrix: 1\nchart: web\nversions: [1.0.0, 2.0.0]\nbackup:\n  required: true\n  how: the chart's backup Job\n",
    )?;
    let m = m.display().to_string();
    let v1 = web_chart(tmp.path(), "1.0.0", "", &[])?;
    let backup = |pod: &str| job("backup", "    chartup.io/backup: \"true\"\n", pod);
    let bad = backup("        nodesim.chartup.io/exit-code: \"3\"\n");
    let good = backup("        nodesim.chartup.io/run-seconds: \"2\"\n");
    let v2_bad = web_chart(tmp.path(), "2.0.0", "", &[("backup.yaml", bad.as_str())])?;
    let v2 = web_chart(tmp.path(), "2.0.0", "", &[("backup.yaml", good.as_str())])?;
    chartup_ok(c, &["apply", "web", &v1, "-n", &ns.name, "--yes"]).await?;
    let deps: Api<Deployment> = Api::namespaced(c.client().await?, &ns.name);
    let cms: Api<ConfigMap> = Api::namespaced(c.client().await?, &ns.name);
    let gen_before = deps.get("web").await?.metadata.generation;
    let version = |cm: ConfigMap| cm.data.and_then(|d| d.get("version").cloned());

    let r = chartup(c, &["apply", "web", &v2_bad, "-n", &ns.name, "--matrix", &m, "--yes"]).await?;
    assert_eq!(r.code, Some(1), "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("UpgradeFailed: backup job") && r.stderr.contains("Job.batch/backup"),
        "{}",
        r.stderr
    );
    assert_eq!(
        deps.get("web").await?.metadata.generation,
        gen_before,
        "Deployment untouched"
    );
    assert_eq!(
        version(cms.get("web").await?).as_deref(),
        Some("1.0.0"),
        "ConfigMap untouched"
    );
    let s = status_json(c, &ns.name, "web").await?;
    let j = journal(&s);
    assert!(!j.iter().any(|l| l.contains("applied")), "nothing applied: {j:#?}");

    let r = chartup_ok(c, &["apply", "web", &v2, "-n", &ns.name, "--matrix", &m, "--yes"]).await?;
    assert!(r.stdout.contains("==> backup"), "{}", r.stdout);
    // Progress: one line per component update, `web  N/2 updated  N ready  (elapsed)`.
    let progress: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("web ") && l.contains("/2 updated") && l.trim_end().ends_with("s)"))
        .collect();
    assert!(
        progress.last().is_some_and(|l| l.contains("2/2 updated  2 ready")),
        "{}",
        r.stdout
    );
    // Applied server-side under the field manager `chartup`.
    let managers: Vec<(String, String)> = cms
        .get("web")
        .await?
        .metadata
        .managed_fields
        .unwrap_or_default()
        .iter()
        .map(|f| {
            (
                f.manager.clone().unwrap_or_default(),
                f.operation.clone().unwrap_or_default(),
            )
        })
        .collect();
    assert!(managers.contains(&("chartup".into(), "Apply".into())), "{managers:?}");
    let s = status_json(c, &ns.name, "web").await?;
    let j = journal(&s);
    let b = position(&j, "backup job")?;
    assert!(j[b].contains("Job.batch/backup succeeded"), "{j:#?}");
    assert!(b < position(&j, "applied configuration objects")?, "{j:#?}");
    assert!(b < position(&j, "component web healthy")?, "{j:#?}");
    let jobs: Api<Job> = Api::namespaced(c.client().await?, &ns.name);
    assert_eq!(jobs.get("backup").await?.status.and_then(|s| s.succeeded), Some(1));
    assert_eq!(version(cms.get("web").await?).as_deref(), Some("2.0.0"));
    let h = chartup_history(c, &ns.name, "web").await?;
    assert_eq!(
        statuses(&h),
        [(1, "superseded".into()), (2, "failed".into()), (3, "deployed".into())]
    );
    Ok(())
}

/// A rollback whose plan loses a volume (the newer revision added a claim of a Delete class that
/// the target does not have, so the rollback would delete it) is refused, listing the volume, with
/// nothing recorded and the data in place; with `--accept-data-loss` it goes ahead and the claim
/// is pruned.
#[tokio::test(flavor = "multi_thread")]
async fn rollback_refuses_a_loss_verdict_unless_accepted() -> anyhow::Result<()> {
    let c = cluster();
    let tmp = tempfile::tempdir()?;
    let ns = c.fresh_namespace("rb-loss").await?;
    let claim = "---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: web-data\nspec:\n  storageClassName: standard\n  accessModes: [ReadWriteOnce]\n  resources: {requests: {storage: 1Gi}}\n";
    let v1 = web_chart(tmp.path(), "1.0.0", "", &[])?;
    let v2 = web_chart(tmp.path(), "2.0.0", "", &[("claim.yaml", claim)])?;
    chartup_ok(c, &["apply", "web", &v1, "-n", &ns.name, "--yes"]).await?;
    chartup_ok(c, &["apply", "web", &v2, "-n", &ns.name, "--yes"]).await?;
    let client = c.client().await?;
    let dir = c
        .claim_dir(&client, &ns.name, "web-data", Duration::from_secs(60))
        .await?;
    testkit::write_marker(&dir, "before", "web-data")?;

    let r = chartup(c, &["rollback", "web", "-n", &ns.name]).await?;
    assert_eq!(r.code, Some(1), "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("refusing to apply") && r.stderr.contains("rolling back loses volume"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("web-data"), "names the claim: {}", r.stderr);
    let h = chartup_history(c, &ns.name, "web").await?;
    assert_eq!(
        statuses(&h),
        [(1, "superseded".into()), (2, "deployed".into())],
        "nothing recorded"
    );
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), &ns.name);
    assert!(claims.get_opt("web-data").await?.is_some());
    assert_eq!(testkit::read_marker(&dir, "before").as_deref(), Some("web-data"));

    chartup_ok(c, &["rollback", "web", "-n", &ns.name, "--accept-data-loss"]).await?;
    let h = chartup_history(c, &ns.name, "web").await?;
    assert_eq!(statuses(&h).last(), Some(&(3, "deployed".into())));
    assert_eq!(h[2]["description"], "Rollback to 1");
    testkit::wait_deleted(&claims, "web-data", Duration::from_secs(60)).await?;
    Ok(())
}

/// A per-component timeout from the matrix (`components.web.timeout: 20s`) bounds that component's
/// rollout instead of `--timeout` (5m here): the unready pod stops the upgrade after 20 s, and the
/// error says which timeout it was. (20 s: the new pod must be created, bound and reported unready
/// within it for the error to name its state, on a loaded machine too.)
#[tokio::test(flavor = "multi_thread")]
async fn a_component_timeout_from_the_matrix_bounds_its_rollout() -> anyhow::Result<()> {
    let c = cluster();
    let tmp = tempfile::tempdir()?;
    let ns = c.fresh_namespace("rb-comp-timeout").await?;
    let v1 = web_chart(tmp.path(), "1.0.0", "", &[])?;
    let v2 = web_chart(
        tmp.path(),
        "2.0.0",
        "        nodesim.chartup.io/unready: \"true\"\n",
        &[],
    )?;
    let m = tmp.path().join("web-matrix.yaml");
    std::fs::write(
        &m,
        "matrix: 1\nchart: web\nversions: [1.0.0, 2.0.0]\ncomponents:\n  web: {timeout: 20s}\n",
    )?;
    let m = m.display().to_string();
    chartup_ok(c, &["apply", "web", &v1, "-n", &ns.name, "--yes", "--matrix", &m]).await?;
    let started = Instant::now();
    let r = chartup(
        c,
        &[
            "apply",
            "web",
            &v2,
            "-n",
            &ns.name,
            "--yes",
            "--matrix",
            &m,
            "--timeout",
            "5m",
        ],
    )
    .await?;
    let took = started.elapsed();
    ensure!(!r.ok, "the upgrade must fail: {}", r.stdout);
    assert!(
        r.stderr.contains("is still ContainersNotReady after the 20s timeout"),
        "{}",
        r.stderr
    );
    assert!(
        took >= Duration::from_secs(20) && took < Duration::from_secs(150),
        "bounded by the component's 20s, not --timeout 5m: {took:?}"
    );
    let h = chartup_history(c, &ns.name, "web").await?;
    assert_eq!(statuses(&h), [(1, "deployed".into()), (2, "failed".into())]);
    Ok(())
}
