//! Byte-for-byte comparison of our YAML/JSON functions with the real helm.
//!
//! Each case is a values.yaml; helm renders it through `toJson`, `toRawJson`, `toPrettyJson` and
//! `toYaml` (and the other encoders as they land), and we compare with `chartup::yaml` on the
//! same text. The expected output therefore always comes from Go. The test needs a helm binary:
//! `$HELM`, `.tools/bin/helm` in the repository (or in /work/main), or `helm` on PATH. Without one
//! it is skipped locally but fails in CI (`CI=true`), where scripts/install-helm.sh provides it.

use std::path::{Path, PathBuf};
use std::process::Command;

use chartup::yaml::{self, JsonOpts};

fn find_helm() -> Option<PathBuf> {
    if let Ok(h) = std::env::var("HELM") {
        return Some(PathBuf::from(h));
    }
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/bin/helm");
    for p in [here, PathBuf::from("/work/main/.tools/bin/helm")] {
        if p.exists() {
            return Some(p);
        }
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("helm"))
        .find(|p| p.exists())
}

fn helm_or_skip() -> Option<PathBuf> {
    match find_helm() {
        Some(h) => Some(h),
        None => {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("helm is required in CI (scripts/install-helm.sh) but was not found");
            }
            eprintln!("skipping: no helm binary found");
            None
        }
    }
}

const SECTIONS: &[(&str, &str)] = &[
    ("JSON", "toJson .Values"),
    ("RAW", "toRawJson .Values"),
    ("PRETTY", "toPrettyJson .Values"),
    ("YAML", "toYaml .Values"),
];

/// Renders `values` with helm; Ok(section → text) or Err(helm's error line).
fn helm_render(helm: &Path, dir: &Path, values: &str) -> Result<Vec<(String, String)>, String> {
    let chart = dir.join("c");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(chart.join("Chart.yaml"), "apiVersion: v2\nname: c\nversion: 0.1.0\n").unwrap();
    std::fs::write(chart.join("values.yaml"), values).unwrap();
    let mut tpl = String::from("x: |-\n");
    for (name, expr) in SECTIONS {
        tpl.push_str(&format!("  #{name}#\n{{{{ {expr} | indent 2 }}}}\n"));
    }
    tpl.push_str("  #END#\n");
    std::fs::write(chart.join("templates/a.yaml"), tpl).unwrap();
    let out = Command::new(helm).arg("template").arg(&chart).output().unwrap();
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr)
            .lines()
            .next()
            .unwrap_or("")
            .to_string());
    }
    let text = String::from_utf8(out.stdout).unwrap();
    let body = text.split_once("x: |-\n").map(|x| x.1).unwrap_or("");
    let mut sections = Vec::new();
    let mut cur: Option<(String, Vec<String>)> = None;
    for line in body.lines() {
        let line = line.get(2..).unwrap_or("");
        if line.starts_with('#') && line.ends_with('#') && line.len() > 2 {
            if let Some((n, ls)) = cur.take() {
                sections.push((n, ls.join("\n")));
            }
            cur = Some((line.trim_matches('#').to_string(), Vec::new()));
        } else if let Some((_, ls)) = cur.as_mut() {
            ls.push(line.to_string());
        }
    }
    Ok(sections)
}

fn ours(values: &str) -> Result<Vec<(String, String)>, String> {
    let docs = yaml::from_str_multi(values).map_err(|e| match e {
        yaml::YamlError::Split(_) => format!("Error: cannot load values.yaml: error reading yaml document: {e}"),
        _ => format!("Error: cannot load values.yaml: cannot unmarshal yaml document: {e}"),
    })?;
    // Helm 4 merges the documents; the corpus uses single documents.
    let v = match docs.into_iter().next() {
        Some(d) => yaml::expect_map(d, "map[string]interface {}")
            .map_err(|e| format!("Error: cannot load values.yaml: cannot unmarshal yaml document: {e}"))?,
        None => chartup::template::value::Map::new(),
    };
    let v = chartup::template::value::Value::Map(v);
    let mut out = Vec::new();
    for (name, _) in SECTIONS {
        let s = match *name {
            "JSON" => yaml::to_json(
                &v,
                JsonOpts {
                    escape_html: true,
                    indent: false,
                },
            )
            .unwrap_or_default(),
            "RAW" => yaml::to_json(
                &v,
                JsonOpts {
                    escape_html: false,
                    indent: false,
                },
            )
            .unwrap_or_default(),
            "PRETTY" => yaml::to_json(
                &v,
                JsonOpts {
                    escape_html: true,
                    indent: true,
                },
            )
            .unwrap_or_default(),
            "YAML" => yaml::to_yaml(&v)
                .map(|s| s.strip_suffix('\n').map(str::to_string).unwrap_or(s))
                .unwrap_or_default(),
            _ => unreachable!(),
        };
        out.push((name.to_string(), s));
    }
    Ok(out)
}

/// Values files: tricky scalars, keys and structures.
const CASES: &[&str] = &[
    "a: yes\nb: on\non: 1\nc: 0755\nd: 0x1F\ne: 1_000\nf: 2001-12-14\ng: ~\nh:\ni: 12345678901234567891\n",
    "j: 0o17\nk: 08\nl: .5\nm: 1e3\nn: +12\no: -0b101\np: !!str 12\nq: !!int \"12\"\n1.5: x\n0.1: y\n3: z\n",
    "r: &x {a: 1, b: 2}\ns:\n  <<: *x\n  b: 3\nt: 'yes'\nu: \"0x1F\"\nv: 1e400\nw: 1.0\nx2: 2001-12-14 21:59:43.10 -5\n",
    "0x10: a\n1e3: b\n1000000: c\n1e7: d\n0.000001: e\n18446744073709551616: f\n",
    "big: 100000000000000000000\nbig2: 1e21\nsmall: 0.0000001\nneg: -0.0\nf: 3.14159265358979\nexp: 6.02e23\n",
    "ints: [0, -1, 9007199254740993, 1e6, 123456789, 1.5e300]\n",
    "html: \"<a href='x'>&amp;</a>\"\nsep: \"a\\u2028b\\u2029c\"\nctl: \"\\x01\\b\\f\\t\\n\\r\\x7f\"\n",
    "uni: \"héllo wörld ✓ 日本語 😀\"\nemoji_key_😀: 1\n",
    "list:\n- a\n- b: 1\n  c: [1, 2]\n- - x\n  - y\n- []\n- {}\n- null\n",
    "empty_map: {}\nempty_list: []\nempty_str: \"\"\nnul: null\n",
    "m:\n  <<: [{a: 1}, {a: 2, b: 2}]\n  c: 3\n",
    "dup: 1\ndup: 2\n",
    "y: 1\nn: 2\nYes: 3\nOFF: 4\nTrue: 5\n",
    "binary: !!binary aGVsbG8=\nts: !!timestamp 2001-12-14\nflt: !!float 1\n",
    "lit: |\n  line1\n  line2\nfold: >\n  a\n  b\n\n  c\nkeep: |+\n  x\n\nstrip: |-\n  y\n",
    "# only a comment\n",
    "",
    "a: b: c\n",
    "a:\n  b: 1\n c: 2\n",
    "a:\n  - 1\n  b: 2\n",
    "a: [1, 2\n",
    "a: {x: 1\n",
    "a: \"abc\n",
    "a: *x\n",
    "x:\n\ty: 1\n",
    "a: 1\n- 2\n",
    "a: @x\n",
    "a: \"\\q\"\n",
    "a: &x [*x]\n",
    "{a: 1}: 2\n",
    ": 1\n",
    "a: !!int x\n",
    "a: .inf\n",
    "a: -.inf\n",
    "a: .nan\n",
    "~: 1\n",
    "x\n",
    "- 1\n",
    "x:\n  y: 1\n  z: 2\n  w: 3\n  v: a: b\n",
    "x:\n  y: 1\n  z: 2\n  w: 3\n  - a\n",
    "x:\n  y: 1\n  z: [2\n  w: 3\n",
    "x:\n  y: 1\n  z: 2\n w: 3\n",
];

#[test]
fn corpus_matches_helm() {
    let Some(helm) = helm_or_skip() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for (i, case) in CASES.iter().enumerate() {
        let dir = tmp.path().join(format!("case{i}"));
        let want = helm_render(&helm, &dir, case);
        let got = ours(case);
        match (&want, &got) {
            (Ok(w), Ok(g)) => {
                for ((name, wt), (_, gt)) in w.iter().zip(g.iter()) {
                    if wt != gt {
                        failures.push(format!("case {i} {case:?} {name}:\n  helm: {wt:?}\n  ours: {gt:?}"));
                    }
                }
            }
            (Err(w), Err(g)) if w == g => {}
            _ => failures.push(format!("case {i} {case:?}:\n  helm: {want:?}\n  ours: {got:?}")),
        }
    }
    if !failures.is_empty() {
        panic!("{} mismatches:\n{}", failures.len(), failures.join("\n"));
    }
}
