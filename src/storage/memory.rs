//! Release records in memory (Helm's `memory` driver): for unit tests of the operations and the
//! executor, and anywhere records need not outlive the process. Records go through the same
//! codec as the Secret driver's, so what a test reads back is what Helm would.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::{ReleaseStore, Result, StoreError};
use crate::cluster::BoxFut;
use crate::release::records::History;
use crate::release::{codec, Release};

/// One namespace's records, keyed by (release, revision); each kept encoded as Helm stores it.
#[derive(Default)]
pub struct MemoryStore {
    namespace: String,
    records: Mutex<BTreeMap<(String, u32), String>>,
    /// Every write, in order: `create r.v2 pending-upgrade`, `update r.v2 deployed`, `delete r.v1`.
    log: Mutex<Vec<String>>,
}

impl MemoryStore {
    pub fn new(namespace: &str) -> MemoryStore {
        MemoryStore {
            namespace: namespace.to_string(),
            ..Default::default()
        }
    }

    /// The writes made so far, in order.
    pub fn writes(&self) -> Vec<String> {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn put(&self, rel: &Release, verb: &str) -> Result<()> {
        let text = codec::encode(rel)?;
        self.records
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert((rel.name.clone(), rel.version), text);
        self.log.lock().unwrap_or_else(|p| p.into_inner()).push(format!(
            "{verb} {}.v{} {}",
            rel.name,
            rel.version,
            rel.status()
        ));
        Ok(())
    }
}

impl ReleaseStore for MemoryStore {
    fn namespace(&self) -> &str {
        &self.namespace
    }

    fn list(&self) -> BoxFut<'_, Result<Vec<Release>>> {
        Box::pin(async move {
            let records = self.records.lock().unwrap_or_else(|p| p.into_inner());
            let mut out = Vec::new();
            for text in records.values() {
                out.push(codec::decode(text)?);
            }
            Ok(out)
        })
    }

    fn history<'a>(&'a self, release: &'a str) -> BoxFut<'a, Result<History>> {
        Box::pin(async move {
            let records = self.records.lock().unwrap_or_else(|p| p.into_inner());
            let mut revisions = Vec::new();
            for ((name, _), text) in records.iter() {
                if name == release {
                    revisions.push(codec::decode(text)?);
                }
            }
            Ok(History::new(revisions))
        })
    }

    fn create<'a>(&'a self, rel: &'a Release) -> BoxFut<'a, Result<()>> {
        Box::pin(async move {
            let taken = self
                .records
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .contains_key(&(rel.name.clone(), rel.version));
            if taken {
                return Err(StoreError::Conflict {
                    release: rel.name.clone(),
                    revision: rel.version,
                });
            }
            self.put(rel, "create")
        })
    }

    fn update<'a>(&'a self, rel: &'a Release) -> BoxFut<'a, Result<()>> {
        Box::pin(async move { self.put(rel, "update") })
    }

    fn delete<'a>(&'a self, release: &'a str, revision: u32) -> BoxFut<'a, Result<()>> {
        Box::pin(async move {
            self.records
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&(release.to_string(), revision));
            self.log
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(format!("delete {release}.v{revision}"));
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::FakeCluster;
    use crate::release::Status;
    use crate::storage::SecretStore;

    fn rel(name: &str, version: u32) -> Release {
        let mut r: Release =
            serde_json::from_value(serde_json::json!({"name": name, "version": version, "namespace": "ns"}))
                .expect("a record");
        r.info.status = Status::Deployed;
        r
    }

    fn block<F: std::future::Future>(f: F) -> F::Output {
        futures::executor::block_on(f)
    }

    /// Both drivers keep the same records the same way: conflicts, updates, deletes, listing.
    #[test]
    fn the_drivers_agree() {
        let cluster = FakeCluster::new("ns");
        let secrets = SecretStore::new(&cluster, "ns");
        let memory = MemoryStore::new("ns");
        for store in [&secrets as &dyn ReleaseStore, &memory] {
            block(store.create(&rel("b", 1))).expect("created");
            block(store.create(&rel("a", 1))).expect("created");
            block(store.create(&rel("a", 2))).expect("created");
            assert!(matches!(
                block(store.create(&rel("a", 2))),
                Err(StoreError::Conflict { revision: 2, .. })
            ));
            let mut r = rel("a", 1);
            r.info.status = Status::Superseded;
            block(store.update(&r)).expect("updated");
            block(store.delete("b", 1)).expect("deleted");
            block(store.delete("b", 1)).expect("deleting twice is fine");
            let h = block(store.history("a")).expect("history");
            let got: Vec<(u32, Status)> = h.revisions.iter().map(|r| (r.version, r.status())).collect();
            assert_eq!(got, [(1, Status::Superseded), (2, Status::Deployed)]);
            let all: Vec<(String, u32)> = block(store.list())
                .expect("list")
                .iter()
                .map(|r| (r.name.clone(), r.version))
                .collect();
            assert_eq!(all, [("a".to_string(), 1), ("a".to_string(), 2)]);
        }
        // The Secret driver's records are Helm's Secrets.
        let s = cluster
            .object("v1", "Secret", "ns", "sh.helm.release.v1.a.v1")
            .expect("a Secret");
        assert_eq!(s["type"], "helm.sh/release.v1");
        assert_eq!(s["metadata"]["labels"]["status"], "superseded");
        assert_eq!(s["metadata"]["labels"]["owner"], "helm");
    }
}
