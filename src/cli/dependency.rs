//! `chartup dependency build|update|list`, as helm's.

use std::path::PathBuf;

use super::{ExitStatus, Printer};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Rebuild the charts/ directory based on the Chart.lock file
    Build(DepArgs),
    /// Update charts/ based on the contents of Chart.yaml (writes Chart.lock)
    #[command(alias = "up")]
    Update(DepArgs),
    /// List the dependencies for the given chart
    #[command(alias = "ls")]
    List {
        /// The chart directory
        #[arg(default_value = ".")]
        chart: PathBuf,
    },
}

#[derive(Debug, clap::Args)]
#[command(disable_version_flag = true)]
pub struct DepArgs {
    /// The chart directory
    #[arg(default_value = ".")]
    pub chart: PathBuf,
    /// Do not refresh the local repository cache
    #[arg(long)]
    pub skip_refresh: bool,
    #[command(flatten)]
    pub source: super::source::SourceArgs,
}

pub fn run(cmd: Command, p: &mut Printer) -> anyhow::Result<ExitStatus> {
    match cmd {
        Command::Build(a) => deps(a, true, p),
        Command::Update(a) => deps(a, false, p),
        Command::List { chart } => {
            let rows = crate::source::deps::list(&chart)?;
            if rows.is_empty() {
                p.note(&format!(
                    "WARNING: no dependencies at {}",
                    chart.join("charts").display()
                ));
                return Ok(ExitStatus::Success);
            }
            let mut w = [4usize, 7, 10, 6];
            for r in &rows {
                for (i, c) in r.iter().enumerate() {
                    w[i] = w[i].max(c.len());
                }
            }
            let line = |c: [&str; 4]| {
                format!(
                    "{:<a$}\t{:<b$}\t{:<c$}\t{}\n",
                    c[0],
                    c[1],
                    c[2],
                    c[3],
                    a = w[0],
                    b = w[1],
                    c = w[2]
                )
            };
            let mut out = line(["NAME", "VERSION", "REPOSITORY", "STATUS"]);
            for r in &rows {
                out.push_str(&line([&r[0], &r[1], &r[2], &r[3]]));
            }
            p.out(&(out + "\n"))?;
            Ok(ExitStatus::Success)
        }
    }
}

fn deps(a: DepArgs, build: bool, p: &mut Printer) -> anyhow::Result<ExitStatus> {
    let mut opts = a.source.options(None);
    // helm: `dependency build --verify` verifies if possible (a missing .prov warns), `update
    // --verify` always.
    opts.verify_if_possible = build;
    let report = crate::source::deps::run(&a.chart, build, &opts, a.skip_refresh)?;
    for w in &report.warnings {
        p.note(w);
    }
    let n = report.saved.len();
    let mut out = String::new();
    for l in &report.lines {
        out.push_str(l);
        out.push('\n');
    }
    out.push_str(&format!("Saving {n} charts\nDeleting outdated charts\n"));
    p.out(&out)?;
    Ok(ExitStatus::Success)
}
