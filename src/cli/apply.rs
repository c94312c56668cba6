//! `chartup apply`: execute a reviewed plan against the cluster — a saved one (`apply PLAN.json`),
//! or one made on the spot (`apply RELEASE CHART`), shown and confirmed first.
//!
//! Only flag handling, the question and printing live here; planning is
//! [`crate::ops::cluster_plan`], applying (with `--atomic`) [`crate::ops::apply`].

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};

use super::args::{runtime, ExecArgs, KubeArgs, ProgressFormat, ValuesArgs};
use super::{ExitStatus, Printer};
use crate::diff::DiffOptions;
use crate::executor::{ApplyError, Progress};
use crate::ops::cluster_plan::{plan_against_cluster, ClusterPlanRequest};
use crate::plan;
use crate::plan::saved::SavedPlan;
use crate::storage::SecretStore;

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
    pub values: ValuesArgs,
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
    /// Apply without asking (required when stdin is not a terminal)
    #[arg(short = 'y', long)]
    pub yes: bool,
    #[command(flatten)]
    pub exec: ExecArgs,
    #[command(flatten)]
    pub kube: KubeArgs,
}

/// Prints progress as lines (text) or JSON events.
pub fn progress_printer(p: &mut Printer, format: ProgressFormat) -> impl FnMut(Progress) + '_ {
    move |ev: Progress| {
        let line = match format {
            ProgressFormat::Json => serde_json::to_string(&ev).unwrap_or_default(),
            ProgressFormat::Text => match &ev {
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
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let saved = SavedPlan::from_json(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
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
    let ns = saved.plan.release.namespace.clone();
    let result = runtime()?.block_on(async {
        let cluster = args.kube.connect(Some(&ns)).await?;
        let store = SecretStore::new(cluster.as_ref(), &ns);
        crate::recovery::signal::install();
        let mut rep = progress_printer(p, args.exec.output);
        Ok::<_, anyhow::Error>(crate::ops::apply::apply(cluster.as_ref(), &store, &saved, &opts, &mut rep).await)
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
    if !args.yes && !std::io::stdin().is_terminal() {
        bail!("not asking for confirmation without a terminal: review the plan and pass --yes (or save it with `chartup plan --out` and apply the file)");
    }
    let opts = args.exec.options();
    let req = ClusterPlanRequest {
        release: release.to_string(),
        chart: chart.to_path_buf(),
        values: args.values.input(&[]),
        matrix: args.matrix.clone(),
        storage_classes: args.storage_class.clone(),
        allow_unlisted: args.allow_unlisted,
        carry_volumes: args.carry_volumes,
        same_component: vec![],
        diff: DiffOptions::default(),
    };
    let result = runtime()?.block_on(async {
        let cluster = args.kube.connect(args.namespace.as_deref()).await?;
        let store = SecretStore::new(cluster.as_ref(), cluster.namespace());
        let saved = plan_against_cluster(cluster.clone(), &store, &req).await?;
        let shown = match args.exec.output {
            ProgressFormat::Json => {
                serde_json::to_string(&serde_json::json!({"event": "plan", "plan": &saved.plan}))? + "\n"
            }
            ProgressFormat::Text => plan::text::render(&saved.plan, std::io::stdout().is_terminal()),
        };
        p.out(&shown)?;
        if saved.plan.refused() {
            // The executor refuses too, with every reason; say it before asking anything.
            return Ok(Err(ApplyError::Refused(saved.plan.refusals.clone())));
        }
        if !args.yes && !confirm(p, &format!("Apply this plan to release {release}? [y/N]"))? {
            bail!("not applied");
        }
        crate::recovery::signal::install();
        let mut rep = progress_printer(p, args.exec.output);
        Ok::<_, anyhow::Error>(crate::ops::apply::apply(cluster.as_ref(), &store, &saved, &opts, &mut rep).await)
    })?;
    report_outcome(result, release, p)
}

/// Print the end of an apply or rollback and pick the exit status.
pub fn report_outcome(result: Result<u32, ApplyError>, release: &str, p: &mut Printer) -> anyhow::Result<ExitStatus> {
    // Stopped by SIGINT/SIGTERM: the shell's status for the signal (130, 143), whatever followed.
    let signal = crate::recovery::signal::interrupted_by().filter(|_| result.is_err());
    let status = report(result, release, p)?;
    Ok(match signal {
        Some(sig) => ExitStatus::Failure((128 + sig) as u8),
        None => status,
    })
}

fn report(result: Result<u32, ApplyError>, release: &str, p: &mut Printer) -> anyhow::Result<ExitStatus> {
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
