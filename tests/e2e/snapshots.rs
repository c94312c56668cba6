//! Issue 15 end to end: reversible data on the test cluster, whose snapshot.storage.k8s.io/v1 CRDs
//! and nodesim (snapshot controller + hostPath driver, docs/snapshots-testing.md) take real copies of
//! the volume directories and provision claims from them.
//!
//! The chart is `kvstore` (a 3-replica StatefulSet, one claim per pod) run on the `redis` image
//! (nodesim's catalogue has no aerospike), with a matrix of the test's own that says the 5.7 → 6.0
//! hop migrates data, requires a backup and must restore on failure. Data is written into the
//! volume directories, compared byte for byte (testkit::snapshots::tree) after a restore; the
//! "migration" is the test rewriting those files after the upgrade, as a data migration would.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{anyhow, bail, ensure};
use serde_json::Value as Json;
use testkit::k8s_openapi::api::apps::v1::StatefulSet;
use testkit::k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
use testkit::kube::api::Api;
use testkit::kube::ResourceExt;
use testkit::snapshots::{assert_same_tree, tree, vs_api, Entry};
use testkit::{cluster, Cluster};

use crate::e2e_support;
use e2e_support::*;

const WAIT: Duration = Duration::from_secs(120);
const REL: &str = "kv";
const STS: &str = "kv-kvstore";

const MATRIX: &str = "matrix: 1
chart: kvstore
versions: [5.7.0, 6.0.0, 6.1.0]
backup:
  required: true
  how: VolumeSnapshots of every claim (asbackup in production)
snapshots:
  restoreOnFailure: true
upgrades:
  - from: \">=5.7.0 <6.0.0\"
    to: \">=6.0.0\"
    migratesData: true
    note: the storage format changes in 6.0
";

fn claim(i: usize) -> String {
    format!("data-{STS}-{i}")
}

/// The matrix in a directory of the test's own.
fn matrix_file() -> anyhow::Result<(tempfile::TempDir, String)> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("kvstore.yaml");
    std::fs::write(&path, MATRIX)?;
    let path = path.display().to_string();
    Ok((dir, path))
}

/// `apply kv kvstore/VERSION` on redis:TAG (image repository and tag given each time: no reuse).
fn apply_args<'a>(ns: &'a str, version: &'a str, image: &'a str, tag: &'a str, matrix: &'a str) -> Vec<String> {
    [
        "apply",
        REL,
        &chart(&format!("kvstore/{version}")),
        "-n",
        ns,
        "--yes",
        "--matrix",
        matrix,
        "--set",
        &format!("image.repository={image},image.tag={tag},replicas=3"),
        "--accept-risk",
        "--timeout",
        "60s",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

async fn run(c: &Cluster, args: &[String]) -> anyhow::Result<Run> {
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    chartup(c, &a).await
}

/// Files of every kind into each claim's volume: a binary blob, a nested directory, an empty file.
async fn write_data(c: &Cluster, ns: &str, tag: &str) -> anyhow::Result<Vec<PathBuf>> {
    let client = c.client().await?;
    let mut dirs = Vec::new();
    for i in 0..3 {
        let dir = c.claim_dir(&client, ns, &claim(i), WAIT).await?;
        let blob: Vec<u8> = (0..200_000u32).map(|n| ((n * 31 + i as u32 * 7) % 251) as u8).collect();
        std::fs::write(dir.join("records.bin"), &blob)?;
        std::fs::create_dir_all(dir.join("smd/ns"))?;
        std::fs::write(
            dir.join("smd/ns/meta.json"),
            format!("{{\"format\": \"{tag}\", \"node\": {i}}}"),
        )?;
        std::fs::write(dir.join("empty"), b"")?;
        dirs.push(dir);
    }
    Ok(dirs)
}

/// What a data migration does: rewrite the records and the format marker in place.
fn migrate(dirs: &[PathBuf]) -> anyhow::Result<()> {
    for d in dirs {
        std::fs::write(d.join("records.bin"), b"format 6 records")?;
        std::fs::write(d.join("smd/ns/meta.json"), "{\"format\": \"6\"}")?;
        std::fs::remove_file(d.join("empty"))?;
    }
    Ok(())
}

fn trees(dirs: &[PathBuf]) -> anyhow::Result<Vec<std::collections::BTreeMap<PathBuf, Entry>>> {
    dirs.iter().map(|d| tree(d)).collect()
}

async fn pvc(c: &Cluster, ns: &str, name: &str) -> anyhow::Result<PersistentVolumeClaim> {
    let api: Api<PersistentVolumeClaim> = Api::namespaced(c.client().await?, ns);
    Ok(api.get(name).await?)
}

async fn pv(c: &Cluster, name: &str) -> anyhow::Result<PersistentVolume> {
    let api: Api<PersistentVolume> = Api::all(c.client().await?);
    Ok(api.get(name).await?)
}

fn volume_of(p: &PersistentVolumeClaim) -> String {
    p.spec.as_ref().and_then(|s| s.volume_name.clone()).unwrap_or_default()
}

fn host_path(p: &PersistentVolume) -> PathBuf {
    p.spec
        .as_ref()
        .and_then(|s| s.host_path.as_ref())
        .map(|h| PathBuf::from(&h.path))
        .unwrap_or_default()
}

/// Wait until the StatefulSet has `n` ready replicas running `image`.
async fn ready_on(c: &Cluster, ns: &str, image: &str, n: i32) -> anyhow::Result<()> {
    let api: Api<StatefulSet> = Api::namespaced(c.client().await?, ns);
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let s = api.get(STS).await?;
        let img = s
            .spec
            .as_ref()
            .and_then(|s| s.template.spec.as_ref())
            .and_then(|p| p.containers.first())
            .and_then(|c| c.image.clone())
            .unwrap_or_default();
        let ready = s.status.as_ref().and_then(|s| s.ready_replicas).unwrap_or(0);
        if img == image && ready == n {
            return Ok(());
        }
        ensure!(
            std::time::Instant::now() < deadline,
            "{STS} has {ready} ready on {img}, want {n} on {image}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Kill chartup (SIGKILL) while it is held at `failpoint`, once `chartup status` shows `step`.
async fn kill_at(c: &Cluster, argv: &[String], failpoint: &str, ns: &str, step: &str) -> anyhow::Result<()> {
    let a: Vec<&str> = argv.iter().map(String::as_str).collect();
    let mut child = chartup_cmd(c, &a)?.env("CHARTUP_FAILPOINT", failpoint).spawn()?;
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        if let Some(status) = child.try_wait()? {
            let out = child.wait_with_output().await?;
            bail!(
                "chartup ended ({status}) before {failpoint}:\n{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let st = chartup(c, &["status", REL, "-n", ns, "-o", "json"]).await?;
        if st.stdout.contains(step) {
            break;
        }
        ensure!(std::time::Instant::now() < deadline, "the record never showed {step:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    child.start_kill()?;
    child.wait().await?;
    Ok(())
}

/// The whole story of the issue: install, write data; the plan says which claims are snapshotted
/// with which class and what a restore costs; the upgrade snapshots them before the StatefulSet
/// changes (no --backup-command needed: the snapshots are the backup) and records them where helm
/// still reads the release; the data is migrated; the next upgrade fails; `rollback 1
/// --restore-data`, first killed while it sets the volumes aside and recovered, then run again,
/// brings back the pre-upgrade data byte for byte, with the migrated data set aside on its old
/// volumes; `snapshots list|prune` show and free them.
#[tokio::test(flavor = "multi_thread")]
async fn failed_upgrade_rolled_back_to_the_exact_pre_upgrade_data() -> anyhow::Result<()> {
    let c = cluster();
    let ns = c.fresh_namespace("snap").await?;
    let ns = ns.name.clone();
    let (_dir, m) = matrix_file()?;
    run_ok(c, &apply_args(&ns, "5.7.0", "redis", "6.2", &m)).await?;
    let dirs = write_data(c, &ns, "5").await?;
    let before = trees(&dirs)?;

    // The plan, against the cluster.
    let ch = chart("kvstore/6.0.0");
    let p = chartup_ok(
        c,
        &[
            "plan",
            REL,
            &ch,
            "-n",
            &ns,
            "--matrix",
            &m,
            "--set",
            "image.repository=redis,image.tag=7.0,replicas=3",
            "-o",
            "json",
        ],
    )
    .await?;
    let plan: Json = serde_json::from_str(&p.stdout)?;
    let s = &plan["snapshots"];
    assert_eq!(s["status"], "planned", "{s:#}");
    assert_eq!(s["class"], testkit::snapshots::DEFAULT_CLASS, "{s:#}");
    let claims: Vec<&str> = s["claims"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|x| x["claim"].as_str())
        .collect();
    assert_eq!(claims, [claim(0), claim(1), claim(2)]);
    // The claims ask 4Gi each (values.yaml): what a restore needs.
    assert_eq!(s["restoreBytes"], 3 * 4 * 1024 * 1024 * 1024u64, "{s:#}");
    assert!(
        s["claims"][0]["reasons"][0].as_str().unwrap().contains("migrates data"),
        "{s:#}"
    );
    // The snapshots stand in for the backup the matrix requires.
    assert!(
        !plan["requirements"].to_string().contains("--backup-command"),
        "{:#}",
        plan["requirements"]
    );
    let text = chartup_ok(
        c,
        &[
            "plan",
            REL,
            &ch,
            "-n",
            &ns,
            "--matrix",
            &m,
            "--set",
            "image.repository=redis,image.tag=7.0,replicas=3",
        ],
    )
    .await?;
    assert!(
        text.stdout
            .contains("Snapshots:\n  3 claim(s) snapshotted before the upgrade"),
        "{}",
        text.stdout
    );

    // The upgrade: snapshots ready before the StatefulSet changes.
    let up = run_ok(c, &apply_args(&ns, "6.0.0", "redis", "7.0", &m)).await?;
    ensure!(up.stdout.contains("snapshot "), "{}", up.stdout);
    ready_on(c, &ns, "redis:7.0", 3).await?;
    let client = c.client().await?;
    let vss = vs_api(&client, &ns);
    for i in 0..3 {
        let v = vss.get(&format!("{REL}-2-{}", claim(i))).await?;
        assert_eq!(v.data["status"]["readyToUse"], true);
        assert_eq!(v.labels().get("chartup.io/release").map(String::as_str), Some(REL));
        assert_eq!(v.labels().get("chartup.io/revision").map(String::as_str), Some("2"));
    }
    // helm reads the revision chartup wrote (the snapshot record is a field it ignores).
    let helm = testkit::helm()?;
    let h = helm_history(c, &helm, &ns, REL)?;
    assert_eq!(statuses(&h), [(1, "superseded".into()), (2, "deployed".into())]);

    // The migration rewrites the data; then the next upgrade fails (an image that does not exist).
    migrate(&dirs)?;
    let migrated = trees(&dirs)?;
    let bad = run(
        c,
        &apply_args(&ns, "6.1.0", "aerospike/aerospike-server", "6.1.0.1", &m),
    )
    .await?;
    ensure!(!bad.ok, "the broken upgrade failed: {}", bad.stdout);

    // rollback --restore-data, killed once its volumes are set aside; recover undoes that.
    let rb: Vec<String> = ["rollback", REL, "1", "-n", &ns, "--restore-data", "--timeout", "60s"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let step = format!("restore {}: volume", claim(2));
    kill_at(c, &rb, "restore-protected", &ns, &step).await?;
    let rec = chartup_ok(c, &["recover", REL, "-n", &ns]).await?;
    assert!(
        rec.stdout.contains(&format!("restore of {} not started", claim(0))),
        "{}",
        rec.stdout
    );
    for i in 0..3 {
        let v = volume_of(&pvc(c, &ns, &claim(i)).await?);
        let p = pv(c, &v).await?;
        assert_eq!(
            p.spec
                .as_ref()
                .and_then(|s| s.persistent_volume_reclaim_policy.clone())
                .as_deref(),
            Some("Delete"),
            "{v}: policy restored by recover"
        );
    }

    // Run again: the claims come back from the snapshots of revision 2.
    let old_pvs: Vec<String> = {
        let mut v = Vec::new();
        for i in 0..3 {
            v.push(volume_of(&pvc(c, &ns, &claim(i)).await?));
        }
        v
    };
    let done = run_ok(c, &rb).await?;
    assert!(
        done.stdout
            .contains(&format!("restore {} ← snapshot {REL}-2-{}", claim(0), claim(0))),
        "{}",
        done.stdout
    );
    ready_on(c, &ns, "redis:6.2", 3).await?;
    for i in 0..3 {
        let now = c.claim_dir(&client, &ns, &claim(i), WAIT).await?;
        assert_ne!(now, dirs[i], "{}: a new volume", claim(i));
        let got = tree(&now)?;
        assert_same_tree(&before[i], &got).map_err(|e| anyhow!("{}: {e}", claim(i)))?;
        // The migrated data is set aside on the old volume, not deleted.
        let old = pv(c, &old_pvs[i]).await?;
        assert_eq!(
            old.labels().get("chartup.io/set-aside").map(String::as_str),
            Some("true")
        );
        assert_same_tree(&migrated[i], &tree(&host_path(&old))?).map_err(|e| anyhow!("set aside {}: {e}", claim(i)))?;
    }
    let h = chartup_history(c, &ns, REL).await?;
    assert_eq!(statuses(&h).last().map(|s| s.1.as_str()), Some("deployed"));

    // snapshots list and prune.
    let list = chartup_ok(c, &["snapshots", "list", REL, "-n", &ns]).await?;
    assert!(
        list.stdout.contains(&format!("{REL}-2-{}", claim(0))),
        "{}",
        list.stdout
    );
    assert!(
        list.stdout.contains(&format!("set aside: {}", old_pvs[0])),
        "{}",
        list.stdout
    );
    let pruned = chartup_ok(c, &["snapshots", "prune", REL, "-n", &ns, "--keep", "0", "--set-aside"]).await?;
    assert!(
        pruned
            .stdout
            .contains(&format!("deleted snapshot {REL}-2-{}", claim(0))),
        "{}",
        pruned.stdout
    );
    let deadline = std::time::Instant::now() + WAIT;
    while !vss.list(&Default::default()).await?.items.is_empty() {
        ensure!(std::time::Instant::now() < deadline, "snapshots not deleted");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Ok(())
}

async fn run_ok(c: &Cluster, args: &[String]) -> anyhow::Result<Run> {
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    chartup_ok(c, &a).await
}

/// SIGKILL while the snapshots are being taken (created, not yet confirmed ready): `recover` says
/// what they are and keeps them; the upgrade then runs again, and the data of before the first
/// attempt is what `rollback --restore-data` brings back (the oldest snapshot after revision 1).
#[tokio::test(flavor = "multi_thread")]
async fn killed_while_snapshotting_then_recovered() -> anyhow::Result<()> {
    let c = cluster();
    let ns = c.fresh_namespace("snapkill").await?;
    let ns = ns.name.clone();
    let (_dir, m) = matrix_file()?;
    run_ok(c, &apply_args(&ns, "5.7.0", "redis", "6.2", &m)).await?;
    let dirs = write_data(c, &ns, "5").await?;
    let before = trees(&dirs)?;
    let up = apply_args(&ns, "6.0.0", "redis", "7.0", &m);
    let step = format!("snapshot {REL}-2-{} of claim {} created", claim(2), claim(2));
    kill_at(c, &up, "snapshot-created", &ns, &step).await?;
    // Killed before the StatefulSet changed.
    ready_on(c, &ns, "redis:6.2", 3).await?;
    let rec = chartup_ok(c, &["recover", REL, "-n", &ns]).await?;
    for i in 0..3 {
        let line = format!("snapshot {REL}-2-{} of claim {}", claim(i), claim(i));
        assert!(rec.stdout.contains(&line), "{line} in {}", rec.stdout);
    }
    let h = chartup_history(c, &ns, REL).await?;
    assert_eq!(statuses(&h), [(1, "deployed".into()), (2, "failed".into())]);

    run_ok(c, &up).await?;
    ready_on(c, &ns, "redis:7.0", 3).await?;
    migrate(&dirs)?;
    let rb: Vec<String> = ["rollback", REL, "1", "-n", &ns, "--restore-data", "--timeout", "60s"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let done = run_ok(c, &rb).await?;
    assert!(
        done.stdout.contains(&format!("snapshot {REL}-2-{}", claim(1))),
        "{}",
        done.stdout
    );
    let client = c.client().await?;
    for (i, want) in before.iter().enumerate() {
        let now = c.claim_dir(&client, &ns, &claim(i), WAIT).await?;
        assert_same_tree(want, &tree(&now)?).map_err(|e| anyhow!("{}: {e}", claim(i)))?;
    }
    Ok(())
}

/// An `OnDelete` StatefulSet (the stream store's bookies, three claims per pod), which chartup
/// replaces pod by pod: each pod's claims are snapshotted right before that pod is deleted — after
/// the previous pod is Ready on the new spec — as the revision's journal shows in order.
#[tokio::test(flavor = "multi_thread")]
async fn ondelete_pods_are_snapshotted_one_by_one_right_before_each_goes_down() -> anyhow::Result<()> {
    let c = cluster();
    let ns = c.fresh_namespace("snap-ondelete").await?;
    let ns = ns.name.clone();
    let api: Api<PersistentVolumeClaim> = Api::namespaced(c.client().await?, &ns);
    testkit::create(
        &api,
        serde_json::json!({"metadata": {"name": "streamstore-tier2"},
            "spec": {"accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": "1Gi"}}}}),
    )
    .await?;
    chartup_ok(
        c,
        &[
            "apply",
            "ss",
            &chart("streamstore/0.5.1"),
            "-n",
            &ns,
            "--set",
            REGISTRY,
            "--yes",
        ],
    )
    .await?;
    let m = matrix("streamstore.yaml");
    chartup_ok(
        c,
        &[
            "apply",
            "ss",
            &chart("streamstore/0.6.0"),
            "-n",
            &ns,
            "--set",
            REGISTRY,
            "--matrix",
            &m,
            "--yes",
            "--snapshot",
            "--accept-risk",
        ],
    )
    .await?;
    let st = chartup_ok(c, &["status", "ss", "-n", &ns, "-o", "json"]).await?;
    let status: Json = serde_json::from_str(&st.stdout)?;
    let journal: Vec<String> = status["journal"]
        .as_array()
        .ok_or_else(|| anyhow!("no journal in {}", st.stdout))?
        .iter()
        .filter_map(|l| l.as_str().map(str::to_string))
        .collect();
    let at = |needle: &str| -> anyhow::Result<usize> {
        journal
            .iter()
            .position(|l| l.contains(needle))
            .ok_or_else(|| anyhow!("{needle:?} not in the journal:\n{}", journal.join("\n")))
    };
    let sts: Api<StatefulSet> = Api::namespaced(c.client().await?, &ns);
    let bk = sts
        .list(&Default::default())
        .await?
        .items
        .into_iter()
        .map(|s| s.name_any())
        .find(|n| n.contains("bookkeeper"))
        .ok_or_else(|| anyhow!("no bookkeeper StatefulSet"))?;
    // Highest ordinal first; every claim of a pod ready before that pod goes.
    for ord in (0..3).rev() {
        let pod = format!("{bk}-{ord}");
        let deleted = at(&format!("deleted pod {pod} to update it"))?;
        for vct in ["journal", "ledger", "index"] {
            let ready = at(&format!("of claim {vct}-{pod} ready"))?;
            ensure!(
                ready < deleted,
                "{vct}-{pod} snapshotted after its pod went:\n{}",
                journal.join("\n")
            );
            if ord < 2 {
                let prev = at(&format!("pod {bk}-{} Ready on the new spec", ord + 1))?;
                let created = at(&format!("of claim {vct}-{pod} created"))?;
                ensure!(
                    prev < created,
                    "{vct}-{pod} snapshotted before the previous pod was back:\n{}",
                    journal.join("\n")
                );
            }
        }
    }
    Ok(())
}
