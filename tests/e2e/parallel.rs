//! Parallel rollout on the real control plane (issue 16): the nine Deployments of
//! `tests/data/charts/fleet` upgraded at once, except `web`, which an annotation
//! (`chartup.io/rollout-after: api`) orders after `api`.
//!
//! Claims are checked on one pod watch (API-server order): components without an order have their
//! new pods coming up at the same time (their rollouts overlap: in a serial rollout no two
//! would); `web`'s first new pod appears only after `api`'s last new pod was Ready.

use std::time::{Duration, Instant};

use anyhow::ensure;
use testkit::cluster;
use testkit::kube::ResourceExt;

use crate::e2e_support;
use e2e_support::*;

const COMPONENTS: [&str; 9] = [
    "api", "web", "worker", "cache", "search", "mail", "auth", "billing", "report",
];

fn fleet() -> String {
    root().join("tests/data/charts/fleet").display().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn unordered_components_roll_out_together_and_an_annotation_keeps_its_order() -> anyhow::Result<()> {
    let c = cluster();
    let ns = c.fresh_namespace("parallel").await?;
    let n = ns.name.as_str();
    let chart = fleet();
    let base = ["apply", "f", chart.as_str(), "-n", n, "--set", "after.web=api", "--yes"];
    chartup_ok(c, &base).await?;
    let old_uids: Vec<String> = pods(c, n).await?.iter().filter_map(|p| p.uid()).collect();
    ensure!(old_uids.len() == 18, "9 components × 2 replicas: {old_uids:?}");
    let log = PodLog::start(c, n).await?;
    let mut args = base.to_vec();
    args.extend(["--set", "tag=2", "-o", "json"]);
    let run = chartup_ok(c, &args).await?;
    let steps = run
        .events()
        .iter()
        .filter(|e| e["event"] == "step" && e["step"].as_str().is_some_and(|s| s.starts_with("component ")))
        .count();
    ensure!(steps == 9, "one step per component: {}", run.stdout);

    // Every component's new pods Ready, as the watch saw it.
    let deadline = Instant::now() + Duration::from_secs(60);
    let (events, per) = loop {
        let ev = log.snapshot();
        let per: Vec<(&str, Vec<(String, usize, Option<usize>)>)> = COMPONENTS
            .iter()
            .map(|comp| (*comp, appearances(&ev, &old_uids, &format!("f-{comp}-"))))
            .collect();
        if per.iter().all(|(_, a)| a.len() >= 2 && a.iter().all(|x| x.2.is_some())) {
            break (ev, per);
        }
        ensure!(
            Instant::now() < deadline,
            "the watch did not see every new pod Ready: {per:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let span = |a: &[(String, usize, Option<usize>)]| {
        let first = a.iter().map(|x| x.1).min().unwrap_or(0);
        let last = a.iter().filter_map(|x| x.2).max().unwrap_or(0);
        (first, last)
    };
    let spans: Vec<(&str, (usize, usize))> = per.iter().map(|(c, a)| (*c, span(a))).collect();
    // Ordered by the annotation: web's first new pod after api's last Ready one.
    let api = spans[0].1;
    let web = spans[1].1;
    ensure!(
        web.0 > api.1,
        "web (after api) started at event {} before api was done at event {}: {spans:?}",
        web.0,
        api.1
    );
    // The others roll at the same time: the most rollouts in progress at one event.
    let free: Vec<(usize, usize)> = spans.iter().filter(|(c, _)| *c != "web").map(|(_, s)| *s).collect();
    let most = (0..events.len())
        .map(|i| free.iter().filter(|(a, b)| *a <= i && i <= *b).count())
        .max()
        .unwrap_or(0);
    ensure!(
        most >= 3,
        "at most {most} unordered rollouts overlapped (a serial rollout has 1): {spans:?}"
    );
    for e in events.iter().filter(|e| !old_uids.contains(&e.uid)) {
        ensure!(e.image.ends_with(":2"), "{} runs {}", e.name, e.image);
    }
    let h = chartup_history(c, n, "f").await?;
    ensure!(
        statuses(&h) == [(1, "superseded".into()), (2, "deployed".into())],
        "{h:?}"
    );
    Ok(())
}

/// A missing image in `api` while the other components roll: the run fails naming api's pod,
/// `web` (ordered after api) is never touched, the revision is failed.
#[tokio::test(flavor = "multi_thread")]
async fn a_failure_stops_the_rollout_and_what_waits_for_it_never_starts() -> anyhow::Result<()> {
    let c = cluster();
    let ns = c.fresh_namespace("parallel-fail").await?;
    let n = ns.name.as_str();
    let chart = fleet();
    let base = ["apply", "f", chart.as_str(), "-n", n, "--set", "after.web=api", "--yes"];
    chartup_ok(c, &base).await?;
    let mut args = base.to_vec();
    args.extend(["--set", "tag=2", "--set", "broken=api"]);
    let run = chartup(c, &args).await?;
    ensure!(!run.ok, "the upgrade must fail: {}", run.stdout);
    ensure!(
        run.stderr.contains("UpgradeFailed: pod f-api-")
            && (run.stderr.contains("ErrImagePull") || run.stderr.contains("ImagePullBackOff")),
        "the failure names api's pod and its reason: {}",
        run.stderr
    );
    // web waits for api: never applied by the failed revision.
    let api: testkit::kube::Api<testkit::k8s_openapi::api::apps::v1::Deployment> =
        testkit::kube::Api::namespaced(c.client().await?, n);
    let web = api.get("f-web").await?;
    let image = web
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .and_then(|s| s.containers.first())
        .and_then(|c| c.image.clone())
        .unwrap_or_default();
    ensure!(image.ends_with(":1"), "web untouched, still on tag 1: {image}");
    let h = chartup_history(c, n, "f").await?;
    ensure!(statuses(&h) == [(1, "deployed".into()), (2, "failed".into())], "{h:?}");
    Ok(())
}
