//! More of issue 13's rules against helm on the test servers (scripts/test-sources.sh): helm's
//! `--pass-credentials` rule, a JSON index (`helm repo index --json`), and the content cache under
//! concurrent runs. Fixture repositories are written into the nginx document root at test time
//! (each test its own directory), archives and indexes made by helm.

use std::path::PathBuf;

use crate::sources::{servers, walk, Home};

/// A fresh directory served by nginx over HTTP: (path, URL).
fn served_dir(tag: &str) -> (PathBuf, String) {
    let s = servers();
    let name = format!(
        "{tag}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let dir = s.dir.join("www").join(&name);
    std::fs::create_dir_all(&dir).unwrap();
    (dir, s.http.replace("/charts", &format!("/{name}")))
}

/// helm: `--username/--password` go to the chart URL only when its scheme, host and port equal the
/// `--repo` URL's, unless `--pass-credentials`. Here the index is on the open HTTP server and the
/// archive behind basic auth on the HTTPS one.
#[test]
fn pass_credentials_rule_as_helm() {
    let s = servers();
    let (dir, url) = served_dir("passcred");
    let sha = chartup::source::sha256_hex(&std::fs::read(s.dir.join("www/charts/demo-1.0.0.tgz")).unwrap());
    std::fs::write(
        dir.join("index.yaml"),
        format!(
            "apiVersion: v1\nentries:\n  demo:\n  - apiVersion: v2\n    name: demo\n    version: 1.0.0\n    urls: [{}/demo-1.0.0.tgz]\n    digest: {sha}\n",
            s.https
        ),
    )
    .unwrap();
    let h = Home::new();
    let base = [
        "template",
        "r",
        "demo",
        "--repo",
        url.as_str(),
        "--version",
        "1.0.0",
        "--ca-file",
        &s.ca,
        "--username",
        &s.user,
        "--password",
        &s.password,
    ];
    // Without --pass-credentials both are refused by the archive's server.
    let ho = h.helm(&base);
    assert!(!ho.status.success(), "helm passed the credentials");
    assert!(
        String::from_utf8_lossy(&ho.stderr).contains("401"),
        "{}",
        String::from_utf8_lossy(&ho.stderr)
    );
    let err = h.fails(&base);
    assert!(err.contains("401 Unauthorized"), "{err}");
    // With it both get the chart.
    let mut with = base.to_vec();
    with.push("--pass-credentials");
    assert_eq!(h.ok("chartup", &with), h.ok("helm", &with));
}

/// `helm repo index --json` writes the index as JSON (same file name); both read it.
#[test]
fn a_json_index_as_helm() {
    let s = servers();
    let (dir, url) = served_dir("jsonidx");
    for f in ["demo-1.0.0.tgz", "demo-1.1.0.tgz", "demo-1.2.0-rc.1.tgz"] {
        std::fs::copy(s.dir.join("www/charts").join(f), dir.join(f)).unwrap();
    }
    let h = Home::new();
    h.ok("helm", &["repo", "index", "--json", dir.to_str().unwrap()]);
    let text = std::fs::read_to_string(dir.join("index.yaml")).unwrap();
    assert!(text.trim_start().starts_with('{'), "helm wrote JSON: {text}");
    for args in [
        vec!["template", "r", "demo", "--repo", url.as_str()],
        vec!["template", "r", "demo", "--repo", url.as_str(), "--devel"],
        vec!["template", "r", "demo", "--repo", url.as_str(), "--version", "~1.0"],
    ] {
        assert_eq!(h.ok("chartup", &args), h.ok("helm", &args), "{args:?}");
    }
    h.ok("chartup", &["repo", "add", "js", &url]);
    assert_eq!(
        h.ok("chartup", &["template", "r", "js/demo"]),
        h.ok("helm", &["template", "r", "js/demo"])
    );
}

/// Several chartup runs fetching the same chart into one empty cache at once: all succeed with
/// the same output as helm, and the cache holds the archive once, with no temp file left behind.
#[test]
fn concurrent_runs_share_the_cache_safely() {
    let h = Home::new();
    h.add_repos("chartup");
    let args = ["template", "r", "srcs/demo", "--version", "1.1.0"];
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_chartup"));
    let outs: Vec<std::process::Output> = std::thread::scope(|sc| {
        let hs: Vec<_> = (0..6).map(|_| sc.spawn(|| h.cmd(bin, &args))).collect();
        hs.into_iter().map(|j| j.join().unwrap()).collect()
    });
    let expected = h.ok("helm", &args);
    for o in &outs {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert_eq!(String::from_utf8_lossy(&o.stdout), expected);
    }
    let files: Vec<String> = walk(&h.path().join("cache/content"))
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().to_string())
        .collect();
    let sha = chartup::source::sha256_hex(&std::fs::read(servers().dir.join("www/charts/demo-1.1.0.tgz")).unwrap());
    // helm's own run may have added its copy under the same name: one file either way.
    assert_eq!(files, [format!("{sha}.chart")], "{files:?}");
}

/// `--cert-file`/`--key-file`: a repository that serves only clients with a certificate of the test
/// CA (nginx `ssl_verify_client on`), on the command line and stored in repositories.yaml.
#[test]
fn client_certificates_as_helm() {
    let s = servers();
    let out = std::process::Command::new(testkit::repo_root().join("scripts/test-sources.sh"))
        .arg("env")
        .output()
        .unwrap();
    let env = String::from_utf8_lossy(&out.stdout).to_string();
    let get = |k: &str| {
        env.lines()
            .find_map(|l| l.strip_prefix(&format!("export {k}=")))
            .unwrap_or_else(|| panic!("{k} missing in:\n{env}"))
            .to_string()
    };
    let (url, cert, key) = (
        get("CHARTUP_SRC_MTLS"),
        get("CHARTUP_SRC_CLIENT_CERT"),
        get("CHARTUP_SRC_CLIENT_KEY"),
    );
    let h = Home::new();
    let with = [
        "template",
        "r",
        "demo",
        "--repo",
        url.as_str(),
        "--version",
        "1.1.0",
        "--ca-file",
        &s.ca,
        "--cert-file",
        &cert,
        "--key-file",
        &key,
    ];
    assert_eq!(h.ok("chartup", &with), h.ok("helm", &with));
    // Without the certificate the server refuses both, with the same words.
    let without = &with[..9];
    let ho = h.helm(without);
    assert!(!ho.status.success());
    let err = h.fails(without);
    let helm_err = String::from_utf8_lossy(&ho.stderr).to_string();
    assert!(
        helm_err.contains("400 Bad Request") && err.contains("400 Bad Request"),
        "{helm_err}\n{err}"
    );
    // Stored by chartup's `repo add`, used by helm and chartup.
    h.ok(
        "chartup",
        &[
            "repo",
            "add",
            "mt",
            &url,
            "--ca-file",
            &s.ca,
            "--cert-file",
            &cert,
            "--key-file",
            &key,
        ],
    );
    assert_eq!(
        h.ok("chartup", &["template", "r", "mt/demo", "--version", "1.0.0"]),
        h.ok("helm", &["template", "r", "mt/demo", "--version", "1.0.0"])
    );
}

/// A `--ca-file` that did not issue the server's certificate (here the test client's own
/// certificate): both tools refuse the server. chartup first checks the chain against the CA file
/// alone and only then loads the system roots (src/source/http.rs), so this is the path where the
/// system store decides — as it decides for helm.
#[test]
fn a_ca_file_that_is_not_the_issuer_fails_as_helm() {
    let s = servers();
    let out = std::process::Command::new(testkit::repo_root().join("scripts/test-sources.sh"))
        .arg("env")
        .output()
        .unwrap();
    let env = String::from_utf8_lossy(&out.stdout).to_string();
    let wrong_ca = env
        .lines()
        .find_map(|l| l.strip_prefix("export CHARTUP_SRC_CLIENT_CERT="))
        .unwrap_or_else(|| panic!("CHARTUP_SRC_CLIENT_CERT missing in:\n{env}"))
        .to_string();
    let h = Home::new();
    let args = |ca: &str| {
        [
            "template",
            "r",
            "demo",
            "--repo",
            s.https.as_str(),
            "--version",
            "1.0.0",
            "--ca-file",
            ca,
            "--username",
            &s.user,
            "--password",
            &s.password,
        ]
        .map(str::to_string)
    };
    let wrong = args(&wrong_ca);
    let wrong: Vec<&str> = wrong.iter().map(String::as_str).collect();
    let ho = h.helm(&wrong);
    let helm_err = String::from_utf8_lossy(&ho.stderr).to_string();
    assert!(
        !ho.status.success() && helm_err.contains("certificate signed by unknown authority"),
        "{helm_err}"
    );
    let err = h.fails(&wrong);
    assert!(
        err.contains(&s.https) && err.contains("invalid peer certificate: UnknownIssuer"),
        "{err}"
    );
    // The right CA file, same everything else: both render the same chart.
    let right = args(&s.ca);
    let right: Vec<&str> = right.iter().map(String::as_str).collect();
    assert_eq!(h.ok("chartup", &right), h.ok("helm", &right));
}
