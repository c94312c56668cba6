//! `dependency build|update|list` as Helm's `downloader.Manager`: Chart.yaml `dependencies`
//! resolved against configured repositories (cached indexes), unmanaged repository URLs, OCI
//! registries and `file://` charts; Chart.lock written as Helm writes it (sigs.k8s.io/yaml, keys
//! sorted; `digest` = Helm's `HashReq`, the sha256 of Go's JSON of `[requested, locked]`).
//!
//! Archives are first fetched into `charts/tmpcharts-<pid>/` and only moved into `charts/` when
//! every one arrived, so a failed run leaves `charts/` as it was. Downloads go through the content
//! cache, so a second build — and the on-the-fly completion of a chart rendered without its
//! `charts/` — needs no network.

use std::path::{Path, PathBuf};

use serde_json::{json, Value as Json};

use super::cache::{write_atomic, ContentCache};
use super::repo::{self, Entry, Index, RepoFile};
use super::{block_on, oci, FetchOptions, Result, SourceError};
use crate::version::Version;

/// One Chart.yaml dependency, as written.
#[derive(Debug, Clone, Default)]
pub struct Dep {
    pub name: String,
    pub version: String,
    pub repository: String,
    pub alias: String,
    /// The whole entry, for the digest (Go field order is rebuilt there).
    raw: Json,
}

/// A Chart.lock entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locked {
    pub name: String,
    pub repository: String,
    pub version: String,
}

fn scalar(v: Option<&Json>) -> String {
    match v {
        Some(Json::String(s)) => s.clone(),
        Some(Json::Null) | None => String::new(),
        Some(o) => o.to_string(),
    }
}

fn read_yaml(path: &Path) -> Result<Json> {
    let text = std::fs::read_to_string(path).map_err(|e| SourceError::io(path.display(), e))?;
    crate::manifest::parse_yaml(&text).map_err(|e| SourceError::msg(format!("{}: {e}", path.display())))
}

/// `version:` of a chart directory's Chart.yaml ("" when unreadable).
pub fn chart_version(dir: &Path) -> String {
    read_yaml(&dir.join("Chart.yaml"))
        .map(|m| scalar(m.get("version")))
        .unwrap_or_default()
}

/// The dependencies of the chart in `dir`, and the lock file name (`requirements.lock` for v1).
pub fn chart_deps(dir: &Path) -> Result<(Vec<Dep>, Json, &'static str)> {
    let meta = read_yaml(&dir.join("Chart.yaml"))?;
    let v1 = scalar(meta.get("apiVersion")) == "v1";
    let deps_src = if v1 && dir.join("requirements.yaml").exists() {
        read_yaml(&dir.join("requirements.yaml"))?
            .get("dependencies")
            .cloned()
            .unwrap_or(Json::Null)
    } else {
        meta.get("dependencies").cloned().unwrap_or(Json::Null)
    };
    let mut out = Vec::new();
    for (i, d) in deps_src.as_array().into_iter().flatten().enumerate() {
        if d.is_null() {
            continue;
        }
        let name = scalar(d.get("name"));
        if name.is_empty() {
            return Err(SourceError::msg(format!(
                "{}/Chart.yaml: dependencies[{i}]: no name",
                dir.display()
            )));
        }
        out.push(Dep {
            name,
            version: scalar(d.get("version")),
            repository: scalar(d.get("repository")),
            alias: scalar(d.get("alias")),
            raw: d.clone(),
        });
    }
    Ok((out, meta, if v1 { "requirements.lock" } else { "Chart.lock" }))
}

/// Go's encoding/json of a `chart.Dependency` (field order, omitempty, HTML escaping is applied
/// by [`go_json`]).
fn dep_json(d: &Dep) -> Json {
    let mut m = serde_json::Map::new();
    m.insert("name".into(), json!(d.name));
    if !d.version.is_empty() {
        m.insert("version".into(), json!(d.version));
    }
    m.insert("repository".into(), json!(d.repository));
    let cond = scalar(d.raw.get("condition"));
    if !cond.is_empty() {
        m.insert("condition".into(), json!(cond));
    }
    if let Some(tags) = d.raw.get("tags").and_then(|t| t.as_array()).filter(|t| !t.is_empty()) {
        m.insert(
            "tags".into(),
            Json::Array(tags.iter().map(|t| json!(scalar(Some(t)))).collect()),
        );
    }
    if d.raw.get("enabled").and_then(|e| e.as_bool()) == Some(true) {
        m.insert("enabled".into(), json!(true));
    }
    if let Some(iv) = d
        .raw
        .get("import-values")
        .and_then(|t| t.as_array())
        .filter(|t| !t.is_empty())
    {
        m.insert("import-values".into(), Json::Array(iv.iter().map(sort_keys).collect()));
    }
    if !d.alias.is_empty() {
        m.insert("alias".into(), json!(d.alias));
    }
    Json::Object(m)
}

/// Go marshals maps with sorted keys.
fn sort_keys(v: &Json) -> Json {
    match v {
        Json::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            Json::Object(keys.into_iter().map(|k| (k.clone(), sort_keys(&m[k]))).collect())
        }
        Json::Array(a) => Json::Array(a.iter().map(sort_keys).collect()),
        o => o.clone(),
    }
}

/// serde_json's compact text with Go's HTML-safe escapes.
fn go_json(v: &Json) -> String {
    serde_json::to_string(v)
        .unwrap_or_default()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

/// Helm's `HashReq(req, lock)`.
pub fn hash_req(req: &[Dep], lock: &[Locked]) -> String {
    let r: Vec<Json> = req.iter().map(dep_json).collect();
    let l: Vec<Json> = lock
        .iter()
        .map(|l| json!({"name": l.name, "version": l.version, "repository": l.repository}))
        .collect();
    let body = go_json(&Json::Array(vec![Json::Array(r), Json::Array(l)]));
    format!("sha256:{}", super::sha256_hex(body.as_bytes()))
}

/// Read Chart.lock: (digest, entries).
pub fn read_lock(path: &Path) -> Result<Option<(String, Vec<Locked>)>> {
    if !path.exists() {
        return Ok(None);
    }
    let j = read_yaml(path)?;
    let deps = j
        .get("dependencies")
        .and_then(|d| d.as_array())
        .into_iter()
        .flatten()
        .map(|d| Locked {
            name: scalar(d.get("name")),
            repository: scalar(d.get("repository")),
            version: scalar(d.get("version")),
        })
        .collect();
    Ok(Some((scalar(j.get("digest")), deps)))
}

/// Chart.lock's bytes as Helm writes them.
pub fn lock_yaml(digest: &str, deps: &[Locked], generated: &str) -> String {
    use crate::yaml::json::Json as J;
    let d = deps
        .iter()
        .map(|l| {
            J::Obj(vec![
                ("name".into(), J::Str(l.name.clone())),
                ("repository".into(), J::Str(l.repository.clone())),
                ("version".into(), J::Str(l.version.clone())),
            ])
        })
        .collect();
    crate::yaml::emit::marshal(&J::Obj(vec![
        ("dependencies".into(), J::Arr(d)),
        ("digest".into(), J::Str(digest.to_string())),
        ("generated".into(), J::Str(generated.to_string())),
    ]))
}

/// What `dependency build|update` did.
#[derive(Debug, Default)]
pub struct Report {
    pub lines: Vec<String>,
    /// Provenance results (`--verify`) and warnings, for stderr.
    pub warnings: Vec<String>,
    pub saved: Vec<PathBuf>,
}

enum RepoKind {
    Local,
    File(PathBuf),
    Oci(String),
    Http { entry: Entry, managed: bool },
}

fn classify(file_base: &Path, d: &mut Dep, repos: &RepoFile) -> Result<RepoKind> {
    let r = d.repository.clone();
    if r.is_empty() {
        return Ok(RepoKind::Local);
    }
    if let Some(p) = r.strip_prefix("file://") {
        let path = if Path::new(p).is_absolute() {
            PathBuf::from(p)
        } else {
            file_base.join(p)
        };
        if !path.exists() {
            return Err(SourceError::msg(format!("directory {} not found", path.display())));
        }
        return Ok(RepoKind::File(path));
    }
    if r.starts_with("oci://") {
        return Ok(RepoKind::Oci(r));
    }
    let alias = r.strip_prefix('@').or_else(|| r.strip_prefix("alias:"));
    if let Some(a) = alias {
        let e = repos.get(a).ok_or_else(|| {
            SourceError::msg(format!(
                "no repository definition for {r}. Please add them via 'chartup repo add'"
            ))
        })?;
        d.repository = e.url.clone();
        return Ok(RepoKind::Http {
            entry: e.clone(),
            managed: true,
        });
    }
    let norm = |u: &str| u.trim_end_matches('/').to_string();
    if let Some(e) = repos.repositories.iter().find(|e| norm(&e.url) == norm(&r)) {
        return Ok(RepoKind::Http {
            entry: e.clone(),
            managed: true,
        });
    }
    if r.starts_with("http://") || r.starts_with("https://") {
        return Ok(RepoKind::Http {
            entry: Entry {
                name: format!("helm-manager-{}", super::sha256_hex(r.as_bytes())),
                url: r,
                ..Default::default()
            },
            managed: false,
        });
    }
    Err(SourceError::msg(format!(
        "no repository definition for {r}. Please add them via 'chartup repo add'; repositories must be URLs or @aliases"
    )))
}

/// A chart's name and version from a directory or archive.
fn local_chart_version(path: &Path) -> Result<(String, String)> {
    let c = crate::chart::load(path).map_err(|e| SourceError::msg(format!("{}: {e}", path.display())))?;
    Ok((c.metadata.name.clone(), c.metadata.version.clone()))
}

/// `helm dependency update` (`lock = None`) or `build` (`lock = Some`, exact versions).
pub fn run(dir: &Path, build: bool, opts: &FetchOptions, skip_refresh: bool) -> Result<Report> {
    run_in(dir, dir, build, opts, skip_refresh)
}

/// [`run`] on `dir`, with `file://` paths relative to `file_base` (the original chart directory
/// when working on a cached copy).
fn run_in(dir: &Path, file_base: &Path, build: bool, opts: &FetchOptions, skip_refresh: bool) -> Result<Report> {
    let (mut deps, _meta, lock_name) = chart_deps(dir)?;
    let lock_path = dir.join(lock_name);
    let lock = read_lock(&lock_path)?;
    let repos = RepoFile::load(&repo::default_locations().0)?;
    let kinds: Vec<RepoKind> = deps
        .iter_mut()
        .map(|d| classify(file_base, d, &repos))
        .collect::<Result<_>>()?;
    let mut report = Report::default();
    let cache = ContentCache::default();
    let rcache = repo::default_locations().1;
    let use_lock = build && lock.is_some();
    if use_lock {
        let (digest, locked) = lock.clone().unwrap_or_default();
        if hash_req(&deps, &locked) != digest {
            return Err(SourceError::msg(format!(
                "{}: the lock file ({lock_name}) is out of sync with the dependencies file (Chart.yaml). Please update the dependencies with 'chartup dependency update'",
                dir.display()
            )));
        }
    }
    let locked_in: Vec<Locked> = lock.as_ref().map(|l| l.1.clone()).unwrap_or_default();
    // The version a dependency asks for: the locked one on a build from Chart.lock.
    let wanted = |i: usize, d: &Dep| {
        if use_lock {
            locked_in.get(i).map(|l| l.version.clone()).unwrap_or_default()
        } else {
            d.version.clone()
        }
    };
    block_on(async {
        // Two independent chains run at once (their network waits overlap): the repository
        // indexes, and the registry pulls one after another (so they share one kept-alive
        // connection and the registry's auth answer). Results are then taken in Chart.yaml order,
        // so the first error reported is the one the sequential order would give.
        let index_chain = async {
            // Refresh configured repos in use (unless --skip-refresh), fetch unmanaged ones.
            let mut indexes: std::collections::BTreeMap<String, Index> = Default::default();
            let mut lines = Vec::new();
            for k in &kinds {
                if let RepoKind::Http { entry, managed } = k {
                    if indexes.contains_key(&entry.url) {
                        continue;
                    }
                    let idx = if !managed || !(skip_refresh || opts.offline) {
                        if *managed {
                            lines.push(format!(
                                "...Successfully got an update from the \"{}\" chart repository",
                                entry.name
                            ));
                            repo::download_index(entry, &rcache).await?.1
                        } else {
                            let url = repo::index_url(&entry.url)?;
                            let client = super::http::client(&entry.tls(true))?;
                            let bytes = super::http::get(&client, &url, None, None).await?;
                            Index::parse(&bytes, &url)?
                        }
                    } else {
                        Index::load(&repo::index_path(&rcache, &entry.name)).map_err(|e| {
                            SourceError::msg(format!(
                                "no cached repository for {} found. (try 'chartup repo update'): {e}",
                                entry.name
                            ))
                        })?
                    };
                    indexes.insert(entry.url.clone(), idx);
                }
            }
            Ok::<_, SourceError>((indexes, lines))
        };
        let pull_chain = async {
            let mut pulled: Vec<Option<Result<oci::Pulled>>> = Vec::new();
            for (i, (d, k)) in deps.iter().zip(&kinds).enumerate() {
                let RepoKind::Oci(r) = k else {
                    pulled.push(None);
                    continue;
                };
                let reference = format!("{}/{}", r.trim_end_matches('/'), d.name);
                let want = wanted(i, d);
                let p = oci::pull(
                    &reference,
                    Some(&want),
                    false,
                    &opts.tls,
                    opts.plain_http,
                    None,
                    &cache,
                    opts.verify,
                )
                .await;
                let failed = p.is_err();
                pulled.push(Some(p));
                if failed {
                    break; // the sequential order stops at the first failure too
                }
            }
            pulled
        };
        let (indexes, mut pulled) = futures::future::join(index_chain, pull_chain).await;
        let (indexes, lines) = indexes?;
        report.lines.extend(lines);
        let mut locked = Vec::new();
        let mut fetched: Vec<(String, PathBuf)> = Vec::new(); // (file name in charts/, source path)
        let mut missing = Vec::new();
        for (i, (d, k)) in deps.iter().zip(&kinds).enumerate() {
            let want = wanted(i, d);
            let fail = |why: String| {
                SourceError::msg(format!(
                    "dependency \"{}\" (repository \"{}\", version \"{want}\"): {why}",
                    d.name, d.repository
                ))
            };
            let constraint = || {
                crate::version::Constraints::parse(if want.is_empty() { "*" } else { &want }).map_err(|e| {
                    SourceError::msg(format!(
                        "dependency \"{}\" has an invalid version/constraint format: {e}",
                        d.name
                    ))
                })
            };
            match k {
                RepoKind::Local => {
                    locked.push(Locked {
                        name: d.name.clone(),
                        repository: String::new(),
                        version: d.version.clone(),
                    });
                }
                RepoKind::File(p) => {
                    let (n, v) = local_chart_version(p)?;
                    let c = constraint()?;
                    if !Version::parse(&v).map(|v| c.matches(&v)).unwrap_or(false) {
                        missing.push(format!(
                            "\"{}\" (repository \"{}\", version \"{want}\")",
                            d.name, d.repository
                        ));
                        continue;
                    }
                    let tgz = pack_dir(p, &n, &v)?;
                    let (path, _) = cache.put(&tgz, None, &d.repository)?;
                    fetched.push((format!("{n}-{v}.tgz"), path));
                    locked.push(Locked {
                        name: d.name.clone(),
                        repository: d.repository.clone(),
                        version: v,
                    });
                }
                RepoKind::Oci(r) => {
                    let reference = format!("{}/{}", r.trim_end_matches('/'), d.name);
                    let p = pulled
                        .get_mut(i)
                        .and_then(Option::take)
                        .ok_or_else(|| fail("not pulled".into()))?
                        .map_err(|e| fail(e.to_string()))?;
                    if opts.verify {
                        let line = super::provenance::check_fetched(
                            &reference,
                            &p.path,
                            p.prov_or_missing(),
                            &p.file_name,
                            opts,
                        )?;
                        report.warnings.push(line);
                    }
                    fetched.push((format!("{}-{}.tgz", d.name, p.version), p.path));
                    locked.push(Locked {
                        name: d.name.clone(),
                        repository: d.repository.clone(),
                        version: p.version,
                    });
                }
                RepoKind::Http { entry, .. } => {
                    let idx = &indexes[&entry.url];
                    let c = constraint()?;
                    let cv = idx.entries.get(&d.name).and_then(|vs| {
                        vs.iter().find(|cv| {
                            !cv.urls.is_empty()
                                && Version::parse(&cv.version)
                                    .map(|v| {
                                        if use_lock {
                                            Version::parse(&want).map(|w| w == v).unwrap_or(false)
                                        } else {
                                            c.matches(&v)
                                        }
                                    })
                                    .unwrap_or(false)
                        })
                    });
                    let Some(cv) = cv else {
                        let near = idx
                            .entries
                            .get(&d.name)
                            .map(|vs| repo::nearest(vs.iter().map(|c| c.version.as_str()), &want))
                            .unwrap_or_else(|| format!(" ({} chart not found in repo {})", d.name, entry.url));
                        missing.push(format!(
                            "\"{}\" (repository \"{}\", version \"{want}\"){near}",
                            d.name, d.repository
                        ));
                        continue;
                    };
                    let url = repo::resolve_url(&entry.url, &cv.urls[0])?;
                    let creds = repo::creds_for(entry, &url);
                    let reference = format!("{}:{}", d.name, cv.version);
                    let (path, digest) = super::cache::fetch(
                        &reference,
                        &url,
                        &cv.digest,
                        &entry.tls(false),
                        creds.as_ref(),
                        opts,
                        &cache,
                    )
                    .await
                    .map_err(|e| SourceError::msg(format!("could not download {url}: {e}")))?;
                    if opts.verify {
                        let line = super::cache::verify_download(
                            &url,
                            &url,
                            &path,
                            &digest,
                            &entry.tls(false),
                            creds.as_ref(),
                            opts,
                            &cache,
                        )
                        .await?;
                        report.warnings.push(line);
                    }
                    let file = url
                        .rsplit('/')
                        .next()
                        .unwrap_or("chart.tgz")
                        .split('?')
                        .next()
                        .unwrap_or("chart.tgz")
                        .to_string();
                    fetched.push((file, path));
                    locked.push(Locked {
                        name: d.name.clone(),
                        repository: d.repository.clone(),
                        version: cv.version.clone(),
                    });
                }
            }
        }
        if !missing.is_empty() {
            return Err(SourceError::msg(format!(
                "can't get a valid version for {} subchart(s): {}. Make sure a matching chart version exists in the repo, or change the version constraint in Chart.yaml",
                missing.len(),
                missing.join(", ")
            )));
        }
        install(dir, &deps, &fetched, &mut report)?;
        if !use_lock {
            let digest = hash_req(&deps, &locked);
            if lock.as_ref().map(|l| l.0.as_str()) != Some(digest.as_str()) {
                if std::fs::symlink_metadata(&lock_path)
                    .map(|m| m.file_type().is_symlink())
                    .unwrap_or(false)
                {
                    return Err(SourceError::msg(format!(
                        "{}: cannot write a symlinked lock file",
                        lock_path.display()
                    )));
                }
                let generated = crate::yaml::json::rfc3339_nano(&jiff::Zoned::now());
                write_atomic(&lock_path, lock_yaml(&digest, &locked, &generated).as_bytes())?;
            }
        }
        Ok(())
    })?;
    Ok(report)
}

/// Copy the fetched archives into `charts/` through `charts/tmpcharts-<pid>/`, then remove other
/// archives that are charts not declared as `repository: ""` dependencies (Helm's cleanup).
fn install(dir: &Path, deps: &[Dep], fetched: &[(String, PathBuf)], report: &mut Report) -> Result<()> {
    // Two dependencies may land on one file name (one chart from a repository and a registry, or
    // under two aliases): helm moves the second over the first; stage each name once.
    let mut seen = std::collections::HashSet::new();
    let fetched: Vec<(String, PathBuf)> = fetched
        .iter()
        .rev()
        .filter(|(n, _)| seen.insert(n.clone()))
        .cloned()
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let fetched = fetched.as_slice();
    let charts = dir.join("charts");
    let tmp = charts.join(format!("tmpcharts-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).map_err(|e| SourceError::io(tmp.display(), e))?;
    let staged = (|| -> Result<()> {
        for (name, src) in fetched {
            let dst = tmp.join(name);
            std::fs::copy(src, &dst).map_err(|e| SourceError::io(dst.display(), e))?;
        }
        Ok(())
    })();
    if let Err(e) = staged {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    let keep: Vec<&str> = deps
        .iter()
        .filter(|d| d.repository.is_empty())
        .map(|d| d.name.as_str())
        .collect();
    let names: Vec<&str> = fetched.iter().map(|f| f.0.as_str()).collect();
    if let Ok(rd) = std::fs::read_dir(&charts) {
        for e in rd.flatten() {
            let p = e.path();
            let fname = e.file_name().to_string_lossy().to_string();
            if p.is_file() && fname.ends_with(".tgz") && !names.contains(&fname.as_str()) {
                if let Ok((n, _)) = local_chart_version(&p) {
                    if !keep.contains(&n.as_str()) {
                        let _ = std::fs::remove_file(&p);
                    }
                }
            }
        }
    }
    for (name, _) in fetched {
        let (from, to) = (tmp.join(name), charts.join(name));
        std::fs::rename(&from, &to).map_err(|e| SourceError::io(to.display(), e))?;
        report.saved.push(to);
        report.lines.push(format!("Saving {name}"));
    }
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(())
}

/// A chart directory as a `.tgz` (`<name>/…` entries; `.helmignore` honoured), for `file://`.
pub fn pack_dir(dir: &Path, name: &str, _version: &str) -> Result<Vec<u8>> {
    let rules = match std::fs::read(dir.join(".helmignore")) {
        Ok(b) => crate::chart::ignore::Rules::parse(&b)
            .map_err(|e| SourceError::msg(format!("{}/.helmignore: {}", dir.display(), e.0)))?,
        Err(_) => crate::chart::ignore::Rules::empty(),
    };
    let mut files = Vec::new();
    walk(dir, dir, &rules, &mut files)?;
    files.sort();
    // Chart.yaml first, as Helm's chartutil.Save.
    files.sort_by_key(|f| f != "Chart.yaml");
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    for rel in files {
        let mut data = std::fs::read(dir.join(&rel)).map_err(|e| SourceError::io(dir.join(&rel).display(), e))?;
        if rel == "Chart.yaml" {
            // Helm's Save writes the metadata back through sigs.k8s.io/yaml: keys sorted, empty
            // fields left out.
            let meta = read_yaml(&dir.join("Chart.yaml"))?;
            data = crate::yaml::emit::marshal(&go_tree(&meta)).into_bytes();
        }
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(0);
        h.set_cksum();
        tar.append_data(&mut h, format!("{name}/{rel}"), data.as_slice())
            .map_err(|e| SourceError::msg(format!("packing {}: {e}", dir.display())))?;
    }
    let gz = tar
        .into_inner()
        .map_err(|e| SourceError::msg(format!("packing {}: {e}", dir.display())))?;
    gz.finish()
        .map_err(|e| SourceError::msg(format!("packing {}: {e}", dir.display())))
}

/// A JSON value as Go's omitempty struct marshalling leaves it, keys sorted.
fn go_tree(v: &Json) -> crate::yaml::json::Json {
    use crate::yaml::json::Json as J;
    match v {
        Json::Null => J::Null,
        Json::Bool(b) => J::Bool(*b),
        Json::Number(n) => J::Num(n.to_string()),
        Json::String(s) => J::Str(s.clone()),
        Json::Array(a) => J::Arr(a.iter().map(go_tree).collect()),
        Json::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let empty = |x: &Json| match x {
                Json::Null => true,
                Json::Bool(b) => !b,
                Json::String(s) => s.is_empty(),
                Json::Array(a) => a.is_empty(),
                Json::Object(o) => o.is_empty(),
                Json::Number(_) => false,
            };
            J::Obj(
                keys.into_iter()
                    .filter(|k| !empty(&m[*k]))
                    .map(|k| (k.clone(), go_tree(&m[k])))
                    .collect(),
            )
        }
    }
}

fn walk(root: &Path, dir: &Path, rules: &crate::chart::ignore::Rules, out: &mut Vec<String>) -> Result<()> {
    let rd = std::fs::read_dir(dir).map_err(|e| SourceError::io(dir.display(), e))?;
    for e in rd.flatten() {
        let p = e.path();
        let rel = p.strip_prefix(root).unwrap_or(&p).to_string_lossy().replace('\\', "/");
        let is_dir = p.is_dir();
        if rules.ignore(&rel, is_dir) {
            continue;
        }
        if is_dir {
            walk(root, &p, rules, out)?;
        } else {
            out.push(rel);
        }
    }
    Ok(())
}

/// `dependency list`: NAME, VERSION, REPOSITORY, STATUS as Helm prints them.
pub fn list(dir: &Path) -> Result<Vec<[String; 4]>> {
    let (deps, _, _) = chart_deps(dir)?;
    let charts = dir.join("charts");
    let mut rows = Vec::new();
    for d in deps {
        let status = status(&charts, &d);
        rows.push([d.name.clone(), d.version.clone(), d.repository.clone(), status]);
    }
    Ok(rows)
}

fn status(charts: &Path, d: &Dep) -> String {
    let c = crate::version::Constraints::parse(if d.version.is_empty() { "*" } else { &d.version });
    for e in std::fs::read_dir(charts).into_iter().flatten().flatten() {
        let p = e.path();
        let is_tgz = p.extension().map(|x| x == "tgz").unwrap_or(false);
        if !(p.is_dir() || is_tgz) {
            continue;
        }
        let Ok((n, v)) = local_chart_version(&p) else { continue };
        if n != d.name {
            continue;
        }
        let ok = match (&c, Version::parse(&v)) {
            (Ok(c), Ok(v)) => c.matches(&v),
            _ => false,
        };
        return if !ok {
            "wrong version".into()
        } else if is_tgz {
            "ok".into()
        } else {
            "unpacked".into()
        };
    }
    "missing".into()
}

/// Names of declared dependencies not present in `charts/`.
fn missing_in_charts(dir: &Path, deps: &[Dep]) -> Vec<String> {
    let charts = dir.join("charts");
    let mut have = Vec::new();
    for e in std::fs::read_dir(&charts).into_iter().flatten().flatten() {
        if let Ok((n, _)) = local_chart_version(&e.path()) {
            have.push(n);
        }
    }
    deps.iter()
        .filter(|d| !have.contains(&d.name))
        .map(|d| d.name.clone())
        .collect()
}

/// A chart directory with a Chart.lock whose dependencies are not in `charts/`: complete a cached
/// copy (keyed by the chart's digest) from the lock and return it with a note for the user.
pub fn complete_on_the_fly(dir: &Path, opts: &FetchOptions) -> Result<Option<(PathBuf, String)>> {
    if !dir.join("Chart.yaml").exists() {
        return Ok(None);
    }
    let Ok((deps, _, lock_name)) = chart_deps(dir) else {
        return Ok(None);
    };
    if deps.is_empty() || !dir.join(lock_name).exists() {
        return Ok(None);
    }
    let missing = missing_in_charts(dir, &deps);
    if missing.is_empty() {
        return Ok(None);
    }
    let digest = super::cache::chart_digest(dir)?;
    let hex = super::cache::hex_of(&digest).unwrap_or_default();
    let root = super::paths::cache_home().join("chartup").join("charts");
    let done = root.join(&hex);
    let note = format!(
        "{}: fetched {} from {lock_name} into a cached copy ({}); `chartup dependency build {}` vendors them",
        dir.display(),
        missing.join(", "),
        done.display(),
        dir.display()
    );
    if done.join("Chart.yaml").exists() {
        return Ok(Some((done, note)));
    }
    let tmp = root.join(format!(".{hex}.tmp-{}-{}", std::process::id(), super::cache::unique()));
    let res = (|| -> Result<()> {
        copy_dir(dir, &tmp)?;
        run_in(&tmp, dir, true, opts, true)?;
        std::fs::rename(&tmp, &done)
            .or_else(|e| if done.exists() { Ok(()) } else { Err(e) })
            .map_err(|e| SourceError::io(done.display(), e))
    })();
    if let Err(e) = res {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(SourceError::msg(format!(
            "{}: resolving the dependencies pinned in {lock_name}: {e}",
            dir.display()
        )));
    }
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(Some((done, note)))
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).map_err(|e| SourceError::io(to.display(), e))?;
    for e in std::fs::read_dir(from)
        .map_err(|e| SourceError::io(from.display(), e))?
        .flatten()
    {
        let p = e.path();
        let t = to.join(e.file_name());
        if p.is_dir() {
            copy_dir(&p, &t)?;
        } else {
            std::fs::copy(&p, &t).map_err(|e| SourceError::io(p.display(), e))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_json_escapes_like_encoding_json() {
        let d = Dep {
            name: "a".into(),
            version: ">=1.0 <2".into(),
            repository: "https://x".into(),
            alias: String::new(),
            raw: json!({}),
        };
        let l = Locked {
            name: "a".into(),
            repository: "https://x".into(),
            version: "1.5.0".into(),
        };
        let body = go_json(&Json::Array(vec![
            Json::Array(vec![dep_json(&d)]),
            json!([{"name": l.name, "version": l.version, "repository": l.repository}]),
        ]));
        assert_eq!(
            body,
            r#"[[{"name":"a","version":"\u003e=1.0 \u003c2","repository":"https://x"}],[{"name":"a","version":"1.5.0","repository":"https://x"}]]"#
        );
    }
}
