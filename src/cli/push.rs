//! `chartup push CHART.tgz oci://host/path`, as `helm push`: the chart (and its `.prov` beside it)
//! uploaded in helm's OCI layout, with the credentials of Helm's registry config.

use std::path::PathBuf;

use anyhow::bail;

use super::{ExitStatus, Printer};
use crate::source::http::Basic;
use crate::source::TlsOptions;

#[derive(Debug, clap::Args)]
pub struct PushArgs {
    /// The packaged chart (.tgz); a CHART.tgz.prov beside it is pushed as its provenance
    pub chart: PathBuf,
    /// Where to push: oci://host[:port]/path (the chart lands at <path>/<name>:<version>)
    pub remote: String,
    /// Registry username (instead of the stored login)
    #[arg(long, value_name = "USER")]
    pub username: Option<String>,
    /// Registry password (instead of the stored login)
    #[arg(long, value_name = "PASSWORD")]
    pub password: Option<String>,
    /// Verify the registry's certificate with this CA bundle
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Identify to the registry with this client certificate
    #[arg(long, value_name = "FILE")]
    pub cert_file: Option<PathBuf>,
    /// The key of the client certificate
    #[arg(long, value_name = "FILE")]
    pub key_file: Option<PathBuf>,
    /// Skip the verification of the registry's certificate
    #[arg(long)]
    pub insecure_skip_tls_verify: bool,
    /// Talk to the registry over plain HTTP
    #[arg(long)]
    pub plain_http: bool,
}

pub fn run(a: PushArgs, p: &mut Printer) -> anyhow::Result<ExitStatus> {
    let creds = match (&a.username, &a.password) {
        (Some(u), Some(pw)) => Some(Basic {
            username: u.clone(),
            password: pw.clone(),
        }),
        (None, None) => None,
        _ => bail!("--username and --password go together"),
    };
    let tls = TlsOptions {
        ca_file: a.ca_file,
        cert_file: a.cert_file,
        key_file: a.key_file,
        insecure_skip_verify: a.insecure_skip_tls_verify,
    };
    let pushed = crate::source::push::push(&a.chart, &a.remote, &tls, a.plain_http, creds)?;
    p.out(&format!(
        "Pushed: {}\nDigest: {}\n",
        pushed.reference, pushed.manifest_digest
    ))?;
    Ok(ExitStatus::Success)
}
