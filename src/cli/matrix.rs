//! `chartup matrix …`: compatibility matrices.

use super::{ExitStatus, Printer};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Validate compatibility matrix files; every problem is reported with file:line:column and field
    Check {
        /// The matrix file(s)
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
    },
}

pub fn run(cmd: Command, p: &mut Printer) -> anyhow::Result<ExitStatus> {
    match cmd {
        Command::Check { files } => {
            let mut failed = 0;
            for f in &files {
                match crate::matrix::load(f) {
                    Ok(m) => p.out(&format!("{}: ok — {}\n", f.display(), m.summary()))?,
                    Err(errs) => {
                        failed += 1;
                        for e in &errs.0 {
                            p.error(&e.to_string());
                        }
                    }
                }
            }
            if failed > 0 {
                p.note(&format!("{failed} of {} matrix files have errors", files.len()));
                return Ok(ExitStatus::Failure(1));
            }
            Ok(ExitStatus::Success)
        }
    }
}
