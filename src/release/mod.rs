//! Release records stored exactly as Helm stores them, so `helm history`, `helm list` and
//! `helm get manifest` (3.x and 4.x) show chartup's revisions and chartup reads Helm's.
//!
//! The model mirrors Helm's `pkg/release/v1` JSON field for field. Fields chartup does not use
//! are kept verbatim (`extra`), so reading a record Helm wrote and writing it back (to mark it
//! superseded) loses nothing, whatever Helm version wrote it.
//!
//! Time fields are `Option`: Helm 3 writes zero times as `0001-01-01T00:00:00Z`, Helm 4 omits
//! them or writes `""`; all three read as `None`, and `None` is written by omission, which both
//! Helm lines read back as zero.
//!
//! - [`codec`]: base64(gzip(JSON)), as `pkg/storage/driver/util.go`.
//! - [`hooks`]: Helm's hook annotations, read once for the renderer and the executor.
//! - [`records`]: the Secret (name, type, labels) and the pure logic of a release's history:
//!   lock detection, the deployed revision, next revision, pruning.

pub mod cfgmap;
pub mod codec;
pub mod hooks;
pub mod list;
pub mod records;

use serde::{Deserialize, Serialize};
use serde_json::{Map as JsonMap, Value as Json};

/// A release status, as `pkg/release/common/status.go`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    #[default]
    Unknown,
    Deployed,
    Uninstalled,
    Superseded,
    Failed,
    Uninstalling,
    PendingInstall,
    PendingUpgrade,
    PendingRollback,
}

impl Status {
    /// Helm's spelling, also used as the Secret's `status` label.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Unknown => "unknown",
            Status::Deployed => "deployed",
            Status::Uninstalled => "uninstalled",
            Status::Superseded => "superseded",
            Status::Failed => "failed",
            Status::Uninstalling => "uninstalling",
            Status::PendingInstall => "pending-install",
            Status::PendingUpgrade => "pending-upgrade",
            Status::PendingRollback => "pending-rollback",
        }
    }

    /// Any `pending-*` status is a lock: an operation is (or was, if it crashed) in progress.
    pub fn is_pending(self) -> bool {
        matches!(
            self,
            Status::PendingInstall | Status::PendingUpgrade | Status::PendingRollback
        )
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A point in time as Go's `time.Time` JSON (RFC 3339 with nanoseconds). `None` is Go's zero time.
pub type Time = Option<jiff::Timestamp>;

mod go_time {
    //! Go `time.Time` in JSON: zero time (`0001-01-01T00:00:00Z`), `""` and absence all mean `None`.
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &super::Time, s: S) -> Result<S::Ok, S::Error> {
        match t {
            // Go's RFC3339Nano: fractional seconds without trailing zeros; UTC as `Z`.
            Some(ts) => s.serialize_str(&ts.to_string()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<super::Time, D::Error> {
        let raw: Option<String> = Option::deserialize(d)?;
        match raw.as_deref() {
            None | Some("") => Ok(None),
            Some(s) => {
                let ts: jiff::Timestamp = s.parse().map_err(serde::de::Error::custom)?;
                // Go's zero time, as Helm 3 writes it for "never".
                if ts.as_second() <= -62135596800 {
                    Ok(None)
                } else {
                    Ok(Some(ts))
                }
            }
        }
    }
}

/// Go marshals a nil slice or map as `null` (helm 4 writes `"files":null`, `"events":null`…): read
/// it as empty.
fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// `release.Info`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Info {
    #[serde(with = "go_time", default, skip_serializing_if = "Option::is_none")]
    pub first_deployed: Time,
    #[serde(with = "go_time", default, skip_serializing_if = "Option::is_none")]
    pub last_deployed: Time,
    #[serde(with = "go_time", default, skip_serializing_if = "Option::is_none")]
    pub deleted: Time,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default)]
    pub status: Status,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub notes: String,
    /// Everything else Helm writes (`resources`, `rollback_revision`…), kept verbatim.
    #[serde(flatten)]
    pub extra: JsonMap<String, Json>,
}

/// A file of a chart (`chart.File`): `data` is base64, as Go marshals `[]byte`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct File {
    pub name: String,
    #[serde(default)]
    pub data: String,
    #[serde(flatten)]
    pub extra: JsonMap<String, Json>,
}

impl File {
    pub fn new(name: impl Into<String>, bytes: &[u8]) -> File {
        use base64::Engine;
        File {
            name: name.into(),
            data: base64::engine::general_purpose::STANDARD.encode(bytes),
            extra: JsonMap::new(),
        }
    }

    /// The file's bytes (empty if the record holds invalid base64).
    pub fn bytes(&self) -> Vec<u8> {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .decode(&self.data)
            .unwrap_or_default()
    }
}

/// `chart.Chart` as stored in a release: metadata (Chart.yaml fields, Helm's JSON names), templates,
/// default values, schema and files. chartup reads `metadata.name/version/appVersion`; the rest is
/// carried so that `helm rollback` to a chartup revision has the whole chart.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ChartRecord {
    /// Chart.yaml, with Helm's JSON field names (`name`, `version`, `appVersion`, `apiVersion`…).
    #[serde(default, deserialize_with = "null_as_default")]
    pub metadata: JsonMap<String, Json>,
    #[serde(default)]
    pub lock: Json,
    #[serde(default, deserialize_with = "null_as_default")]
    pub templates: Vec<File>,
    #[serde(default)]
    pub values: Json,
    /// base64 of values.schema.json, or null.
    #[serde(default)]
    pub schema: Json,
    #[serde(default, deserialize_with = "null_as_default")]
    pub files: Vec<File>,
    #[serde(flatten)]
    pub extra: JsonMap<String, Json>,
}

impl ChartRecord {
    fn meta_str(&self, key: &str) -> &str {
        self.metadata.get(key).and_then(Json::as_str).unwrap_or("")
    }
    pub fn name(&self) -> &str {
        self.meta_str("name")
    }
    pub fn version(&self) -> &str {
        self.meta_str("version")
    }
    pub fn app_version(&self) -> &str {
        self.meta_str("appVersion")
    }
}

/// `release.HookExecution`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct HookExecution {
    #[serde(with = "go_time", default, skip_serializing_if = "Option::is_none")]
    pub started_at: Time,
    #[serde(with = "go_time", default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Time,
    #[serde(default)]
    pub phase: String,
}

/// `release.Hook`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Hook {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub path: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub manifest: String,
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<String>,
    #[serde(default)]
    pub last_run: HookExecution,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub weight: i64,
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub delete_policies: Vec<String>,
    #[serde(flatten)]
    pub extra: JsonMap<String, Json>,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// `release.Release`: one revision of a release.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Release {
    pub name: String,
    #[serde(default)]
    pub info: Info,
    #[serde(default)]
    pub chart: ChartRecord,
    /// The user-supplied values of this revision (`helm get values`).
    #[serde(default, skip_serializing_if = "json_empty")]
    pub config: Json,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub manifest: String,
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub hooks: Vec<Hook>,
    /// The revision number.
    #[serde(default)]
    pub version: u32,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    /// Helm 4: "csa" or "ssa"; empty means client-side apply.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub apply_method: String,
    /// Fields of later Helm versions, kept verbatim.
    #[serde(flatten)]
    pub extra: JsonMap<String, Json>,
    /// The user's labels (`--labels`): on the storage object beside helm's system labels, never in
    /// the payload (helm's `Release.Labels` is `json:"-"`).
    #[serde(skip)]
    pub labels: std::collections::BTreeMap<String, String>,
}

fn json_empty(v: &Json) -> bool {
    match v {
        Json::Null => true,
        Json::Object(m) => m.is_empty(),
        _ => false,
    }
}

impl Release {
    pub fn status(&self) -> Status {
        self.info.status
    }

    /// `name-version`, Helm's CHART column.
    pub fn chart_label(&self) -> String {
        format!("{}-{}", self.chart.name(), self.chart.version())
    }
}
