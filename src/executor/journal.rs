//! The journal of a run: a line per step appended to the pending release record, so `chartup
//! recover` and `chartup status` can say what an interrupted run had done.

use serde_json::{json, Value as Json};

use crate::release::Release;

/// The record's key holding the journal.
pub(super) const KEY: &str = "chartup_journal";

/// A journal line appended to the pending record, for `recover`.
pub(super) fn journal(rel: &mut Release, line: impl Into<String>) {
    let entry = json!({ "at": jiff::Timestamp::now().to_string(), "step": line.into() });
    match rel.extra.get_mut(KEY).and_then(Json::as_array_mut) {
        Some(a) => a.push(entry),
        None => {
            rel.extra.insert(KEY.into(), Json::Array(vec![entry]));
        }
    }
}

/// The journal of a record, one line per step.
pub fn journal_lines(rel: &Release) -> Vec<String> {
    rel.extra
        .get(KEY)
        .and_then(Json::as_array)
        .map(|a| {
            a.iter()
                .map(|e| {
                    format!(
                        "{}  {}",
                        e["at"].as_str().unwrap_or(""),
                        e["step"].as_str().unwrap_or("")
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The entries a run keeps under `key` in its record (carries, snapshots, restores): each says
/// how far one volume step got, for a crash to finish or undo it.
pub(super) fn states<T: serde::de::DeserializeOwned>(rel: &Release, key: &str) -> Vec<T> {
    rel.extra
        .get(key)
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default()
}

/// Put `st` under `key`, in place of the entry `same` as it (the same claim), else added.
pub(super) fn set_state<T>(rel: &mut Release, key: &str, st: &T, same: impl Fn(&T, &T) -> bool)
where
    T: serde::Serialize + serde::de::DeserializeOwned + Clone,
{
    let mut all: Vec<T> = states(rel, key);
    match all.iter_mut().find(|x| same(x, st)) {
        Some(x) => *x = st.clone(),
        None => all.push(st.clone()),
    }
    rel.extra.insert(key.into(), json!(all));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_round_trips_through_the_record() {
        let mut rel: Release = serde_json::from_value(json!({"name": "r", "version": 1})).unwrap();
        journal(&mut rel, "applied x");
        journal(&mut rel, "applied y");
        let text = crate::release::codec::encode(&rel).unwrap();
        let back = crate::release::codec::decode(&text).unwrap();
        let lines = journal_lines(&back);
        assert_eq!(lines.len(), 2);
        assert!(lines[1].ends_with("applied y"));
    }
}
