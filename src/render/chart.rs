//! The whole `helm template` pipeline from a chart path: load (crate::chart), merge user values,
//! prepare (dependencies, coalescing, schema, kubeVersion), render with the engine
//! (crate::template::exec), and the CRD list for `--include-crds`.
//!
//! It also adapts the two collaborators to the renderer's traits: [`ChartSource`] for
//! `crate::chart::Chart` and [`TemplateSet`] for `crate::template::exec::Templates`.

use std::path::PathBuf;

use super::{helmfuncs, ChartSource, RenderError, RenderOptions, Rendered, TemplateSet};
use crate::chart::{self, Chart, PrepareOptions, ValueOptions};
use crate::template::exec::{MissingKey, Templates};
use crate::value::Value;

impl ChartSource for Chart {
    fn chart_name(&self) -> String {
        self.name().to_string()
    }
    fn metadata_value(&self) -> Value {
        self.metadata.to_value()
    }
    fn is_library(&self) -> bool {
        Chart::is_library(self)
    }
    fn template_files(&self) -> Vec<(String, Vec<u8>)> {
        self.templates
            .iter()
            .map(|f| (f.name.clone(), f.data.clone()))
            .collect()
    }
    fn other_files(&self) -> Vec<(String, Vec<u8>)> {
        self.files.iter().map(|f| (f.name.clone(), f.data.clone())).collect()
    }
    fn subcharts(&self) -> Vec<&Chart> {
        self.dependencies.iter().collect()
    }
}

impl TemplateSet for Templates {
    fn parse(&mut self, name: &str, text: &str) -> Result<(), String> {
        Templates::parse(self, name, text).map_err(|e| e.to_string())
    }
    fn execute(&mut self, name: &str, data: &Value) -> Result<String, String> {
        Templates::execute(self, name, data).map_err(|e| e.to_string())
    }
}

/// A fresh template set with Sprig and Helm's functions, as Helm's engine builds per render.
pub fn new_template_set(strict: bool) -> Templates {
    let mut t = Templates::new(helmfuncs::helm_funcs());
    t.set_missing_key(if strict { MissingKey::Error } else { MissingKey::Zero });
    t
}

/// Render a prepared chart: enabled subcharts only, `values` the
/// root's final values.
pub fn render(chart: &Chart, values: &Value, opts: &RenderOptions) -> Result<Rendered, RenderError> {
    // All parse/execute calls run on one big-stack thread (template recursion is real recursion).
    crate::template::exec::with_big_stack(|| {
        let mut t = new_template_set(opts.strict);
        helmfuncs::register_lookup(&mut t, opts.lookup.clone());
        let made = opts
            .placeholder_keys
            .then(|| crate::template::funcs::crypto::register_placeholders(&mut t));
        let mut rendered = super::render_with(chart, values, opts, &mut t);
        if let (Ok(r), Some(made)) = (&mut rendered, made) {
            r.placeholder_keys = made.get();
        }
        rendered
    })
    .map_err(|e| RenderError {
        message: e.to_string(),
        during_render: true,
        rendered: None,
    })?
}

/// Everything `chartup template` needs to know.
#[derive(Debug, Clone)]
pub struct TemplateJob {
    pub chart_path: PathBuf,
    pub values: ValueOptions,
    pub render: RenderOptions,
    pub skip_schema_validation: bool,
    pub include_crds: bool,
    /// Check the release name as helm does before it renders (`None`: the caller already has).
    pub name_check: Option<chart::NameCheck>,
}

/// helm's `LocateChart` for a chart that is not a local path: chartup reads local charts only,
/// so the errors are helm's for a missing path (`./x`, `/x`), a bare name, or `repo/name` with no
/// repositories configured.
fn locate_chart(name: &str) -> Result<(), String> {
    let name = name.trim();
    if std::path::Path::new(name).exists() {
        return Ok(());
    }
    if std::path::Path::new(name).is_absolute() || name.starts_with('.') {
        return Err(format!("path \"{name}\" not found"));
    }
    match name.split_once('/') {
        None => Err(format!(
            "non-absolute URLs should be in form of repo_name/path_to_chart, got: {name}"
        )),
        Some((repo, _)) => Err(format!("repo {repo} not found")),
    }
}

fn early(message: String) -> RenderError {
    RenderError {
        message,
        during_render: false,
        rendered: None,
    }
}

/// Load, prepare and render; also returns the CRD files to print with `--include-crds`.
/// Steps and their errors come in helm's order: values flags, chart loading, dependencies and
/// schema, kubeVersion, templates.
pub fn render_chart(job: &TemplateJob) -> Result<(Rendered, Vec<(String, String)>), RenderError> {
    // Values (`--set a[0][0]…`, deep YAML) and charts nest as deep as the user makes them; every
    // step that walks them runs on the big-stack thread, as Go's growable stacks let helm do.
    crate::template::exec::with_big_stack(|| render_chart_here(job)).map_err(|e| early(e.to_string()))?
}

fn render_chart_here(job: &TemplateJob) -> Result<(Rendered, Vec<(String, String)>), RenderError> {
    locate_chart(&job.chart_path.to_string_lossy()).map_err(early)?;
    let user = job.values.merge_values().map_err(|e| early(e.to_string()))?;
    render_chart_with(job, user, None)
}

/// [`render_chart`] with the user values already merged (an upgrade's values rules applied,
/// `crate::plan::values`) and, for `--reuse-values`, the chart defaults replaced
/// (Helm's `chart.Values = oldVals`).
pub fn render_chart_with(
    job: &TemplateJob,
    user: Value,
    chart_values: Option<Value>,
) -> Result<(Rendered, Vec<(String, String)>), RenderError> {
    locate_chart(&job.chart_path.to_string_lossy()).map_err(early)?;
    let mut loaded = chart::load(&job.chart_path).map_err(|e| early(e.to_string()))?;
    if let Some(v) = chart_values {
        loaded.values = v;
    }
    let kube = job
        .render
        .kube_version
        .clone()
        .unwrap_or_else(super::objects::KubeVersion::default_version);
    let prepared = chart::prepare(
        loaded,
        &user,
        &PrepareOptions {
            kube_version: kube.string().to_string(),
            skip_schema_validation: job.skip_schema_validation,
            release_name: job.name_check.clone(),
        },
    )
    .map_err(|e| {
        // helm template adds its --debug hint after the kubeVersion check (renderResources).
        let during_render = e.0.starts_with("chart requires kubeVersion");
        let message = if during_render {
            // Helm names the version as given (`caps.KubeVersion.Version`).
            e.0.replace(
                &format!("Kubernetes {}", kube.string()),
                &format!("Kubernetes {}", kube.version),
            )
        } else {
            e.0
        };
        RenderError {
            message,
            during_render,
            rendered: None,
        }
    })?;
    let mut rendered = render(&prepared.chart, &prepared.values, &job.render)?;
    rendered.metadata = Some(prepared.chart.metadata.clone());
    let crds = if job.include_crds {
        prepared
            .chart
            .crd_objects(prepared.chart.name())
            .into_iter()
            .map(|c| (c.filename, String::from_utf8_lossy(&c.data).into_owned()))
            .collect()
    } else {
        Vec::new()
    };
    Ok((rendered, crds))
}
