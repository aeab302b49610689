//! The platform's system calls, behind one set of crate-internal functions and types.
//! Everything `unsafe` in this crate lives under `sys`; the rest of the crate is safe
//! code. `unix.rs` serves Linux today; a `windows.rs` chosen by `cfg` is the seam for
//! another platform.

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub(crate) use unix::*;
