//! The backup the matrix requires before an upgrade: a command (`--backup-command`) and/or the
//! chart's Jobs annotated `chartup.io/backup: "true"`, run (deleted and created again) first.

use std::time::Instant;

use super::error::ApplyError;
use super::objects::obj_ref;
use super::progress::{ms, Beat, Progress};
use super::runner::Run;
use crate::cluster::Cascade;
use crate::manifest::{self, Document, Object};
use crate::plan::saved::SavedPlan;

pub(super) fn backup_required(saved: &SavedPlan) -> bool {
    saved
        .plan
        .matrix
        .as_ref()
        .is_some_and(|m| m.hops.iter().any(|h| h.backup_required))
}

/// A Job of the chart annotated `chartup.io/backup: "true"`: run (deleted and created again) as
/// the backup when the matrix requires one, and otherwise left alone like a hook.
pub(super) fn is_backup_job(o: &Object) -> bool {
    o.key.kind == "Job" && o.annotation("chartup.io/backup") == Some("true")
}

pub(super) fn backup_jobs(saved: &SavedPlan) -> Vec<Document> {
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

impl Run<'_, '_> {
    pub(super) async fn backup(&mut self, saved: &SavedPlan, ns: &str) -> Result<(), ApplyError> {
        self.rep.report(Progress::Step { step: "backup".into() });
        let t = Instant::now();
        if let Some(cmd) = &self.opts.backup_command {
            let mut child = tokio::process::Command::new("sh")
                .arg("-c")
                .arg(cmd)
                .env("CHARTUP_RELEASE", &saved.plan.release.name)
                .env("CHARTUP_NAMESPACE", ns)
                .spawn()
                .map_err(|e| ApplyError::Other(format!("backup command could not start: {e}")))?;
            // A backup may take minutes: it beats like every other wait.
            let mut hb = Beat::new();
            let status = loop {
                tokio::select! {
                    s = child.wait() => break s,
                    _ = tokio::time::sleep(hb.due_in(self.opts.heartbeat)) => {
                        self.beat_on(&mut hb, "backup", format!("backup command to finish: {cmd}"), &[], false)
                            .await;
                    }
                }
            }
            .map_err(|e| ApplyError::Other(format!("backup command could not be waited for: {e}")))?;
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
                self.wait_gone(&r.name, &r).await?;
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
}
