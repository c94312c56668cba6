//! Printing the executor's progress ([`ProgressPrinter`], a [`Reporter`]): JSON events (one per
//! line) for machines; for people, plain lines — and on a colour terminal, a live block at the
//! bottom with one line per component being rolled out, redrawn in place, above which whatever
//! happened (steps, pods replaced, warnings, diagnoses) scrolls as plain lines.
//!
//! Every line names its component, so events of several components at once (parallel rollouts)
//! stay readable. A component's counts are printed only when they change: the executor polls and
//! may report the same `3/3 updated 3 ready` several times. Our own renderer (about a hundred
//! lines: erase the block, print, redraw) instead of indicatif: nothing here needs bars, and
//! `Printer` keeps all output in one place.

use std::collections::HashMap;

use super::args::ProgressFormat;
use super::Printer;
use crate::executor::{Progress, Reporter};

pub struct ProgressPrinter<'p> {
    p: &'p mut Printer,
    format: ProgressFormat,
    /// Redraw a live block (a colour terminal) instead of printing every count.
    live: bool,
    /// The last counts printed per component (updated, desired, ready).
    last: HashMap<String, (i64, i64, i64)>,
    /// The live block: one line per component in progress, in the order they started.
    block: Vec<(String, String)>,
    /// How many lines of the block are on the screen.
    drawn: usize,
}

fn secs(ms: u128) -> String {
    format!("{:.1}s", ms as f64 / 1000.0)
}

/// `12s of 5m0s`: how much of the timeout is gone.
fn of_timeout(elapsed_ms: u128, timeout_ms: u128) -> String {
    let t = timeout_ms / 1000;
    let timeout = if t >= 60 {
        format!("{}m{}s", t / 60, t % 60)
    } else {
        format!("{t}s")
    };
    format!("{}s of {timeout}", elapsed_ms / 1000)
}

/// A heartbeat as people read it: `waiting 12s of 5m0s: <what>: pod db-1 <reason>: <message>`.
pub fn waiting_line(ev: &Progress) -> Option<String> {
    let Progress::Waiting {
        what,
        pod,
        reason,
        message,
        elapsed_ms,
        timeout_ms,
        ..
    } = ev
    else {
        return None;
    };
    let on = match (pod.is_empty(), reason.is_empty()) {
        (true, _) => String::new(),
        (false, true) => format!(": pod {pod}"),
        (false, false) if message.is_empty() => format!(": pod {pod} {reason}"),
        (false, false) => format!(": pod {pod} {reason}: {message}"),
    };
    Some(format!("waiting {}: {what}{on}", of_timeout(*elapsed_ms, *timeout_ms)))
}

impl<'p> ProgressPrinter<'p> {
    /// `live`: stdout is a terminal that shows colour (escapes reach it).
    pub fn new(p: &'p mut Printer, format: ProgressFormat, live: bool) -> ProgressPrinter<'p> {
        ProgressPrinter {
            p,
            format,
            live: live && format == ProgressFormat::Text,
            last: HashMap::new(),
            block: vec![],
            drawn: 0,
        }
    }

    /// For stdout: live when it is a terminal that shows colour.
    pub fn stdout(p: &'p mut Printer, format: ProgressFormat) -> ProgressPrinter<'p> {
        use std::io::IsTerminal as _;
        let live = std::io::stdout().is_terminal() && p.color();
        ProgressPrinter::new(p, format, live)
    }

    fn print(&mut self, text: &str) {
        let _ = self.p.out(text);
    }

    /// A component line that belongs in the live block (on a terminal) or is printed once.
    fn status(&mut self, component: &str, line: String) {
        if self.live {
            match self.block.iter_mut().find(|(c, _)| c == component) {
                Some((_, l)) => *l = line,
                None => self.block.push((component.to_string(), line)),
            }
        } else {
            self.print(&(line + "\n"));
        }
    }

    /// The lines an event prints for good (above the live block).
    fn lines(&mut self, ev: &Progress) -> Vec<String> {
        match ev {
            Progress::Step { step } => vec![format!("==> {step}")],
            Progress::Component {
                component,
                updated,
                desired,
                ready,
                elapsed_ms,
            } => {
                // The same counts again say nothing new.
                if self.last.insert(component.clone(), (*updated, *desired, *ready))
                    == Some((*updated, *desired, *ready))
                {
                    return vec![];
                }
                let line = format!(
                    "    {component:<14} {updated}/{desired} updated  {ready} ready  ({})",
                    secs(*elapsed_ms)
                );
                self.status(component, line);
                vec![]
            }
            Progress::PodReplaced {
                component,
                pod,
                elapsed_ms,
            } => vec![format!(
                "    {component:<14} pod {pod} replaced and Ready ({})",
                secs(*elapsed_ms)
            )],
            Progress::Warning { message } => vec![format!("warning: {message}")],
            Progress::Done { step, elapsed_ms } => {
                let mut out = vec![];
                // The component's last counts stay on the screen when its live line goes.
                if let Some(c) = step.strip_prefix("component ") {
                    if let Some(i) = self.block.iter().position(|(n, _)| n == c) {
                        out.push(self.block.remove(i).1);
                    }
                }
                out.push(format!("    done: {step} ({})", secs(*elapsed_ms)));
                out
            }
            Progress::Waiting { component, .. } => {
                let line = format!("    {component:<14} {}", waiting_line(ev).unwrap_or_default());
                // A request retried through an outage belongs to no component: a line of its own.
                if component.is_empty() {
                    return vec![line];
                }
                self.status(component, line);
                vec![]
            }
            Progress::Diagnosis {
                component,
                pod,
                events,
                logs,
                logs_note,
            } => {
                let mut out = vec![];
                if events.is_empty() {
                    out.push(format!("    {component:<14} pod {pod}: no events recorded for it"));
                } else {
                    out.push(format!("    {component:<14} pod {pod}: recent events"));
                    out.extend(events.iter().map(|e| format!("      {e}")));
                }
                if !logs.is_empty() {
                    out.push(format!("    {component:<14} pod {pod}: last log lines"));
                    out.extend(logs.iter().map(|l| format!("      {l}")));
                }
                if let Some(note) = logs_note {
                    out.push(format!("    {component:<14} pod {pod}: {note}"));
                }
                out
            }
        }
    }

    fn erase(&mut self) {
        if self.drawn > 0 {
            // Up to the block's first line, then clear to the end of the screen.
            let text = format!("\x1b[{}A\r\x1b[J", self.drawn);
            self.print(&text);
            self.drawn = 0;
        }
    }

    fn draw(&mut self) {
        let text: String = self.block.iter().map(|(_, l)| format!("{l}\n")).collect();
        if !text.is_empty() {
            self.print(&text);
        }
        self.drawn = self.block.len();
    }
}

impl Reporter for ProgressPrinter<'_> {
    fn report(&mut self, ev: Progress) {
        if self.format == ProgressFormat::Json {
            if let Progress::Component {
                component,
                updated,
                desired,
                ready,
                ..
            } = &ev
            {
                if self.last.insert(component.clone(), (*updated, *desired, *ready))
                    == Some((*updated, *desired, *ready))
                {
                    return;
                }
            }
            let line = serde_json::to_string(&ev).unwrap_or_default();
            self.print(&(line + "\n"));
            return;
        }
        if self.live {
            self.erase();
        }
        let lines = self.lines(&ev);
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        if !text.is_empty() {
            self.print(&text);
        }
        if self.live {
            self.draw();
        }
    }
}

impl Drop for ProgressPrinter<'_> {
    /// The block's last state stays on the screen (a run that failed shows where it stood).
    fn drop(&mut self) {
        if self.live {
            self.erase();
            self.draw();
            self.block.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn counts(component: &str, updated: i64, ready: i64) -> Progress {
        Progress::Component {
            component: component.into(),
            updated,
            desired: 3,
            ready,
            elapsed_ms: 1200,
        }
    }

    fn run(format: ProgressFormat, live: bool, events: Vec<Progress>) -> String {
        let out = Buf::default();
        let mut p = Printer::buffers(Box::new(out.clone()), Box::new(std::io::sink()));
        {
            let mut pp = ProgressPrinter::new(&mut p, format, live);
            for e in events {
                pp.report(e);
            }
        }
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        text
    }

    #[test]
    fn the_same_counts_are_printed_once_per_component() {
        // What an install of the stream store printed before (issue #18: duplicated lines).
        let text = run(
            ProgressFormat::Text,
            false,
            vec![
                counts("bookkeeper", 3, 3),
                counts("bookkeeper", 3, 3),
                counts("segmentstore", 3, 3),
                counts("bookkeeper", 3, 3),
            ],
        );
        assert_eq!(
            text,
            "    bookkeeper     3/3 updated  3 ready  (1.2s)\n    segmentstore   3/3 updated  3 ready  (1.2s)\n"
        );
        let json = run(
            ProgressFormat::Json,
            false,
            vec![counts("a", 1, 3), counts("a", 1, 3), counts("a", 2, 3)],
        );
        assert_eq!(json.lines().count(), 2, "{json}");
    }

    #[test]
    fn heartbeats_and_diagnoses_name_the_component_pod_and_reason() {
        let text = run(
            ProgressFormat::Text,
            false,
            vec![
                Progress::Waiting {
                    component: "db".into(),
                    what: "ns/StatefulSet.apps/db to roll out".into(),
                    pod: "db-2".into(),
                    reason: "ImagePullBackOff".into(),
                    message: "Back-off pulling image".into(),
                    elapsed_ms: 20_400,
                    timeout_ms: 300_000,
                },
                Progress::Diagnosis {
                    component: "db".into(),
                    pod: "db-2".into(),
                    events: vec!["Failed: pull failed ×3 (Warning)".into()],
                    logs: vec![],
                    logs_note: Some("container logs not available (node n1): refused".into()),
                },
            ],
        );
        assert_eq!(
            text,
            "    db             waiting 20s of 5m0s: ns/StatefulSet.apps/db to roll out: pod db-2 ImagePullBackOff: Back-off pulling image\n\
             \x20   db             pod db-2: recent events\n\
             \x20     Failed: pull failed ×3 (Warning)\n\
             \x20   db             pod db-2: container logs not available (node n1): refused\n"
        );
    }

    #[test]
    fn a_terminal_gets_one_live_line_per_component_redrawn_in_place() {
        let text = run(
            ProgressFormat::Text,
            true,
            vec![
                Progress::Step {
                    step: "component a".into(),
                },
                counts("a", 1, 3),
                counts("b", 1, 3),
                counts("a", 2, 3),
                Progress::Done {
                    step: "component a".into(),
                    elapsed_ms: 2000,
                },
            ],
        );
        let a1 = "    a              1/3 updated  3 ready  (1.2s)\n";
        let b1 = "    b              1/3 updated  3 ready  (1.2s)\n";
        let a2 = "    a              2/3 updated  3 ready  (1.2s)\n";
        let expected = [
            "==> component a\n".to_string(),
            a1.into(),
            format!("\x1b[1A\r\x1b[J{a1}{b1}"),
            format!("\x1b[2A\r\x1b[J{a2}{b1}"),
            // Done: a's last counts stay, then the done line, then the block (b) again.
            format!("\x1b[2A\r\x1b[J{a2}    done: component a (2.0s)\n{b1}"),
            // Dropped: the block's last state is left on the screen.
            format!("\x1b[1A\r\x1b[J{b1}"),
        ]
        .concat();
        assert_eq!(text, expected);
    }
}
