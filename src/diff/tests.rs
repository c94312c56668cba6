//! The diff's unit tests (their own file: `diff/mod.rs` stays under 1,000 lines).

#[test]
fn unified_text_is_similars() {
    // Pairs of texts from the repository's YAML files: whole, cut, with and without a final
    // newline, several context widths.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut texts = vec![String::new(), "a\n".into(), "a".into(), "a\nb".into(), "b\n".into()];
    for dir in [
        "charts/fate/1.8.0/templates",
        "charts/fate/1.9.0/templates",
        "charts/kvstore/6.0.0/templates",
    ] {
        for e in std::fs::read_dir(root.join(dir)).unwrap().flatten() {
            let t = std::fs::read_to_string(e.path()).unwrap();
            texts.push(t[..t.len() / 2].to_string());
            texts.push(t.trim_end().to_string());
            texts.push(t);
        }
    }
    let mut n = 0;
    for (i, a) in texts.iter().enumerate() {
        for b in texts.iter().skip(i).take(6) {
            for ctx in [0, 1, 3] {
                let d = similar::TextDiff::from_lines(a.as_str(), b.as_str());
                let theirs = d.unified_diff().context_radius(ctx).header("x", "y").to_string();
                assert_eq!(write_unified(&d, "x", "y", ctx), theirs, "{a:?} → {b:?} ({ctx})");
                n += 1;
            }
        }
    }
    assert!(n > 100);
}

use super::*;
use crate::manifest::parse_manifest;

fn set(t: &str) -> ManifestSet {
    parse_manifest(t, "ns").unwrap()
}

fn one(old: &str, new: &str) -> Vec<ObjectChange> {
    diff(&set(old), &set(new), &DiffOptions::default())
}

const DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: mysql\n  labels: {app.kubernetes.io/name: fate, app.kubernetes.io/component: mysql}\nspec:\n  selector: {matchLabels: {app: mysql}}\n  template: {metadata: {labels: {app: mysql}}, spec: {containers: [{name: m, image: mysql:8}]}}\n";
const STS: &str = "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: mysql\n  labels: {app.kubernetes.io/name: fate, app.kubernetes.io/component: mysql}\nspec:\n  serviceName: mysql\n  selector: {matchLabels: {app: mysql}}\n  template: {metadata: {labels: {app: mysql}}, spec: {containers: [{name: m, image: mysql:8}]}}\n  volumeClaimTemplates:\n  - metadata: {name: data}\n    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}\n";

#[test]
fn deployment_to_statefulset_is_one_kind_change() {
    let c = one(DEPLOY, STS);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].action, Action::KindChange);
    assert_eq!(c[0].old_key.as_ref().unwrap().kind, "Deployment");
    assert_eq!(c[0].key.kind, "StatefulSet");
}

#[test]
fn kind_change_pairs_by_component_label_when_renamed() {
    let renamed = STS.replace("name: mysql\n  labels", "name: fate-mysql\n  labels");
    let c = one(DEPLOY, &renamed);
    assert_eq!(c.len(), 1, "{c:?}");
    assert_eq!(c[0].action, Action::KindChange);
}

#[test]
fn unrelated_workloads_stay_add_and_remove() {
    let other = STS
        .replace("component: mysql", "component: broker")
        .replace("name: mysql\n  labels", "name: broker\n  labels");
    let c = one(DEPLOY, &other);
    let actions: Vec<Action> = c.iter().map(|c| c.action).collect();
    assert_eq!(actions, [Action::Add, Action::Remove]);
}

#[test]
fn statefulset_immutable_fields_force_recreate() {
    let renamed_vct = STS.replace("metadata: {name: data}", "metadata: {name: storage}");
    let c = one(STS, &renamed_vct);
    assert_eq!(c[0].action, Action::Recreate);
    assert_eq!(c[0].immutable[0].field, "spec.volumeClaimTemplates");
    assert!(c[0].immutable[0].detail.contains("[data] → [storage]"));
    assert!(c[0]
        .consequence
        .as_ref()
        .unwrap()
        .contains("one at a time, ordinal 0 first"));
    // replicas, template and updateStrategy are mutable.
    let scaled = STS.replace(
        "serviceName: mysql",
        "serviceName: mysql\n  replicas: 3\n  updateStrategy: {type: OnDelete}",
    );
    assert_eq!(one(STS, &scaled)[0].action, Action::Change);
    // spelling out a default is no change of an immutable field.
    let spelled = STS.replace(
        "serviceName: mysql",
        "serviceName: mysql\n  podManagementPolicy: OrderedReady",
    );
    assert_eq!(one(STS, &spelled)[0].action, Action::Change);
    let parallel = STS.replace(
        "serviceName: mysql",
        "serviceName: mysql\n  podManagementPolicy: Parallel",
    );
    assert_eq!(one(STS, &parallel)[0].action, Action::Recreate);
}

#[test]
fn selector_and_job_template_are_immutable() {
    let sel = DEPLOY.replace("matchLabels: {app: mysql}", "matchLabels: {app: db}");
    assert_eq!(one(DEPLOY, &sel)[0].action, Action::Recreate);
    let image = DEPLOY.replace("mysql:8", "mysql:8.1");
    assert_eq!(one(DEPLOY, &image)[0].action, Action::Change);
    let job = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec:\n  template: {spec: {containers: [{name: a, image: x:1}]}}\n";
    let c = one(job, &job.replace("x:1", "x:2"));
    assert_eq!(c[0].action, Action::Recreate);
    assert_eq!(c[0].immutable[0].field, "spec.template");
    // completions: the 1.20 server refuses 1 → 2 (`spec.completions: field is immutable`)
    // and accepts an unset → 1, its default (server-side dry runs on the test cluster).
    let two = job.replace("spec:\n  template", "spec:\n  completions: 2\n  template");
    let c = one(job, &two);
    assert_eq!(
        (c[0].action, c[0].immutable[0].field.as_str()),
        (Action::Recreate, "spec.completions")
    );
    let one_ = job.replace("spec:\n  template", "spec:\n  completions: 1\n  template");
    assert_eq!(one(job, &one_)[0].action, Action::Change);
    let parallel = job.replace(
        "spec:\n  template",
        "spec:\n  completions: 1\n  parallelism: 2\n  template",
    );
    assert_eq!(
        one(&parallel, &one_)[0].action,
        Action::Change,
        "parallelism is mutable"
    );
}

#[test]
fn pvc_may_only_grow() {
    let pvc = "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: d}\nspec:\n  accessModes: [ReadWriteOnce]\n  storageClassName: fast\n  resources: {requests: {storage: 1Gi}}\n";
    let grow = one(pvc, &pvc.replace("1Gi", "2048Mi"));
    assert_eq!(grow[0].action, Action::Change);
    assert!(grow[0].notes[0].contains("allowVolumeExpansion"));
    assert_eq!(one(pvc, &pvc.replace("1Gi", "500Mi"))[0].action, Action::Recreate);
    let class = one(pvc, &pvc.replace("fast", "slow"));
    assert_eq!(class[0].action, Action::Recreate);
    assert_eq!(class[0].immutable[0].field, "spec.storageClassName");
}

#[test]
fn service_cluster_ip() {
    let svc = "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  clusterIP: None\n  ports: [{port: 80}]\n";
    assert_eq!(one(svc, &svc.replace("None", "10.0.0.10"))[0].action, Action::Recreate);
    assert_eq!(
        one(svc, &svc.replace("  clusterIP: None\n", ""))[0].action,
        Action::Recreate
    );
    let plain = svc.replace("  clusterIP: None\n", "");
    assert_eq!(one(&plain, &plain.replace("80", "81"))[0].action, Action::Change);
}

#[test]
fn secrets_are_masked() {
    // "c2VjcmV0" is base64 of "secret" (6 bytes), "c2VjcmV1" of "secreu".
    let s = "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata:\n  password: c2VjcmV0\n  user: YWRtaW4=\nstringData:\n  token: abc\n";
    let changed = s.replace("c2VjcmV0", "c2VjcmV1");
    let c = one(s, &changed);
    assert_eq!(c[0].action, Action::Change);
    assert!(!c[0].diff.contains("c2VjcmV"), "{}", c[0].diff);
    assert!(
        c[0].diff.contains("+  password: (hidden) changed (6 bytes)"),
        "{}",
        c[0].diff
    );
    assert!(c[0].diff.contains("-  password: (hidden, 6 bytes)"), "{}", c[0].diff);
    let shown = diff(
        &set(s),
        &set(&changed),
        &DiffOptions {
            context: 3,
            show_secrets: true,
            ..Default::default()
        },
    );
    assert!(shown[0].diff.contains("+  password: c2VjcmV1"), "{}", shown[0].diff);
    let added = one("", s);
    assert!(!added[0].diff.contains("abc"));
}

#[test]
fn quantities() {
    assert_eq!(quantity_bytes(&Json::from("1Gi")), Some(1073741824.0));
    assert_eq!(quantity_bytes(&Json::from("1G")), Some(1e9));
    assert_eq!(quantity_bytes(&Json::from("1e3")), Some(1000.0));
    assert_eq!(quantity_bytes(&Json::from("x")), None);
    assert_eq!(quantity_bytes(&Json::from("1Qi")), None);
}

#[test]
fn unified_diff_has_context_and_counts() {
    let a = "a\nb\nc\nd\ne\nf\ng\n";
    let b = "a\nb\nc\nX\ne\nf\ng\n";
    let (d, plus, minus) = unified(a, b, "old", "new", 1);
    assert_eq!((plus, minus), (1, 1));
    assert_eq!(d, "--- old\n+++ new\n@@ -3,3 +3,3 @@\n c\n-d\n+X\n e\n");
}

#[test]
fn a_placeholder_inside_a_longer_text_leaves_the_rest_shown() {
    use crate::template::funcs::crypto::PLACEHOLDER_MARK;
    use base64::Engine as _;
    use serde_json::json;
    let block = |kind: &str| format!("-----BEGIN {kind}-----\n{PLACEHOLDER_MARK}\n-----END {kind}-----\n");
    let (cert, key) = (block("CERTIFICATE"), block("RSA PRIVATE KEY"));
    let b64 = base64::engine::general_purpose::STANDARD.encode(&cert);
    // Nothing but placeholders (a block, two blocks, an indented one, base64): one line of words.
    let mut v =
        json!({"a": cert, "b": format!("{cert}{key}"), "c": format!("  {}", cert.replace('\n', "\n  ")), "d": b64});
    explain_placeholders(&mut v);
    for k in ["a", "b", "c", "d"] {
        assert_eq!(v[k], PLACEHOLDER_SHOWN, "{k}");
    }
    // A configuration file around a certificate: its other lines still show (a change to them too).
    let mut v = json!({"cfg": format!("level: info\nca: |\n  {}", cert.replace('\n', "\n  "))});
    explain_placeholders(&mut v);
    let cfg = v["cfg"].as_str().unwrap();
    assert!(
        cfg.starts_with("level: info\nca: |\n  -----BEGIN CERTIFICATE-----\n"),
        "{cfg}"
    );
    assert!(
        cfg.contains(&format!("\n  {PLACEHOLDER_SHOWN}\n")) && !cfg.contains(PLACEHOLDER_MARK),
        "{cfg}"
    );
    // In a Secret the text around it stays hidden: the old value only says it held a placeholder.
    let mut old = json!({"stringData": {"cfg": cfg}});
    let mut new = json!({"stringData": {"cfg": "level: debug"}});
    mask_secrets(Some(&mut old), Some(&mut new));
    assert_eq!(old["stringData"]["cfg"], PLACEHOLDER_SHOWN);
    assert_eq!(new["stringData"]["cfg"], "(hidden) changed (12 bytes)");
}
