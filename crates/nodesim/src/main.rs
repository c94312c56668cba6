//! nodesim: a simulated node for chartup's end-to-end test cluster.
//!
//! The test machines have no container runtime, so everything *above* the node is real (apiserver,
//! StatefulSet/Deployment/Job controllers, PV binder, garbage collector) and this process plays the
//! parts below it: it registers one Ready node, binds unscheduled pods to it (there is no
//! scheduler; with `--nodes N`, N nodes, DaemonSet pods each to the node their affinity names),
//! writes pod status as a kubelet would (see `pods.rs` for the conventions that make a
//! container crash, stay unready or miss its image), and is the dynamic provisioner for the test
//! StorageClasses, backing each claim with a real directory so that lost data is visible as lost
//! files (`storage.rs`). It is also the snapshot controller and CSI-like snapshot driver of that
//! provisioner, copying a volume's directory into a snapshot directory and back into a new volume
//! on restore, with external-snapshotter's objects and state transitions (`snapshots/`).
//!
//! Everything reacts to watches (kube::runtime controllers), and every write is either a merge
//! patch (no resourceVersion to conflict on) or a create that tolerates AlreadyExists; a failed
//! reconcile is retried by the controller's error policy.

mod images;
mod node;
mod pods;
mod snapshots;
mod storage;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context as _};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

/// Failure of one reconcile; the controller logs it and retries shortly.
#[derive(Debug)]
pub struct SimError(pub String);

impl std::fmt::Display for SimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SimError {}

impl From<kube::Error> for SimError {
    fn from(e: kube::Error) -> Self {
        SimError(format!("kube: {e}"))
    }
}

impl From<std::io::Error> for SimError {
    fn from(e: std::io::Error) -> Self {
        SimError(format!("io: {e}"))
    }
}

impl From<serde_json::Error> for SimError {
    fn from(e: serde_json::Error) -> Self {
        SimError(format!("json: {e}"))
    }
}

/// True for a 404 from the API server.
pub fn is_not_found(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 404)
}

/// True for a 409 AlreadyExists/Conflict from the API server.
pub fn is_conflict(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 409)
}

/// Command-line options.
#[derive(Debug, Clone)]
pub struct Opts {
    pub kubeconfig: Option<PathBuf>,
    pub node_name: String,
    /// How many nodes to simulate (`--nodes`, else `$NODESIM_NODES`, default 1): `node_name`, then
    /// `node_name-2`, `node_name-3`… More than one makes "node by node" observable for DaemonSets.
    pub nodes: usize,
    /// Root under which each provisioned volume gets its directory.
    pub volumes_dir: PathBuf,
    /// Where snapshots' copies live (`--snapshots-dir`, default `snapshots` beside the volumes dir).
    pub snapshots_dir: PathBuf,
    /// Image catalogue: images that "exist"; others fail to pull.
    pub images: Option<PathBuf>,
    /// Where to write a line once the node and the StorageClasses exist.
    pub ready_file: Option<PathBuf>,
}

const USAGE: &str =
    "usage: nodesim --volumes-dir DIR [--snapshots-dir DIR] [--kubeconfig FILE] [--node-name NAME] [--nodes N] [--images FILE] [--ready-file FILE]";

fn parse_args() -> anyhow::Result<Opts> {
    let mut opts = Opts {
        kubeconfig: None,
        node_name: "nodesim".to_string(),
        nodes: std::env::var("NODESIM_NODES")
            .ok()
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(1),
        volumes_dir: PathBuf::new(),
        snapshots_dir: PathBuf::new(),
        images: None,
        ready_file: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().with_context(|| format!("{a} needs a value\n{USAGE}"));
        match a.as_str() {
            "--kubeconfig" => opts.kubeconfig = Some(val()?.into()),
            "--node-name" => opts.node_name = val()?,
            "--nodes" => opts.nodes = val()?.parse().context("--nodes needs a number")?,
            "--volumes-dir" => opts.volumes_dir = val()?.into(),
            "--snapshots-dir" => opts.snapshots_dir = val()?.into(),
            "--images" => opts.images = Some(val()?.into()),
            "--ready-file" => opts.ready_file = Some(val()?.into()),
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            _ => bail!("unknown argument {a}\n{USAGE}"),
        }
    }
    if opts.nodes == 0 {
        bail!("--nodes must be at least 1\n{USAGE}");
    }
    if opts.volumes_dir.as_os_str().is_empty() {
        bail!("--volumes-dir is required\n{USAGE}");
    }
    if opts.snapshots_dir.as_os_str().is_empty() {
        opts.snapshots_dir = match opts.volumes_dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.join("snapshots"),
            _ => opts.volumes_dir.join(".snapshots"),
        };
    }
    Ok(opts)
}

async fn client(opts: &Opts) -> anyhow::Result<Client> {
    let config = match &opts.kubeconfig {
        Some(path) => {
            let kc = Kubeconfig::read_from(path).with_context(|| format!("reading {}", path.display()))?;
            Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default()).await?
        }
        None => Config::infer().await?,
    };
    Ok(Client::try_from(config)?)
}

impl Opts {
    /// The simulated nodes' names; the first takes every pod not pinned to another.
    pub fn node_names(&self) -> Vec<String> {
        (1..=self.nodes)
            .map(|i| {
                if i == 1 {
                    self.node_name.clone()
                } else {
                    format!("{}-{i}", self.node_name)
                }
            })
            .collect()
    }
}

/// Shared state of the simulator's loops.
pub struct Ctx {
    pub client: Client,
    pub opts: Opts,
    pub pods: pods::PodStates,
    pub events: snapshots::Events,
    /// CreateSnapshot attempts per content, for the `snapshot-fail-times` knob.
    pub attempts: snapshots::driver::Attempts,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,kube=warn".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
    let opts = parse_args()?;
    std::fs::create_dir_all(&opts.volumes_dir).with_context(|| format!("creating {}", opts.volumes_dir.display()))?;
    std::fs::create_dir_all(&opts.snapshots_dir)
        .with_context(|| format!("creating {}", opts.snapshots_dir.display()))?;
    let client = client(&opts).await?;
    let ctx = Arc::new(Ctx {
        client,
        opts,
        pods: pods::PodStates::default(),
        events: snapshots::Events::default(),
        attempts: snapshots::driver::Attempts::default(),
    });

    node::forget_extra(&ctx, &ctx.opts.node_names())
        .await
        .context("removing nodes of an earlier run")?;
    for name in ctx.opts.node_names() {
        node::register(&ctx, &name)
            .await
            .with_context(|| format!("registering node {name}"))?;
    }
    storage::ensure_classes(&ctx.client)
        .await
        .context("creating the StorageClasses")?;
    if let Some(f) = &ctx.opts.ready_file {
        // The lines after the first tell scripts/test-cluster.sh (and the tests) what this nodesim
        // does, so a running one that predates it is replaced: `snapshots` (it serves
        // VolumeSnapshots), `lifts` (a failing Job pod runs for its run-seconds, and waiting
        // snapshots and restores look at their delay knobs again at least every second).
        std::fs::write(f, format!("node {} ready\nsnapshots\nlifts\n", ctx.opts.node_name))?;
    }
    tracing::info!(nodes = ?ctx.opts.node_names(), "nodes registered, simulating");

    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = node::heartbeat(ctx.clone()) => {}
        _ = pods::run(ctx.clone()) => {}
        _ = storage::run_provisioner(ctx.clone()) => {}
        _ = storage::run_reaper(ctx.clone()) => {}
        _ = snapshots::controller::run(ctx.clone()) => {}
        _ = snapshots::controller::run_claims(ctx.clone()) => {}
        _ = snapshots::driver::run(ctx.clone()) => {}
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    tracing::info!("stopping");
    Ok(())
}
