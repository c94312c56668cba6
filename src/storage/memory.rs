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
