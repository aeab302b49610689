//! Running `hvsock` child processes in tests: the shared [`hvsock_testkit`] helpers,
//! bound to the `hvsock` binary of this crate.
#![allow(dead_code, unused_imports)]

use std::path::Path;
use std::process::Command;

pub use hvsock_testkit::env::temp_dirs;
pub use hvsock_testkit::proc::{
    limited, run, spawn_piped, spawn_with, stdout_lines_of_successes, wait_limit, wait_line,
    wait_output,
};

/// A temp dir with the config and runtime dirs of the tests that need nothing else
/// (local, so that test files can add methods to it).
pub struct TempEnv {
    /// Removed on drop.
    pub _tmp: tempfile::TempDir,
    /// The config dir (not created).
    pub cfg: std::path::PathBuf,
    /// The runtime dir (not created).
    pub run: std::path::PathBuf,
}

impl TempEnv {
    /// [`temp_dirs`] as a [`TempEnv`].
    pub fn in_tmp(prefix: &str) -> TempEnv {
        let (_tmp, cfg, run) = temp_dirs(prefix);
        TempEnv { _tmp, cfg, run }
    }
}

/// The VM id that `hvsock vm add` printed (all of its stdout, trimmed).
pub fn printed_id(stdout: &str) -> hvsock::VmId {
    stdout.trim().parse().unwrap()
}

/// The `hvsock` binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_hvsock");

/// `hvsock ARGS` in the config dir `cfg` and the runtime dir `run`, on the host: none
/// of the caller's `HVSOCK_PARTITION`, `HVSOCK_GUEST` or `XDG_CONFIG_HOME`.
pub fn hvsock(cfg: impl AsRef<Path>, run: impl AsRef<Path>, args: &[&str]) -> Command {
    hvsock_testkit::env::hvsock_command(BIN, cfg, run, args)
}
