//! User-supplied values: `-f`, `--set-json`, `--set`, `--set-string`, `--set-file`,
//! `--set-literal`, merged as Helm 4's `pkg/cli/values/options.go` `MergeValues` does.
//!
//! The order is fixed by flag *kind*, not by the command line: all `-f` files (each file's
//! documents merged, then the files merged with `MergeMaps`), then `--set-json` (a whole JSON
//! object is merged with `MergeMaps`, `k=v` pairs go through strvals), then `--set`,
//! `--set-string`, `--set-file`, `--set-literal`. Error texts are Helm's.

use std::path::Path;

use super::strvals;
use super::{load_values, merge_maps, os_error};
use crate::value::{Map, Value};

/// The value flags of `helm template`/`install`/`upgrade`.
#[derive(Debug, Clone, Default)]
pub struct ValueOptions {
    /// `-f/--values`; `-` reads standard input.
    pub values_files: Vec<String>,
    /// `--set`
    pub set: Vec<String>,
    /// `--set-string`
    pub set_string: Vec<String>,
    /// `--set-file`
    pub set_file: Vec<String>,
    /// `--set-json`
    pub set_json: Vec<String>,
    /// `--set-literal`
    pub set_literal: Vec<String>,
}

/// A values error; `Display` is Helm's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValuesError(pub String);

impl std::fmt::Display for ValuesError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ValuesError {}

/// Reads a `-f`/`--set-file` source: `-` is stdin, anything else a local path (URLs are not
/// fetched).
fn read_file(path: &str) -> Result<Vec<u8>, String> {
    if path.trim() == "-" {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf).map_err(|e| e.to_string())?;
        return Ok(buf);
    }
    std::fs::read(path).map_err(|e| os_error("open", Path::new(path), &e))
}

impl ValueOptions {
    /// `MergeValues`: the user values as one `map[string]interface {}`.
    pub fn merge_values(&self) -> Result<Value, ValuesError> {
        self.merge_values_with(&mut |p| read_file(p))
    }

    /// [`merge_values`](Self::merge_values) with a custom file reader (tests, stdin handling).
    pub fn merge_values_with(
        &self,
        reader: &mut dyn FnMut(&str) -> Result<Vec<u8>, String>,
    ) -> Result<Value, ValuesError> {
        let mut base = Map::new();
        for path in &self.values_files {
            let raw = reader(path).map_err(ValuesError)?;
            let current = load_values(&raw).map_err(|e| ValuesError(format!("failed to parse {path}: {e}")))?;
            base = merge_maps(&base, &current);
        }
        for value in &self.set_json {
            let trimmed = value.trim();
            if trimmed.starts_with('{') {
                let parsed: Result<serde_json::Value, _> = serde_json::from_str(trimmed);
                match parsed.as_ref().map(strvals::json_to_value) {
                    Ok(Value::Map(m)) => base = merge_maps(&base, &m),
                    // `null` decodes into a nil map: nothing to merge.
                    Ok(Value::Nil) => {}
                    _ => return Err(ValuesError(format!("failed parsing --set-json data JSON: {value}"))),
                }
            } else if strvals::parse_set_json(value, &base).is_err() {
                return Err(ValuesError(format!("failed parsing --set-json data {value}")));
            }
        }
        for value in &self.set {
            strvals::parse_set(value, &base).map_err(|e| ValuesError(format!("failed parsing --set data: {e}")))?;
        }
        for value in &self.set_string {
            strvals::parse_set_string(value, &base)
                .map_err(|e| ValuesError(format!("failed parsing --set-string data: {e}")))?;
        }
        for value in &self.set_file {
            let mut file_reader = |p: &str| -> Result<Value, String> {
                let bytes = reader(p)?;
                Ok(Value::str(String::from_utf8_lossy(&bytes)))
            };
            strvals::parse_set_file(value, &base, &mut file_reader)
                .map_err(|e| ValuesError(format!("failed parsing --set-file data: {e}")))?;
        }
        for value in &self.set_literal {
            strvals::parse_set_literal(value, &base)
                .map_err(|e| ValuesError(format!("failed parsing --set-literal data: {e}")))?;
        }
        Ok(Value::Map(base))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(name: &str) -> Result<Vec<u8>, String> {
        match name {
            "a.yaml" => Ok(b"a: 1\nl: [1, 2]\nm: {x: 1, y: 2}\n---\nb: yes\nm: {y: 3}\n".to_vec()),
            "b.yaml" => Ok(b"m: {z: 4}\nl: [3]\n".to_vec()),
            "f.txt" => Ok(b"file\ncontent\n".to_vec()),
            "bom.yaml" => Ok(b"\xef\xbb\xbfa: 1\n---\n\xef\xbb\xbfb: 2\n".to_vec()),
            _ => Err(format!("open {name}: no such file or directory")),
        }
    }

    // Expectations from `helm template` with `{{ toJson .Values }}` and `typeOf` on the same inputs.
    #[test]
    fn merge_order_is_by_flag_kind() {
        let opts = ValueOptions {
            values_files: vec!["a.yaml".into(), "b.yaml".into()],
            set: vec!["a=2,s=x".into()],
            set_string: vec!["a=3".into()],
            set_json: vec![r#"{"j": {"k": [1]}, "a": 0}"#.into(), "j.q=true".into()],
            set_file: vec!["f=f.txt".into()],
            set_literal: vec!["lit=a,b".into()],
        };
        let v = opts.merge_values_with(&mut |p| files(p)).unwrap();
        assert_eq!(
            format!("{v:?}"),
            r#"{"a": "3", "b": true, "f": "file\ncontent\n", "j": {"k": [float64(1)], "q": true}, "l": [float64(3)], "lit": "a,b", "m": {"true": float64(3), "x": float64(1), "z": float64(4)}, "s": "x"}"#
        );
    }

    #[test]
    fn errors_are_helms() {
        let e = |o: ValueOptions| o.merge_values_with(&mut |p| files(p)).unwrap_err().0;
        assert_eq!(
            e(ValueOptions {
                set: vec!["a".into()],
                ..Default::default()
            }),
            r#"failed parsing --set data: key "a" has no value"#
        );
        assert_eq!(
            e(ValueOptions {
                set_json: vec!["{bad".into()],
                ..Default::default()
            }),
            "failed parsing --set-json data JSON: {bad"
        );
        assert_eq!(
            e(ValueOptions {
                set_json: vec!["a=[1".into()],
                ..Default::default()
            }),
            "failed parsing --set-json data a=[1"
        );
        assert_eq!(
            e(ValueOptions {
                values_files: vec!["nope.yaml".into()],
                ..Default::default()
            }),
            "open nope.yaml: no such file or directory"
        );
        assert_eq!(
            e(ValueOptions {
                set_file: vec!["a=nope.txt".into()],
                ..Default::default()
            }),
            "failed parsing --set-file data: open nope.txt: no such file or directory"
        );
    }

    // helm template -f bom.yaml printed {"a":1,"b":2}: BOMs at document starts are skipped.
    #[test]
    fn byte_order_marks_in_values_files() {
        let opts = ValueOptions {
            values_files: vec!["bom.yaml".into()],
            ..Default::default()
        };
        let v = opts.merge_values_with(&mut |p| files(p)).unwrap();
        assert_eq!(format!("{v:?}"), r#"{"a": float64(1), "b": float64(2)}"#);
    }
}
