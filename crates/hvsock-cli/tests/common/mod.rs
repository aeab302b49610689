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
    pub tmp: tempfile::TempDir,
    /// The config dir (not created).
    pub cfg: std::path::PathBuf,
    /// The runtime dir (not created).
    pub run: std::path::PathBuf,
}

impl TempEnv {
    /// [`temp_dirs`] as a [`TempEnv`].
    pub fn in_tmp(prefix: &str) -> TempEnv {
        let (tmp, cfg, run) = temp_dirs(prefix);
        TempEnv { tmp, cfg, run }
    }
}

/// The temp dirs of a test that drives `hvsock` on the host, with the helpers every
/// such test needs (test files wrap it in their own `Env` and deref to it).
pub struct HostEnv(pub TempEnv);

impl std::ops::Deref for HostEnv {
    type Target = TempEnv;

    fn deref(&self) -> &TempEnv {
        &self.0
    }
}

impl HostEnv {
    /// [`TempEnv::in_tmp`] as a [`HostEnv`].
    pub fn in_tmp(prefix: &str) -> HostEnv {
        HostEnv(TempEnv::in_tmp(prefix))
    }

    /// The config and runtime dirs as the library's [`hvsock::paths::Dirs`].
    pub fn dirs(&self) -> hvsock::paths::Dirs {
        hvsock::paths::Dirs::new(&self.cfg, &self.run)
    }

    /// `name` in the temp dir.
    pub fn path(&self, name: &str) -> std::path::PathBuf {
        self.tmp.path().join(name)
    }

    /// `hvsock ARGS` on the host.
    pub fn cmd(&self, args: &[&str]) -> Command {
        hvsock(&self.cfg, &self.run, args)
    }

    /// Runs to completion, expects exit 0, returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = limited::run(self.cmd(args), b"");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
}

/// Collects `stderr` on a thread: every line appended to the log and sent on the
/// channel, as it comes.
pub fn collect_lines(
    stderr: std::process::ChildStderr,
) -> (
    std::sync::Arc<std::sync::Mutex<String>>,
    std::sync::mpsc::Receiver<String>,
) {
    use std::io::BufRead;
    let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let (tx, rx) = std::sync::mpsc::channel();
    let l = log.clone();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            l.lock().unwrap().push_str(&format!("{line}\n"));
            let _ = tx.send(line);
        }
    });
    (log, rx)
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
