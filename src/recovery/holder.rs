//! Who holds a release's lock, and whether that holder still lives.
//!
//! Helm's lock is a `pending-*` release record and says nothing of who wrote it, so a crashed run
//! and a running one look the same (helm#4558). chartup records its holder — user, host, boot,
//! pid, the process's start time, its version — in the pending record and in a Lease it renews
//! while the run lives (a heartbeat, as a Kubernetes Lease). Liveness is then decided, in the
//! spirit of client-go's leader election but for a CLI:
//! - same host and boot: the pid must exist *and* have the recorded start time (`/proc/<pid>/stat`
//!   field 22), which rules out pid reuse;
//! - another host: the heartbeat must be younger than the lease duration. Timestamps written by
//!   another host are compared with our clock here (client-go measures on its own clock instead,
//!   by watching the record for a full lease duration); the lease is long compared with the
//!   renewal interval so that ordinary skew does not matter, and `--force` overrides.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How often the run renews its heartbeat.
pub const RENEW_EVERY: Duration = Duration::from_secs(5);
/// After how long without a heartbeat a holder on another host counts as dead.
pub const LEASE_DURATION: Duration = Duration::from_secs(30);

/// The holder of a release's lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Holder {
    pub user: String,
    pub host: String,
    /// `/proc/sys/kernel/random/boot_id`: a pid means nothing across a reboot.
    #[serde(default)]
    pub boot_id: String,
    pub pid: u32,
    /// Clock ticks after boot at which the process started (`/proc/<pid>/stat` field 22).
    #[serde(default)]
    pub start_ticks: Option<u64>,
    pub version: String,
    /// `apply`, `rollback`, `recover`.
    pub operation: String,
    pub acquired: jiff::Timestamp,
    pub heartbeat: jiff::Timestamp,
}

impl Holder {
    /// This process, about to run `operation`.
    pub fn me(operation: &str, now: jiff::Timestamp) -> Holder {
        let pid = std::process::id();
        Holder {
            user: std::env::var("USER")
                .or_else(|_| std::env::var("LOGNAME"))
                .unwrap_or_else(|_| uid_name()),
            host: hostname(),
            boot_id: boot_id(),
            pid,
            start_ticks: proc_start_ticks(pid),
            version: env!("CARGO_PKG_VERSION").to_string(),
            operation: operation.into(),
            acquired: now,
            heartbeat: now,
        }
    }

    /// `root@vm (pid 4242, chartup 0.3.0)`.
    pub fn who(&self) -> String {
        format!(
            "{}@{} (pid {}, chartup {})",
            self.user, self.host, self.pid, self.version
        )
    }

    /// The Lease's holderIdentity: host, pid and start time identify the process.
    pub fn identity(&self) -> String {
        format!(
            "chartup/{}/{}/{}",
            self.host,
            self.pid,
            self.start_ticks.map(|t| t.to_string()).unwrap_or_default()
        )
    }
}

/// Where we are, for comparing with a holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Here {
    pub host: String,
    pub boot_id: String,
}

impl Here {
    pub fn now() -> Here {
        Here {
            host: hostname(),
            boot_id: boot_id(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Liveness {
    Alive(String),
    Dead(String),
}

impl Liveness {
    pub fn is_alive(&self) -> bool {
        matches!(self, Liveness::Alive(_))
    }
    pub fn why(&self) -> &str {
        match self {
            Liveness::Alive(w) | Liveness::Dead(w) => w,
        }
    }
}

/// Decide whether `h` lives. `start_of(pid)` reads a local process's start time (None: no such
/// process); `now` is our clock.
pub fn liveness(h: &Holder, here: &Here, start_of: impl Fn(u32) -> Option<u64>, now: jiff::Timestamp) -> Liveness {
    let same_boot = !h.boot_id.is_empty() && h.boot_id == here.boot_id;
    if h.host == here.host && same_boot {
        return match (start_of(h.pid), h.start_ticks) {
            (None, _) => Liveness::Dead(format!("process {} no longer exists on {}", h.pid, h.host)),
            (Some(t), Some(want)) if t != want => Liveness::Dead(format!(
                "process {} on {} is another program now (started later than the holder)",
                h.pid, h.host
            )),
            _ => Liveness::Alive(format!("process {} is still running on {}", h.pid, h.host)),
        };
    }
    if h.host == here.host && !h.boot_id.is_empty() && !here.boot_id.is_empty() {
        return Liveness::Dead(format!("{} has rebooted since the holder started", h.host));
    }
    let age = now.duration_since(h.heartbeat);
    let age = Duration::try_from(age).unwrap_or_default();
    if age <= LEASE_DURATION {
        Liveness::Alive(format!("its last heartbeat was {}s ago (another host)", age.as_secs()))
    } else {
        Liveness::Dead(format!(
            "no heartbeat for {}s (more than the {}s lease)",
            age.as_secs(),
            LEASE_DURATION.as_secs()
        ))
    }
}

/// Field 22 (`starttime`) of `/proc/<pid>/stat` text. The command name (field 2) is in
/// parentheses and may itself hold spaces or `)`, so fields are counted after the last `)`.
pub fn parse_start_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    // After `)` comes field 3 (state): field 22 is the 20th.
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// A local process's start time, None when there is no such process.
pub fn proc_start_ticks(pid: u32) -> Option<u64> {
    parse_start_ticks(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

fn boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|b| b.trim().to_string())
        .unwrap_or_default()
}

fn uid_name() -> String {
    // No USER (cron, CI containers): the numeric uid still tells holders apart.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|l| l.split_whitespace().next().map(|u| format!("uid {u}")))
        })
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> jiff::Timestamp {
        s.parse().unwrap()
    }

    fn holder() -> Holder {
        Holder {
            user: "ana".into(),
            host: "vm".into(),
            boot_id: "boot-1".into(),
            pid: 4242,
            start_ticks: Some(1000),
            version: "0.1.0".into(),
            operation: "apply".into(),
            acquired: ts("2026-12-06T05:00:00Z"),
            heartbeat: ts("2026-12-06T05:01:00Z"),
        }
    }

    #[test]
    fn stat_lines_with_awkward_command_names_parse() {
        // proc_pid_stat(5): pid (comm) state ppid … field 22 starttime.
        let fields: Vec<String> = (3..=52)
            .map(|i| if i == 22 { "987654".into() } else { i.to_string() })
            .collect();
        let line = format!("4242 (we ird) name)) {}", fields.join(" "));
        assert_eq!(parse_start_ticks(&line), Some(987654));
        assert_eq!(parse_start_ticks("garbage"), None);
        // And this very process: alive, with a start time.
        assert!(proc_start_ticks(std::process::id()).is_some());
    }

    #[test]
    fn same_host_needs_the_pid_with_its_start_time() {
        let here = Here {
            host: "vm".into(),
            boot_id: "boot-1".into(),
        };
        let now = ts("2026-12-06T06:00:00Z"); // heartbeat long gone: irrelevant on the same host
        assert!(liveness(&holder(), &here, |_| Some(1000), now).is_alive());
        assert!(!liveness(&holder(), &here, |_| None, now).is_alive());
        let reused = liveness(&holder(), &here, |_| Some(2000), now);
        assert!(
            !reused.is_alive() && reused.why().contains("another program"),
            "{reused:?}"
        );
        let rebooted = Here {
            host: "vm".into(),
            boot_id: "boot-2".into(),
        };
        assert!(!liveness(&holder(), &rebooted, |_| Some(1000), now).is_alive());
    }

    #[test]
    fn another_host_needs_a_fresh_heartbeat() {
        let here = Here {
            host: "ci-runner".into(),
            boot_id: "other".into(),
        };
        let fresh = liveness(&holder(), &here, |_| None, ts("2026-12-06T05:01:20Z"));
        assert!(fresh.is_alive(), "{fresh:?}");
        let stale = liveness(&holder(), &here, |_| Some(1000), ts("2026-12-06T05:02:00Z"));
        assert!(
            !stale.is_alive() && stale.why().contains("no heartbeat for 60s"),
            "{stale:?}"
        );
    }

    #[test]
    fn this_process_is_alive_by_its_own_record() {
        let me = Holder::me("apply", jiff::Timestamp::now());
        assert!(liveness(&me, &Here::now(), proc_start_ticks, jiff::Timestamp::now()).is_alive());
        let round: Holder = serde_json::from_str(&serde_json::to_string(&me).unwrap()).unwrap();
        assert_eq!(round, me);
    }
}
