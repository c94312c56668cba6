//! Where the two sides of a plan come from: a rendered manifest file (`--from-manifest`, as
//! `helm get manifest` prints it) or a chart rendered with values.
//!
//! Rendering sits behind [`Renderer`] so the planner does not care who renders: chartup's own
//! renderer ([`Native`], `crate::render`) in the product, the real `helm template`
//! ([`HelmBinary`]) as the oracle in tests. The deployed side renders as an install, the new
//! side as an upgrade (`.Release.IsUpgrade`), as `helm upgrade` would.
//!
//! Digests identify exactly what was rendered: the chart digest is a sha256 over the chart's
//! files (sorted relative paths and contents; an archive's bytes), the values digest a sha256
//! over the merged user values as Go's encoding/json prints them (the helm oracle, which cannot
//! say, digests the inputs in order instead).

use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use super::saved::sha256_hex;
use super::{ChartRef, ReleaseSide};
use crate::manifest::{split_documents, Document};

/// Values given for one side.
#[derive(Debug, Clone, Default)]
pub struct ValuesInput {
    pub files: Vec<PathBuf>,
    pub set: Vec<String>,
    pub set_string: Vec<String>,
    /// `--set-file KEY=PATH`, `--set-json KEY=JSON`, `--set-literal KEY=VAL` (helm's flags).
    pub set_file: Vec<String>,
    pub set_json: Vec<String>,
    pub set_literal: Vec<String>,
    /// Helm's upgrade values rules against a deployed revision (`None`: the values are used as
    /// given, as `helm template`/`install`).
    pub rules: Option<ValuesRules>,
}

/// What [`super::values::resolve`] needs from the deployed revision.
#[derive(Debug, Clone, Default)]
pub struct ValuesRules {
    pub mode: super::values::ValuesMode,
    /// The deployed revision's user values (`config`).
    pub deployed: Option<Json>,
    /// The deployed revision's chart defaults (`chart.values` of its record), for `--reuse-values`.
    pub deployed_chart_values: Option<Json>,
}

impl ValuesRules {
    fn map(v: Option<&Json>) -> Result<crate::template::value::Map, String> {
        match v {
            None | Some(Json::Null) => Ok(crate::template::value::Map::new()),
            Some(j) => match crate::yaml::from_json(&j.to_string())? {
                crate::template::value::Value::Map(m) => Ok(m),
                _ => Err("the deployed values are not a map".into()),
            },
        }
    }

    /// The user values to render with and, for `--reuse-values`, the chart defaults to use.
    pub fn apply(
        &self,
        given: &crate::template::value::Value,
    ) -> Result<(super::values::Resolved, crate::template::value::Value), String> {
        let given = match given {
            crate::template::value::Value::Map(m) => m.clone(),
            _ => crate::template::value::Map::new(),
        };
        let deployed = Self::map(self.deployed.as_ref())?;
        let chart = Self::map(self.deployed_chart_values.as_ref())?;
        let r = super::values::resolve(self.mode, &given, &deployed, Some(&chart));
        let v = crate::template::value::Value::map(r.config.clone());
        Ok((r, v))
    }
}

impl ValuesInput {
    /// sha256 over the inputs, in order.
    pub fn digest(&self) -> Result<String, String> {
        let mut parts = Vec::new();
        for f in &self.files {
            let text = std::fs::read_to_string(f).map_err(|e| format!("{}: {e}", f.display()))?;
            parts.push(Json::String(text));
        }
        // A `--set-file` value is the file's content: digest that, not only the path.
        let mut set_files = Vec::new();
        for sf in &self.set_file {
            let path = sf.split_once('=').map(|(_, p)| p).unwrap_or("");
            let text = std::fs::read(path).map_err(|e| format!("--set-file {sf}: {path}: {e}"))?;
            set_files.push(serde_json::json!([sf, String::from_utf8_lossy(&text)]));
        }
        let body = serde_json::json!({ "files": parts, "set": self.set, "setString": self.set_string,
            "setFile": set_files, "setJson": self.set_json, "setLiteral": self.set_literal });
        Ok(format!("sha256:{}", sha256_hex(body.to_string().as_bytes())))
    }
}

impl ValuesInput {
    /// The renderer's value options for these inputs (Helm's precedence: files, then `--set`,
    /// `--set-string`, `--set-json`, `--set-file`, `--set-literal`).
    pub fn value_options(&self) -> crate::chart::ValueOptions {
        crate::chart::ValueOptions {
            values_files: self.files.iter().map(|f| f.to_string_lossy().to_string()).collect(),
            set: self.set.clone(),
            set_string: self.set_string.clone(),
            set_file: self.set_file.clone(),
            set_json: self.set_json.clone(),
            set_literal: self.set_literal.clone(),
        }
    }

    /// The user's values merged as Helm merges them (`chart::ValueOptions::merge_values`: files in
    /// order, then the `--set` flags by Helm's precedence), as Go's encoding/json prints them.
    pub fn merged_json(&self) -> Result<String, String> {
        // Deeply nested values (`--set a[0][0]…`) are walked on the big-stack thread.
        crate::template::exec::with_big_stack(|| {
            let merged = self.value_options().merge_values().map_err(|e| e.to_string())?;
            crate::yaml::to_json(
                &merged,
                crate::yaml::JsonOpts {
                    escape_html: false,
                    indent: false,
                },
            )
        })
        .map_err(|e| e.to_string())?
    }

    /// [`merged_json`](Self::merged_json) as a JSON value.
    pub fn merged(&self) -> Result<Json, String> {
        serde_json::from_str(&self.merged_json()?).map_err(|e| e.to_string())
    }
}

/// What a renderer returns: the release manifest documents (hooks excluded, as in `helm get manifest`).
#[derive(Debug, Clone)]
pub struct RenderedChart {
    pub chart: ChartRef,
    pub documents: Vec<Document>,
    /// `sha256:` of the merged user values as Go's encoding/json prints them (sorted keys), when
    /// the renderer knows them; else the digest of the inputs is used.
    pub values_digest: Option<String>,
    pub user_values: Option<Json>,
    /// Each document's JSON reading when the renderer already has it (same order as
    /// `documents`; empty or `None`: the planner parses the text).
    pub parsed: Vec<Option<Json>>,
    /// Rendered by [`NativeUnapplied`], and a key or certificate in it is a placeholder.
    pub placeholder_keys: bool,
}

/// Renders a chart with values, as `helm install` (`upgrade` false) or `helm upgrade` (`upgrade`
/// true: `.Release.IsUpgrade`, revision 2) would.
pub trait Renderer {
    fn render(
        &self,
        chart: &Path,
        values: &ValuesInput,
        release: &str,
        namespace: &str,
        upgrade: bool,
    ) -> Result<RenderedChart, String>;
}

/// chartup's own renderer (crate::render): what the product uses.
#[derive(Debug, Clone, Default)]
pub struct Native;

impl Renderer for Native {
    fn render(
        &self,
        chart: &Path,
        values: &ValuesInput,
        release: &str,
        namespace: &str,
        upgrade: bool,
    ) -> Result<RenderedChart, String> {
        Ok(render_native(chart, values, native_options(release, namespace, upgrade), false)?.0)
    }
}

/// chartup's renderer for a side that is only compared, never applied: the old side of a
/// chart-to-chart plan. RSA and DSA keys and the certificates made with them are placeholders
/// (`template::funcs::crypto_placeholder`): they are new on every render, so real ones would only
/// be compared with other random ones, and minting them is most of such a chart's render time.
#[derive(Debug, Clone, Default)]
pub struct NativeUnapplied;

impl Renderer for NativeUnapplied {
    fn render(
        &self,
        chart: &Path,
        values: &ValuesInput,
        release: &str,
        namespace: &str,
        upgrade: bool,
    ) -> Result<RenderedChart, String> {
        let opts = crate::render::RenderOptions {
            placeholder_keys: true,
            ..native_options(release, namespace, upgrade)
        };
        Ok(render_native(chart, values, opts, false)?.0)
    }
}

fn native_options(release: &str, namespace: &str, upgrade: bool) -> crate::render::RenderOptions {
    crate::render::RenderOptions {
        release_name: release.to_string(),
        namespace: namespace.to_string(),
        is_upgrade: upgrade,
        revision: if upgrade { 2 } else { 1 },
        ..Default::default()
    }
}

/// Render with chartup's renderer and these options (a cluster's context comes in through them):
/// the release's documents, each parsed once for the planner, and the hook documents with their
/// `# Source:` headers, as a release record keeps them; with `crds`, the definitions of the charts' `crds/`
/// directories too (an install creates them).
pub fn render_native(
    chart: &Path,
    values: &ValuesInput,
    opts: crate::render::RenderOptions,
    crds: bool,
) -> Result<(RenderedChart, Vec<Document>, Vec<Document>), String> {
    let value_options = values.value_options();
    let mut merged = value_options.merge_values().map_err(|e| e.to_string())?;
    let mut chart_values = None;
    if let Some(rules) = &values.rules {
        let (resolved, v) = rules.apply(&merged)?;
        merged = v;
        chart_values = resolved.chart_values.map(crate::template::value::Value::map);
    }
    let json = crate::yaml::to_json(
        &merged,
        crate::yaml::JsonOpts {
            escape_html: false,
            indent: false,
        },
    )?;
    // helm install/upgrade refuse a release name the release records could not hold.
    let name_check = if opts.is_upgrade {
        crate::chart::NameCheck::Upgrade(opts.release_name.clone())
    } else {
        crate::chart::NameCheck::Install(opts.release_name.clone())
    };
    let job = crate::render::chart::TemplateJob {
        chart_path: chart.to_path_buf(),
        values: value_options,
        render: crate::render::RenderOptions {
            keep_parsed: true,
            ..opts
        },
        skip_schema_validation: false,
        // Only an install creates them: an upgrade's render need not read them.
        include_crds: crds,
        name_check: Some(name_check),
    };
    let (mut rendered, crd_files) =
        crate::render::chart::render_chart_with(&job, merged, chart_values).map_err(|e| e.message)?;
    let parsed = rendered
        .manifests
        .iter()
        .map(|m| rendered.parsed.get_mut(m.doc).and_then(Option::take))
        .collect();
    // The manifests' texts become the documents' (moved, not copied: a large release's texts
    // are megabytes, and fresh memory costs page faults).
    let documents = rendered
        .manifests
        .iter_mut()
        .map(|m| {
            let mut text = std::mem::take(&mut m.content);
            text.truncate(text.trim_end().len());
            text.push('\n');
            Document {
                source: std::mem::take(&mut m.source),
                text,
            }
        })
        .collect();
    let hooks = rendered
        .hooks
        .iter()
        .map(|m| Document {
            source: m.source.clone(),
            text: format!("# Source: {}\n{}\n", m.source, m.content.trim_end()),
        })
        .collect();
    // Each file of a `crds/` directory may hold several definitions.
    let crds = crd_files
        .iter()
        .flat_map(|(file, data)| {
            crate::manifest::split_documents(data)
                .into_iter()
                .map(move |d| Document {
                    source: file.clone(),
                    text: d.text,
                })
        })
        .collect();
    // The render loaded the chart already; load it again only if it did not say what it read.
    let chart_ref = match rendered.metadata.take() {
        Some(md) => ChartRef {
            name: md.name.clone(),
            version: md.version.clone(),
            app_version: (!md.app_version.is_empty()).then(|| md.app_version.clone()),
        },
        None => chart_ref(chart)?,
    };
    let rendered_chart = RenderedChart {
        chart: chart_ref,
        documents,
        values_digest: Some(format!("sha256:{}", sha256_hex(json.as_bytes()))),
        user_values: serde_json::from_str(&json).ok(),
        parsed,
        placeholder_keys: rendered.placeholder_keys,
    };
    Ok((rendered_chart, hooks, crds))
}

/// The real helm binary (the oracle for tests and benchmarks).
#[derive(Debug, Clone)]
pub struct HelmBinary {
    pub path: PathBuf,
}

impl Renderer for HelmBinary {
    fn render(
        &self,
        chart: &Path,
        values: &ValuesInput,
        release: &str,
        namespace: &str,
        upgrade: bool,
    ) -> Result<RenderedChart, String> {
        let mut cmd = std::process::Command::new(&self.path);
        cmd.arg("template")
            .arg(release)
            .arg(chart)
            .arg("--namespace")
            .arg(namespace)
            .arg("--no-hooks");
        if upgrade {
            cmd.arg("--is-upgrade");
        }
        for f in &values.files {
            cmd.arg("-f").arg(f);
        }
        for s in &values.set {
            cmd.arg("--set").arg(s);
        }
        for (flag, list) in [
            ("--set-string", &values.set_string),
            ("--set-json", &values.set_json),
            ("--set-file", &values.set_file),
            ("--set-literal", &values.set_literal),
        ] {
            for s in list {
                cmd.arg(flag).arg(s);
            }
        }
        let out = cmd.output().map_err(|e| format!("{}: {e}", self.path.display()))?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
        }
        let text = String::from_utf8_lossy(&out.stdout);
        Ok(RenderedChart {
            chart: chart_ref(chart)?,
            documents: split_documents(&text),
            values_digest: None,
            user_values: None,
            parsed: Vec::new(),
            placeholder_keys: false,
        })
    }
}

/// name/version/appVersion of a chart (directory or archive), as the chart loader reads them.
pub fn chart_ref(chart: &Path) -> Result<ChartRef, String> {
    let md = crate::chart::load(chart)
        .map_err(|e| format!("{}: {e}", chart.display()))?
        .metadata;
    Ok(ChartRef {
        name: md.name.clone(),
        version: md.version.clone(),
        app_version: (!md.app_version.is_empty()).then(|| md.app_version.clone()),
    })
}

/// sha256 over a chart: an archive's bytes, or a directory's files (sorted relative paths and
/// contents; `.git` skipped). Lives in `crate::source::cache`, which records chart sources too.
pub fn chart_digest(chart: &Path) -> Result<String, String> {
    crate::source::cache::chart_digest(chart).map_err(|e| e.to_string())
}

/// A side from a chart.
pub fn side_from_chart(
    renderer: &dyn Renderer,
    chart: &Path,
    values: &ValuesInput,
    release: &str,
    namespace: &str,
    upgrade: bool,
) -> Result<ReleaseSide, String> {
    let r = renderer.render(chart, values, release, namespace, upgrade)?;
    let mut side = ReleaseSide::new_parsed(&format!("chart {}", chart.display()), r.documents, r.parsed, namespace)
        .map_err(|e| e.to_string())?;
    side.chart = Some(r.chart);
    side.placeholder_keys = r.placeholder_keys;
    side.chart_digest = Some(chart_digest(chart)?);
    side.values_digest = Some(match r.values_digest {
        Some(d) => d,
        None => values.digest()?,
    });
    side.user_values = Some(match r.user_values {
        Some(v) => v,
        None => values.merged()?,
    });
    Ok(side)
}

/// A side from a manifest file (`-` for stdin is the caller's business).
pub fn side_from_manifest_text(origin: &str, text: &str, namespace: &str) -> Result<ReleaseSide, String> {
    ReleaseSide::new(origin, split_documents(text), namespace).map_err(|e| e.to_string())
}
