//! Running schema migrations as Jobs built from the component's workload (its image, the script
//! mounted from a ConfigMap, the command its `chartup.io/migration-command` annotation gives), once
//! each; and a rollback's down-migrations before its workloads roll back. The bookkeeping of what
//! ran is [`super::migrate`].

use std::time::Instant;

use serde_json::{json, Value as Json};

use super::error::ApplyError;
use super::migrate;
use super::progress::{ms, Progress};
use super::runner::Run;
use crate::cluster::{Cascade, ObjRef};
use crate::diff::component_name;
use crate::manifest::ManifestSet;
use crate::plan::saved::SavedPlan;

impl Run<'_, '_> {
    /// Run each hop's migration scripts in order, once each, as Jobs built from the component's
    /// workload: its first container's image, the script mounted from a ConfigMap, and the command
    /// in the workload's `chartup.io/migration-command` annotation (the script's path is in
    /// `$MIGRATION_FILE`).
    pub(super) async fn migrations(
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
    pub(super) async fn undo_migrations(&mut self, release: &str, ns: &str) -> Result<(), ApplyError> {
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
}
