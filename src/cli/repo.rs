//! `chartup repo add|list|update|remove`: Helm's repository commands on Helm's own
//! repositories.yaml and index cache, so helm and chartup share repositories both ways.

use std::path::PathBuf;

use anyhow::{bail, Context};

use super::{ExitStatus, Printer};
use crate::source::repo::{self, Entry, RepoFile};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Add a chart repository
    Add(AddArgs),
    /// List chart repositories
    #[command(alias = "ls")]
    List,
    /// Update information of available charts locally from chart repositories
    #[command(alias = "up")]
    Update {
        /// Repositories to update (default: all)
        names: Vec<String>,
    },
    /// Remove one or more chart repositories
    #[command(alias = "rm")]
    Remove {
        /// Repositories to remove
        #[arg(required = true)]
        names: Vec<String>,
    },
}

#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// Name of the repository (charts are then `NAME/CHART`)
    pub name: String,
    /// URL of the repository (its index.yaml lives under it)
    pub url: String,
    /// Username for the repository (basic auth)
    #[arg(long)]
    pub username: Option<String>,
    /// Password for the repository (basic auth)
    #[arg(long)]
    pub password: Option<String>,
    /// Read the password from stdin
    #[arg(long)]
    pub password_stdin: bool,
    /// Verify the repository's certificate with this CA bundle
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Client certificate for the repository (TLS)
    #[arg(long, value_name = "FILE")]
    pub cert_file: Option<PathBuf>,
    /// Key of the client certificate
    #[arg(long, value_name = "FILE")]
    pub key_file: Option<PathBuf>,
    /// Skip the verification of the repository's certificate
    #[arg(long)]
    pub insecure_skip_tls_verify: bool,
    /// Pass credentials to all domains
    #[arg(long)]
    pub pass_credentials: bool,
    /// Replace (overwrite) the repo if it already exists
    #[arg(long)]
    pub force_update: bool,
}

pub fn run(cmd: Command, p: &mut Printer) -> anyhow::Result<ExitStatus> {
    let (config, cache) = repo::default_locations();
    match cmd {
        Command::Add(a) => {
            if a.name.contains('/') {
                bail!(
                    "repository name ({}) contains '/', please specify a different name without '/'",
                    a.name
                );
            }
            let mut password = a.password.clone().unwrap_or_default();
            if a.password_stdin {
                std::io::stdin()
                    .read_line(&mut password)
                    .context("reading the password from stdin")?;
                password = password.trim_end_matches(['\n', '\r']).to_string();
            }
            let abs = |f: &Option<PathBuf>| {
                f.as_ref()
                    .map(|p| {
                        std::path::absolute(p)
                            .unwrap_or_else(|_| p.clone())
                            .to_string_lossy()
                            .to_string()
                    })
                    .unwrap_or_default()
            };
            let entry = Entry {
                name: a.name.clone(),
                url: a.url.trim_end_matches('/').to_string(),
                username: a.username.clone().unwrap_or_default(),
                password,
                cert_file: abs(&a.cert_file),
                key_file: abs(&a.key_file),
                ca_file: abs(&a.ca_file),
                insecure_skip_tls_verify: a.insecure_skip_tls_verify,
                pass_credentials_all: a.pass_credentials,
            };
            let _lock = repo::lock_config(&config)?;
            let mut file = RepoFile::load(&config)?;
            if let Some(old) = file.get(&a.name) {
                if !a.force_update && old == &entry {
                    p.out(&format!(
                        "\"{}\" already exists with the same configuration, skipping\n",
                        a.name
                    ))?;
                    return Ok(ExitStatus::Success);
                }
                if !a.force_update {
                    bail!(
                        "repository name ({}) already exists, please specify a different name",
                        a.name
                    );
                }
            }
            crate::source::block_on(repo::download_index(&entry, &cache)).map_err(|e| {
                anyhow::anyhow!(
                    "looks like \"{}\" is not a valid chart repository or cannot be reached: {e}",
                    a.url
                )
            })?;
            file.repositories.retain(|e| e.name != a.name);
            file.repositories.push(entry);
            file.save(&config)?;
            p.out(&format!("\"{}\" has been added to your repositories\n", a.name))?;
        }
        Command::List => {
            let file = RepoFile::load(&config)?;
            if file.repositories.is_empty() {
                bail!("no repositories to show");
            }
            let w = file.repositories.iter().map(|e| e.name.len()).max().unwrap_or(4).max(4);
            let mut out = format!("{:<w$}\tURL\n", "NAME");
            for e in &file.repositories {
                out.push_str(&format!("{:<w$}\t{}\n", e.name, e.url));
            }
            p.out(&out)?;
        }
        Command::Update { names } => {
            let file = RepoFile::load(&config)?;
            if file.repositories.is_empty() {
                bail!("no repositories found. You must add one before updating");
            }
            let chosen: Vec<&Entry> = if names.is_empty() {
                file.repositories.iter().collect()
            } else {
                for n in &names {
                    if file.get(n).is_none() {
                        bail!("no repositories found matching '{n}'.  Nothing will be updated");
                    }
                }
                file.repositories.iter().filter(|e| names.contains(&e.name)).collect()
            };
            p.out("Hang tight while we grab the latest from your chart repositories...\n")?;
            let results = crate::source::block_on(async {
                let futs = chosen.iter().map(|e| repo::download_index(e, &cache));
                Ok(futures::future::join_all(futs).await)
            })?;
            let mut failed = Vec::new();
            for (e, r) in chosen.iter().zip(results) {
                match r {
                    Ok(_) => p.out(&format!(
                        "...Successfully got an update from the \"{}\" chart repository\n",
                        e.name
                    ))?,
                    Err(err) => {
                        p.out(&format!(
                            "...Unable to get an update from the \"{}\" chart repository ({}):\n\t{err}\n",
                            e.name, e.url
                        ))?;
                        failed.push(e.url.clone());
                    }
                }
            }
            if !failed.is_empty() {
                bail!("failed to update the following repositories: [{}]", failed.join(" "));
            }
            p.out("Update Complete. ⎈Happy Helming!⎈\n")?;
        }
        Command::Remove { names } => {
            let mut file = RepoFile::load(&config)?;
            for n in &names {
                if file.get(n).is_none() {
                    bail!("no repo named \"{n}\" found");
                }
                file.repositories.retain(|e| &e.name != n);
                file.save(&config)?;
                for f in [format!("{n}-index.yaml"), format!("{n}-charts.txt")] {
                    let _ = std::fs::remove_file(cache.join(f));
                }
                p.out(&format!("\"{n}\" has been removed from your repositories\n"))?;
            }
        }
    }
    Ok(ExitStatus::Success)
}
