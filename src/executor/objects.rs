//! Objects as the executor writes them: their cluster identity, the ownership Helm expects on
//! them, the release manifest text, a workload's selector.

use serde_json::{json, Value as Json};

use crate::cluster::ObjRef;
use crate::manifest::{Document, Object};

pub fn obj_ref(o: &Object) -> ObjRef {
    ObjRef {
        api_version: o.api_version.clone(),
        kind: o.key.kind.clone(),
        namespace: o.key.namespace.clone(),
        name: o.key.name.clone(),
    }
}

/// The object as Helm writes it to the cluster: labelled `app.kubernetes.io/managed-by: Helm` and
/// annotated with the owning release (`meta.helm.sh/release-name`/`-namespace`), so the real helm
/// accepts chartup's objects as its own on its next upgrade or rollback. The release manifest keeps
/// the rendered text; only the applied body carries these.
pub fn owned(obj: &Json, release: &str, ns: &str) -> Json {
    let mut o = obj.clone();
    if let Some(meta) = o.get_mut("metadata").and_then(Json::as_object_mut) {
        let labels = meta.entry("labels").or_insert_with(|| json!({}));
        if let Some(l) = labels.as_object_mut() {
            l.insert("app.kubernetes.io/managed-by".into(), json!("Helm"));
        } else {
            *labels = json!({"app.kubernetes.io/managed-by": "Helm"});
        }
        let ann = meta.entry("annotations").or_insert_with(|| json!({}));
        if !ann.is_object() {
            *ann = json!({});
        }
        if let Some(a) = ann.as_object_mut() {
            a.insert("meta.helm.sh/release-name".into(), json!(release));
            a.insert("meta.helm.sh/release-namespace".into(), json!(ns));
        }
    }
    o
}

/// Helm's release manifest text: `---\n# Source: <path>\n<doc>\n` per document.
pub fn manifest_text(docs: &[Document]) -> String {
    let mut out = String::new();
    for d in docs {
        out.push_str("---\n");
        // Documents split from a rendering keep their `# Source:` line; others get one.
        if !d.source.is_empty() && !d.text.trim_start().starts_with("# Source:") {
            out.push_str(&format!("# Source: {}\n", d.source));
        }
        out.push_str(d.text.trim_end_matches('\n'));
        out.push('\n');
    }
    out
}

/// `matchLabels` of a workload's selector as a label selector string.
pub fn match_labels(o: &Json) -> String {
    o.pointer("/spec/selector/matchLabels")
        .and_then(Json::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_text_matches_helms_layout() {
        let docs = vec![
            Document {
                source: "db/templates/a.yaml".into(),
                text: "kind: A\n".into(),
            },
            Document {
                source: "db/templates/b.yaml".into(),
                text: "# Source: db/templates/b.yaml\nkind: B".into(),
            },
        ];
        assert_eq!(
            manifest_text(&docs),
            "---\n# Source: db/templates/a.yaml\nkind: A\n---\n# Source: db/templates/b.yaml\nkind: B\n"
        );
    }

    #[test]
    fn selectors_and_ordinals() {
        let sts = json!({"spec": {"selector": {"matchLabels": {"app": "db", "tier": "x"}}}});
        assert_eq!(match_labels(&sts), "app=db,tier=x");
    }
}
