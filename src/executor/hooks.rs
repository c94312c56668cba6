//! Helm hooks: read from their annotations ([`crate::release::hooks`], shared with the renderer),
//! recorded in the release as Helm records them, and
//! run for an event by weight then name, honouring the delete policies — during a run, or from a
//! release's record for `uninstall` ([`delete_hooks`]).

use super::error::ApplyError;
use super::objects::obj_ref;
use super::options::ApplyOptions;
use super::progress::Progress;
use super::progress::Reporter;
use super::runner::Run;
use crate::cluster::{Cascade, Cluster};
use crate::manifest::{self, Document, ManifestSet, Object};
use crate::release::hooks::{self, HookSpec};
use crate::release::{Hook, Release};
use crate::storage::ReleaseStore;

/// The object's hook annotations (see [`crate::release::hooks`]); `None` unless a known hook.
fn spec(o: &Object) -> Option<HookSpec> {
    hooks::parse(|k| o.hook_annotation(k)).and_then(Result::ok)
}

pub(super) fn hook_events(o: &Object) -> Vec<String> {
    spec(o).map(|s| s.events).unwrap_or_default()
}

/// An object annotated `helm.sh/hook` (an item of a List: the List annotated): never applied as
/// an object of the release.
pub fn is_hook(o: &Object) -> bool {
    o.is_hook()
}

pub(super) fn hook_weight(o: &Object) -> i64 {
    spec(o).map(|s| s.weight).unwrap_or(0)
}

/// The delete policies, with Helm's default (`before-hook-creation`) when none is given.
pub(super) fn delete_policies(o: &Object) -> Vec<String> {
    match spec(o).map(|s| s.delete_policies) {
        Some(p) if !p.is_empty() => p,
        _ => vec!["before-hook-creation".to_string()],
    }
}

pub(super) fn deletes_before_creation(o: &Object) -> bool {
    delete_policies(o).iter().any(|p| p == "before-hook-creation")
}

/// The hooks of a rendered side (`docs`, which `set` was parsed from), as Helm records them in a
/// release: one per hook document, so a List annotated as a hook is one hook of the List's name
/// and kind holding the List as rendered.
pub(super) fn release_hooks(set: &ManifestSet, docs: &[Document]) -> Vec<Hook> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for o in set.objects.iter().filter(|o| is_hook(o)) {
        let (name, kind, text) = match o.list_doc.and_then(|i| Some((i, docs.get(i - 1)?))) {
            Some((i, _)) if !seen.insert(i) => continue,
            Some((_, d)) => {
                let list = manifest::parse_yaml(&d.text).unwrap_or_default();
                let field = |p: &str| list.pointer(p).and_then(|v| v.as_str()).unwrap_or("").to_string();
                (field("/metadata/name"), field("/kind"), &d.text)
            }
            None => (o.key.name.clone(), o.key.kind.clone(), &o.text),
        };
        out.push(Hook {
            name,
            kind,
            path: o.source.clone(),
            // Helm keeps the document without its `# Source:` line, trimmed (`SplitManifests`).
            manifest: text
                .strip_prefix(&format!("# Source: {}\n", o.source))
                .unwrap_or(text)
                .trim_end()
                .to_string(),
            events: hook_events(o),
            weight: hook_weight(o),
            delete_policies: delete_policies(o),
            ..Default::default()
        });
    }
    out
}

pub(super) fn split_hooks(docs: &[Document], ns: &str) -> Result<(ManifestSet, Vec<Document>), ApplyError> {
    let set = manifest::parse_documents(docs.to_vec(), ns).map_err(|e| ApplyError::Other(e.to_string()))?;
    let plain = record_documents(&set, docs);
    Ok((set, plain))
}

/// The documents of the release record's manifest, in install order: each object's document, but
/// a `kind: List` as rendered, once, where Helm sorts it (by the List's own kind: an unknown kind,
/// after the known ones, by kind name, in the order given). Helm records the rendered documents;
/// only applying flattens a List.
fn record_documents(set: &ManifestSet, docs: &[Document]) -> Vec<Document> {
    let plain = set.objects.iter().filter(|o| !is_hook(o));
    if set.objects.iter().all(|o| o.list_doc.is_none()) {
        return plain
            .map(|o| Document {
                source: o.source.clone(),
                text: o.text.clone(),
            })
            .collect();
    }
    let mut seen = std::collections::HashSet::new();
    let mut entries: Vec<(usize, String, usize, Document)> = Vec::new();
    for o in plain {
        let (kind, order, doc) = match o.list_doc.and_then(|i| Some((i, docs.get(i - 1)?))) {
            Some((i, d)) if seen.insert(i) => (list_kind(&d.text), i, d.clone()),
            Some(_) => continue,
            None => (
                o.key.kind.clone(),
                0,
                Document {
                    source: o.source.clone(),
                    text: o.text.clone(),
                },
            ),
        };
        let rank = manifest::kind_rank(&kind);
        let by_name = if rank == manifest::kind_rank("") {
            kind
        } else {
            String::new()
        };
        entries.push((rank, by_name, order, doc));
    }
    entries.sort_by(|a, b| (a.0, &a.1, a.2).cmp(&(b.0, &b.1, b.2)));
    entries.into_iter().map(|e| e.3).collect()
}

/// The `kind` of a List document (`List`, `ConfigMapList`…).
fn list_kind(text: &str) -> String {
    manifest::parse_yaml(text)
        .ok()
        .and_then(|v| v.get("kind").and_then(|k| k.as_str()).map(str::to_string))
        .unwrap_or_else(|| "List".into())
}

impl Run<'_, '_> {
    /// Run the hooks for `event` by weight then name, honouring delete policies.
    pub(super) async fn hooks(&mut self, to: &ManifestSet, event: &str) -> Result<(), ApplyError> {
        let mut hooks: Vec<&Object> = to
            .objects
            .iter()
            .filter(|o| hook_events(o).iter().any(|e| e == event))
            .collect();
        if hooks.is_empty() {
            return Ok(());
        }
        hooks.sort_by(|a, b| hook_weight(a).cmp(&hook_weight(b)).then(a.key.name.cmp(&b.key.name)));
        self.rep.report(Progress::Step {
            step: format!("{event} hooks"),
        });
        for h in hooks {
            let policies = delete_policies(h);
            let r = obj_ref(h);
            if policies.iter().any(|p| p == "before-hook-creation") {
                self.cluster.delete(&r, Cascade::Background, false).await?;
                self.wait_gone(&r.name, &r).await?;
            }
            self.cluster.apply(&h.value, false).await?;
            let ok = self.complete(&r).await;
            let delete = match &ok {
                Ok(()) => policies.iter().any(|p| p == "hook-succeeded"),
                Err(_) => policies.iter().any(|p| p == "hook-failed"),
            };
            if delete {
                self.cluster.delete(&r, Cascade::Background, false).await?;
            }
            ok.map_err(|e| ApplyError::Other(format!("{event} hook {}: {e}", h.key)))?;
            self.note(format!("{event} hook {} succeeded", h.key)).await?;
        }
        Ok(())
    }
}

/// The hooks a release's record keeps, as documents again (`# Source:` restored).
fn recorded_hooks(rel: &Release) -> Result<ManifestSet, ApplyError> {
    let docs: Vec<Document> = rel
        .hooks
        .iter()
        .map(|h| Document {
            source: h.path.clone(),
            text: h.manifest.clone(),
        })
        .collect();
    manifest::parse_documents(docs, &rel.namespace).map_err(|e| ApplyError::Other(e.to_string()))
}

/// Run the `pre-delete` or `post-delete` hooks recorded in `rel` (the revision being uninstalled),
/// as `helm uninstall` does: by weight then name, each waited for, delete policies honoured
/// (`before-hook-creation` by default). Each hook that succeeds is journaled into `rel`'s record.
pub async fn delete_hooks(
    cluster: &dyn Cluster,
    store: &dyn ReleaseStore,
    rel: &mut Release,
    event: &str,
    opts: &ApplyOptions,
    rep: &mut dyn Reporter,
) -> Result<(), ApplyError> {
    let set = recorded_hooks(rel)?;
    let mut run = Run {
        cluster,
        store,
        rel,
        rep,
        opts,
        timeout: opts.timeout,
        halt: None,
    };
    run.hooks(&set, event).await
}
