//! Provenance (`--verify`, `--keyring`) against the real helm, on charts signed by helm itself:
//! scripts/test-sources.sh makes a GnuPG key pair (and a foreign one) with `gpg`, packages
//! `signed` 1.0.0 and 1.2.0 with `helm package --sign` and 1.1.0 without, alters 1.2.0 after
//! signing, and publishes them in the repository (`/signed`, with `<archive>.prov` beside each) and,
//! with `helm push` (which uploads the .prov as the provenance layer), in the registry.
//!
//! Every case runs helm and chartup with the same arguments: both succeed with the same output, or
//! both fail and both errors carry the phrase the case names (helm's own words, checked in helm's
//! output too, so the expectation is helm's).

use std::path::{Path, PathBuf};

use crate::sources::{servers, Home};

struct Signed {
    repo: String,
    keyring: String,
    other: String,
}

fn signed() -> Signed {
    let s = servers();
    let gpg = s.dir.join("gpg");
    Signed {
        repo: s.http.replace("/charts", "/signed"),
        keyring: gpg.join("pubring.gpg").to_string_lossy().to_string(),
        other: gpg.join("other.gpg").to_string_lossy().to_string(),
    }
}

fn oci_signed() -> String {
    format!("oci://{}/signed/signed", servers().registry)
}

/// Run `args` with helm and chartup: `None` = both succeed with the same stdout; `Some(phrase)` =
/// both fail and both say `phrase`.
fn same(h: &Home, args: &[&str], phrase: Option<&str>) {
    let (ho, co) = (h.helm(args), h.chartup(args));
    let text = |o: &std::process::Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };
    match phrase {
        None => {
            assert!(ho.status.success(), "helm {args:?}:\n{}", text(&ho));
            assert!(co.status.success(), "chartup {args:?}:\n{}", text(&co));
            assert_eq!(
                String::from_utf8_lossy(&co.stdout),
                String::from_utf8_lossy(&ho.stdout),
                "{args:?}"
            );
        }
        Some(p) => {
            assert!(!ho.status.success(), "helm {args:?} should fail:\n{}", text(&ho));
            assert!(
                String::from_utf8_lossy(&ho.stderr).contains(p),
                "helm {args:?} does not say {p:?}:\n{}",
                text(&ho)
            );
            assert!(!co.status.success(), "chartup {args:?} should fail:\n{}", text(&co));
            let err = String::from_utf8_lossy(&co.stderr);
            assert!(err.contains(p), "chartup {args:?} does not say {p:?}:\n{err}");
            assert!(!err.contains("panicked"), "{err}");
            assert!(
                co.stdout.is_empty(),
                "chartup printed a chart it refused:\n{}",
                text(&co)
            );
        }
    }
}

#[test]
fn verify_from_a_repository_as_helm() {
    let k = signed();
    let h = Home::new();
    h.ok("helm", &["repo", "add", "signed", &k.repo]);
    let t = |v: &'static str, ring: &str, phrase: Option<&str>| {
        same(
            &h,
            &[
                "template",
                "r",
                "signed/signed",
                "--version",
                v,
                "--verify",
                "--keyring",
                ring,
            ],
            phrase,
        );
    };
    t("1.0.0", &k.keyring, None);
    t("1.0.0", &k.other, Some("openpgp: signature made by unknown entity"));
    let prov_url = format!("{}/signed-1.1.0.tgz.prov", k.repo);
    t(
        "1.1.0",
        &k.keyring,
        Some(&format!("failed to fetch provenance \"{prov_url}\"")),
    );
    t(
        "1.2.0",
        &k.keyring,
        Some("sha256 sum does not match for signed-1.2.0.tgz: \"sha256:"),
    );
    // Without --verify both take every version.
    same(&h, &["template", "r", "signed/signed", "--version", "1.2.0"], None);
    // --repo and a chart URL fetch `<url>.prov` the same way.
    same(
        &h,
        &[
            "template",
            "r",
            "signed",
            "--repo",
            &k.repo,
            "--version",
            "1.0.0",
            "--verify",
            "--keyring",
            &k.keyring,
        ],
        None,
    );
    let url = format!("{}/signed-1.2.0.tgz", k.repo);
    same(
        &h,
        &["template", "r", &url, "--verify", "--keyring", &k.keyring],
        Some("sha256 sum does not match for signed-1.2.0.tgz"),
    );
    // A keyring that is not one.
    let bogus = h.path().join("not-a-keyring");
    std::fs::write(&bogus, "not a keyring\n").unwrap();
    t("1.0.0", bogus.to_str().unwrap(), Some("failed to load keyring"));
    // Refused charts leave no provenance-less trace: the good .prov is cached beside its archive.
    assert!(
        h.content_files()
            .iter()
            .any(|p| p.extension().is_some_and(|e| e == "prov")),
        "{:?}",
        h.content_files()
    );
}

#[test]
fn verify_from_a_registry_as_helm() {
    let s = servers();
    let k = signed();
    let h = Home::new();
    h.login("helm");
    let r = oci_signed();
    let t = |v: &str, ring: &str, phrase: Option<&str>| {
        same(
            &h,
            &[
                "template",
                "r",
                &r,
                "--version",
                v,
                "--ca-file",
                &s.ca,
                "--verify",
                "--keyring",
                ring,
            ],
            phrase,
        );
    };
    t("1.0.0", &k.keyring, None);
    t("1.0.0", &k.other, Some("openpgp: signature made by unknown entity"));
    t(
        "1.1.0",
        &k.keyring,
        Some(&format!("failed to fetch provenance \"{r}:1.1.0.prov\"")),
    );
    t(
        "1.2.0",
        &k.keyring,
        Some("sha256 sum does not match for signed-1.2.0.tgz"),
    );
}

#[test]
fn verify_a_local_archive_as_helm() {
    let k = signed();
    let h = Home::new();
    let www = servers().dir.join("www/signed");
    let d = tempfile::tempdir().unwrap();
    let put = |name: &str, to: &str| std::fs::copy(www.join(name), d.path().join(to)).unwrap();
    put("signed-1.0.0.tgz", "signed-1.0.0.tgz");
    put("signed-1.0.0.tgz.prov", "signed-1.0.0.tgz.prov");
    put("signed-1.1.0.tgz", "signed-1.1.0.tgz");
    put("signed-1.2.0.tgz", "signed-1.2.0.tgz");
    put("signed-1.2.0.tgz.prov", "signed-1.2.0.tgz.prov");
    // The good archive and .prov under another name: the .prov vouches for a file name.
    put("signed-1.0.0.tgz", "renamed.tgz");
    put("signed-1.0.0.tgz.prov", "renamed.tgz.prov");
    let p = |f: &str| d.path().join(f).to_string_lossy().to_string();
    let t = |f: &str, ring: &str, phrase: Option<&str>| {
        same(&h, &["template", "r", &p(f), "--verify", "--keyring", ring], phrase);
    };
    t("signed-1.0.0.tgz", &k.keyring, None);
    t(
        "signed-1.0.0.tgz",
        &k.other,
        Some("openpgp: signature made by unknown entity"),
    );
    t(
        "signed-1.1.0.tgz",
        &k.keyring,
        Some(&format!(
            "could not load provenance file {}",
            p("signed-1.1.0.tgz.prov")
        )),
    );
    t(
        "signed-1.2.0.tgz",
        &k.keyring,
        Some("sha256 sum does not match for signed-1.2.0.tgz"),
    );
    t(
        "renamed.tgz",
        &k.keyring,
        Some("provenance does not contain a SHA for a file named \"renamed.tgz\""),
    );
    // A .prov whose signed text was edited (the archive's sum kept).
    let prov = std::fs::read_to_string(www.join("signed-1.0.0.tgz.prov")).unwrap();
    std::fs::write(
        d.path().join("signed-1.0.0.tgz.prov"),
        prov.replace("name: signed", "name: signet"),
    )
    .unwrap();
    t("signed-1.0.0.tgz", &k.keyring, Some("openpgp: invalid signature"));
    std::fs::write(d.path().join("signed-1.0.0.tgz.prov"), "garbage\n").unwrap();
    t("signed-1.0.0.tgz", &k.keyring, Some("signature block not found"));
    // A chart directory cannot be verified.
    let dir = repo_dir();
    t(&dir, &k.keyring, Some("unpacked charts cannot be verified"));
    // The default keyring is $GNUPGHOME/pubring.gpg.
    let gh = tempfile::tempdir().unwrap();
    std::fs::copy(&k.keyring, gh.path().join("pubring.gpg")).unwrap();
    std::fs::copy(
        www.join("signed-1.0.0.tgz.prov"),
        d.path().join("signed-1.0.0.tgz.prov"),
    )
    .unwrap();
    let out = h.cmd_env(
        Path::new(env!("CARGO_BIN_EXE_chartup")),
        &["template", "r", &p("signed-1.0.0.tgz"), "--verify"],
        &[("GNUPGHOME", gh.path())],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn repo_dir() -> String {
    testkit::repo_root()
        .join("tests/data/sources/demo")
        .to_string_lossy()
        .to_string()
}

/// A chart depending on `signed` from the repository (`oci`: from the registry), in a fresh
/// directory.
fn dependent(root: &Path, version: &str, oci: bool) -> PathBuf {
    let dir = root.join("app");
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    let repo = if oci {
        format!("oci://{}/signed", servers().registry)
    } else {
        "\"@signed\"".to_string()
    };
    let chart = format!(
        "apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n  - name: signed\n    version: {version}\n    repository: {repo}\n"
    );
    std::fs::write(dir.join("Chart.yaml"), chart).unwrap();
    dir
}

fn all(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `dependency update|build --verify` of `app` (see [`dependent`]): the output and charts/.
fn dep(h: &Home, who: &str, cmd: &str, v: &str, oci: bool) -> (std::process::Output, Vec<String>) {
    let s = servers();
    let k = signed();
    let d = tempfile::tempdir().unwrap();
    let app = dependent(d.path(), v, oci);
    if cmd == "build" {
        // The lock from a plain update, then charts/ emptied.
        h.ok(
            "helm",
            &["dependency", "update", app.to_str().unwrap(), "--ca-file", &s.ca],
        );
        std::fs::remove_dir_all(app.join("charts")).unwrap();
    }
    let args = [
        "dependency",
        cmd,
        app.to_str().unwrap(),
        "--ca-file",
        &s.ca,
        "--verify",
        "--keyring",
        &k.keyring,
    ];
    let o = if who == "helm" { h.helm(&args) } else { h.chartup(&args) };
    let files = crate::sources::walk(&app.join("charts"))
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().to_string())
        .collect();
    (o, files)
}

#[test]
fn dependencies_verify_as_helm() {
    let k = signed();
    let h = Home::new();
    h.ok("helm", &["repo", "add", "signed", &k.repo]);
    h.login("helm");
    for (who, oci) in [("helm", false), ("chartup", false), ("helm", true), ("chartup", true)] {
        let at = if oci { "registry" } else { "repository" };
        // Signed: update (verify always) fetches it.
        let (o, files) = dep(&h, who, "update", "1.0.0", oci);
        assert!(o.status.success(), "{who} {at}: {}", all(&o));
        assert_eq!(files, ["signed-1.0.0.tgz"], "{who} {at}");
        // No .prov: update refuses, nothing lands in charts/.
        let (o, files) = dep(&h, who, "update", "1.1.0", oci);
        assert!(
            !o.status.success(),
            "{who} {at}: update of an unsigned dependency with --verify"
        );
        assert!(
            all(&o).contains("failed to fetch provenance"),
            "{who} {at}: {}",
            all(&o)
        );
        assert!(files.is_empty(), "{who} {at}: {files:?}");
        // Tampered: refused.
        let (o, files) = dep(&h, who, "update", "1.2.0", oci);
        assert!(!o.status.success(), "{who} {at}");
        assert!(
            all(&o).contains("sha256 sum does not match for signed-1.2.0.tgz"),
            "{who} {at}: {}",
            all(&o)
        );
        assert!(files.is_empty(), "{who} {at}: {files:?}");
        // build --verify verifies if possible: a missing .prov is a warning.
        let (o, files) = dep(&h, who, "build", "1.1.0", oci);
        assert!(o.status.success(), "{who} {at}: {}", all(&o));
        assert!(
            all(&o).contains("WARNING: Verification not found for"),
            "{who} {at}: {}",
            all(&o)
        );
        assert_eq!(files, ["signed-1.1.0.tgz"], "{who} {at}");
        // ... but a .prov that does not verify fails the build.
        let (o, _) = dep(&h, who, "build", "1.2.0", oci);
        assert!(!o.status.success(), "{who} {at}");
        assert!(all(&o).contains("sha256 sum does not match"), "{who} {at}: {}", all(&o));
    }
}

/// `plan --verify` checks both sides (the code `template` uses; helm has no plan, so the
/// expectations are what `helm template --verify` says of these charts above).
#[test]
fn plan_verifies_both_sides() {
    fn args(v: &[String]) -> Vec<&str> {
        v.iter().map(String::as_str).collect()
    }
    let k = signed();
    let h = Home::new();
    h.ok("chartup", &["repo", "add", "signed", &k.repo]);
    let plan = |from: &str, to: &str| {
        vec![
            "plan".to_string(),
            "--from".into(),
            "signed/signed".into(),
            "--from-version".into(),
            from.into(),
            "--to".into(),
            "signed/signed".into(),
            "--version".into(),
            to.into(),
            "--verify".into(),
            "--keyring".into(),
            k.keyring.clone(),
        ]
    };
    let p = plan("1.0.0", "1.0.0");
    let out = h.chartup(&args(&p));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("provenance verified"));
    let p = plan("1.0.0", "1.2.0");
    let err = h.fails(&args(&p));
    assert!(err.contains("sha256 sum does not match for signed-1.2.0.tgz"), "{err}");
    let p = plan("1.1.0", "1.0.0");
    let err = h.fails(&args(&p));
    assert!(
        err.contains("signed-1.1.0.tgz.prov") && err.contains("failed to fetch provenance"),
        "{err}"
    );
}
