//! The live objects' versions, for the staleness check: a saved plan records each object's
//! `metadata.generation` when it has one (spec changes bump it, status updates by controllers do
//! not), else its `resourceVersion`; when they change between planning and applying, the plan is
//! stale (someone changed the release's objects after it was reviewed).

use std::collections::BTreeMap;

use futures::StreamExt as _;
use serde_json::Value as Json;

use super::error::ApplyError;
use super::objects::obj_ref;
use crate::cluster::Cluster;
use crate::manifest::{self, ManifestSet};

/// `generation:N` when the object has one, else `resourceVersion:N`; `absent` when it does not exist.
pub fn version_of(live: Option<&Json>) -> String {
    match live {
        None => "absent".into(),
        Some(o) => match o.pointer("/metadata/generation").and_then(Json::as_i64) {
            // Label and annotation edits do not bump the generation: fold them in too.
            Some(g) => format!("generation:{g}{}", metadata_digest(o)),
            None => format!(
                "resourceVersion:{}",
                o.pointer("/metadata/resourceVersion")
                    .and_then(Json::as_str)
                    .unwrap_or("")
            ),
        },
    }
}

/// `;meta:<hash>` over the object's labels and annotations, leaving out what controllers write
/// on their own (`deployment.kubernetes.io/revision`); empty when it has neither.
fn metadata_digest(o: &Json) -> String {
    let labels = o.pointer("/metadata/labels").cloned().unwrap_or(Json::Null);
    let mut annotations = o.pointer("/metadata/annotations").cloned().unwrap_or(Json::Null);
    if let Some(m) = annotations.as_object_mut() {
        m.retain(|k, _| !k.starts_with("deployment.kubernetes.io/"));
        if m.is_empty() {
            annotations = Json::Null;
        }
    }
    if labels.as_object().is_none_or(|m| m.is_empty()) && annotations.is_null() {
        return String::new();
    }
    let body = serde_json::json!([labels, annotations]).to_string();
    format!(";meta:{}", &crate::plan::saved::sha256_hex(body.as_bytes())[..16])
}

/// How many objects are read at once: a chart's workloads in one round (with 8, the ninth of a
/// nine-Deployment chart waited for the first answer, in each of the plan's and apply's rounds).
pub const READS_AT_ONCE: usize = 16;

/// The live versions of every object of both sides (hooks excluded: they are re-created each run),
/// keyed by the object key's text.
pub async fn live_versions(
    cluster: &dyn Cluster,
    sets: &[&ManifestSet],
) -> Result<BTreeMap<String, String>, ApplyError> {
    let mut out = BTreeMap::new();
    let mut wanted = Vec::new();
    for set in sets {
        for o in set.objects.iter().filter(|o| !o.is_hook()) {
            let key = o.key.to_string();
            if !wanted.iter().any(|(k, _)| *k == key) {
                wanted.push((key, obj_ref(o)));
            }
        }
    }
    // Independent reads: a few at a time (issue 16: one round trip after another before the
    // first write), answers taken in order.
    let mut answers = futures::stream::iter(wanted.iter().map(|(_, r)| cluster.get(r))).buffered(READS_AT_ONCE);
    for (key, _) in &wanted {
        let Some(answer) = answers.next().await else { break };
        let live = match answer {
            Ok(l) => l,
            // A kind the server does not serve: the preflight will say so; nothing to compare.
            Err(crate::cluster::ClusterError::UnknownKind { .. }) => None,
            Err(e) => return Err(e.into()),
        };
        out.insert(key.clone(), version_of(live.as_ref()));
    }
    Ok(out)
}

/// Which recorded versions changed since planning: one line per object.
pub async fn changed_since(
    cluster: &dyn Cluster,
    recorded: &BTreeMap<String, String>,
    sets: &[&ManifestSet],
) -> Result<Vec<String>, ApplyError> {
    let now = live_versions(cluster, sets).await?;
    Ok(recorded
        .iter()
        .filter_map(|(k, was)| {
            let is = now.get(k).map(String::as_str).unwrap_or("absent");
            (is != was).then(|| format!("{k}: {was} when planned, {is} now"))
        })
        .collect())
}

/// Parse a side's documents (both sides of a plan keep theirs) for the live checks.
pub fn set_of(docs: &[manifest::Document], ns: &str) -> ManifestSet {
    manifest::parse_documents(docs.to_vec(), ns).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn label_or_annotation_edits_change_the_version() {
        // The API server does not bump metadata.generation for metadata-only edits (issue 14).
        let base = json!({"metadata": {"generation": 3, "labels": {"app": "a"}}});
        let relabelled = json!({"metadata": {"generation": 3, "labels": {"app": "b"}}});
        let annotated = json!({"metadata": {"generation": 3, "labels": {"app": "a"}, "annotations": {"x": "1"}}});
        let rolled = json!({"metadata": {"generation": 3, "labels": {"app": "a"},
            "annotations": {"deployment.kubernetes.io/revision": "2"}}});
        let v = version_of(Some(&base));
        assert!(v.starts_with("generation:3;meta:"), "{v}");
        assert_ne!(v, version_of(Some(&relabelled)));
        assert_ne!(v, version_of(Some(&annotated)));
        assert_eq!(
            v,
            version_of(Some(&rolled)),
            "controller-written annotations are not edits"
        );
    }

    #[test]
    fn versions_prefer_generation() {
        assert_eq!(version_of(None), "absent");
        assert_eq!(
            version_of(Some(&json!({"metadata": {"generation": 3, "resourceVersion": "99"}}))),
            "generation:3"
        );
        assert_eq!(
            version_of(Some(&json!({"metadata": {"resourceVersion": "99"}}))),
            "resourceVersion:99"
        );
    }
}
