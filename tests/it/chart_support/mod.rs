//! Helpers shared by the `chart_*` integration tests: Go's `encoding/json` output for a value (what
//! Helm's `toJson` prints), so expectations can be pasted from `helm template` output.
#![allow(dead_code)]

use chartup::value::Value;

/// Go's float64 JSON formatting: shortest digits, exponent only below 1e-6 or from 1e21.
fn json_float(f: f64) -> String {
    if f == f.trunc() && f.abs() < 1e21 {
        return format!("{}", f as i128);
    }
    let a = f.abs();
    if (1e-6..1e21).contains(&a) {
        return format!("{f}");
    }
    let s = format!("{f:e}");
    let (m, e) = s.split_once('e').unwrap();
    let e: i32 = e.parse().unwrap();
    format!("{m}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs())
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `toJson` of a value (keys sorted, HTML characters escaped).
pub fn go_json(v: &Value) -> String {
    match v {
        Value::Nil => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) | Value::Int64(i) => i.to_string(),
        Value::Float(f) => json_float(*f),
        Value::String(s) => json_string(s),
        Value::List(l) => format!("[{}]", l.items.iter().map(go_json).collect::<Vec<_>>().join(",")),
        Value::Map(m) => format!(
            "{{{}}}",
            m.entries()
                .iter()
                .map(|(k, v)| format!("{}:{}", json_string(k), go_json(v)))
                .collect::<Vec<_>>()
                .join(",")
        ),
        other => panic!("no JSON for {}", other.type_name()),
    }
}

/// The path of a test chart under tests/data/charts.
pub fn chart_dir(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/charts")
        .join(name)
}
