//! From a chart reference as helm takes it to a chart on disk (Helm's `LocateChart` order): an
//! existing local path wins unless `--repo` is given; then `--repo URL` + name, `oci://…`, an
//! absolute `http(s)://…tgz` URL, and `repo/chart` from a configured repository's cached index.
//!
//! The result is a path the renderer loads (the cached archive, or the local directory) plus a
//! [`SourceRecord`] — reference, resolved version, sha256 of the archive — that a plan stores so
//! what is applied is what was reviewed. A local chart directory whose Chart.lock pins
//! dependencies missing from `charts/` is completed on the fly in a cached copy (never in the
//! user's `charts/`), and the caller is told.

use std::path::{Path, PathBuf};

use super::cache::ContentCache;
use super::http::{self, Basic};
use super::repo::{self, Entry, Index, RepoFile};
use super::{block_on, oci, paths, FetchOptions, Result, SourceError, SourceRecord};

/// A chart resolved to a local path.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub path: PathBuf,
    pub record: SourceRecord,
    /// Things worth telling the user (dependencies fetched on the fly, …).
    pub notes: Vec<String>,
}

/// Is this reference something other than a local path (so resolution may use the network)?
pub fn is_remote(reference: &str, opts: &FetchOptions) -> bool {
    opts.repo_url.is_some() || !Path::new(reference.trim()).exists()
}

/// Resolve a reference (see the module comment).
pub fn resolve(reference: &str, opts: &FetchOptions) -> Result<Resolved> {
    let name = reference.trim();
    if opts.repo_url.is_none() && Path::new(name).exists() {
        return local(name, opts);
    }
    if opts.repo_url.is_none() && (Path::new(name).is_absolute() || name.starts_with('.')) {
        return Err(SourceError::msg(format!("path \"{name}\" not found")));
    }
    let cache = ContentCache::default();
    block_on(async {
        if let Some(url) = &opts.repo_url {
            return from_repo_url(name, url, opts, &cache).await;
        }
        if name.starts_with("oci://") {
            let creds = cli_creds(opts);
            let p = oci::pull(
                name,
                opts.version.as_deref(),
                opts.devel,
                &opts.tls,
                opts.plain_http,
                creds,
                &cache,
                opts.verify,
            )
            .await?;
            let mut notes = vec![format!("Pulled: {name} (manifest {})", p.manifest_digest)];
            if opts.verify {
                notes.push(super::provenance::check_fetched(
                    name,
                    &p.path,
                    p.prov_or_missing(),
                    &p.file_name,
                    opts,
                )?);
            }
            return Ok(Resolved {
                path: p.path,
                record: SourceRecord {
                    reference: name.to_string(),
                    version: p.version,
                    digest: p.chart_digest,
                },
                notes,
            });
        }
        if let Ok(u) = reqwest::Url::parse(name) {
            if u.has_host() && (u.scheme() == "http" || u.scheme() == "https") {
                return from_url(name, opts, &cache).await;
            }
            if u.has_host() {
                return Err(SourceError::msg(format!("scheme \"{}\" not supported", u.scheme())));
            }
        }
        from_named_repo(name, opts, &cache).await
    })
}

fn cli_creds(opts: &FetchOptions) -> Option<Basic> {
    match (&opts.username, &opts.password) {
        (Some(u), Some(p)) if !u.is_empty() && !p.is_empty() => Some(Basic {
            username: u.clone(),
            password: p.clone(),
        }),
        _ => None,
    }
}

fn local(name: &str, opts: &FetchOptions) -> Result<Resolved> {
    let p = PathBuf::from(name);
    let mut notes = Vec::new();
    if opts.verify {
        // helm: `<abs path>.prov` next to the archive; directories cannot be verified.
        let abs = std::path::absolute(&p).map_err(|e| SourceError::io(name, e))?;
        let mut prov = abs.clone().into_os_string();
        prov.push(".prov");
        let keyring = super::provenance::keyring_of(opts);
        let v = super::provenance::verify_file(&abs, Path::new(&prov), &keyring)
            .map_err(|e| SourceError::msg(format!("{name}: {e}")))?;
        notes.push(format!("{name}: provenance verified: {}", v.summary()));
    }
    let digest = super::cache::chart_digest(&p)?;
    let version = if p.is_dir() {
        // Chart.yaml alone: loading the whole chart (every archive in charts/) only for this
        // field was a third of `template`'s instructions on a five-dependency chart.
        super::deps::chart_version(&p)
    } else {
        String::new()
    };
    let mut digest = digest;
    let path = if p.is_dir() {
        match super::deps::complete_on_the_fly(&p, opts)? {
            Some((copy, n)) => {
                notes.push(n);
                // What is rendered: the completed copy.
                digest = super::cache::chart_digest(&copy)?;
                copy
            }
            None => p,
        }
    } else {
        p
    };
    Ok(Resolved {
        path,
        record: SourceRecord {
            reference: name.to_string(),
            version,
            digest,
        },
        notes,
    })
}

/// `repo/chart` from a configured repository's cached index (no network for the index).
async fn from_named_repo(name: &str, opts: &FetchOptions, cache: &ContentCache) -> Result<Resolved> {
    let (repo_name, chart) = name.split_once('/').ok_or_else(|| {
        SourceError::msg(format!(
            "non-absolute URLs should be in form of repo_name/path_to_chart, got: {name}"
        ))
    })?;
    let (config, rcache) = repo::default_locations();
    let file = RepoFile::load(&config)?;
    // Helm's exact words (the parity suite compares error messages).
    let entry = file
        .get(repo_name)
        .ok_or_else(|| SourceError::msg(format!("repo {repo_name} not found")))?;
    if entry.url.is_empty() {
        return Err(SourceError::msg(format!("no URL found for repository {repo_name}")));
    }
    let ipath = repo::index_path(&rcache, repo_name);
    let index = Index::load(&ipath).map_err(|e| {
        SourceError::msg(format!(
            "{name}: no cached repo found. (try 'chartup repo update'): {e}"
        ))
    })?;
    let version = opts.version.clone().unwrap_or_default();
    let cv = index.get(chart, &version, opts.devel).map_err(|cause| {
        SourceError::msg(format!(
            "chart \"{chart}\" matching {version} not found in {repo_name} index. (try 'chartup repo update'): {cause}"
        ))
    })?;
    let u0 = cv
        .urls
        .first()
        .ok_or_else(|| SourceError::msg(format!("chart \"{name}\" has no downloadable URLs")))?;
    let url = repo::resolve_url(&entry.url, u0)?;
    let mut tls = entry.tls(false);
    tls.insecure_skip_verify = opts.tls.insecure_skip_verify;
    let creds = repo::creds_for(entry, &url);
    let (path, digest) = super::cache::fetch(name, &url, &cv.digest, &tls, creds.as_ref(), opts, cache).await?;
    let notes = verify_notes(name, &url, &path, &digest, &tls, creds.as_ref(), opts, cache).await?;
    Ok(Resolved {
        path,
        record: SourceRecord {
            reference: name.to_string(),
            version: cv.version.clone(),
            digest,
        },
        notes,
    })
}

/// `--repo URL NAME`: a fresh index, never written to repositories.yaml.
async fn from_repo_url(name: &str, repo_url: &str, opts: &FetchOptions, cache: &ContentCache) -> Result<Resolved> {
    let iurl = repo::index_url(repo_url)?;
    let client = http::client(&opts.tls)?;
    let creds = cli_creds(opts);
    let bytes = http::get(&client, &iurl, creds.as_ref(), None).await.map_err(|e| {
        SourceError::msg(format!(
            "looks like \"{repo_url}\" is not a valid chart repository or cannot be reached: {e}"
        ))
    })?;
    let index = Index::parse(&bytes, &iurl).map_err(|e| {
        SourceError::msg(format!(
            "looks like \"{repo_url}\" is not a valid chart repository or cannot be reached: {e}"
        ))
    })?;
    let version = opts.version.clone().unwrap_or_default();
    let cv = index.get(name, &version, opts.devel).map_err(|cause| {
        let v = if version.is_empty() {
            String::new()
        } else {
            format!(" version \"{version}\"")
        };
        SourceError::msg(format!(
            "chart \"{name}\"{v} not found in {repo_url} repository: {cause}"
        ))
    })?;
    let u0 = cv
        .urls
        .first()
        .ok_or_else(|| SourceError::msg(format!("chart \"{name}\" has no downloadable URLs")))?;
    let url = repo::resolve_url(repo_url, u0)?;
    // Helm's rule: CLI credentials go to the chart URL only on the repo's scheme/host/port,
    // unless --pass-credentials.
    let entry = Entry {
        url: repo_url.to_string(),
        username: opts.username.clone().unwrap_or_default(),
        password: opts.password.clone().unwrap_or_default(),
        pass_credentials_all: opts.pass_credentials,
        ..Default::default()
    };
    let creds = repo::creds_for(&entry, &url);
    let (path, digest) = super::cache::fetch(name, &url, &cv.digest, &opts.tls, creds.as_ref(), opts, cache).await?;
    let notes = verify_notes(name, &url, &path, &digest, &opts.tls, creds.as_ref(), opts, cache).await?;
    Ok(Resolved {
        path,
        record: SourceRecord {
            reference: format!("{repo_url} {name}"),
            version: cv.version.clone(),
            digest,
        },
        notes,
    })
}

/// An absolute chart URL: borrow credentials, TLS and digest from a configured repository whose
/// cached index lists exactly this URL; else fetch with the CLI's flags.
async fn from_url(url: &str, opts: &FetchOptions, cache: &ContentCache) -> Result<Resolved> {
    let (config, rcache) = repo::default_locations();
    let file = RepoFile::load(&config)?;
    for e in &file.repositories {
        let Ok(index) = Index::load(&repo::index_path(&rcache, &e.name)) else {
            continue;
        };
        for cv in index.entries.values().flatten() {
            let Some(u0) = cv.urls.first() else { continue };
            if repo::resolve_url(&e.url, u0).ok().as_deref() == Some(url) {
                let mut tls = e.tls(false);
                tls.insecure_skip_verify = opts.tls.insecure_skip_verify;
                let creds = repo::creds_for(e, url);
                let (path, digest) =
                    super::cache::fetch(url, url, &cv.digest, &tls, creds.as_ref(), opts, cache).await?;
                let notes = verify_notes(url, url, &path, &digest, &tls, creds.as_ref(), opts, cache).await?;
                return Ok(Resolved {
                    path,
                    record: SourceRecord {
                        reference: url.to_string(),
                        version: cv.version.clone(),
                        digest,
                    },
                    notes,
                });
            }
        }
    }
    let creds = cli_creds(opts);
    let (path, digest) = super::cache::fetch(url, url, "", &opts.tls, creds.as_ref(), opts, cache).await?;
    let notes = verify_notes(url, url, &path, &digest, &opts.tls, creds.as_ref(), opts, cache).await?;
    Ok(Resolved {
        path,
        record: SourceRecord {
            reference: url.to_string(),
            version: String::new(),
            digest,
        },
        notes,
    })
}

/// `--verify` of a repository download (nothing to do without it).
#[allow(clippy::too_many_arguments)]
async fn verify_notes(
    reference: &str,
    url: &str,
    path: &Path,
    digest: &str,
    tls: &super::TlsOptions,
    creds: Option<&Basic>,
    opts: &FetchOptions,
    cache: &ContentCache,
) -> Result<Vec<String>> {
    if !opts.verify {
        return Ok(Vec::new());
    }
    let line = super::cache::verify_download(reference, url, path, digest, tls, creds, opts, cache).await?;
    Ok(vec![line])
}

/// For `repo list` and friends: where things are.
pub fn locations() -> Vec<(String, PathBuf)> {
    vec![
        ("repository config".into(), paths::repository_config()),
        ("repository cache".into(), paths::repository_cache()),
        ("registry config".into(), paths::registry_config()),
        ("content cache".into(), paths::content_cache()),
    ]
}
