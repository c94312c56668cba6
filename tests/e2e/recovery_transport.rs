//! Issue #12's uncertain writes on the real control plane: a fault-injecting proxy
//! (e2e_support::fault_proxy) sits between chartup and the shared cluster's API server and breaks
//! only the transport — the answer of a write that reached the server is lost, or a write is
//! dropped before it reaches it, or the server seems overloaded (503, 429). The real server
//! decides; the proxy's log shows what reached it. chartup must read back what it cannot know,
//! never repeat a write that landed when repeating is not harmless, send again one that did not,
//! finish the upgrade, and journal how each write was settled.

use std::path::Path;

use anyhow::ensure;
use serde_json::{json, Value as Json};
use testkit::cluster;

use crate::e2e_support::fault_proxy::FaultProxy;
use crate::e2e_support::*;
use crate::recovery::one_file_chart;

/// An `OnDelete` StatefulSet `store` (2 pods, updated by chartup pod by pod: the pod deletes are
/// chartup's writes) and a Deployment `web` (applied server-side).
fn chart(dir: &Path, version: &str, db: &str, web: &str) -> anyhow::Result<String> {
    one_file_chart(
        &dir.join(version),
        "store",
        version,
        &format!(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: store\nspec:\n  clusterIP: None\n  selector: {{app: store}}\n  \
             ports:\n    - port: 5432\n      protocol: TCP\n---\n\
             apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: store\nspec:\n  serviceName: store\n  replicas: 2\n  \
             updateStrategy: {{type: OnDelete}}\n  selector:\n    matchLabels: {{app: store}}\n  template:\n    metadata:\n      \
             labels: {{app: store, app.kubernetes.io/instance: store}}\n    spec:\n      containers:\n        - name: db\n          \
             image: postgres:{db}\n---\n\
             apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n  selector:\n    \
             matchLabels: {{app: web}}\n  template:\n    metadata:\n      labels: {{app: web, app.kubernetes.io/instance: store}}\n    \
             spec:\n      containers:\n        - name: web\n          image: nginx:{web}\n"
        ),
    )
}

async fn journal(c: &testkit::Cluster, ns: &str) -> anyhow::Result<Vec<String>> {
    let s = chartup_ok(c, &["status", "store", "-n", ns, "-o", "json"]).await?;
    let v: Json = serde_json::from_str(&s.stdout)?;
    Ok(v["journal"]
        .as_array()
        .map(|a| a.iter().map(|l| l.as_str().unwrap_or("").to_string()).collect())
        .unwrap_or_default())
}

/// Each (who, what) is said in `lines` (the journal, or the progress).
fn ensure_said(lines: &[String], expected: &[(&str, &str)], whose: &str) -> anyhow::Result<()> {
    for (who, what) in expected {
        ensure!(
            lines.iter().any(|l| l.contains(who) && l.contains(what)),
            "the {whose} lacks {who}: {what}:\n{lines:#?}"
        );
    }
    Ok(())
}

/// A fresh namespace, a proxy in front of the shared cluster, and the paths of the writes the
/// rules aim at: pod `store-1`'s delete, the Deployment's apply, revision 2's record updates.
struct Scene {
    tmp: tempfile::TempDir,
    proxy: FaultProxy,
    ns: testkit::TestNamespace,
    pod: String,
    deploy: String,
    record: String,
}

async fn scene(prefix: &str) -> anyhow::Result<Scene> {
    let c = cluster();
    let tmp = tempfile::tempdir()?;
    let proxy = FaultProxy::start(c, &tmp.path().join("proxy"))?;
    let ns = c.fresh_namespace(prefix).await?;
    let n = ns.name.clone();
    Ok(Scene {
        tmp,
        proxy,
        ns,
        pod: format!("/namespaces/{n}/pods/store-1"),
        deploy: format!("/namespaces/{n}/deployments/web"),
        record: format!("/namespaces/{n}/secrets/sh.helm.release.v1.store.v2"),
    })
}

/// Install directly, then upgrade through the proxy with `rules`; the run must end deployed.
async fn upgrade_through(proxy: &FaultProxy, ns: &str, tmp: &Path, rules: Json) -> anyhow::Result<(Run, Vec<String>)> {
    let c = cluster();
    let v1 = chart(tmp, "1.0.0", "16", "1.25")?;
    chartup_ok(c, &["apply", "store", &v1, "-n", ns, "--yes", "--timeout", "90s"]).await?;
    let v2 = chart(tmp, "2.0.0", "17", "1.26")?;
    proxy.rules(rules)?;
    let run = chartup(
        &proxy.c,
        &["apply", "store", &v2, "-n", ns, "--yes", "--timeout", "90s"],
    )
    .await?;
    proxy.rules(json!([]))?;
    ensure!(
        run.ok,
        "the upgrade through the proxy failed ({:?}):\n{}\n{}",
        run.code,
        run.stdout,
        run.stderr
    );
    let h = chartup_history(c, ns, "store").await?;
    ensure!(
        statuses(&h) == vec![(1, "superseded".into()), (2, "deployed".into())],
        "{h:?}"
    );
    Ok((run, journal(c, ns).await?))
}

/// The answers of four writes that reached the server are lost: a pod delete of the `OnDelete`
/// rollout, the pending record's create and a journal update of it are read back (found landed:
/// not sent again — a second delete could hit the replacement pod, a second create would be
/// AlreadyExists, a second update would conflict on the resourceVersion it already moved); the
/// Deployment's server-side apply is sent again (harmless). The revision ends deployed and the
/// journal says how each was settled.
#[tokio::test(flavor = "multi_thread")]
async fn writes_whose_answers_are_lost_are_read_back_on_the_real_server() -> anyhow::Result<()> {
    let s = scene("rec-lost").await?;
    let (tmp, proxy, ns) = (&s.tmp, &s.proxy, &s.ns);
    let (pod, deploy, record) = (&s.pod, &s.deploy, &s.record);
    let (run, journal) = upgrade_through(
        proxy,
        &ns.name,
        tmp.path(),
        json!([
            {"method": "DELETE", "path": pod, "exclude": "dryRun", "action": "drop-after"},
            {"method": "PATCH", "path": deploy, "exclude": "dryRun", "action": "drop-after"},
            {"method": "PUT", "path": record, "nth": 2, "action": "drop-after"},
            {"method": "POST", "path": format!("/namespaces/{}/secrets", ns.name), "exclude": "dryRun", "action": "drop-after"},
        ]),
    )
    .await?;
    // The server acted on each, and the client never got the answer.
    let deletes = proxy.writes("DELETE", &pod)?;
    ensure!(
        deletes.len() == 1 && deletes[0]["action"] == "drop-after" && deletes[0]["upstream"] == 200,
        "the pod delete must reach the server once and never be sent again: {deletes:?}"
    );
    let patches = proxy.writes("PATCH", &deploy)?;
    ensure!(
        patches.len() == 2 && patches.iter().all(|p| p["upstream"] == 200),
        "the server-side apply is sent again: {patches:?}"
    );
    let puts = proxy.writes("PUT", &record)?;
    ensure!(
        puts.iter()
            .filter(|p| p["action"] == "drop-after" && p["upstream"] == 200)
            .count()
            == 1,
        "{puts:?}"
    );
    // The pending record's create: read back, not sent again (a second one would be refused as
    // AlreadyExists, which reads as another operation's lock).
    let creates = proxy.writes("POST", &format!("/namespaces/{}/secrets", ns.name))?;
    ensure!(
        creates.len() == 1 && creates[0]["action"] == "drop-after" && creates[0]["upstream"] == 201,
        "{creates:?}"
    );
    let settled = [
        (
            "creating Secret/sh.helm.release.v1.store.v2",
            "read back: the write had landed, not sent again",
        ),
        ("Pod/store-1", "read back: the write had landed, not sent again"),
        (
            "sh.helm.release.v1.store.v2",
            "read back: the write had landed, not sent again",
        ),
        ("Deployment", "the answer was lost"),
    ];
    ensure_said(&journal, &settled, "journal")?;
    let progress: Vec<String> = run
        .stdout
        .lines()
        .chain(run.stderr.lines())
        .map(str::to_string)
        .collect();
    ensure_said(&progress, &settled, "progress")?;
    Ok(())
}

/// Writes dropped before they reach the server (a reset), and a server that answers 503 to the
/// pod reads and 429 to the Deployment's apply for a while: each write is read back where its
/// fate is unknown (found not landed: sent again) or sent again where the server did not act.
#[tokio::test(flavor = "multi_thread")]
async fn writes_that_never_reached_the_server_are_sent_again() -> anyhow::Result<()> {
    let s = scene("rec-unsent").await?;
    let (tmp, proxy, ns) = (&s.tmp, &s.proxy, &s.ns);
    let (pod, deploy, record) = (&s.pod, &s.deploy, &s.record);
    let n = &ns.name;
    let (_run, journal) = upgrade_through(
        proxy,
        n,
        tmp.path(),
        json!([
            {"method": "DELETE", "path": pod, "exclude": "dryRun", "action": "drop-before"},
            {"method": "PATCH", "path": deploy, "exclude": "dryRun", "action": "status", "status": 429, "count": 2},
            {"method": "PUT", "path": record, "nth": 2, "action": "drop-before"},
            {"method": "GET", "path": format!("/namespaces/{n}/pods"), "action": "status", "status": 503, "seconds": 2},
        ]),
    )
    .await?;
    let deletes = proxy.writes("DELETE", &pod)?;
    ensure!(
        deletes.len() == 2 && deletes[0]["upstream"].is_null() && deletes[1]["upstream"] == 200,
        "dropped once, then sent again and done by the server: {deletes:?}"
    );
    let patches = proxy.writes("PATCH", &deploy)?;
    ensure!(
        patches.len() == 3 && patches[..2].iter().all(|p| p["upstream"].is_null()) && patches[2]["upstream"] == 200,
        "{patches:?}"
    );
    let refused = proxy.log()?.into_iter().filter(|e| e["action"] == "status 503").count();
    ensure!(refused > 0, "the 503 window met no read");
    let puts = proxy.writes("PUT", &record)?;
    let dropped = puts.iter().position(|p| p["action"] == "drop-before");
    ensure!(
        dropped.is_some_and(|i| puts.get(i + 1).is_some_and(|p| p["upstream"] == 200)),
        "the dropped record update is sent again: {puts:?}"
    );
    ensure_said(
        &journal,
        &[
            ("Pod/store-1", "read back: the write had not landed, sent again"),
            (
                "sh.helm.release.v1.store.v2",
                "read back: the write had not landed, sent again",
            ),
            ("Deployment", "the server did not act"),
        ],
        "journal",
    )?;
    Ok(())
}
