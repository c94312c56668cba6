//! Plan an upgrade offline: two sides (a chart rendered with values, or a manifest as `helm get
//! manifest` prints it), a matrix, and the user's reclaim policies — no cluster.
//!
//! The two sides are independent, so they are rendered and parsed on two threads (each with its
//! own renderer: template values are not shared across threads).

use std::path::PathBuf;

use super::{load_matrix, read_input, Error, Result};
use crate::diff::DiffOptions;
use crate::plan::saved::SavedPlan;
use crate::plan::source::{self, ValuesInput};
use crate::plan::{self, Plan, PlanOptions, ReleaseSide};

/// Where one side of a plan comes from.
#[derive(Debug, Clone)]
pub enum SideSource {
    /// A rendered manifest file (`-`: standard input).
    Manifest(PathBuf),
    /// A chart directory or archive, rendered with these values.
    Chart(PathBuf, ValuesInput),
}

/// What an offline plan needs.
#[derive(Debug, Clone)]
pub struct PlanRequest {
    pub release: String,
    pub namespace: String,
    /// What runs now (rendered as an install).
    pub from: SideSource,
    /// What to upgrade to (rendered as an upgrade).
    pub to: SideSource,
    pub matrix: Option<PathBuf>,
    /// `NAME=Retain|Delete`.
    pub storage_classes: Vec<String>,
    pub allow_unlisted: bool,
    pub carry_volumes: bool,
    /// `--same-component OLD=NEW` mappings.
    pub same_component: Vec<(String, String)>,
    pub diff: DiffOptions,
    /// Where each chart came from (reference, version, archive digest), recorded in the plan.
    pub from_source: Option<crate::source::SourceRecord>,
    pub to_source: Option<crate::source::SourceRecord>,
    /// `--snapshot`, `--snapshot-class`, `--no-snapshot` (issue 15).
    pub snapshot: crate::plan::snapshots::SnapshotRequest,
}

/// A plan with the two sides it was made from (saving it needs them).
pub struct Planned {
    pub plan: Plan,
    pub old: ReleaseSide,
    pub new: ReleaseSide,
}

impl Planned {
    /// The plan as `chartup apply` takes it: with manifests, digests and a fingerprint.
    pub fn saved(&self) -> Result<SavedPlan> {
        Ok(SavedPlan::new(self.plan.clone(), &self.old, &self.new)?)
    }
}

/// One side, rendered by `renderer` when it is a chart.
fn load(
    src: SideSource,
    renderer: &dyn source::Renderer,
    release: &str,
    ns: &str,
    upgrade: bool,
) -> Result<ReleaseSide> {
    match src {
        SideSource::Manifest(m) => {
            let text = read_input(&m)?;
            Ok(source::side_from_manifest_text(
                &format!("manifest {}", m.display()),
                &text,
                ns,
            )?)
        }
        SideSource::Chart(c, v) => source::side_from_chart(renderer, &c, &v, release, ns, upgrade)
            .map_err(|e| Error::Invalid(e).context(format!("rendering {}", c.display()))),
    }
}

/// Render both sides (in parallel) and plan the upgrade between them.
pub fn plan_offline(req: PlanRequest) -> Result<Planned> {
    let mut opts = PlanOptions {
        release: req.release.clone(),
        namespace: req.namespace.clone(),
        diff: req.diff.clone(),
        allow_unlisted: req.allow_unlisted,
        carry_volumes: req.carry_volumes,
        ..Default::default()
    };
    for s in &req.storage_classes {
        opts.reclaim.add_spec(s)?;
    }
    opts.same_component = req.same_component.clone();
    let (release, ns) = (req.release.as_str(), req.namespace.as_str());
    let (old, new) = std::thread::scope(|s| {
        // The old side is only compared, never applied: its RSA keys are placeholders
        // (`source::NativeUnapplied`), which spares minting keys only to diff them against others.
        // Its thread is the renderer's execution thread itself (one thread, not two).
        let old = crate::stack::spawn_scoped_big(s, || {
            load(req.from.clone(), &source::NativeUnapplied, release, ns, false)
        });
        let new = load(req.to.clone(), &source::Native, release, ns, true);
        let old = old
            .join()
            .ok()
            .flatten()
            .unwrap_or_else(|| Err(Error::Invalid("rendering the deployed side panicked".into())));
        (old, new)
    });
    let (mut old, mut new) = (old?, new?);
    old.source = req.from_source.clone();
    new.source = req.to_source.clone();
    let matrix = load_matrix(req.matrix.as_deref())?;
    let mut plan = plan::build(&old, &new, matrix.as_ref(), &opts);
    // Snapshots: which claims, said without a cluster (plan::snapshots); requirements follow them.
    let snaps = plan::snapshots::decide(&plan, matrix.as_ref(), &req.snapshot, None);
    plan::snapshots::attach(&mut plan, snaps, &req.snapshot);
    plan.requirements = plan::review::requirements(&plan, &new.objects);
    Ok(Planned { plan, old, new })
}
