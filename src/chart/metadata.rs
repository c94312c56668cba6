//! Chart.yaml (and v1 `requirements.yaml`) metadata, decoded and validated as Helm 4's
//! `pkg/chart/v2` does, and turned into the map templates see as `.Chart`.
//!
//! Helm decodes Chart.yaml with `sigs.k8s.io/yaml` into a Go struct: keys match field tags
//! case-insensitively, and a YAML number or bool landing in a string field is formatted
//! (`appVersion: 1.10` becomes `"1.1"`, through a 32-bit float; `0755` becomes `"493"`). We decode
//! from the generic YAML value and apply the same conversions. `.Chart` in Helm 4 is
//! `structToMap(Metadata)`: Go field names as keys, slices as `[]interface {}`.

use std::collections::BTreeMap;

use crate::value::{Elem, List, Map, Value};

/// A maintainer entry.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Maintainer {
    pub name: String,
    pub email: String,
    pub url: String,
}

/// A `dependencies:` entry of Chart.yaml (or requirements.yaml).
#[derive(Debug, Clone, Default)]
pub struct Dependency {
    pub name: String,
    pub version: String,
    pub repository: String,
    pub condition: String,
    pub tags: Vec<String>,
    pub enabled: bool,
    /// Each entry a string (`exports.X`) or a `{child, parent}` map, as written.
    pub import_values: Vec<Value>,
    pub alias: String,
}

/// Chart.yaml.
#[derive(Debug, Clone, Default)]
pub struct Metadata {
    pub name: String,
    pub home: String,
    pub sources: Vec<String>,
    pub version: String,
    pub description: String,
    pub keywords: Vec<String>,
    /// `None` entries are `null` items, which validation refuses.
    pub maintainers: Vec<Option<Maintainer>>,
    pub icon: String,
    pub api_version: String,
    pub condition: String,
    pub tags: String,
    pub app_version: String,
    pub deprecated: bool,
    pub annotations: BTreeMap<String, String>,
    pub kube_version: String,
    /// `None` entries are `null` items, which validation refuses.
    pub dependencies: Vec<Option<Dependency>>,
    /// Go's "non-nil slice": `dependencies:` was given as a list, even an empty one. Helm skips
    /// dependency processing (and so the nested charts' conditions) only when it is nil.
    pub has_dependencies: bool,
    /// `application`, `library` or empty.
    pub chart_type: String,
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 32)`.
pub fn format_float32_g(f: f64) -> String {
    let x = f as f32;
    if !x.is_finite() || x == 0.0 {
        return special_float(x as f64);
    }
    // Rust's `{:e}` prints the shortest round-trip digits of the f32: "1.1e0".
    go_g(&format!("{x:e}"))
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 64)`, which is also `fmt`'s `%v` of a float64.
pub fn format_float64_g(f: f64) -> String {
    if !f.is_finite() || f == 0.0 {
        return special_float(f);
    }
    go_g(&format!("{f:e}"))
}

fn special_float(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else if f.is_sign_negative() {
        "-0".into()
    } else {
        "0".into()
    }
}

/// Shortest digits in Rust's `{:e}` form, laid out as Go's `%g` with shortest precision
/// (exponent form below 1e-4 and from 1e6 on... i.e. when exp < -4 || exp >= 6).
fn go_g(e: &str) -> String {
    let (mant, exp) = e.split_once('e').unwrap_or((e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let neg = mant.starts_with('-');
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let sign = if neg { "-" } else { "" };
    if !(-4..6).contains(&exp) {
        let mut m = digits[..1].to_string();
        if digits.len() > 1 {
            m.push('.');
            m.push_str(&digits[1..]);
        }
        let es = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{m}e{es}{:02}", exp.abs());
    }
    let dp = exp + 1; // digits before the decimal point
    let s = if dp <= 0 {
        format!("0.{}{}", "0".repeat((-dp) as usize), digits)
    } else if dp as usize >= digits.len() {
        format!("{}{}", digits, "0".repeat(dp as usize - digits.len()))
    } else {
        format!("{}.{}", &digits[..dp as usize], &digits[dp as usize..])
    };
    format!("{sign}{s}")
}

/// What `sigs.k8s.io/yaml` does to a YAML scalar decoded into a Go `string` field. Integers keep
/// all digits (`FormatInt`); other numbers go through float32. Our YAML layer gives every number
/// as float64, so an integral value below 2^53 is taken as an integer.
fn scalar_to_string(v: &Value, field: &str) -> Result<Option<String>, String> {
    Ok(Some(match v {
        Value::Nil => return Ok(None),
        Value::String(s) => s.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) | Value::Int64(i) => i.to_string(),
        Value::Float(f) => {
            if f.fract() == 0.0 && f.abs() < 9007199254740992.0 {
                format!("{}", *f as i64)
            } else {
                format_float32_g(*f)
            }
        }
        other => return Err(type_error(other, field, "string")),
    }))
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Map(_) => "object",
        Value::List(_) => "array",
        Value::String(_) => "string",
        Value::Bool(_) => "bool",
        Value::Nil => "null",
        _ => "number",
    }
}

fn type_error(v: &Value, field: &str, go_type: &str) -> String {
    format!(
        "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go struct field {field} of type {go_type}",
        json_kind(v)
    )
}

fn string_field(dst: &mut String, v: &Value, field: &str) -> Result<(), String> {
    if let Some(s) = scalar_to_string(v, field)? {
        *dst = s;
    }
    Ok(())
}

fn string_list(v: &Value, field: &str) -> Result<Option<Vec<String>>, String> {
    match v {
        Value::Nil => Ok(Some(Vec::new())),
        Value::List(l) => {
            let mut out = Vec::new();
            for item in l.items.iter() {
                out.push(scalar_to_string(item, field)?.unwrap_or_default());
            }
            Ok(Some(out))
        }
        other => Err(type_error(other, field, "[]string")),
    }
}

/// The struct field a JSON key selects: exact match first, then ASCII case-insensitive, as
/// `encoding/json` does.
fn field_for<'a>(key: &str, fields: &[&'a str]) -> Option<&'a str> {
    fields
        .iter()
        .find(|f| **f == key)
        .or_else(|| fields.iter().find(|f| f.eq_ignore_ascii_case(key)))
        .copied()
}

const METADATA_FIELDS: &[&str] = &[
    "name",
    "home",
    "sources",
    "version",
    "description",
    "keywords",
    "maintainers",
    "icon",
    "apiVersion",
    "condition",
    "tags",
    "appVersion",
    "deprecated",
    "annotations",
    "kubeVersion",
    "dependencies",
    "type",
];

const DEPENDENCY_FIELDS: &[&str] = &[
    "name",
    "version",
    "repository",
    "condition",
    "tags",
    "enabled",
    "import-values",
    "alias",
];

const MAINTAINER_FIELDS: &[&str] = &["name", "email", "url"];

fn bool_field(dst: &mut bool, v: &Value, field: &str) -> Result<(), String> {
    match v {
        Value::Nil => Ok(()),
        Value::Bool(b) => {
            *dst = *b;
            Ok(())
        }
        other => Err(type_error(other, field, "bool")),
    }
}

impl Maintainer {
    fn from_value(v: &Value) -> Result<Option<Maintainer>, String> {
        let m = match v {
            Value::Nil => return Ok(None),
            Value::Map(m) => m,
            other => return Err(type_error(other, "Metadata.maintainers", "v2.Maintainer")),
        };
        let mut out = Maintainer::default();
        for (k, v) in m.entries() {
            match field_for(&k, MAINTAINER_FIELDS) {
                Some("name") => string_field(&mut out.name, &v, "Metadata.maintainers.name")?,
                Some("email") => string_field(&mut out.email, &v, "Metadata.maintainers.email")?,
                Some("url") => string_field(&mut out.url, &v, "Metadata.maintainers.url")?,
                _ => {}
            }
        }
        Ok(Some(out))
    }
}

impl Dependency {
    fn from_value(v: &Value) -> Result<Option<Dependency>, String> {
        let m = match v {
            Value::Nil => return Ok(None),
            Value::Map(m) => m,
            other => return Err(type_error(other, "Metadata.dependencies", "v2.Dependency")),
        };
        let mut d = Dependency::default();
        for (k, v) in m.entries() {
            let f = |n: &str| format!("Metadata.dependencies.{n}");
            match field_for(&k, DEPENDENCY_FIELDS) {
                Some("name") => string_field(&mut d.name, &v, &f("name"))?,
                Some("version") => string_field(&mut d.version, &v, &f("version"))?,
                Some("repository") => string_field(&mut d.repository, &v, &f("repository"))?,
                Some("condition") => string_field(&mut d.condition, &v, &f("condition"))?,
                Some("alias") => string_field(&mut d.alias, &v, &f("alias"))?,
                Some("enabled") => bool_field(&mut d.enabled, &v, &f("enabled"))?,
                Some("tags") => {
                    if let Some(t) = string_list(&v, &f("tags"))? {
                        d.tags = t;
                    }
                }
                Some("import-values") => match &v {
                    Value::Nil => d.import_values = Vec::new(),
                    Value::List(l) => d.import_values = l.items.as_ref().clone(),
                    other => return Err(type_error(other, &f("import-values"), "[]interface {}")),
                },
                _ => {}
            }
        }
        Ok(Some(d))
    }

    /// The key this dependency's values live under: the alias, else the name.
    pub fn key(&self) -> &str {
        if self.alias.is_empty() {
            &self.name
        } else {
            &self.alias
        }
    }

    fn to_value(&self) -> Value {
        let m = Map::new();
        m.insert("Name", Value::str(&self.name));
        m.insert("Version", Value::str(&self.version));
        m.insert("Repository", Value::str(&self.repository));
        m.insert("Condition", Value::str(&self.condition));
        m.insert("Tags", Value::list(self.tags.iter().map(Value::str).collect()));
        m.insert("Enabled", Value::Bool(self.enabled));
        m.insert("ImportValues", Value::list(self.import_values.clone()));
        m.insert("Alias", Value::str(&self.alias));
        Value::Map(m)
    }
}

impl Metadata {
    /// Applies a decoded YAML document onto this metadata (`yaml.Unmarshal` into the struct: only
    /// the keys present change). Errors read like Helm's (after `cannot load Chart.yaml: `).
    pub fn apply(&mut self, doc: &Value) -> Result<(), String> {
        let m = match doc {
            Value::Nil => return Ok(()),
            Value::Map(m) => m,
            other => {
                return Err(format!(
                    "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type v2.Metadata",
                    json_kind(other)
                ))
            }
        };
        // Keys are visited in sorted order, as the JSON that sigs.k8s.io/yaml produces has them,
        // so of `KubeVersion` and `kubeVersion` the latter wins, as in Helm.
        for (k, v) in m.entries() {
            let Some(field) = field_for(&k, METADATA_FIELDS) else {
                continue;
            };
            let f = format!("Metadata.{field}");
            match field {
                "name" => string_field(&mut self.name, &v, &f)?,
                "home" => string_field(&mut self.home, &v, &f)?,
                "version" => string_field(&mut self.version, &v, &f)?,
                "description" => string_field(&mut self.description, &v, &f)?,
                "icon" => string_field(&mut self.icon, &v, &f)?,
                "apiVersion" => string_field(&mut self.api_version, &v, &f)?,
                "condition" => string_field(&mut self.condition, &v, &f)?,
                "tags" => string_field(&mut self.tags, &v, &f)?,
                "appVersion" => string_field(&mut self.app_version, &v, &f)?,
                "kubeVersion" => string_field(&mut self.kube_version, &v, &f)?,
                "type" => string_field(&mut self.chart_type, &v, &f)?,
                "deprecated" => bool_field(&mut self.deprecated, &v, &f)?,
                "sources" => {
                    if let Some(l) = string_list(&v, &f)? {
                        self.sources = l;
                    }
                }
                "keywords" => {
                    if let Some(l) = string_list(&v, &f)? {
                        self.keywords = l;
                    }
                }
                "annotations" => match &v {
                    Value::Nil => self.annotations.clear(),
                    Value::Map(am) => {
                        for (ak, av) in am.entries() {
                            let s = scalar_to_string(&av, &f)?.unwrap_or_default();
                            self.annotations.insert(ak, s);
                        }
                    }
                    other => return Err(type_error(other, &f, "map[string]string")),
                },
                "maintainers" => match &v {
                    Value::Nil => self.maintainers.clear(),
                    Value::List(l) => {
                        self.maintainers = l
                            .items
                            .iter()
                            .map(Maintainer::from_value)
                            .collect::<Result<Vec<_>, _>>()?;
                    }
                    other => return Err(type_error(other, &f, "[]*v2.Maintainer")),
                },
                "dependencies" => match &v {
                    Value::Nil => {
                        self.dependencies.clear();
                        self.has_dependencies = false;
                    }
                    Value::List(l) => {
                        self.has_dependencies = true;
                        self.dependencies = l
                            .items
                            .iter()
                            .map(Dependency::from_value)
                            .collect::<Result<Vec<_>, _>>()?;
                    }
                    other => return Err(type_error(other, &f, "[]*v2.Dependency")),
                },
                _ => {}
            }
        }
        Ok(())
    }

    /// `Metadata.Validate`: sanitizes strings, then checks; the error text is Helm's.
    pub fn validate(&mut self) -> Result<(), String> {
        for s in [
            &mut self.name,
            &mut self.description,
            &mut self.home,
            &mut self.icon,
            &mut self.condition,
            &mut self.tags,
            &mut self.app_version,
            &mut self.kube_version,
        ] {
            *s = sanitize(s);
        }
        for s in self.sources.iter_mut().chain(self.keywords.iter_mut()) {
            *s = sanitize(s);
        }
        let v = |m: String| format!("validation: {m}");
        if self.api_version.is_empty() {
            return Err(v("chart.metadata.apiVersion is required".into()));
        }
        if self.name.is_empty() {
            return Err(v("chart.metadata.name is required".into()));
        }
        if self.name == "." || self.name == ".." {
            return Err(v(format!("chart.metadata.name {:?} is not allowed", self.name)));
        }
        if self.name.contains('/') {
            return Err(v(format!("chart.metadata.name {:?} is invalid", self.name)));
        }
        if self.version.is_empty() {
            return Err(v("chart.metadata.version is required".into()));
        }
        if crate::version::Version::parse(&self.version).is_err() {
            return Err(v(format!("chart.metadata.version {:?} is invalid", self.version)));
        }
        if !matches!(self.chart_type.as_str(), "" | "application" | "library") {
            return Err(v("chart.metadata.type must be application or library".into()));
        }
        for m in self.maintainers.iter_mut() {
            match m {
                None => return Err(v("maintainers must not contain empty or null nodes".into())),
                Some(m) => {
                    m.name = sanitize(&m.name);
                    m.email = sanitize(&m.email);
                    m.url = sanitize(&m.url);
                }
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for d in self.dependencies.iter_mut() {
            let Some(d) = d else {
                return Err(v("dependencies must not contain empty or null nodes".into()));
            };
            d.name = sanitize(&d.name);
            d.version = sanitize(&d.version);
            d.repository = sanitize(&d.repository);
            d.condition = sanitize(&d.condition);
            for t in d.tags.iter_mut() {
                *t = sanitize(t);
            }
            if !d.alias.is_empty()
                && !d
                    .alias
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            {
                return Err(v(format!(
                    "dependency {:?} has disallowed characters in the alias",
                    d.name
                )));
            }
            let key = d.key().to_string();
            if !seen.insert(key.clone()) {
                return Err(v(format!("more than one dependency with name or alias {key:?}")));
            }
        }
        Ok(())
    }

    /// The non-null dependencies (validation has refused null ones).
    pub fn deps(&self) -> impl Iterator<Item = &Dependency> {
        self.dependencies.iter().flatten()
    }

    /// True for `type: library` (any case, as Helm's `IsLibraryChart`).
    pub fn is_library(&self) -> bool {
        self.chart_type.eq_ignore_ascii_case("library")
    }

    /// `.Chart` as Helm 4 builds it (`structToMap`), without `IsRoot` (the renderer adds it).
    pub fn to_value(&self) -> Value {
        let m = Map::new();
        let strs = |v: &[String]| Value::list(v.iter().map(Value::str).collect());
        m.insert("Name", Value::str(&self.name));
        m.insert("Home", Value::str(&self.home));
        m.insert("Sources", strs(&self.sources));
        m.insert("Version", Value::str(&self.version));
        m.insert("Description", Value::str(&self.description));
        m.insert("Keywords", strs(&self.keywords));
        let maint: Vec<Value> = self
            .maintainers
            .iter()
            .map(|mm| match mm {
                None => Value::Nil,
                Some(mm) => {
                    let x = Map::new();
                    x.insert("Name", Value::str(&mm.name));
                    x.insert("Email", Value::str(&mm.email));
                    x.insert("URL", Value::str(&mm.url));
                    Value::Map(x)
                }
            })
            .collect();
        m.insert("Maintainers", Value::list(maint));
        m.insert("Icon", Value::str(&self.icon));
        m.insert("APIVersion", Value::str(&self.api_version));
        m.insert("Condition", Value::str(&self.condition));
        m.insert("Tags", Value::str(&self.tags));
        m.insert("AppVersion", Value::str(&self.app_version));
        m.insert("Deprecated", Value::Bool(self.deprecated));
        let ann = Map::new();
        for (k, v) in &self.annotations {
            ann.insert(k.clone(), Value::str(v));
        }
        let ann = Map {
            elem: Elem::String,
            ..ann
        };
        m.insert("Annotations", Value::Map(ann));
        m.insert("KubeVersion", Value::str(&self.kube_version));
        let deps: Vec<Value> = self
            .dependencies
            .iter()
            .map(|d| d.as_ref().map(Dependency::to_value).unwrap_or(Value::Nil))
            .collect();
        m.insert("Dependencies", Value::List(List::new(deps)));
        m.insert("Type", Value::str(&self.chart_type));
        Value::Map(m)
    }
}

/// Helm's `sanitizeString`: every Unicode space becomes ' ', non-printable characters go.
fn sanitize(s: &str) -> String {
    s.chars()
        .filter_map(|c| {
            if c.is_whitespace() {
                Some(' ')
            } else if c.is_control() || matches!(c, '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{FEFF}') {
                None
            } else {
                Some(c)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Go: strconv.FormatFloat(x, 'g', -1, 32).
    #[test]
    fn float32_g_matches_go() {
        assert_eq!(format_float32_g(1.10), "1.1");
        assert_eq!(format_float32_g(1.0), "1");
        assert_eq!(format_float32_g(1000.0), "1000");
        assert_eq!(format_float32_g(1e6), "1e+06");
        assert_eq!(format_float32_g(123456.0), "123456");
        assert_eq!(format_float32_g(0.0001), "0.0001");
        assert_eq!(format_float32_g(0.00001), "1e-05");
        assert_eq!(format_float32_g(2.7182817459), "2.7182817");
        assert_eq!(format_float32_g(-2.5), "-2.5");
        assert_eq!(format_float32_g(1e21), "1e+21");
        assert_eq!(format_float64_g(1000000.0), "1e+06");
        assert_eq!(format_float64_g(8080.0), "8080");
        assert_eq!(format_float64_g(0.1), "0.1");
    }
}
