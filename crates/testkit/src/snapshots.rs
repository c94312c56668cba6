//! VolumeSnapshots on the test cluster (issue 15): the snapshot.storage.k8s.io/v1 objects as
//! `DynamicObject`s (the test cluster installs the CRDs; there are no generated types for them in
//! k8s-openapi), where nodesim keeps the snapshots' copies, a byte-for-byte view of a volume
//! directory to compare a restored volume with the original, and waits on events.
//!
//! How nodesim's simulated snapshot driver behaves and how to make it fail or wait:
//! docs/snapshots-testing.md.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use k8s_openapi::api::core::v1::Event;
use kube::api::{Api, DynamicObject, ListParams};
use kube::core::{ApiResource, GroupVersionKind};
use kube::Client;

use crate::Cluster;

pub const GROUP: &str = "snapshot.storage.k8s.io";
/// The default VolumeSnapshotClass (deletionPolicy Delete) of nodesim's driver.
pub const DEFAULT_CLASS: &str = "hostpath-snapclass";
/// The VolumeSnapshotClass with deletionPolicy Retain.
pub const RETAIN_CLASS: &str = "hostpath-snapclass-retain";
/// The simulated CSI driver (also the StorageClasses' provisioner).
pub const DRIVER: &str = "chartup.io/hostpath";

fn resource(kind: &str, plural: &str) -> ApiResource {
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(GROUP, "v1", kind), plural)
}

pub fn vs_api(client: &Client, ns: &str) -> Api<DynamicObject> {
    Api::namespaced_with(client.clone(), ns, &resource("VolumeSnapshot", "volumesnapshots"))
}

pub fn vsc_api(client: &Client) -> Api<DynamicObject> {
    Api::all_with(
        client.clone(),
        &resource("VolumeSnapshotContent", "volumesnapshotcontents"),
    )
}

pub fn class_api(client: &Client) -> Api<DynamicObject> {
    Api::all_with(
        client.clone(),
        &resource("VolumeSnapshotClass", "volumesnapshotclasses"),
    )
}

/// A field of a snapshot object by JSON pointer (`/status/readyToUse`).
pub fn at<'a>(o: &'a DynamicObject, ptr: &str) -> Option<&'a serde_json::Value> {
    o.data.pointer(ptr)
}

/// A string field of a snapshot object by JSON pointer.
pub fn str_at<'a>(o: &'a DynamicObject, ptr: &str) -> Option<&'a str> {
    o.data.pointer(ptr)?.as_str()
}

/// Where nodesim keeps the copy behind a snapshot handle (`status.snapshotHandle` of a content).
pub fn snapshot_dir(c: &Cluster, handle: &str) -> PathBuf {
    c.dir.join("snapshots").join(handle)
}

/// One entry of a directory tree, as a restore must reproduce it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Dir { mode: u32 },
    File { mode: u32, bytes: Vec<u8> },
    Symlink { target: PathBuf },
}

/// Every entry under `root` by relative path: contents, permission bits and link targets.
pub fn tree(root: &Path) -> anyhow::Result<BTreeMap<PathBuf, Entry>> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).with_context(|| format!("reading {}", d.display()))? {
            let p = e?.path();
            let m = std::fs::symlink_metadata(&p)?;
            let rel = p.strip_prefix(root)?.to_path_buf();
            let mode = m.permissions().mode() & 0o7777;
            let entry = if m.file_type().is_symlink() {
                Entry::Symlink {
                    target: std::fs::read_link(&p)?,
                }
            } else if m.is_dir() {
                stack.push(p.clone());
                Entry::Dir { mode }
            } else {
                Entry::File {
                    mode,
                    bytes: std::fs::read(&p)?,
                }
            };
            out.insert(rel, entry);
        }
    }
    Ok(out)
}

/// Fail with the first difference between two trees (path and what differs).
pub fn assert_same_tree(want: &BTreeMap<PathBuf, Entry>, got: &BTreeMap<PathBuf, Entry>) -> anyhow::Result<()> {
    for (p, w) in want {
        match got.get(p) {
            None => bail!("{} is missing", p.display()),
            Some(g) if g != w => match (w, g) {
                (Entry::File { mode: wm, bytes: wb }, Entry::File { mode: gm, bytes: gb }) => bail!(
                    "{} differs: mode {wm:o} vs {gm:o}, {} vs {} bytes, first difference at byte {:?}",
                    p.display(),
                    wb.len(),
                    gb.len(),
                    wb.iter().zip(gb).position(|(a, b)| a != b)
                ),
                _ => bail!("{} differs: {w:?} vs {g:?}", p.display()),
            },
            Some(_) => {}
        }
    }
    if let Some(extra) = got.keys().find(|p| !want.contains_key(*p)) {
        bail!("{} should not be there", extra.display());
    }
    Ok(())
}

/// The events about one object of a namespace, as (reason, message), oldest first.
pub async fn events(client: &Client, ns: &str, object: &str) -> anyhow::Result<Vec<(String, String)>> {
    let api: Api<Event> = Api::namespaced(client.clone(), ns);
    let lp = ListParams::default().fields(&format!("involvedObject.name={object}"));
    let mut list = api.list(&lp).await?.items;
    list.sort_by_key(|e| e.first_timestamp.clone().map(|t| t.0));
    Ok(list
        .into_iter()
        .map(|e| (e.reason.unwrap_or_default(), e.message.unwrap_or_default()))
        .collect())
}

/// Wait until an event with this reason about the object exists; returns its message.
pub async fn wait_event(
    client: &Client,
    ns: &str,
    object: &str,
    reason: &str,
    timeout: Duration,
) -> anyhow::Result<String> {
    let deadline = Instant::now() + timeout;
    loop {
        let evs = events(client, ns, object).await?;
        if let Some((_, msg)) = evs.iter().find(|(r, _)| r == reason) {
            return Ok(msg.clone());
        }
        if Instant::now() >= deadline {
            bail!("no {reason} event about {ns}/{object} within {timeout:?}; events: {evs:?}");
        }
        // Events have no watch here worth the complexity; a short poll bounded by the deadline.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Fail with what to do when the running test cluster predates snapshot support (its CRDs or its
/// nodesim): `scripts/test-cluster.sh up` upgrades a running cluster in place.
pub async fn ensure_support(c: &Cluster) -> anyhow::Result<()> {
    let fix = "run `scripts/test-cluster.sh up` (it installs the snapshot CRDs on a running cluster \
               and restarts its nodesim once)";
    let ready = std::fs::read_to_string(c.dir.join("nodesim.ready")).unwrap_or_default();
    if !ready.lines().any(|l| l == "snapshots") {
        bail!(
            "the test cluster at {} runs a nodesim without VolumeSnapshot support; {fix}",
            c.dir.display()
        );
    }
    let client = c.client().await?;
    if let Err(e) = class_api(&client).get(DEFAULT_CLASS).await {
        bail!(
            "the test cluster at {} has no VolumeSnapshotClass {DEFAULT_CLASS} ({e}); {fix}",
            c.dir.display()
        );
    }
    Ok(())
}
