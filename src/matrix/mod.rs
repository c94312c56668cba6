//! Compatibility matrices: supported versions, upgrade edges, order, migrations.
//!
//! A matrix is what the maintainers of a stateful system know and a chart cannot say: which
//! versions are supported, which upgrades lose data under which persistence mode, which upgrades
//! must go through an intermediate version, which need a backup first, in which order components
//! roll, whether configuration or topology may change in the same upgrade, and which migration
//! scripts run after each hop. The format is documented in docs/matrix-format.md.
//!
//! Values that can be wrong (versions, constraints) are read as `Spanned` so every error names the
//! file, line and field; `chartup matrix check` reports all of them at once. Versions and
//! constraints follow Masterminds/semver (`crate::version`), the rules Helm uses for charts, so
//! `v1.10.0` and `0.6.0-2252.b6f6512` are versions like any other.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use crate::analysis::{Persistence, Verdict};
use crate::version::{Constraints, Version};

/// The format version this code reads.
pub const FORMAT: u64 = 1;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawMatrix {
    matrix: Spanned<u64>,
    chart: String,
    #[serde(default)]
    description: Option<String>,
    versions: Vec<Spanned<String>>,
    #[serde(default)]
    downgrades: Option<Spanned<String>>,
    #[serde(default)]
    unlisted_upgrades: Option<Spanned<String>>,
    #[serde(default)]
    order: Vec<Spanned<String>>,
    #[serde(default)]
    backup: Option<RawBackup>,
    #[serde(default)]
    config_change: Option<Spanned<String>>,
    #[serde(default)]
    topology_change: Option<Spanned<String>>,
    #[serde(default)]
    upgrades: Vec<RawEdge>,
    #[serde(default)]
    migrations: Option<RawMigrations>,
    #[serde(default)]
    components: BTreeMap<String, RawComponent>,
}

/// Per-component settings (`components: {NAME: {carryVolumes: true}}`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawComponent {
    #[serde(default)]
    carry_volumes: bool,
    /// How long this component's rollout may take (`90s`, `10m`, `1h30m`), instead of `--timeout`.
    #[serde(default)]
    timeout: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawBackup {
    required: bool,
    #[serde(default)]
    how: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawEdge {
    from: Spanned<String>,
    to: Spanned<String>,
    #[serde(default)]
    allowed: Option<bool>,
    #[serde(default)]
    data_loss: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    backup: Option<bool>,
    #[serde(default)]
    config_change: Option<Spanned<String>>,
    #[serde(default)]
    topology_change: Option<Spanned<String>>,
    #[serde(default)]
    note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawMigrations {
    dir: String,
    #[serde(default)]
    component: Option<String>,
    scripts: Vec<RawScript>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawScript {
    file: Spanned<String>,
    from: Spanned<String>,
    to: Spanned<String>,
    /// The script that undoes this one (`chartup rollback` runs it), in the same directory.
    #[serde(default)]
    down: Option<Spanned<String>>,
}

/// One problem in a matrix file, with its place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatrixError {
    pub file: String,
    pub line: u64,
    pub column: u64,
    /// The field, as a path (`upgrades[2].from`).
    pub field: String,
    pub message: String,
}

impl fmt::Display for MatrixError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(
                f,
                "{}:{}:{}: {}: {}",
                self.file, self.line, self.column, self.field, self.message
            )
        } else if self.field.is_empty() {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}: {}: {}", self.file, self.field, self.message)
        }
    }
}

/// All problems of one file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
pub struct MatrixErrors(pub Vec<MatrixError>);

/// May something change in the same upgrade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Policy {
    Allow,
    Refuse,
}

fn parse_policy(s: &str) -> Option<Policy> {
    match s {
        "allow" => Some(Policy::Allow),
        "refuse" => Some(Policy::Refuse),
        _ => None,
    }
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
}

/// Read and check a matrix file.
pub fn load(path: &Path) -> Result<Matrix, MatrixErrors> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        MatrixErrors(vec![MatrixError {
            file: file.clone(),
            line: 0,
            column: 0,
            field: String::new(),
            message: e.to_string(),
        }])
    })?;
    parse(&text, &file, path.parent())
}

/// Check a matrix text. `dir` is where relative migration paths are looked up (None: not checked).
pub fn parse(text: &str, file: &str, dir: Option<&Path>) -> Result<Matrix, MatrixErrors> {
    let raw: RawMatrix = serde_saphyr::from_str(text).map_err(|e| {
        let msg = e.to_string();
        MatrixErrors(vec![MatrixError {
            file: file.to_string(),
            line: 0,
            column: 0,
            field: String::new(),
            message: msg.lines().next().unwrap_or("").to_string() + &location_suffix(&msg),
        }])
    })?;
    let mut errs = Vec::new();
    let err = |errs: &mut Vec<MatrixError>, loc: &serde_saphyr::Location, field: String, message: String| {
        errs.push(MatrixError {
            file: file.to_string(),
            line: loc.line(),
            column: loc.column(),
            field,
            message,
        });
    };
    if raw.matrix.value != FORMAT {
        err(
            &mut errs,
            &raw.matrix.referenced,
            "matrix".into(),
            format!(
                "unsupported format version {} (this chartup reads {FORMAT})",
                raw.matrix.value
            ),
        );
    }
    let mut versions = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, v) in raw.versions.iter().enumerate() {
        match Version::parse(&v.value) {
            Ok(p) => {
                if !seen.insert(p.to_string()) {
                    err(
                        &mut errs,
                        &v.referenced,
                        format!("versions[{i}]"),
                        format!("{:?} is listed twice", v.value),
                    );
                }
                versions.push(p);
            }
            Err(e) => err(
                &mut errs,
                &v.referenced,
                format!("versions[{i}]"),
                format!("{:?}: {e}", v.value),
            ),
        }
    }
    if raw.versions.is_empty() {
        errs.push(MatrixError {
            file: file.into(),
            line: 0,
            column: 0,
            field: "versions".into(),
            message: "no supported versions listed".into(),
        });
    }
    versions.sort();
    let policy_of =
        |errs: &mut Vec<MatrixError>, s: &Option<Spanned<String>>, field: &str, default: Policy| -> Policy {
            match s {
                None => default,
                Some(sp) => parse_policy(&sp.value).unwrap_or_else(|| {
                    err(
                        errs,
                        &sp.referenced,
                        field.into(),
                        format!("{:?}: expected allow or refuse", sp.value),
                    );
                    default
                }),
            }
        };
    let downgrades = policy_of(&mut errs, &raw.downgrades, "downgrades", Policy::Refuse);
    let unlisted_upgrades = policy_of(&mut errs, &raw.unlisted_upgrades, "unlistedUpgrades", Policy::Allow);
    let config_change = policy_of(&mut errs, &raw.config_change, "configChange", Policy::Allow);
    let topology_change = policy_of(&mut errs, &raw.topology_change, "topologyChange", Policy::Allow);
    let mut order = Vec::new();
    for (i, o) in raw.order.iter().enumerate() {
        if order.contains(&o.value) {
            err(
                &mut errs,
                &o.referenced,
                format!("order[{i}]"),
                format!("component {:?} is listed twice", o.value),
            );
        }
        order.push(o.value.clone());
    }
    let mut edges = Vec::new();
    for (i, e) in raw.upgrades.iter().enumerate() {
        let cons = |errs: &mut Vec<MatrixError>, s: &Spanned<String>, f: &str| match Constraints::parse(&s.value) {
            Ok(c) => Some(c),
            Err(x) => {
                err(
                    errs,
                    &s.referenced,
                    format!("upgrades[{i}].{f}"),
                    format!("{:?}: {x}", s.value),
                );
                None
            }
        };
        let from = cons(&mut errs, &e.from, "from");
        let to = cons(&mut errs, &e.to, "to");
        let mut data_loss = BTreeMap::new();
        for (mode, v) in &e.data_loss {
            let m = match mode.as_str() {
                "storageClass" => Persistence::StorageClass,
                "existingClaim" => Persistence::ExistingClaim,
                "none" => Persistence::None,
                _ => {
                    err(
                        &mut errs,
                        &v.referenced,
                        format!("upgrades[{i}].dataLoss.{mode}"),
                        "unknown persistence mode (storageClass, existingClaim, none)".into(),
                    );
                    continue;
                }
            };
            let verdict = match v.value.as_str() {
                "no-loss" | "none" => Verdict::Safe,
                "at-risk" => Verdict::AtRisk,
                "loss" => Verdict::Loss,
                other => {
                    err(
                        &mut errs,
                        &v.referenced,
                        format!("upgrades[{i}].dataLoss.{mode}"),
                        format!("{other:?}: expected no-loss, at-risk or loss"),
                    );
                    continue;
                }
            };
            data_loss.insert(m, verdict);
        }
        let cc = e.config_change.as_ref().map(|_| {
            policy_of(
                &mut errs,
                &e.config_change,
                &format!("upgrades[{i}].configChange"),
                Policy::Allow,
            )
        });
        let tc = e.topology_change.as_ref().map(|_| {
            policy_of(
                &mut errs,
                &e.topology_change,
                &format!("upgrades[{i}].topologyChange"),
                Policy::Allow,
            )
        });
        if let (Some(from), Some(to)) = (from, to) {
            edges.push(Edge {
                from,
                to,
                from_text: e.from.value.clone(),
                to_text: e.to.value.clone(),
                allowed: e.allowed.unwrap_or(true),
                data_loss,
                backup: e.backup,
                config_change: cc,
                topology_change: tc,
                note: e.note.clone(),
            });
        }
    }
    let mut scripts = Vec::new();
    let mut migration_component = None;
    if let Some(m) = &raw.migrations {
        migration_component = m.component.clone();
        for (i, s) in m.scripts.iter().enumerate() {
            let ver = |errs: &mut Vec<MatrixError>, v: &Spanned<String>, f: &str| match Version::parse(&v.value) {
                Ok(x) => Some(x),
                Err(x) => {
                    err(
                        errs,
                        &v.referenced,
                        format!("migrations.scripts[{i}].{f}"),
                        format!("{:?}: {x}", v.value),
                    );
                    None
                }
            };
            let (from, to) = (ver(&mut errs, &s.from, "from"), ver(&mut errs, &s.to, "to"));
            let rel = Path::new(&m.dir).join(&s.file.value);
            if let Some(d) = dir {
                if !d.join(&rel).is_file() {
                    err(
                        &mut errs,
                        &s.file.referenced,
                        format!("migrations.scripts[{i}].file"),
                        format!("{} does not exist", d.join(&rel).display()),
                    );
                }
            }
            let mut down = None;
            if let Some(d) = &s.down {
                let drel = Path::new(&m.dir).join(&d.value);
                if d.value == s.file.value {
                    err(
                        &mut errs,
                        &d.referenced,
                        format!("migrations.scripts[{i}].down"),
                        format!("{:?} is the up script itself", d.value),
                    );
                } else if let Some(dd) = dir.filter(|dd| !dd.join(&drel).is_file()) {
                    err(
                        &mut errs,
                        &d.referenced,
                        format!("migrations.scripts[{i}].down"),
                        format!("{} does not exist", dd.join(&drel).display()),
                    );
                }
                down = Some(drel.display().to_string());
            }
            if let (Some(from), Some(to)) = (from, to) {
                if from >= to {
                    err(
                        &mut errs,
                        &s.to.referenced,
                        format!("migrations.scripts[{i}].to"),
                        format!("{to} is not after {from}"),
                    );
                    continue;
                }
                if let Some(prev) = scripts.iter().find(|p: &&Script| p.from < to && from < p.to) {
                    err(
                        &mut errs,
                        &s.from.referenced,
                        format!("migrations.scripts[{i}]"),
                        format!("{from}→{to} overlaps {} ({}→{})", prev.file, prev.from, prev.to),
                    );
                    continue;
                }
                scripts.push(Script {
                    file: s.file.value.clone(),
                    path: rel.display().to_string(),
                    from,
                    to,
                    down,
                });
            }
        }
    }
    scripts.sort_by(|a, b| a.from.cmp(&b.from));
    let mut timeouts = BTreeMap::new();
    for (name, c) in &raw.components {
        let Some(t) = &c.timeout else { continue };
        match parse_duration(&t.value) {
            Ok(d) if d.as_secs() > 0 => {
                timeouts.insert(name.clone(), d.as_secs());
            }
            Ok(_) => err(
                &mut errs,
                &t.referenced,
                format!("components.{name}.timeout"),
                format!("{:?}: must be longer than zero", t.value),
            ),
            Err(e) => err(&mut errs, &t.referenced, format!("components.{name}.timeout"), e),
        }
    }
    if !errs.is_empty() {
        errs.sort_by_key(|e| (e.line, e.column));
        return Err(MatrixErrors(errs));
    }
    Ok(Matrix {
        file: file.to_string(),
        chart: raw.chart,
        description: raw.description,
        versions,
        downgrades,
        unlisted_upgrades,
        order,
        backup_required: raw.backup.as_ref().is_some_and(|b| b.required),
        backup_how: raw.backup.and_then(|b| b.how),
        config_change,
        topology_change,
        edges,
        migration_component,
        scripts,
        carry_volumes: raw
            .components
            .iter()
            .filter(|(_, c)| c.carry_volumes)
            .map(|(n, _)| n.clone())
            .collect(),
        timeouts,
    })
}

/// A duration as helm's `--timeout` takes it (Go's syntax: `90s`, `1h30m`, `1.5h`; a bare number is seconds).
pub use crate::duration::parse as parse_duration;

fn location_suffix(msg: &str) -> String {
    // serde-saphyr puts the position on a later line of its message; keep it on one line.
    msg.lines()
        .skip(1)
        .find(|l| l.contains("line"))
        .map(|l| format!(" ({})", l.trim()))
        .unwrap_or_default()
}

/// What the plan knows about the upgrade beyond versions.
#[derive(Debug, Clone, Default)]
pub struct UpgradeFacts {
    /// Persistence modes the release uses.
    pub modes: BTreeSet<Persistence>,
    /// Configuration changes in the same upgrade (what changed, in words).
    pub config_changes: Vec<String>,
    /// Topology changes in the same upgrade.
    pub topology_changes: Vec<String>,
    pub allow_unlisted: bool,
}

/// One hop of the upgrade path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hop {
    pub from: String,
    pub to: String,
    /// The matrix's data-loss verdict per persistence mode the release uses.
    pub data_loss: BTreeMap<String, Verdict>,
    pub backup_required: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backup_how: Option<String>,
    pub config_change: Policy,
    pub topology_change: Policy,
    /// Migrations to run after a healthy rollout of this hop, in order.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub migrations: Vec<Migration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The matrix's view of one upgrade.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MatrixVerdict {
    pub file: String,
    pub chart: String,
    pub from: String,
    pub to: String,
    /// Versions from `from` to `to`, intermediate hops included.
    pub path: Vec<String>,
    pub hops: Vec<Hop>,
    /// Component rollout order.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub order: Vec<String>,
    /// Per-component rollout timeouts in seconds, where the matrix sets them.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub timeouts: BTreeMap<String, u64>,
    /// The worst data-loss verdict over all hops and modes.
    pub verdict: Verdict,
    /// Reasons the upgrade must not run.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub refusals: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub warnings: Vec<String>,
}

impl Matrix {
    fn listed(&self, v: &Version) -> bool {
        self.versions.iter().any(|x| x == v)
    }

    fn rule(&self, from: &Version, to: &Version) -> Option<&Edge> {
        self.edges.iter().find(|e| e.from.matches(from) && e.to.matches(to))
    }

    /// May the upgrade go directly from → to.
    fn direct(&self, from: &Version, to: &Version) -> bool {
        match self.rule(from, to) {
            Some(e) => e.allowed,
            None => self.unlisted_upgrades == Policy::Allow,
        }
    }

    /// Judge an upgrade `from` → `to` (chart versions as written).
    pub fn evaluate(&self, from: &str, to: &str, facts: &UpgradeFacts) -> MatrixVerdict {
        let mut out = MatrixVerdict {
            file: self.file.clone(),
            chart: self.chart.clone(),
            from: from.to_string(),
            to: to.to_string(),
            path: vec![],
            hops: vec![],
            order: self.order.clone(),
            timeouts: self.timeouts.clone(),
            verdict: Verdict::Safe,
            refusals: vec![],
            warnings: vec![],
        };
        let (f, t) = match (Version::parse(from), Version::parse(to)) {
            (Ok(f), Ok(t)) => (f, t),
            (Err(e), _) => {
                out.refusals
                    .push(format!("the current version {from:?} is not a semantic version ({e})"));
                return out;
            }
            (_, Err(e)) => {
                out.refusals
                    .push(format!("the target version {to:?} is not a semantic version ({e})"));
                return out;
            }
        };
        let supported = || {
            self.versions
                .iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !self.listed(&t) {
            let msg = format!(
                "{to} is not a supported version of {} (supported: {})",
                self.chart,
                supported()
            );
            if facts.allow_unlisted {
                out.warnings.push(format!("{msg}; allowed by --allow-unlisted"));
            } else {
                out.refusals
                    .push(format!("{msg}; pass --allow-unlisted to plan it anyway"));
            }
        }
        if !self.listed(&f) {
            out.warnings
                .push(format!("the current version {from} is not listed in the matrix"));
        }
        if t < f {
            if self.downgrades == Policy::Refuse {
                out.refusals.push(format!(
                    "downgrade {from} → {to} refused: {} does not support downgrades",
                    self.chart
                ));
            }
            return out;
        }
        if t == f {
            out.path = vec![f.to_string()];
            return out;
        }
        // Path: fewest hops through listed versions (plus both ends), each hop a permitted edge;
        // among equally short paths the one with the largest early jumps.
        let mut nodes: Vec<Version> = self.versions.iter().filter(|v| **v > f && **v < t).cloned().collect();
        nodes.insert(0, f.clone());
        nodes.push(t.clone());
        let mut prev: Vec<Option<usize>> = vec![None; nodes.len()];
        let mut visited = vec![false; nodes.len()];
        visited[0] = true;
        let mut queue = VecDeque::from([0usize]);
        while let Some(i) = queue.pop_front() {
            for j in (i + 1..nodes.len()).rev() {
                if !visited[j] && self.direct(&nodes[i], &nodes[j]) {
                    visited[j] = true;
                    prev[j] = Some(i);
                    queue.push_back(j);
                }
            }
        }
        let last = nodes.len() - 1;
        if !visited[last] {
            let why = self.rule(&f, &t).and_then(|e| e.note.clone()).unwrap_or_default();
            out.refusals.push(
                format!("no permitted upgrade path from {from} to {to} in the matrix {why}")
                    .trim_end()
                    .to_string(),
            );
            return out;
        }
        let mut path = vec![last];
        while let Some(p) = prev[*path.last().unwrap_or(&0)] {
            path.push(p);
        }
        path.reverse();
        out.path = path
            .iter()
            .map(|&i| nodes[i].original().trim_start_matches('v').to_string())
            .collect();
        out.path[0] = from.to_string();
        if let Some(l) = out.path.last_mut() {
            *l = to.to_string();
        }
        for w in path.windows(2) {
            let (a, b) = (&nodes[w[0]], &nodes[w[1]]);
            let rule = self.rule(a, b);
            let mut data_loss = BTreeMap::new();
            for m in &facts.modes {
                let v = rule.and_then(|r| r.data_loss.get(m)).copied().unwrap_or(Verdict::Safe);
                data_loss.insert(m.as_str().to_string(), v);
                out.verdict = out.verdict.max(v);
            }
            let hop = Hop {
                from: a.to_string(),
                to: b.to_string(),
                data_loss,
                backup_required: rule.and_then(|r| r.backup).unwrap_or(self.backup_required),
                backup_how: self.backup_how.clone(),
                config_change: rule.and_then(|r| r.config_change).unwrap_or(self.config_change),
                topology_change: rule.and_then(|r| r.topology_change).unwrap_or(self.topology_change),
                migrations: self.migrations(a, b),
                note: rule.and_then(|r| r.note.clone()),
            };
            out.hops.push(hop);
        }
        // Config and topology changes ride with the first hop (that is when they are applied).
        if let Some(h) = out.hops.first() {
            if h.config_change == Policy::Refuse && !facts.config_changes.is_empty() {
                out.refusals.push(format!(
                    "{} forbids configuration changes in the same upgrade as a version change ({}); upgrade first, then change the configuration",
                    self.chart,
                    facts.config_changes.join("; ")
                ));
            }
            if h.topology_change == Policy::Refuse && !facts.topology_changes.is_empty() {
                out.refusals.push(format!(
                    "{} forbids topology changes in the same upgrade as a version change ({}); upgrade first, then scale",
                    self.chart,
                    facts.topology_changes.join("; ")
                ));
            }
        }
        out
    }

    /// Migration scripts from `a` to `b`, chained by version distance: from the current version,
    /// take the script that starts soonest at or after it and, among those, reaches farthest
    /// without passing `b`.
    pub fn migrations(&self, a: &Version, b: &Version) -> Vec<Migration> {
        let mut out = Vec::new();
        let mut cur = a.clone();
        loop {
            let next = self
                .scripts
                .iter()
                .filter(|s| s.from >= cur && s.to <= *b)
                .min_by(|x, y| x.from.cmp(&y.from).then(y.to.cmp(&x.to)));
            let Some(s) = next else { break };
            out.push(Migration {
                file: s.file.clone(),
                path: s.path.clone(),
                from: s.from.to_string(),
                to: s.to.to_string(),
                component: self.migration_component.clone(),
                down: s.down.clone(),
            });
            cur = s.to.clone();
        }
        out
    }

    /// Short human summary for `matrix check`.
    pub fn summary(&self) -> String {
        format!(
            "{}: {} versions ({} … {}), {} upgrade rules, {} migrations{}{}{}{}{}",
            self.chart,
            self.versions.len(),
            self.versions.first().map(|v| v.to_string()).unwrap_or_default(),
            self.versions.last().map(|v| v.to_string()).unwrap_or_default(),
            self.edges.len(),
            self.scripts.len(),
            match self.scripts.iter().filter(|s| s.down.is_some()).count() {
                0 => String::new(),
                n => format!(" ({n} with down scripts)"),
            },
            if self.order.is_empty() {
                String::new()
            } else {
                format!(", order {}", self.order.join(" → "))
            },
            if self.backup_required { ", backup required" } else { "" },
            if self.carry_volumes.is_empty() {
                String::new()
            } else {
                format!(
                    ", volumes carried over for {}",
                    self.carry_volumes.iter().cloned().collect::<Vec<_>>().join(", ")
                )
            },
            if self.timeouts.is_empty() {
                String::new()
            } else {
                format!(
                    ", timeouts {}",
                    self.timeouts
                        .iter()
                        .map(|(c, s)| format!("{c} {s}s"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            },
        )
    }

    /// Rule texts (for docs and debugging).
    pub fn rules(&self) -> Vec<(String, String, bool)> {
        self.edges
            .iter()
            .map(|e| (e.from_text.clone(), e.to_text.clone(), e.allowed))
            .collect()
    }
}

/// Find `matrices/<chart>.yaml` next to a chart directory's parent tree (used when `--matrix` is
/// not given): none is implied; the caller decides.
pub fn default_path(root: &Path, chart: &str) -> PathBuf {
    root.join("matrices").join(format!("{chart}.yaml"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FATE: &str = r#"matrix: 1
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

    fn m() -> Matrix {
        parse(FATE, "fate.yaml", None).unwrap()
    }

    #[test]
    fn component_timeouts() {
        let text = format!("{FATE}components:\n  mysql: {{timeout: 10m}}\n  client: {{timeout: 1h30m}}\n");
        let m = parse(&text, "fate.yaml", None).unwrap();
        assert_eq!(m.timeouts.get("mysql"), Some(&600));
        assert_eq!(m.timeouts.get("client"), Some(&5400));
        let bad = format!("{FATE}components:\n  mysql: {{timeout: 10 minutes}}\n");
        let e = parse(&bad, "fate.yaml", None).unwrap_err().to_string();
        assert!(
            e.contains("components.mysql.timeout") && e.contains("unknown unit"),
            "{e}"
        );
        assert_eq!(parse_duration("90s"), Ok(std::time::Duration::from_secs(90)));
        assert_eq!(parse_duration("1500ms"), Ok(std::time::Duration::from_millis(1500)));
        assert!(parse_duration("m").is_err() && parse_duration("5").is_ok() && parse_duration("").is_err());
    }

    #[test]
    fn components_carry_volumes() {
        let text = format!("{FATE}components:\n  mysql: {{carryVolumes: true}}\n  client: {{carryVolumes: false}}\n");
        let m = parse(&text, "fate.yaml", None).unwrap();
        assert_eq!(m.carry_volumes.iter().collect::<Vec<_>>(), ["mysql"]);
        assert!(
            m.summary().contains("volumes carried over for mysql"),
            "{}",
            m.summary()
        );
        assert!(parse(FATE, "fate.yaml", None).unwrap().carry_volumes.is_empty());
        // A misspelt setting is an error naming the field, not silently ignored.
        let bad = format!("{FATE}components:\n  mysql: {{carryVolume: true}}\n");
        let e = parse(&bad, "fate.yaml", None).unwrap_err().to_string();
        assert!(e.contains("carryVolume"), "{e}");
    }

    fn facts(modes: &[Persistence]) -> UpgradeFacts {
        UpgradeFacts {
            modes: modes.iter().copied().collect(),
            ..Default::default()
        }
    }

    #[test]
    fn path_goes_through_the_required_hop_and_chains_migrations() {
        let v = m().evaluate("1.7.0", "1.10.0", &facts(&[Persistence::ExistingClaim]));
        assert!(v.refusals.is_empty(), "{:?}", v.refusals);
        assert_eq!(v.path, ["1.7.0", "1.8.0", "1.10.0"]);
        let files: Vec<Vec<&str>> = v
            .hops
            .iter()
            .map(|h| h.migrations.iter().map(|m| m.file.as_str()).collect())
            .collect();
        assert_eq!(
            files,
            [
                vec!["170-171.sql", "171-172.sql", "172-180.sql"],
                vec!["180-190.sql", "190-1100.sql"]
            ]
        );
        assert_eq!(v.verdict, Verdict::Safe);
        assert!(v.hops[1].backup_required && !v.hops[0].backup_required);
    }

    #[test]
    fn storage_class_loses_data_across_190() {
        let v = m().evaluate("1.8.0", "1.9.0", &facts(&[Persistence::StorageClass]));
        assert_eq!(v.path, ["1.8.0", "1.9.0"]);
        assert_eq!(v.verdict, Verdict::Loss);
        let v = m().evaluate("1.7.1", "1.7.2", &facts(&[Persistence::StorageClass]));
        assert_eq!(v.verdict, Verdict::Safe);
    }

    #[test]
    fn downgrade_and_unlisted_are_refused() {
        let v = m().evaluate("1.9.0", "1.8.0", &facts(&[]));
        assert!(
            v.refusals[0].contains("downgrade 1.9.0 → 1.8.0 refused"),
            "{:?}",
            v.refusals
        );
        let v = m().evaluate("1.8.0", "1.8.5", &facts(&[]));
        assert!(
            v.refusals[0].contains("1.8.5 is not a supported version of fate"),
            "{:?}",
            v.refusals
        );
        let f = UpgradeFacts {
            allow_unlisted: true,
            ..Default::default()
        };
        let v = m().evaluate("1.8.0", "1.8.5", &f);
        assert!(v.refusals.is_empty() && !v.warnings.is_empty());
    }

    #[test]
    fn prerelease_versions() {
        let t = "matrix: 1\nchart: p\nversions: [0.5.0, 0.6.0-2252.b6f6512, 0.6.0]\n";
        let m = parse(t, "p.yaml", None).unwrap();
        let v = m.evaluate("0.5.0", "0.6.0-2252.b6f6512", &facts(&[]));
        assert!(v.refusals.is_empty(), "{:?}", v.refusals);
        assert_eq!(v.path, ["0.5.0", "0.6.0-2252.b6f6512"]);
    }

    #[test]
    fn errors_name_file_line_and_field() {
        let bad = "matrix: 1\nchart: x\nversions: [1.0.0, one]\nupgrades:\n  - from: \">=1.0 <<2\"\n    to: 2.0.0\n    dataLoss: {storageClass: maybe}\n";
        let e = parse(bad, "x.yaml", None).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("x.yaml:3:"), "{text}");
        assert!(
            text.contains("versions[1]: \"one\": invalid semantic version"),
            "{text}"
        );
        assert!(
            text.contains("x.yaml:5:") && text.contains("upgrades[0].from"),
            "{text}"
        );
        assert!(text.contains("upgrades[0].dataLoss.storageClass: \"maybe\""), "{text}");
        let unknown = parse("matrix: 1\nchart: x\nversions: [1.0.0]\nbogus: 1\n", "y.yaml", None).unwrap_err();
        assert!(unknown.to_string().contains("bogus"), "{unknown}");
    }

    #[test]
    fn down_scripts_travel_with_their_migration_and_must_exist() {
        let t = "matrix: 1\nchart: x\nversions: [1.0.0, 2.0.0]\nmigrations:\n  dir: m\n  scripts:\n  - {file: a.sql, from: 1.0.0, to: 1.5.0, down: down/a.sql}\n  - {file: b.sql, from: 1.5.0, to: 2.0.0}\n";
        let m = parse(t, "x.yaml", None).unwrap();
        let v = m.evaluate("1.0.0", "2.0.0", &facts(&[]));
        let downs: Vec<Option<&str>> = v.hops[0].migrations.iter().map(|m| m.down.as_deref()).collect();
        assert_eq!(downs, [Some("m/down/a.sql"), None]);
        assert!(
            m.summary().contains("2 migrations (1 with down scripts)"),
            "{}",
            m.summary()
        );

        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("m")).unwrap();
        std::fs::write(dir.path().join("m/a.sql"), "up").unwrap();
        std::fs::write(dir.path().join("m/b.sql"), "up").unwrap();
        let e = parse(t, "x.yaml", Some(dir.path())).unwrap_err().to_string();
        assert!(
            e.contains("x.yaml:7:") && e.contains("migrations.scripts[0].down:"),
            "{e}"
        );
        assert!(e.contains("down/a.sql does not exist"), "{e}");
        std::fs::create_dir_all(dir.path().join("m/down")).unwrap();
        std::fs::write(dir.path().join("m/down/a.sql"), "down").unwrap();
        assert!(parse(t, "x.yaml", Some(dir.path())).is_ok());
        let same = t.replace("down: down/a.sql", "down: a.sql");
        let e = parse(&same, "x.yaml", None).unwrap_err().to_string();
        assert!(e.contains("is the up script itself"), "{e}");
    }

    #[test]
    fn overlapping_migrations_are_errors() {
        let t = "matrix: 1\nchart: x\nversions: [1.0.0]\nmigrations:\n  dir: m\n  scripts:\n  - {file: a.sql, from: 1.0.0, to: 1.2.0}\n  - {file: b.sql, from: 1.1.0, to: 1.3.0}\n";
        let e = parse(t, "x.yaml", None).unwrap_err().to_string();
        assert!(e.contains("overlaps a.sql"), "{e}");
    }
}
