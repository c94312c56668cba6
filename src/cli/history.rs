//! `chartup status`, `history`, `rollback`, `recover`: release records. (Owned by the apply work.)

use super::{ExitStatus, Printer};

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    pub release: String,
}

#[derive(Debug, clap::Args)]
pub struct HistoryArgs {
    pub release: String,
}

#[derive(Debug, clap::Args)]
pub struct RollbackArgs {
    pub release: String,
    pub revision: Option<u32>,
}

#[derive(Debug, clap::Args)]
pub struct RecoverArgs {
    pub release: String,
}

pub fn status(_a: StatusArgs, _p: &mut Printer) -> anyhow::Result<ExitStatus> {
    anyhow::bail!("`chartup status` is not implemented yet")
}

pub fn history(_a: HistoryArgs, _p: &mut Printer) -> anyhow::Result<ExitStatus> {
    anyhow::bail!("`chartup history` is not implemented yet")
}

pub fn rollback(_a: RollbackArgs, _p: &mut Printer) -> anyhow::Result<ExitStatus> {
    anyhow::bail!("`chartup rollback` is not implemented yet")
}

pub fn recover(_a: RecoverArgs, _p: &mut Printer) -> anyhow::Result<ExitStatus> {
    anyhow::bail!("`chartup recover` is not implemented yet")
}
