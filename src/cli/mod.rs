//! Command-line interface: one file per command, each turning its arguments into a call of the
//! library and its result into output and an exit status.
//!
//! Every command returns [`ExitStatus`]; errors are printed once, here, with their whole chain, and
//! exit with status 1. A closed stdout (`chartup plan | head`) is not an error.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub mod apply;
pub mod args;
pub mod dependency;
pub mod history;
pub mod matrix;
pub mod pager;
pub mod pflag;
pub mod plan;
pub mod printer;
pub mod progress;
pub mod push;
pub mod registry;
pub mod release;
pub mod repo;
pub mod shell;
pub mod snapshots;
pub mod source;
pub mod template;

pub use printer::Printer;

/// Predictable, reversible upgrades of stateful applications from Helm charts.
#[derive(Debug, Parser)]
// `version` without `propagate_version`: `--version` on a command is the chart version (as in
// helm), never the program version; that is `chartup --version` or `chartup version`.
#[command(name = "chartup", version, about, long_about = None)]
pub struct Cli {
    /// Print more detail: the rendered documents on a YAML error (as helm), and debug lines on stderr
    #[arg(long, global = true)]
    pub debug: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render a chart locally, exactly as `helm template` does
    Template(template::Args),
    /// Show what an upgrade will change: objects, recreates, the fate of every volume
    Plan(plan::Args),
    /// Work with compatibility matrices
    #[command(subcommand)]
    Matrix(matrix::Command),
    /// Execute a saved plan, or plan and apply an upgrade
    Apply(apply::Args),
    /// Show the state of a release and of its last operation
    Status(history::StatusArgs),
    /// Show the revisions of a release (Helm's records)
    History(history::HistoryArgs),
    /// Roll a release back to an earlier revision
    Rollback(history::RollbackArgs),
    /// Release the lock left by an interrupted apply
    Recover(history::RecoverArgs),
    /// Add, list, remove and update chart repositories (Helm's repositories.yaml)
    #[command(subcommand)]
    Repo(repo::Command),
    /// Login to or logout from an OCI registry (Helm's registry config)
    #[command(subcommand)]
    Registry(registry::Command),
    /// Push a packaged chart to an OCI registry, as `helm push`
    Push(push::PushArgs),
    /// Manage a chart's dependencies (charts/, Chart.lock)
    #[command(subcommand, alias = "dep")]
    Dependency(dependency::Command),
    /// List releases (helm list)
    #[command(visible_alias = "ls")]
    List(release::ListArgs),
    /// Show a revision's values, manifest, notes or hooks (helm get)
    #[command(subcommand)]
    Get(release::GetCommand),
    /// Uninstall a release, showing first what goes, what stays and which volumes' data survive
    #[command(visible_alias = "un")]
    Uninstall(release::UninstallArgs),
    /// List or prune the VolumeSnapshots chartup took for a release
    #[command(subcommand)]
    Snapshots(snapshots::Command),
    /// Print a shell completion script (bash, zsh, fish, powershell)
    Completion(shell::CompletionArgs),
    /// Print chartup's man page (or write one page per command with --out-dir)
    Man(shell::ManArgs),
    /// Print chartup's version
    Version(shell::VersionArgs),
}

/// How a command ended, beyond success and error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    Success,
    /// `--detailed-exitcode`: the plan has changes.
    Changes,
    /// `--detailed-exitcode`: the plan has changes and a volume at risk or lost.
    VolumeRisk,
    /// `--detailed-exitcode` (plan): apply would refuse this plan whatever flags are passed.
    ApplyRefuses,
    /// A command-specific failure already reported (e.g. a failed rollback).
    Failure(u8),
}

impl From<ExitStatus> for ExitCode {
    fn from(s: ExitStatus) -> ExitCode {
        match s {
            ExitStatus::Success => ExitCode::SUCCESS,
            ExitStatus::Changes => ExitCode::from(2),
            ExitStatus::VolumeRisk => ExitCode::from(3),
            ExitStatus::ApplyRefuses => ExitCode::from(4),
            ExitStatus::Failure(n) => ExitCode::from(n),
        }
    }
}

/// Run the parsed command line and turn its outcome into an exit code.
pub fn main(cli: Cli) -> ExitCode {
    let mut printer = Printer::stdout();
    printer.debug = cli.debug;
    let result = match cli.command {
        Command::Template(a) => template::run(a, &mut printer),
        Command::Plan(a) => plan::run(a, &mut printer),
        Command::Matrix(c) => matrix::run(c, &mut printer),
        Command::Apply(a) => apply::run(a, &mut printer),
        Command::Status(a) => history::status(a, &mut printer),
        Command::History(a) => history::history(a, &mut printer),
        Command::Rollback(a) => history::rollback(a, &mut printer),
        Command::Recover(a) => history::recover(a, &mut printer),
        Command::Snapshots(c) => snapshots::run(c, &mut printer),
        Command::Repo(c) => repo::run(c, &mut printer),
        Command::Registry(c) => registry::run(c, &mut printer),
        Command::Push(a) => push::run(a, &mut printer),
        Command::Dependency(c) => dependency::run(c, &mut printer),
        Command::List(a) => release::list(a, &mut printer),
        Command::Get(c) => release::get(c, &mut printer),
        Command::Uninstall(a) => release::uninstall(a, &mut printer),
        Command::Completion(a) => shell::completion(a, &mut printer),
        Command::Man(a) => shell::man(a, &mut printer),
        Command::Version(a) => shell::version(a, &mut printer),
    };
    match result {
        Ok(status) => status.into(),
        Err(err) => {
            if printer::is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            printer.error(&crate::cluster::error_text(err.as_ref()));
            // --debug: each cause on its own line, outermost first.
            for (i, cause) in err.chain().enumerate().skip(1) {
                printer.debug(|| format!("cause {i}: {cause}"));
            }
            ExitCode::from(1)
        }
    }
}
