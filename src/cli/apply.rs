//! `chartup apply`: execute a reviewed plan against the cluster — a saved one (`apply PLAN.json`),
//! or one made on the spot (`apply RELEASE CHART`), shown and confirmed first.
//!
//! Only flag handling, planning against the cluster and printing live here; the work is
//! `crate::executor::apply`. [`plan_against_cluster`] is shared with `chartup plan RELEASE CHART`.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context as _};

use super::{ExitStatus, Printer};
use crate::cluster::Cluster;
use crate::diff::DiffOptions;
use crate::executor::{self, live, ApplyError, ApplyOptions, Progress};
use crate::plan::saved::SavedPlan;
use crate::plan::source::ValuesInput;
use crate::plan::{self, PlanOptions};

/// What planning against a cluster needs besides the cluster.
#[derive(Debug, Clone, Default)]
pub struct ClusterPlanInput {
    pub release: String,
    pub namespace: String,
    pub chart: PathBuf,
    pub values: ValuesInput,
    pub matrix: Option<PathBuf>,
    /// `NAME=Retain|Delete` given by the user; classes the cluster has fill in the rest.
    pub storage_classes: Vec<String>,
    pub allow_unlisted: bool,
    /// `--carry-volumes`
    pub carry_volumes: bool,
    pub diff: DiffOptions,
}

/// A chart directory as Helm's release record stores it: Chart.yaml as `metadata`, values.yaml as
/// `values`, the files under `templates/` base64-encoded (subcharts are not stored: Helm's record
/// leaves them out too). None for an archive or an unreadable chart: the record then carries
/// name and version only.
fn chart_record(dir: &Path) -> Option<serde_json::Value> {
    use base64::Engine as _;
    let meta = crate::manifest::parse_yaml(&std::fs::read_to_string(dir.join("Chart.yaml")).ok()?).ok()?;
    let values = std::fs::read_to_string(dir.join("values.yaml"))
        .ok()
        .and_then(|t| crate::manifest::parse_yaml(&t).ok())
        .filter(|v| v.is_object())
        .unwrap_or_else(|| serde_json::json!({}));
    let mut templates = Vec::new();
    let mut stack = vec![dir.join("templates")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let (Ok(bytes), Ok(rel)) = (std::fs::read(&p), p.strip_prefix(dir)) {
                templates.push(serde_json::json!({
                    "name": rel.to_string_lossy(),
                    "data": base64::engine::general_purpose::STANDARD.encode(bytes),
                }));
            }
        }
    }
    templates.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    Some(serde_json::json!({
        "metadata": meta,
        "lock": null,
        "templates": templates,
        "values": values,
        "schema": null,
        "files": [],
    }))
}

/// Plan an upgrade of a release in the cluster: from-side = the baseline revision's manifest from
/// the release records (chart and user values from the record), to-side = CHART rendered as
/// `helm upgrade` renders against this cluster (`lookup`, the server's `.Capabilities`, the
/// release's next revision; see `live::ClusterRender`). The saved plan carries the base revision
/// and the live objects' versions; live drift of the deployed objects becomes plan warnings.
pub async fn plan_against_cluster(cluster: &Cluster, input: &ClusterPlanInput) -> anyhow::Result<SavedPlan> {
    let ns = input.namespace.as_str();
    let deployed = live::deployed_side(cluster, &input.release, ns).await?;
    let ctx = live::ClusterRender::new(cluster, &deployed).await?;
    let (new, hooks) = live::render_side(ctx, &input.chart, &input.values, &input.release, ns)
        .await
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("rendering {}", input.chart.display()))?;
    let mut opts = PlanOptions {
        release: input.release.clone(),
        namespace: ns.to_string(),
        diff: input.diff.clone(),
        allow_unlisted: input.allow_unlisted,
        carry_volumes: input.carry_volumes,
        ..Default::default()
    };
    // The cluster's own storage classes, unless the user said otherwise.
    for sc in cluster.list("storage.k8s.io/v1", "StorageClass", "", None).await? {
        let name = sc.pointer("/metadata/name").and_then(|v| v.as_str()).unwrap_or("");
        let policy = sc.get("reclaimPolicy").and_then(|v| v.as_str()).unwrap_or("Delete");
        if name.is_empty() {
            continue;
        }
        let _ = opts.reclaim.add_spec(&format!("{name}={policy}"));
        let default = sc
            .pointer("/metadata/annotations/storageclass.kubernetes.io~1is-default-class")
            .and_then(|v| v.as_str())
            == Some("true");
        if default {
            let _ = opts.reclaim.add_spec(&format!("default={policy}"));
        }
    }
    for s in &input.storage_classes {
        opts.reclaim.add_spec(s).map_err(anyhow::Error::msg)?;
    }
    let matrix = match &input.matrix {
        Some(path) => Some(crate::matrix::load(path).map_err(|e| anyhow::anyhow!("{e}"))?),
        None => None,
    };
    let mut p = plan::build(&deployed.side, &new, matrix.as_ref(), &opts);
    p.base_revision = deployed.base_revision;
    p.warnings.extend(live::drift(cluster, &deployed.side.objects).await?);
    let mut saved = SavedPlan::new(p, &deployed.side, &new).map_err(anyhow::Error::msg)?;
    // The plan's sides hold the release manifest (hooks excluded, as Helm diffs); the executor
    // runs the hooks it finds among the saved documents, so they travel with the plan and are
    // covered by its fingerprint.
    saved.manifests.to.extend(hooks);
    saved.config = new.user_values.clone();
    saved.chart = chart_record(&input.chart);
    let versions = live::live_versions(cluster, &[&deployed.side.objects, &new.objects]).await?;
    Ok(saved.with_live_versions(versions))
}

/// Where the cluster is, as kubectl and helm take it.
#[derive(Debug, Clone, clap::Args)]
pub struct KubeArgs {
    /// Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)
    #[arg(long, value_name = "FILE", global = true)]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use
    #[arg(long = "kube-context", value_name = "NAME", global = true)]
    pub kube_context: Option<String>,
}

impl KubeArgs {
    pub async fn connect(&self, namespace: Option<&str>) -> anyhow::Result<Cluster> {
        Ok(Cluster::connect(self.kubeconfig.as_deref(), self.kube_context.as_deref(), namespace).await?)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// Options shared by everything that executes (apply, rollback).
#[derive(Debug, Clone, clap::Args)]
pub struct ExecArgs {
    /// Go ahead although the plan says a volume's data will be lost
    #[arg(long)]
    pub accept_data_loss: bool,
    /// On failure, roll back to the last deployed revision (ordered, pod by pod)
    #[arg(long)]
    pub atomic: bool,
    /// Keep at most this many revisions (0: unlimited); the last deployed one is never pruned
    #[arg(long, default_value_t = 10, value_name = "N", env = "HELM_MAX_HISTORY")]
    pub history_max: usize,
    /// How long each component, hook or migration may take to become healthy (e.g. 90s, 5m)
    #[arg(long, default_value = "5m", value_parser = parse_duration, value_name = "DURATION")]
    pub timeout: Duration,
    /// Command run with `sh -c` as the backup the matrix requires before an upgrade
    #[arg(long, value_name = "CMD")]
    pub backup_command: Option<String>,
    /// Command run (`sh -c`, script path in $MIGRATION_FILE) in the component's image for each
    /// migration, when the chart's workload does not say how (annotation chartup.io/migration-command)
    #[arg(long, value_name = "CMD")]
    pub migration_command: Option<String>,
    /// Progress output: lines for people, or JSON events (one per line) for CI
    #[arg(short = 'o', long, value_enum, default_value = "text")]
    pub output: Format,
}

impl ExecArgs {
    pub fn options(&self) -> ApplyOptions {
        ApplyOptions {
            accept_data_loss: self.accept_data_loss,
            atomic: self.atomic,
            history_max: self.history_max,
            timeout: self.timeout,
            backup_command: self.backup_command.clone(),
            migration_command: self.migration_command.clone(),
            ..Default::default()
        }
    }
}

/// `90s`, `5m`, `1h`, `1m30s` or plain seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    crate::matrix::parse_duration(s)
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  chartup plan pravega charts/streamstore/0.6.0 -n pravega --matrix matrices/streamstore.yaml --out plan.json\n  chartup apply plan.json\n  chartup apply plan.json --atomic -o json\n  chartup apply pravega charts/streamstore/0.6.0 -n pravega --matrix matrices/streamstore.yaml --yes"
)]
pub struct Args {
    /// PLAN.json (saved by `chartup plan --out`), or RELEASE CHART to plan against the cluster and apply
    #[arg(num_args = 1..=2, value_name = "PLAN | RELEASE CHART")]
    pub args: Vec<String>,
    /// Namespace of the release (RELEASE CHART form; a saved plan names its own)
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    /// Values for the RELEASE CHART form
    #[command(flatten)]
    pub values: super::plan::ValuesArgs,
    /// Compatibility matrix to check the upgrade against (RELEASE CHART form)
    #[arg(long, value_name = "FILE")]
    pub matrix: Option<PathBuf>,
    /// Reclaim policy of a storage class: NAME=Retain|Delete (default: read from the cluster)
    #[arg(long = "storage-class", value_name = "NAME=POLICY")]
    pub storage_class: Vec<String>,
    /// Plan upgrades to versions the matrix does not list
    #[arg(long)]
    pub allow_unlisted: bool,
    /// Move volumes whose claim name changes to the new claim (RELEASE CHART form; with a saved
    /// plan: check that it was planned with --carry-volumes)
    #[arg(long)]
    pub carry_volumes: bool,
    /// Refuse a saved plan whose fingerprint is not this one (the value the reviewed plan output showed)
    #[arg(long, value_name = "sha256:HEX")]
    pub fingerprint: Option<String>,
    /// Refuse a saved plan not signed with this Ed25519 public key (SPKI PEM file, or the PEM itself)
    #[arg(long, value_name = "FILE", env = "CHARTUP_VERIFY_KEY", hide_env_values = true)]
    pub verify_key: Option<String>,
    /// Apply without asking (required when stdin is not a terminal)
    #[arg(short = 'y', long)]
    pub yes: bool,
    #[command(flatten)]
    pub exec: ExecArgs,
    #[command(flatten)]
    pub kube: KubeArgs,
}

/// Prints progress as lines (text) or JSON events.
pub fn progress_printer(p: &mut Printer, format: Format) -> impl FnMut(Progress) + '_ {
    move |ev: Progress| {
        let line = match format {
            Format::Json => serde_json::to_string(&ev).unwrap_or_default(),
            Format::Text => match &ev {
                Progress::Step { step } => format!("==> {step}"),
                Progress::Component {
                    component,
                    updated,
                    desired,
                    ready,
                    elapsed_ms,
                } => {
                    format!(
                        "    {component:<14} {updated}/{desired} updated  {ready} ready  ({:.1}s)",
                        *elapsed_ms as f64 / 1000.0
                    )
                }
                Progress::PodReplaced {
                    component,
                    pod,
                    elapsed_ms,
                } => {
                    format!(
                        "    {component:<14} pod {pod} replaced and Ready ({:.1}s)",
                        *elapsed_ms as f64 / 1000.0
                    )
                }
                Progress::Warning { message } => format!("warning: {message}"),
                Progress::Done { step, elapsed_ms } => {
                    format!("    done: {step} ({:.1}s)", *elapsed_ms as f64 / 1000.0)
                }
            },
        };
        let _ = p.out(&(line + "\n"));
    }
}

pub fn run(args: Args, p: &mut Printer) -> anyhow::Result<ExitStatus> {
    match args.args.as_slice() {
        [plan] => run_saved(&args, Path::new(plan), p),
        [release, chart] => run_chart(&args, release, Path::new(chart), p),
        _ => bail!("expected PLAN.json, or RELEASE CHART"),
    }
}

fn run_saved(args: &Args, path: &Path, p: &mut Printer) -> anyhow::Result<ExitStatus> {
    // Integrity first: nothing about the cluster is read for a plan that is not the reviewed one.
    let saved = plan::sign::read_plan_file(path)?;
    let verify_key = args
        .verify_key
        .as_deref()
        .map(plan::sign::read_verifying_key)
        .transpose()?;
    let trust = plan::sign::Trust {
        fingerprint: args.fingerprint.clone(),
        verify_key,
    };
    plan::sign::check(&saved, &trust, &path.display().to_string())?;
    if args.carry_volumes {
        saved
            .plan
            .check_carried()
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    }
    if let Some(ns) = &args.namespace {
        if ns != &saved.plan.release.namespace {
            bail!("the plan is for namespace {}, not {ns}", saved.plan.release.namespace);
        }
    }
    let opts = args.exec.options();
    let rt = tokio::runtime::Runtime::new()?;
    let ns = saved.plan.release.namespace.clone();
    let result = rt.block_on(async {
        let cluster = args.kube.connect(Some(&ns)).await?;
        let mut rep = progress_printer(p, args.exec.output);
        Ok::<_, anyhow::Error>(executor::apply(&cluster, &saved, &opts, &mut rep).await)
    })?;
    report_outcome(result, &saved.plan.release.name, p)
}

/// Ask on the terminal; anything but y/yes is a no.
fn confirm(p: &mut Printer, question: &str) -> anyhow::Result<bool> {
    p.note(question);
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer).context("reading the answer")?;
    Ok(matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes"))
}

fn run_chart(args: &Args, release: &str, chart: &Path, p: &mut Printer) -> anyhow::Result<ExitStatus> {
    if args.fingerprint.is_some() || args.verify_key.is_some() {
        bail!("--fingerprint and --verify-key check a saved plan: `chartup apply PLAN.json`");
    }
    if !args.yes && !std::io::stdin().is_terminal() {
        bail!("not asking for confirmation without a terminal: review the plan and pass --yes (or save it with `chartup plan --out` and apply the file)");
    }
    let opts = args.exec.options();
    let rt = tokio::runtime::Runtime::new()?;
    let result = rt.block_on(async {
        let cluster = args.kube.connect(args.namespace.as_deref()).await?;
        let ns = cluster.namespace().to_string();
        let input = ClusterPlanInput {
            release: release.to_string(),
            namespace: ns,
            chart: chart.to_path_buf(),
            values: args.values.input(&[]),
            matrix: args.matrix.clone(),
            storage_classes: args.storage_class.clone(),
            allow_unlisted: args.allow_unlisted,
            carry_volumes: args.carry_volumes,
            diff: DiffOptions::default(),
        };
        let saved = plan_against_cluster(&cluster, &input).await?;
        let shown = match args.exec.output {
            Format::Json => serde_json::to_string(&serde_json::json!({"event": "plan", "plan": &saved.plan}))? + "\n",
            Format::Text => plan::text::render(&saved.plan, std::io::stdout().is_terminal()),
        };
        p.out(&shown)?;
        if saved.plan.refused() {
            // The executor refuses too, with every reason; say it before asking anything.
            return Ok(Err(ApplyError::Refused(saved.plan.refusals.clone())));
        }
        if !args.yes && !confirm(p, &format!("Apply this plan to release {release}? [y/N]"))? {
            bail!("not applied");
        }
        let mut rep = progress_printer(p, args.exec.output);
        Ok::<_, anyhow::Error>(executor::apply(&cluster, &saved, &opts, &mut rep).await)
    })?;
    report_outcome(result, release, p)
}

/// Print the end of an apply or rollback and pick the exit status.
pub fn report_outcome(result: Result<u32, ApplyError>, release: &str, p: &mut Printer) -> anyhow::Result<ExitStatus> {
    match result {
        Ok(rev) => {
            p.out(&format!("Release {release} is at revision {rev}: deployed\n"))?;
            Ok(ExitStatus::Success)
        }
        Err(ApplyError::Failed {
            revision,
            message,
            rollback,
        }) => {
            p.error(&format!("revision {revision} of {release} failed: {message}"));
            match rollback {
                Some(Ok(r)) => {
                    p.note(&format!(
                        "rolled back (--atomic): release {release} is at revision {r}, deployed"
                    ));
                    Ok(ExitStatus::Failure(1))
                }
                Some(Err(e)) => {
                    p.error(&format!("the rollback failed too: {e}"));
                    Ok(ExitStatus::Failure(4))
                }
                None => Ok(ExitStatus::Failure(1)),
            }
        }
        Err(e) => Err(e.into()),
    }
}
