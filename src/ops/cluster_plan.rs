//! Plan an upgrade of a release in the cluster (`chartup plan RELEASE CHART`, and the first half
//! of `chartup apply RELEASE CHART`).
//!
//! From-side: the baseline revision's manifest from the release records (chart and user values
//! from the record, see [`super::deployed`]). To-side: CHART rendered as `helm upgrade` renders it
//! against this cluster ([`super::cluster_render`]). The volume verdicts use the cluster's own
//! StorageClasses' reclaim policies unless the user names them. The saved plan carries the base
//! revision, the live objects' versions (the staleness check at apply time), the hooks of the same
//! render and the chart as Helm's record keeps it; live drift of the deployed objects becomes plan
//! warnings.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value as Json;

use super::{cluster_render, deployed, load_matrix, Error};
use crate::analysis::ReclaimPolicies;
use crate::cluster::{Cluster, ClusterError};
use crate::diff::DiffOptions;
use crate::plan::saved::SavedPlan;
use crate::plan::source::ValuesInput;
use crate::plan::{self, PlanOptions};
use crate::storage::ReleaseStore;

/// What planning against a cluster needs besides the cluster.
#[derive(Debug, Clone, Default)]
pub struct ClusterPlanRequest {
    pub release: String,
    pub chart: PathBuf,
    pub values: ValuesInput,
    pub matrix: Option<PathBuf>,
    /// `NAME=Retain|Delete` given by the user; classes the cluster has fill in the rest.
    pub storage_classes: Vec<String>,
    pub allow_unlisted: bool,
    /// `--carry-volumes`
    pub carry_volumes: bool,
    pub diff: DiffOptions,
}

/// The reclaim policy of every StorageClass of the cluster (`default` for the one annotated as
/// the default class), as the volume verdicts need them. StorageClasses are cluster-scoped, and a
/// namespace's tenant may not list them (helm needs no such right): then the policies stay
/// unknown — the verdicts say what they assumed, `--storage-class` supplies them — and the
/// returned warning names the real cause.
pub async fn cluster_reclaim_policies(
    cluster: &dyn Cluster,
    into: &mut ReclaimPolicies,
) -> Result<Option<String>, ClusterError> {
    let classes = match cluster.list("storage.k8s.io/v1", "StorageClass", "", None).await {
        Ok(c) => c,
        Err(e) if e.status_code() == Some(403) => {
            return Ok(Some(format!(
                "cannot read the cluster's StorageClasses ({}): reclaim policies are unknown unless given with --storage-class NAME=Retain|Delete",
                e.server_message()
            )))
        }
        Err(e) => return Err(e),
    };
    for sc in classes {
        let name = sc.pointer("/metadata/name").and_then(Json::as_str).unwrap_or("");
        let policy = sc.get("reclaimPolicy").and_then(Json::as_str).unwrap_or("Delete");
        if name.is_empty() {
            continue;
        }
        let _ = into.add_spec(&format!("{name}={policy}"));
        let default = sc
            .pointer("/metadata/annotations/storageclass.kubernetes.io~1is-default-class")
            .and_then(Json::as_str)
            == Some("true");
        if default {
            let _ = into.add_spec(&format!("default={policy}"));
        }
    }
    Ok(None)
}

/// A chart directory as Helm's release record stores it: Chart.yaml as `metadata`, values.yaml as
/// `values`, the files under `templates/` base64-encoded (subcharts are not stored: Helm's record
/// leaves them out too). None for an archive or an unreadable chart: the record then carries
/// name and version only.
pub fn chart_record(dir: &Path) -> Option<serde_json::Value> {
    use base64::Engine as _;
    let meta = crate::manifest::parse_yaml(&std::fs::read_to_string(dir.join("Chart.yaml")).ok()?).ok()?;
    let values = std::fs::read_to_string(dir.join("values.yaml"))
        .ok()
        .and_then(|t| crate::manifest::parse_yaml(&t).ok())
        .filter(|v| v.is_object())
        .unwrap_or_else(|| serde_json::json!({}));
    let mut templates = Vec::new();
    let mut stack = vec![dir.join("templates")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let (Ok(bytes), Ok(rel)) = (std::fs::read(&p), p.strip_prefix(dir)) {
                templates.push(serde_json::json!({
                    "name": rel.to_string_lossy(),
                    "data": base64::engine::general_purpose::STANDARD.encode(bytes),
                }));
            }
        }
    }
    templates.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    Some(serde_json::json!({
        "metadata": meta,
        "lock": null,
        "templates": templates,
        "values": values,
        "schema": null,
        "files": [],
    }))
}

/// Plan the upgrade of `req.release` (in the store's namespace) to `req.chart`.
pub async fn plan_against_cluster(
    cluster: Arc<dyn Cluster>,
    store: &dyn ReleaseStore,
    req: &ClusterPlanRequest,
) -> super::Result<SavedPlan> {
    let ns = store.namespace().to_string();
    let deployed = deployed::deployed_side(store, &req.release).await?;
    let ctx = cluster_render::ClusterRender::new(cluster.clone(), &deployed).await?;
    let (new, hooks) = cluster_render::render_side(ctx, &req.chart, &req.values, &req.release, &ns)
        .await
        .map_err(|e| Error::Invalid(e).context(format!("rendering {}", req.chart.display())))?;
    let mut opts = PlanOptions {
        release: req.release.clone(),
        namespace: ns.clone(),
        diff: req.diff.clone(),
        allow_unlisted: req.allow_unlisted,
        carry_volumes: req.carry_volumes,
        ..Default::default()
    };
    let forbidden = cluster_reclaim_policies(cluster.as_ref(), &mut opts.reclaim).await?;
    for s in &req.storage_classes {
        opts.reclaim.add_spec(s)?;
    }
    let matrix = load_matrix(req.matrix.as_deref())?;
    let mut p = plan::build(&deployed.side, &new, matrix.as_ref(), &opts);
    p.base_revision = deployed.base_revision;
    p.warnings.extend(forbidden);
    p.warnings
        .extend(deployed::drift(cluster.as_ref(), &deployed.side.objects).await?);
    let mut saved = SavedPlan::new(p, &deployed.side, &new)?;
    // The plan's sides hold the release manifest (hooks excluded, as Helm diffs); the executor
    // runs the hooks it finds among the saved documents, so they travel with the plan and are
    // covered by its fingerprint.
    saved.manifests.to.extend(hooks);
    saved.config = new.user_values.clone();
    saved.chart = chart_record(&req.chart);
    let versions =
        crate::executor::live::live_versions(cluster.as_ref(), &[&deployed.side.objects, &new.objects]).await?;
    Ok(saved.with_live_versions(versions))
}
