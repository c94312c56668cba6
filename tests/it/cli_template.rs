//! `chartup template` as a command: help text, argument errors, `--output-dir`, `--strict`.
//! Where behaviour is helm's, the expectation comes from running the real helm (skipped without
//! it, except when CI=true, where it fails).

use std::path::{Path, PathBuf};
use std::process::Command;

fn chartup() -> Command {
    Command::new(env!("CARGO_BIN_EXE_chartup"))
}

fn parity_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/parity")
}

/// The real helm (`testkit::helm`: `CHARTUP_HELM`, else PATH); a missing helm skips, except
/// under CI=true where it fails.
fn helm() -> Option<PathBuf> {
    testkit::helm_or_skip()
}

#[test]
fn help_lists_every_flag() {
    let out = chartup().args(["template", "--help"]).output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--values",
        "--set ",
        "--set-string",
        "--set-file",
        "--set-json",
        "--set-literal",
        "--namespace",
        "--show-only",
        "--include-crds",
        "--skip-tests",
        "--no-hooks",
        "--is-upgrade",
        "--kube-version",
        "--api-versions",
        "--output-dir",
        "--release-name",
        "--skip-schema-validation",
        "--strict",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}:\n{help}");
    }
}

#[test]
fn missing_chart_argument_is_a_usage_error() {
    let out = chartup().arg("template").output().unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
}

/// Recursively list (relative path, contents) under `dir`.
fn tree(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                out.push((rel, std::fs::read_to_string(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn output_dir_writes_the_same_files_as_helm() {
    let Some(helm) = helm() else {
        eprintln!("SKIPPED: helm not found");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    for (tool, bin) in [
        ("helm", helm.clone()),
        ("chartup", PathBuf::from(env!("CARGO_BIN_EXE_chartup"))),
    ] {
        let out = Command::new(bin)
            .args(["template", "shop", "charts/shop", "--include-crds", "--output-dir"])
            .arg(tmp.path().join(tool))
            .current_dir(parity_dir())
            .env("KUBECONFIG", tmp.path().join("none"))
            .env_remove("HELM_NAMESPACE")
            .output()
            .unwrap();
        assert!(out.status.success(), "{tool}: {}", String::from_utf8_lossy(&out.stderr));
        let stdout = String::from_utf8_lossy(&out.stdout).replace(&tmp.path().join(tool).display().to_string(), "OUT");
        std::fs::write(tmp.path().join(format!("{tool}.stdout")), stdout).unwrap();
    }
    assert_eq!(tree(&tmp.path().join("chartup")), tree(&tmp.path().join("helm")));
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("chartup.stdout")).unwrap(),
        std::fs::read_to_string(tmp.path().join("helm.stdout")).unwrap()
    );
}

#[test]
fn strict_fails_on_missing_keys() {
    // Go's missingkey=error: `map has no entry for key "missing"`.
    let out = chartup()
        .args(["template", "charts/actions", "--strict"])
        .current_dir(parity_dir())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("map has no entry for key"), "{err}");
}

#[test]
fn namespace_comes_from_the_kubeconfig_context_like_helm() {
    let Some(helm) = helm() else {
        eprintln!("SKIPPED: helm not found");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("config");
    std::fs::write(
        &cfg,
        "apiVersion: v1\nkind: Config\ncurrent-context: dev\ncontexts:\n- name: dev\n  context:\n    cluster: c\n    namespace: from-kubeconfig\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:1\n",
    )
    .unwrap();
    let run = |bin: &Path| {
        let out = Command::new(bin)
            .args([
                "template",
                "charts/postgres",
                "--show-only",
                "templates/statefulset.yaml",
            ])
            .current_dir(parity_dir())
            .env("KUBECONFIG", &cfg)
            .env_remove("HELM_NAMESPACE")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let ours = run(Path::new(env!("CARGO_BIN_EXE_chartup")));
    assert!(ours.contains("namespace: \"from-kubeconfig\""), "{ours}");
    assert_eq!(ours, run(&helm));
}
