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

/// Key authentication for a test, as `hvsock demo` sets it up: `BIN key generate` in
/// the config dir `cfg` (the client's identity) and its public line as the only entry
/// of `cfg/authorized_keys` (what an agent using the same config dir accepts). Returns
/// the public line.
pub fn authorize_throwaway_key(
    bin: impl AsRef<Path>,
    cfg: impl AsRef<Path>,
    run: impl AsRef<Path>,
) -> String {
    let (bin, cfg, run) = (bin.as_ref(), cfg.as_ref(), run.as_ref());
    let out = hvsock_command(bin, cfg, run, &["key", "generate", "--force"])
        .output()
        .unwrap();
    assert!(out.status.success(), "key generate: {out:?}");
    let out = hvsock_command(bin, cfg, run, &["key", "show"])
        .output()
        .unwrap();
    assert!(out.status.success(), "key show: {out:?}");
    let line = String::from_utf8(out.stdout).unwrap();
    assert!(line.starts_with("hvsock-ed25519 "), "{line}");
    std::fs::write(cfg.join("authorized_keys"), &line).unwrap();
    line.trim_end().to_string()
}
