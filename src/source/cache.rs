//! Downloaded archives by sha256, in Helm 4's content-cache layout
//! (`<content>/<first byte hex>/<64 hex>.chart`, `.prov` beside it), so helm 4 and chartup reuse
//! each other's downloads. Files are written to a temp file in the same directory and renamed into
//! place: concurrent runs race harmlessly (same bytes, atomic rename) and an interrupted download
//! never leaves a partial entry. A zero-length file counts as a miss, as in Helm.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{paths, sha256_hex, Result, SourceError};

#[derive(Debug, Clone)]
pub struct ContentCache {
    root: PathBuf,
}

impl Default for ContentCache {
    fn default() -> Self {
        ContentCache {
            root: paths::content_cache(),
        }
    }
}

/// `sha256:<hex>` or `<hex>` → the 64 lower-case hex digits, when well formed.
pub fn hex_of(digest: &str) -> Option<String> {
    let h = digest.strip_prefix("sha256:").unwrap_or(digest).to_ascii_lowercase();
    (h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit())).then_some(h)
}

impl ContentCache {
    pub fn at(root: PathBuf) -> ContentCache {
        ContentCache { root }
    }

    pub fn path(&self, hex: &str, ext: &str) -> PathBuf {
        self.root.join(&hex[..2]).join(format!("{hex}.{ext}"))
    }

    /// The cached archive for this digest, if present and non-empty.
    pub fn get(&self, digest: &str) -> Option<PathBuf> {
        let hex = hex_of(digest)?;
        let p = self.path(&hex, "chart");
        match std::fs::metadata(&p) {
            Ok(m) if m.len() > 0 => Some(p),
            _ => None,
        }
    }

    /// The cached `.prov` stored for an archive's digest, if present and non-empty.
    pub fn get_prov(&self, digest: &str) -> Option<Vec<u8>> {
        let hex = hex_of(digest)?;
        std::fs::read(self.path(&hex, "prov")).ok().filter(|b| !b.is_empty())
    }

    /// Store a `.prov` beside the archive with this digest (helm's `CacheProv` entry).
    pub fn put_prov(&self, digest: &str, bytes: &[u8]) -> Result<()> {
        let hex = hex_of(digest).ok_or_else(|| SourceError::msg(format!("malformed digest {digest:?}")))?;
        write_atomic(&self.path(&hex, "prov"), bytes)
    }

    /// Store bytes under their own sha256 (checked against `expected` first when given).
    pub fn put(&self, bytes: &[u8], expected: Option<&str>, what: &str) -> Result<(PathBuf, String)> {
        let hex = sha256_hex(bytes);
        if let Some(exp) = expected {
            let want = hex_of(exp).ok_or_else(|| SourceError::msg(format!("{what}: malformed digest {exp:?}")))?;
            if want != hex {
                return Err(SourceError::msg(format!(
                    "{what}: digest mismatch: expected sha256:{want}, downloaded sha256:{hex} ({} bytes); nothing was cached",
                    bytes.len()
                )));
            }
        }
        let p = self.path(&hex, "chart");
        // Already there (named by its own sha256, same length): nothing to write — a `file://`
        // dependency is packed and stored on every build.
        let present = std::fs::metadata(&p).map(|m| m.len() == bytes.len() as u64 && m.len() > 0);
        if !present.unwrap_or(false) {
            write_atomic(&p, bytes)?;
        }
        Ok((p, format!("sha256:{hex}")))
    }
}

/// Write via a unique temp file in the target's directory, fsync, then rename into place.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_via_rename(path, bytes, true)
}

/// [`write_atomic`] without the fsync, for derived files that are cheap to lose in a crash:
/// concurrent readers still see the old or the new file, never a part of one.
pub fn write_atomic_unsynced(path: &Path, bytes: &[u8]) -> Result<()> {
    write_via_rename(path, bytes, false)
}

fn write_via_rename(path: &Path, bytes: &[u8], sync: bool) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| SourceError::io(dir.display(), e))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file"),
        std::process::id(),
        unique()
    ));
    let res = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        if sync {
            f.sync_all()?;
        }
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = res {
        let _ = std::fs::remove_file(&tmp);
        return Err(SourceError::io(path.display(), e));
    }
    Ok(())
}

/// A per-process counter so two threads never share a temp name.
pub fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    t ^ (N.fetch_add(1, Ordering::Relaxed) << 48)
}

/// sha256 over a chart: an archive's bytes, or a directory's files (sorted relative paths and
/// contents; `.git` skipped).
pub fn chart_digest(chart: &Path) -> Result<String> {
    if chart.is_file() {
        let bytes = std::fs::read(chart).map_err(|e| SourceError::io(chart.display(), e))?;
        return Ok(format!("sha256:{}", sha256_hex(&bytes)));
    }
    let mut files = Vec::new();
    collect(chart, chart, &mut files).map_err(|e| SourceError::io(chart.display(), e))?;
    files.sort();
    let mut body = Vec::new();
    for rel in files {
        let bytes = std::fs::read(chart.join(&rel)).map_err(|e| SourceError::io(&rel, e))?;
        body.extend_from_slice(rel.as_bytes());
        body.push(0);
        body.extend_from_slice(sha256_hex(&bytes).as_bytes());
        body.push(b'\n');
    }
    Ok(format!("sha256:{}", sha256_hex(&body)))
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let p = e.path();
        if e.file_name() == ".git" {
            continue;
        }
        let ft = e.file_type()?;
        if ft.is_dir() {
            collect(root, &p, out)?;
        } else if ft.is_file() {
            if let Ok(rel) = p.strip_prefix(root) {
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    Ok(())
}

/// Fetch an archive into the content cache: a cache hit on the index digest needs no network; a
/// download is checked against the index digest before it is stored.
pub async fn fetch(
    reference: &str,
    url: &str,
    index_digest: &str,
    tls: &super::TlsOptions,
    creds: Option<&super::http::Basic>,
    opts: &super::FetchOptions,
    cache: &ContentCache,
) -> Result<(PathBuf, String)> {
    if let Some(hex) = hex_of(index_digest) {
        if let Some(p) = cache.get(&hex) {
            return Ok((p, format!("sha256:{hex}")));
        }
    }
    if opts.offline {
        return Err(SourceError::msg(format!(
            "{reference}: {url} is not in the cache and --offline forbids downloading"
        )));
    }
    let client = super::http::client(tls)?;
    let bytes = super::http::get(&client, url, creds, Some("application/gzip,application/octet-stream"))
        .await
        .map_err(|e| SourceError::msg(format!("{reference}: {e}")))?;
    let expected = hex_of(index_digest);
    cache.put(&bytes, expected.as_deref(), &format!("{reference} ({url})"))
}

/// `--verify` of an archive fetched from a repository URL: the `.prov` from the content cache, else
/// `<url>.prov` with the same credentials and TLS (cached beside the archive), checked under the
/// URL's file name as helm does. Returns the line to tell the user.
#[allow(clippy::too_many_arguments)]
pub async fn verify_download(
    reference: &str,
    url: &str,
    archive: &Path,
    digest: &str,
    tls: &super::TlsOptions,
    creds: Option<&super::http::Basic>,
    opts: &super::FetchOptions,
    cache: &ContentCache,
) -> Result<String> {
    let prov_url = format!("{url}.prov");
    let prov = match cache.get_prov(digest) {
        Some(b) => Ok(b),
        None if opts.offline => Err(format!(
            "{prov_url} is not in the cache and --offline forbids downloading"
        )),
        None => {
            let client = super::http::client(tls)?;
            match super::http::get(&client, &prov_url, creds, None).await {
                Ok(b) => {
                    cache.put_prov(digest, &b)?;
                    Ok(b)
                }
                Err(e) => Err(format!("failed to fetch provenance \"{prov_url}\" ({e})")),
            }
        }
    };
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let name = path.rsplit('/').next().unwrap_or(path);
    super::provenance::check_fetched(reference, archive, prov, name, opts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_checks_the_digest_and_leaves_nothing_on_mismatch() {
        let dir = tempfile::tempdir().unwrap();
        let c = ContentCache::at(dir.path().to_path_buf());
        // sha256("abc") from FIPS 180-2's example.
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        let (p, d) = c.put(b"abc", Some(abc), "t").unwrap();
        assert_eq!(d, format!("sha256:{abc}"));
        assert_eq!(p, dir.path().join("ba").join(format!("{abc}.chart")));
        assert_eq!(c.get(&d), Some(p));
        let err = c.put(b"abd", Some(abc), "ref x").unwrap_err().to_string();
        assert!(err.contains("ref x: digest mismatch"), "{err}");
        let files: Vec<_> = walk(dir.path());
        assert_eq!(files.len(), 1, "{files:?}");
    }

    fn walk(d: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
        out
    }
}
