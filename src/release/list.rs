//! `chartup list`: helm's `list` selection over release records (`pkg/action/list.go`), kept
//! pure so it is tested without a cluster: the status mask (default deployed + failed), the name
//! regex, then only the newest remaining revision per release name, sorted by name (or date),
//! offset and limit. Rows print as helm prints them (`UPDATED` is Go's `time.Time.String()`).

use serde::Serialize;

use super::{Release, Status};

/// `--all`, `--deployed`, `--failed`, … as helm's `SetStateMask`.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub all: bool,
    pub deployed: bool,
    pub failed: bool,
    pub pending: bool,
    pub superseded: bool,
    pub uninstalled: bool,
    pub uninstalling: bool,
    /// `-f/--filter`: a regular expression the release name must match.
    pub filter: Option<String>,
    /// `-d/--date`: by last deployment instead of by name.
    pub by_date: bool,
    /// `-r/--reverse`
    pub reverse: bool,
    /// `-m/--max` (0: no limit) and `--offset`.
    pub max: usize,
    pub offset: usize,
}

impl ListFilter {
    fn accepts(&self, s: Status) -> bool {
        if self.all {
            return true;
        }
        let any =
            self.deployed || self.failed || self.pending || self.superseded || self.uninstalled || self.uninstalling;
        if !any {
            return matches!(s, Status::Deployed | Status::Failed);
        }
        match s {
            Status::Deployed => self.deployed,
            Status::Failed => self.failed,
            Status::Superseded => self.superseded,
            Status::Uninstalled => self.uninstalled,
            Status::Uninstalling => self.uninstalling,
            Status::PendingInstall | Status::PendingUpgrade | Status::PendingRollback => self.pending,
            _ => false,
        }
    }
}

/// The releases `helm list` shows, in its order.
pub fn select(records: Vec<Release>, f: &ListFilter) -> Result<Vec<Release>, String> {
    let re = match f.filter.as_deref().filter(|s| !s.is_empty()) {
        Some(r) => Some(regex::Regex::new(r).map_err(|e| format!("--filter {r}: {e}"))?),
        None => None,
    };
    let kept: Vec<Release> = records
        .into_iter()
        .filter(|r| f.accepts(r.status()))
        .filter(|r| re.as_ref().is_none_or(|re| re.is_match(&r.name)))
        .collect();
    // helm keeps the newest revision per *name* (not per namespace) — so do we.
    let mut newest: std::collections::HashMap<&str, u32> = std::collections::HashMap::new();
    for r in &kept {
        let e = newest.entry(r.name.as_str()).or_insert(r.version);
        *e = (*e).max(r.version);
    }
    let newest: std::collections::HashMap<String, u32> = newest.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    let mut out: Vec<Release> = kept
        .into_iter()
        .filter(|r| newest.get(&r.name) == Some(&r.version))
        .collect();
    let date = |r: &Release| r.info.last_deployed.map(|t| t.as_second()).unwrap_or(0);
    match (f.by_date, f.reverse) {
        (true, false) => out.sort_by_key(date),
        (true, true) => {
            out.sort_by_key(date);
            out.reverse()
        }
        (false, true) => {
            out.sort_by(|a, b| a.name.cmp(&b.name));
            out.reverse()
        }
        (false, false) => out.sort_by(|a, b| a.name.cmp(&b.name)),
    }
    if f.offset >= out.len() {
        return Ok(Vec::new());
    }
    let end = if f.max > 0 {
        (f.offset + f.max).min(out.len())
    } else {
        out.len()
    };
    Ok(out[f.offset..end].to_vec())
}

/// Go's `time.Time.String()` in the local zone: `2006-01-02 15:04:05.999999999 -0700 MST`.
pub fn go_time_string(t: jiff::Timestamp) -> String {
    let z = t.to_zoned(jiff::tz::TimeZone::system());
    let frac = match t.subsec_nanosecond() {
        0 => String::new(),
        n => format!(".{}", format!("{n:09}").trim_end_matches('0')),
    };
    let abbr = z.strftime("%Z").to_string();
    format!("{}{frac} {} {abbr}", z.strftime("%Y-%m-%d %H:%M:%S"), z.strftime("%z"))
}

/// One row of `helm list -o json|yaml` (field names and the string revision are helm's).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ListRow {
    pub name: String,
    pub namespace: String,
    pub revision: String,
    pub updated: String,
    pub status: String,
    pub chart: String,
    pub app_version: String,
}

pub fn row(r: &Release) -> ListRow {
    ListRow {
        name: r.name.clone(),
        namespace: r.namespace.clone(),
        revision: r.version.to_string(),
        updated: r.info.last_deployed.map(go_time_string).unwrap_or_default(),
        status: r.status().to_string(),
        chart: r.chart_label(),
        app_version: r.chart.app_version().to_string(),
    }
}

/// helm's table (uitable): every cell padded to its column's width, columns joined by a tab.
pub fn table(rows: &[ListRow]) -> String {
    let mut cells: Vec<[String; 7]> = vec![[
        "NAME",
        "NAMESPACE",
        "REVISION",
        "UPDATED",
        "STATUS",
        "CHART",
        "APP VERSION",
    ]
    .map(str::to_string)];
    for r in rows {
        cells.push([
            r.name.clone(),
            r.namespace.clone(),
            r.revision.clone(),
            r.updated.clone(),
            r.status.clone(),
            r.chart.clone(),
            r.app_version.clone(),
        ]);
    }
    let widths: Vec<usize> = (0..7)
        .map(|c| cells.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in &cells {
        let line: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(i, s)| format!("{s:<w$}", w = widths[i]))
            .collect();
        out.push_str(&line.join("\t"));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::release::{ChartRecord, Info};

    fn rel(name: &str, ns: &str, version: u32, status: Status, at: i64) -> Release {
        let mut chart = ChartRecord::default();
        chart.metadata.insert("name".into(), "db".into());
        chart.metadata.insert("version".into(), "1.0.0".into());
        Release {
            name: name.into(),
            info: Info {
                status,
                last_deployed: Some(jiff::Timestamp::from_second(at).unwrap()),
                ..Default::default()
            },
            chart,
            config: serde_json::Value::Null,
            manifest: String::new(),
            hooks: vec![],
            version,
            namespace: ns.into(),
            apply_method: String::new(),
            extra: Default::default(),
            labels: Default::default(),
        }
    }

    fn names(v: &[Release]) -> Vec<String> {
        v.iter().map(|r| format!("{}.v{}", r.name, r.version)).collect()
    }

    // Expected behaviour from helm's pkg/action/list.go (mask first, newest per name, sort).
    #[test]
    fn default_mask_newest_per_name_sorted() {
        let recs = vec![
            rel("b", "x", 1, Status::Superseded, 10),
            rel("b", "x", 2, Status::Deployed, 20),
            rel("a", "x", 1, Status::Failed, 30),
            rel("c", "x", 1, Status::Uninstalled, 5),
            rel("d", "x", 1, Status::Deployed, 1),
            rel("d", "x", 2, Status::PendingUpgrade, 40),
        ];
        let f = ListFilter::default();
        assert_eq!(names(&select(recs.clone(), &f).unwrap()), ["a.v1", "b.v2", "d.v1"]);
        let all = ListFilter {
            all: true,
            ..Default::default()
        };
        assert_eq!(
            names(&select(recs.clone(), &all).unwrap()),
            ["a.v1", "b.v2", "c.v1", "d.v2"]
        );
        let pend = ListFilter {
            pending: true,
            ..Default::default()
        };
        assert_eq!(names(&select(recs.clone(), &pend).unwrap()), ["d.v2"]);
        let by_date = ListFilter {
            by_date: true,
            ..Default::default()
        };
        assert_eq!(
            names(&select(recs.clone(), &by_date).unwrap()),
            ["d.v1", "b.v2", "a.v1"]
        );
        let rev = ListFilter {
            reverse: true,
            max: 2,
            ..Default::default()
        };
        assert_eq!(names(&select(recs.clone(), &rev).unwrap()), ["d.v1", "b.v2"]);
        let re = ListFilter {
            filter: Some("^[ab]$".into()),
            offset: 1,
            ..Default::default()
        };
        assert_eq!(names(&select(recs.clone(), &re).unwrap()), ["b.v2"]);
        assert!(select(
            recs,
            &ListFilter {
                filter: Some("(".into()),
                ..Default::default()
            }
        )
        .is_err());
    }

    #[test]
    fn go_time_and_table() {
        let t = jiff::Timestamp::new(1796535374, 108414181).unwrap();
        // TZ of the test process is the machine's; compare the zone-free part
        let s = go_time_string(t);
        assert!(s.contains(".108414181 "), "{s}");
        let t0 = jiff::Timestamp::new(1796535374, 100_000_000).unwrap();
        assert!(go_time_string(t0).contains(":14.1 "), "{}", go_time_string(t0));
        let rows = vec![row(&rel("cmrel", "hu-probe", 1, Status::Deployed, 0))];
        let tab = table(&rows);
        let first = tab.lines().next().unwrap();
        assert!(first.starts_with("NAME \tNAMESPACE\tREVISION\t"), "{first:?}");
        assert!(first.ends_with("\tdeployed\tdb-1.0.0\tAPP VERSION") || first.ends_with("\tAPP VERSION"));
    }
}
