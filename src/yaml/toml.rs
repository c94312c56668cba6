//! BurntSushi/toml v1.6's `Encoder` for our values (Helm's `toToml`).
//!
//! The layout is the encoder's, not a general TOML writer's: in each table the plain keys come
//! first, then the sub-tables, each group sorted by bytes; nested keys and headers are indented
//! two spaces per level; a blank line precedes each top-level table and each `[[array]]` entry;
//! nil values are skipped, but an array holding a nil fails. Errors are the encoder's texts,
//! which `toToml` prints in place of the output.

use std::fmt::Write as _;

use super::gofloat::{self, Fmt};
use super::json::rfc3339_nano;
use crate::value::Value;

const ERR_NIL_ELEMENT: &str = "toml: cannot encode array with nil element";
const ERR_NO_KEY: &str = "toml: top-level values must be Go maps or structs";

#[derive(Clone, Copy, PartialEq, Eq)]
enum TomlType {
    Scalar,
    Array,
    Hash,
    ArrayHash,
}

/// The value seen through objects (their underlying Go value).
fn plain(v: &Value) -> Value {
    match v {
        Value::Object(o) => o.underlying().unwrap_or_else(|| Value::Map(Default::default())),
        other => other.clone(),
    }
}

/// `tomlTypeOfGo`; `None` for nil. Classifying an array checks its elements for nil.
fn toml_type(v: &Value) -> Result<Option<TomlType>, String> {
    Ok(Some(match plain(v) {
        Value::Nil => return Ok(None),
        Value::Map(_) => TomlType::Hash,
        Value::List(l) => {
            if l.items.is_empty() {
                TomlType::Array
            } else {
                let mut all_tables = true;
                for it in l.items.iter() {
                    match toml_type(it)? {
                        None => return Err(ERR_NIL_ELEMENT.into()),
                        Some(TomlType::Hash) => {}
                        Some(_) => all_tables = false,
                    }
                }
                if all_tables {
                    TomlType::ArrayHash
                } else {
                    TomlType::Array
                }
            }
        }
        Value::Bytes(_) => TomlType::Array,
        _ => TomlType::Scalar,
    }))
}

fn is_bare(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|r| r.is_ascii_alphanumeric() || r == '_' || r == '-')
}

/// The encoder's `dblQuotedReplacer`.
fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn key_piece(k: &str) -> String {
    if k.is_empty() {
        "\"\"".into()
    } else if is_bare(k) {
        k.to_string()
    } else {
        quote(k)
    }
}

fn key_string(key: &[String]) -> String {
    key.iter().map(|k| key_piece(k)).collect::<Vec<_>>().join(".")
}

struct Encoder {
    out: String,
    has_written: bool,
}

impl Encoder {
    fn write(&mut self, s: &str) {
        self.out.push_str(s);
        self.has_written = true;
    }

    fn newline(&mut self) {
        if self.has_written {
            self.write("\n");
        }
    }

    fn indent(key: &[String]) -> String {
        "  ".repeat(key.len().saturating_sub(1))
    }

    fn encode(&mut self, key: &[String], v: &Value) -> Result<(), String> {
        let v = plain(v);
        match &v {
            Value::Nil => Ok(()),
            Value::Map(_) => self.table(key, &v),
            Value::List(_) => {
                if toml_type(&v)? == Some(TomlType::ArrayHash) {
                    self.array_of_tables(key, &v)
                } else {
                    self.key_value(key, &v, false)
                }
            }
            _ => self.key_value(key, &v, false),
        }
    }

    fn key_value(&mut self, key: &[String], v: &Value, inline: bool) -> Result<(), String> {
        if key.is_empty() {
            return self.element(v);
        }
        let last = key.last().map(|k| key_piece(k)).unwrap_or_default();
        self.write(&format!("{}{} = ", Self::indent(key), last));
        self.element(v)?;
        if !inline {
            self.newline();
        }
        Ok(())
    }

    fn element(&mut self, v: &Value) -> Result<(), String> {
        match plain(v) {
            Value::Nil => Err(ERR_NIL_ELEMENT.into()),
            Value::Bool(b) => {
                self.write(if b { "true" } else { "false" });
                Ok(())
            }
            Value::Int(i) | Value::Int64(i) => {
                self.write(&i.to_string());
                Ok(())
            }
            Value::Float(f) => {
                let s = if f.is_nan() {
                    if f.is_sign_negative() {
                        "-nan".to_string()
                    } else {
                        "nan".to_string()
                    }
                } else if f.is_infinite() {
                    if f < 0.0 {
                        "-inf".to_string()
                    } else {
                        "inf".to_string()
                    }
                } else {
                    let s = gofloat::format64(f, Fmt::G);
                    // TOML floats need a decimal point unless they have an exponent.
                    if s.contains('e') || s.contains('.') {
                        s
                    } else {
                        s + ".0"
                    }
                };
                self.write(&s);
                Ok(())
            }
            Value::String(s) => {
                self.write(&quote(&s));
                Ok(())
            }
            Value::Time(t) => {
                self.write(&rfc3339_nano(&t));
                Ok(())
            }
            Value::Bytes(b) => {
                let items: Vec<String> = b.iter().map(|x| x.to_string()).collect();
                self.write(&format!("[{}]", items.join(", ")));
                Ok(())
            }
            Value::List(l) => {
                self.write("[");
                let n = l.items.len();
                for (i, it) in l.items.iter().enumerate() {
                    self.element(it)?;
                    if i != n - 1 {
                        self.write(", ");
                    }
                }
                self.write("]");
                Ok(())
            }
            m @ Value::Map(_) => self.map(&[], &m, true),
            Value::Object(_) => Ok(()),
        }
    }

    fn table(&mut self, key: &[String], v: &Value) -> Result<(), String> {
        if key.len() == 1 {
            self.newline();
        }
        if !key.is_empty() {
            self.write(&format!("{}[{}]", Self::indent(key), key_string(key)));
            self.newline();
        }
        self.map(key, v, false)
    }

    fn array_of_tables(&mut self, key: &[String], v: &Value) -> Result<(), String> {
        if key.is_empty() {
            return Err(ERR_NO_KEY.into());
        }
        if let Value::List(l) = v {
            for it in l.items.iter() {
                let it = plain(it);
                if it.is_nil() {
                    continue;
                }
                self.newline();
                self.write(&format!("{}[[{}]]", Self::indent(key), key_string(key)));
                self.newline();
                self.map(key, &it, false)?;
            }
        }
        Ok(())
    }

    fn map(&mut self, key: &[String], v: &Value, inline: bool) -> Result<(), String> {
        let Value::Map(m) = v else { return Ok(()) };
        let mut direct = Vec::new();
        let mut sub = Vec::new();
        for (k, val) in m.entries() {
            match toml_type(&val)? {
                Some(TomlType::Hash) | Some(TomlType::ArrayHash) => sub.push((k, val)),
                _ => direct.push((k, val)),
            }
        }
        if inline {
            self.write("{");
        }
        let trail = !sub.is_empty();
        self.map_keys(key, &direct, inline, trail)?;
        self.map_keys(key, &sub, inline, false)?;
        if inline {
            self.write("}");
        }
        Ok(())
    }

    fn map_keys(&mut self, key: &[String], keys: &[(String, Value)], inline: bool, trail: bool) -> Result<(), String> {
        // Entries come from a BTreeMap, already in byte order like sort.Slice on strings.
        let n = keys.len();
        for (i, (k, val)) in keys.iter().enumerate() {
            if plain(val).is_nil() {
                continue;
            }
            if inline {
                self.key_value(std::slice::from_ref(k), val, true)?;
                if trail || i != n - 1 {
                    self.write(", ");
                }
            } else {
                let mut child = key.to_vec();
                child.push(k.clone());
                self.encode(&child, val)?;
            }
        }
        Ok(())
    }
}

/// `toml.NewEncoder(w).Encode(v)`.
pub fn encode(v: &Value) -> Result<String, String> {
    let mut e = Encoder {
        out: String::new(),
        has_written: false,
    };
    e.encode(&[], v)?;
    Ok(e.out)
}
