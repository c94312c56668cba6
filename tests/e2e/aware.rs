//! End-to-end tests of cluster-aware rendering and of the preflight, on the real control plane of
//! the test cluster (Kubernetes 1.20.2, docs/test-cluster.md).
//!
//! The keeper chart (charts/keeper) keeps a generated password through `lookup` and writes what its
//! render saw (`.Release.IsUpgrade`, `.Release.Revision`, `.Capabilities`) into a ConfigMap, so the
//! tests read from the cluster what chartup rendered. keeper 1.2.0 carries a hazard only the API
//! server sees (a memory limit below the request); the preflight must stop that upgrade before any
//! write, which the test checks by comparing every object of every namespaced resource type of the
//! namespace before and after.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context as _};
use serde_json::Value as Json;
use testkit::k8s_openapi::api::core::v1::{ConfigMap, Secret};
use testkit::kube::api::{Api, DynamicObject};
use testkit::kube::discovery::{verbs, Discovery, Scope};
use testkit::kube::{Client, ResourceExt};
use testkit::{cluster, Cluster};

use crate::e2e_support;
use e2e_support::*;

const RELEASE: &str = "k";

fn keeper(version: &str) -> String {
    chart(&format!("keeper/{version}"))
}

async fn password(c: &Cluster, ns: &str) -> anyhow::Result<(String, String)> {
    let api: Api<Secret> = Api::namespaced(c.client().await?, ns);
    let s = api.get("k-keeper").await?;
    let pw = s
        .data
        .as_ref()
        .and_then(|d| d.get("password"))
        .map(|b| String::from_utf8_lossy(&b.0).into_owned())
        .context("the Secret has no password")?;
    Ok((pw, s.resource_version().unwrap_or_default()))
}

async fn render_info(c: &Cluster, ns: &str) -> anyhow::Result<BTreeMap<String, String>> {
    let api: Api<ConfigMap> = Api::namespaced(c.client().await?, ns);
    Ok(api.get("k-keeper-render").await?.data.unwrap_or_default())
}

fn expect(info: &BTreeMap<String, String>, key: &str, want: &str) -> anyhow::Result<()> {
    let have = info.get(key).map(String::as_str).unwrap_or("(absent)");
    ensure!(
        have == want,
        "render info {key}: want {want:?}, have {have:?} (all: {info:?})"
    );
    Ok(())
}

/// The action the plan JSON gives the object `kind/name`.
fn action(plan: &Json, kind: &str, name: &str) -> anyhow::Result<String> {
    plan["changes"]
        .as_array()
        .context("plan has no changes")?
        .iter()
        .find(|c| c["key"]["kind"] == kind && c["key"]["name"] == name)
        .and_then(|c| c["action"].as_str().map(str::to_string))
        .with_context(|| format!("no change for {kind}/{name} in the plan"))
}

/// install 1.0.0, plan and upgrade to 1.1.0: the password generated at install survives (lookup),
/// the plan against the cluster shows the Secret unchanged and never prints the password, the
/// render saw the right release and server facts. The offline plan (chart to chart, no cluster)
/// shows what Helm without the cluster would do: a new password.
#[tokio::test(flavor = "multi_thread")]
async fn lookup_keeps_the_password_across_an_upgrade() -> anyhow::Result<()> {
    let c = cluster();
    let ns = c.fresh_namespace("aware-keep").await?;
    let ns = ns.name.as_str();

    chartup_ok(c, &["apply", RELEASE, &keeper("1.0.0"), "-n", ns, "--yes"]).await?;
    let (pw, rv) = password(c, ns).await?;
    ensure!(
        pw.len() == 24,
        "a generated 24-character password, got {} chars",
        pw.len()
    );
    let info = render_info(c, ns).await?;
    expect(&info, "isInstall", "true")?;
    expect(&info, "isUpgrade", "false")?;
    expect(&info, "revision", "1")?;
    expect(&info, "kubeVersion", "v1.20.2")?;
    // 1.20 serves policy/v1beta1, not policy/v1 (which helm's offline default list has).
    expect(&info, "servesPolicyV1", "false")?;
    expect(&info, "servesPolicyV1beta1", "true")?;
    // group/version/Kind entries come from discovery (the offline list has none).
    expect(&info, "servesStatefulSetKind", "true")?;

    // The plan against the cluster, in every output format.
    let json = chartup_ok(c, &["plan", RELEASE, &keeper("1.1.0"), "-n", ns, "-o", "json"]).await?;
    let plan: Json = serde_json::from_str(&json.stdout).context("plan -o json")?;
    ensure!(
        action(&plan, "Secret", "k-keeper")? == "unchanged",
        "the Secret keeps its password: {}",
        json.stdout
    );
    ensure!(action(&plan, "Deployment", "k-keeper")? == "change");
    let text = chartup_ok(c, &["plan", RELEASE, &keeper("1.1.0"), "-n", ns]).await?;
    let md = chartup_ok(c, &["plan", RELEASE, &keeper("1.1.0"), "-n", ns, "-o", "markdown"]).await?;
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(&pw);
    for (what, out) in [("json", &json), ("text", &text), ("markdown", &md)] {
        ensure!(
            !out.stdout.contains(&pw) && !out.stdout.contains(&b64) && !out.stderr.contains(&pw),
            "plan -o {what} shows the password"
        );
    }

    // Offline, as `helm template` renders (lookup answers nothing): a new password every render.
    let offline = chartup_ok(
        c,
        &[
            "plan",
            "--from",
            &keeper("1.0.0"),
            "--to",
            &keeper("1.1.0"),
            "--release",
            RELEASE,
            "-n",
            ns,
            "-o",
            "json",
        ],
    )
    .await?;
    let offline: Json = serde_json::from_str(&offline.stdout)?;
    let secret_diff = offline["changes"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["key"]["kind"] == "Secret"))
        .and_then(|c| c["diff"].as_str())
        .unwrap_or("");
    ensure!(
        action(&offline, "Secret", "k-keeper")? == "change" && secret_diff.contains("password: (hidden) changed"),
        "rendered without the cluster, the password would be regenerated: {secret_diff}"
    );

    let up = chartup_ok(c, &["apply", RELEASE, &keeper("1.1.0"), "-n", ns, "--yes"]).await?;
    ensure!(
        !up.stdout.contains(&pw) && !up.stdout.contains(&b64),
        "apply output shows the password"
    );
    let (pw2, rv2) = password(c, ns).await?;
    ensure!(pw2 == pw, "the password changed across the upgrade");
    ensure!(
        rv2 == rv,
        "the unchanged Secret was written (resourceVersion {rv} → {rv2})"
    );
    let info = render_info(c, ns).await?;
    expect(&info, "chartVersion", "1.1.0")?;
    expect(&info, "isUpgrade", "true")?;
    expect(&info, "isInstall", "false")?;
    expect(&info, "revision", "2")?;
    expect(&info, "kubeVersion", "v1.20.2")?;
    Ok(())
}

/// What a write of chartup's would change in an object, and a late write of the node's or a
/// controller's would not (their status writes land whenever a loaded cluster gets to them):
/// - Pods, Endpoints and EndpointSlices: their status and addresses are the node's and the
///   controllers'; chartup may delete (replace) them, which changes the uid. A pod's labels and
///   annotations count too (no controller here rewrites them); an Endpoints' annotations do not
///   (the endpoints controller stamps `last-change-trigger-time` as pods change);
/// - an object with a `generation` changes it with its spec; its status is the controllers', so
///   the uid, the generation, the labels, the annotations, the owners and the finalizers count;
/// - any other object (Secrets — the release records —, ConfigMaps, Services, Leases…): its
///   resourceVersion.
fn fingerprint(kind: &str, o: &DynamicObject) -> String {
    let uid = o.uid().unwrap_or_default();
    if kind == "Pod" {
        return format!("uid {uid} labels {:?} annotations {:?}", o.labels(), o.annotations());
    }
    if matches!(kind, "Endpoints" | "EndpointSlice") {
        return format!("uid {uid}");
    }
    match o.metadata.generation {
        Some(g) => format!(
            "uid {uid} generation {g} labels {:?} annotations {:?} owners {:?} finalizers {:?}",
            o.labels(),
            o.annotations(),
            o.owner_references(),
            o.finalizers()
        ),
        None => format!("uid {uid} resourceVersion {}", o.resource_version().unwrap_or_default()),
    }
}

/// Every object of every namespaced, listable resource type in `ns`: `group/Kind/name` → its
/// [`fingerprint`]. Events are left out: they record what happened (a pod's probe, a pull) and
/// are written by the node and controllers whatever chartup does.
async fn snapshot(client: &Client, ns: &str) -> anyhow::Result<BTreeMap<String, String>> {
    let discovery = Discovery::new(client.clone()).run().await?;
    let mut out = BTreeMap::new();
    for group in discovery.groups() {
        for (ar, caps) in group.recommended_resources() {
            if caps.scope != Scope::Namespaced || !caps.supports_operation(verbs::LIST) || ar.kind == "Event" {
                continue;
            }
            let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &ar);
            let list = api
                .list(&Default::default())
                .await
                .with_context(|| format!("listing {}/{}", ar.group, ar.kind))?;
            for o in list.items {
                out.insert(
                    format!("{}/{}/{}", ar.group, ar.kind, o.name_any()),
                    fingerprint(&ar.kind, &o),
                );
            }
        }
    }
    Ok(out)
}

/// A snapshot once the namespace has settled (two snapshots a second apart agree; what the
/// controllers write later does not count, see [`fingerprint`]).
async fn settled_snapshot(client: &Client, ns: &str) -> anyhow::Result<BTreeMap<String, String>> {
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut last = snapshot(client, ns).await?;
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = snapshot(client, ns).await?;
        if now == last {
            return Ok(now);
        }
        if Instant::now() > deadline {
            bail!("namespace {ns} did not settle: {last:?} vs {now:?}");
        }
        last = now;
    }
}

/// keeper 1.1.0 → 1.2.0 with a Service type only the server rejects as well: the upgrade has valid
/// changes (ConfigMaps added, changed and pruned, a Service annotation) and two objects the API
/// server rejects. The apply fails before any write, naming both objects and the server's words,
/// and nothing in the namespace changed: no object created, deleted or updated, no release record
/// written or pruned.
#[tokio::test(flavor = "multi_thread")]
async fn preflight_rejection_changes_nothing() -> anyhow::Result<()> {
    let c = cluster();
    let ns = c.fresh_namespace("aware-pre").await?;
    let ns = ns.name.as_str();
    let client = c.client().await?;
    chartup_ok(c, &["apply", RELEASE, &keeper("1.1.0"), "-n", ns, "--yes"]).await?;
    let before = settled_snapshot(&client, ns).await?;
    ensure!(
        before.contains_key("/Secret/sh.helm.release.v1.k.v1")
            && before.contains_key("apps/Deployment/k-keeper")
            && before.keys().any(|k| k.starts_with("/Pod/k-keeper-")),
        "the snapshot sees the release record, the Deployment and its pod: {before:?}"
    );

    let run = chartup(
        c,
        &[
            "apply",
            RELEASE,
            &keeper("1.2.0"),
            "-n",
            ns,
            "--set",
            "service.type=Bogus",
            "--yes",
        ],
    )
    .await?;
    ensure!(!run.ok, "the upgrade must fail:\n{}\n{}", run.stdout, run.stderr);
    let err = &run.stderr;
    ensure!(
        err.contains("Deployment.apps/k-keeper") && err.contains("must be less than or equal to memory limit"),
        "names the Deployment and the server's message:\n{err}"
    );
    ensure!(
        err.contains("Service/k-keeper") && err.contains("Bogus"),
        "names the Service too (every rejection, not only the first):\n{err}"
    );
    ensure!(
        !run.stdout.contains("==> configuration"),
        "nothing was applied:\n{}",
        run.stdout
    );

    let after = snapshot(&client, ns).await?;
    let changed: Vec<String> = before
        .keys()
        .chain(after.keys())
        .filter(|k| before.get(*k) != after.get(*k))
        .map(|k| format!("{k}: {:?} → {:?}", before.get(k), after.get(k)))
        .collect();
    ensure!(
        changed.is_empty(),
        "objects changed although the preflight refused:\n{}",
        changed.join("\n")
    );

    // Without the bad Service type the Deployment alone still stops it.
    let run = chartup(c, &["apply", RELEASE, &keeper("1.2.0"), "-n", ns, "--yes"]).await?;
    ensure!(!run.ok && run.stderr.contains("Deployment.apps/k-keeper") && !run.stderr.contains("Service/k-keeper"));
    ensure!(
        snapshot(&client, ns).await? == before,
        "the second refusal changed objects"
    );
    Ok(())
}

/// Kubernetes 1.20 refuses server-side apply of a Service whose ports have no `protocol` (kvstore
/// 5.7.0 has two such Services), though it accepts the same object otherwise. The preflight's dry
/// run falls back as the apply does (so it does not reject them), the install succeeds, and the
/// user is told once, naming both Services.
#[tokio::test(flavor = "multi_thread")]
async fn old_server_ssa_fallback_is_announced_once() -> anyhow::Result<()> {
    let c = cluster();
    let ns = c.fresh_namespace("aware-ssa").await?;
    let ns = ns.name.as_str();
    let run = chartup_ok(
        c,
        &[
            "apply",
            "kv",
            &chart("kvstore/5.7.0"),
            "-n",
            ns,
            "--set",
            "image.repository=docker.io/chartup/aerospike-server",
            "--yes",
            "-o",
            "json",
        ],
    )
    .await?;
    let warnings: Vec<String> = run
        .events()
        .iter()
        .filter(|e| e["event"] == "warning")
        .filter_map(|e| e["message"].as_str().map(str::to_string))
        .filter(|m| m.contains("server-side apply"))
        .collect();
    ensure!(
        warnings.len() == 1
            && warnings[0].contains(&format!("{ns}/Service/kv-kvstore-mesh"))
            && warnings[0].contains(&format!("{ns}/Service/kv-kvstore")),
        "one warning naming both Services: {warnings:?}\n{}",
        run.stdout
    );
    let api: Api<testkit::k8s_openapi::api::core::v1::Service> = Api::namespaced(c.client().await?, ns);
    let svc = api.get("kv-kvstore").await?;
    let protocol = svc
        .spec
        .and_then(|s| s.ports)
        .and_then(|p| p.first().and_then(|p| p.protocol.clone()));
    ensure!(
        protocol.as_deref() == Some("TCP"),
        "the server defaulted the protocol: {protocol:?}"
    );
    Ok(())
}

/// A recreate is checked too: keeper 2.0.0 changes the Deployment's selector (immutable: the plan
/// recreates it), and with a memory limit below the request the new spec is invalid. The
/// preflight dry-runs the recreate as a create under a scratch name — an update of the live object
/// would be refused for the selector alone, and a create under its own name for the name — and the
/// server's rejection stops the apply before the Deployment is deleted or anything else changes.
#[tokio::test(flavor = "multi_thread")]
async fn preflight_checks_recreates() -> anyhow::Result<()> {
    let c = cluster();
    let ns = c.fresh_namespace("aware-rec").await?;
    let ns = ns.name.as_str();
    let client = c.client().await?;
    chartup_ok(c, &["apply", RELEASE, &keeper("1.1.0"), "-n", ns, "--yes"]).await?;
    let plan = chartup_ok(c, &["plan", RELEASE, &keeper("2.0.0"), "-n", ns, "-o", "json"]).await?;
    let plan: Json = serde_json::from_str(&plan.stdout)?;
    ensure!(action(&plan, "Deployment", "k-keeper")? == "recreate");
    let before = settled_snapshot(&client, ns).await?;
    let run = chartup(
        c,
        &[
            "apply",
            RELEASE,
            &keeper("2.0.0"),
            "-n",
            ns,
            "--set",
            "resources.limits.memory=32Mi",
            "--yes",
        ],
    )
    .await?;
    ensure!(
        !run.ok
            && run
                .stderr
                .contains("Deployment.apps/k-keeper (recreate) rejected by the server")
            && run.stderr.contains("must be less than or equal to memory limit"),
        "the recreate's new spec is rejected, naming the Deployment:\n{}\n{}",
        run.stdout,
        run.stderr
    );
    let after = snapshot(&client, ns).await?;
    ensure!(after == before, "objects changed although the preflight refused");
    Ok(())
}

/// Parity with helm itself: the probe chart (tests/parity/charts/lookup) prints what `lookup`
/// returns (objects, a list, not-found, cluster-scoped kinds, number types), `.Capabilities` (the
/// whole API version set, sorted) and `.Release`. helm 4 renders it against the cluster with
/// `helm upgrade --dry-run=server`; chartup's plan against the cluster must have rendered the same.
#[tokio::test(flavor = "multi_thread")]
async fn lookup_and_capabilities_match_helm_dry_run_server() -> anyhow::Result<()> {
    let c = cluster();
    let ns = c.fresh_namespace("aware-parity").await?;
    let ns = ns.name.as_str();
    let client = c.client().await?;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
    testkit::create(
        &cms,
        serde_json::json!({"metadata": {"name": "probe-seed", "labels": {"tier": "seed"}},
            "data": {"a": "1", "b": "two"}}),
    )
    .await?;
    let deploys: Api<testkit::k8s_openapi::api::apps::v1::Deployment> = Api::namespaced(client.clone(), ns);
    testkit::create(
        &deploys,
        serde_json::json!({"metadata": {"name": "probe-seed"},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "probe-seed"}},
                "template": {"metadata": {"labels": {"app": "probe-seed"}},
                    "spec": {"containers": [{"name": "c", "image": "nginx", "ports": [{"containerPort": 80}]}]}}}}),
    )
    .await?;
    let probe = root().join("tests/parity/charts/lookup").display().to_string();
    // Installed by helm, so both render the upgrade to revision 2.
    testkit::run_helm(c, &["install", "p", &probe, "-n", ns, "--server-side=false"])?;
    let helm = testkit::run_helm(
        c,
        &[
            "upgrade",
            "p",
            &probe,
            "-n",
            ns,
            "--dry-run=server",
            "--server-side=false",
            "-o",
            "json",
        ],
    )?;
    let helm: Json = serde_json::from_str(&helm).context("helm -o json")?;
    let helm_manifest = helm["manifest"].as_str().context("helm's manifest")?;

    let tmp = tempfile::tempdir()?;
    let out = tmp.path().join("plan.json");
    chartup_ok(c, &["plan", "p", &probe, "-n", ns, "--out", &out.display().to_string()]).await?;
    let saved: Json = serde_json::from_str(&std::fs::read_to_string(&out)?)?;
    let ours = saved["manifests"]["to"]
        .as_array()
        .and_then(|docs| {
            docs.iter()
                .filter_map(|d| d["text"].as_str())
                .find(|t| t.contains("name: probe\n"))
        })
        .context("the probe ConfigMap in the plan")?;

    let data = |text: &str| -> anyhow::Result<BTreeMap<String, String>> {
        let doc = text
            .split("\n---")
            .find(|d| d.contains("name: probe\n"))
            .context("probe document")?;
        let v: Json = yaml_doc(doc)?;
        Ok(v["data"]
            .as_object()
            .context("data")?
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
            .collect())
    };
    let (h, o) = (data(helm_manifest)?, data(ours)?);
    ensure!(h.len() >= 25, "helm's probe has every key: {h:?}");
    let diffs: Vec<String> = h
        .iter()
        .filter(|(k, v)| o.get(*k) != Some(*v))
        .map(|(k, v)| format!("{k}:\n  helm:    {v}\n  chartup: {:?}", o.get(k)))
        .collect();
    ensure!(
        diffs.is_empty(),
        "chartup renders differently from helm:\n{}",
        diffs.join("\n")
    );
    // The probe really saw the cluster (not an offline render).
    ensure!(h["replicasType"] == "int64" && h["listKind"] == "ConfigMapList" && h["revision"] == "2");

    // A group/version the server does not serve: the same render error, word for word.
    let helm_err = testkit::run_helm(
        c,
        &[
            "upgrade",
            "p",
            &probe,
            "-n",
            ns,
            "--dry-run=server",
            "--server-side=false",
            "--set",
            "lookupUnserved=true",
        ],
    )
    .err()
    .context("helm must fail")?
    .to_string();
    let ours = chartup(c, &["plan", "p", &probe, "-n", ns, "--set", "lookupUnserved=true"]).await?;
    let want = helm_err
        .lines()
        .find_map(|l| l.find("template: ").map(|i| l[i..].trim_end().to_string()))
        .context("helm's template error")?;
    ensure!(
        want.contains(
            "error calling lookup: unable to get apiresource from unstructured: policy/v1, Kind=PodDisruptionBudget"
        ),
        "helm says: {helm_err}"
    );
    ensure!(
        !ours.ok && ours.stderr.contains(&want),
        "helm says {want}\nchartup says: {}",
        ours.stderr
    );
    Ok(())
}

/// A YAML document as JSON, with chartup's own YAML reader (the dev dependencies have no YAML crate).
fn yaml_doc(doc: &str) -> anyhow::Result<Json> {
    chartup::manifest::parse_yaml(doc).map_err(|e| anyhow::anyhow!("{e}"))
}

/// `chartup rollback` runs the same preflight before its first write. Revision 2 is a failed helm
/// upgrade whose Service the server rejects (its manifest is recorded all the same), revision 3 a
/// good chartup upgrade; rolling back to 2 is refused, naming the Service, and nothing changes — no
/// revision 4, no object touched.
#[tokio::test(flavor = "multi_thread")]
async fn rollback_is_preflighted_too() -> anyhow::Result<()> {
    let c = cluster();
    let ns = c.fresh_namespace("aware-rb").await?;
    let ns = ns.name.as_str();
    let client = c.client().await?;
    chartup_ok(c, &["apply", RELEASE, &keeper("1.0.0"), "-n", ns, "--yes"]).await?;
    let failed = testkit::run_helm(
        c,
        &[
            "upgrade",
            RELEASE,
            &keeper("1.1.0"),
            "-n",
            ns,
            "--server-side=false",
            "--set",
            "service.type=Bogus",
        ],
    );
    ensure!(failed.is_err(), "helm's upgrade must fail on the Service");
    chartup_ok(c, &["apply", RELEASE, &keeper("1.1.0"), "-n", ns, "--yes"]).await?;
    let before = settled_snapshot(&client, ns).await?;
    ensure!(
        before.contains_key("/Secret/sh.helm.release.v1.k.v2")
            && before.contains_key("/Secret/sh.helm.release.v1.k.v3"),
        "helm recorded the failed revision 2, chartup revision 3: {before:?}"
    );
    let run = chartup(c, &["rollback", RELEASE, "2", "-n", ns]).await?;
    ensure!(
        !run.ok && run.stderr.contains("Service/k-keeper rejected by the server") && run.stderr.contains("Bogus"),
        "the rollback is refused naming the Service:\n{}\n{}",
        run.stdout,
        run.stderr
    );
    let after = snapshot(&client, ns).await?;
    ensure!(
        after == before,
        "objects changed although the rollback's preflight refused"
    );
    Ok(())
}
