//! Reading a matrix file: the documented format (docs/matrix-format.md) into a checked [`Matrix`].
//!
//! Values that can be wrong (versions, constraints, policies) are read as `Spanned` so every
//! error names the file, line, column and field, and checking goes on after an error so that
//! `chartup matrix check` reports every problem at once. Unknown fields are found by
//! [`super::fields`] on the YAML events (serde's `deny_unknown_fields` stops at the first one).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::{fields, Edge, Matrix, Policy, Script};
use crate::analysis::{Persistence, Verdict};
use crate::version::{Constraints, Version};

/// The format version this code reads.
pub const FORMAT: u64 = 1;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
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
#[serde(rename_all = "camelCase")]
struct RawComponent {
    #[serde(default)]
    carry_volumes: bool,
    /// How long this component's rollout may take (`90s`, `10m`, `1h30m`), instead of `--timeout`.
    #[serde(default)]
    timeout: Option<Spanned<String>>,
    /// What earlier versions called this component (component label or workload name): the
    /// workloads are one component across the rename, where evidence alone would not pair them.
    #[serde(default)]
    renamed_from: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBackup {
    required: bool,
    #[serde(default)]
    how: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
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
#[serde(rename_all = "camelCase")]
struct RawMigrations {
    dir: String,
    #[serde(default)]
    component: Option<String>,
    scripts: Vec<RawScript>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
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
        if self.line > 0 && self.field.is_empty() {
            write!(f, "{}:{}:{}: {}", self.file, self.line, self.column, self.message)
        } else if self.line > 0 {
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

fn parse_policy(s: &str) -> Option<Policy> {
    match s {
        "allow" => Some(Policy::Allow),
        "refuse" => Some(Policy::Refuse),
        _ => None,
    }
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
    let mut errs: Vec<MatrixError> = fields::unknown_fields(text, fields::MATRIX)
        .into_iter()
        .map(|u| MatrixError {
            file: file.to_string(),
            line: u.line,
            column: u.column,
            field: u.field,
            message: u.message,
        })
        .collect();
    let raw: RawMatrix = match serde_saphyr::from_str(text) {
        Ok(raw) => raw,
        Err(e) => {
            // A syntax or type error ends the reading: report it with the unknown fields found.
            let msg = e.to_string();
            let first = msg.lines().next().unwrap_or("").to_string();
            let (line, column, message) = match e.location().filter(|l| l.line() > 0) {
                Some(l) => (l.line(), l.column(), first),
                None => (0, 0, first + &location_suffix(&msg)),
            };
            errs.push(MatrixError {
                file: file.to_string(),
                line,
                column,
                field: String::new(),
                message,
            });
            errs.sort_by_key(|e| (e.line, e.column));
            return Err(MatrixErrors(errs));
        }
    };
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
                // Reported by `fields` as an unknown field, with a "did you mean".
                _ => continue,
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
    let mut renames = Vec::new();
    for (name, c) in &raw.components {
        for (i, r) in c.renamed_from.iter().enumerate() {
            let old = r.value.trim();
            if old.is_empty() || old == name {
                err(
                    &mut errs,
                    &r.referenced,
                    format!("components.{name}.renamedFrom[{i}]"),
                    format!(
                        "{:?}: must name the component's earlier name, not be empty or its own",
                        r.value
                    ),
                );
            } else {
                renames.push((old.to_string(), name.clone()));
            }
        }
    }
    if !errs.is_empty() {
        errs.sort_by_key(|e| (e.line, e.column));
        return Err(MatrixErrors(errs));
    }
    Ok(Matrix {
        renames,
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

#[cfg(test)]
mod tests {
    use super::super::testdata::FATE;
    use super::super::UpgradeFacts;
    use super::*;

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
        let v = m.evaluate("1.0.0", "2.0.0", &UpgradeFacts::default());
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

    /// `matrix check` goes on after an unknown field: every problem of the file, in order, each as
    /// `FILE:LINE:COLUMN: FIELD: message` (docs/matrix-format.md), unknown fields with a hint.
    #[test]
    fn every_problem_is_reported_in_the_documented_format() {
        let bad = "matrix: 1\nchart: x\nversions: [1.0.0, one]\nbakup: {required: true}\nupgrades:\n  - from: \">=1.0 <<2\"\n    to: 2.0.0\n    dataLos: {storageClass: loss}\n    configChange: never\n";
        let errs = parse(bad, "x.yaml", None).unwrap_err();
        let lines: Vec<String> = errs.0.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            lines,
            [
                "x.yaml:3:19: versions[1]: \"one\": invalid semantic version",
                "x.yaml:4:1: bakup: unknown field; did you mean \"backup\"?",
                format!(
                    "x.yaml:6:11: upgrades[0].from: \">=1.0 <<2\": {}",
                    Constraints::parse(">=1.0 <<2").unwrap_err()
                )
                .as_str(),
                "x.yaml:8:5: upgrades[0].dataLos: unknown field; did you mean \"dataLoss\"?",
                "x.yaml:9:19: upgrades[0].configChange: \"never\": expected allow or refuse",
            ]
        );
    }

    /// A type error stops serde, but the unknown fields found before it are still reported, and
    /// the type error has its line and column too.
    #[test]
    fn type_errors_keep_their_place_and_the_unknown_fields() {
        let bad = "matrix: 1\nchart: x\nversions: [1.0.0]\ndowngrade: allow\nbackup: {required: maybe}\n";
        let errs = parse(bad, "x.yaml", None).unwrap_err().0;
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert_eq!(
            errs[0].to_string(),
            "x.yaml:4:1: downgrade: unknown field; did you mean \"downgrades\"?"
        );
        assert_eq!((errs[1].line, errs[1].column), (5, 20), "{}", errs[1]);
    }

    /// The full example of docs/matrix-format.md uses every field: it must read without an
    /// unknown field, which keeps `fields::MATRIX` in step with the serde structs above.
    #[test]
    fn the_documented_example_reads_cleanly() {
        let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/matrix-format.md")).unwrap();
        let start = doc
            .find("```yaml\nmatrix: 1")
            .expect("the example in docs/matrix-format.md")
            + 8;
        let example = &doc[start..start + doc[start..].find("```").unwrap()];
        let m = parse(example, "example.yaml", None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(m.chart, "fate");
        assert_eq!(m.timeouts.get("mysql"), Some(&600));
        assert!(m.carry_volumes.contains("mysql") && m.backup_required);
    }
}
