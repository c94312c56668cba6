//! A pager for long text plans on a terminal, chosen the way git chooses one.
//!
//! A plan of a large chart is thousands of lines; on a terminal it belongs in a pager, and
//! anywhere else (a pipe, a file, CI, `-o json|markdown`) it must not be touched. The choice is a
//! pure function of the flags, the environment and whether stdout is a terminal ([`choose`]), so
//! it is unit-tested; the spawning is small: `sh -c CMD` fed the text, `LESS=FRX` when unset
//! (as git does: quit if one screen, keep colours, leave the text on screen).

use std::io::Write as _;
use std::process::{Command, Stdio};

/// What the pager choice depends on.
#[derive(Debug, Clone, Default)]
pub struct PagerEnv {
    /// `$CHARTUP_PAGER`.
    pub chartup_pager: Option<String>,
    /// `$PAGER`.
    pub pager: Option<String>,
    /// `--no-pager`.
    pub no_pager: bool,
    /// Standard output is a terminal.
    pub tty: bool,
    /// The output is the text plan (never JSON or Markdown: those are for machines and comments).
    pub text: bool,
}

impl PagerEnv {
    /// From the process environment and stdout.
    pub fn from_process(no_pager: bool, text: bool) -> PagerEnv {
        use std::io::IsTerminal as _;
        PagerEnv {
            chartup_pager: std::env::var("CHARTUP_PAGER").ok(),
            pager: std::env::var("PAGER").ok(),
            no_pager,
            tty: std::io::stdout().is_terminal(),
            text,
        }
    }
}

/// The default, as git's: less that quits on one screen, passes colours, does not clear.
pub const DEFAULT: &str = "less -FRX";

/// The pager command to run, if any: `$CHARTUP_PAGER`, else `$PAGER`, else `less -FRX`; none
/// with `--no-pager`, off a terminal, for JSON/Markdown, or when the command is empty or `cat`.
pub fn choose(env: &PagerEnv) -> Option<String> {
    if env.no_pager || !env.tty || !env.text {
        return None;
    }
    let cmd = env
        .chartup_pager
        .clone()
        .or_else(|| env.pager.clone())
        .unwrap_or_else(|| DEFAULT.to_string());
    let cmd = cmd.trim().to_string();
    (!cmd.is_empty() && cmd != "cat").then_some(cmd)
}

/// Run `cmd` with `text` on its stdin and wait for it. A pager the reader quits early (a
/// broken pipe) is not an error.
pub fn page(cmd: &str, text: &str) -> std::io::Result<()> {
    let mut c = Command::new("sh");
    c.arg("-c").arg(cmd).stdin(Stdio::piped());
    if std::env::var_os("LESS").is_none() {
        c.env("LESS", "FRX");
    }
    if std::env::var_os("LV").is_none() {
        c.env("LV", "-c");
    }
    let mut child = c.spawn()?;
    if let Some(mut stdin) = child.stdin.take() {
        match stdin.write_all(text.as_bytes()) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            other => other?,
        }
    }
    child.wait()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> PagerEnv {
        PagerEnv {
            tty: true,
            text: true,
            ..Default::default()
        }
    }

    #[test]
    fn pager_as_git_chooses_it() {
        assert_eq!(choose(&env()).as_deref(), Some("less -FRX"));
        let e = PagerEnv {
            pager: Some("more".into()),
            ..env()
        };
        assert_eq!(choose(&e).as_deref(), Some("more"));
        let e = PagerEnv {
            chartup_pager: Some("most -s".into()),
            pager: Some("more".into()),
            ..env()
        };
        assert_eq!(choose(&e).as_deref(), Some("most -s"), "CHARTUP_PAGER wins");
        for off in ["", "cat", "  "] {
            let e = PagerEnv {
                chartup_pager: Some(off.into()),
                pager: Some("more".into()),
                ..env()
            };
            assert_eq!(choose(&e), None, "{off:?} turns paging off");
        }
        assert_eq!(
            choose(&PagerEnv {
                no_pager: true,
                ..env()
            }),
            None
        );
        assert_eq!(choose(&PagerEnv { tty: false, ..env() }), None, "not a terminal");
        assert_eq!(choose(&PagerEnv { text: false, ..env() }), None, "-o json|markdown");
    }
}
