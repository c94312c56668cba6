//! `chartup list`, `chartup get …` and `chartup uninstall`: helm's everyday release commands,
//! with helm's flags and output, reading the records of the driver in use (`HELM_DRIVER`).

use std::io::IsTerminal as _;

use anyhow::bail;

use super::args::{runtime, KubeArgs};
use super::{ExitStatus, Printer};
use crate::helm_env::Driver;
use crate::ops;
use crate::release::list::{row, table, ListFilter};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TableFormat {
    Table,
    Json,
    Yaml,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// List releases across all namespaces
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// Namespace to list (default: $HELM_NAMESPACE, else the kubeconfig context's, else "default")
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    /// Show releases of every status (default: deployed and failed only)
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Show deployed releases
    #[arg(long)]
    pub deployed: bool,
    /// Show failed releases
    #[arg(long)]
    pub failed: bool,
    /// Show pending releases (pending-install, pending-upgrade, pending-rollback)
    #[arg(long)]
    pub pending: bool,
    /// Show superseded releases
    #[arg(long)]
    pub superseded: bool,
    /// Show uninstalled releases (uninstalled with --keep-history)
    #[arg(long)]
    pub uninstalled: bool,
    /// Show releases being uninstalled
    #[arg(long)]
    pub uninstalling: bool,
    /// A regular expression the release names must match
    #[arg(short = 'f', long, value_name = "REGEX")]
    pub filter: Option<String>,
    /// Label selector on the release records (e.g. status=deployed)
    #[arg(short = 'l', long, value_name = "SELECTOR")]
    pub selector: Option<String>,
    /// Sort by release date
    #[arg(short = 'd', long)]
    pub date: bool,
    /// Reverse the sort order
    #[arg(short = 'r', long)]
    pub reverse: bool,
    /// Maximum number of releases to show (0: no limit)
    #[arg(short = 'm', long, default_value_t = 256, value_name = "N")]
    pub max: usize,
    /// Skip this many releases of the sorted list
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub offset: usize,
    /// Print release names only, one per line
    #[arg(short = 'q', long)]
    pub short: bool,
    /// Output format
    #[arg(short = 'o', long, value_enum, default_value = "table")]
    pub output: TableFormat,
    #[command(flatten)]
    pub kube: KubeArgs,
}

pub fn list(a: ListArgs, p: &mut Printer) -> anyhow::Result<ExitStatus> {
    let driver = Driver::from_env().map_err(anyhow::Error::msg)?;
    let filter = ListFilter {
        all: a.all,
        deployed: a.deployed,
        failed: a.failed,
        pending: a.pending,
        superseded: a.superseded,
        uninstalled: a.uninstalled,
        uninstalling: a.uninstalling,
        filter: a.filter.clone(),
        by_date: a.date,
        reverse: a.reverse,
        max: a.max,
        offset: a.offset,
    };
    let rels = runtime()?.block_on(async {
        let cluster = a.kube.connect(a.namespace.as_deref()).await?;
        let ns = if a.all_namespaces {
            crate::cluster::ALL_NAMESPACES.to_string()
        } else {
            cluster.namespace().to_string()
        };
        Ok::<_, anyhow::Error>(ops::list::list(cluster.as_ref(), driver, &ns, a.selector.as_deref(), &filter).await?)
    })?;
    if a.short {
        let names: String = rels.iter().map(|r| format!("{}\n", r.name)).collect();
        p.out(&names)?;
        return Ok(ExitStatus::Success);
    }
    let rows: Vec<_> = rels.iter().map(row).collect();
    match a.output {
        TableFormat::Table => p.out(&table(&rows))?,
        TableFormat::Json => p.out(&(serde_json::to_string(&rows)? + "\n"))?,
        TableFormat::Yaml => p.out(&serde_saphyr::to_string(&rows)?)?,
    }
    Ok(ExitStatus::Success)
}

/// Flags every `get` subcommand takes.
#[derive(Debug, clap::Args)]
pub struct GetArgs {
    /// The release's name
    #[arg(value_name = "RELEASE")]
    pub release: String,
    /// The revision to show (default: the newest)
    #[arg(long, value_name = "N")]
    pub revision: Option<u32>,
    /// Namespace of the release (default: $HELM_NAMESPACE, else the kubeconfig context's, else "default")
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    #[command(flatten)]
    pub kube: KubeArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ValuesFormat {
    Table,
    Json,
    Yaml,
}

#[derive(Debug, clap::Args)]
pub struct GetValuesArgs {
    #[command(flatten)]
    pub get: GetArgs,
    /// Show all values (the chart's defaults coalesced with the user's), not only the user's
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Output format
    #[arg(short = 'o', long, value_enum, default_value = "table")]
    pub output: ValuesFormat,
}

#[derive(Debug, clap::Subcommand)]
pub enum GetCommand {
    /// The user-supplied values of a revision (-a: all computed values)
    Values(GetValuesArgs),
    /// The manifest of a revision (hooks excluded)
    Manifest(GetArgs),
    /// The notes of a revision
    Notes(GetArgs),
    /// The hooks of a revision
    Hooks(GetArgs),
    /// Everything: status, values, hooks, manifest and notes
    All(GetArgs),
}

fn fetch(g: &GetArgs) -> anyhow::Result<crate::release::Release> {
    runtime()?.block_on(async {
        let cluster = g.kube.connect(g.namespace.as_deref()).await?;
        let ns = cluster.namespace().to_string();
        let store = crate::storage::select::for_release(cluster.as_ref(), &ns, &g.release)
            .await
            .map_err(anyhow::Error::msg)?;
        Ok(ops::get::revision(store.as_ref(), &g.release, g.revision).await?)
    })
}

pub fn get(c: GetCommand, p: &mut Printer) -> anyhow::Result<ExitStatus> {
    match c {
        GetCommand::Values(a) => {
            let rel = fetch(&a.get)?;
            let v = ops::get::values(&rel, a.all)?;
            let text = ops::get::format_values(&v, a.output == ValuesFormat::Json)?;
            let head = match (a.output, a.all) {
                (ValuesFormat::Table, false) => "USER-SUPPLIED VALUES:\n",
                (ValuesFormat::Table, true) => "COMPUTED VALUES:\n",
                _ => "",
            };
            p.out(&format!("{head}{text}"))?;
        }
        GetCommand::Manifest(g) => {
            let rel = fetch(&g)?;
            p.out(&format!("{}\n", rel.manifest))?;
        }
        GetCommand::Notes(g) => {
            let rel = fetch(&g)?;
            p.out(&ops::get::notes(&rel))?;
        }
        GetCommand::Hooks(g) => {
            let rel = fetch(&g)?;
            p.out(&ops::get::hooks(&rel))?;
        }
        GetCommand::All(g) => {
            let rel = fetch(&g)?;
            let mut s = format!(
                "NAME: {}\nLAST DEPLOYED: {}\nNAMESPACE: {}\nSTATUS: {}\nREVISION: {}\nCHART: {}\nVERSION: {}\nAPP_VERSION: {}\nDESCRIPTION: {}\n",
                rel.name,
                rel.info
                    .last_deployed
                    .map(|t| t.to_zoned(jiff::tz::TimeZone::system()).strftime("%a %b %e %H:%M:%S %Y").to_string())
                    .unwrap_or_default(),
                rel.namespace,
                rel.status(),
                rel.version,
                rel.chart.name(),
                rel.chart.version(),
                rel.chart.app_version(),
                rel.info.description
            );
            s.push_str("USER-SUPPLIED VALUES:\n");
            s.push_str(&ops::get::format_values(&ops::get::values(&rel, false)?, false)?);
            s.push_str("\nCOMPUTED VALUES:\n");
            s.push_str(&ops::get::format_values(&ops::get::values(&rel, true)?, false)?);
            s.push_str("\nHOOKS:\n");
            s.push_str(&ops::get::hooks(&rel));
            s.push_str(&format!("MANIFEST:\n{}\n", rel.manifest));
            s.push_str(&ops::get::notes(&rel));
            p.out(&s)?;
        }
    }
    Ok(ExitStatus::Success)
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "The plan comes first: which objects are deleted, which stay (helm.sh/resource-policy: keep), \
                        and for every claim whether its data survives (a Retain volume, a StatefulSet's claims) or \
                        is lost (a Delete volume)."
)]
pub struct UninstallArgs {
    /// The release's name
    #[arg(value_name = "RELEASE")]
    pub release: String,
    /// Namespace of the release (default: $HELM_NAMESPACE, else the kubeconfig context's, else "default")
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    /// Show the plan only; delete nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Keep the release records, the last one marked uninstalled (helm's --keep-history)
    #[arg(long)]
    pub keep_history: bool,
    /// Do not run the release's pre-delete and post-delete hooks
    #[arg(long)]
    pub no_hooks: bool,
    /// How long each delete hook may take to complete (e.g. 90s, 5m)
    #[arg(long, default_value = "5m", value_parser = crate::duration::parse, value_name = "DURATION")]
    pub timeout: std::time::Duration,
    /// Reclaim policy of a storage class: NAME=Retain|Delete (default: read from the cluster)
    #[arg(long = "storage-class", value_name = "NAME=POLICY")]
    pub storage_class: Vec<String>,
    /// Uninstall without asking (required when stdin is not a terminal)
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Output format of the plan
    #[arg(short = 'o', long, value_enum, default_value = "text")]
    pub output: UninstallFormat,
    #[command(flatten)]
    pub kube: KubeArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum UninstallFormat {
    Text,
    Json,
}

pub fn uninstall(a: UninstallArgs, p: &mut Printer) -> anyhow::Result<ExitStatus> {
    let req = ops::uninstall::UninstallRequest {
        release: a.release.clone(),
        keep_history: a.keep_history,
        no_hooks: a.no_hooks,
        storage_classes: a.storage_class.clone(),
        timeout: a.timeout,
    };
    runtime()?.block_on(async {
        let cluster = a.kube.connect(a.namespace.as_deref()).await?;
        let ns = cluster.namespace().to_string();
        let store = crate::storage::select::for_release(cluster.as_ref(), &ns, &a.release)
            .await
            .map_err(anyhow::Error::msg)?;
        let (plan, last) = ops::uninstall::plan(cluster.as_ref(), store.as_ref(), &req).await?;
        match a.output {
            UninstallFormat::Text => p.out(&plan.text())?,
            UninstallFormat::Json => p.out(&(serde_json::to_string_pretty(&plan)? + "\n"))?,
        }
        if a.dry_run {
            p.note("--dry-run: nothing was deleted");
            return Ok(ExitStatus::Success);
        }
        if !a.yes && !std::io::stdin().is_terminal() {
            bail!("not uninstalled: no terminal to confirm on — review the plan above and pass --yes");
        }
        if !a.yes {
            p.note(&format!("Uninstall release {} as planned above? [y/N]", a.release));
            let mut answer = String::new();
            std::io::stdin().read_line(&mut answer)?;
            if !matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
                bail!("not uninstalled");
            }
        }
        let format = match a.output {
            UninstallFormat::Text => super::args::ProgressFormat::Text,
            UninstallFormat::Json => super::args::ProgressFormat::Json,
        };
        {
            let mut rep = super::progress::ProgressPrinter::stdout(p, format);
            ops::uninstall::uninstall(cluster.as_ref(), store.as_ref(), &req, &plan, &last, &mut rep).await?;
        }
        p.out(&format!("release \"{}\" uninstalled\n", a.release))?;
        Ok(ExitStatus::Success)
    })
}
