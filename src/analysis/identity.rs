//! Workload identity across renames: which workload that leaves the release is the same component
//! as one that enters it.
//!
//! Names and component labels are what charts rename (`x-master` → `x`, `master` → `primary`, a
//! controller Deployment becoming a StatefulSet with a new component label); what a component *is*
//! changes far less: its containers and their image repositories, the volumes it mounts and where,
//! its claim templates. A pairing needs evidence of substance (a shared image repository plus a
//! shared container name, mount path or claim template) or the same name; each pairing keeps its
//! evidence so the plan can show why. Where the evidence is not enough, the mapping is declared —
//! by the user (`--same-component OLD=NEW`) or by the chart's matrix
//! (`components.NEW.renamedFrom: [OLD]`) — and the pairing says who declared it.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::diff::{component_name, is_pod_controller};
use crate::manifest::{JsonAt as _, ManifestSet, Object, ObjectKey};

/// A workload that leaves the release paired with one that enters it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadPairing {
    pub from: ObjectKey,
    pub to: ObjectKey,
    /// Declared (`--same-component`, a matrix's `renamedFrom`) rather than found.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub declared: bool,
    /// Why they are the same component, in words.
    pub evidence: Vec<String>,
}

/// What a workload is made of.
struct Substance {
    containers: BTreeSet<String>,
    repos: BTreeSet<String>,
    mount_paths: BTreeSet<String>,
    templates: BTreeSet<String>,
    claims: BTreeSet<String>,
}

/// `registry/repo:tag@digest` → `registry/repo` (a `docker.io/` or `docker.io/library/` prefix
/// dropped, so the same image spelt two ways is one repository).
pub fn image_repo(image: &str) -> String {
    let no_digest = image.split('@').next().unwrap_or(image);
    // A tag is after the last ':' that comes after the last '/' (a registry port has a '/' after).
    let repo = match no_digest.rfind(':') {
        Some(i) if !no_digest[i..].contains('/') => &no_digest[..i],
        _ => no_digest,
    };
    let repo = repo.strip_prefix("docker.io/").unwrap_or(repo);
    repo.strip_prefix("library/").unwrap_or(repo).to_string()
}

/// The tag of an image reference (None for a digest-only or untagged reference).
pub fn image_tag(image: &str) -> Option<&str> {
    let no_digest = image.split('@').next().unwrap_or(image);
    match no_digest.rfind(':') {
        Some(i) if !no_digest[i..].contains('/') => Some(&no_digest[i + 1..]),
        _ => None,
    }
}

fn pod_spec(o: &Object) -> Option<&Json> {
    match o.key.kind.as_str() {
        "CronJob" => o.value.at("/spec/jobTemplate/spec/template/spec"),
        _ => o.value.at("/spec/template/spec"),
    }
}

fn substance(o: &Object) -> Substance {
    let mut s = Substance {
        containers: BTreeSet::new(),
        repos: BTreeSet::new(),
        mount_paths: BTreeSet::new(),
        templates: BTreeSet::new(),
        claims: BTreeSet::new(),
    };
    let Some(spec) = pod_spec(o) else { return s };
    // Only volumes that hold data count as evidence (every pod mounts a token or a config).
    let data_volumes: BTreeSet<&str> = spec
        .field("volumes")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter(|v| v.field("persistentVolumeClaim").is_some() || v.field("hostPath").is_some())
        .filter_map(|v| v.field("name").and_then(Json::as_str))
        .chain(
            o.value
                .at("/spec/volumeClaimTemplates")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
                .filter_map(|t| t.at("/metadata/name").and_then(Json::as_str)),
        )
        .collect();
    for v in spec.field("volumes").and_then(Json::as_array).into_iter().flatten() {
        if let Some(c) = v.at("/persistentVolumeClaim/claimName").and_then(Json::as_str) {
            s.claims.insert(c.to_string());
        }
    }
    for t in o
        .value
        .at("/spec/volumeClaimTemplates")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(n) = t.at("/metadata/name").and_then(Json::as_str) {
            s.templates.insert(n.to_string());
        }
    }
    for c in spec.field("containers").and_then(Json::as_array).into_iter().flatten() {
        if let Some(n) = c.field("name").and_then(Json::as_str) {
            s.containers.insert(n.to_string());
        }
        if let Some(i) = c.field("image").and_then(Json::as_str) {
            s.repos.insert(image_repo(i));
        }
        for m in c.field("volumeMounts").and_then(Json::as_array).into_iter().flatten() {
            let (Some(n), Some(p)) = (
                m.field("name").and_then(Json::as_str),
                m.field("mountPath").and_then(Json::as_str),
            ) else {
                continue;
            };
            if data_volumes.contains(n) {
                s.mount_paths.insert(p.to_string());
            }
        }
    }
    s
}

fn shared(a: &BTreeSet<String>, b: &BTreeSet<String>) -> Vec<String> {
    a.intersection(b).cloned().collect()
}

/// The evidence that `o` and `n` are one component, with a score; None when there is not enough.
fn evidence(o: &Object, n: &Object) -> Option<(u32, Vec<String>)> {
    let (score, ev, enough) = facts(o, n);
    enough.then_some((score, ev))
}

/// What `o` and `n` share, a score, and whether that is enough to pair them by itself.
fn facts(o: &Object, n: &Object) -> (u32, Vec<String>, bool) {
    let (a, b) = (substance(o), substance(n));
    let mut ev = Vec::new();
    let mut score = 0;
    let same_name = o.key.name == n.key.name;
    if same_name {
        ev.push(format!("same name {}", n.key.name));
        score += 4;
    }
    let repos = shared(&a.repos, &b.repos);
    let containers = shared(&a.containers, &b.containers);
    let paths = shared(&a.mount_paths, &b.mount_paths);
    let templates = shared(&a.templates, &b.templates);
    let claims = shared(&a.claims, &b.claims);
    let substance = [&containers, &paths, &templates, &claims]
        .iter()
        .filter(|v| !v.is_empty())
        .count() as u32;
    if !repos.is_empty() {
        ev.push(format!("image {}", repos.join(", ")));
    }
    if !containers.is_empty() {
        ev.push(format!("container {}", containers.join(", ")));
    }
    if !paths.is_empty() {
        ev.push(format!("data mounted at {}", paths.join(", ")));
    }
    if !templates.is_empty() {
        ev.push(format!("claim template {}", templates.join(", ")));
    }
    if !claims.is_empty() {
        ev.push(format!("claim {}", claims.join(", ")));
    }
    let (ca, cb) = (component_name(o), component_name(n));
    if ca != cb {
        ev.push(format!("role {ca} → {cb}"));
    }
    // The same claim mounted by both is proof on its own; otherwise the image and one more fact.
    let enough = same_name || !claims.is_empty() || (!repos.is_empty() && substance > 0);
    score += 2 * repos.len().min(1) as u32 + substance;
    (score, ev, enough)
}

/// A declared mapping: `from` names a workload leaving the release, `to` one entering it, each
/// as `Kind/name`, a workload name, a component label, or a name's last part after the release
/// prefix (`store-master` for `rel-store-master`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    pub from: String,
    pub to: String,
    /// Who declared it, for the evidence: `flag --same-component a=b`, `matrix fate.yaml
    /// (components.b.renamedFrom: a)`.
    pub by: String,
    /// Say so when it matches nothing (a flag is about this upgrade; a matrix's rename is about
    /// whichever hop crosses it, so it is quiet elsewhere).
    pub strict: bool,
}

impl Declared {
    /// A `--same-component OLD=NEW` flag.
    pub fn flag(from: &str, to: &str) -> Declared {
        Declared {
            from: from.into(),
            to: to.into(),
            by: format!("flag --same-component {from}={to}"),
            strict: true,
        }
    }
}

/// The one workload among `set` that `spec` names, tier by tier (exact `Kind/name` or name, then
/// component label, then name suffix); Err when a tier names several.
fn named<'a>(spec: &str, set: &[&'a Object]) -> Result<Option<&'a Object>, String> {
    type Test = Box<dyn Fn(&Object) -> bool>;
    let s = spec.to_string();
    let tiers: Vec<Test> = match spec.split_once('/') {
        Some((kind, name)) => {
            let (kind, name) = (kind.to_string(), name.to_string());
            vec![Box::new(move |o: &Object| {
                o.key.kind.eq_ignore_ascii_case(&kind) && o.key.name == name
            })]
        }
        None => {
            let (a, b, c) = (s.clone(), s.clone(), format!("-{s}"));
            vec![
                Box::new(move |o: &Object| o.key.name == a),
                Box::new(move |o: &Object| component_name(o) == b),
                Box::new(move |o: &Object| o.key.name.ends_with(&c)),
            ]
        }
    };
    for t in tiers {
        let hits: Vec<&Object> = set.iter().copied().filter(|o| t(o)).collect();
        match hits.len() {
            0 => continue,
            1 => return Ok(Some(hits[0])),
            _ => {
                return Err(format!(
                    "{spec:?} names several workloads ({}): name one as Kind/name",
                    hits.iter().map(|o| o.key.text()).collect::<Vec<_>>().join(", ")
                ))
            }
        }
    }
    Ok(None)
}

/// Pair workloads that leave the release with workloads that enter it. `declared` mappings win
/// over evidence. Returns the pairings and warnings about declarations that could not be used.
pub fn pair_workloads(
    old: &ManifestSet,
    new: &ManifestSet,
    declared: &[Declared],
) -> (Vec<WorkloadPairing>, Vec<String>) {
    let leaving: Vec<&Object> = old
        .objects
        .iter()
        .filter(|o| is_pod_controller(&o.key.kind) && new.get(&o.key).is_none())
        .collect();
    let entering: Vec<&Object> = new
        .objects
        .iter()
        .filter(|o| is_pod_controller(&o.key.kind) && old.get(&o.key).is_none())
        .collect();
    let mut out: Vec<WorkloadPairing> = Vec::new();
    let mut warnings = Vec::new();
    let mut used_old: BTreeSet<&ObjectKey> = BTreeSet::new();
    let mut used_new: BTreeSet<&ObjectKey> = BTreeSet::new();
    for d in declared {
        let found = (named(&d.from, &leaving), named(&d.to, &entering));
        let (o, n) = match found {
            (Ok(Some(o)), Ok(Some(n))) => (o, n),
            (Err(e), _) | (_, Err(e)) => {
                warnings.push(format!("{} not used: {e}", d.by));
                continue;
            }
            (o, _) => {
                if d.strict {
                    let side = if o.ok().flatten().is_none() {
                        format!("{:?} names no workload that leaves the release", d.from)
                    } else {
                        format!("{:?} names no workload that enters the release", d.to)
                    };
                    warnings.push(format!("{} not used: {side}", d.by));
                }
                continue;
            }
        };
        if o.key.namespace != n.key.namespace {
            warnings.push(format!(
                "{} not used: {} and {} are in different namespaces",
                d.by, o.key, n.key
            ));
            continue;
        }
        if used_old.insert(&o.key) && used_new.insert(&n.key) {
            let mut evidence = vec![format!("declared by {}", d.by)];
            // What they do share, though not enough by itself.
            evidence.extend(facts(o, n).1);
            out.push(WorkloadPairing {
                from: o.key.clone(),
                to: n.key.clone(),
                declared: true,
                evidence,
            });
        }
    }
    // Best evidence first, so a weak match cannot take a workload a strong one needs.
    let mut candidates: Vec<(u32, &Object, &Object, Vec<String>)> = Vec::new();
    for o in &leaving {
        for n in entering.iter().filter(|n| n.key.namespace == o.key.namespace) {
            if let Some((score, ev)) = evidence(o, n) {
                candidates.push((score, o, n, ev));
            }
        }
    }
    candidates.sort_by(|x, y| y.0.cmp(&x.0).then_with(|| x.1.key.cmp(&y.1.key)));
    for (_, o, n, evidence) in candidates {
        if used_old.contains(&o.key) || used_new.contains(&n.key) {
            continue;
        }
        used_old.insert(&o.key);
        used_new.insert(&n.key);
        out.push(WorkloadPairing {
            from: o.key.clone(),
            to: n.key.clone(),
            declared: false,
            evidence,
        });
    }
    out.sort_by(|x, y| x.from.cmp(&y.from));
    (out, warnings)
}

/// Parse `--same-component OLD=NEW`.
pub fn parse_mapping(spec: &str) -> Result<(String, String), String> {
    match spec.split_once('=') {
        Some((a, b)) if !a.trim().is_empty() && !b.trim().is_empty() => Ok((a.trim().into(), b.trim().into())),
        _ => Err(format!(
            "--same-component {spec:?}: expected OLD=NEW (each a workload's `Kind/name`, name or component)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_references() {
        assert_eq!(image_repo("docker.io/bitnami/postgresql:16.4.0"), "bitnami/postgresql");
        assert_eq!(image_repo("postgres:16"), "postgres");
        assert_eq!(image_repo("docker.io/library/postgres"), "postgres");
        assert_eq!(image_repo("registry:5000/team/db:1@sha256:ab"), "registry:5000/team/db");
        assert_eq!(image_tag("registry:5000/team/db:1.2@sha256:ab"), Some("1.2"));
        assert_eq!(image_tag("registry:5000/team/db"), None);
    }

    #[test]
    fn mapping_spec() {
        assert_eq!(
            parse_mapping("StatefulSet/db-master=db").unwrap(),
            ("StatefulSet/db-master".into(), "db".into())
        );
        assert!(parse_mapping("db").is_err());
        assert!(parse_mapping("=db").is_err());
    }
}
