//! Temp config and runtime dirs, and an `hvsock` command that uses them.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A fresh temp dir under /tmp (socket paths inside it must fit 107 bytes) and the
/// config and runtime dirs `c` and `r` in it (not created: hvsock makes them).
pub fn temp_dirs(prefix: &str) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in("/tmp")
        .unwrap();
    let (cfg, run) = (tmp.path().join("c"), tmp.path().join("r"));
    (tmp, cfg, run)
}

/// `BIN ARGS` (an `hvsock` binary) in the config dir `cfg` and the runtime dir `run`,
/// on the host: none of the caller's `HVSOCK_PARTITION`, `HVSOCK_GUEST` or
/// `XDG_CONFIG_HOME`.
pub fn hvsock_command(
    bin: impl AsRef<Path>,
    cfg: impl AsRef<Path>,
    run: impl AsRef<Path>,
    args: &[&str],
) -> Command {
    let mut c = Command::new(bin.as_ref());
    c.args(args)
        .env("HVSOCK_CONFIG_DIR", cfg.as_ref())
        .env("HVSOCK_RUNTIME_DIR", run.as_ref())
        .env_remove("HVSOCK_PARTITION")
        .env_remove("HVSOCK_GUEST")
        .env_remove("XDG_CONFIG_HOME");
    c
}
