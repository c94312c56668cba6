//! `chartup apply`: execute a reviewed plan. (Owned by the apply work.)

use super::{ExitStatus, Printer};

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args, _p: &mut Printer) -> anyhow::Result<ExitStatus> {
    anyhow::bail!("`chartup apply` is not implemented yet")
}
