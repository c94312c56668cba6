//! Helm's built-in objects that are Go structs with methods: `.Capabilities` (with
//! `KubeVersion.GitVersion` and `APIVersions.Has`) and `.Files` (`Get`, `GetBytes`, `Glob`,
//! `AsConfig`, `AsSecrets`, `Lines`).
//!
//! They are [`Object`]s rather than plain maps because templates call methods on them and because
//! `%T`, `printf "%v"` and `len` must see the Go types (`*common.Capabilities`,
//! `common.VersionSet`, `engine.files`). Defaults are those of helm 4.1.4 (dumped from the real
//! binary with `{{ .Capabilities | toJson }}`): Kubernetes v1.35.0 and client-go's API groups.

use std::collections::BTreeMap;
use std::rc::Rc;

use base64::Engine as _;

use super::glob::Glob;
use crate::value::{Elem, List, Map, Member, Object, Value};

/// `helm version` of the helm we mirror: what `.Capabilities.HelmVersion` reports.
pub const HELM_VERSION: &str = "v4.1.4";
pub const HELM_GIT_COMMIT: &str = "05fa37973dc9e42b76e1d2883494c87174b6074f";
pub const HELM_GO_VERSION: &str = "go1.25.9";
pub const HELM_KUBE_CLIENT_VERSION: &str = "v1.35";
/// The default `.Capabilities.KubeVersion` of helm 4.1.4 (client-go v0.35 → v1.35.0).
pub const DEFAULT_KUBE_VERSION: &str = "v1.35.0";

/// helm 4.1.4's default `.Capabilities.APIVersions`, in its order (client-go's scheme).
pub const DEFAULT_API_VERSIONS: &[&str] = &[
    "v1",
    "admissionregistration.k8s.io/v1",
    "admissionregistration.k8s.io/v1alpha1",
    "admissionregistration.k8s.io/v1beta1",
    "internal.apiserver.k8s.io/v1alpha1",
    "apps/v1",
    "apps/v1beta1",
    "apps/v1beta2",
    "authentication.k8s.io/v1",
    "authentication.k8s.io/v1alpha1",
    "authentication.k8s.io/v1beta1",
    "authorization.k8s.io/v1",
    "authorization.k8s.io/v1beta1",
    "autoscaling/v1",
    "autoscaling/v2",
    "autoscaling/v2beta1",
    "autoscaling/v2beta2",
    "batch/v1",
    "batch/v1beta1",
    "certificates.k8s.io/v1",
    "certificates.k8s.io/v1beta1",
    "certificates.k8s.io/v1alpha1",
    "coordination.k8s.io/v1alpha2",
    "coordination.k8s.io/v1beta1",
    "coordination.k8s.io/v1",
    "discovery.k8s.io/v1",
    "discovery.k8s.io/v1beta1",
    "events.k8s.io/v1",
    "events.k8s.io/v1beta1",
    "extensions/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1",
    "flowcontrol.apiserver.k8s.io/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1beta2",
    "flowcontrol.apiserver.k8s.io/v1beta3",
    "networking.k8s.io/v1",
    "networking.k8s.io/v1beta1",
    "node.k8s.io/v1",
    "node.k8s.io/v1alpha1",
    "node.k8s.io/v1beta1",
    "policy/v1",
    "policy/v1beta1",
    "rbac.authorization.k8s.io/v1",
    "rbac.authorization.k8s.io/v1beta1",
    "rbac.authorization.k8s.io/v1alpha1",
    "resource.k8s.io/v1",
    "resource.k8s.io/v1beta2",
    "resource.k8s.io/v1beta1",
    "resource.k8s.io/v1alpha3",
    "scheduling.k8s.io/v1alpha1",
    "scheduling.k8s.io/v1beta1",
    "scheduling.k8s.io/v1",
    "storage.k8s.io/v1beta1",
    "storage.k8s.io/v1",
    "storage.k8s.io/v1alpha1",
    "storagemigration.k8s.io/v1beta1",
    "apiextensions.k8s.io/v1beta1",
    "apiextensions.k8s.io/v1",
];

/// `common.KubeVersion`: `Version` is the git version as given, `normalized` helm's unexported
/// `normalizedVersion` (empty for a server's version); [`KubeVersion::string`] is what `String()`
/// returns and what kubeVersion constraints are checked against.
#[derive(Debug, Clone, PartialEq)]
pub struct KubeVersion {
    pub version: String,
    pub normalized: String,
    pub major: String,
    pub minor: String,
}

impl KubeVersion {
    /// `String()`: the normalized version, else the version as given.
    pub fn string(&self) -> &str {
        if self.normalized.is_empty() {
            &self.version
        } else {
            &self.normalized
        }
    }

    pub fn default_version() -> KubeVersion {
        KubeVersion {
            version: DEFAULT_KUBE_VERSION.into(),
            normalized: DEFAULT_KUBE_VERSION.into(),
            major: "1".into(),
            minor: "35".into(),
        }
    }

    /// `common.ParseKubeVersion`: k8s.io/apimachinery's `version.ParseGeneric`, whose pattern is
    /// `^\s*v?([0-9]+(?:\.[0-9]+)*)(.*)*$` — at least major and minor, no leading zero in the major,
    /// and whatever follows the numbers ignored (managed clusters' `-gke.1`, `-eks`, `+k3s1`), so
    /// the normalized version (`String()`, what Chart.yaml's kubeVersion is checked against) is
    /// the numbers alone. The error texts are k8s.io's (Helm's `--kube-version` message body).
    pub fn parse(s: &str) -> Result<KubeVersion, String> {
        // Go's `\s`: ASCII space, \t, \n, \f, \r (no \v, no Unicode spaces).
        let rest = s.trim_start_matches([' ', '\t', '\n', '\x0c', '\r']);
        let rest = rest.strip_prefix('v').unwrap_or(rest);
        let b = rest.as_bytes();
        let mut end = 0;
        while end < b.len() && b[end].is_ascii_digit() {
            end += 1;
        }
        // `(.*)*` cannot match a newline (`.` excludes it), and `$` is the end of the text.
        if end == 0 || rest[end..].contains('\n') {
            return Err(format!("could not parse {s:?} as version"));
        }
        while end + 1 < b.len() && b[end] == b'.' && b[end + 1].is_ascii_digit() {
            end += 1;
            while end < b.len() && b[end].is_ascii_digit() {
                end += 1;
            }
        }
        let parts: Vec<&str> = rest[..end].split('.').collect();
        if parts.len() < 2 {
            return Err(format!("illegal version string {s:?}"));
        }
        let mut comps = Vec::new();
        for (i, p) in parts.iter().enumerate() {
            if i == 0 && p.starts_with('0') && *p != "0" {
                return Err(format!("illegal zero-prefixed version component {p:?} in {s:?}"));
            }
            let n: u64 = p.parse().map_err(|_| {
                format!("illegal non-numeric version component {p:?} in {s:?}: strconv.ParseUint: parsing {p:?}: value out of range")
            })?;
            comps.push(n);
        }
        let normalized = format!("v{}", comps.iter().map(u64::to_string).collect::<Vec<_>>().join("."));
        let version = if s.starts_with('v') {
            s.to_string()
        } else {
            format!("v{s}")
        };
        Ok(KubeVersion {
            version,
            normalized,
            major: comps[0].to_string(),
            minor: comps[1].to_string(),
        })
    }
}

impl Object for KubeVersion {
    fn type_name(&self) -> String {
        "common.KubeVersion".into()
    }
    fn kind(&self) -> &'static str {
        "struct"
    }
    fn member(&self, name: &str) -> Option<Member> {
        let s = |v: &str| Some(Member::Field(Value::str(v)));
        match name {
            "Version" => s(&self.version),
            "Major" => s(&self.major),
            "Minor" => s(&self.minor),
            "GitVersion" => {
                let v = self.version.clone();
                Some(Member::Method(Rc::new(move |args: &[Value]| {
                    no_args("GitVersion", args)?;
                    Ok(Value::str(&v))
                })))
            }
            "String" => {
                let v = self.string().to_string();
                Some(Member::Method(Rc::new(move |args: &[Value]| {
                    no_args("String", args)?;
                    Ok(Value::str(&v))
                })))
            }
            _ => None,
        }
    }
    /// A copy (a function's argument) has no `String()` (its receiver is a pointer): fmt prints
    /// the struct, the unexported field too.
    fn fmt_v(&self) -> String {
        format!("{{{} {} {} {}}}", self.version, self.normalized, self.major, self.minor)
    }
    /// Templates print the field through its `String()` method (the field is addressable), so
    /// `{{ .Capabilities.KubeVersion }}` shows the normalized version.
    fn fmt_print(&self) -> String {
        self.string().to_string()
    }
    fn json_fields(&self) -> Option<Vec<(String, Value)>> {
        Some(vec![
            ("Version".into(), Value::str(&self.version)),
            ("Major".into(), Value::str(&self.major)),
            ("Minor".into(), Value::str(&self.minor)),
        ])
    }
}

fn no_args(name: &str, args: &[Value]) -> Result<(), String> {
    if args.is_empty() {
        Ok(())
    } else {
        Err(format!("wrong number of args for {name}: want 0 got {}", args.len()))
    }
}

fn one_string<'a>(name: &str, args: &'a [Value]) -> Result<&'a str, String> {
    match args {
        [Value::String(s)] => Ok(s),
        [other] => Err(format!(
            "wrong type for value; expected string; got {}",
            other.type_name()
        )),
        _ => Err(format!("wrong number of args for {name}: want 1 got {}", args.len())),
    }
}

/// `common.VersionSet`: a `[]string` with `Has`.
pub struct VersionSet(pub Vec<String>);

impl Object for VersionSet {
    fn type_name(&self) -> String {
        "common.VersionSet".into()
    }
    fn kind(&self) -> &'static str {
        "slice"
    }
    fn member(&self, name: &str) -> Option<Member> {
        match name {
            "Has" => {
                let set = self.0.clone();
                Some(Member::Method(Rc::new(move |args: &[Value]| {
                    let want = one_string("Has", args)?;
                    Ok(Value::Bool(set.iter().any(|v| v == want)))
                })))
            }
            _ => None,
        }
    }
    fn underlying(&self) -> Option<Value> {
        Some(Value::str_list(&self.0))
    }
    fn fmt_v(&self) -> String {
        format!("[{}]", self.0.join(" "))
    }
}

/// `version.BuildInfo` (`.Capabilities.HelmVersion`).
pub struct HelmVersion;

impl Object for HelmVersion {
    fn type_name(&self) -> String {
        "version.BuildInfo".into()
    }
    fn kind(&self) -> &'static str {
        "struct"
    }
    fn member(&self, name: &str) -> Option<Member> {
        let v = match name {
            "Version" => HELM_VERSION,
            "GitCommit" => HELM_GIT_COMMIT,
            "GitTreeState" => "clean",
            "GoVersion" => HELM_GO_VERSION,
            "KubeClientVersion" => HELM_KUBE_CLIENT_VERSION,
            _ => return None,
        };
        Some(Member::Field(Value::str(v)))
    }
    fn fmt_v(&self) -> String {
        format!("{{{HELM_VERSION} {HELM_GIT_COMMIT} clean {HELM_GO_VERSION} {HELM_KUBE_CLIENT_VERSION}}}")
    }
    // BuildInfo's json tags (all `omitempty`; none is empty).
    fn json_fields(&self) -> Option<Vec<(String, Value)>> {
        Some(
            [
                ("version", HELM_VERSION),
                ("git_commit", HELM_GIT_COMMIT),
                ("git_tree_state", "clean"),
                ("go_version", HELM_GO_VERSION),
                ("kube_client_version", HELM_KUBE_CLIENT_VERSION),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), Value::str(v)))
            .collect(),
        )
    }
}

/// `*common.Capabilities`.
pub struct Capabilities {
    pub kube_version: Rc<KubeVersion>,
    pub api_versions: Rc<VersionSet>,
}

impl Capabilities {
    /// helm template's capabilities: the default set plus `--api-versions` (appended, in order),
    /// and `--kube-version` when given.
    pub fn new(kube_version: Option<KubeVersion>, extra_apis: &[String]) -> Capabilities {
        let mut apis: Vec<String> = DEFAULT_API_VERSIONS.iter().map(|s| s.to_string()).collect();
        apis.extend(extra_apis.iter().cloned());
        Capabilities {
            kube_version: Rc::new(kube_version.unwrap_or_else(KubeVersion::default_version)),
            api_versions: Rc::new(VersionSet(apis)),
        }
    }

    /// Capabilities of a live server, as `helm upgrade`/`install` build them: the server's version
    /// and its served `group/version` and `group/version/Kind` strings instead of the default list
    /// (then `extra_apis` appended, as `--api-versions` are). Duplicates are dropped, first kept.
    pub fn served(kube_version: Option<KubeVersion>, served: &[String], extra_apis: &[String]) -> Capabilities {
        let mut seen = std::collections::HashSet::new();
        let apis: Vec<String> = served
            .iter()
            .chain(extra_apis)
            .filter(|a| seen.insert(a.as_str()))
            .cloned()
            .collect();
        Capabilities {
            kube_version: Rc::new(kube_version.unwrap_or_else(KubeVersion::default_version)),
            api_versions: Rc::new(VersionSet(apis)),
        }
    }
}

impl Object for Capabilities {
    fn type_name(&self) -> String {
        "*common.Capabilities".into()
    }
    fn kind(&self) -> &'static str {
        "ptr"
    }
    fn member(&self, name: &str) -> Option<Member> {
        match name {
            "KubeVersion" => Some(Member::Field(Value::Object(self.kube_version.clone()))),
            "APIVersions" => Some(Member::Field(Value::Object(self.api_versions.clone()))),
            "HelmVersion" => Some(Member::Field(Value::Object(Rc::new(HelmVersion)))),
            _ => None,
        }
    }
    fn fmt_v(&self) -> String {
        let kv = &self.kube_version;
        format!(
            "&{{{{{} {} {} {}}} {} {}}}",
            kv.version,
            kv.normalized,
            kv.major,
            kv.minor,
            self.api_versions.fmt_v(),
            HelmVersion.fmt_v()
        )
    }
    fn json_fields(&self) -> Option<Vec<(String, Value)>> {
        Some(vec![
            ("KubeVersion".into(), Value::Object(self.kube_version.clone())),
            ("APIVersions".into(), Value::Object(self.api_versions.clone())),
            ("HelmVersion".into(), Value::Object(Rc::new(HelmVersion))),
        ])
    }
}

/// `engine.files`: the chart's non-template files by path.
#[derive(Clone, Default)]
pub struct Files {
    pub files: Rc<BTreeMap<String, Rc<[u8]>>>,
}

impl Files {
    pub fn new(files: BTreeMap<String, Rc<[u8]>>) -> Files {
        Files { files: Rc::new(files) }
    }

    fn glob(&self, pattern: &str) -> Files {
        let g = Glob::compile(pattern);
        Files::new(
            self.files
                .iter()
                .filter(|(k, _)| g.matches(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        )
    }

    /// `map[path.Base(name)]string(...)` through Helm's toYaml.
    fn as_map_by_base(&self, f: impl Fn(&[u8]) -> String) -> Map {
        let m = Map::new();
        for (k, v) in self.files.iter() {
            let base = k.rsplit('/').next().unwrap_or(k);
            m.insert(base, Value::str(f(v)));
        }
        Map {
            elem: Elem::String,
            ..m
        }
    }

    fn lines(&self, path: &str) -> Value {
        let Some(data) = self.files.get(path) else {
            return Value::str_list(Vec::<String>::new());
        };
        let s = String::from_utf8_lossy(data);
        let s = s.strip_suffix('\n').unwrap_or(&s);
        Value::str_list(s.split('\n'))
    }
}

impl Object for Files {
    fn type_name(&self) -> String {
        "engine.files".into()
    }
    fn kind(&self) -> &'static str {
        "map"
    }
    fn member(&self, name: &str) -> Option<Member> {
        let this = self.clone();
        let method = |f: Rc<dyn Fn(&[Value]) -> Result<Value, String>>| Some(Member::Method(f));
        match name {
            "Get" => method(Rc::new(move |args: &[Value]| {
                let p = one_string("Get", args)?;
                Ok(Value::str(
                    this.files
                        .get(p)
                        .map(|d| String::from_utf8_lossy(d).into_owned())
                        .unwrap_or_default(),
                ))
            })),
            "GetBytes" => method(Rc::new(move |args: &[Value]| {
                let p = one_string("GetBytes", args)?;
                Ok(Value::Bytes(
                    this.files.get(p).cloned().unwrap_or_else(|| Rc::from(&[][..])),
                ))
            })),
            "Glob" => method(Rc::new(move |args: &[Value]| {
                let p = one_string("Glob", args)?;
                Ok(Value::Object(Rc::new(this.glob(p))))
            })),
            "AsConfig" => method(Rc::new(move |args: &[Value]| {
                no_args("AsConfig", args)?;
                let m = this.as_map_by_base(|d| String::from_utf8_lossy(d).into_owned());
                Ok(Value::str(super::helmfuncs::to_yaml_trimmed(&Value::Map(m))))
            })),
            "AsSecrets" => method(Rc::new(move |args: &[Value]| {
                no_args("AsSecrets", args)?;
                let m = this.as_map_by_base(|d| base64::engine::general_purpose::STANDARD.encode(d));
                Ok(Value::str(super::helmfuncs::to_yaml_trimmed(&Value::Map(m))))
            })),
            "Lines" => method(Rc::new(move |args: &[Value]| {
                let p = one_string("Lines", args)?;
                Ok(this.lines(p))
            })),
            _ => None,
        }
    }
    fn underlying(&self) -> Option<Value> {
        let m = Map::new();
        for (k, v) in self.files.iter() {
            m.insert(k.clone(), Value::Bytes(v.clone()));
        }
        Some(Value::Map(Map {
            named: Some(Rc::from("engine.files")),
            elem: Elem::Uint8,
            ..m
        }))
    }
    fn fmt_v(&self) -> String {
        let parts: Vec<String> = self
            .files
            .iter()
            .map(|(k, v)| format!("{k}:[{}]", v.iter().map(u8::to_string).collect::<Vec<_>>().join(" ")))
            .collect();
        format!("map[{}]", parts.join(" "))
    }
}

/// A `[]interface {}` of strings (Chart metadata slices are converted this way by `structToMap`).
pub fn iface_str_list(items: &[String]) -> Value {
    Value::List(List::new(items.iter().map(Value::str).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kube_version_parsing_follows_helm() {
        // `helm template --kube-version 1.20.3` prints Version v1.20.3, Major 1, Minor 20.
        let kv = KubeVersion::parse("1.20.3").unwrap();
        assert_eq!(
            (kv.version.as_str(), kv.major.as_str(), kv.minor.as_str()),
            ("v1.20.3", "1", "20")
        );
        let kv = KubeVersion::parse("v1.29.4").unwrap();
        assert_eq!(kv.normalized, "v1.29.4");
        assert!(KubeVersion::parse("1").is_err());
        assert!(KubeVersion::parse("abc").is_err());
        // `helm template --kube-version 1.29.4-gke.1` prints Version v1.29.4-gke.1, String v1.29.4.
        let kv = KubeVersion::parse("1.29.4-gke.1").unwrap();
        assert_eq!(
            (kv.version.as_str(), kv.normalized.as_str()),
            ("v1.29.4-gke.1", "v1.29.4")
        );
        assert_eq!(KubeVersion::parse("1.02x").unwrap().normalized, "v1.2");
        assert_eq!(
            KubeVersion::parse("01.2").unwrap_err(),
            r#"illegal zero-prefixed version component "01" in "01.2""#
        );
    }

    fn has(caps: &Capabilities, api: &str) -> bool {
        let Some(Member::Field(Value::Object(set))) = caps.member("APIVersions") else {
            panic!("APIVersions is a field")
        };
        let Some(Member::Method(has)) = set.member("Has") else {
            panic!("Has is a method")
        };
        matches!(has(&[Value::str(api)]), Ok(Value::Bool(true)))
    }

    #[test]
    fn served_api_versions_replace_the_default_list() {
        // A 1.20 server serves policy/v1beta1 but not policy/v1, which the default list has.
        let served: Vec<String> = [
            "v1",
            "v1/Secret",
            "apps/v1",
            "apps/v1/StatefulSet",
            "policy/v1beta1",
            "v1",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let kv = KubeVersion::parse("v1.20.2").unwrap();
        let caps = Capabilities::served(Some(kv), &served, &["example.com/v1".to_string()]);
        assert!(has(&caps, "policy/v1beta1"));
        assert!(has(&caps, "apps/v1/StatefulSet"));
        assert!(has(&caps, "example.com/v1"));
        assert!(!has(&caps, "policy/v1"));
        assert!(!has(&caps, "autoscaling/v2"));
        // Duplicates dropped, order kept.
        assert_eq!(caps.api_versions.0.len(), 6);
        assert_eq!(caps.api_versions.0[0], "v1");
        assert_eq!(caps.kube_version.version, "v1.20.2");
        // The offline list still has policy/v1.
        assert!(has(&Capabilities::new(None, &[]), "policy/v1"));
    }

    #[test]
    fn files_methods() {
        let mut m = BTreeMap::new();
        m.insert("files/a.txt".to_string(), Rc::from(&b"x\ny\n"[..]));
        m.insert("files/sub/b.txt".to_string(), Rc::from(&b"b"[..]));
        let f = Files::new(m);
        let Some(Member::Method(lines)) = f.member("Lines") else {
            panic!()
        };
        let v = lines(&[Value::str("files/a.txt")]).unwrap();
        assert_eq!(v.as_list().unwrap().items.len(), 2);
        assert_eq!(f.glob("files/*").files.len(), 1);
        assert_eq!(f.glob("files/**").files.len(), 2);
    }
}
