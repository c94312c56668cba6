//! The simulated Node object: registration and a periodic heartbeat.
//!
//! The node-lifecycle controller is off in the test control plane, so nothing marks the node
//! NotReady if the heartbeat stops; the heartbeat only keeps `lastHeartbeatTime` honest for anyone
//! who looks. Status is written with a merge patch on the status subresource.
//!
//! A new Node gets the `node.kubernetes.io/not-ready:NoSchedule` taint from the apiserver's
//! TaintNodesByCondition admission; the node-lifecycle controller would lift it once the node is
//! Ready. Here nodesim lifts it itself, or the DaemonSet controller would place no pods (its pods
//! tolerate not-ready only for NoExecute).

use std::time::Duration;

use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;

use crate::{is_conflict, Ctx, SimError};

const KUBELET_VERSION: &str = "v1.20.2";

fn now() -> String {
    jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn status(name: &str) -> serde_json::Value {
    let t = now();
    let cond = |ty: &str, status: &str, reason: &str, message: &str| {
        json!({"type": ty, "status": status, "reason": reason, "message": message,
               "lastHeartbeatTime": t, "lastTransitionTime": t})
    };
    let resources = json!({"cpu": "8", "memory": "32Gi", "pods": "110", "ephemeral-storage": "100Gi"});
    json!({
        "status": {
            "capacity": resources,
            "allocatable": resources,
            "conditions": [
                cond("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                cond("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                cond("Ready", "True", "KubeletReady", "nodesim is posting ready status"),
            ],
            "addresses": [
                {"type": "InternalIP", "address": "127.0.0.1"},
                {"type": "Hostname", "address": name},
            ],
            "nodeInfo": {
                "architecture": "amd64", "bootID": "nodesim", "containerRuntimeVersion": "nodesim://1",
                "kernelVersion": "nodesim", "kubeProxyVersion": KUBELET_VERSION, "kubeletVersion": KUBELET_VERSION,
                "machineID": "nodesim", "operatingSystem": "linux", "osImage": "nodesim", "systemUUID": "nodesim",
            },
        }
    })
}

const NOT_READY_TAINT: &str = "node.kubernetes.io/not-ready";

/// Create the Node `name` (if absent), mark it Ready and lift the not-ready taint.
/// Remove nodes an earlier run with more nodes registered (`NAME-N` beyond this run's count):
/// nobody simulates them now, so their DaemonSet pods could never become ready.
pub async fn forget_extra(ctx: &Ctx, keep: &[String]) -> Result<(), SimError> {
    let nodes: Api<Node> = Api::all(ctx.client.clone());
    let prefix = format!("{}-", ctx.opts.node_name);
    for n in nodes.list(&Default::default()).await?.items {
        let name = n.metadata.name.unwrap_or_default();
        let ours = name
            .strip_prefix(&prefix)
            .is_some_and(|i| !i.is_empty() && i.chars().all(|c| c.is_ascii_digit()));
        if ours && !keep.contains(&name) {
            match nodes.delete(&name, &Default::default()).await {
                Ok(_) => tracing::info!(node = %name, "removed a node an earlier run registered"),
                Err(e) if crate::is_not_found(&e) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(())
}

pub async fn register(ctx: &Ctx, name: &str) -> Result<(), SimError> {
    let nodes: Api<Node> = Api::all(ctx.client.clone());
    let node: Node = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": {
            "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
            "beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": "amd64",
        }},
    }))?;
    match nodes.create(&PostParams::default(), &node).await {
        Ok(_) => {}
        Err(e) if is_conflict(&e) => {}
        Err(e) => return Err(e.into()),
    }
    nodes
        .patch_status(name, &PatchParams::default(), &Patch::Merge(status(name)))
        .await?;
    let node = nodes.get(name).await?;
    let taints = node.spec.and_then(|s| s.taints).unwrap_or_default();
    if taints.iter().any(|t| t.key == NOT_READY_TAINT) {
        let keep: Vec<_> = taints.into_iter().filter(|t| t.key != NOT_READY_TAINT).collect();
        // A merge patch replaces the whole list; the resourceVersion makes a concurrent change
        // conflict (and the next heartbeat try again) instead of being overwritten.
        let patch = json!({"metadata": {"resourceVersion": node.metadata.resource_version}, "spec": {"taints": keep}});
        match nodes.patch(name, &PatchParams::default(), &Patch::Merge(patch)).await {
            Ok(_) => {}
            Err(e) if is_conflict(&e) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Refresh the nodes' status every 30 s, re-creating the node if someone deleted it.
pub async fn heartbeat(ctx: std::sync::Arc<Ctx>) {
    loop {
        tokio::time::sleep(Duration::from_secs(30)).await;
        for name in ctx.opts.node_names() {
            if let Err(e) = register(&ctx, &name).await {
                tracing::warn!("node {name} heartbeat: {e}");
            }
        }
    }
}
