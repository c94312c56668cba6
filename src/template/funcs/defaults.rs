//! Sprig functions: defaults and flow (`default`, `empty`, `coalesce`, `all`, `any`, `ternary`,
//! `fail`) and the JSON codecs Sprig offers (`toJson`, `fromJson`, … and their `must*` forms).
//!
//! Sprig's `empty` decides most of these: nil, false, 0, "" and empty lists and maps are empty,
//! structs never are. That is why `default true .Values.flag` can never yield false. The JSON text
//! itself is Go's `encoding/json`, implemented by `crate::yaml`.

use crate::template::{Func, FuncMap, Param, Sig, Value};
use crate::yaml::{from_json, JsonOpts};

/// Sprig's `empty`: the zero value of its type.
pub(crate) fn empty(v: &Value) -> bool {
    match v {
        Value::Nil => true,
        Value::Bool(b) => !b,
        Value::Int(i) | Value::Int64(i) => *i == 0,
        Value::Float(f) => *f == 0.0,
        Value::String(s) => s.is_empty(),
        Value::Bytes(b) => b.is_empty(),
        Value::List(l) => l.items.is_empty(),
        Value::Map(m) => m.is_empty(),
        Value::Time(_) => false,
        Value::Object(o) => match o.kind() {
            "struct" => false,
            _ => match o.underlying() {
                Some(u) => empty(&u),
                None => false,
            },
        },
    }
}

fn json(v: &Value, escape_html: bool, indent: bool) -> Result<String, String> {
    crate::yaml::to_json(v, JsonOpts { escape_html, indent })
}

/// Sprig's JSON functions: the plain forms swallow errors (empty string, nil), `toRawJson`
/// panics (an error in a template), the `must` forms return the error.
fn register_json(m: &mut FuncMap) {
    use Param::*;
    m.insert(
        "fromJson".into(),
        Func::pure(Sig::fixed(&[String]), |a| {
            Ok(from_json(a[0].as_str().unwrap_or("")).unwrap_or(Value::Nil))
        }),
    );
    m.insert(
        "mustFromJson".into(),
        Func::pure(Sig::fixed(&[String]), |a| from_json(a[0].as_str().unwrap_or(""))),
    );
    m.insert(
        "toJson".into(),
        Func::pure(Sig::fixed(&[Any]), |a| {
            Ok(Value::str(json(&a[0], true, false).unwrap_or_default()))
        }),
    );
    m.insert(
        "mustToJson".into(),
        Func::pure(Sig::fixed(&[Any]), |a| json(&a[0], true, false).map(Value::str)),
    );
    m.insert(
        "toPrettyJson".into(),
        Func::pure(Sig::fixed(&[Any]), |a| {
            Ok(Value::str(json(&a[0], true, true).unwrap_or_default()))
        }),
    );
    m.insert(
        "mustToPrettyJson".into(),
        Func::pure(Sig::fixed(&[Any]), |a| json(&a[0], true, true).map(Value::str)),
    );
    m.insert(
        "toRawJson".into(),
        Func::pure(Sig::fixed(&[Any]), |a| json(&a[0], false, false).map(Value::str)),
    );
    m.insert(
        "mustToRawJson".into(),
        Func::pure(Sig::fixed(&[Any]), |a| json(&a[0], false, false).map(Value::str)),
    );
}

pub fn register(m: &mut FuncMap) {
    use Param::*;
    m.insert(
        "default".into(),
        Func::pure(Sig::variadic(&[Any], Any), |a| {
            // dfault(d, given...): empty(given) is about the variadic slice itself.
            match a.get(1) {
                Some(g) if a.len() > 1 && !empty(g) => Ok(g.clone()),
                _ => Ok(a[0].clone()),
            }
        }),
    );
    m.insert(
        "empty".into(),
        Func::pure(Sig::fixed(&[Any]), |a| Ok(Value::Bool(empty(&a[0])))),
    );
    m.insert(
        "coalesce".into(),
        Func::pure(Sig::variadic(&[], Any), |a| {
            Ok(a.iter().find(|v| !empty(v)).cloned().unwrap_or(Value::Nil))
        }),
    );
    m.insert(
        "all".into(),
        Func::pure(Sig::variadic(&[], Any), |a| {
            Ok(Value::Bool(a.iter().all(|v| !empty(v))))
        }),
    );
    m.insert(
        "any".into(),
        Func::pure(Sig::variadic(&[], Any), |a| {
            Ok(Value::Bool(a.iter().any(|v| !empty(v))))
        }),
    );
    m.insert(
        "ternary".into(),
        Func::pure(Sig::fixed(&[Any, Any, Bool]), |a| {
            Ok(if matches!(a[2], Value::Bool(true)) {
                a[0].clone()
            } else {
                a[1].clone()
            })
        }),
    );
    register_json(m);
    m.insert(
        "fail".into(),
        Func::pure(Sig::fixed(&[String]), |a| Err(a[0].as_str().unwrap_or("").to_string())),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::Map;

    #[test]
    fn empty_is_the_zero_value() {
        for v in [
            Value::Nil,
            Value::Bool(false),
            Value::Int(0),
            Value::Float(0.0),
            Value::str(""),
            Value::list(vec![]),
            Value::Map(Map::new()),
        ] {
            assert!(empty(&v), "{v:?}");
        }
        for v in [
            Value::Bool(true),
            Value::Int64(-1),
            Value::str(" "),
            Value::list(vec![Value::Nil]),
        ] {
            assert!(!empty(&v), "{v:?}");
        }
    }
}
