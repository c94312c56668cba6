//! `chartup apply`: execute a reviewed plan against the cluster.
//!
//! Only flag handling and printing live here; the work is `crate::executor::apply`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;

use super::{ExitStatus, Printer};
use crate::cluster::Cluster;
use crate::executor::{self, ApplyError, ApplyOptions, Progress};
use crate::plan::saved::SavedPlan;

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
            ..Default::default()
        }
    }
}

/// `90s`, `5m`, `1h`, `1m30s` or plain seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    if let Ok(n) = s.parse::<u64>() {
        return Ok(Duration::from_secs(n));
    }
    let mut total = 0u64;
    let mut num = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let n: u64 = num.parse().map_err(|_| format!("invalid duration {s:?}"))?;
        num.clear();
        total += n * match c {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return Err(format!("invalid duration {s:?}: unknown unit {c:?}")),
        };
    }
    if !num.is_empty() {
        return Err(format!("invalid duration {s:?}: missing unit"));
    }
    Ok(Duration::from_secs(total))
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  chartup plan --from-manifest deployed.yaml --to charts/streamstore/0.2.0 --release pravega -n pravega --out plan.json\n  chartup apply plan.json\n  chartup apply plan.json --atomic -o json"
)]
pub struct Args {
    /// A plan saved by `chartup plan --out FILE`
    #[arg(value_name = "PLAN")]
    pub plan: PathBuf,
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
    let text = std::fs::read_to_string(&args.plan).with_context(|| format!("reading {}", args.plan.display()))?;
    let saved = SavedPlan::from_json(&text).map_err(|e| anyhow::anyhow!("{}: {e}", args.plan.display()))?;
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
