//! `chartup completion SHELL`, `chartup man` and `chartup version`: what a packaged CLI is
//! expected to ship. Completions and the man page are generated from the same clap definition
//! as `--help` (clap_complete, clap_mangen), so they cannot drift from the real flags.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::CommandFactory;

use super::{Cli, ExitStatus, Printer};

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  chartup completion bash > /etc/bash_completion.d/chartup\n  \
                        chartup completion zsh > \"${fpath[1]}/_chartup\"\n  \
                        chartup completion fish > ~/.config/fish/completions/chartup.fish\n  \
                        chartup completion powershell >> $PROFILE"
)]
pub struct CompletionArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// Write chartup.1 and one page per command (chartup-plan.1, …) into DIR instead of printing
    /// chartup(1)
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct VersionArgs {}

pub fn completion(args: CompletionArgs, p: &mut Printer) -> anyhow::Result<ExitStatus> {
    let mut buf = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "chartup", &mut buf);
    p.out(&String::from_utf8_lossy(&buf))?;
    Ok(ExitStatus::Success)
}

pub fn man(args: ManArgs, p: &mut Printer) -> anyhow::Result<ExitStatus> {
    let cmd = Cli::command();
    match args.out_dir {
        None => {
            let mut buf = Vec::new();
            clap_mangen::Man::new(cmd).render(&mut buf)?;
            p.out(&String::from_utf8_lossy(&buf))?;
        }
        Some(dir) => {
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            clap_mangen::generate_to(cmd, &dir).with_context(|| format!("writing man pages into {}", dir.display()))?;
            p.note(&format!("Wrote the man pages into {}", dir.display()));
        }
    }
    Ok(ExitStatus::Success)
}

pub fn version(_: VersionArgs, p: &mut Printer) -> anyhow::Result<ExitStatus> {
    p.out(&format!("chartup {}\n", env!("CARGO_PKG_VERSION")))?;
    Ok(ExitStatus::Success)
}
