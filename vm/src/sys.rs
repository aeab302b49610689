//! The harness's one raw system-call hook: `PR_SET_PDEATHSIG` in a forked child.
//!
//! The only module of the harness (host side) with `unsafe` code.

use rustix::process::{Signal, getpid, getppid, set_parent_process_death_signal};
use std::os::unix::process::CommandExt;
use std::process::Command;

/// Makes `cmd`'s child get SIGKILL when the thread that forks it exits
/// (`PR_SET_PDEATHSIG`), and exit at once if this process is already gone.
pub(crate) fn die_with_parent(cmd: &mut Command) {
    let parent = getpid();
    // SAFETY: the closure runs in the forked child before exec and only makes
    // async-signal-safe calls (prctl, getppid, _exit); it allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            set_parent_process_death_signal(Some(Signal::KILL))?;
            // The parent may have died between fork and prctl.
            if getppid() != Some(parent) {
                libc::_exit(1);
            }
            Ok(())
        })
    };
}
