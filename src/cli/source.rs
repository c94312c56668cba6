//! The chart-source flags helm's `template`/`install`/`upgrade` take (`ChartPathOptions`), as one
//! flattened struct, and the one call that turns a chart reference into a local chart. The
//! credential and TLS flags are structs of their own so `push` parses them with the same code.

use std::path::PathBuf;

use super::Printer;
use crate::source::http::Basic;
use crate::source::{FetchOptions, SourceRecord, TlsOptions};

#[derive(Debug, Clone, Default, clap::Args)]
pub struct SourceArgs {
    /// Chart repository URL where to locate the requested chart
    #[arg(long = "repo", value_name = "URL")]
    pub repo: Option<String>,
    /// Version constraint for the chart (default: latest stable)
    #[arg(long = "version", value_name = "VERSION")]
    pub version: Option<String>,
    /// Use development versions too (equivalent to version '>0.0.0-0'); ignored with --version
    #[arg(long)]
    pub devel: bool,
    #[command(flatten)]
    pub auth: AuthArgs,
    /// Pass credentials to all domains
    #[arg(long)]
    pub pass_credentials: bool,
    #[command(flatten)]
    pub tls: TlsArgs,
    /// Use insecure HTTP connections for the chart download (OCI)
    #[arg(long)]
    pub plain_http: bool,
    /// Verify the package before using it (its .prov must be signed by a key of --keyring)
    #[arg(long)]
    pub verify: bool,
    /// Keyring containing public keys (for --verify; default $GNUPGHOME/pubring.gpg, else ~/.gnupg/pubring.gpg)
    #[arg(long, value_name = "FILE")]
    pub keyring: Option<PathBuf>,
}

/// `--username`/`--password` for a repository or registry (shared with `push`, which words its
/// help for a registry).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AuthArgs {
    /// Chart repository or registry username
    #[arg(long, value_name = "USER")]
    pub username: Option<String>,
    /// Chart repository or registry password
    #[arg(long, value_name = "PASSWORD")]
    pub password: Option<String>,
}

impl AuthArgs {
    /// Both or neither.
    pub fn basic(&self) -> anyhow::Result<Option<Basic>> {
        match (&self.username, &self.password) {
            (Some(u), Some(pw)) => Ok(Some(Basic {
                username: u.clone(),
                password: pw.clone(),
            })),
            (None, None) => Ok(None),
            _ => anyhow::bail!("--username and --password go together"),
        }
    }
}

/// Helm's TLS flags (shared with `push`, which words its help for a registry).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TlsArgs {
    /// Verify certificates of HTTPS-enabled servers using this CA bundle
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Identify HTTPS client using this SSL certificate file
    #[arg(long, value_name = "FILE")]
    pub cert_file: Option<PathBuf>,
    /// Identify HTTPS client using this SSL key file
    #[arg(long, value_name = "FILE")]
    pub key_file: Option<PathBuf>,
    /// Skip tls certificate checks for the chart download
    #[arg(long)]
    pub insecure_skip_tls_verify: bool,
}

impl TlsArgs {
    pub fn options(&self) -> TlsOptions {
        TlsOptions {
            ca_file: self.ca_file.clone(),
            cert_file: self.cert_file.clone(),
            key_file: self.key_file.clone(),
            insecure_skip_verify: self.insecure_skip_tls_verify,
        }
    }
}

impl SourceArgs {
    pub fn options(&self, version: Option<&str>) -> FetchOptions {
        FetchOptions {
            repo_url: self.repo.clone(),
            version: version.map(str::to_string).or_else(|| self.version.clone()),
            devel: self.devel && self.version.is_none(),
            username: self.auth.username.clone(),
            password: self.auth.password.clone(),
            pass_credentials: self.pass_credentials,
            tls: self.tls.options(),
            plain_http: self.plain_http,
            verify: self.verify,
            verify_if_possible: false,
            keyring: self.keyring.clone(),
            offline: false,
        }
    }
}

/// Resolve a chart reference (local path, repo/chart, oci://, URL, --repo) to a local chart.
pub fn resolve_chart(
    reference: &str,
    args: &SourceArgs,
    version: Option<&str>,
    p: &mut Printer,
) -> anyhow::Result<(PathBuf, SourceRecord)> {
    let r = crate::source::resolve(reference, &args.options(version))?;
    for n in &r.notes {
        p.note(n);
    }
    Ok((r.path, r.record))
}
