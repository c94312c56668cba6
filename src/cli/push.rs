//! `chartup push CHART.tgz oci://host/path`, as `helm push`: the chart (and its `.prov` beside it)
//! uploaded in helm's OCI layout, with the credentials of Helm's registry config.

use std::path::PathBuf;

use super::source::{AuthArgs, TlsArgs};
use super::{ExitStatus, Printer};

// The flags are the chart-source ones (src/cli/source.rs); only their help speaks of a registry.
#[derive(Debug, clap::Args)]
#[command(
    mut_arg("username", |a| a.help("Registry username (instead of the stored login)")),
    mut_arg("password", |a| a.help("Registry password (instead of the stored login)")),
    mut_arg("ca_file", |a| a.help("Verify the registry's certificate with this CA bundle")),
    mut_arg("cert_file", |a| a.help("Identify to the registry with this client certificate")),
    mut_arg("key_file", |a| a.help("The key of the client certificate")),
    mut_arg("insecure_skip_tls_verify", |a| a.help("Skip the verification of the registry's certificate"))
)]
pub struct PushArgs {
    /// The packaged chart (.tgz); a CHART.tgz.prov beside it is pushed as its provenance
    pub chart: PathBuf,
    /// Where to push: oci://host[:port]/path (the chart lands at <path>/<name>:<version>)
    pub remote: String,
    #[command(flatten)]
    pub auth: AuthArgs,
    #[command(flatten)]
    pub tls: TlsArgs,
    /// Talk to the registry over plain HTTP
    #[arg(long)]
    pub plain_http: bool,
}

pub fn run(a: PushArgs, p: &mut Printer) -> anyhow::Result<ExitStatus> {
    let creds = a.auth.basic()?;
    let pushed = crate::source::push::push(&a.chart, &a.remote, &a.tls.options(), a.plain_http, creds)?;
    p.out(&format!(
        "Pushed: {}\nDigest: {}\n",
        pushed.reference, pushed.manifest_digest
    ))?;
    Ok(ExitStatus::Success)
}
