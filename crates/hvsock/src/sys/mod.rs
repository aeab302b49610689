//! The platform's system calls, behind one set of crate-internal functions and types.
//! Everything `unsafe` in this crate lives under `sys`; the rest of the crate is safe
//! code. `unix.rs` serves Linux (through rustix); `windows/` serves Windows (WinSock
//! through socket2 and windows-sys).

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub(crate) use unix::*;
#[cfg(unix)]
pub(crate) mod shared_mem;
// Public as `hvsock::activation::clear_listen_env`.
#[cfg(unix)]
pub use unix::clear_listen_env;

#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub(crate) use windows::shared_mem;
#[cfg(windows)]
pub(crate) use windows::*;
