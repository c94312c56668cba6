//! Sprig functions: reflection (`typeOf`, `typeIs`, `typeIsLike`, `kindOf`, `kindIs`, `deepEqual`).
//!
//! Type and kind names are Go's (`%T` and `reflect.Kind.String()`), taken from the value model,
//! which keeps Go types apart for exactly this reason. `deepEqual` is `reflect.DeepEqual`: values of
//! different Go types are never equal (`int` 1 vs `float64` 1), maps compare by content.

use crate::template::{Func, FuncMap, Param, Sig, Value};

/// Go's `reflect.DeepEqual` over the value model.
pub(crate) fn deep_equal(a: &Value, b: &Value) -> bool {
    deep_equal_in(a, b, &mut std::collections::HashSet::new())
}

/// Go's visited set: a pair of maps already being compared counts as equal, so self-referencing
/// dicts compare (helm prints `true`) instead of recursing forever.
fn deep_equal_in(a: &Value, b: &Value, visited: &mut std::collections::HashSet<(usize, usize)>) -> bool {
    match (a, b) {
        (Value::Nil, Value::Nil) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) | (Value::Int64(x), Value::Int64(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Bytes(x), Value::Bytes(y)) => x == y,
        (Value::List(x), Value::List(y)) => {
            x.elem == y.elem
                && x.items.len() == y.items.len()
                && x.items
                    .iter()
                    .zip(y.items.iter())
                    .all(|(p, q)| deep_equal_in(p, q, visited))
        }
        (Value::Map(x), Value::Map(y)) => {
            if x.type_name() != y.type_name() {
                return false;
            }
            if x.same(y) {
                return true;
            }
            let pair = (
                std::rc::Rc::as_ptr(&x.cell) as usize,
                std::rc::Rc::as_ptr(&y.cell) as usize,
            );
            if !visited.insert(pair) {
                return true;
            }
            let (ex, ey) = (x.entries(), y.entries());
            ex.len() == ey.len()
                && ex
                    .iter()
                    .zip(ey.iter())
                    .all(|((kx, vx), (ky, vy))| kx == ky && deep_equal_in(vx, vy, visited))
        }
        (Value::Time(x), Value::Time(y)) => x == y,
        (Value::Object(x), Value::Object(y)) => {
            x.type_name() == y.type_name()
                && match (x.underlying(), y.underlying()) {
                    (Some(u), Some(v)) => deep_equal_in(&u, &v, visited),
                    _ => x.fmt_v() == y.fmt_v(),
                }
        }
        _ => false,
    }
}

pub fn register(m: &mut FuncMap) {
    use Param::*;
    m.insert(
        "typeOf".into(),
        Func::pure(Sig::fixed(&[Any]), |a| Ok(Value::str(a[0].type_name()))),
    );
    m.insert(
        "typeIs".into(),
        Func::pure(Sig::fixed(&[String, Any]), |a| {
            Ok(Value::Bool(a[0].as_str() == Some(&a[1].type_name())))
        }),
    );
    m.insert(
        "typeIsLike".into(),
        Func::pure(Sig::fixed(&[String, Any]), |a| {
            let t = a[1].type_name();
            let target = a[0].as_str().unwrap_or("");
            Ok(Value::Bool(target == t || format!("*{target}") == t))
        }),
    );
    m.insert(
        "kindOf".into(),
        Func::pure(Sig::fixed(&[Any]), |a| Ok(Value::str(a[0].kind()))),
    );
    m.insert(
        "kindIs".into(),
        Func::pure(Sig::fixed(&[String, Any]), |a| {
            Ok(Value::Bool(a[0].as_str() == Some(a[1].kind())))
        }),
    );
    m.insert(
        "deepEqual".into(),
        Func::pure(Sig::fixed(&[Any, Any]), |a| Ok(Value::Bool(deep_equal(&a[0], &a[1])))),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::Map;

    // reflect.DeepEqual: helm 4.1.4 renders `deepEqual 1 1.0` as false and
    // `deepEqual (dict "a" 1) (dict "a" 1)` as true.
    #[test]
    fn deep_equal_respects_go_types() {
        assert!(!deep_equal(&Value::Int(1), &Value::Float(1.0)));
        assert!(!deep_equal(&Value::Int(1), &Value::Int64(1)));
        let a = Map::new();
        a.insert("a", Value::Int(1));
        let b = Map::new();
        b.insert("a", Value::Int(1));
        assert!(deep_equal(&Value::Map(a), &Value::Map(b)));
        assert!(!deep_equal(&Value::list(vec![]), &Value::str_list(Vec::<&str>::new())));
        assert!(deep_equal(&Value::Nil, &Value::Nil));
    }
}
