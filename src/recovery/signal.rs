//! SIGINT and SIGTERM during a run: the first asks the run to stop at its next safe point, the
//! second aborts at once.
//!
//! Helm cancels its context on either signal and marks the release failed (helm v3.7+,
//! `pkg/action/upgrade.go` `failRelease`); chartup does the same, but stops only *between* pods or
//! steps — the executor checks [`requested`] where it waits or journals — so nothing is left half
//! written, then marks the revision failed, rolls back with `--atomic`, and exits with the shell's
//! status for the signal (130 for SIGINT, 143 for SIGTERM). A second signal exits immediately,
//! leaving a pending revision for `chartup recover`, as a kill would.

use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};

static STOP: AtomicBool = AtomicBool::new(false);
static SIGNAL: AtomicI32 = AtomicI32::new(0);
static COUNT: AtomicUsize = AtomicUsize::new(0);

pub const SIGINT: i32 = 2;
pub const SIGTERM: i32 = 15;

/// The signal's name, for messages and records.
pub fn name(sig: i32) -> &'static str {
    match sig {
        SIGINT => "SIGINT",
        SIGTERM => "SIGTERM",
        _ => "a signal",
    }
}

/// Record a signal: the first asks for a stop, later ones return true (abort now).
pub fn received(sig: i32) -> bool {
    SIGNAL.store(sig, Ordering::SeqCst);
    if COUNT.fetch_add(1, Ordering::SeqCst) == 0 {
        STOP.store(true, Ordering::SeqCst);
        false
    } else {
        true
    }
}

/// A stop asked for and not yet handled: the signal.
pub fn requested() -> Option<i32> {
    STOP.load(Ordering::SeqCst).then(|| SIGNAL.load(Ordering::SeqCst))
}

/// The stop was handled (the run stopped): what follows (the `--atomic` rollback) runs on.
pub fn handled() {
    STOP.store(false, Ordering::SeqCst);
}

/// The first signal received in this process, if any: the CLI's exit status depends on it.
pub fn interrupted_by() -> Option<i32> {
    (COUNT.load(Ordering::SeqCst) > 0).then(|| SIGNAL.load(Ordering::SeqCst))
}

/// Listen for SIGINT and SIGTERM on the current tokio runtime.
pub fn install() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        for (kind, sig) in [(SignalKind::interrupt(), SIGINT), (SignalKind::terminate(), SIGTERM)] {
            let Ok(mut stream) = signal(kind) else { continue };
            tokio::spawn(async move {
                while stream.recv().await.is_some() {
                    if received(sig) {
                        eprintln!(
                            "chartup: {} again: aborting now; `chartup recover` releases the lock",
                            name(sig)
                        );
                        std::process::exit(128 + sig);
                    }
                    eprintln!(
                        "chartup: {} received: stopping at the next safe point (between pods or steps); send it again to abort at once",
                        name(sig)
                    );
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_signal_asks_the_second_aborts() {
        assert_eq!(requested(), None);
        assert!(!received(SIGTERM));
        assert_eq!(requested(), Some(SIGTERM));
        handled();
        assert_eq!(requested(), None, "the --atomic rollback runs on");
        assert_eq!(interrupted_by(), Some(SIGTERM));
        assert!(received(SIGTERM), "a second signal aborts");
        assert_eq!(name(SIGINT), "SIGINT");
    }
}
