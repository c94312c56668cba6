//! values.schema.json of a chart and its subchart, and the errors `helm template` (4.1.4)
//! printed for tests/data/charts/schema with the same values. Sibling property errors come out
//! of Helm in Go map order (random), so tests with several failing properties compare lines as
//! sets.

use crate::chart_support as support;

use chartup::chart::{self, PrepareOptions, ValueOptions};
use support::chart_dir;

fn prepare(set: &[&str], files: &[&str], opts: PrepareOptions) -> Result<(), String> {
    let c = chart::load(chart_dir("schema")).unwrap();
    let vo = ValueOptions {
        set: set.iter().map(|s| s.to_string()).collect(),
        values_files: files.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    };
    let user = vo.merge_values().map_err(|e| e.to_string())?;
    chart::prepare(c, &user, &opts).map(|_| ()).map_err(|e| e.to_string())
}

fn lines(s: &str) -> Vec<String> {
    let mut v: Vec<String> = s.lines().map(String::from).collect();
    v.sort();
    v
}

#[test]
fn defaults_fail_root_and_subchart() {
    let e = prepare(&[], &[], PrepareOptions::default()).unwrap_err();
    assert_eq!(
        e,
        "values don't meet the specifications of the schema(s) in the following chart(s):\nsch:\n- at '': missing property 'mode'\n- at '/name': minLength: got 1, want 2\nsub:\n- at '/port': got number, want string\n"
    );
}

#[test]
fn several_errors_and_a_ref() {
    let e = prepare(&["replicas=7,name=a,mode=3,ref=3.5"], &[], PrepareOptions::default()).unwrap_err();
    assert_eq!(
        lines(&e),
        lines("values don't meet the specifications of the schema(s) in the following chart(s):\nsch:\n- at '/replicas': maximum: got 7, want 5\n- at '/name': minLength: got 1, want 2\n- at '/ref': got string, want integer\nsub:\n- at '/port': got number, want string\n")
    );
}

#[test]
fn nested_group_and_additional_properties() {
    let f = std::env::temp_dir().join(format!("chartup-schema-{}.yaml", std::process::id()));
    std::fs::write(
        &f,
        "replicas: \"x\"\nname: AB\nmode: c\nextra: 1\nextra2: 2\nlist: [1, \"a\", \"b\"]\nref: 12\nsub: {port: \"ok\"}\n",
    )
    .unwrap();
    let e = prepare(&[], &[f.to_str().unwrap()], PrepareOptions::default()).unwrap_err();
    std::fs::remove_file(&f).ok();
    // The nested lines belong right after their group line, whatever the order of groups.
    assert!(e.contains("- at '/list': validation failed\n  - at '/list': maxItems: got 3, want 2\n  - at '/list/0': got number, want string\n"), "{e}");
    assert_eq!(
        lines(&e),
        lines("values don't meet the specifications of the schema(s) in the following chart(s):\nsch:\n- at '/list': validation failed\n  - at '/list': maxItems: got 3, want 2\n  - at '/list/0': got number, want string\n- at '/name': 'AB' does not match pattern '^[a-z]+$'\n- at '/ref': exclusiveMaximum: got 12, want 10\n- at '/replicas': got string, want integer\n- at '/mode': value must be one of 'a', 'b', 3\n- at '': additional properties 'extra', 'extra2' not allowed\n")
    );
}

#[test]
fn passing_skipping_and_type_mismatch() {
    assert_eq!(
        prepare(
            &["replicas=2,name=ab,mode=a,sub.port=x"],
            &[],
            PrepareOptions::default()
        ),
        Ok(())
    );
    let skip = PrepareOptions {
        skip_schema_validation: true,
        ..Default::default()
    };
    assert_eq!(prepare(&["replicas=x"], &[], skip), Ok(()));
    assert_eq!(
        prepare(&["sub=5"], &[], PrepareOptions::default()).unwrap_err(),
        "type mismatch on sub: %!t(int64=5)"
    );
    assert_eq!(
        prepare(&["sub=null"], &[], PrepareOptions::default()).unwrap_err(),
        "type mismatch on sub: %!t(<nil>)"
    );
}

/// Helm: `Error: chart requires kubeVersion: >=1.99.0 which is incompatible with Kubernetes v1.35.0`
/// (default), and `--kube-version` changes the version checked.
#[test]
fn kube_version_constraint() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("k");
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    std::fs::write(
        dir.join("Chart.yaml"),
        "apiVersion: v2\nname: k\nversion: 0.1.0\nkubeVersion: \">=1.99.0\"\n",
    )
    .unwrap();
    let run = |kv: &str| {
        let c = chart::load(&dir).unwrap();
        let opts = PrepareOptions {
            kube_version: kv.into(),
            ..Default::default()
        };
        chart::prepare(c, &ValueOptions::default().merge_values().unwrap(), &opts).map(|_| ())
    };
    assert_eq!(
        run(chart::deps::DEFAULT_KUBE_VERSION).unwrap_err().to_string(),
        "chart requires kubeVersion: >=1.99.0 which is incompatible with Kubernetes v1.35.0"
    );
    assert!(run("v1.99.1").is_ok());
}
