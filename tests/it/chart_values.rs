//! User values over chart defaults on tests/data/charts/coalesce, compared with what
//! `helm template` (4.1.4) printed through `# <name>: {{ toJson .Values }}` for the same flags.
//! The chart's values.yaml has two documents (merged); its `y:` keys are YAML 1.1 booleans, so
//! they become "true". The subchart's nested `global.deep.level` shows Helm's one-level global
//! copy: the child's key leaks into the parent's `.Values.global`.

use crate::chart_support as support;

use chartup::chart::{self, coalesce::Warnings, deps::Prepared, PrepareOptions, ValueOptions};
use support::{chart_dir, go_json};

fn run(set: &[&str]) -> (String, String) {
    let c = chart::load(chart_dir("coalesce")).unwrap();
    let vo = ValueOptions {
        set: set.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    };
    let user = vo.merge_values().unwrap();
    let p = chart::prepare(c, &user, &PrepareOptions::default()).unwrap();
    let sub = Prepared::subchart_values(&p.values, &p.chart.dependencies[0]);
    (go_json(&p.values), go_json(&sub))
}

#[test]
fn defaults_globals_and_multi_document_values() {
    let (root, sub) = run(&[]);
    assert_eq!(
        sub,
        r#"{"fromparent":"p","global":{"deep":{"level":{"true":2,"x":1}},"flat":"parent","subonly":"s"},"nested":{"a":1,"b":2},"replicas":1,"scalar":"s"}"#
    );
    assert_eq!(
        root,
        r#"{"global":{"deep":{"level":{"true":2,"x":1}},"flat":"parent"},"list":[1,2,3],"scalar":2,"second":"doc","sub":{"fromparent":"p","global":{"deep":{"level":{"true":2,"x":1}},"flat":"parent","subonly":"s"},"nested":{"a":1,"b":2},"replicas":1,"scalar":"s"},"table":{"drop":2,"keep":1}}"#
    );
}

/// Helm printed `common.Values map[string]interface {} map[string]interface {}` for
/// `{{ typeOf .Values }} {{ typeOf .Values.sub }} {{ typeOf .Values.table }}` in the root and
/// `common.Values` for `.Values` in the subchart.
#[test]
fn values_are_common_values() {
    let c = chart::load(chart_dir("coalesce")).unwrap();
    let p = chart::prepare(
        c,
        &ValueOptions::default().merge_values().unwrap(),
        &PrepareOptions::default(),
    )
    .unwrap();
    assert_eq!(p.values.type_name(), "common.Values");
    let m = p.values.as_map().unwrap();
    assert_eq!(m.get("sub").unwrap().type_name(), "map[string]interface {}");
    assert_eq!(m.get("table").unwrap().type_name(), "map[string]interface {}");
    let sub = Prepared::subchart_values(&p.values, &p.chart.dependencies[0]);
    assert_eq!(sub.type_name(), "common.Values");
    // The subchart's .Values is the parent's .Values.sub (one Go map).
    assert!(sub.as_map().unwrap().same(m.get("sub").unwrap().as_map().unwrap()));
}

#[test]
fn nulls_delete_and_types_replace() {
    let (root, sub) =
        run(&["sub.replicas=null,sub.nested.a=null,table.drop=null,table=5,sub.scalar.x=1,list[1]=x,sub.nested=str"]);
    assert_eq!(
        sub,
        r#"{"fromparent":"p","global":{"deep":{"level":{"true":2,"x":1}},"flat":"parent","subonly":"s"},"nested":"str","scalar":{"x":1}}"#
    );
    assert_eq!(
        root,
        r#"{"global":{"deep":{"level":{"true":2,"x":1}},"flat":"parent"},"list":[null,"x"],"scalar":2,"second":"doc","sub":{"fromparent":"p","global":{"deep":{"level":{"true":2,"x":1}},"flat":"parent","subonly":"s"},"nested":"str","scalar":{"x":1}},"table":5}"#
    );
}

#[test]
fn table_scalar_conflicts_warn_like_helm() {
    Warnings::take();
    let (root, sub) = run(&["scalar.t=1,sub.nested.b.c=1"]);
    assert_eq!(
        sub,
        r#"{"fromparent":"p","global":{"deep":{"level":{"true":2,"x":1}},"flat":"parent","subonly":"s"},"nested":{"a":1,"b":{"c":1}},"replicas":1,"scalar":"s"}"#
    );
    assert_eq!(
        root,
        r#"{"global":{"deep":{"level":{"true":2,"x":1}},"flat":"parent"},"list":[1,2,3],"scalar":{"t":1},"second":"doc","sub":{"fromparent":"p","global":{"deep":{"level":{"true":2,"x":1}},"flat":"parent","subonly":"s"},"nested":{"a":1,"b":{"c":1}},"replicas":1,"scalar":"s"},"table":{"drop":2,"keep":1}}"#
    );
    let mut w = Warnings::take();
    w.sort();
    assert_eq!(
        w,
        [
            "warning: destination for coalesce.sub.nested.b is a table. Ignoring non-table value (2)",
            "warning: skipped value for coalesce.scalar: Not a table.",
        ]
    );
    run(&["sub.scalar.x=1"]);
    assert_eq!(
        Warnings::take(),
        ["warning: skipped value for coalesce.sub.scalar: Not a table."]
    );
}
