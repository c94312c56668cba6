//! `chartup plan`: what an upgrade will do — objects, recreates, the fate of every volume, the
//! matrix's verdict — before anything touches a cluster. (Owned by the plan work.)
//!
//! This file only turns flags into two [`ReleaseSide`]s, [`PlanOptions`] and an optional matrix,
//! calls [`plan::build`], and prints or saves the result; everything else lives in the library.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};

use super::{ExitStatus, Printer};
use crate::analysis::Verdict;
use crate::diff::DiffOptions;
use crate::plan::source::{self, Renderer, ValuesInput};
use crate::plan::{self, saved::SavedPlan, PlanOptions, ReleaseSide};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Markdown,
}

/// The values flags `plan` and `apply` share; with a plan they apply to both sides.
#[derive(Debug, Clone, clap::Args)]
pub struct ValuesArgs {
    /// Values file (repeatable; both sides of a plan)
    #[arg(short = 'f', long = "values", value_name = "FILE")]
    pub values: Vec<PathBuf>,
    /// Set a value (repeatable; both sides of a plan)
    #[arg(long, value_name = "KEY=VAL")]
    pub set: Vec<String>,
    /// Set a string value (repeatable; both sides of a plan)
    #[arg(long, value_name = "KEY=VAL")]
    pub set_string: Vec<String>,
    /// Set a value from a file's content (repeatable; both sides of a plan)
    #[arg(long, value_name = "KEY=PATH")]
    pub set_file: Vec<String>,
    /// Set a JSON value (repeatable; both sides of a plan)
    #[arg(long, value_name = "KEY=JSON")]
    pub set_json: Vec<String>,
    /// Set a literal string value, no escaping or splitting (repeatable; both sides of a plan)
    #[arg(long, value_name = "KEY=VAL")]
    pub set_literal: Vec<String>,
}

impl ValuesArgs {
    /// The values of one rendered side: these flags, then that side's own files (`extra`).
    pub fn input(&self, extra: &[PathBuf]) -> ValuesInput {
        ValuesInput {
            files: self.values.iter().chain(extra).cloned().collect(),
            set: self.set.clone(),
            set_string: self.set_string.clone(),
            set_file: self.set_file.clone(),
            set_json: self.set_json.clone(),
            set_literal: self.set_literal.clone(),
            rules: None,
        }
    }
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
    /// Exit 0 without changes, 2 with changes, 3 with a volume at risk or lost (1 on error)
    #[arg(long)]
    pub detailed_exitcode: bool,
    #[command(flatten)]
    pub kube: super::apply::KubeArgs,
}

/// `chartup plan RELEASE CHART -n NS`: plan against the cluster (see `super::apply::plan_against_cluster`).
fn run_against_cluster(args: &Args, release: String, chart: PathBuf, p: &mut Printer) -> anyhow::Result<ExitStatus> {
    let input = super::apply::ClusterPlanInput {
        release,
        namespace: args.namespace.clone(),
        chart,
        values: args.values.input(&args.to_values),
        matrix: args.matrix.clone(),
        storage_classes: args.storage_class.clone(),
        allow_unlisted: args.allow_unlisted,
        carry_volumes: args.carry_volumes,
        diff: DiffOptions {
            context: args.context,
            show_secrets: args.show_secrets,
        },
    };
    let rt = tokio::runtime::Runtime::new()?;
    let saved = rt
        .block_on(async {
            let cluster = args.kube.connect(Some(&args.namespace)).await?;
            super::apply::plan_against_cluster(&cluster, &input).await
        })
        .with_context(|| {
            format!(
                "planning against the cluster (`chartup plan RELEASE CHART -n NS`) reads the deployed revision from \
                 the release records; to plan offline instead: `helm get manifest {rel} -n {ns} > deployed.yaml` and \
                 add `--from-manifest deployed.yaml`, or give the deployed chart with --from",
                rel = input.release,
                ns = args.namespace
            )
        })?;
    let plan = &saved.plan;
    let out = match args.output {
        Format::Text => plan::text::render(plan, true),
        Format::Json => serde_json::to_string_pretty(plan)? + "\n",
        Format::Markdown => plan::markdown::render(plan).map_err(anyhow::Error::msg)?,
    };
    p.out(&out)?;
    if plan.refused() {
        bail!("upgrade refused: {}", plan.refusals.join("; "));
    }
    if let Some(path) = &args.out {
        std::fs::write(path, saved.to_json()).with_context(|| format!("writing {}", path.display()))?;
        p.note(&format!("Saved the plan to {} ({})", path.display(), saved.fingerprint));
    }
    Ok(exit_status(plan, args.detailed_exitcode))
}

/// The renderer the plan uses for charts: chartup's own.
pub fn renderer() -> anyhow::Result<Box<dyn Renderer>> {
    Ok(Box::new(source::Native))
}

fn read(path: &Path) -> anyhow::Result<String> {
    if path == Path::new("-") {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s).context("reading stdin")?;
        return Ok(s);
    }
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
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
        // Against the cluster: the deployed revision from the release records (apply work).
        return run_against_cluster(&args, release_arg.unwrap_or_default(), to_chart.unwrap_or_default(), p);
    }
    let release = release_arg
        .or(args.release.clone())
        .unwrap_or_else(|| "release-name".to_string());
    let ns = args.namespace.clone();

    let mut opts = PlanOptions {
        release: release.clone(),
        namespace: ns.clone(),
        diff: DiffOptions {
            context: args.context,
            show_secrets: args.show_secrets,
        },
        allow_unlisted: args.allow_unlisted,
        carry_volumes: args.carry_volumes,
        ..Default::default()
    };
    for s in &args.storage_class {
        opts.reclaim.add_spec(s).map_err(anyhow::Error::msg)?;
    }
    let values = |side: &[PathBuf]| args.values.input(side);

    // Where each side comes from; the two are independent, so they are rendered and parsed on
    // two threads (each with its own renderer: template values are not shared across threads).
    enum Src<'a> {
        Manifest(&'a Path),
        Chart(&'a Path, ValuesInput, bool),
    }
    let old_src = match (&args.from_manifest, &args.from) {
        (Some(m), _) => Src::Manifest(m),
        (None, Some(c)) => Src::Chart(c, values(&args.from_values), false),
        (None, None) => bail!("say what runs now: --from OLD_CHART or --from-manifest FILE"),
    };
    let new_src = match (&args.to_manifest, &to_chart) {
        (Some(m), _) => Src::Manifest(m),
        (None, Some(c)) => Src::Chart(c, values(&args.to_values), true),
        (None, None) => bail!("say what to upgrade to: --to CHART (or CHART)"),
    };
    let load = |src: Src| -> anyhow::Result<ReleaseSide> {
        match src {
            Src::Manifest(m) => source::side_from_manifest_text(&format!("manifest {}", m.display()), &read(m)?, &ns)
                .map_err(anyhow::Error::msg),
            Src::Chart(c, v, upgrade) => source::side_from_chart(renderer()?.as_ref(), c, &v, &release, &ns, upgrade)
                .map_err(anyhow::Error::msg)
                .with_context(|| format!("rendering {}", c.display())),
        }
    };
    let (old, new) = std::thread::scope(|s| {
        let old = s.spawn(|| load(old_src));
        let new = load(new_src);
        let old = old
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("rendering the deployed side panicked")));
        (old, new)
    });
    let (old, new): (ReleaseSide, ReleaseSide) = (old?, new?);
    let matrix = match &args.matrix {
        Some(path) => Some(crate::matrix::load(path).map_err(|e| anyhow::anyhow!("{e}"))?),
        None => None,
    };

    let plan = plan::build(&old, &new, matrix.as_ref(), &opts);
    let out = match args.output {
        Format::Text => plan::text::render(&plan, p.color()),
        Format::Json => serde_json::to_string_pretty(&plan)? + "\n",
        Format::Markdown => plan::markdown::render(&plan).map_err(anyhow::Error::msg)?,
    };
    p.out(&out)?;
    if plan.refused() {
        bail!("upgrade refused: {}", plan.refusals.join("; "));
    }
    if let Some(path) = &args.out {
        let saved = SavedPlan::new(plan.clone(), &old, &new).map_err(anyhow::Error::msg)?;
        std::fs::write(path, saved.to_json()).with_context(|| format!("writing {}", path.display()))?;
        p.note(&format!("Saved the plan to {} ({})", path.display(), saved.fingerprint));
    }
    let status = exit_status(&plan, args.detailed_exitcode);
    // The process ends right after this: freeing every parsed object of both sides one by one
    // was ≈ 2.5 % of a 1,000-object plan's instructions (benches/RESULTS.md).
    std::mem::forget((old, new, plan, out));
    Ok(status)
}

/// `--detailed-exitcode`: 0 no changes, 2 changes, 3 changes with a volume at risk or lost.
pub fn exit_status(plan: &plan::Plan, detailed: bool) -> ExitStatus {
    if !detailed || !plan.summary.has_changes() {
        ExitStatus::Success
    } else if plan.verdict > Verdict::Safe {
        ExitStatus::VolumeRisk
    } else {
        ExitStatus::Changes
    }
}
