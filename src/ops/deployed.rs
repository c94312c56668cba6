//! The deployed side of a plan against a cluster, and its live drift.
//!
//! The from-side is what Helm itself would diff against — the deployed revision's manifest from
//! its record — not the live objects: the plan must describe what chartup will change relative to
//! what was reviewed last time. When live objects drifted from the deployed manifest (someone ran
//! `kubectl edit`), the plan says so in its warnings.

use futures::StreamExt as _;
use serde_json::Value as Json;

use super::Error;
use crate::cluster::{Cluster, ClusterError};
use crate::executor::obj_ref;
use crate::manifest::{self, ManifestSet};
use crate::plan::{ChartRef, ReleaseSide};
use crate::storage::ReleaseStore;

/// The deployed side of a release, as its records say.
pub struct DeployedSide {
    pub side: ReleaseSide,
    /// The revision the plan starts from (Helm's baseline: deployed, else the last failed/superseded).
    pub base_revision: Option<u64>,
    /// The revision an apply of the plan writes (the newest record's + 1), as `helm upgrade`
    /// renders `.Release.Revision`.
    pub next_revision: u32,
    /// The newest record when it is a failed run (apply re-applies what the plan leaves
    /// unchanged then: executor::apply).
    pub newest_failed: Option<u32>,
}

/// Read the release's baseline revision and turn its manifest into a plan side. A release with no
/// records is a first install (an empty side).
pub async fn deployed_side(store: &dyn ReleaseStore, release: &str) -> Result<DeployedSide, Error> {
    let ns = store.namespace();
    let history = store.history(release).await?;
    let next_revision = history.next_revision();
    let newest_failed = history
        .last()
        .filter(|r| r.status() == crate::release::Status::Failed)
        .map(|r| r.version);
    let Some(base) = history.baseline() else {
        return Ok(DeployedSide {
            side: ReleaseSide::empty(&format!("release {release} (not installed)")),
            base_revision: None,
            next_revision,
            newest_failed,
        });
    };
    let docs = manifest::split_documents(&base.manifest);
    let mut side = ReleaseSide::new(&format!("release {release} revision {}", base.version), docs, ns)
        .map_err(|e| Error::Invalid(format!("revision {} of {release}: {e}", base.version)))?;
    if !base.chart.name().is_empty() {
        side.chart = Some(ChartRef {
            name: base.chart.name().to_string(),
            version: base.chart.version().to_string(),
            app_version: Some(base.chart.app_version().to_string()).filter(|s| !s.is_empty()),
        });
    }
    side.user_values = match &base.config {
        Json::Null => Some(Json::Object(Default::default())),
        v => Some(v.clone()),
    };
    Ok(DeployedSide {
        side,
        base_revision: Some(u64::from(base.version)),
        next_revision,
        newest_failed,
    })
}

/// Fields the manifest sets whose live value differs: `path: manifest → live`. Only what the
/// manifest sets is compared (servers add defaults and status); a few differences per object
/// are enough to point at the drift.
fn differences(want: &Json, live: &Json, path: &str, out: &mut Vec<String>) {
    if out.len() >= 3 {
        return;
    }
    match (want, live) {
        (Json::Object(w), Json::Object(l)) => {
            for (k, v) in w {
                let p = format!("{path}.{k}");
                match l.get(k) {
                    Some(lv) => differences(v, lv, &p, out),
                    None if v.is_null() => {}
                    None => out.push(format!("{p}: {} → (absent)", short(v))),
                }
            }
        }
        (Json::Array(w), Json::Array(l)) if w.len() == l.len() => {
            for (i, (a, b)) in w.iter().zip(l).enumerate() {
                differences(a, b, &format!("{path}[{i}]"), out);
            }
        }
        (w, l) if same_scalar(w, l) => {}
        (w, l) => out.push(format!("{path}: {} → {}", short(w), short(l))),
    }
}

/// Scalars equal as the API sees them (`8080` and `"8080"` in an int-or-string, `1` and `1.0`).
fn same_scalar(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => x.as_f64() == y.as_f64(),
        (Json::String(x), Json::Number(y)) | (Json::Number(y), Json::String(x)) => x == &y.to_string(),
        _ => a == b,
    }
}

/// `data.k: "a" → "b"` becomes `data.k: differs (value not shown)`.
fn mask_drift(line: &str) -> String {
    match line.split_once(": ") {
        Some((path, _)) if path.starts_with("data") => format!("{path}: differs (value not shown)"),
        _ => line.to_string(),
    }
}

fn short(v: &Json) -> String {
    let s = v.to_string();
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s
    }
}

/// Live drift of the deployed objects from the deployed manifest: one note per drifted or missing
/// object.
pub async fn drift(cluster: &dyn Cluster, deployed: &ManifestSet) -> Result<Vec<String>, ClusterError> {
    let mut notes = Vec::new();
    let objects: Vec<_> = deployed
        .objects
        .iter()
        .filter(|o| !o.is_hook())
        .map(|o| (o, obj_ref(o)))
        .collect();
    // Independent reads, a few at a time, answers taken in order (issue 16).
    let mut answers = futures::stream::iter(objects.iter().map(|(_, r)| cluster.get(r)))
        .buffered(crate::executor::live::READS_AT_ONCE);
    for (o, _) in &objects {
        let Some(answer) = answers.next().await else { break };
        let live = match answer {
            Ok(l) => l,
            Err(ClusterError::UnknownKind { .. }) => continue,
            Err(e) => return Err(e),
        };
        let Some(live) = live else {
            notes.push(format!(
                "live drift: {} is in the deployed manifest but missing from the cluster (apply creates it again where the chart still has it)",
                o.key
            ));
            continue;
        };
        let mut diffs = Vec::new();
        for section in ["spec", "data"] {
            if let Some(w) = o.value.get(section) {
                // Both sides as the server writes them: canonical quantities, no empty values.
                let (w, l) = (
                    crate::diff::normalize::for_drift(w),
                    crate::diff::normalize::for_drift(live.get(section).unwrap_or(&Json::Null)),
                );
                differences(&w, &l, section, &mut diffs);
            }
        }
        if o.key.kind == "Secret" && o.key.group.is_empty() {
            // Secret values never reach plan output, in drift notes neither.
            diffs = diffs.into_iter().map(|d| mask_drift(&d)).collect();
        }
        // The server folds a Secret's stringData into data (base64): compare decoded.
        if let Some(w) = o.value.get("stringData").and_then(Json::as_object) {
            use base64::Engine as _;
            for (k, v) in w {
                let have = live
                    .pointer(&format!("/data/{}", k.replace('~', "~0").replace('/', "~1")))
                    .and_then(Json::as_str)
                    .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
                    .map(|b| String::from_utf8_lossy(&b).into_owned());
                if have.as_deref() != v.as_str() {
                    diffs.push(format!("stringData.{k}: differs (value not shown)"));
                }
            }
        }
        if let Some(w) = o.value.pointer("/metadata/labels") {
            differences(
                w,
                live.pointer("/metadata/labels").unwrap_or(&Json::Null),
                "metadata.labels",
                &mut diffs,
            );
        }
        if !diffs.is_empty() {
            notes.push(format!(
                "live drift: {} differs from the deployed manifest: {}",
                o.key,
                diffs.join("; ")
            ));
        }
    }
    Ok(notes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secret_drift_hides_values() {
        let mut out = vec![];
        differences(
            &json!({"password": "b2xk"}),
            &json!({"password": "bmV3"}),
            "data",
            &mut out,
        );
        let masked: Vec<String> = out.iter().map(|d| mask_drift(d)).collect();
        assert_eq!(masked, vec!["data.password: differs (value not shown)".to_string()]);
        assert_eq!(mask_drift("spec.x: 1 → 2"), "spec.x: 1 → 2");
    }

    #[test]
    fn drift_compares_only_what_the_manifest_sets() {
        let want = json!({"replicas": 3, "template": {"spec": {"containers": [{"image": "a:1", "ports": [{"containerPort": 80}]}]}}});
        let live = json!({"replicas": 3, "revisionHistoryLimit": 10, "template": {"spec": {"containers": [{"image": "a:2", "ports": [{"containerPort": 80, "protocol": "TCP"}]}]}}});
        let mut out = vec![];
        differences(&want, &live, "spec", &mut out);
        assert_eq!(
            out,
            vec!["spec.template.spec.containers[0].image: \"a:1\" → \"a:2\"".to_string()]
        );
        let mut none = vec![];
        differences(&json!({"port": 8080}), &json!({"port": "8080"}), "spec", &mut none);
        assert!(none.is_empty());
    }
}
