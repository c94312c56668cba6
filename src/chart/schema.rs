//! values.schema.json validation, as Helm 4's `pkg/chart/common/util/jsonschema.go` does it.
//!
//! Helm validates with santhosh-tekuri/jsonschema v6 (every draft, chosen by `$schema`,
//! 2020-12 by default). We validate with `boon`, the same author's Rust implementation of the same
//! design, and print its error tree the way v6 prints its own (`- at '/path': got string, want
//! integer`, nested causes indented by two spaces), since boon's own messages are worded
//! differently. Helm validates the root chart, then each subchart (recursively) whose values are
//! present and not null; the report is one `<chart>:\n<errors>\n` section per failing chart.
//! Within one chart, Helm's order of sibling property errors follows Go map iteration (random),
//! ours is boon's (stable). Remote `$ref`s are not fetched.

use boon::{Compiler, ErrorKind, Schemas, ValidationError};

use super::Chart;
use crate::value::Value;

const SCHEMA_URL: &str = "file:///values.schema.json";

/// Converts a Go value into the JSON the validator sees.
fn to_json(v: &Value) -> serde_json::Value {
    match v {
        Value::Nil => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Int(i) | Value::Int64(i) => serde_json::Value::from(*i),
        Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null),
        Value::String(s) => serde_json::Value::String(s.to_string()),
        Value::Bytes(b) => serde_json::Value::String(String::from_utf8_lossy(b).into_owned()),
        Value::List(l) => serde_json::Value::Array(l.items.iter().map(to_json).collect()),
        Value::Map(m) => {
            let mut o = serde_json::Map::new();
            for (k, v) in m.entries() {
                o.insert(k, to_json(&v));
            }
            serde_json::Value::Object(o)
        }
        Value::Time(_) | Value::Object(_) => serde_json::Value::Null,
    }
}

/// `ValidateAgainstSchema`: the root's schema, then every subchart's, depth first.
pub fn validate_against_schema(chart: &Chart, values: &Value) -> Result<(), String> {
    let mut sb = String::new();
    if let Some(schema) = &chart.schema {
        if let Err(e) = validate_against_single_schema(values, schema) {
            sb.push_str(&format!("{}:\n", chart.name()));
            sb.push_str(&e);
        }
    }
    for sub in &chart.dependencies {
        let raw = values.as_map().and_then(|m| m.get(sub.name()));
        match raw {
            None | Some(Value::Nil) => continue,
            Some(v @ Value::Map(_)) => {
                if let Err(e) = validate_against_schema(sub, &v) {
                    sb.push_str(&e);
                }
            }
            Some(other) => sb.push_str(&format!(
                "{}:\ninvalid type for values: expected object (map), got {}\n",
                sub.name(),
                other.type_name()
            )),
        }
    }
    if sb.is_empty() {
        Ok(())
    } else {
        Err(sb)
    }
}

/// `ValidateAgainstSingleSchema`: the error text is v6's with its first line removed, plus `\n`.
pub fn validate_against_single_schema(values: &Value, schema_json: &[u8]) -> Result<(), String> {
    let schema: serde_json::Value = serde_json::from_slice(schema_json).map_err(|e| {
        if e.is_eof() {
            "unexpected EOF".to_string()
        } else {
            e.to_string()
        }
    })?;
    let instance = match values {
        Value::Map(_) => to_json(values),
        // `values.AsMap()` of a nil map is an empty map.
        _ => serde_json::Value::Object(serde_json::Map::new()),
    };
    if accepted_quickly(&schema, &instance) {
        return Ok(());
    }
    validate_fully(schema, &instance)
}

/// boon's own path, compile (with its check against the metaschemas) then validate; it words
/// every error.
fn validate_fully(schema: serde_json::Value, instance: &serde_json::Value) -> Result<(), String> {
    let mut schemas = Schemas::new();
    let mut compiler = Compiler::new();
    compiler
        .add_resource(SCHEMA_URL, schema)
        .map_err(|e| compile_error(&e))?;
    let idx = compiler
        .compile(SCHEMA_URL, &mut schemas)
        .map_err(|e| compile_error(&e))?;
    match schemas.validate(instance, idx) {
        Ok(()) => Ok(()),
        Err(e) => Err(format!("{}\n", display_v6(&e))),
    }
}

/// Where the schema is registered on the quick path: on boon's metaschema host, the one host whose
/// documents it does not check against their metaschema itself (we have just done that).
const QUICK_URL: &str = "https://json-schema.org/chartup/values.schema.json";

/// The common case, a self-contained schema that accepts the values, without compiling the
/// metaschemas of all five drafts (issue 16: that was 44 % of the instructions of rendering an
/// umbrella chart with one `values.schema.json`).
///
/// boon checks a schema against its metaschema through a process-wide set of *every* draft's
/// metaschemas (2019-09 and 2020-12 are eight documents each), compiled on first use. Here only the
/// schema's own draft is compiled, the schema is checked against it exactly as boon would (the same
/// metaschema document, format assertions on), then compiled where boon skips its own check, and the
/// values validated. `true` only if all of that passes; anything else — an unusual schema, a
/// metaschema failure, a compile error, invalid values — returns `false` and the caller takes the
/// full path, which also words every message. So this decides nothing the full path would decide
/// otherwise: it can only say "accepted" where the full path says so too
/// (`tests::the_quick_path_never_accepts_what_the_full_path_refuses`).
fn accepted_quickly(schema: &serde_json::Value, instance: &serde_json::Value) -> bool {
    let Some(draft) = std_metaschema(schema) else {
        return false;
    };
    if !self_contained(schema) {
        return false;
    }
    let Some((metas, m)) = metaschema(draft) else {
        return false;
    };
    if metas.validate(schema, *m).is_err() {
        return false;
    }
    let mut schemas = Schemas::new();
    let mut compiler = Compiler::new();
    if compiler.add_resource(QUICK_URL, schema.clone()).is_err() {
        return false;
    }
    match compiler.compile(QUICK_URL, &mut schemas) {
        Ok(idx) => schemas.validate(instance, idx).is_ok(),
        Err(_) => false,
    }
}

/// The standard metaschemas, by the URLs boon knows them under.
const DRAFTS: [&str; 5] = [
    "http://json-schema.org/draft-04/schema",
    "http://json-schema.org/draft-06/schema",
    "http://json-schema.org/draft-07/schema",
    "https://json-schema.org/draft/2019-09/schema",
    "https://json-schema.org/draft/2020-12/schema",
];

/// Which of [`DRAFTS`] a schema names in `$schema` (boon's default, 2020-12, without one); `None`
/// for a custom metaschema, which takes the full path.
fn std_metaschema(schema: &serde_json::Value) -> Option<usize> {
    let named = match schema.get("$schema") {
        None => return Some(4),
        Some(serde_json::Value::String(s)) => s.trim_end_matches('#'),
        Some(_) => return None,
    };
    let path = named
        .strip_prefix("http://json-schema.org/")
        .or_else(|| named.strip_prefix("https://json-schema.org/"))?;
    DRAFTS
        .iter()
        .position(|d| d.ends_with(path) && d[..d.len() - path.len()].ends_with(".org/"))
}

/// One draft's metaschema, compiled once per process (an umbrella's subcharts each bring a schema,
/// mostly of the same draft), with format assertions on, as boon checks schemas.
fn metaschema(draft: usize) -> Option<&'static (Schemas, boon::SchemaIndex)> {
    static KEPT: [std::sync::OnceLock<Option<(Schemas, boon::SchemaIndex)>>; 5] =
        [const { std::sync::OnceLock::new() }; 5];
    KEPT[draft]
        .get_or_init(|| {
            let mut metas = Schemas::new();
            let mut mc = Compiler::new();
            mc.enable_format_assertions();
            let m = mc.compile(DRAFTS[draft], &mut metas).ok()?;
            Some((metas, m))
        })
        .as_ref()
}

/// No identifiers and no references outside the document: then the URL the schema is registered
/// under changes nothing about how it compiles. Conservative — a property that merely happens to be
/// called `id` with a string value also sends the schema down the full path, which is only slower.
fn self_contained(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Object(o) => o.iter().all(|(k, v)| {
            let local = match k.as_str() {
                "$id" | "id" | "$anchor" | "$dynamicAnchor" | "$recursiveAnchor" | "$vocabulary" => {
                    !v.is_string() && !v.is_boolean()
                }
                "$ref" | "$dynamicRef" | "$recursiveRef" => v.as_str().is_some_and(|r| r.starts_with('#')),
                _ => true,
            };
            local && self_contained(v)
        }),
        serde_json::Value::Array(a) => a.iter().all(self_contained),
        _ => true,
    }
}

/// v6's `ValidationError.Error()` without its `jsonschema validation failed with …` first line.
fn display_v6(e: &ValidationError) -> String {
    let full = display_full(e);
    match full.split_once('\n') {
        Some((first, rest)) if first.starts_with("jsonschema validation failed with ") => rest.to_string(),
        _ => full,
    }
}

/// v6's `ValidationError.Error()`.
fn display_full(e: &ValidationError) -> String {
    let mut sb = String::new();
    if let ErrorKind::Schema { url } = &e.kind {
        sb.push_str(&format!("jsonschema validation failed with {}", quote(url)));
        // boon lifts the causes of *any* single top-level Group into the root; v6 only does so
        // for a Group at the root location. Causes that all sit below one deeper location came
        // from such a Group: print it back as v6 does. (Errors of the root's own keywords sit at
        // '', those of different properties differ in their first token.)
        let locs: Vec<Vec<String>> = e
            .causes
            .iter()
            .map(|c| c.instance_location.tokens.iter().map(token_str).collect())
            .collect();
        let mut common: Vec<String> = locs.first().cloned().unwrap_or_default();
        for l in &locs {
            let n = common.iter().zip(l).take_while(|(a, b)| a == b).count();
            common.truncate(n);
        }
        let mut indent = 1;
        if locs.len() > 1 && !common.is_empty() {
            let ptr: String = common.iter().map(|t| format!("/{}", escape_token(t))).collect();
            sb.push_str(&format!("\n- at {}: validation failed", quote(&ptr)));
            indent = 2;
        }
        // A regrouped node stands for a Group at the property's schema: the children's common
        // schema location.
        let group_url = if indent == 2 {
            let urls: Vec<&str> = e.causes.iter().map(|c| c.schema_url).collect();
            let mut common = urls.first().copied().unwrap_or("");
            for u in &urls {
                while !u.starts_with(common) {
                    common = match common.rfind('/') {
                        Some(i) => &common[..i],
                        None => "",
                    };
                }
            }
            common.to_string()
        } else {
            e.schema_url.to_string()
        };
        let plen = if indent == 2 { common.len() } else { 0 };
        for c in &e.causes {
            display(c, &mut sb, indent, Some((&group_url, None, plen)));
        }
        return sb;
    }
    display(e, &mut sb, 0, None);
    sb
}

/// Compile errors, worded as v6 words the common ones.
fn compile_error(e: &boon::CompileError) -> String {
    match e {
        boon::CompileError::ValidationError { url, src } => format!(
            "{} is not valid against metaschema: {}",
            super::strvals::go_quote(url),
            display_full(src)
        ),
        boon::CompileError::LoadUrlError { url, src } => {
            format!("failing loading {}: {src}", super::strvals::go_quote(url))
        }
        other => other.to_string(),
    }
}

fn token_str(t: &boon::InstanceToken) -> String {
    match t {
        boon::InstanceToken::Prop(p) => p.to_string(),
        boon::InstanceToken::Item(i) => i.to_string(),
    }
}

/// JSON pointer escaping of one token.
fn escape_token(t: &str) -> String {
    t.replace('~', "~0").replace('/', "~1")
}

fn skip(e: &ValidationError) -> bool {
    e.causes.len() == 1 && matches!(e.kind, ErrorKind::Reference { .. })
}

/// Where a child error sits relative to its parent's schema: if it came out of an
/// `allOf`/`anyOf`/`oneOf` branch that boon flattened (boon drops the combinator node when a single
/// branch failed; v6 keeps it), the combinator's message and the number of instance tokens at
/// which it applied (below the parent's location).
fn flattened_combinator(parent_url: &str, parent_kind: Option<&str>, child_url: &str) -> Option<(String, usize)> {
    let rel = child_url.strip_prefix(parent_url)?;
    let segs: Vec<&str> = rel.split('/').filter(|s| !s.is_empty()).collect();
    let mut depth = 0;
    let mut i = 0;
    while i < segs.len() {
        let seg = segs[i];
        let next_is_index = segs.get(i + 1).is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()));
        match seg {
            "allOf" | "anyOf" | "oneOf" if next_is_index => {
                if i == 0 && depth == 0 && parent_kind == Some(seg) {
                    return None;
                }
                let msg = match seg {
                    "allOf" => "'allOf' failed",
                    "anyOf" => "'anyOf' failed",
                    _ => "'oneOf' failed, none matched",
                };
                return Some((msg.to_string(), depth));
            }
            "properties" | "patternProperties" | "prefixItems" => {
                depth += 1;
                i += 2;
            }
            "items" => {
                depth += 1;
                i += if next_is_index { 2 } else { 1 };
            }
            "additionalProperties" | "unevaluatedProperties" | "additionalItems" | "unevaluatedItems" | "contains" => {
                depth += 1;
                i += 1;
            }
            "dependentSchemas" | "dependencies" | "$defs" | "definitions" => i += 2,
            _ => i += 1,
        }
    }
    None
}

fn combinator_name(k: &ErrorKind) -> Option<&'static str> {
    match k {
        ErrorKind::AllOf => Some("allOf"),
        ErrorKind::AnyOf => Some("anyOf"),
        ErrorKind::OneOf(_) => Some("oneOf"),
        _ => None,
    }
}

fn write_line(sb: &mut String, indent: usize, text: &str) {
    if indent > 0 {
        sb.push('\n');
        for _ in 0..indent - 1 {
            sb.push_str("  ");
        }
        sb.push_str("- ");
    }
    sb.push_str(text);
}

/// v6's `display`, with the parent's schema location and kind to restore flattened combinators.
fn display(e: &ValidationError, sb: &mut String, mut indent: usize, parent: Option<(&str, Option<&str>, usize)>) {
    if let Some((purl, pkind, plen)) = parent {
        if let Some((msg, depth)) = flattened_combinator(purl, pkind, e.schema_url) {
            let tokens: Vec<String> = e.instance_location.tokens.iter().map(token_str).collect();
            let n = (plen + depth).min(tokens.len());
            let ptr: String = tokens[..n].iter().map(|t| format!("/{}", escape_token(t))).collect();
            write_line(sb, indent, &format!("at {}: {msg}", quote(&ptr)));
            indent += 1;
        }
    }
    if !skip(e) {
        if let ErrorKind::Schema { url } = &e.kind {
            write_line(sb, indent, &format!("jsonschema validation failed with {}", quote(url)));
        } else {
            write_line(
                sb,
                indent,
                &format!("at {}: {}", quote(&e.instance_location.to_string()), kind_v6(&e.kind)),
            );
        }
        indent += 1;
    }
    let me = (e.schema_url, combinator_name(&e.kind), e.instance_location.tokens.len());
    for c in &e.causes {
        display(c, sb, indent, Some(me));
    }
}

/// v6's `quote`: Go `%q`, then `\"` → `"`, `'` → `\'`, in single quotes.
fn quote(s: &str) -> String {
    let q = super::strvals::go_quote(s);
    let inner = &q[1..q.len() - 1];
    format!("'{}'", inner.replace("\\\"", "\"").replace('\'', "\\'"))
}

fn join_quoted<S: AsRef<str>>(items: &[S]) -> String {
    items.iter().map(|s| quote(s.as_ref())).collect::<Vec<_>>().join(", ")
}

/// v6's `display` for primitives: strings quoted, compounds as `value`, the rest `%v`.
fn display_json(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => quote(s),
        serde_json::Value::Array(_) | serde_json::Value::Object(_) => "value".into(),
        serde_json::Value::Null => "<nil>".into(),
        other => other.to_string(),
    }
}

fn num(n: &serde_json::Number) -> String {
    super::metadata::format_float64_g(n.as_f64().unwrap_or(0.0))
}

fn primitive(v: &serde_json::Value) -> bool {
    !matches!(v, serde_json::Value::Array(_) | serde_json::Value::Object(_))
}

/// v6's `validateIPV4` reasons (boon words them differently).
fn ipv4_reason(s: &str) -> Option<String> {
    let groups: Vec<&str> = s.split('.').collect();
    if groups.len() != 4 {
        return Some("expected four decimals".into());
    }
    for g in groups {
        if g.len() > 1 && g.starts_with('0') {
            return Some("leading zeros".into());
        }
        let digits = g.strip_prefix(['+', '-']).unwrap_or(g);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Some(format!(
                "strconv.Atoi: parsing {}: invalid syntax",
                super::strvals::go_quote(g)
            ));
        }
        match g.parse::<i64>() {
            Ok(n) if (0..=255).contains(&n) => {}
            Ok(_) => return Some("decimal must be between 0 and 255".into()),
            Err(_) => {
                return Some(format!(
                    "strconv.Atoi: parsing {}: value out of range",
                    super::strvals::go_quote(g)
                ))
            }
        }
    }
    None
}

/// v6's English `LocalizedString` for each error kind.
fn kind_v6(k: &ErrorKind) -> String {
    match k {
        ErrorKind::Group | ErrorKind::Reference { .. } => "validation failed".into(),
        ErrorKind::Schema { url } => format!("jsonschema validation failed with {}", quote(url)),
        ErrorKind::ContentSchema => "'contentSchema' failed".into(),
        ErrorKind::PropertyName { prop } => format!("invalid propertyName {}", quote(prop)),
        ErrorKind::RefCycle { url, kw_loc1, kw_loc2 } => {
            format!("both {kw_loc1} and {kw_loc2} resolve to {url:?} causing reference cycle")
        }
        ErrorKind::FalseSchema => "false schema".into(),
        ErrorKind::Type { got, want } => {
            let want: Vec<String> = want.iter().map(|t| t.to_string()).collect();
            format!("got {got}, want {}", want.join(" or "))
        }
        ErrorKind::Enum { want } => {
            if want.iter().all(primitive) {
                if want.len() == 1 {
                    format!("value must be {}", display_json(&want[0]))
                } else {
                    let w: Vec<String> = want.iter().map(display_json).collect();
                    format!("value must be one of {}", w.join(", "))
                }
            } else {
                "'enum' failed".into()
            }
        }
        ErrorKind::Const { want } => {
            if primitive(want) {
                format!("value must be {}", display_json(want))
            } else {
                "'const' failed".into()
            }
        }
        ErrorKind::Format { got, want, err } => {
            let reason = match (*want, got.as_ref()) {
                ("ipv4", serde_json::Value::String(s)) => ipv4_reason(s).unwrap_or_else(|| err.to_string()),
                _ => err.to_string(),
            };
            format!("{} is not valid {want}: {reason}", display_json(got))
        }
        ErrorKind::MinProperties { got, want } => format!("minProperties: got {got}, want {want}"),
        ErrorKind::MaxProperties { got, want } => format!("maxProperties: got {got}, want {want}"),
        ErrorKind::AdditionalProperties { got } => {
            format!("additional properties {} not allowed", join_quoted(got))
        }
        ErrorKind::Required { want } => {
            if want.len() == 1 {
                format!("missing property {}", quote(want[0]))
            } else {
                format!("missing properties {}", join_quoted(want))
            }
        }
        ErrorKind::Dependency { prop, missing } | ErrorKind::DependentRequired { prop, missing } => {
            format!(
                "properties {} required, if {} exists",
                join_quoted(missing),
                quote(prop)
            )
        }
        ErrorKind::MinItems { got, want } => format!("minItems: got {got}, want {want}"),
        ErrorKind::MaxItems { got, want } => format!("maxItems: got {got}, want {want}"),
        ErrorKind::Contains => "no items match contains schema".into(),
        ErrorKind::MinContains { got, want } => {
            if got.is_empty() {
                format!("min {want} items required to match contains schema, but none matched")
            } else {
                let g: Vec<String> = got.iter().map(|i| i.to_string()).collect();
                format!(
                    "min {want} items required to match contains schema, but matched {} items at {}",
                    got.len(),
                    g.join(" ")
                )
            }
        }
        ErrorKind::MaxContains { got, want } => {
            let g: Vec<String> = got.iter().map(|i| i.to_string()).collect();
            format!(
                "max {want} items required to match contains schema, but matched {} items at {}",
                got.len(),
                g.join(" ")
            )
        }
        ErrorKind::UniqueItems { got: [i, j] } => format!("items at {i} and {j} are equal"),
        ErrorKind::AdditionalItems { got } => format!("last {got} additionalItem(s) not allowed"),
        ErrorKind::MinLength { got, want } => format!("minLength: got {got}, want {want}"),
        ErrorKind::MaxLength { got, want } => format!("maxLength: got {got}, want {want}"),
        ErrorKind::Pattern { got, want } => format!("{} does not match pattern {}", quote(got), quote(want)),
        ErrorKind::ContentEncoding { want, err } => format!("value is not {} encoded: {err}", quote(want)),
        ErrorKind::ContentMediaType { want, err, .. } => {
            format!("value if not of mediatype {}: {err}", quote(want))
        }
        ErrorKind::Minimum { got, want } => format!("minimum: got {}, want {}", num(got), num(want)),
        ErrorKind::Maximum { got, want } => format!("maximum: got {}, want {}", num(got), num(want)),
        ErrorKind::ExclusiveMinimum { got, want } => {
            format!("exclusiveMinimum: got {}, want {}", num(got), num(want))
        }
        ErrorKind::ExclusiveMaximum { got, want } => {
            format!("exclusiveMaximum: got {}, want {}", num(got), num(want))
        }
        ErrorKind::MultipleOf { got, want } => format!("multipleOf: got {}, want {}", num(got), num(want)),
        ErrorKind::Not => "'not' failed".into(),
        ErrorKind::AllOf => "'allOf' failed".into(),
        ErrorKind::AnyOf => "'anyOf' failed".into(),
        ErrorKind::OneOf(None) => "'oneOf' failed, none matched".into(),
        ErrorKind::OneOf(Some((i, j))) => format!("'oneOf' failed, subschemas {i}, {j} matched"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(schema: &str, values: &str) -> Result<(), String> {
        let v = crate::yaml::from_str(values).unwrap();
        validate_against_single_schema(&v, schema.as_bytes())
    }

    // Each expected text is what `helm template` (4.1.4) printed for the same schema and values.
    #[test]
    fn messages_match_helm() {
        let s = r#"{"type":"object","properties":{"port":{"type":"string"}}}"#;
        assert_eq!(
            check(s, "port: 80").unwrap_err(),
            "- at '/port': got number, want string\n"
        );
        assert!(check(s, "port: x").is_ok());
        let s = r#"{"properties":{"name":{"type":"string","minLength":2}},"required":["name","mode"]}"#;
        assert_eq!(
            check(s, "name: a").unwrap_err(),
            "- at '': missing property 'mode'\n- at '/name': minLength: got 1, want 2\n"
        );
        let s = r#"{"properties":{"r":{"maximum":5},"x":{"exclusiveMaximum":10},"m":{"enum":["a","b",3]}}}"#;
        assert_eq!(check(s, "r: 7").unwrap_err(), "- at '/r': maximum: got 7, want 5\n");
        assert_eq!(
            check(s, "x: 12").unwrap_err(),
            "- at '/x': exclusiveMaximum: got 12, want 10\n"
        );
        assert_eq!(
            check(s, "m: c").unwrap_err(),
            "- at '/m': value must be one of 'a', 'b', 3\n"
        );
        let s = r#"{"properties":{"nm":{"pattern":"^[a-z]+$"}},"additionalProperties":false}"#;
        assert_eq!(
            check(s, "nm: AB").unwrap_err(),
            "- at '/nm': 'AB' does not match pattern '^[a-z]+$'\n"
        );
        assert_eq!(
            check(s, "nm: ab\nextra: 1\nextra2: 2").unwrap_err(),
            "- at '': additional properties 'extra', 'extra2' not allowed\n"
        );
        let s = r#"{"properties":{"list":{"type":"array","items":{"type":"string"},"maxItems":2}}}"#;
        assert_eq!(
            check(s, "list: [1, a, b]").unwrap_err(),
            "- at '/list': validation failed\n  - at '/list': maxItems: got 3, want 2\n  - at '/list/0': got number, want string\n"
        );
        assert_eq!(
            check(s, "list: null").unwrap_err(),
            "- at '/list': got null, want array\n"
        );
        let s = r##"{"properties":{"ref":{"$ref":"#/definitions/port"}},"definitions":{"port":{"type":"integer"}}}"##;
        assert_eq!(
            check(s, "ref: x").unwrap_err(),
            "- at '/ref': got string, want integer\n"
        );
    }

    // `helm template` on a chart with these broken schemas.
    #[test]
    fn broken_schemas_match_helm() {
        assert_eq!(check("{\"type\": ", "a: 1").unwrap_err(), "unexpected EOF");
        // Helm: `"file:///values.schema.json#" is not valid against metaschema: jsonschema
        // validation failed with 'https://json-schema.org/draft/2020-12/schema#'\n- at '': 'allOf'
        // failed\n  - at '/type': 'anyOf' failed\n    - at '/type': value must be one of …`. boon
        // walks the metaschema's allOf/$ref tree differently, so only the head and the leaf match.
        let e = check(r#"{"type": 5}"#, "a: 1").unwrap_err();
        assert!(e.starts_with("\"file:///values.schema.json#\" is not valid against metaschema: jsonschema validation failed with 'https://json-schema.org/draft/2020-12/schema#'\n"), "{e}");
        assert!(e.contains("- at '/type': value must be one of 'array', 'boolean', 'integer', 'null', 'number', 'object', 'string'"), "{e}");
        let d4 = r#"{"$schema":"http://json-schema.org/draft-04/schema#","properties":{"a":{"type":"integer","minimum":1,"exclusiveMinimum":true}}}"#;
        assert_eq!(
            check(d4, "a: 1").unwrap_err(),
            "- at '/a': exclusiveMinimum: got 1, want 1\n"
        );
    }

    fn sorted_lines(s: &str) -> Vec<String> {
        let mut v: Vec<String> = s.lines().map(String::from).collect();
        v.sort();
        v
    }

    // `helm template --set 'a=1,b=ab,c=s,d=1,e.x=1,f.x=1,h=4,i=notanemail,j=1'` on this schema;
    // Helm's order of properties is random, so lines are compared as sets.
    #[test]
    fn combinators_match_helm() {
        let s = r#"{"properties":{
 "a":{"anyOf":[{"type":"string"},{"type":"integer","minimum":5}]},
 "b":{"oneOf":[{"type":"string"},{"type":"string","maxLength":3}]},
 "c":{"not":{"type":"string"}},
 "d":{"const":{"x":1}},
 "e":{"required":["p","q"]},
 "f":{"allOf":[{"type":"object"},{"minProperties":2}]},
 "g":{"uniqueItems":true},
 "h":{"multipleOf":3},
 "i":{"format":"email"},
 "j":{"oneOf":[{"type":"string"},{"type":"boolean"}]}
}}"#;
        let v = ValueOptionsLite::set("a=1,b=ab,c=s,d=1,e.x=1,f.x=1,h=4,i=notanemail,j=1");
        let e = validate_against_single_schema(&v, s.as_bytes()).unwrap_err();
        assert_eq!(
            sorted_lines(&e),
            sorted_lines(
                "- at '/f': 'allOf' failed\n  - at '/f': minProperties: got 1, want 2\n- at '/j': 'oneOf' failed, none matched\n  - at '/j': got number, want string\n  - at '/j': got number, want boolean\n- at '/a': 'anyOf' failed\n  - at '/a': got number, want string\n  - at '/a': minimum: got 1, want 5\n- at '/b': 'oneOf' failed, subschemas 0, 1 matched\n- at '/c': 'not' failed\n- at '/d': 'const' failed\n- at '/e': missing properties 'p', 'q'\n- at '/h': multipleOf: got 4, want 3\n"
            )
        );
        assert_eq!(
            check(s, "g: [1, 1]").unwrap_err(),
            "- at '/g': items at 0 and 1 are equal\n"
        );
        // Formats are assertions in draft-07, annotations in 2020-12 (the default).
        let d7 = r#"{"$schema":"http://json-schema.org/draft-07/schema#","properties":{"i":{"format":"email"},"k":{"format":"ipv4"}}}"#;
        let v = ValueOptionsLite::set("i=notanemail,k=999.1.1.1");
        assert_eq!(
            sorted_lines(&validate_against_single_schema(&v, d7.as_bytes()).unwrap_err()),
            sorted_lines("- at '/k': '999.1.1.1' is not valid ipv4: decimal must be between 0 and 255\n- at '/i': 'notanemail' is not valid email: missing @\n")
        );
    }

    #[test]
    fn the_quick_path_never_accepts_what_the_full_path_refuses() {
        let d7 = r#""$schema":"http://json-schema.org/draft-07/schema#","#;
        let d4 = r#""$schema":"http://json-schema.org/draft-04/schema#","#;
        let d2019 = r#""$schema":"https://json-schema.org/draft/2019-09/schema","#;
        let props = r##""type":"object","properties":{"port":{"type":"integer","minimum":1},"name":{"type":"string","pattern":"^[a-z]+$"},"mail":{"format":"email"},"tags":{"type":"array","items":{"$ref":"#/definitions/tag"}}},"definitions":{"tag":{"type":"string","maxLength":5}},"required":["port"]"##;
        let cases: Vec<(String, &str, bool, bool)> = vec![
            // (schema, values, does the quick path accept, does the full path)
            (
                format!("{{{d7}{props}}}"),
                "port: 80\nname: web\ntags: [a, b]",
                true,
                true,
            ),
            (format!("{{{props}}}"), "port: 80", true, true),
            (format!("{{{d4}{props}}}"), "port: 80\nmail: x@y.z", true, true),
            (format!("{{{d2019}{props}}}"), "port: 80", true, true),
            // The values fail: the full path words the error.
            (format!("{{{d7}{props}}}"), "port: 0", false, false),
            (format!("{{{d7}{props}}}"), "name: web", false, false),
            (format!("{{{d7}{props}}}"), "port: 1\ntags: [toolong]", false, false),
            (format!("{{{d7}{props}}}"), "port: 1\nmail: nope", false, false),
            // The schema fails its metaschema, or does not compile.
            (format!(r#"{{{d7}"type":"objekt"}}"#), "a: 1", false, false),
            (
                format!(r#"{{{d7}"properties":{{"a":{{"minimum":"one"}}}}}}"#),
                "a: 1",
                false,
                false,
            ),
            (
                format!(r#"{{{d7}"properties":{{"a":{{"pattern":"(["}}}}}}"#),
                "a: 1",
                false,
                false,
            ),
            (
                r##"{"properties":{"a":{"$ref":"#/$defs/missing"}}}"##.to_string(),
                "a: 1",
                false,
                false,
            ),
            (r#"{"required":"port"}"#.to_string(), "a: 1", false, false),
            // Identifiers, outside references, custom metaschemas: the full path decides.
            (
                r#"{"$id":"http://example.com/s","properties":{"a":{"type":"integer"}}}"#.to_string(),
                "a: 1",
                false,
                true,
            ),
            (
                r#"{"properties":{"a":{"$ref":"other.json"}}}"#.to_string(),
                "a: 1",
                false,
                false,
            ),
            (
                r#"{"$schema":"http://example.com/meta","type":"object"}"#.to_string(),
                "a: 1",
                false,
                false,
            ),
        ];
        for (schema, values, quick, full_ok) in &cases {
            let json: serde_json::Value = serde_json::from_str(schema).unwrap();
            let v = crate::yaml::from_str(values).unwrap();
            let instance = to_json(&v);
            assert_eq!(
                accepted_quickly(&json, &instance),
                *quick,
                "quick path on {schema} with {values}"
            );
            let full = validate_fully(json, &instance);
            assert_eq!(full.is_ok(), *full_ok, "{schema} with {values}: {full:?}");
        }
    }

    struct ValueOptionsLite;
    impl ValueOptionsLite {
        fn set(s: &str) -> Value {
            let m = crate::value::Map::new();
            crate::chart::strvals::parse_set(s, &m).unwrap();
            Value::Map(m)
        }
    }
}
