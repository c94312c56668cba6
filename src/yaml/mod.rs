//! YAML and JSON as Helm reads and writes them: YAML 1.1 into Go values, go-yaml v2 output.
//!
//! Helm never uses one YAML library end to end: values go through sigs.k8s.io/yaml (go-yaml v2
//! plus an `encoding/json` round trip), `toYaml` through JSON and go-yaml v2's emitter,
//! `toYamlPretty` through yaml.v3, `toJson` through `encoding/json`. Each of those leaves marks in
//! the output (float64 numbers, natural key order, quoting, 80-column folding), so each path is a
//! port of the Go behaviour rather than a general-purpose YAML crate. Parsing uses
//! granit-parser's event stream (already in the tree through serde-saphyr); resolution and
//! emitting are our own code following go-yaml's `resolve.go`, `decode.go` and `emitterc.go`.

pub(crate) mod emit;
mod fastscan;
pub mod gofloat;
pub mod json;
mod load;
pub use load::{split_documents, split_documents_with};
pub mod resolve;
pub(crate) mod saphyr;
mod toml;

use std::fmt;

use crate::value::Value;

/// A failure reading or writing YAML; `Display` is the Go error text Helm shows.
#[derive(Clone, Debug, PartialEq)]
pub enum YamlError {
    /// go-yaml failed (`yaml: line 3: mapping values are not allowed in this context`), or a key
    /// could not be converted. Shown as sigs.k8s.io/yaml does: `error converting YAML to JSON: …`.
    Yaml(String),
    /// The JSON step of sigs.k8s.io/yaml failed (`json: unsupported value: +Inf`), same prefix.
    Json(String),
    /// apimachinery's YAMLReader rejected a `---` line (multi-document values files).
    Split(String),
    /// Writing failed (`json: unsupported value: NaN`), shown as is.
    Marshal(String),
    /// The decoded document does not fit the Go target (see [`expect_map`]).
    Unmarshal(String),
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            YamlError::Yaml(m) | YamlError::Json(m) => write!(f, "error converting YAML to JSON: {m}"),
            YamlError::Split(m) | YamlError::Marshal(m) => f.write_str(m),
            YamlError::Unmarshal(m) => write!(f, "error unmarshaling JSON: while decoding JSON: {m}"),
        }
    }
}

impl std::error::Error for YamlError {}

/// Parses the first YAML document as `sigs.k8s.io/yaml.Unmarshal` into `interface{}` does:
/// YAML 1.1 (`yes`/`on` are bools, `0755` is 493), every number a `float64`, maps
/// `map[string]interface {}` with non-string keys stringified (`on:` → `"true"`), timestamps kept
/// as strings, `<<` merges, last duplicate key wins. An empty document is `Nil`.
pub fn from_str(text: &str) -> Result<Value, YamlError> {
    load::load_first(text)
}

/// [`from_str`] reduced to what Helm's `SimpleHead` reads (`apiVersion`, `kind`,
/// `metadata.name`, `metadata.namespace`, `metadata.annotations`), for sorting rendered
/// manifests: those fields as `from_str` gives them, any other value as a placeholder `true`
/// (neither string nor nil), and exactly `from_str`'s errors. Much cheaper: the rest of the
/// document is checked but never built.
pub fn head_from_str(text: &str) -> Result<Value, YamlError> {
    load::load_head(text)
}

/// [`head_from_str`], plus the whole document as `crate::manifest::parse_yaml` would read it when
/// that comes out of the same pass (`None` otherwise: the caller parses it again).
pub fn head_and_json_from_str(text: &str) -> (Result<Value, YamlError>, Option<serde_json::Value>) {
    load::load_head_and_json(text, true)
}

/// Like [`from_str`] but with go-yaml v2's own scalar types, as sigs.k8s.io/yaml's
/// `convertToJSONableObject` sees them before the JSON step: integers are Go `int`
/// ([`Value::Int`], uint64-range integers stay float64), floats float64 including `.inf`/`.nan`.
/// For struct decoding such as Chart.yaml, where a number in a string field becomes
/// `strconv.Itoa(int)` or `FormatFloat(f, 'g', -1, 32)` depending on this type.
pub fn from_str_typed(text: &str) -> Result<Value, YamlError> {
    load::load_first_typed(text)
}

/// Helm 4's multi-document values files (`loader.LoadValues`): the text is split at `---` lines as
/// apimachinery's YAMLReader does and each document is read with [`from_str`]. The caller merges
/// them (`MergeMaps`). A bad separator line gives [`YamlError::Split`] (Helm prefixes it with
/// `error reading yaml document: `; other errors with `cannot unmarshal yaml document: `).
pub fn from_str_multi(text: &str) -> Result<Vec<Value>, YamlError> {
    load::split_documents(text)?.iter().map(|d| from_str(d)).collect()
}

/// go-yaml v2 `Marshal` of the value after a JSON round trip (Helm's `toYaml` before it trims
/// the final newline).
pub fn to_yaml(v: &Value) -> Result<String, YamlError> {
    let depth = check_nesting(v, GO_MAX_NESTING).map_err(YamlError::Marshal)?;
    with_stack_for(depth, || {
        let tree = json::to_tree(v).map_err(YamlError::Marshal)?;
        let tree = emit::reparse_json_strings(tree).map_err(YamlError::Marshal)?;
        Ok(emit::marshal(&tree))
    })
}

/// yaml.v3 with indent 2 (Helm's `toYamlPretty`).
/// Unlike `toYaml` there is no JSON round trip: yaml.v3 sees the Go values themselves, so floats
/// print with `FormatFloat(f, 'g', -1, 64)` (`1e+06`), lists are indented under their key and
/// lines are never folded.
pub fn to_yaml_pretty(v: &Value) -> Result<String, YamlError> {
    let depth = check_depth(v).map_err(YamlError::Marshal)?;
    with_stack_for(depth, || Ok(emit::marshal_v3(&v3_tree(v, 0)?)))
}

/// The value as yaml.v3's encoder sees it, numbers already formatted.
fn v3_tree(v: &Value, depth: usize) -> Result<json::Json, YamlError> {
    use json::Json;
    if depth > MAX_WRITE_DEPTH || crate::stack::stack_exhausted() {
        return Err(YamlError::Marshal("yaml: value nested too deeply".into()));
    }
    Ok(match v {
        Value::Nil => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) | Value::Int64(i) => Json::Num(i.to_string()),
        Value::Float(f) => Json::Num(match gofloat::format64(*f, gofloat::Fmt::G).as_str() {
            "+Inf" => ".inf".into(),
            "-Inf" => "-.inf".into(),
            "NaN" => ".nan".into(),
            s => s.to_string(),
        }),
        Value::String(s) => Json::Str(s.to_string()),
        // A []byte is a slice of uint8 to the encoder.
        Value::Bytes(b) => Json::Arr(b.iter().map(|x| Json::Num(x.to_string())).collect()),
        Value::List(l) => Json::Arr(
            l.items
                .iter()
                .map(|x| v3_tree(x, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Value::Map(m) => Json::Obj(
            m.entries()
                .into_iter()
                .map(|(k, x)| Ok((k, v3_tree(&x, depth + 1)?)))
                .collect::<Result<_, YamlError>>()?,
        ),
        // time.Time is written plain in RFC 3339 form.
        Value::Time(t) => Json::Num(json::rfc3339_nano(t)),
        Value::Object(o) => match o.underlying() {
            Some(u) => v3_tree(&u, depth + 1)?,
            None => Json::Obj(Vec::new()),
        },
    })
}

/// Go's nesting limit where Go has one: `toYaml` (go-yaml's reader inside sigs.k8s.io/yaml's
/// JSON→YAML step: "exceeded max depth of 10000") and `toPrettyJson` (encoding/json's scanner
/// in `Indent`) refuse more than 10,000 nested lists/maps, so helm prints "" there.
pub const GO_MAX_NESTING: usize = 10_000;
/// Where Go has no limit (`toJson`, `toYamlPretty`, `toToml`) chartup stops at this depth with
/// a clear error: the writers recurse once per level (on the big-stack thread).
pub const MAX_WRITE_DEPTH: usize = 100_000;

/// Fails when `v` contains itself (Go's encoding/json error: the writers would never end) or
/// nests more than `max` lists/maps (an iterative walk, safe at any depth).
fn check_nesting(v: &Value, max: usize) -> Result<usize, String> {
    if v.has_cycle() {
        return Err("json: unsupported value: encountered a cycle via map[string]interface {}".into());
    }
    let mut deepest = 0;
    let mut stack: Vec<(Value, usize)> = vec![(v.clone(), 0)];
    while let Some((x, d)) = stack.pop() {
        match &x {
            Value::List(_) | Value::Map(_) if d >= max => {
                return Err(format!("value nested deeper than {max} levels"));
            }
            Value::List(l) => {
                deepest = deepest.max(d + 1);
                stack.extend(l.items.iter().map(|i| (i.clone(), d + 1)))
            }
            Value::Map(m) => {
                deepest = deepest.max(d + 1);
                stack.extend(m.entries().into_iter().map(|(_, i)| (i, d + 1)))
            }
            Value::Object(o) => {
                if let Some(u) = o.underlying() {
                    stack.push((u, d));
                }
            }
            _ => {}
        }
    }
    Ok(deepest)
}

/// A value this deep is written on the big-stack thread when the caller is not on one (a test
/// or CLI thread has a few MiB of stack; the writers recurse once per level).
const SMALL_STACK_DEPTH: usize = 200;

/// Runs `f` where the stack fits a value `depth` levels deep.
fn with_stack_for<R>(depth: usize, f: impl FnOnce() -> R) -> R {
    if depth <= SMALL_STACK_DEPTH || crate::stack::on_big_stack_thread() {
        return f();
    }
    let mut f = Some(f);
    let mut out = None;
    // with_big_stack only fails when no thread can be started: then try here.
    if crate::stack::on_big_stack(|| out = f.take().map(|f| f())).is_err() {
        if let Some(f) = f.take() {
            out = Some(f());
        }
    }
    out.expect("the writer ran")
}

fn check_depth(v: &Value) -> Result<usize, String> {
    check_nesting(v, MAX_WRITE_DEPTH)
}

/// Options for [`to_json`]: `toJson` escapes HTML, `toRawJson` does not; `toPrettyJson` indents.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JsonOpts {
    /// Escape `<`, `>`, `&` as `\u003c`… (`json.Marshal`'s default).
    pub escape_html: bool,
    /// Indent with two spaces (`json.MarshalIndent(v, "", "  ")`).
    pub indent: bool,
}

/// Go `encoding/json` output (`json.Marshal`, or `json.MarshalIndent(v, "", "  ")` with `indent`).
/// Errors are Go's (`json: unsupported value: NaN`).
pub fn to_json(v: &Value, opts: JsonOpts) -> Result<String, String> {
    let depth = check_nesting(v, if opts.indent { GO_MAX_NESTING } else { MAX_WRITE_DEPTH })?;
    with_stack_for(depth, || {
        let tree = json::to_tree(v)?;
        let mut out = String::new();
        json::write_tree(
            &mut out,
            &tree,
            opts.escape_html,
            if opts.indent { Some(0) } else { None },
        );
        Ok(out)
    })
}

/// `json.Unmarshal` into `interface{}`: numbers are `float64`; errors are Go's texts
/// (`invalid character 'x' looking for beginning of value`, `unexpected end of JSON input`).
pub fn from_json(text: &str) -> Result<Value, String> {
    json::parse(text)
}

/// `json.Unmarshal` as Go leaves the target after an error, for `fromJson`/`fromJsonArray`,
/// which show what was decoded beside the error: `(None, Some(e))` for a syntax error (nothing
/// decoded); `(Some(v), Some(e))` when a number overflowed float64 (it is nil in `v`).
pub fn from_json_partial(text: &str) -> (Option<Value>, Option<String>) {
    json::parse_partial(text)
}

/// BurntSushi/toml's encoder (Helm's `toToml`).
/// Errors are the encoder's texts (`toml: cannot encode array with nil element`), which Helm's
/// `toToml` prints instead of the document.
pub fn to_toml(v: &Value) -> Result<String, String> {
    let depth = check_depth(v)?;
    with_stack_for(depth, || toml::encode(v))
}

/// `fromYamlArray`/`fromJsonArray` decode into a `[]interface{}`: null is an empty list, other
/// non-lists fail with Go's text (`json: cannot unmarshal object into Go value of type
/// []interface {}`, wrapped like [`expect_map`]'s errors).
pub fn expect_list(v: Value) -> Result<crate::value::List, YamlError> {
    let kind = match v {
        Value::List(l) => return Ok(l),
        Value::Nil => return Ok(crate::value::List::new(Vec::new())),
        Value::Map(_) => "object",
        Value::String(_) => "string",
        Value::Bool(_) => "bool",
        _ => "number",
    };
    Err(YamlError::Unmarshal(format!(
        "json: cannot unmarshal {kind} into Go value of type []interface {{}}"
    )))
}

/// Helm's values are decoded into a `map[string]interface{}`: a document that is not a map fails
/// in the JSON step with Go's text (`error unmarshaling JSON: while decoding JSON: json: cannot
/// unmarshal string into Go value of type map[string]interface {}`); null is an empty map.
pub fn expect_map(v: Value, go_type: &str) -> Result<crate::value::Map, YamlError> {
    let kind = match v {
        Value::Map(m) => return Ok(m),
        Value::Nil => return Ok(crate::value::Map::new()),
        Value::String(_) => "string",
        Value::Bool(_) => "bool",
        Value::List(_) => "array",
        _ => "number",
    };
    Err(YamlError::Unmarshal(format!(
        "json: cannot unmarshal {kind} into Go value of type {go_type}"
    )))
}

/// go-yaml's reader checks every byte sequence before parsing (`yaml_parser_update_buffer`):
/// the error it gives for the first invalid UTF-8 sequence in `data`, or None when all is valid.
/// Helm reports it as `error converting YAML to JSON: yaml: <this>`.
pub fn go_yaml_utf8_error(data: &[u8]) -> Option<&'static str> {
    let bad = std::str::from_utf8(data).err()?;
    let rest = &data[bad.valid_up_to()..];
    let lead = rest[0];
    let width = match lead {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf7 => 4,
        _ => return Some("invalid leading UTF-8 octet"),
    };
    if rest.len() < width {
        return Some("incomplete UTF-8 octet sequence");
    }
    if rest[1..width].iter().any(|b| b & 0xc0 != 0x80) {
        return Some("invalid trailing UTF-8 octet");
    }
    let mut cp = u32::from(lead) & [0, 0x7f, 0x1f, 0x0f, 0x07][width];
    for b in &rest[1..width] {
        cp = (cp << 6) | u32::from(b & 0x3f);
    }
    let shortest = match cp {
        0..=0x7f => 1,
        0x80..=0x7ff => 2,
        0x800..=0xffff => 3,
        _ => 4,
    };
    if shortest != width {
        return Some("invalid length of a UTF-8 sequence");
    }
    Some("invalid Unicode character")
}

/// Where invalid UTF-8 bytes of a template go: Go templates carry raw bytes to the output, and
/// helm then fails to read the document. Each such byte becomes the private-use character
/// `RAW_BYTE_BASE + byte`, so [`raw_bytes_error`] can rebuild the bytes and give go-yaml's error.
const RAW_BYTE_BASE: u32 = 0x10_FF00;

/// `data` as text, invalid bytes kept as private-use characters (see [`raw_bytes_error`]).
pub fn decode_keeping_raw_bytes(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len());
    for chunk in data.utf8_chunks() {
        out.push_str(chunk.valid());
        for &b in chunk.invalid() {
            out.push(char::from_u32(RAW_BYTE_BASE + u32::from(b)).unwrap_or('\u{FFFD}'));
        }
    }
    out
}

/// go-yaml's error for a rendered document holding bytes [`decode_keeping_raw_bytes`] kept.
pub fn raw_bytes_error(doc: &str) -> Option<&'static str> {
    let is_raw = |c: char| (RAW_BYTE_BASE..=RAW_BYTE_BASE + 0xff).contains(&(c as u32));
    // Every kept byte is encoded with a leading 0xF4: most documents are ruled out by one scan.
    if !doc.as_bytes().contains(&0xF4) || !doc.chars().any(is_raw) {
        return None;
    }
    let mut bytes = Vec::with_capacity(doc.len());
    for c in doc.chars() {
        if is_raw(c) {
            bytes.push((c as u32 - RAW_BYTE_BASE) as u8);
        } else {
            bytes.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
        }
    }
    go_yaml_utf8_error(&bytes)
}
