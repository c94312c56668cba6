//! Helm chart repositories: Helm's repositories.yaml (read and written in Helm's own shape, every
//! key present, sorted as sigs.k8s.io/yaml writes them), the index cache
//! (`<cache>/<name>-index.yaml`, `<name>-charts.txt`), index.yaml in its YAML and JSON forms, and
//! version selection with Helm's rules (`IndexFile.Get`: exact string first, else the highest
//! SemVer satisfying the constraint; no constraint = latest stable, `--devel` = `>0.0.0-0`).
//!
//! The index is deserialised into a struct that keeps only what resolution needs (name, version,
//! urls, digest): serde skips the rest of each entry's metadata without building it. Parsing a
//! public catalogue's 13 MB of YAML still takes most of a second, so what a parse keeps is also
//! memoised as JSON under `<helm cache>/chartup/index/`, keyed by the index file's identity (size,
//! mtime, inode: every writer replaces the file by rename); a changed or unreadable memo is simply
//! parsed again, and helm's own cache files are left exactly as helm writes them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer};

use super::cache::{write_atomic, write_atomic_unsynced};
use super::http::{self, Basic};
use super::{paths, Result, SourceError, TlsOptions};
use crate::version::{Constraints, Version};
use crate::yaml::json::Json;

/// One repositories.yaml entry (`repo.Entry`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Entry {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub password: String,
    #[serde(default, rename = "certFile")]
    pub cert_file: String,
    #[serde(default, rename = "keyFile")]
    pub key_file: String,
    #[serde(default, rename = "caFile")]
    pub ca_file: String,
    #[serde(default)]
    pub insecure_skip_tls_verify: bool,
    #[serde(default)]
    pub pass_credentials_all: bool,
}

impl Entry {
    pub fn tls(&self, for_index: bool) -> TlsOptions {
        let p = |s: &str| (!s.is_empty()).then(|| PathBuf::from(s));
        TlsOptions {
            ca_file: p(&self.ca_file),
            cert_file: p(&self.cert_file),
            key_file: p(&self.key_file),
            // Helm applies the entry's insecure flag to index downloads only.
            insecure_skip_verify: for_index && self.insecure_skip_tls_verify,
        }
    }

    pub fn basic(&self) -> Option<Basic> {
        (!self.username.is_empty() && !self.password.is_empty()).then(|| Basic {
            username: self.username.clone(),
            password: self.password.clone(),
        })
    }

    fn to_json(&self) -> Json {
        let s = |v: &str| Json::Str(v.to_string());
        Json::Obj(vec![
            ("caFile".into(), s(&self.ca_file)),
            ("certFile".into(), s(&self.cert_file)),
            (
                "insecure_skip_tls_verify".into(),
                Json::Bool(self.insecure_skip_tls_verify),
            ),
            ("keyFile".into(), s(&self.key_file)),
            ("name".into(), s(&self.name)),
            ("pass_credentials_all".into(), Json::Bool(self.pass_credentials_all)),
            ("password".into(), s(&self.password)),
            ("url".into(), s(&self.url)),
            ("username".into(), s(&self.username)),
        ])
    }
}

/// repositories.yaml (`repo.File`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RepoFile {
    #[serde(default, rename = "apiVersion")]
    pub api_version: String,
    #[serde(default, deserialize_with = "string_or_scalar")]
    pub generated: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub repositories: Vec<Entry>,
}

fn null_as_default<'de, D: Deserializer<'de>, T: Default + Deserialize<'de>>(d: D) -> std::result::Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A YAML scalar as its text (`version: 1.0` is the string "1.0" to Helm).
fn string_or_scalar<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum S {
        Str(String),
        U(u64),
        I(i64),
        F(f64),
        B(bool),
        Null(()),
    }
    Ok(match Option::<S>::deserialize(d)? {
        Some(S::Str(s)) => s,
        Some(S::U(n)) => n.to_string(),
        Some(S::I(n)) => n.to_string(),
        Some(S::F(f)) => f.to_string(),
        Some(S::B(b)) => b.to_string(),
        Some(S::Null(())) | None => String::new(),
    })
}

impl RepoFile {
    /// Read repositories.yaml; a missing file is empty (as Helm's downloader treats it).
    pub fn load(path: &Path) -> Result<RepoFile> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(RepoFile::default()),
            Err(e) => return Err(SourceError::io(path.display(), e)),
        };
        if text.trim().is_empty() {
            return Ok(RepoFile::default());
        }
        serde_saphyr::from_str(&text).map_err(|e| SourceError::msg(format!("{}: {e}", path.display())))
    }

    pub fn get(&self, name: &str) -> Option<&Entry> {
        self.repositories.iter().find(|e| e.name == name)
    }

    /// Helm's bytes: sigs.k8s.io/yaml of `repo.File` (keys sorted, every entry key present).
    pub fn to_yaml(&self) -> String {
        let generated = if self.generated.is_empty() {
            "0001-01-01T00:00:00Z".to_string()
        } else {
            self.generated.clone()
        };
        let j = Json::Obj(vec![
            ("apiVersion".into(), Json::Str(self.api_version.clone())),
            ("generated".into(), Json::Str(generated)),
            (
                "repositories".into(),
                Json::Arr(self.repositories.iter().map(Entry::to_json).collect()),
            ),
        ]);
        crate::yaml::emit::marshal(&j)
    }

    /// Write with mode 0600 (it may hold passwords), atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        write_atomic(path, self.to_yaml().as_bytes())?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
        }
        Ok(())
    }
}

/// An exclusive lock on `<config without extension>.lock`, as `helm repo add` takes (flock), so
/// helm and chartup adding repositories at once do not lose an entry.
pub fn lock_config(path: &Path) -> Result<std::fs::File> {
    let lock = path.with_extension("lock");
    if let Some(d) = lock.parent() {
        std::fs::create_dir_all(d).map_err(|e| SourceError::io(d.display(), e))?;
    }
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock)
        .map_err(|e| SourceError::io(lock.display(), e))?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        match f.try_lock() {
            Ok(()) => return Ok(f),
            Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(200))
            }
            Err(e) => return Err(SourceError::msg(format!("{}: cannot lock: {e}", lock.display()))),
        }
    }
}

/// One chart version in an index (only what resolution needs).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct ChartVersion {
    #[serde(default, deserialize_with = "scalar_text")]
    pub name: String,
    #[serde(default, deserialize_with = "scalar_text")]
    pub version: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub urls: Vec<String>,
    #[serde(default, deserialize_with = "scalar_text")]
    pub digest: String,
}

/// A string field of the index as sigs.k8s.io/yaml fills one from a plain scalar: its text. A
/// digest such as `0…01e460` is a float to YAML but out of range for Go's ParseFloat, so go-yaml
/// keeps it a string; typing it first (as `string_or_scalar` does) refused the whole index. Only
/// a two-part number (`version: 1.10`, which Go reformats as `1.1`) differs, and no SemVer version
/// or sha256 digest is one. Null is "".
fn scalar_text<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    struct Text(String);
    impl<'de> Deserialize<'de> for Text {
        fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Text, D::Error> {
            struct V;
            impl serde::de::Visitor<'_> for V {
                type Value = String;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("a string")
                }
                fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<String, E> {
                    Ok(v.to_string())
                }
                fn visit_string<E: serde::de::Error>(self, v: String) -> std::result::Result<String, E> {
                    Ok(v)
                }
                fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<String, E> {
                    Ok(v.to_string())
                }
                fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<String, E> {
                    Ok(v.to_string())
                }
                fn visit_bool<E: serde::de::Error>(self, v: bool) -> std::result::Result<String, E> {
                    Ok(v.to_string())
                }
            }
            d.deserialize_str(V).map(Text)
        }
    }
    Ok(Option::<Text>::deserialize(d)?.map(|t| t.0).unwrap_or_default())
}

#[derive(Debug, Deserialize)]
struct RawIndex {
    #[serde(default, rename = "apiVersion", deserialize_with = "scalar_text")]
    api_version: String,
    #[serde(default)]
    entries: Option<BTreeMap<String, Option<Vec<Option<ChartVersion>>>>>,
}

/// A parsed index.yaml: entries sorted descending by SemVer (unparsable versions last).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct Index {
    pub entries: BTreeMap<String, Vec<ChartVersion>>,
}

impl Index {
    /// Parse YAML or (when the bytes are JSON) JSON, as Helm since 3.13.
    pub fn parse(bytes: &[u8], what: &str) -> Result<Index> {
        let text = std::str::from_utf8(bytes).map_err(|e| SourceError::msg(format!("{what}: {e}")))?;
        if text.trim().is_empty() {
            return Err(SourceError::msg(format!("{what}: empty index.yaml file")));
        }
        let first = text.trim_start().as_bytes().first().copied();
        let raw: RawIndex = if first == Some(b'{') {
            match serde_json::from_str(text) {
                Ok(r) => r,
                Err(_) => yaml_index(text, what)?,
            }
        } else {
            yaml_index(text, what)?
        };
        if raw.api_version.is_empty() {
            return Err(SourceError::msg(format!("{what}: no API version specified")));
        }
        let mut entries = BTreeMap::new();
        for (name, list) in raw.entries.unwrap_or_default() {
            let mut vs: Vec<(Option<Version>, ChartVersion)> = list
                .unwrap_or_default()
                .into_iter()
                .flatten()
                .map(|cv| (Version::parse(&cv.version).ok(), cv))
                .collect();
            // Descending; unparsable versions sink to the end (Helm's SortEntries).
            vs.sort_by(|a, b| match (&a.0, &b.0) {
                (Some(x), Some(y)) => y.cmp(x),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            });
            entries.insert(name, vs.into_iter().map(|(_, cv)| cv).collect());
        }
        Ok(Index { entries })
    }

    /// A cached index file: the memo of its last parse when the file is unchanged, else a parse
    /// (memoised for the next run).
    pub fn load(path: &Path) -> Result<Index> {
        Index::load_memoised(path, memo_path(path))
    }

    fn load_memoised(path: &Path, memo: Option<PathBuf>) -> Result<Index> {
        let mut f = std::fs::File::open(path).map_err(|e| SourceError::io(path.display(), e))?;
        let stamp = f.metadata().ok().map(|m| Stamp::of(&m));
        if let (Some(s), Some(m)) = (&stamp, &memo) {
            if let Some(idx) = read_memo(m, s) {
                return Ok(idx);
            }
        }
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut f, &mut bytes).map_err(|e| SourceError::io(path.display(), e))?;
        let idx = Index::parse(&bytes, &path.display().to_string())?;
        // Memoise only what was read from the file the stamp describes (unchanged while read).
        let after = f.metadata().ok().map(|m| Stamp::of(&m));
        if let (Some(s), Some(m)) = (stamp, memo) {
            if after.as_ref() == Some(&s) {
                write_memo(&m, &s, &idx);
            }
        }
        Ok(idx)
    }

    /// `IndexFile.Get(name, version)`; the error is Helm's cause text, plus the nearest versions.
    pub fn get(&self, name: &str, version: &str, devel: bool) -> std::result::Result<&ChartVersion, String> {
        let Some(vs) = self.entries.get(name) else {
            return Err("no chart name found".into());
        };
        if let Some(cv) = vs.iter().find(|cv| !version.is_empty() && cv.version == version) {
            return Ok(cv);
        }
        let c = constraint(version, devel)?;
        for cv in vs {
            if let Ok(v) = Version::parse(&cv.version) {
                if c.matches(&v) {
                    return Ok(cv);
                }
            }
        }
        Err(format!(
            "no chart version found for {name}-{version}{}",
            nearest(vs.iter().map(|c| c.version.as_str()), version)
        ))
    }
}

/// An index file's identity: rewriting it (by rename, as helm and chartup do) changes the inode
/// and mtime; the size guards against an in-place edit within one mtime tick.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
struct Stamp {
    len: u64,
    mtime_ns: i128,
    ino: u64,
    dev: u64,
}

impl Stamp {
    fn of(m: &std::fs::Metadata) -> Stamp {
        #[cfg(unix)]
        use std::os::unix::fs::MetadataExt;
        let mtime_ns = m
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_nanos() as i128)
            .unwrap_or(-1);
        #[cfg(unix)]
        let (ino, dev) = (m.ino(), m.dev());
        #[cfg(not(unix))]
        let (ino, dev) = (0, 0);
        Stamp {
            len: m.len(),
            mtime_ns,
            ino,
            dev,
        }
    }
}

#[derive(Deserialize)]
struct Memo {
    /// Bumped when the memo's shape or the parse's meaning changes.
    format: u32,
    stamp: Stamp,
    index: Index,
}

const MEMO_FORMAT: u32 = 1;

/// `<helm cache>/chartup/index/<sha256 of the index's absolute path>.json`.
fn memo_path(index: &Path) -> Option<PathBuf> {
    let abs = std::path::absolute(index).ok()?;
    let key = super::sha256_hex(abs.as_os_str().as_encoded_bytes());
    Some(
        paths::cache_home()
            .join("chartup")
            .join("index")
            .join(format!("{key}.json")),
    )
}

fn read_memo(path: &Path, stamp: &Stamp) -> Option<Index> {
    let bytes = std::fs::read(path).ok()?;
    let m: Memo = serde_json::from_slice(&bytes).ok()?;
    (m.format == MEMO_FORMAT && &m.stamp == stamp).then_some(m.index)
}

/// Best effort: a memo that cannot be written only costs the next run a parse.
fn write_memo(path: &Path, stamp: &Stamp, index: &Index) {
    #[derive(serde::Serialize)]
    struct MemoOut<'a> {
        format: u32,
        stamp: &'a Stamp,
        index: &'a Index,
    }
    let memo = MemoOut {
        format: MEMO_FORMAT,
        stamp,
        index,
    };
    if let Ok(bytes) = serde_json::to_vec(&memo) {
        // No fsync: a memo lost in a crash is only a parse for the next run.
        let _ = super::cache::write_atomic_unsynced(path, &bytes);
    }
}

fn yaml_index(text: &str, what: &str) -> Result<RawIndex> {
    let opts = serde_saphyr::options! { budget: None };
    serde_saphyr::from_str_with_options(text, opts).map_err(|e| SourceError::msg(format!("{what}: {e}")))
}

/// The constraint for a `--version` (empty: `*`, or `>0.0.0-0` with `--devel`).
pub fn constraint(version: &str, devel: bool) -> std::result::Result<Constraints, String> {
    let v = match version.trim() {
        "" if devel => ">0.0.0-0",
        "" => "*",
        v => v,
    };
    Constraints::parse(v).map_err(|e| e.to_string())
}

/// ` (nearest versions: a, b, c)` — up to five available versions closest to the request.
pub fn nearest<'a>(available: impl Iterator<Item = &'a str>, wanted: &str) -> String {
    let all: Vec<&str> = available.collect();
    if all.is_empty() {
        return String::new();
    }
    let target = Version::parse(wanted.trim_start_matches(|c: char| !c.is_ascii_digit())).ok();
    let mut scored: Vec<(u128, usize, &str)> = all
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let d = match (&target, Version::parse(s)) {
                (Some(t), Ok(v)) => {
                    let k = |v: &Version| (v.major() as u128) << 80 | (v.minor() as u128) << 40 | v.patch() as u128;
                    k(t).abs_diff(k(&v))
                }
                _ => i as u128,
            };
            (d, i, *s)
        })
        .collect();
    scored.sort();
    let near: Vec<&str> = scored.iter().take(5).map(|s| s.2).collect();
    format!(" (nearest versions: {})", near.join(", "))
}

/// `<cache>/<name>-index.yaml`.
pub fn index_path(cache: &Path, name: &str) -> PathBuf {
    cache.join(format!("{name}-index.yaml"))
}

/// `<repo-url>/index.yaml`, keeping a query string.
pub fn index_url(repo_url: &str) -> Result<String> {
    let mut u = reqwest::Url::parse(repo_url)
        .map_err(|e| SourceError::msg(format!("invalid chart URL format: {repo_url}: {e}")))?;
    let path = format!("{}/index.yaml", u.path().trim_end_matches('/'));
    u.set_path(&path);
    Ok(u.to_string())
}

/// Resolve an index `urls[0]` against the repository URL (forced trailing slash).
pub fn resolve_url(repo_url: &str, chart_url: &str) -> Result<String> {
    if let Ok(abs) = reqwest::Url::parse(chart_url) {
        return Ok(abs.to_string());
    }
    let mut base = reqwest::Url::parse(repo_url)
        .map_err(|e| SourceError::msg(format!("invalid chart URL format: {repo_url}: {e}")))?;
    if !base.path().ends_with('/') {
        let p = format!("{}/", base.path());
        base.set_path(&p);
    }
    base.join(chart_url)
        .map(|u| u.to_string())
        .map_err(|e| SourceError::msg(format!("invalid chart URL {chart_url:?} in {repo_url}: {e}")))
}

/// Download and validate a repository's index; write `<name>-index.yaml` and `<name>-charts.txt`
/// atomically (raw bytes, as Helm 4).
pub async fn download_index(entry: &Entry, cache: &Path) -> Result<(PathBuf, Index)> {
    let url = index_url(&entry.url)?;
    let client = http::client(&entry.tls(true))?;
    let bytes = http::get(&client, &url, entry.basic().as_ref(), None).await?;
    let index = Index::parse(&bytes, &url)?;
    let p = index_path(cache, &entry.name);
    // Renamed into place, not fsynced (as Helm's AtomicWriteFile): a refreshable cache, and an
    // fsync costs a journal commit behind every other writer on the disk.
    write_atomic_unsynced(&p, &bytes)?;
    // The next `repo/chart` reads the memo instead of parsing again.
    if let (Ok(m), Some(memo)) = (std::fs::metadata(&p), memo_path(&p)) {
        write_memo(&memo, &Stamp::of(&m), &index);
    }
    let mut names: Vec<&str> = index.entries.keys().map(String::as_str).collect();
    names.sort();
    // One name per line, each ending in a newline, as Helm writes it.
    let txt: String = names.iter().map(|n| format!("{n}\n")).collect();
    write_atomic_unsynced(&cache.join(format!("{}-charts.txt", entry.name)), txt.as_bytes())?;
    Ok((p, index))
}

/// Helm's credential rule for chart downloads: send basic auth only to the repository's own
/// scheme and host, unless `pass_credentials_all`.
pub fn creds_for(entry: &Entry, chart_url: &str) -> Option<Basic> {
    let b = entry.basic()?;
    if entry.pass_credentials_all {
        return Some(b);
    }
    let (Ok(a), Ok(c)) = (reqwest::Url::parse(&entry.url), reqwest::Url::parse(chart_url)) else {
        return None;
    };
    (a.scheme() == c.scheme() && a.host_str() == c.host_str() && a.port_or_known_default() == c.port_or_known_default())
        .then_some(b)
}

/// The default config and cache locations.
pub fn default_locations() -> (PathBuf, PathBuf) {
    (paths::repository_config(), paths::repository_cache())
}

#[cfg(test)]
mod tests {
    use super::*;

    const INDEX: &str = "apiVersion: v1\nentries:\n  demo:\n  - name: demo\n    version: 1.2.0\n    urls: [demo-1.2.0.tgz]\n    extra: {a: 1}\n  - name: demo\n    version: 1.10.0-rc.1\n    urls: [demo-1.10.0-rc.1.tgz]\n  - name: demo\n    version: 1.9.3\n    urls: [https://x/demo-1.9.3.tgz]\n    digest: abc\ngenerated: \"2020-01-01T00:00:00Z\"\n";

    #[test]
    fn versions_follow_helms_rules() {
        let i = Index::parse(INDEX.as_bytes(), "t").unwrap();
        assert_eq!(i.get("demo", "", false).unwrap().version, "1.9.3");
        assert_eq!(i.get("demo", "", true).unwrap().version, "1.10.0-rc.1");
        assert_eq!(i.get("demo", "~1.2", false).unwrap().version, "1.2.0");
        assert_eq!(i.get("demo", "1.2.0", false).unwrap().version, "1.2.0");
        let e = i.get("demo", "2.0.0", false).unwrap_err();
        assert!(
            e.starts_with("no chart version found for demo-2.0.0 (nearest versions: 1.10.0-rc.1, 1.9.3"),
            "{e}"
        );
        assert_eq!(i.get("nope", "", false).unwrap_err(), "no chart name found");
    }

    #[test]
    fn a_memoised_index_is_the_parse_of_the_file_as_it_is_now() {
        let dir = tempfile::tempdir().unwrap();
        let (file, memo) = (dir.path().join("r-index.yaml"), dir.path().join("m").join("x.json"));
        std::fs::write(&file, INDEX).unwrap();
        let parsed = Index::parse(INDEX.as_bytes(), "t").unwrap();
        let first = Index::load_memoised(&file, Some(memo.clone())).unwrap();
        assert_eq!(first, parsed);
        assert!(memo.exists(), "a parse leaves a memo");
        assert_eq!(Index::load_memoised(&file, Some(memo.clone())).unwrap(), parsed);
        // Replaced (as every writer does, by rename) with other content: parsed again.
        let other = INDEX.replace("1.9.3", "1.9.4");
        let tmp = dir.path().join("tmp");
        std::fs::write(&tmp, &other).unwrap();
        std::fs::rename(&tmp, &file).unwrap();
        let again = Index::load_memoised(&file, Some(memo.clone())).unwrap();
        assert_eq!(again, Index::parse(other.as_bytes(), "t").unwrap());
        assert_eq!(again.get("demo", "", false).unwrap().version, "1.9.4");
        // A broken memo is no memo; a broken index is still an error, never a stale memo.
        std::fs::write(&memo, "{not json").unwrap();
        assert_eq!(Index::load_memoised(&file, Some(memo.clone())).unwrap(), again);
        std::fs::write(&tmp, "apiVersion: v1\nentries: [").unwrap();
        std::fs::rename(&tmp, &file).unwrap();
        assert!(Index::load_memoised(&file, Some(memo)).is_err());
    }

    #[test]
    fn digests_that_look_like_huge_floats_stay_strings() {
        // What helm reads: go-yaml keeps `…1e460` a string (ParseFloat is out of range).
        let d = format!("{}1e460", "0".repeat(59));
        assert_eq!(d.len(), 64);
        let y = format!(
            "apiVersion: v1\nentries:\n  demo:\n  - name: demo\n    version: 1.0.0\n    digest: {d}\n    urls: [a.tgz]\n  - name: demo\n    version: 1.1.0\n    digest: ~\n    urls: [b.tgz]\n"
        );
        let i = Index::parse(y.as_bytes(), "t").unwrap();
        assert_eq!(i.get("demo", "1.0.0", false).unwrap().digest, d);
        assert_eq!(i.get("demo", "1.1.0", false).unwrap().digest, "");
    }

    #[test]
    fn json_index_and_errors() {
        let j = r#"{"apiVersion":"v1","entries":{"demo":[{"name":"demo","version":"0.1.0","urls":["a.tgz"]}]}}"#;
        let i = Index::parse(j.as_bytes(), "t").unwrap();
        assert_eq!(i.get("demo", "", false).unwrap().urls, vec!["a.tgz"]);
        assert!(Index::parse(b"  \n", "t")
            .unwrap_err()
            .to_string()
            .contains("empty index.yaml file"));
        assert!(Index::parse(b"entries: {}\n", "t")
            .unwrap_err()
            .to_string()
            .contains("no API version specified"));
    }

    #[test]
    fn urls_resolve_like_helm() {
        assert_eq!(
            resolve_url("http://h/charts", "demo-1.tgz").unwrap(),
            "http://h/charts/demo-1.tgz"
        );
        assert_eq!(
            resolve_url("http://h/charts/", "x/d.tgz").unwrap(),
            "http://h/charts/x/d.tgz"
        );
        assert_eq!(resolve_url("http://h/c", "https://o/d.tgz").unwrap(), "https://o/d.tgz");
        assert_eq!(index_url("http://h/c/").unwrap(), "http://h/c/index.yaml");
        assert_eq!(index_url("http://h/c?x=1").unwrap(), "http://h/c/index.yaml?x=1");
    }

    #[test]
    fn credentials_only_to_the_repository_host() {
        let e = Entry {
            name: "r".into(),
            url: "https://h:443/c".into(),
            username: "u".into(),
            password: "p".into(),
            ..Default::default()
        };
        assert!(creds_for(&e, "https://h/c/x.tgz").is_some());
        assert!(creds_for(&e, "https://other/x.tgz").is_none());
        assert!(creds_for(&e, "http://h/c/x.tgz").is_none());
        let all = Entry {
            pass_credentials_all: true,
            ..e
        };
        assert!(creds_for(&all, "https://other/x.tgz").is_some());
    }
}
