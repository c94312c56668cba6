//! Charts from repositories and registries (issue 13), against real servers: nginx serving a chart
//! repository over HTTP and HTTPS with basic auth, and the CNCF distribution registry with htpasswd
//! auth and a self-signed certificate, both started by scripts/test-sources.sh with charts made by
//! `helm package`, `helm repo index` and `helm push`. Expected results come from the real helm run
//! on the same servers with the same configuration.
//!
//! Every test gets its own Helm home (config, cache, data) so repositories, logins and caches of one
//! test never leak into another, and helm and chartup share exactly the files under test.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use testkit::{helm, repo_root};

/// The running servers (from `scripts/test-sources.sh up`, which reuses a running setup).
pub(crate) struct Servers {
    pub(crate) dir: PathBuf,
    pub(crate) http: String,
    pub(crate) https: String,
    pub(crate) registry: String,
    pub(crate) ca: String,
    pub(crate) user: String,
    pub(crate) password: String,
}

pub(crate) fn servers() -> &'static Servers {
    static S: OnceLock<Servers> = OnceLock::new();
    S.get_or_init(|| {
        let out = Command::new(repo_root().join("scripts/test-sources.sh"))
            .arg("up")
            .output()
            .expect("running scripts/test-sources.sh up");
        assert!(
            out.status.success(),
            "scripts/test-sources.sh up failed (it installs nginx-light, docker-registry, apache2-utils):\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let get = |k: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(&format!("export {k}=")))
                .unwrap_or_else(|| panic!("{k} missing in:\n{text}"))
                .to_string()
        };
        Servers {
            dir: get("CHARTUP_SRC_DIR").into(),
            http: get("CHARTUP_SRC_HTTP"),
            https: get("CHARTUP_SRC_HTTPS"),
            registry: get("CHARTUP_SRC_REGISTRY"),
            ca: get("CHARTUP_SRC_CA"),
            user: get("CHARTUP_SRC_USER"),
            password: get("CHARTUP_SRC_PASSWORD"),
        }
    })
}

/// A Helm home of its own: HELM_CONFIG_HOME/CACHE/DATA (and the registry config inside it).
pub(crate) struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    pub(crate) fn new() -> Home {
        Home {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }
    pub(crate) fn cmd(&self, bin: &Path, args: &[&str]) -> Output {
        self.cmd_env(bin, args, &[])
    }
    /// [`Home::cmd`] with extra environment variables.
    pub(crate) fn cmd_env(&self, bin: &Path, args: &[&str], extra: &[(&str, &Path)]) -> Output {
        let mut c = Command::new(bin);
        c.args(args)
            .env("HELM_CONFIG_HOME", self.path().join("config"))
            .env("HELM_CACHE_HOME", self.path().join("cache"))
            .env("HELM_DATA_HOME", self.path().join("data"))
            .env_remove("HELM_REPOSITORY_CONFIG")
            .env_remove("HELM_REPOSITORY_CACHE")
            .env_remove("HELM_REGISTRY_CONFIG")
            .env_remove("HELM_CONTENT_CACHE")
            .env("DOCKER_CONFIG", self.path().join("docker"));
        for (k, v) in extra {
            c.env(k, v);
        }
        c.output().unwrap_or_else(|e| panic!("running {}: {e}", bin.display()))
    }
    pub(crate) fn helm(&self, args: &[&str]) -> Output {
        self.cmd(&helm().expect("helm (scripts/install-helm.sh)"), args)
    }
    pub(crate) fn chartup(&self, args: &[&str]) -> Output {
        self.cmd(Path::new(env!("CARGO_BIN_EXE_chartup")), args)
    }
    /// Run and require success; stdout.
    pub(crate) fn ok(&self, who: &str, args: &[&str]) -> String {
        let out = if who == "helm" {
            self.helm(args)
        } else {
            self.chartup(args)
        };
        assert!(
            out.status.success(),
            "{who} {args:?} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
    /// Run and require failure; stderr.
    pub(crate) fn fails(&self, args: &[&str]) -> String {
        let out = self.chartup(args);
        assert!(
            !out.status.success(),
            "chartup {args:?} should fail:\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(out.stdout.is_empty(), "nothing on stdout on failure");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(!err.contains("panicked"), "{err}");
        err
    }
    pub(crate) fn add_repos(&self, who: &str) {
        let s = servers();
        self.ok(
            who,
            &[
                "repo",
                "add",
                "srcs",
                &s.https,
                "--ca-file",
                &s.ca,
                "--username",
                &s.user,
                "--password",
                &s.password,
            ],
        );
        self.ok(who, &["repo", "add", "open", &s.http]);
    }
    pub(crate) fn login(&self, who: &str) {
        let s = servers();
        self.ok(
            who,
            &[
                "registry",
                "login",
                &s.registry,
                "--ca-file",
                &s.ca,
                "-u",
                &s.user,
                "-p",
                &s.password,
            ],
        );
    }
    pub(crate) fn content_files(&self) -> Vec<PathBuf> {
        walk(&self.path().join("cache/content"))
    }
}

pub(crate) fn walk(d: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

fn oci(chart: &str) -> String {
    format!("oci://{}/charts/{chart}", servers().registry)
}

#[test]
fn template_from_repository_matches_helm() {
    let s = servers();
    let h = Home::new();
    h.add_repos("chartup");
    for args in [
        vec!["template", "r", "srcs/demo", "--version", "1.0.0"],
        vec!["template", "r", "srcs/demo"],            // latest stable: 1.1.0
        vec!["template", "r", "srcs/demo", "--devel"], // 1.2.0-rc.1
        vec!["template", "r", "open/demo", "--version", "~1.0"], // a range
        vec!["template", "r", "demo", "--repo", &s.http, "--version", "1.1.0"],
        vec![
            "template",
            "r",
            "demo",
            "--repo",
            &s.https,
            "--ca-file",
            &s.ca,
            "--username",
            &s.user,
            "--password",
            &s.password,
        ],
    ] {
        let mine = h.ok("chartup", &args);
        let theirs = h.ok("helm", &args);
        assert_eq!(mine, theirs, "{args:?}");
    }
    // The version the default picks is helm's "latest stable".
    assert!(h
        .ok("chartup", &["template", "r", "srcs/demo"])
        .contains("version: \"1.1.0\""));
    // A .tgz URL, borrowing nothing (open repository).
    let url = format!("{}/demo-1.0.0.tgz", s.http);
    assert_eq!(
        h.ok("chartup", &["template", "r", &url]),
        h.ok("helm", &["template", "r", &url])
    );
    // Offline: with the index and the archive cached, the servers are not needed; the cache holds
    // the archive under its sha256 (Helm 4's content-cache layout), nothing else.
    let files = h.content_files();
    assert!(
        !files.is_empty() && files.iter().all(|f| f.extension().unwrap() == "chart"),
        "{files:?}"
    );
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        let hex = chartup::source::sha256_hex(&bytes);
        assert_eq!(f.file_stem().unwrap().to_str().unwrap(), hex);
    }
    // Offline: point the repository at a closed port; the cached index and archive still serve.
    let before = h.ok("chartup", &["template", "r", "srcs/demo", "--version", "1.0.0"]);
    let cfg = h.path().join("config/repositories.yaml");
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace(&s.https, "https://127.0.0.1:9/charts");
    std::fs::write(&cfg, text).unwrap();
    assert_eq!(
        h.ok("chartup", &["template", "r", "srcs/demo", "--version", "1.0.0"]),
        before
    );
}

#[test]
fn template_from_registry_matches_helm() {
    let s = servers();
    let h = Home::new();
    h.login("helm"); // helm's login, used by chartup: one registry config
    for args in [
        vec![
            "template",
            "r",
            &oci("demo") as &str,
            "--version",
            "1.0.0",
            "--ca-file",
            &s.ca,
        ],
        vec!["template", "r", &oci("demo"), "--ca-file", &s.ca],
        vec![
            "template",
            "r",
            &oci("demo"),
            "--version",
            ">=1.0.0 <1.1.0",
            "--ca-file",
            &s.ca,
        ],
        vec!["template", "r", &oci("demo"), "--devel", "--ca-file", &s.ca],
    ] {
        let mine = h.ok("chartup", &args);
        let theirs = h.ok("helm", &args);
        assert_eq!(mine, theirs, "{args:?}");
    }
    // By digest: the manifest digest helm reports.
    let pulled = h.helm(&[
        "pull",
        &oci("demo"),
        "--version",
        "1.0.0",
        "--ca-file",
        &s.ca,
        "-d",
        h.path().to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&pulled.stderr).to_string() + &String::from_utf8_lossy(&pulled.stdout);
    let digest = err
        .lines()
        .find_map(|l| l.strip_prefix("Digest: "))
        .expect("helm pull prints Digest:")
        .trim()
        .to_string();
    let by_digest = format!("{}@{digest}", oci("demo"));
    let mine = h.ok("chartup", &["template", "r", &by_digest, "--ca-file", &s.ca]);
    assert_eq!(
        mine,
        h.ok(
            "helm",
            &["template", "r", &oci("demo"), "--version", "1.0.0", "--ca-file", &s.ca]
        )
    );
    // A tag and a different --version disagree, as in helm.
    let tagged = format!("{}:1.0.0", oci("demo"));
    let err = h.fails(&["template", "r", &tagged, "--version", "1.1.0", "--ca-file", &s.ca]);
    assert!(
        err.contains("chart reference and version mismatch: 1.1.0 is not 1.0.0"),
        "{err}"
    );
}

#[test]
fn repositories_are_shared_with_helm_both_ways() {
    let s = servers();
    // Added by helm, used and listed by chartup.
    let a = Home::new();
    a.add_repos("helm");
    let listed = a.ok("chartup", &["repo", "list"]);
    assert!(listed.contains("srcs") && listed.contains(&s.https), "{listed}");
    assert_eq!(
        a.ok("chartup", &["template", "r", "srcs/demo", "--version", "1.0.0"]),
        a.ok("helm", &["template", "r", "srcs/demo", "--version", "1.0.0"])
    );
    // Added by chartup: the very same repositories.yaml bytes helm writes, and helm uses it.
    let b = Home::new();
    b.add_repos("chartup");
    let mine = std::fs::read_to_string(b.path().join("config/repositories.yaml")).unwrap();
    let theirs = std::fs::read_to_string(a.path().join("config/repositories.yaml")).unwrap();
    assert_eq!(mine, theirs);
    let cached = |h: &Home, f: &str| std::fs::read_to_string(h.path().join("cache/repository").join(f)).unwrap();
    assert_eq!(cached(&b, "srcs-index.yaml"), cached(&a, "srcs-index.yaml"));
    // helm writes the chart names in Go's map order (random): compare them as a set.
    let names = |t: String| {
        assert!(t.ends_with('\n'));
        let mut v: Vec<String> = t.lines().map(str::to_string).collect();
        v.sort();
        v
    };
    assert_eq!(
        names(cached(&b, "srcs-charts.txt")),
        names(cached(&a, "srcs-charts.txt"))
    );
    assert!(b.ok("helm", &["search", "repo", "srcs/demo"]).contains("srcs/demo"));
    assert_eq!(
        b.ok("helm", &["template", "r", "srcs/demo"]),
        b.ok("chartup", &["template", "r", "srcs/demo"])
    );
    // update and remove, seen by helm.
    let up = b.ok("chartup", &["repo", "update"]);
    assert!(
        up.contains("Successfully got an update from the \"srcs\" chart repository"),
        "{up}"
    );
    b.ok("chartup", &["repo", "remove", "open"]);
    let hl = b.ok("helm", &["repo", "list"]);
    assert!(!hl.contains("open") && hl.contains("srcs"), "{hl}");
    assert!(!b.path().join("cache/repository/open-index.yaml").exists());
    // Same settings again: skipped, as helm says it.
    let again = b.ok(
        "chartup",
        &[
            "repo",
            "add",
            "srcs",
            &s.https,
            "--ca-file",
            &s.ca,
            "--username",
            &s.user,
            "--password",
            &s.password,
        ],
    );
    assert_eq!(again, "\"srcs\" already exists with the same configuration, skipping\n");
}

#[test]
fn registry_login_is_shared_with_helm() {
    let s = servers();
    let h = Home::new();
    h.login("chartup");
    // helm pulls with chartup's stored login.
    h.ok(
        "helm",
        &[
            "pull",
            &oci("demo"),
            "--version",
            "1.0.0",
            "--ca-file",
            &s.ca,
            "-d",
            h.path().to_str().unwrap(),
        ],
    );
    h.ok("chartup", &["registry", "logout", &s.registry]);
    let out = h.helm(&[
        "pull",
        &oci("demo"),
        "--version",
        "1.0.0",
        "--ca-file",
        &s.ca,
        "-d",
        h.path().to_str().unwrap(),
    ]);
    assert!(!out.status.success(), "helm pulls without login after chartup's logout");
    // A wrong password is refused at login and nothing is stored.
    let err = h.fails(&[
        "registry",
        "login",
        &s.registry,
        "--ca-file",
        &s.ca,
        "-u",
        &s.user,
        "-p",
        "wrong",
    ]);
    assert!(err.contains("401"), "{err}");
    let cfg = std::fs::read_to_string(h.path().join("config/registry/config.json")).unwrap_or_default();
    assert!(!cfg.contains(&s.registry), "{cfg}");
}

/// The umbrella chart (five dependencies: two from the HTTPS repository with an alias, two from the
/// registry with a condition, one file://) in a fresh directory.
fn umbrella(root: &Path) -> PathBuf {
    let src = repo_root().join("tests/data/sources");
    let dir = root.join("umbrella");
    copy_dir(&src.join("umbrella"), &dir);
    let cy = dir.join("Chart.yaml");
    let text = std::fs::read_to_string(&cy)
        .unwrap()
        .replace("REGISTRY", &servers().registry);
    std::fs::write(&cy, text).unwrap();
    let e = root.join("dep-e");
    copy_dir(&src.join("dep"), &e);
    let text = std::fs::read_to_string(e.join("Chart.yaml")).unwrap();
    let text = text
        .replace("name: dep\n", "name: dep-e\n")
        .replace("version: 0.0.0", "version: 0.3.0");
    std::fs::write(e.join("Chart.yaml"), text).unwrap();
    dir
}

pub(crate) fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let t = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &t);
        } else {
            std::fs::copy(e.path(), &t).unwrap();
        }
    }
}

/// charts/ as (file name, extracted files) — archives packed from file:// differ in tar headers.
fn charts_contents(dir: &Path) -> Vec<(String, Vec<(String, Vec<u8>)>)> {
    let mut out = Vec::new();
    for p in walk(&dir.join("charts")) {
        let bytes = std::fs::read(&p).unwrap();
        let mut files: Vec<(String, Vec<u8>)> = Vec::new();
        let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(bytes.as_slice()));
        for e in ar.entries().unwrap() {
            let mut e = e.unwrap();
            let name = e.path().unwrap().to_string_lossy().to_string();
            let mut data = Vec::new();
            std::io::Read::read_to_end(&mut e, &mut data).unwrap();
            files.push((name, data));
        }
        files.sort();
        out.push((p.file_name().unwrap().to_string_lossy().to_string(), files));
    }
    out
}

fn without_generated(lock: &str) -> String {
    lock.lines()
        .filter(|l| !l.starts_with("generated:"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn dependency_update_and_build_match_helm() {
    let s = servers();
    let h = Home::new();
    h.add_repos("helm");
    h.login("helm");
    let (hd, cd) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (hu, cu) = (umbrella(hd.path()), umbrella(cd.path()));
    h.ok(
        "helm",
        &["dependency", "update", hu.to_str().unwrap(), "--ca-file", &s.ca],
    );
    h.ok(
        "chartup",
        &["dependency", "update", cu.to_str().unwrap(), "--ca-file", &s.ca],
    );
    let (hl, cl) = (
        std::fs::read_to_string(hu.join("Chart.lock")).unwrap(),
        std::fs::read_to_string(cu.join("Chart.lock")).unwrap(),
    );
    assert_eq!(without_generated(&cl), without_generated(&hl));
    assert!(cl.lines().any(|l| l.starts_with("generated: \"")), "{cl}");
    assert_eq!(charts_contents(&cu), charts_contents(&hu));
    // Archives from the repository and the registry are the very bytes helm saved.
    for f in [
        "dep-a-0.1.0.tgz",
        "dep-b-0.2.0.tgz",
        "dep-c-0.2.0.tgz",
        "dep-d-0.1.0.tgz",
    ] {
        assert_eq!(
            std::fs::read(cu.join("charts").join(f)).unwrap(),
            std::fs::read(hu.join("charts").join(f)).unwrap(),
            "{f}"
        );
    }
    // build from helm's lock reproduces the same charts/.
    let bd = tempfile::tempdir().unwrap();
    let bu = umbrella(bd.path());
    std::fs::copy(hu.join("Chart.lock"), bu.join("Chart.lock")).unwrap();
    h.ok(
        "chartup",
        &["dependency", "build", bu.to_str().unwrap(), "--ca-file", &s.ca],
    );
    assert_eq!(charts_contents(&bu), charts_contents(&hu));
    // And the result renders as helm renders it.
    assert_eq!(
        h.ok("chartup", &["template", "r", cu.to_str().unwrap()]),
        h.ok("helm", &["template", "r", hu.to_str().unwrap()])
    );
    // list, as helm lists it.
    let mine = h.ok("chartup", &["dependency", "list", cu.to_str().unwrap()]);
    let theirs = h.ok("helm", &["dependency", "list", hu.to_str().unwrap()]);
    let norm = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ");
    assert_eq!(norm(&mine), norm(&theirs));
    // An out-of-sync lock is refused and charts/ is left alone.
    let cy = bu.join("Chart.yaml");
    std::fs::write(&cy, std::fs::read_to_string(&cy).unwrap().replace("~0.1.0", "~0.2.0")).unwrap();
    let before = charts_contents(&bu);
    let err = h.fails(&["dependency", "build", bu.to_str().unwrap(), "--ca-file", &s.ca]);
    assert!(err.contains("out of sync"), "{err}");
    assert_eq!(charts_contents(&bu), before);
}

#[test]
fn a_chart_with_a_lock_but_no_charts_renders_on_the_fly() {
    let s = servers();
    let h = Home::new();
    h.add_repos("helm");
    h.login("helm");
    let hd = tempfile::tempdir().unwrap();
    let hu = umbrella(hd.path());
    h.ok(
        "helm",
        &["dependency", "update", hu.to_str().unwrap(), "--ca-file", &s.ca],
    );
    let cd = tempfile::tempdir().unwrap();
    let cu = umbrella(cd.path());
    std::fs::copy(hu.join("Chart.lock"), cu.join("Chart.lock")).unwrap();
    // helm refuses; chartup fetches what the lock pins into a cached copy and says so.
    let out = h.chartup(&["template", "r", cu.to_str().unwrap(), "--ca-file", &s.ca]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("fetched dep-a, dep-b, dep-c, dep-d, dep-e from Chart.lock"),
        "{err}"
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        h.ok("helm", &["template", "r", hu.to_str().unwrap()])
    );
    assert!(!cu.join("charts").exists(), "the user's charts/ is not written");
}

#[test]
fn faults_are_clear_errors_naming_the_reference() {
    let s = servers();
    let h = Home::new();
    h.add_repos("chartup");
    let err = h.fails(&["template", "nope/demo"]);
    assert!(err.contains("repo nope not found"), "{err}");
    let err = h.fails(&["template", "srcs/demo", "--version", "1.5.0"]);
    assert!(
        err.contains("chart \"demo\" matching 1.5.0 not found in srcs index")
            && err.contains("nearest versions: 1.2.0-rc.1, 1.1.0, 1.0.0"),
        "{err}"
    );
    // Wrong password: 401 from the server, naming the URL.
    let err = h.fails(&[
        "template",
        "demo",
        "--repo",
        &s.https,
        "--ca-file",
        &s.ca,
        "--username",
        &s.user,
        "--password",
        "bad",
    ]);
    assert!(err.contains("401 Unauthorized") && err.contains(&s.https), "{err}");
    // No CA: a TLS failure.
    let err = h.fails(&[
        "template",
        "demo",
        "--repo",
        &s.https,
        "--username",
        &s.user,
        "--password",
        &s.password,
    ]);
    assert!(
        err.contains(&s.https) && err.to_lowercase().contains("certificate"),
        "{err}"
    );
    // --insecure-skip-tls-verify gets through.
    h.ok(
        "chartup",
        &[
            "template",
            "demo",
            "--repo",
            &s.https,
            "--insecure-skip-tls-verify",
            "--username",
            &s.user,
            "--password",
            &s.password,
        ],
    );
    // Unreachable host.
    let err = h.fails(&["template", "demo", "--repo", "http://127.0.0.1:9/charts"]);
    assert!(
        err.contains("http://127.0.0.1:9/charts") && err.contains("cannot be reached"),
        "{err}"
    );
    // Registry without login: 401 naming the reference.
    let err = h.fails(&["template", &oci("demo"), "--version", "1.0.0", "--ca-file", &s.ca]);
    assert!(err.contains(&oci("demo")) && err.contains("401"), "{err}");
    // Version not in the registry: the nearest tags.
    h.login("chartup");
    let err = h.fails(&["template", &oci("demo"), "--version", "~3.0", "--ca-file", &s.ca]);
    assert!(
        err.contains("could not locate a version matching provided version string ~3.0"),
        "{err}"
    );
    // Digest mismatch and a truncated archive: a repository whose index names the wrong digest /
    // serves a cut archive (made here from the real one). Nothing lands in the cache.
    let bad = s.dir.join("www/bad");
    std::fs::create_dir_all(&bad).unwrap();
    let good = std::fs::read(s.dir.join("www/charts/demo-1.0.0.tgz")).unwrap();
    std::fs::write(bad.join("demo-1.0.0.tgz"), &good[..good.len() / 2]).unwrap();
    std::fs::write(bad.join("demo-1.1.0.tgz"), &good).unwrap();
    let digest = chartup::source::sha256_hex(&good);
    let index = format!(
        "apiVersion: v1\nentries:\n  demo:\n  - name: demo\n    version: 1.0.0\n    urls: [demo-1.0.0.tgz]\n    digest: {digest}\n  - name: demo\n    version: 1.1.0\n    urls: [demo-1.1.0.tgz]\n    digest: {}\n",
        "ab".repeat(32)
    );
    std::fs::write(bad.join("index.yaml"), index).unwrap();
    let badurl = s.http.replace("/charts", "/bad");
    let h2 = Home::new();
    let err = h2.fails(&["template", "demo", "--repo", &badurl, "--version", "1.1.0"]);
    assert!(err.contains("demo") && err.contains("digest mismatch"), "{err}");
    let err = h2.fails(&["template", "demo", "--repo", &badurl, "--version", "1.0.0"]);
    assert!(err.contains("demo") && err.contains("digest mismatch"), "{err}");
    assert!(h2.content_files().is_empty(), "{:?}", h2.content_files());
    // --verify of a chart without provenance fails (tests/it/sources_prov.rs compares with helm).
    let err = h.fails(&["template", "srcs/demo", "--verify"]);
    assert!(err.contains("srcs/demo: failed to fetch provenance"), "{err}");
}

#[test]
fn plan_records_each_sides_source() {
    let s = servers();
    let h = Home::new();
    h.add_repos("chartup");
    h.login("chartup");
    let out = h.ok(
        "chartup",
        &[
            "plan",
            "--from",
            "srcs/demo",
            "--from-version",
            "1.0.0",
            "--to",
            &oci("demo"),
            "--version",
            "1.1.0",
            "--ca-file",
            &s.ca,
            "-o",
            "json",
        ],
    );
    let plan: serde_json::Value = serde_json::from_str(&out).unwrap();
    let sha = |f: &str| {
        format!(
            "sha256:{}",
            chartup::source::sha256_hex(&std::fs::read(s.dir.join("www/charts").join(f)).unwrap())
        )
    };
    assert_eq!(plan["from"]["source"]["reference"], "srcs/demo");
    assert_eq!(plan["from"]["source"]["version"], "1.0.0");
    assert_eq!(plan["from"]["source"]["digest"], sha("demo-1.0.0.tgz"));
    assert_eq!(plan["to"]["source"]["reference"], oci("demo"));
    assert_eq!(plan["to"]["source"]["version"], "1.1.0");
    // helm push stores the archive helm packaged, byte for byte.
    assert_eq!(plan["to"]["source"]["digest"], sha("demo-1.1.0.tgz"));
    assert_eq!(plan["to"]["chartDigest"], plan["to"]["source"]["digest"]);
}
