//! `chartup status`, `history`, `rollback`, `recover`: release records, read and written exactly as
//! Helm keeps them, so `helm history` and `chartup history` show the same revisions. The work is
//! in [`crate::ops`] (`status`, `history`, `rollback`, `recover`); this file prints.

use super::apply::{progress_printer, report_outcome};
use super::args::{runtime, ExecArgs, KubeArgs};
use super::{ExitStatus, Printer};
use crate::ops;
use crate::ops::history::HistoryRow;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Yaml,
}

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// The release's name (as in `helm status|history|rollback RELEASE`)
    #[arg(value_name = "RELEASE")]
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
    /// The release's name (as in `helm status|history|rollback RELEASE`)
    #[arg(value_name = "RELEASE")]
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
    after_help = "Rollback restores manifests, not data: volumes stay as they are. The database schema is rolled back only by the down scripts the matrix gave the migrations the release ran (recorded with each revision); the rollback says which run, and which migrations stay applied."
)]
pub struct RollbackArgs {
    /// The release's name (as in `helm status|history|rollback RELEASE`)
    #[arg(value_name = "RELEASE")]
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
    /// The release's name (as in `helm status|history|rollback RELEASE`)
    #[arg(value_name = "RELEASE")]
    pub release: String,
    /// Release the lock even if the run holding it looks alive (same host: its process runs;
    /// another host: a heartbeat in the last 30 s)
    #[arg(long)]
    pub force: bool,
    /// Namespace of the release
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    #[command(flatten)]
    pub kube: KubeArgs,
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
    let shown = runtime()?.block_on(async {
        let cluster = a.kube.connect(a.namespace.as_deref()).await?;
        let ns = cluster.namespace().to_string();
        let store = crate::storage::select::for_release(cluster.as_ref(), &ns, &a.release)
            .await
            .map_err(anyhow::Error::msg)?;
        Ok::<_, anyhow::Error>(ops::history::history(store.as_ref(), &a.release, a.max).await?)
    })?;
    match a.output {
        Format::Json => {
            p.out(&(serde_json::to_string(&shown.iter().map(HistoryRow::of).collect::<Vec<_>>())? + "\n"))?
        }
        Format::Yaml => p.out(&serde_saphyr::to_string(
            &shown.iter().map(HistoryRow::of).collect::<Vec<_>>(),
        )?)?,
        Format::Table => {
            let mut rows = vec![["REVISION", "UPDATED", "STATUS", "CHART", "APP VERSION", "DESCRIPTION"]
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()];
            for r in &shown {
                rows.push(vec![
                    r.version.to_string(),
                    ansic(r.info.last_deployed),
                    r.status().to_string(),
                    r.chart_label(),
                    r.chart.app_version().to_string(),
                    r.info.description.clone(),
                ]);
            }
            let mut out = table(&rows);
            // Acceptances after helm's table (which stays as helm prints it).
            for r in &shown {
                if let Some(a) = crate::executor::acceptance::recorded(r) {
                    out.push_str(&format!(
                        "revision {}: {}\n",
                        r.version,
                        crate::executor::acceptance::line(&a)
                    ));
                }
            }
            p.out(&out)?;
        }
    }
    Ok(ExitStatus::Success)
}

pub fn status(a: StatusArgs, p: &mut Printer) -> anyhow::Result<ExitStatus> {
    let report = runtime()?.block_on(async {
        let cluster = a.kube.connect(a.namespace.as_deref()).await?;
        let ns = cluster.namespace().to_string();
        let store = crate::storage::select::for_release(cluster.as_ref(), &ns, &a.release)
            .await
            .map_err(anyhow::Error::msg)?;
        Ok::<_, anyhow::Error>(ops::status::status(cluster.as_ref(), store.as_ref(), &a.release).await?)
    })?;
    match a.output {
        Format::Json => p.out(&(serde_json::to_string_pretty(&report)? + "\n"))?,
        Format::Yaml => p.out(&serde_saphyr::to_string(&report)?)?,
        Format::Table => {
            let mut s = format!(
                "NAME: {}\nNAMESPACE: {}\nREVISION: {}\nSTATUS: {}\nCURRENT VERSION: {}\nDESIRED VERSION: {}\n",
                report.name,
                report.namespace,
                report.revision,
                report.status,
                report.current_version,
                report.desired_version
            );
            s.push_str("CONDITIONS:\n");
            for c in &report.conditions {
                let reason = c.reason.as_ref().map(|r| format!(" ({r})")).unwrap_or_default();
                s.push_str(&format!("  {}={}{reason}\n", c.kind, c.status));
                // The lock's holder, or why the lock is stale and what to run.
                if let Some(m) = c.message.as_ref().filter(|_| c.kind != "Error") {
                    s.push_str(&format!("    {m}\n"));
                }
            }
            let m = &report.members;
            s.push_str(&format!(
                "MEMBERS: {} ready, {} unready\n",
                m.ready.len(),
                m.unready.len()
            ));
            for u in &m.unready {
                s.push_str(&format!("  unready: {u}\n"));
            }
            if let Some(a) = &report.accepted {
                s.push_str(&format!("ACCEPTED: {}\n", crate::executor::acceptance::line(a)));
            }
            if let Some(e) = &report.last_error {
                s.push_str(&format!("LAST ERROR: {e}\n"));
            }
            p.out(&s)?;
        }
    }
    Ok(ExitStatus::Success)
}

pub fn rollback(a: RollbackArgs, p: &mut Printer) -> anyhow::Result<ExitStatus> {
    let opts = a.exec.options();
    let release = a.release.clone();
    let result = runtime()?.block_on(async {
        let cluster = a.kube.connect(a.namespace.as_deref()).await?;
        let ns = cluster.namespace().to_string();
        let store = crate::storage::select::for_release(cluster.as_ref(), &ns, &release)
            .await
            .map_err(anyhow::Error::msg)?;
        crate::recovery::signal::install();
        let mut rep = progress_printer(p, a.exec.output);
        Ok::<_, anyhow::Error>(
            ops::rollback::rollback_with(
                cluster.as_ref(),
                store.as_ref(),
                &release,
                a.revision,
                opts.restore_data,
                &opts,
                &mut rep,
            )
            .await,
        )
    })?;
    report_outcome(result, &release, a.exec.output, p)
}

pub fn recover(a: RecoverArgs, p: &mut Printer) -> anyhow::Result<ExitStatus> {
    let r = runtime()?.block_on(async {
        let cluster = a.kube.connect(a.namespace.as_deref()).await?;
        let ns = cluster.namespace().to_string();
        let store = crate::storage::select::for_release(cluster.as_ref(), &ns, &a.release)
            .await
            .map_err(anyhow::Error::msg)?;
        // Its waits beat on stderr, plain lines (stdout keeps the account of what was done).
        let mut rep = |ev: crate::executor::Progress| {
            if let Some(line) = super::progress::waiting_line(&ev) {
                eprintln!("recover: {line}");
            }
        };
        Ok::<_, anyhow::Error>(
            ops::recover::recover(cluster.as_ref(), store.as_ref(), &a.release, a.force, &mut rep).await?,
        )
    })?;
    let mut s = format!(
        "Revision {} of {} was left pending; the interrupted run had done:\n",
        r.release.version, r.release.name
    );
    if r.done.is_empty() {
        s.push_str("  nothing recorded (it stopped before its first step)\n");
    }
    for d in &r.done {
        s.push_str(&format!("  {d}\n"));
    }
    s.push_str(&format!(
        "The lock is released: revision {} is marked failed. {}.\n",
        r.release.version, r.next
    ));
    p.out(&s)?;
    Ok(ExitStatus::Success)
}
