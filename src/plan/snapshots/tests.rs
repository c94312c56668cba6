//! The snapshot decisions of issue 15 on real renders of small manifests (no cluster): which
//! claims, which class, what it costs, and what is said when it is impossible.

use super::*;
use crate::manifest::split_documents;
use crate::plan::{build, PlanOptions, ReleaseSide};

fn sts(image: &str, chart: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\n  labels: {{helm.sh/chart: kv-{chart}, app.kubernetes.io/component: db}}\nspec:\n  replicas: 2\n  serviceName: db\n  selector: {{matchLabels: {{app: db}}}}\n  template:\n    metadata: {{labels: {{app: db}}}}\n    spec:\n      containers:\n      - name: db\n        image: {image}\n  volumeClaimTemplates:\n  - metadata: {{name: data}}\n    spec:\n      accessModes: [ReadWriteOnce]\n      resources: {{requests: {{storage: 1Gi}}}}\n"
    )
}

fn side(text: &str) -> ReleaseSide {
    ReleaseSide::new("t", split_documents(text), "ns").unwrap()
}

fn opts() -> PlanOptions {
    PlanOptions {
        release: "kv".into(),
        namespace: "ns".into(),
        ..Default::default()
    }
}

const MATRIX: &str = "matrix: 1\nchart: kv\nversions: [1.0.0, 2.0.0]\nbackup: {required: false, how: kvdump}\nsnapshots: {class: fast, restoreOnFailure: true}\ncomponents:\n  db: {quiesce: true}\nupgrades:\n  - from: \"<2.0.0\"\n    to: \">=2.0.0\"\n    migratesData: true\n";

fn facts(driver: &str, classes: &[(&str, &str, bool)]) -> ClusterFacts {
    let mut f = ClusterFacts {
        api: Ok(()),
        classes: classes
            .iter()
            .map(|(n, d, def)| SnapClass {
                name: n.to_string(),
                driver: d.to_string(),
                default: *def,
                deletion_policy: "Delete".into(),
            })
            .collect(),
        classes_unreadable: None,
        claims: Default::default(),
    };
    for c in ["data-db-0", "data-db-1"] {
        f.claims.insert(
            ("ns".into(), c.into()),
            ClaimFacts {
                phase: "Bound".into(),
                capacity: Some("1Gi".into()),
                driver: Some(driver.into()),
            },
        );
    }
    f
}

#[test]
fn image_major_on_claims_snapshots_each_ordinal_claim() {
    let p = build(
        &side(&sts("db:1.4", "1.0.0")),
        &side(&sts("db:2.0", "1.1.0")),
        None,
        &opts(),
    );
    let s = decide(&p, None, &SnapshotRequest::default(), None).expect("snapshots wanted");
    let claims: Vec<&str> = s.claims.iter().map(|c| c.claim.as_str()).collect();
    assert_eq!(claims, ["data-db-0", "data-db-1"]);
    assert_eq!(s.status, SnapshotStatus::Unchecked);
    assert!(
        s.claims[0].reasons[0].contains("major version 1 → 2"),
        "{:?}",
        s.claims[0]
    );
    // A minor bump on the same data asks for nothing.
    let p = build(
        &side(&sts("db:1.4", "1.0.0")),
        &side(&sts("db:1.5", "1.1.0")),
        None,
        &opts(),
    );
    assert!(decide(&p, None, &SnapshotRequest::default(), None).is_none());
    // --snapshot asks for every claim.
    let all = SnapshotRequest {
        all: true,
        class: None,
        none: false,
    };
    assert_eq!(decide(&p, None, &all, None).unwrap().claims.len(), 2);
}

#[test]
fn the_cluster_default_class_for_the_claims_driver_is_chosen() {
    let p = build(
        &side(&sts("db:1", "1.0.0")),
        &side(&sts("db:1", "1.1.0")),
        None,
        &opts(),
    );
    let all = SnapshotRequest {
        all: true,
        class: None,
        none: false,
    };
    let f = facts(
        "hostpath.csi",
        &[
            ("other", "ebs.csi", true),
            ("hp", "hostpath.csi", true),
            ("slow", "hostpath.csi", false),
        ],
    );
    let s = decide(&p, None, &all, Some(&f)).unwrap();
    assert_eq!(s.status, SnapshotStatus::Planned, "{s:?}");
    assert_eq!(s.class.as_deref(), Some("hp"));
    assert!(s
        .class_source
        .as_deref()
        .unwrap()
        .contains("default class for hostpath.csi"));
    assert_eq!(s.restore_bytes, Some(2 << 30));
    assert!(s.headline().contains("restore size 2Gi in total"), "{}", s.headline());
    // The flag wins, and must exist and fit the driver.
    let flag = SnapshotRequest {
        all: true,
        class: Some("slow".into()),
        none: false,
    };
    assert_eq!(
        decide(&p, None, &flag, Some(&f)).unwrap().class.as_deref(),
        Some("slow")
    );
    let wrong = SnapshotRequest {
        all: true,
        class: Some("other".into()),
        none: false,
    };
    let s = decide(&p, None, &wrong, Some(&f)).unwrap();
    assert_eq!(s.status, SnapshotStatus::Unavailable);
    assert!(s.detail.unwrap().contains("is for driver ebs.csi"));
    // Two defaults for one driver: the snapshot controller would refuse; so does the plan.
    let two = facts(
        "hostpath.csi",
        &[("a", "hostpath.csi", true), ("b", "hostpath.csi", true)],
    );
    let s = decide(&p, None, &all, Some(&two)).unwrap();
    assert!(s.detail.unwrap().contains("2 default VolumeSnapshotClasses"));
    // None: said plainly, with what to do.
    let none = facts("hostpath.csi", &[("x", "ebs.csi", true)]);
    let s = decide(&p, None, &all, Some(&none)).unwrap();
    assert!(s
        .detail
        .unwrap()
        .contains("no default VolumeSnapshotClass for driver hostpath.csi"));
}

#[test]
fn matrix_rules_class_quiesce_and_restore_on_failure() {
    let m = crate::matrix::parse(MATRIX, "kv.yaml", None).unwrap();
    let p = build(
        &side(&sts("db:1", "1.0.0")),
        &side(&sts("db:1", "2.0.0")),
        Some(&m),
        &opts(),
    );
    assert!(p.matrix.as_ref().unwrap().hops[0].migrates_data);
    let f = facts(
        "hostpath.csi",
        &[("fast", "hostpath.csi", false), ("hp", "hostpath.csi", true)],
    );
    let s = decide(&p, Some(&m), &SnapshotRequest::default(), Some(&f)).unwrap();
    assert_eq!(s.status, SnapshotStatus::Planned);
    assert_eq!(s.class.as_deref(), Some("fast"));
    assert!(s.claims.iter().all(|c| c.quiesce));
    assert!(s.restore_on_failure);
    assert!(s.claims[0].reasons[0].contains("hop 1.0.0 → 2.0.0 migrates data"));
    // A misspelt setting is an error with its place.
    let bad = MATRIX.replace("quiesce", "quiesse");
    let e = crate::matrix::parse(&bad, "kv.yaml", None).unwrap_err().to_string();
    assert!(e.contains("kv.yaml:7:") && e.contains("quiesse"), "{e}");
}

#[test]
fn no_snapshot_api_falls_back_to_the_backup_step_and_refuses_the_flag() {
    let text = MATRIX.replace("required: false", "required: true");
    let m = crate::matrix::parse(&text, "kv.yaml", None).unwrap();
    let mut p = build(
        &side(&sts("db:1", "1.0.0")),
        &side(&sts("db:1", "2.0.0")),
        Some(&m),
        &opts(),
    );
    let mut f = facts("hostpath.csi", &[]);
    f.api = Err("the cluster does not serve snapshot.storage.k8s.io/v1 (no VolumeSnapshot CRDs)".into());
    let req = SnapshotRequest::default();
    let s = decide(&p, Some(&m), &req, Some(&f)).unwrap();
    assert_eq!(s.status, SnapshotStatus::Unavailable);
    assert!(!s.covers_backup() && s.to_take().is_empty());
    assert!(
        s.headline().contains("falls back to the matrix's backup step"),
        "{}",
        s.headline()
    );
    assert!(s.headline().contains("kvdump"), "{}", s.headline());
    attach(&mut p, Some(s), &req);
    assert!(p.refusals.is_empty());
    assert!(p
        .warnings
        .iter()
        .any(|w| w.contains("cannot be") && w.contains("does not serve")));
    // The backup requirement stays: apply demands the backup step.
    let reqs = crate::plan::review::requirements(&p, &side(&sts("db:1", "2.0.0")).objects);
    assert!(
        reqs.iter().any(|r| r.flag.as_deref() == Some("--backup-command")),
        "{reqs:?}"
    );
    // --snapshot that cannot be honoured is refused, not half done.
    let all = SnapshotRequest {
        all: true,
        class: None,
        none: false,
    };
    let s = decide(&p, Some(&m), &all, Some(&f)).unwrap();
    attach(&mut p, Some(s), &all);
    assert!(
        p.refusals.iter().any(|r| r.starts_with("--snapshot:")),
        "{:?}",
        p.refusals
    );
}

#[test]
fn snapshots_satisfy_a_required_backup() {
    let text = MATRIX.replace("required: false", "required: true");
    let m = crate::matrix::parse(&text, "kv.yaml", None).unwrap();
    let mut p = build(
        &side(&sts("db:1", "1.0.0")),
        &side(&sts("db:1", "2.0.0")),
        Some(&m),
        &opts(),
    );
    let f = facts("hostpath.csi", &[("fast", "hostpath.csi", true)]);
    let s = decide(&p, Some(&m), &SnapshotRequest::default(), Some(&f)).unwrap();
    assert!(s.covers_backup());
    attach(&mut p, Some(s), &SnapshotRequest::default());
    let reqs = crate::plan::review::requirements(&p, &side(&sts("db:1", "2.0.0")).objects);
    assert!(
        !reqs.iter().any(|r| r.flag.as_deref() == Some("--backup-command")),
        "{reqs:?}"
    );
}

#[test]
fn outputs_show_the_snapshots_and_the_json_matches_the_schema() {
    let m = crate::matrix::parse(MATRIX, "kv.yaml", None).unwrap();
    let mut p = build(
        &side(&sts("db:1", "1.0.0")),
        &side(&sts("db:1", "2.0.0")),
        Some(&m),
        &opts(),
    );
    let f = facts("hostpath.csi", &[("fast", "hostpath.csi", false)]);
    let s = decide(&p, Some(&m), &SnapshotRequest::default(), Some(&f));
    attach(&mut p, s, &SnapshotRequest::default());
    let text = crate::plan::text::render(&p, false);
    assert!(
        text.contains("Snapshots:\n  2 claim(s) snapshotted before the upgrade"),
        "{text}"
    );
    assert!(
        text.contains("    data-db-0 (ns/StatefulSet.apps/db), 1Gi, component scaled to 0 first"),
        "{text}"
    );
    let md = crate::plan::markdown::render(&p).unwrap();
    assert!(md.contains("### Snapshots") && md.contains("| `data-db-1` |"), "{md}");
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/plan.schema.json")).unwrap(),
    )
    .unwrap();
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    compiler.add_resource("file:///plan.schema.json", schema).unwrap();
    let idx = compiler.compile("file:///plan.schema.json", &mut schemas).unwrap();
    let mut v = serde_json::to_value(&p).unwrap();
    v["snapshots"]["restores"] = serde_json::json!([{"namespace": "ns", "claim": "data-db-0", "workload": "w",
        "snapshot": "kv-2-data-db-0", "revision": 2, "restoreSize": "1Gi", "setAside": "kept"}]);
    if let Err(e) = schemas.validate(&v, idx) {
        panic!("plan with snapshots does not match docs/plan.schema.json: {e:#}");
    }
    v["snapshots"]["surprise"] = serde_json::json!(1);
    assert!(
        schemas.validate(&v, idx).is_err(),
        "the snapshots section must be strict"
    );
}

#[test]
fn quantities() {
    assert_eq!(quantity_bytes("1Gi"), Some(1 << 30));
    assert_eq!(quantity_bytes("500M"), Some(500_000_000));
    assert_eq!(quantity_bytes("1.5Gi"), Some(3 << 29));
    assert_eq!(quantity_bytes("12"), Some(12));
    assert_eq!(quantity_bytes("1Zi"), None);
    assert_eq!(human_bytes(3 << 30), "3Gi");
    assert_eq!(human_bytes(3 << 29), "1.5Gi");
}

#[test]
fn a_tenant_who_cannot_read_the_classes_gets_the_controllers_default() {
    let p = build(
        &side(&sts("db:1", "1.0.0")),
        &side(&sts("db:2", "1.1.0")),
        None,
        &opts(),
    );
    let mut f = facts("hostpath.csi", &[]);
    f.classes_unreadable = Some("volumesnapshotclasses is forbidden".into());
    let s = decide(&p, None, &SnapshotRequest::default(), Some(&f)).unwrap();
    assert_eq!(s.status, SnapshotStatus::Planned, "{s:?}");
    assert!(s.claims.iter().all(|c| c.class.is_none()));
    assert!(
        s.headline().contains("not checked: volumesnapshotclasses is forbidden"),
        "{}",
        s.headline()
    );
    let named = SnapshotRequest {
        all: false,
        class: Some("fast".into()),
        none: false,
    };
    let s = decide(&p, None, &named, Some(&f)).unwrap();
    assert_eq!(s.class.as_deref(), Some("fast"));
}
