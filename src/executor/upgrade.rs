//! The order of work of a run, the same for an install, an upgrade and a rollback: the down-
//! migrations a rollback planned; the backup; pre hooks; configuration objects in Helm's install
//! order; then each component in the order the matrix, annotations and chart dependencies declare
//! — in parallel where none is declared (schedule.rs, parallel.rs) — volumes carried first,
//! recreates finished pod by pod, each gated on health; post hooks; migrations after the whole
//! rollout is healthy; pruning last.

use std::collections::BTreeMap;
use std::time::Instant;

use super::backup::backup_required;
use super::carry;
use super::error::ApplyError;
use super::hooks::is_hook;
use super::objects::{obj_ref, owned};
use super::progress::{ms, Progress};
use super::recreate;
use super::runner::Run;
use crate::cluster::Cascade;
use crate::diff::Action;
use crate::manifest::{self, ManifestSet, Object};
use crate::plan::saved::SavedPlan;
use serde_json::Value as Json;

/// Roll `from` → `to` as one run (apply's and rollback's body): every request retries transient
/// faults within its step's time, not longer, and those retries beat to the run's reporter.
#[allow(clippy::too_many_arguments)]
pub(super) async fn run_upgrade(
    cluster: &dyn crate::cluster::Cluster,
    store: &dyn crate::storage::ReleaseStore,
    rel: &mut crate::release::Release,
    rep: &mut dyn super::progress::Reporter,
    opts: &super::options::ApplyOptions,
    saved: &SavedPlan,
    from: &ManifestSet,
    to: &ManifestSet,
    event: &str,
) -> Result<(), ApplyError> {
    let shared = super::progress::SharedReporter::new(rep);
    let mut run_rep = shared.clone();
    let mut run = Run {
        cluster,
        store,
        rel,
        rep: &mut run_rep,
        opts,
        timeout: opts.timeout,
        halt: None,
    };
    super::heartbeat::with_retry_beats(
        shared,
        opts.heartbeat,
        "",
        crate::recovery::retrying::with_deadlines(
            std::time::Instant::now() + opts.timeout,
            run.upgrade(saved, from, to, event),
        ),
    )
    .await
}

/// A CustomResourceDefinition of the release (applied before its custom resources: Helm's
/// install order puts them first).
fn is_crd(o: &Object) -> bool {
    o.key.kind == "CustomResourceDefinition" && o.key.group == "apiextensions.k8s.io"
}

impl Run<'_, '_> {
    /// Wait until the server serves the kinds a CustomResourceDefinition just applied defines
    /// (its `Established` condition): the release's own custom resources come later in the same
    /// run, and before that the server answers them "not found" (helm fails such a chart
    /// outright: it maps every kind before it creates anything). A few hundred milliseconds on a
    /// healthy server; bounded by the step's timeout, with heartbeats.
    async fn wait_established(&mut self, o: &Object) -> Result<(), ApplyError> {
        let timeout = self.timeout;
        self.step_deadline();
        let r = obj_ref(o);
        let mut pulse = super::heartbeat::Pulse::to(&mut *self.rep, self.opts.heartbeat, &o.key.name);
        super::heartbeat::wait_until(self.cluster, &r, timeout, "to be Established", &mut pulse, |live| {
            live.and_then(|l| l.pointer("/status/conditions"))
                .and_then(Json::as_array)
                .is_some_and(|cs| {
                    cs.iter().any(|c| {
                        c.get("type").and_then(Json::as_str) == Some("Established")
                            && c.get("status").and_then(Json::as_str) == Some("True")
                    })
                })
        })
        .await?;
        Ok(())
    }

    /// helm install's `crds/` rule: each definition is created unless one of its name exists
    /// (then it is left exactly as it is: never updated, never part of the release), and every
    /// one is Established before the release's own objects, which may be of their kinds.
    async fn install_crds(&mut self, saved: &SavedPlan) -> Result<(), ApplyError> {
        if saved.manifests.crds.is_empty() {
            return Ok(());
        }
        let ns = saved.plan.release.namespace.clone();
        let set = manifest::parse_documents(saved.manifests.crds.clone(), &ns)
            .map_err(|e| ApplyError::Other(format!("the plan's crds/ definitions: {e}")))?;
        self.rep.report(Progress::Step {
            step: "CustomResourceDefinitions from crds/".into(),
        });
        let t = Instant::now();
        let mut created = Vec::new();
        let mut present = Vec::new();
        for o in &set.objects {
            self.step_deadline();
            if self.cluster.get(&obj_ref(o)).await?.is_some() {
                present.push(o.key.name.clone());
                continue;
            }
            match self.cluster.create(&o.value, false).await {
                Ok(_) => created.push(o.key.name.clone()),
                // Created meanwhile (a run whose answer was lost, another installer): left as is.
                Err(e) if e.status_code() == Some(409) => present.push(o.key.name.clone()),
                Err(e) => return Err(e.into()),
            }
        }
        for o in &set.objects {
            self.wait_established(o).await?;
        }
        let mut line = String::from("crds/:");
        if !created.is_empty() {
            line.push_str(&format!(" created {}", created.join(", ")));
        }
        if !present.is_empty() {
            line.push_str(&format!(
                "{} already present, left as they are: {}",
                if created.is_empty() { "" } else { ";" },
                present.join(", ")
            ));
        }
        self.note(line).await?;
        self.rep.report(Progress::Done {
            step: "CustomResourceDefinitions from crds/".into(),
            elapsed_ms: ms(t),
        });
        Ok(())
    }

    pub(super) async fn upgrade(
        &mut self,
        saved: &SavedPlan,
        from: &ManifestSet,
        to: &ManifestSet,
        event: &str,
    ) -> Result<(), ApplyError> {
        let ns = saved.plan.release.namespace.clone();
        let release = saved.plan.release.name.clone();
        // 0. An install's `crds/` definitions, before anything else (helm install's order).
        self.install_crds(saved).await?;
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
                self.wait_gone(&o.key.name, &obj_ref(o)).await?;
            }
            self.cluster.apply(&owned(&o.value, &release, &ns), false).await?;
            if is_crd(o) {
                self.wait_established(o).await?;
            }
        }
        self.note("applied configuration objects".into()).await?;

        // 4. Workloads, component by component: in parallel where no order is declared
        //    (schedule.rs decides, parallel.rs runs them around roll_component below).
        let (units, warnings) = super::schedule::units(saved, to);
        for message in warnings {
            self.rep.report(Progress::Warning { message });
        }
        if units.len() > 1 {
            self.note(format!("rollout: {}", super::schedule::describe(&units)))
                .await?;
        }
        self.roll_units(saved, from, to, &units).await?;

        // 5. Post hooks.
        self.hooks(to, &format!("post-{event}")).await?;
        // 6. Migrations, after the whole rollout is healthy.
        self.migrations(saved, to, &release, &ns).await?;
        // 7. Prune what left the chart.
        self.prune(saved, from).await?;
        Ok(())
    }

    /// Roll one component's workloads in order, each gated on health (what the serial executor
    /// did per component; parallel.rs runs several of these at once).
    pub(super) async fn roll_component(
        &mut self,
        saved: &SavedPlan,
        from: &ManifestSet,
        to: &ManifestSet,
        component: &str,
        keys: &[manifest::ObjectKey],
    ) -> Result<(), ApplyError> {
        let ns = saved.plan.release.namespace.clone();
        let release = saved.plan.release.name.clone();
        let changes: BTreeMap<_, _> = saved.plan.changes.iter().map(|c| (c.key.clone(), c)).collect();
        let component = component.to_string();
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
        for key in keys {
            // Another component failed: stop before the next workload.
            self.keep_going()?;
            let Some(o) = to.get(key) else { continue };
            let change = changes.get(key);
            let action = change.map(|c| c.action).unwrap_or(Action::Add);
            // Issue 15: data restored (rollback --restore-data) or snapshotted before the workload changes.
            let restored = self.restore_before(saved, key).await?;
            let pod_by_pod = action == Action::Change
                && o.key.kind == "StatefulSet"
                && o.value.pointer("/spec/updateStrategy/type").and_then(|t| t.as_str()) == Some("OnDelete");
            self.snapshot_before(saved, key, pod_by_pod).await?;
            // A workload whose data was restored is applied even when the plan sees no change:
            // it was stopped for the restore (and a killed run may have left it elsewhere).
            if action == Action::Unchanged && !restored {
                // Unchanged, yet pods stuck on an earlier template stay stuck (unstick.rs).
                if let Some(live) = self.stuck_though_unchanged(o).await? {
                    self.roll(&component, o, &live, t).await?;
                }
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
                    // Orphan the pods: the new controller adopts or replaces them one by one. A kind
                    // change's old pods go with it, and before the new workload is judged: they
                    // often match its selector, and a broken one (the failed revision's, when a
                    // rollback undoes the change) would fail the new workload's health gate.
                    let cascade = if action == Action::Recreate {
                        Cascade::Orphan
                    } else {
                        Cascade::Foreground
                    };
                    self.cluster.delete(&obj_ref(old), cascade, false).await?;
                    self.wait_gone(&component, &obj_ref(old)).await?;
                    self.note(format!("deleted {} for {}", old.key, action.as_str()))
                        .await?;
                }
            }
            let (live, _) = self.cluster.apply(&owned(&o.value, &release, &ns), false).await?;
            self.note(format!("applied {}", o.key)).await?;
            // A recreate leaves the old pods orphaned: recreate.rs replaces them one at a time.
            let old = change.and_then(|c| c.old_key.clone()).unwrap_or_else(|| key.clone());
            match from.get(&old) {
                Some(old) if action == Action::Recreate => self.roll_recreated(&component, old, o, &live, t).await?,
                _ => self.roll(&component, o, &live, t).await?,
            }
        }
        self.timeout = self.opts.timeout;
        self.rep.report(Progress::Done {
            step: format!("component {component}"),
            elapsed_ms: ms(t),
        });
        self.note(format!("component {component} healthy")).await?;
        Ok(())
    }

    pub(super) async fn prune(&mut self, saved: &SavedPlan, from: &ManifestSet) -> Result<(), ApplyError> {
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
