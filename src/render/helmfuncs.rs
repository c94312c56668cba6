//! Helm's own template functions (pkg/engine/funcs.go and the late-bound ones of engine.go):
//! `include`, `tpl`, `required`, `fail`, `toYaml`, `mustToYaml`, `toYamlPretty`, `fromYaml`,
//! `fromYamlArray`, `toJson`, `mustToJson`, `fromJson`, `fromJsonArray`, `toToml`, `fromToml`,
//! `lookup`, `getHostByName`, layered over Sprig with `env`/`expandenv` removed.
//!
//! They follow Helm's error conventions, which differ per function on purpose: `toYaml`/`toJson`
//! swallow errors into `""`, `from*` put the error text into the result, `required`/`fail` wrap
//! their message in `HELM_ERR_START…HELM_ERR_END` so the renderer can print
//! `execution error at (file:line:col): msg` (see [`super::errors`]).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use crate::template::func::{Func, FuncMap, Host, Param, Sig};
use crate::template::value::{List, Map, Value};
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
                        crate::template::gofmt::sprintf("%q", &[Value::str(&text)])
                    )),
                    Err(e) => Err(format!(
                        "cannot parse template {}: {e}",
                        crate::template::gofmt::sprintf("%q", &[Value::str(&text)])
                    )),
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
