//! `chartup template`: render a chart as `helm template` does. (Owned by the renderer work.)

use super::{ExitStatus, Printer};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Release name (default "release-name"), then the chart directory or .tgz
    #[arg(num_args = 1..=2, value_name = "[NAME] CHART")]
    pub args: Vec<String>,
}

pub fn run(_args: Args, _p: &mut Printer) -> anyhow::Result<ExitStatus> {
    anyhow::bail!("`chartup template` is not implemented yet")
}
