//! `chartup plan` and `chartup matrix check` as a user runs them: exit codes, saved plans,
//! errors, colour. chartup renders the charts itself; the real helm is the oracle where a test
//! compares manifests.

use crate::plan_support;

use std::process::{Command, Output};

use chartup::plan::saved::SavedPlan;
use plan_support::*;

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

const FATE_190: [&str; 8] = [
    "plan",
    "fate",
    "--from",
    "charts/fate/1.8.0",
    "--to",
    "charts/fate/1.9.0",
    "-n",
    "fate-9999",
];

#[test]
fn detailed_exit_codes() {
    // Changes with a volume lost: 3.
    let mut a = FATE_190.to_vec();
    a.extend(["-f", STORAGE_CLASS[0], "--detailed-exitcode"]);
    let o = chartup(&a);
    assert_eq!(code(&o), 3, "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(
        out.starts_with(
            "Plan: 2 to add, 11 to change, 4 to recreate, 3 to delete · volumes: 3 loss, 0 at risk · verdict: loss\n"
        ),
        "{out}"
    );
    // Changes, no volume at risk: 2.
    let mut a = FATE_190.to_vec();
    a.extend(["-f", EXISTING_CLAIMS[0], "--detailed-exitcode"]);
    assert_eq!(code(&chartup(&a)), 2);
    // Without the flag: 0.
    let mut a = FATE_190.to_vec();
    a.extend(["-f", EXISTING_CLAIMS[0]]);
    assert_eq!(code(&chartup(&a)), 0);
    // No changes: 0.
    let o = chartup(&[
        "plan",
        "--from",
        "charts/fate/1.8.0",
        "--to",
        "charts/fate/1.8.0",
        "--detailed-exitcode",
    ]);
    assert_eq!(code(&o), 0);
    assert!(String::from_utf8_lossy(&o.stdout).contains("(none: 18 objects unchanged)"));
    // A plan apply refuses whatever the flags (the matrix allows 1.7.0 → 1.10.0 only hop by
    // hop): 4, and the plan says so under "Apply requires".
    let o = chartup(&[
        "plan",
        "--from",
        "charts/fate/1.7.0",
        "--to",
        "charts/fate/1.10.0",
        "-f",
        EXISTING_CLAIMS[0],
        "--matrix",
        "matrices/fate.yaml",
        "--detailed-exitcode",
    ]);
    assert_eq!(code(&o), 4, "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("✗ one hop at a time"));
}

#[test]
fn same_component_flag_is_checked() {
    let o = chartup(&[
        "plan",
        "--from",
        "charts/fate/1.8.0",
        "--to",
        "charts/fate/1.8.0",
        "--same-component",
        "mysql",
    ]);
    assert_eq!(code(&o), 1);
    assert!(String::from_utf8_lossy(&o.stderr).contains("--same-component \"mysql\": expected OLD=NEW"));
}

#[test]
fn refused_upgrade_is_an_error() {
    let o = chartup(&[
        "plan",
        "--from",
        "charts/fate/1.9.0",
        "--to",
        "charts/fate/1.8.0",
        "--matrix",
        "matrices/fate.yaml",
        "--detailed-exitcode",
    ]);
    assert_eq!(code(&o), 1);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("Error: upgrade refused: downgrade 1.9.0 → 1.8.0 refused"),
        "{err}"
    );
    // The plan is still printed, so the reviewer sees why.
    assert!(String::from_utf8_lossy(&o.stdout).contains("Refused:"));
}

#[test]
fn saved_plan_holds_manifests_digests_and_a_fingerprint() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("plan.json");
    let mut a = FATE_190.to_vec();
    a.extend([
        "-f",
        EXISTING_CLAIMS[0],
        "--matrix",
        "matrices/fate.yaml",
        "-o",
        "json",
        "--out",
    ]);
    let out_s = out.to_string_lossy().to_string();
    a.push(&out_s);
    let o = chartup(&a);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let saved = SavedPlan::from_json(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert!(saved.verify());
    assert!(saved.fingerprint.starts_with("sha256:") && saved.fingerprint.len() == 7 + 64);
    assert!(String::from_utf8_lossy(&o.stderr).contains(&saved.fingerprint));
    // The same documents helm renders (hooks excluded), in helm's order.
    let t = Command::new(helm())
        .args([
            "template",
            "fate",
            "charts/fate/1.9.0",
            "-n",
            "fate-9999",
            "--no-hooks",
            "-f",
            EXISTING_CLAIMS[0],
        ])
        .current_dir(root())
        .output()
        .unwrap();
    let docs = chartup::manifest::split_documents(&String::from_utf8(t.stdout).unwrap());
    assert_eq!(saved.manifests.to, docs);
    assert_eq!(saved.plan.to.chart.as_ref().unwrap().version, "1.9.0");
    assert!(saved.plan.to.chart_digest.as_ref().unwrap().starts_with("sha256:"));
    assert!(saved.plan.to.values_digest.as_ref().unwrap().starts_with("sha256:"));
    assert_eq!(saved.plan.base_revision, None);
    assert_eq!(saved.plan.matrix.as_ref().unwrap().path, ["1.8.0", "1.9.0"]);
    // The hop's migration travels with the plan.
    let sql = std::fs::read_to_string(root().join("matrices/fate/migrations/180-190.sql")).unwrap();
    assert_eq!(saved.scripts.get("fate/migrations/180-190.sql"), Some(&sql));
    // -o json printed the same plan.
    let printed: chartup::plan::Plan = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(printed, saved.plan);
    // Any edit breaks the fingerprint.
    let mut tampered = saved.clone();
    tampered.manifests.to[0].text.push_str("# edited\n");
    assert!(!tampered.verify());
}

#[test]
fn cluster_form_explains_itself() {
    // Planning against a cluster (apply work) that cannot be reached says how to plan offline.
    let o = chartup(&[
        "plan",
        "fate",
        "charts/fate/1.9.0",
        "-n",
        "fate",
        "--kubeconfig",
        "/nonexistent/kubeconfig",
    ]);
    assert_eq!(code(&o), 1);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("reads the deployed revision from the release records")
            && err.contains("helm get manifest fate -n fate")
            && err.contains("/nonexistent/kubeconfig"),
        "{err}"
    );
}

#[test]
fn release_chart_with_from_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let t = Command::new(helm())
        .args([
            "template",
            "fate",
            "charts/fate/1.8.0",
            "-n",
            "fate",
            "--no-hooks",
            "-f",
            EXISTING_CLAIMS[0],
        ])
        .current_dir(root())
        .output()
        .unwrap();
    let m = dir.path().join("deployed.yaml");
    std::fs::write(&m, t.stdout).unwrap();
    let ms = m.to_string_lossy().to_string();
    let o = chartup(&[
        "plan",
        "fate",
        "charts/fate/1.9.0",
        "-n",
        "fate",
        "-f",
        EXISTING_CLAIMS[0],
        "--from-manifest",
        &ms,
        "--matrix",
        "matrices/fate.yaml",
        "-o",
        "markdown",
    ]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let md = String::from_utf8(o.stdout).unwrap();
    assert!(
        md.starts_with("<!-- chartup-plan: fate/fate -->\n## chartup plan: `fate` fate 1.8.0 → fate 1.9.0"),
        "{md}"
    );
    assert!(
        md.contains("| 🟢 safe | `mysql/data` | reattached | existingClaim |"),
        "{md}"
    );
}

#[test]
fn piped_output_has_no_colour() {
    let mut a = FATE_190.to_vec();
    a.extend(["-f", STORAGE_CLASS[0]]);
    let o = chartup(&a);
    assert!(!o.stdout.contains(&0x1b), "escape codes in piped output");
}

#[test]
fn bad_storage_class_flag_is_an_error() {
    let mut a = FATE_190.to_vec();
    a.extend(["--storage-class", "standard=Keep"]);
    let o = chartup(&a);
    assert_eq!(code(&o), 1);
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown reclaim policy \"keep\""));
}

#[test]
fn matrix_check() {
    let o = chartup(&[
        "matrix",
        "check",
        "matrices/fate.yaml",
        "matrices/streamstore.yaml",
        "matrices/kvstore.yaml",
    ]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter(|l| l.contains(": ok — "))
            .count(),
        3
    );
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "matrix: 1\nchart: x\nversions: [1.0.0, 1.1]\nupgrades:\n  - from: \">=1.0.0\"\n    to: \">=two\"\n    dataLoss: {storageClass: perhaps}\nmigrations:\n  dir: m\n  scripts:\n    - {file: 100-110.sql, from: 1.0.0, to: 1.1.0}\n",
    )
    .unwrap();
    let bs = bad.to_string_lossy().to_string();
    let o = chartup(&["matrix", "check", &bs]);
    assert_eq!(code(&o), 1);
    let err = String::from_utf8_lossy(&o.stderr);
    // 1.1 is a valid Masterminds version (padded to 1.1.0); ">=two" is not a constraint.
    assert!(
        err.contains(&format!("{bs}:6:")) && err.contains("upgrades[0].to"),
        "{err}"
    );
    assert!(
        err.contains(&format!("{bs}:7:")) && err.contains("upgrades[0].dataLoss.storageClass"),
        "{err}"
    );
    assert!(
        err.contains(&format!("{bs}:11:")) && err.contains("100-110.sql does not exist"),
        "{err}"
    );
    // An unknown field does not stop the check: every problem, each as FILE:LINE:COLUMN: FIELD:
    // message (docs/matrix-format.md), unknown fields with a "did you mean".
    std::fs::write(
        &bad,
        "matrix: 1\nchart: x\nversions: [1.0.0, one]\nbakup: {required: true}\ncomponents:\n  db: {carryVolume: true}\n",
    )
    .unwrap();
    let o = chartup(&["matrix", "check", &bs]);
    assert_eq!(code(&o), 1);
    let err = String::from_utf8_lossy(&o.stderr);
    for want in [
        format!("{bs}:3:19: versions[1]: \"one\": invalid semantic version"),
        format!("{bs}:4:1: bakup: unknown field; did you mean \"backup\"?"),
        format!("{bs}:6:8: components.db.carryVolume: unknown field; did you mean \"carryVolumes\"?"),
    ] {
        assert!(err.contains(&want), "{want}\n{err}");
    }
}

/// `--set-json`, `--set-file` and `--set-literal` reach both renders of a plan as helm reads them:
/// chartup's render with those flags equals `helm template`'s with the same flags, and the plan
/// between the chart without and with them shows exactly those values changing.
#[test]
fn set_json_file_and_literal_reach_the_render() {
    use chartup::plan::source::Renderer;
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("password.txt");
    std::fs::write(&pw, "from-a-file").unwrap();
    let mut v = values(&[]);
    v.set_json = vec![r#"resources={"requests":{"memory":"96Mi"},"limits":{"memory":"1Gi"}}"#.into()];
    v.set_file = vec![format!("auth.password={}", pw.display())];
    v.set_literal = vec!["image.tag=7.2,with-a-comma".into()];
    let chart = std::path::Path::new("charts/keeper/1.1.0");
    let ours = renderer().render(chart, &v, "rel", "ns", false).unwrap();
    let helm = oracle().render(chart, &v, "rel", "ns", false).unwrap();
    assert_eq!(ours.documents, helm.documents);
    let text: String = ours.documents.iter().map(|d| d.text.as_str()).collect();
    assert!(text.contains("memory: 1Gi"), "{text}");
    assert!(text.contains("redis:7.2,with-a-comma"), "{text}");

    let saved_path = dir.path().join("plan.json");
    let out = chartup(&[
        "plan",
        "--from",
        "charts/keeper/1.1.0",
        "--to",
        "charts/keeper/1.1.0",
        "--to-values",
        "charts/keeper/values-fixed-password.yaml",
        "--from-values",
        "charts/keeper/values-fixed-password.yaml",
        "--set-json",
        r#"resources={"limits":{"memory":"1Gi"}}"#,
        "-o",
        "json",
        "--out",
        saved_path.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // The same flags on both sides: the Deployment does not change (only keeper's render-info
    // ConfigMap does, install vs upgrade), and both sides carry the new limit.
    let changed: Vec<String> = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] != "unchanged")
        .map(|c| c["key"].to_string())
        .collect();
    assert!(changed.iter().all(|k| k.contains("keeper-render")), "{changed:?}");
    assert!(
        !changed.is_empty(),
        "render-info differs between install and upgrade: {plan:#}"
    );
    let saved = SavedPlan::from_json(&std::fs::read_to_string(&saved_path).unwrap()).unwrap();
    for side in [&saved.manifests.from, &saved.manifests.to] {
        assert!(side.iter().any(|d| d.text.contains("memory: 1Gi")), "{side:?}");
    }
}

// --- Plans you can trust (issue 14): fingerprint pin, Ed25519 signatures, integrity before the
// cluster. `--kubeconfig` points at a missing file: a plan that passes every check fails there,
// so "kubeconfig" in the error shows the checks let it through, and its absence shows they did not.

/// An Ed25519 key pair made by OpenSSL (the documented way), as (private, public) PEM paths.
fn openssl_key_pair(dir: &std::path::Path, name: &str) -> (String, String) {
    let key = dir.join(format!("{name}.pem"));
    let public = dir.join(format!("{name}.pub.pem"));
    let ok = |args: &[&str]| {
        Command::new("openssl")
            .args(args)
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    };
    let made = ok(&["genpkey", "-algorithm", "ed25519", "-out", &key.to_string_lossy()])
        && ok(&[
            "pkey",
            "-in",
            &key.to_string_lossy(),
            "-pubout",
            "-out",
            &public.to_string_lossy(),
        ]);
    assert!(
        made,
        "openssl is needed to make the test keys (as docs/apply.md documents)"
    );
    (key.to_string_lossy().into(), public.to_string_lossy().into())
}

fn save_signed_plan(dir: &std::path::Path, sign_key: Option<&str>) -> (std::path::PathBuf, Output) {
    let out = dir.join("plan.json");
    let out_s = out.to_string_lossy().to_string();
    let mut a = FATE_190.to_vec();
    a.extend(["-f", EXISTING_CLAIMS[0], "-o", "markdown", "--out", &out_s]);
    if let Some(k) = sign_key {
        a.extend(["--sign-key", k]);
    }
    let o = chartup(&a);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    (out, o)
}

fn apply_saved(plan: &std::path::Path, extra: &[&str]) -> String {
    let p = plan.to_string_lossy().to_string();
    let mut a = vec!["apply", &p, "--yes", "--kubeconfig", "/nonexistent/chartup-kubeconfig"];
    a.extend(extra);
    let o = chartup(&a);
    assert_ne!(code(&o), 0);
    String::from_utf8_lossy(&o.stderr).to_string()
}

#[test]
fn signed_plan_is_verified_and_a_recomputed_fingerprint_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = openssl_key_pair(dir.path(), "signer");
    let (_, other_public) = openssl_key_pair(dir.path(), "other");
    let (path, o) = save_signed_plan(dir.path(), Some(&key));
    let saved = SavedPlan::from_json(&std::fs::read_to_string(&path).unwrap()).unwrap();
    // The PR comment (Markdown on stdout) shows the fingerprint to pin.
    let md = String::from_utf8_lossy(&o.stdout);
    assert!(
        md.contains(&format!("**Plan fingerprint:** `{}`", saved.fingerprint)),
        "{md}"
    );
    assert!(saved.signature.is_some());

    // The reviewed plan passes the checks (and then fails only on the missing kubeconfig).
    let err = apply_saved(&path, &["--verify-key", &public, "--fingerprint", &saved.fingerprint]);
    assert!(err.contains("kubeconfig"), "{err}");

    // The attack: add an object and recompute the fingerprint.
    let mut forged = saved.clone();
    let mut extra = forged.manifests.to[0].clone();
    extra.text = extra.text.replace("name: ", "name: injected-");
    forged.manifests.to.push(extra);
    forged.reseal();
    forged.signature = saved.signature.clone();
    assert!(forged.verify(), "the forger's fingerprint matches its content");
    let forged_path = dir.path().join("forged.json");
    std::fs::write(&forged_path, forged.to_json()).unwrap();
    let err = apply_saved(&forged_path, &["--verify-key", &public]);
    assert!(err.contains("signature does not verify"), "{err}");
    assert!(!err.contains("kubeconfig"), "{err}");
    let err = apply_saved(&forged_path, &["--fingerprint", &saved.fingerprint]);
    assert!(err.contains("not the reviewed"), "{err}");
    assert!(!err.contains("kubeconfig"), "{err}");

    // Unsigned, or signed by another key: refused when asked to verify.
    forged.signature = None;
    std::fs::write(&forged_path, forged.to_json()).unwrap();
    let err = apply_saved(&forged_path, &["--verify-key", &public]);
    assert!(err.contains("not signed"), "{err}");
    let err = apply_saved(&path, &["--verify-key", &other_public]);
    assert!(err.contains("signature does not verify"), "{err}");

    // The key may also come from the environment (a CI secret holding the PEM itself).
    let pem = std::fs::read_to_string(&public).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_chartup"))
        .args([
            "apply",
            &forged_path.to_string_lossy(),
            "--yes",
            "--kubeconfig",
            "/nonexistent/kc",
        ])
        .env("CHARTUP_VERIFY_KEY", pem)
        .current_dir(root())
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&o.stderr).contains("not signed"));
}

#[test]
fn edited_plan_is_refused_before_any_cluster_contact() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = save_signed_plan(dir.path(), None);
    let text = std::fs::read_to_string(&path).unwrap();
    // An edit without a recomputed fingerprint: the tamper error, not the kubeconfig error.
    let edited = text.replacen("\"namespace\": \"fate-9999\"", "\"namespace\": \"fate-9998\"", 1);
    assert_ne!(edited, text);
    std::fs::write(&path, edited).unwrap();
    let err = apply_saved(&path, &[]);
    assert!(err.contains("edited after it was saved"), "{err}");
    assert!(!err.contains("kubeconfig"), "{err}");
    // A plan file is read with a cap: /dev/zero ends in an error, not an endless read.
    let err = apply_saved(std::path::Path::new("/dev/zero"), &[]);
    assert!(err.contains("larger than"), "{err}");
}

#[test]
fn generated_keys_are_the_formats_openssl_reads() {
    let dir = tempfile::tempdir().unwrap();
    let (private, public) = chartup::plan::sign::generate_key_pair();
    let key = dir.path().join("k.pem");
    std::fs::write(&key, &private).unwrap();
    let o = Command::new("openssl")
        .args(["pkey", "-in", &key.to_string_lossy(), "-pubout"])
        .output()
        .expect("openssl");
    assert!(o.status.success());
    assert_eq!(String::from_utf8_lossy(&o.stdout), public);
    assert!(chartup::plan::sign::read_signing_key(&private).is_ok());
    assert!(chartup::plan::sign::read_verifying_key(&public).is_ok());
    assert!(chartup::plan::sign::read_verifying_key(&private).is_err());
}

/// `kind: List` documents stand for their items (kubectl's Flatten, which helm's install uses):
/// each item is planned as its own object, and a Secret inside is masked like any Secret.
#[test]
fn list_documents_are_expanded_and_their_secrets_masked() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old.yaml");
    let new = dir.path().join("new.yaml");
    std::fs::write(
        &old,
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: s\n  \
         stringData:\n    password: old-hunter2\n",
    )
    .unwrap();
    std::fs::write(
        &new,
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: s\n  \
         stringData:\n    password: new-hunter2\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: c\n  \
         data:\n    a: b\n",
    )
    .unwrap();
    for format in ["text", "json", "markdown"] {
        let o = chartup(&[
            "plan",
            "--from-manifest",
            &old.to_string_lossy(),
            "--to-manifest",
            &new.to_string_lossy(),
            "-o",
            format,
        ]);
        assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(out.contains("Secret/s"), "{format}: {out}");
        assert!(out.contains("ConfigMap/c"), "{format}: {out}");
        assert!(!out.contains("hunter2"), "{format}: a Secret value is shown: {out}");
    }
}

/// The pager (issue 17): on a terminal the text plan goes to `$CHARTUP_PAGER` (here a command
/// that saves what it is fed), and nothing else does — not `--no-pager`, not `-o json`, not a
/// pipe. The terminal is a real pty made by util-linux `script`.
#[test]
fn text_plan_goes_through_the_pager_only_on_a_terminal() {
    let script = std::path::Path::new("/usr/bin/script");
    if !script.is_file() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "util-linux `script` is needed for the pager test"
        );
        eprintln!("SKIPPED: no /usr/bin/script");
        return;
    }
    let dir = std::env::temp_dir().join(format!("chartup-pager-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let paged = dir.join("paged");
    let plan = format!(
        "{} plan --release rel -n prec --from tests/data/charts/precision/rename-db/1.0.0 --to \
         tests/data/charts/precision/rename-db/2.0.0",
        env!("CARGO_BIN_EXE_chartup")
    );
    let on_tty = |extra: &str| -> String {
        let _ = std::fs::remove_file(&paged);
        let o = Command::new(script)
            .args(["-qec", &format!("{plan} {extra}"), "/dev/null"])
            .env("CHARTUP_PAGER", format!("cat > {}", paged.display()))
            .env_remove("NO_COLOR")
            .current_dir(root())
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let strip = |s: &str| {
        let mut out = String::new();
        let mut esc = false;
        for c in s.chars() {
            match (esc, c) {
                (false, '\u{1b}') => esc = true,
                (true, 'm') => esc = false,
                (true, _) => {}
                (false, c) => out.push(c),
            }
        }
        out
    };
    let summary = "Plan: 1 to add, 0 to change, 0 to recreate, 1 to delete";
    let screen = on_tty("");
    let fed = std::fs::read_to_string(&paged).expect("the pager ran");
    assert!(strip(&fed).starts_with(summary), "{fed}");
    assert!(!strip(&screen).contains(summary), "printed past the pager: {screen}");
    for extra in ["--no-pager", "-o json", "-o markdown"] {
        let screen = on_tty(extra);
        assert!(!paged.exists(), "{extra}: the pager ran");
        assert!(
            strip(&screen).contains("1 to add") || screen.contains("\"add\": 1"),
            "{extra}: {screen}"
        );
    }
    // Not a terminal: straight to the pipe.
    let _ = std::fs::remove_file(&paged);
    let o = Command::new("sh")
        .args(["-c", &plan])
        .env("CHARTUP_PAGER", format!("cat > {}", paged.display()))
        .current_dir(root())
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&o.stdout).starts_with(summary));
    assert!(!paged.exists(), "the pager ran off a terminal");
    let _ = std::fs::remove_dir_all(&dir);
}
