//! `chartup matrix …`: compatibility matrices. (Owned by the plan work.)

use super::{ExitStatus, Printer};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Validate a compatibility matrix file
    Check {
        /// The matrix file(s)
        files: Vec<std::path::PathBuf>,
    },
}

pub fn run(_cmd: Command, _p: &mut Printer) -> anyhow::Result<ExitStatus> {
    anyhow::bail!("`chartup matrix` is not implemented yet")
}
