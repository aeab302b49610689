//! What exists on Unix only, refused as such on Windows: a command, a subcommand or an
//! option that has no meaning there is an error naming it (exit status 2, like a usage
//! error), never silently accepted.

use clap::Args;
use std::fmt;

/// `what` (a command, subcommand or option, as the user writes it) exists on Unix only;
/// `why` says what it needs that Windows does not have.
#[derive(Debug)]
pub struct UnixOnly {
    /// As the user wrote it: `hvsock agent`, `--exec`, `unix:PATH`.
    pub what: String,
    /// What it needs that Windows has not.
    pub why: &'static str,
}

impl UnixOnly {
    /// `what` exists on Unix only, because `why`.
    pub fn new(what: impl Into<String>, why: &'static str) -> UnixOnly {
        UnixOnly {
            what: what.into(),
            why,
        }
    }
}

impl fmt::Display for UnixOnly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` exists on Linux only: {}", self.what, self.why)
    }
}

impl std::error::Error for UnixOnly {}

/// The exit status of a [`UnixOnly`] error: 2, as for other usage errors.
pub const EXIT_UNIX_ONLY: u8 = 2;

/// The arguments of a command that exists on Unix only: whatever follows it is taken,
/// so that the command itself is what the error names.
#[derive(Args)]
pub struct UnixOnlyArgs {
    /// Ignored: the command does not run on Windows.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    rest: Vec<String>,
}

/// Refuses `hvsock NAME` on Windows.
pub fn refuse(
    name: &str,
    why: &'static str,
) -> Result<std::process::ExitCode, Box<dyn std::error::Error>> {
    Err(UnixOnly::new(format!("hvsock {name}"), why).into())
}
