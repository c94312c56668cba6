//! Schema migrations: the Jobs that run them, and what a rollback must undo.
//!
//! A rollback has no matrix: it only has the release records. So every chartup revision carries
//! the schema as it left it (`chartup_schema`, an extra field Helm ignores): the migrations applied
//! so far, oldest first, each with the image and command it ran with and its down script's text.
//! A run copies the newest record's list forward, appends each migration as it succeeds and drops
//! each one a down-migration undid, so the list survives `--history-max` pruning and a run that
//! dies half-way leaves a true account in its (recovered) record.
//!
//! Rolling back to revision N undoes what the schema has now and did not have at N, newest first.
//! Down-migrations run *before* the workloads roll back: during the upgrade the new version's pods
//! ran on the old schema until the migrations ran after the rollout, so the new code is the code
//! known to work on the older schema; the old code was never shown to work on the newer one. It is
//! the upgrade's order mirrored. A migration without a down script stops the undoing there: older
//! down scripts were written for the schema before it, not for one that still has it.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

use crate::release::Release;

/// The record field holding the schema as a revision left it.
pub const SCHEMA: &str = "chartup_schema";
/// The record field of a rollback listing the down-migrations it runs (before it runs them).
pub const UNDO: &str = "chartup_undo";

/// A migration applied to the schema, as the release records keep it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Applied {
    /// The up script's file name (its identity in the matrix).
    pub file: String,
    pub from: String,
    pub to: String,
    pub component: String,
    /// The revision that ran it.
    pub revision: u32,
    /// The Job that ran it: deleted when the migration is undone, so the next upgrade runs it again.
    pub job: String,
    pub image: String,
    pub command: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub down: Option<DownScript>,
}

/// The script that undoes a migration, as reviewed in the plan that ran the migration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DownScript {
    pub file: String,
    pub script: String,
}

/// The schema as a record says it was left (empty when the record says nothing).
pub fn schema_of(rel: &Release) -> Option<Vec<Applied>> {
    rel.extra
        .get(SCHEMA)
        .and_then(|v| serde_json::from_value(v.clone()).ok())
}

fn newest_schema<'a>(revisions: impl Iterator<Item = &'a Release>) -> Vec<Applied> {
    let mut with: Vec<&Release> = revisions.filter(|r| r.extra.contains_key(SCHEMA)).collect();
    with.sort_by_key(|r| r.version);
    with.last().and_then(|r| schema_of(r)).unwrap_or_default()
}

/// The schema now: the newest record that says (revisions Helm wrote say nothing).
pub fn current_schema(revisions: &[Release]) -> Vec<Applied> {
    newest_schema(revisions.iter())
}

/// The schema revision `target` left (as the newest record up to it says).
pub fn schema_at(revisions: &[Release], target: u32) -> Vec<Applied> {
    newest_schema(revisions.iter().filter(|r| r.version <= target))
}

pub fn set_schema(rel: &mut Release, schema: &[Applied]) {
    rel.extra.insert(SCHEMA.into(), json!(schema));
}

/// Start a run's record from the current schema.
pub fn carry_schema(revisions: &[Release], rel: &mut Release) {
    set_schema(rel, &current_schema(revisions));
}

/// Record a migration that succeeded (once: a resumed run finds it applied already).
pub fn record_applied(rel: &mut Release, a: Applied) {
    let mut s = schema_of(rel).unwrap_or_default();
    if !s.iter().any(|x| x.file == a.file) {
        s.push(a);
    }
    set_schema(rel, &s);
}

/// Record that a migration was undone.
pub fn record_undone(rel: &mut Release, file: &str) {
    let mut s = schema_of(rel).unwrap_or_default();
    s.retain(|x| x.file != file);
    set_schema(rel, &s);
}

/// What rolling back from `current` to the schema of `target` does to the schema.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Undo {
    /// Down-migrations to run, newest migration first.
    pub run: Vec<Applied>,
    /// Migrations that stay applied although the target did not have them: the first has no down
    /// script, the rest are older than it.
    pub kept: Vec<Applied>,
    /// Migrations the target had that are no longer applied (a later rollback undid them); a
    /// rollback does not run up scripts.
    pub missing: Vec<Applied>,
}

pub fn undo(current: &[Applied], target: &[Applied]) -> Undo {
    let mut out = Undo::default();
    for a in current
        .iter()
        .rev()
        .filter(|a| !target.iter().any(|t| t.file == a.file))
    {
        if a.down.is_some() && out.kept.is_empty() {
            out.run.push(a.clone());
        } else {
            out.kept.push(a.clone());
        }
    }
    out.missing = target
        .iter()
        .filter(|t| !current.iter().any(|a| a.file == t.file))
        .cloned()
        .collect();
    out
}

/// The planned down-migrations of a pending rollback record.
pub fn planned_undo(rel: &Release) -> Vec<Applied> {
    rel.extra
        .get(UNDO)
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default()
}

/// A Kubernetes object name from parts: lower-case alphanumerics and `-`, at most 52 characters
/// (a Job's pods add a suffix and must stay within 63).
pub fn object_name(parts: &str) -> String {
    let mut s: String = parts
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    s.truncate(52);
    s.trim_matches('-').to_string()
}

/// The file name without its extension, as a name part (`180-190.sql` → `180-190`).
pub fn stem(file: &str) -> String {
    let base = file.rsplit('/').next().unwrap_or(file);
    let base = base.rsplit_once('.').map_or(base, |(b, _)| b);
    object_name(base)
}

/// What a migration Job runs.
pub struct ScriptJob<'a> {
    pub name: &'a str,
    pub namespace: &'a str,
    pub release: &'a str,
    pub image: &'a str,
    pub command: &'a str,
    /// The script's file name (mounted at `/migrations/<file>`, in `$MIGRATION_FILE`).
    pub file: &'a str,
    pub script: &'a str,
    /// `chartup.io/migration` label: `true` for up scripts, `down` for down scripts.
    pub direction: &'a str,
    pub annotations: Json,
}

/// The ConfigMap holding the script and the Job running it (`sh -c COMMAND` in the component's
/// image, no retries: a migration that fails is not run twice behind the operator's back).
pub fn script_job(j: &ScriptJob) -> (Json, Json) {
    let file = j.file.rsplit('/').next().unwrap_or(j.file);
    let labels = json!({"chartup.io/migration": j.direction, "app.kubernetes.io/instance": j.release});
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": j.name, "namespace": j.namespace, "labels": labels},
        "data": {file: j.script}});
    let job = json!({"apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": j.name, "namespace": j.namespace, "labels": labels, "annotations": j.annotations},
        "spec": {"backoffLimit": 0, "template": {"metadata": {"labels": {"chartup.io/migration": j.direction}}, "spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "migrate", "image": j.image, "command": ["sh", "-c", j.command],
                "env": [{"name": "MIGRATION_FILE", "value": format!("/migrations/{file}")}],
                "volumeMounts": [{"name": "script", "mountPath": "/migrations"}]}],
            "volumes": [{"name": "script", "configMap": {"name": j.name}}]}}}});
    (cm, job)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn applied(file: &str, revision: u32, down: bool) -> Applied {
        Applied {
            file: file.into(),
            from: "1".into(),
            to: "2".into(),
            component: "db".into(),
            revision,
            job: format!("r-migrate-{file}"),
            image: "mysql:8".into(),
            command: "true".into(),
            down: down.then(|| DownScript {
                file: format!("down/{file}"),
                script: "DROP".into(),
            }),
        }
    }

    fn rel(version: u32, schema: Option<Vec<Applied>>) -> Release {
        let mut r: Release = serde_json::from_value(json!({"name": "r", "version": version})).unwrap();
        if let Some(s) = schema {
            set_schema(&mut r, &s);
        }
        r
    }

    #[test]
    fn undo_runs_newest_first_and_stops_at_a_migration_without_down_script() {
        let (a, b, c) = (applied("a", 2, true), applied("b", 2, true), applied("c", 3, true));
        let u = undo(&[a.clone(), b.clone(), c.clone()], &[]);
        assert_eq!(u.run, [c.clone(), b.clone(), a.clone()]);
        assert!(u.kept.is_empty() && u.missing.is_empty());
        // To the schema that had a and b: only c is undone.
        let u = undo(&[a.clone(), b.clone(), c.clone()], &[a.clone(), b.clone()]);
        assert_eq!(u.run, vec![c.clone()]);
        // b has no down script: c is undone, b and a (older) stay.
        let nb = applied("b", 2, false);
        let u = undo(&[a.clone(), nb.clone(), c.clone()], &[]);
        assert_eq!(u.run, vec![c.clone()]);
        assert_eq!(u.kept, [nb, a.clone()]);
        // The target had c, which a later rollback undid: a rollback does not re-apply it.
        let u = undo(std::slice::from_ref(&a), &[a.clone(), c.clone()]);
        assert!(u.run.is_empty());
        assert_eq!(u.missing, [c]);
    }

    #[test]
    fn the_schema_is_read_from_the_newest_record_that_says() {
        let a = applied("a", 2, true);
        let revs = vec![
            rel(1, Some(vec![])),
            rel(2, Some(vec![a.clone()])),
            // Written by helm: says nothing.
            rel(3, None),
        ];
        assert_eq!(current_schema(&revs), vec![a.clone()]);
        assert_eq!(schema_at(&revs, 1), []);
        assert_eq!(schema_at(&revs, 3), vec![a.clone()]);
        let mut r = rel(4, None);
        carry_schema(&revs, &mut r);
        record_applied(&mut r, applied("b", 4, false));
        record_applied(&mut r, applied("b", 4, false));
        let s = schema_of(&r).unwrap();
        assert_eq!(s.iter().map(|x| x.file.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        record_undone(&mut r, "a");
        let back = crate::release::codec::decode(&crate::release::codec::encode(&r).unwrap()).unwrap();
        assert_eq!(schema_of(&back).unwrap().len(), 1);
    }

    #[test]
    fn names_are_valid_object_names() {
        assert_eq!(stem("down/180-190.sql"), "180-190");
        assert_eq!(object_name("Fate_Migrate.1"), "fate-migrate-1");
        let long = object_name(&"x".repeat(80));
        assert_eq!(long.len(), 52);
        let (cm, job) = script_job(&ScriptJob {
            name: "r-undo-1",
            namespace: "ns",
            release: "r",
            image: "mysql:8",
            command: "mysql < $MIGRATION_FILE",
            file: "down/a.sql",
            script: "DROP",
            direction: "down",
            annotations: json!({}),
        });
        assert_eq!(cm["data"]["a.sql"], "DROP");
        assert_eq!(
            job["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"],
            "/migrations/a.sql"
        );
        assert_eq!(job["metadata"]["labels"]["chartup.io/migration"], "down");
    }
}
