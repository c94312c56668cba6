//! `chartup push CHART.tgz oci://host/path` as `helm push` (helm's `pkg/pusher/ocipusher.go` and
//! `registry.Client.Push`): the archive becomes the chart layer, its `.prov` (when one lies beside
//! it) the provenance layer, Chart.yaml as helm's loader reads it the config blob (Go's
//! `json.Marshal(chart.Metadata)`: struct field order, `omitempty`, HTML-safe escapes), layers
//! sorted by digest, and the manifest's annotations helm's (`org.opencontainers.image.*`, `created`
//! = the archive's modification time), so the manifest — and so its digest — is the one helm
//! would push for the same file. The ref is `<path>/<chart name>:<version>` with `+` written `_`.
//!
//! The upload is the distribution API's monolithic one (HEAD the blob, else POST + PUT, then PUT
//! the manifest), through the same client and auth challenge as pulls.

use std::path::Path;

use crate::chart::metadata::{Dependency, Metadata};
use crate::yaml::json::{self, Json};

use super::oci::{
    OciRef, Registry, Req, CHART_LAYER_MEDIA_TYPE, CONFIG_MEDIA_TYPE, MANIFEST_MEDIA_TYPE, PROV_LAYER_MEDIA_TYPE,
};
use super::{http::Basic, sha256_hex, Result, SourceError, TlsOptions};

/// What was pushed: `host/repo:tag` and the manifest digest (what `helm push` prints).
#[derive(Debug, Clone)]
pub struct Pushed {
    pub reference: String,
    pub manifest_digest: String,
    pub manifest: Vec<u8>,
}

fn s(v: &str) -> Json {
    Json::Str(v.to_string())
}

/// Go's `json.Marshal` of a `chart.Dependency` (field order, `omitempty`).
fn dependency(d: &Dependency) -> Result<Json> {
    let mut o = vec![("name".to_string(), s(&d.name))];
    let mut opt = |k: &str, v: &str| {
        if !v.is_empty() {
            o.push((k.to_string(), s(v)));
        }
    };
    opt("version", &d.version);
    opt("repository", &d.repository);
    opt("condition", &d.condition);
    if !d.tags.is_empty() {
        o.push(("tags".into(), Json::Arr(d.tags.iter().map(|t| s(t)).collect())));
    }
    if d.enabled {
        o.push(("enabled".into(), Json::Bool(true)));
    }
    if !d.import_values.is_empty() {
        let iv = d
            .import_values
            .iter()
            .map(json::to_tree)
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(SourceError::msg)?;
        o.push(("import-values".into(), Json::Arr(iv)));
    }
    if !d.alias.is_empty() {
        o.push(("alias".into(), s(&d.alias)));
    }
    Ok(Json::Obj(o))
}

/// Go's `json.Marshal(chart.Metadata)`: the config blob.
pub fn config_json(m: &Metadata) -> Result<String> {
    let mut o: Vec<(String, Json)> = Vec::new();
    let str_field = |o: &mut Vec<(String, Json)>, k: &str, v: &str| {
        if !v.is_empty() {
            o.push((k.to_string(), s(v)));
        }
    };
    let list = |o: &mut Vec<(String, Json)>, k: &str, v: &[String]| {
        if !v.is_empty() {
            o.push((k.to_string(), Json::Arr(v.iter().map(|x| s(x)).collect())));
        }
    };
    str_field(&mut o, "name", &m.name);
    str_field(&mut o, "home", &m.home);
    list(&mut o, "sources", &m.sources);
    str_field(&mut o, "version", &m.version);
    str_field(&mut o, "description", &m.description);
    list(&mut o, "keywords", &m.keywords);
    if !m.maintainers.is_empty() {
        let ms = m
            .maintainers
            .iter()
            .map(|mm| match mm {
                None => Json::Null,
                Some(mm) => {
                    let mut e = Vec::new();
                    str_field(&mut e, "name", &mm.name);
                    str_field(&mut e, "email", &mm.email);
                    str_field(&mut e, "url", &mm.url);
                    Json::Obj(e)
                }
            })
            .collect();
        o.push(("maintainers".into(), Json::Arr(ms)));
    }
    str_field(&mut o, "icon", &m.icon);
    str_field(&mut o, "apiVersion", &m.api_version);
    str_field(&mut o, "condition", &m.condition);
    str_field(&mut o, "tags", &m.tags);
    str_field(&mut o, "appVersion", &m.app_version);
    if m.deprecated {
        o.push(("deprecated".into(), Json::Bool(true)));
    }
    if !m.annotations.is_empty() {
        // A BTreeMap: Go sorts map keys by bytes too.
        o.push((
            "annotations".into(),
            Json::Obj(m.annotations.iter().map(|(k, v)| (k.clone(), s(v))).collect()),
        ));
    }
    str_field(&mut o, "kubeVersion", &m.kube_version);
    if !m.dependencies.is_empty() {
        let ds = m
            .dependencies
            .iter()
            .map(|d| d.as_ref().map(dependency).unwrap_or(Ok(Json::Null)))
            .collect::<Result<Vec<_>>>()?;
        o.push(("dependencies".into(), Json::Arr(ds)));
    }
    str_field(&mut o, "type", &m.chart_type);
    let mut out = String::new();
    json::write_tree(&mut out, &Json::Obj(o), true, None);
    Ok(out)
}

/// helm's `generateOCIAnnotations`: chart fields (empty ones left out), then the chart's own
/// annotations except title and version.
pub fn annotations(m: &Metadata, created: &str) -> std::collections::BTreeMap<String, String> {
    let mut a = std::collections::BTreeMap::new();
    let mut add = |k: &str, v: &str| {
        if !v.trim().is_empty() {
            a.insert(format!("org.opencontainers.image.{k}"), v.to_string());
        }
    };
    add("description", &m.description);
    add("title", &m.name);
    add("version", &m.version);
    add("url", &m.home);
    add("created", created);
    if let Some(src) = m.sources.first() {
        add("source", src);
    }
    if !m.maintainers.is_empty() {
        let authors: Vec<String> = m
            .maintainers
            .iter()
            .map(|mm| {
                let mm = mm.clone().unwrap_or_default();
                let mut x = mm.name.clone();
                if !mm.email.is_empty() {
                    x.push_str(&format!(" ({})", mm.email));
                }
                x
            })
            .collect();
        add("authors", &authors.join(", "));
    }
    for (k, v) in &m.annotations {
        if k != "org.opencontainers.image.version" && k != "org.opencontainers.image.title" {
            a.insert(k.clone(), v.clone());
        }
    }
    a
}

/// Go's `time.Format(time.RFC3339)` of a file's modification time in the local zone (`Z` at
/// offset zero), as helm stamps `created`.
fn rfc3339_local(t: std::time::SystemTime) -> Result<String> {
    let ts = jiff::Timestamp::try_from(t).map_err(|e| SourceError::msg(format!("archive time: {e}")))?;
    let z = ts.to_zoned(jiff::tz::TimeZone::system());
    let off = z.offset().seconds();
    let zone = if off == 0 {
        "Z".to_string()
    } else {
        let a = off.unsigned_abs();
        format!(
            "{}{:02}:{:02}",
            if off < 0 { '-' } else { '+' },
            a / 3600,
            (a % 3600) / 60
        )
    };
    Ok(format!("{}{zone}", z.strftime("%Y-%m-%dT%H:%M:%S")))
}

fn descriptor(media_type: &str, bytes: &[u8]) -> Json {
    Json::Obj(vec![
        ("mediaType".into(), s(media_type)),
        ("digest".into(), s(&format!("sha256:{}", sha256_hex(bytes)))),
        ("size".into(), Json::Num(bytes.len().to_string())),
    ])
}

/// The manifest helm would push for these blobs (Go's `json.Marshal(ocispec.Manifest)`).
pub fn manifest(
    config: &[u8],
    chart: &[u8],
    prov: Option<&[u8]>,
    annotations: &std::collections::BTreeMap<String, String>,
) -> Vec<u8> {
    let mut layers = vec![(sha256_hex(chart), descriptor(CHART_LAYER_MEDIA_TYPE, chart))];
    if let Some(p) = prov {
        layers.push((sha256_hex(p), descriptor(PROV_LAYER_MEDIA_TYPE, p)));
    }
    layers.sort_by(|a, b| a.0.cmp(&b.0));
    let mut o = vec![
        ("schemaVersion".to_string(), Json::Num("2".into())),
        ("config".into(), descriptor(CONFIG_MEDIA_TYPE, config)),
        ("layers".into(), Json::Arr(layers.into_iter().map(|l| l.1).collect())),
    ];
    if !annotations.is_empty() {
        o.push((
            "annotations".into(),
            Json::Obj(annotations.iter().map(|(k, v)| (k.clone(), s(v))).collect()),
        ));
    }
    let mut out = String::new();
    json::write_tree(&mut out, &Json::Obj(o), true, None);
    out.into_bytes()
}

/// Push `archive` (and `<archive>.prov` when present) under `remote` (`oci://host/path`).
pub fn push(archive: &Path, remote: &str, tls: &TlsOptions, plain_http: bool, creds: Option<Basic>) -> Result<Pushed> {
    let shown = archive.display();
    let meta = std::fs::metadata(archive).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => SourceError::msg(format!("{shown}: no such file")),
        _ => SourceError::io(&shown, e),
    })?;
    if meta.is_dir() {
        return Err(SourceError::msg(format!(
            "{shown}: cannot push directory, must provide chart archive (.tgz)"
        )));
    }
    if !remote.starts_with("oci://") {
        return Err(SourceError::msg(format!(
            "{remote}: scheme prefix missing from remote (e.g. \"oci://\")"
        )));
    }
    let chart = crate::chart::load(archive).map_err(|e| SourceError::msg(format!("{shown}: {e}")))?;
    let m = &chart.metadata;
    let bytes = std::fs::read(archive).map_err(|e| SourceError::io(&shown, e))?;
    let mut prov_path = archive.as_os_str().to_owned();
    prov_path.push(".prov");
    let prov = match std::fs::read(&prov_path) {
        Ok(b) => Some(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(SourceError::io(Path::new(&prov_path).display(), e)),
    };
    let created = rfc3339_local(meta.modified().map_err(|e| SourceError::io(&shown, e))?)?;
    let config = config_json(m)?.into_bytes();
    let manifest = manifest(&config, &bytes, prov.as_deref(), &annotations(m, &created));
    let base = remote.trim_end_matches('/');
    let r = OciRef::parse(&format!("{base}/{}:{}", m.name, m.version))?;
    let tag = r.tag.clone().unwrap_or_default();
    let mut reg = Registry::new(&r.host, tls, plain_http, creds)?;
    let repo = r.repository.clone();
    let (tag2, manifest2) = (tag.clone(), manifest.clone());
    super::block_on(async move {
        let (tag, manifest) = (tag2, manifest2);
        let scope = format!("repository:{repo}:pull,push");
        let mut blobs: Vec<&[u8]> = vec![&config, &bytes];
        if let Some(p) = &prov {
            blobs.push(p);
        }
        for b in blobs {
            upload_blob(&mut reg, &repo, b, &scope).await?;
        }
        let path = format!("/v2/{repo}/manifests/{tag}");
        let req = Req {
            method: reqwest::Method::PUT,
            path: &path,
            accept: None,
            content_type: Some(MANIFEST_MEDIA_TYPE),
            body: Some(manifest.clone()),
        };
        let resp = reg.send(&req, &scope).await?;
        Registry::success(resp, "PUT", &path).await?;
        Ok(())
    })
    .map_err(|e| SourceError::msg(format!("pushing {shown} to {remote}: {e}")))?;
    Ok(Pushed {
        reference: format!("{}/{}:{}", r.host, r.repository, tag),
        manifest_digest: format!("sha256:{}", sha256_hex(&manifest)),
        manifest,
    })
}

/// HEAD the blob; when missing, a monolithic upload (POST, then PUT to the location with the digest).
async fn upload_blob(reg: &mut Registry, repo: &str, bytes: &[u8], scope: &str) -> Result<()> {
    let digest = format!("sha256:{}", sha256_hex(bytes));
    let path = format!("/v2/{repo}/blobs/{digest}");
    let head = Req {
        method: reqwest::Method::HEAD,
        path: &path,
        accept: None,
        content_type: None,
        body: None,
    };
    if reg.send(&head, scope).await?.status().is_success() {
        return Ok(());
    }
    let start = format!("/v2/{repo}/blobs/uploads/");
    let post = Req {
        method: reqwest::Method::POST,
        path: &start,
        accept: None,
        content_type: None,
        body: Some(Vec::new()),
    };
    let resp = Registry::success(reg.send(&post, scope).await?, "POST", &start).await?;
    let location = resp
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| SourceError::msg(format!("POST {start}: no Location for the upload")))?
        .to_string();
    let sep = if location.contains('?') { '&' } else { '?' };
    let put_url = format!("{location}{sep}digest={digest}");
    let put = Req {
        method: reqwest::Method::PUT,
        path: &put_url,
        accept: None,
        content_type: Some("application/octet-stream"),
        body: Some(bytes.to_vec()),
    };
    Registry::success(reg.send(&put, scope).await?, "PUT", &put_url).await?;
    Ok(())
}
