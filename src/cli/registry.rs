//! `chartup registry login|logout`: credentials in Helm's registry config (docker config.json
//! format at `HELM_REGISTRY_CONFIG`), checked against the registry before they are stored.

use std::path::PathBuf;

use anyhow::{bail, Context};

use super::{ExitStatus, Printer};
use crate::source::http::Basic;
use crate::source::{oci, paths, TlsOptions};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Login to a registry
    Login(LoginArgs),
    /// Logout from a registry
    Logout {
        /// Registry host (and port) to forget the credentials of
        host: String,
    },
}

#[derive(Debug, clap::Args)]
pub struct LoginArgs {
    /// Registry host (and port), e.g. registry.example.com:5000
    pub host: String,
    /// Registry username
    #[arg(short = 'u', long)]
    pub username: Option<String>,
    /// Registry password or identity token
    #[arg(short = 'p', long)]
    pub password: Option<String>,
    /// Read the password from stdin
    #[arg(long)]
    pub password_stdin: bool,
    /// Verify the registry's certificate with this CA bundle
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Client certificate for the registry (TLS)
    #[arg(long, value_name = "FILE")]
    pub cert_file: Option<PathBuf>,
    /// Key of the client certificate
    #[arg(long, value_name = "FILE")]
    pub key_file: Option<PathBuf>,
    /// Skip the verification of the registry's certificate
    #[arg(long)]
    pub insecure: bool,
    /// Talk to the registry over plain HTTP
    #[arg(long)]
    pub plain_http: bool,
}

pub fn run(cmd: Command, p: &mut Printer) -> anyhow::Result<ExitStatus> {
    let config = paths::registry_config();
    match cmd {
        Command::Login(a) => {
            let host = a.host.trim_start_matches("oci://").trim_end_matches('/').to_string();
            let Some(username) = a.username.clone() else {
                bail!("--username is required")
            };
            let mut password = a.password.clone().unwrap_or_default();
            if a.password_stdin {
                std::io::stdin()
                    .read_line(&mut password)
                    .context("reading the password from stdin")?;
                password = password.trim_end_matches(['\n', '\r']).to_string();
            }
            let creds = Basic { username, password };
            let tls = TlsOptions {
                ca_file: a.ca_file.clone(),
                cert_file: a.cert_file.clone(),
                key_file: a.key_file.clone(),
                insecure_skip_verify: a.insecure,
            };
            let mut reg = oci::Registry::new(&host, &tls, a.plain_http, Some(creds.clone()))?;
            crate::source::block_on(async move { reg.ping().await }).with_context(|| format!("login to {host}"))?;
            oci::store_credentials(&config, &host, Some(&creds))?;
            p.out("Login Succeeded\n")?;
        }
        Command::Logout { host } => {
            let host = host.trim_start_matches("oci://").trim_end_matches('/').to_string();
            if !oci::store_credentials(&config, &host, None)? {
                bail!("not logged in");
            }
            p.note(&format!("Removing login credentials for {host}"));
        }
    }
    Ok(ExitStatus::Success)
}
