//! Reads JSON lines `{"f": format, "a": [typed args]}` and prints our `Sprintf` (or `Sprint`/
//! `Sprintln` for the formats "\0sprint"/"\0sprintln") as JSON lines: the Rust half of a
//! differential test against Go's fmt (the Go half lives outside the repository).
use chartup::template::go_fmt;
use chartup::template::{Elem, List, Map, Value};
use std::io::BufRead;

fn conv(a: &serde_json::Value) -> Value {
    let t = a["t"].as_str().unwrap_or("nil");
    let v = &a["v"];
    match t {
        "int" => Value::Int(v.as_i64().unwrap_or(0)),
        "int64" => Value::Int64(v.as_i64().unwrap_or(0)),
        "float" => Value::Float(v.as_f64().unwrap_or(0.0)),
        "fspecial" => Value::Float(match v.as_str().unwrap_or("") {
            "nan" => f64::NAN,
            "inf" => f64::INFINITY,
            "-inf" => f64::NEG_INFINITY,
            _ => -0.0,
        }),
        "string" => Value::str(v.as_str().unwrap_or("")),
        "bool" => Value::Bool(v.as_bool().unwrap_or(false)),
        "bytes" => Value::Bytes(v.as_str().unwrap_or("").as_bytes().to_vec().into()),
        "list" => Value::List(List::new(
            v.as_array().map(|x| x.iter().map(conv).collect()).unwrap_or_default(),
        )),
        "strs" => Value::List(List::typed(
            v.as_array()
                .map(|x| x.iter().map(|s| Value::str(s.as_str().unwrap_or(""))).collect())
                .unwrap_or_default(),
            Elem::String,
        )),
        "map" => {
            let m = Map::new();
            if let Some(o) = v.as_object() {
                for (k, x) in o {
                    m.insert(k.clone(), conv(x));
                }
            }
            Value::Map(m)
        }
        _ => Value::Nil,
    }
}

fn main() {
    for line in std::io::stdin().lock().lines().map_while(Result::ok) {
        let c: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
        let f = c["f"].as_str().unwrap_or("");
        let args: Vec<Value> = c["a"]
            .as_array()
            .map(|x| x.iter().map(conv).collect())
            .unwrap_or_default();
        let out = match f {
            "\u{0}sprint" => go_fmt::sprint(&args),
            "\u{0}sprintln" => go_fmt::sprintln(&args),
            _ => go_fmt::sprintf(f, &args),
        };
        println!("{}", serde_json::to_string(&out).unwrap_or_default());
    }
}
