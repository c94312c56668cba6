//! Volume fate rules on small hand-written manifests (each names the upgrade shape it stands for).

use super::*;
use crate::diff::{diff, DiffOptions};
use crate::manifest::parse_manifest;

fn run(old: &str, new: &str, classes: &[&str]) -> Vec<VolumeFate> {
    let (o, n) = (
        parse_manifest(old, "fate").unwrap(),
        parse_manifest(new, "fate").unwrap(),
    );
    let changes = diff(&o, &n, &DiffOptions::default());
    let mut r = ReclaimPolicies::default();
    for c in classes {
        r.add_spec(c).unwrap();
    }
    analyse(&o, &n, &changes, &r)
}

fn deploy(volume: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: mysql, labels: {{app.kubernetes.io/component: mysql}}}}\nspec:\n  selector: {{matchLabels: {{c: mysql}}}}\n  template:\n    metadata: {{labels: {{c: mysql}}}}\n    spec:\n      containers:\n      - name: mysql\n        image: mysql:8\n        volumeMounts: [{{name: data, mountPath: /var/lib/mysql}}, {{name: cfg, mountPath: /etc/mysql}}]\n      volumes:\n      - name: cfg\n        configMap: {{name: mysql-config}}\n      - name: data\n{volume}"
    )
}
const PVC: &str = "---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: mysql-data}\nspec:\n  storageClassName: standard\n  accessModes: [ReadWriteOnce]\n  resources: {requests: {storage: 1Gi}}\n";
fn sts(name: &str, vct: &str, replicas: u32, volumes: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {{name: {name}, labels: {{app.kubernetes.io/component: mysql}}}}\nspec:\n  serviceName: mysql\n  replicas: {replicas}\n  selector: {{matchLabels: {{c: mysql}}}}\n  template:\n    metadata: {{labels: {{c: mysql}}}}\n    spec:\n      containers:\n      - name: mysql\n        image: mysql:8\n        volumeMounts: [{{name: {vct}, mountPath: /var/lib/mysql}}]\n{volumes}  volumeClaimTemplates:\n  - metadata: {{name: {vct}}}\n    spec: {{storageClassName: standard, accessModes: [ReadWriteOnce], resources: {{requests: {{storage: 1Gi}}}}}}\n"
    )
}
const CLAIM: &str = "        persistentVolumeClaim: {claimName: mysql-data}\n";

#[test]
fn same_workload_with_relabelled_component_keeps_its_host_path() {
    // edge 1.0.0 → 2.0.0: the DaemonSet keeps its name but its labels move to the
    // app.kubernetes.io scheme, so the component name derived from them changes.
    let ds = |labels: &str, path: &str| {
        format!(
            "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {{name: agent, labels: {{{labels}}}}}\nspec:\n  selector: {{matchLabels: {{{labels}}}}}\n  template:\n    metadata: {{labels: {{{labels}}}}}\n    spec:\n      containers:\n      - name: a\n        image: agent:1\n        volumeMounts: [{{name: varlog, mountPath: /var/log}}]\n      volumes:\n      - name: varlog\n        hostPath: {{path: {path}}}\n"
        )
    };
    let f = run(
        &ds("app: edge-agent", "/var/log"),
        &ds("app.kubernetes.io/component: logs", "/var/log"),
        &[],
    );
    assert_eq!(f.len(), 1, "one volume, paired across the relabelling: {f:#?}");
    assert_eq!(f[0].fate, Fate::Kept);
    assert!(f[0].reason.contains("hostPath /var/log"), "{}", f[0].reason);
    // Dropped: said as what it is, not as an emptyDir.
    let gone = run(&ds("app: edge-agent", "/var/log"), "", &[]);
    assert!(gone.iter().all(|v| !v.reason.contains("emptyDir")), "{gone:#?}");
}

#[test]
fn deployment_to_statefulset_with_storage_class_loses_data() {
    let old = deploy(CLAIM) + PVC;
    let new = sts("mysql", "data", 1, "");
    let f = run(&old, &new, &[]);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].fate, Fate::Deleted);
    assert_eq!(f[0].verdict, Verdict::Loss);
    assert_eq!(f[0].mode, Persistence::StorageClass);
    assert!(
        f[0].assumptions[0].contains("\"standard\" unknown: assumed Delete"),
        "{:?}",
        f[0].assumptions
    );
    assert!(
        f[0].objects
            .contains(&"fate/PersistentVolumeClaim/data-mysql-0".to_string()),
        "{:?}",
        f[0].objects
    );
    assert!(f[0]
        .workaround
        .as_ref()
        .unwrap()
        .contains("helm.sh/resource-policy=keep"));
    // With a retaining class the data survives in a Released PV: at risk, not lost.
    let f = run(&old, &new, &["standard=Retain"]);
    assert_eq!(f[0].verdict, Verdict::AtRisk);
    assert!(f[0].assumptions.is_empty());
}

#[test]
fn deployment_to_statefulset_with_existing_claim_keeps_data() {
    let old = deploy(CLAIM);
    let vols = "      volumes:\n      - name: data\n        persistentVolumeClaim: {claimName: mysql-data}\n";
    let new = sts("mysql", "data", 1, vols).replace("  volumeClaimTemplates:\n  - metadata: {name: data}\n    spec: {storageClassName: standard, accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}\n", "");
    let f = run(&old, &new, &[]);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].fate, Fate::Reattached);
    assert_eq!(f[0].verdict, Verdict::Safe);
    assert_eq!(f[0].mode, Persistence::ExistingClaim);
}

#[test]
fn existing_claim_replaced_by_claim_template_is_orphaned() {
    let f = run(&deploy(CLAIM), &sts("mysql", "data", 1, ""), &[]);
    assert_eq!(f[0].fate, Fate::Orphaned);
    assert_eq!(f[0].verdict, Verdict::AtRisk);
    assert!(f[0].reason.contains("data-mysql-<ordinal>"), "{}", f[0].reason);
    assert!(f[0].workaround.as_ref().unwrap().contains("create claim data-mysql-0"));
}

#[test]
fn renamed_claim_template_orphans_claims() {
    let f = run(&sts("mysql", "data", 2, ""), &sts("mysql", "storage", 2, ""), &[]);
    assert_eq!(f.len(), 2, "{f:#?}");
    assert!(f
        .iter()
        .all(|f| f.fate == Fate::Orphaned && f.verdict == Verdict::AtRisk));
    assert!(f[0].reason.contains("renamed data → storage"));
}

#[test]
fn scale_up_adds_empty_claims() {
    let f = run(&sts("mysql", "data", 1, ""), &sts("mysql", "data", 2, ""), &[]);
    let n: Vec<_> = f.iter().filter(|f| f.fate == Fate::New).collect();
    assert_eq!(n.len(), 1, "{f:#?}");
    assert!(
        n[0].reason.contains("claim data-mysql-1 starts empty"),
        "{}",
        n[0].reason
    );
}

#[test]
fn scale_down_leaves_claims() {
    let f = run(&sts("mysql", "data", 3, ""), &sts("mysql", "data", 1, ""), &[]);
    let s: Vec<_> = f.iter().filter(|f| f.fate == Fate::ScaleDown).collect();
    assert_eq!(s.len(), 1, "{f:#?}");
    assert!(s[0].reason.contains("claims data-mysql-1, data-mysql-2"));
    assert!(f.iter().any(|f| f.fate == Fate::Kept && f.verdict == Verdict::Safe));
}

#[test]
fn persistence_switched_off() {
    let old = deploy(CLAIM) + PVC;
    let new = deploy("        emptyDir: {}\n");
    let f = run(&old, &new, &["standard=Delete"]);
    assert_eq!(f[0].fate, Fate::Deleted);
    assert_eq!(f[0].verdict, Verdict::Loss);
    assert_eq!(f[0].after.as_ref().unwrap().source, "emptyDir");
}

#[test]
fn kept_claim_is_orphaned_not_deleted() {
    let old = deploy(CLAIM)
        + &PVC.replace(
            "{name: mysql-data}",
            "{name: mysql-data, annotations: {helm.sh/resource-policy: keep}}",
        );
    let f = run(&old, &sts("mysql", "data", 1, ""), &[]);
    assert_eq!(f[0].fate, Fate::Orphaned);
    assert_eq!(f[0].verdict, Verdict::AtRisk);
}

#[test]
fn unchanged_volume_is_kept() {
    let old = deploy(CLAIM) + PVC;
    let f = run(&old, &old, &[]);
    assert_eq!(f.len(), 1);
    assert_eq!((f[0].fate, f[0].verdict), (Fate::Kept, Verdict::Safe));
}

#[test]
fn recreated_claim_is_deleted() {
    let old = deploy(CLAIM) + PVC;
    let new = deploy(CLAIM) + &PVC.replace("standard", "fast");
    let f = run(&old, &new, &[]);
    assert_eq!(f[0].fate, Fate::Deleted);
    assert!(f[0].reason.contains("recreated"));
}

fn run_carry(old: &str, new: &str) -> Vec<VolumeFate> {
    let (o, n) = (
        parse_manifest(old, "fate").unwrap(),
        parse_manifest(new, "fate").unwrap(),
    );
    let changes = diff(&o, &n, &DiffOptions::default());
    let mut r = ReclaimPolicies::default();
    r.add_spec("standard=Delete").unwrap();
    let carry = CarryPolicy {
        all: true,
        ..Default::default()
    };
    analyse_with(&o, &n, &changes, &r, &carry)
}

fn carries(f: &[VolumeFate]) -> Vec<(String, String, Option<u64>)> {
    let mut v: Vec<_> = f
        .iter()
        .filter_map(|f| f.carry.as_ref())
        .map(|c| (c.from_claim.clone(), c.to_claim.clone(), c.ordinal))
        .collect();
    v.sort();
    v
}

#[test]
fn renamed_statefulset_carries_ordinal_to_ordinal() {
    let f = run_carry(&sts("mysql", "data", 2, ""), &sts("db", "storage", 2, ""));
    assert_eq!(
        carries(&f),
        vec![
            ("data-mysql-0".to_string(), "storage-db-0".to_string(), Some(0)),
            ("data-mysql-1".to_string(), "storage-db-1".to_string(), Some(1)),
        ],
        "{f:#?}"
    );
    assert!(f.iter().all(|f| f.fate == Fate::Carried && f.verdict == Verdict::Safe));
    assert_eq!(f[0].fate_text(), "carried: data-mysql-0 → storage-db-0");
    let c = f[0].carry.as_ref().unwrap();
    assert_eq!(
        (c.from_workload.name.as_str(), c.to_workload.name.as_str()),
        ("mysql", "db")
    );
    // The StatefulSet controller labels its claims with the selector's matchLabels.
    assert_eq!(c.labels.get("c").map(String::as_str), Some("mysql"));
    assert!(!c.in_release);
    // Without the policy the same upgrade orphans them.
    let f = run(
        &sts("mysql", "data", 2, ""),
        &sts("db", "storage", 2, ""),
        &["standard=Delete"],
    );
    assert!(
        f.iter().all(|f| f.fate == Fate::Orphaned && f.carry.is_none()),
        "{f:#?}"
    );
}

#[test]
fn extra_new_ordinals_start_empty_and_surplus_old_ones_stay() {
    // 2 → 3: ordinals 0 and 1 carried, ordinal 2 new and empty.
    let f = run_carry(&sts("mysql", "data", 2, ""), &sts("db", "data", 3, ""));
    assert_eq!(carries(&f).len(), 2, "{f:#?}");
    let new: Vec<_> = f.iter().filter(|f| f.fate == Fate::New).collect();
    assert_eq!(new.len(), 1, "{f:#?}");
    assert!(
        new[0].reason.contains("claim data-db-2 starts empty"),
        "{}",
        new[0].reason
    );
    // 3 → 1: ordinal 0 carried; ordinals 1 and 2 reported as surplus, never deleted.
    let f = run_carry(&sts("mysql", "data", 3, ""), &sts("db", "data", 1, ""));
    assert_eq!(
        carries(&f),
        vec![("data-mysql-0".to_string(), "data-db-0".to_string(), Some(0))]
    );
    let surplus: Vec<_> = f.iter().filter(|f| f.reason.starts_with("surplus:")).collect();
    assert_eq!(surplus.len(), 2, "{f:#?}");
    assert!(surplus
        .iter()
        .all(|s| s.fate == Fate::Orphaned && s.verdict == Verdict::AtRisk && s.carry.is_none()));
    assert!(surplus.iter().any(|s| s
        .objects
        .contains(&"fate/PersistentVolumeClaim/data-mysql-2".to_string())));
}

#[test]
fn deployment_claim_carries_to_ordinal_zero() {
    let old = deploy(CLAIM) + PVC;
    let f = run_carry(&old, &sts("mysql", "data", 1, ""));
    assert_eq!(
        carries(&f),
        vec![("mysql-data".to_string(), "data-mysql-0".to_string(), Some(0))],
        "{f:#?}"
    );
    assert_eq!((f[0].fate, f[0].verdict), (Fate::Carried, Verdict::Safe));
    let c = f[0].carry.as_ref().unwrap();
    assert_eq!(c.from_workload.kind, "Deployment");
    assert_eq!(c.to_workload.kind, "StatefulSet");
    // replicas 3: ordinal 0 gets the data, ordinals 1 and 2 start empty, and the plan says so.
    let f = run_carry(&old, &sts("mysql", "data", 3, ""));
    let carried = f.iter().find(|f| f.fate == Fate::Carried).unwrap();
    assert!(
        carried.reason.contains("the single claim goes to ordinal 0"),
        "{}",
        carried.reason
    );
    let new = f.iter().find(|f| f.fate == Fate::New).unwrap();
    assert!(
        new.reason.contains("claims data-mysql-1, data-mysql-2 start empty"),
        "{}",
        new.reason
    );
}

#[test]
fn renamed_release_claim_is_carried_in_release() {
    let old = deploy(CLAIM) + PVC;
    let new = deploy("        persistentVolumeClaim: {claimName: mysql-store}\n")
        + &PVC.replace("{name: mysql-data}", "{name: mysql-store, labels: {tier: db}}");
    let f = run_carry(&old, &new);
    assert_eq!(
        carries(&f),
        vec![("mysql-data".to_string(), "mysql-store".to_string(), None)],
        "{f:#?}"
    );
    let c = f[0].carry.as_ref().unwrap();
    assert!(c.in_release);
    assert_eq!(c.labels.get("tier").map(String::as_str), Some("db"));
}

#[test]
fn carry_is_per_component() {
    let (o, n) = (
        parse_manifest(&sts("mysql", "data", 1, ""), "fate").unwrap(),
        parse_manifest(&sts("db", "storage", 1, ""), "fate").unwrap(),
    );
    let changes = diff(&o, &n, &DiffOptions::default());
    let mut carry = CarryPolicy::default();
    carry.components.insert("other".into());
    let f = analyse_with(&o, &n, &changes, &ReclaimPolicies::default(), &carry);
    assert_eq!(f[0].fate, Fate::Orphaned);
    carry.components.insert("mysql".into());
    let f = analyse_with(&o, &n, &changes, &ReclaimPolicies::default(), &carry);
    assert_eq!(f[0].fate, Fate::Carried);
}

#[test]
fn carried_fate_json_shape() {
    let f = run_carry(&sts("mysql", "data", 1, ""), &sts("db", "storage", 1, ""));
    let j = serde_json::to_value(&f[0]).unwrap();
    assert_eq!(j["fate"], "carried");
    assert_eq!(j["verdict"], "safe");
    assert_eq!(
        j["carry"],
        serde_json::json!({
            "namespace": "fate",
            "fromClaim": "data-mysql-0",
            "toClaim": "storage-db-0",
            "fromWorkload": {"group": "apps", "kind": "StatefulSet", "namespace": "fate", "name": "mysql"},
            "toWorkload": {"group": "apps", "kind": "StatefulSet", "namespace": "fate", "name": "db"},
            "ordinal": 0,
            "labels": {"c": "mysql"}
        })
    );
    // Round trip (the saved plan carries it to apply).
    let back: VolumeFate = serde_json::from_value(j).unwrap();
    assert_eq!(back, f[0]);
}

#[test]
fn storage_class_specs() {
    let mut r = ReclaimPolicies::default();
    assert!(r.add_spec("x").is_err());
    assert!(r.add_spec("x=Keep").is_err());
    r.add_spec("fast=retain").unwrap();
    assert_eq!(r.lookup(Some("fast")), (Reclaim::Retain, true));
    assert_eq!(r.lookup(None), (Reclaim::Delete, false));
}

/// Issue 12: a bound claim's own volume's reclaim policy decides, not its class's (an admin may
/// have patched one volume); where no volume could be read the class decides, as before.
#[test]
fn a_bound_volumes_own_policy_decides_over_its_class() {
    let old = deploy(CLAIM) + PVC;
    let new = sts("mysql", "data", 1, "");
    let run_with = |classes: &[&str], volume: Option<&str>| {
        let (o, n) = (
            parse_manifest(&old, "fate").unwrap(),
            parse_manifest(&new, "fate").unwrap(),
        );
        let changes = diff(&o, &n, &DiffOptions::default());
        let mut r = ReclaimPolicies::default();
        for c in classes {
            r.add_spec(c).unwrap();
        }
        if let Some(p) = volume {
            r.add_volume("mysql-data", "pv-1", p);
        }
        analyse(&o, &n, &changes, &r)
    };
    // Retain on the volume under a Delete class: the data is kept (in a Released PV).
    let f = run_with(&["standard=Delete"], Some("Retain"));
    assert_eq!((f[0].fate, f[0].verdict), (Fate::Deleted, Verdict::AtRisk), "{f:#?}");
    assert!(
        f[0].reason.contains("volume pv-1 is reclaimed with Retain")
            && f[0].reason.contains("not its storage class's Delete")
            && f[0].reason.contains("the data survives"),
        "{}",
        f[0].reason
    );
    // The opposite: Delete on the volume under a Retain class loses it.
    let f = run_with(&["standard=Retain"], Some("Delete"));
    assert_eq!(f[0].verdict, Verdict::Loss, "{f:#?}");
    assert!(
        f[0].reason.contains("not its storage class's Retain"),
        "{}",
        f[0].reason
    );
    // The class unknown but the volume read: no assumption is needed.
    let f = run_with(&[], Some("Retain"));
    assert_eq!(f[0].verdict, Verdict::AtRisk);
    assert!(f[0].assumptions.is_empty(), "{:?}", f[0].assumptions);
    // No volume read (forbidden, or unbound): the class decides, else unknown (assumed Delete).
    assert_eq!(run_with(&["standard=Retain"], None)[0].verdict, Verdict::AtRisk);
    let f = run_with(&[], None);
    assert_eq!(f[0].verdict, Verdict::Loss);
    assert!(f[0].assumptions[0].contains("assumed Delete"), "{:?}", f[0].assumptions);
}
