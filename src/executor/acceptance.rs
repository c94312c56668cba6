//! Who accepted which outcome at risk or lost, kept in the revision that ran with it.
//!
//! `--accept-risk` and `--accept-data-loss` are decisions a reviewer makes about named outcomes;
//! the release record of the new revision keeps them (`chartup_accepted`, an extra JSON field
//! like `chartup_plan`: Helm's decoder ignores unknown fields, so `helm history`, `helm get` and
//! `helm rollback` read the record as before), so `chartup history` and `status` can say later
//! whose decision left an orphaned claim behind.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::options::ApplyOptions;
use crate::analysis::Verdict;
use crate::plan::review::{risks, Risk};
use crate::plan::Plan;
use crate::release::Release;

/// The record's field.
pub const KEY: &str = "chartup_accepted";

/// The acceptance a revision ran with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Acceptance {
    /// `user@host` of the run.
    pub by: String,
    /// When (RFC 3339).
    pub at: String,
    /// The flags as given (`--accept-risk=claim/data-db-master-0`, `--accept-data-loss`).
    pub flags: Vec<String>,
    /// The outcomes accepted: name, verdict, why.
    pub outcomes: Vec<Risk>,
}

/// What `opts` accepts of `plan`'s outcomes; None when the plan has none at risk or lost (or
/// none was accepted).
pub fn of(plan: &Plan, opts: &ApplyOptions) -> Option<Acceptance> {
    let outcomes: Vec<Risk> = risks(plan)
        .into_iter()
        .filter(|r| match r.verdict {
            Verdict::Loss => opts.accept_data_loss,
            _ => opts.accept_data_loss || opts.accept_risk || opts.accepted.contains(&r.id),
        })
        .collect();
    if outcomes.is_empty() {
        return None;
    }
    let mut flags = Vec::new();
    if opts.accept_data_loss {
        flags.push("--accept-data-loss".to_string());
    }
    if opts.accept_risk {
        flags.push("--accept-risk".to_string());
    }
    if !opts.accepted.is_empty() {
        flags.push(format!("--accept-risk={}", opts.accepted.join(",")));
    }
    // The actor without its pid: who, not which process.
    let by = opts.actor.split(", pid").next().unwrap_or(&opts.actor).to_string();
    Some(Acceptance {
        by,
        at: jiff::Timestamp::now().to_string(),
        flags,
        outcomes,
    })
}

/// Record `a` in the revision.
pub fn record(rel: &mut Release, a: &Acceptance) {
    if let Ok(v) = serde_json::to_value(a) {
        rel.extra.insert(KEY.into(), v);
    }
}

/// The acceptance a revision was recorded with, if any.
pub fn recorded(rel: &Release) -> Option<Acceptance> {
    rel.extra
        .get(KEY)
        .cloned()
        .and_then(|v: Json| serde_json::from_value(v).ok())
}

/// One line for people: `accepted by root@host: claim/a (at-risk), claim/b (at-risk)`.
pub fn line(a: &Acceptance) -> String {
    let what: Vec<String> = a.outcomes.iter().map(|o| format!("{} ({})", o.id, o.verdict)).collect();
    format!(
        "accepted by {} at {} ({}): {}",
        a.by,
        a.at,
        a.flags.join(" "),
        what.join(", ")
    )
}
