//! `chartup template`: render a chart as `helm template` does.
//!
//! The flags are helm template's that change the output, with helm's names and short forms, so a
//! `helm template …` command line works unchanged. The work is [`crate::ops::template`].

use std::path::PathBuf;

use super::args::ValuesArgs;
use super::{ExitStatus, Printer};
use crate::ops::template::TemplateRequest;

/// Render chart templates locally and print the manifests, exactly as `helm template` does.
#[derive(Debug, clap::Args)]
#[command(
    disable_version_flag = true,
    // pflag: a flag given twice keeps its last value.
    args_override_self = true,
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
    #[arg(short = 'a', long = "api-versions", value_name = "VERSION", value_parser = super::pflag::csv_list)]
    pub api_versions: Vec<super::pflag::CsvList>,

    /// Write the rendered templates to files in this directory instead of stdout
    #[arg(long = "output-dir", value_name = "DIR")]
    pub output_dir: Option<PathBuf>,

    /// Where the chart comes from: --repo, --version, --devel, credentials, TLS (helm's flags)
    #[command(flatten)]
    pub source: super::source::SourceArgs,

    /// With --output-dir: put the files under a directory named after the release
    #[arg(long = "release-name")]
    pub release_name_dir: bool,

    /// Skip values.schema.json validation
    #[arg(long = "skip-schema-validation")]
    pub skip_schema_validation: bool,

    /// The kubeconfig and context .Release.Namespace defaults to (helm's global flags; no cluster
    /// is contacted)
    #[command(flatten)]
    pub kube: super::args::KubeArgs,

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

pub fn run(args: Args, p: &mut Printer) -> anyhow::Result<ExitStatus> {
    let (release, chart_ref) = name_and_chart(&args.args);
    // A reference (repo/chart, oci://, URL, --repo) becomes a local chart first (src/source).
    let (chart, _source) = super::source::resolve_chart(&chart_ref, &args.source, None, p)?;
    p.debug(|| {
        format!(
            "chart path: {} (from {chart_ref}), release name: {release}",
            chart.display()
        )
    });
    let out = crate::ops::template::template(&TemplateRequest {
        release,
        chart,
        values: args.values.input(&[]).value_options(),
        namespace: args.namespace,
        kubeconfig: args.kube.kubeconfig_path().map(PathBuf::from),
        kube_context: args.kube.context(),
        show_only: args.show_only,
        include_crds: args.include_crds,
        skip_tests: args.skip_tests,
        no_hooks: args.no_hooks,
        is_upgrade: args.is_upgrade,
        kube_version: args.kube_version,
        api_versions: super::pflag::flatten(&args.api_versions),
        output_dir: args.output_dir,
        release_name_dir: args.release_name_dir,
        skip_schema_validation: args.skip_schema_validation,
        strict: args.strict,
        debug: p.debug,
    });
    let out = match out {
        Err(crate::ops::Error::WithOutput { output, message }) => {
            p.out(&output)?;
            anyhow::bail!(message)
        }
        other => other?,
    };
    p.out(&out)?;
    Ok(ExitStatus::Success)
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
