//! The cluster seam with transient API faults retried ([`Retrying`] wraps any [`Cluster`]).
//!
//! Every request goes through [`super::retry`]'s decisions: reads are repeated; writes only when
//! the server cannot have acted or repeating is idempotent; after an uncertain write the object is
//! read back and compared with what was sent before anything is sent again. Waits are capped
//! exponential backoff with jitter, and a request gives up after [`BUDGET`] — longer than an API
//! server restart, shorter than any sensible `--timeout` — with the last error, so the run then
//! fails the usual way (and names `chartup recover` if even the failed record cannot be written).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value as Json;

use super::retry::{classify, decide, jitter, Backoff, Call, Fault, Next};
use crate::cluster::{
    AccessCheck, AccessVerdict, ApplyMode, BoxFut, BoxStream, Cascade, Cluster, ClusterError, Eviction, ObjRef,
    RawRead, ResourceInfo, Result, ServerVersion, WatchEvent,
};

/// How long one request is retried before its error is returned.
pub const BUDGET: Duration = Duration::from_secs(60);

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
        loop {
            let e = match f().await {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            let next = decide(call, fault_of(&e));
            if next == Next::GiveUp {
                return Err(e);
            }
            let left = self.budget.saturating_sub(start.elapsed());
            let Some(wait) = backoff.next(attempt, jitter(), None, left) else {
                return Err(e);
            };
            attempt += 1;
            tokio::time::sleep(wait).await;
            if next == Next::ReadBack {
                if let Some(v) = read_back().await {
                    return Ok(v);
                }
            }
        }
    }
}

fn none<'a, T: Send + 'a>() -> BoxFut<'a, Option<T>> {
    Box::pin(async { None })
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
        // Repeating a delete that landed finds nothing to delete (Ok(false)): the same outcome.
        Box::pin(self.run(
            Call::GuardedDelete,
            move || self.inner.delete(r, cascade, dry_run),
            none,
        ))
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
    }
}
