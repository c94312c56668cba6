//! The `chartup` binary: parse arguments, run one command, print, exit. Nothing else lives here.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = chartup::cli::Cli::parse();
    chartup::cli::main(cli)
}
