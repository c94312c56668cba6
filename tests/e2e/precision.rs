//! End-to-end tests of issue 17's connected-plan decisions on the real API server (kube-apiserver
//! 1.20 of the test cluster): a recreate the offline rules predict but the server accepts in place
//! is dropped (and apply updates in place), and the server's own rewrites of quantities and empty
//! values are not reported as drift while a real edit is. Charts: tests/data/charts/precision
//! (`job-defaults`, `drift-noise`). The per-claim acceptance and the declared-rename carry are in
//! `carry.rs`, beside the other carries.

use anyhow::{anyhow, ensure};
use serde_json::Value as Json;
use testkit::cluster;
use testkit::kube::api::Api;
use testkit::kube::ResourceExt;

use crate::e2e_support;
use e2e_support::*;

/// Issue 17, "server accepts, so the recreate is dropped": job-defaults 2.0.0 spells out pod
/// defaults in a Job's template. Offline, chartup must predict a recreate (spec.template is
/// immutable and its text changes); against the cluster the server-side dry run of the in-place
/// update is accepted (the server defaults those fields anyway), so the connected plan drops the
/// recreate and says why — and apply updates the Job in place: same uid, no second run.
#[tokio::test(flavor = "multi_thread")]
async fn server_accepted_update_drops_the_predicted_recreate() -> anyhow::Result<()> {
    use testkit::k8s_openapi::api::batch::v1::Job;
    let c = cluster();
    let ns = c.fresh_namespace("recreate-dropped").await?;
    let dir = root().join("tests/data/charts/precision/job-defaults");
    let (v1, v2) = (
        dir.join("1.0.0").display().to_string(),
        dir.join("2.0.0").display().to_string(),
    );
    chartup_ok(c, &["apply", "rel", &v1, "-n", &ns.name, "--yes"]).await?;
    let jobs: Api<Job> = Api::namespaced(c.client().await?, &ns.name);
    let before = jobs.get("rel-migrate").await?;
    let uid = before.uid().ok_or_else(|| anyhow!("no uid"))?;

    let action = |plan: &Json| -> Option<Json> {
        plan["changes"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|ch| ch["key"]["kind"] == "Job" && ch["key"]["name"] == "rel-migrate")
            .cloned()
    };
    let offline = chartup_ok(
        c,
        &[
            "plan",
            "--release",
            "rel",
            "--from",
            &v1,
            "--to",
            &v2,
            "-n",
            &ns.name,
            "-o",
            "json",
        ],
    )
    .await?;
    let offline: Json = serde_json::from_str(&offline.stdout)?;
    let job = action(&offline).ok_or_else(|| anyhow!("no Job change offline"))?;
    ensure!(
        job["action"] == "recreate",
        "the offline rules predict a recreate: {job}"
    );

    let connected = chartup_ok(c, &["plan", "rel", &v2, "-n", &ns.name, "-o", "json"]).await?;
    let connected: Json = serde_json::from_str(&connected.stdout)?;
    let job = action(&connected).ok_or_else(|| anyhow!("no Job change connected"))?;
    ensure!(job["action"] == "change", "the server accepts the update: {job}");
    ensure!(
        job["notes"]
            .to_string()
            .contains("the server accepts this update in place (server-side dry run): updated, not recreated"),
        "{job}"
    );
    ensure!(connected["summary"]["recreate"] == 0, "{}", connected["summary"]);
    let text = chartup_ok(c, &["plan", "rel", &v2, "-n", &ns.name, "--no-diff"]).await?;
    ensure!(!text.stdout.contains("Recreated"), "{}", text.stdout);

    chartup_ok(c, &["apply", "rel", &v2, "-n", &ns.name, "--yes"]).await?;
    let after = jobs.get("rel-migrate").await?;
    ensure!(after.uid().as_deref() == Some(uid.as_str()), "the Job was recreated");
    let spec = after
        .spec
        .and_then(|s| s.template.spec)
        .ok_or_else(|| anyhow!("no pod spec"))?;
    ensure!(spec.dns_policy.as_deref() == Some("ClusterFirst"), "{spec:?}");
    ensure!(
        statuses(&chartup_history(c, &ns.name, "rel").await?)
            == [(1, "superseded".to_string()), (2, "deployed".to_string())],
        "recorded"
    );
    Ok(())
}

/// Issue 17, "drift without noise": drift-noise 1.0.0 writes values the API server rewrites
/// (`2000m` → `2`, `4096Mi` → `4Gi`, `4.5` → `4500m`, `16384Mi` → `16Gi`, `1024Mi` → `1Gi`; `limits: {}`,
/// `value: ""` and `readOnly: false` dropped). The live objects read back differently, yet the
/// connected plan reports no drift; a real edit of one of those fields is then reported, and only
/// that one.
#[tokio::test(flavor = "multi_thread")]
async fn server_rewrites_are_not_drift_but_edits_are() -> anyhow::Result<()> {
    use testkit::k8s_openapi::api::apps::v1::Deployment;
    use testkit::kube::api::{Patch, PatchParams};
    let c = cluster();
    let ns = c.fresh_namespace("drift-noise").await?;
    let dir = root().join("tests/data/charts/precision/drift-noise");
    let (v1, v2) = (
        dir.join("1.0.0").display().to_string(),
        dir.join("2.0.0").display().to_string(),
    );
    chartup_ok(c, &["apply", "rel", &v1, "-n", &ns.name, "--yes"]).await?;
    // The server did rewrite them (else this test would show nothing).
    let deploys: Api<Deployment> = Api::namespaced(c.client().await?, &ns.name);
    let live = serde_json::to_value(deploys.get("rel-app").await?)?;
    let ctr = &live["spec"]["template"]["spec"]["containers"][0];
    ensure!(ctr["resources"]["requests"]["cpu"] == "2", "{ctr}");
    ensure!(ctr["resources"]["requests"]["memory"] == "4Gi", "{ctr}");
    ensure!(ctr["env"][0].get("value").is_none(), "{ctr}");
    ensure!(ctr["volumeMounts"][0].get("readOnly").is_none(), "{ctr}");

    let drift = |plan: &Json| -> Vec<String> {
        plan["warnings"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|w| w.as_str())
            .filter(|w| w.starts_with("live drift"))
            .map(str::to_string)
            .collect()
    };
    let r = chartup_ok(c, &["plan", "rel", &v2, "-n", &ns.name, "-o", "json"]).await?;
    let plan: Json = serde_json::from_str(&r.stdout)?;
    ensure!(drift(&plan).is_empty(), "false drift: {:?}", drift(&plan));

    // A real edit: the memory request doubles.
    deploys
        .patch(
            "rel-app",
            &PatchParams::default(),
            &Patch::Json::<()>(serde_json::from_value(serde_json::json!([
                {"op": "replace", "path": "/spec/template/spec/containers/0/resources/requests/memory", "value": "8Gi"}
            ]))?),
        )
        .await?;
    let r = chartup_ok(c, &["plan", "rel", &v2, "-n", &ns.name, "-o", "json"]).await?;
    let plan: Json = serde_json::from_str(&r.stdout)?;
    let d = drift(&plan);
    ensure!(d.len() == 1, "{d:?}");
    ensure!(
        d[0].contains(&format!("{}/Deployment.apps/rel-app differs", ns.name)) && d[0].contains("memory"),
        "{d:?}"
    );
    ensure!(!d[0].contains("cpu") && !d[0].contains("EMPTY"), "only the edit: {d:?}");
    Ok(())
}
