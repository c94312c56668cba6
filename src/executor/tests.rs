//! The executor's decisions on the in-memory seams ([`FakeCluster`], [`SecretStore`] over it, and
//! [`MemoryStore`]): what it refuses, in which order it writes, what it records, how the lock,
//! staleness, `--atomic` and `recover` behave. Fast and without a server; the e2e suites prove
//! the same paths against a real API server.
//!
//! Expected values are Helm's record conventions (statuses, descriptions, revision numbers,
//! Secret names) and the executor's documented order of work, not outputs copied from a run.

use serde_json::json;

use super::*;
use crate::cluster::FakeCluster;
use crate::manifest::split_documents;
use crate::plan::saved::SavedPlan;
use crate::plan::{self, PlanOptions, ReleaseSide};
use crate::release::{Info, Release, Status};
use crate::storage::{MemoryStore, ReleaseStore, SecretStore};

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

fn deployment(image: &str) -> String {
    format!(
        "---\n# Source: db/templates/web.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  \
         replicas: 2\n  selector:\n    matchLabels:\n      app: web\n  template:\n    metadata:\n      labels:\n        \
         app: web\n    spec:\n      containers:\n      - name: web\n        image: {image}\n"
    )
}

fn hook(name: &str, event: &str, weight: i32) -> String {
    format!(
        "---\n# Source: db/templates/{name}.yaml\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: {name}\n  \
         annotations:\n    helm.sh/hook: {event}\n    helm.sh/hook-weight: \"{weight}\"\n    \
         helm.sh/hook-delete-policy: hook-succeeded\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      \
         containers:\n      - name: h\n        image: busybox\n"
    )
}

fn side(origin: &str, text: &str) -> ReleaseSide {
    ReleaseSide::new(origin, split_documents(text), NS).expect("a valid side")
}

/// A saved plan from `old` (what is deployed, "" for an install) to `new`.
fn saved(old: &str, new: &str, base_revision: Option<u64>) -> SavedPlan {
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

/// A revision as a store holds it, with `manifest` as its release manifest.
fn revision(version: u32, status: Status, manifest: &str) -> Release {
    let mut r: Release =
        serde_json::from_value(json!({"name": REL, "version": version, "namespace": NS})).expect("a minimal record");
    r.info = Info {
        status,
        description: format!("revision {version}"),
        ..Default::default()
    };
    r.config = json!({});
    r.manifest = objects::manifest_text(&split_documents(manifest));
    r
}

fn opts() -> ApplyOptions {
    ApplyOptions {
        timeout: std::time::Duration::from_secs(5),
        actor: "test@host, pid 1".into(),
        ..Default::default()
    }
}

fn statuses(store: &dyn ReleaseStore) -> Vec<(u32, Status)> {
    block(store.history(REL))
        .expect("history")
        .revisions
        .iter()
        .map(|r| (r.version, r.status()))
        .collect()
}

#[test]
fn an_install_dry_runs_every_write_then_locks_applies_in_order_and_records() {
    let cluster = FakeCluster::new(NS);
    let store = SecretStore::new(&cluster, NS);
    let new = format!(
        "{}{}{}",
        deployment("web:1"),
        cm("cfg", "1"),
        hook("migrate", "pre-install", 0)
    );
    let plan = saved("", &new, None);
    let mut events = Vec::new();
    let rev = block(apply(&cluster, &store, &plan, &opts(), &mut |p: Progress| {
        events.push(p)
    }))
    .expect("applied");
    assert_eq!(rev, 1);

    let requests = cluster.requests();
    let first_write = requests
        .iter()
        .position(|r| !r.starts_with("dry-run") && !r.starts_with("get") && !r.starts_with("list"))
        .expect("writes");
    // Nothing is written before every write was dry-run, and the lock (the pending record) comes first.
    for want in [
        "dry-run apply ConfigMap/cfg",
        "dry-run apply Deployment/web",
        "dry-run apply Job/migrate",
    ] {
        let at = requests
            .iter()
            .position(|r| r == want)
            .unwrap_or_else(|| panic!("{want} in {requests:#?}"));
        assert!(at < first_write, "{want} after the first write: {requests:#?}");
    }
    let writes = cluster.writes();
    // The lock: the Lease (crate::recovery::lease), then the pending record.
    assert_eq!(writes[0], "create Lease/chartup.db", "{writes:#?}");
    assert_eq!(writes[1], "create Secret/sh.helm.release.v1.db.v1", "{writes:#?}");
    let at = |w: &str| {
        writes
            .iter()
            .position(|x| x == w)
            .unwrap_or_else(|| panic!("{w} in {writes:#?}"))
    };
    // Pre-install hooks, then configuration, then workloads; a hook-succeeded hook is deleted.
    assert!(at("apply Job/migrate") < at("apply ConfigMap/cfg"));
    assert!(at("delete Job/migrate") < at("apply ConfigMap/cfg"));
    assert!(at("apply ConfigMap/cfg") < at("apply Deployment/web"));
    // The record closed, then the Lease released.
    assert_eq!(
        writes[writes.len() - 2..],
        ["replace Secret/sh.helm.release.v1.db.v1", "replace Lease/chartup.db"]
    );
    let lease = cluster
        .object("coordination.k8s.io/v1", "Lease", NS, "chartup.db")
        .expect("the Lease");
    assert!(lease["spec"]["holderIdentity"].is_null(), "released: {lease}");

    // Objects carry Helm's ownership, so helm accepts them as its own.
    let live = cluster.object("v1", "ConfigMap", NS, "cfg").expect("applied");
    assert_eq!(live["metadata"]["labels"]["app.kubernetes.io/managed-by"], "Helm");
    assert_eq!(live["metadata"]["annotations"]["meta.helm.sh/release-name"], REL);

    // The record: deployed, Helm's description, the manifest without hooks, the hook recorded.
    let h = block(store.history(REL)).expect("history");
    let r = h.get(1).expect("revision 1");
    assert_eq!(
        (r.status(), r.info.description.as_str()),
        (Status::Deployed, "Install complete")
    );
    assert!(r.manifest.contains("kind: Deployment") && !r.manifest.contains("kind: Job"));
    assert_eq!(r.hooks.len(), 1);
    assert_eq!((r.hooks[0].name.as_str(), r.hooks[0].weight), ("migrate", 0));
    assert!(journal_lines(r)
        .iter()
        .any(|l| l.ends_with("finished: Install complete")));
    assert!(matches!(events.first(), Some(Progress::Step { step }) if step.starts_with("preflight")));
}

#[test]
fn an_upgrade_supersedes_the_deployed_revision_and_prunes_history() {
    let cluster = FakeCluster::new(NS);
    let store = MemoryStore::new(NS);
    let old = cm("cfg", "1");
    for (v, st) in [(1, Status::Superseded), (2, Status::Superseded), (3, Status::Deployed)] {
        block(store.create(&revision(v, st, &old))).expect("seeded");
    }
    let plan = saved(&old, &format!("{}{}", cm("cfg", "2"), cm("extra", "x")), Some(3));
    let o = ApplyOptions {
        history_max: 3,
        ..opts()
    };
    let rev = block(apply(&cluster, &store, &plan, &o, &mut |_| {})).expect("applied");
    assert_eq!(rev, 4);
    assert_eq!(
        statuses(&store),
        [(2, Status::Superseded), (3, Status::Superseded), (4, Status::Deployed)],
        "revision 1 pruned to keep 3; the deployed one superseded"
    );
    let writes = store.writes();
    let at = |w: &str| {
        writes
            .iter()
            .position(|x| x == w)
            .unwrap_or_else(|| panic!("{w} in {writes:#?}"))
    };
    assert!(
        at("delete db.v1") < at("create db.v4 pending-upgrade"),
        "pruned before the lock is taken"
    );
    assert!(at("update db.v4 deployed") < at("update db.v3 superseded"));
    assert_eq!(
        cluster.object("v1", "ConfigMap", NS, "cfg").expect("applied")["data"]["k"],
        "2"
    );
}

#[test]
fn refusals_come_before_anything_is_written() {
    let cluster = FakeCluster::new(NS);
    let store = MemoryStore::new(NS);
    let mut plan = saved("", &cm("cfg", "1"), None);
    plan.plan.refusals.push("the matrix refuses this".into());
    let err = block(apply(&cluster, &store, &plan, &opts(), &mut |_| {})).unwrap_err();
    assert!(
        matches!(&err, ApplyError::Refused(r) if r.iter().any(|x| x == "the matrix refuses this")),
        "{err}"
    );
    // An edited plan no longer matches its fingerprint.
    let mut edited = saved("", &cm("cfg", "1"), None);
    edited.manifests.to = split_documents(&cm("cfg", "2"));
    let err = block(apply(&cluster, &store, &edited, &opts(), &mut |_| {})).unwrap_err();
    assert!(err.to_string().contains("edited after review"), "{err}");
    assert_eq!(cluster.requests(), Vec::<String>::new(), "not even a read");
    assert!(store.writes().is_empty());
}

#[test]
fn a_server_rejection_in_the_dry_run_refuses_with_nothing_written() {
    let cluster = FakeCluster::new(NS);
    let store = SecretStore::new(&cluster, NS);
    cluster.fail(
        "apply",
        "Deployment/web",
        Some(true),
        422,
        "spec.replicas: Invalid value: -1",
    );
    let plan = saved("", &format!("{}{}", cm("cfg", "1"), deployment("web:1")), None);
    let err = block(apply(&cluster, &store, &plan, &opts(), &mut |_| {})).unwrap_err();
    let ApplyError::Refused(why) = &err else {
        panic!("{err}")
    };
    assert!(
        why.iter()
            .any(|w| w.contains("Deployment") && w.contains("Invalid value: -1")),
        "{why:#?}"
    );
    assert_eq!(cluster.writes(), Vec::<String>::new(), "no record, no object");
}

#[test]
fn a_locked_release_is_refused_and_recover_releases_the_lock() {
    let cluster = FakeCluster::new(NS);
    let store = MemoryStore::new(NS);
    let old = cm("cfg", "1");
    block(store.create(&revision(1, Status::Deployed, &old))).expect("seeded");
    let mut pending = revision(2, Status::PendingUpgrade, &cm("cfg", "2"));
    journal::journal(&mut pending, "applied configuration objects");
    block(store.create(&pending)).expect("seeded");

    let plan = saved(&old, &cm("cfg", "3"), Some(1));
    let err = block(apply(&cluster, &store, &plan, &opts(), &mut |_| {})).unwrap_err();
    assert!(matches!(err, ApplyError::Locked { revision: 2, .. }), "{err}");
    assert!(err.to_string().contains("chartup recover db -n prod"), "{err}");

    let (rel, done) = block(recover(
        &cluster,
        &store,
        REL,
        false,
        &mut |_: super::Progress| {},
        super::progress::HEARTBEAT,
    ))
    .expect("recovered");
    assert_eq!((rel.version, rel.status()), (2, Status::Failed));
    assert!(
        rel.info.description.contains("'pending-upgrade'"),
        "{}",
        rel.info.description
    );
    assert!(
        done.iter().any(|l| l.ends_with("applied configuration objects")),
        "{done:#?}"
    );
    assert_eq!(statuses(&store), [(1, Status::Deployed), (2, Status::Failed)]);
    // Nothing is locked now: a second recover has nothing to do.
    let again = block(recover(
        &cluster,
        &store,
        REL,
        false,
        &mut |_: super::Progress| {},
        super::progress::HEARTBEAT,
    ))
    .unwrap_err();
    assert!(again.to_string().contains("is not locked"), "{again}");
    // And the apply that was refused goes through (its plan is still against revision 1).
    assert_eq!(
        block(apply(&cluster, &store, &plan, &opts(), &mut |_| {})).expect("applied"),
        3
    );
}

#[test]
fn a_plan_made_against_another_revision_is_stale() {
    let cluster = FakeCluster::new(NS);
    let store = MemoryStore::new(NS);
    block(store.create(&revision(1, Status::Superseded, &cm("cfg", "1")))).expect("seeded");
    block(store.create(&revision(2, Status::Deployed, &cm("cfg", "2")))).expect("seeded");
    let plan = saved(&cm("cfg", "1"), &cm("cfg", "3"), Some(1));
    let err = block(apply(&cluster, &store, &plan, &opts(), &mut |_| {})).unwrap_err();
    assert!(
        matches!(&err, ApplyError::Stale(w) if w.contains("made against revision 1") && w.contains("at revision 2")),
        "{err}"
    );
    // Same revision number, other manifests: stale too.
    let plan = saved(&cm("cfg", "other"), &cm("cfg", "3"), Some(2));
    let err = block(apply(&cluster, &store, &plan, &opts(), &mut |_| {})).unwrap_err();
    assert!(
        matches!(&err, ApplyError::Stale(w) if w.contains("other manifests")),
        "{err}"
    );
    assert_eq!(store.writes().len(), 2, "only the seeding");
}

#[test]
fn live_objects_changed_since_planning_make_the_plan_stale() {
    let cluster = FakeCluster::new(NS);
    let store = MemoryStore::new(NS);
    let old = cm("cfg", "1");
    block(store.create(&revision(1, Status::Deployed, &old))).expect("seeded");
    let live =
        cluster.put(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": NS}}));
    let planned_at = live::version_of(Some(&live));
    let plan = saved(&old, &cm("cfg", "2"), Some(1));
    let key = plan.plan.changes[0].key.to_string();
    let plan = plan.with_live_versions([(key, planned_at)].into_iter().collect());
    // Someone changes the object after the review.
    cluster.put(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": NS}, "data": {"k": "edited"}}));
    let err = block(apply(&cluster, &store, &plan, &opts(), &mut |_| {})).unwrap_err();
    assert!(
        matches!(&err, ApplyError::Stale(w) if w.contains("live objects changed since planning")),
        "{err}"
    );
    assert_eq!(cluster.writes(), Vec::<String>::new());
}

#[test]
fn a_failed_run_is_recorded_failed_and_the_lock_released() {
    let cluster = FakeCluster::new(NS);
    let store = MemoryStore::new(NS);
    let old = cm("cfg", "1");
    block(store.create(&revision(1, Status::Deployed, &old))).expect("seeded");
    cluster.fail("apply", "ConfigMap/extra", Some(false), 500, "etcd is down");
    let plan = saved(&old, &format!("{}{}", cm("cfg", "2"), cm("extra", "x")), Some(1));
    let err = block(apply(&cluster, &store, &plan, &opts(), &mut |_| {})).unwrap_err();
    let ApplyError::Failed {
        revision,
        message,
        rollback,
        ..
    } = &err
    else {
        panic!("{err}")
    };
    assert_eq!((*revision, rollback.is_none()), (2, true));
    assert!(
        message.starts_with("UpgradeFailed: ") && message.contains("etcd is down"),
        "{message}"
    );
    assert_eq!(statuses(&store), [(1, Status::Deployed), (2, Status::Failed)]);
}

/// A `kind: List` document is applied item by item (kubectl's Flatten, as helm installs it) but
/// recorded as rendered, in Helm's place for its kind (an unknown kind: after the known ones).
#[test]
fn a_list_is_applied_by_item_and_recorded_as_rendered() {
    let cluster = FakeCluster::new(NS);
    let store = MemoryStore::new(NS);
    let list = "---\n# Source: db/templates/list.yaml\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  \
                kind: ConfigMap\n  metadata:\n    name: a\n- apiVersion: v1\n  kind: Secret\n  metadata:\n    \
                name: s\n  stringData:\n    k: v\n";
    let new = format!("{list}{}", deployment("web:1"));
    let plan = saved("", &new, None);
    block(apply(&cluster, &store, &plan, &opts(), &mut |_| {})).expect("applied");
    let writes = cluster.writes();
    for w in ["apply ConfigMap/a", "apply Secret/s", "apply Deployment/web"] {
        assert!(writes.iter().any(|x| x == w), "{w} in {writes:#?}");
    }
    let history = block(store.history(REL)).expect("history");
    let manifest = &history.revisions[0].manifest;
    let web = manifest.find("kind: Deployment").expect("the Deployment");
    let at = manifest.find("kind: List").expect("the List as rendered");
    assert!(web < at, "{manifest}");
    assert_eq!(manifest.matches("kind: List").count(), 1, "{manifest}");
    assert!(manifest.contains(list.trim_start_matches("---\n")), "{manifest}");
}

/// Helm sorts hooks by each rendered document's own annotations (SortManifests reads a document's
/// head only): an item's `helm.sh/hook` inside a List is an ordinary annotation (the item is
/// applied with the release), and a List annotated as a hook is one recorded hook, the List as
/// rendered, whose items are created when it runs.
#[test]
fn hook_annotations_count_on_the_list_not_its_items() {
    let cluster = FakeCluster::new(NS);
    let store = MemoryStore::new(NS);
    let list = "---\n# Source: db/templates/list.yaml\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  \
                kind: ConfigMap\n  metadata:\n    name: item\n    annotations:\n      helm.sh/hook: post-install\n      \
                helm.sh/hook-delete-policy: hook-succeeded\n";
    let hook_list = "---\n# Source: db/templates/hooks.yaml\napiVersion: v1\nkind: List\nmetadata:\n  name: hl\n  \
                     annotations:\n    helm.sh/hook: post-install\n    helm.sh/hook-weight: \"2\"\nitems:\n- \
                     apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: hooked\n";
    let plan = saved("", &format!("{list}{hook_list}{}", deployment("web:1")), None);
    block(apply(&cluster, &store, &plan, &opts(), &mut |_| {})).expect("applied");
    let writes = cluster.writes();
    let at = |w: &str| {
        writes
            .iter()
            .position(|x| x == w)
            .unwrap_or_else(|| panic!("{w} in {writes:#?}"))
    };
    // The item is applied with the release and never deleted as a succeeded hook; the hook List's
    // item is created after the release's objects (post-install).
    assert!(!writes.iter().any(|w| w == "delete ConfigMap/item"), "{writes:#?}");
    assert!(at("apply ConfigMap/item") < at("apply Deployment/web"));
    assert!(at("apply Deployment/web") < at("apply ConfigMap/hooked"));
    let history = block(store.history(REL)).expect("history");
    let r = &history.revisions[0];
    assert!(r.manifest.contains("name: item") && !r.manifest.contains("name: hooked"));
    assert_eq!(r.hooks.len(), 1, "{:#?}", r.hooks);
    let h = &r.hooks[0];
    assert_eq!(
        (h.name.as_str(), h.kind.as_str(), h.path.as_str(), h.weight),
        ("hl", "List", "db/templates/hooks.yaml", 2)
    );
    assert_eq!(
        h.manifest,
        hook_list
            .trim_start_matches("---\n# Source: db/templates/hooks.yaml\n")
            .trim_end()
    );
}

/// `helm history` prints a revision's description in a table column: a failure's record holds one
/// line of at most 200 characters (then `…`), with the server's sentence and no debug dump, while
/// the error returned to the user keeps the whole text.
#[test]
fn a_failed_runs_description_is_one_short_line() {
    let cluster = FakeCluster::new(NS);
    let store = MemoryStore::new(NS);
    let old = cm("cfg", "1");
    block(store.create(&revision(1, Status::Deployed, &old))).expect("seeded");
    // The API server's wording for a forbidden write, then a long second line (as admission
    // webhooks and validation errors send).
    let sentence = "configmaps \"extra\" is forbidden: User \"nobody\" cannot patch resource \"configmaps\" in API \
                    group \"\" in the namespace \"prod\"";
    let message = format!("{sentence}\n{}", "detail ".repeat(300));
    cluster.fail("apply", "ConfigMap/extra", Some(false), 403, &message);
    let plan = saved(&old, &format!("{}{}", cm("cfg", "2"), cm("extra", "x")), Some(1));
    let err = block(apply(&cluster, &store, &plan, &opts(), &mut |_| {})).unwrap_err();
    assert!(
        err.to_string().contains(&"detail ".repeat(300)),
        "the error keeps everything"
    );
    let history = block(store.history(REL)).expect("history");
    let desc = &history
        .revisions
        .iter()
        .find(|r| r.version == 2)
        .expect("revision 2")
        .info
        .description;
    assert!(
        desc.starts_with("UpgradeFailed: ") && desc.contains("is forbidden: User \"nobody\""),
        "{desc}"
    );
    assert!(!desc.contains('\n'), "{desc}");
    assert!(
        desc.chars().count() <= 201,
        "{} characters: {desc}",
        desc.chars().count()
    );
    for dump in ["Status {", "ErrorResponse", "Some(", "Api("] {
        assert!(!desc.contains(dump), "{dump} in {desc}");
    }
}

#[test]
fn recover_refuses_a_live_holder_unless_forced() {
    let cluster = FakeCluster::new(NS);
    let store = MemoryStore::new(NS);
    block(store.create(&revision(1, Status::Deployed, &cm("cfg", "1")))).expect("seeded");
    let mut pending = revision(2, Status::PendingUpgrade, &cm("cfg", "2"));
    // Held by this very process: alive by its pid and start time.
    super::runner::hold(&mut pending, "apply");
    block(store.create(&pending)).expect("seeded");
    let err = block(recover(
        &cluster,
        &store,
        REL,
        false,
        &mut |_: super::Progress| {},
        super::progress::HEARTBEAT,
    ))
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("still alive") && err.contains(&format!("pid {}", std::process::id())),
        "{err}"
    );
    assert_eq!(statuses(&store), [(1, Status::Deployed), (2, Status::PendingUpgrade)]);
    let (rel, _) = block(recover(
        &cluster,
        &store,
        REL,
        true,
        &mut |_: super::Progress| {},
        super::progress::HEARTBEAT,
    ))
    .expect("forced");
    assert_eq!(rel.status(), Status::Failed);
}

/// Issue #12's API faults and Lease, on the fakes.
mod recovery_fakes {
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use super::*;
    use crate::recovery::holder::Holder;
    use crate::recovery::lease::{self, Acquired};
    use crate::recovery::retrying::Retrying;

    const LEASE: &str = "coordination.k8s.io/v1";

    fn elsewhere(heartbeat: jiff::Timestamp) -> Holder {
        Holder {
            user: "ana".into(),
            host: "ci-runner-7".into(),
            boot_id: "another-boot".into(),
            pid: 4242,
            start_ticks: Some(1000),
            version: "0.1.0".into(),
            operation: "apply".into(),
            acquired: heartbeat,
            heartbeat,
        }
    }

    fn ago(secs: i64) -> jiff::Timestamp {
        jiff::Timestamp::now() - jiff::SignedDuration::from_secs(secs)
    }

    /// Make the Lease's holder look `secs` old (no renewal since).
    fn age_lease(cluster: &FakeCluster, secs: i64) {
        let mut l = cluster.object(LEASE, "Lease", NS, "chartup.db").expect("the Lease");
        let t = ago(secs);
        l["spec"]["renewTime"] = json!(format!("{}.000000Z", t.strftime("%Y-%m-%dT%H:%M:%S")));
        let h = elsewhere(t);
        l["metadata"]["annotations"][lease::HOLDER_ANNOTATION] = json!(serde_json::to_string(&h).unwrap());
        cluster.put(l);
    }

    /// Transient faults are retried within the step's timeout, not for a minute per request: with
    /// `--timeout 1s`, a Deployment the server keeps answering 503 for fails the run after about a
    /// second, the revision is marked failed and the error says the retries ended at the deadline.
    #[test]
    fn retries_end_with_the_steps_timeout_and_the_revision_is_marked_failed() {
        let fake = Arc::new(FakeCluster::new(NS));
        let cluster = Retrying::new(fake.clone());
        let store = MemoryStore::new(NS);
        fake.fail(
            "get",
            "Deployment/web",
            Some(false),
            503,
            "the server is currently unable to handle the request",
        );
        let plan = saved("", &deployment("web:1"), None);
        let o = ApplyOptions {
            timeout: Duration::from_secs(1),
            ..opts()
        };
        let t = Instant::now();
        let err = block(apply(&cluster, &store, &plan, &o, &mut |_| {})).unwrap_err();
        let spent = t.elapsed();
        assert!(
            spent >= Duration::from_millis(900) && spent < Duration::from_secs(10),
            "{spent:?}"
        );
        assert!(matches!(err, ApplyError::Failed { .. }), "{err}");
        assert!(err.to_string().contains("until the step's deadline"), "{err}");
        assert_eq!(statuses(&store), [(1, Status::Failed)]);
        let gets = fake.requests().iter().filter(|r| *r == "get Deployment/web").count();
        assert!(gets >= 3, "retried: {gets}");
    }

    /// A run that fails and then cannot mark its revision failed (the server refuses the record's
    /// update) says the release stays locked and names `chartup recover` — for an upgrade as for
    /// a rollback (both close through `records::close_failed`).
    #[test]
    fn a_revision_that_cannot_be_marked_failed_names_recover() {
        let fake = FakeCluster::new(NS);
        let store = crate::storage::secrets::SecretStore::new(&fake, NS);
        // The pending record is created; every update of it is refused.
        fake.fail(
            "replace",
            "Secret/*",
            Some(false),
            403,
            "secrets is forbidden: no update",
        );
        let plan = saved("", &cm("cfg", "1"), None);
        let err = block(apply(&fake, &store, &plan, &opts(), &mut |_| {})).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, ApplyError::Other(_)), "{text}");
        assert!(
            text.starts_with("UpgradeFailed: ")
                && text.contains("could not be marked failed")
                && text.contains(&format!("run `chartup recover {REL} -n {NS}`")),
            "{text}"
        );
    }

    /// A run on another host that renews its Lease refuses a second run before it writes
    /// anything; once the Lease is stale (no renewal for more than its duration) it is taken over.
    #[test]
    fn a_live_lease_refuses_the_run_before_any_write_a_stale_one_is_taken_over() {
        let cluster = FakeCluster::new(NS);
        let store = MemoryStore::new(NS);
        let Acquired::Held(_) = block(lease::acquire(&cluster, NS, REL, &elsewhere(ago(1)))).unwrap() else {
            panic!("not held")
        };
        let plan = saved("", &cm("cfg", "1"), None);
        let err = block(apply(&cluster, &store, &plan, &opts(), &mut |_| {}))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("still alive") && err.contains("ana@ci-runner-7") && err.contains("chartup.db"),
            "{err}"
        );
        assert_eq!(statuses(&store), []);
        assert_eq!(
            cluster.writes(),
            ["create Lease/chartup.db"],
            "only the other run's Lease"
        );
        age_lease(&cluster, 120);
        assert_eq!(
            block(apply(&cluster, &store, &plan, &opts(), &mut |_| {})).expect("applied"),
            1
        );
        let l = cluster.object(LEASE, "Lease", NS, "chartup.db").unwrap();
        assert_eq!(l["spec"]["leaseTransitions"], 1, "{l}");
        assert!(l["spec"]["holderIdentity"].is_null(), "released after the run: {l}");
    }

    /// `recover` and `status` take the holder's heartbeat from its Lease: a pending record whose
    /// own heartbeat is old is still alive while the Lease is renewed; once the Lease is stale,
    /// `recover` releases the record and the Lease.
    #[test]
    fn recover_and_status_read_the_heartbeat_from_the_lease() {
        let cluster = FakeCluster::new(NS);
        let store = MemoryStore::new(NS);
        block(store.create(&revision(1, Status::Deployed, &cm("cfg", "1")))).unwrap();
        let holder = elsewhere(ago(1));
        let Acquired::Held(_) = block(lease::acquire(&cluster, NS, REL, &holder)).unwrap() else {
            panic!("not held")
        };
        let mut pending = revision(2, Status::PendingUpgrade, &cm("cfg", "2"));
        let mut recorded = holder.clone();
        recorded.heartbeat = ago(600); // the record alone would call it dead
        pending
            .extra
            .insert(runner::HOLDER_KEY.into(), serde_json::to_value(&recorded).unwrap());
        block(store.create(&pending)).unwrap();

        let err = block(recover(
            &cluster,
            &store,
            REL,
            false,
            &mut |_: super::Progress| {},
            super::progress::HEARTBEAT,
        ))
        .unwrap_err()
        .to_string();
        assert!(err.contains("still alive"), "{err}");
        // What `status` judges the lock by (ops::status).
        let live = |cluster: &FakeCluster| {
            let rel = block(recover::with_lease_heartbeat(cluster, &pending));
            recover::holder_liveness(&rel).expect("a holder").1
        };
        assert!(live(&cluster).is_alive());

        age_lease(&cluster, 120);
        assert!(!live(&cluster).is_alive());
        let (rel, done) = block(recover(
            &cluster,
            &store,
            REL,
            false,
            &mut |_: super::Progress| {},
            super::progress::HEARTBEAT,
        ))
        .expect("recovered");
        assert_eq!(rel.status(), Status::Failed);
        assert!(
            done.iter().any(|l| l == "recover: Lease prod/chartup.db released"),
            "{done:#?}"
        );
        let l = cluster.object(LEASE, "Lease", NS, "chartup.db").unwrap();
        assert!(l["spec"]["holderIdentity"].is_null(), "{l}");
    }
}

#[test]
fn labels_go_on_the_record_merged_as_helm_upgrade_merges_them() {
    // helm's rules (pkg/action/upgrade.go): labels on the storage object, merged with the newest
    // revision's, `null` removes one, system labels refused; never in the payload.
    let cluster = FakeCluster::new(NS);
    let store = SecretStore::new(&cluster, NS);
    let labels = |pairs: &[(&str, &str)]| -> std::collections::BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    };
    let with = |pairs: &[(&str, &str)]| ApplyOptions {
        labels: labels(pairs),
        ..opts()
    };
    let v1 = cm("cfg", "1");
    block(apply(
        &cluster,
        &store,
        &saved("", &v1, None),
        &with(&[("team", "a"), ("tier", "db")]),
        &mut |_| {},
    ))
    .expect("installed");
    let secret = |v: u32| {
        cluster
            .object("v1", "Secret", NS, &format!("sh.helm.release.v1.db.v{v}"))
            .expect("record")
    };
    let s1 = secret(1);
    assert_eq!(s1["metadata"]["labels"]["team"], "a");
    assert_eq!(s1["metadata"]["labels"]["status"], "deployed");
    let v2 = cm("cfg", "2");
    block(apply(
        &cluster,
        &store,
        &saved(&v1, &v2, Some(1)),
        &with(&[("team", "b"), ("tier", "null")]),
        &mut |_| {},
    ))
    .expect("upgraded");
    let l2 = secret(2)["metadata"]["labels"].clone();
    assert_eq!((l2["team"].as_str(), l2.get("tier")), (Some("b"), None), "{l2}");
    // Read back as the user's labels only.
    let h = block(store.history(REL)).expect("history");
    assert_eq!(h.get(2).expect("revision 2").labels, labels(&[("team", "b")]));
    assert_eq!(
        h.get(1).expect("revision 1").labels,
        labels(&[("team", "a"), ("tier", "db")])
    );
    let err = block(apply(
        &cluster,
        &store,
        &saved(&v2, &v1, Some(2)),
        &with(&[("owner", "me")]),
        &mut |_| {},
    ))
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("user supplied labels contains system reserved label name. System labels: [name owner status version createdAt modifiedAt]"),
        "{err}"
    );
    assert!(cluster.object("v1", "Secret", NS, "sh.helm.release.v1.db.v3").is_none());
}
