//! All terminal output goes through [`Printer`], so commands can be tested against a buffer and
//! colour follows NO_COLOR / CLICOLOR / the terminal in one place (anstream).

use std::io::{self, Write};

pub struct Printer {
    out: Box<dyn Write>,
    err: Box<dyn Write>,
}

impl Printer {
    /// Standard output and error, colour stripped when not wanted.
    pub fn stdout() -> Printer {
        Printer {
            out: Box::new(anstream::stdout()),
            err: Box::new(anstream::stderr()),
        }
    }

    /// Capture into buffers (tests).
    pub fn buffers(out: Box<dyn Write>, err: Box<dyn Write>) -> Printer {
        Printer { out, err }
    }

    /// Write program output (stdout).
    pub fn out(&mut self, text: &str) -> io::Result<()> {
        self.out.write_all(text.as_bytes())?;
        self.out.flush()
    }

    /// Write a diagnostic line (stderr).
    pub fn note(&mut self, text: &str) {
        let _ = writeln!(self.err, "{text}");
    }

    /// Write an error line (stderr), as `Error: …` like helm and kubectl.
    pub fn error(&mut self, text: &str) {
        let _ = writeln!(self.err, "Error: {text}");
    }
}

/// True when the error chain holds a broken pipe (the reader went away): not worth reporting.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}
