//! Helm's own template functions (pkg/engine/funcs.go and the late-bound ones of engine.go):
//! `include`, `tpl`, `required`, `fail`, `toYaml`, `mustToYaml`, `toYamlPretty`, `fromYaml`,
//! `fromYamlArray`, `toJson`, `mustToJson`, `fromJson`, `fromJsonArray`, `toToml`, `fromToml`,
//! `lookup`, `getHostByName`, layered over Sprig with `env`/`expandenv` removed.
//!
//! `lookup` answers an empty map (as `helm template` does) unless the render is against a cluster
//! ([`register_lookup`] with a [`Lookup`]); then it returns the live object the way Helm's dynamic
//! client hands it to templates (see [`unstructured_to_value`]).
//!
//! They follow Helm's error conventions, which differ per function on purpose: `toYaml`/`toJson`
//! swallow errors into `""`, `from*` put the error text into the result, `required`/`fail` wrap
//! their message in `HELM_ERR_START…HELM_ERR_END` so the renderer can print
//! `execution error at (file:line:col): msg` (see [`super::errors`]).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use serde_json::Value as Json;

use super::Lookup;

use crate::template::func::{Func, FuncMap, Host, Param, Sig};
use crate::value::{List, Map, Value};
use crate::yaml::{self, JsonOpts};

pub const WARN_START: &str = "HELM_ERR_START";
pub const WARN_END: &str = "HELM_ERR_END";
/// Helm's `recursionMaxNums`.
const RECURSION_MAX: usize = 1000;

/// `toYaml`: go-yaml v2 output with the final newline trimmed, `""` on error.
pub fn to_yaml_trimmed(v: &Value) -> String {
    match yaml::to_yaml(v) {
        Ok(s) => s.strip_suffix('\n').map(str::to_string).unwrap_or(s),
        Err(_) => String::new(),
    }
}

fn yaml_into_map(text: &str) -> Value {
    // `yaml.Unmarshal(str, &m)` with m a map: a null document leaves the map empty.
    let m = Map::new();
    match yaml::from_str(text) {
        Ok(Value::Map(parsed)) => return Value::Map(parsed),
        Ok(Value::Nil) => {}
        Ok(other) => {
            let kind = json_kind(&other);
            m.insert(
                "Error",
                Value::str(format!(
                    "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {kind} into Go value of type map[string]interface {{}}"
                )),
            );
        }
        Err(e) => {
            m.insert("Error", Value::str(e.to_string()));
        }
    }
    Value::Map(m)
}

fn yaml_into_list(text: &str) -> Value {
    let err = |e: String| Value::list(vec![Value::str(e)]);
    match yaml::from_str(text) {
        Ok(Value::List(l)) => Value::List(List::new(l.items.to_vec())),
        Ok(Value::Nil) => Value::list(vec![]),
        Ok(other) => {
            let kind = json_kind(&other);
            err(format!(
                "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {kind} into Go value of type []interface {{}}"
            ))
        }
        Err(e) => err(e.to_string()),
    }
}

/// encoding/json's name of a JSON value's kind in "cannot unmarshal X into …".
fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Map(_) => "object",
        Value::List(_) => "array",
        Value::String(_) => "string",
        Value::Bool(_) => "bool",
        Value::Nil => "null",
        _ => "number",
    }
}

fn json_into_map(text: &str) -> Value {
    let m = Map::new();
    match yaml::from_json(text) {
        Ok(Value::Map(parsed)) => return Value::Map(parsed),
        Ok(Value::Nil) => {}
        Ok(other) => {
            let kind = json_kind(&other);
            m.insert(
                "Error",
                Value::str(format!(
                    "json: cannot unmarshal {kind} into Go value of type map[string]interface {{}}"
                )),
            );
        }
        Err(e) => {
            m.insert("Error", Value::str(e));
        }
    }
    Value::Map(m)
}

fn json_into_list(text: &str) -> Value {
    match yaml::from_json(text) {
        Ok(Value::List(l)) => Value::List(List::new(l.items.to_vec())),
        Ok(Value::Nil) => Value::list(vec![]),
        Ok(other) => {
            let kind = json_kind(&other);
            Value::list(vec![Value::str(format!(
                "json: cannot unmarshal {kind} into Go value of type []interface {{}}"
            ))])
        }
        Err(e) => Value::list(vec![Value::str(e)]),
    }
}

/// BurntSushi/toml `Unmarshal` into `map[string]interface {}`: integers are int64, floats
/// float64, tables maps; errors go into an `Error` key (their wording is the toml crate's).
fn toml_into_map(text: &str) -> Value {
    fn conv(v: toml::Value) -> Value {
        match v {
            toml::Value::String(s) => Value::str(s),
            toml::Value::Integer(i) => Value::Int64(i),
            toml::Value::Float(f) => Value::Float(f),
            toml::Value::Boolean(b) => Value::Bool(b),
            toml::Value::Datetime(d) => Value::str(d.to_string()),
            toml::Value::Array(a) => Value::list(a.into_iter().map(conv).collect()),
            toml::Value::Table(t) => {
                let m = Map::new();
                for (k, v) in t {
                    m.insert(k, conv(v));
                }
                Value::Map(m)
            }
        }
    }
    match text.parse::<toml::Table>() {
        Ok(t) => conv(toml::Value::Table(t)),
        Err(e) => {
            let m = Map::new();
            m.insert("Error", Value::str(format!("toml: {}", e.message())));
            Value::Map(m)
        }
    }
}

fn s(args: &[Value], i: usize) -> String {
    args.get(i)
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn pure(m: &mut FuncMap, name: &str, sig: Sig, f: impl Fn(&[Value]) -> Result<Value, String> + 'static) {
    m.insert(name.to_string(), Func::pure(sig, f));
}

/// Add Helm's functions to `m` (normally Sprig's map), replacing Sprig's of the same name.
pub fn register(m: &mut FuncMap) {
    m.remove("env");
    m.remove("expandenv");
    let any1 = || Sig::fixed(&[Param::Any]);
    let str1 = || Sig::fixed(&[Param::String]);

    pure(m, "toYaml", any1(), |a| Ok(Value::str(to_yaml_trimmed(&a[0]))));
    pure(m, "mustToYaml", any1(), |a| match yaml::to_yaml(&a[0]) {
        Ok(s) => Ok(Value::str(s.strip_suffix('\n').unwrap_or(&s))),
        Err(e) => Err(e.to_string()),
    });
    pure(m, "toYamlPretty", any1(), |a| {
        Ok(Value::str(match yaml::to_yaml_pretty(&a[0]) {
            Ok(s) => s.strip_suffix('\n').map(str::to_string).unwrap_or(s),
            Err(_) => String::new(),
        }))
    });
    pure(m, "fromYaml", str1(), |a| Ok(yaml_into_map(&s(a, 0))));
    pure(m, "fromYamlArray", str1(), |a| Ok(yaml_into_list(&s(a, 0))));
    pure(m, "toJson", any1(), |a| {
        Ok(Value::str(
            yaml::to_json(
                &a[0],
                JsonOpts {
                    escape_html: true,
                    indent: false,
                },
            )
            .unwrap_or_default(),
        ))
    });
    pure(m, "mustToJson", any1(), |a| {
        yaml::to_json(
            &a[0],
            JsonOpts {
                escape_html: true,
                indent: false,
            },
        )
        .map(Value::str)
    });
    pure(m, "fromJson", str1(), |a| Ok(json_into_map(&s(a, 0))));
    pure(m, "fromJsonArray", str1(), |a| Ok(json_into_list(&s(a, 0))));
    // toTOML returns the error text itself on failure.
    pure(m, "toToml", any1(), |a| {
        Ok(Value::str(yaml::to_toml(&a[0]).unwrap_or_else(|e| e)))
    });
    pure(m, "fromToml", str1(), |a| Ok(toml_into_map(&s(a, 0))));
    pure(
        m,
        "lookup",
        Sig::fixed(&[Param::String, Param::String, Param::String, Param::String]),
        |_| Ok(Value::Map(Map::new())),
    );
    // Without --enable-dns Helm answers "" for every host.
    pure(m, "getHostByName", str1(), |_| Ok(Value::str("")));
    pure(m, "required", Sig::fixed(&[Param::String, Param::Any]), |a| {
        let missing = match &a[1] {
            Value::Nil => true,
            Value::String(v) => v.is_empty(),
            _ => false,
        };
        if missing {
            Err(format!("{WARN_START}{}{WARN_END}", s(a, 0)))
        } else {
            Ok(a[1].clone())
        }
    });
    pure(m, "fail", str1(), |a| Err(format!("{WARN_START}{}{WARN_END}", s(a, 0))));
    register_include_tpl(m);
}

/// `include` and `tpl`, with Helm's bookkeeping around the engine: `include` refuses more than
/// 1000 nested calls of one name (Go's own limit is far higher), `tpl` strips `<no value>` and
/// wraps errors as Helm does. A fresh counter per call of this function, i.e. per render.
pub fn register_include_tpl(m: &mut FuncMap) {
    let counts: Rc<RefCell<HashMap<String, usize>>> = Rc::default();
    m.insert(
        "include".to_string(),
        Func::with_host(
            Sig::fixed(&[Param::String, Param::Any]),
            move |host: &mut dyn Host, a: &[Value]| {
                let name = s(a, 0);
                {
                    let mut c = counts.borrow_mut();
                    let n = c.entry(name.clone()).or_insert(0);
                    if *n > RECURSION_MAX {
                        return Err(format!(
                            "rendering template has a nested reference name: {name}: unable to execute template"
                        ));
                    }
                    *n += 1;
                }
                let r = host.exec_named(&name, a[1].clone());
                if let Some(n) = counts.borrow_mut().get_mut(&name) {
                    *n = n.saturating_sub(1);
                }
                r.map(Value::str)
            },
        ),
    );
    m.insert(
        "tpl".to_string(),
        Func::with_host(
            Sig::fixed(&[Param::String, Param::Any]),
            |host: &mut dyn Host, a: &[Value]| {
                let text = s(a, 0);
                match host.exec_text(&text, a[1].clone()) {
                    Ok(out) => Ok(Value::str(out.replace("<no value>", ""))),
                    // The engine reports parse and execution errors of the text; Helm words them
                    // differently ("cannot parse template" vs "error during tpl function execution").
                    Err(e) if e.contains(": executing \"") => Err(format!(
                        "error during tpl function execution for {}: {e}",
                        crate::template::go_fmt::sprintf("%q", &[Value::str(&text)])
                    )),
                    Err(e) => Err(format!(
                        "cannot parse template {}: {e}",
                        crate::template::go_fmt::sprintf("%q", &[Value::str(&text)])
                    )),
                }
            },
        ),
    );
}

/// A live object as Helm's `lookup` returns it: `UnstructuredContent()` of an object decoded by
/// apimachinery's unstructured JSON scheme, whose decoder (`UnmarshalCaseSensitivePreserveInts`)
/// makes integer literals that fit `int64` into `int64` and every other number `float64`; objects
/// are `map[string]interface {}`, arrays `[]interface {}`.
pub fn unstructured_to_value(v: &Json) -> Value {
    match v {
        Json::Null => Value::Nil,
        Json::Bool(b) => Value::Bool(*b),
        // serde_json keeps integer literals as integers (i64, or u64 beyond i64) and anything
        // with a fraction or exponent as f64 — the same split Go's json.Number.Int64 makes.
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Int64(i),
            None => Value::Float(n.as_f64().unwrap_or(0.0)),
        },
        Json::String(s) => Value::str(s),
        Json::Array(a) => Value::List(List::new(a.iter().map(unstructured_to_value).collect())),
        Json::Object(o) => {
            let m = Map::new();
            for (k, v) in o {
                m.insert(k.clone(), unstructured_to_value(v));
            }
            Value::Map(m)
        }
    }
}

type LookupKey = (String, String, String, String);

/// Make `lookup` read the cluster through `lookup` for this template set (one render).
///
/// Answers are cached for the render: a chart typically looks up the same Secret from several
/// templates (the Secret itself, a checksum annotation, a helper called per key), and they must
/// all see the same object — without the cache a concurrent change between two calls would make
/// one render disagree with itself. Helm does not cache, but it cannot be observed to differ
/// except in that race. Each call gets a fresh copy of the cached answer, because templates may
/// change the returned map in place (`set`, `unset`) and Helm hands out a new map per call.
pub fn register_lookup(t: &mut crate::template::exec::Templates, lookup: Option<Arc<dyn Lookup>>) {
    let Some(lookup) = lookup else {
        return;
    };
    let cache: Rc<RefCell<HashMap<LookupKey, Result<Json, String>>>> = Rc::default();
    t.add_func(
        "lookup",
        Func::pure(
            Sig::fixed(&[Param::String, Param::String, Param::String, Param::String]),
            move |a| {
                let key = (s(a, 0), s(a, 1), s(a, 2), s(a, 3));
                let answer = cache
                    .borrow_mut()
                    .entry(key.clone())
                    .or_insert_with(|| lookup.lookup(&key.0, &key.1, &key.2, &key.3))
                    .clone();
                match answer? {
                    v @ Json::Object(_) => Ok(unstructured_to_value(&v)),
                    // Helm's lookup always returns map[string]interface {}.
                    _ => Ok(Value::Map(Map::new())),
                }
            },
        ),
    );
}

/// The complete function map for rendering charts: Sprig plus Helm's functions.
pub fn helm_funcs() -> FuncMap {
    let mut m = crate::template::funcs::sprig();
    register(&mut m);
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(m: &FuncMap, name: &str, args: &[Value]) -> Result<Value, String> {
        struct NoHost;
        impl Host for NoHost {
            fn exec_named(&mut self, _: &str, _: Value) -> Result<String, String> {
                Err("no host".into())
            }
            fn exec_text(&mut self, _: &str, _: Value) -> Result<String, String> {
                Err("no host".into())
            }
        }
        (m[name].call)(&mut NoHost, args)
    }

    #[test]
    fn unstructured_numbers_are_int64_or_float64() {
        // As apimachinery decodes: integer literals int64, others (fraction, exponent, beyond
        // int64) float64; objects map[string]interface {}, arrays []interface {}.
        let j: Json = serde_json::from_str(
            r#"{"i": 3, "neg": -7, "f": 1.5, "whole": 2.0, "exp": 1e3, "big": 18446744073709551615,
                "s": "x", "b": true, "n": null, "l": [1, "a", {"k": 0.25}], "data": {"password": "c2VjcmV0"}}"#,
        )
        .unwrap();
        let v = unstructured_to_value(&j);
        let m = v.as_map().unwrap();
        let t = |k: &str| m.get(k).unwrap().type_name();
        assert_eq!(v.type_name(), "map[string]interface {}");
        assert_eq!(t("i"), "int64");
        assert!(matches!(m.get("neg"), Some(Value::Int64(-7))));
        assert_eq!(t("f"), "float64");
        assert_eq!(t("whole"), "float64");
        assert!(matches!(m.get("exp"), Some(Value::Float(f)) if f == 1000.0));
        assert_eq!(t("big"), "float64");
        assert_eq!(t("s"), "string");
        assert_eq!(t("b"), "bool");
        assert!(m.get("n").unwrap().is_nil());
        assert_eq!(t("l"), "[]interface {}");
        let l = m.get("l").unwrap();
        let items = &l.as_list().unwrap().items;
        assert_eq!(items[0].type_name(), "int64");
        assert_eq!(items[2].as_map().unwrap().get("k").unwrap().type_name(), "float64");
        assert_eq!(
            crate::template::go_fmt::sprintf(
                "%v %d %v",
                &[m.get("f").unwrap(), m.get("i").unwrap(), m.get("exp").unwrap()]
            ),
            "1.5 3 1000"
        );
    }

    /// A fake cluster: one Secret, counting calls.
    struct OneSecret(std::sync::atomic::AtomicUsize);

    impl Lookup for OneSecret {
        fn lookup(&self, api_version: &str, kind: &str, namespace: &str, name: &str) -> Result<Json, String> {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            match (api_version, kind, namespace, name) {
                ("v1", "Secret", "ns", "db") => Ok(serde_json::json!({
                    "apiVersion": "v1", "kind": "Secret",
                    "metadata": {"name": "db", "namespace": "ns", "generation": 1},
                    "data": {"password": "c2VjcmV0"}})),
                ("v1", "Secret", "ns", "") => Ok(serde_json::json!({
                    "apiVersion": "v1", "kind": "SecretList", "metadata": {"resourceVersion": "5"},
                    "items": [{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}}]})),
                ("policy/v1", _, _, _) => Err(
                    "unable to get apiresource from unstructured: policy/v1, Kind=PodDisruptionBudget: the server could not find the requested resource".into(),
                ),
                _ => Ok(serde_json::json!({})),
            }
        }
    }

    fn render_with_lookup(text: &str, lookup: Arc<OneSecret>) -> Result<String, String> {
        let mut t = crate::template::exec::Templates::new(helm_funcs());
        register_lookup(&mut t, Some(lookup));
        t.parse("t", text).map_err(|e| e.to_string())?;
        t.execute("t", &Value::Map(Map::new())).map_err(|e| e.to_string())
    }

    #[test]
    fn lookup_reads_through_the_seam_and_caches_per_render() {
        let fake = Arc::new(OneSecret(Default::default()));
        let out = render_with_lookup(
            r#"{{ $s := lookup "v1" "Secret" "ns" "db" }}{{ $s.data.password | b64dec }} {{ typeOf $s.metadata.generation }} {{ $_ := set $s "data" "x" }}{{ (lookup "v1" "Secret" "ns" "db").data.password }} {{ (lookup "v1" "Secret" "ns" "").kind }} {{ len (lookup "v1" "Secret" "ns" "").items }} {{ lookup "v1" "Secret" "ns" "nope" | len }} {{ typeOf (lookup "v1" "ConfigMap" "ns" "x") }}"#,
            fake.clone(),
        )
        .unwrap();
        // A template's `set` on one answer does not leak into the next call's answer.
        assert_eq!(out, "secret int64 c2VjcmV0 SecretList 1 0 map[string]interface {}");
        // db fetched once, the list once, nope once, the ConfigMap once.
        assert_eq!(fake.0.load(std::sync::atomic::Ordering::SeqCst), 4);
        let err = render_with_lookup(r#"{{ lookup "policy/v1" "PodDisruptionBudget" "ns" "x" }}"#, fake).unwrap_err();
        assert!(
            err.contains("error calling lookup: unable to get apiresource from unstructured: policy/v1, Kind=PodDisruptionBudget"),
            "{err}"
        );
    }

    #[test]
    fn offline_lookup_is_an_empty_map() {
        let mut t = crate::template::exec::Templates::new(helm_funcs());
        register_lookup(&mut t, None);
        t.parse("t", r#"{{ lookup "v1" "Secret" "ns" "db" | len }}"#).unwrap();
        assert_eq!(t.execute("t", &Value::Map(Map::new())).unwrap(), "0");
    }

    // Expected texts come from helm 4.1.4 (tests/parity/charts/helmfuncs, case `helmfuncs`).
    #[test]
    fn from_functions_report_errors_in_the_result() {
        let mut m = FuncMap::new();
        register(&mut m);
        let v = call(&m, "fromYamlArray", &[Value::str("a: 1")]).unwrap();
        assert_eq!(
            v.as_list().unwrap().items[0].as_str(),
            Some("error unmarshaling JSON: while decoding JSON: json: cannot unmarshal object into Go value of type []interface {}")
        );
        let e = call(&m, "required", &[Value::str("need x"), Value::str("")]).unwrap_err();
        assert_eq!(e, "HELM_ERR_STARTneed xHELM_ERR_END");
        assert!(call(&m, "required", &[Value::str("x"), Value::Bool(false)]).is_ok());
    }
}
