//! The platform: every `unsafe` block of the crate is here, each with a `// SAFETY:`
//! comment.
//!
//! * `unix.rs`: PTYs, window sizes, raw terminal mode, the login shell, signals and the
//!   `/proc` scans of the agent (its server is Unix-only) and the client's terminal.
//! * `user.rs`: the password and group databases and the switch of a thread's or a
//!   child's credentials to a session user's (the agent's per-user sessions).
//! * `pam.rs`: libpam, loaded at run time, for the agent's password check.
//! * `windows.rs`: the client's console (raw mode with virtual-terminal input and
//!   output, window size, resizes, console input read as it was typed).
//! * `winfs.rs`: the handle-relative NT file calls the Windows copy code needs
//!   (`crate::fsat`'s Windows side).
//!
//! Both platforms have [`terminal_size`], [`raw_stdin`] (a [`RawMode`] guard) and
//! [`Resizes`], which the client's interactive sessions use.

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub use unix::*;

#[cfg(unix)]
pub mod user;

#[cfg(unix)]
pub mod pam;

#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub use windows::*;

#[cfg(windows)]
pub(crate) mod winfs;
