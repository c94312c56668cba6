//! How to apply: the options of a run (`--atomic`, `--timeout`, the backup and migration
//! commands…), and who takes the lock.

use std::time::Duration;

/// How to apply.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// Go ahead although a volume's verdict is loss.
    pub accept_data_loss: bool,
    /// Go ahead although the plan puts data at risk (orphaned claims, hazards); implied by
    /// `accept_data_loss`.
    pub accept_risk: bool,
    /// `--accept-risk=NAME,…`: outcomes at risk accepted one by one (names as
    /// [`crate::plan::review::risks`] gives them); the rest still refuse the run.
    pub accepted: Vec<String>,
    /// On failure, roll back to the last deployed revision.
    pub atomic: bool,
    /// Keep at most this many revisions (0: unlimited), never pruning the last deployed one.
    pub history_max: usize,
    /// How long one component (or hook, or migration) may take to become healthy.
    pub timeout: Duration,
    /// A command run (`sh -c`) as the pre-upgrade backup when the matrix requires one.
    pub backup_command: Option<String>,
    /// Who takes the lock, for the record (`chartup apply by root@host, pid 4242`).
    pub actor: String,
    /// How to run a migration script in the component's image when its workload carries no
    /// `chartup.io/migration-command` annotation (`sh -c`, the script's path in `$MIGRATION_FILE`).
    pub migration_command: Option<String>,
    /// `--description`: the description the new revision is recorded with, instead of
    /// `Install complete`/`Upgrade complete` (helm's flag).
    pub description: Option<String>,
    /// How long a wait may go without a [`super::Progress::Waiting`] heartbeat (tests shorten it).
    pub heartbeat: Duration,
    /// `--labels`: extra labels on the new revision's record (helm's flag; `list --selector` filters on them).
    pub labels: std::collections::BTreeMap<String, String>,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            accept_data_loss: false,
            accept_risk: false,
            accepted: vec![],
            atomic: false,
            history_max: 10,
            timeout: Duration::from_secs(300),
            backup_command: None,
            actor: default_actor(),
            migration_command: None,
            description: None,
            heartbeat: super::progress::HEARTBEAT,
            labels: Default::default(),
        }
    }
}

/// `chartup <verb> by user@host, pid N`: who holds a lock.
pub fn default_actor() -> String {
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into());
    format!("{user}@{host}, pid {}", std::process::id())
}
