//! Snapshots of the plans of the example upgrades in every output format (text, JSON,
//! markdown). The manifests come from chartup's renderer, which `renderer_matches_helm_on_every_example`
//! (plan_rules) compares with the real helm on every example chart; the snapshots pin the plan's
//! presentation, which reviewers read (`cargo insta review` after an intended change).

use crate::plan_support;

use chartup::plan::{self, Plan};
use plan_support::*;

fn all_formats(name: &str, p: &Plan) {
    insta::assert_snapshot!(format!("{name}.text"), plan::text::render(p, false));
    insta::assert_snapshot!(format!("{name}.json"), serde_json::to_string_pretty(p).unwrap());
    let md = plan::markdown::render(p).unwrap();
    assert!(md.chars().count() < plan::markdown::LIMIT);
    insta::assert_snapshot!(format!("{name}.markdown"), md);
}

#[test]
fn fate_180_190_storage_class() {
    all_formats(
        "fate_180_190_storage_class",
        &fate("charts/fate/1.8.0", "charts/fate/1.9.0", STORAGE_CLASS).plan(),
    );
}

#[test]
fn fate_180_190_existing_claims() {
    all_formats(
        "fate_180_190_existing_claims",
        &fate("charts/fate/1.8.0", "charts/fate/1.9.0", EXISTING_CLAIMS).plan(),
    );
}

#[test]
fn fate_170_1100_existing_claims() {
    all_formats(
        "fate_170_1100_existing_claims",
        &fate("charts/fate/1.7.0", "charts/fate/1.10.0", EXISTING_CLAIMS).plan(),
    );
}

#[test]
fn streamstore_051_060() {
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
    all_formats("streamstore_051_060", &case.plan());
}

#[test]
fn kvstore_570_600() {
    let case = Case {
        release: "kv",
        namespace: "kv",
        from: "charts/kvstore/5.7.0",
        to: "charts/kvstore/6.0.0",
        values: &[],
        to_values: &[],
        matrix: Some("kvstore"),
        storage_classes: &[],
    };
    all_formats("kvstore_570_600", &case.plan());
}

/// Issue 17's chart pairs: the decision-first text, the images table, pairings, hazards and
/// requirements as a reviewer reads them.
fn precision(name: &str, carry: bool) -> Plan {
    let (from, to) = (
        format!("tests/data/charts/precision/{name}/1.0.0"),
        format!("tests/data/charts/precision/{name}/2.0.0"),
    );
    let c = Case {
        release: "rel",
        namespace: "prec",
        from: &from,
        to: &to,
        values: &[],
        to_values: &[],
        matrix: None,
        storage_classes: &["standard=Delete"],
    };
    let (old, new) = c.sides();
    let mut o = c.options();
    o.carry_volumes = carry;
    plan::build(&old, &new, None, &o)
}

#[test]
fn precision_rename_db() {
    all_formats("precision_rename_db", &precision("rename-db", false));
}

#[test]
fn precision_rename_db_carried() {
    all_formats("precision_rename_db_carried", &precision("rename-db", true));
}

#[test]
fn precision_leaving() {
    all_formats("precision_leaving", &precision("leaving", false));
}

#[test]
fn precision_image_major() {
    all_formats("precision_image_major", &precision("image-major", false));
}
