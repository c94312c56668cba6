//! Render a chart as `helm template` does (`chartup template`): the namespace helm would use, the
//! render, and the output — one stream, or one file per template path (`--output-dir`).
//!
//! The output is built completely before anything is written: on an error nothing is printed, as
//! with helm.

use std::path::{Path, PathBuf};

use super::{Error, Result};
use crate::chart::ValueOptions;
use crate::render::objects::KubeVersion;
use crate::render::{OutputOptions, RenderOptions};

/// What `helm template` takes that changes its output.
#[derive(Debug, Clone, Default)]
pub struct TemplateRequest {
    pub release: String,
    pub chart: PathBuf,
    pub values: ValueOptions,
    /// `-n`; `None`: `$HELM_NAMESPACE`, the kubeconfig's, else `default`.
    pub namespace: Option<String>,
    /// `--kubeconfig` (else `$KUBECONFIG`, else `~/.kube/config`): where the default namespace is read.
    pub kubeconfig: Option<PathBuf>,
    /// `--kube-context` (else `$HELM_KUBECONTEXT`), else the current context.
    pub kube_context: Option<String>,
    pub show_only: Vec<String>,
    pub include_crds: bool,
    pub skip_tests: bool,
    pub no_hooks: bool,
    pub is_upgrade: bool,
    pub kube_version: Option<String>,
    pub api_versions: Vec<String>,
    /// Write one file per template path here instead of one stream.
    pub output_dir: Option<PathBuf>,
    /// With `output_dir`: under a directory named after the release.
    pub release_name_dir: bool,
    pub skip_schema_validation: bool,
    pub strict: bool,
    /// `--debug`: on a render error, the rendered files (the invalid YAML) come with the error
    /// instead of helm's hint to use `--debug`.
    pub debug: bool,
}

/// Render; returns what goes to standard output (the manifests, or the list of files written).
pub fn template(req: &TemplateRequest) -> Result<String> {
    // helm: `if kubeVersion != ""` — an empty flag is no flag.
    let kube_version = match req.kube_version.as_ref().filter(|v| !v.is_empty()) {
        Some(v) => Some(KubeVersion::parse(v).map_err(|e| Error::Invalid(format!("invalid kube version '{v}': {e}")))?),
        None => None,
    };
    let render_opts = RenderOptions {
        release_name: req.release.clone(),
        namespace: namespace(
            req.namespace.as_deref(),
            req.kubeconfig.as_deref(),
            req.kube_context.as_deref(),
        ),
        is_upgrade: req.is_upgrade,
        revision: 1,
        kube_version,
        api_versions: req.api_versions.clone(),
        strict: req.strict,
        ..Default::default()
    };
    let job = crate::render::chart::TemplateJob {
        chart_path: req.chart.clone(),
        values: req.values.clone(),
        render: render_opts,
        skip_schema_validation: req.skip_schema_validation,
        include_crds: req.include_crds,
        name_check: Some(crate::chart::NameCheck::Install(req.release.clone())),
    };
    let (rendered, crds) = crate::render::chart::render_chart(&job).map_err(|e| {
        if req.debug && e.during_render {
            // helm template --debug: `strings.TrimSpace(rel.Manifest)` and a newline, then the error.
            return Error::WithOutput {
                output: format!("{}\n", e.rendered.as_deref().unwrap_or("").trim()),
                message: e.message,
            };
        }
        Error::Invalid(if e.during_render {
            format!("{}\n\nUse --debug flag to render out invalid YAML", e.message)
        } else {
            e.message
        })
    })?;
    match &req.output_dir {
        None => Ok(rendered
            .helm_output(&OutputOptions {
                crds,
                skip_tests: req.skip_tests,
                no_hooks: req.no_hooks,
                show_only: req.show_only.clone(),
            })
            .map_err(|e| Error::Invalid(e.to_string()))?),
        Some(dir) => {
            let dir = if req.release_name_dir {
                dir.join(&req.release)
            } else {
                dir.clone()
            };
            let log = write_output_dir(&dir, &rendered, &crds, req.skip_tests, req.no_hooks)?;
            // helm's manifest stream is empty with --output-dir, so no --show-only template is
            // ever found there: the files are written and listed, then the first one is an error.
            match req.show_only.first() {
                None => Ok(log),
                Some(first) => Err(Error::WithOutput {
                    output: log.strip_suffix('\n').unwrap_or(&log).to_string(),
                    message: format!("could not find template {first} in chart"),
                }),
            }
        }
    }
}

/// The namespace helm template uses: `-n`, else `$HELM_NAMESPACE`, else the namespace of the
/// kubeconfig context (client-go's loading: `$KUBECONFIG`'s files merged, `--kube-context`), else
/// "default" (helm's `EnvSettings.Namespace`). Unlike `crate::helm_env::namespace`, a blank flag or
/// variable is kept as it is, as helm keeps it: template output must be helm's.
fn namespace(flag: Option<&str>, kubeconfig: Option<&Path>, context: Option<&str>) -> String {
    match flag {
        Some(n) if !n.is_empty() => return n.to_string(),
        // `-n ""`: helm's flag, whose default is $HELM_NAMESPACE, is set — to nothing.
        Some(_) => {}
        None => match std::env::var("HELM_NAMESPACE") {
            Ok(n) if !n.is_empty() => return n,
            _ => {}
        },
    }
    crate::helm_env::context_namespace(kubeconfig, context).unwrap_or_else(|| "default".to_string())
}

/// `--output-dir`: one file per template path, documents appended in output order, each as
/// `---\n# Source: PATH\nDOC\n`, and `wrote PATH` on stdout for every document (helm's
/// writeToFile). Hooks go to the same files after the manifests.
fn write_output_dir(
    dir: &Path,
    rendered: &crate::render::Rendered,
    crds: &[(String, String)],
    skip_tests: bool,
    no_hooks: bool,
) -> Result<String> {
    use std::collections::HashSet;
    use std::io::Write;
    let mut written: HashSet<String> = HashSet::new();
    let mut log = String::new();
    let mut write = |name: &str, data: &str, append: bool| -> std::io::Result<()> {
        let path = format!("{}/{name}", dir.display());
        if let Some(parent) = Path::new(&path).parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut f = if append {
            std::fs::OpenOptions::new().append(true).open(&path)?
        } else {
            std::fs::File::create(&path)?
        };
        write!(f, "---\n# Source: {name}\n{data}\n")?;
        log.push_str(&format!("wrote {path}\n"));
        Ok(())
    };
    for (name, data) in crds {
        let append = !written.insert(name.clone());
        write(name, data, append)?;
    }
    for m in &rendered.manifests {
        let append = !written.insert(m.source.clone());
        write(&m.source, &m.content, append)?;
    }
    if !no_hooks {
        for h in &rendered.hooks {
            if skip_tests && h.hook.as_ref().is_some_and(|h| h.is_test()) {
                continue;
            }
            // helm appends when the file exists on disk (written above or left from a previous run).
            let path = dir.join(&h.source);
            let append = path.exists();
            written.insert(h.source.clone());
            write(&h.source, &h.content, append)?;
        }
    }
    // helm prints the (empty) manifest stream after the file list.
    log.push('\n');
    Ok(log)
}
