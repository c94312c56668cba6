//! The operations on the in-memory seams: `--atomic` (apply, fail, roll back), rollback planning
//! and execution, status and history — what the records say afterwards, as Helm would show it.

use serde_json::json;

use super::*;
use crate::cluster::FakeCluster;
use crate::executor::{ApplyError, ApplyOptions};
use crate::manifest::split_documents;
use crate::plan::saved::SavedPlan;
use crate::plan::{self, PlanOptions, ReleaseSide};
use crate::release::{Info, Release, Status};
use crate::storage::{MemoryStore, ReleaseStore};

const NS: &str = "prod";
const REL: &str = "db";

fn block<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a runtime")
        .block_on(f)
}

fn cm(name: &str, value: &str) -> String {
    format!("---\n# Source: db/templates/{name}.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  k: \"{value}\"\n")
}

fn saved(old: &str, new: &str, base_revision: Option<u64>) -> SavedPlan {
    let side = |o: &str, t: &str| ReleaseSide::new(o, split_documents(t), NS).expect("a valid side");
    let (a, b) = (side("old", old), side("new", new));
    let opts = PlanOptions {
        release: REL.into(),
        namespace: NS.into(),
        ..Default::default()
    };
    let mut p = plan::build(&a, &b, None, &opts);
    p.base_revision = base_revision;
    SavedPlan::new(p, &a, &b).expect("a saveable plan")
}

fn revision(version: u32, status: Status, manifest: &str) -> Release {
    let mut r: Release =
        serde_json::from_value(json!({"name": REL, "version": version, "namespace": NS})).expect("a minimal record");
    r.info = Info {
        status,
        description: format!("revision {version}"),
        ..Default::default()
    };
    r.config = json!({});
    r.manifest = crate::executor::objects::manifest_text(&split_documents(manifest));
    r
}

fn opts(atomic: bool) -> ApplyOptions {
    ApplyOptions {
        atomic,
        timeout: std::time::Duration::from_secs(5),
        ..Default::default()
    }
}

fn statuses(store: &dyn ReleaseStore) -> Vec<(u32, Status, String)> {
    block(store.history(REL))
        .expect("history")
        .revisions
        .iter()
        .map(|r| (r.version, r.status(), r.info.description.clone()))
        .collect()
}

#[test]
fn atomic_rolls_a_failed_upgrade_back_to_the_deployed_revision() {
    let cluster = FakeCluster::new(NS);
    let store = MemoryStore::new(NS);
    let old = cm("cfg", "1");
    block(store.create(&revision(1, Status::Deployed, &old))).expect("seeded");
    cluster.put(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": NS}, "data": {"k": "1"}}));
    // The new object cannot be written: the run fails after changing cfg.
    cluster.fail("apply", "ConfigMap/extra", Some(false), 500, "etcd is down");
    let plan = saved(&old, &format!("{}{}", cm("cfg", "2"), cm("extra", "x")), Some(1));
    let mut steps = Vec::new();
    let err = block(apply::apply(&cluster, &store, &plan, &opts(true), &mut |p| {
        steps.push(p)
    }))
    .unwrap_err();
    let ApplyError::Failed { revision, rollback, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!((*revision, rollback.clone()), (2, Some(Ok(3))), "{err}");
    let st = statuses(&store);
    assert_eq!(
        st.iter().map(|(v, s, _)| (*v, *s)).collect::<Vec<_>>(),
        [(1, Status::Superseded), (2, Status::Failed), (3, Status::Deployed)]
    );
    assert_eq!(st[2].2, "Rollback to 1");
    assert!(st[1].2.starts_with("UpgradeFailed: "), "{}", st[1].2);
    // Revision 3 is revision 1 again, in the cluster and in the record.
    assert_eq!(
        cluster.object("v1", "ConfigMap", NS, "cfg").expect("cfg")["data"]["k"],
        "1"
    );
    let h = block(store.history(REL)).expect("history");
    assert_eq!(h.get(3).expect("r3").manifest, h.get(1).expect("r1").manifest);
    assert_eq!(
        h.get(3).expect("r3").info.extra.get("rollback_revision"),
        Some(&json!(1))
    );
    assert!(steps.iter().any(
        |p| matches!(p, crate::executor::Progress::Step { step } if step == "rolling back to revision 1 (--atomic)")
    ));
}

#[test]
fn without_atomic_a_failed_upgrade_stays_failed() {
    let cluster = FakeCluster::new(NS);
    let store = MemoryStore::new(NS);
    block(store.create(&revision(1, Status::Deployed, &cm("cfg", "1")))).expect("seeded");
    cluster.fail("apply", "ConfigMap/cfg", Some(false), 500, "etcd is down");
    let plan = saved(&cm("cfg", "1"), &cm("cfg", "2"), Some(1));
    let err = block(apply::apply(&cluster, &store, &plan, &opts(false), &mut |_| {})).unwrap_err();
    assert!(
        matches!(
            err,
            ApplyError::Failed {
                revision: 2,
                rollback: None,
                ..
            }
        ),
        "{err}"
    );
    let st = statuses(&store);
    assert_eq!(
        st.iter().map(|(v, s, _)| (*v, *s)).collect::<Vec<_>>(),
        [(1, Status::Deployed), (2, Status::Failed)]
    );
}

#[test]
fn atomic_upgrade_with_nothing_deployed_says_so() {
    // helm's upgrade --atomic: "unable to find a previously successful release" (a failed
    // install before it is not one to roll back to).
    let cluster = FakeCluster::new(NS);
    let store = MemoryStore::new(NS);
    block(store.create(&revision(1, Status::Failed, &cm("cfg", "0")))).expect("seeded");
    cluster.fail("apply", "ConfigMap/cfg", Some(false), 500, "etcd is down");
    let plan = saved(&cm("cfg", "0"), &cm("cfg", "1"), Some(1));
    let err = block(apply::apply(&cluster, &store, &plan, &opts(true), &mut |_| {})).unwrap_err();
    assert!(
        matches!(&err, ApplyError::Failed { revision: 2, rollback: Some(Err(e)), uninstalled: None, .. } if e.contains("no deployed revision")),
        "{err:?}"
    );
}

#[test]
fn atomic_install_that_fails_is_uninstalled_as_helm_does() {
    // helm's install --atomic (--rollback-on-failure): the failed release is uninstalled,
    // records and objects (pkg/action/install.go failRelease).
    let cluster = FakeCluster::new(NS);
    let store = MemoryStore::new(NS);
    cluster.fail("apply", "ConfigMap/second", Some(false), 500, "etcd is down");
    let plan = saved("", &format!("{}{}", cm("first", "1"), cm("second", "1")), None);
    let err = block(apply::apply(&cluster, &store, &plan, &opts(true), &mut |_| {})).unwrap_err();
    assert!(
        matches!(
            &err,
            ApplyError::Failed {
                revision: 1,
                rollback: None,
                uninstalled: Some(Ok(())),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(statuses(&store).is_empty(), "{:?}", statuses(&store));
    let first = crate::cluster::ObjRef {
        api_version: "v1".into(),
        kind: "ConfigMap".into(),
        namespace: NS.into(),
        name: "first".into(),
    };
    assert!(
        block(cluster.get(&first)).expect("read").is_none(),
        "the install's object stayed"
    );
}

#[test]
fn rollback_plans_from_the_current_manifest_to_the_target_and_runs_as_a_new_revision() {
    let cluster = FakeCluster::new(NS);
    let store = MemoryStore::new(NS);
    block(store.create(&revision(1, Status::Superseded, &cm("cfg", "1")))).expect("seeded");
    block(store.create(&revision(
        2,
        Status::Deployed,
        &format!("{}{}", cm("cfg", "2"), cm("extra", "x")),
    )))
    .expect("seeded");
    let planned = block(rollback::plan_rollback(&cluster, &store, REL, None)).expect("planned");
    assert_eq!((planned.current.version, planned.target.version), (2, 1));
    let actions: Vec<String> = planned
        .saved
        .plan
        .changes
        .iter()
        .map(|c| format!("{} {}", c.action.as_str(), c.key))
        .collect();
    assert!(
        actions.iter().any(|a| a.starts_with("remove") && a.contains("extra")),
        "{actions:#?}"
    );
    let rev = block(rollback::rollback(
        &cluster,
        &store,
        REL,
        None,
        &opts(false),
        &mut |_| {},
    ))
    .expect("rolled back");
    assert_eq!(rev, 3);
    let st = statuses(&store);
    assert_eq!(st[2], (3, Status::Deployed, "Rollback to 1".to_string()));
    assert_eq!(st[1].1, Status::Superseded);
    // A revision that does not exist is an error naming it, before anything is written.
    let err = block(rollback::rollback(
        &cluster,
        &store,
        REL,
        Some(9),
        &opts(false),
        &mut |_| {},
    ))
    .unwrap_err();
    assert!(err.to_string().contains("has no revision 9"), "{err}");
    let err = block(rollback::rollback(
        &cluster,
        &store,
        "nope",
        None,
        &opts(false),
        &mut |_| {},
    ))
    .unwrap_err();
    assert!(
        err.to_string() == "release: not found (nope in namespace prod)",
        "{err}"
    );
}

#[test]
fn status_reports_the_last_operation_and_the_pods() {
    let cluster = FakeCluster::new(NS);
    let store = MemoryStore::new(NS);
    block(store.create(&revision(1, Status::Deployed, &cm("cfg", "1")))).expect("seeded");
    let mut failed = revision(2, Status::Failed, &cm("cfg", "2"));
    failed.info.description = "UpgradeFailed: pod db-0 is CrashLoopBackOff".into();
    block(store.create(&failed)).expect("seeded");
    cluster.put(json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "db-0", "namespace": NS, "labels": {"app.kubernetes.io/instance": REL}},
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}],
                   "containerStatuses": [{"name": "db", "ready": true, "state": {"running": {}}}]}}));
    let r = block(status::status(&cluster, &store, REL)).expect("status");
    assert_eq!((r.revision, r.status), (2, Status::Failed));
    assert_eq!(
        r.last_error.as_deref(),
        Some("UpgradeFailed: pod db-0 is CrashLoopBackOff")
    );
    assert_eq!(r.conditions[0].kind, "Error");
    assert_eq!(r.conditions[0].reason.as_deref(), Some("UpgradeFailed"));
    assert_eq!(r.members.ready, ["db-0"]);
    let j = serde_json::to_value(&r).expect("json");
    assert_eq!(j["status"], "failed");
    assert_eq!(j["conditions"][1], json!({"type": "PodsReady", "status": "True"}));
    let err = block(status::status(&cluster, &store, "nope")).unwrap_err();
    // One wording for every command (issue #18): helm's words, then which release and where.
    assert_eq!(err.to_string(), "release: not found (nope in namespace prod)");
}

#[test]
fn history_keeps_the_newest_revisions() {
    let store = MemoryStore::new(NS);
    for v in 1..=4 {
        block(store.create(&revision(v, Status::Superseded, &cm("cfg", "1")))).expect("seeded");
    }
    let shown = block(history::history(&store, REL, 2)).expect("history");
    assert_eq!(shown.iter().map(|r| r.version).collect::<Vec<_>>(), [3, 4]);
    assert!(block(history::history(&store, "nope", 2)).is_err());
}

#[test]
fn the_chart_record_holds_what_helm_stores() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("charts/fate/1.8.0");
    let rec = cluster_plan::chart_record(&dir).expect("a record");
    // Expected: the chart's own files.
    let meta = crate::manifest::parse_yaml(&std::fs::read_to_string(dir.join("Chart.yaml")).expect("Chart.yaml"))
        .expect("yaml");
    for k in ["name", "version", "appVersion", "apiVersion"] {
        assert_eq!(rec["metadata"][k], meta[k], "metadata.{k}");
    }
    let mut files = Vec::new();
    let mut stack = vec![dir.join("templates")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("templates").flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                files.push(
                    e.path()
                        .strip_prefix(&dir)
                        .expect("inside")
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    files.sort();
    let names: Vec<&str> = rec["templates"]
        .as_array()
        .expect("templates")
        .iter()
        .map(|t| t["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, files);
    let values =
        crate::manifest::parse_yaml(&std::fs::read_to_string(dir.join("values.yaml")).expect("values")).expect("yaml");
    let keys = |v: &serde_json::Value| {
        v.as_object()
            .map(|o| o.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default()
    };
    let (mut a, mut b) = (keys(&rec["values"]), keys(&values));
    a.sort();
    b.sort();
    assert_eq!(a, b);
}

/// Issue #12: a namespace tenant may not read cluster-scoped objects; the plans degrade and say
/// why instead of failing.
mod tenant_degrades {
    use super::*;
    use crate::plan::uninstall::DataOutcome;

    fn pvc(name: &str, class: &str) -> String {
        format!(
            "---\n# Source: db/templates/{name}.yaml\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  \
             name: {name}\nspec:\n  storageClassName: {class}\n  accessModes: [ReadWriteOnce]\n  resources:\n    \
             requests:\n      storage: 1Gi\n"
        )
    }

    fn forbid_cluster_reads(cluster: &FakeCluster) {
        for (kind, res, group) in [
            ("StorageClass", "storageclasses", "storage.k8s.io"),
            ("PersistentVolume", "persistentvolumes", ""),
        ] {
            cluster.fail(
                "list",
                &format!("{kind}/*"),
                None,
                403,
                &format!(
                    "{res}{} is forbidden: User \"tenant\" cannot list resource \"{res}\" in API group \"{group}\" at \
                     the cluster scope",
                    if group.is_empty() {
                        String::new()
                    } else {
                        format!(".{group}")
                    }
                ),
            );
        }
    }

    #[test]
    fn an_uninstall_plan_without_persistent_volumes_says_so_and_takes_the_class() {
        let cluster = FakeCluster::new(NS);
        let store = MemoryStore::new(NS);
        block(store.create(&revision(1, Status::Deployed, &pvc("data", "standard")))).unwrap();
        cluster.put(json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": "data", "namespace": NS},
            "spec": {"storageClassName": "standard", "volumeName": "pv-1"}}));
        cluster.put(
            json!({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv-1"},
            "spec": {"persistentVolumeReclaimPolicy": "Retain"}}),
        );
        let req = |classes: &[&str]| uninstall::UninstallRequest {
            release: REL.into(),
            storage_classes: classes.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        };
        // With the rights: the volume's own policy (Retain) decides.
        let (p, _) = block(uninstall::plan(&cluster, &store, &req(&[]))).unwrap();
        assert_eq!(p.volumes[0].outcome, DataOutcome::VolumeRetained, "{:?}", p.volumes);
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
        // Without: unknown, at risk, and the plan names both forbidden reads.
        forbid_cluster_reads(&cluster);
        let (p, _) = block(uninstall::plan(&cluster, &store, &req(&[]))).unwrap();
        assert_eq!(p.volumes[0].outcome, DataOutcome::AtRisk, "{:?}", p.volumes);
        assert_eq!(p.warnings.len(), 2, "{:?}", p.warnings);
        assert!(
            p.warnings[0].contains("cannot read the cluster's StorageClasses"),
            "{:?}",
            p.warnings
        );
        assert!(
            p.warnings[1].contains("cannot read the cluster's PersistentVolumes")
                && p.warnings[1].contains("cannot list resource \"persistentvolumes\""),
            "{:?}",
            p.warnings
        );
        assert!(p
            .text()
            .contains("Warnings:\n  ! cannot read the cluster's StorageClasses"));
        // `--storage-class` supplies what it can: the class's policy.
        let (p, _) = block(uninstall::plan(&cluster, &store, &req(&["standard=Delete"]))).unwrap();
        assert_eq!(p.volumes[0].outcome, DataOutcome::Lost, "{:?}", p.volumes);
    }

    #[test]
    fn an_upgrade_plan_reads_each_bound_claims_volume_or_says_why_not() {
        let cluster = FakeCluster::new(NS);
        cluster.put(json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": "data", "namespace": NS},
            "spec": {"storageClassName": "standard", "volumeName": "pv-1"}}));
        cluster.put(json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": "pending", "namespace": NS}, "spec": {"storageClassName": "standard"}}));
        cluster.put(
            json!({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv-1"},
            "spec": {"persistentVolumeReclaimPolicy": "Retain"}}),
        );
        let mut r = crate::analysis::ReclaimPolicies::default();
        let warning = block(cluster_plan::cluster_volume_policies(&cluster, NS, &mut r)).unwrap();
        assert_eq!(warning, None);
        assert_eq!(
            r.volumes.get("data"),
            Some(&("pv-1".to_string(), crate::analysis::Reclaim::Retain))
        );
        assert!(!r.volumes.contains_key("pending"), "an unbound claim has no volume");
        // A tenant may not read PersistentVolumes: no volume is known, and the plan says why.
        cluster.fail(
            "get",
            "PersistentVolume/*",
            None,
            403,
            "persistentvolumes \"pv-1\" is forbidden: User \"tenant\" cannot get resource \"persistentvolumes\"",
        );
        let mut r = crate::analysis::ReclaimPolicies::default();
        let warning = block(cluster_plan::cluster_volume_policies(&cluster, NS, &mut r)).unwrap();
        assert!(r.volumes.is_empty());
        let w = warning.expect("a warning");
        assert!(
            w.contains("cannot read the cluster's PersistentVolumes") && w.contains("cannot get resource"),
            "{w}"
        );
    }

    #[test]
    fn a_plan_without_discovery_warns_instead_of_failing() {
        let cluster = FakeCluster::new(NS);
        cluster.fail(
            "discover",
            "APIVersions/*",
            None,
            403,
            "forbidden: User \"tenant\" cannot get path \"/apis\"",
        );
        let mut p = saved("", &cm("cfg", "1"), None).plan;
        let new = crate::manifest::parse_documents(split_documents(&cm("cfg", "1")), NS).unwrap();
        block(plan_checks::check(&cluster, &mut p, &new)).expect("degraded, not failed");
        assert!(
            p.warnings
                .iter()
                .any(|w| w.contains("cannot discover the APIs") && w.contains("cannot get path")),
            "{:?}",
            p.warnings
        );
        assert!(p.refusals.is_empty(), "{:?}", p.refusals);
        // The render's `.Capabilities.APIVersions`: helm's default list, not a failure.
        let caps = block(crate::ops::cluster_render::server_capabilities(&cluster)).expect("degraded, not failed");
        assert_eq!(caps.api_versions, None, "helm's default list");
        // Any other discovery failure still fails: only a refusal is a hardened cluster.
        let cluster = FakeCluster::new(NS);
        cluster.fail("discover", "APIVersions/*", None, 500, "etcd is down");
        assert!(block(crate::ops::cluster_render::server_capabilities(&cluster)).is_err());
    }
}

/// A Job hook for `event`, as the record keeps it (no `# Source:` line).
fn delete_hook(name: &str, event: &str, weight: i64, policy: &str) -> crate::release::Hook {
    crate::release::Hook {
        name: name.into(),
        kind: "Job".into(),
        path: format!("db/templates/{name}.yaml"),
        manifest: format!(
            "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: {name}\n  annotations:\n    helm.sh/hook: {event}\n    \
             helm.sh/hook-weight: \"{weight}\"\n    helm.sh/hook-delete-policy: {policy}\nspec:\n  template:\n    spec:\n      \
             restartPolicy: Never\n      containers:\n      - name: h\n        image: busybox\n"
        ),
        events: vec![event.into()],
        weight,
        delete_policies: vec![policy.into()],
        ..Default::default()
    }
}

fn uninstall_with_hooks(cluster: &FakeCluster, store: &MemoryStore, no_hooks: bool) -> Result<()> {
    let req = uninstall::UninstallRequest {
        release: REL.into(),
        no_hooks,
        timeout: std::time::Duration::from_secs(5),
        ..Default::default()
    };
    let (plan, last) = block(uninstall::plan(cluster, store, &req))?;
    block(uninstall::uninstall(cluster, store, &req, &plan, &last, &mut |_| {}))
}

#[test]
fn uninstall_runs_delete_hooks_around_the_deletes_as_helm() {
    let cluster = FakeCluster::new(NS);
    let store = MemoryStore::new(NS);
    let mut rel = revision(1, Status::Deployed, &cm("cfg", "1"));
    rel.hooks = vec![
        delete_hook("post", "post-delete", 0, "hook-succeeded"),
        delete_hook("pre-b", "pre-delete", 1, "before-hook-creation"),
        delete_hook("pre-a", "pre-delete", -1, "hook-succeeded"),
    ];
    block(store.create(&rel)).expect("seeded");
    cluster.put(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": NS}}));
    // The plan lists them in the order they run.
    let req = uninstall::UninstallRequest {
        release: REL.into(),
        ..Default::default()
    };
    let (plan, _) = block(uninstall::plan(&cluster, &store, &req)).expect("planned");
    assert_eq!(
        plan.hooks,
        [
            "pre-delete: Job/pre-a (weight -1)",
            "pre-delete: Job/pre-b (weight 1)",
            "post-delete: Job/post (weight 0)"
        ]
    );
    uninstall_with_hooks(&cluster, &store, false).expect("uninstalled");
    let writes = cluster.writes();
    let at = |w: &str| {
        writes
            .iter()
            .position(|x| x == w)
            .unwrap_or_else(|| panic!("{w} in {writes:#?}"))
    };
    // Weight order, pre-delete before the deletes, post-delete after; hook-succeeded deletes the
    // hook after it ran, before-hook-creation keeps it.
    assert!(at("apply Job/pre-a") < at("apply Job/pre-b"));
    assert!(at("apply Job/pre-b") < at("delete ConfigMap/cfg"));
    assert!(at("delete ConfigMap/cfg") < at("apply Job/post"));
    assert!(at("apply Job/pre-a") < at("delete Job/pre-a"));
    assert!(cluster.object("batch/v1", "Job", NS, "pre-b").is_some());
    assert!(cluster.object("batch/v1", "Job", NS, "post").is_none());
    assert!(block(store.history(REL)).expect("history").revisions.is_empty());
}

#[test]
fn a_failing_pre_delete_hook_stops_the_uninstall_and_no_hooks_skips_them() {
    let cluster = FakeCluster::new(NS);
    let store = MemoryStore::new(NS);
    let mut rel = revision(1, Status::Deployed, &cm("cfg", "1"));
    rel.hooks = vec![delete_hook("pre", "pre-delete", 0, "hook-failed")];
    block(store.create(&rel)).expect("seeded");
    cluster.put(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": NS}}));
    cluster.fail("apply", "Job/pre", Some(false), 500, "admission webhook refused");
    let err = uninstall_with_hooks(&cluster, &store, false).unwrap_err().to_string();
    assert!(err.contains("admission webhook refused"), "{err}");
    // As helm: nothing deleted, the release still deployed.
    assert!(cluster.object("v1", "ConfigMap", NS, "cfg").is_some());
    assert_eq!(statuses(&store)[0].1, Status::Deployed);
    let hook_runs = || cluster.requests().iter().filter(|r| r.contains("Job/pre")).count();
    let before = hook_runs();
    uninstall_with_hooks(&cluster, &store, true).expect("uninstalled without hooks");
    assert!(cluster.object("v1", "ConfigMap", NS, "cfg").is_none());
    assert_eq!(hook_runs(), before, "--no-hooks: the hook is not touched");
}

/// An `--atomic` install whose write fails, over a history seeded with these statuses (revisions
/// 1, 2, …): the error, and the store.
fn failing_atomic_reinstall(seed: &[Status]) -> (ApplyError, MemoryStore) {
    let cluster = FakeCluster::new(NS);
    let store = MemoryStore::new(NS);
    for (i, status) in seed.iter().enumerate() {
        block(store.create(&revision(i as u32 + 1, *status, &cm("first", "0")))).expect("seeded");
    }
    cluster.fail("apply", "ConfigMap/second", Some(false), 500, "etcd is down");
    let plan = saved("", &format!("{}{}", cm("first", "1"), cm("second", "1")), None);
    let err = block(apply::apply(&cluster, &store, &plan, &opts(true), &mut |_| {})).unwrap_err();
    (err, store)
}

#[test]
fn atomic_reinstall_over_a_kept_history_that_fails_is_uninstalled_too() {
    // helm install --replace over `uninstall --keep-history` supersedes the uninstalled record
    // ("superseded by new release"); with --atomic a failure still uninstalls.
    let (err, store) = failing_atomic_reinstall(&[Status::Uninstalled]);
    assert!(
        matches!(
            &err,
            ApplyError::Failed {
                revision: 2,
                rollback: None,
                uninstalled: Some(Ok(())),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(statuses(&store).is_empty(), "{:?}", statuses(&store));
}

#[test]
fn atomic_reinstall_over_a_longer_kept_history_is_uninstalled_too() {
    // helm's upgrade --install over `uninstall --keep-history` is an install (isReleaseUninstalled)
    // whatever came before: only the uninstalled record is superseded, the older ones stay as
    // they were; --atomic uninstalls (install.go failRelease, KeepHistory false).
    let (err, store) = failing_atomic_reinstall(&[Status::Superseded, Status::Uninstalled]);
    assert!(
        matches!(
            &err,
            ApplyError::Failed {
                revision: 3,
                rollback: None,
                uninstalled: Some(Ok(())),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(statuses(&store).is_empty(), "{:?}", statuses(&store));
}

#[test]
fn atomic_upgrade_whose_earlier_records_were_pruned_is_not_uninstalled() {
    // --history-max 1 prunes the failed install before the retry's record: the retry is still an
    // upgrade (its plan starts from that install's manifest), and helm's upgrade --atomic only
    // rolls back (and fails to): the release's objects are not deleted.
    let cluster = FakeCluster::new(NS);
    let store = MemoryStore::new(NS);
    block(store.create(&revision(1, Status::Failed, &cm("cfg", "0")))).expect("seeded");
    cluster.put(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": NS}, "data": {"k": "0"}}));
    cluster.fail("apply", "ConfigMap/cfg", Some(false), 500, "etcd is down");
    let plan = saved(&cm("cfg", "0"), &cm("cfg", "1"), Some(1));
    let mut o = opts(true);
    o.history_max = 1;
    let err = block(apply::apply(&cluster, &store, &plan, &o, &mut |_| {})).unwrap_err();
    assert!(
        matches!(
            &err,
            ApplyError::Failed {
                revision: 2,
                uninstalled: None,
                rollback: Some(Err(_)),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        cluster.object("v1", "ConfigMap", NS, "cfg").is_some(),
        "the release's object was deleted"
    );
}

#[test]
fn atomic_install_does_not_delete_objects_that_existed_before_it() {
    // chartup's install adopts an object that exists (helm's refuses it without its ownership):
    // uninstalling the failed install would delete what was there before — a claim's data.
    let cluster = FakeCluster::new(NS);
    let store = MemoryStore::new(NS);
    let was = cluster.put(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "first", "namespace": NS}, "data": {"k": "old"}}));
    cluster.fail("apply", "ConfigMap/second", Some(false), 500, "etcd is down");
    let plan = saved("", &format!("{}{}", cm("first", "1"), cm("second", "1")), None);
    // The live versions as the plan records them: `first` there, `second` absent.
    let live = plan
        .plan
        .changes
        .iter()
        .map(|c| {
            let v = if c.key.name == "first" {
                crate::executor::live::version_of(Some(&was))
            } else {
                "absent".to_string()
            };
            (c.key.to_string(), v)
        })
        .collect();
    let plan = plan.with_live_versions(live);
    let err = block(apply::apply(&cluster, &store, &plan, &opts(true), &mut |_| {})).unwrap_err();
    assert!(
        matches!(&err, ApplyError::Failed { revision: 1, uninstalled: Some(Err(e)), .. } if e.contains("existed before")),
        "{err:?}"
    );
    assert!(
        cluster.object("v1", "ConfigMap", NS, "first").is_some(),
        "the object that was there is gone"
    );
}
