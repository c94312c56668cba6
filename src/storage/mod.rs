//! Where release records live, as Helm's `pkg/storage/driver`: one [`ReleaseStore`] trait — the
//! second seam beside [`crate::cluster::Cluster`] — with Helm's drivers behind it.
//!
//! - [`secrets`]: Helm's default Secret driver, over the cluster seam (so it also runs on
//!   [`crate::cluster::FakeCluster`]);
//! - [`memory`]: records in memory, Helm's `memory` driver, for unit tests.
//!
//! The record format itself (Secret layout, codec, the pure logic of a history: lock, baseline,
//! next revision, pruning) is [`crate::release`]'s; a store only lists, writes and deletes.
//! A store is bound to one namespace, as Helm's drivers are. Like the cluster trait, the methods
//! return boxed futures so the store can be used as `&dyn ReleaseStore` (see `crate::cluster`).
//!
//! Adding a driver: a file here implementing [`ReleaseStore`] — for one that keeps an object per
//! revision, only its [`objects::Format`] — chosen where the operations build their store (`crate::ops`).

pub mod configmaps;
pub mod memory;
pub mod objects;
pub mod secrets;
pub mod select;

pub use configmaps::ConfigMapStore;
pub use memory::MemoryStore;
pub use secrets::SecretStore;

use crate::cluster::{BoxFut, ClusterError};
use crate::release::records::{History, RecordError};
use crate::release::Release;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    #[error(transparent)]
    Record(#[from] RecordError),
    #[error("release record encoding failed: {0}")]
    Codec(#[from] crate::release::codec::CodecError),
    #[error("revision {revision} of release {release} already exists: another operation wrote it first")]
    Conflict { release: String, revision: u32 },
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// One namespace's release records (Helm's `driver.Driver`, by release).
pub trait ReleaseStore: Send + Sync {
    /// The namespace the records are in.
    fn namespace(&self) -> &str;

    /// Every record of every release in the namespace (Helm's `driver.List`, for `list`), ordered
    /// by release name, then revision.
    fn list(&self) -> BoxFut<'_, Result<Vec<Release>>>;

    /// Every revision of `release`, ordered (empty when there is none).
    fn history<'a>(&'a self, release: &'a str) -> BoxFut<'a, Result<History>>;

    /// Write a new revision. Fails with [`StoreError::Conflict`] if that revision exists: two
    /// writers racing for a revision cannot both win (Helm's guard too).
    fn create<'a>(&'a self, rel: &'a Release) -> BoxFut<'a, Result<()>>;

    /// Rewrite an existing revision (status changes, the journal).
    fn update<'a>(&'a self, rel: &'a Release) -> BoxFut<'a, Result<()>>;

    /// Delete one revision; a revision already gone is not an error.
    fn delete<'a>(&'a self, release: &'a str, revision: u32) -> BoxFut<'a, Result<()>>;
}
