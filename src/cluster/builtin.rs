//! Kubernetes' own kinds, known without discovery.
//!
//! Discovery is open to every authenticated user by default (the `system:discovery`
//! ClusterRoleBinding), but a hardened cluster may close it. A namespace tenant there can still
//! read and write the objects of its namespace; only the mapping from `apiVersion`/`kind` to a
//! URL is missing. For the kinds the API server itself serves that mapping is fixed (the plural
//! and the scope never changed across versions), so chartup uses this table when — and only
//! when — discovery answered 403. A custom resource's kind is not guessed: its error names the
//! forbidden discovery as the cause.

/// (group, kind, plural, namespaced): the API server's built-in resources chartup may meet in a
/// chart or use itself (release records, pods, leases, reviews).
const BUILTIN: &[(&str, &str, &str, bool)] = &[
    ("", "ConfigMap", "configmaps", true),
    ("", "Endpoints", "endpoints", true),
    ("", "Event", "events", true),
    ("", "LimitRange", "limitranges", true),
    ("", "Namespace", "namespaces", false),
    ("", "Node", "nodes", false),
    ("", "PersistentVolume", "persistentvolumes", false),
    ("", "PersistentVolumeClaim", "persistentvolumeclaims", true),
    ("", "Pod", "pods", true),
    ("", "PodTemplate", "podtemplates", true),
    ("", "ReplicationController", "replicationcontrollers", true),
    ("", "ResourceQuota", "resourcequotas", true),
    ("", "Secret", "secrets", true),
    ("", "Service", "services", true),
    ("", "ServiceAccount", "serviceaccounts", true),
    ("apps", "ControllerRevision", "controllerrevisions", true),
    ("apps", "DaemonSet", "daemonsets", true),
    ("apps", "Deployment", "deployments", true),
    ("apps", "ReplicaSet", "replicasets", true),
    ("apps", "StatefulSet", "statefulsets", true),
    (
        "authorization.k8s.io",
        "SelfSubjectAccessReview",
        "selfsubjectaccessreviews",
        false,
    ),
    (
        "authorization.k8s.io",
        "SelfSubjectRulesReview",
        "selfsubjectrulesreviews",
        false,
    ),
    (
        "autoscaling",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        true,
    ),
    ("batch", "CronJob", "cronjobs", true),
    ("batch", "Job", "jobs", true),
    ("coordination.k8s.io", "Lease", "leases", true),
    ("discovery.k8s.io", "EndpointSlice", "endpointslices", true),
    ("networking.k8s.io", "Ingress", "ingresses", true),
    ("networking.k8s.io", "IngressClass", "ingressclasses", false),
    ("networking.k8s.io", "NetworkPolicy", "networkpolicies", true),
    ("policy", "PodDisruptionBudget", "poddisruptionbudgets", true),
    ("rbac.authorization.k8s.io", "ClusterRole", "clusterroles", false),
    (
        "rbac.authorization.k8s.io",
        "ClusterRoleBinding",
        "clusterrolebindings",
        false,
    ),
    ("rbac.authorization.k8s.io", "Role", "roles", true),
    ("rbac.authorization.k8s.io", "RoleBinding", "rolebindings", true),
    ("scheduling.k8s.io", "PriorityClass", "priorityclasses", false),
    ("storage.k8s.io", "CSIDriver", "csidrivers", false),
    ("storage.k8s.io", "StorageClass", "storageclasses", false),
    ("storage.k8s.io", "VolumeAttachment", "volumeattachments", false),
    (
        "apiextensions.k8s.io",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        false,
    ),
    (
        "admissionregistration.k8s.io",
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
        false,
    ),
    (
        "admissionregistration.k8s.io",
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
        false,
    ),
];

/// The plural and scope of a built-in kind of `group` (`""` for the core group).
pub fn resource(group: &str, kind: &str) -> Option<(&'static str, bool)> {
    BUILTIN
        .iter()
        .find(|(g, k, _, _)| *g == group && *k == kind)
        .map(|(_, _, plural, namespaced)| (*plural, *namespaced))
}

#[cfg(test)]
mod tests {
    #[test]
    fn built_in_kinds_are_known_custom_ones_are_not() {
        assert_eq!(super::resource("", "Secret"), Some(("secrets", true)));
        assert_eq!(super::resource("apps", "StatefulSet"), Some(("statefulsets", true)));
        assert_eq!(
            super::resource("storage.k8s.io", "StorageClass"),
            Some(("storageclasses", false))
        );
        assert_eq!(super::resource("example.com", "Widget"), None);
        assert_eq!(super::resource("", "Deployment"), None, "the group matters");
    }
}
