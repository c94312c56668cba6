//! The snapshot flags of `plan` and `apply`, and `chartup snapshots list|prune RELEASE` (issue 15;
//! docs/snapshots.md).

use super::args::{runtime, KubeArgs};
use super::{ExitStatus, Printer};
use crate::ops;
use crate::plan::snapshots::SnapshotRequest;

/// Which volumes are snapshotted before the upgrade (default: what the plan's rules ask for).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SnapshotArgs {
    /// Snapshot every persistent claim of the release before the upgrade (refused when the
    /// cluster cannot take VolumeSnapshots)
    #[arg(long, conflicts_with = "no_snapshot")]
    pub snapshot: bool,
    /// The VolumeSnapshotClass to use (default: the matrix's, else the cluster's default class for
    /// the claims' driver)
    #[arg(long, value_name = "NAME")]
    pub snapshot_class: Option<String>,
    /// Take no snapshots, whatever the matrix or the images ask for
    #[arg(long)]
    pub no_snapshot: bool,
}

impl SnapshotArgs {
    pub fn request(&self) -> SnapshotRequest {
        SnapshotRequest {
            all: self.snapshot,
            class: self.snapshot_class.clone(),
            none: self.no_snapshot,
        }
    }
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List the VolumeSnapshots chartup took for a release, and the volumes a restore set aside
    List(ListArgs),
    /// Delete a release's snapshots of all but the newest revisions (and, with --set-aside, the
    /// volumes a restore set aside)
    Prune(PruneArgs),
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// The release's name
    #[arg(value_name = "RELEASE")]
    pub release: String,
    /// Namespace of the release
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    /// Output format
    #[arg(short = 'o', long, value_parser = ["text", "json"], default_value = "text")]
    pub output: String,
    #[command(flatten)]
    pub kube: KubeArgs,
}

#[derive(Debug, clap::Args)]
pub struct PruneArgs {
    /// The release's name
    #[arg(value_name = "RELEASE")]
    pub release: String,
    /// Keep the snapshots of this many of the newest revisions that took some (0: delete all; the
    /// default is apply's --keep-snapshots default, so a bare prune never deletes the only way back)
    #[arg(long, default_value_t = crate::executor::options::DEFAULT_KEEP_SNAPSHOTS, value_name = "N")]
    pub keep: usize,
    /// Also let go of the volumes restores set aside (their original reclaim policy is put back,
    /// so a Delete policy deletes them)
    #[arg(long)]
    pub set_aside: bool,
    /// Namespace of the release
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    #[command(flatten)]
    pub kube: KubeArgs,
}

pub fn run(c: Command, p: &mut Printer) -> anyhow::Result<ExitStatus> {
    match c {
        Command::List(a) => {
            let (taken, aside) = runtime()?.block_on(async {
                let cluster = a.kube.connect(a.namespace.as_deref()).await?;
                let ns = cluster.namespace().to_string();
                let taken = ops::snapshots::list(cluster.as_ref(), &ns, &a.release).await?;
                let aside = ops::snapshots::set_aside(cluster.as_ref(), &a.release).await?;
                Ok::<_, anyhow::Error>((taken, aside))
            })?;
            if a.output == "json" {
                let v = serde_json::json!({"snapshots": taken, "setAside": aside});
                p.out(&(serde_json::to_string_pretty(&v)? + "\n"))?;
                return Ok(ExitStatus::Success);
            }
            let mut s = String::from("REVISION\tSNAPSHOT\tCLAIM\tREADY\tRESTORE SIZE\tCREATED\n");
            for t in &taken {
                s.push_str(&format!(
                    "{}\t{}\t{}\t{}\t{}\t{}{}\n",
                    t.revision,
                    t.name,
                    t.claim,
                    t.ready,
                    if t.restore_size.is_empty() {
                        "-"
                    } else {
                        &t.restore_size
                    },
                    t.created,
                    if t.error.is_empty() {
                        String::new()
                    } else {
                        format!("\terror: {}", t.error)
                    }
                ));
            }
            for v in &aside {
                s.push_str(&format!("set aside: {v}\n"));
            }
            p.out(&s)?;
            Ok(ExitStatus::Success)
        }
        Command::Prune(a) => {
            let (gone, freed) = runtime()?.block_on(async {
                let cluster = a.kube.connect(a.namespace.as_deref()).await?;
                let ns = cluster.namespace().to_string();
                let gone = ops::snapshots::prune(cluster.as_ref(), &ns, &a.release, a.keep).await?;
                let freed = if a.set_aside {
                    ops::snapshots::release_set_aside(cluster.as_ref(), &a.release).await?
                } else {
                    vec![]
                };
                Ok::<_, anyhow::Error>((gone, freed))
            })?;
            let mut s = String::new();
            for g in &gone {
                s.push_str(&format!("deleted snapshot {g}\n"));
            }
            for f in &freed {
                s.push_str(&format!("released set-aside volume {f}\n"));
            }
            if s.is_empty() {
                s.push_str("nothing to prune\n");
            }
            p.out(&s)?;
            Ok(ExitStatus::Success)
        }
    }
}
