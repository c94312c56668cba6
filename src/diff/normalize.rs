//! What the API server does to an object before it stores it, as far as a comparison must know.
//!
//! Two comparisons need it. A *recreate* is only real when the server would refuse the update:
//! `podManagementPolicy: ''` is defaulted to `OrderedReady`, a claim template's
//! `metadata.annotations: null` is dropped, a claim template's `apiVersion`/`kind` are not kept —
//! none of these changes what the server stores, so none forces a recreate ([`server_spec`]).
//! *Drift* compares the recorded manifest with the live object: the server writes quantities in
//! canonical form (`2000m` → `2`, `4096Mi` → `4Gi`, `1.5` → `1500m`) and drops empty values
//! (`limits: {}`, `value: ""`, `readOnly: false`), so both sides go through [`for_drift`] first.
//!
//! Pure functions on JSON values; the quantity canonicalisation follows
//! k8s.io/apimachinery/pkg/api/resource (`Quantity.String` after `CanonicalizeBytes`).

use serde_json::{Map, Value as Json};

/// Keys whose empty string means something to the server (not "unset"): a claim's
/// `storageClassName: ""` disables dynamic provisioning; `clusterIP: ""` is handled by the
/// Service rule itself.
const EMPTY_STRING_MEANS_SOMETHING: &[&str] = &["storageClassName", "clusterIP"];

/// Plain (non-pointer) booleans of the core API declared `omitempty`: `false` is never stored.
const OMITEMPTY_BOOLS: &[&str] = &[
    "readOnly",
    "stdin",
    "stdinOnce",
    "tty",
    "hostNetwork",
    "hostPID",
    "hostIPC",
];

/// Map keys whose values are resource quantities.
const QUANTITY_MAPS: &[&str] = &[
    "requests",
    "limits",
    "hard",
    "capacity",
    "default",
    "defaultRequest",
    "max",
    "min",
];

/// Drop nulls, empty strings, empty maps and lists, and `false` of omitempty booleans, bottom up
/// (a map that only held empties is itself dropped). Returns whether `v` is now empty.
pub fn prune_empty(v: &mut Json) -> bool {
    match v {
        Json::Null => true,
        Json::String(s) => s.is_empty(),
        Json::Object(m) => {
            let keys: Vec<String> = m.keys().cloned().collect();
            for k in keys {
                let keep_empty_string =
                    EMPTY_STRING_MEANS_SOMETHING.contains(&k.as_str()) && m.get(&k).is_some_and(Json::is_string);
                let Some(x) = m.get_mut(&k) else { continue };
                let drop = if keep_empty_string {
                    false
                } else if matches!(x, Json::Bool(false)) {
                    OMITEMPTY_BOOLS.contains(&k.as_str())
                } else {
                    prune_empty(x)
                };
                if drop {
                    m.remove(&k);
                }
            }
            m.is_empty()
        }
        Json::Array(a) => {
            for x in a.iter_mut() {
                // Elements stay (positions matter); only their insides are pruned.
                prune_empty(x);
            }
            a.is_empty()
        }
        _ => false,
    }
}

/// The form the drift comparison uses: empties pruned, quantities canonical.
pub fn for_drift(v: &Json) -> Json {
    let mut v = v.clone();
    canonical_quantities(&mut v, None);
    prune_empty(&mut v);
    v
}

/// Rewrite every quantity (values of `requests`, `limits`… maps, `sizeLimit`, `storage`) in the
/// server's canonical form; values that do not parse stay as they are.
pub fn canonical_quantities(v: &mut Json, key: Option<&str>) {
    match v {
        Json::Object(m) => {
            let in_quantity_map = key.is_some_and(|k| QUANTITY_MAPS.contains(&k));
            for (k, x) in m.iter_mut() {
                if (in_quantity_map || k == "sizeLimit") && (x.is_string() || x.is_number()) {
                    if let Some(c) = canonical_quantity(x) {
                        *x = Json::String(c);
                    }
                } else {
                    canonical_quantities(x, Some(k));
                }
            }
        }
        Json::Array(a) => a.iter_mut().for_each(|x| canonical_quantities(x, None)),
        _ => {}
    }
}

/// The spec of `group/kind` as the server would store it, for the immutable-field rules:
/// empties pruned, claim templates reduced to what is kept, documented defaults filled in.
pub fn server_spec(group: &str, kind: &str, spec: &Json) -> Json {
    let mut s = spec.clone();
    prune_empty(&mut s);
    let Some(m) = s.as_object_mut() else { return s };
    match (group, kind) {
        ("apps", "StatefulSet") => {
            default_str(m, "podManagementPolicy", "OrderedReady");
            default_num(m, "revisionHistoryLimit", 10.0);
            if let Some(ts) = m.get_mut("volumeClaimTemplates").and_then(Json::as_array_mut) {
                for t in ts.iter_mut().filter_map(Json::as_object_mut) {
                    // The server keeps a claim template as a claim without type meta or status.
                    t.remove("apiVersion");
                    t.remove("kind");
                    t.remove("status");
                    if let Some(spec) = t.get_mut("spec").and_then(Json::as_object_mut) {
                        claim_defaults(spec);
                    }
                }
            }
        }
        ("", "PersistentVolumeClaim") => claim_defaults(m),
        ("", "Service") => {
            default_str(m, "type", "ClusterIP");
            default_str(m, "sessionAffinity", "None");
        }
        ("apps", "Deployment") | ("apps", "DaemonSet") => {
            default_num(m, "revisionHistoryLimit", 10.0);
        }
        ("batch", "Job") => {
            // SetDefaults_Job: neither completions nor parallelism set means one of each (a set
            // parallelism leaves completions unset).
            if !m.contains_key("completions") && !m.contains_key("parallelism") {
                m.insert("completions".into(), Json::from(1u64));
            }
        }
        _ => {}
    }
    canonical_quantities(&mut s, None);
    s
}

fn claim_defaults(spec: &mut Map<String, Json>) {
    default_str(spec, "volumeMode", "Filesystem");
}

/// Remove `key` when it holds the server's default: spelt out or left out is the same object.
fn default_str(m: &mut Map<String, Json>, key: &str, default: &str) {
    if m.get(key).and_then(Json::as_str) == Some(default) {
        m.remove(key);
    }
}

fn default_num(m: &mut Map<String, Json>, key: &str, default: f64) {
    if m.get(key).and_then(Json::as_f64) == Some(default) {
        m.remove(key);
    }
}

/// A quantity in the API server's canonical form (`2000m` → `2`, `4096Mi` → `4Gi`, `1.5` →
/// `1500m`, `1e3` → `1e3`); None when it does not parse as a quantity.
pub fn canonical_quantity(v: &Json) -> Option<String> {
    let s = match v {
        Json::String(s) => s.trim().to_string(),
        Json::Number(n) => n.to_string(),
        _ => return None,
    };
    let q = parse(&s)?;
    Some(q.canonical())
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Format {
    DecimalSI,
    BinarySI,
    DecimalExponent,
}

/// value = mantissa × 10^exp (exact).
#[derive(Debug, Clone, Copy)]
struct Quantity {
    negative: bool,
    mantissa: u128,
    exp: i32,
    format: Format,
}

fn parse(s: &str) -> Option<Quantity> {
    let (negative, rest) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let (num, suffix) = rest.split_at(end);
    if num.is_empty() || num == "." || num.matches('.').count() > 1 {
        return None;
    }
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    let digits = format!("{int}{frac}");
    let digits = digits.trim_start_matches('0');
    // Beyond 30 significant digits the server rounds anyway; such values are not in real charts.
    if digits.len() > 30 {
        return None;
    }
    let mantissa: u128 = if digits.is_empty() { 0 } else { digits.parse().ok()? };
    let mut exp = -(frac.len() as i32);
    let (format, bin_pow) = match suffix {
        "" => (Format::DecimalSI, 0),
        "Ki" => (Format::BinarySI, 1),
        "Mi" => (Format::BinarySI, 2),
        "Gi" => (Format::BinarySI, 3),
        "Ti" => (Format::BinarySI, 4),
        "Pi" => (Format::BinarySI, 5),
        "Ei" => (Format::BinarySI, 6),
        "n" | "u" | "m" | "k" | "M" | "G" | "T" | "P" | "E" => {
            exp += match suffix {
                "n" => -9,
                "u" => -6,
                "m" => -3,
                "k" => 3,
                "M" => 6,
                "G" => 9,
                "T" => 12,
                "P" => 15,
                _ => 18,
            };
            (Format::DecimalSI, 0)
        }
        e if e.starts_with(['e', 'E']) => {
            exp += e[1..].parse::<i32>().ok()?;
            (Format::DecimalExponent, 0)
        }
        _ => return None,
    };
    let mut mantissa = mantissa;
    for _ in 0..bin_pow {
        mantissa = mantissa.checked_mul(1024)?;
    }
    let mut q = Quantity {
        negative: negative && mantissa != 0,
        mantissa,
        exp,
        format,
    };
    q.reduce();
    Some(q)
}

impl Quantity {
    /// Strip trailing zeros into the exponent.
    fn reduce(&mut self) {
        if self.mantissa == 0 {
            self.exp = 0;
            return;
        }
        while self.mantissa % 10 == 0 {
            self.mantissa /= 10;
            self.exp += 1;
        }
    }

    /// The integer value, when it is one and fits.
    fn integer(&self) -> Option<u128> {
        if self.exp < 0 {
            return None;
        }
        let mut v = self.mantissa;
        for _ in 0..self.exp {
            v = v.checked_mul(10)?;
        }
        Some(v)
    }

    fn canonical(mut self) -> String {
        if self.mantissa == 0 {
            return "0".into();
        }
        // Precision below 1n is rounded up (away from zero), as the server does.
        if self.exp < -9 {
            let mut m = self.mantissa;
            let mut lost = false;
            while self.exp < -9 {
                lost |= m % 10 != 0;
                m /= 10;
                self.exp += 1;
            }
            self.mantissa = m + u128::from(lost);
            self.reduce();
        }
        let sign = if self.negative { "-" } else { "" };
        let mut format = self.format;
        if format == Format::BinarySI {
            match self.integer() {
                // Small or fractional binary quantities are written in decimal.
                Some(v) if v >= 1024 => {
                    let mut v = v;
                    let mut pow = 0;
                    while pow < 6 && v % 1024 == 0 {
                        v /= 1024;
                        pow += 1;
                    }
                    let suffix = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"][pow];
                    return format!("{sign}{v}{suffix}");
                }
                _ => format = Format::DecimalSI,
            }
        }
        // Decimal: the largest exponent that is a multiple of 3 and keeps the mantissa whole.
        let e3 = self.exp.div_euclid(3) * 3;
        let e3 = e3.clamp(-9, 18);
        let mut m = self.mantissa;
        for _ in 0..(self.exp - e3).max(0) {
            match m.checked_mul(10) {
                Some(x) => m = x,
                None => return format!("{sign}{}e{}", self.mantissa, self.exp),
            }
        }
        if format == Format::DecimalExponent {
            return if e3 == 0 {
                format!("{sign}{m}")
            } else {
                format!("{sign}{m}e{e3}")
            };
        }
        let suffix = match e3 {
            -9 => "n",
            -6 => "u",
            -3 => "m",
            0 => "",
            3 => "k",
            6 => "M",
            9 => "G",
            12 => "T",
            15 => "P",
            _ => "E",
        };
        format!("{sign}{m}{suffix}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn c(s: &str) -> String {
        canonical_quantity(&json!(s)).unwrap_or_else(|| panic!("{s} does not parse"))
    }

    #[test]
    fn quantities_as_the_server_writes_them() {
        // Expected values: what kube-apiserver stores (k8s.io/apimachinery resource.Quantity
        // String(); quantity_test.go's canonical table).
        assert_eq!(c("2000m"), "2");
        assert_eq!(c("4096Mi"), "4Gi");
        assert_eq!(c("1.5"), "1500m");
        assert_eq!(c("1536Mi"), "1536Mi");
        assert_eq!(c("1.5Gi"), "1536Mi");
        assert_eq!(c("0.5Gi"), "512Mi");
        assert_eq!(c("1000"), "1k");
        assert_eq!(c("1500"), "1500");
        assert_eq!(c("100m"), "100m");
        assert_eq!(c("0.1"), "100m");
        assert_eq!(c("1024"), "1024");
        assert_eq!(c("1Ki"), "1Ki");
        assert_eq!(c("512Ki"), "512Ki");
        assert_eq!(c("0.5Ki"), "512");
        assert_eq!(c("1e3"), "1e3");
        assert_eq!(c("1000M"), "1G");
        assert_eq!(c("0"), "0");
        assert_eq!(c("0Gi"), "0");
        assert_eq!(c("-2000m"), "-2");
        assert_eq!(c("1.0000000001"), "1000000001n");
        assert_eq!(canonical_quantity(&json!(1.5)).as_deref(), Some("1500m"));
        assert_eq!(canonical_quantity(&json!(2)).as_deref(), Some("2"));
        assert_eq!(canonical_quantity(&json!("ten")), None);
        assert_eq!(canonical_quantity(&json!("1Zi")), None);
    }

    #[test]
    fn drift_form_drops_what_the_server_drops() {
        let recorded = json!({
            "containers": [{
                "name": "a",
                "env": [{"name": "X", "value": ""}],
                "resources": {"limits": {}, "requests": {"cpu": "2000m", "memory": "4096Mi"}},
                "volumeMounts": [{"name": "d", "mountPath": "/d", "readOnly": false}]
            }],
            "automountServiceAccountToken": false
        });
        let live = json!({
            "containers": [{
                "name": "a",
                "env": [{"name": "X"}],
                "resources": {"requests": {"cpu": "2", "memory": "4Gi"}},
                "volumeMounts": [{"name": "d", "mountPath": "/d"}]
            }],
            "automountServiceAccountToken": false
        });
        assert_eq!(for_drift(&recorded), for_drift(&live));
        // A real change still shows.
        let mut changed = live.clone();
        changed["containers"][0]["resources"]["requests"]["cpu"] = json!("3");
        assert_ne!(for_drift(&recorded), for_drift(&changed));
        // A pointer boolean's false is kept (the server stores it).
        assert_eq!(for_drift(&recorded)["automountServiceAccountToken"], json!(false));
    }

    #[test]
    fn storage_class_empty_string_is_kept() {
        let s = server_spec(
            "",
            "PersistentVolumeClaim",
            &json!({"storageClassName": "", "volumeMode": "Filesystem"}),
        );
        assert_eq!(s, json!({"storageClassName": ""}));
    }

    #[test]
    fn statefulset_server_form() {
        let a = json!({
            "podManagementPolicy": "",
            "volumeClaimTemplates": [{"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                "metadata": {"name": "data", "annotations": null},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "8192Mi"}}}}]
        });
        let b = json!({
            "volumeClaimTemplates": [{"metadata": {"name": "data"},
                "spec": {"accessModes": ["ReadWriteOnce"], "volumeMode": "Filesystem",
                         "resources": {"requests": {"storage": "8Gi"}}}}]
        });
        assert_eq!(
            server_spec("apps", "StatefulSet", &a),
            server_spec("apps", "StatefulSet", &b)
        );
        let c = json!({"podManagementPolicy": "Parallel"});
        assert_ne!(
            server_spec("apps", "StatefulSet", &a),
            server_spec("apps", "StatefulSet", &c)
        );
    }
}
