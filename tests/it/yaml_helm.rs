//! Byte-for-byte comparison of our YAML/JSON functions with the real helm.
//!
//! Each case is a values.yaml; helm renders it through `toJson`, `toRawJson`, `toPrettyJson` and
//! `toYaml` (and the other encoders as they land), and we compare with `chartup::yaml` on the
//! same text. The expected output therefore always comes from Go. The test needs a helm binary
//! (`testkit::helm`: `CHARTUP_HELM`, else `helm` on PATH). Without one it is skipped locally but
//! fails in CI (`CI=true`), where scripts/install-helm.sh provides it.

use std::path::{Path, PathBuf};
use std::process::Command;

use chartup::value::{Elem, List, Map, Value};
use chartup::yaml::{self, JsonOpts};

fn helm_or_skip() -> Option<PathBuf> {
    testkit::helm_or_skip()
}

const SECTIONS: &[(&str, &str)] = &[
    ("JSON", "toJson .Values"),
    ("RAW", "toRawJson .Values"),
    ("PRETTY", "toPrettyJson .Values"),
    ("YAML", "toYaml .Values"),
    ("PRETTYYAML", "toYamlPretty .Values"),
    ("TOML", "toToml .Values"),
];

/// Renders `values` with helm; Ok(section → text) or Err(helm's error line).
fn helm_render(helm: &Path, dir: &Path, values: &str) -> Result<Vec<(String, String)>, String> {
    helm_render_expr(helm, dir, values, ".Values")
}

/// Renders the sections with `.Values` replaced by the template expression `data`.
fn helm_render_expr(helm: &Path, dir: &Path, values: &str, data: &str) -> Result<Vec<(String, String)>, String> {
    let chart = dir.join("c");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(chart.join("Chart.yaml"), "apiVersion: v2\nname: c\nversion: 0.1.0\n").unwrap();
    std::fs::write(chart.join("values.yaml"), values).unwrap();
    // Base64 keeps helm's own YAML check of the rendered file away from the payload.
    let mut tpl = String::new();
    for (name, expr) in SECTIONS {
        let expr = expr.replace(".Values", data);
        tpl.push_str(&format!("#{name}# {{{{ {expr} | b64enc }}}}\n"));
    }
    std::fs::write(chart.join("templates/a.yaml"), tpl).unwrap();
    let out = Command::new(helm)
        .env("TZ", "UTC")
        .arg("template")
        .arg(&chart)
        .output()
        .unwrap();
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr)
            .lines()
            .next()
            .unwrap_or("")
            .to_string());
    }
    let text = String::from_utf8(out.stdout).unwrap();
    let mut sections = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix('#') else { continue };
        // helm trims the document, so an empty last payload loses its separating space.
        let Some((name, b64)) = rest.split_once('#') else {
            continue;
        };
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD.decode(b64.trim()).unwrap();
        sections.push((name.to_string(), String::from_utf8(bytes).unwrap()));
    }
    Ok(sections)
}

fn ours(values: &str) -> Result<Vec<(String, String)>, String> {
    let docs = yaml::from_str_multi(values).map_err(|e| match e {
        yaml::YamlError::Split(_) => format!("Error: cannot load values.yaml: error reading yaml document: {e}"),
        _ => format!("Error: cannot load values.yaml: cannot unmarshal yaml document: {e}"),
    })?;
    // Helm 4 merges the documents (`loader.LoadValues` → `MergeMaps`).
    let v = Map::new();
    for d in docs {
        let d = yaml::expect_map(d, "map[string]interface {}")
            .map_err(|e| format!("Error: cannot load values.yaml: cannot unmarshal yaml document: {e}"))?;
        merge_maps(&v, &d);
    }
    Ok(encode_all(&chartup::value::Value::Map(v)))
}

/// Helm's `MergeMaps`: maps merge recursively, everything else is replaced.
fn merge_maps(into: &Map, from: &Map) {
    for (k, v) in from.entries() {
        if let (Value::Map(src), Some(Value::Map(dst))) = (&v, into.get(&k)) {
            let merged = Map::new();
            merge_maps(&merged, &dst);
            merge_maps(&merged, src);
            into.insert(k, Value::Map(merged));
            continue;
        }
        into.insert(k, v);
    }
}

/// Our output for every section.
fn encode_all(v: &Value) -> Vec<(String, String)> {
    let v = v.clone();
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
            "PRETTYYAML" => yaml::to_yaml_pretty(&v)
                .map(|s| s.strip_suffix('\n').map(str::to_string).unwrap_or(s))
                .unwrap_or_default(),
            "TOML" => yaml::to_toml(&v).unwrap_or_else(|e| e),
            _ => unreachable!(),
        };
        out.push((name.to_string(), s));
    }
    out
}

/// Values files: tricky scalars, keys and structures. Keys whose natural order is not transitive
/// (`a10`/`a1b2`/`a9`, `a001`/`a09`) are left out: helm's own order for them depends on Go's map
/// iteration order and changes between runs.
const CASES: &[&str] = &[
    "s000: \"-\"\ns001: \"- a\"\ns002: \"-a\"\ns003: \"?\"\ns004: \"? a\"\ns005: \"?a\"\ns006: \":\"\ns007: \"a:b\"\ns008: \"a: b\"\ns009: \"a:\"\ns010: \"a #b\"\ns011: \"a#b\"\ns012: \"#a\"\ns013: \"@a\"\ns014: \"`a\"\ns015: \"%a\"\ns016: \"!a\"\ns017: \"&a\"\ns018: \"*a\"\ns019: \"|a\"\ns020: \">a\"\ns021: \"'a\"\ns022: \"\\\"a\"\ns023: \"[a\"\ns024: \"{a\"\ns025: \",a\"\ns026: \"a,b\"\ns027: \"a]\"\ns028: \"a}\"\ns029: \"---\"\ns030: \"--- a\"\ns031: \"...\"\ns032: \"....\"\ns033: \"1.0\"\ns034: \"1e3\"\ns035: \"0x1F\"\ns036: \"0o17\"\ns037: \"1_000\"\ns038: \"+1\"\ns039: \".5\"\ns040: \"1.\"\ns041: \"true\"\ns042: \"True\"\ns043: \"y\"\ns044: \"n\"\ns045: \"yes\"\ns046: \"on\"\ns047: \"Off\"\ns048: \"null\"\ns049: \"~\"\ns050: \"\"\ns051: \"2001-12-14\"\ns052: \"2001-12-14T21:59:43.10-05:00\"\ns053: \"2001-12-14 21:59:43\"\ns054: \"12:30\"\ns055: \"1:20:30.5\"\ns056: \"-1:20\"\ns057: \"190:20:30\"\ns058: \"<<\"\ns059: \"=\"\ns060: \"=a\"\ns061: \"\\u00e9\"\ns062: \"\\u65e5\\u672c\"\ns063: \"a\\u0085b\"\ns064: \"a\\u00a0b\"\ns065: \"\\ufeffa\"\ns066: \"tab\\there\"\ns067: \"ends with tab\\t\"\ns068: \"emoji 😀\"\ns069: \" lead\"\ns070: \"trail \"\ns071: \" \"\ns072: \"a  b\"\ns073: \"a\\nb\"\ns074: \"a\\nb\\n\"\ns075: \"a\\nb\\n\\n\"\ns076: \"\\n\"\ns077: \"\\na\"\ns078: \" a\\nb\"\ns079: \"a \\nb\"\ns080: \"a\\n b\"\ns081: \"a\\n\\nb\"\ns082: \"line with trailing \\nspaces\"\ns083: \"x\\r\\ny\"\ns084: \"a\\u2028b\"\ns085: \"\\u0000\"\ns086: \"\\u001b[0m\"\ns087: \"a'b\"\ns088: \"'\"\ns089: \"a\\\"b\"\ns090: \"a\\\\b\"\ns091: \".inf\"\ns092: \"-.inf\"\ns093: \".nan\"\ns094: \".NaN\"\ns095: \"0755\"\ns096: \"08\"\ns097: \"1e400\"\ns098: \"12345678901234567890123\"\ns099: \"-0\"\ns100: \"0b101\"\ns101: \"+.5\"\ns102: \"1:2\"\ns103: \"a b c\"\ns104: \"@\"\ns105: \"`\"\ns106: \"word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word \"\ns107: \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"\ns108: \"a: b a: b a: b a: b a: b a: b a: b a: b a: b a: b a: b a: b a: b a: b a: b a: b a: b a: b a: b a: b a: b a: b a: b a: b a: b \"\ns109: \"tab\\tword word word word word word word word word word word word word word word word word word word word word word word word word \"\ns110: \"word word word word word word word word word word word word word word word \\nmore words more words more words more words more words more words more words more words more words more words more words more words \"\ns111: \"double  spaces  double  spaces  double  spaces  double  spaces  double  spaces  double  spaces  double  spaces  double  spaces  double  spaces  double  spaces  \"\ns112: \"'quoted' 'quoted' 'quoted' 'quoted' 'quoted' 'quoted' 'quoted' 'quoted' 'quoted' 'quoted' 'quoted' 'quoted' 'quoted' 'quoted' 'quoted' 'quoted' 'quoted' 'quoted' 'quoted' 'quoted' \"\ns113: \"abc abc abc abc abc abc abc abc abc abc abc abc abc abc abc abc abc abc abc   spaces\"\ns114: \"- dash words dash words dash words dash words dash words dash words dash words dash words dash words dash words dash words dash words \"\ns115: \"trailing spaces line   \\nnext line next line next line next line next line next line next line next line next line next line \"\ns116: \"https://example.com/path/path/path/path/path/path/path/path/path/path/path/path/path/path/path/path/path/path/path/path/?q=1 and then some words that go on and on and on beyond the limit\"\n",
    "\"?\": 3\n\"? a\": 4\n\"?a\": 5\n\":\": 6\n\"a:b\": 7\n\"a: b\": 8\n\"a:\": 9\n\"a #b\": 10\n\"a#b\": 11\n\"#a\": 12\n\"@a\": 13\n\"`a\": 14\n\"%a\": 15\n\"!a\": 16\n\"&a\": 17\n\"*a\": 18\n\"|a\": 19\n\">a\": 20\n\"'a\": 21\n\"\\\"a\": 22\n\"[a\": 23\n\"{a\": 24\n\",a\": 25\n\"a,b\": 26\n\"a]\": 27\n\"a}\": 28\n\"true\": 41\n\"True\": 42\n\"y\": 43\n\"n\": 44\n\"yes\": 45\n\"on\": 46\n\"Off\": 47\n\"<<\": 58\n\"=\": 59\n\"=a\": 60\n\"\\u00e9\": 61\n\"\\u65e5\\u672c\": 62\n\"a\\u0085b\": 63\n\"a\\u00a0b\": 64\n\"\\ufeffa\": 65\n\"tab\\there\": 66\n\"ends with tab\\t\": 67\n\"emoji 😀\": 68\n\" lead\": 69\n\"trail \": 70\n\" \": 71\n\"a  b\": 72\n\"a\\nb\": 73\n\"a\\nb\\n\": 74\n\"a\\nb\\n\\n\": 75\n\"\\n\": 76\n\"\\na\": 77\n\" a\\nb\": 78\n\"a \\nb\": 79\n\"a\\n b\": 80\n\"a\\n\\nb\": 81\n\"line with trailing \\nspaces\": 82\n\"x\\r\\ny\": 83\n\"a\\u2028b\": 84\n\"\\u0000\": 85\n\"\\u001b[0m\": 86\n\"a'b\": 87\n\"'\": 88\n\"a\\\"b\": 89\n\"a\\\\b\": 90\n\"a b c\": 103\n\"@\": 104\n\"`\": 105\n\"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk\": long\n\"key key key key key key key key key key key key key key key key key key key key key key key key key key key key key key key key key key key key key key key key \": long2\n\"1\": a\n\"9\": b\n\"10\": c\n\"0755\": d\n\"08\": e\n\"100\": f\n",
    "server:\n  name: x\n  ports:\n  - name: http\n    port: 80\n  - name: https\n    port: 443\n    extra: {a: 1, b: [x, y]}\n  sub:\n    deep:\n      k: v\n      deeper: {q: 1}\n    list: [1, \"a\", true]\n    mixed: [{a: 1}, 2]\n    emptyobj: {}\n    nested: [[1, 2], [\"a\"]]\n    withnil: {a: null, b: 1}\nz: last\n\"key with space\": 1\n\"\": empty\n",
    "top:\n- name: a\n  items:\n  - x: 1\n    y: [1, 2, {z: 3}]\n  - []\n  - {}\n- - - deep\n    - {a: {b: {c: [d]}}}\n- null\n- \"\"\n- \"multi\\nline\"\n- {\"multi\\nkey\": 1}\nnums: [1e-7, 123456789012345678, -1.5e-10, 0.1, 5e-324, 1.7976931348623157e308, 9223372036854775807, 9223372036854775808, 18446744073709551615, 18446744073709551616, -9223372036854775808, 1e15, 1e16, 123456.789, 1.0e+2]\nkeys: {a10: 1, a9: 2, _u: 5, B: 6, b: 7, \"1\": 8, \"10\": 9, \"9\": 10, \"Ä\": 11, \"ä\": 12, \"a-1\": 15, \"a.1\": 16, \"\": 17, \"0\": 18, \"00\": 19, \"a0\": 20, \"a00\": 21}\n",
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
    "plain: this is\n  a multi line\n  plain scalar\nurl: http://x.y/z?a=b#frag\nhash: a#b\ncolon: a:b\n",
    "folded: >\n  one\n  two\n\n    indented\n  back\n\n\n  end\nkeepf: >+\n  x\n\n\nstripf: >-\n  y\n  z\nind: |2\n    two extra\n  base\n",
    "q1: 'it''s'\nq2: \"tab\\tnl\\nuni\\u00e9 \\x41 \\U0001F600\"\nq3: \"folded\n  line\n\n  para\"\nq4: 'single\n  folded'\n",
    "k:    value   # comment\n# full comment\nk2: v2 #c\nk3: \"v3\" # c\n",
    "? complex\n: value\n? [a, b]\n: list key\n",
    "flow: {a, b: 2, c: }\nseq: [a, b, ]\nnested: [[1, 2], {x: y}]\n",
    "%YAML 1.1\n---\na: 1\n...\n",
    "---\na: 1\n",
    "a: 1\r\nb:\r\n  c: 2\r\nd: |\r\n  x\r\n  y\r\n",
    "﻿a: bom\n",
    "base: &b\n  x: 1\n  y: 2\nd1:\n  <<: *b\n  x: 9\nd2:\n  x: 9\n  <<: *b\nd3:\n  <<: [*b, {z: 3}]\nscal: &s hello\nuse: *s\n*s : aliaskey\n",
    "set: !!set {a, b}\nomap: !!omap [a: 1, b: 2]\nstr: !!str yes\nnull: !!null ''\ncustom: !foo bar\nlocal: ! 12\n",
    "a: \"x\" \nb: 'y'   \nc: plain   \n",
    "list:\n- a\n-   b\n-\n- - c\n  - d\n-   e: 1\n    f: 2\n",
    "empty_doc_marker: 1\n---\nsecond: 2\n",
    "k: v\n---\n",
    "time: 12:30:45\nsexa: 190:20:30.15\ndate: 2002-12-14\nver: 1.10\nver2: 1.2.3\noct: 0o17\nhex: 0xFF\nbin: 0b1010\nexp: 1E5\ninfstr: .Inf\nneg: -.5\nplus: +.5e3\n",
    "a:\n  - b\n  -\n    c: 1\n",
    "key with spaces: 1\n\"quoted key\": 2\n'single key': 3\n? |\n  block key\n: 4\n",
    "x: [a,b]\ny: {a: [1,2],b: {c: d}}\nz: !!binary |\n  aGVs\n  bG8=\n",
    "longkeyxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx: 1\n",
    "a:\n\tb: 1\n",
    "a: b\n c: d\n",
    "a: 'unterminated\n",
    "a: [1, 2]]\n",
    "a: {b: 1}}\n",
    "- a\nb: c\n",
    "a: &x 1\nb: *y\n",
    "a: !!float abc\n",
    "a: |\n  x\n b: 1\n",
    "a:\n  - 1\n - 2\n",
    "a:\n  b: {} \"x\n  c: 1\n",
    "a: \"x\n  b: 1\n## c \"d\" e\nf: 1\n",
    "\ta: 1\n",
    "x: 1\n\ta: 1\n",
    "a: |\n  x\n\ty\n",
    "a: b\n\tc\n",
    "a: }\n",
    "a: 1 }\n",
    "a: [\n  b: 1\n  c: 2\n]\n",
    "a: \"v\" }\n",
    "a: 'v' ]\n",
    "a: |x\n  b\n",
    "k: v\n\t\n",
    "k: \"a\tb\"\n",
    "k: [a,\tb]\n",
    "---\na: 1\nb: \"x\n",
    "a: [] 'x\n# it's here\nb: 1\n",
    "a: \"\" 'x\nb: 1\n",
    "a: 1\nkey value\n\n# c\nb: 2\n",
    "a: 1\n  key value\n  # c\nb: 2\n",
    "hosts: {\n  - a\n}\n",
    "a: - b\n",
    "--- # c\na: 1\n---\n---\nb: 2\n",
    "--- x\na: 1\n",
    "c: 1\n--- x\n",
    "certManager::\n  a: 1\n",
    "a1: 1\na1b: 2\na1_: 3\na1-: 4\nab: 5\na-b: 6\nx1y: 7\nx1: 8\nx10y: 9\nk2z: 10\nk2: 11\nk22: 12\n",
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
                assert_eq!(w.len(), SECTIONS.len(), "case {i}: helm output not understood");
                for ((name, wt), (_, gt)) in w.iter().zip(g.iter()) {
                    if let Ok(dir) = std::env::var("YAML_HELM_DUMP") {
                        std::fs::write(format!("{dir}/{i}.{name}.helm"), wt).unwrap();
                        std::fs::write(format!("{dir}/{i}.{name}.ours"), gt).unwrap();
                    }
                    if wt != gt {
                        let (wl, gl): (Vec<&str>, Vec<&str>) = (wt.lines().collect(), gt.lines().collect());
                        let at = (0..wl.len().max(gl.len()))
                            .find(|&k| wl.get(k) != gl.get(k))
                            .unwrap_or(0);
                        failures.push(format!(
                            "case {i} {name}, first different line {at}:\n  helm: {:?}\n  ours: {:?}",
                            wl.get(at..(at + 3).min(wl.len())),
                            gl.get(at..(at + 3).min(gl.len()))
                        ));
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

fn time(s: &str) -> Value {
    Value::Time(std::rc::Rc::new(s.parse::<jiff::Zoned>().expect("test timestamp")))
}

fn m(pairs: Vec<(&str, Value)>) -> Value {
    let map = Map::new();
    for (k, v) in pairs {
        map.insert(k, v);
    }
    Value::Map(map)
}

/// Values only templates make (Go `int`, `int64`, typed lists, top-level scalars), built here the
/// way the engine would build them, and the expression that makes them in helm.
fn template_cases() -> Vec<(&'static str, Value)> {
    vec![
        (
            r#"(dict "i" 1 "s" "x" "f" 1.5)"#,
            m(vec![
                ("i", Value::Int(1)),
                ("s", Value::str("x")),
                ("f", Value::Float(1.5)),
            ]),
        ),
        (
            r#"(dict "big" (int64 9007199254740993) "neg" (int64 -5))"#,
            m(vec![("big", Value::Int64(9007199254740993)), ("neg", Value::Int64(-5))]),
        ),
        (
            r#"(list 1 2.5 "a" true)"#,
            Value::list(vec![
                Value::Int(1),
                Value::Float(2.5),
                Value::str("a"),
                Value::Bool(true),
            ]),
        ),
        (r#""a string""#, Value::str("a string")),
        (r#""yes""#, Value::str("yes")),
        ("1000000.0", Value::Float(1e6)),
        ("123456789.0", Value::Float(123456789.0)),
        ("(list)", Value::list(vec![])),
        ("(dict)", m(vec![])),
        (
            r#"(list (dict "a" 1) (dict "b" 2))"#,
            Value::list(vec![m(vec![("a", Value::Int(1))]), m(vec![("b", Value::Int(2))])]),
        ),
        (
            r#"(dict "t" (toDate "2006-01-02" "2020-05-06"))"#,
            m(vec![("t", time("2020-05-06T00:00:00+00:00[UTC]"))]),
        ),
        (
            r#"(list (toDate "2006-01-02T15:04:05.999999999Z07:00" "2020-05-06T01:02:03.1234567+02:00"))"#,
            Value::list(vec![time("2020-05-06T01:02:03.1234567+02:00[+02:00]")]),
        ),
        (
            r#"(splitList "," "a,b")"#,
            Value::List(List::typed(vec![Value::str("a"), Value::str("b")], Elem::String)),
        ),
        (
            r#"(dict "l" (list (dict "a" 1) (dict "a" 2)) "m" (dict "x" (list 1 2)))"#,
            m(vec![
                (
                    "l",
                    Value::list(vec![m(vec![("a", Value::Int(1))]), m(vec![("a", Value::Int(2))])]),
                ),
                ("m", m(vec![("x", Value::list(vec![Value::Int(1), Value::Int(2)]))])),
            ]),
        ),
    ]
}

#[test]
fn template_values_match_helm() {
    let Some(helm) = helm_or_skip() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for (i, (expr, v)) in template_cases().into_iter().enumerate() {
        let dir = tmp.path().join(format!("t{i}"));
        let want = match helm_render_expr(&helm, &dir, "", expr) {
            Ok(w) => w,
            Err(e) => {
                failures.push(format!("{expr}: helm failed: {e}"));
                continue;
            }
        };
        let got = encode_all(&v);
        assert_eq!(want.len(), SECTIONS.len(), "{expr}: helm output not understood");
        for ((name, wt), (_, gt)) in want.iter().zip(got.iter()) {
            if wt != gt {
                failures.push(format!("{expr} {name}:\n  helm: {wt:?}\n  ours: {gt:?}"));
            }
        }
    }
    if !failures.is_empty() {
        panic!("{} mismatches:\n{}", failures.len(), failures.join("\n"));
    }
}

/// `fromJson` on good and bad input: helm puts Go's error text under "Error".
#[test]
fn from_json_matches_helm() {
    let Some(helm) = helm_or_skip() else { return };
    let inputs = [
        r#"{"a":1,"b":[true,null,"x"],"c":{"d":1.5e3}}"#,
        r#"{"a":1,}"#,
        r#"{"a" 1}"#,
        r#"{"a":1 "b":2}"#,
        r#"[1,2]"#,
        r#""str""#,
        r#"{"a":tru}"#,
        r#"{"a":nul}"#,
        r#"{"a":"\x"}"#,
        r#"{"a":"\ud800"}"#,
        r#"{"a":"\ud83d\ude00 \u00e9"}"#,
        r#"{"a":-}"#,
        r#"{"a":1.}"#,
        r#"{"a":1e}"#,
        r#"{"a":01}"#,
        r#"{"a":1} x"#,
        r#"{"a":1e400}"#,
        r#"{"a":-0}"#,
        r#"{"big":12345678901234567890}"#,
        r#"{a:1}"#,
        r#""#,
        r#"   "#,
        r#"{"a":"#,
        r#"{"a":[1,2"#,
        r#"{"dup":1,"dup":2}"#,
        "{\"ctl\":\"a\tb\"}",
    ];
    let tmp = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        let dir = tmp.path().join(format!("j{i}"));
        let expr = format!("(fromJson `{input}`)");
        let want = helm_render_expr(&helm, &dir, "", &expr).unwrap();
        let got = match yaml::from_json_partial(input) {
            (Some(Value::Map(m)), Some(e)) => {
                m.insert("Error", Value::str(e));
                Value::Map(m)
            }
            (Some(Value::Map(m)), None) => Value::Map(m),
            (Some(other), _) => {
                let e = yaml::expect_map(other, "map[string]interface {}")
                    .err()
                    .unwrap()
                    .to_string();
                // fromJson reports json.Unmarshal's own text, without sigs.k8s.io's prefix.
                let e = e
                    .trim_start_matches("error unmarshaling JSON: while decoding JSON: ")
                    .to_string();
                m(vec![("Error", Value::str(e))])
            }
            (None, e) => m(vec![("Error", Value::str(e.unwrap_or_default()))]),
        };
        let got = encode_all(&got);
        if want[0] != got[0] {
            failures.push(format!("{input:?}:\n  helm: {:?}\n  ours: {:?}", want[0].1, got[0].1));
        }
    }
    if !failures.is_empty() {
        panic!("{} mismatches:\n{}", failures.len(), failures.join("\n"));
    }
}

/// Every `values.yaml` under `$YAML_CORPUS_DIR` (e.g. a checkout of real charts) through the same
/// comparison as the corpus; does nothing without the variable.
#[test]
fn external_values_match_helm() {
    let Ok(root) = std::env::var("YAML_CORPUS_DIR") else {
        return;
    };
    let Some(helm) = helm_or_skip() else { return };
    let mut files = Vec::new();
    let mut stack = vec![PathBuf::from(root)];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n == "values.yaml") {
                files.push(p);
            }
        }
    }
    files.sort();
    let tmp = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let Ok(text) = std::fs::read_to_string(f) else { continue };
        let want = helm_render(&helm, &tmp.path().join(format!("x{i}")), &text);
        let got = ours(&text);
        match (&want, &got) {
            (Ok(w), Ok(g)) => {
                for ((name, wt), (_, gt)) in w.iter().zip(g.iter()) {
                    if wt != gt {
                        let (wl, gl): (Vec<&str>, Vec<&str>) = (wt.lines().collect(), gt.lines().collect());
                        let at = (0..wl.len().max(gl.len()))
                            .find(|&k| wl.get(k) != gl.get(k))
                            .unwrap_or(0);
                        failures.push(format!(
                            "{} {name} line {at}:\n  helm: {:?}\n  ours: {:?}",
                            f.display(),
                            wl.get(at),
                            gl.get(at)
                        ));
                    }
                }
            }
            (Err(w), Err(g)) if w == g => {}
            _ => failures.push(format!("{}:\n  helm: {want:?}\n  ours: {got:?}", f.display())),
        }
    }
    eprintln!("{} files, {} mismatches", files.len(), failures.len());
    if !failures.is_empty() {
        panic!("{}", failures.join("\n"));
    }
}

/// `fromYaml`/`fromYamlArray` on documents of every shape, errors under "Error" as helm shows.
#[test]
fn from_yaml_functions_match_helm() {
    let Some(helm) = helm_or_skip() else { return };
    let inputs = [
        "a: 1\nb: [x, yes]",
        "- 1\n- two",
        "just a string",
        "",
        "~",
        "a: b: c",
        "{a: 1}\n---\nb: 2",
        "a: .inf",
    ];
    let tmp = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        for func in ["fromYaml", "fromYamlArray"] {
            let dir = tmp.path().join(format!("y{i}{func}"));
            let want = helm_render_expr(&helm, &dir, "", &format!("({func} `{input}`)")).unwrap();
            let got = match (func, yaml::from_str(input)) {
                ("fromYaml", Ok(v)) => match yaml::expect_map(v, "map[string]interface {}") {
                    Ok(m) => Value::Map(m),
                    Err(e) => m(vec![("Error", Value::str(e.to_string()))]),
                },
                ("fromYaml", Err(e)) => m(vec![("Error", Value::str(e.to_string()))]),
                (_, Ok(v)) => match yaml::expect_list(v) {
                    Ok(l) => Value::List(l),
                    Err(e) => Value::list(vec![Value::str(e.to_string())]),
                },
                (_, Err(e)) => Value::list(vec![Value::str(e.to_string())]),
            };
            let got = encode_all(&got);
            if want[0] != got[0] {
                failures.push(format!(
                    "{func} {input:?}:\n  helm: {:?}\n  ours: {:?}",
                    want[0].1, got[0].1
                ));
            }
        }
    }
    if !failures.is_empty() {
        panic!("{} mismatches:\n{}", failures.len(), failures.join("\n"));
    }
}
