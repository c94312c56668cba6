//! Charts from where teams keep them: Helm chart repositories, OCI registries, chart URLs and
//! local paths, resolved as Helm resolves them (`LocateChart`, `ResolveChartVersion`).
//!
//! Everything reads and writes Helm's own files — repositories.yaml, the repository index cache,
//! the registry config (docker config.json) and Helm 4's content cache layout — so helm and chartup
//! share repositories, logins and downloads both ways. Downloads are checked against the digest the
//! index or registry names and land in the cache by temp file + rename, so concurrent runs and
//! interrupted downloads never leave a half-written archive behind.
//!
//! The network side is async (reqwest on tokio, rustls); [`block_on`] runs it on a private
//! current-thread runtime in its own thread, so callers may be sync or inside another runtime.

pub mod cache;
pub mod deps;
pub mod http;
pub mod oci;
pub mod paths;
pub mod provenance;
pub mod push;
pub mod reference;
pub mod repo;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use reference::{resolve, Resolved};

/// Errors of fetching charts; each names the reference, URL or file it is about.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{0}")]
    Msg(String),
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl SourceError {
    pub fn msg(s: impl Into<String>) -> SourceError {
        SourceError::Msg(s.into())
    }
    pub fn io(path: impl std::fmt::Display, source: std::io::Error) -> SourceError {
        SourceError::Io {
            path: path.to_string(),
            source,
        }
    }
}

pub type Result<T> = std::result::Result<T, SourceError>;

/// How a chart is looked up and fetched: helm's `--repo`, `--version`, `--devel`, credentials and
/// TLS flags (`ChartPathOptions`).
#[derive(Debug, Clone, Default)]
pub struct FetchOptions {
    pub repo_url: Option<String>,
    pub version: Option<String>,
    pub devel: bool,
    pub username: Option<String>,
    pub password: Option<String>,
    pub pass_credentials: bool,
    pub tls: TlsOptions,
    pub plain_http: bool,
    /// `--verify`: the chart's provenance must verify (helm's `VerifyAlways`).
    pub verify: bool,
    /// With `verify`, a missing `.prov` is only a warning (helm's `VerifyIfPossible`, what
    /// `dependency build --verify` uses); a `.prov` that does not verify still fails.
    pub verify_if_possible: bool,
    /// `--keyring` (default: helm's, see [`provenance::default_keyring`]).
    pub keyring: Option<PathBuf>,
    /// Never use the network: only cached indexes and cached archives.
    pub offline: bool,
}

/// `--ca-file`, `--cert-file`, `--key-file`, `--insecure-skip-tls-verify`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsOptions {
    pub ca_file: Option<PathBuf>,
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
    pub insecure_skip_verify: bool,
}

impl TlsOptions {
    pub fn is_set(&self) -> bool {
        self.ca_file.is_some() || self.cert_file.is_some() || self.key_file.is_some() || self.insecure_skip_verify
    }
}

/// Where a chart came from, as a plan records it: what the user asked for, the version it resolved
/// to and the sha256 of the archive (or of the chart's files for a local directory).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRecord {
    pub reference: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version: String,
    pub digest: String,
}

/// Run a future on a private runtime in its own thread: works from sync code and from inside
/// another tokio runtime (where `block_on` would panic). The run's requests share one HTTP client
/// per TLS setting (kept-alive connections; see [`http`]).
pub fn block_on<F, T>(f: F) -> Result<T>
where
    F: std::future::Future<Output = Result<T>> + Send,
    T: Send,
{
    std::thread::scope(|s| {
        s.spawn(|| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| SourceError::msg(format!("cannot start the network runtime: {e}")))?;
            http::with_run_clients(|| rt.block_on(f))
        })
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e))
    })
}

/// Lower-case hex sha256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}
