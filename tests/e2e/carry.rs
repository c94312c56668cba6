//! End-to-end tests of volume carry-over (`--carry-volumes`, issue 6) on the real control plane of
//! the test cluster: the real PV binder decides whether a claim binds to a moved volume, and
//! nodesim's reclaimer deletes the directory of every Released volume of policy Delete, so a lost
//! volume shows as files gone. The charts use the `standard` class (reclaim policy Delete).
//!
//! Charts: `ledger` 1.0.0 → 2.0.0 renames its StatefulSet and claim template (claims
//! `data-<rel>-ledger-<i>` → `journal-<rel>-ledger-journal-<i>`); `docstore` 1.0.0 → 2.0.0 turns a
//! Deployment with a PVC into a StatefulSet with a claim template. A marker file is written into
//! each volume before the upgrade and read after it, under the claim that should then hold it.

use std::time::Duration;

use anyhow::{anyhow, bail, ensure};
use serde_json::Value as Json;
use testkit::k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use testkit::k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
use testkit::kube::api::Api;
use testkit::kube::ResourceExt;
use testkit::{cluster, Cluster};

use crate::e2e_support;
use e2e_support::*;

const WAIT: Duration = Duration::from_secs(120);

fn ledger_old(i: usize) -> String {
    format!("data-ledger-ledger-{i}")
}

fn ledger_new(i: usize) -> String {
    format!("journal-ledger-ledger-journal-{i}")
}

async fn install(c: &Cluster, ns: &str, release: &str, chart_rel: &str) -> anyhow::Result<()> {
    chartup_ok(c, &["apply", release, &chart(chart_rel), "-n", ns, "--yes"]).await?;
    Ok(())
}

async fn claim(c: &Cluster, ns: &str, name: &str) -> anyhow::Result<Option<PersistentVolumeClaim>> {
    let api: Api<PersistentVolumeClaim> = Api::namespaced(c.client().await?, ns);
    Ok(api.get_opt(name).await?)
}

async fn pv(c: &Cluster, name: &str) -> anyhow::Result<PersistentVolume> {
    let api: Api<PersistentVolume> = Api::all(c.client().await?);
    Ok(api.get(name).await?)
}

fn volume_name(pvc: &PersistentVolumeClaim) -> String {
    pvc.spec
        .as_ref()
        .and_then(|s| s.volume_name.clone())
        .unwrap_or_default()
}

fn policy(pv: &PersistentVolume) -> String {
    pv.spec
        .as_ref()
        .and_then(|s| s.persistent_volume_reclaim_policy.clone())
        .unwrap_or_default()
}

/// Bound claims with a marker each: (claim, uid, PV name).
async fn mark(c: &Cluster, ns: &str, claims: &[String]) -> anyhow::Result<Vec<(String, String, String)>> {
    let client = c.client().await?;
    let mut out = Vec::new();
    for name in claims {
        let dir = c.claim_dir(&client, ns, name, WAIT).await?;
        testkit::write_marker(&dir, "before-upgrade", name)?;
        let pvc = claim(c, ns, name)
            .await?
            .ok_or_else(|| anyhow!("claim {name} vanished"))?;
        out.push((name.clone(), pvc.uid().unwrap_or_default(), volume_name(&pvc)));
    }
    Ok(out)
}

/// `new` is Bound to the very PV `old` had, the marker written under `old` is there, and the PV's
/// reclaim policy is back to Delete.
async fn assert_carried(c: &Cluster, ns: &str, old: &(String, String, String), new: &str) -> anyhow::Result<()> {
    let (old_name, _, old_pv) = old;
    ensure!(
        claim(c, ns, old_name).await?.is_none(),
        "the old claim {old_name} is still there"
    );
    let dir = c.claim_dir(&c.client().await?, ns, new, WAIT).await?;
    let pvc = claim(c, ns, new).await?.ok_or_else(|| anyhow!("claim {new} missing"))?;
    assert_eq!(&volume_name(&pvc), old_pv, "{new} is bound to the volume of {old_name}");
    assert_eq!(
        testkit::read_marker(&dir, "before-upgrade").as_deref(),
        Some(old_name.as_str()),
        "the data of {old_name} is under {new}"
    );
    let v = pv(c, old_pv).await?;
    assert_eq!(policy(&v), "Delete", "reclaim policy of {old_pv} restored");
    assert_eq!(
        v.annotations().get("chartup.io/carried-from"),
        Some(&format!("{ns}/{old_name}"))
    );
    assert!(!v.annotations().contains_key("chartup.io/original-reclaim-policy"));
    Ok(())
}

async fn ready_replicas(c: &Cluster, ns: &str, sts: &str) -> anyhow::Result<i32> {
    let api: Api<StatefulSet> = Api::namespaced(c.client().await?, ns);
    Ok(api
        .get_opt(sts)
        .await?
        .and_then(|s| s.status)
        .and_then(|s| s.ready_replicas)
        .unwrap_or(0))
}

/// Renamed StatefulSet and claim template with `--carry-volumes`: the plan (JSON and text) says
/// `carried` with the ordinal mapping; apply moves each PV to the new claim of the same ordinal;
/// the markers are under the new claims, the PVs' reclaim policy is Delete again, every step is
/// in the release record's journal. `chartup rollback` then carries them back to the old names.
#[tokio::test(flavor = "multi_thread")]
async fn renamed_statefulset_carried_over() -> anyhow::Result<()> {
    let c = cluster();
    let ns = c.fresh_namespace("carry-sts").await?;
    install(c, &ns.name, "ledger", "ledger/1.0.0").await?;
    let old = mark(c, &ns.name, &[ledger_old(0), ledger_old(1)]).await?;
    for (_, _, p) in &old {
        assert_eq!(policy(&pv(c, p).await?), "Delete");
    }
    let tmp = tempfile::tempdir()?;
    let plan_file = tmp.path().join("plan.json").display().to_string();
    let ch = chart("ledger/2.0.0");
    let r = chartup_ok(
        c,
        &[
            "plan",
            "ledger",
            &ch,
            "-n",
            &ns.name,
            "--carry-volumes",
            "-o",
            "json",
            "--out",
            &plan_file,
        ],
    )
    .await?;
    let plan: Json = serde_json::from_str(&r.stdout)?;
    let mut mapping: Vec<(String, String, u64)> = plan["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| v["fate"] == "carried")
        .map(|v| {
            (
                v["carry"]["fromClaim"].as_str().unwrap_or("").to_string(),
                v["carry"]["toClaim"].as_str().unwrap_or("").to_string(),
                v["carry"]["ordinal"].as_u64().unwrap_or(99),
            )
        })
        .collect();
    mapping.sort();
    assert_eq!(
        mapping,
        vec![(ledger_old(0), ledger_new(0), 0), (ledger_old(1), ledger_new(1), 1)],
        "{}",
        r.stdout
    );
    assert_eq!(plan["analysisVerdict"], "safe");
    let text = chartup_ok(c, &["plan", "ledger", &ch, "-n", &ns.name, "--carry-volumes"]).await?;
    assert!(
        text.stdout
            .contains(&format!("carried: {} → {}", ledger_old(0), ledger_new(0))),
        "{}",
        text.stdout
    );

    // postgres 13 → 14 on the carried volumes with no matrix: at risk (data format not checked).
    chartup_ok(c, &["apply", &plan_file, "--accept-risk"]).await?;
    for (i, o) in old.iter().enumerate() {
        assert_carried(c, &ns.name, o, &ledger_new(i)).await?;
        // Labelled as the StatefulSet controller labels its claims (its selector).
        let pvc = claim(c, &ns.name, &ledger_new(i))
            .await?
            .ok_or_else(|| anyhow!("missing"))?;
        assert_eq!(
            pvc.labels().get("app.kubernetes.io/component").map(String::as_str),
            Some("ledger")
        );
    }
    assert_eq!(ready_replicas(c, &ns.name, "ledger-ledger-journal").await?, 2);
    let sts: Api<StatefulSet> = Api::namespaced(c.client().await?, &ns.name);
    assert!(
        sts.get_opt("ledger-ledger").await?.is_none(),
        "the old StatefulSet is gone"
    );
    let st = chartup_ok(c, &["status", "ledger", "-n", &ns.name, "-o", "json"]).await?;
    let journal = st.stdout;
    for step in [
        format!(
            "carry {} → {}: PV {} protected (reclaim policy Delete → Retain)",
            ledger_old(0),
            ledger_new(0),
            old[0].2
        ),
        format!("released old claim {}", ledger_old(1)),
        format!("PV {} reserved for claim {}", old[1].2, ledger_new(1)),
        format!("done; PV {} reclaim policy Delete restored", old[0].2),
    ] {
        assert!(journal.contains(&step), "journal lacks {step:?}: {journal}");
    }

    // Rolling the carried upgrade back carries the volumes back: the old claim names return bound
    // to the same PVs, with the data, instead of coming back empty.
    let rb = chartup_ok(c, &["rollback", "ledger", "-n", &ns.name]).await?;
    for (i, (old_name, _, old_pv)) in old.iter().enumerate() {
        let dir = c.claim_dir(&c.client().await?, &ns.name, old_name, WAIT).await?;
        let pvc = claim(c, &ns.name, old_name)
            .await?
            .ok_or_else(|| anyhow!("claim {old_name} missing after the rollback"))?;
        assert_eq!(
            &volume_name(&pvc),
            old_pv,
            "{old_name} is back on its volume: {}",
            rb.stdout
        );
        assert_eq!(
            testkit::read_marker(&dir, "before-upgrade").as_deref(),
            Some(old_name.as_str())
        );
        assert!(
            claim(c, &ns.name, &ledger_new(i)).await?.is_none(),
            "{} released",
            ledger_new(i)
        );
        assert_eq!(
            policy(&pv(c, old_pv).await?),
            "Delete",
            "reclaim policy of {old_pv} restored"
        );
    }
    assert_eq!(ready_replicas(c, &ns.name, "ledger-ledger").await?, 2);
    Ok(())
}

/// The same upgrade without the flag: the plan says orphaned, apply refuses it (at risk) until
/// `--accept-risk`, then leaves the old claims untouched — same uid, same volume, data there —
/// while the renamed StatefulSet starts on new, empty claims.
#[tokio::test(flavor = "multi_thread")]
async fn renamed_statefulset_without_flag_orphans() -> anyhow::Result<()> {
    let c = cluster();
    let ns = c.fresh_namespace("carry-orphan").await?;
    install(c, &ns.name, "ledger", "ledger/1.0.0").await?;
    let old = mark(c, &ns.name, &[ledger_old(0), ledger_old(1)]).await?;
    let ch = chart("ledger/2.0.0");
    let r = chartup_ok(c, &["plan", "ledger", &ch, "-n", &ns.name, "-o", "json"]).await?;
    let plan: Json = serde_json::from_str(&r.stdout)?;
    let fates: Vec<&str> = plan["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| v["fate"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(fates, ["orphaned", "orphaned"], "{}", r.stdout);
    assert!(plan["volumes"][0].get("carry").is_none());

    // Orphaning is at risk: apply refuses it unless accepted (issue 17), changing nothing.
    let r = chartup(c, &["apply", "ledger", &ch, "-n", &ns.name, "--yes"]).await?;
    assert!(!r.ok, "refused: {}", r.stdout);
    assert!(r.stderr.contains("--accept-risk"), "{}", r.stderr);
    let h = chartup_history(c, &ns.name, "ledger").await?;
    assert_eq!(statuses(&h), [(1, "deployed".into())], "nothing recorded");
    chartup_ok(c, &["apply", "ledger", &ch, "-n", &ns.name, "--yes", "--accept-risk"]).await?;
    let client = c.client().await?;
    for (name, uid, pv_name) in &old {
        let pvc = claim(c, &ns.name, name)
            .await?
            .ok_or_else(|| anyhow!("{name} was deleted"))?;
        assert_eq!(pvc.uid().as_deref(), Some(uid.as_str()), "{name} is the same claim");
        assert_eq!(&volume_name(&pvc), pv_name);
        let dir = c.claim_dir(&client, &ns.name, name, WAIT).await?;
        assert_eq!(
            testkit::read_marker(&dir, "before-upgrade").as_deref(),
            Some(name.as_str())
        );
        assert_eq!(policy(&pv(c, pv_name).await?), "Delete", "untouched");
    }
    for i in 0..2 {
        let dir = c.claim_dir(&client, &ns.name, &ledger_new(i), WAIT).await?;
        let pvc = claim(c, &ns.name, &ledger_new(i))
            .await?
            .ok_or_else(|| anyhow!("missing"))?;
        assert!(old.iter().all(|(_, _, p)| *p != volume_name(&pvc)), "a new volume");
        assert_eq!(testkit::read_marker(&dir, "before-upgrade"), None, "starts empty");
    }
    Ok(())
}

/// Deployment + PVC → StatefulSet: without the flag the upgrade is refused as loss and nothing
/// changes; with it the claim's volume becomes ordinal 0's claim of the new StatefulSet.
#[tokio::test(flavor = "multi_thread")]
async fn deployment_claim_carried_into_statefulset() -> anyhow::Result<()> {
    let c = cluster();
    let ns = c.fresh_namespace("carry-deploy").await?;
    install(c, &ns.name, "docstore", "docstore/1.0.0").await?;
    let old = mark(c, &ns.name, &["docstore-docstore-data".to_string()]).await?;
    let deploys: Api<Deployment> = Api::namespaced(c.client().await?, &ns.name);
    let deploy_uid = deploys.get("docstore-docstore").await?.uid();
    let ch = chart("docstore/2.0.0");

    let r = chartup(c, &["apply", "docstore", &ch, "-n", &ns.name, "--yes"]).await?;
    assert!(!r.ok, "refused: {}", r.stdout);
    assert!(r.stderr.contains("would be lost"), "{}", r.stderr);
    let h = chartup_history(c, &ns.name, "docstore").await?;
    assert_eq!(statuses(&h), [(1, "deployed".into())], "nothing recorded");
    assert_eq!(
        deploys.get("docstore-docstore").await?.uid(),
        deploy_uid,
        "deployment untouched"
    );
    let pvc = claim(c, &ns.name, &old[0].0)
        .await?
        .ok_or_else(|| anyhow!("claim gone"))?;
    assert_eq!(pvc.uid(), Some(old[0].1.clone()));
    assert!(claim(c, &ns.name, "data-docstore-docstore-0").await?.is_none());

    let r = chartup_ok(
        c,
        &[
            "apply",
            "docstore",
            &ch,
            "-n",
            &ns.name,
            "--yes",
            "--carry-volumes",
            "--accept-risk",
        ],
    )
    .await?;
    assert!(
        r.stdout
            .contains("carried: docstore-docstore-data → data-docstore-docstore-0"),
        "{}",
        r.stdout
    );
    assert_carried(c, &ns.name, &old[0], "data-docstore-docstore-0").await?;
    assert_eq!(ready_replicas(c, &ns.name, "docstore-docstore").await?, 1);
    assert!(
        deploys.get_opt("docstore-docstore").await?.is_none(),
        "the Deployment is gone"
    );
    let h = chartup_history(c, &ns.name, "docstore").await?;
    assert_eq!(statuses(&h), [(1, "superseded".into()), (2, "deployed".into())]);
    Ok(())
}

/// A carry interrupted by SIGKILL once the journal shows the old claims released (the failpoint
/// holds the run there, so the kill does not race the executor): the PVs are Retain and bound to
/// nothing; `chartup recover` finishes the carry (new claims bound to the same volumes, policy
/// restored) and says so; the apply then completes, data intact.
#[tokio::test(flavor = "multi_thread")]
async fn carry_interrupted_then_recovered() -> anyhow::Result<()> {
    let c = cluster();
    let ns = c.fresh_namespace("carry-kill").await?;
    install(c, &ns.name, "ledger", "ledger/1.0.0").await?;
    let old = mark(c, &ns.name, &[ledger_old(0), ledger_old(1)]).await?;
    let ch = chart("ledger/2.0.0");
    let argv = [
        "apply",
        "ledger",
        ch.as_str(),
        "-n",
        ns.name.as_str(),
        "--yes",
        "--carry-volumes",
        "--accept-risk",
    ];
    // Kill it when the record shows both old claims released.
    let step = format!("released old claim {}", ledger_old(1));
    kill_at(c, &argv, "carry-released", &ns.name, "ledger", &step).await?;
    // The interrupted state: old claims gone, volumes kept (Retain), nothing claims them yet.
    for (name, _, p) in &old {
        assert!(claim(c, &ns.name, name).await?.is_none(), "{name} released");
        assert_eq!(policy(&pv(c, p).await?), "Retain", "{p} protected");
    }
    for i in 0..2 {
        assert!(claim(c, &ns.name, &ledger_new(i)).await?.is_none());
    }

    let rec = chartup_ok(c, &["recover", "ledger", "-n", &ns.name]).await?;
    for i in 0..2 {
        let line = format!("carry {} → {} (PV {}) finished", ledger_old(i), ledger_new(i), old[i].2);
        assert!(rec.stdout.contains(&line), "{line:?} in {}", rec.stdout);
        assert_carried(c, &ns.name, &old[i], &ledger_new(i)).await?;
    }
    let h = chartup_history(c, &ns.name, "ledger").await?;
    assert_eq!(statuses(&h), [(1, "deployed".into()), (2, "failed".into())]);

    // The upgrade completes on the carried claims.
    chartup_ok(c, &argv).await?;
    assert_eq!(ready_replicas(c, &ns.name, "ledger-ledger-journal").await?, 2);
    for (i, o) in old.iter().enumerate() {
        assert_carried(c, &ns.name, o, &ledger_new(i)).await?;
    }
    let h = chartup_history(c, &ns.name, "ledger").await?;
    assert_eq!(
        statuses(&h),
        [(1, "superseded".into()), (2, "failed".into()), (3, "deployed".into())]
    );
    Ok(())
}

/// Kill the apply (SIGKILL) while it is held at `failpoint`, once `chartup status` shows `step`.
async fn kill_at(
    c: &Cluster,
    argv: &[&str],
    failpoint: &str,
    ns: &str,
    release: &str,
    step: &str,
) -> anyhow::Result<()> {
    let mut child = chartup_cmd(c, argv)?.env("CHARTUP_FAILPOINT", failpoint).spawn()?;
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        if let Some(status) = child.try_wait()? {
            bail!("chartup ended ({status}) before the carry was interrupted");
        }
        let st = chartup(c, &["status", release, "-n", ns, "-o", "json"]).await?;
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

/// Interrupted after the PVs were protected but before any claim was released: `recover` undoes
/// the carry (original reclaim policy back, carry annotations removed, old claims untouched) and
/// says so; the apply then carries the volumes from the start.
#[tokio::test(flavor = "multi_thread")]
async fn carry_interrupted_before_release_is_undone() -> anyhow::Result<()> {
    let c = cluster();
    let ns = c.fresh_namespace("carry-undo").await?;
    install(c, &ns.name, "ledger", "ledger/1.0.0").await?;
    let old = mark(c, &ns.name, &[ledger_old(0), ledger_old(1)]).await?;
    let ch = chart("ledger/2.0.0");
    let argv = [
        "apply",
        "ledger",
        ch.as_str(),
        "-n",
        ns.name.as_str(),
        "--yes",
        "--carry-volumes",
        "--accept-risk",
    ];
    let step = format!("PV {} protected", old[1].2);
    kill_at(c, &argv, "carry-protected", &ns.name, "ledger", &step).await?;
    for (_, _, p) in &old {
        assert_eq!(policy(&pv(c, p).await?), "Retain", "{p} protected when killed");
    }

    let rec = chartup_ok(c, &["recover", "ledger", "-n", &ns.name]).await?;
    let client = c.client().await?;
    for (i, (name, uid, p)) in old.iter().enumerate() {
        let line = format!(
            "carry {name} → {} (PV {p}) undone: {name} still holds the volume",
            ledger_new(i)
        );
        assert!(rec.stdout.contains(&line), "{line:?} in {}", rec.stdout);
        let v = pv(c, p).await?;
        assert_eq!(policy(&v), "Delete", "original policy back");
        assert!(
            v.annotations().keys().all(|k| !k.starts_with("chartup.io/")),
            "{:?}",
            v.annotations()
        );
        let pvc = claim(c, &ns.name, name)
            .await?
            .ok_or_else(|| anyhow!("{name} deleted"))?;
        assert_eq!(pvc.uid().as_deref(), Some(uid.as_str()));
        let dir = c.claim_dir(&client, &ns.name, name, WAIT).await?;
        assert_eq!(
            testkit::read_marker(&dir, "before-upgrade").as_deref(),
            Some(name.as_str())
        );
    }

    chartup_ok(c, &argv).await?;
    for (i, o) in old.iter().enumerate() {
        assert_carried(c, &ns.name, o, &ledger_new(i)).await?;
    }
    assert_eq!(ready_replicas(c, &ns.name, "ledger-ledger-journal").await?, 2);
    Ok(())
}

/// A PVC of the release renamed (docstore 1.0.0 with its claim renamed `…-data` → `…-store`): the
/// new claim is created by the carry, bound to the old volume and owned like Helm's objects,
/// instead of being applied (and provisioned empty) with the configuration objects.
#[tokio::test(flavor = "multi_thread")]
async fn renamed_release_claim_carried() -> anyhow::Result<()> {
    let c = cluster();
    let ns = c.fresh_namespace("carry-pvc").await?;
    install(c, &ns.name, "docstore", "docstore/1.0.0").await?;
    let old = mark(c, &ns.name, &["docstore-docstore-data".to_string()]).await?;
    let tmp = tempfile::tempdir()?;
    let renamed = tmp.path().join("docstore");
    copy_dir(&root().join("charts/docstore/1.0.0"), &renamed)?;
    let db = renamed.join("templates/db.yaml");
    std::fs::write(
        &db,
        std::fs::read_to_string(&db)?.replace("-docstore-data", "-docstore-store"),
    )?;
    let meta = renamed.join("Chart.yaml");
    std::fs::write(
        &meta,
        std::fs::read_to_string(&meta)?.replace("version: 1.0.0", "version: 1.1.0"),
    )?;
    let ch = renamed.display().to_string();

    let r = chartup_ok(
        c,
        &[
            "apply",
            "docstore",
            &ch,
            "-n",
            &ns.name,
            "--yes",
            "--carry-volumes",
            "--accept-risk",
        ],
    )
    .await?;
    assert!(
        r.stdout
            .contains("carried: docstore-docstore-data → docstore-docstore-store"),
        "{}",
        r.stdout
    );
    assert_carried(c, &ns.name, &old[0], "docstore-docstore-store").await?;
    let pvc = claim(c, &ns.name, "docstore-docstore-store")
        .await?
        .ok_or_else(|| anyhow!("missing"))?;
    assert_eq!(
        pvc.labels().get("app.kubernetes.io/managed-by").map(String::as_str),
        Some("Helm")
    );
    assert_eq!(
        pvc.annotations().get("meta.helm.sh/release-name").map(String::as_str),
        Some("docstore")
    );
    let deploys: Api<Deployment> = Api::namespaced(c.client().await?, &ns.name);
    let d = deploys.get("docstore-docstore").await?;
    assert_eq!(d.status.and_then(|s| s.available_replicas), Some(1));
    Ok(())
}

/// Issue 17: a database StatefulSet renamed `db-master` → `db` with its component label moving
/// from `master` to `primary` (same claim template `data`) is paired by substance; without
/// `--carry-volumes` apply refuses the orphaning plan (at risk), with it each ordinal's volume
/// moves to the new StatefulSet's claim of the same ordinal, data included.
#[tokio::test(flavor = "multi_thread")]
async fn renamed_component_is_paired_and_carried() -> anyhow::Result<()> {
    let c = cluster();
    let ns = c.fresh_namespace("carry-rename").await?;
    install(c, &ns.name, "rel", "../tests/data/charts/precision/rename-db/1.0.0").await?;
    let names: Vec<String> = (0..2).map(|i| format!("data-db-master-{i}")).collect();
    let old = mark(c, &ns.name, &names).await?;
    let ch = chart("../tests/data/charts/precision/rename-db/2.0.0");

    let r = chartup(c, &["apply", "rel", &ch, "-n", &ns.name, "--yes"]).await?;
    assert!(!r.ok, "refused: {}", r.stdout);
    assert!(r.stderr.contains("--accept-risk"), "{}", r.stderr);
    assert_eq!(
        statuses(&chartup_history(c, &ns.name, "rel").await?),
        [(1, "deployed".into())],
        "nothing recorded"
    );

    let r = chartup_ok(c, &["apply", "rel", &ch, "-n", &ns.name, "--yes", "--carry-volumes"]).await?;
    assert!(
        r.stdout.contains("StatefulSet.apps/db-master →"),
        "pairing shown: {}",
        r.stdout
    );
    assert!(
        r.stdout.contains("carried: data-db-master-0 → data-db-0"),
        "{}",
        r.stdout
    );
    for (i, o) in old.iter().enumerate() {
        assert_carried(c, &ns.name, o, &format!("data-db-{i}")).await?;
    }
    assert_eq!(ready_replicas(c, &ns.name, "db").await?, 2);
    Ok(())
}

/// Issue 17: at-risk outcomes accepted one by one. rename-db 1.0.0 → 2.0.0 without carrying
/// orphans both ordinals' claims: accepting one of them is refused (naming the other) with nothing
/// recorded; accepting both runs, and the new revision's record keeps who accepted which claim
/// (`chartup_accepted`), which `chartup history` and `status` show — while helm 4 and helm 3 still
/// read the record (`helm history`, `helm get all`), and the orphaned claims stay untouched.
#[tokio::test(flavor = "multi_thread")]
async fn accepted_risk_is_per_claim_and_recorded_where_helm_still_reads() -> anyhow::Result<()> {
    let c = cluster();
    let ns = c.fresh_namespace("accept-risk").await?;
    install(c, &ns.name, "rel", "../tests/data/charts/precision/rename-db/1.0.0").await?;
    let names: Vec<String> = (0..2).map(|i| format!("data-db-master-{i}")).collect();
    let old = mark(c, &ns.name, &names).await?;
    let ch = chart("../tests/data/charts/precision/rename-db/2.0.0");

    let r = chartup(
        c,
        &[
            "apply",
            "rel",
            &ch,
            "-n",
            &ns.name,
            "--yes",
            "--accept-risk=claim/data-db-master-0",
        ],
    )
    .await?;
    ensure!(!r.ok, "one claim of two accepted must be refused: {}", r.stdout);
    ensure!(
        r.stderr.contains("not accepted: claim/data-db-master-1;"),
        "{}",
        r.stderr
    );
    ensure!(
        statuses(&chartup_history(c, &ns.name, "rel").await?) == [(1, "deployed".to_string())],
        "nothing recorded"
    );

    chartup_ok(
        c,
        &[
            "apply",
            "rel",
            &ch,
            "-n",
            &ns.name,
            "--yes",
            "--accept-risk=claim/data-db-master-0",
            "--accept-risk=claim/data-db-master-1",
        ],
    )
    .await?;
    let h = chartup_history(c, &ns.name, "rel").await?;
    ensure!(
        statuses(&h) == [(1, "superseded".to_string()), (2, "deployed".to_string())],
        "{h:?}"
    );
    let acc = &h[1]["accepted"];
    let ids: Vec<&str> = acc["outcomes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|o| o["id"].as_str())
        .collect();
    ensure!(ids == ["claim/data-db-master-0", "claim/data-db-master-1"], "{acc}");
    ensure!(acc["outcomes"][0]["verdict"] == "at-risk", "{acc}");
    ensure!(
        acc["flags"] == serde_json::json!(["--accept-risk=claim/data-db-master-0,claim/data-db-master-1"]),
        "{acc}"
    );
    ensure!(acc["by"].as_str().is_some_and(|b| b.contains('@')), "{acc}");
    ensure!(h[0].get("accepted").is_none(), "revision 1 accepted nothing: {}", h[0]);
    let table = chartup_ok(c, &["history", "rel", "-n", &ns.name]).await?;
    ensure!(
        table.stdout.contains("revision 2: accepted by ") && table.stdout.contains("claim/data-db-master-1 (at-risk)"),
        "{}",
        table.stdout
    );
    let status = chartup_ok(c, &["status", "rel", "-n", &ns.name]).await?;
    ensure!(
        status.stdout.contains("ACCEPTED: accepted by ") && status.stdout.contains("claim/data-db-master-0 (at-risk)"),
        "{}",
        status.stdout
    );

    // Helm reads the record as before: the extra field is ignored by both lines.
    for helm in helms()? {
        let hh = helm_history(c, &helm, &ns.name, "rel")?;
        ensure!(
            statuses(&hh) == [(1, "superseded".to_string()), (2, "deployed".to_string())],
            "{}: {hh:?}",
            helm.display()
        );
        let out = std::process::Command::new(&helm)
            .args(["get", "all", "rel", "-n", &ns.name, "--revision", "2", "--kubeconfig"])
            .arg(&c.kubeconfig)
            .env_remove("KUBECONFIG")
            .output()?;
        ensure!(
            out.status.success(),
            "{} get all: {}",
            helm.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        ensure!(
            String::from_utf8_lossy(&out.stdout).contains("name: db\n"),
            "the manifest of revision 2"
        );
    }
    // The accepted claims were orphaned, not touched: same uid, same volume.
    for (name, uid, pv) in &old {
        let now = claim(c, &ns.name, name)
            .await?
            .ok_or_else(|| anyhow!("claim {name} deleted"))?;
        ensure!(now.uid().as_deref() == Some(uid.as_str()), "{name} recreated");
        ensure!(&volume_name(&now) == pv, "{name} rebound");
    }
    Ok(())
}

/// Issue 17: a rename no evidence shows (new workload name, component label, image repository,
/// container and claim template; only the mount path stays), declared by the chart's matrix
/// (`components.cache.renamedFrom: [master]`, `carryVolumes: true`): apply with the matrix and
/// no other flag pairs the two StatefulSets, says who declared it, and moves each ordinal's
/// volume to the new template's claim of the same ordinal, data included.
#[tokio::test(flavor = "multi_thread")]
async fn rename_declared_by_the_matrix_is_carried() -> anyhow::Result<()> {
    let c = cluster();
    let ns = c.fresh_namespace("carry-declared").await?;
    install(
        c,
        &ns.name,
        "rel",
        "../tests/data/charts/precision/rename-declared/1.0.0",
    )
    .await?;
    let names: Vec<String> = (0..2).map(|i| format!("data-rel-cache-master-{i}")).collect();
    let old = mark(c, &ns.name, &names).await?;
    let ch = chart("../tests/data/charts/precision/rename-declared/2.0.0");
    let m = root()
        .join("tests/data/matrices/rename-declared.yaml")
        .display()
        .to_string();

    let r = chartup_ok(c, &["apply", "rel", &ch, "-n", &ns.name, "--yes", "--matrix", &m]).await?;
    ensure!(
        r.stdout.contains("declared by matrix") && r.stdout.contains("components.cache.renamedFrom: master"),
        "pairing and who declared it: {}",
        r.stdout
    );
    for (i, o) in old.iter().enumerate() {
        assert_carried(c, &ns.name, o, &format!("redis-data-rel-cache-{i}")).await?;
    }
    ensure!(ready_replicas(c, &ns.name, "rel-cache").await? == 2);
    Ok(())
}

/// A StatefulSet whose volumeClaimTemplates change (immutable: `helm upgrade` fails there) is
/// recreated as the plan says: deleted with its pods and claims orphaned, created again, its pods
/// rolled to the new spec; the claims and their data stay.
#[tokio::test(flavor = "multi_thread")]
async fn statefulset_recreate_keeps_claims() -> anyhow::Result<()> {
    let c = cluster();
    let ns = c.fresh_namespace("apply-recreate").await?;
    let tmp = tempfile::tempdir()?;
    let write = |version: &str, tier: &str, tag: &str| -> anyhow::Result<String> {
        let d = tmp.path().join(format!("db-{version}"));
        std::fs::create_dir_all(d.join("templates"))?;
        std::fs::write(
            d.join("Chart.yaml"),
            format!("apiVersion: v2\nname: db\nversion: {version}\nappVersion: \"{version}\"\n"),
        )?;
        std::fs::write(
            d.join("templates/sts.yaml"),
            format!(
                "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\nspec:\n  serviceName: db\n  replicas: 2\n  selector:\n    matchLabels: {{app: db}}\n  template:\n    metadata:\n      labels: {{app: db}}\n    spec:\n      containers:\n        - name: db\n          image: postgres:{tag}\n  volumeClaimTemplates:\n    - metadata:\n        name: data\n        labels: {{tier: {tier}}}\n      spec:\n        accessModes: [ReadWriteOnce]\n        resources: {{requests: {{storage: 1Gi}}}}\n"
            ),
        )?;
        Ok(d.display().to_string())
    };
    let v1 = write("1.0.0", "a", "15")?;
    let v2 = write("2.0.0", "b", "16")?;
    chartup_ok(c, &["apply", "db", &v1, "-n", &ns.name, "--yes"]).await?;
    let sts: Api<StatefulSet> = Api::namespaced(c.client().await?, &ns.name);
    let uid_before = sts.get("db").await?.uid();
    let dirs = crate::apply::claim_dirs(c, &ns.name).await?;
    assert_eq!(dirs.len(), 2);
    for (name, dir) in &dirs {
        testkit::write_marker(dir, "before", name)?;
    }
    // postgres 15 → 16 without a matrix is at risk (issue 17): this test is about the recreate.
    let r = chartup_ok(c, &["apply", "db", &v2, "-n", &ns.name, "--yes", "--accept-risk"]).await?;
    assert!(r.stdout.contains("(recreate"), "the plan says recreate: {}", r.stdout);
    let s = sts.get("db").await?;
    assert_ne!(s.uid(), uid_before, "a new StatefulSet object");
    let tier = s
        .spec
        .as_ref()
        .and_then(|sp| sp.volume_claim_templates.as_ref())
        .and_then(|v| v.first())
        .and_then(|t| t.metadata.labels.as_ref())
        .and_then(|l| l.get("tier").cloned());
    assert_eq!(tier.as_deref(), Some("b"));
    for p in pods(c, &ns.name).await? {
        let img = p
            .spec
            .as_ref()
            .and_then(|s| s.containers.first())
            .and_then(|c| c.image.clone());
        assert_eq!(img.as_deref(), Some("postgres:16"), "{}", p.name_any());
    }
    let after = crate::apply::claim_dirs(c, &ns.name).await?;
    assert_eq!(after, dirs, "same claims, same volumes");
    for (name, dir) in &after {
        assert_eq!(testkit::read_marker(dir, "before").as_deref(), Some(name.as_str()));
    }
    Ok(())
}
