//! `chartup status`, `history`, `rollback`, `recover`: release records, read and written exactly as
//! Helm keeps them, so `helm history` and `chartup history` show the same revisions.

use anyhow::bail;
use serde::Serialize;
use serde_json::json;

use super::apply::{progress_printer, report_outcome, ExecArgs, KubeArgs};
use super::{ExitStatus, Printer};
use crate::cluster::store::SecretStore;
use crate::executor::health::{pod_health, unready_detail, PodHealth};
use crate::executor::{self, run::journal_lines};
use crate::release::{Release, Status};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Yaml,
}

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    pub release: String,
    /// Namespace of the release
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    /// Output format
    #[arg(short = 'o', long, value_enum, default_value = "table")]
    pub output: Format,
    #[command(flatten)]
    pub kube: KubeArgs,
}

#[derive(Debug, clap::Args)]
pub struct HistoryArgs {
    pub release: String,
    /// Namespace of the release
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    /// Maximum number of revisions to show
    #[arg(long, default_value_t = 256)]
    pub max: usize,
    /// Output format
    #[arg(short = 'o', long, value_enum, default_value = "table")]
    pub output: Format,
    #[command(flatten)]
    pub kube: KubeArgs,
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Rollback restores manifests, not data: volumes stay as they are. The database schema is rolled back only by\nthe down scripts the matrix gave the migrations the release ran (recorded with each revision); the rollback\nsays which run, and which migrations stay applied."
)]
pub struct RollbackArgs {
    pub release: String,
    /// The revision to roll back to (default: the previous deployed one)
    pub revision: Option<u32>,
    /// Namespace of the release
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    #[command(flatten)]
    pub exec: ExecArgs,
    #[command(flatten)]
    pub kube: KubeArgs,
}

#[derive(Debug, clap::Args)]
pub struct RecoverArgs {
    pub release: String,
    /// Namespace of the release
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    #[command(flatten)]
    pub kube: KubeArgs,
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Runtime::new()?)
}

/// Go's `time.ANSIC` in local time, as `helm history` prints UPDATED.
fn ansic(t: Option<jiff::Timestamp>) -> String {
    match t {
        Some(ts) => ts
            .to_zoned(jiff::tz::TimeZone::system())
            .strftime("%a %b %e %H:%M:%S %Y")
            .to_string(),
        None => String::new(),
    }
}

#[derive(Serialize)]
struct HistoryRow {
    revision: u32,
    updated: String,
    status: String,
    chart: String,
    app_version: String,
    description: String,
}

fn row(r: &Release) -> HistoryRow {
    HistoryRow {
        revision: r.version,
        updated: r.info.last_deployed.map(|t| t.to_string()).unwrap_or_default(),
        status: r.status().to_string(),
        chart: r.chart_label(),
        app_version: r.chart.app_version().to_string(),
        description: r.info.description.clone(),
    }
}

/// Columns padded like helm's table (tab after each padded column but the last).
fn table(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for r in rows {
        let cells: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(i, s)| format!("{s:<w$}", w = widths[i]))
            .collect();
        out.push_str(cells.join("\t").trim_end());
        out.push('\n');
    }
    out
}

pub fn history(a: HistoryArgs, p: &mut Printer) -> anyhow::Result<ExitStatus> {
    let rt = runtime()?;
    let h = rt.block_on(async {
        let cluster = a.kube.connect(a.namespace.as_deref()).await?;
        let ns = cluster.namespace().to_string();
        Ok::<_, anyhow::Error>(SecretStore::new(&cluster, &ns).history(&a.release).await?)
    })?;
    if h.revisions.is_empty() {
        bail!("release: not found");
    }
    let skip = h.revisions.len().saturating_sub(a.max);
    let shown = &h.revisions[skip..];
    match a.output {
        Format::Json => p.out(&(serde_json::to_string(&shown.iter().map(row).collect::<Vec<_>>())? + "\n"))?,
        Format::Yaml => p.out(&serde_saphyr::to_string(&shown.iter().map(row).collect::<Vec<_>>())?)?,
        Format::Table => {
            let mut rows = vec![["REVISION", "UPDATED", "STATUS", "CHART", "APP VERSION", "DESCRIPTION"]
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()];
            for r in shown {
                rows.push(vec![
                    r.version.to_string(),
                    ansic(r.info.last_deployed),
                    r.status().to_string(),
                    r.chart_label(),
                    r.chart.app_version().to_string(),
                    r.info.description.clone(),
                ]);
            }
            p.out(&table(&rows))?;
        }
    }
    Ok(ExitStatus::Success)
}

pub fn status(a: StatusArgs, p: &mut Printer) -> anyhow::Result<ExitStatus> {
    let rt = runtime()?;
    let (h, pods) = rt.block_on(async {
        let cluster = a.kube.connect(a.namespace.as_deref()).await?;
        let ns = cluster.namespace().to_string();
        let h = SecretStore::new(&cluster, &ns).history(&a.release).await?;
        let pods = cluster
            .list(
                "v1",
                "Pod",
                &ns,
                Some(&format!("app.kubernetes.io/instance={}", a.release)),
            )
            .await?;
        Ok::<_, anyhow::Error>((h, pods))
    })?;
    let Some(last) = h.last() else {
        bail!("release: not found")
    };
    let deployed = h.deployed();
    let mut ready = Vec::new();
    let mut unready = Vec::new();
    for pod in &pods {
        let name = pod
            .pointer("/metadata/name")
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string();
        match pod_health(pod) {
            PodHealth::Ready | PodHealth::Succeeded => ready.push(name),
            PodHealth::Broken { reason, .. } => unready.push(format!("{name} ({reason})")),
            PodHealth::Progressing { reason } => {
                // The kubelet's reason when it says one (ContainersNotReady, ContainerCreating…).
                let why = unready_detail(pod).map(|d| d.1).unwrap_or(reason);
                unready.push(format!("{name} ({why})"))
            }
            PodHealth::Failed { reason, .. } => unready.push(format!("{name} (Failed {reason})")),
            PodHealth::Terminating => unready.push(format!("{name} (Terminating)")),
        }
    }
    let mut conditions = Vec::new();
    match last.status() {
        Status::PendingUpgrade | Status::PendingInstall => {
            conditions.push(json!({"type": "Upgrading", "status": "True"}))
        }
        Status::PendingRollback => conditions.push(json!({"type": "RollbackInProgress", "status": "True"})),
        Status::Failed => {
            let reason = if last.info.description.starts_with("RollbackFailed") {
                "RollbackFailed"
            } else {
                "UpgradeFailed"
            };
            conditions
                .push(json!({"type": "Error", "status": "True", "reason": reason, "message": last.info.description}));
        }
        _ => {}
    }
    conditions.push(json!({"type": "PodsReady", "status": if unready.is_empty() { "True" } else { "False" }}));
    let version = |r: Option<&Release>| r.map(|r| r.chart.version().to_string()).unwrap_or_default();
    let out = json!({
        "name": a.release,
        "namespace": last.namespace,
        "revision": last.version,
        "status": last.status().as_str(),
        "currentVersion": version(deployed),
        "desiredVersion": version(Some(last)),
        "conditions": conditions,
        "members": {"ready": ready, "unready": unready},
        "lastError": if last.status() == Status::Failed { json!(last.info.description) } else { json!(null) },
        "journal": journal_lines(last),
    });
    match a.output {
        Format::Json => p.out(&(serde_json::to_string_pretty(&out)? + "\n"))?,
        Format::Yaml => p.out(&serde_saphyr::to_string(&out)?)?,
        Format::Table => {
            let mut s = format!(
                "NAME: {}\nNAMESPACE: {}\nREVISION: {}\nSTATUS: {}\nCURRENT VERSION: {}\nDESIRED VERSION: {}\n",
                a.release,
                last.namespace,
                last.version,
                last.status(),
                version(deployed),
                version(Some(last))
            );
            s.push_str("CONDITIONS:\n");
            for c in out["conditions"].as_array().into_iter().flatten() {
                s.push_str(&format!(
                    "  {}={}{}\n",
                    c["type"].as_str().unwrap_or(""),
                    c["status"].as_str().unwrap_or(""),
                    c.get("reason")
                        .and_then(|r| r.as_str())
                        .map(|r| format!(" ({r})"))
                        .unwrap_or_default()
                ));
            }
            s.push_str(&format!("MEMBERS: {} ready, {} unready\n", ready.len(), unready.len()));
            for u in &unready {
                s.push_str(&format!("  unready: {u}\n"));
            }
            if last.status() == Status::Failed {
                s.push_str(&format!("LAST ERROR: {}\n", last.info.description));
            }
            p.out(&s)?;
        }
    }
    Ok(ExitStatus::Success)
}

pub fn rollback(a: RollbackArgs, p: &mut Printer) -> anyhow::Result<ExitStatus> {
    let rt = runtime()?;
    let opts = a.exec.options();
    let release = a.release.clone();
    let result = rt.block_on(async {
        let cluster = a.kube.connect(a.namespace.as_deref()).await?;
        let ns = cluster.namespace().to_string();
        let mut rep = progress_printer(p, a.exec.output);
        Ok::<_, anyhow::Error>(executor::rollback(&cluster, &release, &ns, a.revision, &opts, &mut rep).await)
    })?;
    report_outcome(result, &release, p)
}

pub fn recover(a: RecoverArgs, p: &mut Printer) -> anyhow::Result<ExitStatus> {
    let rt = runtime()?;
    let (rel, done) = rt.block_on(async {
        let cluster = a.kube.connect(a.namespace.as_deref()).await?;
        let ns = cluster.namespace().to_string();
        Ok::<_, anyhow::Error>(executor::recover(&cluster, &a.release, &ns).await?)
    })?;
    let mut s = format!(
        "Revision {} of {} was left {}; the interrupted run had done:\n",
        rel.version, rel.name, "pending"
    );
    if done.is_empty() {
        s.push_str("  nothing recorded (it stopped before its first step)\n");
    }
    for d in &done {
        s.push_str(&format!("  {d}\n"));
    }
    let next = if rel.info.description.contains("'pending-rollback'") {
        // The schema the interrupted rollback left is in its record: down-migrations it finished
        // are not run again.
        "Run the rollback again to finish it"
    } else {
        "Run the apply again to finish the upgrade"
    };
    s.push_str(&format!(
        "The lock is released: revision {} is marked failed. {next}.\n",
        rel.version
    ));
    p.out(&s)?;
    Ok(ExitStatus::Success)
}
