//! End-to-end tests of recreates that finish (issue 6): workloads whose selectors change are
//! deleted with their pods orphaned, created again, and the pods the old object left behind are
//! replaced one at a time — on the real control plane of the test cluster, whose real
//! StatefulSet, Deployment, ReplicaSet and DaemonSet controllers would otherwise leave them
//! (or, for a StatefulSet, hang on the names they hold).
//!
//! Charts: `charts/quorum` (a ZooKeeper-like StatefulSet) and `charts/edge` (a Deployment and a
//! DaemonSet); 2.0.0 of each moves from `app: x` selectors to `app.kubernetes.io/*` ones, the
//! label-scheme change real charts made in a major version.
//!
//! Ordering claims are checked on one watch of the namespace's pods ([`Timeline`]), which sees
//! creations, Ready transitions, deletion requests and deletions in the API server's order.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{anyhow, ensure};
use futures::StreamExt as _;
use serde_json::Value as Json;
use testkit::k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet, Deployment, ReplicaSet, StatefulSet};
use testkit::k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use testkit::kube::api::{Api, ListParams};
use testkit::kube::runtime::watcher;
use testkit::kube::{Resource, ResourceExt};
use testkit::{cluster, Cluster};

use crate::e2e_support;
use e2e_support::*;

/// What happened to one pod, as one watch saw it.
#[derive(Debug, Clone, PartialEq)]
enum What {
    /// First sighting of this uid.
    Seen,
    /// First Ready of this uid.
    Ready,
    /// First sighting with a deletionTimestamp.
    Deleting,
    /// Gone.
    Deleted,
}

#[derive(Debug, Clone)]
struct Ev {
    /// Read in failure messages (Debug).
    #[allow(dead_code)]
    name: String,
    uid: String,
    what: What,
}

/// Every pod's life in a namespace, in the order the API server delivers the events.
struct Timeline {
    events: Arc<Mutex<Vec<Ev>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Timeline {
    async fn start(c: &Cluster, ns: &str) -> anyhow::Result<Timeline> {
        let api: Api<Pod> = Api::namespaced(c.client().await?, ns);
        let events = Arc::new(Mutex::new(Vec::<Ev>::new()));
        let sink = events.clone();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(async move {
            let mut tx = Some(tx);
            let mut stream = watcher(api, watcher::Config::default()).boxed();
            while let Some(ev) = stream.next().await {
                let (pod, deleted) = match ev {
                    Ok(watcher::Event::Apply(p)) | Ok(watcher::Event::InitApply(p)) => (p, false),
                    Ok(watcher::Event::Delete(p)) => (p, true),
                    Ok(watcher::Event::InitDone) => {
                        if let Some(tx) = tx.take() {
                            let _ = tx.send(());
                        }
                        continue;
                    }
                    _ => continue,
                };
                let ready = pod
                    .status
                    .as_ref()
                    .and_then(|s| s.conditions.as_ref())
                    .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
                let (name, uid) = (pod.name_any(), pod.uid().unwrap_or_default());
                let Ok(mut v) = sink.lock() else { return };
                let has = |v: &Vec<Ev>, w: What| v.iter().any(|e| e.uid == uid && e.what == w);
                let push = |v: &mut Vec<Ev>, w: What| {
                    if !has(v, w.clone()) {
                        v.push(Ev {
                            name: name.clone(),
                            uid: uid.clone(),
                            what: w,
                        })
                    }
                };
                push(&mut v, What::Seen);
                if ready {
                    push(&mut v, What::Ready);
                }
                if deleted || pod.metadata.deletion_timestamp.is_some() {
                    push(&mut v, What::Deleting);
                }
                if deleted {
                    push(&mut v, What::Deleted);
                }
            }
        });
        tokio::time::timeout(Duration::from_secs(30), rx)
            .await
            .map_err(|_| anyhow!("pod watch did not start"))??;
        Ok(Timeline { events, task })
    }

    fn snapshot(&self) -> Vec<Ev> {
        self.events.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// Index of the event `what` of pod `uid`.
    fn at(ev: &[Ev], uid: &str, what: What) -> Option<usize> {
        ev.iter().position(|e| e.uid == uid && e.what == what)
    }

    /// Wait until `cond` holds on the events (the watch may lag the chartup process a little).
    async fn until(&self, what: &str, cond: impl Fn(&[Ev]) -> bool) -> anyhow::Result<Vec<Ev>> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ev = self.snapshot();
            if cond(&ev) {
                return Ok(ev);
            }
            ensure!(Instant::now() < deadline, "the watch never saw {what}: {ev:#?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Timeline {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn controller_uid<K: Resource>(o: &K) -> Option<String> {
    o.meta()
        .owner_references
        .as_ref()?
        .iter()
        .find(|r| r.controller == Some(true))
        .map(|r| r.uid.clone())
}

fn ready(p: &Pod) -> bool {
    p.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// Claim name → (uid, volume directory).
async fn claims(c: &Cluster, ns: &str) -> anyhow::Result<Vec<(String, String, std::path::PathBuf)>> {
    let client = c.client().await?;
    let api: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), ns);
    let mut out = Vec::new();
    for pvc in api.list(&ListParams::default()).await?.items {
        let name = pvc.name_any();
        let dir = c.claim_dir(&client, ns, &name, Duration::from_secs(60)).await?;
        out.push((name, pvc.uid().unwrap_or_default(), dir));
    }
    out.sort();
    Ok(out)
}

fn journal(status: &Run) -> anyhow::Result<Vec<String>> {
    let v: Json =
        serde_json::from_str(&status.stdout).map_err(|e| anyhow!("status -o json: {e}: {}", status.stdout))?;
    let lines = v
        .pointer("/journal")
        .and_then(Json::as_array)
        .ok_or_else(|| anyhow!("no journal in status: {v}"))?;
    Ok(lines
        .iter()
        .map(|l| l.as_str().map(str::to_string).unwrap_or_else(|| l.to_string()))
        .collect())
}

fn pod_replaced(run: &Run) -> Vec<String> {
    run.events()
        .iter()
        .filter(|e| e["event"] == "podReplaced")
        .filter_map(|e| e["pod"].as_str().map(str::to_string))
        .collect()
}

/// quorum 1.0.0 → 2.0.0: the StatefulSet's selector (`app: quorum` → `app.kubernetes.io/*`) and
/// serviceName change. chartup plans a recreate and finishes it: each old pod is deleted only once
/// the previous new pod is Ready, ordinal 0 first; every new pod mounts the same claim (same uid,
/// marker intact); the old pods and the old StatefulSet's revisions are gone; every step is in
/// the journal.
#[tokio::test(flavor = "multi_thread")]
async fn statefulset_selector_and_service_name_change() -> anyhow::Result<()> {
    let c = cluster();
    let ns = c.fresh_namespace("recreate-sts").await?;
    let n = ns.name.as_str();
    chartup_ok(c, &["apply", "q", &chart("quorum/1.0.0"), "-n", n, "--yes"]).await?;
    let client = c.client().await?;
    let sts: Api<StatefulSet> = Api::namespaced(client.clone(), n);
    let old_set = sts.get("q-quorum").await?;
    let before = claims(c, n).await?;
    assert_eq!(
        before.iter().map(|b| b.0.as_str()).collect::<Vec<_>>(),
        ["data-q-quorum-0", "data-q-quorum-1", "data-q-quorum-2"]
    );
    for (name, _, dir) in &before {
        testkit::write_marker(dir, "before", name)?;
    }
    let old_pods: Vec<(String, String)> = pods(c, n)
        .await?
        .iter()
        .map(|p| (p.name_any(), p.uid().unwrap_or_default()))
        .collect();
    assert_eq!(old_pods.len(), 3);
    // Not the release's: a bare pod someone started with the old labels. It must survive.
    let pods_api: Api<Pod> = Api::namespaced(client.clone(), n);
    let bystander = testkit::create(
        &pods_api,
        serde_json::json!({"metadata": {"name": "q-quorum-debug", "labels": {"app": "quorum", "release": "q"}},
            "spec": {"containers": [{"name": "sh", "image": "busybox"}]}}),
    )
    .await?;

    let plan = chartup_ok(c, &["plan", "q", &chart("quorum/2.0.0"), "-n", n]).await?;
    assert!(
        plan.stdout
            .lines()
            .any(|l| l.contains("recreate") && l.contains("StatefulSet.apps/q-quorum")),
        "the plan recreates the StatefulSet:\n{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("spec.selector"), "{}", plan.stdout);
    assert!(plan.stdout.contains("spec.serviceName"), "{}", plan.stdout);

    let tl = Timeline::start(c, n).await?;
    let run = chartup_ok(
        c,
        &["apply", "q", &chart("quorum/2.0.0"), "-n", n, "--yes", "-o", "json"],
    )
    .await?;
    assert_eq!(pod_replaced(&run), ["q-quorum-0", "q-quorum-1", "q-quorum-2"]);

    // The new StatefulSet, its pods Ready, owned by it, on the new labels and service.
    let new_set = sts.get("q-quorum").await?;
    assert_ne!(new_set.uid(), old_set.uid(), "a new StatefulSet object");
    let spec = new_set.spec.clone().unwrap_or_default();
    assert_eq!(spec.service_name.as_deref(), Some("q-quorum-hl"));
    assert_eq!(
        pods_api.get("q-quorum-debug").await?.uid(),
        bystander.uid(),
        "a pod that is not the release's is left alone"
    );
    let now: Vec<Pod> = pods(c, n)
        .await?
        .into_iter()
        .filter(|p| p.name_any() != "q-quorum-debug")
        .collect();
    assert_eq!(
        now.len(),
        3,
        "{:?}",
        now.iter().map(|p| p.name_any()).collect::<Vec<_>>()
    );
    for p in &now {
        assert!(ready(p), "{} Ready", p.name_any());
        assert_eq!(
            controller_uid(p),
            new_set.uid(),
            "{} owned by the new StatefulSet",
            p.name_any()
        );
        assert!(
            !old_pods.iter().any(|(_, u)| Some(u) == p.uid().as_ref()),
            "{} is new",
            p.name_any()
        );
        assert_eq!(
            p.labels().get("app.kubernetes.io/name").map(String::as_str),
            Some("quorum")
        );
        let sub = p.spec.as_ref().and_then(|s| s.subdomain.clone());
        assert_eq!(
            sub.as_deref(),
            Some("q-quorum-hl"),
            "{} in the new service's domain",
            p.name_any()
        );
    }
    // Same claims (uids), same volumes, data kept.
    let after = claims(c, n).await?;
    assert_eq!(after, before, "same claims, same uids, same volumes");
    for (name, _, dir) in &after {
        assert_eq!(
            testkit::read_marker(dir, "before").as_deref(),
            Some(name.as_str()),
            "{name}"
        );
    }
    // One at a time, ordinal 0 first: old pod i is deleted only after new pod i-1 is Ready, and
    // new pod i appears only after old pod i is gone.
    let ev = tl
        .until("all old pods gone and all new pods Ready", |ev| {
            old_pods
                .iter()
                .all(|(_, u)| Timeline::at(ev, u, What::Deleted).is_some())
                && ev.iter().filter(|e| e.what == What::Ready).count() >= 3
        })
        .await?;
    let new_uid = |name: &str| {
        now.iter()
            .find(|p| p.name_any() == name)
            .and_then(|p| p.uid())
            .unwrap_or_default()
    };
    for i in 0..3 {
        let name = format!("q-quorum-{i}");
        let old = &old_pods
            .iter()
            .find(|(nm, _)| *nm == name)
            .ok_or_else(|| anyhow!("{name}"))?
            .1;
        let del = Timeline::at(&ev, old, What::Deleting).ok_or_else(|| anyhow!("{name} deleting"))?;
        let gone = Timeline::at(&ev, old, What::Deleted).ok_or_else(|| anyhow!("{name} deleted"))?;
        let seen = Timeline::at(&ev, &new_uid(&name), What::Seen).ok_or_else(|| anyhow!("new {name}"))?;
        assert!(
            gone < seen,
            "new {name} (event {seen}) after the old one was gone (event {gone})"
        );
        if i > 0 {
            let prev = format!("q-quorum-{}", i - 1);
            let prev_ready =
                Timeline::at(&ev, &new_uid(&prev), What::Ready).ok_or_else(|| anyhow!("new {prev} Ready"))?;
            assert!(
                del > prev_ready,
                "old {name} deleted (event {del}) only after new {prev} was Ready (event {prev_ready})"
            );
        }
    }
    // The old StatefulSet's revisions are gone; the new one's are owned.
    let revs: Api<ControllerRevision> = Api::namespaced(client.clone(), n);
    for r in revs.list(&ListParams::default()).await?.items {
        assert_eq!(
            controller_uid(&r),
            new_set.uid(),
            "revision {} belongs to the new set",
            r.name_any()
        );
    }
    // The journal says what happened, in order.
    let status = chartup_ok(c, &["status", "q", "-n", n, "-o", "json"]).await?;
    let j = journal(&status)?;
    let pos = |s: &str| j.iter().position(|l| l.contains(s));
    let d0 = pos("deleting pod q-quorum-0 of StatefulSet q-quorum: left by the old StatefulSet")
        .ok_or_else(|| anyhow!("{j:#?}"))?;
    let r0 = pos("pod q-quorum-0 Ready under the new StatefulSet").ok_or_else(|| anyhow!("{j:#?}"))?;
    let d1 = pos("deleting pod q-quorum-1 of StatefulSet q-quorum: left by the old StatefulSet")
        .ok_or_else(|| anyhow!("{j:#?}"))?;
    assert!(d0 < r0 && r0 < d1, "{j:#?}");
    assert!(pos("deleted ControllerRevision").is_some(), "{j:#?}");
    Ok(())
}

/// edge 1.0.0 → 2.0.0: the selectors of a Deployment and a DaemonSet change. Both are recreated;
/// the old ReplicaSet is scaled down a pod at a time only after every new proxy pod is Ready, then
/// deleted; the old agent pod goes only once the new agent pod on its node is Ready. Afterwards no
/// stale pod, ReplicaSet or ControllerRevision is left: every pod belongs to the new objects.
#[tokio::test(flavor = "multi_thread")]
async fn deployment_and_daemonset_selector_change() -> anyhow::Result<()> {
    let c = cluster();
    let ns = c.fresh_namespace("recreate-edge").await?;
    let n = ns.name.as_str();
    chartup_ok(c, &["apply", "e", &chart("edge/1.0.0"), "-n", n, "--yes"]).await?;
    let client = c.client().await?;
    let deps: Api<Deployment> = Api::namespaced(client.clone(), n);
    let dss: Api<DaemonSet> = Api::namespaced(client.clone(), n);
    let rss: Api<ReplicaSet> = Api::namespaced(client.clone(), n);
    let old_rs: Vec<String> = rss
        .list(&ListParams::default())
        .await?
        .items
        .iter()
        .map(|r| r.name_any())
        .collect();
    assert_eq!(old_rs.len(), 1, "{old_rs:?}");
    let old_pods = pods(c, n).await?;
    let old_proxy: Vec<String> = old_pods
        .iter()
        .filter(|p| p.name_any().starts_with("e-edge-") && !p.name_any().starts_with("e-edge-agent-"))
        .filter_map(|p| p.uid())
        .collect();
    let old_agent: Vec<(String, String)> = old_pods
        .iter()
        .filter(|p| p.name_any().starts_with("e-edge-agent-"))
        .map(|p| {
            let node = p.spec.as_ref().and_then(|s| s.node_name.clone()).unwrap_or_default();
            (p.uid().unwrap_or_default(), node)
        })
        .collect();
    assert_eq!(old_proxy.len(), 3);
    assert!(!old_agent.is_empty());

    let plan = chartup_ok(c, &["plan", "e", &chart("edge/2.0.0"), "-n", n]).await?;
    for obj in ["Deployment.apps/e-edge", "DaemonSet.apps/e-edge-agent"] {
        assert!(
            plan.stdout.lines().any(|l| l.contains("recreate") && l.contains(obj)),
            "the plan recreates {obj}:\n{}",
            plan.stdout
        );
    }

    let tl = Timeline::start(c, n).await?;
    let run = chartup_ok(c, &["apply", "e", &chart("edge/2.0.0"), "-n", n, "--yes", "-o", "json"]).await?;

    let dep = deps.get("e-edge").await?;
    let ds = dss.get("e-edge-agent").await?;
    // No stale ReplicaSet: every one belongs to the new Deployment.
    let now_rs = rss.list(&ListParams::default()).await?.items;
    ensure!(!now_rs.is_empty());
    for r in &now_rs {
        assert_eq!(
            controller_uid(r),
            dep.uid(),
            "ReplicaSet {} belongs to the new Deployment",
            r.name_any()
        );
        assert!(
            !old_rs.contains(&r.name_any()),
            "old ReplicaSet {} is gone",
            r.name_any()
        );
    }
    let rs_uids: Vec<String> = now_rs.iter().filter_map(|r| r.uid()).collect();
    // Every pod belongs to the new objects and is Ready; no old pod is left.
    let now = pods(c, n).await?;
    assert_eq!(
        now.len(),
        3 + old_agent.len(),
        "{:?}",
        now.iter().map(|p| p.name_any()).collect::<Vec<_>>()
    );
    for p in &now {
        let owner = controller_uid(p).unwrap_or_default();
        assert!(
            rs_uids.contains(&owner) || Some(&owner) == ds.uid().as_ref(),
            "pod {} belongs to the new Deployment or DaemonSet",
            p.name_any()
        );
        assert!(ready(p), "{} Ready", p.name_any());
        assert_eq!(
            p.labels().get("app.kubernetes.io/name").map(String::as_str),
            Some("edge")
        );
    }
    let revs: Api<ControllerRevision> = Api::namespaced(client.clone(), n);
    for r in revs.list(&ListParams::default()).await?.items {
        assert_eq!(
            controller_uid(&r),
            ds.uid(),
            "revision {} belongs to the new DaemonSet",
            r.name_any()
        );
    }

    let ev = tl
        .until("every old pod deleted", |ev| {
            old_proxy
                .iter()
                .chain(old_agent.iter().map(|(u, _)| u))
                .all(|u| Timeline::at(ev, u, What::Deleted).is_some())
        })
        .await?;
    // Make before break, one at a time: the old proxy pods are deleted after every new proxy pod
    // is Ready, each after the previous one is gone.
    let new_proxy: Vec<&Pod> = now
        .iter()
        .filter(|p| controller_uid(*p).is_some_and(|o| rs_uids.contains(&o)))
        .collect();
    let last_new_ready = new_proxy
        .iter()
        .map(|p| Timeline::at(&ev, &p.uid().unwrap_or_default(), What::Ready))
        .collect::<Option<Vec<_>>>()
        .and_then(|v| v.into_iter().max())
        .ok_or_else(|| anyhow!("new proxy pods Ready: {ev:#?}"))?;
    let mut deletions: Vec<(usize, usize)> = old_proxy
        .iter()
        .map(|u| {
            Some((
                Timeline::at(&ev, u, What::Deleting)?,
                Timeline::at(&ev, u, What::Deleted)?,
            ))
        })
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| anyhow!("old proxy deletions: {ev:#?}"))?;
    deletions.sort();
    assert!(
        deletions[0].0 > last_new_ready,
        "old proxy pods go after the new ones are Ready: {ev:#?}"
    );
    for w in deletions.windows(2) {
        assert!(w[1].0 > w[0].1, "one old proxy pod at a time: {ev:#?}");
    }
    // Node by node: the old agent pod on a node goes after the new agent pod there is Ready.
    for (old, node) in &old_agent {
        let new_here = now
            .iter()
            .find(|p| {
                controller_uid(*p) == ds.uid() && p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(node)
            })
            .ok_or_else(|| anyhow!("no new agent pod on node {node}"))?;
        let ready_at = Timeline::at(&ev, &new_here.uid().unwrap_or_default(), What::Ready)
            .ok_or_else(|| anyhow!("new agent Ready: {ev:#?}"))?;
        let del = Timeline::at(&ev, old, What::Deleting).ok_or_else(|| anyhow!("old agent deleting"))?;
        assert!(
            del > ready_at,
            "old agent on {node} deleted after the new one was Ready: {ev:#?}"
        );
    }
    // …and one node after the other: the next node's old pod is deleted after the previous one's
    // is gone (with one node, as on the default test cluster, this is trivially true).
    let mut agent_deletions: Vec<(usize, usize)> = old_agent
        .iter()
        .map(|(u, _)| {
            Some((
                Timeline::at(&ev, u, What::Deleting)?,
                Timeline::at(&ev, u, What::Deleted)?,
            ))
        })
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| anyhow!("old agent deletions: {ev:#?}"))?;
    agent_deletions.sort();
    for w in agent_deletions.windows(2) {
        assert!(w[1].0 > w[0].1, "one node at a time: {ev:#?}");
    }
    assert_eq!(
        pod_replaced(&run).len(),
        old_agent.len(),
        "one replacement per node: {}",
        run.stdout
    );
    let status = chartup_ok(c, &["status", "e", "-n", n, "-o", "json"]).await?;
    let j = journal(&status)?;
    for s in [
        "scaling ReplicaSet",
        "deleted ReplicaSet",
        "left by the old DaemonSet e-edge-agent on node",
        "old DaemonSet pods gone",
    ] {
        assert!(j.iter().any(|l| l.contains(s)), "journal has {s:?}: {j:#?}");
    }
    Ok(())
}

/// The hazard, with the real helm: `helm upgrade` to the 2.0.0 charts fails on the immutable
/// selectors (and the StatefulSet's serviceName), leaving a failed revision. chartup then finishes
/// the very same upgrade on the helm release.
#[tokio::test(flavor = "multi_thread")]
async fn helm_upgrade_fails_where_chartup_recreates() -> anyhow::Result<()> {
    let c = cluster();
    let ns = c.fresh_namespace("recreate-helm").await?;
    let n = ns.name.as_str();
    for (rel, chart_name) in [("q", "quorum"), ("e", "edge")] {
        let v1 = chart(&format!("{chart_name}/1.0.0"));
        let v2 = chart(&format!("{chart_name}/2.0.0"));
        testkit::run_helm(
            c,
            &[
                "install",
                rel,
                &v1,
                "-n",
                n,
                "--server-side=false",
                "--wait",
                "--timeout",
                "3m",
            ],
        )?;
        let err = testkit::run_helm(c, &["upgrade", rel, &v2, "-n", n, "--server-side=false"])
            .err()
            .ok_or_else(|| anyhow!("helm upgrade {rel} to {chart_name} 2.0.0 should fail"))?
            .to_string();
        assert!(
            err.contains("field is immutable") || err.contains("Forbidden"),
            "helm fails on the immutable fields: {err}"
        );
        let h = helm_history(c, &testkit::helm()?, n, rel)?;
        assert_eq!(statuses(&h).last().map(|s| s.1.as_str()), Some("failed"), "{h:?}");
        // chartup finishes the same upgrade of the helm release.
        chartup_ok(c, &["apply", rel, &v2, "-n", n, "--yes"]).await?;
        let h = helm_history(c, &testkit::helm()?, n, rel)?;
        assert_eq!(statuses(&h).last().map(|s| s.1.as_str()), Some("deployed"), "{h:?}");
    }
    // Nothing of the 1.0.0 objects runs any more.
    for p in pods(c, n).await? {
        assert!(ready(&p), "{} Ready", p.name_any());
        assert!(
            p.labels().contains_key("app.kubernetes.io/name"),
            "{} is new",
            p.name_any()
        );
    }
    Ok(())
}

/// A broken new image stops the recreate at the first pod (fail fast), the other old pods still
/// serving; `--atomic` recreates the old StatefulSet, which adopts them untouched (same uids) and
/// gets back the pod it lost — the rollback is a recreate that finishes the same way.
#[tokio::test(flavor = "multi_thread")]
async fn broken_image_stops_after_one_pod_and_atomic_restores() -> anyhow::Result<()> {
    let c = cluster();
    let ns = c.fresh_namespace("recreate-bad").await?;
    let n = ns.name.as_str();
    chartup_ok(c, &["apply", "q", &chart("quorum/1.0.0"), "-n", n, "--yes"]).await?;
    let before = claims(c, n).await?;
    let old: Vec<(String, String)> = pods(c, n)
        .await?
        .iter()
        .map(|p| (p.name_any(), p.uid().unwrap_or_default()))
        .collect();
    let run = chartup(
        c,
        &[
            "apply",
            "q",
            &chart("quorum/2.0.0"),
            "-n",
            n,
            "--yes",
            "--atomic",
            "--set",
            "image.registry=nosuch.invalid",
        ],
    )
    .await?;
    assert!(!run.ok, "the upgrade fails: {}", run.stdout);
    assert!(
        run.stderr
            .contains("pod q-quorum-0 (container zookeeper) is ErrImagePull"),
        "{}",
        run.stderr
    );
    let h = chartup_history(c, n, "q").await?;
    assert_eq!(
        statuses(&h),
        [(1, "superseded".into()), (2, "failed".into()), (3, "deployed".into())]
    );
    let sts: Api<StatefulSet> = Api::namespaced(c.client().await?, n);
    let set = sts.get("q-quorum").await?;
    let spec = set.spec.clone().unwrap_or_default();
    assert_eq!(
        spec.service_name.as_deref(),
        Some("q-quorum-headless"),
        "the old StatefulSet is back"
    );
    let now = pods(c, n).await?;
    assert_eq!(now.len(), 3);
    for p in &now {
        assert!(ready(p), "{} Ready", p.name_any());
        assert_eq!(
            controller_uid(p),
            set.uid(),
            "{} owned by the restored set",
            p.name_any()
        );
        assert_eq!(p.labels().get("app").map(String::as_str), Some("quorum"));
        let was = old.iter().find(|(name, _)| *name == p.name_any()).map(|o| o.1.clone());
        if p.name_any() == "q-quorum-0" {
            assert_ne!(p.uid(), was, "q-quorum-0 was the one replaced");
        } else {
            assert_eq!(p.uid(), was, "{} never touched", p.name_any());
        }
    }
    assert_eq!(claims(c, n).await?, before, "same claims");
    Ok(())
}

/// SIGKILL right after the first pod of a StatefulSet recreate was replaced: `recover` tells from
/// the journal what was done (the old set deleted, the new one created, which pod was replaced),
/// and running the apply again finishes the recreate — the pod already under the new selector is
/// adopted, the old ones are replaced — with the same claims and data.
#[tokio::test(flavor = "multi_thread")]
async fn sigkill_mid_recreate_then_recover_and_finish() -> anyhow::Result<()> {
    use tokio::io::AsyncBufReadExt as _;
    let c = cluster();
    let ns = c.fresh_namespace("recreate-kill").await?;
    let n = ns.name.as_str();
    chartup_ok(c, &["apply", "q", &chart("quorum/1.0.0"), "-n", n, "--yes"]).await?;
    let before = claims(c, n).await?;
    for (name, _, dir) in &before {
        testkit::write_marker(dir, "before", name)?;
    }
    let v2 = chart("quorum/2.0.0");
    let argv = ["apply", "q", v2.as_str(), "-n", n, "--yes", "-o", "json"];
    let mut child = chartup_cmd(c, &argv)?.spawn()?;
    let stdout = child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?;
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let killed = tokio::time::timeout(RUN, async {
        while let Some(line) = lines.next_line().await? {
            if line.contains("\"podReplaced\"") {
                child.start_kill()?;
                child.wait().await?;
                return Ok::<_, anyhow::Error>(line);
            }
        }
        Err(anyhow!("chartup ended without replacing a pod"))
    })
    .await
    .map_err(|_| anyhow!("no pod replaced within {RUN:?}"))??;
    assert!(killed.contains("q-quorum-0"), "{killed}");

    let rec = chartup_ok(c, &["recover", "q", "-n", n]).await?;
    for s in [
        "deleted ",
        "StatefulSet.apps/q-quorum for recreate",
        "applied ",
        "deleting pod q-quorum-0 of StatefulSet q-quorum: left by the old StatefulSet",
        "pod q-quorum-0 Ready under the new StatefulSet q-quorum",
    ] {
        assert!(rec.stdout.contains(s), "recover tells {s:?}: {}", rec.stdout);
    }

    let sts: Api<StatefulSet> = Api::namespaced(c.client().await?, n);
    let set_before = sts.get("q-quorum").await?;
    let pods_api: Api<Pod> = Api::namespaced(c.client().await?, n);
    let first = pods_api.get("q-quorum-0").await?;
    assert_eq!(
        controller_uid(&first),
        set_before.uid(),
        "q-quorum-0 was replaced before the kill"
    );

    chartup_ok(c, &argv).await?;
    // The StatefulSet the killed run created already has the new selector and serviceName: it is
    // kept (not deleted and orphaned again), and so is the pod it made.
    let set = sts.get("q-quorum").await?;
    assert_eq!(set.uid(), set_before.uid(), "not recreated a second time");
    assert_eq!(
        pods_api.get("q-quorum-0").await?.uid(),
        first.uid(),
        "q-quorum-0 not replaced again"
    );
    let j = journal(&chartup_ok(c, &["status", "q", "-n", n, "-o", "json"]).await?)?;
    assert!(
        j.iter()
            .any(|l| l.contains("already has the new immutable fields: not deleted again")),
        "{j:#?}"
    );
    let h = chartup_history(c, n, "q").await?;
    assert_eq!(
        statuses(&h),
        [(1, "superseded".into()), (2, "failed".into()), (3, "deployed".into())]
    );
    let now = pods(c, n).await?;
    assert_eq!(now.len(), 3);
    for p in &now {
        assert!(ready(p), "{} Ready", p.name_any());
        assert_eq!(controller_uid(p), set.uid(), "{} owned by the new set", p.name_any());
        assert_eq!(
            p.labels().get("app.kubernetes.io/name").map(String::as_str),
            Some("quorum")
        );
    }
    let after = claims(c, n).await?;
    assert_eq!(after, before, "same claims");
    for (name, _, dir) in &after {
        assert_eq!(
            testkit::read_marker(dir, "before").as_deref(),
            Some(name.as_str()),
            "{name}"
        );
    }
    Ok(())
}

/// Only `serviceName` changes (same selector, same template): the new StatefulSet adopts the old
/// pods, but they keep the old service as their DNS subdomain and the controller would never
/// replace them. chartup does, one at a time from ordinal 0, with the same claims.
#[tokio::test(flavor = "multi_thread")]
async fn service_name_change_alone_replaces_adopted_pods() -> anyhow::Result<()> {
    let c = cluster();
    let ns = c.fresh_namespace("recreate-svc").await?;
    let n = ns.name.as_str();
    let tmp = tempfile::tempdir()?;
    let d = tmp.path().join("db");
    std::fs::create_dir_all(d.join("templates"))?;
    std::fs::write(d.join("Chart.yaml"), "apiVersion: v2\nname: db\nversion: 1.0.0\n")?;
    std::fs::write(d.join("values.yaml"), "service: db-a\n")?;
    std::fs::write(
        d.join("templates/sts.yaml"),
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\nspec:\n  serviceName: {{ .Values.service }}\n  replicas: 2\n  selector:\n    matchLabels: {app: db}\n  template:\n    metadata:\n      labels: {app: db}\n    spec:\n      containers:\n        - name: db\n          image: postgres:16\n  volumeClaimTemplates:\n    - metadata:\n        name: data\n      spec:\n        accessModes: [ReadWriteOnce]\n        resources: {requests: {storage: 1Gi}}\n",
    )?;
    let chart_dir = d.display().to_string();
    chartup_ok(c, &["apply", "db", &chart_dir, "-n", n, "--yes"]).await?;
    let before = claims(c, n).await?;
    let old: Vec<String> = pods(c, n).await?.iter().filter_map(|p| p.uid()).collect();
    let run = chartup_ok(
        c,
        &[
            "apply",
            "db",
            &chart_dir,
            "-n",
            n,
            "--set",
            "service=db-b",
            "--yes",
            "-o",
            "json",
        ],
    )
    .await?;
    assert_eq!(pod_replaced(&run), ["db-0", "db-1"]);
    let sts: Api<StatefulSet> = Api::namespaced(c.client().await?, n);
    let set = sts.get("db").await?;
    let now = pods(c, n).await?;
    assert_eq!(now.len(), 2);
    for p in &now {
        assert!(ready(p), "{} Ready", p.name_any());
        assert!(!old.contains(&p.uid().unwrap_or_default()), "{} replaced", p.name_any());
        assert_eq!(controller_uid(p), set.uid());
        let sub = p.spec.as_ref().and_then(|s| s.subdomain.clone());
        assert_eq!(sub.as_deref(), Some("db-b"), "{}", p.name_any());
    }
    assert_eq!(claims(c, n).await?, before, "same claims");
    Ok(())
}

/// Issue 17: the plan's recreate decisions agree with the API server. For each chart pair of
/// tests/data/charts/precision the old side is created in a fresh namespace, then every object of
/// the new side is sent as `kubectl replace --dry-run=server`: an object the plan recreates must
/// be refused, an object it changes in place must be accepted (`podManagementPolicy: ''` and a
/// claim template's `annotations: null` are accepted; an immutable Secret's data, an immutable
/// ConfigMap's data and a Secret's `type` are refused).
#[tokio::test(flavor = "multi_thread")]
async fn server_agrees_with_the_recreate_decisions() -> anyhow::Result<()> {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let c = cluster();
    let helm = testkit::helm()?;
    let kubectl = helm.parent().map(|d| d.join("kubectl")).unwrap_or_default();
    ensure!(
        kubectl.is_file(),
        "kubectl beside helm ({}) is needed",
        kubectl.display()
    );
    let mut checked = 0;
    for case in ["sts-defaults", "immutable-data"] {
        let ns = c.fresh_namespace("recreate-server").await?;
        let dir = root().join("tests/data/charts/precision").join(case);
        let (old, new) = (dir.join("1.0.0"), dir.join("2.0.0"));
        let (old, new) = (old.to_string_lossy(), new.to_string_lossy());
        let plan = chartup_ok(
            c,
            &[
                "plan",
                "--release",
                "rel",
                "--from",
                &old,
                "--to",
                &new,
                "-n",
                &ns.name,
                "-o",
                "json",
            ],
        )
        .await?;
        let plan: Json = serde_json::from_str(&plan.stdout)?;
        let render = |chart: &str| -> anyhow::Result<String> {
            let out = Command::new(&helm)
                .args(["template", "rel", chart, "-n", &ns.name])
                .output()?;
            ensure!(out.status.success(), "helm template {chart}");
            Ok(String::from_utf8(out.stdout)?)
        };
        let kubectl_with = |args: &[&str], input: &str| -> anyhow::Result<(bool, String)> {
            let mut child = Command::new(&kubectl)
                .arg("--kubeconfig")
                .arg(&c.kubeconfig)
                .args(["-n", &ns.name])
                .args(args)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()?;
            child
                .stdin
                .take()
                .ok_or_else(|| anyhow!("stdin"))?
                .write_all(input.as_bytes())?;
            let out = child.wait_with_output()?;
            Ok((out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned()))
        };
        let (ok, err) = kubectl_with(&["create", "-f", "-"], &render(&old)?)?;
        ensure!(ok, "creating the old side of {case}: {err}");
        let set = chartup::manifest::parse_manifest(&render(&new)?, &ns.name)?;
        for o in &set.objects {
            let action = plan["changes"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|ch| ch["key"]["kind"] == o.key.kind.as_str() && ch["key"]["name"] == o.key.name.as_str())
                .and_then(|ch| ch["action"].as_str())
                .ok_or_else(|| anyhow!("{} not in the plan", o.key))?;
            let (accepted, err) = kubectl_with(&["replace", "--dry-run=server", "-f", "-"], &o.value.to_string())?;
            ensure!(
                accepted == (action != "recreate"),
                "{case}: plan says {action} for {}, the server {} it: {err}",
                o.key,
                if accepted { "accepts" } else { "refuses" }
            );
            checked += 1;
        }
    }
    ensure!(
        checked == 4,
        "one StatefulSet, two Secrets and a ConfigMap checked: {checked}"
    );
    Ok(())
}

/// Issue 17, the connected plan's own checks on the real API server (kube-apiserver 1.20): a
/// `policy/v1` PodDisruptionBudget is refused in the plan (1.20 serves only `policy/v1beta1`), the
/// immutable Secret's predicted recreate is confirmed by a server-side dry run, and a claim the
/// new version mounts from outside the release that does not exist is a hazard.
#[tokio::test(flavor = "multi_thread")]
async fn connected_plan_checks_apis_recreates_and_outside_claims() -> anyhow::Result<()> {
    let c = cluster();
    let ns = c.fresh_namespace("connected-plan").await?;
    let dir = root().join("tests/data/charts/precision/connected");
    let (v1, v2) = (
        dir.join("1.0.0").display().to_string(),
        dir.join("2.0.0").display().to_string(),
    );
    chartup_ok(c, &["apply", "rel", &v1, "-n", &ns.name, "--yes"]).await?;
    let r = chartup(c, &["plan", "rel", &v2, "-n", &ns.name, "-o", "json"]).await?;
    ensure!(!r.ok, "refused: {}", r.stderr);
    let plan: Json = serde_json::from_str(&r.stdout)?;
    let refusals = plan["refusals"].to_string();
    ensure!(
        refusals.contains("apiVersion policy/v1 is not served by this cluster (the server serves policy/v1beta1)"),
        "{refusals}"
    );
    let secret = plan["changes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|ch| ch["key"]["kind"] == "Secret" && ch["key"]["name"] == "frozen")
        .ok_or_else(|| anyhow!("no change for the Secret"))?;
    ensure!(secret["action"] == "recreate", "{secret}");
    ensure!(
        secret["notes"]
            .to_string()
            .contains("recreate confirmed: the server refuses the update in place"),
        "{secret}"
    );
    let missing = plan["hazards"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|h| h["rule"] == "claim-missing")
        .ok_or_else(|| anyhow!("no claim-missing hazard: {}", plan["hazards"]))?;
    ensure!(
        missing["object"] == format!("{}/PersistentVolumeClaim/shared-archive", ns.name).as_str(),
        "{missing}"
    );
    Ok(())
}

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
