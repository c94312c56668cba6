//! A Helm user's day with chartup on the test cluster (issue #18): install with values, upgrade
//! without values (the deployed values reused, and the plan says so), list, get values, a
//! release helm wrote with `HELM_DRIVER=configmap` (read, and refused under the other driver),
//! uninstall with its volume report. Expected values come from the real helm and API server:
//! helm's own `list`/`get values` output is compared where chartup claims to print the same.

use crate::e2e_support;

use e2e_support::*;
use serde_json::Value as Json;
use testkit::cluster;

const KV_IMAGE: &str = "image.repository=docker.io/chartup/aerospike-server";

fn helm_out(c: &testkit::Cluster, args: &[&str], env: &[(&str, &str)]) -> anyhow::Result<String> {
    let mut cmd = std::process::Command::new(testkit::helm()?);
    cmd.args(args)
        .arg("--kubeconfig")
        .arg(&c.kubeconfig)
        .env_remove("KUBECONFIG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output()?;
    anyhow::ensure!(
        out.status.success(),
        "helm {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

async fn chartup_env(c: &testkit::Cluster, args: &[&str], env: &[(&str, &str)]) -> anyhow::Result<Run> {
    let mut cmd = chartup_cmd(c, args)?;
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = tokio::time::timeout(RUN, cmd.spawn()?.wait_with_output()).await??;
    Ok(Run {
        ok: out.status.success(),
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        ended: std::time::Instant::now(),
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_helm_users_day() -> anyhow::Result<()> {
    let c = cluster();
    let ns = c.fresh_namespace("helmuser").await?;
    let n = ns.name.as_str();
    let kv57 = chart("kvstore/5.7.0");
    let kv60 = chart("kvstore/6.0.0");

    // Install with values (HELM_NAMESPACE instead of -n: helm's namespace rule).
    chartup_env(
        c,
        &[
            "apply",
            "kv",
            &kv57,
            "--set",
            KV_IMAGE,
            "--set",
            "replicas=1",
            "--set",
            "featureKey=abc",
            "--yes",
        ],
        &[("HELM_NAMESPACE", n)],
    )
    .await
    .and_then(|r| {
        anyhow::ensure!(r.ok, "install failed:\n{}\n{}", r.stdout, r.stderr);
        Ok(())
    })?;

    // Upgrade without values: the plan says the deployed values are reused and changes none.
    let plan = chartup_ok(c, &["plan", "kv", &kv60, "-n", n, "-o", "json"]).await?;
    let p: Json = serde_json::from_str(&plan.stdout)?;
    assert_eq!(p["userValues"]["reused"], "whole", "{}", plan.stdout);
    assert_eq!(p["userValues"]["changes"], serde_json::json!([]));
    // With a value given (helm's rule: the given values replace the deployed ones) the dropped
    // values are named in a warning.
    let plan = chartup_ok(c, &["plan", "kv", &kv60, "-n", n, "--set", KV_IMAGE]).await?;
    assert!(
        plan.stdout
            .contains("dropped and fall back to the chart's defaults: featureKey, replicas"),
        "{}",
        plan.stdout
    );
    // Without a terminal and without --yes: the plan is shown, then the refusal, as a JSON
    // result event with -o json.
    let refused = chartup(c, &["apply", "kv", &kv60, "-n", n, "-o", "json"]).await?;
    assert!(!refused.ok);
    let ev = refused.events();
    assert_eq!(
        ev.first().map(|e| e["event"].clone()),
        Some("plan".into()),
        "{}",
        refused.stdout
    );
    let last = ev.last().cloned().unwrap_or_default();
    assert_eq!(
        (last["event"].as_str(), last["status"].as_str()),
        (Some("result"), Some("error")),
        "{last}"
    );
    assert!(last["message"].as_str().unwrap_or("").contains("--yes"), "{last}");
    let up = chartup_ok(
        c,
        &[
            "apply",
            "kv",
            &kv60,
            "-n",
            n,
            "--yes",
            "-o",
            "json",
            "--description",
            "day two",
            // kvstore 6.0.0 jumps its image's major version with no matrix given (issue 17).
            "--accept-risk",
        ],
    )
    .await?;
    let last = up.events().last().cloned().unwrap_or_default();
    assert_eq!(
        (
            last["event"].as_str(),
            last["status"].as_str(),
            last["revision"].as_u64()
        ),
        (Some("result"), Some("deployed"), Some(2)),
        "{}",
        up.stdout
    );
    let h: Json = serde_json::from_str(&helm_out(c, &["history", "kv", "-n", n, "-o", "json"], &[])?)?;
    assert_eq!(h[1]["description"], "day two");
    // helm agrees: revision 2 keeps the user values of revision 1.
    let helm_values: Json = serde_json::from_str(&helm_out(c, &["get", "values", "kv", "-n", n, "-o", "json"], &[])?)?;
    assert_eq!(helm_values["replicas"], 1);
    assert_eq!(helm_values["featureKey"], "abc");

    // list and get values print what helm prints.
    let ours = chartup_ok(c, &["list", "-n", n, "-o", "json"]).await?;
    let theirs = helm_out(c, &["list", "-n", n, "-o", "json"], &[])?;
    assert_eq!(
        serde_json::from_str::<Json>(&ours.stdout)?,
        serde_json::from_str::<Json>(&theirs)?
    );
    let ours = chartup_ok(c, &["get", "values", "kv", "-n", n]).await?;
    assert_eq!(ours.stdout, helm_out(c, &["get", "values", "kv", "-n", n], &[])?);
    let ours = chartup_ok(c, &["get", "values", "kv", "-n", n, "--revision", "1", "-o", "json"]).await?;
    assert_eq!(
        ours.stdout,
        helm_out(
            c,
            &["get", "values", "kv", "-n", n, "--revision", "1", "-o", "json"],
            &[]
        )?
    );
    let ours = chartup_ok(c, &["get", "manifest", "kv", "-n", n]).await?;
    assert_eq!(ours.stdout, helm_out(c, &["get", "manifest", "kv", "-n", n], &[])?);

    // A release helm stores with the ConfigMap driver: visible with HELM_DRIVER=configmap,
    // refused (never installed twice) with the default driver.
    let coalesce = root().join("tests/data/charts/coalesce").display().to_string();
    helm_out(
        c,
        &["install", "cm", &coalesce, "-n", n, "--set", "foo=bar"],
        &[("HELM_DRIVER", "configmap")],
    )?;
    let cm = [("HELM_DRIVER", "configmap")];
    let h = chartup_env(c, &["history", "cm", "-n", n, "-o", "json"], &cm).await?;
    assert!(h.ok, "{}", h.stderr);
    assert_eq!(history_json(&h)?.len(), 1);
    let ours = chartup_env(c, &["list", "-n", n], &cm).await?;
    assert_eq!(ours.stdout, helm_out(c, &["list", "-n", n], &cm)?);
    let ours = chartup_env(c, &["get", "values", "cm", "-n", n, "-a"], &cm).await?;
    assert_eq!(ours.stdout, helm_out(c, &["get", "values", "cm", "-n", n, "-a"], &cm)?);
    let refused = chartup(c, &["apply", "cm", &coalesce, "-n", n, "--yes"]).await?;
    assert!(!refused.ok);
    assert!(
        refused.stderr.contains("stored by the configmap driver"),
        "{}",
        refused.stderr
    );
    let api: testkit::kube::Api<testkit::k8s_openapi::api::core::v1::Secret> =
        testkit::kube::Api::namespaced(c.client().await?, n);
    let secrets = api
        .list(&testkit::kube::api::ListParams::default().labels("name=cm,owner=helm"))
        .await?;
    assert!(secrets.items.is_empty(), "a second history was written");

    // --create-namespace creates the release's namespace.
    let other = format!("{n}-x");
    let r = chartup(
        c,
        &["apply", "cx", &coalesce, "-n", &other, "--yes", "--create-namespace"],
    )
    .await?;
    let nss: testkit::kube::Api<testkit::k8s_openapi::api::core::v1::Namespace> =
        testkit::kube::Api::all(c.client().await?);
    let created = nss.get_opt(&other).await?.is_some();
    let _ = nss.delete(&other, &Default::default()).await;
    assert!(r.ok, "{}\n{}", r.stdout, r.stderr);
    assert!(created);

    // Uninstall: the plan names the StatefulSet's claim as surviving; after it, the claim is there.
    let dry = chartup_ok(c, &["uninstall", "kv", "-n", n, "--dry-run"]).await?;
    assert!(
        dry.stdout.contains("survives: claim data-kv-kvstore-0"),
        "{}",
        dry.stdout
    );
    let refused = chartup(c, &["uninstall", "kv", "-n", n]).await?;
    assert!(
        !refused.ok && refused.stdout.contains("Volumes:"),
        "the plan comes before the refusal"
    );
    chartup_ok(c, &["uninstall", "kv", "-n", n, "--yes", "--keep-history"]).await?;
    let h = helm_out(c, &["history", "kv", "-n", n, "-o", "json"], &[])?;
    let h: Json = serde_json::from_str(&h)?;
    assert_eq!(
        h.as_array().and_then(|a| a.last()).map(|r| r["status"].clone()),
        Some("uninstalled".into())
    );
    let pvcs: testkit::kube::Api<testkit::k8s_openapi::api::core::v1::PersistentVolumeClaim> =
        testkit::kube::Api::namespaced(c.client().await?, n);
    assert!(pvcs.get_opt("data-kv-kvstore-0").await?.is_some());
    let sts: testkit::kube::Api<testkit::k8s_openapi::api::apps::v1::StatefulSet> =
        testkit::kube::Api::namespaced(c.client().await?, n);
    assert!(sts
        .get_opt("kv-kvstore")
        .await?
        .is_none_or(|s| s.metadata.deletion_timestamp.is_some()));
    Ok(())
}
