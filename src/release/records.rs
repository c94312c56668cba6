//! Where and how a release's revisions live (Helm's Secret driver), and the pure logic over a
//! release's history: which revision is deployed, whether an operation holds the lock, what the
//! next revision is, which old records `--history-max` prunes.
//!
//! Kept free of I/O: the cluster edge reads and writes the Secret objects built here.

use base64::Engine;
use serde_json::{json, Value as Json};

use super::codec::{self, CodecError};
use super::{Release, Status};

/// `type` of Helm's release Secrets.
pub const SECRET_TYPE: &str = "helm.sh/release.v1";

/// `sh.helm.release.v1.<name>.v<revision>` (`pkg/storage/storage.go` makeKey).
pub fn secret_name(release: &str, revision: u32) -> String {
    format!("sh.helm.release.v1.{release}.v{revision}")
}

/// The label selector Helm uses to list one release's records.
pub fn history_selector(release: &str) -> String {
    format!("name={release},owner=helm")
}

/// The Secret that stores `rel`, as Helm's Secret driver builds it: labels `name`, `owner`,
/// `status`, `version`, plus `createdAt` (on create) or `modifiedAt` (on update), in unix seconds.
pub fn to_secret(rel: &Release, created_at: Option<i64>, modified_at: Option<i64>) -> Result<Json, CodecError> {
    let payload = codec::encode(rel)?;
    // The user's labels first, helm's system labels over them (the driver's `lbs.fromMap`, then `set`).
    let mut labels = json!(rel.labels);
    for (k, v) in [
        ("name", rel.name.clone()),
        ("owner", "helm".to_string()),
        ("status", rel.status().as_str().to_string()),
        ("version", rel.version.to_string()),
    ] {
        labels[k] = Json::String(v);
    }
    if let Some(t) = created_at {
        labels["createdAt"] = Json::String(t.to_string());
    }
    if let Some(t) = modified_at {
        labels["modifiedAt"] = Json::String(t.to_string());
    }
    Ok(json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": secret_name(&rel.name, rel.version),
            "namespace": rel.namespace,
            "labels": labels,
        },
        "type": SECRET_TYPE,
        // The API base64-encodes Secret data once more: Helm's payload is itself base64 text.
        "data": { "release": base64::engine::general_purpose::STANDARD.encode(payload.as_bytes()) },
    }))
}

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("Secret {name} has no data.release")]
    NoPayload { name: String },
    #[error("Secret {name}: {source}")]
    Codec {
        name: String,
        #[source]
        source: CodecError,
    },
}

/// The labels helm's drivers set themselves (`pkg/storage/driver/util.go`, `systemLabels`); a
/// user's `--labels` may not name them.
pub const SYSTEM_LABELS: &[&str] = &["name", "owner", "status", "version", "createdAt", "modifiedAt"];

/// The user's labels of a stored record: its labels without the system ones (`filterSystemLabels`).
pub fn user_labels(obj: &Json) -> std::collections::BTreeMap<String, String> {
    obj.pointer("/metadata/labels")
        .and_then(Json::as_object)
        .into_iter()
        .flatten()
        .filter(|(k, _)| !SYSTEM_LABELS.contains(&k.as_str()))
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
        .collect()
}

/// Read a release from a Secret object as the API returns it (JSON).
pub fn from_secret(secret: &Json) -> Result<Release, RecordError> {
    let mut rel = from_secret_payload(secret)?;
    rel.labels = user_labels(secret);
    Ok(rel)
}

fn from_secret_payload(secret: &Json) -> Result<Release, RecordError> {
    let name = secret
        .pointer("/metadata/name")
        .and_then(Json::as_str)
        .unwrap_or("<unnamed>")
        .to_string();
    let data = secret
        .pointer("/data/release")
        .and_then(Json::as_str)
        .ok_or(RecordError::NoPayload { name: name.clone() })?;
    let inner = base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|e| RecordError::Codec {
            name: name.clone(),
            source: e.into(),
        })?;
    let text = String::from_utf8_lossy(&inner);
    codec::decode(&text).map_err(|source| RecordError::Codec { name, source })
}

/// All revisions of one release, ordered by revision.
#[derive(Debug, Clone, Default)]
pub struct History {
    pub revisions: Vec<Release>,
}

impl History {
    pub fn new(mut revisions: Vec<Release>) -> History {
        revisions.sort_by_key(|r| r.version);
        History { revisions }
    }

    /// The newest revision, whatever its status (Helm's `Last`).
    pub fn last(&self) -> Option<&Release> {
        self.revisions.last()
    }

    /// The newest revision with status `deployed` (Helm's `Deployed`).
    pub fn deployed(&self) -> Option<&Release> {
        self.revisions.iter().rev().find(|r| r.status() == Status::Deployed)
    }

    /// The revision an upgrade starts from: the deployed one, else the newest failed or superseded.
    /// None when the newest record is `uninstalled` (`uninstall --keep-history`): its objects are
    /// gone, and the next apply is an install, as helm's `upgrade --install` makes it.
    pub fn baseline(&self) -> Option<&Release> {
        if self.last().is_some_and(|r| r.status() == Status::Uninstalled) {
            return None;
        }
        self.deployed().or_else(|| {
            self.revisions
                .iter()
                .rev()
                .find(|r| matches!(r.status(), Status::Failed | Status::Superseded))
        })
    }

    /// The revision holding the lock: the newest one, when its status is `pending-*`.
    pub fn lock_holder(&self) -> Option<&Release> {
        self.last().filter(|r| r.status().is_pending())
    }

    pub fn next_revision(&self) -> u32 {
        self.last().map_or(1, |r| r.version + 1)
    }

    pub fn get(&self, revision: u32) -> Option<&Release> {
        self.revisions.iter().find(|r| r.version == revision)
    }

    /// Revisions to delete before adding one more, so that at most `max` remain afterwards
    /// (`max == 0`: unlimited). Oldest first, never the last deployed one — as Helm's
    /// `removeLeastRecent`.
    pub fn prune_before_create(&self, max: usize) -> Vec<u32> {
        if max == 0 {
            return Vec::new();
        }
        let keep = max.saturating_sub(1);
        let protected = self.deployed().map(|r| r.version);
        let mut remaining = self.revisions.len();
        let mut out = Vec::new();
        for r in &self.revisions {
            if remaining <= keep {
                break;
            }
            if Some(r.version) == protected {
                continue;
            }
            out.push(r.version);
            remaining -= 1;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::release::{ChartRecord, Info};

    fn rel(version: u32, status: Status) -> Release {
        let mut chart = ChartRecord::default();
        chart.metadata.insert("name".into(), "db".into());
        chart.metadata.insert("version".into(), "1.0.0".into());
        Release {
            name: "db".into(),
            info: Info {
                status,
                description: format!("rev {version}"),
                ..Default::default()
            },
            chart,
            config: Json::Null,
            manifest: String::new(),
            hooks: vec![],
            version,
            namespace: "prod".into(),
            apply_method: String::new(),
            extra: Default::default(),
            labels: Default::default(),
        }
    }

    #[test]
    fn secret_has_helms_name_type_labels_and_double_base64() {
        let s = to_secret(&rel(3, Status::Deployed), Some(1700000000), None).unwrap();
        assert_eq!(s["metadata"]["name"], "sh.helm.release.v1.db.v3");
        assert_eq!(s["type"], "helm.sh/release.v1");
        assert_eq!(s["metadata"]["labels"]["status"], "deployed");
        assert_eq!(s["metadata"]["labels"]["version"], "3");
        assert_eq!(s["metadata"]["labels"]["owner"], "helm");
        assert_eq!(s["metadata"]["labels"]["createdAt"], "1700000000");
        let back = from_secret(&s).unwrap();
        assert_eq!(back.version, 3);
        assert_eq!(back.info.description, "rev 3");
    }

    #[test]
    fn lock_baseline_and_next_revision() {
        let h = History::new(vec![
            rel(2, Status::Deployed),
            rel(1, Status::Superseded),
            rel(3, Status::PendingUpgrade),
        ]);
        assert_eq!(h.lock_holder().map(|r| r.version), Some(3));
        assert_eq!(h.baseline().map(|r| r.version), Some(2));
        assert_eq!(h.next_revision(), 4);
        let failed = History::new(vec![rel(1, Status::Superseded), rel(2, Status::Failed)]);
        assert!(failed.lock_holder().is_none());
        assert_eq!(failed.baseline().map(|r| r.version), Some(2));
    }

    #[test]
    fn pruning_never_removes_the_last_deployed() {
        // 1 deployed, then 2..5 failed: with max 3, keep room for one new record.
        let h = History::new(vec![
            rel(1, Status::Deployed),
            rel(2, Status::Failed),
            rel(3, Status::Failed),
            rel(4, Status::Failed),
            rel(5, Status::Failed),
        ]);
        assert_eq!(h.prune_before_create(3), vec![2, 3, 4]);
        assert!(h.prune_before_create(0).is_empty());
        assert!(History::new(vec![rel(1, Status::Deployed)])
            .prune_before_create(10)
            .is_empty());
    }
}
