//! Chart loading: directories (with `.helmignore`), archives (including hostile ones built here),
//! Chart.yaml validation. Expected file lists and error texts are what `helm template` (4.1.4)
//! printed for the same inputs (see each test).

use crate::chart_support as support;

use std::io::Write;

use chartup::chart::{self, Limits};
use chartup::value::Value;
use support::chart_dir;

/// Helm printed `# files: .helmignore a.txt bom.txt conf/app.cfg crds/crd.yaml crds/notes.txt
/// sub/top.txt`, `# bom: "bom-file\n" greeting: hello`, rendered templates/cm.yaml and
/// templates/sub/nested.yaml (not templates/.hidden.yaml) and, with --include-crds, crds/crd.yaml.
#[test]
fn directory_with_helmignore_and_boms() {
    let c = chart::load(chart_dir("files")).unwrap();
    let mut files: Vec<&str> = c.files.iter().map(|f| f.name.as_str()).collect();
    files.sort();
    assert_eq!(
        files,
        [
            ".helmignore",
            "a.txt",
            "bom.txt",
            "conf/app.cfg",
            "crds/crd.yaml",
            "crds/notes.txt",
            "sub/top.txt"
        ]
    );
    let mut templates: Vec<&str> = c.templates.iter().map(|f| f.name.as_str()).collect();
    templates.sort();
    assert_eq!(
        templates,
        [
            "templates/_helpers.tpl",
            "templates/cm.yaml",
            "templates/sub/nested.yaml"
        ]
    );
    let bom = c.files.iter().find(|f| f.name == "bom.txt").unwrap();
    assert_eq!(bom.data, b"bom-file\n");
    let greeting = c.values.as_map().unwrap().get("greeting");
    assert_eq!(greeting.as_ref().and_then(Value::as_str), Some("hello"));
    let crds = c.crd_objects(c.name());
    assert_eq!(crds.len(), 1);
    assert_eq!(crds[0].filename, "files/crds/crd.yaml");
    assert!(
        c.dependencies.is_empty(),
        "charts/_skipped and charts/.hidden are not subcharts"
    );
}

fn write_chart(dir: &std::path::Path, chart_yaml: &str) {
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    std::fs::write(dir.join("Chart.yaml"), chart_yaml).unwrap();
}

fn load_err(chart_yaml: &str) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("e");
    write_chart(&dir, chart_yaml);
    let c = match chart::load(&dir) {
        Err(e) => return e.to_string(),
        Ok(c) => c,
    };
    match chart::prepare(c, &Value::Map(Default::default()), &Default::default()) {
        Err(e) => e.to_string(),
        Ok(_) => "ok".into(),
    }
}

#[test]
fn chart_yaml_errors_match_helm() {
    let cases = [
        ("apiVersion: v2\nversion: 0.1.0\n", "validation: chart.metadata.name is required"),
        ("apiVersion: v2\nname: e\nversion: 1.x\n", "validation: chart.metadata.version \"1.x\" is invalid"),
        ("apiVersion: v2\nname: e\n", "validation: chart.metadata.version is required"),
        (
            "apiVersion: v2\nname: e\nversion: 1.0.0\ntype: foo\n",
            "validation: chart.metadata.type must be application or library",
        ),
        ("apiVersion: v2\nname: e\nversion: 1.0.0\ntype: library\n", "library charts are not installable"),
        (
            "apiVersion: v2\nname: e\nversion: 1.0.0\ndependencies:\n- name: a\n  alias: \"x.y\"\n",
            "validation: dependency \"a\" has disallowed characters in the alias",
        ),
        (
            "apiVersion: v2\nname: e\nversion: 1.0.0\ndependencies:\n- name: a\n- name: a\n",
            "validation: more than one dependency with name or alias \"a\"",
        ),
        (
            "apiVersion: v2\nname: e\nversion: 1.0.0\ndependencies:\n- name: a\n- name: b\n",
            "an error occurred while checking for chart dependencies. You may need to run `helm dependency build` to fetch missing dependencies: found in Chart.yaml, but missing in charts/ directory: a, b",
        ),
        (
            "apiVersion: v2\nname: e\nversion: 1.0.0\nmaintainers:\n- null\n",
            "validation: maintainers must not contain empty or null nodes",
        ),
        (
            "apiVersion: v2\nname: e\nversion: 1.0.0\nname: [1]\n",
            "cannot load Chart.yaml: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal array into Go struct field Metadata.name of type string",
        ),
        (
            "apiVersion: v2\nname: e\nversion: 1.0.0\nsources: x\n",
            "cannot load Chart.yaml: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go struct field Metadata.sources of type []string",
        ),
        ("apiVersion: v3\nname: e\nversion: 1.0.0\n", "invalid chart apiVersion"),
        ("apiVersion: v9\nname: e\nversion: 1.0.0\n", "unsupported chart version"),
        ("APIVERSION: v3\nname: e\nversion: 1.0.0\n", "invalid chart apiVersion"),
        ("name: e\nversion: 1.0.0\n", "ok"),
    ];
    for (yaml, want) in cases {
        assert_eq!(load_err(yaml), want, "{yaml}");
    }
}

#[test]
fn other_directory_errors_match_helm() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("e");
    std::fs::create_dir_all(&dir).unwrap();
    let want = format!(
        "unable to detect chart at {0}: open {0}: no such file or directory",
        dir.join("Chart.yaml").display()
    );
    assert_eq!(chart::load(&dir).unwrap_err().to_string(), want);

    write_chart(&dir, "apiVersion: v2\nname: e\nversion: 1.0.0\n");
    std::fs::create_dir_all(dir.join("charts")).unwrap();
    std::fs::write(dir.join("charts/README.md"), "hi\n").unwrap();
    assert_eq!(
        chart::load(&dir).unwrap_err().to_string(),
        "error unpacking subchart README.md in e: Chart.yaml file is missing"
    );
    std::fs::remove_file(dir.join("charts/README.md")).unwrap();

    std::fs::write(dir.join("values.yaml"), "- a\n").unwrap();
    assert_eq!(
        chart::load(&dir).unwrap_err().to_string(),
        "cannot load values.yaml: cannot unmarshal yaml document: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal array into Go value of type map[string]interface {}"
    );
    std::fs::write(dir.join("values.yaml"), "a: 1\n--- x\n").unwrap();
    assert_eq!(
        chart::load(&dir).unwrap_err().to_string(),
        "cannot load values.yaml: error reading yaml document: invalid Yaml document separator: x"
    );
    std::fs::write(dir.join("values.yaml"), "a: 1\n").unwrap();
    std::fs::write(dir.join(".helmignore"), "a/**/b\n").unwrap();
    assert_eq!(
        chart::load(&dir).unwrap_err().to_string(),
        "double-star (**) syntax is not supported"
    );
}

/// One tar entry; names and link targets are written raw so hostile paths can be built.
enum Entry<'a> {
    File(&'a str, &'a [u8]),
    Symlink(&'a str, &'a str),
    Hardlink(&'a str, &'a str),
    /// An old-style entry (typeflag NUL) whose name ends in `/`: a directory to Go.
    OldDir(&'a str),
}

fn tgz(entries: &[Entry]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for e in entries {
        let mut h = tar::Header::new_gnu();
        let (name, data, kind, link) = match e {
            Entry::File(n, d) => (*n, *d, tar::EntryType::Regular, None),
            Entry::Symlink(n, l) => (*n, &b""[..], tar::EntryType::Symlink, Some(*l)),
            Entry::Hardlink(n, l) => (*n, &b""[..], tar::EntryType::Link, Some(*l)),
            Entry::OldDir(n) => (*n, &b""[..], tar::EntryType::Regular, None),
        };
        {
            let gnu = h.as_gnu_mut().unwrap();
            gnu.name[..name.len()].copy_from_slice(name.as_bytes());
            if let Some(l) = link {
                gnu.linkname[..l.len()].copy_from_slice(l.as_bytes());
            }
        }
        h.set_entry_type(kind);
        if let Entry::OldDir(_) = e {
            h.as_mut_bytes()[156] = 0;
        }
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        builder.append(&h, data).unwrap();
    }
    let tar = builder.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&tar).unwrap();
    gz.finish().unwrap()
}

const CY: &[u8] = b"apiVersion: v2\nname: c\nversion: 0.1.0\n";

fn archive_err(entries: &[Entry]) -> String {
    chart::load_archive(&tgz(entries), Limits::default())
        .unwrap_err()
        .to_string()
}

/// Helm loads these archives (checked with `helm template x ./x.tgz`): `ok` → files data.txt;
/// `/etc/evil.txt` is just `etc/evil.txt` (the first component is the chart directory); a link
/// inside the chart reads as an empty file; two top-level directories are merged.
#[test]
fn archives_that_load() {
    let c = chart::load_archive(
        &tgz(&[
            Entry::File("c/Chart.yaml", CY),
            Entry::OldDir("c/templates/"),
            Entry::File("c/templates/t.yaml", b"# t\n"),
            Entry::File("c/data.txt", b"\xEF\xBB\xBFdata"),
            Entry::File("/etc/evil.txt", b"x"),
            Entry::Symlink("c/link.txt", "data.txt"),
            Entry::File("other/extra.txt", b"e"),
        ]),
        Limits::default(),
    )
    .unwrap();
    let files: Vec<(&str, &[u8])> = c.files.iter().map(|f| (f.name.as_str(), f.data.as_slice())).collect();
    assert_eq!(
        files,
        [
            ("data.txt", &b"data"[..]),
            ("etc/evil.txt", b"x"),
            ("link.txt", b""),
            ("extra.txt", b"e")
        ]
    );
    assert_eq!(c.templates[0].name, "templates/t.yaml");
}

/// Helm refuses these with "unable to load chart archive" (and the reason in its archive code,
/// which we append). Links out of the chart are refused by us only: Helm reads them as empty.
#[test]
fn hostile_archives_are_refused() {
    assert_eq!(
        archive_err(&[Entry::File("c/Chart.yaml", CY), Entry::File("c/../../evil.txt", b"x")]),
        "unable to load chart archive: chart illegally references parent directory: \"c/../../evil.txt\""
    );
    assert_eq!(
        archive_err(&[Entry::File("c/Chart.yaml", CY), Entry::File("c//etc/passwd", b"x")]),
        "unable to load chart archive: chart illegally contains absolute paths: \"c//etc/passwd\""
    );
    assert_eq!(
        archive_err(&[Entry::File("c/Chart.yaml", CY), Entry::File("c/C:/evil", b"x")]),
        "unable to load chart archive: chart contains illegally named files: \"c/C:/evil\""
    );
    assert_eq!(
        archive_err(&[Entry::File("c/Chart.yaml", CY), Entry::File("c", b"x")]),
        "unable to load chart archive: chart illegally contains content outside the base directory: \"c\""
    );
    assert_eq!(
        archive_err(&[Entry::File("c/Chart.yaml", CY), Entry::Symlink("c/templates/x.yaml", "/etc/passwd")]),
        "unable to load chart archive: chart illegally contains a link that leaves the chart: \"c/templates/x.yaml\" -> \"/etc/passwd\""
    );
    assert_eq!(
        archive_err(&[Entry::File("c/Chart.yaml", CY), Entry::Symlink("c/templates/x.yaml", "../../../x")]),
        "unable to load chart archive: chart illegally contains a link that leaves the chart: \"c/templates/x.yaml\" -> \"../../../x\""
    );
    assert_eq!(
        archive_err(&[Entry::File("c/Chart.yaml", CY), Entry::Hardlink("c/x", "../etc/passwd")]),
        "unable to load chart archive: chart illegally contains a link that leaves the chart: \"c/x\" -> \"../etc/passwd\""
    );
    assert_eq!(
        archive_err(&[Entry::File("Chart.yaml", CY)]),
        "unable to load chart archive: chart illegally contains content outside the base directory: \"Chart.yaml\""
    );
    assert_eq!(
        archive_err(&[]),
        "unable to load chart archive: no files in chart archive"
    );
    assert_eq!(
        archive_err(&[Entry::File("c/values.yaml", b"a: 1\n")]),
        "unable to detect chart version, no Chart.yaml found"
    );
}

#[test]
fn archive_size_limits() {
    let limits = Limits {
        max_chart_size: 300,
        max_file_size: 100,
    };
    let big = vec![b'x'; 150];
    let e = chart::load_archive(
        &tgz(&[Entry::File("c/Chart.yaml", CY), Entry::File("c/big", &big)]),
        limits,
    );
    assert_eq!(
        e.unwrap_err().to_string(),
        "unable to load chart archive: decompressed chart file \"c/big\" is larger than the maximum file size 100"
    );
    let part = vec![b'x'; 90];
    let e = chart::load_archive(
        &tgz(&[
            Entry::File("c/Chart.yaml", CY),
            Entry::File("c/a", &part),
            Entry::File("c/b", &part),
            Entry::File("c/c", &part),
        ]),
        limits,
    );
    assert_eq!(
        e.unwrap_err().to_string(),
        "unable to load chart archive: decompressed chart is larger than the maximum size 300 (at \"c/c\")"
    );
}

#[test]
fn archive_files_and_subchart_archives() {
    let tmp = tempfile::tempdir().unwrap();
    let notgz = tmp.path().join("notgz.tgz");
    std::fs::write(&notgz, "not gz\n").unwrap();
    assert_eq!(
        chart::load(&notgz).unwrap_err().to_string(),
        format!(
            "file '{}' does not appear to be a gzipped archive; got 'application/octet-stream'",
            notgz.display()
        )
    );
    let yaml = tmp.path().join("v.yaml");
    std::fs::write(&yaml, "a: 1\n").unwrap();
    assert_eq!(
        chart::load(&yaml).unwrap_err().to_string(),
        format!(
            "file '{}' seems to be a YAML file, but expected a gzipped archive",
            yaml.display()
        )
    );

    // A directory chart with a packaged subchart in charts/.
    let dir = tmp.path().join("p");
    write_chart(&dir, "apiVersion: v2\nname: p\nversion: 1.0.0\n");
    std::fs::create_dir_all(dir.join("charts")).unwrap();
    let sub = tgz(&[
        Entry::File("s/Chart.yaml", b"apiVersion: v2\nname: s\nversion: 0.1.0\n"),
        Entry::File("s/values.yaml", b"x: 1\n"),
    ]);
    std::fs::write(dir.join("charts/s-0.1.0.tgz"), &sub).unwrap();
    let c = chart::load(&dir).unwrap();
    assert_eq!(c.dependencies.len(), 1);
    assert_eq!(c.dependencies[0].name(), "s");
    let packed = dir.join("p.tgz");
    std::fs::write(
        &packed,
        tgz(&[Entry::File(
            "p/Chart.yaml",
            b"apiVersion: v2\nname: p\nversion: 1.0.0\n",
        )]),
    )
    .unwrap();
    assert_eq!(chart::load(&packed).unwrap().name(), "p");

    let bad = tgz(&[Entry::File("s/Chart.yaml", b"apiVersion: v2\nname: s\n")]);
    std::fs::write(dir.join("charts/s-0.1.0.tgz"), &bad).unwrap();
    assert_eq!(
        chart::load(&dir).unwrap_err().to_string(),
        "error unpacking subchart s-0.1.0.tgz in p: validation: chart.metadata.version is required"
    );
}

/// Helm follows symlinks in a chart directory (printing `link.txt=outside linkdir/o.txt=outside`
/// for `.Files` here) and fails on a loop only when the path gets too long; we stop at the loop.
#[cfg(unix)]
#[test]
fn directory_symlinks_are_followed_and_loops_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let outside = tmp.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("o.txt"), "outside\n").unwrap();
    let dir = tmp.path().join("sl");
    write_chart(&dir, "apiVersion: v2\nname: sl\nversion: 0.1.0\n");
    std::os::unix::fs::symlink(outside.join("o.txt"), dir.join("link.txt")).unwrap();
    std::os::unix::fs::symlink(&outside, dir.join("linkdir")).unwrap();
    let c = chart::load(&dir).unwrap();
    let files: Vec<(&str, &[u8])> = c.files.iter().map(|f| (f.name.as_str(), f.data.as_slice())).collect();
    assert_eq!(
        files,
        [("link.txt", &b"outside\n"[..]), ("linkdir/o.txt", b"outside\n")]
    );
    std::os::unix::fs::symlink("..", dir.join("templates/loop")).unwrap();
    let e = chart::load(&dir).unwrap_err().to_string();
    assert!(e.ends_with("too many levels of symbolic links"), "{e}");
}

/// Chart.yaml scalars in string fields are formatted as sigs.k8s.io/yaml does, keys match
/// case-insensitively. Helm printed this `.Chart` (`toJson`) for the same Chart.yaml.
#[test]
fn chart_yaml_scalar_conversions() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("meta");
    write_chart(
        &dir,
        "apiVersion: v2\nname: meta\nversion: 1.0\nappVersion: 1.10\ndescription: yes\nKubeVersion: \">=1.0.0-0\"\ndeprecated: true\nannotations:\n  a: 1\nkeywords: [1, true]\nhome: 0755\nicon: 1e3\n",
    );
    let c = chart::load(&dir).unwrap();
    let md = c.metadata.to_value();
    md.as_map().unwrap().insert("IsRoot", Value::Bool(true));
    assert_eq!(
        support::go_json(&md),
        r#"{"APIVersion":"v2","Annotations":{"a":"1"},"AppVersion":"1.1","Condition":"","Dependencies":[],"Deprecated":true,"Description":"true","Home":"493","Icon":"1000","IsRoot":true,"Keywords":["1","true"],"KubeVersion":"\u003e=1.0.0-0","Maintainers":[],"Name":"meta","Sources":[],"Tags":"","Type":"","Version":"1"}"#
    );
    assert_eq!(
        md.as_map().unwrap().get("Annotations").unwrap().type_name(),
        "map[string]string"
    );
}
