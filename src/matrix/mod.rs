//! Compatibility matrices: supported versions, upgrade edges, order, migrations.
//!
//! A matrix is what the maintainers of a stateful system know and a chart cannot say: which
//! versions are supported, which upgrades lose data under which persistence mode, which upgrades
//! must go through an intermediate version, which need a backup first, in which order components
//! roll, whether configuration or topology may change in the same upgrade, and which migration
//! scripts run after each hop. The format is documented in docs/matrix-format.md.
//!
//! Two halves that change for different reasons: [`format`] reads and checks a file (the
//! documented format, its errors with file, line, column and field — `chartup matrix check`
//! reports all of them at once), and [`evaluate`] judges one upgrade against a checked
//! [`Matrix`] (path, per-hop verdicts, migrations). This file holds the checked model they share.
//! Versions and constraints follow Masterminds/semver (`crate::version`), the rules Helm uses for
//! charts, so `v1.10.0` and `0.6.0-2252.b6f6512` are versions like any other.

mod evaluate;
mod fields;
mod format;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::analysis::{Persistence, Verdict};
use crate::version::{Constraints, Version};

pub use evaluate::{Hop, MatrixVerdict, UpgradeFacts};
pub use format::{load, parse, parse_duration, MatrixError, MatrixErrors, FORMAT};

/// May something change in the same upgrade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Policy {
    Allow,
    Refuse,
}

#[derive(Debug, Clone)]
struct Edge {
    from: Constraints,
    to: Constraints,
    from_text: String,
    to_text: String,
    allowed: bool,
    data_loss: BTreeMap<Persistence, Verdict>,
    backup: Option<bool>,
    config_change: Option<Policy>,
    topology_change: Option<Policy>,
    note: Option<String>,
}

/// A migration script of one hop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Migration {
    pub file: String,
    /// Path relative to the matrix file's directory.
    pub path: String,
    pub from: String,
    pub to: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub component: Option<String>,
    /// The down script's path (relative to the matrix file's directory), when the matrix gives
    /// one: what `chartup rollback` runs to undo this migration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub down: Option<String>,
}

#[derive(Debug, Clone)]
struct Script {
    file: String,
    path: String,
    from: Version,
    to: Version,
    down: Option<String>,
}

/// A checked matrix.
#[derive(Debug, Clone)]
pub struct Matrix {
    pub file: String,
    pub chart: String,
    pub description: Option<String>,
    pub versions: Vec<Version>,
    pub downgrades: Policy,
    /// Upgrades between listed versions that no rule mentions.
    pub unlisted_upgrades: Policy,
    pub order: Vec<String>,
    pub backup_required: bool,
    pub backup_how: Option<String>,
    pub config_change: Policy,
    pub topology_change: Policy,
    edges: Vec<Edge>,
    migration_component: Option<String>,
    scripts: Vec<Script>,
    /// Components whose volumes are carried over to renamed claims (`components.NAME.carryVolumes`).
    pub carry_volumes: BTreeSet<String>,
    /// Per-component rollout timeouts in seconds (`components.NAME.timeout`).
    pub timeouts: BTreeMap<String, u64>,
    /// `(old, new)`: components renamed across versions (`components.NEW.renamedFrom: [OLD]`).
    pub renames: Vec<(String, String)>,
}

impl Matrix {
    /// The components carried (`carryVolumes`), with their earlier names: a renamed component's
    /// volumes are the old component's until they are carried.
    pub fn carried_components(&self) -> BTreeSet<String> {
        let mut out = self.carry_volumes.clone();
        for (old, new) in &self.renames {
            if self.carry_volumes.contains(new) {
                out.insert(old.clone());
            }
        }
        out
    }
}

/// Find `matrices/<chart>.yaml` next to a chart directory's parent tree (used when `--matrix` is
/// not given): none is implied; the caller decides.
pub fn default_path(root: &Path, chart: &str) -> PathBuf {
    root.join("matrices").join(format!("{chart}.yaml"))
}

#[cfg(test)]
mod testdata {
    use super::*;

    pub const FATE: &str = r#"matrix: 1
chart: fate
versions: [1.7.0, 1.7.1, 1.7.2, 1.8.0, 1.9.0, v1.10.0]
upgrades:
  - from: "<1.8.0"
    to: ">=1.9.0"
    allowed: false
    note: "upgrade to 1.8.0 first"
  - from: "<1.9.0"
    to: ">=1.9.0"
    dataLoss: {storageClass: loss, existingClaim: no-loss, none: no-loss}
    backup: true
migrations:
  dir: migrations
  component: mysql
  scripts:
    - {file: 170-171.sql, from: 1.7.0, to: 1.7.1}
    - {file: 171-172.sql, from: 1.7.1, to: 1.7.2}
    - {file: 172-180.sql, from: 1.7.2, to: 1.8.0}
    - {file: 180-190.sql, from: 1.8.0, to: 1.9.0}
    - {file: 190-1100.sql, from: 1.9.0, to: 1.10.0}
"#;

    pub fn fate() -> Matrix {
        parse(FATE, "fate.yaml", None).unwrap()
    }
}
