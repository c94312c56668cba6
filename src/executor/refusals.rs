//! What refuses a run before anything changes: the plan's own refusals, data loss not accepted, a
//! backup or a migration command the matrix needs and nobody gave, a path with stops, an edited
//! plan, and a plan made against another revision than the deployed one (staleness).

use super::backup::{backup_jobs, backup_required};
use super::hooks::is_hook;
use super::options::ApplyOptions;
use crate::analysis::Verdict;
use crate::diff::component_name;
use crate::manifest::{self, Object};
use crate::plan::saved::SavedPlan;
use crate::release::records::History;

/// Refusals that hold before anything changes.
pub(super) fn refusals(saved: &SavedPlan, opts: &ApplyOptions) -> Vec<String> {
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
    // What the plan says apply requires for data at risk (plan::review::requirements), apply
    // requires: every outcome at risk accepted, all at once or one by one.
    let risks = crate::plan::review::risks(plan);
    for a in &opts.accepted {
        if !risks.iter().any(|r| &r.id == a) {
            let names: Vec<&str> = risks.iter().map(|r| r.id.as_str()).collect();
            out.push(format!(
                "--accept-risk={a}: nothing at risk in this plan has that name ({})",
                if names.is_empty() {
                    "nothing is at risk".to_string()
                } else {
                    format!("at risk: {}", names.join(", "))
                }
            ));
        }
    }
    if !opts.accept_risk && !opts.accept_data_loss {
        let open: Vec<&str> = risks
            .iter()
            .filter(|r| r.verdict == Verdict::AtRisk && !opts.accepted.contains(&r.id))
            .map(|r| r.id.as_str())
            .collect();
        if !open.is_empty() {
            let why = plan
                .requirements
                .iter()
                .find(|r| r.flag.as_deref() == Some("--accept-risk"))
                .map(|r| r.reason.clone())
                .unwrap_or_else(|| "data at risk".into());
            out.push(format!(
                "{why} (not accepted: {}; pass --accept-risk to accept all, or --accept-risk={} for each)",
                open.join(", "),
                open.join(",")
            ));
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
pub(super) fn intermediate_stops(path: &[String]) -> Option<Vec<String>> {
    (path.len() > 2).then(|| path[1..path.len() - 1].to_vec())
}

/// Compare the plan's starting point with the revision the cluster has deployed.
pub(super) fn staleness(saved: &SavedPlan, history: &History) -> Option<String> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::executor::ApplyOptions;

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

    /// rename-db without `--carry-volumes`: both ordinals' claims are orphaned (at risk).
    fn orphaning() -> SavedPlan {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/charts/precision/rename-db");
        let side = |v: &str| {
            crate::plan::source::side_from_chart(
                &crate::plan::source::Native,
                &root.join(v),
                &crate::plan::source::ValuesInput::default(),
                "rel",
                "prec",
                v != "1.0.0",
            )
            .unwrap()
        };
        let opts = crate::plan::PlanOptions {
            release: "rel".into(),
            namespace: "prec".into(),
            ..Default::default()
        };
        let (a, b) = (side("1.0.0"), side("2.0.0"));
        SavedPlan::new(crate::plan::build(&a, &b, None, &opts), &a, &b).unwrap()
    }

    #[test]
    fn at_risk_outcomes_are_accepted_one_by_one() {
        let saved = orphaning();
        let with = |accepted: &[&str], all: bool| {
            let opts = ApplyOptions {
                accepted: accepted.iter().map(|s| s.to_string()).collect(),
                accept_risk: all,
                ..Default::default()
            };
            refusals(&saved, &opts)
        };
        // The plan names each claim for acceptance.
        let req = saved
            .plan
            .requirements
            .iter()
            .find(|r| r.flag.as_deref() == Some("--accept-risk"))
            .expect("an --accept-risk requirement");
        assert_eq!(req.accept, ["claim/data-db-master-0", "claim/data-db-master-1"]);
        let none = with(&[], false);
        assert!(
            none.iter()
                .any(|r| r.contains("not accepted: claim/data-db-master-0, claim/data-db-master-1")),
            "{none:#?}"
        );
        // One of two accepted: the other still refuses the run.
        let one = with(&["claim/data-db-master-0"], false);
        assert_eq!(one.len(), 1, "{one:#?}");
        assert!(one[0].contains("not accepted: claim/data-db-master-1;"), "{one:#?}");
        assert!(with(&["claim/data-db-master-0", "claim/data-db-master-1"], false).is_empty());
        assert!(with(&[], true).is_empty());
        // A name that is not at risk in this plan is refused (a typo must not pass silently).
        let typo = with(
            &["claim/data-db-0", "claim/data-db-master-0", "claim/data-db-master-1"],
            false,
        );
        assert_eq!(typo.len(), 1, "{typo:#?}");
        assert!(
            typo[0].starts_with("--accept-risk=claim/data-db-0: nothing at risk"),
            "{typo:#?}"
        );
        // What the record keeps: who, the flags, the outcomes accepted.
        let opts = ApplyOptions {
            accepted: vec!["claim/data-db-master-1".into()],
            actor: "ana@laptop, pid 7".into(),
            ..Default::default()
        };
        let a = crate::executor::acceptance::of(&saved.plan, &opts).unwrap();
        assert_eq!(a.by, "ana@laptop");
        assert_eq!(a.flags, ["--accept-risk=claim/data-db-master-1"]);
        let ids: Vec<&str> = a.outcomes.iter().map(|o| o.id.as_str()).collect();
        assert_eq!(ids, ["claim/data-db-master-1"]);
        assert!(crate::executor::acceptance::of(&saved.plan, &ApplyOptions::default()).is_none());
    }
}
