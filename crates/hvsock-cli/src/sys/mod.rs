//! The platform under the CLI: the few calls std does not wrap.
//!
//! Both platforms have [`hung_up`] (has the peer of a stream gone?),
//! [`process_cpu_time`], and for the agent's clients [`stderr_window`], [`interrupted`]
//! (SIGINT/SIGTERM/SIGHUP; Ctrl-C, Ctrl-Break, console closed) and
//! [`BROKEN_PIPE_EXIT`]. Unix also has the pipe and `splice(2)` calls of the relay's
//! zero-copy path (`relay::splice`), which Windows has no counterpart for: its relay
//! copies through a buffer.
//!
//! `unix.rs` goes through rustix (its one `unsafe` block clears systemd's `LISTEN_*`
//! variables); `windows.rs` holds the rest of the CLI's `unsafe` code, each block with
//! a `// SAFETY:` comment.

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub(crate) use unix::*;

#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub(crate) use windows::*;
