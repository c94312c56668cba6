//! Plan an upgrade of a release in the cluster (`chartup plan RELEASE CHART`, and the first half
//! of `chartup apply RELEASE CHART`).
//!
//! From-side: the baseline revision's manifest from the release records (chart and user values
//! from the record, see [`super::deployed`]). To-side: CHART rendered as `helm upgrade` renders it
//! against this cluster ([`super::cluster_render`]). The volume verdicts use the cluster's own
//! StorageClasses' reclaim policies unless the user names them, and a bound claim's own volume's
//! policy over its class's where PersistentVolumes can be read. The saved plan carries the base
//! revision, the live objects' versions (the staleness check at apply time), the hooks of the same
//! render and the chart as Helm's record keeps it; live drift of the deployed objects becomes plan
//! warnings.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{json, Value as Json};

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
    /// `--same-component OLD=NEW` mappings.
    pub same_component: Vec<(String, String)>,
    pub diff: DiffOptions,
    /// Where the chart came from (reference, version, archive digest), recorded in the plan.
    pub source: Option<crate::source::SourceRecord>,
    /// `--snapshot`, `--snapshot-class`, `--no-snapshot` (issue 15).
    pub snapshot: crate::plan::snapshots::SnapshotRequest,
    /// `--skip-crds`: an install leaves the charts' `crds/` directories alone (helm install's flag).
    pub skip_crds: bool,
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

/// The reclaim policy of the volume bound to each claim in `ns` (`persistentVolumeReclaimPolicy`
/// of its PersistentVolume): that, not the storage class's, decides whether a deleted claim's
/// data survives — an admin may have patched one volume of a Delete class to Retain, or the
/// other way round. PersistentVolumes are cluster-scoped; where the user may not read them the
/// verdicts take the class's policy (else unknown), and the returned warning names the real
/// cause (only when some claim is bound: otherwise nothing depends on it).
pub async fn cluster_volume_policies(
    cluster: &dyn Cluster,
    ns: &str,
    into: &mut ReclaimPolicies,
) -> Result<Option<String>, ClusterError> {
    let claims = cluster.list("v1", "PersistentVolumeClaim", ns, None).await?;
    for c in &claims {
        let (Some(claim), Some(pv)) = (
            c.pointer("/metadata/name").and_then(Json::as_str),
            c.pointer("/spec/volumeName")
                .and_then(Json::as_str)
                .filter(|v| !v.is_empty()),
        ) else {
            continue;
        };
        match cluster.get(&crate::cluster::ObjRef::volume(pv)).await {
            Ok(Some(v)) => {
                let policy = v
                    .pointer("/spec/persistentVolumeReclaimPolicy")
                    .and_then(Json::as_str)
                    .unwrap_or("Delete");
                into.add_volume(claim, pv, policy);
            }
            Ok(None) => {}
            Err(e) if e.status_code() == Some(403) => {
                return Ok(Some(format!(
                    "cannot read the cluster's PersistentVolumes ({}): each claim's reclaim policy is taken from its \
                     storage class (--storage-class NAME=Retain|Delete), else it is unknown",
                    e.server_message()
                )))
            }
            Err(e) => return Err(e),
        }
    }
    Ok(None)
}

/// Helm's `chart.Metadata` as its JSON tags write it (`omitempty` on every field).
fn metadata_json(md: &crate::chart::metadata::Metadata) -> Json {
    let mut m = serde_json::Map::new();
    let mut put = |k: &str, v: Json| {
        let empty = match &v {
            Json::String(s) => s.is_empty(),
            Json::Array(a) => a.is_empty(),
            Json::Object(o) => o.is_empty(),
            Json::Bool(b) => !b,
            _ => false,
        };
        if !empty {
            m.insert(k.to_string(), v);
        }
    };
    put("name", json!(md.name));
    put("home", json!(md.home));
    put("sources", json!(md.sources));
    put("version", json!(md.version));
    put("description", json!(md.description));
    put("keywords", json!(md.keywords));
    let maintainers: Vec<Json> = md
        .maintainers
        .iter()
        .map(|mm| match mm {
            None => Json::Null,
            Some(mm) => {
                let mut x = serde_json::Map::new();
                for (k, v) in [("name", &mm.name), ("email", &mm.email), ("url", &mm.url)] {
                    if !v.is_empty() {
                        x.insert(k.into(), json!(v));
                    }
                }
                Json::Object(x)
            }
        })
        .collect();
    put("maintainers", Json::Array(maintainers));
    put("icon", json!(md.icon));
    put("apiVersion", json!(md.api_version));
    put("condition", json!(md.condition));
    put("tags", json!(md.tags));
    put("appVersion", json!(md.app_version));
    put("deprecated", json!(md.deprecated));
    put("annotations", json!(md.annotations));
    put("kubeVersion", json!(md.kube_version));
    let deps: Vec<Json> = md
        .dependencies
        .iter()
        .map(|d| match d {
            None => Json::Null,
            Some(d) => {
                let mut x = serde_json::Map::new();
                x.insert("name".into(), json!(d.name));
                x.insert("version".into(), json!(d.version));
                x.insert("repository".into(), json!(d.repository));
                for (k, v) in [("condition", &d.condition), ("alias", &d.alias)] {
                    if !v.is_empty() {
                        x.insert(k.into(), json!(v));
                    }
                }
                if !d.tags.is_empty() {
                    x.insert("tags".into(), json!(d.tags));
                }
                if d.enabled {
                    x.insert("enabled".into(), json!(true));
                }
                if !d.import_values.is_empty() {
                    let iv: Vec<Json> = d.import_values.iter().map(value_json).collect();
                    x.insert("import-values".into(), Json::Array(iv));
                }
                Json::Object(x)
            }
        })
        .collect();
    put("dependencies", Json::Array(deps));
    put("type", json!(md.chart_type));
    Json::Object(m)
}

/// A template value as Go's encoding/json writes it.
fn value_json(v: &crate::template::value::Value) -> Json {
    let opts = crate::yaml::JsonOpts {
        escape_html: false,
        indent: false,
    };
    crate::yaml::to_json(v, opts)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Json::Null)
}

/// The chart as Helm's release record stores it: its metadata, default values and the files
/// under `templates/` base64-encoded (subcharts are not stored: Helm's record leaves them out
/// too). None for a chart that does not load: the record then carries name and version only.
pub fn chart_record(chart: &Path) -> Option<Json> {
    use base64::Engine as _;
    let ch = crate::chart::load(chart).ok()?;
    let mut templates: Vec<Json> = ch
        .templates
        .iter()
        .map(|f| json!({"name": f.name, "data": base64::engine::general_purpose::STANDARD.encode(&f.data)}))
        .collect();
    templates.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    let values = Some(value_json(&ch.values))
        .filter(Json::is_object)
        .unwrap_or_else(|| json!({}));
    Some(json!({
        "metadata": metadata_json(&ch.metadata),
        "lock": null,
        "templates": templates,
        "values": values,
        "schema": null,
        "files": [],
    }))
}

/// Plan the upgrade of `req.release` (in the store's namespace) to `req.chart`.
/// The plan's line about an install's `crds/` definitions: cluster-wide objects a review should
/// see, created before anything else and then outside the release (helm's rule).
fn crds_line(crds: &[crate::manifest::Document]) -> Option<String> {
    let names: Vec<String> = crate::manifest::parse_documents(crds.to_vec(), "")
        .map(|set| set.objects.iter().map(|o| o.key.name.clone()).collect())
        .unwrap_or_default();
    (!crds.is_empty()).then(|| {
        format!(
            "installs {} CustomResourceDefinition(s) from crds/ first, as helm install does: {} (one that exists \
             already is left as it is; later upgrades and uninstall leave them alone; --skip-crds skips them)",
            crds.len(),
            if names.is_empty() {
                "(unnamed)".to_string()
            } else {
                names.join(", ")
            }
        )
    })
}

pub async fn plan_against_cluster(
    cluster: Arc<dyn Cluster>,
    store: &dyn ReleaseStore,
    req: &ClusterPlanRequest,
) -> super::Result<SavedPlan> {
    let ns = store.namespace().to_string();
    let deployed = deployed::deployed_side(store, &req.release).await?;
    let ctx = cluster_render::ClusterRender::new(cluster.clone(), &deployed).await?;
    // Helm's upgrade values rules (issue #18): the deployed revision's user values, and for
    // --reuse-values its chart's defaults, go into the render (`crate::plan::values`).
    let mut values = req.values.clone();
    let mut reused = None;
    let given_empty = values
        .value_options()
        .merge_values()
        .map(|v| v.as_map().is_none_or(|m| m.is_empty()))
        .unwrap_or(false);
    if let Some(rules) = values.rules.as_mut() {
        if deployed.base_revision.is_some() {
            rules.deployed = deployed.side.user_values.clone();
            if rules.mode == plan::values::ValuesMode::Reuse {
                let history = store.history(&req.release).await?;
                rules.deployed_chart_values = history.baseline().map(|r| r.chart.values.clone());
            }
            let deployed_empty = rules
                .deployed
                .as_ref()
                .is_none_or(|d| d.as_object().is_none_or(|m| m.is_empty()));
            reused = Some(match rules.mode {
                plan::values::ValuesMode::Reset => plan::values::Reused::None,
                plan::values::ValuesMode::Reuse | plan::values::ValuesMode::ResetThenReuse => {
                    plan::values::Reused::Merged
                }
                plan::values::ValuesMode::Default if given_empty && !deployed_empty => plan::values::Reused::Whole,
                plan::values::ValuesMode::Default => plan::values::Reused::None,
            });
        }
    }
    let (mut new, extras) = cluster_render::render_side(ctx, &req.chart, &values, &req.release, &ns)
        .await
        .map_err(|e| Error::Invalid(e).context(format!("rendering {}", req.chart.display())))?;
    new.source = req.source.clone();
    let mut opts = PlanOptions {
        release: req.release.clone(),
        namespace: ns.clone(),
        diff: req.diff.clone(),
        allow_unlisted: req.allow_unlisted,
        carry_volumes: req.carry_volumes,
        same_component: req.same_component.clone(),
        ..Default::default()
    };
    let mut forbidden: Vec<String> = cluster_reclaim_policies(cluster.as_ref(), &mut opts.reclaim)
        .await?
        .into_iter()
        .collect();
    forbidden.extend(cluster_volume_policies(cluster.as_ref(), &ns, &mut opts.reclaim).await?);
    for s in &req.storage_classes {
        opts.reclaim.add_spec(s)?;
    }
    let matrix = load_matrix(req.matrix.as_deref())?;
    let mut p = plan::build(&deployed.side, &new, matrix.as_ref(), &opts);
    p.base_revision = deployed.base_revision;
    if let (Some(reused), Some(rules)) = (reused, values.rules.as_ref()) {
        let empty = Json::Object(Default::default());
        let section = plan::values::section(
            rules.mode,
            reused,
            deployed.side.user_values.as_ref().unwrap_or(&empty),
            new.user_values.as_ref().unwrap_or(&empty),
            req.diff.show_secrets,
        );
        p.set_user_values(section);
    }
    p.warnings.extend(forbidden);
    // helm install creates the `crds/` definitions first (an upgrade never touches them).
    let crds = if deployed.base_revision.is_none() && !req.skip_crds {
        extras.crds
    } else {
        Vec::new()
    };
    if let Some(line) = crds_line(&crds) {
        p.warnings.push(line);
    }
    p.warnings
        .extend(deployed::drift(cluster.as_ref(), &deployed.side.objects).await?);
    if let Some(failed) = deployed.newest_failed {
        p.warnings.push(format!(
            "revision {failed} failed and may have changed objects live: apply applies the objects this plan \
             leaves unchanged again and checks their workloads' health"
        ));
    }
    // Served APIs, server-confirmed recreates, missing outside claims; then what apply demands.
    super::plan_checks::check(cluster.as_ref(), &mut p, &new.objects).await?;
    // Issue 15: which claims get a VolumeSnapshot, with the cluster's classes (ops::snapshots).
    super::snapshots::plan_snapshots(Some(cluster.as_ref()), &mut p, matrix.as_ref(), &req.snapshot).await?;
    p.requirements = plan::review::requirements(&p, &new.objects);
    let mut saved = SavedPlan::new(p, &deployed.side, &new)?;
    // The plan's sides hold the release manifest (hooks excluded, as Helm diffs); the executor
    // runs the hooks it finds among the saved documents, so they travel with the plan and are
    // covered by its fingerprint.
    saved.manifests.to.extend(extras.hooks);
    saved.manifests.crds = crds;
    saved.config = new.user_values.clone();
    saved.chart = chart_record(&req.chart);
    let versions =
        crate::executor::live::live_versions(cluster.as_ref(), &[&deployed.side.objects, &new.objects]).await?;
    Ok(saved.with_live_versions(versions))
}
