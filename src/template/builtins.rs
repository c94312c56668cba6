//! The functions Go's `text/template` predefines (`text/template/funcs.go`): `and`, `or`, `not`,
//! `len`, `index`, `slice`, `print`, `printf`, `println`, `html`, `js`, `urlquery`, `call`,
//! `eq`, `ne`, `lt`, `le`, `gt`, `ge`.
//!
//! Their error texts reach the user as `error calling index: index out of range: 5`, and charts
//! depend on the comparison rules (an `int` equals an `int64`, but comparing `int` with `float64`
//! is an error, and comparing anything with a missing value is simply false), so each follows
//! Go's code path. `and`, `or` and `call` are registered here for name lookup, but the executor
//! runs them itself: `and`/`or` short-circuit over unevaluated arguments and `call` needs the
//! callee's source text.

use std::cmp::Ordering;

use super::func::{Func, FuncMap, Param, Sig};
use super::go_fmt;
use crate::value::{Elem, List, Value};

/// Go's `fmt` recurses forever on a map that contains itself (helm dies of a stack overflow):
/// refuse it with an error instead.
fn refuse_cycles(args: &[Value]) -> Result<(), String> {
    match args.iter().any(Value::has_cycle) {
        true => Err("cannot print a value that contains itself (a dict nested inside itself)".into()),
        false => Ok(()),
    }
}

/// Every builtin, by name.
pub fn builtins() -> FuncMap {
    let mut m = FuncMap::new();
    let any1 = || Sig::fixed(&[Param::Any]);
    let any_var = || Sig::variadic(&[Param::Any], Param::Any);
    let any2 = || Sig::fixed(&[Param::Any, Param::Any]);
    // and/or/call: evaluated by the executor; these bodies serve only if called indirectly.
    m.insert(
        "and".into(),
        Func::pure(any_var(), |a| {
            Ok(a.iter().find(|v| !v.truthy()).or(a.last()).cloned().unwrap_or_default())
        }),
    );
    m.insert(
        "or".into(),
        Func::pure(any_var(), |a| {
            Ok(a.iter().find(|v| v.truthy()).or(a.last()).cloned().unwrap_or_default())
        }),
    );
    m.insert(
        "call".into(),
        Func::pure(any_var(), |a| Err(call_error("fn", a.first().unwrap_or(&Value::Nil)))),
    );
    m.insert(
        "not".into(),
        Func::pure(any1(), |a| Ok(Value::Bool(!arg(a, 0).truthy()))),
    );
    m.insert("len".into(), Func::pure(any1(), |a| length(arg(a, 0)).map(Value::Int)));
    m.insert(
        "index".into(),
        Func::pure(any_var(), |a| index(arg(a, 0), &a[1.min(a.len())..])),
    );
    m.insert(
        "slice".into(),
        Func::pure(any_var(), |a| slice(arg(a, 0), &a[1.min(a.len())..])),
    );
    m.insert(
        "print".into(),
        Func::pure(Sig::variadic(&[], Param::Any), |a| {
            refuse_cycles(a)?;
            Ok(Value::from(go_fmt::sprint(a)))
        }),
    );
    m.insert(
        "println".into(),
        Func::pure(Sig::variadic(&[], Param::Any), |a| {
            refuse_cycles(a)?;
            Ok(Value::from(go_fmt::sprintln(a)))
        }),
    );
    m.insert(
        "printf".into(),
        Func::pure(Sig::variadic(&[Param::String], Param::Any), |a| {
            let f = a.first().and_then(Value::as_str).unwrap_or("");
            refuse_cycles(a)?;
            Ok(Value::from(go_fmt::sprintf(f, &a[1.min(a.len())..])))
        }),
    );
    m.insert(
        "html".into(),
        Func::pure(Sig::variadic(&[], Param::Any), |a| {
            Ok(Value::from(html_escape(&eval_args(a))))
        }),
    );
    m.insert(
        "js".into(),
        Func::pure(Sig::variadic(&[], Param::Any), |a| {
            Ok(Value::from(js_escape(&eval_args(a))))
        }),
    );
    m.insert(
        "urlquery".into(),
        Func::pure(Sig::variadic(&[], Param::Any), |a| {
            Ok(Value::from(query_escape(&eval_args(a))))
        }),
    );
    m.insert(
        "eq".into(),
        Func::pure(any_var(), |a| eq(arg(a, 0), &a[1.min(a.len())..]).map(Value::Bool)),
    );
    m.insert(
        "ne".into(),
        Func::pure(any2(), |a| eq(arg(a, 0), &a[1..2]).map(|b| Value::Bool(!b))),
    );
    m.insert(
        "lt".into(),
        Func::pure(any2(), |a| lt(arg(a, 0), arg(a, 1)).map(Value::Bool)),
    );
    m.insert(
        "le".into(),
        Func::pure(any2(), |a| le(arg(a, 0), arg(a, 1)).map(Value::Bool)),
    );
    m.insert(
        "gt".into(),
        Func::pure(any2(), |a| le(arg(a, 0), arg(a, 1)).map(|b| Value::Bool(!b))),
    );
    m.insert(
        "ge".into(),
        Func::pure(any2(), |a| lt(arg(a, 0), arg(a, 1)).map(|b| Value::Bool(!b))),
    );
    m
}

fn arg(a: &[Value], i: usize) -> &Value {
    a.get(i).unwrap_or(&Value::Nil)
}

/// Go's message for `call` on something that is not a function (templates have no func values).
pub fn call_error(name: &str, v: &Value) -> String {
    if v.is_nil() {
        "call of nil".to_string()
    } else {
        format!("non-function {} of type {}", name, v.type_name())
    }
}

/// The plain value behind an object (a `VersionSet` is a `[]string`).
fn plain(v: &Value) -> Value {
    match v {
        Value::Object(o) => o.underlying().unwrap_or_else(|| v.clone()),
        _ => v.clone(),
    }
}

/// `len`: bytes of strings, entries of maps and slices.
pub fn length(v: &Value) -> Result<i64, String> {
    match plain(v) {
        Value::Nil => Err("len of nil pointer".into()),
        Value::String(s) => Ok(s.len() as i64),
        Value::Bytes(b) => Ok(b.len() as i64),
        Value::List(l) => Ok(l.items.len() as i64),
        Value::Map(m) => Ok(m.len() as i64),
        other => Err(format!("len of type {}", other.type_name())),
    }
}

fn index_arg(index: &Value, cap: usize) -> Result<usize, String> {
    let x = match index {
        Value::Int(i) | Value::Int64(i) => *i,
        Value::Nil => return Err("cannot index slice/array with nil".into()),
        other => return Err(format!("cannot index slice/array with type {}", other.type_name())),
    };
    if x < 0 || x as u64 > cap as u64 {
        return Err(format!("index out of range: {x}"));
    }
    Ok(x as usize)
}

/// `index item i j …`.
pub fn index(item: &Value, indexes: &[Value]) -> Result<Value, String> {
    let mut item = plain(item);
    if item.is_nil() {
        return Err("index of untyped nil".into());
    }
    for index in indexes {
        item = match &item {
            Value::Nil => return Err("index of nil pointer".into()),
            Value::List(l) => {
                let x = index_arg(index, l.items.len())?;
                match l.items.get(x) {
                    Some(v) => plain(v),
                    None => return Err("reflect: slice index out of range".into()),
                }
            }
            Value::String(s) => {
                let x = index_arg(index, s.len())?;
                match s.as_bytes().get(x) {
                    Some(b) => Value::Int(i64::from(*b)),
                    None => return Err("reflect: string index out of range".into()),
                }
            }
            Value::Bytes(b) => {
                let x = index_arg(index, b.len())?;
                match b.get(x) {
                    Some(c) => Value::Int(i64::from(*c)),
                    None => return Err("reflect: slice index out of range".into()),
                }
            }
            Value::Map(m) => {
                let key = match index {
                    Value::String(k) => k.clone(),
                    Value::Nil => return Err("value is nil; should be of type string".into()),
                    other => return Err(format!("value has type {}; should be string", other.type_name())),
                };
                match m.get(&key) {
                    Some(v) => plain(&v),
                    None => zero_of(m.elem),
                }
            }
            other => return Err(format!("can't index item of type {}", other.type_name())),
        };
    }
    Ok(item)
}

/// The zero value of a map's element type (a missing key under `missingkey=zero`).
pub fn zero_of(e: Elem) -> Value {
    match e {
        Elem::Interface => Value::Nil,
        Elem::String => Value::str(""),
        Elem::Int => Value::Int(0),
        Elem::Int64 => Value::Int64(0),
        Elem::Float64 => Value::Float(0.0),
        Elem::Bool => Value::Bool(false),
        Elem::Uint8 => Value::Int(0),
    }
}

/// `slice item i j k`.
pub fn slice(item: &Value, indexes: &[Value]) -> Result<Value, String> {
    let item = plain(item);
    if item.is_nil() {
        return Err("slice of untyped nil".into());
    }
    if indexes.len() > 3 {
        return Err(format!("too many slice indexes: {}", indexes.len()));
    }
    let len = match &item {
        Value::String(s) => {
            if indexes.len() == 3 {
                return Err("cannot 3-index slice a string".into());
            }
            s.len()
        }
        Value::List(l) => l.items.len(),
        Value::Bytes(b) => b.len(),
        other => return Err(format!("can't slice item of type {}", other.type_name())),
    };
    let mut idx = [0usize, len, len];
    for (i, index) in indexes.iter().enumerate() {
        idx[i] = index_arg(index, len)?;
    }
    if idx[0] > idx[1] {
        return Err(format!("invalid slice index: {} > {}", idx[0], idx[1]));
    }
    if indexes.len() == 3 && idx[1] > idx[2] {
        return Err(format!("invalid slice index: {} > {}", idx[1], idx[2]));
    }
    let (i, j) = (idx[0], idx[1]);
    Ok(match &item {
        Value::String(s) => match s.as_bytes().get(i..j) {
            Some(b) => Value::from(String::from_utf8_lossy(b).into_owned()),
            None => return Err("reflect: string slice index out of range".into()),
        },
        Value::List(l) => Value::List(List::typed(l.items[i..j].to_vec(), l.elem)),
        Value::Bytes(b) => Value::Bytes(b[i..j].to_vec().into()),
        _ => Value::Nil,
    })
}

/// Go's `evalArgs` for `html`, `js`, `urlquery`: one string as is, else `fmt.Sprint` with
/// missing values printed as `<no value>`.
fn eval_args(a: &[Value]) -> String {
    if let [Value::String(s)] = a {
        return s.to_string();
    }
    let printable: Vec<Value> = a
        .iter()
        .map(|v| {
            if v.is_nil() {
                Value::str("<no value>")
            } else {
                v.clone()
            }
        })
        .collect();
    go_fmt::sprint(&printable)
}

/// `template.HTMLEscapeString`.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\0' => out.push('\u{FFFD}'),
            _ => out.push(c),
        }
    }
    out
}

/// `template.JSEscapeString`.
pub fn js_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04X}", c as u32)),
            c if (c as u32) >= 0x80 && !go_fmt::is_print(c) => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// `url.QueryEscape`.
pub fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[derive(PartialEq, Clone, Copy)]
enum Kind {
    Invalid,
    Bool,
    Int,
    Float,
    String,
}

fn basic_kind(v: &Value) -> Kind {
    match v {
        Value::Bool(_) => Kind::Bool,
        Value::Int(_) | Value::Int64(_) => Kind::Int,
        Value::Float(_) => Kind::Float,
        Value::String(_) => Kind::String,
        _ => Kind::Invalid,
    }
}

fn incompatible(a: &Value, b: &Value) -> String {
    format!(
        "incompatible types for comparison: {} and {}",
        a.type_name(),
        b.type_name()
    )
}

/// `eq arg1 arg2 …`: true if arg1 equals any of the others.
pub fn eq(arg1: &Value, rest: &[Value]) -> Result<bool, String> {
    let arg1 = plain(arg1);
    if rest.is_empty() {
        return Err("missing argument for comparison".into());
    }
    let k1 = basic_kind(&arg1);
    for arg in rest {
        let arg = plain(arg);
        let k2 = basic_kind(&arg);
        let truth = if k1 != k2 {
            if !arg1.is_nil() && !arg.is_nil() {
                return Err(incompatible(&arg1, &arg));
            }
            false
        } else {
            match (&arg1, &arg) {
                (Value::Bool(a), Value::Bool(b)) => a == b,
                (Value::Int(a) | Value::Int64(a), Value::Int(b) | Value::Int64(b)) => a == b,
                (Value::Float(a), Value::Float(b)) => a == b,
                (Value::String(a), Value::String(b)) => a == b,
                _ => {
                    // Non-basic kinds: comparable only against nil or when Go could compare them.
                    let same_kind = std::mem::discriminant(&arg1) == std::mem::discriminant(&arg);
                    if !same_kind && !arg1.is_nil() && !arg.is_nil() {
                        return Err(format!(
                            "non-comparable types {}: {}, {}: {}",
                            go_fmt::sprintf("%s", std::slice::from_ref(&arg1)),
                            arg1.type_name(),
                            arg.type_name(),
                            go_fmt::format_v(&arg)
                        ));
                    }
                    if arg1.is_nil() || arg.is_nil() {
                        arg1.is_nil() == arg.is_nil()
                    } else {
                        match (&arg1, &arg) {
                            (Value::Time(a), Value::Time(b)) => a == b,
                            (Value::Object(a), Value::Object(b)) => std::rc::Rc::ptr_eq(a, b),
                            _ => {
                                return Err(format!(
                                    "non-comparable type {}: {}",
                                    go_fmt::sprintf("%s", std::slice::from_ref(&arg)),
                                    arg.type_name()
                                ))
                            }
                        }
                    }
                }
            }
        };
        if truth {
            return Ok(true);
        }
    }
    Ok(false)
}

/// `lt a b`.
pub fn lt(a: &Value, b: &Value) -> Result<bool, String> {
    let (a, b) = (plain(a), plain(b));
    let (k1, k2) = (basic_kind(&a), basic_kind(&b));
    if k1 == Kind::Invalid || k2 == Kind::Invalid {
        return Err("invalid type for comparison".into());
    }
    if k1 != k2 {
        return Err(incompatible(&a, &b));
    }
    Ok(match (&a, &b) {
        (Value::Bool(_), Value::Bool(_)) => return Err("invalid type for comparison".into()),
        (Value::Int(x) | Value::Int64(x), Value::Int(y) | Value::Int64(y)) => x < y,
        (Value::Float(x), Value::Float(y)) => x.partial_cmp(y) == Some(Ordering::Less),
        (Value::String(x), Value::String(y)) => x < y,
        _ => false,
    })
}

/// `le a b`: `lt` or `eq`.
pub fn le(a: &Value, b: &Value) -> Result<bool, String> {
    if lt(a, b)? {
        return Ok(true);
    }
    eq(a, std::slice::from_ref(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Map;

    // Expected values are Go's (checked with helm 4.1.4).
    #[test]
    fn comparisons() {
        let i = Value::Int;
        assert_eq!(eq(&i(1), &[Value::Int64(1)]), Ok(true));
        assert_eq!(eq(&i(1), &[i(2), i(1)]), Ok(true));
        assert_eq!(
            eq(&i(1), &[Value::Float(1.0)]),
            Err("incompatible types for comparison: int and float64".into())
        );
        assert_eq!(eq(&Value::Nil, &[i(1)]), Ok(false));
        assert_eq!(eq(&Value::Map(Map::new()), &[Value::Nil]), Ok(false));
        assert_eq!(
            eq(&Value::list(vec![i(1)]), &[i(1)]),
            Err("incompatible types for comparison: []interface {} and int".into())
        );
        assert_eq!(
            eq(&Value::list(vec![i(1)]), &[Value::list(vec![i(1)])]),
            Err("non-comparable type [%!s(int=1)]: []interface {}".into())
        );
        assert_eq!(lt(&Value::Nil, &i(1)), Err("invalid type for comparison".into()));
        assert_eq!(
            lt(&Value::Bool(true), &Value::Bool(false)),
            Err("invalid type for comparison".into())
        );
        assert_eq!(
            lt(&i(1), &Value::str("a")),
            Err("incompatible types for comparison: int and string".into())
        );
        assert_eq!(le(&i(1), &i(1)), Ok(true));
        assert_eq!(lt(&Value::Float(2.5), &Value::Float(3.5)), Ok(true));
    }

    #[test]
    fn index_and_len() {
        let l = Value::list(vec![Value::Int(1), Value::Int(2)]);
        assert_eq!(
            index(&l, &[Value::Int(2)]).err().unwrap(),
            "reflect: slice index out of range"
        );
        assert_eq!(index(&l, &[Value::Int(-1)]).err().unwrap(), "index out of range: -1");
        assert_eq!(index(&l, &[Value::Int(5)]).err().unwrap(), "index out of range: 5");
        let m = Map::new();
        m.insert("a", Value::Int(1));
        assert_eq!(
            index(&Value::Map(m.clone()), &[Value::Int(1)]).err().unwrap(),
            "value has type int; should be string"
        );
        assert!(index(&Value::Map(m), &[Value::str("b")]).unwrap().is_nil());
        assert_eq!(
            index(&Value::Nil, &[Value::Int(1)]).err().unwrap(),
            "index of untyped nil"
        );
        assert_eq!(
            index(&Value::Int(1), &[Value::Int(1)]).err().unwrap(),
            "can't index item of type int"
        );
        assert_eq!(
            go_fmt::format_v(&index(&Value::str("ab"), &[Value::Int(1)]).unwrap()),
            "98"
        );
        assert_eq!(length(&Value::Nil).err().unwrap(), "len of nil pointer");
        assert_eq!(length(&Value::Int(3)).err().unwrap(), "len of type int");
        assert_eq!(length(&Value::str("é")), Ok(2));
    }

    #[test]
    fn escapers() {
        assert_eq!(
            html_escape("<a href=\"x\">'&</a>"),
            "&lt;a href=&#34;x&#34;&gt;&#39;&amp;&lt;/a&gt;"
        );
        assert_eq!(
            js_escape("a'b\"<>&=\\ é\n"),
            "a\\'b\\\"\\u003C\\u003E\\u0026\\u003D\\\\ é\\u000A"
        );
        assert_eq!(query_escape("a b&c/é"), "a+b%26c%2F%C3%A9");
        assert_eq!(
            eval_args(&[Value::Int(1), Value::Int(2), Value::str("x"), Value::Nil]),
            "1 2x<no value>"
        );
    }
}
