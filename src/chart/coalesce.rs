//! Coalescing user values over chart defaults, a line-by-line port of Helm 4's
//! `pkg/chart/common/util/coalesce.go`.
//!
//! The rules (maps merge, scalars and lists replace, a user `null` deletes a chart default,
//! `global` flows down into every subchart with the parent winning, each subchart's values live
//! under its name) come with many edge cases that charts can observe, including Go map aliasing:
//! `coalesceGlobals` copies a global table only one level deep, so nested global tables are shared
//! between parent and child. Our [`Map`] is shared by reference like a Go map, so porting the code
//! literally reproduces those effects; deep copies are made exactly where Helm makes them
//! (`copystructure.Copy`). Helm logs warnings with `log.Printf`; they are collected in
//! [`Warnings`] instead.

use std::cell::RefCell;

use super::{Chart, ChartError};
use crate::value::{Map, Value};

thread_local! {
    static WARNINGS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// The warnings Helm would have logged (`log.Printf`/`slog`) while loading and coalescing on this
/// thread: coalesce conflicts, v1-style requirements files in v2 charts, non-bool conditions.
pub struct Warnings;

impl Warnings {
    /// Takes and clears the collected warnings.
    pub fn take() -> Vec<String> {
        WARNINGS.with(|w| std::mem::take(&mut *w.borrow_mut()))
    }
}

pub(crate) fn push_warning(msg: String) {
    warn(msg)
}

fn warn(msg: String) {
    WARNINGS.with(|w| w.borrow_mut().push(msg));
}

fn concat_prefix(a: &str, b: &str) -> String {
    if a.is_empty() {
        b.to_string()
    } else {
        format!("{a}.{b}")
    }
}

fn as_table(v: &Value) -> Option<Map> {
    match v {
        Value::Map(m) if m.named.is_none() => Some(m.clone()),
        _ => None,
    }
}

fn copy_map(m: &Map) -> Map {
    match Value::Map(m.clone()).deep_copy() {
        Value::Map(c) => c,
        _ => Map::new(),
    }
}

/// `CoalesceValues`: user values (copied) coalesced with the chart's and its subcharts' defaults;
/// nulls delete.
pub fn coalesce_values(ch: &Chart, vals: &Map) -> Result<Map, ChartError> {
    let copy = copy_map(vals);
    coalesce(ch, &copy, "", false)
}

/// `MergeValues`: as [`coalesce_values`] but nulls are kept.
pub fn merge_values(ch: &Chart, vals: &Map) -> Result<Map, ChartError> {
    let copy = copy_map(vals);
    coalesce(ch, &copy, "", true)
}

fn coalesce(ch: &Chart, dest: &Map, prefix: &str, merge: bool) -> Result<Map, ChartError> {
    coalesce_chart_values(ch, dest, prefix, merge);
    coalesce_deps(ch, dest, prefix, merge)
}

/// Go's `%t` of a non-bool: `%!t(string=x)`, `%!t(<nil>)`.
fn bad_t(v: &Value) -> String {
    match v {
        Value::Bool(b) => b.to_string(),
        Value::Nil => "%!t(<nil>)".into(),
        // fmt applies the verb to each element of slices and maps.
        Value::List(l) => format!("[{}]", l.items.iter().map(bad_t).collect::<Vec<_>>().join(" ")),
        Value::Map(m) => format!(
            "map[{}]",
            m.entries()
                .iter()
                .map(|(k, v)| format!("{k}:{}", bad_t(v)))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        other => format!("%!t({}={})", other.type_name(), go_v(other)),
    }
}

fn coalesce_deps(ch: &Chart, dest: &Map, prefix: &str, merge: bool) -> Result<Map, ChartError> {
    for sub in &ch.dependencies {
        let name = sub.name();
        match dest.get(name) {
            None if !dest.contains_key(name) => {
                dest.insert(name, Value::Map(Map::new()));
            }
            Some(c) if as_table(&c).is_some() => {}
            other => {
                let c = other.unwrap_or(Value::Nil);
                return Err(ChartError(format!("type mismatch on {name}: {}", bad_t(&c))));
            }
        }
        if let Some(dvmap) = dest.get(name).as_ref().and_then(as_table) {
            let sub_prefix = concat_prefix(prefix, ch.name());
            coalesce_globals(&dvmap, dest, &sub_prefix);
            let out = coalesce(sub, &dvmap, &sub_prefix, merge)?;
            dest.insert(name, Value::Map(out));
        }
    }
    Ok(dest.clone())
}

/// `coalesceGlobals`: copies the globals of `src` into `dest`'s `global`, `dest` winning.
fn coalesce_globals(dest: &Map, src: &Map, prefix: &str) {
    let dg = match dest.get("global") {
        None if !dest.contains_key("global") => Map::new(),
        Some(v) => match as_table(&v) {
            Some(m) => m,
            None => {
                warn("warning: skipping globals because destination global is not a table.".into());
                return;
            }
        },
        None => {
            warn("warning: skipping globals because destination global is not a table.".into());
            return;
        }
    };
    let sg = match src.get("global") {
        None if !src.contains_key("global") => Map::new(),
        Some(v) => match as_table(&v) {
            Some(m) => m,
            None => {
                warn("warning: skipping globals because source global is not a table.".into());
                return;
            }
        },
        None => {
            warn("warning: skipping globals because source global is not a table.".into());
            return;
        }
    };
    for (key, val) in sg.entries() {
        if let Some(vm) = as_table(&val) {
            // A one-level copy: nested tables stay shared, as in Helm.
            let vv = Map::from_btree(vm.cell.borrow().clone());
            match dg.get(&key) {
                None if !dg.contains_key(&key) => {
                    dg.insert(key, Value::Map(vv));
                }
                destv => match destv.as_ref().and_then(as_table) {
                    None => warn(format!(
                        "Conflict: cannot merge map onto non-map for {key:?}. Skipping."
                    )),
                    Some(destvmap) => {
                        let sub_prefix = concat_prefix(prefix, &key);
                        coalesce_tables_full_key(&vv, &destvmap, &sub_prefix, true);
                        dg.insert(key, Value::Map(vv));
                    }
                },
            }
        } else if dg.get(&key).as_ref().and_then(as_table).is_some() {
            warn(format!("key {key} is table. Skipping"));
        } else {
            dg.insert(key, val);
        }
    }
    dest.insert("global", Value::Map(dg));
}

/// `coalesceValues`: the chart's default values (deep-copied) under `v`, `v` winning.
fn coalesce_chart_values(ch: &Chart, v: &Map, prefix: &str, merge: bool) {
    let sub_prefix = concat_prefix(prefix, ch.name());
    let vc = copy_map(&ch.values_map());
    for (key, val) in vc.entries() {
        if v.contains_key(&key) {
            let value = v.get(&key).unwrap_or(Value::Nil);
            if value.is_nil() && !merge {
                v.remove(&key);
            } else if let Some(dest) = as_table(&value) {
                match as_table(&val) {
                    None => {
                        if !val.is_nil() {
                            warn(format!("warning: skipped value for {sub_prefix}.{key}: Not a table."));
                        }
                    }
                    Some(src) => {
                        let merge = child_chart_merge_true(ch, &key, merge);
                        coalesce_tables_full_key(&dest, &src, &concat_prefix(&sub_prefix, &key), merge);
                    }
                }
            }
        } else {
            v.insert(key, val);
        }
    }
}

fn child_chart_merge_true(ch: &Chart, key: &str, merge: bool) -> bool {
    if ch.dependencies.iter().any(|s| s.name() == key) {
        return true;
    }
    merge
}

/// `CoalesceTables`: `src` under `dst`, `dst` authoritative; nulls in `dst` delete.
pub fn coalesce_tables(dst: &Map, src: &Map) -> Map {
    coalesce_tables_full_key(dst, src, "", false)
}

/// `MergeTables`: as [`coalesce_tables`], nulls kept.
pub fn merge_tables(dst: &Map, src: &Map) -> Map {
    coalesce_tables_full_key(dst, src, "", true)
}

fn coalesce_tables_full_key(dst: &Map, src: &Map, prefix: &str, merge: bool) -> Map {
    if dst.same(src) {
        // Go would iterate one map while writing the same keys back: a no-op.
        return dst.clone();
    }
    let src_original_non_nil: std::collections::BTreeSet<String> = src
        .entries()
        .into_iter()
        .filter(|(_, v)| !v.is_nil())
        .map(|(k, _)| k)
        .collect();
    for (key, val) in dst.entries() {
        if val.is_nil() {
            src.insert(key, Value::Nil);
        }
    }
    for (key, val) in src.entries() {
        let fullkey = concat_prefix(prefix, &key);
        let dv = dst.get(&key);
        let ok = dst.contains_key(&key);
        if ok && !merge && dv.as_ref().is_none_or(Value::is_nil) && src_original_non_nil.contains(&key) {
            dst.remove(&key);
        } else if !ok {
            dst.insert(key, val);
        } else if let Some(vt) = as_table(&val) {
            match dv.as_ref().and_then(as_table) {
                Some(dt) => {
                    coalesce_tables_full_key(&dt, &vt, &fullkey, merge);
                }
                None => warn(format!(
                    "warning: cannot overwrite table with non table for {fullkey} ({})",
                    go_v(&val)
                )),
            }
        } else if dv.as_ref().and_then(as_table).is_some() && !val.is_nil() {
            warn(format!(
                "warning: destination for {fullkey} is a table. Ignoring non-table value ({})",
                go_v(&val)
            ));
        }
    }
    dst.clone()
}

/// A rough `%v` for warning texts.
fn go_v(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) | Value::Int64(i) => i.to_string(),
        Value::Float(f) => super::metadata::format_float64_g(*f),
        Value::Nil => "<nil>".into(),
        Value::Map(m) => format!(
            "map[{}]",
            m.entries()
                .iter()
                .map(|(k, v)| format!("{k}:{}", go_v(v)))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        Value::List(l) => format!("[{}]", l.items.iter().map(go_v).collect::<Vec<_>>().join(" ")),
        other => other.type_name(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::Metadata;

    fn yaml(s: &str) -> Map {
        match crate::yaml::from_str(s).unwrap() {
            Value::Map(m) => m,
            Value::Nil => Map::new(),
            _ => panic!("not a map"),
        }
    }

    fn chart(name: &str, values: &str, deps: Vec<Chart>) -> Chart {
        Chart {
            metadata: Metadata {
                name: name.into(),
                version: "0.1.0".into(),
                api_version: "v2".into(),
                ..Default::default()
            },
            templates: vec![],
            files: vec![],
            values: Value::Map(yaml(values)),
            schema: None,
            dependencies: deps,
        }
    }

    // Expected values come from `helm template` of the same charts with `{{ toJson .Values }}`
    // (tests/chart_values.rs holds the chart-directory versions).
    #[test]
    fn user_values_over_defaults_null_deletes() {
        // A user null under a table that the chart does not define stays (as null).
        let c = chart("p", "a: 1\nb: {x: 1, c: 2}\nl: [1, 2]\nn: 5\n", vec![]);
        let out = coalesce_values(&c, &yaml("b: {c: 3, z: null}\nl: [9]\nn: null\nq: null\n")).unwrap();
        assert_eq!(
            format!("{:?}", Value::Map(out)),
            r#"{"a": float64(1), "b": {"c": float64(3), "x": float64(1), "z": nil}, "l": [float64(9)], "q": nil}"#
        );
    }

    // `helm template --set sub=5` → `type mismatch on sub: %!t(int64=5)`; `sub=null` → `%!t(<nil>)`.
    #[test]
    fn bad_bool_verb() {
        assert_eq!(bad_t(&Value::Int64(5)), "%!t(int64=5)");
        assert_eq!(bad_t(&Value::Nil), "%!t(<nil>)");
        assert_eq!(bad_t(&Value::str("x")), "%!t(string=x)");
        assert_eq!(bad_t(&Value::Float(1.5)), "%!t(float64=1.5)");
        // `--set-json 'sub=[1,"a"]'`
        let l = Value::list(vec![Value::Float(1.0), Value::str("a")]);
        assert_eq!(bad_t(&l), "[%!t(float64=1) %!t(string=a)]");
    }

    #[test]
    fn globals_flow_down_parent_wins() {
        let sub = chart("sub", "global: {g: sub, s: 1}\nv: 1\n", vec![]);
        let c = chart("p", "global: {g: parent}\n", vec![sub]);
        let out = coalesce_values(&c, &Map::new()).unwrap();
        assert_eq!(
            format!("{:?}", Value::Map(out)),
            r#"{"global": {"g": "parent"}, "sub": {"global": {"g": "parent", "s": float64(1)}, "v": float64(1)}}"#
        );
    }
}
