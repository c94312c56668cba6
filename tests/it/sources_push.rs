//! `chartup push` against `helm push`, on the test registry (scripts/test-sources.sh): the same
//! archive (with its helm-made `.prov`) pushed by both tools must give the very same manifest —
//! media types, config blob (Chart.yaml as Go's JSON), layer digests, annotations, so the same
//! manifest digest — and what chartup pushed must pull, render and verify with helm.

use std::path::Path;

use chartup::source::{http::Basic, oci::Registry, TlsOptions};

use crate::sources::{servers, Home};

/// A chart with every metadata field helm copies into the config and the annotations, and
/// characters Go's JSON escapes.
fn rich_chart(dir: &Path) {
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    std::fs::write(
        dir.join("Chart.yaml"),
        r#"apiVersion: v2
name: pushme
version: 1.0.0+build.1
appVersion: 1.10
description: "Pushes & pulls <tags> \u2028 alike"
home: https://example.invalid/pushme
icon: https://example.invalid/icon.png
sources: [https://example.invalid/src, https://example.invalid/other]
keywords: [push, oci]
kubeVersion: ">=1.20.0-0"
type: application
deprecated: true
maintainers:
  - name: Ann
    email: ann@example.invalid
  - name: Bob
    url: https://bob.example.invalid
annotations:
  org.opencontainers.image.title: not the title
  org.opencontainers.image.description: the description from annotations
  zeta: last
  alpha: first
dependencies:
  - name: dep-a
    version: ~0.1.0
    repository: https://example.invalid/charts
    condition: a.enabled
    tags: [x, y]
    import-values:
      - child: data
        parent: fromA
      - exports.data
    alias: first
"#,
    )
    .unwrap();
    std::fs::write(dir.join("values.yaml"), "x: 1\n").unwrap();
    std::fs::write(
        dir.join("templates/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  v: {{ .Chart.Version | quote }}\n",
    )
    .unwrap();
    // dep-a is vendored so the chart renders without a repository.
    let dep = dir.join("charts/dep-a");
    std::fs::create_dir_all(&dep).unwrap();
    std::fs::write(dep.join("Chart.yaml"), "apiVersion: v2\nname: dep-a\nversion: 0.1.0\n").unwrap();
}

fn manifest_digest(repo: &str, tag: &str) -> (serde_json::Value, String) {
    let s = servers();
    let tls = TlsOptions {
        ca_file: Some(s.ca.clone().into()),
        ..Default::default()
    };
    let creds = Basic {
        username: s.user.clone(),
        password: s.password.clone(),
    };
    let mut reg = Registry::new(&s.registry, &tls, false, Some(creds)).unwrap();
    chartup::source::block_on(async move { reg.manifest(repo, tag).await }).unwrap()
}

#[test]
fn push_gives_helms_manifest_and_helm_pulls_it() {
    let s = servers();
    let h = Home::new();
    h.login("chartup");
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("pushme");
    rich_chart(&src);
    let keyring = s.dir.join("gpg/secring.gpg");
    let pkg = work.path().join("pkg");
    h.ok(
        "helm",
        &[
            "package",
            "--sign",
            "--key",
            "Chartup Test",
            "--keyring",
            keyring.to_str().unwrap(),
            src.to_str().unwrap(),
            "-d",
            pkg.to_str().unwrap(),
        ],
    );
    let tgz = pkg.join("pushme-1.0.0+build.1.tgz");
    assert!(tgz.exists() && pkg.join("pushme-1.0.0+build.1.tgz.prov").exists());
    let unique = format!(
        "push-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let (mine, theirs) = (
        format!("oci://{}/{unique}/chartup", s.registry),
        format!("oci://{}/{unique}/helm", s.registry),
    );
    let out = h.ok("chartup", &["push", tgz.to_str().unwrap(), &mine, "--ca-file", &s.ca]);
    h.ok("helm", &["push", tgz.to_str().unwrap(), &theirs, "--ca-file", &s.ca]);
    // `+` is `_` in the tag, as helm writes it.
    let (mj, md) = manifest_digest(&format!("{unique}/chartup/pushme"), "1.0.0_build.1");
    let (hj, hd) = manifest_digest(&format!("{unique}/helm/pushme"), "1.0.0_build.1");
    assert_eq!(mj, hj);
    assert_eq!(md, hd, "the same manifest bytes");
    assert!(out.contains(&format!("Digest: {hd}")), "{out}");
    assert!(
        out.contains(&format!("Pushed: {}/{unique}/chartup/pushme:1.0.0_build.1", s.registry)),
        "{out}"
    );
    let layers: Vec<&str> = hj["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["mediaType"].as_str().unwrap())
        .collect();
    assert_eq!(layers.len(), 2, "chart and provenance layers: {hj}");
    // helm pulls, renders and verifies what chartup pushed.
    let keyring_pub = s.dir.join("gpg/pubring.gpg");
    let helm_render = |r: &str| {
        h.ok(
            "helm",
            &[
                "template",
                "r",
                &format!("{r}/pushme"),
                "--version",
                "1.0.0+build.1",
                "--ca-file",
                &s.ca,
                "--verify",
                "--keyring",
                keyring_pub.to_str().unwrap(),
            ],
        )
    };
    assert_eq!(helm_render(&mine), helm_render(&theirs));
    let dest = work.path().join("pulled");
    std::fs::create_dir_all(&dest).unwrap();
    h.ok(
        "helm",
        &[
            "pull",
            &format!("{mine}/pushme"),
            "--version",
            "1.0.0+build.1",
            "--ca-file",
            &s.ca,
            "-d",
            dest.to_str().unwrap(),
        ],
    );
    assert_eq!(
        std::fs::read(dest.join("pushme-1.0.0+build.1.tgz")).unwrap(),
        std::fs::read(&tgz).unwrap()
    );
}

#[test]
fn push_refuses_bad_input_clearly() {
    let s = servers();
    let h = Home::new();
    let d = tempfile::tempdir().unwrap();
    let reg = format!("oci://{}/x", s.registry);
    let missing = d.path().join("nope-1.0.0.tgz");
    let err = h.fails(&["push", missing.to_str().unwrap(), &reg, "--ca-file", &s.ca]);
    assert!(err.contains("nope-1.0.0.tgz: no such file"), "{err}");
    let err = h.fails(&["push", d.path().to_str().unwrap(), &reg, "--ca-file", &s.ca]);
    assert!(err.contains("cannot push directory"), "{err}");
    let junk = d.path().join("junk.tgz");
    std::fs::write(&junk, "not gzip").unwrap();
    let err = h.fails(&["push", junk.to_str().unwrap(), &reg, "--ca-file", &s.ca]);
    assert!(err.contains("junk.tgz"), "{err}");
    // No login: the registry's 401, named.
    let www = s.dir.join("www/charts");
    let demo = www.join("demo-1.0.0.tgz");
    let err = h.fails(&["push", demo.to_str().unwrap(), &reg, "--ca-file", &s.ca]);
    assert!(err.contains("401") || err.contains("no credentials"), "{err}");
    let err = h.fails(&["push", demo.to_str().unwrap(), "127.0.0.1/x"]);
    assert!(err.contains("oci://"), "{err}");
}
