//! The old side of a chart-to-chart plan gets placeholder keys (issue 16): `genCA`,
//! `genSignedCert` and friends make new keys on every render, so the old side's would only be
//! compared with other random ones. The plan must come out as it does with real keys — the same
//! changes, the same verdict — and say in words where the old side held a placeholder; the side
//! that is applied keeps real keys. The reference is the real helm: its render of the old chart,
//! with real keys, given to chartup as a deployed manifest.

use crate::plan_support::*;

use std::process::{Command, Output};

use base64::Engine;
use chartup::diff::PLACEHOLDER_SHOWN;
use chartup::plan::saved::SavedPlan;
use chartup::template::funcs::crypto::{parse_private_key_pem, PrivateKey, PLACEHOLDER_MARK};
use rsa::traits::PublicKeyParts;

const OLD: &str = "tests/data/charts/keys/1.0.0";
const NEW: &str = "tests/data/charts/keys/1.1.0";

fn stdout(o: &Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// A Secret's `data` value, decoded, from a side of a saved plan.
fn secret_value(docs: &[chartup::manifest::Document], name: &str, key: &str) -> String {
    let doc = docs
        .iter()
        .find(|d| d.text.contains("kind: Secret") && d.text.contains(&format!("name: {name}\n")))
        .unwrap_or_else(|| panic!("no Secret {name}"));
    let line = doc
        .text
        .lines()
        .find_map(|l| l.trim().strip_prefix(&format!("{key}: ")))
        .unwrap_or_else(|| panic!("no {key} in {}", doc.text));
    let bytes = base64::engine::general_purpose::STANDARD.decode(line.trim()).unwrap();
    String::from_utf8(bytes).unwrap()
}

#[test]
fn the_old_side_of_a_chart_to_chart_plan_gets_placeholder_keys_and_the_plan_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("plan.json");
    let out = out.to_str().unwrap();
    let text = stdout(&chartup(&[
        "plan", "k", "--from", OLD, "--to", NEW, "-n", "ks", "--out", out,
    ]));

    // The reference: helm's render of the old chart (real keys), as the deployed manifest.
    let helm_old = Command::new(helm())
        .args(["template", "k", OLD, "-n", "ks"])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        helm_old.status.success(),
        "{}",
        String::from_utf8_lossy(&helm_old.stderr)
    );
    let deployed = dir.path().join("deployed.yaml");
    std::fs::write(&deployed, &helm_old.stdout).unwrap();
    let reference = stdout(&chartup(&[
        "plan",
        "k",
        "--from-manifest",
        deployed.to_str().unwrap(),
        "--to",
        NEW,
        "-n",
        "ks",
    ]));
    // Same changes and verdict (the first line counts them), and the same objects changed.
    let first = |t: &str| t.lines().next().unwrap_or("").to_string();
    assert_eq!(first(&text), first(&reference), "{text}\n---\n{reference}");
    assert!(first(&text).contains("4 to change"), "{text}");
    let changed = |t: &str| -> Vec<String> { t.lines().filter(|l| l.starts_with("~ ")).map(String::from).collect() };
    let names = |v: Vec<String>| -> Vec<String> {
        v.iter()
            .map(|l| l.split(" (").next().unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(names(changed(&text)), names(changed(&reference)));

    // The old side says where it held a placeholder: the Secret's RSA key and certificate, the
    // CA in a ConfigMap (text) and in a webhook (base64). The ECDSA key is real on both sides.
    let shown = PLACEHOLDER_SHOWN;
    for old_line in [
        format!("-  tls.crt: {shown}"),
        format!("-  tls.key: {shown}"),
        format!("-  ca.crt: {shown}"),
        format!("-    caBundle: {shown}"),
        "-  signing.key: (hidden, 227 bytes)".to_string(),
        "+  tls.key: (hidden) changed (".to_string(),
    ] {
        assert!(
            text.lines().any(|l| l.trim_start().starts_with(old_line.trim_start())),
            "{old_line}:\n{text}"
        );
    }
    assert!(
        !text.contains(PLACEHOLDER_MARK),
        "the mark is explained, not printed:\n{text}"
    );
    assert!(
        !reference.contains(PLACEHOLDER_SHOWN),
        "real keys are not called placeholders"
    );
    // Unchanged objects stay unchanged.
    assert!(!text.contains("ks/ConfigMap/k-settings"), "{text}");

    // The saved plan: the side that is applied has a real RSA-2048 key; the old side a placeholder.
    let saved: SavedPlan = serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap();
    let new_key = secret_value(&saved.manifests.to, "k-hook-tls", "tls.key");
    match parse_private_key_pem(&new_key).unwrap() {
        PrivateKey::Rsa(k) => assert_eq!(k.size(), 256),
        _ => panic!("not an RSA key: {new_key}"),
    }
    let old_key = secret_value(&saved.manifests.from, "k-hook-tls", "tls.key");
    assert!(old_key.contains(PLACEHOLDER_MARK), "{old_key}");
    assert!(old_key.starts_with("-----BEGIN RSA PRIVATE KEY-----\n"), "{old_key}");

    // --show-secrets shows the new values, and still explains the old side's placeholders.
    let shown_secrets = stdout(&chartup(&[
        "plan",
        "k",
        "--from",
        OLD,
        "--to",
        NEW,
        "-n",
        "ks",
        "--show-secrets",
    ]));
    assert!(
        shown_secrets.contains(&format!("-  tls.key: {shown}")),
        "{shown_secrets}"
    );
    assert!(shown_secrets
        .lines()
        .any(|l| l.trim_start().starts_with("+  tls.key: LS0tLS1CRUdJTiBSU0Eg")));
}

#[test]
fn rendering_for_template_and_for_the_new_side_mints_real_keys() {
    // `chartup template` (what helm template prints) and the new side of a plan never hold a
    // placeholder: only the old side of a chart-to-chart plan does.
    let rendered = stdout(&chartup(&["template", "k", NEW, "-n", "ks"]));
    assert!(!rendered.contains(PLACEHOLDER_MARK));
    let key = rendered
        .lines()
        .find_map(|l| l.trim().strip_prefix("tls.key: "))
        .expect("a tls.key");
    let pem = base64::engine::general_purpose::STANDARD.decode(key).unwrap();
    assert!(matches!(
        parse_private_key_pem(&String::from_utf8(pem).unwrap()),
        Ok(PrivateKey::Rsa(_))
    ));
    // The new side of a plan from a manifest: real keys; nothing to explain.
    let empty = tempfile::tempdir().unwrap();
    let from = empty.path().join("none.yaml");
    std::fs::write(&from, "").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("plan.json");
    let text = stdout(&chartup(&[
        "plan",
        "k",
        "--from-manifest",
        from.to_str().unwrap(),
        "--to",
        NEW,
        "-n",
        "ks",
        "--out",
        out.to_str().unwrap(),
    ]));
    assert!(!text.contains(PLACEHOLDER_SHOWN), "{text}");
    let saved: SavedPlan = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert!(!secret_value(&saved.manifests.to, "k-hook-tls", "tls.key").contains(PLACEHOLDER_MARK));
}

#[test]
fn only_a_side_that_made_placeholders_is_marked() {
    // The diff looks for placeholders only on a side that made some: a chart without generated
    // keys is planned exactly as before.
    use chartup::plan::source::{side_from_chart, Native, NativeUnapplied, ValuesInput};
    let v = ValuesInput::default();
    let side = |r: &dyn chartup::plan::source::Renderer, chart: &str| {
        side_from_chart(r, &root().join(chart), &v, "k", "ks", false).unwrap()
    };
    let keys = side(&NativeUnapplied, OLD);
    assert!(keys.placeholder_keys);
    assert!(keys.documents.iter().any(|d| {
        d.text.contains(PLACEHOLDER_MARK) // the ConfigMap holds the CA as text
    }));
    let plain = side(&NativeUnapplied, "charts/fate/1.8.0");
    assert!(!plain.placeholder_keys);
    let real = side(&Native, OLD);
    assert!(!real.placeholder_keys);
    assert!(!real.documents.iter().any(|d| d.text.contains(PLACEHOLDER_MARK)));
}
