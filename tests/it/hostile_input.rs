//! Hostile input (issue 14): every attack ends in helm's output or a clear error naming the
//! file or template — never an abort, never a silently different result. Where helm answers,
//! the expectation is the real helm's output (run here); where helm itself crashes or reads
//! forever, the test names that and checks chartup's error instead.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn helm() -> Option<PathBuf> {
    let found = std::env::var_os("CHARTUP_HELM")
        .map(PathBuf::from)
        .into_iter()
        .chain(
            std::env::var_os("PATH")
                .into_iter()
                .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
                .map(|d| d.join("helm")),
        )
        .chain([Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/bin/helm")])
        .find(|p| p.is_file());
    if found.is_none() && std::env::var("CI").as_deref() == Ok("true") {
        panic!("helm is required when CI=true");
    }
    found
}

/// A chart `name` in `dir` with one template.
fn chart(dir: &Path, name: &str, template: &str) -> PathBuf {
    let c = dir.join(name);
    std::fs::create_dir_all(c.join("templates")).unwrap();
    std::fs::write(
        c.join("Chart.yaml"),
        format!("apiVersion: v2\nname: {name}\nversion: 0.1.0\n"),
    )
    .unwrap();
    std::fs::write(c.join("templates/t.yaml"), template).unwrap();
    c
}

fn run(bin: &Path, dir: &Path, args: &[&str]) -> Output {
    Command::new(bin).args(args).current_dir(dir).output().unwrap()
}

fn chartup(dir: &Path, args: &[&str]) -> Output {
    run(Path::new(env!("CARGO_BIN_EXE_chartup")), dir, args)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `helm template ARGS` and `chartup template ARGS` agree: same exit status, same stdout, and
/// on failure the same `Error:` line.
fn same_as_helm(dir: &Path, args: &[&str]) -> Option<Output> {
    let h = helm()?;
    let mut a = vec!["template"];
    a.extend(args);
    let want = run(&h, dir, &a);
    let got = chartup(dir, &a);
    assert_eq!(
        got.status.code(),
        want.status.code(),
        "exit status; helm stderr: {}\nchartup stderr: {}",
        text(&want.stderr),
        text(&got.stderr)
    );
    assert!(got.stdout == want.stdout, "stdout differs from helm's");
    let error_line = |o: &Output| {
        text(&o.stderr)
            .lines()
            .find(|l| l.starts_with("Error:"))
            .map(str::to_string)
    };
    assert_eq!(error_line(&got), error_line(&want));
    Some(got)
}

fn nested_dict(levels: usize) -> String {
    format!("{{{{ $d := dict }}}}{{{{ range until {levels} }}}}{{{{ $d = dict \"a\" $d }}}}{{{{ end }}}}")
}

#[test]
fn set_with_20000_nested_indexes_renders_as_helm() {
    let dir = tempfile::tempdir().unwrap();
    chart(dir.path(), "setdeep", "x: {{ len .Values.a }}\n");
    let set = format!("a{}=1", "[0]".repeat(20_000));
    if let Some(o) = same_as_helm(dir.path(), &["setdeep", "--set", &set]) {
        assert!(text(&o.stdout).contains("x: 1"));
    }
}

#[test]
fn deep_equal_on_self_referencing_dicts_answers_as_helm() {
    let dir = tempfile::tempdir().unwrap();
    chart(
        dir.path(),
        "deq",
        "{{ $d := dict }}{{ $_ := set $d \"a\" $d }}{{ $e := dict }}{{ $_ := set $e \"a\" $e }}\
         a: {{ deepEqual $d $d }}\nb: {{ deepEqual $d $e }}\nc: {{ deepEqual (list $d) (list $d 1) }}\n",
    );
    same_as_helm(dir.path(), &["deq"]);
}

/// helm dies of a Go stack overflow (`goroutine stack exceeds 1000000000-byte limit`) on these:
/// chartup answers with an error naming the template and the call.
#[test]
fn deep_copy_and_printf_of_self_referencing_dicts_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    for (name, call) in [
        ("dcp", "deepCopy $d"),
        ("pf", "printf \"%v\" $d"),
        ("pr", "print $d"),
        ("tj", "toRawJson $d"),
    ] {
        chart(
            dir.path(),
            name,
            &format!("{{{{ $d := dict }}}}{{{{ $_ := set $d \"a\" $d }}}}x: {{{{ {call} }}}}\n"),
        );
        let o = chartup(dir.path(), &["template", name]);
        assert_eq!(o.status.code(), Some(1), "{name}: {}", text(&o.stderr));
        let err = text(&o.stderr);
        assert!(err.contains(&format!("{name}/templates/t.yaml:1:")), "{err}");
        assert!(
            err.contains("contains itself") || err.contains("encountered a cycle"),
            "{err}"
        );
    }
}

#[test]
fn json_and_yaml_writers_render_deep_values_as_helm() {
    let dir = tempfile::tempdir().unwrap();
    // 400 and 3,000 levels render; at 10,000 nested maps toYaml and toPrettyJson give "" in helm
    // (go-yaml's and encoding/json's limits) while toJson still renders.
    for levels in [400, 3000, 10_000] {
        let name = format!("deep{levels}");
        let t = format!(
            "{}j: {{{{ toJson $d | sha256sum }}}}\nr: {{{{ toRawJson $d | len }}}}\ny: {{{{ toYaml $d | sha256sum }}}}\n\
             p: {{{{ toPrettyJson $d | sha256sum }}}}\n",
            nested_dict(levels)
        );
        chart(dir.path(), &name, &t);
        same_as_helm(dir.path(), &[&name]);
    }
}

#[test]
fn nested_ifs_beyond_10000_render_as_helm() {
    let dir = tempfile::tempdir().unwrap();
    let n = 20_000;
    let t = format!("x: {}ok{}\n", "{{ if true }}".repeat(n), "{{ end }}".repeat(n));
    chart(dir.path(), "ifs", &t);
    if let Some(o) = same_as_helm(dir.path(), &["ifs"]) {
        assert!(text(&o.stdout).contains("x: ok"));
    }
}

#[test]
fn values_nesting_up_to_helms_limit() {
    let dir = tempfile::tempdir().unwrap();
    chart(dir.path(), "vdeep", "x: {{ .Values.a | len }}\n");
    // 10,001 nested flow sequences: go-yaml's own limit answers before the JSON decoder's.
    for n in [300, 9_999, 10_000, 10_001] {
        let f = dir.path().join(format!("v{n}.yaml"));
        std::fs::write(&f, format!("a: {}{}\n", "[".repeat(n), "]".repeat(n))).unwrap();
        same_as_helm(dir.path(), &["vdeep", "-f", &f.to_string_lossy()]);
    }
}

#[test]
fn invalid_utf8_in_values_is_helms_error() {
    let dir = tempfile::tempdir().unwrap();
    let c = chart(dir.path(), "utf", "x: {{ .Values.a }}\n");
    for (i, bytes) in [
        &b"a: \"b\xff\xfec\"\n"[..],
        b"a: b\xc3(c\n",
        b"a: b\xe2\x82\n",
        b"a: b\xc0\xafc\n",
        b"a: b\xed\xa0\x80c\n",
    ]
    .iter()
    .enumerate()
    {
        let f = dir.path().join(format!("bad{i}.yaml"));
        std::fs::write(&f, bytes).unwrap();
        same_as_helm(dir.path(), &["utf", "-f", &f.to_string_lossy()]);
    }
    std::fs::write(c.join("values.yaml"), b"a: b\xffc\n").unwrap();
    same_as_helm(dir.path(), &["utf"]);
}

#[test]
fn template_rendering_to_a_scalar_fails_as_helm() {
    let dir = tempfile::tempdir().unwrap();
    for (name, t) in [
        ("scal", "just a string\n"),
        ("num", "42\n"),
        ("arr", "- a\n- b\n"),
        ("boo", "true\n"),
    ] {
        chart(dir.path(), name, t);
        same_as_helm(dir.path(), &[name]);
    }
}

/// Helm 4.1.4 follows a symlink in a chart directory, also to a file outside the chart, and
/// includes its content (logging `found symbolic link in path`): chartup does the same.
#[test]
fn symlinks_leaving_the_chart_behave_as_in_helm() {
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("outside.txt");
    std::fs::write(&outside, "from outside the chart\n").unwrap();
    let c = chart(dir.path(), "sym", "x: {{ .Files.Get \"f.txt\" | quote }}\n");
    std::os::unix::fs::symlink(&outside, c.join("f.txt")).unwrap();
    same_as_helm(dir.path(), &["sym"]);
    // A linked template holding a scalar fails in both, naming it.
    std::os::unix::fs::symlink(&outside, c.join("templates/leak.yaml")).unwrap();
    same_as_helm(dir.path(), &["sym"]);
}

#[test]
fn until_and_seq_at_a_million_elements_match_helm() {
    let dir = tempfile::tempdir().unwrap();
    chart(
        dir.path(),
        "until1m",
        "a: {{ until 1000000 | len }}\nb: {{ seq 1000000 | len }}\nc: {{ untilStep 0 1000000 1 | len }}\n",
    );
    same_as_helm(dir.path(), &["until1m"]);
}

/// Helm reads `-f` and `--set-file` without a limit (`/dev/zero` never ends); chartup stops at
/// its documented cap with an error naming the file.
#[test]
fn values_and_set_file_from_dev_zero_end_in_an_error() {
    let dir = tempfile::tempdir().unwrap();
    chart(dir.path(), "z", "x: 1\n");
    for args in [["-f", "/dev/zero"], ["--set-file", "a=/dev/zero"]] {
        let o = chartup(dir.path(), &["template", "z", args[0], args[1]]);
        assert_eq!(o.status.code(), Some(1));
        let err = text(&o.stderr);
        assert!(err.contains("/dev/zero: larger than 104857600 bytes"), "{err}");
    }
}

/// A chart archive (`.tgz`) whose `charts/` holds `inner`.
fn tgz(name: &str, extra: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut b = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best()));
    let mut add = |path: String, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, path, data).unwrap();
    };
    add(
        format!("{name}/Chart.yaml"),
        format!("apiVersion: v2\nname: {name}\nversion: 0.1.0\n").as_bytes(),
    );
    for (p, d) in extra {
        add(format!("{name}/{p}"), d);
    }
    b.into_inner().unwrap().finish().unwrap()
}

/// Nested subchart archives: nesting depth and the total they inflate to are capped (Helm caps
/// each archive alone, so a few MB of nested archives inflate to gigabytes there).
#[test]
fn nested_subchart_archives_are_bounded() {
    use chartup::chart::{load_archive, Limits};
    // 150 levels of charts/c.tgz: refused with the depth limit, no stack overflow.
    let mut inner = tgz("c", &[]);
    for _ in 0..150 {
        inner = tgz("c", &[("charts/c.tgz", inner)]);
    }
    let e = load_archive(&inner, Limits::default()).unwrap_err().to_string();
    assert!(e.contains("nest deeper than 100 levels"), "{e}");
    // 20 levels each holding 8 MiB of zeros: each archive is within Helm's 100 MiB, the sum is not.
    let zeros = vec![0u8; 8 << 20];
    let limits = Limits {
        max_chart_size: 100 << 20,
        max_file_size: 10 << 20,
    };
    let mut inner = tgz("c", &[("z.bin", zeros.clone())]);
    for _ in 0..20 {
        inner = tgz("c", &[("z.bin", zeros.clone()), ("charts/c.tgz", inner)]);
    }
    let e = load_archive(&inner, limits).unwrap_err().to_string();
    assert!(e.contains("inflate to more than 104857600 bytes together"), "{e}");
    // A few levels load as before.
    let mut inner = tgz("c", &[]);
    for _ in 0..5 {
        inner = tgz("c", &[("charts/c.tgz", inner)]);
    }
    assert!(load_archive(&inner, Limits::default()).is_ok());
}

#[test]
fn invalid_utf8_in_templates_is_helms_error() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in [
        ("t1", &b"x: \"a\xffb\"\n"[..]),
        ("t2", b"x: a\xe2\x82\n"),
        // In a template comment the bytes never reach the output: helm renders.
        ("t3", b"{{/* \xff */}}x: 1\n"),
    ] {
        let c = chart(dir.path(), name, "");
        std::fs::write(c.join("templates/t.yaml"), bytes).unwrap();
        same_as_helm(dir.path(), &[name]);
    }
}

/// `fromJson`/`fromJsonArray` read as encoding/json does: 10,000 nested levels parse, one more is
/// Go's `exceeded max depth` error (chartup stopped at 1,000 with another text).
#[test]
fn from_json_nesting_up_to_gos_limit() {
    let dir = tempfile::tempdir().unwrap();
    for n in [1000, 5000, 10_000, 10_001] {
        let name = format!("fj{n}");
        let t = format!(
            "x: {{{{ fromJsonArray (printf \"%s%s\" (repeat {n} \"[\") (repeat {n} \"]\")) | toJson | sha256sum }}}}\n\
             e: {{{{ fromJsonArray (printf \"%s%s\" (repeat {n} \"[\") (repeat {n} \"]\")) | toJson | trunc 60 | quote }}}}\n\
             z: {{{{ fromJson (printf \"%s1%s\" (repeat {n} \"{{\\\"a\\\":\") (repeat {n} \"}}\")) | toJson | trunc 60 | quote }}}}\n"
        );
        chart(dir.path(), &name, &t);
        same_as_helm(dir.path(), &[&name]);
    }
}

/// `fromYaml`/`fromYamlArray` on deep flow collections: go-yaml's `exceeded max depth of 10000`
/// past 10,000 nested flow collections, encoding/json's error where only the JSON step fails.
#[test]
fn from_yaml_nesting_up_to_gos_limits() {
    let dir = tempfile::tempdir().unwrap();
    for n in [9_999, 10_000, 10_001] {
        let name = format!("fy{n}");
        let t = format!(
            "y: {{{{ fromYamlArray (printf \"%s%s\" (repeat {n} \"[\") (repeat {n} \"]\")) | toJson | trunc 90 | quote }}}}\n\
             w: {{{{ fromYaml (printf \"%s1%s\" (repeat {n} \"{{\\\"a\\\":\") (repeat {n} \"}}\")) | toJson | trunc 90 | quote }}}}\n\
             v: {{{{ fromYaml (printf \"b: %s1%s\" (repeat {n} \"{{\\\"a\\\":\") (repeat {n} \"}}\")) | toJson | trunc 90 | quote }}}}\n"
        );
        chart(dir.path(), &name, &t);
        same_as_helm(dir.path(), &[&name]);
    }
}

/// helm sorts hooks by each document's own annotations: a List whose item is annotated
/// `helm.sh/hook` stays among the manifests, a List annotated as a hook is printed with the hooks
/// (and left out by `--no-hooks`).
#[test]
fn hook_annotations_inside_a_list_render_as_helm() {
    let dir = tempfile::tempdir().unwrap();
    chart(
        dir.path(),
        "lh",
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: item\n    \
         annotations:\n      helm.sh/hook: pre-install\n---\napiVersion: v1\nkind: List\nmetadata:\n  name: hl\n  \
         annotations:\n    helm.sh/hook: post-install\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    \
         name: hooked\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\n",
    );
    same_as_helm(dir.path(), &["r", "lh"]);
    same_as_helm(dir.path(), &["r", "lh", "--no-hooks"]);
}

/// The issue's attack: a chart archive whose `charts/` nest `levels` deep, each level a `.tgz`
/// holding a tar of `Chart.yaml` and the next level. Made cheaply: each level's tar headers are
/// deflated, the inner archive (incompressible: gzip of gzip does not shrink) is copied into
/// stored deflate blocks, so building costs a memcpy and a CRC of every level (O(n²) bytes, about
/// 2 GB for 5,000 levels; zlib-rs, flate2's backend, is optimised in the dev profile for it).
fn nested_archive(levels: usize) -> Vec<u8> {
    use flate2::{Compress, Compression, FlushCompress};
    fn deflate_raw(data: &[u8], flush: FlushCompress, out: &mut Vec<u8>) {
        let mut c = Compress::new(Compression::best(), false);
        out.reserve(data.len() + 64);
        loop {
            let before = c.total_in() as usize;
            c.compress_vec(&data[before..], out, flush).unwrap();
            if c.total_in() as usize == data.len() && out.capacity() > out.len() {
                break;
            }
            out.reserve(64);
        }
    }
    fn header(path: &str, size: usize) -> Vec<u8> {
        let mut h = tar::Header::new_ustar();
        h.set_path(path).unwrap();
        h.set_size(size as u64);
        h.set_mode(0o644);
        h.set_cksum();
        h.as_bytes().to_vec()
    }
    let chart_yaml = b"apiVersion: v2\nname: c\nversion: 0.1.0\n";
    let mut chart_part = header("c/Chart.yaml", chart_yaml.len());
    chart_part.extend_from_slice(chart_yaml);
    chart_part.resize(1024, 0);
    let mut gz: Vec<u8> = Vec::new();
    for level in 0..levels {
        // The tar: Chart.yaml, then (below the innermost level) charts/c.tgz and its padding,
        // then the two zero blocks that end an archive.
        let mut prefix = chart_part.clone();
        let mut suffix = Vec::new();
        if level > 0 {
            prefix.extend(header("c/charts/c.tgz", gz.len()));
            suffix.resize((512 - gz.len() % 512) % 512, 0);
        }
        suffix.resize(suffix.len() + 1024, 0);
        let mut crc = flate2::Crc::new();
        crc.update(&prefix);
        crc.update(&gz);
        crc.update(&suffix);
        let total = prefix.len() + gz.len() + suffix.len();
        let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
        // A sync flush ends byte-aligned, so stored blocks and a fresh deflate stream can follow.
        deflate_raw(&prefix, FlushCompress::Sync, &mut out);
        for chunk in gz.chunks(65535) {
            let n = chunk.len() as u16;
            out.push(0); // BFINAL 0, BTYPE 00 (stored), then byte alignment
            out.extend(n.to_le_bytes());
            out.extend((!n).to_le_bytes());
            out.extend_from_slice(chunk);
        }
        deflate_raw(&suffix, FlushCompress::Finish, &mut out);
        out.extend(crc.sum().to_le_bytes());
        out.extend((total as u32).to_le_bytes());
        gz = out;
    }
    gz
}

/// The 5,000-level archive, built once and kept in the target's temporary directory.
fn five_thousand_levels() -> PathBuf {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hostile-nested-5000-v1.tgz");
    if !path.is_file() {
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, nested_archive(5000)).unwrap();
        std::fs::rename(&tmp, &path).unwrap();
    }
    path
}

#[test]
fn nested_archive_fixture_is_a_valid_chart() {
    // The generator's output is what the loader reads as nested charts (3 levels).
    let chart = chartup::chart::load_archive(&nested_archive(3), chartup::chart::Limits::default()).unwrap();
    assert_eq!(chart.dependencies.len(), 1);
    assert_eq!(chart.dependencies[0].dependencies.len(), 1);
    assert!(chart.dependencies[0].dependencies[0].dependencies.is_empty());
}

/// Run `cmd` to its end: (exit code, stderr, peak resident set in KiB, wall time). The peak is the
/// child's own (`wait4`), so tests running beside it do not count.
fn run_measured(cmd: &mut Command) -> (Option<i32>, String, u64, std::time::Duration) {
    use std::io::Read;
    let started = std::time::Instant::now();
    let mut child = cmd
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value; wait4 reaps the child it was given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as libc::pid_t, "wait4");
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    (code, err, usage.ru_maxrss as u64, started.elapsed())
}

/// The issue's shape: 5,000 nested subchart archives (helm inflates such a 3.9 MB file to 6.3 GB
/// before it fails). chartup stops at its nesting limit: a clear error naming the archive and
/// the depth, within seconds, with a bounded peak memory — reading stops early.
#[test]
fn five_thousand_nested_subchart_archives_end_early_in_a_clear_error() {
    let fixture = five_thousand_levels();
    let size = std::fs::metadata(&fixture).unwrap().len();
    let dir = tempfile::tempdir().unwrap();
    let (code, err, peak_kib, took) = run_measured(
        Command::new(env!("CARGO_BIN_EXE_chartup"))
            .args(["template", "x"])
            .arg(&fixture)
            .current_dir(dir.path()),
    );
    eprintln!("{size} bytes: exit {code:?} after {took:?}, peak RSS {peak_kib} KiB\n{err}");
    assert_eq!(code, Some(1), "{err}");
    // One line naming the depth and the archive path (its ends), not one wrapper per level.
    assert_eq!(
        err.trim_end(),
        "Error: error unpacking subchart c.tgz in c: subcharts nest deeper than 100 levels (chartup's limit): \
         level 101 is c/charts/c.tgz → c/charts/c.tgz → c/charts/c.tgz → … (96 more) … → c/charts/c.tgz → \
         c/charts/c.tgz"
    );
    assert!(peak_kib < 512 * 1024, "peak RSS {peak_kib} KiB");
    assert!(took < std::time::Duration::from_secs(20), "{took:?}");
}

/// The fuzz seeds (`fuzz/seeds/<target>/`: the issue's deep-nesting cases — 20,000 nested `[0]`,
/// 12,000 nested `{{if}}`, 10,000 nested flow collections, nested archives, a self-referencing
/// dict…) through what each fuzz target calls, on every test run (the fuzzer itself runs only
/// from scripts/fuzz.sh): an answer or an error, never a panic or a stack overflow.
#[test]
fn fuzz_seeds_run_cleanly() {
    use chartup::template::exec::{with_big_stack, Templates};
    use chartup::template::funcs::sprig;
    let seeds = |target: &str| -> Vec<(String, Vec<u8>)> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds").join(target);
        let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| {
                let p = e.unwrap().path();
                (p.display().to_string(), std::fs::read(&p).unwrap())
            })
            .collect();
        out.sort();
        assert!(!out.is_empty(), "no seeds in {}", dir.display());
        out
    };
    // libFuzzer calls a target on the main thread: 8 MiB of stack, not a test thread's 2 MiB.
    let on_fuzzer_stack = |f: Box<dyn FnOnce() + Send>| {
        std::thread::Builder::new()
            .stack_size(8 << 20)
            .spawn(f)
            .unwrap()
            .join()
            .unwrap()
    };
    let text = |b: &[u8]| String::from_utf8(b.to_vec()).ok();
    for (name, data) in seeds("template_parse") {
        let Some(t) = text(&data) else { continue };
        eprintln!("template_parse {name}");
        on_fuzzer_stack(Box::new(move || {
            let _ = Templates::new(sprig()).parse("fuzz/templates/t.yaml", &t);
        }));
    }
    for (name, data) in seeds("strvals") {
        let Some(t) = text(&data) else { continue };
        eprintln!("strvals {name}");
        let _ = with_big_stack(move || {
            use chartup::chart::strvals;
            use chartup::template::Map;
            let _ = strvals::parse_set(&t, &Map::new());
            let _ = strvals::parse_set_string(&t, &Map::new());
            let _ = strvals::parse_set_json(&t, &Map::new());
            let _ = strvals::parse_set_literal(&t, &Map::new());
        });
    }
    for (name, data) in seeds("template_exec") {
        let Some(t) = text(&data) else { continue };
        eprintln!("template_exec {name}");
        let _ = with_big_stack(move || {
            let mut set = Templates::new(sprig());
            if set.parse("t", &t).is_ok() {
                let dot = chartup::template::Value::Map(chartup::template::value::Map::new());
                let _ = set.execute("t", &dot);
            }
        });
    }
    for (name, data) in seeds("values_yaml") {
        eprintln!("values_yaml {name}");
        let _ = with_big_stack(move || {
            if let Ok(m) = chartup::chart::load_values(&data) {
                let v = chartup::template::Value::Map(m);
                let _ = chartup::yaml::to_yaml(&v.deep_copy());
                let _ = chartup::yaml::to_json(&v, Default::default());
            }
        });
    }
    for (name, data) in seeds("chart_archive") {
        eprintln!("chart_archive {name}");
        on_fuzzer_stack(Box::new(move || {
            let limits = chartup::chart::Limits {
                max_chart_size: 8 << 20,
                max_file_size: 1 << 20,
            };
            let _ = chartup::chart::load_archive(&data, limits);
        }));
    }
    for (name, data) in seeds("plan_reader") {
        let Some(t) = text(&data) else { continue };
        eprintln!("plan_reader {name}");
        on_fuzzer_stack(Box::new(move || {
            use chartup::plan::sign::{check, read_verifying_key, Trust};
            if let Ok(p) = chartup::plan::saved::SavedPlan::from_json(&t) {
                let public =
                    "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n\
                              -----END PUBLIC KEY-----\n";
                let trust = Trust {
                    fingerprint: Some(p.fingerprint.clone()),
                    verify_key: read_verifying_key(public).ok(),
                };
                let _ = check(&p, &trust, "fuzz.json");
            }
        }));
    }
}

/// `--set a[0][0]…=1` recurses once per index (Helm has no limit and renders 20,000): nested past
/// the big-stack thread's end it is an error, not an abort.
#[test]
fn set_nested_past_the_stack_is_an_error() {
    let set = format!("a{}=1", "[0]".repeat(3_000_000));
    let r = chartup::template::exec::with_big_stack(|| {
        chartup::chart::strvals::parse_set(&set, &chartup::template::Map::new()).map_err(|e| e.to_string())
    })
    .unwrap();
    assert_eq!(r.unwrap_err(), "list indexes nested too deeply (chartup's stack limit)");
}
