//! Waking a wait as soon as what it judges changes (issue 16): a fixed poll interval put up to one
//! interval between a pod turning Ready and chartup seeing it, on every step of a rollout's
//! critical path. A wait opens watches ([`Wake`]) on the objects it judges — the workload (by
//! name, filtered here: the seam has no field selectors) and its pods (by label selector, on the
//! server) — and [`Run::idle`] returns at the first event, or after [`WATCHED_POLL`] at the latest.
//!
//! The watch only says *when* to look again; what is judged is still read with a get or list,
//! so a missed, duplicated or reordered event can delay a decision by at most one
//! [`WATCHED_POLL`], never change it. A watch that cannot be opened (an old or restricted server)
//! or ends (the server closes watches after a few minutes) leaves the wait polling every
//! [`POLL`], as before. Watches start at resourceVersion "0" (the server's cache): its first
//! events are the objects as they are, which costs one early re-read and loses no change made
//! after the watch was opened.

use std::time::Duration;

use futures::{FutureExt as _, StreamExt as _};

use super::error::ApplyError;
use super::runner::{Run, POLL};
use crate::cluster::{self, BoxStream, Cluster, WatchEvent};

/// How long a wait with a live watch sleeps without an event before it reads again anyway (less
/// when the heartbeat or the wait's timeout is shorter: [`Run::idle`]).
pub(super) const WATCHED_POLL: Duration = Duration::from_secs(1);

struct Watch<'s> {
    events: BoxStream<'s, cluster::Result<WatchEvent>>,
    /// Only events of the object of this name wake the wait (empty: any).
    name: &'s str,
}

/// The watches a wait wakes on; empty when none could be opened.
#[derive(Default)]
pub(super) struct Wake<'s> {
    watches: Vec<Watch<'s>>,
}

impl<'s> Wake<'s> {
    /// Also wake on changes of `kind` objects in `namespace` matching `selector`, and named `name`
    /// unless it is empty. A watch that cannot be opened is left out: the wait polls.
    pub(super) async fn watch(
        &mut self,
        cluster: &'s dyn Cluster,
        api_version: &'s str,
        kind: &'s str,
        namespace: &'s str,
        selector: Option<&'s str>,
        name: &'s str,
    ) {
        if let Ok(events) = cluster.watch(api_version, kind, namespace, selector, None).await {
            self.watches.push(Watch { events, name });
        }
    }

    fn is_empty(&self) -> bool {
        self.watches.is_empty()
    }

    /// Until an event for a watched object arrives; a watch that ends or fails is dropped (never
    /// returns while every watch is gone: the caller's timer ends the wait).
    async fn changed(&mut self) {
        loop {
            if self.watches.is_empty() {
                return futures::future::pending().await;
            }
            let next = futures::future::select_all(self.watches.iter_mut().map(|w| w.events.next())).await;
            let (ev, i, _) = next;
            match ev {
                Some(Ok(ev)) if self.wakes(i, &ev) => return,
                Some(Ok(_)) => {}
                Some(Err(_)) | None => {
                    self.watches.swap_remove(i);
                }
            }
        }
    }

    fn wakes(&self, i: usize, ev: &WatchEvent) -> bool {
        let name = self.watches[i].name;
        match ev {
            WatchEvent::Added(o) | WatchEvent::Modified(o) | WatchEvent::Deleted(o) => {
                name.is_empty() || o.pointer("/metadata/name").and_then(|n| n.as_str()) == Some(name)
            }
            WatchEvent::Bookmark(_) => false,
        }
    }

    /// Take the events already delivered (a burst: a pod's status and its controller's status
    /// change together), so one re-read answers them all.
    fn drain(&mut self) {
        let mut i = 0;
        while i < self.watches.len() {
            match self.watches[i].events.next().now_or_never() {
                Some(Some(Ok(_))) => {}
                Some(Some(Err(_)) | None) => {
                    self.watches.swap_remove(i);
                }
                None => i += 1,
            }
        }
    }
}

impl Run<'_, '_> {
    /// One pause of a wait that watches: until something watched changes (or [`WATCHED_POLL`]);
    /// without a live watch, one [`POLL`]. A safe point, as [`Run::pause`].
    pub(super) async fn idle(&mut self, wake: &mut Wake<'_>) -> Result<(), ApplyError> {
        // Never so long that a heartbeat or the deadline would be noticed late.
        let limit = if wake.is_empty() {
            POLL
        } else {
            WATCHED_POLL
                .min(self.opts.heartbeat / 2)
                .min(self.timeout / 4)
                .max(POLL)
        };
        tokio::select! {
            () = tokio::time::sleep(limit) => {}
            () = wake.changed() => wake.drain(),
        }
        self.paused().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::FakeCluster;
    use serde_json::json;
    use std::time::Instant;

    fn block<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    }

    fn pod(name: &str, app: &str) -> serde_json::Value {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "ns", "labels": {"app": app}}})
    }

    #[test]
    fn a_change_of_a_watched_object_wakes_at_once_others_do_not() {
        let cluster = FakeCluster::new("ns");
        block(async {
            let mut wake = Wake::default();
            wake.watch(&cluster, "v1", "Pod", "ns", Some("app=a"), "").await;
            wake.watch(&cluster, "apps/v1", "Deployment", "ns", None, "a").await;
            assert!(!wake.is_empty());
            // Another component's pod and Deployment: no wake within the poll fallback.
            cluster.put(pod("b-1", "b"));
            cluster.put(
                json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "b", "namespace": "ns"}}),
            );
            let quiet = tokio::time::timeout(Duration::from_millis(300), wake.changed()).await;
            assert!(quiet.is_err(), "woken by another component's objects");
            // The watched pod: at once.
            let t = Instant::now();
            cluster.put(pod("a-1", "a"));
            tokio::time::timeout(Duration::from_millis(200), wake.changed())
                .await
                .expect("woken by the watched pod");
            assert!(t.elapsed() < Duration::from_millis(200));
            // The watched Deployment, by name.
            cluster.put(
                json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "a", "namespace": "ns"}}),
            );
            tokio::time::timeout(Duration::from_millis(200), wake.changed())
                .await
                .expect("woken by the watched Deployment");
        });
    }

    #[test]
    fn a_watch_that_cannot_be_opened_leaves_the_wait_polling() {
        let cluster = FakeCluster::new("ns");
        cluster.fail("watch", "*", None, 403, "watch is forbidden");
        block(async {
            let mut wake = Wake::default();
            wake.watch(&cluster, "v1", "Pod", "ns", Some("app=a"), "").await;
            assert!(wake.is_empty());
            // Nothing to wake on: `changed` never returns by itself (the timer ends the pause).
            let r = tokio::time::timeout(Duration::from_millis(100), wake.changed()).await;
            assert!(r.is_err());
        });
    }
}
