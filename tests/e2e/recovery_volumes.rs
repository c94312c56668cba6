//! Issue #12: a connected plan judges a deleted claim's data by its bound volume's own
//! `persistentVolumeReclaimPolicy` — what Kubernetes will do — not by its storage class's (an
//! admin may have patched one volume), on the real control plane; a tenant who may not read
//! PersistentVolumes gets the class's policy (else unknown) and is told why.

use anyhow::ensure;
use testkit::k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
use testkit::kube::api::{Api, Patch, PatchParams};
use testkit::{cluster, Cluster};

use crate::e2e_support::*;
use crate::recovery::{as_tenant, bind_tenant, one_file_chart, WAIT};

fn pvc(name: &str, class: &str) -> String {
    format!(
        "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: {name}\nspec:\n  storageClassName: {class}\n  \
         accessModes: [ReadWriteOnce]\n  resources:\n    requests:\n      storage: 1Gi\n---\n"
    )
}

/// The bound volume of `claim`, once bound.
async fn volume_of(c: &Cluster, ns: &str, claim: &str) -> anyhow::Result<String> {
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(c.client().await?, ns);
    let p = testkit::wait_for(
        &claims,
        claim,
        WAIT,
        "the claim bound",
        |p: Option<&PersistentVolumeClaim>| {
            p.and_then(|p| p.status.as_ref()).and_then(|s| s.phase.as_deref()) == Some("Bound")
        },
    )
    .await?;
    Ok(p.spec.and_then(|s| s.volume_name).unwrap_or_default())
}

async fn set_policy(c: &Cluster, pv: &str, policy: &str) -> anyhow::Result<()> {
    let pvs: Api<PersistentVolume> = Api::all(c.client().await?);
    let patch = serde_json::json!({"spec": {"persistentVolumeReclaimPolicy": policy}});
    pvs.patch(pv, &PatchParams::default(), &Patch::Merge(&patch)).await?;
    Ok(())
}

/// The verdict line of a volume in the plan's text (`LOSS    data/data — …`) and its reason.
fn verdict(plan: &str, volume: &str) -> (String, String) {
    let lines: Vec<&str> = plan.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.trim_start().split_whitespace().nth(1) == Some(volume));
    match at {
        Some(i) => (
            lines[i].split_whitespace().next().unwrap_or("").to_string(),
            lines.get(i + 1).map(|l| l.trim().to_string()).unwrap_or_default(),
        ),
        None => (String::new(), String::new()),
    }
}

/// Two claims leave the release: `data` of the Delete class `standard`, its volume patched to
/// Retain, and `keep` of the Retain class `retain`, its volume patched to Delete. The plan says
/// `data` is kept and `keep` is lost, naming each volume's own policy; put back, the plan follows
/// again. A tenant, who may read neither volumes nor classes, is told so and gets unknown
/// policies (assumed Delete), or the classes' with --storage-class.
#[tokio::test(flavor = "multi_thread")]
async fn a_bound_volumes_own_reclaim_policy_decides_the_plan() -> anyhow::Result<()> {
    let c = cluster();
    let tmp = tempfile::tempdir()?;
    let ns = c.fresh_namespace("rec-pvpol").await?;
    let n = ns.name.as_str();
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n";
    let v1 = one_file_chart(
        &tmp.path().join("v1"),
        "vol",
        "1.0.0",
        &(pvc("data", "standard") + &pvc("keep", "retain") + cm),
    )?;
    let v2 = one_file_chart(&tmp.path().join("v2"), "vol", "2.0.0", cm)?;
    chartup_ok(c, &["apply", "vol", &v1, "-n", n, "--yes"]).await?;
    let (data_pv, keep_pv) = (volume_of(c, n, "data").await?, volume_of(c, n, "keep").await?);
    let result = judged(c, n, &v2, &data_pv, &keep_pv).await;
    // Leave nothing behind: the namespace's deletion then deletes both volumes.
    set_policy(c, &data_pv, "Delete").await?;
    set_policy(c, &keep_pv, "Delete").await?;
    result
}

async fn judged(c: &Cluster, n: &str, v2: &str, data_pv: &str, keep_pv: &str) -> anyhow::Result<()> {
    // As provisioned, each volume has its class's policy.
    let plan = chartup_ok(c, &["plan", "vol", v2, "-n", n]).await?.stdout;
    let (d, why) = verdict(&plan, "data/data");
    ensure!(
        d == "LOSS" && why.contains(&format!("volume {data_pv} is reclaimed with Delete")),
        "{plan}"
    );
    let (k, why) = verdict(&plan, "keep/keep");
    ensure!(
        k == "AT-RISK" && why.contains(&format!("volume {keep_pv} is reclaimed with Retain")),
        "{plan}"
    );
    // An admin patches the volumes: their own policies decide.
    set_policy(c, data_pv, "Retain").await?;
    set_policy(c, keep_pv, "Delete").await?;
    let plan = chartup_ok(c, &["plan", "vol", v2, "-n", n]).await?.stdout;
    let (d, why) = verdict(&plan, "data/data");
    ensure!(
        d == "AT-RISK"
            && why.contains(&format!(
                "volume {data_pv} is reclaimed with Retain (the volume's own persistentVolumeReclaimPolicy, not its \
                 storage class's Delete): the data survives"
            )),
        "{plan}"
    );
    let (k, why) = verdict(&plan, "keep/keep");
    ensure!(
        k == "LOSS" && why.contains("not its storage class's Retain): the data is lost"),
        "{plan}"
    );
    // A tenant may read neither: told why; the classes' policies come from --storage-class.
    bind_tenant(
        c,
        n,
        serde_json::json!([{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]),
    )
    .await?;
    let t = as_tenant(c);
    let plan = chartup_ok(&t, &["plan", "vol", v2, "-n", n]).await?.stdout;
    ensure!(
        plan.contains("cannot read the cluster's PersistentVolumes")
            && plan.contains("cannot get resource \"persistentvolumes\"")
            && verdict(&plan, "data/data").0 == "LOSS"
            && plan.contains("reclaim policy of storage class \"standard\" unknown: assumed Delete"),
        "{plan}"
    );
    let plan = chartup_ok(
        &t,
        &[
            "plan",
            "vol",
            v2,
            "-n",
            n,
            "--storage-class",
            "standard=Delete",
            "--storage-class",
            "retain=Retain",
        ],
    )
    .await?
    .stdout;
    ensure!(
        verdict(&plan, "data/data").0 == "LOSS" && verdict(&plan, "keep/keep").0 == "AT-RISK",
        "the classes decide for the tenant:\n{plan}"
    );
    Ok(())
}
