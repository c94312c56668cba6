//! Chart loading: directories and `.tgz` archives, Chart.yaml, values, dependencies, schema.
//!
//! This follows Helm 4.1.4's `pkg/chart/v2/loader` step for step, because what a chart *is*
//! (which files are templates, which are `.Files`, which subcharts exist, what the default values
//! are) decides the rendered output. Files are first gathered into memory (a directory walk that
//! honours `.helmignore`, or an archive read with path checks), then sorted into a [`Chart`]:
//! `Chart.yaml` → metadata, `values.yaml` → default values (multi-document, merged),
//! `values.schema.json` → schema, `templates/` → templates, `charts/<x>` → subcharts (directories
//! or `.tgz`, loaded recursively), everything else → files.
//!
//! The steps after loading live in submodules: [`values`] (user values from `-f`/`--set*`),
//! [`coalesce`] (user values over chart defaults), [`deps`] (conditions, tags, aliases,
//! import-values; the whole `prepare` pipeline), [`schema`] (values.schema.json).

pub mod archive;
pub mod coalesce;
pub mod deps;
pub mod ignore;
pub mod metadata;
pub mod release_name;
pub mod schema;
pub mod strvals;
pub mod values;

use std::fmt;
use std::path::{Path, PathBuf};

use crate::value::{Map, Value};

pub use archive::{BufferedFile, Limits};
pub use deps::{prepare, PrepareOptions, Prepared};
pub use metadata::{Dependency, Maintainer, Metadata};
pub use release_name::NameCheck;
pub use values::ValueOptions;

/// A file of a chart: its chart-relative `/` path and contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    pub name: String,
    pub data: Vec<u8>,
}

/// A CRD file from a `crds/` directory.
#[derive(Debug, Clone)]
pub struct Crd {
    /// Chart-relative name, e.g. `crds/foo.yaml`.
    pub name: String,
    /// With the chart's full path in front, e.g. `parent/charts/sub/crds/foo.yaml`.
    pub filename: String,
    pub data: Vec<u8>,
}

/// A loaded chart and its subcharts.
#[derive(Debug, Clone)]
pub struct Chart {
    pub metadata: Metadata,
    /// `templates/…` files in load order.
    pub templates: Vec<File>,
    /// Every other file (`.Files`), including `crds/…`, README, and for v1 charts requirements.*.
    pub files: Vec<File>,
    /// Default values (values.yaml, all documents merged): a `map[string]interface {}`.
    pub values: Value,
    /// Raw values.schema.json.
    pub schema: Option<Vec<u8>>,
    /// Subcharts, sorted by name after loading; after dependency processing the enabled ones,
    /// aliased copies renamed.
    pub dependencies: Vec<Chart>,
}

/// A chart load or processing error. `Display` gives Helm's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartError(pub String);

impl fmt::Display for ChartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ChartError {}

impl From<archive::ArchiveError> for ChartError {
    fn from(e: archive::ArchiveError) -> Self {
        ChartError(e.to_string())
    }
}

fn err<T>(m: impl Into<String>) -> Result<T, ChartError> {
    Err(ChartError(m.into()))
}

impl Chart {
    /// The chart name (after aliasing, the alias).
    pub fn name(&self) -> &str {
        &self.metadata.name
    }

    pub fn is_library(&self) -> bool {
        self.metadata.is_library()
    }

    /// The default values as a map (empty when the chart has none).
    pub fn values_map(&self) -> Map {
        match &self.values {
            Value::Map(m) => m.clone(),
            _ => Map::new(),
        }
    }

    /// `CRDObjects`: `crds/*.{yaml,yml,json}` of this chart and every subchart, depth first.
    /// `full_path` is this chart's `ChartFullPath` (the root's name for the root).
    pub fn crd_objects(&self, full_path: &str) -> Vec<Crd> {
        let mut out = Vec::new();
        for f in &self.files {
            if f.name.starts_with("crds/") && has_manifest_extension(&f.name) {
                out.push(Crd {
                    name: f.name.clone(),
                    filename: format!("{full_path}/{}", f.name),
                    data: f.data.clone(),
                });
            }
        }
        for d in &self.dependencies {
            out.extend(d.crd_objects(&format!("{full_path}/charts/{}", d.name())));
        }
        out
    }
}

fn has_manifest_extension(name: &str) -> bool {
    let base = name.rsplit('/').next().unwrap_or(name);
    match base.rfind('.') {
        Some(i) => {
            let ext = &base[i..];
            ext.eq_ignore_ascii_case(".yaml") || ext.eq_ignore_ascii_case(".yml") || ext.eq_ignore_ascii_case(".json")
        }
        None => false,
    }
}

/// Parses one YAML document into a Go value (sigs.k8s.io/yaml semantics).
pub(crate) fn yaml_value(text: &str) -> Result<Value, String> {
    crate::yaml::from_str(text).map_err(|e| e.to_string())
}

/// `loader.LoadValues`: every document of a values stream, merged with [`merge_maps`]. Each
/// document must be a map (or empty).
pub fn load_values(data: &[u8]) -> Result<Map, String> {
    // Helm's YAML reader refuses invalid UTF-8; a lossy read would turn it into U+FFFD silently.
    if let Some(e) = crate::yaml::go_yaml_utf8_error(data) {
        return Err(format!(
            "cannot unmarshal yaml document: error converting YAML to JSON: yaml: {e}"
        ));
    }
    let text = String::from_utf8_lossy(data);
    let mut values = Map::new();
    // One splitter for every YAML stream (apimachinery's YAMLReader, as Helm 4's LoadValues).
    for doc in crate::yaml::split_documents(&text).map_err(|e| format!("error reading yaml document: {e}"))? {
        let v = yaml_value(&doc).map_err(|e| format!("cannot unmarshal yaml document: {e}"))?;
        let current = match v {
            Value::Nil => Map::new(),
            Value::Map(m) => m,
            other => {
                return Err(format!(
                    "cannot unmarshal yaml document: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                    match other {
                        Value::List(_) => "array",
                        Value::String(_) => "string",
                        Value::Bool(_) => "bool",
                        _ => "number",
                    }
                ))
            }
        };
        values = merge_maps(&values, &current);
    }
    Ok(values)
}

/// `loader.MergeMaps`: a new map with `b` over `a`; nested maps merge, anything else replaces.
pub fn merge_maps(a: &Map, b: &Map) -> Map {
    let out = Map::new();
    for (k, v) in a.entries() {
        out.insert(k, v);
    }
    for (k, v) in b.entries() {
        if let (Value::Map(bv), Some(Value::Map(av))) = (&v, out.get(&k)) {
            out.insert(k, Value::Map(merge_maps(&av, bv)));
            continue;
        }
        out.insert(k, v);
    }
    out
}

/// Loads a chart from a directory or a `.tgz` file (`loader.Load`).
pub fn load(path: impl AsRef<Path>) -> Result<Chart, ChartError> {
    load_with_limits(path, Limits::default())
}

/// [`load`] with explicit archive size limits.
pub fn load_with_limits(path: impl AsRef<Path>, limits: Limits) -> Result<Chart, ChartError> {
    let path = path.as_ref();
    let meta = std::fs::metadata(path).map_err(|e| ChartError(os_error("stat", path, &e)))?;
    if meta.is_dir() {
        load_dir(path, limits)
    } else {
        load_archive_file(path, limits)
    }
}

/// Go's `*PathError` text: `open x: no such file or directory`.
pub(crate) fn os_error(op: &str, path: &Path, e: &std::io::Error) -> String {
    let what = match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => {
            let s = e.to_string();
            match s.find(" (os error") {
                Some(i) => s[..i].to_lowercase(),
                None => s,
            }
        }
    };
    format!("{op} {}: {what}", path.display())
}

/// Loads a chart archive file.
pub fn load_archive_file(path: &Path, limits: Limits) -> Result<Chart, ChartError> {
    let data = std::fs::read(path).map_err(|e| ChartError(os_error("open", path, &e)))?;
    let name = path.display().to_string();
    if !archive::is_gzip(&data) {
        if name.ends_with(".yml") || name.ends_with(".yaml") {
            return err(format!(
                "file '{name}' seems to be a YAML file, but expected a gzipped archive"
            ));
        }
        // Helm sniffs a zero-padded 512-byte buffer, so short files look binary.
        let ct = if data.len() >= 512 && std::str::from_utf8(&data[..512]).is_ok_and(|t| !t.contains('\0')) {
            "text/plain; charset=utf-8"
        } else {
            "application/octet-stream"
        };
        return err(format!(
            "file '{name}' does not appear to be a gzipped archive; got '{ct}'"
        ));
    }
    load_archive(&data, limits)
}

/// Loads a chart from `.tgz` bytes (`LoadArchive`). Helm reports any archive problem as just
/// `unable to load chart archive`; we keep that text and add the reason, naming the entry.
pub fn load_archive(data: &[u8], limits: Limits) -> Result<Chart, ChartError> {
    let files = archive::load_archive_files(data, limits)
        .map_err(|e| ChartError(format!("unable to load chart archive: {e}")))?;
    let Some(cy) = files.iter().find(|f| f.name == "Chart.yaml") else {
        return err("unable to detect chart version, no Chart.yaml found");
    };
    check_api_version(&cy.data)?;
    load_files(files, limits)
}

/// The generic loader's first look at Chart.yaml: only `apiVersion` v1, v2 (or none) load as v2
/// charts. Helm 4.1.4 loads `v3` charts but then refuses to install or render them.
fn check_api_version(chart_yaml: &[u8]) -> Result<(), ChartError> {
    let doc = yaml_value(&String::from_utf8_lossy(chart_yaml))
        .map_err(|e| ChartError(format!("cannot load Chart.yaml: {e}")))?;
    let mut md = Metadata::default();
    // Only apiVersion matters here; type errors in other fields are reported by the full load.
    // (encoding/json matches the key case-insensitively; of several, the last in key order wins.)
    if let Value::Map(m) = &doc {
        let only = Map::new();
        for (k, v) in m.entries() {
            if k.eq_ignore_ascii_case("apiVersion") {
                only.insert(k, v);
            }
        }
        md.apply(&Value::Map(only))
            .map_err(|e| ChartError(format!("cannot load Chart.yaml: {e}")))?;
    }
    match md.api_version.as_str() {
        "" | "v1" | "v2" => Ok(()),
        "v3" => err("invalid chart apiVersion"),
        _ => err("unsupported chart version"),
    }
}

/// Loads a chart directory, honouring `.helmignore` (`LoadDir`).
pub fn load_dir(dir: &Path, limits: Limits) -> Result<Chart, ChartError> {
    let top = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    let chart_yaml = top.join("Chart.yaml");
    match std::fs::read(&chart_yaml) {
        Err(e) => {
            return err(format!(
                "unable to detect chart at {}: {}",
                chart_yaml.display(),
                os_error("open", &chart_yaml, &e)
            ))
        }
        Ok(data) => check_api_version(&data)?,
    }
    let mut rules = ignore::Rules::empty();
    let ifile = top.join(ignore::HELM_IGNORE);
    if ifile.is_file() {
        let text = std::fs::read(&ifile).map_err(|e| ChartError(os_error("open", &ifile, &e)))?;
        rules = ignore::Rules::parse(&text).map_err(|e| ChartError(e.to_string()))?;
    }
    rules.add_defaults();
    let mut files = Vec::new();
    let mut walker = Walker {
        rules: &rules,
        limits,
        files: &mut files,
        stack: Vec::new(),
    };
    walker.walk(&top, "")?;
    load_files(files, limits)
}

struct Walker<'a> {
    rules: &'a ignore::Rules,
    limits: Limits,
    files: &'a mut Vec<BufferedFile>,
    /// Canonical paths of the directories being walked, to stop symlink cycles.
    stack: Vec<PathBuf>,
}

impl Walker<'_> {
    /// `sympath.Walk`: lexical order, symlinks followed (to files and directories).
    fn walk(&mut self, dir: &Path, rel: &str) -> Result<(), ChartError> {
        // Symlinked directories can loop (Go recurses until the path is too long); refuse a
        // directory that is already being walked.
        let canon = std::fs::canonicalize(dir).map_err(|e| ChartError(os_error("open", dir, &e)))?;
        if self.stack.contains(&canon) || self.stack.len() > 256 {
            return err(format!(
                "cannot load {}: too many levels of symbolic links",
                dir.display()
            ));
        }
        self.stack.push(canon);
        let r = self.walk_entries(dir, rel);
        self.stack.pop();
        r
    }

    fn walk_entries(&mut self, dir: &Path, rel: &str) -> Result<(), ChartError> {
        let rd = std::fs::read_dir(dir).map_err(|e| ChartError(os_error("open", dir, &e)))?;
        let mut names: Vec<(String, PathBuf)> = Vec::new();
        for e in rd {
            let e = e.map_err(|e| ChartError(os_error("readdirent", dir, &e)))?;
            names.push((e.file_name().to_string_lossy().into_owned(), e.path()));
        }
        names.sort();
        for (name, path) in names {
            let n = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            // Follows symlinks, like os.Lstat of the resolved path.
            let meta = std::fs::metadata(&path)
                .map_err(|e| ChartError(format!("error evaluating symlink {}: {}", path.display(), e)))?;
            if meta.is_dir() {
                if self.rules.ignore(&n, true) {
                    continue;
                }
                self.walk(&path, &n)?;
                continue;
            }
            if self.rules.ignore(&n, false) {
                continue;
            }
            if !meta.is_file() {
                return err(format!(
                    "cannot load irregular file {} as it has file mode type bits set",
                    path.display()
                ));
            }
            if meta.len() > self.limits.max_file_size {
                return err(format!(
                    "chart file {name:?} is larger than the maximum file size {}",
                    self.limits.max_file_size
                ));
            }
            let mut data = std::fs::read(&path).map_err(|e| ChartError(format!("error reading {n}: {e}")))?;
            if data.starts_with(&[0xEF, 0xBB, 0xBF]) {
                data.drain(..3);
            }
            self.files.push(BufferedFile { name: n, data });
        }
        Ok(())
    }
}

/// How deep subcharts may nest (charts inside `charts/` inside `charts/`…). Helm has no limit; a
/// real chart nests a handful of levels, a hostile archive thousands (each level a recursion).
pub const MAX_SUBCHART_DEPTH: usize = 100;

/// What nested subchart archives may still inflate to, and how deep the load is.
struct Nesting {
    depth: usize,
    /// Bytes nested `.tgz` subcharts may still inflate to, together: Helm caps each archive at
    /// `MaxDecompressedChartSize`, which lets a few MB of nested archives inflate to gigabytes;
    /// chartup applies that cap to their sum.
    budget: u64,
    /// The archives and directories loaded on the way down (`chart/charts/sub.tgz`), to name where
    /// the depth limit was hit.
    path: Vec<String>,
    /// The depth limit was hit below: that error goes up as it is, not wrapped once per level.
    too_deep: bool,
}

/// `a/charts/b.tgz → b/charts/c.tgz → …`, the middle left out when long (a hostile archive nests
/// thousands of levels; the ends say where it starts and what repeats).
fn abbreviated_path(path: &[String]) -> String {
    if path.len() <= 6 {
        return path.join(" → ");
    }
    let (head, tail) = (&path[..3], &path[path.len() - 2..]);
    format!(
        "{} → … ({} more) … → {}",
        head.join(" → "),
        path.len() - 5,
        tail.join(" → ")
    )
}

/// `LoadFiles`: sorts in-memory files into a chart and loads its subcharts.
pub fn load_files(files: Vec<BufferedFile>, limits: Limits) -> Result<Chart, ChartError> {
    load_files_nested(
        files,
        limits,
        &mut Nesting {
            depth: 0,
            budget: limits.max_chart_size,
            path: Vec::new(),
            too_deep: false,
        },
    )
}

fn load_files_nested(files: Vec<BufferedFile>, limits: Limits, nesting: &mut Nesting) -> Result<Chart, ChartError> {
    let mut metadata: Option<Metadata> = None;
    for f in &files {
        if f.name == "Chart.yaml" {
            let md = metadata.get_or_insert_with(Metadata::default);
            let doc = yaml_value(&String::from_utf8_lossy(&f.data))
                .map_err(|e| ChartError(format!("cannot load Chart.yaml: {e}")))?;
            md.apply(&doc)
                .map_err(|e| ChartError(format!("cannot load Chart.yaml: {e}")))?;
            if md.api_version.is_empty() {
                md.api_version = "v1".into();
            }
        }
    }
    let mut chart = Chart {
        metadata: Metadata::default(),
        templates: Vec::new(),
        files: Vec::new(),
        values: Value::Map(Map::new()),
        schema: None,
        dependencies: Vec::new(),
    };
    let mut subcharts: std::collections::BTreeMap<String, Vec<BufferedFile>> = Default::default();
    for f in files {
        let name = f.name.clone();
        match name.as_str() {
            "Chart.yaml" => {}
            "Chart.lock" | "requirements.lock" => {
                yaml_value(&String::from_utf8_lossy(&f.data))
                    .map_err(|e| ChartError(format!("cannot load {name}: {e}")))?;
                if name == "requirements.lock" {
                    let md = metadata.get_or_insert_with(Metadata::default);
                    if md.api_version != "v1" {
                        coalesce::push_warning("Warning: Dependency locking is handled in Chart.lock since apiVersion \"v2\". We recommend migrating to Chart.lock.".into());
                    }
                    if md.api_version == "v1" {
                        chart.files.push(File { name, data: f.data });
                    }
                }
            }
            "values.yaml" => {
                let v = load_values(&f.data).map_err(|e| ChartError(format!("cannot load values.yaml: {e}")))?;
                chart.values = Value::Map(v);
            }
            "values.schema.json" => chart.schema = Some(f.data),
            "requirements.yaml" => {
                let md = metadata.get_or_insert_with(Metadata::default);
                if md.api_version != "v1" {
                    coalesce::push_warning("Warning: Dependencies are handled in Chart.yaml since apiVersion \"v2\". We recommend migrating dependencies to Chart.yaml.".into());
                }
                let doc = yaml_value(&String::from_utf8_lossy(&f.data))
                    .map_err(|e| ChartError(format!("cannot load requirements.yaml: {e}")))?;
                md.apply(&doc)
                    .map_err(|e| ChartError(format!("cannot load requirements.yaml: {e}")))?;
                if md.api_version == "v1" {
                    chart.files.push(File { name, data: f.data });
                }
            }
            _ if name.starts_with("templates/") => chart.templates.push(File { name, data: f.data }),
            _ if name.starts_with("charts/") => {
                if name.ends_with(".prov") {
                    chart.files.push(File { name, data: f.data });
                    continue;
                }
                let fname = name["charts/".len()..].to_string();
                let cname = fname.split('/').next().unwrap_or("").to_string();
                subcharts.entry(cname).or_default().push(BufferedFile {
                    name: fname,
                    data: f.data,
                });
            }
            _ => chart.files.push(File { name, data: f.data }),
        }
    }
    let Some(mut md) = metadata else {
        return err("Chart.yaml file is missing");
    };
    md.validate().map_err(ChartError)?;
    chart.metadata = md;
    for (n, files) in subcharts {
        if n.starts_with('_') || n.starts_with('.') {
            continue;
        }
        if files.is_empty() {
            continue;
        }
        nesting.path.push(format!("{}/charts/{n}", chart.name()));
        if nesting.depth >= MAX_SUBCHART_DEPTH {
            nesting.too_deep = true;
            return err(format!(
                "error unpacking subchart {n} in {}: subcharts nest deeper than {MAX_SUBCHART_DEPTH} levels \
                 (chartup's limit): level {} is {}",
                chart.name(),
                nesting.path.len(),
                abbreviated_path(&nesting.path)
            ));
        }
        nesting.depth += 1;
        let sub = if n.ends_with(".tgz") {
            let file = &files[0];
            if file.name != n {
                return err(format!(
                    "error unpacking subchart tar in {}: expected {n}, got {}",
                    chart.name(),
                    file.name
                ));
            }
            let nested = Limits {
                max_chart_size: nesting.budget,
                ..limits
            };
            archive::load_archive_files(&file.data, nested)
                .map_err(|e| match e {
                    archive::ArchiveError::TooLarge(..) => ChartError(format!(
                        "nested subchart archives inflate to more than {} bytes together (chartup applies Helm's \
                         archive size limit to their sum)",
                        limits.max_chart_size
                    )),
                    e => ChartError(e.to_string()),
                })
                .and_then(|fs| {
                    let inflated: u64 = fs.iter().map(|f| f.data.len() as u64).sum();
                    nesting.budget = nesting.budget.saturating_sub(inflated);
                    load_files_nested(fs, limits, nesting)
                })
        } else {
            let buff: Vec<BufferedFile> = files
                .into_iter()
                .filter_map(|f| {
                    f.name.split_once('/').map(|(_, rest)| BufferedFile {
                        name: rest.to_string(),
                        data: f.data,
                    })
                })
                .collect();
            load_files_nested(buff, limits, nesting)
        };
        nesting.depth -= 1;
        nesting.path.pop();
        match sub {
            Ok(s) => chart.dependencies.push(s),
            Err(e) if nesting.too_deep => return Err(e),
            Err(e) => return err(format!("error unpacking subchart {n} in {}: {e}", chart.name())),
        }
    }
    Ok(chart)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_streams_merge_every_document() {
        let m = load_values(b"---\na: 1\n--- # c\nb: 2\n").unwrap();
        assert_eq!(m.keys(), vec!["a".to_string(), "b".to_string()]);
        assert!(load_values(b"a: 1\n--- b\n").is_err());
    }

    #[test]
    fn manifest_extensions() {
        assert!(has_manifest_extension("crds/a.YAML"));
        assert!(has_manifest_extension("crds/a.json"));
        assert!(!has_manifest_extension("crds/a.txt"));
        assert!(!has_manifest_extension("crds/yaml"));
    }
}
