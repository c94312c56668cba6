//! `chartup get values|manifest|notes|hooks|all`: one revision's record, printed as `helm get`
//! prints it.

use super::{Error, Result};
use crate::release::Release;
use crate::storage::ReleaseStore;
use crate::template::value::Value;

/// The revision `revision` of `release` (the newest when `None`), as `helm get --revision`.
pub async fn revision(store: &dyn ReleaseStore, release: &str, revision: Option<u32>) -> Result<Release> {
    let h = store.history(release).await?;
    let found = match revision {
        Some(n) => h.get(n).cloned(),
        None => h.last().cloned(),
    };
    found.ok_or_else(|| {
        let what = match revision {
            Some(n) => format!("{release} revision {n}"),
            None => release.to_string(),
        };
        Error::Invalid(crate::helm_env::release_not_found(&what, store.namespace()))
    })
}

fn typed(j: &serde_json::Value) -> Result<Value> {
    Ok(crate::yaml::from_json(&j.to_string())?)
}

/// The user values (`all` false) or the computed values (the record's chart defaults coalesced
/// with them, helm's `-a`), as a Go-typed value for printing.
pub fn values(rel: &Release, all: bool) -> Result<Value> {
    let config = typed(&rel.config)?;
    if !all {
        return Ok(config);
    }
    let user = match &config {
        Value::Map(m) => m.clone(),
        _ => crate::template::value::Map::new(),
    };
    let chart = crate::chart::Chart {
        metadata: Default::default(),
        templates: Vec::new(),
        files: Vec::new(),
        values: typed(&rel.chart.values)?,
        schema: None,
        dependencies: Vec::new(),
    };
    let merged = crate::chart::coalesce::coalesce_values(&chart, &user).map_err(|e| Error::Invalid(e.to_string()))?;
    Ok(Value::map(merged))
}

/// Values as helm prints them: YAML (sigs.k8s.io/yaml: go-yaml v2, sorted keys; `null` when none)
/// or compact JSON.
pub fn format_values(v: &Value, json: bool) -> Result<String> {
    if json {
        let text = crate::yaml::to_json(
            v,
            crate::yaml::JsonOpts {
                escape_html: true,
                indent: false,
            },
        )?;
        return Ok(text + "\n");
    }
    if v.is_nil() || v.as_map().is_some_and(|m| m.is_empty()) {
        return Ok("null\n".into());
    }
    let y = crate::yaml::to_yaml(v).map_err(|e| Error::Invalid(e.to_string()))?;
    Ok(if y.ends_with('\n') { y } else { y + "\n" })
}

/// `helm get hooks`: each hook as `---\n# Source: PATH\nMANIFEST\n`.
pub fn hooks(rel: &Release) -> String {
    rel.hooks
        .iter()
        .map(|h| format!("---\n# Source: {}\n{}\n", h.path, h.manifest))
        .collect()
}

/// `helm get notes`: `NOTES:\n…` (nothing when the release has none).
pub fn notes(rel: &Release) -> String {
    if rel.info.notes.is_empty() {
        String::new()
    } else {
        format!("NOTES:\n{}\n", rel.info.notes)
    }
}
