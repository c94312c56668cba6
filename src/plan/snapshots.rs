//! Snapshots in the plan (issue 15): which claims get a VolumeSnapshot before the upgrade and
//! why, with which VolumeSnapshotClass, what a restore would need (the restore size), and — for a
//! rollback with `--restore-data` — which claim gets which snapshot back and what data is set aside.
//!
//! The decision is pure ([`decide`]): the plan (volumes, images, the matrix's hops), the matrix's
//! snapshot settings, the user's flags and what the cluster has ([`ClusterFacts`], gathered by
//! `crate::ops::snapshots`; `None` for an offline plan). It lives in the plan because what is
//! reviewed is what apply does: the executor snapshots exactly the claims listed here, with the
//! class chosen here, and the fingerprint covers them.
//!
//! When snapshots are wanted but impossible (no snapshot API, no class for the claims' driver) the
//! plan says so plainly; the matrix's backup step is the fallback (apply then demands it, as
//! before), and `--snapshot` itself is refused rather than half done.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::Plan;
use crate::analysis::identity::{image_repo, image_tag};
use crate::analysis::{Fate, Persistence};
use crate::matrix::Matrix;

/// The annotation that marks a cluster's default VolumeSnapshotClass (external-snapshotter).
pub const DEFAULT_CLASS_ANNOTATION: &str = "snapshot.storage.kubernetes.io/is-default-class";
/// The snapshot API chartup uses.
pub const API_VERSION: &str = "snapshot.storage.k8s.io/v1";

/// Whether the plan's snapshots can be taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SnapshotStatus {
    /// Checked against the cluster: the API and a class are there.
    Planned,
    /// Checked against the cluster: not possible (see `detail`).
    Unavailable,
    /// An offline plan: the cluster was not asked (apply's preflight asks).
    Unchecked,
}

/// One claim to snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimSnapshot {
    pub namespace: String,
    pub claim: String,
    pub component: String,
    /// The workload mounting it (`ns/StatefulSet.apps/db`), the one whose pods go down.
    pub workload: String,
    /// Why, in words (one per rule that asked).
    pub reasons: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    /// The claim's capacity (a restored claim needs at least this much), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_size: Option<String>,
    /// Scale the component to zero for its snapshots (the matrix's `quiesce`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub quiesce: bool,
}

/// One claim a rollback restores from a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimRestore {
    pub namespace: String,
    pub claim: String,
    /// The workload that mounts it in the revision rolled back to.
    pub workload: String,
    pub snapshot: String,
    /// The revision whose run took the snapshot (its data is the state before that revision).
    pub revision: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_size: Option<String>,
    /// What happens to the data the claim holds now.
    pub set_aside: String,
}

/// The snapshot section of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotPlan {
    pub status: SnapshotStatus,
    /// Why unavailable, or what was not checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The class and where it was chosen (`--snapshot-class`, the matrix, the cluster's default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_source: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub claims: Vec<ClaimSnapshot>,
    /// The sum of the restore sizes, in bytes (what the snapshots may cost in storage).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_bytes: Option<u64>,
    /// Unavailable: what replaces the snapshots (the matrix's backup step), in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
    /// The matrix's `snapshots.restoreOnFailure`: `--atomic` restores the data too.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub restore_on_failure: bool,
    /// A rollback with `--restore-data`: claim ← snapshot.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub restores: Vec<ClaimRestore>,
}

impl SnapshotPlan {
    /// The snapshots stand in for the matrix's backup: they are possible and there is data to take.
    pub fn covers_backup(&self) -> bool {
        self.status == SnapshotStatus::Planned && !self.claims.is_empty()
    }

    /// The claims apply snapshots (none unless planned).
    pub fn to_take(&self) -> &[ClaimSnapshot] {
        if self.status == SnapshotStatus::Planned {
            &self.claims
        } else {
            &[]
        }
    }
}

/// What the user asked for.
#[derive(Debug, Clone, Default)]
pub struct SnapshotRequest {
    /// `--snapshot`: every claim of the release.
    pub all: bool,
    /// `--snapshot-class`.
    pub class: Option<String>,
    /// `--no-snapshot`: none, whatever the rules ask.
    pub none: bool,
}

/// A VolumeSnapshotClass of the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapClass {
    pub name: String,
    pub driver: String,
    pub default: bool,
    pub deletion_policy: String,
}

/// A live claim, as far as snapshots care.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClaimFacts {
    pub phase: String,
    pub capacity: Option<String>,
    /// The driver that provisioned its volume (CSI driver, else the provisioner).
    pub driver: Option<String>,
}

/// What the cluster has, for [`decide`].
#[derive(Debug, Clone)]
pub struct ClusterFacts {
    /// `Err`: why the snapshot API cannot be used (not served, not readable).
    pub api: Result<(), String>,
    pub classes: Vec<SnapClass>,
    /// The classes could not be read (a namespace tenant: they are cluster-scoped): why. A class
    /// asked for is then taken on trust, and none asked for means the driver's default class,
    /// which the snapshot controller picks.
    pub classes_unreadable: Option<String>,
    /// (namespace, claim) → facts; a claim missing here does not exist (yet).
    pub claims: BTreeMap<(String, String), ClaimFacts>,
}

fn major(tag: &str) -> Option<u64> {
    let t = tag.strip_prefix('v').unwrap_or(tag);
    let digits: String = t.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Decide the plan's snapshots. `None`: nothing asks for one.
pub fn decide(
    plan: &Plan,
    matrix: Option<&Matrix>,
    req: &SnapshotRequest,
    facts: Option<&ClusterFacts>,
) -> Option<SnapshotPlan> {
    if req.none {
        return None;
    }
    let ms = matrix.map(|m| m.snapshots.clone()).unwrap_or_default();
    // Rules that ask for every claim of the release.
    let mut all_reasons: Vec<String> = Vec::new();
    let mut by_component: BTreeMap<String, Vec<String>> = BTreeMap::new();
    if req.all {
        all_reasons.push("--snapshot".into());
    }
    let mut backup_hops = Vec::new();
    if let Some(m) = &plan.matrix {
        for h in &m.hops {
            if h.migrates_data {
                all_reasons.push(format!("the matrix says hop {} → {} migrates data", h.from, h.to));
            }
            if h.backup_required {
                backup_hops.push(format!("{} → {}", h.from, h.to));
                all_reasons.push(format!("the matrix requires a backup before hop {} → {}", h.from, h.to));
            }
            for mg in &h.migrations {
                let why = format!("migration {} runs on this data (hop {} → {})", mg.file, h.from, h.to);
                match &mg.component {
                    Some(c) => by_component.entry(c.clone()).or_default().push(why),
                    None => all_reasons.push(why),
                }
            }
        }
    }
    for (c, s) in ms.components.iter().filter(|(_, s)| s.always) {
        let _ = s;
        by_component
            .entry(c.clone())
            .or_default()
            .push(format!("the matrix snapshots component {c} before every upgrade"));
    }
    // Image major versions on workloads with claims.
    let mut by_workload: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for i in &plan.images {
        let (Some(from), Some(to)) = (&i.from, &i.to) else {
            continue;
        };
        if image_repo(from) != image_repo(to) {
            continue;
        }
        if let (Some(a), Some(b)) = (image_tag(from).and_then(major), image_tag(to).and_then(major)) {
            if a != b {
                by_workload
                    .entry(i.workload.clone())
                    .or_default()
                    .push(format!("image {} changes major version {a} → {b}", image_repo(to)));
            }
        }
    }
    let mut claims: Vec<ClaimSnapshot> = Vec::new();
    let mut seen = BTreeSet::new();
    for v in &plan.volumes {
        let Some(before) = &v.before else { continue };
        if !matches!(v.mode, Persistence::StorageClass | Persistence::ExistingClaim) || before.claims.is_empty() {
            continue;
        }
        if matches!(v.fate, Fate::New | Fate::Ephemeral) {
            continue;
        }
        let workload = v.after.as_ref().unwrap_or(before).workload.to_string();
        let mut reasons = all_reasons.clone();
        if let Some(r) = by_component.get(&v.component) {
            reasons.extend(r.iter().cloned());
        }
        if let Some(r) = by_workload.get(&workload) {
            reasons.extend(r.iter().cloned());
        }
        if reasons.is_empty() {
            continue;
        }
        let comp = ms.components.get(&v.component);
        for claim in &before.claims {
            let ns = before.workload.namespace.clone();
            if !seen.insert((ns.clone(), claim.clone())) {
                continue;
            }
            claims.push(ClaimSnapshot {
                namespace: ns,
                claim: claim.clone(),
                component: v.component.clone(),
                workload: workload.clone(),
                reasons: reasons.clone(),
                class: None,
                restore_size: None,
                quiesce: comp.is_some_and(|c| c.quiesce),
            });
        }
    }
    if claims.is_empty() {
        return None;
    }
    let backup_how = plan
        .matrix
        .as_ref()
        .and_then(|m| m.hops.iter().find_map(|h| h.backup_how.clone()));
    let fallback = (!backup_hops.is_empty()).then(|| {
        format!(
            "the matrix's backup step before {}{}: apply runs --backup-command or the chart's chartup.io/backup Job",
            backup_hops.join(", "),
            backup_how.map(|h| format!(" ({h})")).unwrap_or_default()
        )
    });
    let mut out = SnapshotPlan {
        status: SnapshotStatus::Unchecked,
        detail: None,
        class: None,
        class_source: None,
        claims,
        restore_bytes: None,
        fallback: None,
        restore_on_failure: ms.restore_on_failure,
        restores: vec![],
    };
    // The class asked for, most specific first: the flag, the component's, the matrix's.
    let asked = |c: &ClaimSnapshot| -> Option<(String, String)> {
        req.class
            .clone()
            .map(|x| (x, "--snapshot-class".to_string()))
            .or_else(|| {
                ms.components
                    .get(&c.component)
                    .and_then(|s| s.class.clone())
                    .map(|x| (x, format!("the matrix (component {})", c.component)))
            })
            .or_else(|| ms.class.clone().map(|x| (x, "the matrix".to_string())))
    };
    let Some(facts) = facts else {
        for c in &mut out.claims {
            c.class = asked(c).map(|(x, _)| x);
        }
        out.detail = Some(
            "offline plan: whether the cluster can take them was not checked, and apply takes no snapshot from an \
             offline plan; plan against the cluster (`chartup plan RELEASE CHART`) to take them"
                .into(),
        );
        out.fallback = fallback;
        return Some(out);
    };
    let mut problems: Vec<String> = Vec::new();
    if let Err(why) = &facts.api {
        problems.push(why.clone());
    } else {
        let mut sources = BTreeSet::new();
        for c in &mut out.claims {
            let live = facts.claims.get(&(c.namespace.clone(), c.claim.clone()));
            let Some(live) = live else {
                problems.push(format!("claim {} does not exist", c.claim));
                continue;
            };
            c.restore_size = live.capacity.clone();
            if live.phase != "Bound" {
                problems.push(format!("claim {} is {} (not Bound)", c.claim, live.phase));
                continue;
            }
            if let Some(why) = &facts.classes_unreadable {
                match asked(c) {
                    Some((name, src)) => {
                        c.class = Some(name);
                        sources.insert(format!("{src}, not checked: {why}"));
                    }
                    None => {
                        sources.insert(format!(
                            "the snapshot controller's default class for the claims' driver (not checked: {why})"
                        ));
                    }
                }
                continue;
            }
            match asked(c) {
                Some((name, src)) => match facts.classes.iter().find(|k| k.name == name) {
                    None => problems.push(format!("VolumeSnapshotClass {name} (from {src}) does not exist")),
                    Some(k) if live.driver.as_deref().is_some_and(|d| d != k.driver) => problems.push(format!(
                        "VolumeSnapshotClass {name} (from {src}) is for driver {}, claim {} is on {}",
                        k.driver,
                        c.claim,
                        live.driver.as_deref().unwrap_or("")
                    )),
                    Some(_) => {
                        c.class = Some(name);
                        sources.insert(src);
                    }
                },
                None => {
                    let defaults: Vec<&SnapClass> = facts
                        .classes
                        .iter()
                        .filter(|k| k.default && live.driver.as_deref().is_none_or(|d| d == k.driver))
                        .collect();
                    match defaults.as_slice() {
                        [k] => {
                            c.class = Some(k.name.clone());
                            sources.insert(format!("the cluster's default class for {}", k.driver));
                        }
                        [] => problems.push(format!(
                            "no default VolumeSnapshotClass for driver {} (claim {}): mark one with {}: \"true\" or pass --snapshot-class",
                            live.driver.as_deref().unwrap_or("(unknown)"),
                            c.claim,
                            DEFAULT_CLASS_ANNOTATION
                        )),
                        many => problems.push(format!(
                            "{} default VolumeSnapshotClasses for driver {} ({}): the snapshot controller refuses; pass --snapshot-class",
                            many.len(),
                            live.driver.as_deref().unwrap_or("(unknown)"),
                            many.iter().map(|k| k.name.as_str()).collect::<Vec<_>>().join(", ")
                        )),
                    }
                }
            }
        }
        let classes: BTreeSet<&str> = out.claims.iter().filter_map(|c| c.class.as_deref()).collect();
        if classes.len() == 1 {
            out.class = classes.into_iter().next().map(str::to_string);
        }
        if !sources.is_empty() {
            out.class_source = Some(sources.into_iter().collect::<Vec<_>>().join(", "));
        }
        let sizes: Vec<Option<u64>> = out
            .claims
            .iter()
            .map(|c| c.restore_size.as_deref().and_then(quantity_bytes))
            .collect();
        if sizes.iter().all(Option::is_some) {
            out.restore_bytes = Some(sizes.into_iter().flatten().sum());
        }
    }
    if problems.is_empty() {
        out.status = SnapshotStatus::Planned;
    } else {
        out.status = SnapshotStatus::Unavailable;
        out.detail = Some(problems.join("; "));
        out.fallback = fallback;
    }
    Some(out)
}

/// Add the refusals and warnings the snapshot decision implies to the plan, and keep it.
pub fn attach(plan: &mut Plan, snaps: Option<SnapshotPlan>, req: &SnapshotRequest) {
    let Some(s) = snaps else {
        if req.all {
            plan.warnings.push(
                "--snapshot: the release has no persistent claims before this upgrade: nothing to snapshot".into(),
            );
        }
        plan.snapshots = None;
        return;
    };
    if s.status == SnapshotStatus::Unavailable {
        let why = s.detail.clone().unwrap_or_default();
        if req.all {
            plan.refusals
                .push(format!("--snapshot: the volumes cannot be snapshotted: {why}"));
        } else {
            plan.warnings.push(format!(
                "{} claim(s) should be snapshotted before this upgrade, but cannot be: {why}{}",
                s.claims.len(),
                s.fallback
                    .as_deref()
                    .map(|f| format!("; falling back to {f}"))
                    .unwrap_or_else(|| "; the upgrade will not be reversible for its data".into())
            ));
        }
    }
    plan.snapshots = Some(s);
}

/// A Kubernetes quantity in bytes (`1Gi`, `500M`, `1073741824`); None for what it cannot read.
pub fn quantity_bytes(q: &str) -> Option<u64> {
    let q = q.trim();
    let split = q.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(q.len());
    let (num, unit) = q.split_at(split);
    let n: f64 = num.parse().ok()?;
    let mult: f64 = match unit {
        "" => 1.0,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        _ => return None,
    };
    Some((n * mult).round() as u64)
}

/// Bytes for people, in binary units (`3Gi`, `1.5Gi`, `512Mi`).
pub fn human_bytes(b: u64) -> String {
    const UNITS: [(&str, u64); 4] = [("Ti", 1 << 40), ("Gi", 1 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10)];
    for (u, m) in UNITS {
        if b >= m {
            let v = b as f64 / m as f64;
            return if (v - v.round()).abs() < 0.05 {
                format!("{}{u}", v.round() as u64)
            } else {
                format!("{v:.1}{u}")
            };
        }
    }
    format!("{b}B")
}

impl SnapshotPlan {
    /// The headline: what is snapshotted, with which class, at what cost — or why not.
    pub fn headline(&self) -> String {
        let n = self.claims.len();
        if n == 0 && !self.restores.is_empty() {
            return format!(
                "{} claim(s) restored from VolumeSnapshots (--restore-data); the data they hold now is set aside, not deleted",
                self.restores.len()
            );
        }
        match self.status {
            SnapshotStatus::Planned => format!(
                "{n} claim(s) snapshotted before the upgrade (VolumeSnapshot {API_VERSION}), class {}{}{}",
                self.class.as_deref().unwrap_or("(per claim)"),
                self.class_source
                    .as_deref()
                    .map(|s| format!(" from {s}"))
                    .unwrap_or_default(),
                self.restore_bytes
                    .map(|b| format!(", restore size {} in total", human_bytes(b)))
                    .unwrap_or_default()
            ),
            SnapshotStatus::Unavailable => format!(
                "{n} claim(s) should be snapshotted, but no snapshot is possible: {}{}",
                self.detail.as_deref().unwrap_or(""),
                self.fallback
                    .as_deref()
                    .map(|f| format!(" — falls back to {f}"))
                    .unwrap_or_else(|| " — no fallback: the data is not reversible".into())
            ),
            SnapshotStatus::Unchecked => format!(
                "{n} claim(s) to snapshot before the upgrade (not checked: {})",
                self.detail.as_deref().unwrap_or("")
            ),
        }
    }

    /// One line per claim (and per restore).
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for c in &self.claims {
            let _ = c;
            let mut l = String::new();
            let _ = write!(l, "{} ({})", c.claim, c.workload);
            if let Some(s) = &c.restore_size {
                let _ = write!(l, ", {s}");
            }
            if c.quiesce {
                l.push_str(", component scaled to 0 first");
            }
            let _ = write!(l, ": {}", c.reasons.join("; "));
            out.push(l);
        }
        for r in &self.restores {
            out.push(format!(
                "restore {} ← snapshot {} (taken by revision {}{}); {}",
                r.claim,
                r.snapshot,
                r.revision,
                r.restore_size.as_deref().map(|s| format!(", {s}")).unwrap_or_default(),
                r.set_aside
            ));
        }
        out
    }

    /// The plan's Markdown section.
    pub fn markdown(&self) -> String {
        let mut o = format!("### Snapshots\n\n{}\n", self.headline());
        if !self.claims.is_empty() {
            o.push_str("\n| Claim | Workload | Restore size | Class | Why |\n|---|---|---|---|---|\n");
            for c in &self.claims {
                let _ = writeln!(
                    o,
                    "| `{}` | `{}` | {} | {} | {} |",
                    c.claim,
                    c.workload,
                    c.restore_size.as_deref().unwrap_or("?"),
                    c.class.as_deref().unwrap_or("?"),
                    c.reasons.join("; ")
                );
            }
        }
        if !self.restores.is_empty() {
            o.push_str("\n| Claim | Restored from | Taken by revision | Data now in the claim |\n|---|---|---|---|\n");
            for r in &self.restores {
                let _ = writeln!(
                    o,
                    "| `{}` | `{}` | {} | {} |",
                    r.claim, r.snapshot, r.revision, r.set_aside
                );
            }
        }
        o
    }
}

#[cfg(test)]
mod tests;
