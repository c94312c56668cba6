//! Volume snapshots for the hostPath volumes nodesim provisions: the parts of a real cluster that
//! the kubernetes-csi projects play, so chartup's snapshot code meets the same objects, state
//! transitions and error texts as on a real cluster.
//!
//! The split follows kubernetes-csi/external-snapshotter v4.x (the line whose CRDs a 1.20 API
//! server accepts): `controller.rs` is the common snapshot-controller (binding, class defaulting,
//! VolumeSnapshotContent creation, finalizers, status copied from the content into the
//! VolumeSnapshot, deletion by policy), `driver.rs` is the csi-snapshotter sidecar plus the CSI
//! driver (csi-driver-host-path: the volume directory copied into a snapshot directory, readiness,
//! DeleteSnapshot), `restore.rs` is external-provisioner's check of a claim's snapshot `dataSource`
//! before the volume is created from the snapshot's copy. Messages and event reasons are the
//! upstream ones, so a test sees what a user would. What is simulated, and the failure knobs
//! (annotations and class parameters `nodesim.chartup.io/*`), are described in
//! docs/snapshots-testing.md.
//!
//! The CRDs are not compiled in: `scripts/test-cluster.sh` installs `crates/nodesim/crds/*.yaml`;
//! the objects are handled as `DynamicObject`s (JSON), which keeps nodesim free of generated types.

pub mod controller;
pub mod driver;
pub mod restore;

use std::collections::HashSet;
use std::sync::Mutex;

use kube::api::{Api, DynamicObject, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use kube::{Client, ResourceExt};
use serde_json::{json, Value};

use crate::Ctx;

pub const GROUP: &str = "snapshot.storage.k8s.io";
/// The simulated CSI driver: the same name as the provisioner, as for a real CSI driver.
pub const DRIVER: &str = crate::storage::PROVISIONER;

pub const VSC_BOUND_FINALIZER: &str = "snapshot.storage.kubernetes.io/volumesnapshotcontent-bound-protection";
pub const VS_BOUND_FINALIZER: &str = "snapshot.storage.kubernetes.io/volumesnapshot-bound-protection";
pub const VS_SOURCE_FINALIZER: &str = "snapshot.storage.kubernetes.io/volumesnapshot-as-source-protection";
pub const PVC_FINALIZER: &str = "snapshot.storage.kubernetes.io/pvc-as-source-protection";
pub const ANN_DEFAULT_CLASS: &str = "snapshot.storage.kubernetes.io/is-default-class";
pub const ANN_BEING_CREATED: &str = "snapshot.storage.kubernetes.io/volumesnapshot-being-created";
pub const ANN_BEING_DELETED: &str = "snapshot.storage.kubernetes.io/volumesnapshot-being-deleted";

/// Failure and timing knobs: keys of VolumeSnapshot / source PVC annotations or class parameters.
pub const KNOB_READY_AFTER: &str = "nodesim.chartup.io/snapshot-ready-after";
pub const KNOB_FAIL: &str = "nodesim.chartup.io/snapshot-fail";
pub const KNOB_FAIL_TIMES: &str = "nodesim.chartup.io/snapshot-fail-times";
pub const KNOB_RESTORE_AFTER: &str = "nodesim.chartup.io/restore-after";
pub const KNOB_RESTORE_FAIL: &str = "nodesim.chartup.io/restore-fail";

fn resource(kind: &str, plural: &str) -> ApiResource {
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(GROUP, "v1", kind), plural)
}

pub fn vs_resource() -> ApiResource {
    resource("VolumeSnapshot", "volumesnapshots")
}

pub fn vsc_resource() -> ApiResource {
    resource("VolumeSnapshotContent", "volumesnapshotcontents")
}

pub fn class_resource() -> ApiResource {
    resource("VolumeSnapshotClass", "volumesnapshotclasses")
}

pub fn vs_api(client: &Client, ns: &str) -> Api<DynamicObject> {
    Api::namespaced_with(client.clone(), ns, &vs_resource())
}

pub fn vsc_api(client: &Client) -> Api<DynamicObject> {
    Api::all_with(client.clone(), &vsc_resource())
}

pub fn class_api(client: &Client) -> Api<DynamicObject> {
    Api::all_with(client.clone(), &class_resource())
}

/// A string at a JSON pointer of an object's body (`/spec/...`, `/status/...`).
pub fn str_at<'a>(o: &'a DynamicObject, ptr: &str) -> Option<&'a str> {
    o.data.pointer(ptr)?.as_str()
}

/// The name of a dynamically provisioned snapshot's content (upstream
/// `GetDynamicSnapshotContentNameForSnapshot`).
pub fn content_name_for(vs_uid: &str) -> String {
    format!("snapcontent-{vs_uid}")
}

/// A knob from the first of several string maps that has it.
pub fn knob<'a>(key: &str, maps: &[Option<&'a std::collections::BTreeMap<String, String>>]) -> Option<&'a str> {
    maps.iter().flatten().find_map(|m| m.get(key)).map(|s| s.trim())
}

/// When to look again at something that waits out a delay knob (`snapshot-ready-after`,
/// `restore-after`): when the delay ends, but at least every second, because a test may change the
/// knob on an object (snapshot, claim, class) whose changes do not trigger the waiting controller.
pub fn look_again_in(delay: std::time::Duration) -> kube::runtime::controller::Action {
    use std::time::Duration;
    kube::runtime::controller::Action::requeue(delay.clamp(Duration::from_millis(50), Duration::from_secs(1)))
}

/// Seconds as written in a knob ("2", "0.5").
pub fn seconds(v: &str) -> Option<std::time::Duration> {
    v.trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(std::time::Duration::from_secs_f64)
}

/// A class's `parameters` as a string map.
pub fn class_parameters(class: &DynamicObject) -> std::collections::BTreeMap<String, String> {
    class
        .data
        .get("parameters")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// Bytes of a Kubernetes quantity ("1Gi", "500M", "1.5Gi", "1e3"), rounded up as
/// `Quantity.Value()` does; None when it isn't one.
pub fn parse_quantity(q: &str) -> Option<i64> {
    let q = q.trim();
    let split = q
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(q.len());
    let (num, suffix) = q.split_at(split);
    let (neg, num) = match num.strip_prefix('-') {
        Some(n) => (true, n),
        None => (false, num.strip_prefix('+').unwrap_or(num)),
    };
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    if (int.is_empty() && frac.is_empty()) || !int.chars().chain(frac.chars()).all(|c| c.is_ascii_digit()) {
        return None;
    }
    // value = digits / 10^frac.len() * base^exp (binary) or * 10^exp10 (decimal)
    let digits: i128 = format!("{int}{frac}").parse().ok()?;
    let mut den: i128 = 10i128.checked_pow(frac.len() as u32)?;
    let mut mul: i128 = 1;
    match suffix {
        "" => {}
        "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei" => {
            let k = ["Ki", "Mi", "Gi", "Ti", "Pi", "Ei"].iter().position(|s| *s == suffix)? as u32 + 1;
            mul = 1024i128.checked_pow(k)?;
        }
        "n" => den = den.checked_mul(1_000_000_000)?,
        "u" => den = den.checked_mul(1_000_000)?,
        "m" => den = den.checked_mul(1_000)?,
        "k" => mul = 1_000,
        "M" => mul = 1_000_000,
        "G" => mul = 1_000_000_000,
        "T" => mul = 1_000_000_000_000,
        "P" => mul = 1_000_000_000_000_000,
        "E" => mul = 1_000_000_000_000_000_000,
        s if s.starts_with(['e', 'E']) => {
            let e: i32 = s[1..].parse().ok()?;
            if e >= 0 {
                mul = 10i128.checked_pow(e as u32)?;
            } else {
                den = den.checked_mul(10i128.checked_pow(e.unsigned_abs())?)?;
            }
        }
        _ => return None,
    }
    let n = digits.checked_mul(mul)?;
    let v = (n + den - 1) / den; // ceiling, as Value() rounds up
    let v = if neg { -v } else { v };
    i64::try_from(v).ok()
}

/// A byte count as `resource.NewQuantity(n, BinarySI).String()` prints it: the largest binary
/// suffix that divides it exactly ("1Gi", "1536Mi"), plain digits below 1024 or when none does.
pub fn format_binary_si(n: i64) -> String {
    if n.unsigned_abs() < 1024 {
        return n.to_string();
    }
    let mut v = n;
    let mut i = 0;
    while i < 6 && v % 1024 == 0 {
        v /= 1024;
        i += 1;
    }
    format!("{v}{}", ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"][i])
}

/// Go's `%q` of a string: how upstream quotes wrapped errors in its messages.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// RFC 3339 with seconds, as metav1.Time serialises.
pub fn rfc3339(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The message of an API error (what client-go's `err.Error()` prints), else the error itself.
pub fn api_message(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) => s.message.clone(),
        e => e.to_string(),
    }
}

/// Events like client-go's recorder writes them; a repeat of the same (object, reason, message)
/// is not written again (the real recorder bumps a count instead).
#[derive(Default)]
pub struct Events {
    seen: Mutex<HashSet<(String, String, String)>>,
}

impl Events {
    /// Record an event about `obj` (kind/apiVersion given); cluster-scoped objects' events go to
    /// `default`, as client-go does.
    #[allow(clippy::too_many_arguments)]
    pub async fn record(
        &self,
        client: &Client,
        component: &str,
        api_version: &str,
        kind: &str,
        meta: &kube::api::ObjectMeta,
        type_: &str,
        reason: &str,
        message: &str,
    ) {
        let uid = meta.uid.clone().unwrap_or_default();
        {
            let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
            if !seen.insert((uid.clone(), reason.to_string(), message.to_string())) {
                return;
            }
        }
        let name = meta.name.clone().unwrap_or_default();
        let ns = meta.namespace.clone().unwrap_or_else(|| "default".to_string());
        let now = rfc3339(jiff::Timestamp::now());
        let mut involved = json!({"apiVersion": api_version, "kind": kind, "name": name, "uid": uid,
                                  "resourceVersion": meta.resource_version});
        if let Some(obj_ns) = &meta.namespace {
            involved["namespace"] = json!(obj_ns);
        }
        let ev = json!({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"generateName": format!("{name}."), "namespace": ns},
            "involvedObject": involved,
            "reason": reason, "message": message, "type": type_,
            "source": {"component": component},
            "firstTimestamp": now, "lastTimestamp": now, "count": 1,
        });
        let api: Api<k8s_openapi::api::core::v1::Event> = Api::namespaced(client.clone(), &ns);
        let ev = match serde_json::from_value(ev) {
            Ok(ev) => ev,
            Err(e) => return tracing::warn!("event: {e}"),
        };
        if let Err(e) = api.create(&PostParams::default(), &ev).await {
            tracing::warn!(object = %name, reason, "could not record event: {e}");
        }
    }
}

/// Record an event about a snapshot object as the component named.
pub async fn event(ctx: &Ctx, component: &str, o: &DynamicObject, type_: &str, reason: &str, message: &str) {
    let (api_version, kind) = o
        .types
        .as_ref()
        .map(|t| (t.api_version.clone(), t.kind.clone()))
        .unwrap_or_default();
    tracing::info!(object = %o.name_any(), reason, "{message}");
    ctx.events
        .record(
            &ctx.client,
            component,
            &api_version,
            &kind,
            &o.metadata,
            type_,
            reason,
            message,
        )
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_round_up_to_bytes() {
        assert_eq!(parse_quantity("1Gi"), Some(1 << 30));
        assert_eq!(parse_quantity("1536Mi"), Some(1536 << 20));
        assert_eq!(parse_quantity("1.5Gi"), Some(3 << 29));
        assert_eq!(parse_quantity("500M"), Some(500_000_000));
        assert_eq!(parse_quantity("1e3"), Some(1000));
        assert_eq!(parse_quantity("100"), Some(100));
        assert_eq!(parse_quantity("1500m"), Some(2));
        assert_eq!(parse_quantity("0.1"), Some(1));
        assert_eq!(parse_quantity("Gi"), None);
        assert_eq!(parse_quantity("1Gb"), None);
        assert_eq!(parse_quantity(""), None);
    }

    #[test]
    fn binary_si_is_printed_as_apimachinery_does() {
        // resource.NewQuantity(n, BinarySI).String()
        assert_eq!(format_binary_si(1 << 30), "1Gi");
        assert_eq!(format_binary_si(1536 << 20), "1536Mi");
        assert_eq!(format_binary_si(1000), "1000");
        assert_eq!(format_binary_si(1_000_000_000), "1000000000");
        assert_eq!(format_binary_si(2048), "2Ki");
        assert_eq!(format_binary_si(0), "0");
    }

    #[test]
    fn go_quote_escapes_like_percent_q() {
        assert_eq!(
            go_quote(r#"persistentvolumeclaim "data" not found"#),
            r#""persistentvolumeclaim \"data\" not found""#
        );
        assert_eq!(go_quote("a\\b\n"), r#""a\\b\n""#);
    }

    #[test]
    fn knobs_come_from_the_first_map_that_has_them() {
        let a: std::collections::BTreeMap<String, String> = [(KNOB_FAIL.to_string(), " boom ".to_string())].into();
        let b: std::collections::BTreeMap<String, String> = [
            (KNOB_FAIL.to_string(), "x".into()),
            (KNOB_READY_AFTER.to_string(), "2".into()),
        ]
        .into();
        assert_eq!(knob(KNOB_FAIL, &[Some(&a), Some(&b)]), Some("boom"));
        assert_eq!(knob(KNOB_READY_AFTER, &[None, Some(&a), Some(&b)]), Some("2"));
        assert_eq!(knob(KNOB_FAIL_TIMES, &[Some(&a), Some(&b)]), None);
        assert_eq!(seconds("0.5"), Some(std::time::Duration::from_millis(500)));
        assert_eq!(seconds("-1"), None);
    }
}
