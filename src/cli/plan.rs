//! `chartup plan`: what an upgrade will do — objects, recreates, the fate of every volume, the
//! matrix's verdict — before anything touches a cluster.
//!
//! This file only turns flags into an operation's request ([`crate::ops::plan`] offline,
//! [`crate::ops::cluster_plan`] against a cluster), calls it, and prints or saves the result.

use std::path::PathBuf;

use anyhow::{bail, Context as _};

use super::args::{runtime, KubeArgs, ValuesArgs};
use super::{ExitStatus, Printer};
use crate::analysis::Verdict;
use crate::diff::DiffOptions;
use crate::ops::cluster_plan::{plan_against_cluster, ClusterPlanRequest};
use crate::ops::plan::{plan_offline, PlanRequest, SideSource};
use crate::plan::{self, saved::SavedPlan};
use crate::storage::SecretStore;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Markdown,
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  chartup plan --from charts/fate/1.8.0 --to charts/fate/1.9.0 --matrix matrices/fate.yaml\n  helm get manifest fate -n fate > deployed.yaml\n  chartup plan fate charts/fate/1.9.0 -n fate --from-manifest deployed.yaml -o markdown"
)]
pub struct Args {
    /// [RELEASE] [CHART]: the release name and the chart to upgrade to (CHART = --to CHART)
    #[arg(num_args = 0..=2, value_name = "RELEASE CHART")]
    pub args: Vec<String>,
    /// The chart the release runs now (directory or .tgz)
    #[arg(long, value_name = "CHART")]
    pub from: Option<PathBuf>,
    /// The chart to upgrade to
    #[arg(long, value_name = "CHART")]
    pub to: Option<PathBuf>,
    /// The deployed manifest, as `helm get manifest` prints it, instead of --from
    #[arg(long, value_name = "FILE", conflicts_with = "from")]
    pub from_manifest: Option<PathBuf>,
    /// A rendered manifest to upgrade to, instead of --to
    #[arg(long, value_name = "FILE", conflicts_with = "to")]
    pub to_manifest: Option<PathBuf>,
    #[command(flatten)]
    pub values: ValuesArgs,
    /// Values file for the old side only (after -f)
    #[arg(long, value_name = "FILE")]
    pub from_values: Vec<PathBuf>,
    /// Values file for the new side only (after -f)
    #[arg(long, value_name = "FILE")]
    pub to_values: Vec<PathBuf>,
    /// Compatibility matrix to check the upgrade against
    #[arg(long, value_name = "FILE")]
    pub matrix: Option<PathBuf>,
    /// Reclaim policy of a storage class: NAME=Retain|Delete (`default` = claims naming no class)
    #[arg(long = "storage-class", value_name = "NAME=POLICY")]
    pub storage_class: Vec<String>,
    /// Namespace of the release
    #[arg(short = 'n', long, default_value = "default")]
    pub namespace: String,
    /// Release name (when not given as RELEASE)
    #[arg(long, value_name = "NAME")]
    pub release: Option<String>,
    /// Output format
    #[arg(short = 'o', long, value_enum, default_value = "text")]
    pub output: Format,
    /// Save the plan (with manifests, digests and a fingerprint) for `chartup apply`
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Lines of context in diffs
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub context: usize,
    /// Show Secret values in diffs
    #[arg(long)]
    pub show_secrets: bool,
    /// Plan upgrades to versions the matrix does not list
    #[arg(long)]
    pub allow_unlisted: bool,
    /// Move volumes whose claim name changes (renamed StatefulSet, claim template or PVC,
    /// Deployment+PVC → StatefulSet) to the new claim instead of orphaning or deleting them
    #[arg(long)]
    pub carry_volumes: bool,
    /// Exit 0 without changes, 2 with changes, 3 with data at risk or lost, 4 when apply would
    /// refuse the plan whatever flags are passed (a multi-hop jump) (1 on error)
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Treat two workloads as one component across a rename: OLD=NEW, each `Kind/name` or `name`
    /// (repeatable), for when the plan's own evidence is not enough
    #[arg(long = "same-component", value_name = "OLD=NEW")]
    pub same_component: Vec<String>,
    /// Text output: decisions, volumes and images only (no diffs, no reasons for safe volumes)
    #[arg(long)]
    pub compact: bool,
    /// Text output: leave out the per-object diffs
    #[arg(long)]
    pub no_diff: bool,
    /// Show changes that only rewrite the helm.sh/chart and app.kubernetes.io/version labels
    #[arg(long)]
    pub show_label_churn: bool,
    #[command(flatten)]
    pub kube: KubeArgs,
}

/// `chartup plan RELEASE CHART -n NS`: plan against the cluster.
fn run_against_cluster(args: &Args, release: String, chart: PathBuf, p: &mut Printer) -> anyhow::Result<ExitStatus> {
    let req = ClusterPlanRequest {
        release,
        chart,
        values: args.values.input(&args.to_values),
        matrix: args.matrix.clone(),
        storage_classes: args.storage_class.clone(),
        allow_unlisted: args.allow_unlisted,
        carry_volumes: args.carry_volumes,
        same_component: same_component(args)?,
        diff: DiffOptions {
            context: args.context,
            show_secrets: args.show_secrets,
        },
    };
    let saved = runtime()?
        .block_on(async {
            let cluster = args.kube.connect(Some(&args.namespace)).await?;
            let store = SecretStore::new(cluster.as_ref(), &args.namespace);
            Ok::<_, anyhow::Error>(plan_against_cluster(cluster.clone(), &store, &req).await?)
        })
        .with_context(|| {
            format!(
                "planning against the cluster (`chartup plan RELEASE CHART -n NS`) reads the deployed revision from \
                 the release records; to plan offline instead: `helm get manifest {rel} -n {ns} > deployed.yaml` and \
                 add `--from-manifest deployed.yaml`, or give the deployed chart with --from",
                rel = req.release,
                ns = args.namespace
            )
        })?;
    show(args, &saved.plan, Some(&saved), true, p)?;
    Ok(exit_status(&saved.plan, args.detailed_exitcode))
}

/// Print the plan; refuse; save it (`--out`) when it is not refused.
fn show(
    args: &Args,
    plan: &plan::Plan,
    saved: Option<&SavedPlan>,
    color: bool,
    p: &mut Printer,
) -> anyhow::Result<String> {
    let out = match args.output {
        Format::Text => plan::text::render_with(plan, color, text_options(args)),
        Format::Json => serde_json::to_string_pretty(plan)? + "\n",
        Format::Markdown => plan::markdown::render(plan).map_err(anyhow::Error::msg)?,
    };
    p.out(&out)?;
    if plan.refused() {
        bail!("upgrade refused: {}", plan.refusals.join("; "));
    }
    if let (Some(path), Some(saved)) = (&args.out, saved) {
        std::fs::write(path, saved.to_json()).with_context(|| format!("writing {}", path.display()))?;
        p.note(&format!("Saved the plan to {} ({})", path.display(), saved.fingerprint));
    }
    Ok(out)
}

pub fn run(args: Args, p: &mut Printer) -> anyhow::Result<ExitStatus> {
    let (release_arg, chart_arg) = match args.args.as_slice() {
        [] => (None, None),
        // With --to the one word is the release name (`chartup plan fate --from A --to B`).
        [rel] if args.to.is_some() || args.to_manifest.is_some() => (Some(rel.clone()), None),
        [chart] => (None, Some(PathBuf::from(chart))),
        [rel, chart] => (Some(rel.clone()), Some(PathBuf::from(chart))),
        _ => bail!("expected at most RELEASE CHART"),
    };
    if chart_arg.is_some() && (args.to.is_some() || args.to_manifest.is_some()) {
        bail!("give the new chart either as CHART or with --to, not both");
    }
    let to_chart = args.to.clone().or(chart_arg.clone());
    if release_arg.is_some() && chart_arg.is_some() && args.from.is_none() && args.from_manifest.is_none() {
        // Against the cluster: the deployed revision from the release records.
        return run_against_cluster(&args, release_arg.unwrap_or_default(), to_chart.unwrap_or_default(), p);
    }
    let from = match (&args.from_manifest, &args.from) {
        (Some(m), _) => SideSource::Manifest(m.clone()),
        (None, Some(c)) => SideSource::Chart(c.clone(), args.values.input(&args.from_values)),
        (None, None) => bail!("say what runs now: --from OLD_CHART or --from-manifest FILE"),
    };
    let to = match (&args.to_manifest, &to_chart) {
        (Some(m), _) => SideSource::Manifest(m.clone()),
        (None, Some(c)) => SideSource::Chart(c.clone(), args.values.input(&args.to_values)),
        (None, None) => bail!("say what to upgrade to: --to CHART (or CHART)"),
    };
    let planned = plan_offline(PlanRequest {
        release: release_arg
            .or(args.release.clone())
            .unwrap_or_else(|| "release-name".to_string()),
        namespace: args.namespace.clone(),
        from,
        to,
        matrix: args.matrix.clone(),
        storage_classes: args.storage_class.clone(),
        allow_unlisted: args.allow_unlisted,
        carry_volumes: args.carry_volumes,
        same_component: same_component(&args)?,
        diff: DiffOptions {
            context: args.context,
            show_secrets: args.show_secrets,
        },
    })?;
    let saved = match &args.out {
        Some(_) if !planned.plan.refused() => Some(planned.saved()?),
        _ => None,
    };
    let out = show(&args, &planned.plan, saved.as_ref(), p.color(), p)?;
    let status = exit_status(&planned.plan, args.detailed_exitcode);
    // The process ends right after this: freeing every parsed object of both sides one by one
    // was ≈ 2.5 % of a 1,000-object plan's instructions (benches/RESULTS.md).
    std::mem::forget((planned, saved, out));
    Ok(status)
}

fn same_component(args: &Args) -> anyhow::Result<Vec<(String, String)>> {
    args.same_component
        .iter()
        .map(|m| crate::analysis::identity::parse_mapping(m).map_err(anyhow::Error::msg))
        .collect()
}

fn text_options(args: &Args) -> plan::text::TextOptions {
    plan::text::TextOptions {
        compact: args.compact,
        no_diff: args.no_diff,
        show_label_churn: args.show_label_churn,
    }
}

/// `--detailed-exitcode`: 0 no changes, 2 changes, 3 changes with data at risk or lost, 4 a plan
/// apply would refuse whatever flags are passed.
pub fn exit_status(plan: &plan::Plan, detailed: bool) -> ExitStatus {
    if !detailed || !plan.summary.has_changes() {
        ExitStatus::Success
    } else if plan.apply_refuses() {
        ExitStatus::ApplyRefuses
    } else if plan.verdict > Verdict::Safe {
        ExitStatus::VolumeRisk
    } else {
        ExitStatus::Changes
    }
}
