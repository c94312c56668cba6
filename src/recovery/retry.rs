//! Which API failures are retried, how, and for how long.
//!
//! Reads are always safe to repeat. A write is repeated only when the server clearly did not act
//! (the connection was refused, 429, 503) or when repeating it is idempotent (server-side apply of
//! the same intent, an eviction carrying a UID precondition); after any other uncertain outcome (a
//! reset, a timeout, 500/502/504; a delete too: a pod's replacement takes its name) the object is
//! read back and compared before deciding, because the write may have landed (kube-rs retries
//! writes after a 504 blindly, client-go retries connection resets only for GET). Waits grow
//! exponentially with jitter, capped, and never past the step's deadline: the step's timeout
//! stays the one budget the user set.

use std::time::Duration;

/// What kind of failure it was, as far as retrying goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The server cannot have acted: nothing reached it (refused, DNS), or it said so (429, 503).
    NotActed,
    /// It may or may not have acted (reset, timeout, EOF, 500, 502, 504).
    Uncertain,
    /// A watch's resourceVersion is too old (410 Gone): list again, then watch.
    WatchExpired,
    /// Retrying will not help (4xx other than 408/429, a bad request, no permission).
    Permanent,
}

impl Fault {
    pub fn is_transient(self) -> bool {
        self != Fault::Permanent
    }
}

/// Classify a failure from its HTTP status (if a response came back) and its message (the
/// transport's error text otherwise).
pub fn classify(status: Option<u16>, message: &str) -> Fault {
    match status {
        Some(429) | Some(503) => return Fault::NotActed,
        Some(410) => return Fault::WatchExpired,
        Some(408) | Some(500) | Some(502) | Some(504) => return Fault::Uncertain,
        Some(s) if s >= 500 => return Fault::Uncertain,
        Some(_) => return Fault::Permanent,
        None => {}
    }
    let m = message.to_ascii_lowercase();
    let any = |needles: &[&str]| needles.iter().any(|n| m.contains(n));
    if any(&[
        "connection refused",
        "dns error",
        "failed to lookup address",
        "no route to host",
        "network is unreachable",
    ]) {
        Fault::NotActed
    } else if m.contains("too old resource version") || m.contains("watch") && m.contains("expired") {
        Fault::WatchExpired
    } else if any(&[
        "connection reset",
        "broken pipe",
        "connection closed",
        "unexpected eof",
        "unexpected end of file",
        "timed out",
        "timeout",
        "error trying to connect",
        "service unavailable",
        "connection aborted",
    ]) {
        // "error trying to connect" without "refused" is a TLS or socket failure mid-handshake.
        Fault::Uncertain
    } else {
        Fault::Permanent
    }
}

/// The kinds of API call, by what repeating them can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    /// GET, LIST, WATCH, and the self-subject reviews (which change nothing).
    Read,
    /// Server-side apply of a fixed intent, or a merge patch of fixed content: the same result
    /// however often it lands.
    Idempotent,
    /// Create: a second landing is AlreadyExists, which only a read-back can tell from someone
    /// else's object.
    Create,
    /// Update carrying the resourceVersion read: a landed first try turns the retry into a 409.
    GuardedUpdate,
    /// Delete or eviction with a UID precondition: never hits a replacement; NotFound means done.
    GuardedDelete,
    /// Anything else that changes state (a delete without preconditions).
    Write,
}

/// What to do after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    Retry,
    /// Read the object and compare with what was meant before doing anything else.
    ReadBack,
    GiveUp,
}

pub fn decide(call: Call, fault: Fault) -> Next {
    match (fault, call) {
        (Fault::Permanent, _) => Next::GiveUp,
        (_, Call::Read) | (Fault::NotActed, _) | (Fault::WatchExpired, _) => Next::Retry,
        (Fault::Uncertain, Call::Idempotent | Call::GuardedDelete) => Next::Retry,
        (Fault::Uncertain, Call::Create | Call::GuardedUpdate | Call::Write) => Next::ReadBack,
    }
}

/// Capped exponential backoff with jitter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
    pub factor: f64,
}

impl Default for Backoff {
    /// client-go's reflector values (kube-runtime's `default_backoff`), 800 ms → 30 s, ×2, minus
    /// the first step: an API server restart takes seconds, so the first retry comes soon.
    fn default() -> Backoff {
        Backoff {
            initial: Duration::from_millis(400),
            max: Duration::from_secs(30),
            factor: 2.0,
        }
    }
}

impl Backoff {
    /// The wait before retry number `attempt` (0 = the first retry). `jitter` in [0, 1) spreads
    /// it over the upper half ("equal jitter"): many clients retrying together do not stampede,
    /// and a wait never drops below half its step.
    pub fn delay(&self, attempt: u32, jitter: f64) -> Duration {
        let base = self.initial.as_secs_f64() * self.factor.powi(attempt.min(64) as i32);
        let capped = base.min(self.max.as_secs_f64());
        let j = jitter.clamp(0.0, 1.0);
        Duration::from_secs_f64(capped / 2.0 + capped / 2.0 * j)
    }

    /// The wait before retry `attempt`, honouring a server's `Retry-After`, or None when it would
    /// end past the deadline (`left`: the time the step has left): then give up now and say so.
    pub fn next(&self, attempt: u32, jitter: f64, retry_after: Option<Duration>, left: Duration) -> Option<Duration> {
        let d = self.delay(attempt, jitter).max(retry_after.unwrap_or_default());
        (d < left).then_some(d)
    }
}

/// A jitter value in [0, 1) (no need for a seeded generator: spreading clients apart is all).
pub fn jitter() -> f64 {
    rand::random::<f64>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_classify_as_client_go_and_kube_rs_treat_them() {
        assert_eq!(classify(Some(429), ""), Fault::NotActed);
        assert_eq!(classify(Some(503), ""), Fault::NotActed);
        for s in [500, 502, 504, 408] {
            assert_eq!(classify(Some(s), ""), Fault::Uncertain, "{s}");
        }
        assert_eq!(classify(Some(410), ""), Fault::WatchExpired);
        for s in [400, 401, 403, 404, 409, 422] {
            assert_eq!(classify(Some(s), ""), Fault::Permanent, "{s}");
        }
    }

    #[test]
    fn transport_errors_classify_by_their_text() {
        // Texts as hyper/kube-rs print them when the API server is down or goes away.
        assert_eq!(
            classify(
                None,
                "HyperError: error trying to connect: tcp connect error: Connection refused (os error 111)"
            ),
            Fault::NotActed
        );
        assert_eq!(
            classify(
                None,
                "error reading a body from connection: Connection reset by peer (os error 104)"
            ),
            Fault::Uncertain
        );
        assert_eq!(classify(None, "operation timed out"), Fault::Uncertain);
        assert_eq!(
            classify(None, "connection closed before message completed"),
            Fault::Uncertain
        );
        assert_eq!(
            classify(None, "too old resource version: 123 (456)"),
            Fault::WatchExpired
        );
        assert_eq!(classify(None, "missing field `kind`"), Fault::Permanent);
    }

    #[test]
    fn writes_are_retried_only_when_safe() {
        for call in [
            Call::Read,
            Call::Idempotent,
            Call::Create,
            Call::GuardedUpdate,
            Call::GuardedDelete,
            Call::Write,
        ] {
            // Nothing reached the server: everything may go again.
            assert_eq!(decide(call, Fault::NotActed), Next::Retry);
            assert_eq!(decide(call, Fault::Permanent), Next::GiveUp);
        }
        assert_eq!(decide(Call::Read, Fault::Uncertain), Next::Retry);
        assert_eq!(decide(Call::Idempotent, Fault::Uncertain), Next::Retry);
        assert_eq!(decide(Call::GuardedDelete, Fault::Uncertain), Next::Retry);
        assert_eq!(decide(Call::Create, Fault::Uncertain), Next::ReadBack);
        assert_eq!(decide(Call::GuardedUpdate, Fault::Uncertain), Next::ReadBack);
        assert_eq!(decide(Call::Write, Fault::Uncertain), Next::ReadBack);
    }

    #[test]
    fn backoff_grows_is_capped_and_jittered_within_the_deadline() {
        let b = Backoff::default();
        assert_eq!(b.delay(0, 0.0), Duration::from_millis(200));
        assert_eq!(b.delay(0, 1.0), Duration::from_millis(400));
        assert_eq!(b.delay(3, 1.0), Duration::from_millis(3200));
        assert_eq!(b.delay(30, 1.0), Duration::from_secs(30), "capped");
        assert_eq!(b.delay(30, 0.0), Duration::from_secs(15), "never below half the cap");
        let left = Duration::from_secs(5);
        assert_eq!(b.next(0, 1.0, None, left), Some(Duration::from_millis(400)));
        assert_eq!(b.next(4, 1.0, None, left), None, "6.4 s would end past the deadline");
        assert_eq!(
            b.next(0, 0.0, Some(Duration::from_secs(2)), left),
            Some(Duration::from_secs(2)),
            "Retry-After"
        );
        assert_eq!(b.next(0, 0.0, Some(Duration::from_secs(9)), left), None);
        for _ in 0..100 {
            let j = jitter();
            assert!((0.0..1.0).contains(&j));
        }
    }
}
