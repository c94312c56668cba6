//! The `chartup` binary: parse arguments, run one command, print, exit. Nothing else lives here.

use std::process::ExitCode;

use clap::Parser;

// mimalloc instead of glibc's malloc: rendering and planning allocate many small short-lived
// values (template values, YAML nodes, strings), where glibc spent about a quarter of all
// instructions and, on the big-stack render thread, grew its arena one mprotect at a time
// (README, design notes: performance).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = chartup::cli::Cli::parse();
    chartup::cli::main(cli)
}
