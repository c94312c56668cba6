//! Dependency processing and the whole values pipeline of `helm template`, ported from Helm 4's
//! `pkg/chart/v2/util/dependencies.go`, `pkg/cmd/install.go` and `pkg/action/install.go`.
//!
//! [`prepare`] runs the steps in Helm's order, because the order decides which error a broken
//! chart reports first and what values the later steps see:
//! 1. library charts are refused (`library charts are not installable`);
//! 2. every Chart.yaml dependency must be present in `charts/`; then the release name is checked
//!    (`availableName`, when the caller asks);
//! 3. `ProcessDependencies`: aliases (a renamed copy per alias), tags and conditions evaluated on
//!    the coalesced values (a condition, the first path that holds a bool, beats tags), disabled
//!    charts removed, then `import-values` pulled from children into parents, bottom up, ranking
//!    below the parent's own values;
//! 4. `CoalesceValues`: the final `.Values`;
//! 5. values.schema.json of the root and of every subchart that has values;
//! 6. the root chart's `kubeVersion` against the target Kubernetes version.

use super::coalesce::{coalesce_values, merge_tables, merge_values};
use super::{schema, Chart, ChartError};
use crate::value::{Elem, Map, Value};
use crate::version::{Constraints, Version};

/// Helm 4.1.4's default `.Capabilities.KubeVersion` for `helm template`.
pub const DEFAULT_KUBE_VERSION: &str = "v1.35.0";

/// Options of [`prepare`].
#[derive(Debug, Clone)]
pub struct PrepareOptions {
    /// The Kubernetes version that `kubeVersion` constraints are checked against (`--kube-version`).
    pub kube_version: String,
    /// `--skip-schema-validation`.
    pub skip_schema_validation: bool,
    /// The release name to check as helm install/upgrade do, between steps 2 and 3.
    pub release_name: Option<super::NameCheck>,
}

impl Default for PrepareOptions {
    fn default() -> Self {
        PrepareOptions {
            kube_version: DEFAULT_KUBE_VERSION.into(),
            skip_schema_validation: false,
            release_name: None,
        }
    }
}

/// What the renderer needs: the chart tree with only enabled subcharts (aliases applied, library
/// charts still present — render only their partials), and the root's final `.Values` (typed
/// `common.Values`). A subchart's `.Values` is [`Prepared::subchart_values`] of its parent's.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub chart: Chart,
    pub values: Value,
}

/// A view of a values map typed `common.Values`, as templates see `.Values` (`typeOf .Values`
/// prints `common.Values`); it shares the storage, as Go's conversion does.
pub fn as_common_values(m: &Map) -> Value {
    Value::Map(Map {
        cell: m.cell.clone(),
        elem: m.elem,
        named: Some(std::rc::Rc::from("common.Values")),
    })
}

impl Prepared {
    /// The values a subchart sees, given its parent's values (Helm's `recAllTpls`:
    /// `values.Table("Values." + name)`, else a new empty map). Shares storage with the parent's
    /// `.Values.<name>`, typed `common.Values`.
    pub fn subchart_values(parent_values: &Value, sub: &Chart) -> Value {
        match parent_values.as_map().and_then(|m| m.get(sub.name())) {
            Some(Value::Map(m)) if m.named.is_none() => as_common_values(&m),
            _ => as_common_values(&Map::new()),
        }
    }
}

/// Helm's `IsCompatibleRange`: false when either side does not parse.
pub fn is_compatible_range(constraint: &str, ver: &str) -> bool {
    let Ok(v) = Version::parse(ver) else { return false };
    let Ok(c) = Constraints::parse(constraint) else {
        return false;
    };
    c.matches(&v)
}

/// Runs Helm's pipeline from loaded chart and merged user values to render-ready values.
pub fn prepare(mut chart: Chart, user_values: &Value, opts: &PrepareOptions) -> Result<Prepared, ChartError> {
    match chart.metadata.chart_type.as_str() {
        "" | "application" => {}
        t => return Err(ChartError(format!("{t} charts are not installable"))),
    }
    check_dependencies(&chart)?;
    if let Some(check) = &opts.release_name {
        check.check().map_err(ChartError)?;
    }
    let user = match user_values {
        Value::Map(m) => m.clone(),
        _ => Map::new(),
    };
    process_dependencies(&mut chart, &user)
        .map_err(|e| ChartError(format!("chart dependencies processing failed: {e}")))?;
    let values = as_common_values(&coalesce_values(&chart, &user)?);
    if !opts.skip_schema_validation {
        schema::validate_against_schema(&chart, &values).map_err(|e| {
            ChartError(format!(
                "values don't meet the specifications of the schema(s) in the following chart(s):\n{e}"
            ))
        })?;
    }
    let kv = &chart.metadata.kube_version;
    if !kv.is_empty() && !is_compatible_range(kv, &opts.kube_version) {
        return Err(ChartError(format!(
            "chart requires kubeVersion: {kv} which is incompatible with Kubernetes {}",
            opts.kube_version
        )));
    }
    Ok(Prepared { chart, values })
}

/// `action.CheckDependencies`: each Chart.yaml dependency has a loaded chart of that name.
pub fn check_dependencies(chart: &Chart) -> Result<(), ChartError> {
    let missing: Vec<&str> = chart
        .metadata
        .deps()
        .filter(|r| !chart.dependencies.iter().any(|d| d.name() == r.name))
        .map(|r| r.name.as_str())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(ChartError(format!(
        "an error occurred while checking for chart dependencies. You may need to run `helm dependency build` to fetch missing dependencies: found in Chart.yaml, but missing in charts/ directory: {}",
        missing.join(", ")
    )))
}

/// `ProcessDependencies`: enabled/disabled charts, then import-values (merge mode).
pub fn process_dependencies(chart: &mut Chart, user: &Map) -> Result<(), ChartError> {
    process_dependency_enabled(chart, user, "")?;
    process_dependency_import_values(chart)
}

/// `common.Values.Table`: the map at a dotted path, or `None` (ErrNoTable).
pub fn table(v: &Map, name: &str) -> Option<Map> {
    let mut t = v.clone();
    for n in name.split('.') {
        match t.get(n) {
            Some(Value::Map(m)) => t = m,
            _ => return None,
        }
    }
    Some(t)
}

/// `common.Values.PathValue`: a non-table value at a dotted path, or `None` (ErrNoValue).
pub fn path_value(v: &Map, path: &str) -> Option<Value> {
    if path.is_empty() {
        return None;
    }
    let parts: Vec<&str> = path.split('.').collect();
    let (key, prefix) = parts.split_last()?;
    let t = if prefix.is_empty() {
        v.clone()
    } else {
        table(v, &prefix.join("."))?
    };
    match t.get(key) {
        Some(Value::Map(_)) => None,
        Some(x) if t.contains_key(key) => Some(x),
        _ if t.contains_key(key) => Some(Value::Nil),
        _ => None,
    }
}

fn get_alias_dependency(charts: &[Chart], dep: &super::Dependency) -> Option<Chart> {
    let c = charts
        .iter()
        .find(|c| c.name() == dep.name && is_compatible_range(&dep.version, &c.metadata.version))?;
    let mut out = c.clone();
    if !dep.alias.is_empty() {
        out.metadata.name = dep.alias.clone();
    }
    Some(out)
}

fn process_dependency_enabled(c: &mut Chart, v: &Map, path: &str) -> Result<(), ChartError> {
    if !c.metadata.has_dependencies {
        return Ok(());
    }
    let mut chart_deps: Vec<Chart> = Vec::new();
    for existing in &c.dependencies {
        let listed = c
            .metadata
            .deps()
            .any(|req| existing.name() == req.name && is_compatible_range(&req.version, &existing.metadata.version));
        if !listed {
            chart_deps.push(existing.clone());
        }
    }
    for req in c.metadata.dependencies.iter_mut().flatten() {
        if let Some(cd) = get_alias_dependency(&c.dependencies, req) {
            chart_deps.push(cd);
        }
        if !req.alias.is_empty() {
            req.name = req.alias.clone();
        }
    }
    c.dependencies = chart_deps;
    for lr in c.metadata.dependencies.iter_mut().flatten() {
        lr.enabled = true;
    }
    let cvals = coalesce_values(c, v)?;
    process_dependency_tags(c, &cvals);
    process_dependency_conditions(c, &cvals, path);
    let rm: Vec<String> = c
        .metadata
        .deps()
        .filter(|r| !r.enabled)
        .map(|r| r.name.clone())
        .collect();
    c.dependencies.retain(|n| !rm.iter().any(|r| r == n.name()));
    c.metadata
        .dependencies
        .retain(|d| d.as_ref().is_some_and(|d| !rm.contains(&d.name)));
    for t in c.dependencies.iter_mut() {
        let subpath = format!("{path}{}.", t.name());
        process_dependency_enabled(t, &cvals, &subpath)?;
    }
    // `c.Metadata.Dependencies = nil; append(nil, cdMetadata...)`: nil again when none is left.
    c.metadata.has_dependencies = !c.metadata.dependencies.is_empty();
    Ok(())
}

fn process_dependency_tags(c: &mut Chart, cvals: &Map) {
    let Some(vt) = table(cvals, "tags") else { return };
    for r in c.metadata.dependencies.iter_mut().flatten() {
        let (mut has_true, mut has_false) = (false, false);
        for k in &r.tags {
            if let Some(b) = vt.get(k) {
                match b {
                    Value::Bool(true) => has_true = true,
                    Value::Bool(false) => has_false = true,
                    _ => super::coalesce::push_warning(format!("returned non-bool value tag={k} chart={}", r.name)),
                }
            }
        }
        r.enabled = has_true || !has_false;
    }
}

fn process_dependency_conditions(c: &mut Chart, cvals: &Map, cpath: &str) {
    for r in c.metadata.dependencies.iter_mut().flatten() {
        let cond = r.condition.trim().to_string();
        for cp in cond.split(',') {
            if cp.is_empty() {
                continue;
            }
            if let Some(vv) = path_value(cvals, &format!("{cpath}{cp}")) {
                if let Value::Bool(b) = vv {
                    r.enabled = b;
                    break;
                }
                super::coalesce::push_warning(format!("returned non-bool value path={cp} chart={}", r.name));
            }
        }
    }
}

/// `pathToMap`: `data` nested under a dotted path (`.` is the top).
fn path_to_map(path: &str, data: Map) -> Map {
    if path == "." {
        return data;
    }
    let mut cur = data;
    for p in path.split('.').rev() {
        let m = Map::new();
        m.insert(p, Value::Map(cur));
        cur = m;
    }
    cur
}

/// `%v` of an import-values field.
fn sprint_v(v: Option<Value>) -> String {
    match v {
        None | Some(Value::Nil) => "<nil>".into(),
        Some(Value::String(s)) => s.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Int(i)) | Some(Value::Int64(i)) => i.to_string(),
        Some(Value::Float(f)) => crate::chart::metadata::format_float64_g(f),
        Some(other) => other.type_name(),
    }
}

fn string_map(pairs: &[(&str, String)]) -> Value {
    let m = Map::new();
    for (k, v) in pairs {
        m.insert(*k, Value::str(v));
    }
    Value::Map(Map {
        elem: Elem::String,
        ..m
    })
}

fn process_import_values(c: &mut Chart) -> Result<(), ChartError> {
    if !c.metadata.has_dependencies {
        return Ok(());
    }
    let cvals = merge_values(c, &Map::new())?;
    let mut b = Map::new();
    for r in c.metadata.dependencies.iter_mut().flatten() {
        let mut outiv = Vec::new();
        for riv in &r.import_values {
            match riv {
                Value::Map(iv) => {
                    let child = sprint_v(iv.get("child"));
                    let parent = sprint_v(iv.get("parent"));
                    outiv.push(string_map(&[("child", child.clone()), ("parent", parent.clone())]));
                    match table(&cvals, &format!("{}.{child}", r.name)) {
                        Some(vv) => b = merge_tables(&b, &path_to_map(&parent, vv)),
                        None => super::coalesce::push_warning(format!(
                            "ImportValues missing table from chart chart={} error=\"{child:?} is not a table\"",
                            r.name
                        )),
                    }
                }
                Value::String(iv) => {
                    let child = format!("exports.{iv}");
                    outiv.push(string_map(&[("child", child.clone()), ("parent", ".".into())]));
                    match table(&cvals, &format!("{}.{child}", r.name)) {
                        Some(vm) => b = merge_tables(&b, &vm),
                        None => super::coalesce::push_warning(format!("ImportValues missing table {child:?}")),
                    }
                }
                _ => {}
            }
        }
        r.import_values = outiv;
    }
    let cvals = match Value::Map(cvals).deep_copy() {
        Value::Map(m) => m,
        _ => Map::new(),
    };
    c.values = Value::Map(merge_tables(&cvals, &b));
    Ok(())
}

fn process_dependency_import_values(c: &mut Chart) -> Result<(), ChartError> {
    for d in c.dependencies.iter_mut() {
        process_dependency_import_values(d)?;
    }
    process_import_values(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(s: &str) -> Map {
        match crate::yaml::from_str(s).unwrap() {
            Value::Map(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn path_value_and_table() {
        let v = yaml("a: {b: {c: true}, d: 1}\nnl: null\n");
        assert!(matches!(path_value(&v, "a.b.c"), Some(Value::Bool(true))));
        assert!(path_value(&v, "a.b").is_none());
        assert!(path_value(&v, "a.x").is_none());
        assert!(matches!(path_value(&v, "nl"), Some(Value::Nil)));
        assert!(table(&v, "a.b").is_some());
        assert!(table(&v, "a.d").is_none());
    }

    #[test]
    fn compatible_range() {
        assert!(is_compatible_range(">=1.20.0-0", "v1.35.0"));
        assert!(!is_compatible_range(">=1.99.0", "v1.35.0"));
        assert!(!is_compatible_range("not a constraint", "1.0.0"));
    }
}
