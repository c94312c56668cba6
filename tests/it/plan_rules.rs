//! One test per rule of the plan (issue 3), each on a seed scenario from the example charts,
//! rendered by the real helm. Expected values come from Kubernetes and Helm behaviour (claim
//! names of StatefulSets, what Helm deletes, which fields the API server refuses to update) and
//! from the matrices' own statements, not from earlier runs of this code.

use crate::plan_support;

use chartup::analysis::{Fate, Persistence, Verdict};
use chartup::diff::Action;
use chartup::plan::{self, source, Plan};
use plan_support::*;

fn volume<'a>(p: &'a Plan, component: &str) -> &'a chartup::analysis::VolumeFate {
    p.volumes
        .iter()
        .find(|v| v.component == component && v.volume == "data")
        .unwrap_or_else(|| panic!("no data volume for {component}: {:#?}", p.volumes))
}

#[test]
fn fate_180_to_190_with_storage_class_loses_data() {
    let p = fate("charts/fate/1.8.0", "charts/fate/1.9.0", STORAGE_CLASS).plan();
    for c in ["mysql", "nodemanager", "client"] {
        let v = volume(&p, c);
        // The chart-provisioned claim <c>-data leaves the release (1.9.0 uses a
        // volumeClaimTemplate), so Helm deletes it and the Delete class deletes the volume.
        assert_eq!(
            (v.fate, v.verdict, v.mode),
            (Fate::Deleted, Verdict::Loss, Persistence::StorageClass),
            "{c}"
        );
        assert!(
            v.objects.contains(&format!("fate-9999/PersistentVolumeClaim/{c}-data")),
            "{:?}",
            v.objects
        );
        // The StatefulSet's claim is <template>-<statefulset>-<ordinal>.
        assert!(
            v.objects
                .contains(&format!("fate-9999/PersistentVolumeClaim/data-{c}-0")),
            "{:?}",
            v.objects
        );
        assert!(v
            .workaround
            .as_deref()
            .unwrap_or("")
            .contains(&format!("annotate pvc {c}-data helm.sh/resource-policy=keep")));
    }
    // Three Deployments become StatefulSets: three kind changes, not three adds and removes.
    let kinds: Vec<_> = p
        .changes
        .iter()
        .filter(|c| c.action == Action::KindChange)
        .map(|c| c.key.name.as_str())
        .collect();
    assert_eq!(
        kinds,
        ["client", "mysql", "nodemanager"]
            .iter()
            .copied()
            .filter(|n| kinds.contains(n))
            .collect::<Vec<_>>()
    );
    assert_eq!(kinds.len(), 3);
    assert_eq!(p.summary.kind_change, 3);
    // The mysql Service turns headless: clusterIP cannot change in place.
    let svc = p
        .changes
        .iter()
        .find(|c| c.key.kind == "Service" && c.key.name == "mysql")
        .unwrap();
    assert_eq!(svc.action, Action::Recreate);
    assert_eq!(svc.immutable[0].field, "spec.clusterIP");
    // The matrix agrees (FATE upgrade table: storage class loses data across 1.9.0).
    assert_eq!(p.matrix_verdict, Some(Verdict::Loss));
    assert_eq!(p.verdict, Verdict::Loss);
    assert_eq!(p.summary.volumes.loss, 3);
    assert!(p.matrix.as_ref().unwrap().hops[0].backup_required);
}

#[test]
fn fate_180_to_190_with_existing_claims_keeps_data() {
    let p = fate("charts/fate/1.8.0", "charts/fate/1.9.0", EXISTING_CLAIMS).plan();
    for c in ["mysql", "nodemanager", "client"] {
        let v = volume(&p, c);
        assert_eq!(
            (v.fate, v.verdict, v.mode),
            (Fate::Reattached, Verdict::Safe, Persistence::ExistingClaim),
            "{c}"
        );
        assert_eq!(v.after.as_ref().unwrap().claims, [format!("fate-{c}-data")]);
        assert_eq!(v.after.as_ref().unwrap().workload.kind, "StatefulSet");
    }
    assert_eq!(p.verdict, Verdict::Safe);
    assert_eq!(p.matrix_verdict, Some(Verdict::Safe));
    assert!(p.refusals.is_empty(), "{:?}", p.refusals);
}

#[test]
fn fate_170_to_1100_goes_through_180_with_chained_migrations() {
    let p = fate("charts/fate/1.7.0", "charts/fate/1.10.0", EXISTING_CLAIMS).plan();
    let m = p.matrix.as_ref().unwrap();
    // The matrix forbids <1.8.0 → >=1.9.0 directly; the shortest permitted path has one stop.
    assert_eq!(m.path, ["1.7.0", "1.8.0", "1.10.0"]);
    let scripts: Vec<Vec<&str>> = m
        .hops
        .iter()
        .map(|h| h.migrations.iter().map(|s| s.file.as_str()).collect())
        .collect();
    assert_eq!(
        scripts,
        [
            vec!["170-171.sql", "171-172.sql", "172-180.sql"],
            vec!["180-190.sql", "190-1100.sql"]
        ]
    );
    assert!(m.hops[1]
        .migrations
        .iter()
        .all(|s| s.component.as_deref() == Some("mysql")));
    assert!(
        p.warnings
            .iter()
            .any(|w| w.contains("only through 1.8.0") && w.contains("apply refuses it")),
        "{:?}",
        p.warnings
    );
    // Every migration file the plan names exists.
    for h in &m.hops {
        for s in &h.migrations {
            assert!(std::path::Path::new("matrices").join(&s.path).is_file(), "{}", s.path);
        }
    }
    // With storage-class persistence the same path crosses 1.9.0 and loses data.
    let p = fate("charts/fate/1.7.0", "charts/fate/1.10.0", STORAGE_CLASS).plan();
    assert_eq!(p.matrix_verdict, Some(Verdict::Loss));
}

#[test]
fn fate_downgrade_is_refused() {
    let p = fate("charts/fate/1.9.0", "charts/fate/1.8.0", EXISTING_CLAIMS).plan();
    assert!(p.refused());
    assert!(
        p.refusals[0].contains("downgrade 1.9.0 → 1.8.0 refused"),
        "{:?}",
        p.refusals
    );
}

#[test]
fn fate_patch_upgrade_is_safe_for_every_mode() {
    for values in [STORAGE_CLASS, EXISTING_CLAIMS] {
        let p = fate("charts/fate/1.7.1", "charts/fate/1.7.2", values).plan();
        assert_eq!(p.verdict, Verdict::Safe);
        assert_eq!(p.summary.recreate, 0);
        let cm = p.changes.iter().find(|c| c.key.name == "fateflow-config").unwrap();
        assert!(cm.diff.contains("+      max_workers: 8"), "{}", cm.diff);
    }
}

#[test]
fn stream_store_rolls_out_bookkeeper_then_segmentstore_then_controller() {
    let case = Case {
        release: "pravega",
        namespace: "pravega",
        from: "charts/streamstore/0.5.1",
        to: "charts/streamstore/0.6.0",
        values: &[],
        to_values: &[],
        matrix: Some("streamstore"),
        storage_classes: &[],
    };
    let p = case.plan();
    let order: Vec<(&str, Vec<&str>)> = p
        .rollout
        .iter()
        .map(|s| (s.component.as_str(), s.objects.iter().map(String::as_str).collect()))
        .collect();
    assert_eq!(
        order,
        [
            ("bookkeeper", vec!["pravega/StatefulSet.apps/pravega-bookkeeper"]),
            ("segmentstore", vec!["pravega/StatefulSet.apps/pravega-segmentstore"]),
            ("controller", vec!["pravega/Deployment.apps/pravega-controller"]),
        ]
    );
    // OnDelete StatefulSets: the plan says the pods must be replaced by apply.
    for name in ["pravega-bookkeeper", "pravega-segmentstore"] {
        let c = p
            .changes
            .iter()
            .find(|c| c.key.name == name && c.key.kind == "StatefulSet")
            .unwrap();
        assert!(c.notes.iter().any(|n| n.contains("OnDelete")), "{name}: {:?}", c.notes);
    }
    // Bookie claims are the StatefulSet's: <template>-<sts>-<ordinal> for 3 replicas, kept.
    let journal = p.volumes.iter().find(|v| v.volume == "journal").unwrap();
    assert_eq!(journal.fate, Fate::Kept);
    assert_eq!(
        journal.before.as_ref().unwrap().claims,
        [
            "journal-pravega-bookkeeper-0",
            "journal-pravega-bookkeeper-1",
            "journal-pravega-bookkeeper-2"
        ]
    );
    // A pre-release build is a version like any other on the path.
    let case = Case {
        to: "charts/streamstore/0.6.0-2252.b6f6512",
        ..case
    };
    let p = case.plan();
    assert!(p.refusals.is_empty(), "{:?}", p.refusals);
    assert_eq!(p.matrix.unwrap().path, ["0.5.1", "0.6.0-2252.b6f6512"]);
}

#[test]
fn stream_store_refuses_adding_bookies_during_the_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let more = dir.path().join("bookies.yaml");
    std::fs::write(&more, "bookkeeper:\n  replicas: 4\n").unwrap();
    let more = more.to_string_lossy().to_string();
    let to_values = [more.as_str()];
    let case = Case {
        release: "pravega",
        namespace: "pravega",
        from: "charts/streamstore/0.5.1",
        to: "charts/streamstore/0.6.0",
        values: &[],
        to_values: &to_values,
        matrix: Some("streamstore"),
        storage_classes: &[],
    };
    let p = case.plan();
    assert!(
        p.refusals
            .iter()
            .any(|r| r.contains("topology") && r.contains("replicas 3 → 4")),
        "{:?}",
        p.refusals
    );
}

fn kv<'a>(from: &'a str, to: &'a str, to_values: &'a [&'a str]) -> Case<'a> {
    Case {
        release: "kv",
        namespace: "kv",
        from,
        to,
        values: &[],
        to_values,
        matrix: Some("kvstore"),
        storage_classes: &[],
    }
}

#[test]
fn key_value_store_requires_backup_and_allows_a_plain_upgrade() {
    let p = kv("charts/kvstore/5.7.0", "charts/kvstore/6.0.0", &[]).plan();
    assert!(p.refusals.is_empty(), "{:?}", p.refusals);
    let hop = &p.matrix.as_ref().unwrap().hops[0];
    assert!(hop.backup_required);
    assert!(hop.backup_how.as_deref().unwrap().contains("asbackup"));
}

#[test]
fn key_value_store_refuses_unlisted_versions() {
    // A chart version the matrix does not list (copied from 6.1.0, renumbered).
    let dir = tempfile::tempdir().unwrap();
    let chart = dir.path().join("kvstore");
    copy_dir(std::path::Path::new("charts/kvstore/6.1.0"), &chart);
    let y = std::fs::read_to_string(chart.join("Chart.yaml"))
        .unwrap()
        .replace("version: 6.1.0", "version: 6.1.1");
    std::fs::write(chart.join("Chart.yaml"), y).unwrap();
    let to = chart.to_string_lossy().to_string();
    let case = kv("charts/kvstore/6.0.0", &to, &[]);
    let p = case.plan();
    assert!(
        p.refusals
            .iter()
            .any(|r| r.contains("6.1.1 is not a supported version of kvstore")),
        "{:?}",
        p.refusals
    );
    // --allow-unlisted turns the refusal into a warning.
    let (old, new) = case.sides();
    let mut opts = case.options();
    opts.allow_unlisted = true;
    let p = plan::build(&old, &new, Some(&matrix("kvstore")), &opts);
    assert!(p.refusals.is_empty(), "{:?}", p.refusals);
    assert!(p.warnings.iter().any(|w| w.contains("--allow-unlisted")));
}

#[test]
fn key_value_store_refuses_topology_and_config_changes_with_a_version_change() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("grow.yaml");
    std::fs::write(&f, "replicas: 5\n").unwrap();
    let f = f.to_string_lossy().to_string();
    let tv = [f.as_str()];
    let p = kv("charts/kvstore/6.0.0", "charts/kvstore/6.1.0", &tv).plan();
    assert!(
        p.refusals
            .iter()
            .any(|r| r.contains("topology") && r.contains("replicas 3 → 5")),
        "{:?}",
        p.refusals
    );
    assert!(
        p.refusals
            .iter()
            .any(|r| r.contains("configuration") && r.contains("value replicas changes")),
        "{:?}",
        p.refusals
    );
    // Same version, same change: a scale-out is not a version upgrade... but the matrix still
    // has nothing against it, and a downgrade is refused.
    let p = kv("charts/kvstore/6.1.0", "charts/kvstore/6.0.0", &[]).plan();
    assert!(p.refusals.iter().any(|r| r.contains("downgrade")), "{:?}", p.refusals);
}

#[test]
fn from_manifest_equals_from_chart() {
    // `helm get manifest` prints the release manifest in the same `---\n# Source:` form as
    // `helm template`; the chart name and version come from the helm.sh/chart label.
    let v = values(STORAGE_CLASS);
    let out = std::process::Command::new(helm())
        .args([
            "template",
            "fate",
            "charts/fate/1.8.0",
            "-n",
            "fate-9999",
            "--no-hooks",
            "-f",
            STORAGE_CLASS[0],
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let old = source::side_from_manifest_text("manifest deployed.yaml", &text, "fate-9999").unwrap();
    let c = old.chart.as_ref().unwrap();
    assert_eq!(
        (c.name.as_str(), c.version.as_str(), c.app_version.as_deref()),
        ("fate", "1.8.0", Some("1.8.0"))
    );
    let new = side("charts/fate/1.9.0", &v, "fate", "fate-9999");
    let case = fate("charts/fate/1.8.0", "charts/fate/1.9.0", STORAGE_CLASS);
    let from_manifest = plan::build(&old, &new, Some(&matrix("fate")), &case.options());
    let from_chart = case.plan();
    assert_eq!(from_manifest.volumes, from_chart.volumes);
    assert_eq!(from_manifest.changes, from_chart.changes);
    assert_eq!(from_manifest.matrix, from_chart.matrix);
}

#[test]
fn secret_values_are_masked_and_sized() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("pw.yaml");
    std::fs::write(&f, "mysql:\n  password: correct-horse-battery\n").unwrap();
    let f = f.to_string_lossy().to_string();
    let tv = [f.as_str()];
    let case = Case {
        to_values: &tv,
        ..fate("charts/fate/1.8.0", "charts/fate/1.8.0", EXISTING_CLAIMS)
    };
    let p = case.plan();
    let s = p.changes.iter().find(|c| c.key.kind == "Secret").unwrap();
    assert_eq!(s.action, Action::Change);
    // "correct-horse-battery" is 21 bytes; neither it nor its base64 may appear.
    assert!(
        s.diff.contains("+  MYSQL_PASSWORD: (hidden) changed (21 bytes)"),
        "{}",
        s.diff
    );
    assert!(s.diff.contains("-  MYSQL_PASSWORD: (hidden, 8 bytes)"), "{}", s.diff); // fate_dev
    assert!(!s.diff.contains("Y29ycmVjdC1ob3JzZS1iYXR0ZXJ5") && !s.diff.contains("correct-horse"));
    let json = serde_json::to_string(&p).unwrap();
    assert!(!json.contains("Y29ycmVjdC1ob3JzZS1iYXR0ZXJ5"));
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let t = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &t);
        } else {
            std::fs::copy(e.path(), t).unwrap();
        }
    }
}

#[test]
fn large_release_markdown_stays_under_the_comment_limit() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (
        generated_chart(dir.path(), "1.0.0"),
        generated_chart(dir.path(), "1.1.0"),
    );
    let v = values(&[]);
    let old = side(a.to_str().unwrap(), &v, "gen", "gen");
    let new = side(b.to_str().unwrap(), &v, "gen", "gen");
    assert_eq!(old.objects.len(), 1000);
    let p = plan::build(&old, &new, None, &Default::default());
    // Services do not change; ConfigMaps, Secrets and Deployments do.
    assert_eq!((p.summary.change, p.summary.unchanged), (750, 250));
    let md = plan::markdown::render(&p).unwrap();
    assert!(md.chars().count() < plan::markdown::LIMIT, "{}", md.chars().count());
    assert!(
        md.contains("to keep this comment under 65536 characters"),
        "{}",
        &md[md.len().saturating_sub(500)..]
    );
    // The verdict and summary survive any collapsing.
    assert!(md.contains(
        "**Plan: 0 to add, 750 to change, 0 to recreate, 0 to delete · volumes: 0 loss, 0 at risk · verdict: safe**"
    ));
}

#[test]
fn renderer_matches_helm_on_every_example() {
    use chartup::plan::source::Renderer;
    let cases: Vec<(String, Vec<&str>)> = std::fs::read_dir("charts")
        .unwrap()
        .flat_map(|d| std::fs::read_dir(d.unwrap().path()).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("Chart.yaml").is_file())
        .flat_map(|p| {
            let c = p.to_string_lossy().to_string();
            if c.contains("charts/fate/") {
                vec![
                    (c.clone(), STORAGE_CLASS.to_vec()),
                    (c.clone(), EXISTING_CLAIMS.to_vec()),
                    (c, vec![]),
                ]
            } else if c.contains("charts/keeper/") {
                // Without a password keeper generates one at random (or keeps the live one).
                vec![(c, vec!["charts/keeper/values-fixed-password.yaml"])]
            } else {
                vec![(c, vec![])]
            }
        })
        .collect();
    // Every example chart is compared; FATE with each of its values files too.
    let fate = cases.iter().filter(|(c, _)| c.contains("charts/fate/")).count();
    assert!(
        fate >= 6 * 3 && cases.len() >= fate + 3 + 3,
        "six fate versions × 3 values, three streamstore, three kvstore, …: {}",
        cases.len()
    );
    for (chart, files) in &cases {
        for upgrade in [false, true] {
            let v = values(files);
            let mut ours = renderer()
                .render(std::path::Path::new(chart), &v, "rel", "ns", upgrade)
                .unwrap();
            if upgrade {
                // An offline upgrade side renders `.Release.Revision` 2 (the least an upgrade can
                // be); `helm template --is-upgrade` keeps 1. keeper prints it; nothing else differs.
                for d in &mut ours.documents {
                    d.text = d.text.replace("revision: \"2\"", "revision: \"1\"");
                }
            }
            let helm = oracle()
                .render(std::path::Path::new(chart), &v, "rel", "ns", upgrade)
                .unwrap();
            assert_eq!(ours.documents, helm.documents, "{chart} {files:?} upgrade={upgrade}");
            assert_eq!(ours.chart, helm.chart);
        }
    }
}

#[test]
fn matrix_and_analysis_disagree_and_the_worse_wins() {
    // A stricter matrix than the manifests show: it says existing claims lose data across 1.9.0.
    let strict = chartup::matrix::parse(
        "matrix: 1\nchart: fate\nversions: [1.8.0, 1.9.0]\nupgrades:\n  - from: \"<1.9.0\"\n    to: \">=1.9.0\"\n    dataLoss: {existingClaim: loss}\n",
        "strict.yaml",
        None,
    )
    .unwrap();
    let case = fate("charts/fate/1.8.0", "charts/fate/1.9.0", EXISTING_CLAIMS);
    let (old, new) = case.sides();
    let p = plan::build(&old, &new, Some(&strict), &case.options());
    assert_eq!(
        (p.analysis_verdict, p.matrix_verdict, p.verdict),
        (Verdict::Safe, Some(Verdict::Loss), Verdict::Loss)
    );
    assert!(p
        .warnings
        .iter()
        .any(|w| w.contains("the matrix says loss") && w.contains("analysis of the manifests finds safe")));
    // And the other way round: a lenient matrix does not hide what the analysis finds.
    let lenient = chartup::matrix::parse(
        "matrix: 1\nchart: fate\nversions: [1.8.0, 1.9.0]\nupgrades:\n  - from: \"*\"\n    to: \"*\"\n    dataLoss: {storageClass: no-loss}\n",
        "lenient.yaml",
        None,
    )
    .unwrap();
    let case = fate("charts/fate/1.8.0", "charts/fate/1.9.0", STORAGE_CLASS);
    let (old, new) = case.sides();
    let p = plan::build(&old, &new, Some(&lenient), &case.options());
    assert_eq!(
        (p.analysis_verdict, p.matrix_verdict, p.verdict),
        (Verdict::Loss, Some(Verdict::Safe), Verdict::Loss)
    );
    let text = plan::text::render(&p, false);
    assert!(
        text.contains("Verdict: data loss (analysis: loss, matrix: safe)"),
        "{text}"
    );
}
