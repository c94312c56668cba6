//! How the workloads of one side use storage: every persistent, emptyDir and hostPath volume a
//! pod template mounts, and the claims a volumeClaimTemplate generates per ordinal.

use crate::manifest::JsonAt as _;
use std::collections::HashMap;

use serde_json::Value as Json;

use super::{Persistence, VolumeSide};
use crate::diff::component_name;
use crate::manifest::{ManifestSet, Object, ObjectKey};

/// How a workload refers to storage.
#[derive(Debug, Clone)]
pub(super) enum Src {
    Claim {
        name: String,
    },
    Template {
        vct: String,
        sts: String,
        replicas: u64,
        class: Option<String>,
        delete_on_scale: bool,
        delete_on_delete: bool,
    },
    EmptyDir,
    HostPath {
        path: String,
    },
}

#[derive(Debug, Clone)]
pub(super) struct Use<'a> {
    pub(super) workload: &'a Object,
    pub(super) component: String,
    pub(super) volume: String,
    pub(super) mounts: Vec<String>,
    pub(super) src: Src,
}

/// Claims are listed per ordinal; a manifest asking for more replicas than this is not a real
/// release, and enumerating its claims must not exhaust memory.
const MAX_ORDINALS: f64 = 10_000.0;

pub(super) fn pod_spec(o: &Object) -> Option<&Json> {
    match o.key.kind.as_str() {
        "Pod" => o.value.field("spec"),
        "CronJob" => o.value.at("/spec/jobTemplate/spec/template/spec"),
        _ => o.value.at("/spec/template/spec"),
    }
}

pub(super) fn mounts_of(spec: &Json) -> HashMap<String, Vec<String>> {
    let mut m: HashMap<String, Vec<String>> = HashMap::new();
    for list in ["initContainers", "containers"] {
        for c in spec.field(list).and_then(Json::as_array).into_iter().flatten() {
            for vm in c.field("volumeMounts").and_then(Json::as_array).into_iter().flatten() {
                if let (Some(n), Some(p)) = (
                    vm.field("name").and_then(Json::as_str),
                    vm.field("mountPath").and_then(Json::as_str),
                ) {
                    let e = m.entry(n.to_string()).or_default();
                    if !e.iter().any(|x| x == p) {
                        e.push(p.to_string());
                    }
                }
            }
        }
    }
    m
}

pub(super) fn uses(set: &ManifestSet) -> Vec<Use<'_>> {
    let mut out = Vec::new();
    for o in set.objects.iter().filter(|o| o.is_workload()) {
        let Some(spec) = pod_spec(o) else { continue };
        let mounts = mounts_of(spec);
        let component = component_name(o);
        for v in spec.field("volumes").and_then(Json::as_array).into_iter().flatten() {
            let Some(name) = v.field("name").and_then(Json::as_str) else {
                continue;
            };
            let src = if let Some(c) = v.at("/persistentVolumeClaim/claimName").and_then(Json::as_str) {
                Src::Claim { name: c.to_string() }
            } else if v.field("emptyDir").is_some() {
                Src::EmptyDir
            } else if let Some(p) = v.at("/hostPath/path").and_then(Json::as_str) {
                Src::HostPath { path: p.to_string() }
            } else {
                continue; // configMap, secret, projected, downwardAPI…: configuration, not data
            };
            let Some(paths) = mounts.get(name) else { continue };
            out.push(Use {
                workload: o,
                component: component.clone(),
                volume: name.to_string(),
                mounts: paths.clone(),
                src,
            });
        }
        if o.key.kind == "StatefulSet" {
            let replicas = o
                .value
                .at("/spec/replicas")
                .and_then(Json::as_f64)
                .map(|r| r.clamp(0.0, MAX_ORDINALS) as u64)
                .unwrap_or(1);
            let policy = |w: &str| {
                o.value
                    .at(&format!("/spec/persistentVolumeClaimRetentionPolicy/{w}"))
                    .and_then(Json::as_str)
                    == Some("Delete")
            };
            for t in o
                .value
                .at("/spec/volumeClaimTemplates")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
            {
                let Some(vct) = t.at("/metadata/name").and_then(Json::as_str) else {
                    continue;
                };
                let class = t
                    .at("/spec/storageClassName")
                    .and_then(Json::as_str)
                    .map(str::to_string);
                out.push(Use {
                    workload: o,
                    component: component.clone(),
                    volume: vct.to_string(),
                    mounts: mounts.get(vct).cloned().unwrap_or_default(),
                    src: Src::Template {
                        vct: vct.to_string(),
                        sts: o.key.name.clone(),
                        replicas,
                        class,
                        delete_on_scale: policy("whenScaled"),
                        delete_on_delete: policy("whenDeleted"),
                    },
                });
            }
        }
    }
    out
}

pub(super) fn pvc_key(ns: &str, name: &str) -> ObjectKey {
    ObjectKey {
        group: String::new(),
        kind: "PersistentVolumeClaim".into(),
        namespace: ns.into(),
        name: name.into(),
    }
}

pub(super) fn claims_of(u: &Use) -> Vec<String> {
    match &u.src {
        Src::Claim { name } => vec![name.clone()],
        Src::Template { vct, sts, replicas, .. } => (0..*replicas).map(|i| format!("{vct}-{sts}-{i}")).collect(),
        _ => vec![],
    }
}

pub(super) fn is_persistent(u: &Use) -> bool {
    matches!(u.src, Src::Claim { .. } | Src::Template { .. })
}

pub(super) fn side(u: &Use, set: &ManifestSet) -> VolumeSide {
    let ns = &u.workload.key.namespace;
    let (source, class, mode) = match &u.src {
        Src::Claim { name } => {
            let pvc = set.get(&pvc_key(ns, name));
            let class = pvc
                .and_then(|p| p.value.at("/spec/storageClassName"))
                .and_then(Json::as_str)
                .map(str::to_string);
            let mode = if pvc.is_some() {
                Persistence::StorageClass
            } else {
                Persistence::ExistingClaim
            };
            ("claim", class, mode)
        }
        Src::Template { class, .. } => ("claimTemplate", class.clone(), Persistence::StorageClass),
        Src::EmptyDir => ("emptyDir", None, Persistence::None),
        Src::HostPath { .. } => ("hostPath", None, Persistence::HostPath),
    };
    VolumeSide {
        workload: u.workload.key.clone(),
        source: source.to_string(),
        claims: claims_of(u),
        storage_class: class,
        mode,
        mount_paths: u.mounts.clone(),
    }
}
