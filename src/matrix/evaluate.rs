//! Judging one upgrade against a checked matrix: the path through listed versions, each hop's
//! data-loss verdicts, backup and change policies, and the migrations chained along it.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde::{Deserialize, Serialize};

use super::{Edge, Matrix, Migration, Policy};
use crate::analysis::{Persistence, Verdict};
use crate::version::Version;

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
    /// The matrix says this hop rewrites data on the volumes (`migratesData`): snapshot before it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub migrates_data: bool,
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
                migrates_data: rule.is_some_and(|r| r.migrates_data),
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
            "{}: {} versions ({} … {}), {} upgrade rules, {} migrations{}{}{}{}{}{}",
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
            if self.renames.is_empty() {
                String::new()
            } else {
                format!(
                    ", renamed {}",
                    self.renames
                        .iter()
                        .map(|(a, b)| format!("{a} → {b}"))
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

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::super::testdata::fate as m;
    use super::*;

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
}
