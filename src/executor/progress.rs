//! What the executor reports as it goes: [`Progress`] events to a [`Reporter`] (the CLI prints them
//! as lines or JSON).

use std::time::Instant;

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

pub(super) fn ms(t: Instant) -> u128 {
    t.elapsed().as_millis()
}
