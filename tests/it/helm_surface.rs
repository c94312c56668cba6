//! Differential tests of the Helm-user surface of `chartup template`: the same command line runs
//! through the real helm (the oracle) and chartup, and the two must agree — same stdout when helm
//! succeeds, a failure when helm fails (chartup's message then names what is wrong, and never
//! panics). Each test is a divergence found by differential testing (session 10), kept minimal.
//! Without helm the tests skip, except under CI=true, where they fail.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A chart whose one template prints what these tests vary: the release, its namespace and the
/// values.
fn dump_chart(dir: &Path) -> PathBuf {
    let chart = dir.join("dump");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(chart.join("Chart.yaml"), "apiVersion: v2\nname: dump\nversion: 1.0.0\n").unwrap();
    std::fs::write(chart.join("values.yaml"), "a: 1\n").unwrap();
    std::fs::write(
        chart.join("templates/dump.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n  namespace: {{ .Release.Namespace | quote }}\ndata:\n  values: {{ toJson .Values | quote }}\n",
    )
    .unwrap();
    chart
}

/// Runs `BIN template ARGS…` in `dir` with a clean Helm environment plus `env`.
fn run(bin: &Path, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(bin);
    cmd.arg("template").args(args).current_dir(dir);
    for k in ["HELM_NAMESPACE", "HELM_KUBECONTEXT", "KUBECONFIG"] {
        cmd.env_remove(k);
    }
    cmd.env("KUBECONFIG", dir.join("no-kubeconfig")).env("HOME", dir);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// helm and chartup on the same command line: equal stdout if helm succeeds, else both fail and
/// chartup's error contains `names` and no panic. Returns chartup's stderr.
fn same_as_helm(helm: &Path, dir: &Path, args: &[&str], env: &[(&str, &str)], names: &str) -> String {
    let h = run(helm, dir, args, env);
    let c = run(Path::new(env!("CARGO_BIN_EXE_chartup")), dir, args, env);
    let (cerr, herr) = (text(&c.stderr), text(&h.stderr));
    assert!(!cerr.contains("panicked"), "{args:?}: chartup panicked: {cerr}");
    if h.status.success() {
        assert!(
            c.status.success(),
            "{args:?} {env:?}: helm succeeds, chartup fails: {cerr}"
        );
        assert_eq!(text(&c.stdout), text(&h.stdout), "{args:?} {env:?}");
    } else {
        assert!(
            !c.status.success(),
            "{args:?} {env:?}: helm fails ({herr}), chartup succeeds:\n{}",
            text(&c.stdout)
        );
        assert!(c.stdout.is_empty(), "{args:?}: output on failure");
        assert!(
            cerr.contains(names),
            "{args:?}: chartup's error does not name {names:?}: {cerr}"
        );
    }
    cerr
}

// helm install/template validate the release name (chartutil.ValidateReleaseName: DNS-1123
// subdomain labels, at most 53 characters, not empty) before rendering; chartup rendered anything.
#[test]
fn release_names_are_validated_like_helm() {
    let Some(helm) = testkit::helm_or_skip() else { return };
    let tmp = tempfile::tempdir().unwrap();
    dump_chart(tmp.path());
    let long_ok = "a".repeat(53);
    let too_long = "a".repeat(54);
    for name in [
        "ok",
        "a.b-c.d",
        "0",
        long_ok.as_str(),
        "BadName",
        "r_x",
        "r-",
        "a..b",
        ".a",
        "é",
        "",
        too_long.as_str(),
    ] {
        let err = same_as_helm(&helm, tmp.path(), &[name, "dump"], &[], "release name");
        if !err.is_empty() {
            assert!(err.contains(&format!("{name:?}")), "{name}: {err}");
        }
    }
}

fn kubeconfig(current: Option<&str>, contexts: &[(&str, &str)]) -> String {
    let mut s = String::from("apiVersion: v1\nkind: Config\n");
    if let Some(c) = current {
        s.push_str(&format!("current-context: {c}\n"));
    }
    s.push_str("contexts:\n");
    for (name, ns) in contexts {
        s.push_str(&format!(
            "- name: {name}\n  context:\n    cluster: c\n    namespace: {ns}\n"
        ));
    }
    s.push_str("clusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:1\n");
    s
}

// helm takes .Release.Namespace from the kubeconfig as client-go loads it: every file of
// $KUBECONFIG merged (the first to set a field wins), the context of --kube-context or
// $HELM_KUBECONTEXT, --kubeconfig instead of $KUBECONFIG. chartup read the first file of
// $KUBECONFIG alone, ignored $HELM_KUBECONTEXT and refused --kubeconfig/--kube-context.
#[test]
fn namespace_comes_from_the_kubeconfig_as_helm_loads_it() {
    let Some(helm) = testkit::helm_or_skip() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    dump_chart(dir);
    std::fs::write(
        dir.join("a"),
        kubeconfig(None, &[("dev", "from-a"), ("other", "other-a")]),
    )
    .unwrap();
    std::fs::write(
        dir.join("b"),
        kubeconfig(Some("dev"), &[("dev", "from-b"), ("third", "third-b")]),
    )
    .unwrap();
    std::fs::write(dir.join("c"), kubeconfig(Some("nope"), &[])).unwrap();
    let cases: &[(&[&str], &[(&str, &str)], &str)] = &[
        (&[], &[("KUBECONFIG", "a:b")], "from-a"),
        (&[], &[("KUBECONFIG", "missing:b")], "from-b"),
        (&[], &[("KUBECONFIG", "c:b")], "default"),
        (&[], &[("KUBECONFIG", "b"), ("HELM_KUBECONTEXT", "third")], "third-b"),
        (&[], &[("KUBECONFIG", "a:b"), ("HELM_KUBECONTEXT", "other")], "other-a"),
        (&["--kube-context", "third"], &[("KUBECONFIG", "b")], "third-b"),
        (&["--kube-context", "nope"], &[("KUBECONFIG", "b")], "default"),
        (
            &["--kubeconfig", "a", "--kube-context", "other"],
            &[("KUBECONFIG", "b")],
            "other-a",
        ),
        (&["--kubeconfig", "a"], &[("KUBECONFIG", "b")], "default"),
        (&["--kubeconfig", "gone"], &[("KUBECONFIG", "b")], "default"),
        (
            &["-n", "flag"],
            &[("KUBECONFIG", "b"), ("HELM_KUBECONTEXT", "third")],
            "flag",
        ),
        (&[], &[("KUBECONFIG", "b"), ("HELM_NAMESPACE", "env")], "env"),
        // helm does not trim: a blank HELM_NAMESPACE is that blank namespace.
        (&[], &[("KUBECONFIG", "b"), ("HELM_NAMESPACE", " ")], " "),
        // An explicit empty flag replaces its variable (the variable is only the flag's default).
        (&["-n", ""], &[("KUBECONFIG", "b"), ("HELM_NAMESPACE", "env")], "from-b"),
        (&["--namespace="], &[("HELM_NAMESPACE", "env")], "default"),
        (
            &["--kube-context", ""],
            &[("KUBECONFIG", "b"), ("HELM_KUBECONTEXT", "third")],
            "from-b",
        ),
        (&["--kubeconfig", ""], &[("KUBECONFIG", "b")], "from-b"),
    ];
    for (flags, env, want) in cases {
        let mut args = vec!["dump"];
        args.extend_from_slice(flags);
        same_as_helm(&helm, dir, &args, env, "");
        let out = run(Path::new(env!("CARGO_BIN_EXE_chartup")), dir, &args, env);
        assert!(
            text(&out.stdout).contains(&format!("namespace: \"{want}\"")),
            "{args:?} {env:?}: want {want}: {}",
            text(&out.stdout)
        );
    }
}

// helm parses --kube-version with k8s.io's version.ParseGeneric: `\s*v?N.N[.N…]` and anything
// after it ignored (managed clusters' `1.29.4-gke.1`, `1.25-eks`, `1.20.3+k3s1`), a leading zero
// refused in the major only; String() — what Chart.yaml's kubeVersion is checked against — is
// the numbers alone. An empty --kube-version is no --kube-version. chartup kept the suffix (so a
// `kubeVersion: ">=1.20.0"` chart failed on `1.20.3-gke.1` as a pre-release), refused `1.20x`,
// accepted `01.20` and refused "".
#[test]
fn kube_versions_parse_as_helm_parses_them() {
    let Some(helm) = testkit::helm_or_skip() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let chart = tmp.path().join("kv");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: kv\nversion: 0.1.0\nkubeVersion: \">=1.20.0\"\n",
    )
    .unwrap();
    std::fs::write(
        chart.join("templates/t.yaml"),
        "s: {{ .Capabilities.KubeVersion.String | quote }}\nv: {{ .Capabilities.KubeVersion.Version | quote }}\n\
         g: {{ .Capabilities.KubeVersion.GitVersion | quote }}\nm: {{ .Capabilities.KubeVersion.Major }}.{{ .Capabilities.KubeVersion.Minor }}\n\
         p: {{ .Capabilities.KubeVersion }}\n",
    )
    .unwrap();
    for v in [
        "1.20.3",
        "v1.29.4-gke.1043000",
        "1.20.3+k3s1",
        "v1.21.0-rc.1",
        "1.25-eks",
        "1.20x",
        "1.20.x",
        "1.20.0.0",
        "1.02",
        "01.20",
        "1.19.9-gke.1",
        " 1.20",
        "1.20 ",
        "",
        "1",
        "v",
        "1.x",
        "99999999999999999999.1",
        "1.99999999999999999999",
    ] {
        same_as_helm(&helm, tmp.path(), &["kv", "--kube-version", v], &[], "");
    }
}

// -f/--values and -a/--api-versions are pflag string slices: each occurrence is read as one CSV
// record (Go's encoding/csv), so an empty -f is no file at all (`-f "$EXTRA"` with EXTRA unset),
// a quoted field may hold a comma, and a stray quote is an error. chartup split on commas and
// refused the empty value.
#[test]
fn values_and_api_version_lists_split_as_csv_like_helm() {
    let Some(helm) = testkit::helm_or_skip() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let chart = dump_chart(dir);
    std::fs::write(
        chart.join("templates/apis.yaml"),
        "apis: {{ list (.Capabilities.APIVersions.Has \"foo/v1\") (.Capabilities.APIVersions.Has \"x,y\") (.Capabilities.APIVersions.Has \"bar/v1\") | toJson | quote }}\n",
    )
    .unwrap();
    std::fs::write(dir.join("a.yaml"), "a: 2\nb: 1\n").unwrap();
    std::fs::write(dir.join("b.yaml"), "b: 3\n").unwrap();
    std::fs::write(dir.join("c,d.yaml"), "c: 4\n").unwrap();
    let cases: &[&[&str]] = &[
        &["-f", ""],
        &["--values="],
        &["-f", "a.yaml", "-f", ""],
        &["-f", "\"a.yaml\""],
        &["-f", "\"a.yaml\",b.yaml"],
        &["-f", "\"c,d.yaml\""],
        &["-f", "\"c,d.yaml\",\"a.yaml\""],
        &["-f", "a.yaml\nb.yaml"],
        &["-f", "\na.yaml"],
        &["-f", "a.yaml,"],
        &["-f", "a.yaml,,b.yaml"],
        &["-f", "\"a.yaml"],
        &["-f", "a\"yaml"],
        &["-f", "\"a.yaml\"x"],
        &["-a", ""],
        &["-a", "\"foo/v1\""],
        &["-a", "\"x,y\",bar/v1"],
        &["-a", "foo/v1\nbar/v1"],
        &["-a", "fo\"o/v1"],
    ];
    for args in cases {
        let mut all = vec!["dump"];
        all.extend_from_slice(args);
        same_as_helm(&helm, dir, &all, &[], "");
    }
}

// `chartup plan NAME` stands for `helm upgrade [--install] NAME`, which checks the name with the
// same ValidateReleaseName as `helm template` (pkg/action/upgrade.go, install.go): a plan for a
// name helm refuses cannot be applied. The oracle is helm template on the same name.
#[test]
fn plan_refuses_the_release_names_helm_refuses() {
    let Some(helm) = testkit::helm_or_skip() else { return };
    let tmp = tempfile::tempdir().unwrap();
    dump_chart(tmp.path());
    for name in ["ok", "a.b-c", "BadName", "r_x", "r-", "é", &"a".repeat(54)] {
        let h = run(&helm, tmp.path(), &[name, "dump"], &[]);
        let out = Command::new(env!("CARGO_BIN_EXE_chartup"))
            .args(["plan", name, "--from", "dump", "--to", "dump"])
            .current_dir(tmp.path())
            .env("KUBECONFIG", tmp.path().join("none"))
            .env_remove("HELM_NAMESPACE")
            .output()
            .unwrap();
        let err = text(&out.stderr);
        assert_eq!(out.status.success(), h.status.success(), "{name:?}: {err}");
        if !h.status.success() {
            assert!(err.contains("release name") && err.contains(name), "{name:?}: {err}");
            assert!(!err.contains("panicked"), "{err}");
        }
    }
}

// `.Capabilities.KubeVersion` is a struct whose String() (pointer receiver) is the normalized
// version: a template action prints the addressable field through it, but a function argument is
// a copy, which fmt prints as the struct itself (`{v1.21.3-gke.1 v1.21.3 1 21}`); toJson/toYaml
// write the exported fields (encoding/json names and order; toYaml sorts them). chartup printed
// String() everywhere and wrote {} for the structs.
#[test]
fn capabilities_print_and_serialize_like_helm() {
    let Some(helm) = testkit::helm_or_skip() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let chart = tmp.path().join("caps");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(chart.join("Chart.yaml"), "apiVersion: v2\nname: caps\nversion: 0.1.0\n").unwrap();
    std::fs::write(
        chart.join("templates/t.yaml"),
        "a: {{ .Capabilities.KubeVersion }}\n\
         b: {{ .Capabilities.KubeVersion | quote }}\n\
         c: {{ printf \"%v|%s\" .Capabilities.KubeVersion .Capabilities.KubeVersion | quote }}\n\
         d: {{ toString .Capabilities.KubeVersion | quote }}\n\
         e: {{ $k := .Capabilities.KubeVersion }}{{ $k }}\n\
         f: {{ print .Capabilities.KubeVersion | quote }}\n\
         g: {{ toJson .Capabilities.KubeVersion | quote }}\n\
         h: {{ toYaml .Capabilities.KubeVersion | quote }}\n\
         i: {{ toJson .Capabilities.HelmVersion | quote }}\n\
         j: {{ toYaml .Capabilities.HelmVersion | quote }}\n\
         k: {{ toJson .Capabilities | sha256sum }}\n\
         l: {{ toYaml .Capabilities | sha256sum }}\n\
         m: {{ .Capabilities.HelmVersion | quote }}\n\
         n: {{ .Capabilities | toString | sha256sum }}\n",
    )
    .unwrap();
    for flags in [
        &[][..],
        &["--kube-version", "1.21.3-gke.1"],
        &["--api-versions", "x/v1"],
    ] {
        let mut args = vec!["caps"];
        args.extend_from_slice(flags);
        same_as_helm(&helm, tmp.path(), &args, &[], "");
    }
}

// helm template --output-dir writes every file and leaves its manifest stream empty, so a
// --show-only given with it never finds its template: helm writes the files, prints them, then
// fails with `could not find template X in chart`. chartup ignored --show-only there and succeeded.
#[test]
fn show_only_with_output_dir_fails_like_helm() {
    let Some(helm) = testkit::helm_or_skip() else { return };
    let tmp = tempfile::tempdir().unwrap();
    dump_chart(tmp.path());
    let mut outputs = Vec::new();
    for (tool, bin) in [
        ("helm", helm.clone()),
        ("chartup", PathBuf::from(env!("CARGO_BIN_EXE_chartup"))),
    ] {
        let out_dir = tmp.path().join(tool);
        let out = run(
            &bin,
            tmp.path(),
            &[
                "dump",
                "--output-dir",
                out_dir.to_str().unwrap(),
                "-s",
                "templates/dump.yaml",
            ],
            &[],
        );
        let stdout = text(&out.stdout).replace(out_dir.to_str().unwrap(), "OUT");
        assert!(!text(&out.stderr).contains("panicked"));
        outputs.push((
            out.status.success(),
            stdout,
            out_dir.join("dump/templates/dump.yaml").exists(),
        ));
        if tool == "chartup" && !out.status.success() {
            assert!(
                text(&out.stderr).contains("templates/dump.yaml"),
                "{}",
                text(&out.stderr)
            );
        }
    }
    assert_eq!(
        outputs[1], outputs[0],
        "(success, stdout, file written): chartup vs helm"
    );
}

// helm's flags are pflag's: a boolean flag also takes `--flag=VALUE` (Go's ParseBool: 1, t, T,
// TRUE, true, True and their false forms; `--include-crds=false` turns it off), and a flag given
// twice keeps its last value (`-n a -n b`). chartup refused both forms.
#[test]
fn flags_parse_as_pflag_parses_them() {
    let Some(helm) = testkit::helm_or_skip() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let chart = dump_chart(tmp.path());
    std::fs::create_dir_all(chart.join("crds")).unwrap();
    std::fs::write(
        chart.join("crds/c.yaml"),
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: cs.x.io\n",
    )
    .unwrap();
    std::fs::write(
        chart.join("templates/hooks.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: t\n  annotations:\n    helm.sh/hook: test\n---\n\
         apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: up-{{ .Release.IsUpgrade }}\n  annotations:\n    helm.sh/hook: pre-install\n",
    )
    .unwrap();
    let mut cases: Vec<Vec<String>> = Vec::new();
    for flag in [
        "--include-crds",
        "--skip-tests",
        "--no-hooks",
        "--is-upgrade",
        "--skip-schema-validation",
        "--devel",
    ] {
        for v in ["true", "false", "1", "0", "t", "F", "TRUE", "False", "yes", ""] {
            cases.push(vec![format!("{flag}={v}")]);
        }
    }
    for twice in [
        &["-n", "a", "-n", "b"][..],
        &["--namespace=a", "-n", "b"],
        &["--kube-version", "1.20.0", "--kube-version", "1.21.0"],
        &["--include-crds", "--include-crds=false"],
        &["--include-crds=false", "--include-crds"],
    ] {
        cases.push(twice.iter().map(|s| s.to_string()).collect());
    }
    for case in &cases {
        let mut args = vec!["dump"];
        args.extend(case.iter().map(String::as_str));
        same_as_helm(&helm, tmp.path(), &args, &[], "");
    }
}

// --show-only patterns are Go's filepath.Match after filepath.ToSlash, which changes nothing on
// Linux: a backslash escapes the next character (`templates/\dump.yaml` is templates/dump.yaml).
// chartup turned it into a slash and found nothing.
#[test]
fn show_only_patterns_keep_backslash_escapes() {
    let Some(helm) = testkit::helm_or_skip() else { return };
    let tmp = tempfile::tempdir().unwrap();
    dump_chart(tmp.path());
    for pattern in [
        "templates/\\dump.yaml",
        "templates/\\d*",
        "templates/\\*",
        "templates\\/dump.yaml",
    ] {
        same_as_helm(
            &helm,
            tmp.path(),
            &["dump", "-s", pattern],
            &[],
            "could not find template",
        );
    }
}
