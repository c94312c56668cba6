//! The cluster seam with transient API faults retried ([`Retrying`] wraps any [`Cluster`]).
//!
//! Every request goes through [`super::retry`]'s decisions: reads are repeated; writes only when
//! the server cannot have acted or repeating is idempotent; after an uncertain write the object is
//! read back and compared with what was sent before anything is sent again. Waits are capped
//! exponential backoff with jitter.
//!
//! How long a request keeps trying is the time its *step* has left, not a budget of its own: the
//! executor runs inside [`with_deadlines`] and moves the deadline on at every step and wait
//! ([`set_deadline`]), so an outage is ridden out exactly as long as the user's `--timeout` (or the
//! matrix's component timeout) allows, and a run never overstays it by a retry budget per request.
//! The deadline lives in a tokio task-local: the cluster seam stays a plain trait, and concurrent
//! futures of one task each see the deadline of their own scope. Outside any step (plan, status,
//! history) a request gives up after [`BUDGET`] — longer than an API server restart. The last
//! error then says for how long it was retried, so the run fails the usual way (and names `chartup
//! recover` if even the failed record cannot be written).
//!
//! What a retry of a *write* settled is said, not only done: each is kept as a note
//! ([`take_notes`]) that the executor journals and reports with its next step (`… the answer was
//! lost …; read back: the write had landed, not sent again`), so a run's record shows where the
//! transport failed and how the server's state was reconciled. The notes are process-wide, not
//! per task: one process runs one operation, and its parallel components journal into one record.
//!
//! A request retried through an outage is not silent either (issue 18): under [`with_retry_hook`]
//! (the executor sets one per run) each retry loop hands an [`Outage`] to the hook once it has been
//! quiet for the hook's interval, and sleeps no longer than that between them. The hook is a plain
//! callback: this layer knows nothing of reporters or printing.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value as Json;

use super::retry::{classify, decide, jitter, Backoff, Call, Fault, Next};
use crate::cluster::{
    AccessCheck, AccessVerdict, ApplyMode, BoxFut, BoxStream, Cascade, Cluster, ClusterError, Eviction, ObjRef,
    RawRead, ResourceInfo, Result, ServerVersion, WatchEvent,
};

/// How long one request is retried before its error is returned, outside any step's deadline.
pub const BUDGET: Duration = Duration::from_secs(60);

/// How long closing a failed run (marking its revision failed) may retry: the step's time is
/// spent by then, and a lock that cannot be released in this time is left to `chartup recover`.
pub const CLOSING_BUDGET: Duration = Duration::from_secs(30);
/// [`CLOSING_BUDGET`] in a give-up message.
pub const CLOSING: &str = "the 30s allowed for marking the revision failed";

tokio::task_local! {
    /// The deadline the current task's requests retry until, what it is (for the error), and when
    /// its step began (for how much of the step's time an outage has used).
    static DEADLINE: std::cell::Cell<Option<(Instant, &'static str, Instant)>>;
    /// Who hears about requests being retried (see [`with_retry_hook`]).
    static HOOK: RetryHook;
}

/// A request being retried, as its heartbeat says it: `API server unreachable (connection
/// refused), retrying getting ConfigMap/a — 12s of 5m0s`.
#[derive(Debug, Clone, PartialEq)]
pub struct Outage {
    /// `API server unreachable (…), retrying <the request>`.
    pub what: String,
    /// How much of the step's time is gone (of the request's own budget outside a step).
    pub elapsed: Duration,
    /// The step's whole time (or the request's budget).
    pub timeout: Duration,
}

/// A callback for [`Outage`]s, called at most once per `every` of a request's retrying.
#[derive(Clone)]
pub struct RetryHook {
    pub every: Duration,
    pub call: Arc<dyn Fn(Outage) + Send + Sync>,
}

/// Run `f` with its requests' retries reported to `hook`.
pub async fn with_retry_hook<F: std::future::Future>(hook: RetryHook, f: F) -> F::Output {
    HOOK.scope(hook, f).await
}

/// What a run's deadlines are, in a give-up message.
pub const STEP: &str = "the step's deadline (its timeout)";

/// Run `f` with a movable step deadline, starting at `deadline` (see [`set_deadline`]).
pub async fn with_deadlines<F: std::future::Future>(deadline: Instant, f: F) -> F::Output {
    with_deadline(deadline, STEP, f).await
}

/// Run `f` with requests retried until `deadline` at the latest; `what` names it in errors.
pub async fn with_deadline<F: std::future::Future>(deadline: Instant, what: &'static str, f: F) -> F::Output {
    DEADLINE
        .scope(std::cell::Cell::new(Some((deadline, what, Instant::now()))), f)
        .await
}

/// Move the current step's deadline (a new step or wait begins). Outside [`with_deadlines`]
/// nothing happens.
pub fn set_deadline(deadline: Instant) {
    let _ = DEADLINE.try_with(|d| d.set(Some((deadline, STEP, Instant::now()))));
}

/// The current deadline, if the task is in a step (or another bounded scope).
pub fn deadline() -> Option<Instant> {
    current().map(|(d, _, _)| d)
}

fn current() -> Option<(Instant, &'static str, Instant)> {
    DEADLINE.try_with(|d| d.get()).ok().flatten()
}

static NOTES: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

#[cfg(test)]
tokio::task_local! {
    /// A test's own list of notes: tests run in parallel in one process, and a run finishing in
    /// another test would otherwise take (and journal) this test's notes.
    static OWN_NOTES: Arc<std::sync::Mutex<Vec<String>>>;
}

/// Run `f` with the notes of its requests kept apart from the process's list (tests only).
#[cfg(test)]
pub(crate) async fn with_own_notes<F: std::future::Future>(
    notes: Arc<std::sync::Mutex<Vec<String>>>,
    f: F,
) -> F::Output {
    OWN_NOTES.scope(notes, f).await
}

fn with_notes<T>(f: impl FnOnce(&mut Vec<String>) -> T) -> T {
    #[cfg(test)]
    if let Ok(own) = OWN_NOTES.try_with(Arc::clone) {
        return f(&mut own.lock().unwrap_or_else(|p| p.into_inner()));
    }
    f(&mut NOTES.lock().unwrap_or_else(|p| p.into_inner()))
}

fn note(line: String) {
    with_notes(|notes| {
        // A write retried through an outage says so once, not once per try.
        if notes.last() != Some(&line) {
            notes.push(line);
        }
    })
}

/// What retried writes settled since the last call (for the journal and the progress).
pub fn take_notes() -> Vec<String> {
    with_notes(std::mem::take)
}

/// The request an error is about (`replacing Secret/x (namespace y)`), and the transport's or the
/// server's words for what went wrong.
fn what_and_cause(e: &ClusterError) -> (String, String) {
    let what = match e {
        ClusterError::Api { what, .. } => what.clone(),
        other => other.to_string(),
    };
    let mut cause = e.cause_text();
    let mut src = std::error::Error::source(e).and_then(|s| s.source());
    while let Some(s) = src {
        let t = s.to_string();
        if !cause.contains(&t) {
            cause.push_str(": ");
            cause.push_str(&t);
        }
        src = s.source();
    }
    (what, cause)
}

/// Retries shorter than this are not worth a last try at the deadline.
const LAST_TRY_MIN: Duration = Duration::from_millis(50);

pub struct Retrying {
    inner: Arc<dyn Cluster>,
    budget: Duration,
}

impl Retrying {
    pub fn new(inner: Arc<dyn Cluster>) -> Retrying {
        Retrying { inner, budget: BUDGET }
    }

    pub fn with_budget(inner: Arc<dyn Cluster>, budget: Duration) -> Retrying {
        Retrying { inner, budget }
    }
}

/// The fault class of a cluster error: its HTTP status, else its transport's words.
pub fn fault_of(e: &ClusterError) -> Fault {
    let mut text = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        text.push_str(": ");
        text.push_str(&s.to_string());
        src = s.source();
    }
    classify(e.status_code(), &text)
}

/// Whether `live` already holds what `sent` asked for (every top-level field but metadata and
/// status): an uncertain write that landed.
fn landed(sent: &Json, live: &Json) -> bool {
    sent.as_object().is_some_and(|o| {
        o.iter()
            .filter(|(k, _)| !matches!(k.as_str(), "metadata" | "status" | "apiVersion" | "kind"))
            .all(|(k, v)| live.get(k) == Some(v))
    })
}

impl Retrying {
    /// Run `f` until it succeeds, fails for good, or the budget is spent. `read_back` settles an
    /// uncertain write: `Some(value)` when the write is found to have landed.
    async fn run<'a, T: Send + 'a>(
        &'a self,
        call: Call,
        f: impl Fn() -> BoxFut<'a, Result<T>> + Send + Sync + 'a,
        read_back: impl Fn() -> BoxFut<'a, Option<T>> + Send + Sync + 'a,
    ) -> Result<T> {
        let start = Instant::now();
        let backoff = Backoff::default();
        let mut attempt = 0;
        let mut last_try = false;
        let hook = HOOK.try_with(Clone::clone).ok();
        let mut spoke = start;
        loop {
            let e = match f().await {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            let fault = fault_of(&e);
            let next = decide(call, fault);
            if next == Next::GiveUp {
                return Err(e);
            }
            let (what, cause) = what_and_cause(&e);
            // The step's deadline when there is one (read at each try: the step may move it),
            // else this request's own budget.
            let step = current();
            let until = step.map(|(d, _, _)| d).unwrap_or(start + self.budget);
            let left = until.saturating_duration_since(Instant::now());
            let wait = match backoff.next(attempt, jitter(), None, left) {
                Some(w) => w,
                // The next backoff would end past the deadline: one last try at the deadline.
                None if !last_try && left > LAST_TRY_MIN => {
                    last_try = true;
                    left
                }
                None => return Err(gave_up(e, attempt + 1, start.elapsed(), step.map(|(_, what, _)| what))),
            };
            attempt += 1;
            match &hook {
                None => tokio::time::sleep(wait).await,
                Some(hook) => {
                    let (since, timeout) = match step {
                        Some((d, _, began)) => (began, d.saturating_duration_since(began)),
                        None => (start, self.budget),
                    };
                    let outage = || Outage {
                        what: format!("{}, retrying {what}", unreachable(&e, &cause)),
                        elapsed: since.elapsed(),
                        timeout,
                    };
                    // Beat like the executor's waits (at 9/10 of the interval: the next look may
                    // come a tenth late), and never sleep past the next beat.
                    let due = hook.every - hook.every / 10;
                    let end = Instant::now() + wait;
                    loop {
                        if spoke.elapsed() >= due {
                            (hook.call)(outage());
                            spoke = Instant::now();
                        }
                        let now = Instant::now();
                        if now >= end {
                            break;
                        }
                        tokio::time::sleep((end - now).min(due.saturating_sub(spoke.elapsed()))).await;
                    }
                }
            }
            if next == Next::ReadBack {
                if let Some(v) = read_back().await {
                    note(format!(
                        "{what}: the answer was lost ({cause}); read back: the write had landed, not sent again"
                    ));
                    return Ok(v);
                }
                note(format!(
                    "{what}: the answer was lost ({cause}); read back: the write had not landed, sent again"
                ));
            } else if call != Call::Read {
                note(match fault {
                    Fault::NotActed => format!("{what}: the server did not act ({cause}); sent again"),
                    _ => format!("{what}: the answer was lost ({cause}); sent again (repeating it is harmless)"),
                });
            }
        }
    }
}

/// `API server unreachable (connection refused)`, or what it answered (`API server answered 503
/// (…)`).
fn unreachable(e: &ClusterError, cause: &str) -> String {
    match e.status_code() {
        Some(code) => format!("API server answered {code} ({cause})"),
        None => format!("API server unreachable ({cause})"),
    }
}

fn none<'a, T: Send + 'a>() -> BoxFut<'a, Option<T>> {
    Box::pin(async { None })
}

/// The last error of a request that was retried until its time ran out, saying so.
fn gave_up(e: ClusterError, tries: u32, spent: Duration, until: Option<&str>) -> ClusterError {
    match e {
        ClusterError::Api { what, source } => ClusterError::Api {
            what: format!(
                "{what} (tried {tries} times over {:.1}s, until {})",
                spent.as_secs_f64(),
                until.unwrap_or("the retry budget ran out")
            ),
            source,
        },
        other => other,
    }
}

impl Cluster for Retrying {
    fn namespace(&self) -> &str {
        self.inner.namespace()
    }

    fn get<'a>(&'a self, r: &'a ObjRef) -> BoxFut<'a, Result<Option<Json>>> {
        Box::pin(self.run(Call::Read, move || self.inner.get(r), none))
    }

    fn list<'a>(
        &'a self,
        api_version: &'a str,
        kind: &'a str,
        namespace: &'a str,
        selector: Option<&'a str>,
    ) -> BoxFut<'a, Result<Vec<Json>>> {
        Box::pin(self.run(
            Call::Read,
            move || self.inner.list(api_version, kind, namespace, selector),
            none,
        ))
    }

    fn create<'a>(&'a self, obj: &'a Json, dry_run: bool) -> BoxFut<'a, Result<Json>> {
        let call = if dry_run { Call::Read } else { Call::Create };
        Box::pin(self.run(
            call,
            move || self.inner.create(obj, dry_run),
            move || {
                Box::pin(async move {
                    // A generated name cannot be read back: such a create is not repeated blindly.
                    let r = ObjRef::of(obj, self.inner.namespace())
                        .ok()
                        .filter(|r| !r.name.is_empty())?;
                    self.inner.get(&r).await.ok().flatten().filter(|live| landed(obj, live))
                })
            },
        ))
    }

    fn replace<'a>(&'a self, obj: &'a Json) -> BoxFut<'a, Result<Json>> {
        let call = if obj.pointer("/metadata/resourceVersion").is_some() {
            Call::GuardedUpdate
        } else {
            Call::Write
        };
        Box::pin(self.run(
            call,
            move || self.inner.replace(obj),
            move || {
                Box::pin(async move {
                    let r = ObjRef::of(obj, self.inner.namespace()).ok()?;
                    self.inner.get(&r).await.ok().flatten().filter(|live| landed(obj, live))
                })
            },
        ))
    }

    fn apply<'a>(&'a self, obj: &'a Json, dry_run: bool) -> BoxFut<'a, Result<(Json, ApplyMode)>> {
        // Server-side apply of the same intent lands the same however often it is sent.
        Box::pin(self.run(Call::Idempotent, move || self.inner.apply(obj, dry_run), none))
    }

    fn patch<'a>(&'a self, r: &'a ObjRef, patch: &'a Json, dry_run: bool) -> BoxFut<'a, Result<Json>> {
        // A merge patch of fixed content: idempotent.
        Box::pin(self.run(Call::Idempotent, move || self.inner.patch(r, patch, dry_run), none))
    }

    fn delete<'a>(&'a self, r: &'a ObjRef, cascade: Cascade, dry_run: bool) -> BoxFut<'a, Result<bool>> {
        if dry_run {
            return Box::pin(self.run(Call::Read, move || self.inner.delete(r, cascade, true), none));
        }
        Box::pin(async move {
            // A pod's controller makes its replacement under the same name (a StatefulSet's
            // `db-1`): a delete sent again after a lost answer could hit the replacement, so the
            // read-back tells them apart by UID. Other kinds chartup deletes are not recreated
            // by anyone but chartup.
            let uid = if r.kind == "Pod" {
                match self.get(r).await {
                    Ok(Some(p)) => p.pointer("/metadata/uid").and_then(Json::as_str).map(str::to_string),
                    Ok(None) => return Ok(false),
                    // Unreadable (no right to get it?): the delete says what it says.
                    Err(_) => None,
                }
            } else {
                None
            };
            let uid = &uid;
            self.run(
                Call::Write,
                move || self.inner.delete(r, cascade, false),
                move || {
                    Box::pin(async move {
                        // Landed: gone, being deleted, or replaced by another object of that name.
                        match self.inner.get(r).await.ok()? {
                            None => Some(true),
                            Some(live) => {
                                let other = uid
                                    .as_deref()
                                    .is_some_and(|u| live.pointer("/metadata/uid").and_then(Json::as_str) != Some(u));
                                (other || live.pointer("/metadata/deletionTimestamp").is_some()).then_some(true)
                            }
                        }
                    })
                },
            )
            .await
        })
    }

    fn evict<'a>(&'a self, pod: &'a ObjRef, uid: Option<&'a str>) -> BoxFut<'a, Result<Eviction>> {
        let call = if uid.is_some() {
            Call::GuardedDelete
        } else {
            Call::Write
        };
        Box::pin(self.run(call, move || self.inner.evict(pod, uid), none))
    }

    fn watch<'a>(
        &'a self,
        api_version: &'a str,
        kind: &'a str,
        namespace: &'a str,
        selector: Option<&'a str>,
        resource_version: Option<&'a str>,
    ) -> BoxFut<'a, Result<BoxStream<'a, Result<WatchEvent>>>> {
        Box::pin(self.run(
            Call::Read,
            move || {
                self.inner
                    .watch(api_version, kind, namespace, selector, resource_version)
            },
            none,
        ))
    }

    fn access_review<'a>(&'a self, check: &'a AccessCheck) -> BoxFut<'a, Result<AccessVerdict>> {
        Box::pin(self.run(Call::Read, move || self.inner.access_review(check), none))
    }

    fn server_version(&self) -> BoxFut<'_, Result<ServerVersion>> {
        Box::pin(self.run(Call::Read, move || self.inner.server_version(), none))
    }

    fn group_versions(&self) -> BoxFut<'_, Result<Vec<String>>> {
        Box::pin(self.run(Call::Read, move || self.inner.group_versions(), none))
    }

    fn resources<'a>(&'a self, group_version: &'a str) -> BoxFut<'a, Result<Vec<ResourceInfo>>> {
        Box::pin(self.run(Call::Read, move || self.inner.resources(group_version), none))
    }

    fn read_raw<'a>(&'a self, read: &'a RawRead) -> BoxFut<'a, Result<Json>> {
        Box::pin(self.run(Call::Read, move || self.inner.read_raw(read), none))
    }

    // Not retried: logs are only shown to explain a failure, and a node that does not serve them
    // answers with an error that retrying would only delay.
    fn pod_logs<'a>(&'a self, pod: &'a ObjRef, container: &'a str, tail: i64) -> BoxFut<'a, Result<String>> {
        self.inner.pod_logs(pod, container, tail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::fake::FakeCluster;

    fn block<T>(f: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    }

    fn cm(name: &str) -> Json {
        serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "v"}})
    }

    #[test]
    fn transient_faults_are_retried_within_the_budget_permanent_ones_are_not() {
        let fake = Arc::new(FakeCluster::new("ns"));
        let c = Retrying::with_budget(fake.clone(), Duration::from_millis(1500));
        block(c.apply(&cm("a"), false)).unwrap();
        let r = ObjRef::new("v1", "ConfigMap", "ns", "a");
        // A 403 is final: one request.
        fake.fail("get", "ConfigMap/a", Some(false), 403, "forbidden");
        let t = Instant::now();
        assert_eq!(block(c.get(&r)).unwrap_err().status_code(), Some(403));
        assert!(t.elapsed() < Duration::from_millis(300));
        // A 503 (the server did not act) keeps being retried until the budget is spent.
        let fake = Arc::new(FakeCluster::new("ns"));
        let c = Retrying::with_budget(fake.clone(), Duration::from_millis(1500));
        fake.fail(
            "get",
            "ConfigMap/a",
            Some(false),
            503,
            "the server is currently unable to handle the request",
        );
        let t = Instant::now();
        assert_eq!(block(c.get(&r)).unwrap_err().status_code(), Some(503));
        assert!(
            t.elapsed() >= Duration::from_millis(200) && t.elapsed() < Duration::from_millis(1600),
            "{:?}",
            t.elapsed()
        );
        let gets = fake.requests().iter().filter(|q| q.contains("get")).count();
        assert!(gets >= 2, "retried: {gets}");
    }

    #[test]
    fn an_uncertain_create_that_landed_is_read_back_not_repeated() {
        assert!(landed(&cm("a"), &cm("a")));
        let mut other = cm("a");
        other["data"]["k"] = serde_json::json!("w");
        assert!(!landed(&cm("a"), &other));
        // The server stored it, then the answer was a 504: read back, found, not sent again.
        let fake = Arc::new(FakeCluster::new("ns"));
        let c = Retrying::with_budget(fake.clone(), Duration::from_secs(5));
        fake.fail_times("create", "ConfigMap/a", 504, "the server timed out", 1, true);
        let made = block(c.create(&cm("a"), false)).expect("settled by reading back");
        assert_eq!(made["data"]["k"], "v");
        let log = fake.requests();
        assert_eq!(log.iter().filter(|l| *l == "create ConfigMap/a").count(), 1, "{log:?}");
        assert!(log.contains(&"get ConfigMap/a".to_string()), "{log:?}");
        // A 504 before anything was stored: the read-back finds nothing, so it is created again.
        fake.fail_times("create", "ConfigMap/b", 504, "the server timed out", 1, false);
        block(c.create(&cm("b"), false)).expect("created on the second try");
        let log = fake.requests();
        assert_eq!(log.iter().filter(|l| *l == "create ConfigMap/b").count(), 2, "{log:?}");
        assert!(fake.object("v1", "ConfigMap", "ns", "b").is_some());
        // A guarded update that landed before a reset: read back, not repeated (a repeat would be
        // a 409 on the resourceVersion it already moved).
        let mut upd = fake.object("v1", "ConfigMap", "ns", "a").unwrap();
        upd["data"]["k"] = serde_json::json!("w");
        fake.fail_times("replace", "ConfigMap/a", 502, "connection reset by peer", 1, true);
        block(c.replace(&upd)).expect("settled by reading back");
        let log = fake.requests();
        assert_eq!(log.iter().filter(|l| *l == "replace ConfigMap/a").count(), 1, "{log:?}");
    }

    #[test]
    fn a_delete_whose_answer_was_lost_is_read_back_and_said() {
        let fake = Arc::new(FakeCluster::new("ns"));
        let c = Retrying::with_budget(fake.clone(), Duration::from_secs(5));
        let own = Arc::new(std::sync::Mutex::new(Vec::new()));
        // This test's notes only, not those of runs finishing in other tests meanwhile.
        macro_rules! run {
            ($f:expr) => {
                block(with_own_notes(own.clone(), $f))
            };
        }
        let pod = |n: &str| serde_json::json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": n}});
        run!(c.apply(&pod("rb-landed"), false)).unwrap();
        run!(c.apply(&pod("rb-lost"), false)).unwrap();
        // The delete landed, its answer did not: read back (gone), not sent again.
        fake.fail_times("delete", "Pod/rb-landed", 504, "connection reset by peer", 1, true);
        let r = ObjRef::new("v1", "Pod", "ns", "rb-landed");
        assert!(run!(c.delete(&r, Cascade::Background, false)).unwrap());
        let log = fake.requests();
        assert_eq!(
            log.iter().filter(|l| *l == "delete Pod/rb-landed").count(),
            1,
            "{log:?}"
        );
        // It never reached the server: read back (still there, same UID), sent again.
        fake.fail_times("delete", "Pod/rb-lost", 504, "connection reset by peer", 1, false);
        let r = ObjRef::new("v1", "Pod", "ns", "rb-lost");
        assert!(run!(c.delete(&r, Cascade::Background, false)).unwrap());
        let log = fake.requests();
        assert_eq!(log.iter().filter(|l| *l == "delete Pod/rb-lost").count(), 2, "{log:?}");
        assert!(fake.object("v1", "Pod", "ns", "rb-lost").is_none());
        let notes = std::mem::take(&mut *own.lock().unwrap());
        let said = |name: &str, what: &str| notes.iter().any(|n| n.contains(name) && n.contains(what));
        assert!(
            said("rb-landed", "read back: the write had landed, not sent again"),
            "{notes:?}"
        );
        assert!(
            said("rb-lost", "read back: the write had not landed, sent again"),
            "{notes:?}"
        );
    }

    #[test]
    fn a_transient_fault_that_clears_is_ridden_out() {
        let fake = Arc::new(FakeCluster::new("ns"));
        let c = Retrying::new(fake.clone());
        block(c.apply(&cm("a"), false)).unwrap();
        fake.fail_times(
            "get",
            "ConfigMap/a",
            503,
            "the server is currently unable to handle the request",
            2,
            false,
        );
        let r = ObjRef::new("v1", "ConfigMap", "ns", "a");
        assert!(block(c.get(&r)).unwrap().is_some());
        assert_eq!(fake.requests().iter().filter(|l| *l == "get ConfigMap/a").count(), 3);
    }

    #[test]
    fn retries_end_at_the_steps_deadline_not_after_a_budget_of_their_own() {
        let fake = Arc::new(FakeCluster::new("ns"));
        // The request's own budget is a minute: the step's deadline must win.
        let c = Retrying::new(fake.clone());
        let r = ObjRef::new("v1", "ConfigMap", "ns", "a");
        fake.fail(
            "get",
            "ConfigMap/a",
            Some(false),
            503,
            "the server is currently unable to handle the request",
        );
        let t = Instant::now();
        let e = block(with_deadlines(Instant::now() + Duration::from_millis(900), c.get(&r))).unwrap_err();
        let spent = t.elapsed();
        assert!(
            spent >= Duration::from_millis(850) && spent < Duration::from_secs(3),
            "{spent:?}"
        );
        assert_eq!(e.status_code(), Some(503));
        assert!(e.to_string().contains("until the step's deadline"), "{e}");
        // A step that moves its deadline on (a new wait begins) gives its requests the new time.
        let t = Instant::now();
        let e = block(with_deadlines(Instant::now(), async {
            set_deadline(Instant::now() + Duration::from_millis(700));
            c.get(&r).await
        }))
        .unwrap_err();
        assert!(t.elapsed() >= Duration::from_millis(650), "{:?}", t.elapsed());
        assert_eq!(e.status_code(), Some(503));
        // Outside any step: the deadline is unknown and the request's own budget applies.
        assert_eq!(deadline(), None);
    }

    #[test]
    fn a_request_retried_through_an_outage_beats_through_the_hook() {
        let fake = Arc::new(FakeCluster::new("ns"));
        let c = Retrying::new(fake.clone());
        block(c.apply(&cm("a"), false)).unwrap();
        // Three refusals: backoffs of 0.2–0.4, 0.4–0.8 and 0.8–1.6 s, one of which is longer
        // than the interval: the hook must be called within it, not only between tries.
        fake.fail_times(
            "get",
            "ConfigMap/a",
            503,
            "the server is currently unable to handle the request",
            3,
            false,
        );
        let every = Duration::from_millis(200);
        let heard = Arc::new(std::sync::Mutex::new(Vec::<(Instant, Outage)>::new()));
        let h = heard.clone();
        let hook = RetryHook {
            every,
            call: Arc::new(move |o| h.lock().unwrap().push((Instant::now(), o))),
        };
        let r = ObjRef::new("v1", "ConfigMap", "ns", "a");
        let t = Instant::now();
        let step = Duration::from_secs(20);
        let got = block(with_retry_hook(hook, with_deadlines(Instant::now() + step, c.get(&r))));
        assert!(got.unwrap().is_some());
        let spent = t.elapsed();
        let heard = heard.lock().unwrap().clone();
        assert!(!heard.is_empty(), "retried for {spent:?} without a beat");
        // No silence longer than the interval (plus a scheduler's slack), and no more beats than
        // one per 9/10 of it.
        let mut last = t;
        for (at, _) in &heard {
            assert!(*at - last < every + Duration::from_millis(60), "{:?}", *at - last);
            last = *at;
        }
        assert!(
            heard.len() as u128 <= spent.as_millis() / (every.as_millis() * 9 / 10) + 1,
            "{heard:?}"
        );
        let (_, o) = &heard[0];
        assert!(
            o.what.starts_with("API server answered 503 (")
                && o.what.contains("retrying")
                && o.what.contains("ConfigMap/a"),
            "{o:?}"
        );
        // The step's whole time (it began as the deadline was set, a moment later).
        assert!(
            o.timeout <= step && o.timeout > step - Duration::from_millis(100),
            "{o:?}"
        );
        assert!(o.elapsed >= every * 9 / 10 && o.elapsed <= spent, "{o:?}");
        // Without a hook the same retries are silent (and still succeed).
        fake.fail_times("get", "ConfigMap/a", 503, "unavailable", 1, false);
        assert!(block(c.get(&r)).unwrap().is_some());
    }
}
