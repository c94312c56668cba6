//! Dependency processing and coalescing on a chart tree, checked against `helm template` (4.1.4).
//!
//! tests/data/charts/deps has conditions (a comma list), tags, two aliases of one subchart (one
//! without a version, which Helm silently drops), import-values in both forms, globals, a nested
//! subchart behind a condition, a library subchart and a `charts/_ignored` directory. Each
//! chart's template prints `# <name>: {{ toJson .Values }}`; the expected lines below are that
//! output, and the test compares our values for every non-library chart in the processed tree.

use crate::chart_support as support;

use chartup::chart::{self, deps::Prepared, Chart, PrepareOptions, ValueOptions};
use chartup::value::Value;
use support::{chart_dir, go_json};

fn collect(c: &Chart, vals: &Value, out: &mut Vec<String>) {
    if !c.is_library() {
        out.push(format!("# {}: {}", c.name(), go_json(vals)));
    }
    for s in &c.dependencies {
        collect(s, &Prepared::subchart_values(vals, s), out);
    }
}

fn run(set: &[&str]) -> Vec<String> {
    let c = chart::load(chart_dir("deps")).unwrap();
    let opts = ValueOptions {
        set: set.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    };
    let user = opts.merge_values().unwrap();
    let p = chart::prepare(c, &user, &PrepareOptions::default()).unwrap();
    let mut out = Vec::new();
    collect(&p.chart, &p.values, &mut out);
    out.sort();
    out
}

fn sorted(lines: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

#[test]
fn defaults_aliases_imports_globals() {
    assert_eq!(
        run(&[]),
        sorted(&[
            r#"# first: {"enabled":true,"exports":{"data":{"exported":"from-sub1"}},"global":{"nested":{"a":1,"b":2},"own":"x","region":"eu"},"replicas":1}"#,
            r#"# sub1: {"enabled":true,"exports":{"data":{"exported":"from-sub1"}},"global":{"nested":{"a":1,"b":2},"own":"x","region":"eu"},"replicas":3}"#,
            r#"# sub2: {"global":{"nested":{"a":1},"region":"eu"},"info":{"a":1,"keep":"sub"},"subsub":{"enabled":false}}"#,
            r#"# deps: {"exported":"from-sub1","first":{"enabled":true,"exports":{"data":{"exported":"from-sub1"}},"global":{"nested":{"a":1,"b":2},"own":"x","region":"eu"},"replicas":1},"fromsub2":{"a":1,"keep":"parent"},"global":{"nested":{"a":1},"region":"eu"},"lib":{"global":{"nested":{"a":1},"region":"eu"},"libval":1},"second":{"enabled":false},"sub1":{"enabled":true,"exports":{"data":{"exported":"from-sub1"}},"global":{"nested":{"a":1,"b":2},"own":"x","region":"eu"},"replicas":3},"sub2":{"global":{"nested":{"a":1},"region":"eu"},"info":{"a":1,"keep":"sub"},"subsub":{"enabled":false}},"tags":{"backend":true}}"#,
        ])
    );
}

#[test]
fn tags_off_and_nested_condition_on() {
    assert_eq!(
        run(&["tags.frontend=false,subsub.enabled=true,sub2.subsub.enabled=true"]),
        sorted(&[
            r#"# sub1: {"enabled":true,"exports":{"data":{"exported":"from-sub1"}},"global":{"nested":{"a":1,"b":2},"own":"x","region":"eu"},"replicas":3}"#,
            r#"# subsub: {"deep":true,"enabled":true,"global":{"nested":{"a":1},"region":"eu"}}"#,
            r#"# sub2: {"global":{"nested":{"a":1},"region":"eu"},"info":{"a":1,"keep":"sub"},"subsub":{"deep":true,"enabled":true,"global":{"nested":{"a":1},"region":"eu"}}}"#,
            r#"# deps: {"fromsub2":{"a":1,"keep":"parent"},"global":{"nested":{"a":1},"region":"eu"},"lib":{"global":{"nested":{"a":1},"region":"eu"},"libval":1},"second":{"enabled":false},"sub1":{"enabled":true,"exports":{"data":{"exported":"from-sub1"}},"global":{"nested":{"a":1,"b":2},"own":"x","region":"eu"},"replicas":3},"sub2":{"global":{"nested":{"a":1},"region":"eu"},"info":{"a":1,"keep":"sub"},"subsub":{"deep":true,"enabled":true,"global":{"nested":{"a":1},"region":"eu"}}},"subsub":{"enabled":true},"tags":{"backend":true,"frontend":false}}"#,
        ])
    );
}

#[test]
fn first_bool_condition_wins_and_versionless_alias_is_dropped() {
    assert_eq!(
        run(&["second.enabled=true,sub1.enabled=false,global.sub1=true"]),
        sorted(&[
            r#"# first: {"enabled":true,"exports":{"data":{"exported":"from-sub1"}},"global":{"nested":{"a":1,"b":2},"own":"x","region":"eu","sub1":true},"replicas":1}"#,
            r#"# sub2: {"global":{"nested":{"a":1},"region":"eu","sub1":true},"info":{"a":1,"keep":"sub"},"subsub":{"enabled":false}}"#,
            r#"# deps: {"exported":"from-sub1","first":{"enabled":true,"exports":{"data":{"exported":"from-sub1"}},"global":{"nested":{"a":1,"b":2},"own":"x","region":"eu","sub1":true},"replicas":1},"fromsub2":{"a":1,"keep":"parent"},"global":{"nested":{"a":1},"region":"eu","sub1":true},"lib":{"global":{"nested":{"a":1},"region":"eu","sub1":true},"libval":1},"second":{"enabled":true},"sub1":{"enabled":false,"replicas":3},"sub2":{"global":{"nested":{"a":1},"region":"eu","sub1":true},"info":{"a":1,"keep":"sub"},"subsub":{"enabled":false}},"tags":{"backend":true}}"#,
        ])
    );
}

#[test]
fn chart_metadata_after_processing() {
    let c = chart::load(chart_dir("deps")).unwrap();
    let p = chart::prepare(c, &Value::Map(Default::default()), &PrepareOptions::default()).unwrap();
    let md = p.chart.metadata.to_value();
    md.as_map().unwrap().insert("IsRoot", Value::Bool(true));
    // Helm prints "Annotations":null for a chart without annotations; we keep an empty
    // map[string]string (so `index .Chart.Annotations "x"` works as on Helm's typed nil map).
    let got = go_json(&md).replace(r#""Annotations":{}"#, r#""Annotations":null"#);
    assert_eq!(
        got,
        r#"{"APIVersion":"v2","Annotations":null,"AppVersion":"1.1","Condition":"","Dependencies":[{"Alias":"","Condition":"sub1.enabled,global.sub1","Enabled":true,"ImportValues":[],"Name":"sub1","Repository":"file://charts/sub1","Tags":[],"Version":"\u003e=0.1.0"},{"Alias":"first","Condition":"","Enabled":true,"ImportValues":[{"child":"exports.data","parent":"."}],"Name":"first","Repository":"file://charts/sub1","Tags":["frontend"],"Version":"0.1.x"},{"Alias":"","Condition":"","Enabled":true,"ImportValues":[{"child":"info","parent":"fromsub2"}],"Name":"sub2","Repository":"file://charts/sub2","Tags":["backend"],"Version":"*"},{"Alias":"","Condition":"","Enabled":true,"ImportValues":[],"Name":"lib","Repository":"file://charts/lib","Tags":[],"Version":"0.1.0"}],"Deprecated":false,"Description":"Dependency processing test chart (conditions, tags, aliases, import-values, globals).","Home":"","Icon":"","IsRoot":true,"Keywords":[],"KubeVersion":"","Maintainers":[],"Name":"deps","Sources":[],"Tags":"","Type":"","Version":"1.0.0"}"#
    );
    // Helm renders the aliased copy under charts/first, the library chart only for its partials.
    let names: Vec<&str> = p.chart.dependencies.iter().map(|d| d.name()).collect();
    assert_eq!(names, ["sub1", "first", "sub2", "lib"]);
    assert!(p.chart.dependencies[3].is_library());
}

/// An apiVersion v1 chart: dependencies come from requirements.yaml, which (with
/// requirements.lock) also stays in `.Files`. Helm printed
/// `# dep: {"enabled":true,"global":{}}`, `# v1: {"dep":{"enabled":true,"global":{}}}
/// requirements.lock requirements.yaml`, and with `--set dep.enabled=false` only
/// `# v1: {"dep":{"enabled":false}}`.
#[test]
fn v1_chart_with_requirements() {
    let load = || chart::load(chart_dir("v1chart")).unwrap();
    let c = load();
    let mut files: Vec<&str> = c.files.iter().map(|f| f.name.as_str()).collect();
    files.sort();
    assert_eq!(files, ["requirements.lock", "requirements.yaml"]);
    let p = chart::prepare(
        c,
        &ValueOptions::default().merge_values().unwrap(),
        &PrepareOptions::default(),
    )
    .unwrap();
    let mut out = Vec::new();
    collect(&p.chart, &p.values, &mut out);
    assert_eq!(
        out,
        [
            r#"# v1: {"dep":{"enabled":true,"global":{}}}"#,
            r#"# dep: {"enabled":true,"global":{}}"#
        ]
    );
    let user = ValueOptions {
        set: vec!["dep.enabled=false".into()],
        ..Default::default()
    }
    .merge_values()
    .unwrap();
    let p = chart::prepare(load(), &user, &PrepareOptions::default()).unwrap();
    let mut out = Vec::new();
    collect(&p.chart, &p.values, &mut out);
    assert_eq!(out, [r#"# v1: {"dep":{"enabled":false}}"#]);
    assert!(p.chart.metadata.dependencies.is_empty());
}

/// Helm processes dependencies only below a chart whose `dependencies:` is a list: with no key at
/// the root, the subchart's own `condition: subsub.enabled` (false) is never looked at and Helm
/// renders `subsub`; with `dependencies: []` it is disabled. (`helm template` printed
/// `# subsub`, `# sub` and then only `# sub`.)
#[test]
fn nested_conditions_need_a_dependencies_list_above() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("nd");
    let w = |p: &str, s: &str| {
        let f = root.join(p);
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(f, s).unwrap();
    };
    w(
        "charts/sub/Chart.yaml",
        "apiVersion: v2\nname: sub\nversion: 0.1.0\ndependencies:\n- name: subsub\n  version: 0.1.0\n  condition: subsub.enabled\n",
    );
    w("charts/sub/values.yaml", "subsub:\n  enabled: false\n");
    w(
        "charts/sub/charts/subsub/Chart.yaml",
        "apiVersion: v2\nname: subsub\nversion: 0.1.0\n",
    );
    let names = |chart_yaml: &str| {
        w("Chart.yaml", chart_yaml);
        let c = chart::load(&root).unwrap();
        let p = chart::prepare(c, &Value::Map(Default::default()), &PrepareOptions::default()).unwrap();
        let sub = &p.chart.dependencies[0];
        sub.dependencies
            .iter()
            .map(|d| d.name().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(names("apiVersion: v2\nname: nd\nversion: 0.1.0\n"), ["subsub"]);
    assert!(names("apiVersion: v2\nname: nd\nversion: 0.1.0\ndependencies: []\n").is_empty());
}
