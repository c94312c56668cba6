//! Charts in OCI registries, in Helm's layout: an image manifest whose config is
//! `application/vnd.cncf.helm.config.v1+json` and whose layers hold the chart archive
//! (`application/vnd.cncf.helm.chart.content.v1.tar+gzip`) and optionally the provenance file.
//!
//! The distribution API is spoken directly (a handful of GETs): resolving a tag or range, the
//! manifest, the blob, with the registry's own auth challenge — `WWW-Authenticate: Basic` or
//! `Bearer realm=…,service=…,scope=…` answered from the token endpoint — as oras-go does for Helm.
//! Credentials come from Helm's registry config (docker config.json format), then Docker's. Tags
//! map `+` ↔ `_` because OCI tags cannot hold `+`. Every blob is checked against its descriptor's
//! digest before it is cached.

use std::path::{Path, PathBuf};

use base64::Engine;
use serde_json::Value as Json;

use super::cache::{write_atomic, ContentCache};
use super::http::{self, Basic};
use super::{paths, sha256_hex, Result, SourceError, TlsOptions};
use crate::version::Version;

pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.cncf.helm.config.v1+json";
pub const CHART_LAYER_MEDIA_TYPE: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
pub const LEGACY_CHART_LAYER_MEDIA_TYPE: &str = "application/tar+gzip";
pub const PROV_LAYER_MEDIA_TYPE: &str = "application/vnd.cncf.helm.chart.provenance.v1.prov";
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";

/// `oci://host[:port]/path/chart[:tag][@sha256:…]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OciRef {
    pub host: String,
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl OciRef {
    pub fn parse(reference: &str) -> Result<OciRef> {
        let bad = |why: &str| SourceError::msg(format!("invalid OCI reference {reference:?}: {why}"));
        let rest = reference
            .strip_prefix("oci://")
            .ok_or_else(|| bad("must start with oci://"))?;
        let (rest, digest) = match rest.split_once('@') {
            Some((r, d)) => {
                if super::cache::hex_of(d).is_none() || !d.starts_with("sha256:") {
                    return Err(bad("digest must be sha256:<64 hex digits>"));
                }
                (r, Some(d.to_ascii_lowercase()))
            }
            None => (rest, None),
        };
        let (host, path) = rest
            .split_once('/')
            .ok_or_else(|| bad("no repository path after the host"))?;
        if host.is_empty() || path.is_empty() {
            return Err(bad("empty host or repository"));
        }
        let (repository, tag) = match path.rsplit_once(':') {
            Some((r, t)) if !t.contains('/') => (r.to_string(), Some(t.replace('+', "_"))),
            _ => (path.to_string(), None),
        };
        Ok(OciRef {
            host: host.to_string(),
            repository: repository.trim_end_matches('/').to_string(),
            tag,
            digest,
        })
    }

    /// The chart's name: the last path segment.
    pub fn chart_name(&self) -> &str {
        self.repository.rsplit('/').next().unwrap_or(&self.repository)
    }
}

/// Credentials of a registry host from Helm's registry config, then Docker's.
pub fn stored_credentials(host: &str) -> Option<Basic> {
    for p in [paths::registry_config(), paths::docker_config()] {
        if let Some(b) = credentials_in(&p, host) {
            return Some(b);
        }
    }
    None
}

fn credentials_in(path: &Path, host: &str) -> Option<Basic> {
    let text = std::fs::read_to_string(path).ok()?;
    let j: Json = serde_json::from_str(&text).ok()?;
    let auths = j.get("auths")?.as_object()?;
    let keys = [host.to_string(), format!("https://{host}"), format!("http://{host}")];
    let entry = keys.iter().find_map(|k| auths.get(k))?;
    let auth = entry.get("auth")?.as_str()?;
    let raw = base64::engine::general_purpose::STANDARD.decode(auth.trim()).ok()?;
    let (u, p) = std::str::from_utf8(&raw).ok()?.split_once(':')?;
    Some(Basic {
        username: u.to_string(),
        password: p.to_string(),
    })
}

/// Store (or with `None`, remove) a host's login in a docker config.json, keeping every other key.
pub fn store_credentials(path: &Path, host: &str, creds: Option<&Basic>) -> Result<bool> {
    let mut j: Json = match std::fs::read_to_string(path) {
        Ok(t) if !t.trim().is_empty() => {
            serde_json::from_str(&t).map_err(|e| SourceError::msg(format!("{}: {e}", path.display())))?
        }
        Ok(_) => serde_json::json!({}),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => serde_json::json!({}),
        Err(e) => return Err(SourceError::io(path.display(), e)),
    };
    let obj = j
        .as_object_mut()
        .ok_or_else(|| SourceError::msg(format!("{}: not a JSON object", path.display())))?;
    let auths = obj.entry("auths").or_insert_with(|| serde_json::json!({}));
    let auths = auths
        .as_object_mut()
        .ok_or_else(|| SourceError::msg(format!("{}: `auths` is not an object", path.display())))?;
    let changed = match creds {
        Some(c) => {
            let auth = base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", c.username, c.password));
            auths.insert(host.to_string(), serde_json::json!({ "auth": auth }));
            true
        }
        None => auths.remove(host).is_some(),
    };
    if changed {
        let text = serde_json::to_string_pretty(&j).unwrap_or_default();
        write_atomic(path, text.as_bytes())?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
        }
    }
    Ok(changed)
}

/// One registry request (what [`Registry::send`] needs to repeat it after an auth challenge).
pub(crate) struct Req<'a> {
    pub method: reqwest::Method,
    pub path: &'a str,
    pub accept: Option<&'a str>,
    pub content_type: Option<&'a str>,
    pub body: Option<Vec<u8>>,
}

/// A registry client for one host: scheme, TLS, credentials, the current Authorization header.
pub struct Registry {
    client: reqwest::Client,
    base: String,
    host: String,
    creds: Option<Basic>,
    auth_header: Option<String>,
}

impl Registry {
    pub fn new(host: &str, tls: &TlsOptions, plain_http: bool, creds: Option<Basic>) -> Result<Registry> {
        // Helm: --plain-http is ignored when any TLS flag is given.
        let scheme = if plain_http && !tls.is_set() { "http" } else { "https" };
        Ok(Registry {
            client: http::client(tls)?,
            base: format!("{scheme}://{host}"),
            host: host.to_string(),
            creds: creds.or_else(|| stored_credentials(host)),
            auth_header: remembered_auth(host),
        })
    }

    /// GET with the auth challenge answered once; returns the 2xx response.
    async fn get(&mut self, path: &str, accept: Option<&str>, scope: &str) -> Result<reqwest::Response> {
        let req = Req {
            method: reqwest::Method::GET,
            path,
            accept,
            content_type: None,
            body: None,
        };
        let resp = self.send(&req, scope).await?;
        Self::success(resp, "GET", &format!("{}{path}", self.base)).await
    }

    /// A non-2xx response as an error (the registry's error body included).
    pub(crate) async fn success(resp: reqwest::Response, method: &str, url: &str) -> Result<reqwest::Response> {
        if resp.status().is_success() {
            return Ok(resp);
        }
        let status = http::status_text(resp.status());
        let body = resp.text().await.unwrap_or_default();
        let hint = if status.starts_with("401") || status.starts_with("403") {
            " (check `chartup registry login` or --username/--password)"
        } else {
            ""
        };
        Err(SourceError::msg(format!(
            "{method} \"{url}\": response status code {status}: {}{hint}",
            body.trim()
        )))
    }

    /// Any request with the auth challenge answered once (`scope` when the challenge names none);
    /// the response whatever its status. `path` may also be an absolute URL (upload locations).
    pub(crate) async fn send(&mut self, r: &Req<'_>, scope: &str) -> Result<reqwest::Response> {
        let url = if r.path.starts_with("http://") || r.path.starts_with("https://") {
            r.path.to_string()
        } else {
            format!("{}{}", self.base, r.path)
        };
        for attempt in 0..2 {
            let mut req = self.client.request(r.method.clone(), &url);
            if let Some(a) = r.accept {
                req = req.header(reqwest::header::ACCEPT, a);
            }
            if let Some(c) = r.content_type {
                req = req.header(reqwest::header::CONTENT_TYPE, c);
            }
            if let Some(h) = &self.auth_header {
                req = req.header(reqwest::header::AUTHORIZATION, h);
            }
            if let Some(b) = &r.body {
                req = req.body(b.clone());
            }
            let resp = req
                .send()
                .await
                .map_err(|e| SourceError::msg(format!("{} \"{url}\": {}", r.method, http::chain(&e))))?;
            if resp.status() == reqwest::StatusCode::UNAUTHORIZED && attempt == 0 {
                let challenge = resp
                    .headers()
                    .get(reqwest::header::WWW_AUTHENTICATE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                self.answer(&challenge, scope).await?;
                remember_auth(&self.host, self.auth_header.clone());
                continue;
            }
            return Ok(resp);
        }
        Err(SourceError::msg(format!("{} \"{url}\": unauthorized", r.method)))
    }

    async fn answer(&mut self, challenge: &str, scope: &str) -> Result<()> {
        let (scheme, params) = parse_challenge(challenge);
        match scheme.to_ascii_lowercase().as_str() {
            "basic" => {
                let c = self.creds.clone().ok_or_else(|| {
                    SourceError::msg(format!(
                        "{}: 401 Unauthorized and no credentials (chartup registry login {})",
                        self.host, self.host
                    ))
                })?;
                let b = base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", c.username, c.password));
                self.auth_header = Some(format!("Basic {b}"));
                Ok(())
            }
            "bearer" => {
                let realm = params
                    .iter()
                    .find(|(k, _)| k == "realm")
                    .map(|(_, v)| v.clone())
                    .ok_or_else(|| {
                        SourceError::msg(format!("{}: bearer challenge without realm: {challenge}", self.host))
                    })?;
                let mut url = reqwest::Url::parse(&realm)
                    .map_err(|e| SourceError::msg(format!("{}: bad token realm {realm:?}: {e}", self.host)))?;
                {
                    let mut q = url.query_pairs_mut();
                    if let Some((_, s)) = params.iter().find(|(k, _)| k == "service") {
                        q.append_pair("service", s);
                    }
                    let sc = params
                        .iter()
                        .find(|(k, _)| k == "scope")
                        .map(|(_, v)| v.as_str())
                        .unwrap_or(scope);
                    if !sc.is_empty() {
                        q.append_pair("scope", sc);
                    }
                }
                let bytes = http::get(&self.client, url.as_str(), self.creds.as_ref(), None)
                    .await
                    .map_err(|e| SourceError::msg(format!("{}: token request failed: {e}", self.host)))?;
                let j: Json = serde_json::from_slice(&bytes)
                    .map_err(|e| SourceError::msg(format!("{}: token response: {e}", self.host)))?;
                let tok = j
                    .get("token")
                    .or_else(|| j.get("access_token"))
                    .and_then(|t| t.as_str())
                    .ok_or_else(|| SourceError::msg(format!("{}: token response without token", self.host)))?;
                self.auth_header = Some(format!("Bearer {tok}"));
                Ok(())
            }
            _ => Err(SourceError::msg(format!(
                "{}: 401 Unauthorized (challenge {challenge:?})",
                self.host
            ))),
        }
    }

    /// `GET /v2/` with auth: what `registry login` checks.
    pub async fn ping(&mut self) -> Result<()> {
        self.get("/v2/", None, "").await.map(|_| ())
    }

    /// Tags mapped `_`→`+`, only strict SemVer, sorted descending (Helm's `Tags()`).
    pub async fn tags(&mut self, repository: &str) -> Result<Vec<String>> {
        let scope = format!("repository:{repository}:pull");
        let mut path = format!("/v2/{repository}/tags/list");
        let mut out = Vec::new();
        loop {
            let resp = self.get(&path, None, &scope).await?;
            let next = resp
                .headers()
                .get(reqwest::header::LINK)
                .and_then(|v| v.to_str().ok())
                .and_then(|l| {
                    l.split_once('<')
                        .and_then(|(_, r)| r.split_once('>'))
                        .map(|(u, _)| u.to_string())
                });
            let body = http::read_body(resp, &path).await?;
            let j: Json = serde_json::from_slice(&body).map_err(|e| SourceError::msg(format!("{path}: {e}")))?;
            for t in j.get("tags").and_then(|t| t.as_array()).into_iter().flatten() {
                if let Some(s) = t.as_str() {
                    out.push(s.replace('_', "+"));
                }
            }
            match next {
                Some(n) if n.starts_with('/') => path = n,
                _ => break,
            }
        }
        let mut vs: Vec<(Version, String)> = out
            .into_iter()
            .filter(|t| is_strict_semver(t))
            .filter_map(|t| Version::parse(&t).ok().map(|v| (v, t)))
            .collect();
        vs.sort_by(|a, b| b.0.cmp(&a.0));
        Ok(vs.into_iter().map(|(_, t)| t).collect())
    }

    /// The manifest at a tag or digest, and its digest.
    pub async fn manifest(&mut self, repository: &str, reference: &str) -> Result<(Json, String)> {
        let scope = format!("repository:{repository}:pull");
        let path = format!("/v2/{repository}/manifests/{reference}");
        let accept = format!("{MANIFEST_MEDIA_TYPE}, application/vnd.docker.distribution.manifest.v2+json");
        let resp = self.get(&path, Some(&accept), &scope).await?;
        let body = http::read_body(resp, &path).await?;
        let digest = format!("sha256:{}", sha256_hex(&body));
        if reference.starts_with("sha256:") && reference != digest {
            return Err(SourceError::msg(format!(
                "{}{path}: manifest digest mismatch: asked for {reference}, got {digest}",
                self.base
            )));
        }
        let j: Json = serde_json::from_slice(&body).map_err(|e| SourceError::msg(format!("{path}: {e}")))?;
        Ok((j, digest))
    }

    /// A blob, checked against its digest.
    pub async fn blob(&mut self, repository: &str, digest: &str) -> Result<Vec<u8>> {
        let scope = format!("repository:{repository}:pull");
        let path = format!("/v2/{repository}/blobs/{digest}");
        let resp = self.get(&path, None, &scope).await?;
        let body = http::read_body(resp, &path).await?;
        let got = format!("sha256:{}", sha256_hex(&body));
        if got != digest {
            return Err(SourceError::msg(format!(
                "{}{path}: digest mismatch: expected {digest}, got {got}",
                self.base
            )));
        }
        Ok(body)
    }
}

/// The Authorization header that last worked for a host, for this process: later requests (the next
/// dependency, the blob after the manifest) skip the 401 round trip; a stale one just gets a new
/// challenge.
fn auth_memo() -> &'static std::sync::Mutex<std::collections::HashMap<String, String>> {
    static M: std::sync::OnceLock<std::sync::Mutex<std::collections::HashMap<String, String>>> =
        std::sync::OnceLock::new();
    M.get_or_init(Default::default)
}

fn remembered_auth(host: &str) -> Option<String> {
    auth_memo().lock().ok()?.get(host).cloned()
}

fn remember_auth(host: &str, header: Option<String>) {
    if let (Ok(mut m), Some(h)) = (auth_memo().lock(), header) {
        m.insert(host.to_string(), h);
    }
}

/// Masterminds `StrictNewVersion`: exactly MAJOR.MINOR.PATCH[-pre][+meta], no `v`.
fn is_strict_semver(s: &str) -> bool {
    let core = s.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && (p.len() == 1 || !p.starts_with('0')))
        && Version::parse(s).is_ok()
}

/// `Bearer realm="…",service="…"` → ("Bearer", [(realm, …), (service, …)]).
pub fn parse_challenge(h: &str) -> (String, Vec<(String, String)>) {
    let h = h.trim();
    let (scheme, rest) = h.split_once(' ').unwrap_or((h, ""));
    let mut params = Vec::new();
    let mut s = rest.trim();
    while !s.is_empty() {
        let Some((k, after)) = s.split_once('=') else { break };
        let k = k.trim().trim_start_matches(',').trim().to_ascii_lowercase();
        let after = after.trim_start();
        let (v, tail) = if let Some(q) = after.strip_prefix('"') {
            let end = q.find('"').unwrap_or(q.len());
            (q[..end].to_string(), q.get(end + 1..).unwrap_or(""))
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim().to_string(), &after[end..])
        };
        params.push((k, v));
        s = tail.trim_start_matches([',', ' ']);
    }
    (scheme.to_string(), params)
}

/// A chart pulled from a registry.
#[derive(Debug, Clone)]
pub struct Pulled {
    pub path: PathBuf,
    pub version: String,
    /// The manifest digest (what `oci://…@sha256:` pins).
    pub manifest_digest: String,
    /// The chart layer's digest (the archive's sha256).
    pub chart_digest: String,
    /// The provenance layer, when asked for and present (`None` when missing).
    pub prov: Option<Vec<u8>>,
    /// `<chart>-<version>.tgz`: the file name a `.prov` vouches for (helm names OCI pulls so).
    pub file_name: String,
    /// `oci://host/repo:tag.prov`, how helm names the provenance it asks for.
    pub prov_url: String,
}

impl Pulled {
    /// The provenance layer, or why there is none in helm's words.
    pub fn prov_or_missing(&self) -> std::result::Result<Vec<u8>, String> {
        self.prov.clone().ok_or_else(|| {
            format!(
                "failed to fetch provenance \"{}\" (manifest does not contain a layer with mediatype {PROV_LAYER_MEDIA_TYPE})",
                self.prov_url
            )
        })
    }
}

/// Resolve `--version` against the reference and the registry's tags (Helm's `ValidateReference`);
/// with `want_prov`, the provenance layer too (cached beside the archive).
#[allow(clippy::too_many_arguments)]
pub async fn pull(
    reference: &str,
    version: Option<&str>,
    devel: bool,
    tls: &TlsOptions,
    plain_http: bool,
    creds: Option<Basic>,
    cache: &ContentCache,
    want_prov: bool,
) -> Result<Pulled> {
    let r = OciRef::parse(reference)?;
    let mut reg = Registry::new(&r.host, tls, plain_http, creds)?;
    let version = version.map(str::trim).filter(|v| !v.is_empty());
    let tag = match (&r.tag, version) {
        (Some(t), Some(v)) if t.replace('_', "+") != v => {
            return Err(SourceError::msg(format!(
                "chart reference and version mismatch: {v} is not {}",
                t.replace('_', "+")
            )))
        }
        (Some(t), _) => Some(t.replace('+', "_")),
        (None, Some(v)) if Version::parse(v).is_ok() => Some(v.replace('+', "_")),
        (None, v) if r.digest.is_some() && v.is_none() => None,
        (None, v) => {
            let want = v.unwrap_or("");
            let tags = reg
                .tags(&r.repository)
                .await
                .map_err(|e| SourceError::msg(format!("{reference}: {e}")))?;
            if tags.is_empty() {
                return Err(SourceError::msg(format!(
                    "unable to locate any tags in provided repository: {reference}"
                )));
            }
            let c = super::repo::constraint(want, devel).map_err(|e| SourceError::msg(format!("{reference}: {e}")))?;
            let found = tags.iter().find(|t| *t == want).or_else(|| {
                tags.iter()
                    .find(|t| Version::parse(t).map(|v| c.matches(&v)).unwrap_or(false))
            });
            match found {
                Some(t) => Some(t.replace('+', "_")),
                None => {
                    return Err(SourceError::msg(format!(
                        "{reference}: could not locate a version matching provided version string {want}{}",
                        super::repo::nearest(tags.iter().map(String::as_str), want)
                    )))
                }
            }
        }
    };
    let at = match (&tag, &r.digest) {
        (_, Some(d)) => d.clone(),
        (Some(t), None) => t.clone(),
        (None, None) => {
            return Err(SourceError::msg(format!(
                "{reference}: no tag, version or digest to pull"
            )))
        }
    };
    let (manifest, mdigest) = reg
        .manifest(&r.repository, &at)
        .await
        .map_err(|e| SourceError::msg(format!("{reference}: {e}")))?;
    if let (Some(t), Some(d)) = (&tag, &r.digest) {
        // Both a version and a digest: the tag must point at the same manifest.
        if let Ok((_, td)) = reg.manifest(&r.repository, t).await {
            if &td != d {
                return Err(SourceError::msg(format!(
                    "chart reference digest mismatch: {td} is not {d}"
                )));
            }
        }
    }
    let config = manifest
        .get("config")
        .and_then(|c| c.get("mediaType"))
        .and_then(|m| m.as_str())
        .unwrap_or("");
    if config != CONFIG_MEDIA_TYPE {
        return Err(SourceError::msg(format!(
            "{reference}: could not load config with mediatype {CONFIG_MEDIA_TYPE}"
        )));
    }
    let layers = manifest
        .get("layers")
        .and_then(|l| l.as_array())
        .cloned()
        .unwrap_or_default();
    let layer = layers
        .iter()
        .find(|l| l.get("mediaType").and_then(|m| m.as_str()) == Some(CHART_LAYER_MEDIA_TYPE))
        .or_else(|| {
            layers
                .iter()
                .find(|l| l.get("mediaType").and_then(|m| m.as_str()) == Some(LEGACY_CHART_LAYER_MEDIA_TYPE))
        })
        .ok_or_else(|| {
            SourceError::msg(format!(
                "{reference}: manifest does not contain a layer with mediatype {CHART_LAYER_MEDIA_TYPE}"
            ))
        })?;
    let ldigest = layer.get("digest").and_then(|d| d.as_str()).unwrap_or("").to_string();
    let path = match cache.get(&ldigest) {
        Some(p) => p,
        None => {
            let bytes = reg
                .blob(&r.repository, &ldigest)
                .await
                .map_err(|e| SourceError::msg(format!("{reference}: {e}")))?;
            cache.put(&bytes, Some(&ldigest), reference)?.0
        }
    };
    let version = manifest
        .get("annotations")
        .and_then(|a| a.get("org.opencontainers.image.version"))
        .and_then(|v| v.as_str())
        .map(str::to_string)
        .or_else(|| tag.as_ref().map(|t| t.replace('_', "+")))
        .unwrap_or_default();
    let mut prov = None;
    if want_prov {
        prov = cache.get_prov(&ldigest);
        let layer = layers
            .iter()
            .find(|l| l.get("mediaType").and_then(|m| m.as_str()) == Some(PROV_LAYER_MEDIA_TYPE));
        if let (None, Some(l)) = (&prov, layer) {
            let pdigest = l.get("digest").and_then(|d| d.as_str()).unwrap_or("");
            let bytes = reg
                .blob(&r.repository, pdigest)
                .await
                .map_err(|e| SourceError::msg(format!("{reference}: {e}")))?;
            cache.put_prov(&ldigest, &bytes)?;
            prov = Some(bytes);
        }
    }
    // helm: the ref's base name `<chart>:<tag>` becomes `<chart>-<tag>.tgz`.
    let shown_tag = tag
        .as_ref()
        .map(|t| t.replace('_', "+"))
        .unwrap_or_else(|| version.clone());
    let file_name = format!("{}-{shown_tag}.tgz", r.chart_name());
    let prov_url = format!("oci://{}/{}:{shown_tag}.prov", r.host, r.repository);
    Ok(Pulled {
        path,
        version,
        manifest_digest: mdigest,
        chart_digest: ldigest,
        prov,
        file_name,
        prov_url,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_parse() {
        let r = OciRef::parse("oci://localhost:5000/charts/demo:1.0.0+b1").unwrap();
        assert_eq!(r.host, "localhost:5000");
        assert_eq!(r.repository, "charts/demo");
        assert_eq!(r.tag.as_deref(), Some("1.0.0_b1"));
        assert_eq!(r.chart_name(), "demo");
        let d = format!("sha256:{}", "a".repeat(64));
        let r = OciRef::parse(&format!("oci://h/x/demo@{d}")).unwrap();
        assert_eq!((r.tag, r.digest), (None, Some(d)));
        assert!(OciRef::parse("oci://h").is_err());
        assert!(OciRef::parse("oci://h/x@sha256:12").is_err());
    }

    #[test]
    fn challenges_parse() {
        let (s, p) = parse_challenge(r#"Bearer realm="https://a/token",service="reg",scope="repository:x:pull""#);
        assert_eq!(s, "Bearer");
        assert_eq!(p[0], ("realm".into(), "https://a/token".into()));
        assert_eq!(p[2], ("scope".into(), "repository:x:pull".into()));
        assert_eq!(
            parse_challenge("Basic realm=\"Registry Realm\"").1[0].1,
            "Registry Realm"
        );
    }

    #[test]
    fn strict_semver_tags() {
        assert!(is_strict_semver("1.2.3"));
        assert!(is_strict_semver("1.2.3-rc.1+b"));
        assert!(!is_strict_semver("v1.2.3"));
        assert!(!is_strict_semver("1.2"));
        assert!(!is_strict_semver("latest"));
    }
}
