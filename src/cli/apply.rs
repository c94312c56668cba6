//! `chartup apply`: execute a reviewed plan against the cluster — a saved one (`apply PLAN.json`),
//! or one made on the spot (`apply RELEASE CHART`), shown and confirmed first.
//!
//! Only flag handling, the question and printing live here; planning is
//! [`crate::ops::cluster_plan`], applying (with `--atomic`) [`crate::ops::apply`].

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};

use super::args::{runtime, ExecArgs, KubeArgs, ProgressFormat, UpgradeValuesArgs, ValuesArgs};
use super::{ExitStatus, Printer};
use crate::diff::DiffOptions;
use crate::executor::ApplyError;
use crate::ops::cluster_plan::{plan_against_cluster, ClusterPlanRequest};
use crate::plan;

#[derive(Debug, clap::Args)]
#[command(
    disable_version_flag = true,
    after_help = "Examples:\n  chartup plan pravega charts/streamstore/0.6.0 -n pravega --matrix matrices/streamstore.yaml \\\n      --out plan.json\n  chartup apply plan.json\n  chartup apply plan.json --atomic -o json\n  chartup apply pravega charts/streamstore/0.6.0 -n pravega --matrix matrices/streamstore.yaml \\\n      --yes"
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
    #[command(flatten)]
    pub upgrade_values: UpgradeValuesArgs,
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
    /// An install does not create the CustomResourceDefinitions of the charts' crds/ directories
    /// (helm install --skip-crds)
    #[arg(long)]
    pub skip_crds: bool,
    /// Treat two workloads as one component across a rename: OLD=NEW (RELEASE CHART form;
    /// repeatable; each side `Kind/name`, a name, a component label or a name's end after the
    /// release prefix)
    #[arg(long = "same-component", value_name = "OLD=NEW")]
    pub same_component: Vec<String>,
    /// Refuse a saved plan whose fingerprint is not this one (the value the reviewed plan output showed)
    #[arg(long, value_name = "sha256:HEX")]
    pub fingerprint: Option<String>,
    /// Refuse a saved plan not signed with this Ed25519 public key (SPKI PEM file, or the PEM itself)
    #[arg(long, value_name = "FILE", env = "CHARTUP_VERIFY_KEY", hide_env_values = true)]
    pub verify_key: Option<String>,
    /// Labels on the new revision's record, KEY=VALUE separated by commas (as helm's: merged with
    /// the newest revision's labels; KEY=null removes one; `list -l` selects on them)
    #[arg(short = 'l', long = "labels", value_name = "KEY=VALUE,…", value_parser = parse_labels)]
    pub labels: Vec<std::collections::BTreeMap<String, String>>,
    /// Apply without asking (required when stdin is not a terminal)
    #[arg(short = 'y', long)]
    pub yes: bool,
    #[command(flatten)]
    pub exec: ExecArgs,
    #[command(flatten)]
    pub snapshots: super::snapshots::SnapshotArgs,
    #[command(flatten)]
    pub kube: KubeArgs,
    /// Where the chart comes from (RELEASE CHART form): --repo, --version, credentials, TLS
    #[command(flatten)]
    pub source: super::source::SourceArgs,
}

/// `--labels a=1,b=2` as pflag's StringToString reads it (comma-separated `key=value` pairs).
fn parse_labels(s: &str) -> Result<std::collections::BTreeMap<String, String>, String> {
    s.split(',')
        .filter(|p| !p.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) => Ok((k.to_string(), v.to_string())),
            None => Err(format!("{pair} must be formatted as key=value")),
        })
        .collect()
}

/// Prints progress as lines (a live block on a colour terminal) or JSON events.
pub fn progress_printer(p: &mut Printer, format: ProgressFormat) -> super::progress::ProgressPrinter<'_> {
    super::progress::ProgressPrinter::stdout(p, format)
}

pub fn run(args: Args, p: &mut Printer) -> anyhow::Result<ExitStatus> {
    let r = match args.args.as_slice() {
        [plan] => run_saved(&args, Path::new(plan), p),
        [release, chart] => match super::source::resolve_chart(chart, &args.source, None, p) {
            Ok((chart, source)) => run_chart(&args, release, &chart, Some(source), p),
            Err(e) => Err(e),
        },
        _ => Err(anyhow::anyhow!("expected PLAN.json, or RELEASE CHART")),
    };
    // `-o json` always ends with a result event, errors included (issue #18).
    if let (Err(e), ProgressFormat::Json) = (&r, args.exec.output) {
        let release = match args.args.as_slice() {
            [release, _] => release.clone(),
            _ => String::new(),
        };
        let _ = p.out(&result_event(
            &release,
            None,
            "error",
            &crate::cluster::error_text(e.as_ref()),
        ));
    }
    r
}

/// The last line of `-o json`: `{"event":"result","release","revision","status","reason","message"}`.
/// `reason` is the leading CamelCase word of a failure message (`UpgradeFailed: …`), else `Error`.
pub fn result_event(release: &str, revision: Option<u32>, status: &str, message: &str) -> String {
    let reason = match status {
        "deployed" => "Deployed".to_string(),
        _ => message
            .split_once(':')
            .map(|(head, _)| head.trim())
            .filter(|h| {
                !h.is_empty() && h.chars().all(|c| c.is_ascii_alphanumeric()) && h.starts_with(char::is_uppercase)
            })
            .unwrap_or("Error")
            .to_string(),
    };
    serde_json::json!({
        "event": "result",
        "release": release,
        "revision": revision,
        "status": status,
        "reason": reason,
        "message": message,
    })
    .to_string()
        + "\n"
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
    saved
        .check_sources()
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
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
    let opts = crate::executor::ApplyOptions {
        labels: args
            .labels
            .iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        ..args.exec.options()
    };
    let ns = saved.plan.release.namespace.clone();
    let result = runtime()?.block_on(async {
        let cluster = args.kube.connect(Some(&ns)).await?;
        let store = crate::storage::select::for_release(cluster.as_ref(), &ns, &saved.plan.release.name)
            .await
            .map_err(anyhow::Error::msg)?;
        if args.exec.create_namespace && crate::ops::namespace::ensure(cluster.as_ref(), &ns).await? {
            p.note(&format!("Created namespace {ns}"));
        }
        crate::recovery::signal::install();
        let mut rep = progress_printer(p, args.exec.output);
        Ok::<_, anyhow::Error>(
            crate::ops::apply::apply(cluster.as_ref(), store.as_ref(), &saved, &opts, &mut rep).await,
        )
    })?;
    report_outcome(result, &saved.plan.release.name, args.exec.output, p)
}

/// Ask on the terminal; anything but y/yes is a no.
fn confirm(p: &mut Printer, question: &str) -> anyhow::Result<bool> {
    p.note(question);
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer).context("reading the answer")?;
    Ok(matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes"))
}

fn run_chart(
    args: &Args,
    release: &str,
    chart: &Path,
    source: Option<crate::source::SourceRecord>,
    p: &mut Printer,
) -> anyhow::Result<ExitStatus> {
    if args.fingerprint.is_some() || args.verify_key.is_some() {
        bail!("--fingerprint and --verify-key check a saved plan: `chartup apply PLAN.json`");
    }
    // `--version` picks the chart from a repository or registry (src/source); a local chart given
    // with it must be one the version (or constraint) accepts.
    if let Some(v) = &args.source.version {
        crate::helm_env::check_chart_version(chart, v).map_err(anyhow::Error::msg)?;
    }
    let opts = crate::executor::ApplyOptions {
        labels: args
            .labels
            .iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        ..args.exec.options()
    };
    let req = ClusterPlanRequest {
        release: release.to_string(),
        chart: chart.to_path_buf(),
        values: {
            let mut v = args.values.input(&[]);
            v.rules = Some(args.upgrade_values.rules());
            v
        },
        matrix: args.matrix.clone(),
        storage_classes: args.storage_class.clone(),
        allow_unlisted: args.allow_unlisted,
        carry_volumes: args.carry_volumes,
        same_component: args
            .same_component
            .iter()
            .map(|m| crate::analysis::identity::parse_mapping(m).map_err(anyhow::Error::msg))
            .collect::<anyhow::Result<_>>()?,
        diff: DiffOptions::default(),
        source,
        snapshot: args.snapshots.request(),
        skip_crds: args.skip_crds,
    };
    let result = runtime()?.block_on(async {
        let cluster = args.kube.connect(args.namespace.as_deref()).await?;
        let ns = cluster.namespace().to_string();
        let store = crate::storage::select::for_release(cluster.as_ref(), &ns, release)
            .await
            .map_err(anyhow::Error::msg)?;
        let saved = plan_against_cluster(cluster.clone(), store.as_ref(), &req).await?;
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
        if !args.yes && !std::io::stdin().is_terminal() {
            // The plan is shown above, so the refusal comes with what would have happened.
            bail!(
                "not applied: no terminal to confirm on — review the plan above and pass --yes (or save it with \
                 `chartup plan --out PLAN` and `chartup apply PLAN`)"
            );
        }
        if !args.yes && !confirm(p, &format!("Apply this plan to release {release}? [y/N]"))? {
            bail!("not applied");
        }
        if args.exec.create_namespace && crate::ops::namespace::ensure(cluster.as_ref(), &ns).await? {
            p.note(&format!("Created namespace {ns}"));
        }
        crate::recovery::signal::install();
        let mut rep = progress_printer(p, args.exec.output);
        Ok::<_, anyhow::Error>(
            crate::ops::apply::apply(cluster.as_ref(), store.as_ref(), &saved, &opts, &mut rep).await,
        )
    })?;
    report_outcome(result, release, args.exec.output, p)
}

/// Print the end of an apply or rollback and pick the exit status.
pub fn report_outcome(
    result: Result<u32, ApplyError>,
    release: &str,
    format: ProgressFormat,
    p: &mut Printer,
) -> anyhow::Result<ExitStatus> {
    // Stopped by SIGINT/SIGTERM: the shell's status for the signal (130, 143), whatever followed.
    let signal = crate::recovery::signal::interrupted_by().filter(|_| result.is_err());
    let status = report(result, release, format, p)?;
    Ok(match signal {
        Some(sig) => ExitStatus::Failure((128 + sig) as u8),
        None => status,
    })
}

fn report(
    result: Result<u32, ApplyError>,
    release: &str,
    format: ProgressFormat,
    p: &mut Printer,
) -> anyhow::Result<ExitStatus> {
    if format == ProgressFormat::Json {
        match &result {
            Ok(rev) => p.out(&result_event(
                release,
                Some(*rev),
                "deployed",
                &format!("release {release} is at revision {rev}"),
            ))?,
            Err(ApplyError::Failed {
                revision,
                message,
                rollback,
                uninstalled,
            }) => {
                let after = match (rollback, uninstalled) {
                    (Some(Ok(r)), _) => format!(" (rolled back with --atomic to revision {r})"),
                    (Some(Err(e)), _) => format!(" (the rollback failed too: {e})"),
                    (None, Some(Ok(()))) => " (the failed install was uninstalled: --atomic)".to_string(),
                    (None, Some(Err(e))) => format!(" (uninstalling the failed install failed too: {e})"),
                    (None, None) => String::new(),
                };
                p.out(&result_event(
                    release,
                    Some(*revision),
                    "failed",
                    &format!("{message}{after}"),
                ))?
            }
            // Other errors come back to `run`, which ends with their event.
            Err(_) => {}
        }
    }
    match result {
        Ok(rev) => {
            p.out(&format!("Release {release} is at revision {rev}: deployed\n"))?;
            Ok(ExitStatus::Success)
        }
        Err(ApplyError::Failed {
            revision,
            message,
            rollback,
            uninstalled,
        }) => {
            p.error(&format!("revision {revision} of {release} failed: {message}"));
            // A failed install with --atomic: uninstalled, as helm's install does.
            match uninstalled {
                Some(Ok(())) => {
                    p.note(&format!(
                        "release {release} failed, and has been uninstalled due to --atomic (its records and objects \
                         are gone; claims made from StatefulSet templates stay)"
                    ));
                    return Ok(ExitStatus::Failure(1));
                }
                // Refused (objects that existed before the install): uninstalling would delete them.
                Some(Err(e)) if e.starts_with("not uninstalled:") => {
                    p.error(&format!("the failed install was left in place (--atomic): {e}"));
                    return Ok(ExitStatus::Failure(4));
                }
                Some(Err(e)) => {
                    p.error(&format!(
                        "uninstalling the failed install (--atomic) failed too: {e}\n  run `chartup uninstall {release}` \
                         once the cause is fixed"
                    ));
                    return Ok(ExitStatus::Failure(4));
                }
                None => {}
            }
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
