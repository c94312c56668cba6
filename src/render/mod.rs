//! Helm rendering semantics on top of the template engine: objects, subcharts, output.
//!
//! The pieces follow helm v4.1.4's code paths one by one so differences are easy to trace:
//! [`objects`] (`.Capabilities`, `.Files`), [`glob`] (gobwas/glob for `.Files.Glob`),
//! [`helmfuncs`] (pkg/engine/funcs.go), [`errors`] (engine.go's error rewriting) and [`output`]
//! (SortManifests, kind order, pkg/cmd/template.go printing). This file is pkg/engine's `Render`
//! and pkg/action's `renderResources`: build one shared template set over the chart tree
//! (`recAllTpls`), parse in Helm's order (`sortTemplates`), execute every non-partial file with
//! its chart's scope, then split, sort and print.
//!
//! The chart tree and the template engine are reached through two small traits
//! ([`ChartSource`], [`TemplateSet`]) so this module states exactly what it needs from them.

pub mod chart;
pub mod errors;
pub mod glob;
pub mod helmfuncs;
pub mod objects;
pub mod output;

use std::collections::BTreeMap;
use std::fmt;
use std::rc::Rc;
use std::sync::Arc;

use crate::template::funcs::crypto;
use crate::value::{Map, Value};

pub use chart::{render, render_chart, TemplateJob};
pub use output::{HookInfo, Manifest};

/// What the renderer needs of a (prepared) chart: enabled subcharts only, aliases applied.
pub trait ChartSource {
    /// The chart name (the alias for an aliased subchart).
    fn chart_name(&self) -> String;
    /// `.Chart` as Helm 4 builds it (`structToMap` of the metadata), without `IsRoot`.
    fn metadata_value(&self) -> Value;
    fn is_library(&self) -> bool;
    /// `templates/…` files: (chart-relative name, text).
    fn template_files(&self) -> Vec<(String, Vec<u8>)>;
    /// Every other file, for `.Files`.
    fn other_files(&self) -> Vec<(String, Vec<u8>)>;
    fn subcharts(&self) -> Vec<&Self>;
}

/// The template engine as the renderer uses it: one shared set, parsed file by file.
/// Errors are Go's error texts.
pub trait TemplateSet {
    fn parse(&mut self, name: &str, text: &str) -> Result<(), String>;
    fn execute(&mut self, name: &str, data: &Value) -> Result<String, String>;
}

/// Helm's `lookup` against a live cluster (pkg/engine/lookup_func.go), as the renderer sees it:
/// the cluster layer implements it, so the renderer never depends on a Kubernetes client.
///
/// `Ok` carries the object as the server's JSON answered it (a single object, or a list object
/// with `items` when `name` is empty), or an empty JSON object when nothing was found; `Err`
/// carries the error text Helm would print after `error calling lookup: `. Implementations must
/// be callable from the render thread (the render runs on a big-stack thread of its own).
pub trait Lookup: Send + Sync {
    fn lookup(&self, api_version: &str, kind: &str, namespace: &str, name: &str) -> Result<serde_json::Value, String>;
}

impl fmt::Debug for dyn Lookup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Lookup")
    }
}

/// Options of one render (helm template's flags that reach the engine and the output).
#[derive(Debug, Clone)]
pub struct RenderOptions {
    pub release_name: String,
    pub namespace: String,
    pub is_upgrade: bool,
    pub revision: i64,
    /// `--kube-version` (already validated with [`objects::KubeVersion::parse`]).
    pub kube_version: Option<objects::KubeVersion>,
    /// `--api-versions`, appended to the defaults.
    pub api_versions: Vec<String>,
    /// `missingkey=error` instead of Helm's `zero` (chartup's `--strict`).
    pub strict: bool,
    /// The served API versions of a live server (Helm's `GetVersionSet` from discovery): they
    /// replace the default list when rendering against a cluster; `api_versions` still append.
    pub server_api_versions: Option<Vec<String>>,
    /// `lookup` against a live cluster; `None` (as `helm template`) makes it return an empty map.
    pub lookup: Option<Arc<dyn Lookup>>,
    /// Keep each manifest document's JSON reading from the sorting pass ([`Rendered::parsed`]),
    /// so the planner does not parse every document a second time.
    pub keep_parsed: bool,
    /// RSA and DSA keys, and the certificates made with them, are placeholders
    /// (`crypto_placeholder.rs`): for the old side of a chart-to-chart plan, which is only diffed.
    pub placeholder_keys: bool,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            release_name: "release-name".into(),
            namespace: "default".into(),
            is_upgrade: false,
            revision: 1,
            kube_version: None,
            api_versions: Vec::new(),
            strict: false,
            server_api_versions: None,
            lookup: None,
            keep_parsed: false,
            placeholder_keys: false,
        }
    }
}

/// A render failure, worded as Helm words it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderError {
    pub message: String,
    /// helm template adds "Use --debug flag to render out invalid YAML" after errors that happen
    /// once rendering has started (template and YAML errors).
    pub during_render: bool,
    /// On a YAML error: what `helm template --debug` prints before the error — every rendered
    /// file that is not blank, as `---\n# Source: NAME\nTEXT\n` (helm's map order is random; ours is
    /// by name), so the invalid document can be read.
    pub rendered: Option<String>,
}

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RenderError {}

fn render_err(message: String) -> RenderError {
    RenderError {
        message,
        during_render: true,
        rendered: None,
    }
}

/// The result of rendering a chart.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    /// Every rendered file by template path (partials excluded, `<no value>` stripped, NOTES
    /// excluded).
    pub files: BTreeMap<String, String>,
    /// Non-hook documents in Helm's install order.
    pub manifests: Vec<Manifest>,
    /// Hook documents in Helm's order (by kind; weights are applied at install time).
    pub hooks: Vec<Manifest>,
    /// The root chart's rendered NOTES.txt (never printed by `helm template`).
    pub notes: String,
    /// With [`RenderOptions::keep_parsed`]: each document's JSON reading as
    /// `crate::manifest::parse_yaml` gives it, by [`Manifest::doc`] (`None` where the sorting pass
    /// could not read it so).
    pub parsed: Vec<Option<serde_json::Value>>,
    /// The root chart's Chart.yaml (set by `chart::render_chart`, which loaded it).
    pub metadata: Option<crate::chart::Metadata>,
    /// With [`RenderOptions::placeholder_keys`]: whether a key or certificate in it is a placeholder.
    pub placeholder_keys: bool,
}

/// How `helm template` prints a render.
#[derive(Debug, Clone, Default)]
pub struct OutputOptions {
    /// `--include-crds`: (path, file text) of the CRD files, printed first.
    pub crds: Vec<(String, String)>,
    pub skip_tests: bool,
    pub no_hooks: bool,
    pub show_only: Vec<String>,
}

impl Rendered {
    /// Exactly what `helm template` prints on stdout.
    pub fn helm_output(&self, opts: &OutputOptions) -> Result<String, RenderError> {
        output::helm_template_output(
            &opts.crds,
            &self.manifests,
            &self.hooks,
            opts.skip_tests,
            opts.no_hooks,
            &opts.show_only,
        )
        .map_err(|message| RenderError {
            message,
            during_render: false,
            rendered: None,
        })
    }
}

struct Renderable {
    text: String,
    /// The chart's shared top-level object (`next` in recAllTpls).
    vals: Map,
    base_path: String,
}

/// `.Release` for helm template.
fn release_value(opts: &RenderOptions) -> Value {
    let m = Map::new();
    m.insert("Name", Value::str(&opts.release_name));
    m.insert("Namespace", Value::str(&opts.namespace));
    m.insert("IsUpgrade", Value::Bool(opts.is_upgrade));
    m.insert("IsInstall", Value::Bool(!opts.is_upgrade));
    m.insert("Revision", Value::Int(opts.revision));
    m.insert("Service", Value::str("Helm"));
    Value::Map(m)
}

fn named(m: Map, name: &str) -> Map {
    Map {
        named: Some(Rc::from(name)),
        ..m
    }
}

/// `recAllTpls`: every template of `chart` and its subcharts, with its scope.
fn collect<C: ChartSource>(
    chart: &C,
    parent_path: Option<&str>,
    values: &Value,
    top: &Map,
    out: &mut BTreeMap<String, Renderable>,
) -> Map {
    let name = chart.chart_name();
    let full_path = match parent_path {
        None => name.clone(),
        Some(p) => format!("{p}/charts/{name}"),
    };
    let meta = chart.metadata_value();
    if let Value::Map(m) = &meta {
        m.insert("IsRoot", Value::Bool(parent_path.is_none()));
    }
    let files: BTreeMap<String, Rc<[u8]>> = chart
        .other_files()
        .into_iter()
        .map(|(k, v)| (k, Rc::from(v.into_boxed_slice())))
        .collect();
    let subcharts = Map::new();
    let next = Map::new();
    next.insert("Chart", meta);
    next.insert("Files", Value::Object(Rc::new(objects::Files::new(files))));
    next.insert("Release", top.get("Release").unwrap_or_default());
    next.insert("Capabilities", top.get("Capabilities").unwrap_or_default());
    let vals = match values {
        Value::Map(m) => named(m.clone(), "common.Values"),
        _ => named(Map::new(), "common.Values"),
    };
    next.insert("Values", Value::Map(vals.clone()));
    next.insert("Subcharts", Value::Map(subcharts.clone()));
    for sub in chart.subcharts() {
        let sub_values = match vals.get(&sub.chart_name()) {
            Some(v @ Value::Map(_)) => v,
            _ => Value::Map(Map::new()),
        };
        let sub_next = collect(sub, Some(&full_path), &sub_values, top, out);
        subcharts.insert(sub.chart_name(), Value::Map(sub_next));
    }
    let library = chart.is_library();
    for (tname, data) in chart.template_files() {
        let base = tname.rsplit('/').next().unwrap_or(&tname);
        if library && !base.starts_with('_') {
            continue;
        }
        out.insert(
            format!("{full_path}/{tname}"),
            Renderable {
                // Invalid UTF-8 stays visible to the output check (helm fails on it), not U+FFFD.
                text: crate::yaml::decode_keeping_raw_bytes(&data),
                vals: next.clone(),
                base_path: format!("{full_path}/templates"),
            },
        );
    }
    next
}

/// Helm's `sortTemplates`: deeper paths first, then reverse lexicographic order.
pub fn sort_templates(names: &mut [String]) {
    names.sort_by(|a, b| {
        let (ca, cb) = (a.matches('/').count(), b.matches('/').count());
        cb.cmp(&ca).then_with(|| b.cmp(a))
    });
}

/// Render a prepared chart (enabled subcharts only; `values` are the root's final values) with
/// a template set. This is Helm's engine plus the NOTES/sort steps of renderResources.
pub fn render_with<C: ChartSource, T: TemplateSet>(
    chart: &C,
    values: &Value,
    opts: &RenderOptions,
    templates: &mut T,
) -> Result<Rendered, RenderError> {
    let caps = match &opts.server_api_versions {
        Some(served) => objects::Capabilities::served(opts.kube_version.clone(), served, &opts.api_versions),
        None => objects::Capabilities::new(opts.kube_version.clone(), &opts.api_versions),
    };
    let top = Map::new();
    top.insert("Release", release_value(opts));
    top.insert("Capabilities", Value::Object(Rc::new(caps)));
    let mut tpls = BTreeMap::new();
    collect(chart, None, values, &top, &mut tpls);

    if !opts.placeholder_keys && tpls.values().any(|t| crypto::wants_rsa(&t.text)) {
        crypto::warm_rsa();
    }
    let mut order: Vec<String> = tpls.keys().cloned().collect();
    sort_templates(&mut order);
    for name in &order {
        templates
            .parse(name, &tpls[name].text)
            .map_err(|e| render_err(errors::cleanup_parse_error(name, &e)))?;
    }
    let mut files = BTreeMap::new();
    for name in &order {
        let base = name.rsplit('/').next().unwrap_or(name);
        if base.starts_with('_') {
            continue;
        }
        let r = &tpls[name];
        let t = Map::new();
        t.insert("Name", Value::str(name));
        t.insert("BasePath", Value::str(&r.base_path));
        r.vals.insert("Template", Value::Map(named(t, "common.Values")));
        let out = templates
            .execute(name, &Value::Map(r.vals.clone()))
            .map_err(|e| render_err(errors::reformat_exec_error(name, &e)))?;
        // (Most outputs have no `<no value>`: no copy of those.)
        let out = if out.contains("<no value>") {
            out.replace("<no value>", "")
        } else {
            out
        };
        files.insert(name.clone(), out);
    }

    // NOTES.txt is rendered (its errors count) but only the root's is kept, and never printed.
    let root_notes = format!("{}/templates/NOTES.txt", chart.chart_name());
    let notes = files.get(&root_notes).cloned().unwrap_or_default();
    files.retain(|k, _| !k.ends_with("NOTES.txt"));

    // Kept in reading order (`Manifest::doc`), not by text: keying by the text copied and hashed
    // every document twice.
    let parsed = std::cell::RefCell::new(Vec::new());
    let parse = |doc: &str| {
        if !opts.keep_parsed {
            return crate::yaml::head_from_str(doc).map_err(|e| e.to_string());
        }
        let (head, json) = crate::yaml::head_and_json_from_str(doc);
        parsed.borrow_mut().push(json);
        head.map_err(|e| e.to_string())
    };
    let (hooks, manifests) = output::sort_manifests(&files, &parse).map_err(|message| RenderError {
        // helm's renderResources returns the files as one blob to help debug parser errors.
        rendered: Some(
            files
                .iter()
                .filter(|(_, text)| !text.trim().is_empty())
                .map(|(name, text)| format!("---\n# Source: {name}\n{text}\n"))
                .collect(),
        ),
        ..render_err(message)
    })?;
    Ok(Rendered {
        files,
        manifests,
        hooks,
        notes,
        parsed: parsed.into_inner(),
        metadata: None,
        placeholder_keys: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helm_parse_order() {
        // engine_test.go TestSortTemplates: deepest first, then reverse alphabetical.
        let mut v: Vec<String> = [
            "/mychart/templates/foo.tpl",
            "/mychart/templates/charts/foo/charts/bar/templates/foo.tpl",
            "/mychart/templates/bar.tpl",
            "/mychart/templates/charts/foo/templates/bar.tpl",
            "/mychart/templates/_foo.tpl",
            "/mychart/templates/charts/foo/templates/foo.tpl",
            "/mychart/templates/charts/bar/templates/foo.tpl",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        sort_templates(&mut v);
        let expect = [
            "/mychart/templates/charts/foo/charts/bar/templates/foo.tpl",
            "/mychart/templates/charts/foo/templates/foo.tpl",
            "/mychart/templates/charts/foo/templates/bar.tpl",
            "/mychart/templates/charts/bar/templates/foo.tpl",
            "/mychart/templates/foo.tpl",
            "/mychart/templates/bar.tpl",
            "/mychart/templates/_foo.tpl",
        ];
        assert_eq!(v, expect);
    }

    /// An in-memory chart for pipeline tests.
    struct Mem {
        name: &'static str,
        templates: Vec<(&'static str, &'static str)>,
        subs: Vec<Mem>,
    }

    impl ChartSource for Mem {
        fn chart_name(&self) -> String {
            self.name.into()
        }
        fn metadata_value(&self) -> Value {
            let m = Map::new();
            m.insert("Name", Value::str(self.name));
            Value::Map(m)
        }
        fn is_library(&self) -> bool {
            false
        }
        fn template_files(&self) -> Vec<(String, Vec<u8>)> {
            self.templates
                .iter()
                .map(|(n, t)| (n.to_string(), t.as_bytes().to_vec()))
                .collect()
        }
        fn other_files(&self) -> Vec<(String, Vec<u8>)> {
            Vec::new()
        }
        fn subcharts(&self) -> Vec<&Mem> {
            self.subs.iter().collect()
        }
    }

    /// A template set that prints each template's text as is (no actions in these tests).
    #[derive(Default)]
    struct Verbatim(BTreeMap<String, String>, Vec<String>);

    impl TemplateSet for Verbatim {
        fn parse(&mut self, name: &str, text: &str) -> Result<(), String> {
            self.1.push(name.to_string());
            self.0.insert(name.into(), text.into());
            Ok(())
        }
        fn execute(&mut self, name: &str, _data: &Value) -> Result<String, String> {
            Ok(self.0[name].clone())
        }
    }

    #[test]
    fn pipeline_matches_helm_on_a_static_chart() {
        // `helm template ./s` (helm 4.1.4) on this chart printed exactly `expected`.
        let chart = Mem {
            name: "s",
            templates: vec![
                (
                    "templates/b.yaml",
                    "kind: Service\nmetadata:\n  name: a\n---\nkind: Namespace\nmetadata:\n  name: n\n",
                ),
                (
                    "templates/a-hook.yaml",
                    "kind: Job\nmetadata:\n  name: h\n  annotations:\n    helm.sh/hook: pre-install\n",
                ),
                ("templates/NOTES.txt", "notes"),
                ("templates/blank.yaml", "\n  \n"),
                ("templates/_p.tpl", "x: 1"),
            ],
            subs: vec![Mem {
                name: "sub",
                templates: vec![("templates/cm.yaml", "kind: ConfigMap\nmetadata:\n  name: sub\n")],
                subs: vec![],
            }],
        };
        let mut engine = Verbatim::default();
        let r = render_with(&chart, &Value::Map(Map::new()), &RenderOptions::default(), &mut engine).unwrap();
        let expected = "---\n# Source: s/templates/b.yaml\nkind: Namespace\nmetadata:\n  name: n\n---\n# Source: s/charts/sub/templates/cm.yaml\nkind: ConfigMap\nmetadata:\n  name: sub\n---\n# Source: s/templates/b.yaml\nkind: Service\nmetadata:\n  name: a\n---\n# Source: s/templates/a-hook.yaml\nkind: Job\nmetadata:\n  name: h\n  annotations:\n    helm.sh/hook: pre-install\n";
        assert_eq!(r.helm_output(&OutputOptions::default()).unwrap(), expected);
        assert_eq!(r.notes, "notes");
        assert_eq!(engine.1[0], "s/charts/sub/templates/cm.yaml");
        assert_eq!(r.hooks[0].hook.as_ref().unwrap().events, ["pre-install"]);
    }
}
