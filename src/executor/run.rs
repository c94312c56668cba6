//! Driving an upgrade (or a rollback) against the cluster, step by step.
//!
//! Waiting is always on an observed condition with a deadline: the executor polls the objects it
//! waits for every [`POLL`] and judges them with [`super::health`]. Polling keeps the code simple
//! and old-server friendly; 250 ms is well inside the "report within seconds" the fail-fast rule
//! asks for.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{json, Value as Json};

use super::health::{pod_health, rollout, PodHealth, Rollout, Unstick};
use super::migrate;
use crate::analysis::Verdict;
use crate::cluster::store::{SecretStore, StoreError};
use crate::cluster::{Cascade, Cluster, ClusterError, ObjRef};
use crate::diff::{component_name, Action};
use crate::manifest::{self, Document, ManifestSet, Object};
use crate::plan::saved::SavedPlan;
use crate::plan::{self, PlanOptions, ReleaseSide};
use crate::release::records::History;
use crate::release::{ChartRecord, Hook, Info, Release, Status};

const POLL: Duration = Duration::from_millis(250);

#[path = "carry.rs"]
mod carry;

// Finishing recreates (orphaned pods, ReplicaSets, DaemonSet pods): a child module, so it extends `Run`.
#[path = "recreate.rs"]
mod recreate;

// Replacing pods stuck on a bad template (kubernetes#67250): a child module, so it extends `Run`.
#[path = "unstick.rs"]
mod unstick;

/// `apply_method` written into chartup's records: `csa`, although chartup itself applies
/// server-side. Helm 4 applies the next upgrade or rollback the way the record says, and with
/// `ssa` it would apply under its own field manager without forcing conflicts, so every field
/// chartup owns would conflict (seen with helm 4.1 against chartup's records); with `csa` it does
/// a three-way merge patch, which works whoever owns the fields. Helm 3 ignores the field.
pub const HELM_APPLY_METHOD: &str = "csa";

/// How to apply.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// Go ahead although a volume's verdict is loss.
    pub accept_data_loss: bool,
    /// On failure, roll back to the last deployed revision.
    pub atomic: bool,
    /// Keep at most this many revisions (0: unlimited), never pruning the last deployed one.
    pub history_max: usize,
    /// How long one component (or hook, or migration) may take to become healthy.
    pub timeout: Duration,
    /// A command run (`sh -c`) as the pre-upgrade backup when the matrix requires one.
    pub backup_command: Option<String>,
    /// Who takes the lock, for the record (`chartup apply by root@host, pid 4242`).
    pub actor: String,
    /// How to run a migration script in the component's image when its workload carries no
    /// `chartup.io/migration-command` annotation (`sh -c`, the script's path in `$MIGRATION_FILE`).
    pub migration_command: Option<String>,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            accept_data_loss: false,
            atomic: false,
            history_max: 10,
            timeout: Duration::from_secs(300),
            backup_command: None,
            actor: default_actor(),
            migration_command: None,
        }
    }
}

/// `chartup <verb> by user@host, pid N`: who holds a lock.
pub fn default_actor() -> String {
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into());
    format!("{user}@{host}, pid {}", std::process::id())
}

/// What the executor reports as it goes (one line each on a terminal, one JSON event with `-o json`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "event", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum Progress {
    /// A step starts (`backup`, `pre-upgrade hooks`, `component bookkeeper`…).
    Step { step: String },
    /// A component's progress: `bookkeeper  2/3 updated  2 ready`.
    Component {
        component: String,
        updated: i64,
        desired: i64,
        ready: i64,
        elapsed_ms: u128,
    },
    /// One pod was replaced and is Ready on the new spec.
    PodReplaced {
        component: String,
        pod: String,
        elapsed_ms: u128,
    },
    /// Something worth knowing that does not stop the run.
    Warning { message: String },
    /// The step succeeded.
    Done { step: String, elapsed_ms: u128 },
}

/// Receives progress (the CLI prints it).
pub trait Reporter {
    fn report(&mut self, p: Progress);
}

impl<F: FnMut(Progress)> Reporter for F {
    fn report(&mut self, p: Progress) {
        self(p)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("refusing to apply:\n{}", .0.iter().map(|r| format!("  - {r}")).collect::<Vec<_>>().join("\n"))]
    Refused(Vec<String>),
    #[error(
        "release {release} is locked by revision {revision} ({status}, since {since}): {description}\n  \
         if that operation is dead, run `chartup recover {release} -n {namespace}`"
    )]
    Locked {
        release: String,
        namespace: String,
        revision: u32,
        status: Status,
        since: String,
        description: String,
    },
    #[error("the plan is stale: {0}\n  make a new plan against the current release")]
    Stale(String),
    #[error("{message}")]
    Failed {
        revision: u32,
        message: String,
        /// With `--atomic`: the rollback's revision, or why the rollback failed too.
        rollback: Option<Result<u32, String>>,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    #[error("{0}")]
    Other(String),
}

impl ApplyError {
    /// True when a rollback was attempted and failed as well.
    pub fn rollback_failed(&self) -> bool {
        matches!(
            self,
            ApplyError::Failed {
                rollback: Some(Err(_)),
                ..
            }
        )
    }
}

fn ms(t: Instant) -> u128 {
    t.elapsed().as_millis()
}

pub(super) fn obj_ref(o: &Object) -> ObjRef {
    ObjRef {
        api_version: o.api_version.clone(),
        kind: o.key.kind.clone(),
        namespace: o.key.namespace.clone(),
        name: o.key.name.clone(),
    }
}

/// The object as Helm writes it to the cluster: labelled `app.kubernetes.io/managed-by: Helm` and
/// annotated with the owning release (`meta.helm.sh/release-name`/`-namespace`), so the real helm
/// accepts chartup's objects as its own on its next upgrade or rollback. The release manifest keeps
/// the rendered text; only the applied body carries these.
pub fn owned(obj: &Json, release: &str, ns: &str) -> Json {
    let mut o = obj.clone();
    if let Some(meta) = o.get_mut("metadata").and_then(Json::as_object_mut) {
        let labels = meta.entry("labels").or_insert_with(|| json!({}));
        if let Some(l) = labels.as_object_mut() {
            l.insert("app.kubernetes.io/managed-by".into(), json!("Helm"));
        } else {
            *labels = json!({"app.kubernetes.io/managed-by": "Helm"});
        }
        let ann = meta.entry("annotations").or_insert_with(|| json!({}));
        if !ann.is_object() {
            *ann = json!({});
        }
        if let Some(a) = ann.as_object_mut() {
            a.insert("meta.helm.sh/release-name".into(), json!(release));
            a.insert("meta.helm.sh/release-namespace".into(), json!(ns));
        }
    }
    o
}

/// Helm's release manifest text: `---\n# Source: <path>\n<doc>\n` per document.
pub fn manifest_text(docs: &[Document]) -> String {
    let mut out = String::new();
    for d in docs {
        out.push_str("---\n");
        // Documents split from a rendering keep their `# Source:` line; others get one.
        if !d.source.is_empty() && !d.text.trim_start().starts_with("# Source:") {
            out.push_str(&format!("# Source: {}\n", d.source));
        }
        out.push_str(d.text.trim_end_matches('\n'));
        out.push('\n');
    }
    out
}

pub(super) fn hook_events(o: &Object) -> Vec<String> {
    o.annotation("helm.sh/hook")
        .map(|h| {
            h.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

fn is_hook(o: &Object) -> bool {
    !hook_events(o).is_empty()
}

fn hook_weight(o: &Object) -> i64 {
    o.annotation("helm.sh/hook-weight")
        .and_then(|w| w.trim().parse().ok())
        .unwrap_or(0)
}

fn delete_policies(o: &Object) -> Vec<String> {
    match o.annotation("helm.sh/hook-delete-policy") {
        Some(p) => p
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
        None => vec!["before-hook-creation".to_string()],
    }
}

/// The hooks of a rendered side, as Helm records them in a release.
fn release_hooks(set: &ManifestSet) -> Vec<Hook> {
    set.objects
        .iter()
        .filter(|o| is_hook(o))
        .map(|o| Hook {
            name: o.key.name.clone(),
            kind: o.key.kind.clone(),
            path: o.source.clone(),
            // Helm keeps the document without its `# Source:` line.
            manifest: o
                .text
                .strip_prefix(&format!("# Source: {}\n", o.source))
                .unwrap_or(&o.text)
                .to_string(),
            events: hook_events(o),
            weight: hook_weight(o),
            delete_policies: delete_policies(o),
            ..Default::default()
        })
        .collect()
}

fn split_hooks(docs: &[Document], ns: &str) -> Result<(ManifestSet, Vec<Document>), ApplyError> {
    let set = manifest::parse_documents(docs.to_vec(), ns).map_err(|e| ApplyError::Other(e.to_string()))?;
    let plain: Vec<Document> = set
        .objects
        .iter()
        .filter(|o| !is_hook(o))
        .map(|o| Document {
            source: o.source.clone(),
            text: o.text.clone(),
        })
        .collect();
    Ok((set, plain))
}

/// A journal line appended to the pending record, for `recover`.
fn journal(rel: &mut Release, line: impl Into<String>) {
    let entry = json!({ "at": jiff::Timestamp::now().to_string(), "step": line.into() });
    match rel.extra.get_mut("chartup_journal").and_then(Json::as_array_mut) {
        Some(a) => a.push(entry),
        None => {
            rel.extra.insert("chartup_journal".into(), Json::Array(vec![entry]));
        }
    }
}

/// The journal of a record, one line per step.
pub fn journal_lines(rel: &Release) -> Vec<String> {
    rel.extra
        .get("chartup_journal")
        .and_then(Json::as_array)
        .map(|a| {
            a.iter()
                .map(|e| {
                    format!(
                        "{}  {}",
                        e["at"].as_str().unwrap_or(""),
                        e["step"].as_str().unwrap_or("")
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Refusals that hold before anything changes.
fn refusals(saved: &SavedPlan, opts: &ApplyOptions) -> Vec<String> {
    let plan = &saved.plan;
    let mut out = plan.refusals.clone();
    if !opts.accept_data_loss {
        for v in plan.volumes.iter().filter(|v| v.verdict == Verdict::Loss) {
            out.push(format!(
                "volume {} of {} would be lost: {} (pass --accept-data-loss to go ahead anyway)",
                v.volume, v.component, v.reason
            ));
        }
        if plan.volumes.iter().all(|v| v.verdict != Verdict::Loss) && plan.verdict == Verdict::Loss {
            out.push("the compatibility matrix says this upgrade loses data (pass --accept-data-loss)".into());
        }
    }
    if backup_required(saved) && opts.backup_command.is_none() && backup_jobs(saved).is_empty() {
        out.push(
            "the compatibility matrix requires a backup before this upgrade, and none is configured: pass \
             --backup-command CMD or ship a Job annotated chartup.io/backup: \"true\" in the chart"
                .into(),
        );
    }
    if let Some(stops) = saved.plan.matrix.as_ref().and_then(|m| intermediate_stops(&m.path)) {
        // The matrix forbids the direct jump; applying the target chart now would be that jump.
        out.push(format!(
            "the compatibility matrix allows this upgrade only through {}: apply one hop at a time — plan and \
             apply the upgrade to {} first",
            stops.join(", "),
            stops[0]
        ));
    }
    if let Some(m) = &saved.plan.matrix {
        let to = manifest::parse_documents(saved.manifests.to.clone(), &plan.release.namespace).unwrap_or_default();
        for mg in m.hops.iter().flat_map(|h| h.migrations.iter()) {
            let comp = mg.component.clone().unwrap_or_default();
            let annotated = to.objects.iter().any(|o| {
                o.is_workload()
                    && (component_name(o) == comp || o.key.name.contains(&comp))
                    && o.annotation("chartup.io/migration-command").is_some()
            });
            if !annotated && opts.migration_command.is_none() {
                out.push(format!(
                    "migration {} must run in component {comp:?}, but its workload has no chartup.io/migration-command \
                     annotation and no --migration-command was given",
                    mg.file
                ));
            }
        }
    }
    if !saved.verify() {
        out.push("the saved plan's fingerprint does not match its content: it was edited after review".into());
    }
    out
}

/// The versions a matrix path stops at between its ends, if any.
fn intermediate_stops(path: &[String]) -> Option<Vec<String>> {
    (path.len() > 2).then(|| path[1..path.len() - 1].to_vec())
}

fn backup_required(saved: &SavedPlan) -> bool {
    saved
        .plan
        .matrix
        .as_ref()
        .is_some_and(|m| m.hops.iter().any(|h| h.backup_required))
}

/// A Job of the chart annotated `chartup.io/backup: "true"`: run (deleted and created again) as
/// the backup when the matrix requires one, and otherwise left alone like a hook.
fn is_backup_job(o: &Object) -> bool {
    o.key.kind == "Job" && o.annotation("chartup.io/backup") == Some("true")
}

fn backup_jobs(saved: &SavedPlan) -> Vec<Document> {
    let ns = &saved.plan.release.namespace;
    manifest::parse_documents(saved.manifests.to.clone(), ns)
        .map(|set| {
            set.objects
                .iter()
                .filter(|o| is_backup_job(o))
                .map(|o| Document {
                    source: o.source.clone(),
                    text: o.text.clone(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Compare the plan's starting point with the revision the cluster has deployed.
fn staleness(saved: &SavedPlan, history: &History) -> Option<String> {
    let ns = &saved.plan.release.namespace;
    let base = history.baseline();
    match (saved.plan.base_revision, base) {
        (Some(want), Some(have)) if u64::from(have.version) != want => {
            return Some(format!(
                "it was made against revision {want}, but the release is at revision {}",
                have.version
            ))
        }
        (Some(want), None) => {
            return Some(format!(
                "it was made against revision {want}, but the release has no revisions"
            ))
        }
        _ => {}
    }
    let from = manifest::parse_documents(saved.manifests.from.clone(), ns).ok()?;
    let from_plain: Vec<&Object> = from.objects.iter().filter(|o| !is_hook(o)).collect();
    match base {
        None if !from_plain.is_empty() => {
            Some("it upgrades from a deployed release, but the release does not exist".to_string())
        }
        Some(b) => {
            let deployed = manifest::parse_manifest(&b.manifest, ns).ok()?;
            let same = deployed.objects.len() == from_plain.len()
                && from_plain
                    .iter()
                    .all(|o| deployed.get(&o.key).is_some_and(|d| d.value == o.value));
            (!same).then(|| {
                format!(
                    "revision {} of {} is deployed with other manifests than the plan's starting point",
                    b.version, b.name
                )
            })
        }
        None => None,
    }
}

fn chart_record(saved: &SavedPlan) -> ChartRecord {
    if let Some(c) = saved
        .chart
        .as_ref()
        .and_then(|c| serde_json::from_value::<ChartRecord>(c.clone()).ok())
    {
        return c;
    }
    let mut c = ChartRecord::default();
    if let Some(ch) = &saved.plan.to.chart {
        c.metadata.insert("name".into(), json!(ch.name));
        c.metadata.insert("version".into(), json!(ch.version));
        if let Some(a) = &ch.app_version {
            c.metadata.insert("appVersion".into(), json!(a));
        }
        c.metadata.insert("apiVersion".into(), json!("v2"));
    }
    c
}

/// Apply a reviewed plan. Returns the new revision.
pub async fn apply(
    cluster: &Cluster,
    saved: &SavedPlan,
    opts: &ApplyOptions,
    rep: &mut dyn Reporter,
) -> Result<u32, ApplyError> {
    let release = saved.plan.release.name.clone();
    let ns = saved.plan.release.namespace.clone();
    let refused = refusals(saved, opts);
    if !refused.is_empty() {
        return Err(ApplyError::Refused(refused));
    }
    let store = SecretStore::new(cluster, &ns);
    let history = store.history(&release).await?;
    if let Some(h) = history.lock_holder() {
        return Err(locked(h, &ns));
    }
    if let Some(why) = staleness(saved, &history) {
        return Err(ApplyError::Stale(why));
    }
    if !saved.live_versions.is_empty() {
        // A run of this very plan that crashed and was recovered changed objects itself: resuming
        // it is what `recover` is for, so its own changes do not make the plan stale.
        let resumed = history.revisions.iter().any(|r| {
            r.status() == Status::Failed
                && r.extra.get("chartup_plan").and_then(Json::as_str) == Some(&saved.fingerprint)
        });
        let sets = [
            &super::live::set_of(&saved.manifests.from, &ns),
            &super::live::set_of(&saved.manifests.to, &ns),
        ];
        let changed = super::live::changed_since(cluster, &saved.live_versions, &sets).await?;
        if !changed.is_empty() {
            if resumed {
                rep.report(Progress::Warning {
                    message: format!(
                        "resuming plan {} after a recovered run: {} object(s) changed since planning, by that run",
                        saved.fingerprint,
                        changed.len()
                    ),
                });
            } else {
                return Err(ApplyError::Stale(format!(
                    "live objects changed since planning:\n    {}",
                    changed.join("\n    ")
                )));
            }
        }
    }
    carry::preflight(cluster, saved).await?;
    let (to_set, to_plain) = split_hooks(&saved.manifests.to, &ns)?;
    let from_set =
        manifest::parse_documents(saved.manifests.from.clone(), &ns).map_err(|e| ApplyError::Other(e.to_string()))?;
    let installing = history.baseline().is_none();
    // Every write is dry-run before the first one (record pruning, the pending record): preflight.rs.
    let event = if installing { "install" } else { "upgrade" };
    super::preflight::check(cluster, saved, &from_set, &to_set, event, opts, rep).await?;
    let revision = history.next_revision();
    let now = jiff::Timestamp::now();
    let mut rel = Release {
        name: release.clone(),
        info: Info {
            first_deployed: history
                .revisions
                .first()
                .and_then(|r| r.info.first_deployed)
                .or(Some(now)),
            last_deployed: Some(now),
            status: if installing {
                Status::PendingInstall
            } else {
                Status::PendingUpgrade
            },
            description: format!("chartup apply by {} in progress", opts.actor),
            ..Default::default()
        },
        chart: chart_record(saved),
        // Helm writes `{}` when no values were given.
        config: saved.config.clone().unwrap_or_else(|| json!({})),
        manifest: manifest_text(&to_plain),
        hooks: release_hooks(&to_set),
        version: revision,
        namespace: ns.clone(),
        apply_method: HELM_APPLY_METHOD.into(),
        extra: Default::default(),
    };
    rel.extra.insert("chartup_plan".into(), json!(saved.fingerprint));
    super::migrate::carry_schema(&history.revisions, &mut rel);
    if !saved.plan.rollout.is_empty() {
        // The matrix's component order, so a later rollback (which has no matrix) keeps it.
        let order: Vec<&str> = saved.plan.rollout.iter().map(|s| s.component.as_str()).collect();
        rel.extra.insert("chartup_order".into(), json!(order));
    }
    for old in history.prune_before_create(opts.history_max) {
        store.delete(&release, old).await?;
    }
    match store.create(&rel).await {
        Ok(()) => {}
        Err(StoreError::Conflict { .. }) => {
            let h = store.history(&release).await?;
            return Err(h.lock_holder().map(|r| locked(r, &ns)).unwrap_or_else(|| {
                ApplyError::Stale(format!(
                    "revision {revision} was written by another operation meanwhile"
                ))
            }));
        }
        Err(e) => return Err(e.into()),
    }

    let mut run = Run {
        cluster,
        store: &store,
        rel: &mut rel,
        rep,
        opts,
        timeout: opts.timeout,
    };
    let result = run.upgrade(saved, &from_set, &to_set, event).await;
    match result {
        Ok(()) => {
            let desc = if installing {
                "Install complete"
            } else {
                "Upgrade complete"
            };
            finish(&store, &history, &mut rel, Status::Deployed, desc).await?;
            Ok(revision)
        }
        Err(e) => {
            let message = format!("UpgradeFailed: {e}");
            finish(&store, &history, &mut rel, Status::Failed, &message).await?;
            let rollback = if opts.atomic {
                match history.deployed().map(|r| r.version) {
                    Some(target) => {
                        rep.report(Progress::Step {
                            step: format!("rolling back to revision {target} (--atomic)"),
                        });
                        Some(
                            rollback(cluster, &release, &ns, Some(target), opts, rep)
                                .await
                                .map_err(|e| e.to_string()),
                        )
                    }
                    None => Some(Err("there is no deployed revision to roll back to".into())),
                }
            } else {
                None
            };
            Err(ApplyError::Failed {
                revision,
                message,
                rollback,
            })
        }
    }
}

fn locked(h: &Release, ns: &str) -> ApplyError {
    ApplyError::Locked {
        release: h.name.clone(),
        namespace: ns.to_string(),
        revision: h.version,
        status: h.status(),
        since: h
            .info
            .last_deployed
            .map(|t| t.to_string())
            .unwrap_or_else(|| "an unknown time".into()),
        description: h.info.description.clone(),
    }
}

/// Close the pending record and supersede the revision it replaces.
async fn finish(
    store: &SecretStore<'_>,
    history: &History,
    rel: &mut Release,
    status: Status,
    description: &str,
) -> Result<(), ApplyError> {
    rel.info.status = status;
    rel.info.description = description.to_string();
    journal(rel, format!("finished: {description}"));
    store.update(rel).await?;
    if status == Status::Deployed {
        for old in history
            .revisions
            .iter()
            .filter(|r| r.status() == Status::Deployed && r.version != rel.version)
        {
            let mut o = old.clone();
            o.info.status = Status::Superseded;
            store.update(&o).await?;
        }
    }
    Ok(())
}

/// One run of the executor, holding the pending record it journals into.
struct Run<'a, 'b> {
    cluster: &'a Cluster,
    store: &'a SecretStore<'a>,
    rel: &'b mut Release,
    rep: &'b mut dyn Reporter,
    opts: &'a ApplyOptions,
    /// What waits are bounded by now: `--timeout`, or the matrix's timeout for the component
    /// being rolled out.
    timeout: std::time::Duration,
}

impl Run<'_, '_> {
    async fn note(&mut self, line: String) -> Result<(), ApplyError> {
        journal(self.rel, line);
        self.store.update(self.rel).await?;
        Ok(())
    }

    async fn upgrade(
        &mut self,
        saved: &SavedPlan,
        from: &ManifestSet,
        to: &ManifestSet,
        event: &str,
    ) -> Result<(), ApplyError> {
        let ns = saved.plan.release.namespace.clone();
        let release = saved.plan.release.name.clone();
        // 0. A rollback's down-migrations, before anything rolls back (see executor::migrate).
        self.undo_migrations(&release, &ns).await?;
        // 1. Backup.
        if backup_required(saved) {
            self.backup(saved, &ns).await?;
        }
        // 2. Pre hooks.
        self.hooks(to, &format!("pre-{event}")).await?;
        // 3. Everything that is not a pod controller, in Helm's install order.
        let changes: BTreeMap<_, _> = saved.plan.changes.iter().map(|c| (c.key.clone(), c)).collect();
        self.rep.report(Progress::Step {
            step: "configuration and services".into(),
        });
        for o in to.objects.iter().filter(|o| !is_hook(o) && !o.is_workload()) {
            let action = changes.get(&o.key).map(|c| c.action).unwrap_or(Action::Add);
            if action == Action::Unchanged || carry::is_carry_target(saved, &o.key) {
                continue;
            }
            if action == Action::Recreate {
                self.cluster.delete(&obj_ref(o), Cascade::Background, false).await?;
                self.wait_gone(&obj_ref(o)).await?;
            }
            self.cluster.apply(&owned(&o.value, &release, &ns), false).await?;
        }
        self.note("applied configuration objects".into()).await?;

        // 4. Workloads, component by component.
        let steps = component_steps(saved, to);
        for (component, keys) in steps {
            self.timeout = saved
                .plan
                .matrix
                .as_ref()
                .and_then(|m| m.timeouts.get(&component))
                .map(|s| std::time::Duration::from_secs(*s))
                .unwrap_or(self.opts.timeout);
            self.rep.report(Progress::Step {
                step: format!("component {component}"),
            });
            let t = Instant::now();
            for key in &keys {
                let Some(o) = to.get(key) else { continue };
                let change = changes.get(key);
                let action = change.map(|c| c.action).unwrap_or(Action::Add);
                if action == Action::Unchanged {
                    continue;
                }
                self.carry_before(saved, from, key).await?;
                if matches!(action, Action::Recreate | Action::KindChange) {
                    let old_key = change.and_then(|c| c.old_key.clone()).unwrap_or_else(|| key.clone());
                    // Recreated already (an interrupted run, or by hand): not deleted again.
                    let fields: Vec<String> = change
                        .map(|c| c.immutable.iter().map(|f| f.field.clone()).collect())
                        .unwrap_or_default();
                    let done = action == Action::Recreate
                        && self
                            .cluster
                            .get(&obj_ref(o))
                            .await?
                            .is_some_and(|live| recreate::already_recreated(&live, &o.value, &fields));
                    if done {
                        self.note(format!(
                            "{} already has the new immutable fields: not deleted again",
                            o.key
                        ))
                        .await?;
                    } else if let Some(old) = from.get(&old_key) {
                        // Orphan the pods: the new controller adopts or replaces them one by one.
                        let cascade = if action == Action::Recreate {
                            Cascade::Orphan
                        } else {
                            Cascade::Background
                        };
                        self.cluster.delete(&obj_ref(old), cascade, false).await?;
                        self.wait_gone(&obj_ref(old)).await?;
                        self.note(format!("deleted {} for {}", old.key, action.as_str()))
                            .await?;
                    }
                }
                let (live, _) = self.cluster.apply(&owned(&o.value, &release, &ns), false).await?;
                self.note(format!("applied {}", o.key)).await?;
                // A recreate leaves the old pods orphaned: recreate.rs replaces them one at a time.
                let old = change.and_then(|c| c.old_key.clone()).unwrap_or_else(|| key.clone());
                match from.get(&old) {
                    Some(old) if action == Action::Recreate => {
                        self.roll_recreated(&component, old, o, &live, t).await?
                    }
                    _ => self.roll(&component, o, &live, t).await?,
                }
            }
            self.timeout = self.opts.timeout;
            self.rep.report(Progress::Done {
                step: format!("component {component}"),
                elapsed_ms: ms(t),
            });
            self.note(format!("component {component} healthy")).await?;
        }

        // 5. Post hooks.
        self.hooks(to, &format!("post-{event}")).await?;
        // 6. Migrations, after the whole rollout is healthy.
        self.migrations(saved, to, &release, &ns).await?;
        // 7. Prune what left the chart.
        self.prune(saved, from).await?;
        Ok(())
    }

    async fn wait_gone(&mut self, r: &ObjRef) -> Result<(), ApplyError> {
        let deadline = Instant::now() + self.timeout;
        while self.cluster.get(r).await?.is_some() {
            if Instant::now() > deadline {
                return Err(ApplyError::Other(format!(
                    "{r} was not deleted within {:?}",
                    self.timeout
                )));
            }
            tokio::time::sleep(POLL).await;
        }
        Ok(())
    }

    /// Bring one applied workload to health: pod by pod for OnDelete StatefulSets, else follow
    /// the controller's rollout. Fails fast on a broken pod.
    async fn roll(&mut self, component: &str, o: &Object, applied: &Json, t0: Instant) -> Result<(), ApplyError> {
        let r = obj_ref(o);
        // Jobs and bare pods run to completion: there is no rollout to follow (a Job's status has
        // no observedGeneration to wait for), and a CronJob has nothing to wait for.
        match o.key.kind.as_str() {
            "Job" | "Pod" => return self.complete(&r).await,
            "CronJob" => return Ok(()),
            _ => {}
        }
        let selector = match_labels(&o.value);
        let on_delete = o.key.kind == "StatefulSet"
            && o.value.pointer("/spec/updateStrategy/type").and_then(Json::as_str) == Some("OnDelete");
        let deadline = Instant::now() + self.timeout;
        // Wait for the controller to see the new generation.
        let gen = applied
            .pointer("/metadata/generation")
            .and_then(Json::as_i64)
            .unwrap_or(0);
        let live = loop {
            let live = self
                .cluster
                .get(&r)
                .await?
                .ok_or_else(|| ApplyError::Other(format!("{r} vanished")))?;
            if live
                .pointer("/status/observedGeneration")
                .and_then(Json::as_i64)
                .unwrap_or(0)
                >= gen
            {
                break live;
            }
            self.check_deadline(deadline, &r, "to be observed by its controller")?;
            tokio::time::sleep(POLL).await;
        };
        if on_delete {
            let update_rev = live
                .pointer("/status/updateRevision")
                .and_then(Json::as_str)
                .unwrap_or("")
                .to_string();
            let desired = live.pointer("/spec/replicas").and_then(Json::as_i64).unwrap_or(1);
            // Highest ordinal first, as the StatefulSet controller updates; one pod at a time.
            for ord in (0..desired).rev() {
                let name = format!("{}-{ord}", o.key.name);
                let pod_ref = ObjRef {
                    api_version: "v1".into(),
                    kind: "Pod".into(),
                    namespace: o.key.namespace.clone(),
                    name: name.clone(),
                };
                let t = Instant::now();
                let current = self.cluster.get(&pod_ref).await?;
                let on_new_spec = current.as_ref().is_some_and(|p| {
                    p.pointer("/metadata/labels/controller-revision-hash")
                        .and_then(Json::as_str)
                        == Some(update_rev.as_str())
                });
                let old_uid = match &current {
                    Some(p) if !on_new_spec => {
                        let uid = p.pointer("/metadata/uid").cloned();
                        self.cluster.delete(&pod_ref, Cascade::Background, false).await?;
                        self.note(format!("deleted pod {name} to update it")).await?;
                        uid
                    }
                    _ => None,
                };
                self.wait_pod(&pod_ref, old_uid.as_ref(), &update_rev).await?;
                if !on_new_spec {
                    // Journal first: whatever was reported must be in the record if we die now.
                    self.note(format!("pod {name} Ready on the new spec")).await?;
                    self.rep.report(Progress::PodReplaced {
                        component: component.into(),
                        pod: name.clone(),
                        elapsed_ms: ms(t),
                    });
                }
                let live = self.cluster.get(&r).await?.unwrap_or(Json::Null);
                self.progress(component, &live, t0);
            }
            // Then the controller's own account must agree (no extra pods, status caught up).
            loop {
                let live = self.cluster.get(&r).await?.unwrap_or(Json::Null);
                let n = |p: &str| live.pointer(p).and_then(Json::as_i64).unwrap_or(0);
                if n("/status/updatedReplicas") >= desired
                    && n("/status/readyReplicas") >= desired
                    && n("/status/replicas") <= desired
                {
                    self.progress(component, &live, t0);
                    return Ok(());
                }
                if Instant::now() > deadline {
                    let pods = self.pods(&o.key.namespace, &selector).await?;
                    return Err(self.timed_out(&r, "to report every pod updated and ready", &pods));
                }
                tokio::time::sleep(POLL).await;
            }
        }
        let mut last = String::new();
        loop {
            let live = self
                .cluster
                .get(&r)
                .await?
                .ok_or_else(|| ApplyError::Other(format!("{r} vanished")))?;
            let pods = self.pods(&o.key.namespace, &selector).await?;
            // Pods stuck on an earlier, bad template are replaced (or left to their controller),
            // not taken for the new template's failure.
            let leave = match super::health::stuck_pods(&live, &pods) {
                Unstick::Replace(stuck) => {
                    let update_rev = live
                        .pointer("/status/updateRevision")
                        .and_then(Json::as_str)
                        .unwrap_or("");
                    self.replace_stuck(component, &r, &update_rev.to_string(), &stuck)
                        .await?;
                    continue;
                }
                Unstick::ControllerReplaces(names) => names,
                Unstick::Nothing => vec![],
            };
            for p in pods.iter().filter(|p| {
                !leave
                    .iter()
                    .any(|n| Some(n.as_str()) == p.pointer("/metadata/name").and_then(Json::as_str))
            }) {
                if let PodHealth::Broken {
                    container,
                    reason,
                    message,
                } = pod_health(p)
                {
                    let name = p.pointer("/metadata/name").and_then(Json::as_str).unwrap_or("");
                    return Err(broken(name, &container, &reason, &message));
                }
            }
            // A StatefulSet's status can read done while pods it adopted (a recreate) are still on
            // the old template: believe it only when the pods agree.
            let verdict = match rollout(&live) {
                Rollout::Done if o.key.kind == "StatefulSet" => match super::health::set_pods_behind(&live, &pods) {
                    Some(detail) => Rollout::InProgress { detail },
                    None => Rollout::Done,
                },
                v => v,
            };
            match verdict {
                Rollout::Done => {
                    self.progress(component, &live, t0);
                    return Ok(());
                }
                Rollout::InProgress { detail } => {
                    if detail != last {
                        self.progress(component, &live, t0);
                        last = detail;
                    }
                }
            }
            if Instant::now() > deadline {
                let pods = self.pods(&o.key.namespace, &selector).await?;
                return Err(self.timed_out(&r, "to roll out", &pods));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Wait until the pod exists as a new pod (not `old_uid`) on `update_rev` and is Ready; fail
    /// fast when it is broken.
    async fn wait_pod(&mut self, pod_ref: &ObjRef, old_uid: Option<&Json>, update_rev: &str) -> Result<(), ApplyError> {
        let deadline = Instant::now() + self.timeout;
        loop {
            if let Some(np) = self.cluster.get(pod_ref).await? {
                let fresh = old_uid.is_none_or(|u| np.pointer("/metadata/uid") != Some(u));
                let h = np
                    .pointer("/metadata/labels/controller-revision-hash")
                    .and_then(Json::as_str)
                    .unwrap_or("");
                if fresh && h == update_rev {
                    match pod_health(&np) {
                        PodHealth::Ready => return Ok(()),
                        PodHealth::Broken {
                            reason,
                            message,
                            container,
                        } => return Err(broken(&pod_ref.name, &container, &reason, &message)),
                        PodHealth::Failed { reason, message } => {
                            return Err(ApplyError::Other(format!(
                                "pod {} failed: {reason} {message}",
                                pod_ref.name
                            )))
                        }
                        _ => {}
                    }
                }
            }
            if Instant::now() > deadline {
                let pods: Vec<Json> = self.cluster.get(pod_ref).await?.into_iter().collect();
                return Err(self.timed_out(pod_ref, "to be Ready on the new spec", &pods));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    fn progress(&mut self, component: &str, live: &Json, t0: Instant) {
        let n = |p: &str| live.pointer(p).and_then(Json::as_i64).unwrap_or(0);
        let desired = live.pointer("/spec/replicas").and_then(Json::as_i64).unwrap_or(1);
        // A DaemonSet counts per node, under other names.
        let (updated, desired, ready) = if live.pointer("/kind").and_then(Json::as_str) == Some("DaemonSet") {
            (
                n("/status/updatedNumberScheduled"),
                n("/status/desiredNumberScheduled"),
                n("/status/numberReady"),
            )
        } else {
            (
                n("/status/updatedReplicas"),
                desired,
                n("/status/readyReplicas").max(n("/status/availableReplicas")),
            )
        };
        self.rep.report(Progress::Component {
            component: component.into(),
            updated,
            desired,
            ready,
            elapsed_ms: ms(t0),
        });
    }

    /// The error when a workload (or pod) is not healthy by its deadline: it names the pod that is
    /// not ready, with its reason and message, as a broken pod's error does.
    fn timed_out(&self, r: &ObjRef, what: &str, pods: &[Json]) -> ApplyError {
        let stuck = pods.iter().find_map(|p| {
            let name = p.pointer("/metadata/name").and_then(Json::as_str).unwrap_or("");
            super::health::unready_detail(p).map(|d| (name.to_string(), d))
        });
        match stuck {
            Some((pod, (container, reason, message))) => {
                let container = if container.is_empty() {
                    String::new()
                } else {
                    format!(" (container {container})")
                };
                ApplyError::Other(format!(
                    "pod {pod}{container} is still {reason} after the {:?} timeout: {message} (waiting for {r} {what})",
                    self.timeout
                ))
            }
            None => ApplyError::Other(format!("timed out after {:?} waiting for {r} {what}", self.timeout)),
        }
    }

    fn check_deadline(&self, deadline: Instant, r: &ObjRef, what: &str) -> Result<(), ApplyError> {
        if Instant::now() > deadline {
            return Err(ApplyError::Other(format!(
                "timed out after {:?} waiting for {r} {what}",
                self.timeout
            )));
        }
        Ok(())
    }

    async fn pods(&self, ns: &str, selector: &str) -> Result<Vec<Json>, ApplyError> {
        if selector.is_empty() {
            return Ok(vec![]);
        }
        Ok(self.cluster.list("v1", "Pod", ns, Some(selector)).await?)
    }

    /// Run the hooks for `event` by weight then name, honouring delete policies.
    async fn hooks(&mut self, to: &ManifestSet, event: &str) -> Result<(), ApplyError> {
        let mut hooks: Vec<&Object> = to
            .objects
            .iter()
            .filter(|o| hook_events(o).iter().any(|e| e == event))
            .collect();
        if hooks.is_empty() {
            return Ok(());
        }
        hooks.sort_by(|a, b| hook_weight(a).cmp(&hook_weight(b)).then(a.key.name.cmp(&b.key.name)));
        self.rep.report(Progress::Step {
            step: format!("{event} hooks"),
        });
        for h in hooks {
            let policies = delete_policies(h);
            let r = obj_ref(h);
            if policies.iter().any(|p| p == "before-hook-creation") {
                self.cluster.delete(&r, Cascade::Background, false).await?;
                self.wait_gone(&r).await?;
            }
            self.cluster.apply(&h.value, false).await?;
            let ok = self.complete(&r).await;
            let delete = match &ok {
                Ok(()) => policies.iter().any(|p| p == "hook-succeeded"),
                Err(_) => policies.iter().any(|p| p == "hook-failed"),
            };
            if delete {
                self.cluster.delete(&r, Cascade::Background, false).await?;
            }
            ok.map_err(|e| ApplyError::Other(format!("{event} hook {}: {e}", h.key)))?;
            self.note(format!("{event} hook {} succeeded", h.key)).await?;
        }
        Ok(())
    }

    /// Wait for a Job (or Pod) to complete; other kinds are done once applied.
    async fn complete(&mut self, r: &ObjRef) -> Result<(), ApplyError> {
        let deadline = Instant::now() + self.timeout;
        loop {
            let live = self.cluster.get(r).await?.unwrap_or(Json::Null);
            match r.kind.as_str() {
                "Job" => {
                    let conds = live
                        .pointer("/status/conditions")
                        .and_then(Json::as_array)
                        .cloned()
                        .unwrap_or_default();
                    let has = |t: &str| conds.iter().any(|c| c["type"] == t && c["status"] == "True");
                    if has("Complete") {
                        return Ok(());
                    }
                    if has("Failed") {
                        return Err(ApplyError::Other(format!("{r} failed")));
                    }
                    let selector = format!("job-name={}", r.name);
                    for p in self.pods(&r.namespace, &selector).await? {
                        if let PodHealth::Broken {
                            container,
                            reason,
                            message,
                        } = pod_health(&p)
                        {
                            let name = p.pointer("/metadata/name").and_then(Json::as_str).unwrap_or("");
                            return Err(broken(name, &container, &reason, &message));
                        }
                    }
                }
                "Pod" => match pod_health(&live) {
                    PodHealth::Succeeded => return Ok(()),
                    PodHealth::Failed { reason, message } => {
                        return Err(ApplyError::Other(format!("{r} failed: {reason} {message}")))
                    }
                    PodHealth::Broken {
                        container,
                        reason,
                        message,
                    } => return Err(broken(&r.name, &container, &reason, &message)),
                    _ => {}
                },
                _ => return Ok(()),
            }
            self.check_deadline(deadline, r, "to complete")?;
            tokio::time::sleep(POLL).await;
        }
    }

    async fn backup(&mut self, saved: &SavedPlan, ns: &str) -> Result<(), ApplyError> {
        self.rep.report(Progress::Step { step: "backup".into() });
        let t = Instant::now();
        if let Some(cmd) = &self.opts.backup_command {
            let status = tokio::process::Command::new("sh")
                .arg("-c")
                .arg(cmd)
                .env("CHARTUP_RELEASE", &saved.plan.release.name)
                .env("CHARTUP_NAMESPACE", ns)
                .status()
                .await
                .map_err(|e| ApplyError::Other(format!("backup command could not start: {e}")))?;
            if !status.success() {
                return Err(ApplyError::Other(format!("backup command failed ({status}): {cmd}")));
            }
            self.note(format!("backup command succeeded: {cmd}")).await?;
        }
        for doc in backup_jobs(saved) {
            let set = manifest::parse_documents(vec![doc], ns).map_err(|e| ApplyError::Other(e.to_string()))?;
            for o in &set.objects {
                let r = obj_ref(o);
                self.cluster.delete(&r, Cascade::Background, false).await?;
                self.wait_gone(&r).await?;
                self.cluster.apply(&o.value, false).await?;
                self.complete(&r)
                    .await
                    .map_err(|e| ApplyError::Other(format!("backup job {}: {e}", o.key)))?;
                self.note(format!("backup job {} succeeded", o.key)).await?;
            }
        }
        self.rep.report(Progress::Done {
            step: "backup".into(),
            elapsed_ms: ms(t),
        });
        Ok(())
    }

    /// Run each hop's migration scripts in order, once each, as Jobs built from the component's
    /// workload: its first container's image, the script mounted from a ConfigMap, and the command
    /// in the workload's `chartup.io/migration-command` annotation (the script's path is in
    /// `$MIGRATION_FILE`).
    async fn migrations(
        &mut self,
        saved: &SavedPlan,
        to: &ManifestSet,
        release: &str,
        ns: &str,
    ) -> Result<(), ApplyError> {
        let Some(m) = &saved.plan.matrix else { return Ok(()) };
        let scripts: Vec<_> = m.hops.iter().flat_map(|h| h.migrations.iter()).collect();
        if scripts.is_empty() {
            return Ok(());
        }
        self.rep.report(Progress::Step {
            step: format!("migrations ({})", scripts.len()),
        });
        for (i, mg) in scripts.iter().enumerate() {
            let comp = mg.component.clone().unwrap_or_default();
            let workload = to
                .objects
                .iter()
                .find(|o| o.is_workload() && (component_name(o) == comp || o.key.name.contains(&comp)))
                .ok_or_else(|| {
                    ApplyError::Other(format!("migration {}: no workload for component {comp:?}", mg.file))
                })?;
            let command = workload
                .annotation("chartup.io/migration-command")
                .map(str::to_string)
                .or_else(|| self.opts.migration_command.clone())
                .ok_or_else(|| {
                    ApplyError::Other(format!(
                        "migration {}: {} has no chartup.io/migration-command annotation saying how to run a script, \
                         and no --migration-command was given",
                        mg.file, workload.key
                    ))
                })?;
            let image = workload
                .value
                .pointer("/spec/template/spec/containers/0/image")
                .and_then(Json::as_str)
                .unwrap_or("busybox")
                .to_string();
            let text = saved.scripts.get(&mg.path).cloned().unwrap_or_default();
            let name = migrate::object_name(&format!("{release}-migrate-{:02}-{}", i + 1, migrate::stem(&mg.file)));
            let (cm, job) = migrate::script_job(&migrate::ScriptJob {
                name: &name,
                namespace: ns,
                release,
                image: &image,
                command: &command,
                file: &mg.file,
                script: &text,
                direction: "true",
                annotations: json!({"chartup.io/migration-from": mg.from, "chartup.io/migration-to": mg.to,
                                    "chartup.io/migration-file": mg.file}),
            });
            // What a rollback needs to undo it, without the matrix: kept in the record.
            let applied = migrate::Applied {
                file: mg.file.clone(),
                from: mg.from.clone(),
                to: mg.to.clone(),
                component: comp.clone(),
                revision: self.rel.version,
                job: name.clone(),
                image: image.clone(),
                command: command.clone(),
                down: mg.down.as_ref().and_then(|d| {
                    saved.scripts.get(d).map(|script| migrate::DownScript {
                        file: d.rsplit('/').next().unwrap_or(d).to_string(),
                        script: script.clone(),
                    })
                }),
            };
            let r = ObjRef {
                api_version: "batch/v1".into(),
                kind: "Job".into(),
                namespace: ns.into(),
                name: name.clone(),
            };
            if self.cluster.get(&r).await?.is_some() {
                // A run interrupted after this migration started: it ran (or is running) already.
                self.complete(&r)
                    .await
                    .map_err(|e| ApplyError::Other(format!("migration {}: {e}", mg.file)))?;
                migrate::record_applied(self.rel, applied);
                self.note(format!(
                    "migration {} ({} → {}) had run already",
                    mg.file, mg.from, mg.to
                ))
                .await?;
                continue;
            }
            self.cluster.apply(&cm, false).await?;
            self.cluster.apply(&job, false).await?;
            self.complete(&r)
                .await
                .map_err(|e| ApplyError::Other(format!("migration {}: {e}", mg.file)))?;
            migrate::record_applied(self.rel, applied);
            self.note(format!("migration {} ({} → {}) succeeded", mg.file, mg.from, mg.to))
                .await?;
        }
        Ok(())
    }

    /// Run the down-migrations a rollback planned (`chartup_undo` in its record), newest first,
    /// each as a Job like its up script ran (same image and command, the down script mounted in
    /// its place); then delete the up script's Job, so the next upgrade runs it again.
    async fn undo_migrations(&mut self, release: &str, ns: &str) -> Result<(), ApplyError> {
        let planned = migrate::planned_undo(self.rel);
        if planned.is_empty() {
            return Ok(());
        }
        self.rep.report(Progress::Step {
            step: format!("down-migrations ({}), before the workloads roll back", planned.len()),
        });
        let t = Instant::now();
        for a in &planned {
            let Some(down) = &a.down else { continue };
            let name = migrate::object_name(&format!(
                "{release}-undo-r{}-{}",
                self.rel.version,
                migrate::stem(&a.file)
            ));
            let (cm, job) = migrate::script_job(&migrate::ScriptJob {
                name: &name,
                namespace: ns,
                release,
                image: &a.image,
                command: &a.command,
                file: &down.file,
                script: &down.script,
                direction: "down",
                annotations: json!({"chartup.io/migration-from": a.to, "chartup.io/migration-to": a.from,
                                    "chartup.io/migration-file": down.file, "chartup.io/undoes": a.file}),
            });
            let r = ObjRef {
                api_version: "batch/v1".into(),
                kind: "Job".into(),
                namespace: ns.into(),
                name: name.clone(),
            };
            if self.cluster.get(&r).await?.is_none() {
                self.cluster.apply(&cm, false).await?;
                self.cluster.apply(&job, false).await?;
            }
            self.complete(&r).await.map_err(|e| {
                ApplyError::Other(format!(
                    "down-migration {} (undoing {}, {} → {}): {e}",
                    down.file, a.file, a.to, a.from
                ))
            })?;
            migrate::record_undone(self.rel, &a.file);
            self.note(format!(
                "down-migration {} undid {} ({} → {})",
                down.file, a.file, a.to, a.from
            ))
            .await?;
            for kind in ["Job", "ConfigMap"] {
                let up = ObjRef {
                    api_version: if kind == "Job" { "batch/v1" } else { "v1" }.into(),
                    kind: kind.into(),
                    namespace: ns.into(),
                    name: a.job.clone(),
                };
                self.cluster.delete(&up, Cascade::Background, false).await?;
            }
        }
        self.rep.report(Progress::Done {
            step: "down-migrations".into(),
            elapsed_ms: ms(t),
        });
        Ok(())
    }

    async fn prune(&mut self, saved: &SavedPlan, from: &ManifestSet) -> Result<(), ApplyError> {
        let removed: Vec<&Object> = saved
            .plan
            .changes
            .iter()
            .filter(|c| c.action == Action::Remove)
            .filter_map(|c| from.get(&c.key))
            .filter(|o| !is_hook(o) && !carry::is_carry_source(saved, &o.key))
            .collect();
        if removed.is_empty() {
            return Ok(());
        }
        self.rep.report(Progress::Step { step: "prune".into() });
        for o in removed {
            if o.kept_on_delete() {
                self.rep.report(Progress::Warning {
                    message: format!("kept {} (helm.sh/resource-policy: keep)", o.key),
                });
                continue;
            }
            if o.key.kind == "PersistentVolumeClaim" && !self.opts.accept_data_loss {
                self.rep.report(Progress::Warning {
                    message: format!("kept {}: claims are pruned only with --accept-data-loss", o.key),
                });
                continue;
            }
            self.cluster.delete(&obj_ref(o), Cascade::Background, false).await?;
            self.note(format!("pruned {}", o.key)).await?;
        }
        Ok(())
    }
}

fn broken(pod: &str, container: &str, reason: &str, message: &str) -> ApplyError {
    ApplyError::Other(format!("pod {pod} (container {container}) is {reason}: {message}"))
}

/// `matchLabels` of a workload's selector as a label selector string.
fn match_labels(o: &Json) -> String {
    o.pointer("/spec/selector/matchLabels")
        .and_then(Json::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default()
}

/// Workloads grouped into components: the plan's rollout steps (matrix order) first, then every
/// other workload in Helm's install order, each its own component.
fn component_steps(saved: &SavedPlan, to: &ManifestSet) -> Vec<(String, Vec<manifest::ObjectKey>)> {
    let mut steps: Vec<(String, Vec<manifest::ObjectKey>)> = Vec::new();
    let mut placed = std::collections::BTreeSet::new();
    for s in &saved.plan.rollout {
        let keys: Vec<_> = to
            .objects
            .iter()
            .filter(|o| !is_hook(o) && !is_backup_job(o) && o.is_workload() && s.objects.contains(&o.key.to_string()))
            .map(|o| o.key.clone())
            .collect();
        placed.extend(keys.iter().cloned());
        if !keys.is_empty() {
            steps.push((s.component.clone(), keys));
        }
    }
    for o in to
        .objects
        .iter()
        .filter(|o| !is_hook(o) && !is_backup_job(o) && o.is_workload() && !placed.contains(&o.key))
    {
        steps.push((component_name(o), vec![o.key.clone()]));
    }
    steps
}

/// Roll `release` back to `revision` (default: the previous deployed one), as a new revision
/// `Rollback to N`: planned like an upgrade from the current manifest to the target's, refused on
/// a loss verdict unless accepted, executed in order and pod by pod.
pub async fn rollback(
    cluster: &Cluster,
    release: &str,
    ns: &str,
    revision: Option<u32>,
    opts: &ApplyOptions,
    rep: &mut dyn Reporter,
) -> Result<u32, ApplyError> {
    let store = SecretStore::new(cluster, ns);
    let history = store.history(release).await?;
    if history.revisions.is_empty() {
        return Err(ApplyError::Other(format!(
            "release {release} not found in namespace {ns}"
        )));
    }
    if let Some(h) = history.lock_holder() {
        return Err(locked(h, ns));
    }
    let current = history
        .last()
        .cloned()
        .ok_or_else(|| ApplyError::Other("no revisions".into()))?;
    let target = match revision {
        Some(r) => history
            .get(r)
            .cloned()
            .ok_or_else(|| ApplyError::Other(format!("release {release} has no revision {r}")))?,
        None => history
            .revisions
            .iter()
            .rev()
            .find(|r| r.version < current.version && matches!(r.status(), Status::Superseded | Status::Deployed))
            .cloned()
            .ok_or_else(|| ApplyError::Other(format!("release {release} has no earlier revision to roll back to")))?,
    };
    // From what the cluster was last given (a failed revision's manifest was partly applied), as Helm does.
    let from_docs = manifest::split_documents(&current.manifest);
    let to_docs = manifest::split_documents(&target.manifest);
    let old = ReleaseSide::new(&format!("revision {}", current.version), from_docs, ns)
        .map_err(|e| ApplyError::Other(e.to_string()))?;
    let new = ReleaseSide::new(&format!("revision {}", target.version), to_docs, ns)
        .map_err(|e| ApplyError::Other(e.to_string()))?;
    let mut popts = PlanOptions {
        release: release.into(),
        namespace: ns.into(),
        // An upgrade that carried volumes to renamed claims is rolled back by carrying them back:
        // otherwise the old claim names would come back empty while the data sits unmounted.
        carry_volumes: current.extra.contains_key("chartup_carry"),
        ..Default::default()
    };
    // The volume verdicts need the cluster's reclaim policies, as `plan RELEASE CHART` reads them.
    for sc in cluster.list("storage.k8s.io/v1", "StorageClass", "", None).await? {
        let name = sc.pointer("/metadata/name").and_then(Json::as_str).unwrap_or("");
        let policy = sc.get("reclaimPolicy").and_then(Json::as_str).unwrap_or("Delete");
        if name.is_empty() {
            continue;
        }
        let _ = popts.reclaim.add_spec(&format!("{name}={policy}"));
        if sc
            .pointer("/metadata/annotations/storageclass.kubernetes.io~1is-default-class")
            .and_then(Json::as_str)
            == Some("true")
        {
            let _ = popts.reclaim.add_spec(&format!("default={policy}"));
        }
    }
    let mut plan = plan::build(&old, &new, None, &popts);
    // Roll back in the order the release was upgraded in (recorded from the matrix).
    if let Some(order) = rollout_order(&current).or_else(|| rollout_order(&target)) {
        plan.rollout = order
            .iter()
            .map(|comp| plan::RolloutStep {
                component: comp.clone(),
                objects: new
                    .objects
                    .objects
                    .iter()
                    .filter(|o| !is_hook(o) && o.is_workload() && component_name(o) == *comp)
                    .map(|o| o.key.to_string())
                    .collect(),
            })
            .filter(|s| !s.objects.is_empty())
            .collect();
    }
    if plan.volumes.iter().any(|v| v.verdict == Verdict::Loss) && !opts.accept_data_loss {
        return Err(ApplyError::Refused(
            plan.volumes
                .iter()
                .filter(|v| v.verdict == Verdict::Loss)
                .map(|v| {
                    format!(
                        "rolling back loses volume {} of {}: {}",
                        v.volume, v.component, v.reason
                    )
                })
                .collect(),
        ));
    }
    rep.report(Progress::Step {
        step: format!(
            "rollback plan, revision {} → revision {}: {}",
            current.version,
            target.version,
            plan.summary.line()
        ),
    });
    for v in &plan.volumes {
        rep.report(Progress::Step {
            step: format!("  volume {}/{}: {} — {}", v.component, v.volume, v.verdict, v.reason),
        });
    }
    // The schema: what the records say was migrated since the target, undone newest first.
    let undo = migrate::undo(
        &migrate::current_schema(&history.revisions),
        &migrate::schema_at(&history.revisions, target.version),
    );
    report_undo(&undo, target.version, rep);
    let mut saved = SavedPlan::new(plan, &old, &new).map_err(ApplyError::Other)?;
    // The target's hooks (its pre-/post-rollback hooks run, as Helm runs them).
    saved.manifests.to.extend(target.hooks.iter().map(|h| Document {
        source: h.path.clone(),
        text: format!("# Source: {}\n{}\n", h.path, h.manifest.trim_end()),
    }));
    saved.plan.base_revision = history.baseline().map(|r| u64::from(r.version));
    saved.manifests.from = manifest::split_documents(&current.manifest);
    let revision = history.next_revision();
    let now = jiff::Timestamp::now();
    let (to_set, _) = split_hooks(&saved.manifests.to, ns)?;
    let from_set =
        manifest::parse_documents(saved.manifests.from.clone(), ns).map_err(|e| ApplyError::Other(e.to_string()))?;
    let mut rel = Release {
        name: release.into(),
        info: Info {
            first_deployed: current.info.first_deployed,
            last_deployed: Some(now),
            status: Status::PendingRollback,
            description: format!("Rollback to {}", target.version),
            ..Default::default()
        },
        chart: target.chart.clone(),
        config: target.config.clone(),
        manifest: target.manifest.clone(),
        hooks: target.hooks.clone(),
        version: revision,
        namespace: ns.into(),
        apply_method: HELM_APPLY_METHOD.into(),
        extra: Default::default(),
    };
    // Helm 4 keeps the rollback's target in `info.rollback_revision` (`helm history` shows it).
    rel.info.extra.insert("rollback_revision".into(), json!(target.version));
    if let Some(order) = rollout_order(&current).or_else(|| rollout_order(&target)) {
        rel.extra.insert("chartup_order".into(), json!(order));
    }
    carry::preflight(cluster, &saved).await?;
    super::preflight::check(cluster, &saved, &from_set, &to_set, "rollback", opts, rep).await?;
    migrate::carry_schema(&history.revisions, &mut rel);
    if !undo.run.is_empty() {
        rel.extra.insert(migrate::UNDO.into(), json!(undo.run));
    }
    for old in history.prune_before_create(opts.history_max) {
        store.delete(release, old).await?;
    }
    store.create(&rel).await?;
    let mut run = Run {
        cluster,
        store: &store,
        rel: &mut rel,
        rep,
        opts,
        timeout: opts.timeout,
    };
    match run.upgrade(&saved, &from_set, &to_set, "rollback").await {
        Ok(()) => {
            let desc = format!("Rollback to {}", target.version);
            finish(&store, &history, &mut rel, Status::Deployed, &desc).await?;
            Ok(revision)
        }
        Err(e) => {
            let message = format!("RollbackFailed: {e}");
            finish(&store, &history, &mut rel, Status::Failed, &message).await?;
            Err(ApplyError::Failed {
                revision,
                message,
                rollback: None,
            })
        }
    }
}

/// Say what a rollback does to the schema, before it starts.
fn report_undo(undo: &migrate::Undo, target: u32, rep: &mut dyn Reporter) {
    for a in &undo.run {
        let down = a.down.as_ref().map(|d| d.file.as_str()).unwrap_or("");
        rep.report(Progress::Step {
            step: format!(
                "  down-migration {down}: undoes {} ({} → {}), before the workloads roll back",
                a.file, a.to, a.from
            ),
        });
    }
    rep.report(Progress::Warning {
        message: if undo.run.is_empty() {
            "rollback restores manifests only: volumes and database schemas are not rolled back".into()
        } else {
            "rollback restores manifests and runs the down-migrations above: volumes are not rolled back".into()
        },
    });
    if let Some((first, older)) = undo.kept.split_first() {
        let mut message = format!(
            "the schema is not rolled back past migration {} ({} → {}): the matrix gave it no down script",
            first.file, first.from, first.to
        );
        if !older.is_empty() {
            let files: Vec<&str> = older.iter().map(|a| a.file.as_str()).collect();
            message.push_str(&format!("; the older migrations {} stay applied too", files.join(", ")));
        }
        rep.report(Progress::Warning { message });
    }
    if !undo.missing.is_empty() {
        let files: Vec<&str> = undo.missing.iter().map(|a| a.file.as_str()).collect();
        rep.report(Progress::Warning {
            message: format!(
                "revision {target} ran migrations {} that a later rollback undid; a rollback does not run up \
                 scripts: upgrade again to apply them",
                files.join(", ")
            ),
        });
    }
}

/// The component order a chartup revision recorded (`chartup_order`), if any.
fn rollout_order(r: &Release) -> Option<Vec<String>> {
    let order: Vec<String> = r
        .extra
        .get("chartup_order")?
        .as_array()?
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    (!order.is_empty()).then_some(order)
}

/// Release a lock left by a crashed run: the pending revision becomes `failed`, with an account
/// of what the interrupted run had done. Returns that account.
pub async fn recover(cluster: &Cluster, release: &str, ns: &str) -> Result<(Release, Vec<String>), ApplyError> {
    let store = SecretStore::new(cluster, ns);
    let history = store.history(release).await?;
    let Some(holder) = history.lock_holder().cloned() else {
        return Err(ApplyError::Other(format!(
            "release {release} in namespace {ns} is not locked: nothing to recover"
        )));
    };
    let mut done = journal_lines(&holder);
    let mut rel = holder.clone();
    rel.info.status = Status::Failed;
    rel.info.description = format!(
        "Release unlocked from stale '{}' state by chartup recover ({} step(s) had completed)",
        holder.status(),
        done.len()
    );
    done.extend(carry::recover(cluster, &mut rel).await?);
    journal(&mut rel, "recovered: lock released");
    store.update(&rel).await?;
    Ok((rel, done))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_text_matches_helms_layout() {
        let docs = vec![
            Document {
                source: "db/templates/a.yaml".into(),
                text: "kind: A\n".into(),
            },
            Document {
                source: "db/templates/b.yaml".into(),
                text: "# Source: db/templates/b.yaml\nkind: B".into(),
            },
        ];
        assert_eq!(
            manifest_text(&docs),
            "---\n# Source: db/templates/a.yaml\nkind: A\n---\n# Source: db/templates/b.yaml\nkind: B\n"
        );
    }

    #[test]
    fn a_path_with_stops_is_refused_by_apply() {
        // FATE 1.7.0 → 1.10.0: the matrix forbids the direct jump (docs/matrix-format.md).
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let side = |v: &str| {
            crate::plan::source::side_from_chart(
                &crate::plan::source::Native,
                &root.join("charts/fate").join(v),
                &crate::plan::source::ValuesInput::default(),
                "fate",
                "fate",
                v != "1.7.0",
            )
            .unwrap()
        };
        let m = crate::matrix::load(&root.join("matrices/fate.yaml")).unwrap();
        let opts = crate::plan::PlanOptions {
            release: "fate".into(),
            namespace: "fate".into(),
            ..Default::default()
        };
        let (a, b, c) = (side("1.7.0"), side("1.10.0"), side("1.8.0"));
        let far = SavedPlan::new(crate::plan::build(&a, &b, Some(&m), &opts), &a, &b).unwrap();
        let why = refusals(&far, &ApplyOptions::default());
        assert!(
            why.iter()
                .any(|r| r.contains("only through 1.8.0:") && r.contains("to 1.8.0 first")),
            "{why:#?}"
        );
        let near = SavedPlan::new(crate::plan::build(&a, &c, Some(&m), &opts), &a, &c).unwrap();
        assert!(
            !refusals(&near, &ApplyOptions::default())
                .iter()
                .any(|r| r.contains("only through")),
            "a single hop is not refused for its path"
        );
    }

    #[test]
    fn selectors_and_ordinals() {
        let sts = json!({"spec": {"selector": {"matchLabels": {"app": "db", "tier": "x"}}}});
        assert_eq!(match_labels(&sts), "app=db,tier=x");
    }

    #[test]
    fn journal_round_trips_through_the_record() {
        let mut rel: Release = serde_json::from_value(json!({"name": "r", "version": 1})).unwrap();
        journal(&mut rel, "applied x");
        journal(&mut rel, "applied y");
        let text = crate::release::codec::encode(&rel).unwrap();
        let back = crate::release::codec::decode(&text).unwrap();
        let lines = journal_lines(&back);
        assert_eq!(lines.len(), 2);
        assert!(lines[1].ends_with("applied y"));
    }
}
