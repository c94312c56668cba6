//! `chartup plan`: what an upgrade will do — objects, recreates, the fate of every volume, the
//! matrix's verdict — before anything touches a cluster.
//!
//! This file only turns flags into an operation's request ([`crate::ops::plan`] offline,
//! [`crate::ops::cluster_plan`] against a cluster), calls it, and prints or saves the result.

use std::path::PathBuf;

use anyhow::{bail, Context as _};

use super::args::{runtime, KubeArgs, UpgradeValuesArgs, ValuesArgs};
use super::{ExitStatus, Printer};
use crate::analysis::Verdict;
use crate::diff::DiffOptions;
use crate::ops::cluster_plan::{plan_against_cluster, ClusterPlanRequest};
use crate::ops::plan::{plan_offline, PlanRequest, SideSource};
use crate::plan::{self, saved::SavedPlan};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Markdown,
}

#[derive(Debug, clap::Args)]
#[command(
    disable_version_flag = true,
    after_help = "Examples:\n  chartup plan --from charts/fate/1.8.0 --to charts/fate/1.9.0 --matrix matrices/fate.yaml\n  helm get manifest fate -n fate > deployed.yaml\n  chartup plan fate charts/fate/1.9.0 -n fate --from-manifest deployed.yaml -o markdown"
)]
pub struct Args {
    /// RELEASE is the release's name (as in `helm upgrade RELEASE CHART`); CHART the chart
    /// directory or .tgz to upgrade to (the same as --to CHART). RELEASE CHART without --from or
    /// --from-manifest plans against the release in the cluster
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
    #[command(flatten)]
    pub upgrade_values: UpgradeValuesArgs,
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
    /// Namespace of the release (default: $HELM_NAMESPACE, else the kubeconfig context's, else
    /// "default", as helm)
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    /// Release name (when not given as RELEASE)
    #[arg(long, value_name = "NAME")]
    pub release: Option<String>,
    /// Output format
    #[arg(short = 'o', long, value_enum, default_value = "text")]
    pub output: Format,
    /// Save the plan (with manifests, digests and a fingerprint) for `chartup apply`
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Sign the saved plan with this Ed25519 private key (PKCS#8 PEM file, or the PEM itself)
    #[arg(
        long,
        value_name = "FILE",
        env = "CHARTUP_SIGN_KEY",
        hide_env_values = true,
        requires = "out"
    )]
    pub sign_key: Option<String>,
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
    /// An install does not create the CustomResourceDefinitions of the charts' crds/ directories
    /// (helm install --skip-crds)
    #[arg(long)]
    pub skip_crds: bool,
    /// Exit 0 without changes, 2 with changes, 3 with data at risk or lost, 4 when apply would
    /// refuse the plan whatever flags are passed (a multi-hop jump) (1 on error)
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Treat two workloads as one component across a rename: OLD=NEW, each side `Kind/name`, a
    /// name, a component label or a name's end after the release prefix (repeatable), for when
    /// the plan's own evidence is not enough
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
    /// Print a text plan straight to the terminal instead of through the pager ($CHARTUP_PAGER,
    /// else $PAGER, else `less -FRX`; only on a terminal, never for -o json|markdown)
    #[arg(long)]
    pub no_pager: bool,
    #[command(flatten)]
    pub snapshots: super::snapshots::SnapshotArgs,
    #[command(flatten)]
    pub kube: KubeArgs,
    /// Version constraint for the --from chart (--version is the new chart's)
    #[arg(long, value_name = "VERSION")]
    pub from_version: Option<String>,
    /// Where the charts come from: --repo, --version, --devel, credentials, TLS (helm's flags)
    #[command(flatten)]
    pub source: super::source::SourceArgs,
}

/// `chartup plan RELEASE CHART -n NS`: plan against the cluster.
fn run_against_cluster(
    args: &Args,
    release: String,
    chart: PathBuf,
    source: Option<crate::source::SourceRecord>,
    p: &mut Printer,
) -> anyhow::Result<ExitStatus> {
    let req = ClusterPlanRequest {
        release,
        chart,
        values: {
            let mut v = args.values.input(&args.to_values);
            v.rules = Some(args.upgrade_values.rules());
            v
        },
        matrix: args.matrix.clone(),
        storage_classes: args.storage_class.clone(),
        allow_unlisted: args.allow_unlisted,
        carry_volumes: args.carry_volumes,
        same_component: same_component(args)?,
        diff: DiffOptions {
            context: args.context,
            show_secrets: args.show_secrets,
            ..Default::default()
        },
        source,
        snapshot: args.snapshots.request(),
        skip_crds: args.skip_crds,
    };
    let saved = runtime()?
        .block_on(async {
            let cluster = args.kube.connect(args.namespace.as_deref()).await?;
            let ns = cluster.namespace().to_string();
            let store = crate::storage::select::for_release(cluster.as_ref(), &ns, &req.release)
                .await
                .map_err(anyhow::Error::msg)?;
            Ok::<_, anyhow::Error>(plan_against_cluster(cluster.clone(), store.as_ref(), &req).await?)
        })
        .with_context(|| {
            format!(
                "planning against the cluster (`chartup plan RELEASE CHART -n NS`) reads the deployed revision from \
                 the release records; to plan offline instead: `helm get manifest {rel} -n {ns} > deployed.yaml` and \
                 add `--from-manifest deployed.yaml`, or give the deployed chart with --from",
                rel = req.release,
                ns = args.kube.namespace(args.namespace.as_deref())
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
    // A long text plan on a terminal goes through a pager (src/cli/pager.rs), as git's output does.
    match super::pager::choose(&super::pager::PagerEnv::from_process(
        args.no_pager,
        args.output == Format::Text,
    )) {
        Some(cmd) => super::pager::page(&cmd, &out).with_context(|| format!("running the pager {cmd:?}"))?,
        None => p.out(&out)?,
    }
    if plan.refused() {
        bail!("upgrade refused: {}", plan.refusals.join("; "));
    }
    if let (Some(path), Some(saved)) = (&args.out, saved) {
        let mut saved = saved.clone();
        if let Some(spec) = &args.sign_key {
            plan::sign::sign(&mut saved, &plan::sign::read_signing_key(spec)?);
        }
        std::fs::write(path, saved.to_json()).with_context(|| format!("writing {}", path.display()))?;
        p.note(&format!("Saved the plan to {} ({})", path.display(), saved.fingerprint));
        // The value to pin with `apply --fingerprint` ends the text and Markdown (PR comment) output.
        if args.output != Format::Json {
            p.out(&plan::sign::fingerprint_footer(&saved, args.output == Format::Markdown))?;
        }
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
    // Chart references (repo/chart, oci://, URLs, --repo) become local charts plus their source.
    let (to_chart, to_source) = match (&to_chart, &args.to_manifest) {
        (Some(c), None) => {
            let (path, rec) = super::source::resolve_chart(&c.to_string_lossy(), &args.source, None, p)?;
            (Some(path), Some(rec))
        }
        _ => (to_chart, None),
    };
    let (from_chart, from_source) = match (&args.from, &args.from_manifest) {
        (Some(c), None) => {
            let from_args = super::source::SourceArgs {
                version: args.from_version.clone(),
                ..args.source.clone()
            };
            let (path, rec) = super::source::resolve_chart(&c.to_string_lossy(), &from_args, None, p)?;
            (Some(path), Some(rec))
        }
        _ => (args.from.clone(), None),
    };
    if let (Some(v), Some(c)) = (&args.source.version, &to_chart) {
        crate::helm_env::check_chart_version(c, v).map_err(anyhow::Error::msg)?;
    }
    if release_arg.is_some() && chart_arg.is_some() && args.from.is_none() && args.from_manifest.is_none() {
        // Against the cluster: the deployed revision from the release records.
        return run_against_cluster(
            &args,
            release_arg.unwrap_or_default(),
            to_chart.unwrap_or_default(),
            to_source,
            p,
        );
    }
    let from = match (&args.from_manifest, &args.from) {
        (Some(m), _) => SideSource::Manifest(m.clone()),
        (None, Some(_)) => SideSource::Chart(
            from_chart.clone().unwrap_or_default(),
            args.values.input(&args.from_values),
        ),
        (None, None) => bail!("say what runs now: --from OLD_CHART or --from-manifest FILE"),
    };
    let to = match (&args.to_manifest, &to_chart) {
        (Some(m), _) => SideSource::Manifest(m.clone()),
        (None, Some(c)) => SideSource::Chart(c.clone(), args.values.input(&args.to_values)),
        (None, None) => bail!("say what to upgrade to: --to CHART (or CHART)"),
    };
    let mut release = release_arg.or(args.release.clone());
    if release.is_none() && args.to_manifest.is_none() {
        if let Some(m) = &args.from_manifest {
            // The new side renders with the release name; a deployed manifest rendered with
            // another one would make every object look renamed (false recreates, issue #18).
            let text = std::fs::read_to_string(m).unwrap_or_default();
            release = Some(release_from_manifest(&text).ok_or_else(|| {
                anyhow::anyhow!(
                    "--from-manifest {}: give the release name (`chartup plan RELEASE CHART --from-manifest FILE` or --release NAME): the new side is rendered with it, and the manifest does not name one release (no single app.kubernetes.io/instance label)",
                    m.display()
                )
            })?);
        }
    }
    let planned = plan_offline(PlanRequest {
        release: release.unwrap_or_else(|| "release-name".to_string()),
        namespace: args.kube.namespace(args.namespace.as_deref()),
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
            ..Default::default()
        },
        from_source,
        to_source,
        snapshot: args.snapshots.request(),
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

/// The release a rendered manifest belongs to, when all its objects say the same one with the
/// `app.kubernetes.io/instance` label (Helm's chart-starter convention).
fn release_from_manifest(text: &str) -> Option<String> {
    let re = regex::Regex::new(r#"(?m)^\s+app\.kubernetes\.io/instance:\s*["']?([^"'\s]+)["']?\s*$"#).ok()?;
    let names: std::collections::BTreeSet<&str> = re
        .captures_iter(text)
        .filter_map(|c| c.get(1))
        .map(|m| m.as_str())
        .collect();
    match names.len() {
        1 => names.into_iter().next().map(str::to_string),
        _ => None,
    }
}
