//! Flags several commands share, defined once and flattened into each command's arguments.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::cluster::Cluster;
use crate::executor::ApplyOptions;
use crate::plan::source::ValuesInput;

/// Helm's values flags, with helm's names, short forms and precedence. In `plan` and `apply`
/// they apply to both sides of a plan.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ValuesArgs {
    /// Specify values in a YAML file (can specify multiple)
    #[arg(short = 'f', long = "values", value_name = "FILE", value_parser = super::pflag::csv_list)]
    pub values: Vec<super::pflag::CsvList>,
    /// Set values on the command line (can specify multiple or separate values with commas: key1=val1,key2=val2)
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Set STRING values on the command line (can specify multiple or separate values with commas)
    #[arg(long = "set-string", value_name = "KEY=VALUE")]
    pub set_string: Vec<String>,
    /// Set values from respective files specified via the command line (key1=path1,key2=path2)
    #[arg(long = "set-file", value_name = "KEY=PATH")]
    pub set_file: Vec<String>,
    /// Set JSON values on the command line (key1=jsonval1,key2=jsonval2, or a whole JSON object)
    #[arg(long = "set-json", value_name = "KEY=JSON")]
    pub set_json: Vec<String>,
    /// Set a literal STRING value on the command line
    #[arg(long = "set-literal", value_name = "KEY=VALUE")]
    pub set_literal: Vec<String>,
}

impl ValuesArgs {
    /// The values of one rendered side: these flags, then that side's own files (`extra`).
    pub fn input(&self, extra: &[PathBuf]) -> ValuesInput {
        ValuesInput {
            files: super::pflag::flatten(&self.values)
                .into_iter()
                .map(PathBuf::from)
                .chain(extra.iter().cloned())
                .collect(),
            set: self.set.clone(),
            set_string: self.set_string.clone(),
            set_file: self.set_file.clone(),
            set_json: self.set_json.clone(),
            set_literal: self.set_literal.clone(),
            rules: None,
        }
    }
}

/// `helm upgrade`'s values flags (`plan RELEASE CHART`, `apply RELEASE CHART`). With none of them
/// the deployed user values are reused only when no values are given, as helm does; the plan
/// shows every user value that changes either way (`crate::plan::values`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct UpgradeValuesArgs {
    /// Reuse the deployed release's values and merge in the values given; the deployed chart's
    /// defaults replace the new chart's (helm's --reuse-values). Ignored with --reset-values
    #[arg(long)]
    pub reuse_values: bool,
    /// Use only the values given over the new chart's defaults; never reuse the deployed ones
    #[arg(long)]
    pub reset_values: bool,
    /// Use the new chart's defaults, then the deployed release's values, then the values given
    #[arg(long)]
    pub reset_then_reuse_values: bool,
}

impl UpgradeValuesArgs {
    pub fn rules(&self) -> crate::plan::source::ValuesRules {
        crate::plan::source::ValuesRules {
            mode: crate::plan::values::ValuesMode::from_flags(
                self.reuse_values,
                self.reset_values,
                self.reset_then_reuse_values,
            ),
            ..Default::default()
        }
    }
}

/// Where the cluster is, as kubectl and helm take it.
#[derive(Debug, Clone, clap::Args)]
pub struct KubeArgs {
    /// Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)
    // An empty value is accepted and means "not given", as helm's `--kubeconfig ""` does.
    #[arg(long, value_name = "FILE", global = true, value_parser = clap::builder::TypedValueParser::map(clap::builder::OsStringValueParser::new(), PathBuf::from))]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use
    #[arg(long = "kube-context", value_name = "NAME", global = true)]
    pub kube_context: Option<String>,
}

impl KubeArgs {
    pub async fn connect(&self, namespace: Option<&str>) -> anyhow::Result<Arc<dyn Cluster>> {
        // helm's rule (crate::helm_env): -n, then HELM_NAMESPACE, then the context's namespace.
        let env = std::env::var("HELM_NAMESPACE").ok().filter(|s| !s.trim().is_empty());
        let namespace = namespace.or(env.as_deref());
        let context = self.context();
        Ok(crate::ops::connect(self.kubeconfig_path(), context.as_deref(), namespace).await?)
    }

    /// `--kubeconfig`, unless empty (then `$KUBECONFIG`, as helm).
    pub fn kubeconfig_path(&self) -> Option<&std::path::Path> {
        self.kubeconfig.as_deref().filter(|p| !p.as_os_str().is_empty())
    }

    /// `--kube-context`, else helm's `HELM_KUBECONTEXT`. An explicit `--kube-context ""` replaces
    /// the variable (it is only the flag's default in helm): the current context.
    pub fn context(&self) -> Option<String> {
        match &self.kube_context {
            Some(c) => Some(c.clone()).filter(|c| !c.is_empty()),
            None => std::env::var("HELM_KUBECONTEXT").ok().filter(|s| !s.is_empty()),
        }
    }

    /// The namespace a command uses when it does not connect (offline `plan`): helm's rule.
    pub fn namespace(&self, flag: Option<&str>) -> String {
        crate::helm_env::namespace(flag, self.kubeconfig_path(), self.context().as_deref())
    }
}

/// Progress output of the commands that execute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProgressFormat {
    Text,
    Json,
}

/// Options shared by everything that executes (apply, rollback).
#[derive(Debug, Clone, clap::Args)]
pub struct ExecArgs {
    /// Go ahead although the plan says a volume's data will be lost
    #[arg(long)]
    pub accept_data_loss: bool,
    /// Go ahead although the plan puts data at risk (orphaned claims, an unchecked data format);
    /// alone it accepts everything at risk, `--accept-risk=NAME,…` only the outcomes named
    /// (claim/NAME, volume/COMPONENT/VOLUME, RULE/OBJECT: the plan lists them under "Apply
    /// requires"). The acceptance is recorded in the new revision
    #[arg(
        long,
        value_name = "NAME",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "",
        value_delimiter = ',',
        action = clap::ArgAction::Append
    )]
    pub accept_risk: Vec<String>,
    /// On failure, roll back to the last deployed revision (ordered, pod by pod)
    #[arg(long)]
    pub atomic: bool,
    /// Keep at most this many revisions (0: unlimited); the last deployed one is never pruned
    #[arg(long, default_value_t = 10, value_name = "N", env = "HELM_MAX_HISTORY")]
    pub history_max: usize,
    /// How long each component, hook or migration may take to become healthy (e.g. 90s, 5m, 1.5h)
    #[arg(long, default_value = "5m", value_parser = crate::duration::parse, value_name = "DURATION")]
    pub timeout: Duration,
    /// Accepted as in helm's scripts (helm 3's bool, helm 4's strategy); chartup always waits until
    /// every component is healthy before it records the revision deployed
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "STRATEGY")]
    pub wait: Option<String>,
    /// Accepted as in helm's scripts; chartup always waits for Jobs to complete
    #[arg(long)]
    pub wait_for_jobs: bool,
    /// Command run with `sh -c` as the backup the matrix requires before an upgrade
    #[arg(long, value_name = "CMD")]
    pub backup_command: Option<String>,
    /// Command run (`sh -c`, script path in $MIGRATION_FILE) in the component's image for each
    /// migration, when the chart's workload does not say how (annotation chartup.io/migration-command)
    #[arg(long, value_name = "CMD")]
    pub migration_command: Option<String>,
    /// The description of the new revision in the release history (default: Install complete,
    /// Upgrade complete)
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,
    /// Create the release's namespace if it does not exist
    #[arg(long)]
    pub create_namespace: bool,
    /// Progress output: lines for people, or JSON events (one per line) for CI
    #[arg(short = 'o', long, value_enum, default_value = "text")]
    pub output: ProgressFormat,
    /// Keep the VolumeSnapshots of this many of the newest revisions that took some; older ones
    /// are deleted after a successful run (0: keep all)
    #[arg(long, default_value_t = crate::executor::options::DEFAULT_KEEP_SNAPSHOTS, value_name = "N")]
    pub keep_snapshots: usize,
    /// Restore the volumes from the snapshots taken before the revisions rolled back (rollback; with
    /// apply --atomic, when the run fails)
    #[arg(long)]
    pub restore_data: bool,
}

impl ExecArgs {
    pub fn options(&self) -> ApplyOptions {
        ApplyOptions {
            accept_data_loss: self.accept_data_loss,
            // A bare `--accept-risk` arrives as "": everything; names accept one by one.
            accept_risk: self.accept_risk.iter().any(|n| n.is_empty()),
            accepted: self
                .accept_risk
                .iter()
                .filter(|n| !n.is_empty())
                .map(|n| n.trim().to_string())
                .collect(),
            atomic: self.atomic,
            history_max: self.history_max,
            timeout: self.timeout,
            backup_command: self.backup_command.clone(),
            migration_command: self.migration_command.clone(),
            description: self.description.clone(),
            keep_snapshots: self.keep_snapshots,
            restore_data: self.restore_data,
            ..Default::default()
        }
    }
}

/// A runtime for one command's cluster work.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Runtime::new()?)
}
