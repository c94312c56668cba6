//! `--carry-volumes` in the plan (issue 6) on the example charts: the fate `carried` with the
//! ordinal mapping Kubernetes' claim naming implies (`<template>-<statefulset>-<ordinal>`), in
//! every output and in the saved plan apply executes; without the flag the existing verdicts hold.

use crate::plan_support;

use std::process::Command;

use chartup::analysis::{Fate, Verdict};
use chartup::plan::{self, saved::SavedPlan};
use plan_support::*;

fn case<'a>(chart: &'a str, release: &'a str) -> (Case<'a>, String, String) {
    (
        Case {
            release,
            namespace: "ns",
            from: "",
            to: "",
            values: &[],
            to_values: &[],
            matrix: None,
            storage_classes: &["standard=Delete"],
        },
        format!("charts/{chart}/1.0.0"),
        format!("charts/{chart}/2.0.0"),
    )
}

fn plan_of(chart: &str, release: &str, carry: bool) -> (plan::Plan, plan::ReleaseSide, plan::ReleaseSide) {
    let (mut c, from, to) = case(chart, release);
    c.from = &from;
    c.to = &to;
    let (old, new) = c.sides();
    let mut opts = c.options();
    opts.carry_volumes = carry;
    (plan::build(&old, &new, None, &opts), old, new)
}

#[test]
fn renamed_statefulset_is_carried_ordinal_by_ordinal() {
    let (p, _, _) = plan_of("ledger", "ledger", true);
    let mut m: Vec<_> = p
        .volumes
        .iter()
        .map(|v| {
            let c = v.carry.as_ref().expect("every volume carried");
            (v.fate, v.verdict, c.from_claim.as_str(), c.to_claim.as_str(), c.ordinal)
        })
        .collect();
    m.sort_by_key(|x| x.4);
    assert_eq!(
        m,
        [
            (
                Fate::Carried,
                Verdict::Safe,
                "data-ledger-ledger-0",
                "journal-ledger-ledger-journal-0",
                Some(0)
            ),
            (
                Fate::Carried,
                Verdict::Safe,
                "data-ledger-ledger-1",
                "journal-ledger-ledger-journal-1",
                Some(1)
            ),
        ]
    );
    // Every volume is carried; what remains is ledger's postgres 13 → 14 on that data with no
    // matrix to say the data format survives (issue 17): at risk, said as a hazard.
    assert_eq!(p.analysis_verdict, Verdict::Safe);
    assert_eq!(p.verdict, Verdict::AtRisk);
    assert_eq!(
        p.hazards.iter().map(|h| h.rule.as_str()).collect::<Vec<_>>(),
        ["image-major"]
    );
    let c = p.volumes[0].carry.as_ref().unwrap();
    assert_eq!(c.from_workload.to_string(), "ns/StatefulSet.apps/ledger-ledger");
    assert_eq!(c.to_workload.to_string(), "ns/StatefulSet.apps/ledger-ledger-journal");
    // Without the flag: orphaned, at risk, nothing to carry.
    let (p, _, _) = plan_of("ledger", "ledger", false);
    assert!(p
        .volumes
        .iter()
        .all(|v| (v.fate, v.verdict) == (Fate::Orphaned, Verdict::AtRisk) && v.carry.is_none()));
}

#[test]
fn deployment_claim_goes_to_ordinal_zero() {
    let (p, _, _) = plan_of("docstore", "docs", true);
    assert_eq!(p.volumes.len(), 1, "{:#?}", p.volumes);
    let v = &p.volumes[0];
    assert_eq!((v.fate, v.verdict), (Fate::Carried, Verdict::Safe));
    let c = v.carry.as_ref().unwrap();
    assert_eq!(
        (c.from_claim.as_str(), c.to_claim.as_str(), c.ordinal),
        ("docs-docstore-data", "data-docs-docstore-0", Some(0))
    );
    assert_eq!(c.from_workload.kind, "Deployment");
    // The StatefulSet controller labels its claims with the template labels and the selector.
    assert_eq!(
        c.labels.get("app.kubernetes.io/instance").map(String::as_str),
        Some("docs")
    );
    // Without the flag: the release PVC is deleted with a Delete class — loss, as before.
    let (p, _, _) = plan_of("docstore", "docs", false);
    assert_eq!(
        (p.volumes[0].fate, p.volumes[0].verdict),
        (Fate::Deleted, Verdict::Loss)
    );
}

#[test]
fn fate_190_keeps_the_matrix_verdict_when_carried() {
    let mut c = fate("charts/fate/1.8.0", "charts/fate/1.9.0", STORAGE_CLASS);
    c.release = "fate";
    let (old, new) = c.sides();
    let mut opts = c.options();
    opts.carry_volumes = true;
    let m = matrix("fate");
    let p = plan::build(&old, &new, Some(&m), &opts);
    for comp in ["mysql", "nodemanager", "client"] {
        let v = p.volumes.iter().find(|v| v.component == comp).unwrap();
        assert_eq!(v.fate, Fate::Carried, "{comp}: {v:#?}");
        assert_eq!(v.carry.as_ref().unwrap().to_claim, format!("data-{comp}-0"));
    }
    assert_eq!(p.analysis_verdict, Verdict::Safe);
    // The maintainers' statement stands: StorageClass persistence loses data across 1.9.0.
    assert_eq!(p.verdict, Verdict::Loss);
}

#[test]
fn outputs_and_saved_plan_carry_the_mapping() {
    let (p, old, new) = plan_of("ledger", "ledger", true);
    let text = plan::text::render(&p, false);
    assert!(
        text.contains(
            "ledger/journal — carried: data-ledger-ledger-0 → journal-ledger-ledger-journal-0 [storageClass]"
        ),
        "{text}"
    );
    let md = plan::markdown::render(&p).unwrap();
    assert!(
        md.contains("| carried: data-ledger-ledger-1 → journal-ledger-ledger-journal-1 |"),
        "{md}"
    );
    let saved = SavedPlan::new(p.clone(), &old, &new).unwrap();
    let back = SavedPlan::from_json(&saved.to_json()).unwrap();
    assert!(back.verify());
    assert_eq!(back.plan.carries(), p.carries());
    let j: serde_json::Value = serde_json::from_str(&saved.to_json()).unwrap();
    assert_eq!(
        j["plan"]["volumes"][0]["carry"]["toClaim"],
        "journal-ledger-ledger-journal-0"
    );
    // Editing the mapping after review breaks the fingerprint.
    let mut edited = back.clone();
    edited.plan.volumes[0].carry.as_mut().unwrap().to_claim = "elsewhere".into();
    assert!(!edited.verify());
    assert!(p.check_carried().is_ok());
    let (p, _, _) = plan_of("ledger", "ledger", false);
    let e = p.check_carried().unwrap_err();
    assert!(e.contains("plan again with `chartup plan … --carry-volumes"), "{e}");
}

#[test]
fn cli_flag_and_matrix_component() {
    let run = |extra: &[&str]| {
        let mut args = vec![
            "plan",
            "docs",
            "--from",
            "charts/docstore/1.0.0",
            "--to",
            "charts/docstore/2.0.0",
            "-n",
            "ns",
            "--storage-class",
            "standard=Delete",
            "-o",
            "json",
        ];
        args.extend(extra);
        let o = Command::new(env!("CARGO_BIN_EXE_chartup"))
            .args(&args)
            .current_dir(root())
            .output()
            .unwrap();
        let p: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        p["volumes"][0]["fate"].as_str().unwrap_or("").to_string()
    };
    assert_eq!(run(&[]), "deleted");
    assert_eq!(run(&["--carry-volumes"]), "carried");
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("docstore.yaml");
    std::fs::write(
        &m,
        "matrix: 1\nchart: docstore\nversions: [1.0.0, 2.0.0]\ncomponents:\n  db: {carryVolumes: true}\n",
    )
    .unwrap();
    let m = m.display().to_string();
    assert_eq!(run(&["--matrix", &m]), "carried");
    let o = Command::new(env!("CARGO_BIN_EXE_chartup"))
        .args(["matrix", "check", &m])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("volumes carried over for db"),
        "{o:?}"
    );
}
