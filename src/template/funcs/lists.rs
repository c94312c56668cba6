//! Sprig functions: lists (`list`, `append`, `first`, `uniq`, `slice`, `chunk`, … and `must*`).
//!
//! Sprig reaches list elements through reflection, so every function accepts any slice kind
//! (`[]string` from `splitList`, `[]interface {}` from YAML) and returns a new `[]interface {}`
//! (except `slice`, which keeps the input type). A non-list argument is an error naming its
//! `reflect.Kind` ("Cannot find first on type int"); a nil argument makes Go dereference a nil
//! type, which surfaces as the runtime's nil-pointer message. The plain and `must` variants fail
//! the same way in a template, because text/template turns panics into call errors.

use crate::template::{Func, FuncMap, List, Param, Sig, Value};

use super::conv::to_int64;
use super::defaults::empty;
use super::reflect::deep_equal;
use super::strings::slice_items;

const NIL_DEREF: &str = "runtime error: invalid memory address or nil pointer dereference";

/// The list's elements, or Sprig's error for `what` on a non-list.
fn items(v: &Value, what: &str) -> Result<Vec<Value>, String> {
    if v.is_nil() {
        return Err(NIL_DEREF.into());
    }
    slice_items(v).ok_or_else(|| format!("Cannot {what} type {}", v.kind()))
}

fn list(v: Vec<Value>) -> Value {
    Value::List(List::new(v))
}

fn in_list(haystack: &[Value], needle: &Value) -> bool {
    haystack.iter().any(|h| deep_equal(needle, h))
}

fn chunk(size: i64, v: &Value) -> Result<Value, String> {
    let it = items(v, "chunk")?;
    if size <= 0 {
        return Err("runtime error: makeslice: len out of range".into());
    }
    let size = size as usize;
    let out: Vec<Value> = it.chunks(size).map(|c| list(c.to_vec())).collect();
    Ok(list(out))
}

fn slice(v: &Value, idx: &[Value]) -> Result<Value, String> {
    if v.is_nil() {
        return Err(NIL_DEREF.into());
    }
    let Some(it) = slice_items(v) else {
        return Err(format!("list should be type of slice or array but {}", v.kind()));
    };
    if it.is_empty() {
        return Ok(Value::Nil);
    }
    let start = idx.first().map(to_int64).unwrap_or(0);
    let end = if idx.len() < 2 {
        it.len() as i64
    } else {
        to_int64(&idx[1])
    };
    if start < 0 || end < start || end > it.len() as i64 {
        return Err("reflect.Value.Slice: slice index out of bounds".into());
    }
    let part = it[start as usize..end as usize].to_vec();
    Ok(match v {
        Value::List(l) => Value::List(List::typed(part, l.elem)),
        _ => list(part),
    })
}

fn concat(lists: &[Value]) -> Result<Value, String> {
    let mut res = Vec::new();
    for l in lists {
        if l.is_nil() {
            return Err(NIL_DEREF.into());
        }
        match slice_items(l) {
            Some(it) => res.extend(it),
            None => return Err(format!("Cannot concat type {} as list", l.kind())),
        }
    }
    Ok(list(res))
}

/// Registers `name` and `mustName` with the same body.
fn both(m: &mut FuncMap, name: &str, sig: Sig, f: fn(&[Value]) -> Result<Value, String>) {
    m.insert(name.into(), Func::pure(sig.clone(), f));
    let mut must = String::from("must");
    let mut cs = name.chars();
    if let Some(c) = cs.next() {
        must.push(c.to_ascii_uppercase());
        must.push_str(cs.as_str());
    }
    m.insert(must, Func::pure(sig, f));
}

pub fn register(m: &mut FuncMap) {
    use Param::*;
    m.insert(
        "list".into(),
        Func::pure(Sig::variadic(&[], Any), |a| Ok(list(a.to_vec()))),
    );
    m.insert(
        "tuple".into(),
        Func::pure(Sig::variadic(&[], Any), |a| Ok(list(a.to_vec()))),
    );
    let push = |a: &[Value]| {
        let mut it = items(&a[0], "push on")?;
        it.push(a[1].clone());
        Ok(list(it))
    };
    both(m, "push", Sig::fixed(&[Any, Any]), push);
    both(m, "append", Sig::fixed(&[Any, Any]), push);
    both(m, "prepend", Sig::fixed(&[Any, Any]), |a| {
        let mut it = items(&a[0], "prepend on")?;
        it.insert(0, a[1].clone());
        Ok(list(it))
    });
    both(m, "chunk", Sig::fixed(&[Int, Any]), |a| {
        chunk(super::strings::arg_int(&a[0]), &a[1])
    });
    both(m, "last", Sig::fixed(&[Any]), |a| {
        Ok(items(&a[0], "find last on")?.pop().unwrap_or(Value::Nil))
    });
    both(m, "first", Sig::fixed(&[Any]), |a| {
        Ok(items(&a[0], "find first on")?.into_iter().next().unwrap_or(Value::Nil))
    });
    both(m, "rest", Sig::fixed(&[Any]), |a| {
        let it = items(&a[0], "find rest on")?;
        Ok(list(it.into_iter().skip(1).collect()))
    });
    both(m, "initial", Sig::fixed(&[Any]), |a| {
        let mut it = items(&a[0], "find initial on")?;
        it.pop();
        Ok(list(it))
    });
    both(m, "reverse", Sig::fixed(&[Any]), |a| {
        let mut it = items(&a[0], "find reverse on")?;
        it.reverse();
        Ok(list(it))
    });
    both(m, "compact", Sig::fixed(&[Any]), |a| {
        Ok(list(
            items(&a[0], "compact on")?.into_iter().filter(|v| !empty(v)).collect(),
        ))
    });
    both(m, "uniq", Sig::fixed(&[Any]), |a| {
        let mut dest: Vec<Value> = Vec::new();
        for v in items(&a[0], "find uniq on")? {
            if !in_list(&dest, &v) {
                dest.push(v);
            }
        }
        Ok(list(dest))
    });
    both(m, "without", Sig::variadic(&[Any], Any), |a| {
        let omit = &a[1..];
        Ok(list(
            items(&a[0], "find without on")?
                .into_iter()
                .filter(|v| !in_list(omit, v))
                .collect(),
        ))
    });
    both(m, "has", Sig::fixed(&[Any, Any]), |a| {
        if a[1].is_nil() {
            return Ok(Value::Bool(false));
        }
        Ok(Value::Bool(in_list(&items(&a[1], "find has on")?, &a[0])))
    });
    both(m, "slice", Sig::variadic(&[Any], Any), |a| slice(&a[0], &a[1..]));
    m.insert("concat".into(), Func::pure(Sig::variadic(&[], Any), concat));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(name: &str, args: &[Value]) -> Result<Value, String> {
        let mut m = FuncMap::new();
        register(&mut m);
        struct NoHost;
        impl crate::template::Host for NoHost {
            fn exec_named(&mut self, _: &str, _: Value) -> Result<String, String> {
                Err("no host".into())
            }
            fn exec_text(&mut self, _: &str, _: Value) -> Result<String, String> {
                Err("no host".into())
            }
        }
        (m[name].call)(&mut NoHost, args)
    }

    fn ints(v: &[i64]) -> Value {
        Value::list(v.iter().map(|&i| Value::Int(i)).collect())
    }

    // Error texts are helm 4.1.4's: `{{ first 1 }}` → "error calling first: Cannot find first on
    // type int"; `{{ first .Values.missing }}` → "... runtime error: invalid memory address or nil
    // pointer dereference".
    #[test]
    fn non_lists_are_errors() {
        assert_eq!(
            call("first", &[Value::Int(1)]).unwrap_err(),
            "Cannot find first on type int"
        );
        assert_eq!(
            call("mustPush", &[Value::str("x"), Value::Int(1)]).unwrap_err(),
            "Cannot push on type string"
        );
        assert_eq!(call("first", &[Value::Nil]).unwrap_err(), NIL_DEREF);
        assert!(matches!(
            call("has", &[Value::Int(1), Value::Nil]),
            Ok(Value::Bool(false))
        ));
    }

    #[test]
    fn list_functions() {
        let l = ints(&[1, 2, 2, 3]);
        let r = call("uniq", &[l.clone()]).unwrap();
        assert!(deep_equal(&r, &ints(&[1, 2, 3])));
        let r = call("without", &[l.clone(), Value::Int(2)]).unwrap();
        assert!(deep_equal(&r, &ints(&[1, 3])));
        let r = call("slice", &[l.clone(), Value::Int(1), Value::Int(3)]).unwrap();
        assert!(deep_equal(&r, &ints(&[2, 2])));
        assert!(call("slice", &[ints(&[])]).unwrap().is_nil());
        let r = call("chunk", &[Value::Int(3), l.clone()]).unwrap();
        assert!(deep_equal(&r, &Value::list(vec![ints(&[1, 2, 2]), ints(&[3])])));
        // []string elements become []interface {} after reverse, as in Sprig.
        let r = call("reverse", &[Value::str_list(["a", "b"])]).unwrap();
        assert_eq!(r.type_name(), "[]interface {}");
        let r = call("slice", &[Value::str_list(["a", "b"]), Value::Int(1)]).unwrap();
        assert_eq!(r.type_name(), "[]string");
        assert!(!call("has", &[Value::Float(1.0), ints(&[1])]).unwrap().truthy());
    }
}
