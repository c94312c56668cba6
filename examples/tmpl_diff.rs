//! Reads JSON lines `{"t": template, "d": data, "m": "zero"|"error"}` and prints the result of
//! executing template "t" (as `OK: output` or `ERR: message`): the Rust half of a differential
//! test against Go's text/template (the Go half lives outside the repository).
use chartup::template::exec::{MissingKey, Templates};
use chartup::template::{Func, FuncMap, List, Map, Param, Sig, Value};
use std::io::BufRead;

fn from_json(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Nil,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => Value::Float(n.as_f64().unwrap_or(0.0)),
        serde_json::Value::String(s) => Value::str(s),
        serde_json::Value::Array(a) => Value::List(List::new(a.iter().map(from_json).collect())),
        serde_json::Value::Object(o) => {
            let m = Map::new();
            for (k, v) in o {
                m.insert(k.clone(), from_json(v));
            }
            Value::Map(m)
        }
    }
}

fn funcs() -> FuncMap {
    let mut f = FuncMap::new();
    f.insert(
        "include".into(),
        Func::with_host(Sig::fixed(&[Param::String, Param::Any]), |h, a| {
            h.exec_named(a[0].as_str().unwrap_or(""), a[1].clone()).map(Value::from)
        }),
    );
    f.insert(
        "fail".into(),
        Func::pure(Sig::fixed(&[Param::String]), |a| {
            Err(a[0].as_str().unwrap_or("").to_string())
        }),
    );
    f.insert(
        "upper".into(),
        Func::pure(Sig::fixed(&[Param::String]), |a| {
            Ok(Value::from(a[0].as_str().unwrap_or("").to_uppercase()))
        }),
    );
    f.insert(
        "repeat".into(),
        Func::pure(Sig::fixed(&[Param::Int, Param::String]), |a| {
            let n = if let Value::Int(n) = a[0] { n.max(0) as usize } else { 0 };
            Ok(Value::from(a[1].as_str().unwrap_or("").repeat(n.min(1000))))
        }),
    );
    f.insert(
        "list".into(),
        Func::pure(Sig::variadic(&[], Param::Any), |a| Ok(Value::list(a.to_vec()))),
    );
    f.insert(
        "toInt64".into(),
        Func::pure(Sig::fixed(&[Param::Any]), |a| {
            Ok(Value::Int64(match a[0] {
                Value::Float(f) => f as i64,
                Value::Int(i) => i,
                _ => 0,
            }))
        }),
    );
    f
}

fn main() {
    let _ = chartup::template::exec::with_big_stack(run);
}

fn run() {
    for line in std::io::stdin().lock().lines().map_while(Result::ok) {
        let c: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
        let text = c["t"].as_str().unwrap_or("");
        let data = from_json(&c["d"]);
        let mut t = Templates::new(funcs());
        if c["m"].as_str() == Some("error") {
            t.set_missing_key(MissingKey::Error);
        }
        let res = match t.parse("t", text) {
            Err(e) => format!("ERR: {e}"),
            Ok(()) => match t.execute("t", &data) {
                Ok(s) => format!("OK: {s}"),
                Err(e) => format!("ERR: {e}"),
            },
        };
        println!("{}", serde_json::to_string(&res).unwrap_or_default());
    }
}
