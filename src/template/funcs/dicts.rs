//! Sprig functions: dictionaries (`dict`, `get`, `set`, `unset`, `hasKey`, `pluck`, `keys`, `pick`,
//! `omit`, `merge`, `mergeOverwrite`, `values`, `dig`, `deepCopy` and `must*` forms).
//!
//! Go maps are references, and charts rely on it: `set`, `unset`, `merge` and `mergeOverwrite`
//! change the first map in place (`$_ := set $d "k" v`). The value model shares map storage, so
//! these functions mutate through the shared cell. `merge` follows dario.cat/mergo v1.0.1's
//! `deepMerge` for `map[string]interface {}` step by step: it fills destination keys that are
//! missing or hold an empty value (false, 0, "", empty list), merges nested maps recursively in
//! place, and puts source maps into the destination by reference (no copy). `keys` and `values`
//! come out in Go's random map order there; here they follow key order.

use std::collections::BTreeMap;

use crate::template::{Elem, Func, FuncMap, List, Map, Param, Sig, Value};

use super::defaults::empty;
use super::strings::strval;

/// The map as the function's Go result type `map[string]interface {}`: the same storage, without a
/// named type such as `common.Values` (so `dig` accepts what `set .Values …` returned).
fn plain(m: &Map) -> Value {
    Value::Map(Map {
        cell: m.cell.clone(),
        elem: m.elem,
        named: None,
    })
}

/// How deep `merge` follows nested maps; Go would overflow its stack on a cyclic map.
const MAX_MERGE_DEPTH: usize = 10_000;

/// A map argument: a nil map (from a nil value) reads as empty.
fn map_arg(v: &Value) -> Option<&Map> {
    v.as_map()
}

fn is_slice(v: &Value) -> bool {
    matches!(v, Value::List(_) | Value::Bytes(_))
}

/// mergo's `deepMerge` for a `map[string]interface {}` destination and source.
fn deep_merge(dst: &Map, src: &Map, overwrite: bool, depth: usize) -> Result<(), String> {
    if depth > MAX_MERGE_DEPTH {
        return Err("runtime: goroutine stack exceeds 1000000000-byte limit".into());
    }
    let dst_was_empty = dst.is_empty();
    let src_was_empty = src.is_empty();
    for (key, src_el) in src.entries() {
        let dst_el = dst.get(&key);
        if src_el.is_nil() {
            if overwrite {
                dst.insert(key, Value::Nil);
            }
            continue;
        }
        match &src_el {
            Value::Map(sm) => {
                // deepMerge(dstElement, srcElement): only a map destination is merged into;
                // any other destination is left alone at this step.
                if let Some(Value::Map(dm)) = &dst_el {
                    if !dm.same(sm) {
                        deep_merge(dm, sm, overwrite, depth + 1)?;
                    }
                }
            }
            Value::List(_) | Value::Bytes(_) => {
                // The slice branch compares the *whole* maps' emptiness, as mergo does.
                let dst_slice = match &dst_el {
                    None | Some(Value::Nil) => Value::List(List::typed(Vec::new(), list_elem(&src_el))),
                    Some(v) => v.clone(),
                };
                let take_src = !src_was_empty && (overwrite || dst_was_empty);
                dst.insert(key.clone(), if take_src { src_el.clone() } else { dst_slice });
            }
            _ => {}
        }
        if let Some(d) = &dst_el {
            if !empty(d) {
                if is_slice(&src_el) {
                    continue;
                }
                if src_el.as_map().is_some() && d.as_map().is_some() {
                    continue;
                }
            }
        }
        if overwrite || dst_el.as_ref().is_none_or(empty) {
            dst.insert(key, src_el);
        }
    }
    Ok(())
}

fn list_elem(v: &Value) -> Elem {
    match v {
        Value::List(l) => l.elem,
        _ => Elem::Uint8,
    }
}

fn merge(a: &[Value], overwrite: bool) -> Result<Value, String> {
    let dst = match map_arg(&a[0]) {
        Some(m) => m.clone(),
        None => Map::new(),
    };
    for src in &a[1..] {
        if let Some(s) = map_arg(src) {
            deep_merge(&dst, s, overwrite, 0)?;
        }
    }
    Ok(plain(&dst))
}

/// Go's message for a failed `x.(map[string]interface {})` assertion.
fn not_a_map(v: &Value) -> String {
    let t = match v {
        Value::Nil => "nil".to_string(),
        other => other.type_name(),
    };
    format!("interface conversion: interface {{}} is {t}, not map[string]interface {{}}")
}

/// The value as a plain `map[string]interface {}` (a type assertion, so named map types fail).
fn assert_map(v: &Value) -> Result<&Map, String> {
    match v {
        Value::Map(m) if m.named.is_none() && m.elem == Elem::Interface => Ok(m),
        other => Err(not_a_map(other)),
    }
}

fn dig(ps: &[Value]) -> Result<Value, String> {
    if ps.len() < 3 {
        return Err("dig needs at least three arguments".into());
    }
    let mut dict = assert_map(&ps[ps.len() - 1])?.clone();
    let def = ps[ps.len() - 2].clone();
    let mut keys = Vec::with_capacity(ps.len() - 2);
    for k in &ps[..ps.len() - 2] {
        match k {
            Value::String(s) => keys.push(s.to_string()),
            Value::Nil => return Err("interface conversion: interface {} is nil, not string".into()),
            other => {
                return Err(format!(
                    "interface conversion: interface {{}} is {}, not string",
                    other.type_name()
                ))
            }
        }
    }
    for (i, k) in keys.iter().enumerate() {
        let Some(step) = dict.get(k) else {
            return Ok(def);
        };
        if i + 1 == keys.len() {
            return Ok(step);
        }
        dict = assert_map(&step)?.clone();
    }
    Ok(def)
}

fn new_map(m: BTreeMap<String, Value>) -> Value {
    Value::Map(Map::from_btree(m))
}

fn deep_copy(v: &Value) -> Result<Value, String> {
    if v.is_nil() {
        return Err("reflect: call of reflect.Value.Type on zero Value".into());
    }
    v.try_deep_copy()
}

pub fn register(m: &mut FuncMap) {
    use Param::*;
    m.insert(
        "dict".into(),
        Func::pure(Sig::variadic(&[], Any), |a| {
            let mut d = BTreeMap::new();
            for pair in a.chunks(2) {
                let v = pair.get(1).cloned().unwrap_or_else(|| Value::str(""));
                d.insert(strval(&pair[0]), v);
            }
            Ok(new_map(d))
        }),
    );
    m.insert(
        "get".into(),
        Func::pure(Sig::fixed(&[Map, String]), |a| {
            let k = a[1].as_str().unwrap_or("");
            Ok(map_arg(&a[0]).and_then(|d| d.get(k)).unwrap_or_else(|| Value::str("")))
        }),
    );
    m.insert(
        "set".into(),
        Func::pure(Sig::fixed(&[Map, String, Any]), |a| match map_arg(&a[0]) {
            Some(d) => {
                d.insert(a[1].as_str().unwrap_or(""), a[2].clone());
                Ok(plain(d))
            }
            None => Err("assignment to entry in nil map".into()),
        }),
    );
    m.insert(
        "unset".into(),
        Func::pure(Sig::fixed(&[Map, String]), |a| match map_arg(&a[0]) {
            Some(d) => {
                d.remove(a[1].as_str().unwrap_or(""));
                Ok(plain(d))
            }
            None => Ok(a[0].clone()),
        }),
    );
    m.insert(
        "hasKey".into(),
        Func::pure(Sig::fixed(&[Map, String]), |a| {
            let k = a[1].as_str().unwrap_or("");
            Ok(Value::Bool(map_arg(&a[0]).is_some_and(|d| d.contains_key(k))))
        }),
    );
    m.insert(
        "pluck".into(),
        Func::pure(Sig::variadic(&[String], Map), |a| {
            let k = a[0].as_str().unwrap_or("");
            Ok(Value::list(
                a[1..]
                    .iter()
                    .filter_map(|d| map_arg(d).and_then(|d| d.get(k)))
                    .collect(),
            ))
        }),
    );
    m.insert(
        "keys".into(),
        Func::pure(Sig::variadic(&[], Map), |a| {
            let keys: Vec<std::string::String> = a.iter().filter_map(map_arg).flat_map(|d| d.keys()).collect();
            Ok(Value::str_list(keys))
        }),
    );
    m.insert(
        "pick".into(),
        Func::pure(Sig::variadic(&[Map], String), |a| {
            let mut res = BTreeMap::new();
            if let Some(d) = map_arg(&a[0]) {
                for k in &a[1..] {
                    let k = k.as_str().unwrap_or("");
                    if let Some(v) = d.get(k) {
                        res.insert(k.to_string(), v);
                    }
                }
            }
            Ok(new_map(res))
        }),
    );
    m.insert(
        "omit".into(),
        Func::pure(Sig::variadic(&[Map], String), |a| {
            let omit: Vec<&str> = a[1..].iter().map(|k| k.as_str().unwrap_or("")).collect();
            let res = map_arg(&a[0])
                .map(|d| {
                    d.entries()
                        .into_iter()
                        .filter(|(k, _)| !omit.contains(&k.as_str()))
                        .collect()
                })
                .unwrap_or_default();
            Ok(new_map(res))
        }),
    );
    m.insert(
        "merge".into(),
        Func::pure(Sig::variadic(&[Map], Map), |a| {
            Ok(merge(a, false).unwrap_or_else(|_| Value::str("")))
        }),
    );
    m.insert(
        "mustMerge".into(),
        Func::pure(Sig::variadic(&[Map], Map), |a| merge(a, false)),
    );
    m.insert(
        "mergeOverwrite".into(),
        Func::pure(Sig::variadic(&[Map], Map), |a| {
            Ok(merge(a, true).unwrap_or_else(|_| Value::str("")))
        }),
    );
    m.insert(
        "mustMergeOverwrite".into(),
        Func::pure(Sig::variadic(&[Map], Map), |a| merge(a, true)),
    );
    m.insert(
        "values".into(),
        Func::pure(Sig::fixed(&[Map]), |a| {
            Ok(Value::list(
                map_arg(&a[0])
                    .map(|d| d.entries().into_iter().map(|(_, v)| v).collect())
                    .unwrap_or_default(),
            ))
        }),
    );
    m.insert("deepCopy".into(), Func::pure(Sig::fixed(&[Any]), |a| deep_copy(&a[0])));
    m.insert(
        "mustDeepCopy".into(),
        Func::pure(Sig::fixed(&[Any]), |a| deep_copy(&a[0])),
    );
    m.insert("dig".into(), Func::pure(Sig::variadic(&[], Any), dig));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::funcs::reflect::deep_equal;

    fn d(pairs: Vec<(&str, Value)>) -> Map {
        let m = Map::new();
        for (k, v) in pairs {
            m.insert(k, v);
        }
        m
    }

    // helm 4.1.4:
    // merge {a:"",b:0,c:false,n:{x:1},l:[],z:"keep"} {a:"A",b:2,c:true,n:{x:2,y:3},l:[1],z:"new",q:[5]}
    // → {"a":"A","b":2,"c":true,"l":[1],"n":{"x":1,"y":3},"q":[5],"z":"keep"}
    #[test]
    fn merge_fills_empty_values_in_place() {
        let n = d(vec![("x", Value::Int(1))]);
        let dst = d(vec![
            ("a", Value::str("")),
            ("b", Value::Int(0)),
            ("c", Value::Bool(false)),
            ("n", Value::Map(n.clone())),
            ("l", Value::list(vec![])),
            ("z", Value::str("keep")),
        ]);
        let src = d(vec![
            ("a", Value::str("A")),
            ("b", Value::Int(2)),
            ("c", Value::Bool(true)),
            ("n", Value::Map(d(vec![("x", Value::Int(2)), ("y", Value::Int(3))]))),
            ("l", Value::list(vec![Value::Int(1)])),
            ("z", Value::str("new")),
            ("q", Value::list(vec![Value::Int(5)])),
        ]);
        merge(&[Value::Map(dst.clone()), Value::Map(src)], false).unwrap();
        let want = d(vec![
            ("a", Value::str("A")),
            ("b", Value::Int(2)),
            ("c", Value::Bool(true)),
            ("n", Value::Map(d(vec![("x", Value::Int(1)), ("y", Value::Int(3))]))),
            ("l", Value::list(vec![Value::Int(1)])),
            ("z", Value::str("keep")),
            ("q", Value::list(vec![Value::Int(5)])),
        ]);
        assert!(deep_equal(&Value::Map(dst), &Value::Map(want)));
        // the nested destination map was changed in place
        assert_eq!(n.len(), 2);
    }

    // helm 4.1.4: mergeOverwrite {a:"x",n:{}} {a:nil,n:{k:1}} → {"a":null,"n":{"k":1}}
    #[test]
    fn merge_overwrite_takes_nil_and_fills_empty_maps() {
        let own = Map::new();
        let dst = d(vec![("a", Value::str("x")), ("n", Value::Map(own.clone()))]);
        let inner = d(vec![("k", Value::Int(1))]);
        let src = d(vec![
            ("a", Value::Nil),
            ("n", Value::Map(inner.clone())),
            ("s", Value::Map(inner.clone())),
        ]);
        merge(&[Value::Map(dst.clone()), Value::Map(src)], true).unwrap();
        assert!(dst.get("a").unwrap().is_nil());
        // an existing destination map is filled in place; a missing key takes the source map
        // itself (shared, not copied)
        assert!(dst.get("n").unwrap().as_map().unwrap().same(&own));
        assert_eq!(own.len(), 1);
        assert!(dst.get("s").unwrap().as_map().unwrap().same(&inner));
    }

    // helm 4.1.4: `dig "m" "a" "x" .Values` fails because .Values is a named map type.
    #[test]
    fn dig_errors_like_go() {
        let inner = d(vec![("b", Value::Float(1.0))]);
        let top = d(vec![("a", Value::Map(inner))]);
        let args = |ks: &[&str]| {
            let mut v: Vec<Value> = ks.iter().map(|k| Value::str(*k)).collect();
            v.push(Value::str("def"));
            v.push(Value::Map(top.clone()));
            v
        };
        assert!(matches!(dig(&args(&["a", "b"])), Ok(Value::Float(f)) if f == 1.0));
        assert_eq!(dig(&args(&["a", "x", "y"])).unwrap().as_str(), Some("def"));
        assert_eq!(
            dig(&args(&["a", "b", "d"])).unwrap_err(),
            "interface conversion: interface {} is float64, not map[string]interface {}"
        );
        assert_eq!(
            dig(&[Value::Map(top.clone())]).unwrap_err(),
            "dig needs at least three arguments"
        );
        let mut named = top.clone();
        named.named = Some("common.Values".into());
        assert_eq!(
            dig(&[Value::str("a"), Value::Nil, Value::Map(named)]).unwrap_err(),
            "interface conversion: interface {} is common.Values, not map[string]interface {}"
        );
    }
}
