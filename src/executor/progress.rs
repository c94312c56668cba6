//! What the executor reports as it goes: [`Progress`] events to a [`Reporter`] (the CLI prints them
//! as lines, a live block on a terminal, or JSON).
//!
//! Every event that belongs to a component names it, so one reporter can take the events of
//! several components rolling out at once. While a wait goes on, the executor sends a
//! [`Progress::Waiting`] heartbeat at least every [`HEARTBEAT`] (what it waits for, on which pod,
//! why, how much of the timeout is used) and, when a pod stalls or breaks, a
//! [`Progress::Diagnosis`] with the pod's recent events and its containers' last log lines (where
//! the node serves them), so nobody needs kubectl to learn why.

use std::time::Instant;

use serde_json::Value as Json;

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
    /// Still waiting (a heartbeat, at least every [`HEARTBEAT`]): for what, on which pod (empty
    /// when no pod is to blame), why (`reason`, `message` from the pod's status), and how much of
    /// the timeout is used.
    Waiting {
        component: String,
        what: String,
        pod: String,
        reason: String,
        message: String,
        elapsed_ms: u128,
        timeout_ms: u128,
    },
    /// Why a pod stalls or failed: its recent events (oldest first) and the last lines of its
    /// containers' logs; `logs_note` says why there are none (a node that does not serve them).
    Diagnosis {
        component: String,
        pod: String,
        events: Vec<String>,
        logs: Vec<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        logs_note: Option<String>,
    },
}

/// How long a wait may stay silent: a heartbeat at least this often (issue #18: "at most every 10 s").
pub const HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(10);

/// How many events and log lines a [`Progress::Diagnosis`] shows per pod.
pub const DIAGNOSIS_EVENTS: usize = 8;
pub const DIAGNOSIS_LOG_LINES: i64 = 10;

/// Receives progress (the CLI prints it).
pub trait Reporter {
    fn report(&mut self, p: Progress);
}

impl<F: FnMut(Progress)> Reporter for F {
    fn report(&mut self, p: Progress) {
        self(p)
    }
}

/// One reporter shared by components rolled out at the same time (futures joined in one task):
/// every clone forwards to the same reporter, and every event already names its component, so the
/// printer can keep one line per component (`cli::progress`).
#[derive(Clone)]
pub struct SharedReporter<'r>(std::rc::Rc<std::cell::RefCell<&'r mut dyn Reporter>>);

impl<'r> SharedReporter<'r> {
    pub fn new(rep: &'r mut dyn Reporter) -> SharedReporter<'r> {
        SharedReporter(std::rc::Rc::new(std::cell::RefCell::new(rep)))
    }
}

impl Reporter for SharedReporter<'_> {
    fn report(&mut self, p: Progress) {
        self.0.borrow_mut().report(p)
    }
}

/// The heartbeat clock of one wait.
pub struct Beat {
    started: Instant,
    last: Instant,
    /// Pods already diagnosed during this wait (a stall is explained once).
    diagnosed: Vec<String>,
    /// The wait's own bound, when it is not the run's timeout (a PodDisruptionBudget's patience).
    pub(super) bound: Option<std::time::Duration>,
}

impl Beat {
    pub(super) fn new() -> Beat {
        let now = Instant::now();
        Beat {
            started: now,
            last: now,
            diagnosed: vec![],
            bound: None,
        }
    }

    /// A wait bounded by `bound` instead of the run's timeout: its heartbeats say so.
    pub(super) fn within(bound: std::time::Duration) -> Beat {
        Beat {
            bound: Some(bound),
            ..Beat::new()
        }
    }

    /// Something was reported for this wait: the silence starts again.
    pub(super) fn spoke(&mut self) {
        self.last = Instant::now();
    }

    pub(super) fn silent_for(&self) -> std::time::Duration {
        self.last.elapsed()
    }

    /// How long to sleep at most so that the next heartbeat comes no later than `every` after the
    /// last line (for a wait that sleeps longer than a poll).
    pub(super) fn due_in(&self, every: std::time::Duration) -> std::time::Duration {
        every.saturating_sub(self.silent_for())
    }

    pub(super) fn elapsed(&self) -> std::time::Duration {
        self.started.elapsed()
    }

    /// True the first time a pod holds this wait up (a stall is explained once).
    pub(super) fn first_stall_of(&mut self, pod: &str) -> bool {
        if self.diagnosed.iter().any(|p| p == pod) {
            return false;
        }
        self.diagnosed.push(pod.to_string());
        true
    }
}

/// How an object a wait is on stands, for its heartbeat: ` (phase Pending)`, ` (deleting;
/// finalizers: kubernetes.io/pvc-protection)` — what keeps a claim from binding or going.
pub(super) fn state_of(live: Option<&Json>) -> String {
    let Some(live) = live else {
        return " (not there yet)".into();
    };
    let s = |p: &str| live.pointer(p).and_then(Json::as_str).unwrap_or("").to_string();
    let mut parts = vec![];
    if !s("/status/phase").is_empty() {
        parts.push(format!("phase {}", s("/status/phase")));
    }
    if !s("/metadata/deletionTimestamp").is_empty() {
        parts.push("deleting".to_string());
    }
    let finalizers: Vec<&str> = live
        .pointer("/metadata/finalizers")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(Json::as_str)
        .collect();
    if !finalizers.is_empty() {
        parts.push(format!("finalizers: {}", finalizers.join(", ")));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join("; "))
    }
}

pub(super) fn ms(t: Instant) -> u128 {
    t.elapsed().as_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_share_one_reporter() {
        let mut seen = Vec::new();
        let mut sink = |p: Progress| seen.push(p);
        {
            let shared = SharedReporter::new(&mut sink);
            let (mut a, mut b) = (shared.clone(), shared);
            let step = |c: &str| Progress::Step {
                step: format!("component {c}"),
            };
            a.report(step("a"));
            b.report(step("b"));
            a.report(step("a"));
        }
        let steps: Vec<String> = seen
            .iter()
            .map(|p| match p {
                Progress::Step { step } => step.clone(),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(steps, ["component a", "component b", "component a"]);
    }
}
