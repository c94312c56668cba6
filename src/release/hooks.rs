//! Helm's hook annotations, read in one place for the renderer (which sorts hooks out of a
//! release's documents) and the executor (which runs them): `helm.sh/hook` (comma-separated
//! events, case-insensitive, `test-success` meaning `test`), `helm.sh/hook-weight` (an integer,
//! else 0), `helm.sh/hook-delete-policy` and `helm.sh/hook-output-log-policy` (comma-separated),
//! as helm's `pkg/release/util/manifest_sorter.go` reads them.

/// The events Helm knows, by annotation spelling.
const EVENTS: &[(&str, &str)] = &[
    ("pre-install", "pre-install"),
    ("post-install", "post-install"),
    ("pre-delete", "pre-delete"),
    ("post-delete", "post-delete"),
    ("pre-upgrade", "pre-upgrade"),
    ("post-upgrade", "post-upgrade"),
    ("pre-rollback", "pre-rollback"),
    ("post-rollback", "post-rollback"),
    ("test", "test"),
    ("test-success", "test"),
];

/// The hook annotations of one document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HookSpec {
    /// Normalised event names, in annotation order.
    pub events: Vec<String>,
    pub weight: i64,
    /// As written; empty when the annotation is absent (Helm's default, `before-hook-creation`,
    /// applies when the hook runs).
    pub delete_policies: Vec<String>,
    pub output_log_policies: Vec<String>,
}

/// A `helm.sh/hook` naming an event Helm does not know: Helm drops such a document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown hook event {0:?}")]
pub struct UnknownEvent(pub String);

fn list(v: Option<&str>) -> Vec<String> {
    v.map(|s| {
        s.split(',')
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .collect()
    })
    .unwrap_or_default()
}

/// The hook a document's annotations make of it (`annotation` reads one by name): `None` when it
/// is not a hook.
pub fn parse<'a>(annotation: impl Fn(&str) -> Option<&'a str>) -> Option<Result<HookSpec, UnknownEvent>> {
    let kinds = annotation("helm.sh/hook")?;
    let mut events = Vec::new();
    for t in kinds.split(',') {
        let t = t.trim().to_lowercase();
        match EVENTS.iter().find(|(n, _)| *n == t) {
            Some((_, e)) => events.push(e.to_string()),
            None => return Some(Err(UnknownEvent(t))),
        }
    }
    Some(Ok(HookSpec {
        events,
        weight: annotation("helm.sh/hook-weight")
            .and_then(|w| w.parse::<i64>().ok())
            .unwrap_or(0),
        delete_policies: list(annotation("helm.sh/hook-delete-policy")),
        output_log_policies: list(annotation("helm.sh/hook-output-log-policy")),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(pairs: &[(&'static str, &'static str)]) -> Option<Result<HookSpec, UnknownEvent>> {
        parse(|k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| *v))
    }

    #[test]
    fn reads_the_annotations_as_helm() {
        assert_eq!(of(&[]), None);
        let h = of(&[
            ("helm.sh/hook", "Pre-Upgrade, test-success"),
            ("helm.sh/hook-weight", "-5"),
            ("helm.sh/hook-delete-policy", "before-hook-creation,hook-succeeded"),
        ])
        .expect("a hook")
        .expect("known events");
        assert_eq!(h.events, ["pre-upgrade", "test"]);
        assert_eq!(h.weight, -5);
        assert_eq!(h.delete_policies, ["before-hook-creation", "hook-succeeded"]);
        // strconv.Atoi: no spaces, else 0.
        let h = of(&[("helm.sh/hook", "post-install"), ("helm.sh/hook-weight", " 3")])
            .expect("hook")
            .expect("ok");
        assert_eq!(h.weight, 0);
        assert_eq!(
            of(&[("helm.sh/hook", "pre-install,post-flight")]),
            Some(Err(UnknownEvent("post-flight".into())))
        );
    }
}
