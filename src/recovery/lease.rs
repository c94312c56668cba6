//! The release's lock as a Kubernetes Lease (`coordination.k8s.io/v1`), held while a run lives.
//!
//! Helm's lock is the `pending-*` release record, and it stays the lock: helm and older chartups
//! see it, and `recover` releases it. But a record says nothing live about its writer, and Helm
//! rewrites records without a compare-and-swap. So a run also holds a Lease `chartup.<release>`
//! in the release's namespace (namespaced: a tenant with rights in one namespace can hold it):
//! - taken before the first write, by a create (AlreadyExists: held) or an update carrying the
//!   resourceVersion read (Conflict: another run won the race), so two runs cannot both hold it;
//! - `holderIdentity` = `chartup/<host>/<pid>/<start ticks>`, the full holder (user, boot id,
//!   version, operation) in the annotation `chartup.io/holder`, `leaseDurationSeconds` 30;
//! - renewed every [`RENEW_EVERY`] by a future running beside the run ([`holding`]), so the
//!   heartbeat goes on while the run waits on a long request or a backup command;
//! - released at the end (holder cleared, duration 1 s, as client-go's `ReleaseOnCancel`), never
//!   deleted: a delete could remove a successor's Lease;
//! - taken over only from a holder that is provably dead (crate::recovery::holder::liveness, the
//!   Lease's renewTime as its heartbeat), or when `recover --force` cleared it; a run whose renewal
//!   finds another holder has lost the lock and stops at its next safe point ([`lost`]).
//!
//! The API is discovered, not assumed (it exists from Kubernetes 1.14); where it is not served or
//! the user may not use Leases, the run goes on with the record as its only lock and says so.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value as Json};

use super::holder::{liveness, proc_start_ticks, Here, Holder, Liveness, LEASE_DURATION, RENEW_EVERY};
use crate::cluster::{Cluster, ClusterError, ObjRef};

pub const API_VERSION: &str = "coordination.k8s.io/v1";
/// The annotation holding the full [`Holder`] as JSON.
pub const HOLDER_ANNOTATION: &str = "chartup.io/holder";

/// The Lease of a release.
pub fn lease_name(release: &str) -> String {
    format!("chartup.{release}")
}

fn lease_ref(ns: &str, release: &str) -> ObjRef {
    ObjRef::new(API_VERSION, "Lease", ns, &lease_name(release))
}

#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    /// Another run holds the Lease (or won the race for it).
    #[error("{0}")]
    Held(String),
    #[error(transparent)]
    Cluster(#[from] ClusterError),
}

/// A Lease as chartup reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct LeaseView {
    pub name: String,
    /// Empty when released.
    pub identity: String,
    pub holder: Option<Holder>,
    pub renewed: Option<jiff::Timestamp>,
}

impl LeaseView {
    fn of(obj: &Json) -> LeaseView {
        let s = |p: &str| obj.pointer(p).and_then(Json::as_str).unwrap_or("").to_string();
        let holder: Option<Holder> = obj
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(HOLDER_ANNOTATION))
            .and_then(Json::as_str)
            .and_then(|h| serde_json::from_str(h).ok());
        LeaseView {
            name: s("/metadata/name"),
            identity: s("/spec/holderIdentity"),
            renewed: s("/spec/renewTime").parse().ok(),
            holder: holder.map(|mut h| {
                // The renewal moves renewTime only: that is the heartbeat.
                if let Ok(t) = s("/spec/renewTime").parse::<jiff::Timestamp>() {
                    h.heartbeat = h.heartbeat.max(t);
                }
                h
            }),
        }
    }

    /// Whether the holder named by the Lease still lives (None: released, or no holder named).
    pub fn liveness(&self) -> Option<Liveness> {
        if self.identity.is_empty() {
            return None;
        }
        let h = self.holder.as_ref()?;
        Some(liveness(h, &Here::now(), proc_start_ticks, jiff::Timestamp::now()))
    }
}

/// Kubernetes' MicroTime: RFC 3339 with exactly six fractional digits.
fn micro_time(t: jiff::Timestamp) -> String {
    format!("{}.{:06}Z", t.strftime("%Y-%m-%dT%H:%M:%S"), t.subsec_microsecond())
}

fn lease_body(ns: &str, release: &str, me: &Holder, transitions: i64) -> Json {
    let now = micro_time(jiff::Timestamp::now());
    json!({
        "apiVersion": API_VERSION,
        "kind": "Lease",
        "metadata": {
            "name": lease_name(release),
            "namespace": ns,
            "labels": {"app.kubernetes.io/managed-by": "chartup", "chartup.io/release": release},
            "annotations": {HOLDER_ANNOTATION: serde_json::to_string(me).unwrap_or_default()},
        },
        "spec": {
            "holderIdentity": me.identity(),
            "leaseDurationSeconds": LEASE_DURATION.as_secs(),
            "acquireTime": now,
            "renewTime": now,
            "leaseTransitions": transitions,
        }
    })
}

/// Whether this server serves Leases (discovery; a server that will not say counts as no — but
/// where discovery is forbidden, the Lease itself is tried: its own errors tell).
pub async fn served(cluster: &dyn Cluster) -> bool {
    match cluster.resources(API_VERSION).await {
        Ok(list) => list.iter().any(|r| r.name == "leases"),
        Err(e) => e.status_code() == Some(403),
    }
}

/// The release's Lease, if the server serves Leases, the user may read it, and it exists.
pub async fn read(cluster: &dyn Cluster, ns: &str, release: &str) -> Option<LeaseView> {
    if !served(cluster).await {
        return None;
    }
    match cluster.get(&lease_ref(ns, release)).await {
        Ok(Some(l)) => Some(LeaseView::of(&l)),
        _ => None,
    }
}

/// A Lease this process holds.
#[derive(Debug)]
pub struct LeaseLock {
    pub view: LeaseView,
    identity: String,
    /// The Lease as last stored (its resourceVersion guards every update).
    live: Json,
}

/// The outcome of [`acquire`].
#[derive(Debug)]
pub enum Acquired {
    Held(LeaseLock),
    /// No Lease can be used here: the record alone is the lock. Why, for a warning.
    Unavailable(String),
}

fn unavailable(e: &ClusterError) -> Option<String> {
    match e.status_code() {
        Some(403) => Some(format!("you may not use Leases here ({})", e.server_message())),
        Some(404) => Some(format!("the server does not serve Leases ({})", e.server_message())),
        _ => matches!(e, ClusterError::UnknownKind { .. }).then(|| e.to_string()),
    }
}

fn held_message(view: &LeaseView, ns: &str, release: &str, why: &str) -> String {
    let who = view
        .holder
        .as_ref()
        .map(|h| format!("chartup {} by {} since {}", h.operation, h.who(), h.acquired))
        .unwrap_or_else(|| format!("holder {}", view.identity));
    format!(
        "release {release} is locked by a run that is still alive (Lease {ns}/{}): {who} ({why})\n  wait for it, or \
         stop it (Ctrl-C marks the revision failed); `chartup recover {release} -n {ns} --force` only if you know \
         it is gone",
        view.name
    )
}

/// Take the release's Lease for `me`: create it, or update a released one, or take it over from a
/// dead holder. A live holder is refused ([`LeaseError::Held`]).
pub async fn acquire(cluster: &dyn Cluster, ns: &str, release: &str, me: &Holder) -> Result<Acquired, LeaseError> {
    if !served(cluster).await {
        return Ok(Acquired::Unavailable(format!(
            "the server does not serve {API_VERSION} Leases"
        )));
    }
    let r = lease_ref(ns, release);
    for _ in 0..3 {
        let current = match cluster.get(&r).await {
            Ok(c) => c,
            Err(e) => match unavailable(&e) {
                Some(why) => return Ok(Acquired::Unavailable(why)),
                None => return Err(e.into()),
            },
        };
        let Some(current) = current else {
            match cluster.create(&lease_body(ns, release, me, 0), false).await {
                Ok(live) => return Ok(Acquired::Held(lock_of(live))),
                // Another run created it first: judge that one.
                Err(e) if e.status_code() == Some(409) => continue,
                Err(e) => match unavailable(&e) {
                    Some(why) => return Ok(Acquired::Unavailable(why)),
                    None => return Err(e.into()),
                },
            }
        };
        let view = LeaseView::of(&current);
        if view.identity != me.identity() {
            if let Some(Liveness::Alive(why)) = view.liveness() {
                return Err(LeaseError::Held(held_message(&view, ns, release, &why)));
            }
        }
        let transitions = current
            .pointer("/spec/leaseTransitions")
            .and_then(Json::as_i64)
            .unwrap_or(0)
            + i64::from(view.identity != me.identity());
        let mut body = lease_body(ns, release, me, transitions);
        body["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"].clone();
        match cluster.replace(&body).await {
            Ok(live) => return Ok(Acquired::Held(lock_of(live))),
            // Someone wrote it since we read it: read again and judge again.
            Err(e) if e.status_code() == Some(409) => continue,
            Err(e) => match unavailable(&e) {
                Some(why) => return Ok(Acquired::Unavailable(why)),
                None => return Err(e.into()),
            },
        }
    }
    Err(LeaseError::Held(format!(
        "release {release}: another run is taking the Lease {ns}/{} at the same time",
        lease_name(release)
    )))
}

fn lock_of(live: Json) -> LeaseLock {
    let view = LeaseView::of(&live);
    LeaseLock {
        identity: view.identity.clone(),
        view,
        live,
    }
}

impl LeaseLock {
    /// Renew the heartbeat. `Err` with the reason when the Lease is no longer ours (cleared by
    /// `recover --force`, taken over, deleted); a transient failure is `Ok`: the next renewal
    /// tries again, and a holder unseen for a whole lease duration is judged by the others.
    pub async fn renew(&mut self, cluster: &dyn Cluster) -> Result<(), String> {
        for _ in 0..2 {
            let mut body = self.live.clone();
            body["spec"]["renewTime"] = json!(micro_time(jiff::Timestamp::now()));
            match cluster.replace(&body).await {
                Ok(live) => {
                    self.view = LeaseView::of(&live);
                    self.live = live;
                    return Ok(());
                }
                Err(e) if matches!(e.status_code(), Some(409) | Some(404)) => {
                    let r = ObjRef::of(&self.live, "").map_err(|e| e.to_string())?;
                    match cluster.get(&r).await {
                        Ok(Some(now)) if LeaseView::of(&now).identity == self.identity => self.live = now,
                        Ok(Some(now)) => return Err(taken_by(&LeaseView::of(&now))),
                        Ok(None) => return Err(format!("its Lease {} was deleted", self.view.name)),
                        Err(_) => return Ok(()),
                    }
                }
                Err(_) => return Ok(()),
            }
        }
        Ok(())
    }

    /// Release the Lease (holder cleared, duration 1 s). Best effort: a Lease left behind names a
    /// holder that is gone, which the next run judges dead.
    pub async fn release(mut self, cluster: &dyn Cluster) {
        for _ in 0..2 {
            let mut body = self.live.clone();
            release_body(&mut body);
            match cluster.replace(&body).await {
                Err(e) if e.status_code() == Some(409) => {
                    let Ok(r) = ObjRef::of(&self.live, "") else { return };
                    match cluster.get(&r).await {
                        Ok(Some(now)) if LeaseView::of(&now).identity == self.identity => self.live = now,
                        _ => return,
                    }
                }
                _ => return,
            }
        }
    }
}

fn taken_by(now: &LeaseView) -> String {
    if now.identity.is_empty() {
        format!(
            "its Lease {} was released by someone else (chartup recover --force?)",
            now.name
        )
    } else {
        let who = now
            .holder
            .as_ref()
            .map(|h| h.who())
            .unwrap_or_else(|| now.identity.clone());
        format!("its Lease {} is held by {who} now", now.name)
    }
}

fn release_body(body: &mut Json) {
    let now = micro_time(jiff::Timestamp::now());
    body["spec"]["holderIdentity"] = Json::Null;
    body["spec"]["leaseDurationSeconds"] = json!(1);
    body["spec"]["renewTime"] = json!(now);
    if let Some(a) = body.pointer_mut("/metadata/annotations").and_then(Json::as_object_mut) {
        a.remove(HOLDER_ANNOTATION);
    }
}

/// `recover`: clear the Lease of the holder `identity` (or any holder, with `force`), so the next
/// run need not judge it again. Returns whether it was cleared.
pub async fn clear(cluster: &dyn Cluster, ns: &str, release: &str, identity: &str, force: bool) -> bool {
    if !served(cluster).await {
        return false;
    }
    let Ok(Some(mut live)) = cluster.get(&lease_ref(ns, release)).await else {
        return false;
    };
    let view = LeaseView::of(&live);
    if view.identity.is_empty() || (!force && view.identity != identity) {
        return false;
    }
    release_body(&mut live);
    cluster.replace(&live).await.is_ok()
}

/// `uninstall`: delete the release's Lease when no run holds it (the records are gone with it).
pub async fn remove_released(cluster: &dyn Cluster, ns: &str, release: &str) {
    if !served(cluster).await {
        return;
    }
    let r = lease_ref(ns, release);
    if let Ok(Some(l)) = cluster.get(&r).await {
        if LeaseView::of(&l).identity.is_empty() {
            let _ = cluster.delete(&r, crate::cluster::Cascade::Background, false).await;
        }
    }
}

tokio::task_local! {
    /// Why the run lost its Lease, set by the renewal beside it.
    static LOST: Arc<Mutex<Option<String>>>;
}

/// Why the current run lost its Lease, if it did: it must stop at its next safe point.
pub fn lost() -> Option<String> {
    LOST.try_with(|l| l.lock().map(|g| g.clone()).unwrap_or_default())
        .ok()
        .flatten()
}

/// Run `f` while renewing `lock` beside it every [`RENEW_EVERY`], then release the Lease.
/// Without a lock, just run `f`.
pub async fn holding<F: std::future::Future>(cluster: &dyn Cluster, lock: Option<LeaseLock>, f: F) -> F::Output {
    holding_every(cluster, lock, RENEW_EVERY, f).await
}

async fn holding_every<F: std::future::Future>(
    cluster: &dyn Cluster,
    lock: Option<LeaseLock>,
    every: Duration,
    f: F,
) -> F::Output {
    let Some(mut lock) = lock else { return f.await };
    let lost = Arc::new(Mutex::new(None));
    let out = {
        let run = LOST.scope(lost.clone(), f);
        let renew = async {
            loop {
                tokio::time::sleep(every).await;
                // A renewal never waits out a long outage: the next one tries again.
                let until = std::time::Instant::now() + every;
                if let Err(why) = super::retrying::with_deadline(until, "the next renewal", lock.renew(cluster)).await {
                    if let Ok(mut l) = lost.lock() {
                        *l = Some(why);
                    }
                    // Lost for good: nothing more to renew; the run stops at its next safe point.
                    std::future::pending::<()>().await;
                }
            }
        };
        futures::pin_mut!(run, renew);
        match futures::future::select(run, renew).await {
            futures::future::Either::Left((out, _)) => out,
            futures::future::Either::Right(((), _)) => unreachable!("the renewal never ends"),
        }
    };
    let was_lost = lost.lock().map(|l| l.is_some()).unwrap_or(false);
    if !was_lost {
        super::retrying::with_deadline(
            std::time::Instant::now() + Duration::from_secs(5),
            "the 5s allowed for releasing the Lease",
            lock.release(cluster),
        )
        .await;
    }
    out
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

    fn other_host(heartbeat: jiff::Timestamp) -> Holder {
        Holder {
            user: "ana".into(),
            host: "ci-runner-7".into(),
            boot_id: "another-boot".into(),
            pid: 4242,
            start_ticks: Some(1000),
            version: "0.1.0".into(),
            operation: "apply".into(),
            acquired: heartbeat,
            heartbeat,
        }
    }

    #[test]
    fn a_lease_is_tried_where_discovery_is_forbidden_not_where_it_says_no() {
        let me = other_host(jiff::Timestamp::now());
        // Discovery forbidden (a hardened cluster): whether Leases are served is unknown, so the
        // Lease itself is tried, and held.
        let fake = FakeCluster::new("prod");
        fake.fail(
            "discover",
            "APIResources/coordination.k8s.io/v1",
            None,
            403,
            "forbidden: User \"t\" cannot get path \"/apis/coordination.k8s.io/v1\"",
        );
        assert!(block(served(&fake)));
        assert!(matches!(
            block(acquire(&fake, "prod", "db", &me)),
            Ok(Acquired::Held(_))
        ));
        // Discovery that answers without Leases (or fails otherwise): the record is the lock.
        let fake = FakeCluster::new("prod");
        fake.fail(
            "discover",
            "APIResources/coordination.k8s.io/v1",
            None,
            404,
            "the server could not find it",
        );
        assert!(!block(served(&fake)));
        assert!(matches!(
            block(acquire(&fake, "prod", "db", &me)),
            Ok(Acquired::Unavailable(_))
        ));
    }

    fn lease_of(fake: &FakeCluster) -> Json {
        fake.object(API_VERSION, "Lease", "prod", "chartup.db")
            .expect("the Lease")
    }

    #[test]
    fn micro_time_has_six_fractional_digits() {
        let t: jiff::Timestamp = "2026-12-06T08:30:01.5Z".parse().unwrap();
        assert_eq!(micro_time(t), "2026-12-06T08:30:01.500000Z");
        assert_eq!(micro_time(t).parse::<jiff::Timestamp>().unwrap(), t);
    }

    #[test]
    fn a_lease_is_created_renewed_released_and_taken_again() {
        let fake = FakeCluster::new("prod");
        let me = Holder::me("apply", jiff::Timestamp::now());
        let Acquired::Held(mut lock) = block(acquire(&fake, "prod", "db", &me)).unwrap() else {
            panic!("not held")
        };
        let l = lease_of(&fake);
        assert_eq!(l["spec"]["holderIdentity"], me.identity());
        assert_eq!(l["spec"]["leaseDurationSeconds"], 30);
        let named: Holder =
            serde_json::from_str(l["metadata"]["annotations"][HOLDER_ANNOTATION].as_str().unwrap()).unwrap();
        assert_eq!(named.pid, std::process::id());
        let before = lease_of(&fake)["spec"]["renewTime"].clone();
        std::thread::sleep(Duration::from_millis(5));
        block(lock.renew(&fake)).unwrap();
        assert_ne!(lease_of(&fake)["spec"]["renewTime"], before, "renewed");
        block(lock.release(&fake));
        let l = lease_of(&fake);
        assert!(l["spec"]["holderIdentity"].is_null(), "{l}");
        assert_eq!(l["spec"]["leaseDurationSeconds"], 1);
        // Released: the next run takes it with an update guarded by the resourceVersion, and
        // counts the transition.
        let next = Holder::me("rollback", jiff::Timestamp::now());
        let Acquired::Held(_) = block(acquire(&fake, "prod", "db", &next)).unwrap() else {
            panic!("not taken")
        };
        let l = lease_of(&fake);
        assert_eq!(l["spec"]["holderIdentity"], next.identity());
        assert!(fake.requests().iter().any(|r| r == "replace Lease/chartup.db"));
    }

    #[test]
    fn a_live_holder_is_refused_a_dead_one_taken_over() {
        let fake = FakeCluster::new("prod");
        // Another host renewed a second ago: alive.
        let fresh = other_host(jiff::Timestamp::now());
        let Acquired::Held(_) = block(acquire(&fake, "prod", "db", &fresh)).unwrap() else {
            panic!("not held")
        };
        let me = Holder::me("apply", jiff::Timestamp::now());
        let err = block(acquire(&fake, "prod", "db", &me)).unwrap_err().to_string();
        assert!(
            err.contains("still alive") && err.contains("ana@ci-runner-7") && err.contains("--force"),
            "{err}"
        );
        // Its renewTime two minutes old: dead (no heartbeat for more than the lease): taken over.
        let mut l = lease_of(&fake);
        l["spec"]["renewTime"] = json!(micro_time(
            jiff::Timestamp::now() - jiff::SignedDuration::from_secs(120)
        ));
        let mut h = other_host(jiff::Timestamp::now() - jiff::SignedDuration::from_secs(120));
        h.acquired = h.heartbeat;
        l["metadata"]["annotations"][HOLDER_ANNOTATION] = json!(serde_json::to_string(&h).unwrap());
        fake.put(l);
        let Acquired::Held(_) = block(acquire(&fake, "prod", "db", &me)).unwrap() else {
            panic!("not taken over")
        };
        let l = lease_of(&fake);
        assert_eq!(l["spec"]["holderIdentity"], me.identity());
        assert_eq!(l["spec"]["leaseTransitions"], 1);
    }

    #[test]
    fn a_run_whose_lease_was_cleared_learns_it_has_lost_the_lock() {
        let fake = FakeCluster::new("prod");
        let me = Holder::me("apply", jiff::Timestamp::now());
        let Acquired::Held(mut lock) = block(acquire(&fake, "prod", "db", &me)).unwrap() else {
            panic!("not held")
        };
        // `recover --force` clears it.
        assert!(block(clear(&fake, "prod", "db", "someone else", true)));
        let why = block(lock.renew(&fake)).unwrap_err();
        assert!(why.contains("released by someone else"), "{why}");
        // Without --force, recover clears only the holder it judged dead.
        let Acquired::Held(_) = block(acquire(&fake, "prod", "db", &me)).unwrap() else {
            panic!("not held")
        };
        assert!(!block(clear(&fake, "prod", "db", "chartup/other/1/2", false)));
        assert!(block(clear(&fake, "prod", "db", &me.identity(), false)));
    }

    #[test]
    fn holding_renews_beside_the_run_and_releases_after() {
        let fake = FakeCluster::new("prod");
        let me = Holder::me("apply", jiff::Timestamp::now());
        let Acquired::Held(lock) = block(acquire(&fake, "prod", "db", &me)).unwrap() else {
            panic!("not held")
        };
        let every = Duration::from_millis(300);
        let out = block(holding_every(&fake, Some(lock), every, async {
            // A run that waits without polling (a backup command): the heartbeat goes on.
            tokio::time::sleep(every + Duration::from_millis(150)).await;
            lost()
        }));
        assert_eq!(out, None);
        let renewals = fake
            .requests()
            .iter()
            .filter(|r| *r == "replace Lease/chartup.db")
            .count();
        // One renewal during the run, one release after it.
        assert_eq!(renewals, 2, "{:?}", fake.requests());
        assert!(lease_of(&fake)["spec"]["holderIdentity"].is_null());
    }

    #[test]
    fn without_the_api_the_record_is_the_only_lock() {
        let fake = FakeCluster::new("prod");
        fake.fail(
            "get",
            "Lease/*",
            None,
            403,
            "leases.coordination.k8s.io \"chartup.db\" is forbidden",
        );
        let me = Holder::me("apply", jiff::Timestamp::now());
        match block(acquire(&fake, "prod", "db", &me)).unwrap() {
            Acquired::Unavailable(why) => assert!(why.contains("may not use Leases"), "{why}"),
            Acquired::Held(_) => panic!("held without rights"),
        }
    }
}
