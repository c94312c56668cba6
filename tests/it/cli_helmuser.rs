//! The command line as a Helm user meets it (issue #18): every `--help` (snapshots, so a change
//! is reviewed), `--version` meaning the chart version on commands, the error messages users hit,
//! completions and the man page, and the Helm plugin under helm 3 and helm 4.

use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn chartup(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_chartup"))
        .args(args)
        .current_dir(root())
        .env("COLUMNS", "100")
        .env_remove("HELM_NAMESPACE")
        .env_remove("HELM_DRIVER")
        .env_remove("HELM_KUBECONTEXT")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Every command and subcommand the CLI defines, walked from its definition (so a new command
/// cannot go without a help snapshot); `help` itself and hidden commands left out.
fn commands() -> Vec<Vec<String>> {
    use clap::CommandFactory as _;
    fn walk(cmd: &clap::Command, path: Vec<String>, out: &mut Vec<Vec<String>>) {
        out.push(path.clone());
        for sub in cmd.get_subcommands() {
            if sub.get_name() == "help" || sub.is_hide_set() {
                continue;
            }
            let mut p = path.clone();
            p.push(sub.get_name().to_string());
            walk(sub, p, out);
        }
    }
    let mut out = Vec::new();
    walk(&chartup::cli::Cli::command(), vec![], &mut out);
    out
}

#[test]
fn every_help_text() {
    let commands = commands();
    // The Helm user's daily commands are among them (issue 18).
    for daily in [
        "template",
        "plan",
        "apply",
        "status",
        "history",
        "rollback",
        "list",
        "get",
        "uninstall",
    ] {
        assert!(commands.iter().any(|c| c == &[daily.to_string()]), "{daily}");
    }
    for cmd in &commands {
        let mut args: Vec<&str> = cmd.iter().map(String::as_str).collect();
        args.push("--help");
        let (ok, out, err) = chartup(&args);
        assert!(ok, "{args:?}: {err}");
        let name = if cmd.is_empty() {
            "chartup".to_string()
        } else {
            cmd.join("_")
        };
        insta::assert_snapshot!(format!("help_{name}"), out);
    }
}

/// Complete sentences and described arguments, checked on the definitions themselves (the
/// printed help is wrapped by clap, so a hard newline in a paragraph cannot be told apart there).
#[test]
fn help_texts_are_whole_sentences() {
    use clap::CommandFactory as _;
    fn walk(cmd: &clap::Command, path: &str, problems: &mut Vec<String>) {
        let mut texts: Vec<(String, String)> = Vec::new();
        for (what, t) in [("about", cmd.get_about()), ("after_help", cmd.get_after_help())] {
            if let Some(t) = t {
                texts.push((format!("{path} {what}"), t.to_string()));
            }
        }
        for a in cmd.get_arguments() {
            if a.is_hide_set() {
                continue;
            }
            match a.get_help() {
                Some(h) => texts.push((format!("{path} {}", a.get_id()), h.to_string())),
                None if a.get_id() != "help" && a.get_id() != "version" => {
                    problems.push(format!("{path}: argument {} has no description", a.get_id()))
                }
                None => {}
            }
        }
        for (what, t) in texts {
            let b = t.as_bytes();
            if (0..b.len().saturating_sub(1)).any(|i| b[i] == b'\n' && b[i + 1].is_ascii_lowercase()) {
                problems.push(format!("{what}: a line break in the middle of a sentence: {t:?}"));
            }
        }
        for sub in cmd.get_subcommands() {
            walk(sub, &format!("{path} {}", sub.get_name()), problems);
        }
    }
    let mut problems = Vec::new();
    walk(&chartup::cli::Cli::command(), "chartup", &mut problems);
    assert!(problems.is_empty(), "help texts to fix:\n{}", problems.join("\n"));
}

#[test]
fn version_flag_is_the_chart_version_on_commands() {
    let (ok, out, _) = chartup(&["--version"]);
    assert!(ok);
    assert_eq!(out, format!("chartup {}\n", env!("CARGO_PKG_VERSION")));
    let (ok, out2, _) = chartup(&["version"]);
    assert!(ok);
    assert_eq!(out, out2);
    // On plan it is the chart version: the chart given is 5.7.0.
    let (ok, out, err) = chartup(&[
        "plan",
        "--from",
        "charts/kvstore/5.7.0",
        "--to",
        "charts/kvstore/6.0.0",
        "--version",
        "4.2.0",
    ]);
    assert!(!ok && out.is_empty(), "{out}");
    insta::assert_snapshot!("err_version_mismatch", err);
    let (ok, _, err) = chartup(&[
        "plan",
        "--from",
        "charts/kvstore/5.7.0",
        "--to",
        "charts/kvstore/6.0.0",
        "--version",
        "~6.0",
    ]);
    assert!(ok, "{err}");
}

#[test]
fn error_messages() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("deployed.yaml");
    std::fs::write(&manifest, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n").unwrap();
    let m = manifest.display().to_string();
    let (ok, _, err) = chartup(&["plan", "--from-manifest", &m, "--to", "charts/kvstore/6.0.0"]);
    assert!(!ok);
    insta::assert_snapshot!("err_from_manifest_without_release", err.replace(&m, "DEPLOYED"));

    let (ok, _, err) = chartup(&["history", "x", "--kubeconfig", "/nonexistent/kubeconfig"]);
    assert!(!ok);
    assert!(!err.contains("'\""), "{err}");
    insta::assert_snapshot!("err_kubeconfig_missing", err);

    let out = Command::new(env!("CARGO_BIN_EXE_chartup"))
        .args(["list", "--kubeconfig", "/nonexistent/kubeconfig"])
        .env("HELM_DRIVER", "sqlite")
        .output()
        .unwrap();
    assert!(!out.status.success());
    insta::assert_snapshot!("err_unknown_driver", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn from_manifest_infers_the_release_name() {
    // The deployed manifest of release `kv`, rendered by the real helm: the new side must render
    // as `kv` too, so nothing is renamed (no false recreates).
    let helm = helm();
    let out = Command::new(&helm)
        .args(["template", "kv", "charts/kvstore/6.0.0", "--set", "replicas=1"])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("deployed.yaml");
    std::fs::write(&manifest, &out.stdout).unwrap();
    let (ok, text, err) = chartup(&[
        "plan",
        "--from-manifest",
        &manifest.display().to_string(),
        "--to",
        "charts/kvstore/6.0.0",
        "--set",
        "replicas=1",
        "-o",
        "json",
    ]);
    assert!(ok, "{err}");
    let p: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(p["release"]["name"], "kv");
    assert_eq!(p["summary"]["recreate"], 0, "{text}");
}

#[test]
fn completions_and_man_page() {
    for (shell, marker) in [
        ("bash", "complete -F _chartup"),
        ("zsh", "#compdef chartup"),
        ("fish", "complete -c chartup"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let (ok, out, err) = chartup(&["completion", shell]);
        assert!(ok, "{err}");
        assert!(out.contains(marker), "{shell}: {out}");
        assert!(out.contains("uninstall"), "{shell}: subcommands are completed");
    }
    let (ok, out, _) = chartup(&["man"]);
    assert!(ok && out.contains(".TH chartup 1"));
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, err) = chartup(&["man", "--out-dir", &dir.path().display().to_string()]);
    assert!(ok, "{err}");
    assert!(dir.path().join("chartup-plan.1").is_file());
}

fn helm() -> PathBuf {
    if let Ok(h) = std::env::var("CHARTUP_HELM") {
        return PathBuf::from(h);
    }
    let local = root().join(".tools/bin/helm");
    if local.is_file() {
        return local;
    }
    which("helm").expect("helm is needed (scripts/install-helm.sh, or CHARTUP_HELM)")
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// `helm chartup …` through the plugin, with helm's namespace flag: helm 3 and helm 4.
#[test]
fn helm_plugin_with_helm3_and_helm4() {
    let h4 = helm();
    let h3 = h4.parent().map(|d| d.join("helm3")).filter(|p| p.is_file());
    let h3 = h3
        .or_else(|| which("helm3"))
        .expect("helm3 is needed (scripts/install-helm.sh)");
    for helm in [h4, h3] {
        let home = tempfile::tempdir().unwrap();
        let data = home.path().join("data");
        // helm 4 installs into $HELM_DATA_HOME/plugins whatever $HELM_PLUGINS says: point both there.
        let env = |c: &mut Command| {
            c.env("HELM_DATA_HOME", &data)
                .env("HELM_PLUGINS", data.join("plugins"))
                .env("HELM_CONFIG_HOME", home.path().join("config"))
                .env("HELM_CACHE_HOME", home.path().join("cache"))
                .env("CHARTUP_BIN", env!("CARGO_BIN_EXE_chartup"))
                .env_remove("HELM_NAMESPACE")
                .current_dir(root());
        };
        let mut install = Command::new(&helm);
        install.args(["plugin", "install", &root().join("helm-plugin").display().to_string()]);
        env(&mut install);
        let out = install.output().unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            helm.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let mut run = Command::new(&helm);
        run.args([
            "-n",
            "shop",
            "chartup",
            "plan",
            "db",
            "--from",
            "charts/kvstore/5.7.0",
            "--to",
            "charts/kvstore/6.0.0",
            "-o",
            "json",
        ]);
        env(&mut run);
        let out = run.output().unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            helm.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let p: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            p["release"]["namespace"],
            "shop",
            "{}: helm's -n reaches chartup",
            helm.display()
        );
        assert_eq!(p["release"]["name"], "db");
    }
}

/// `--debug` on a YAML error prints every rendered document, the invalid one included, then the
/// error without helm's hint; on an execution error, an empty manifest. Compared with helm 4
/// (whose document order is Go map order, so documents are compared as a set).
#[test]
fn debug_prints_the_invalid_document_as_helm() {
    let dir = tempfile::tempdir().unwrap();
    let c = dir.path().join("bad");
    std::fs::create_dir_all(c.join("templates")).unwrap();
    std::fs::write(c.join("Chart.yaml"), "apiVersion: v2\nname: bad\nversion: 1.0.0\n").unwrap();
    std::fs::write(
        c.join("templates/ok.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\ndata:\n  a: \"1\"\n",
    )
    .unwrap();
    std::fs::write(c.join("templates/blank.yaml"), "{{- /* nothing */ -}}\n").unwrap();
    std::fs::write(
        c.join("templates/bad.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  a: [1\n  b: 2\n",
    )
    .unwrap();
    let chart = c.display().to_string();
    let run_helm = |args: &[&str]| {
        let out = Command::new(helm()).args(args).output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let docs = |s: &str| {
        // The blank line between documents goes with whichever came first: compare them trimmed.
        let mut d: Vec<String> = s.split("---\n").map(|d| d.trim_end().to_string()).collect();
        d.sort();
        d
    };
    let error_line = |s: &str| {
        s.lines()
            .filter(|l| !l.starts_with("level=") && !l.starts_with("debug: "))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let (hok, hout, herr) = run_helm(&["template", "x", &chart, "--debug"]);
    let (ok, out, err) = chartup(&["template", "x", &chart, "--debug"]);
    assert!(!hok && !ok);
    assert!(hout.contains("a: [1"), "{hout}");
    assert_eq!(docs(&out), docs(&hout));
    assert_eq!(out.len(), hout.len());
    assert_eq!(error_line(&err), error_line(&herr));
    // Without --debug: nothing on stdout, and the hint.
    let (_, hout, herr) = run_helm(&["template", "x", &chart]);
    let (_, out, err) = chartup(&["template", "x", &chart]);
    assert_eq!((out, err), (hout, herr));
    // An execution error: helm prints an empty manifest (a newline) with --debug.
    std::fs::write(c.join("templates/bad.yaml"), "a: {{ fail \"boom\" }}\n").unwrap();
    let (_, hout, herr) = run_helm(&["template", "x", &chart, "--debug"]);
    let (_, out, err) = chartup(&["template", "x", &chart, "--debug"]);
    assert_eq!((out, error_line(&err)), (hout, error_line(&herr)));
}

/// helm's `--wait` (helm 3: a bool; helm 4: `--wait=STRATEGY`) and `--wait-for-jobs` are accepted
/// so scripts run unchanged, without swallowing the release name that follows.
#[test]
fn helms_wait_flags_are_accepted() {
    use clap::Parser as _;
    for args in [
        &["chartup", "apply", "--wait", "r", "charts/kvstore/6.0.0"][..],
        &[
            "chartup",
            "apply",
            "--wait=watcher",
            "--wait-for-jobs",
            "r",
            "charts/kvstore/6.0.0",
        ],
        &["chartup", "rollback", "--wait", "r", "1"],
    ] {
        let cli = chartup::cli::Cli::try_parse_from(args).unwrap_or_else(|e| panic!("{args:?}: {e}"));
        match cli.command {
            chartup::cli::Command::Apply(a) => assert_eq!(a.args, ["r", "charts/kvstore/6.0.0"], "{args:?}"),
            chartup::cli::Command::Rollback(_) => {}
            other => panic!("{other:?}"),
        }
    }
}

/// "1 objects unchanged" (issue #18): one object is an object.
#[test]
fn one_object_is_singular() {
    let dir = tempfile::tempdir().unwrap();
    let c = dir.path().join("one");
    std::fs::create_dir_all(c.join("templates")).unwrap();
    std::fs::write(c.join("Chart.yaml"), "apiVersion: v2\nname: one\nversion: 1.0.0\n").unwrap();
    std::fs::write(
        c.join("templates/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: one\ndata:\n  a: \"1\"\n",
    )
    .unwrap();
    let chart = c.display().to_string();
    let (ok, out, err) = chartup(&["plan", "r", "--from", &chart, "--to", &chart]);
    assert!(ok, "{err}");
    assert!(out.contains("(none: 1 object unchanged)"), "{out}");
    assert!(!out.contains("1 objects"), "{out}");
}
