//! Helm's ConfigMap storage driver (`HELM_DRIVER=configmap`, `pkg/storage/driver/cfgmaps.go`):
//! the same record as the Secret driver — same name `sh.helm.release.v1.NAME.vN`, same labels
//! (`name`, `owner=helm`, `status`, `version`, `createdAt`/`modifiedAt`), same payload
//! `base64(gzip(json))` — in a ConfigMap's `data.release`, which the API does not base64 again.
//!
//! Pure like [`super::records`]: the cluster edge reads and writes the objects built here.

use serde_json::{json, Value as Json};

use super::codec::{self, CodecError};
use super::records::{self, RecordError};
use super::Release;

/// The ConfigMap that stores `rel`, as Helm's ConfigMap driver builds it.
pub fn to_configmap(rel: &Release, created_at: Option<i64>, modified_at: Option<i64>) -> Result<Json, CodecError> {
    // One label set for both drivers: take the Secret's and change the envelope.
    let secret = records::to_secret(rel, created_at, modified_at)?;
    Ok(json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": secret["metadata"],
        "data": { "release": codec::encode(rel)? },
    }))
}

/// Read a release from a ConfigMap object as the API returns it (JSON).
pub fn from_configmap(cm: &Json) -> Result<Release, RecordError> {
    let mut rel = from_configmap_payload(cm)?;
    rel.labels = records::user_labels(cm);
    Ok(rel)
}

fn from_configmap_payload(cm: &Json) -> Result<Release, RecordError> {
    let name = cm
        .pointer("/metadata/name")
        .and_then(Json::as_str)
        .unwrap_or("<unnamed>")
        .to_string();
    let data = cm
        .pointer("/data/release")
        .and_then(Json::as_str)
        .ok_or(RecordError::NoPayload { name: name.clone() })?;
    codec::decode(data).map_err(|source| RecordError::Codec { name, source })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::release::{ChartRecord, Info, Status};

    #[test]
    fn configmap_round_trip_and_envelope() {
        let mut chart = ChartRecord::default();
        chart.metadata.insert("name".into(), "db".into());
        let rel = Release {
            name: "db".into(),
            namespace: "ns".into(),
            version: 3,
            info: Info {
                status: Status::Deployed,
                ..Default::default()
            },
            chart,
            config: Json::Null,
            manifest: String::new(),
            hooks: vec![],
            apply_method: String::new(),
            extra: Default::default(),
            labels: Default::default(),
        };
        let cm = to_configmap(&rel, Some(10), None).unwrap();
        assert_eq!(cm["kind"], "ConfigMap");
        assert_eq!(cm["metadata"]["name"], "sh.helm.release.v1.db.v3");
        assert_eq!(
            cm["metadata"]["labels"],
            json!({"name": "db", "owner": "helm", "status": "deployed", "version": "3", "createdAt": "10"})
        );
        assert!(cm.get("type").is_none());
        // the payload is helm's base64(gzip(json)) text itself (H4sI… is gzip's magic in base64)
        assert!(cm["data"]["release"].as_str().unwrap().starts_with("H4sI"));
        let back = from_configmap(&cm).unwrap();
        assert_eq!(back.version, 3);
        assert_eq!(back.status(), Status::Deployed);
    }
}
