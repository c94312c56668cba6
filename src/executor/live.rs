//! The live objects' versions, for the staleness check: a saved plan records each object's
//! `metadata.generation` when it has one (spec changes bump it, status updates by controllers do
//! not), else its `resourceVersion`; when they change between planning and applying, the plan is
//! stale (someone changed the release's objects after it was reviewed).

use std::collections::BTreeMap;

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
            Some(g) => format!("generation:{g}"),
            None => format!(
                "resourceVersion:{}",
                o.pointer("/metadata/resourceVersion")
                    .and_then(Json::as_str)
                    .unwrap_or("")
            ),
        },
    }
}

/// The live versions of every object of both sides (hooks excluded: they are re-created each run),
/// keyed by the object key's text.
pub async fn live_versions(
    cluster: &dyn Cluster,
    sets: &[&ManifestSet],
) -> Result<BTreeMap<String, String>, ApplyError> {
    let mut out = BTreeMap::new();
    for set in sets {
        for o in set.objects.iter().filter(|o| o.annotation("helm.sh/hook").is_none()) {
            let key = o.key.to_string();
            if out.contains_key(&key) {
                continue;
            }
            let live = match cluster.get(&obj_ref(o)).await {
                Ok(l) => l,
                // A kind the server does not serve: the preflight will say so; nothing to compare.
                Err(crate::cluster::ClusterError::UnknownKind { .. }) => None,
                Err(e) => return Err(e.into()),
            };
            out.insert(key, version_of(live.as_ref()));
        }
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
