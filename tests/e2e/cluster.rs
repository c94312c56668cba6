//! End-to-end checks of the test cluster itself (scripts/test-cluster.sh + nodesim): that the real
//! controllers and the simulated node together behave as chartup's apply/rollback tests assume.
//!
//! Needs the cluster: CI starts it (scripts/test.sh); locally run `scripts/test-cluster.sh up` or
//! set CHARTUP_E2E_START=1 (see docs/test-cluster.md). Every wait is a watch on a condition with a
//! timeout; timeouts are generous because the machine is shared, except where the timing is the
//! point (ImagePullBackOff within 5 s of the pull error, measured between the states as a watch sees
//! them, so a slow start of the pod does not count).

use std::time::{Duration, Instant};

use serde_json::json;
use testkit::k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use testkit::k8s_openapi::api::batch::v1::Job;
use testkit::k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim, Pod};
use testkit::kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use testkit::kube::ResourceExt;
use testkit::{cluster, create, wait_deleted, wait_for};

const ROLLOUT: Duration = Duration::from_secs(90);

fn container_waiting_reason(p: &Pod) -> Option<String> {
    let cs = p.status.as_ref()?.container_statuses.as_ref()?;
    cs.iter()
        .find_map(|c| c.state.as_ref()?.waiting.as_ref()?.reason.clone())
}

fn restart_count(p: &Pod) -> i32 {
    p.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .map_or(0, |cs| cs.iter().map(|c| c.restart_count).sum())
}

fn pod_ready(p: &Pod) -> bool {
    let conds = p.status.as_ref().and_then(|s| s.conditions.as_ref());
    conds.is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// A StatefulSet is rolled out: controller saw the spec, all replicas ready and on the update revision.
fn sts_rolled_out(s: Option<&StatefulSet>) -> bool {
    let Some(s) = s else { return false };
    let want = s.spec.as_ref().and_then(|sp| sp.replicas).unwrap_or(1);
    let Some(st) = s.status.as_ref() else { return false };
    st.observed_generation >= s.metadata.generation
        && st.ready_replicas.unwrap_or(0) == want
        && st.replicas == want
        && st.updated_replicas.unwrap_or(0) == want
        && st.current_revision.is_some()
        && st.current_revision == st.update_revision
}

fn deployment_rolled_out(d: Option<&Deployment>) -> bool {
    let Some(d) = d else { return false };
    let want = d.spec.as_ref().and_then(|sp| sp.replicas).unwrap_or(1);
    let Some(st) = d.status.as_ref() else { return false };
    st.observed_generation >= d.metadata.generation
        && st.updated_replicas.unwrap_or(0) == want
        && st.ready_replicas.unwrap_or(0) == want
        && st.available_replicas.unwrap_or(0) == want
        && st.replicas.unwrap_or(0) == want
}

fn statefulset(name: &str, replicas: i32, strategy: &str, class: Option<&str>) -> serde_json::Value {
    let mut s = json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas, "serviceName": name,
            "updateStrategy": {"type": strategy},
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                         "spec": {"containers": [{"name": "app", "image": "nginx:1.25",
                                                  "env": [{"name": "VERSION", "value": "1"}]}]}},
        }
    });
    if let Some(class) = class {
        s["spec"]["template"]["spec"]["containers"][0]["volumeMounts"] =
            json!([{"name": "data", "mountPath": "/data"}]);
        s["spec"]["volumeClaimTemplates"] = json!([{
            "metadata": {"name": "data"},
            "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": class,
                     "resources": {"requests": {"storage": "1Gi"}}}
        }]);
    }
    s
}

#[tokio::test]
async fn deployment_rolls_out_to_ready_and_the_gc_removes_its_pods() -> anyhow::Result<()> {
    let c = cluster();
    let ns = c.fresh_namespace("deploy").await?;
    let client = c.client().await?;
    let api: Api<Deployment> = Api::namespaced(client, &ns.name);
    create(
        &api,
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [{"name": "web", "image": "nginx:1.25"}]}}}
        }),
    )
    .await?;
    wait_for(&api, "web", ROLLOUT, "2 ready replicas", deployment_rolled_out).await?;

    // The garbage collector removes the ReplicaSet and pods of a deleted Deployment.
    let pods: Api<Pod> = Api::namespaced(api.clone().into_client(), &ns.name);
    let before = pods.list(&ListParams::default().labels("app=web")).await?;
    assert_eq!(before.items.len(), 2);
    api.delete("web", &DeleteParams::background()).await?;
    for p in before.items {
        wait_deleted(&pods, &p.name_any(), ROLLOUT).await?;
    }
    Ok(())
}

#[tokio::test]
async fn statefulset_rolls_out_and_claims_bind_to_real_directories() -> anyhow::Result<()> {
    let c = cluster();
    let ns = c.fresh_namespace("sts").await?;
    let client = c.client().await?;
    let api: Api<StatefulSet> = Api::namespaced(client.clone(), &ns.name);
    create(&api, statefulset("db", 2, "RollingUpdate", Some("standard"))).await?;
    wait_for(&api, "db", ROLLOUT, "rollout", sts_rolled_out).await?;
    for ordinal in 0..2 {
        let dir = c
            .claim_dir(&client, &ns.name, &format!("data-db-{ordinal}"), ROLLOUT)
            .await?;
        assert!(dir.is_dir(), "{} is not a directory", dir.display());
        assert!(
            dir.starts_with(&c.volumes_dir),
            "{} is outside the cluster's volumes",
            dir.display()
        );
    }
    Ok(())
}

#[tokio::test]
async fn statefulset_on_delete_updates_a_pod_only_when_it_is_deleted() -> anyhow::Result<()> {
    let c = cluster();
    let ns = c.fresh_namespace("ondelete").await?;
    let client = c.client().await?;
    let api: Api<StatefulSet> = Api::namespaced(client.clone(), &ns.name);
    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns.name);
    create(&api, statefulset("app", 1, "OnDelete", None)).await?;
    let sts = wait_for(&api, "app", ROLLOUT, "rollout", sts_rolled_out).await?;
    let old_rev = sts.status.and_then(|s| s.current_revision).unwrap_or_default();
    let old_pod = pods.get("app-0").await?;

    let patch = json!({"spec": {"template": {"spec": {"containers": [
        {"name": "app", "image": "nginx:1.25", "env": [{"name": "VERSION", "value": "2"}]}]}}}});
    api.patch("app", &PatchParams::default(), &Patch::Strategic(patch))
        .await?;
    // Once the controller has processed the new template, it knows a new revision...
    let sts = wait_for(
        &api,
        "app",
        ROLLOUT,
        "the new revision to be observed",
        |s: Option<&StatefulSet>| {
            s.and_then(|s| Some((s.metadata.generation?, s.status.as_ref()?)))
                .is_some_and(|(g, st)| st.observed_generation == Some(g) && st.update_revision != st.current_revision)
        },
    )
    .await?;
    let new_rev = sts.status.and_then(|s| s.update_revision).unwrap_or_default();
    assert_ne!(new_rev, old_rev);
    // ...but under OnDelete it leaves the running pod alone.
    let pod = pods.get("app-0").await?;
    assert_eq!(pod.uid(), old_pod.uid(), "the pod was replaced without being deleted");
    assert_eq!(pod.labels().get("controller-revision-hash"), Some(&old_rev));
    assert_eq!(sts_current_replicas(&api).await?, 1);

    pods.delete("app-0", &DeleteParams::default()).await?;
    let old_uid = old_pod.uid();
    wait_for(
        &pods,
        "app-0",
        ROLLOUT,
        "a new ready pod on the new revision",
        move |p: Option<&Pod>| {
            p.is_some_and(|p| {
                p.uid() != old_uid && pod_ready(p) && p.labels().get("controller-revision-hash") == Some(&new_rev)
            })
        },
    )
    .await?;
    Ok(())
}

async fn sts_current_replicas(api: &Api<StatefulSet>) -> anyhow::Result<i32> {
    Ok(api
        .get("app")
        .await?
        .status
        .and_then(|s| s.current_replicas)
        .unwrap_or(0))
}

#[tokio::test]
async fn deleting_a_claim_deletes_its_data_under_delete_and_keeps_it_under_retain() -> anyhow::Result<()> {
    let c = cluster();
    let ns = c.fresh_namespace("reclaim").await?;
    let client = c.client().await?;
    let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), &ns.name);
    let pvs: Api<PersistentVolume> = Api::all(client.clone());
    for (claim, class) in [("gone", None), ("kept", Some("retain"))] {
        let mut spec = json!({"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}});
        if let Some(class) = class {
            spec["storageClassName"] = json!(class);
        }
        create(
            &pvcs,
            json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": claim}, "spec": spec}),
        )
        .await?;
    }
    // "gone" has no class: the default class (standard, Delete) must have been applied.
    let gone_dir = c.claim_dir(&client, &ns.name, "gone", ROLLOUT).await?;
    let kept_dir = c.claim_dir(&client, &ns.name, "kept", ROLLOUT).await?;
    assert_eq!(
        pvcs.get("gone")
            .await?
            .spec
            .and_then(|s| s.storage_class_name)
            .as_deref(),
        Some("standard")
    );
    assert!(gone_dir.is_dir() && kept_dir.is_dir());
    testkit::write_marker(&gone_dir, "t", "data")?;
    testkit::write_marker(&kept_dir, "t", "data")?;
    let gone_pv = pvcs
        .get("gone")
        .await?
        .spec
        .and_then(|s| s.volume_name)
        .unwrap_or_default();
    let kept_pv = pvcs
        .get("kept")
        .await?
        .spec
        .and_then(|s| s.volume_name)
        .unwrap_or_default();

    pvcs.delete("gone", &DeleteParams::default()).await?;
    pvcs.delete("kept", &DeleteParams::default()).await?;
    wait_deleted(&pvs, &gone_pv, ROLLOUT).await?;
    assert!(
        !gone_dir.exists(),
        "the Delete volume's directory survived: {}",
        gone_dir.display()
    );
    assert_eq!(testkit::read_marker(&gone_dir, "t"), None);

    wait_for(&pvs, &kept_pv, ROLLOUT, "Released", |pv: Option<&PersistentVolume>| {
        pv.and_then(|pv| pv.status.as_ref()?.phase.as_deref()) == Some("Released")
    })
    .await?;
    assert_eq!(testkit::read_marker(&kept_dir, "t").as_deref(), Some("data"));
    // Clean up what Retain keeps by design.
    pvs.delete(&kept_pv, &DeleteParams::default()).await?;
    std::fs::remove_dir_all(&kept_dir)?;
    Ok(())
}

fn bare_pod(name: &str, image: &str, annotations: serde_json::Value) -> serde_json::Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "annotations": annotations},
           "spec": {"containers": [{"name": "main", "image": image}]}})
}

/// A missing image shows as a kubelet's would, ErrImagePull then ImagePullBackOff, and the back-off
/// comes within seconds (nodesim: after 1 s), not the kubelet's minutes, so chartup's fail-fast
/// tests see it. The 5 s run from the watch's first sight of ErrImagePull, not from the test's
/// start: binding and the first status on a loaded cluster are not the promise.
#[tokio::test(flavor = "multi_thread")]
async fn a_missing_image_reports_image_pull_back_off_within_5_seconds() -> anyhow::Result<()> {
    let c = cluster();
    let ns = c.fresh_namespace("pull").await?;
    let pods: Api<Pod> = Api::namespaced(c.client().await?, &ns.name);
    let log = crate::e2e_support::PodLog::start(c, &ns.name).await?;
    create(
        &pods,
        bare_pod("p", "registry.invalid/chartup/no-such-image:1.0", json!({})),
    )
    .await?;
    let p = wait_for(&pods, "p", ROLLOUT, "ImagePullBackOff", |p: Option<&Pod>| {
        p.and_then(container_waiting_reason).as_deref() == Some("ImagePullBackOff")
    })
    .await?;
    assert_eq!(p.status.and_then(|s| s.phase).as_deref(), Some("Pending"));
    // The watch delivers every change in order; the back-off may reach our log a moment after
    // wait_for saw it (a second watch).
    let deadline = Instant::now() + ROLLOUT;
    let seen = |reason: &str| {
        log.snapshot()
            .into_iter()
            .position(|e| e.waiting.as_deref() == Some(reason))
    };
    let back_off = loop {
        if let Some(i) = seen("ImagePullBackOff") {
            break i;
        }
        anyhow::ensure!(Instant::now() < deadline, "the pod log never saw ImagePullBackOff");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let events = log.snapshot();
    let pull_error = seen("ErrImagePull")
        .filter(|i| *i < back_off)
        .ok_or_else(|| anyhow::anyhow!("no ErrImagePull before ImagePullBackOff: {:?}", events))?;
    let took = events[back_off].at.saturating_duration_since(events[pull_error].at);
    assert!(
        took < Duration::from_secs(5),
        "ImagePullBackOff {took:?} after ErrImagePull"
    );
    Ok(())
}

#[tokio::test]
async fn a_crashing_container_reports_crash_loop_back_off_with_rising_restarts() -> anyhow::Result<()> {
    let c = cluster();
    let ns = c.fresh_namespace("crash").await?;
    let pods: Api<Pod> = Api::namespaced(c.client().await?, &ns.name);
    create(
        &pods,
        bare_pod("p", "busybox:1.36", json!({"nodesim.chartup.io/crash": "true"})),
    )
    .await?;
    let p = wait_for(
        &pods,
        "p",
        Duration::from_secs(30),
        "CrashLoopBackOff",
        |p: Option<&Pod>| p.and_then(container_waiting_reason).as_deref() == Some("CrashLoopBackOff"),
    )
    .await?;
    let first = restart_count(&p);
    assert!(first >= 1);
    assert!(!pod_ready(&p));
    wait_for(
        &pods,
        "p",
        Duration::from_secs(30),
        "a higher restart count",
        move |p: Option<&Pod>| p.is_some_and(|p| restart_count(p) > first),
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn an_unready_container_runs_but_is_not_ready_and_jobs_complete() -> anyhow::Result<()> {
    let c = cluster();
    let ns = c.fresh_namespace("unready").await?;
    let client = c.client().await?;
    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns.name);
    create(
        &pods,
        bare_pod("u", "busybox:1.36", json!({"nodesim.chartup.io/unready": "true"})),
    )
    .await?;
    let p = wait_for(&pods, "u", ROLLOUT, "Running", |p: Option<&Pod>| {
        p.and_then(|p| p.status.as_ref()?.phase.as_deref()) == Some("Running")
    })
    .await?;
    assert!(!pod_ready(&p));

    let jobs: Api<Job> = Api::namespaced(client, &ns.name);
    create(
        &jobs,
        json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "migrate"},
        "spec": {"template": {"spec": {"restartPolicy": "Never",
                                        "containers": [{"name": "m", "image": "busybox:1.36"}]}}}}),
    )
    .await?;
    wait_for(&jobs, "migrate", ROLLOUT, "Job succeeded", |j: Option<&Job>| {
        j.and_then(|j| j.status.as_ref()?.succeeded) == Some(1)
    })
    .await?;
    Ok(())
}

#[tokio::test]
async fn the_no_rights_user_is_forbidden() -> anyhow::Result<()> {
    let c = cluster();
    let pods: Api<Pod> = Api::namespaced(c.client_norights().await?, "default");
    match pods.list(&ListParams::default()).await {
        Err(testkit::kube::Error::Api(s)) => assert_eq!(s.code, 403),
        other => panic!("expected 403 Forbidden, got {other:?}"),
    }
    let admin: Api<Pod> = Api::namespaced(c.client().await?, "default");
    admin.list(&ListParams::default()).await?;
    Ok(())
}

const CHART_YAML: &str = "apiVersion: v2\nname: e2e\nversion: 0.1.0\n";
const VALUES_YAML: &str = "version: \"1\"\nreplicas: 1\n";
const WEB: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-web
spec:
  replicas: {{ .Values.replicas }}
  selector:
    matchLabels: {app: {{ .Release.Name }}-web}
  template:
    metadata:
      labels: {app: {{ .Release.Name }}-web}
    spec:
      containers:
        - name: web
          image: nginx:1.25
          env: [{name: VERSION, value: {{ .Values.version | quote }}}]
"#;
const DB: &str = r#"apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {{ .Release.Name }}-db
spec:
  replicas: 1
  serviceName: {{ .Release.Name }}-db
  selector:
    matchLabels: {app: {{ .Release.Name }}-db}
  template:
    metadata:
      labels: {app: {{ .Release.Name }}-db}
    spec:
      containers:
        - name: db
          image: postgres:16
          env: [{name: VERSION, value: {{ .Values.version | quote }}}]
          volumeMounts: [{name: data, mountPath: /var/lib/postgresql/data}]
  volumeClaimTemplates:
    - metadata: {name: data}
      spec:
        accessModes: [ReadWriteOnce]
        resources: {requests: {storage: 1Gi}}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}-db
spec:
  clusterIP: None
  selector: {app: {{ .Release.Name }}-db}
  # Server-side apply on 1.20 (helm 4 uses it) rejects ports without protocol: its schema has no default.
  ports: [{port: 5432, protocol: TCP}]
"#;

#[tokio::test]
async fn helm_installs_and_upgrades_a_chart_with_wait() -> anyhow::Result<()> {
    let c = cluster();
    let ns = c.fresh_namespace("helm").await?;
    let chart = tempfile::tempdir()?;
    std::fs::create_dir(chart.path().join("templates"))?;
    std::fs::write(chart.path().join("Chart.yaml"), CHART_YAML)?;
    std::fs::write(chart.path().join("values.yaml"), VALUES_YAML)?;
    std::fs::write(chart.path().join("templates/web.yaml"), WEB)?;
    std::fs::write(chart.path().join("templates/db.yaml"), DB)?;
    let chart_dir = chart.path().to_string_lossy().into_owned();
    let helm = |args: &[&str]| testkit::run_helm(c, args);

    helm(&[
        "install",
        "rel",
        &chart_dir,
        "-n",
        &ns.name,
        "--wait",
        "--timeout",
        "3m",
    ])?;
    let client = c.client().await?;
    let deploys: Api<Deployment> = Api::namespaced(client.clone(), &ns.name);
    let sts: Api<StatefulSet> = Api::namespaced(client.clone(), &ns.name);
    // --wait returned: everything must already be ready, no further waiting.
    assert!(deployment_rolled_out(Some(&deploys.get("rel-web").await?)));
    assert!(sts_rolled_out(Some(&sts.get("rel-db").await?)));
    let dir = c
        .claim_dir(&client, &ns.name, "data-rel-db-0", Duration::from_secs(5))
        .await?;
    testkit::write_marker(&dir, "helm", "v1")?;

    helm(&[
        "upgrade",
        "rel",
        &chart_dir,
        "-n",
        &ns.name,
        "--set",
        "version=2,replicas=2",
        "--wait",
        "--timeout",
        "3m",
    ])?;
    let d = deploys.get("rel-web").await?;
    assert!(deployment_rolled_out(Some(&d)));
    assert_eq!(d.status.and_then(|s| s.ready_replicas), Some(2));
    assert!(sts_rolled_out(Some(&sts.get("rel-db").await?)));
    let list: serde_json::Value = serde_json::from_str(&helm(&["list", "-n", &ns.name, "-o", "json"])?)?;
    assert_eq!(list[0]["name"], "rel");
    assert_eq!(list[0]["revision"], "2");
    assert_eq!(list[0]["status"], "deployed");
    // The rolling update replaced the pod, not its claim: the data survived.
    assert_eq!(testkit::read_marker(&dir, "helm").as_deref(), Some("v1"));
    Ok(())
}
