//! `chartup template`: render a chart as `helm template` does.
//!
//! The flags are helm template's that change the output, with helm's names and short forms, so a
//! `helm template …` command line works unchanged. The output is built completely before anything
//! is written: on an error stdout stays empty, as with helm.

use std::path::{Path, PathBuf};

use super::args::ValuesArgs;
use super::{ExitStatus, Printer};
use crate::render::objects::KubeVersion;
use crate::render::{OutputOptions, RenderOptions};

/// Render chart templates locally and print the manifests, exactly as `helm template` does.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Values precedence (lowest to highest) is Helm's: chart defaults, -f files in order, \
--set-json, --set, --set-string, --set-file, --set-literal."
)]
pub struct Args {
    /// Release name (default "release-name"), then the chart directory or .tgz archive
    #[arg(num_args = 1..=2, value_name = "[NAME] CHART", required = true)]
    pub args: Vec<String>,

    #[command(flatten)]
    pub values: ValuesArgs,

    /// Namespace of the release (.Release.Namespace); default: $HELM_NAMESPACE, else "default"
    #[arg(short = 'n', long = "namespace", value_name = "NAMESPACE")]
    pub namespace: Option<String>,

    /// Only show manifests rendered from the given templates (path or glob, relative to the chart)
    #[arg(short = 's', long = "show-only", value_name = "TEMPLATE")]
    pub show_only: Vec<String>,

    /// Include CRDs (the chart's crds/ directories) in the output
    #[arg(long = "include-crds")]
    pub include_crds: bool,

    /// Skip test hooks in the output
    #[arg(long = "skip-tests")]
    pub skip_tests: bool,

    /// Do not print hooks
    #[arg(long = "no-hooks")]
    pub no_hooks: bool,

    /// Set .Release.IsUpgrade instead of .Release.IsInstall
    #[arg(long = "is-upgrade")]
    pub is_upgrade: bool,

    /// Kubernetes version used for Capabilities.KubeVersion (default v1.35.0, as helm 4.1.4)
    #[arg(long = "kube-version", value_name = "VERSION")]
    pub kube_version: Option<String>,

    /// Kubernetes api versions used for Capabilities.APIVersions (can specify multiple)
    #[arg(short = 'a', long = "api-versions", value_name = "VERSION", value_delimiter = ',')]
    pub api_versions: Vec<String>,

    /// Write the rendered templates to files in this directory instead of stdout
    #[arg(long = "output-dir", value_name = "DIR")]
    pub output_dir: Option<PathBuf>,

    /// With --output-dir: put the files under a directory named after the release
    #[arg(long = "release-name")]
    pub release_name_dir: bool,

    /// Skip values.schema.json validation
    #[arg(long = "skip-schema-validation")]
    pub skip_schema_validation: bool,

    /// Fail on missing map keys instead of printing nothing (Go's missingkey=error; not in helm template)
    #[arg(long = "strict")]
    pub strict: bool,
}

/// Release name and chart path from the positional arguments.
fn name_and_chart(args: &[String]) -> (String, String) {
    match args {
        [chart] => ("release-name".to_string(), chart.clone()),
        [name, chart, ..] => (name.clone(), chart.clone()),
        [] => ("release-name".to_string(), String::new()),
    }
}

/// The namespace helm template uses: `-n`, else `$HELM_NAMESPACE`, else the namespace of the
/// kubeconfig's current context, else "default" (helm's `EnvSettings.Namespace`).
fn namespace(flag: Option<&str>) -> String {
    if let Some(n) = flag.filter(|n| !n.is_empty()) {
        return n.to_string();
    }
    match std::env::var("HELM_NAMESPACE") {
        Ok(n) if !n.is_empty() => n,
        _ => kubeconfig_namespace().unwrap_or_else(|| "default".to_string()),
    }
}

/// The `namespace` of the current context in the first kubeconfig file (`$KUBECONFIG`, else
/// `~/.kube/config`). Any problem reading it means "no namespace", as for helm without a cluster.
fn kubeconfig_namespace() -> Option<String> {
    let path = match std::env::var_os("KUBECONFIG") {
        Some(p) if !p.is_empty() => std::env::split_paths(&p).next()?,
        _ => PathBuf::from(std::env::var_os("HOME")?).join(".kube/config"),
    };
    let text = std::fs::read_to_string(path).ok()?;
    let doc = crate::yaml::from_str(&text).ok()?;
    let cfg = doc.as_map()?;
    let current = cfg.get("current-context")?;
    let current = current.as_str()?;
    let contexts = cfg.get("contexts")?;
    for c in contexts.as_list()?.items.iter() {
        let c = c.as_map()?;
        if c.get("name").as_ref().and_then(|n| n.as_str()) == Some(current) {
            let ns = c.get("context")?.as_map()?.get("namespace")?;
            return ns.as_str().filter(|s| !s.is_empty()).map(str::to_string);
        }
    }
    None
}

pub fn run(args: Args, p: &mut Printer) -> anyhow::Result<ExitStatus> {
    let (release_name, chart_path) = name_and_chart(&args.args);
    let kube_version = match &args.kube_version {
        Some(v) => Some(KubeVersion::parse(v).map_err(|e| anyhow::anyhow!("invalid kube version '{v}': {e}"))?),
        None => None,
    };
    let render_opts = RenderOptions {
        release_name: release_name.clone(),
        namespace: namespace(args.namespace.as_deref()),
        is_upgrade: args.is_upgrade,
        revision: 1,
        kube_version,
        api_versions: args.api_versions.clone(),
        strict: args.strict,
        ..Default::default()
    };
    let values = args.values.input(&[]).value_options();
    let job = crate::render::chart::TemplateJob {
        chart_path: PathBuf::from(&chart_path),
        values,
        render: render_opts,
        skip_schema_validation: args.skip_schema_validation,
        include_crds: args.include_crds,
    };
    let (rendered, crds) = crate::render::chart::render_chart(&job).map_err(|e| {
        if e.during_render {
            anyhow::anyhow!("{}\n\nUse --debug flag to render out invalid YAML", e.message)
        } else {
            anyhow::anyhow!("{}", e.message)
        }
    })?;
    match &args.output_dir {
        None => {
            let out = rendered.helm_output(&OutputOptions {
                crds,
                skip_tests: args.skip_tests,
                no_hooks: args.no_hooks,
                show_only: args.show_only.clone(),
            })?;
            p.out(&out)?;
        }
        Some(dir) => {
            let dir = if args.release_name_dir {
                dir.join(&release_name)
            } else {
                dir.clone()
            };
            write_output_dir(&dir, &rendered, &crds, args.skip_tests, args.no_hooks, p)?;
        }
    }
    Ok(ExitStatus::Success)
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
    p: &mut Printer,
) -> anyhow::Result<()> {
    use std::collections::HashSet;
    use std::io::Write;
    let mut written: HashSet<String> = HashSet::new();
    let mut log = String::new();
    let mut write = |name: &str, data: &str, append: bool| -> anyhow::Result<()> {
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
    p.out(&log)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positional_arguments() {
        assert_eq!(name_and_chart(&["c".into()]), ("release-name".into(), "c".into()));
        assert_eq!(name_and_chart(&["n".into(), "c".into()]), ("n".into(), "c".into()));
    }
}
