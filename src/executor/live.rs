//! Planning against a cluster: the deployed side of a plan read from the release records, the
//! live objects' versions recorded for the staleness check, and live drift.
//!
//! The from-side is what Helm itself would diff against — the deployed revision's manifest from
//! its record — not the live objects: the plan must describe what chartup will change relative to
//! what was reviewed last time. Live objects matter in two other ways: when they drifted from the
//! deployed manifest (someone ran `kubectl edit`), the plan says so; and when they change between
//! planning and applying, the saved plan is stale. For the latter each object's
//! `metadata.generation` is recorded when it has one (spec changes bump it, status updates by
//! controllers do not), else its `resourceVersion`.
//!
//! The to-side is rendered as `helm upgrade` renders it against this cluster ([`ClusterRender`]):
//! `lookup` reads live objects, `.Capabilities` are the server's, `.Release.IsUpgrade` is true
//! when the release has a revision to upgrade from and `.Release.Revision` is the revision the
//! apply will write. Rendering happens once; its hooks travel with the plan.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use serde_json::Value as Json;

use super::run::{obj_ref, ApplyError};
use crate::cluster::store::SecretStore;
use crate::cluster::Cluster;
use crate::manifest::Document;
use crate::manifest::{self, ManifestSet};
use crate::plan::source::{RenderedChart, Renderer, ValuesInput};
use crate::plan::{ChartRef, ReleaseSide};

/// The deployed side of a release, as its records say.
pub struct DeployedSide {
    pub side: ReleaseSide,
    /// The revision the plan starts from (Helm's baseline: deployed, else the last failed/superseded).
    pub base_revision: Option<u64>,
    /// The revision an apply of the plan writes (the newest record's + 1), as `helm upgrade`
    /// renders `.Release.Revision`.
    pub next_revision: u32,
}

/// Read the release's baseline revision and turn its manifest into a plan side. A release with no
/// records is a first install (an empty side).
pub async fn deployed_side(cluster: &Cluster, release: &str, ns: &str) -> Result<DeployedSide, ApplyError> {
    let store = SecretStore::new(cluster, ns);
    let history = store.history(release).await?;
    let next_revision = history.next_revision();
    let Some(base) = history.baseline() else {
        return Ok(DeployedSide {
            side: ReleaseSide::empty(&format!("release {release} (not installed)")),
            base_revision: None,
            next_revision,
        });
    };
    let docs = manifest::split_documents(&base.manifest);
    let mut side = ReleaseSide::new(&format!("release {release} revision {}", base.version), docs, ns)
        .map_err(|e| ApplyError::Other(format!("revision {} of {release}: {e}", base.version)))?;
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
    })
}

/// What `helm upgrade` (or `install`) renders with against this cluster, besides the chart and
/// values.
#[derive(Clone)]
pub struct ClusterRender {
    pub lookup: Arc<dyn crate::render::Lookup>,
    pub capabilities: Arc<super::lookup::ServerCapabilities>,
    pub is_upgrade: bool,
    pub revision: u32,
}

impl ClusterRender {
    /// Read the server's capabilities; `lookup` goes to the cluster from the current runtime.
    pub async fn new(cluster: &Cluster, deployed: &DeployedSide) -> Result<ClusterRender, ApplyError> {
        let capabilities = super::lookup::server_capabilities(cluster.client()).await?;
        Ok(ClusterRender {
            lookup: Arc::new(super::lookup::ClusterLookup::new(cluster.client().clone())),
            capabilities: Arc::new(capabilities),
            // helm upgrade renders with IsUpgrade whenever there is a release to upgrade.
            is_upgrade: deployed.base_revision.is_some(),
            revision: deployed.next_revision,
        })
    }

    fn options(&self, release: &str, namespace: &str) -> crate::render::RenderOptions {
        crate::render::RenderOptions {
            release_name: release.to_string(),
            namespace: namespace.to_string(),
            is_upgrade: self.is_upgrade,
            revision: i64::from(self.revision),
            kube_version: Some(self.capabilities.kube_version.clone()),
            server_api_versions: self.capabilities.api_versions.clone(),
            lookup: Some(self.lookup.clone()),
            ..Default::default()
        }
    }
}

/// Render CHART as the plan's new side with the cluster's context, off the runtime's worker
/// threads (lookups are answered by the runtime while the render waits). Returns the side and the
/// hook documents of the same render.
pub async fn render_side(
    ctx: ClusterRender,
    chart: &Path,
    values: &ValuesInput,
    release: &str,
    namespace: &str,
) -> Result<(ReleaseSide, Vec<Document>), String> {
    let (chart, values, release, namespace) = (
        chart.to_path_buf(),
        values.clone(),
        release.to_string(),
        namespace.to_string(),
    );
    tokio::task::spawn_blocking(move || {
        let upgrade = ctx.is_upgrade;
        let r = ClusterRenderer {
            ctx,
            hooks: RefCell::default(),
        };
        let side = crate::plan::source::side_from_chart(&r, &chart, &values, &release, &namespace, upgrade)?;
        Ok((side, r.hooks.into_inner()))
    })
    .await
    .map_err(|e| format!("the render failed: {e}"))?
}

/// chartup's renderer with a cluster's context. It keeps the hook documents of its render, so
/// the plan's hooks come from the same render as its manifest (a second render could differ:
/// `randAlphaNum`, or a live object changed between two lookups).
pub struct ClusterRenderer {
    pub ctx: ClusterRender,
    pub hooks: RefCell<Vec<Document>>,
}

impl Renderer for ClusterRenderer {
    fn render(
        &self,
        chart: &Path,
        values: &ValuesInput,
        release: &str,
        namespace: &str,
        _upgrade: bool,
    ) -> Result<RenderedChart, String> {
        let (rendered, hooks) =
            crate::plan::source::render_native(chart, values, self.ctx.options(release, namespace))?;
        *self.hooks.borrow_mut() = hooks;
        Ok(rendered)
    }
}

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

/// The live versions of every object of both sides (hooks excluded: they are re-created each run),
/// keyed by the object key's text.
pub async fn live_versions(cluster: &Cluster, sets: &[&ManifestSet]) -> Result<BTreeMap<String, String>, ApplyError> {
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
    cluster: &Cluster,
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
pub async fn drift(cluster: &Cluster, deployed: &ManifestSet) -> Result<Vec<String>, ApplyError> {
    let mut notes = Vec::new();
    for o in deployed
        .objects
        .iter()
        .filter(|o| o.annotation("helm.sh/hook").is_none())
    {
        let live = match cluster.get(&obj_ref(o)).await {
            Ok(l) => l,
            Err(crate::cluster::ClusterError::UnknownKind { .. }) => continue,
            Err(e) => return Err(e.into()),
        };
        let Some(live) = live else {
            notes.push(format!(
                "live drift: {} is in the deployed manifest but missing from the cluster",
                o.key
            ));
            continue;
        };
        let mut diffs = Vec::new();
        for section in ["spec", "data"] {
            if let Some(w) = o.value.get(section) {
                differences(w, live.get(section).unwrap_or(&Json::Null), section, &mut diffs);
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
