//! `chartup plan`: what an upgrade will do. (Owned by the plan work.)

use super::{ExitStatus, Printer};

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args, _p: &mut Printer) -> anyhow::Result<ExitStatus> {
    anyhow::bail!("`chartup plan` is not implemented yet")
}
