//! Rolling components at the same time where no order is declared ([`super::schedule`] decides
//! which): a scheduler *around* the per-component rollout (`Run::roll_component`), so every step
//! inside a component — health gates, pod-by-pod updates, carries, recreates, journaling — is the
//! same code whether it runs alone or beside others.
//!
//! Each component gets its own [`Run`] on one task (`FuturesUnordered`, no threads: the cluster
//! calls are I/O and the waits are polls). What the runs share is reached through two seams:
//!
//! - the record: each run journals into its own copy of the pending record; its store is a
//!   [`Branch`] that merges the new journal lines (and any other record field the run changed,
//!   e.g. the holder's heartbeat; a list such as the carries' or snapshots' state gets only this
//!   run's own removals and additions, so entries of other components stay) into the one shared record and writes that, one write at a time,
//!   so no line of another component is lost; writes asked for while one is under way are served
//!   by a single next write (a group commit: nine components finishing together cost one or two
//!   record writes, not nine), and a run's `update` returns only once a write holding its lines
//!   is done, as before;
//! - the output: progress of the oldest running component streams live, the others' is held and
//!   printed as a group when they finish or become the oldest, so lines of two components never
//!   interleave — except heartbeats ([`Progress::Waiting`]): they pass at once, each naming its
//!   component, so a held component's long wait is not silent (one line each, never mid-group).
//!
//! Fail-fast: the first failure sets the [`Halt`]; nothing new starts; the other runs stop at their
//! next safe point ([`Run::keep_going`]: before the next workload or pod — a pod already deleted is
//! waited for until Ready, and a controller's own rollout is left to it) and the first failure is
//! the run's error, the others journaled and reported as warnings.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use futures::stream::{FuturesUnordered, StreamExt as _};
use serde_json::Value as Json;

use super::error::ApplyError;
use super::journal;
use super::progress::{Progress, Reporter};
use super::runner::{Halt, Run};
use super::schedule::{self, Unit};
use crate::cluster::BoxFut;
use crate::manifest::ManifestSet;
use crate::plan::saved::SavedPlan;
use crate::release::records::History;
use crate::release::Release;
use crate::storage::{ReleaseStore, Result as StoreResult};

impl Run<'_, '_> {
    /// Roll `units` out, each as soon as what it waits for is healthy, the first failure stopping
    /// the rest (module comment).
    pub(super) async fn roll_units(
        &mut self,
        saved: &SavedPlan,
        from: &ManifestSet,
        to: &ManifestSet,
        units: &[Unit],
    ) -> Result<(), ApplyError> {
        let n = units.len();
        let trunk = Trunk {
            inner: self.store,
            master: Mutex::new((self.rel.clone(), 0)),
            written: futures::lock::Mutex::new(0),
        };
        let halt = Arc::new(Halt::default());
        let out = RefCell::new(Output {
            rep: &mut *self.rep,
            running: Vec::new(),
            held: BTreeMap::new(),
        });
        let (cluster, opts) = (self.cluster, self.opts);
        let (mut started, mut done) = (vec![false; n], vec![false; n]);
        let mut failures: Vec<(usize, ApplyError)> = Vec::new();
        let mut running = FuturesUnordered::new();
        loop {
            if failures.is_empty() {
                for i in schedule::ready(units, &started, &done) {
                    started[i] = true;
                    out.borrow_mut().start(i);
                    let fork = trunk.snapshot();
                    let (trunk, out, halt) = (&trunk, &out, halt.clone());
                    running.push(async move {
                        let mut rel = fork;
                        let branch = Branch::new(trunk, &rel);
                        let mut fwd = Forward { out, unit: i };
                        let mut run = Run {
                            cluster,
                            store: &branch,
                            rel: &mut rel,
                            rep: &mut fwd,
                            opts,
                            timeout: opts.timeout,
                            halt: Some(halt),
                        };
                        // Each component its own step deadlines (crate::recovery::retrying: a
                        // task-local, and these runs share one task).
                        let r = crate::recovery::retrying::with_deadlines(
                            std::time::Instant::now() + opts.timeout,
                            run.roll_component(saved, from, to, &units[i].component, &units[i].keys),
                        )
                        .await;
                        (i, r)
                    });
                }
            }
            let Some((i, r)) = running.next().await else { break };
            out.borrow_mut().end(i);
            match r {
                Ok(()) => done[i] = true,
                Err(e) => {
                    halt.set(&units[i].component);
                    failures.push((i, e));
                }
            }
        }
        drop(running);
        drop(out);
        *self.rel = trunk.master.into_inner().unwrap_or_else(|p| p.into_inner()).0;
        let mut failures = failures.into_iter();
        let Some((_, first)) = failures.next() else {
            return Ok(());
        };
        for (i, e) in failures {
            let line = format!("component {}: {e}", units[i].component);
            self.note(line.clone()).await?;
            self.rep.report(Progress::Warning { message: line });
        }
        let never: Vec<&str> = (0..n)
            .filter(|&i| !started[i])
            .map(|i| units[i].component.as_str())
            .collect();
        if !never.is_empty() {
            self.note(format!("not started after the failure: {}", never.join(", ")))
                .await?;
        }
        Err(first)
    }
}

/// The one pending record the components journal into.
struct Trunk<'s> {
    inner: &'s dyn ReleaseStore,
    /// The record and how many merges it holds.
    master: Mutex<(Release, u64)>,
    /// One write of the record at a time; the merge count the last successful write held.
    written: futures::lock::Mutex<u64>,
}

impl Trunk<'_> {
    fn snapshot(&self) -> Release {
        self.master.lock().unwrap_or_else(|p| p.into_inner()).0.clone()
    }
}

/// One component's view of the record store: writes of its copy are merged into the trunk.
struct Branch<'t, 's> {
    trunk: &'t Trunk<'s>,
    /// Journal entries of the copy already merged, and the copy's other fields as last merged.
    merged: Mutex<(usize, serde_json::Map<String, Json>)>,
}

impl<'t, 's> Branch<'t, 's> {
    fn new(trunk: &'t Trunk<'s>, fork: &Release) -> Self {
        Branch {
            trunk,
            merged: Mutex::new((journal_len(fork), fork.extra.clone())),
        }
    }

    /// Merge what `copy` added since the last merge into the trunk's record; the merge's number.
    fn merge(&self, copy: &Release) -> u64 {
        let mut merged = self.merged.lock().unwrap_or_else(|p| p.into_inner());
        let mut trunk = self.trunk.master.lock().unwrap_or_else(|p| p.into_inner());
        let (master, seq) = &mut *trunk;
        let lines = copy.extra.get(journal::KEY).and_then(Json::as_array);
        if let Some(new) = lines.and_then(|l| l.get(merged.0..)) {
            match master.extra.get_mut(journal::KEY).and_then(Json::as_array_mut) {
                Some(a) => a.extend(new.iter().cloned()),
                None => {
                    master.extra.insert(journal::KEY.into(), Json::Array(new.to_vec()));
                }
            }
        }
        merged.0 = lines.map_or(0, Vec::len);
        for (k, v) in &copy.extra {
            if k != journal::KEY && merged.1.get(k) != Some(v) {
                let merged_value = match (master.extra.get(k), merged.1.get(k), v) {
                    // A list other components may add to too (carries, snapshots): apply this
                    // component's own changes — entries gone, entries new — to the shared one.
                    (Some(Json::Array(shared)), base, Json::Array(mine)) => {
                        let base: &[Json] = match base {
                            Some(Json::Array(b)) => b,
                            _ => &[],
                        };
                        let mut out: Vec<Json> = shared
                            .iter()
                            .filter(|e| !base.contains(e) || mine.contains(e))
                            .cloned()
                            .collect();
                        for e in mine.iter().filter(|e| !base.contains(e)) {
                            if !out.contains(e) {
                                out.push(e.clone());
                            }
                        }
                        Json::Array(out)
                    }
                    _ => v.clone(),
                };
                master.extra.insert(k.clone(), merged_value);
                merged.1.insert(k.clone(), v.clone());
            }
        }
        *seq += 1;
        *seq
    }
}

fn journal_len(rel: &Release) -> usize {
    rel.extra.get(journal::KEY).and_then(Json::as_array).map_or(0, Vec::len)
}

impl ReleaseStore for Branch<'_, '_> {
    fn namespace(&self) -> &str {
        self.trunk.inner.namespace()
    }

    fn list(&self) -> BoxFut<'_, StoreResult<Vec<Release>>> {
        self.trunk.inner.list()
    }

    fn history<'a>(&'a self, release: &'a str) -> BoxFut<'a, StoreResult<History>> {
        self.trunk.inner.history(release)
    }

    fn create<'a>(&'a self, rel: &'a Release) -> BoxFut<'a, StoreResult<()>> {
        self.trunk.inner.create(rel)
    }

    fn update<'a>(&'a self, rel: &'a Release) -> BoxFut<'a, StoreResult<()>> {
        Box::pin(async move {
            let mine = self.merge(rel);
            let mut written = self.trunk.written.lock().await;
            if *written >= mine {
                // A write that started after our merge already holds our lines.
                return Ok(());
            }
            let (record, seq) = {
                let m = self.trunk.master.lock().unwrap_or_else(|p| p.into_inner());
                (m.0.clone(), m.1)
            };
            self.trunk.inner.update(&record).await?;
            *written = seq;
            Ok(())
        })
    }

    fn delete<'a>(&'a self, release: &'a str, revision: u32) -> BoxFut<'a, StoreResult<()>> {
        self.trunk.inner.delete(release, revision)
    }
}

/// The progress of the components running: the oldest streams, the others are held.
struct Output<'x> {
    rep: &'x mut dyn Reporter,
    /// Running units, oldest first.
    running: Vec<usize>,
    held: BTreeMap<usize, Vec<Progress>>,
}

impl Output<'_> {
    fn report(&mut self, unit: usize, p: Progress) {
        // A heartbeat is for now, not for the group (issue 18: never silent for more than one);
        // it names its component, and on a terminal it only updates that component's live line.
        if self.running.first() == Some(&unit) || matches!(p, Progress::Waiting { .. }) {
            self.rep.report(p);
        } else {
            self.held.entry(unit).or_default().push(p);
        }
    }

    fn start(&mut self, unit: usize) {
        self.running.push(unit);
    }

    /// A unit ended: its held lines as one group; the next oldest, if it is now first, catches up.
    fn end(&mut self, unit: usize) {
        let was_first = self.running.first() == Some(&unit);
        self.running.retain(|&u| u != unit);
        self.flush(unit);
        if was_first {
            if let Some(&next) = self.running.first() {
                self.flush(next);
            }
        }
    }

    fn flush(&mut self, unit: usize) {
        for p in self.held.remove(&unit).unwrap_or_default() {
            self.rep.report(p);
        }
    }
}

/// One component's reporter.
struct Forward<'o, 'x> {
    out: &'o RefCell<Output<'x>>,
    unit: usize,
}

impl Reporter for Forward<'_, '_> {
    fn report(&mut self, p: Progress) {
        self.out.borrow_mut().report(self.unit, p);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::storage::MemoryStore;

    fn record() -> Release {
        serde_json::from_value(json!({"name": "r", "version": 1, "namespace": "ns"})).expect("a record")
    }

    #[test]
    fn two_components_upserting_one_list_keep_each_others_entries() {
        let store = MemoryStore::new("ns");
        let trunk = Trunk {
            inner: &store,
            master: Mutex::new((record(), 0)),
            written: futures::lock::Mutex::new(0),
        };
        let (mut a, mut b) = (trunk.snapshot(), trunk.snapshot());
        let (ba, bb) = (Branch::new(&trunk, &a), Branch::new(&trunk, &b));
        // Each adds its entry, then a updates its own (the upsert pattern of carries/snapshots).
        a.extra
            .insert("state".into(), json!([{"claim": "a", "stage": "created"}]));
        ba.merge(&a);
        b.extra
            .insert("state".into(), json!([{"claim": "b", "stage": "created"}]));
        bb.merge(&b);
        a.extra
            .insert("state".into(), json!([{"claim": "a", "stage": "ready"}]));
        ba.merge(&a);
        super::super::journal::journal(&mut b, "b did something");
        bb.merge(&b);
        let master = trunk.snapshot();
        let mut state = master.extra["state"].as_array().expect("a list").clone();
        state.sort_by_key(|e| e["claim"].as_str().unwrap_or("").to_string());
        assert_eq!(
            state,
            [
                json!({"claim": "a", "stage": "ready"}),
                json!({"claim": "b", "stage": "created"})
            ]
        );
        assert_eq!(journal_len(&master), 1);
    }

    #[test]
    fn a_held_units_heartbeat_passes_at_once_its_other_lines_wait_for_their_group() {
        let step = |c: &str| Progress::Step {
            step: format!("component {c}"),
        };
        let waiting = |c: &str| Progress::Waiting {
            component: c.into(),
            what: "Deployment/b (namespace ns) to roll out".into(),
            pod: String::new(),
            reason: String::new(),
            message: String::new(),
            elapsed_ms: 10_000,
            timeout_ms: 300_000,
        };
        let mut seen = Vec::new();
        let mut sink = |p: Progress| seen.push(p);
        {
            let mut out = Output {
                rep: &mut sink,
                running: Vec::new(),
                held: BTreeMap::new(),
            };
            out.start(0);
            out.start(1);
            out.report(0, step("a"));
            out.report(1, step("b"));
            out.report(1, waiting("b"));
            out.report(0, waiting("a"));
            out.end(1);
        }
        assert_eq!(seen, [step("a"), waiting("b"), waiting("a"), step("b")]);
    }
}
