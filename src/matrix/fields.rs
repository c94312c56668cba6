//! Unknown fields of a matrix file, all of them, each with its place and a "did you mean".
//!
//! serde's `deny_unknown_fields` stops at the first unknown field and its message has no column,
//! so `matrix check` could not report every problem. Instead the YAML events are walked against
//! [`MATRIX`], the format's field tree (kept in step with the serde structs of `format.rs` by the
//! test that checks the full example of docs/matrix-format.md). Only keys are judged here; values
//! are checked by `format.rs`, and a syntax error is left to serde, which reports it with its place.

use serde_saphyr::granit_parser::{Event, Marker, Parser, StrInput};

/// Where a field may appear and what it holds.
#[derive(Clone, Copy)]
pub(super) enum Shape {
    /// A value whose keys are not checked here (scalars, free text).
    Any,
    /// A mapping with these fields.
    Map(&'static [(&'static str, Shape)]),
    /// A list of one shape.
    Seq(&'static Shape),
    /// A mapping whose keys the user names (components), each value of one shape.
    Named(&'static Shape),
}

use Shape::Any;

const BACKUP: Shape = Shape::Map(&[("required", Any), ("how", Any)]);
const DATA_LOSS: Shape = Shape::Map(&[("storageClass", Any), ("existingClaim", Any), ("none", Any)]);
const EDGE: Shape = Shape::Map(&[
    ("from", Any),
    ("to", Any),
    ("allowed", Any),
    ("dataLoss", DATA_LOSS),
    ("backup", Any),
    ("configChange", Any),
    ("topologyChange", Any),
    ("note", Any),
]);
const SCRIPT: Shape = Shape::Map(&[("file", Any), ("from", Any), ("to", Any), ("down", Any)]);
const MIGRATIONS: Shape = Shape::Map(&[("dir", Any), ("component", Any), ("scripts", Shape::Seq(&SCRIPT))]);
const COMPONENT: Shape = Shape::Map(&[("carryVolumes", Any), ("timeout", Any), ("renamedFrom", Any)]);

/// The fields of a matrix file (docs/matrix-format.md).
pub(super) const MATRIX: Shape = Shape::Map(&[
    ("matrix", Any),
    ("chart", Any),
    ("description", Any),
    ("versions", Any),
    ("downgrades", Any),
    ("unlistedUpgrades", Any),
    ("order", Any),
    ("backup", BACKUP),
    ("configChange", Any),
    ("topologyChange", Any),
    ("upgrades", Shape::Seq(&EDGE)),
    ("migrations", MIGRATIONS),
    ("components", Shape::Named(&COMPONENT)),
]);

/// An unknown field: 1-based line and column of its key, its path, the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Unknown {
    pub line: u64,
    pub column: u64,
    pub field: String,
    pub message: String,
}

/// Every unknown field of the first document of `text`, in document order. A syntax error ends
/// the walk quietly (the caller's serde pass reports it).
pub(super) fn unknown_fields(text: &str, shape: Shape) -> Vec<Unknown> {
    let mut w = Walk {
        parser: Parser::new_from_str(text),
        out: Vec::new(),
    };
    while let Some((ev, _)) = w.next() {
        match ev {
            Event::StreamStart | Event::DocumentStart(..) => continue,
            Event::StreamEnd | Event::DocumentEnd => break,
            ev => {
                let _ = w.node(ev, shape, "");
                break;
            }
        }
    }
    w.out
}

struct Walk<'a> {
    parser: Parser<'a, StrInput<'a>>,
    out: Vec<Unknown>,
}

impl<'a> Walk<'a> {
    /// The next event that is part of the tree (comments and anchor names skipped); None at the
    /// end or at a syntax error.
    fn next(&mut self) -> Option<(Event<'a>, Marker)> {
        loop {
            match self.parser.next_event()? {
                Ok((Event::Comment(..) | Event::Anchor(..), _)) => continue,
                Ok((ev, span)) => return Some((ev, span.start)),
                Err(_) => return None,
            }
        }
    }

    /// Walks the node that starts with `ev`; None when the events ran out.
    fn node(&mut self, ev: Event<'a>, shape: Shape, path: &str) -> Option<()> {
        match ev {
            Event::MappingStart(..) => loop {
                let (key, at) = self.next()?;
                let key = match key {
                    Event::MappingEnd => return Some(()),
                    Event::Scalar(k, ..) => k.into_owned(),
                    complex => {
                        // A key that is itself a collection: no field of the format.
                        self.node(complex, Any, path)?;
                        let (v, _) = self.next()?;
                        self.node(v, Any, path)?;
                        continue;
                    }
                };
                let field = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                let sub = match shape {
                    Shape::Map(fields) => match fields.iter().find(|(name, _)| *name == key) {
                        Some((_, s)) => *s,
                        // A merge key (`<<: *defaults`) brings fields serde checks itself.
                        None if key == "<<" => Any,
                        None => {
                            let names: Vec<&str> = fields.iter().map(|(n, _)| *n).collect();
                            self.out.push(Unknown {
                                line: at.line() as u64,
                                column: at.col() as u64 + 1,
                                field,
                                message: unknown_message(&key, &names),
                            });
                            let (v, _) = self.next()?;
                            self.node(v, Any, "")?;
                            continue;
                        }
                    },
                    Shape::Named(s) => *s,
                    Shape::Any | Shape::Seq(_) => Any,
                };
                let (v, _) = self.next()?;
                self.node(v, sub, &field)?;
            },
            Event::SequenceStart(..) => {
                let item = match shape {
                    Shape::Seq(s) => *s,
                    _ => Any,
                };
                let mut i = 0;
                loop {
                    let (ev, _) = self.next()?;
                    if matches!(ev, Event::SequenceEnd) {
                        return Some(());
                    }
                    self.node(ev, item, &format!("{path}[{i}]"))?;
                    i += 1;
                }
            }
            // Scalars and aliases hold no fields.
            _ => Some(()),
        }
    }
}

/// `unknown field; did you mean "dataLoss"?`, or the list of fields when none is close.
fn unknown_message(key: &str, names: &[&str]) -> String {
    match did_you_mean(key, names) {
        Some(n) => format!("unknown field; did you mean {n:?}?"),
        None => format!("unknown field (expected one of: {})", names.join(", ")),
    }
}

/// The known name closest to `key` when it is close enough to be a slip: an edit distance
/// (ignoring case) of at most a third of the longer word, and at least 1 (as cargo's hints).
pub(super) fn did_you_mean<'n>(key: &str, names: &[&'n str]) -> Option<&'n str> {
    let k = key.to_lowercase();
    names
        .iter()
        .map(|n| (edit_distance(&k, &n.to_lowercase()), *n))
        .filter(|(d, n)| *d <= (k.chars().count().max(n.chars().count()) / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n)
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let subst = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = subst.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("datalos", "dataloss"), 1);
        assert_eq!(
            did_you_mean("carryVolume", &["carryVolumes", "timeout", "renamedFrom"]),
            Some("carryVolumes")
        );
        assert_eq!(did_you_mean("dataloss", &["from", "dataLoss"]), Some("dataLoss"));
        assert_eq!(did_you_mean("bogus", &["from", "to", "backup"]), None);
        // One slip in a short word is still a slip; two are not.
        assert_eq!(did_you_mean("tp", &["to", "from"]), Some("to"));
        assert_eq!(did_you_mean("xy", &["to"]), None);
    }

    #[test]
    fn every_unknown_field_with_its_place_and_path() {
        let text = "matrix: 1\nchart: x\nversion: [1.0.0]\nupgrades:\n  - from: a\n    too: b\n    dataLoss: {storageclass: loss, disk: loss}\ncomponents:\n  mysql: {carryVolume: true}\n# bogus: 1\nbogus: 1\n";
        let got = unknown_fields(text, MATRIX);
        let brief: Vec<(u64, u64, &str)> = got.iter().map(|u| (u.line, u.column, u.field.as_str())).collect();
        assert_eq!(
            brief,
            [
                (3, 1, "version"),
                (6, 5, "upgrades[0].too"),
                (7, 16, "upgrades[0].dataLoss.storageclass"),
                (7, 36, "upgrades[0].dataLoss.disk"),
                (9, 11, "components.mysql.carryVolume"),
                (11, 1, "bogus"),
            ]
        );
        assert_eq!(got[0].message, "unknown field; did you mean \"versions\"?");
        assert_eq!(got[1].message, "unknown field; did you mean \"to\"?");
        assert_eq!(got[2].message, "unknown field; did you mean \"storageClass\"?");
        assert_eq!(
            got[3].message,
            "unknown field (expected one of: storageClass, existingClaim, none)"
        );
        assert_eq!(got[4].message, "unknown field; did you mean \"carryVolumes\"?");
    }

    #[test]
    fn syntax_errors_and_merge_keys_are_left_to_serde() {
        assert!(unknown_fields("matrix: [1\nbogus: 2\n", MATRIX).is_empty());
        let text = "matrix: 1\nbase: &b {from: a, to: b}\n";
        assert_eq!(unknown_fields(text, MATRIX).len(), 1);
        let merged = "matrix: 1\nupgrades:\n  - <<: {from: a}\n    to: b\n";
        assert!(unknown_fields(merged, MATRIX).is_empty());
    }
}
