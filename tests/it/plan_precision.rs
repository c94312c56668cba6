//! One test per rule of issue 17 ("plans that are right in every line"), each on a chart pair
//! under tests/data/charts/precision that reproduces the shape of a real upgrade, rendered by
//! chartup and checked against the real helm's render. Expected values come from Kubernetes
//! (claim names `<template>-<statefulset>-<ordinal>`, what the API server refuses — the immutable
//! Secret, ConfigMap and Secret `type` refusals and the StatefulSet that the server accepts in
//! place were confirmed with `kubectl replace --dry-run=server` on the test cluster, see
//! e2e_recreate's `server_agrees_with_the_recreate_decisions`) and from Helm (what it deletes),
//! never from earlier runs of this code.

use crate::plan_support;

use chartup::analysis::{Fate, Persistence, Verdict};
use chartup::diff::Action;
use chartup::plan::{self, Plan};
use plan_support::*;

const DIR: &str = "tests/data/charts/precision";

fn case<'a>(from: &'a str, to: &'a str) -> Case<'a> {
    Case {
        release: "rel",
        namespace: "prec",
        from,
        to,
        values: &[],
        to_values: &[],
        matrix: None,
        storage_classes: &["standard=Delete"],
    }
}

fn plan_of(name: &str, carry: bool, same: &[(&str, &str)]) -> Plan {
    let (from, to) = (format!("{DIR}/{name}/1.0.0"), format!("{DIR}/{name}/2.0.0"));
    let c = case(&from, &to);
    let (old, new) = c.sides();
    let mut o = c.options();
    o.carry_volumes = carry;
    o.same_component = same.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    plan::build(&old, &new, None, &o)
}

fn change<'a>(p: &'a Plan, kind: &str, name: &str) -> &'a chartup::diff::ObjectChange {
    p.changes
        .iter()
        .find(|c| c.key.kind == kind && c.key.name == name)
        .unwrap_or_else(|| panic!("no change for {kind}/{name}"))
}

#[test]
fn precision_charts_render_as_helm_does() {
    use chartup::plan::source::Renderer;
    let mut n = 0;
    for case in std::fs::read_dir(DIR).unwrap() {
        for ver in std::fs::read_dir(case.unwrap().path()).unwrap() {
            let chart = ver.unwrap().path();
            let v = values(&[]);
            let ours = renderer().render(&chart, &v, "rel", "prec", true).unwrap();
            let helm = oracle().render(&chart, &v, "rel", "prec", true).unwrap();
            assert_eq!(ours.documents, helm.documents, "{}", chart.display());
            n += 1;
        }
    }
    assert_eq!(n, 18, "nine chart pairs");
}

#[test]
fn controller_becoming_statefulset_keeps_its_claim_once() {
    // Deployment ctl (component master) + claim ctl-data → StatefulSet ctl (component
    // controller) mounting ctl-data: one volume, reattached — not "reattached" plus "new, empty".
    let p = plan_of("rename-controller", false, &[]);
    assert_eq!(p.volumes.len(), 1, "{:#?}", p.volumes);
    let v = &p.volumes[0];
    assert_eq!((v.fate, v.verdict), (Fate::Reattached, Verdict::Safe), "{v:#?}");
    assert!(v.reason.contains("mounts the same claim ctl-data"), "{}", v.reason);
    assert_eq!(p.pairings.len(), 1);
    let pr = &p.pairings[0];
    assert_eq!(
        (pr.from.kind.as_str(), pr.to.kind.as_str()),
        ("Deployment", "StatefulSet")
    );
    assert!(
        pr.evidence.iter().any(|e| e == "role master → controller"),
        "{:?}",
        pr.evidence
    );
    assert!(pr.evidence.iter().any(|e| e == "claim ctl-data"), "{:?}", pr.evidence);
    assert_eq!(p.verdict, Verdict::Safe);
}

#[test]
fn renamed_database_statefulset_is_one_component_and_carries() {
    // db-master (component master) → db (component primary), same claim template `data`.
    let p = plan_of("rename-db", false, &[]);
    assert_eq!(p.pairings.len(), 1, "{:#?}", p.pairings);
    let ev = &p.pairings[0].evidence;
    for want in [
        "image postgres",
        "container db",
        "claim template data",
        "role master → primary",
    ] {
        assert!(ev.iter().any(|e| e == want), "{want} in {ev:?}");
    }
    // Without carrying: both old claims orphaned (at risk), named; no "new volume" line.
    let orphaned: Vec<_> = p.volumes.iter().filter(|v| v.fate == Fate::Orphaned).collect();
    assert_eq!(orphaned.len(), 2, "{:#?}", p.volumes);
    assert!(
        orphaned[0].reason.contains("renamed db-master → db"),
        "{}",
        orphaned[0].reason
    );
    assert!(p.volumes.iter().all(|v| v.fate != Fate::New), "{:#?}", p.volumes);
    assert_eq!(p.verdict, Verdict::AtRisk);
    assert!(p
        .requirements
        .iter()
        .any(|r| r.flag.as_deref() == Some("--accept-risk")));
    // With --carry-volumes: ordinal i → ordinal i.
    let p = plan_of("rename-db", true, &[]);
    let mut moves: Vec<_> = p
        .volumes
        .iter()
        .filter_map(|v| v.carry.as_ref())
        .map(|c| (c.from_claim.as_str(), c.to_claim.as_str(), c.ordinal))
        .collect();
    moves.sort();
    assert_eq!(
        moves,
        [
            ("data-db-master-0", "data-db-0", Some(0)),
            ("data-db-master-1", "data-db-1", Some(1))
        ]
    );
    assert_eq!(p.verdict, Verdict::Safe);
    assert!(p.requirements.is_empty(), "{:?}", p.requirements);
    assert!(
        p.summary_line().ends_with("2 carried · verdict: safe"),
        "{}",
        p.summary_line()
    );
}

#[test]
fn declared_mapping_pairs_what_evidence_cannot() {
    // The evidence pairs rename-db by itself; a declaration is recorded as such.
    let p = plan_of("rename-db", false, &[("StatefulSet/db-master", "db")]);
    assert!(p.pairings[0].declared);
    assert_eq!(
        p.pairings[0].evidence[0],
        "declared by flag --same-component StatefulSet/db-master=db"
    );
}

#[test]
fn declared_rename_by_flag_or_matrix_pairs_and_carries() {
    // rel-cache-master (component master, bitnami/redis, container server, template data) →
    // rel-cache (component cache, redis, container redis, template redis-data): only the mount
    // path /data is shared, which is not enough evidence on its own.
    let p = plan_of("rename-declared", true, &[]);
    assert!(p.pairings.is_empty(), "{:#?}", p.pairings);
    assert!(p.volumes.iter().all(|v| v.fate != Fate::Carried), "{:#?}", p.volumes);
    assert!(p.volumes.iter().any(|v| v.fate == Fate::New), "{:#?}", p.volumes);

    // The flag: the pairing says who declared it, with what evidence there is.
    let p = plan_of("rename-declared", false, &[("cache-master", "cache")]);
    assert_eq!(p.pairings.len(), 1, "{:#?}", p.pairings);
    let pr = &p.pairings[0];
    assert!(pr.declared);
    assert_eq!(
        (pr.from.name.as_str(), pr.to.name.as_str()),
        ("rel-cache-master", "rel-cache")
    );
    assert_eq!(pr.evidence[0], "declared by flag --same-component cache-master=cache");
    assert!(
        pr.evidence.iter().any(|e| e == "data mounted at /data"),
        "{:?}",
        pr.evidence
    );
    assert!(
        pr.evidence.iter().any(|e| e == "role master → cache"),
        "{:?}",
        pr.evidence
    );
    let text = plan::text::render(&p, false);
    assert!(
        text.contains("declared by flag --same-component cache-master=cache"),
        "{text}"
    );
    // Paired but not carried: the old claims are orphaned, and no "new, empty" line beside them.
    assert_eq!(
        p.volumes.iter().filter(|v| v.fate == Fate::Orphaned).count(),
        2,
        "{:#?}",
        p.volumes
    );
    assert!(p.volumes.iter().all(|v| v.fate != Fate::New), "{:#?}", p.volumes);
    // With --carry-volumes: ordinal i → ordinal i, under the new template's name.
    let p = plan_of("rename-declared", true, &[("cache-master", "cache")]);
    let mut moves: Vec<_> = p
        .carries()
        .iter()
        .map(|c| (c.from_claim.clone(), c.to_claim.clone(), c.ordinal))
        .collect();
    moves.sort();
    assert_eq!(
        moves,
        [
            (
                "data-rel-cache-master-0".to_string(),
                "redis-data-rel-cache-0".to_string(),
                Some(0)
            ),
            (
                "data-rel-cache-master-1".to_string(),
                "redis-data-rel-cache-1".to_string(),
                Some(1)
            )
        ]
    );
    assert_eq!(p.verdict, Verdict::Safe);

    // The matrix: `components.cache.renamedFrom: [master]` pairs by component label, and its
    // `carryVolumes` carries without the flag; its loss statement for the hop is met by the carry.
    let (from, to) = (
        format!("{DIR}/rename-declared/1.0.0"),
        format!("{DIR}/rename-declared/2.0.0"),
    );
    let c = case(&from, &to);
    let (old, new) = c.sides();
    let m = chartup::matrix::load(std::path::Path::new("tests/data/matrices/rename-declared.yaml"))
        .unwrap_or_else(|e| panic!("{e}"));
    let p = plan::build(&old, &new, Some(&m), &c.options());
    assert_eq!(p.pairings.len(), 1, "{:#?}", p.pairings);
    assert_eq!(
        p.pairings[0].evidence[0],
        "declared by matrix tests/data/matrices/rename-declared.yaml (components.cache.renamedFrom: master)"
    );
    assert_eq!(p.carries().len(), 2, "{:#?}", p.volumes);
    assert_eq!((p.matrix_verdict, p.verdict), (Some(Verdict::Safe), Verdict::Safe));
    assert!(
        p.summary_line().ends_with("2 carried · verdict: safe"),
        "{}",
        p.summary_line()
    );

    // A flag that names nothing leaving the release is said, not silently ignored.
    let p = plan_of("rename-declared", false, &[("StatefulSet/rel-db", "cache")]);
    assert!(p.pairings.is_empty());
    assert!(
        p.warnings.iter().any(|w| w
            == "flag --same-component StatefulSet/rel-db=cache not used: \"StatefulSet/rel-db\" names no workload that leaves the release"),
        "{:#?}",
        p.warnings
    );
}

#[test]
fn server_defaults_and_nulls_are_not_a_recreate() {
    // podManagementPolicy: '' and a claim template's annotations: null: the server accepts the
    // update in place (`kubectl replace --dry-run=server` on kube-apiserver 1.20).
    let p = plan_of("sts-defaults", false, &[]);
    let c = change(&p, "StatefulSet", "cache");
    assert_eq!(c.action, Action::Change, "{:#?}", c.immutable);
    assert_eq!(p.summary.recreate, 0);
}

#[test]
fn immutable_secret_configmap_and_secret_type_are_recreates() {
    let p = plan_of("immutable-data", false, &[]);
    for (kind, name, field) in [
        ("Secret", "frozen", "stringData"),
        ("ConfigMap", "frozen-config", "data"),
        ("Secret", "tls", "type"),
    ] {
        let c = change(&p, kind, name);
        assert_eq!(c.action, Action::Recreate, "{kind}/{name}");
        assert_eq!(c.immutable[0].field, field, "{kind}/{name}");
        assert!(c.consequence.as_deref().unwrap().contains("helm upgrade` would fail"));
    }
    // Secret values never leak through the new rule's words.
    assert!(!serde_json::to_string(&p).unwrap().contains("value-2"));
}

#[test]
fn objects_leaving_the_chart() {
    let p = plan_of("leaving", false, &[]);
    let rule = |r: &str| {
        p.hazards
            .iter()
            .find(|h| h.rule == r)
            .unwrap_or_else(|| panic!("{r}: {:#?}", p.hazards))
    };
    assert_eq!(rule("crd-removed").verdict, Verdict::Loss);
    assert!(rule("crd-removed")
        .reason
        .contains("every custom resource of kind Backup"));
    assert_eq!(rule("namespace-removed").verdict, Verdict::Loss);
    assert_eq!(rule("namespace-removed").object, "Namespace/rel-jobs");
    // persistentVolumeReclaimPolicy: Delete.
    assert_eq!(rule("pv-removed").verdict, Verdict::Loss);
    assert!(rule("crd-removed").workaround.contains("helm.sh/resource-policy=keep"));
    // The kept claim: counted as kept, not deleted, and said so in the text.
    assert_eq!((p.summary.keep, p.summary.delete), (1, 3));
    let text = plan::text::render(&p, false);
    assert!(
        text.contains("PersistentVolumeClaim/archive-claim (kept: leaves the release, stays in the cluster"),
        "{text}"
    );
    assert!(p
        .requirements
        .iter()
        .any(|r| r.flag.as_deref() == Some("--accept-data-loss")));
    // Label-only churn (helm.sh/chart, app.kubernetes.io/version) is counted and hidden.
    assert_eq!(p.summary.label_only, 1);
    assert!(text.contains("1 change(s) only rewrite helm.sh/chart"), "{text}");
    assert!(!text.contains("ConfigMap/settings"), "{text}");
    let shown = plan::text::render_with(
        &p,
        false,
        plan::text::TextOptions {
            show_label_churn: true,
            ..Default::default()
        },
    );
    assert!(shown.contains("ConfigMap/settings"));
}

#[test]
fn database_major_version_on_kept_volumes_is_not_checked_and_said_so() {
    let p = plan_of("image-major", false, &[]);
    let h = p
        .hazards
        .iter()
        .find(|h| h.rule == "image-major")
        .expect("image-major hazard");
    assert_eq!(h.verdict, Verdict::AtRisk);
    assert!(h.reason.contains("postgres 16 → 17"), "{}", h.reason);
    assert!(h.reason.contains("data format: not checked, no matrix"));
    assert_eq!(p.verdict, Verdict::AtRisk);
    let text = plan::text::render(&p, false);
    assert!(
        text.contains("Verdict: data at risk (volumes: safe, hazards: at-risk); data format: not checked, no matrix"),
        "{text}"
    );
    // The images table, old → new.
    assert_eq!(p.images.len(), 1);
    assert_eq!(p.images[0].from.as_deref(), Some("postgres:16.4"));
    assert_eq!(p.images[0].to.as_deref(), Some("postgres:17.2"));
    // hostPath is its own mode; the emptyDir is one summary line.
    let host = p.volumes.iter().find(|v| v.volume == "logs").unwrap();
    assert_eq!(host.mode, Persistence::HostPath);
    assert!(text.contains("[hostPath]"), "{text}");
    assert!(
        text.contains("emptyDir: 1 volume(s) without persistence in pg"),
        "{text}"
    );
    assert!(!text.contains("pg/run"), "{text}");
}

#[test]
fn decisions_come_before_the_volume_table_and_diffs() {
    let p = plan_of("leaving", false, &[]);
    let text = plan::text::render(&p, false);
    let at = |s: &str| text.find(s).unwrap_or_else(|| panic!("{s} in {text}"));
    assert!(at("Apply requires:") < at("Decide:"));
    assert!(at("Decide:") < at("Volumes:"));
    assert!(at("Volumes:") < at("Changes:"));
    assert!(text.lines().next().unwrap().ends_with("verdict: loss"));
    let compact = plan::text::render_with(
        &p,
        false,
        plan::text::TextOptions {
            compact: true,
            ..Default::default()
        },
    );
    assert!(!compact.contains("@@"), "{compact}");
    assert!(text.contains("@@"));
}

#[test]
fn markdown_budget_counts_characters_and_keeps_workload_diffs() {
    // One 70,000-character line (a dashboard ConfigMap) beside a workload change.
    let big = "x".repeat(70_000);
    let old = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: dash}}\ndata: {{d.json: a}}\n---\n{}",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec:\n      containers: [{name: web, image: 'web:1'}]\n"
    );
    let new = old
        .replace("d.json: a", &format!("d.json: {big}"))
        .replace("web:1", "web:2");
    let side = |t: &str| plan::ReleaseSide::new("m", chartup::manifest::split_documents(t), "ns").unwrap();
    let p = plan::build(&side(&old), &side(&new), None, &Default::default());
    let md = plan::markdown::render(&p).unwrap();
    assert!(md.chars().count() < plan::markdown::LIMIT);
    assert!(
        md.starts_with("<!-- chartup-plan: release-name/default -->"),
        "{}",
        &md[..80]
    );
    assert!(md.contains("+        image: web:2"), "{md}");
    assert!(md.contains(" characters cut)"), "long line truncated: {md}");
    // Many lines, each short: the largest diff is left out whole and said so; the workload's
    // diff (smaller, and a workload) stays.
    let lines: String = (0..400).map(|i| format!("  k{i}: {}\n", "y".repeat(250))).collect();
    let new2 = old
        .replace("data: {d.json: a}\n", &format!("data:\n{lines}"))
        .replace("web:1", "web:2");
    let p = plan::build(&side(&old), &side(&new2), None, &Default::default());
    let md = plan::markdown::render(&p).unwrap();
    assert!(md.chars().count() < plan::markdown::LIMIT);
    assert!(md.contains("+        image: web:2"), "{md}");
    assert!(
        md.contains("left out to keep this comment under 65536 characters"),
        "{md}"
    );
    assert!(!md.contains("k399:"));
    // Images table in Markdown.
    assert!(md.contains("| `web:1` | `web:2` |"), "{md}");
}

#[test]
fn json_schema_of_the_plan_validates_real_plans() {
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("docs/plan.schema.json").unwrap()).unwrap();
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    compiler.add_resource("file:///plan.schema.json", schema).unwrap();
    let idx = compiler.compile("file:///plan.schema.json", &mut schemas).unwrap();
    let plans = [
        plan_of("leaving", false, &[]),
        plan_of("rename-db", true, &[]),
        plan_of("image-major", false, &[]),
        plan_of("immutable-data", false, &[]),
        fate("charts/fate/1.8.0", "charts/fate/1.9.0", STORAGE_CLASS).plan(),
        fate("charts/fate/1.7.0", "charts/fate/1.10.0", EXISTING_CLAIMS).plan(),
    ];
    for p in &plans {
        let v = serde_json::to_value(p).unwrap();
        if let Err(e) = schemas.validate(&v, idx) {
            panic!("plan of {} does not match docs/plan.schema.json: {e:#}", p.to.origin);
        }
    }
    // The schema is strict: an unknown field fails (so a new plan field must be documented).
    let mut v = serde_json::to_value(&plans[0]).unwrap();
    v["surprise"] = serde_json::json!(1);
    assert!(schemas.validate(&v, idx).is_err());
}

#[test]
fn detailed_exit_code_for_a_plan_apply_refuses() {
    let c = fate("charts/fate/1.7.0", "charts/fate/1.10.0", EXISTING_CLAIMS);
    let p = c.plan();
    let multi_hop = p.matrix.as_ref().is_some_and(|m| m.path.len() > 2);
    assert!(multi_hop, "fate 1.7.0 → 1.10.0 goes through intermediate versions");
    assert!(p.apply_refuses());
    assert!(p
        .requirements
        .iter()
        .any(|r| r.flag.is_none() && r.reason.starts_with("one hop at a time")));
}

#[test]
fn a_matrix_that_declares_carrying_makes_the_carried_hop_safe() {
    // matrices/fate.yaml says storage-class volumes are lost across 1.9.0 (the claims change
    // name). A matrix that also names the components for carrying declares that carrying is how
    // the data survives: with every volume carried, the lines agree on safe.
    let text = std::fs::read_to_string("matrices/fate.yaml").unwrap();
    assert!(!text.contains("\ncomponents:"), "the stock matrix declares no carrying");
    let declared = format!(
        "{text}\ncomponents:\n  mysql: {{carryVolumes: true}}\n  client: {{carryVolumes: true}}\n  nodemanager: {{carryVolumes: true}}\n"
    );
    let m = chartup::matrix::parse(&declared, "matrices/fate.yaml", Some(std::path::Path::new("matrices")))
        .unwrap_or_else(|e| panic!("{e}"));
    let case = fate("charts/fate/1.8.0", "charts/fate/1.9.0", STORAGE_CLASS);
    let (old, new) = case.sides();
    let p = plan::build(&old, &new, Some(&m), &case.options());
    assert!(p
        .volumes
        .iter()
        .filter(|v| v.mode == Persistence::StorageClass)
        .all(|v| v.fate == Fate::Carried));
    assert_eq!((p.matrix_verdict, p.verdict), (Some(Verdict::Safe), Verdict::Safe));
    assert!(
        p.summary_line().ends_with("3 carried · verdict: safe"),
        "{}",
        p.summary_line()
    );
    assert!(p
        .requirements
        .iter()
        .all(|r| r.flag.as_deref() != Some("--accept-data-loss")));
    // The stock matrix (no declaration) with --carry-volumes: the matrix's loss stands, and the
    // summary line says so too instead of contradicting the verdict.
    let stock = matrix("fate");
    let mut o = case.options();
    o.carry_volumes = true;
    let p = plan::build(&old, &new, Some(&stock), &o);
    assert_eq!(p.verdict, Verdict::Loss);
    assert!(
        p.summary_line().ends_with("3 carried · verdict: loss"),
        "{}",
        p.summary_line()
    );
}
