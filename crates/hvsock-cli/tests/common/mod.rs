//! Running `hvsock` child processes in tests: bounded in time, output collected.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// A fresh temp dir under /tmp (socket paths inside it must fit 107 bytes) and the
/// config and runtime dirs `c` and `r` in it (not created: hvsock makes them).
pub fn temp_dirs(prefix: &str) -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let tmp = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in("/tmp")
        .unwrap();
    let (cfg, run) = (tmp.path().join("c"), tmp.path().join("r"));
    (tmp, cfg, run)
}

/// A temp dir with the config and runtime dirs of the tests that need nothing else.
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

/// Waits for each child (stdout and stderr piped), asserts it succeeded, and returns
/// the set of what they printed on stdout, trimmed.
pub fn stdout_lines_of_successes(children: Vec<Child>) -> std::collections::BTreeSet<String> {
    children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "{err}");
            String::from_utf8(out.stdout).unwrap().trim().to_string()
        })
        .collect()
}

/// The `hvsock` binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_hvsock");

/// `hvsock ARGS` in the config dir `cfg` and the runtime dir `run`, on the host: none
/// of the caller's `HVSOCK_PARTITION`, `HVSOCK_GUEST` or `XDG_CONFIG_HOME`.
pub fn hvsock(cfg: impl AsRef<Path>, run: impl AsRef<Path>, args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args)
        .env("HVSOCK_CONFIG_DIR", cfg.as_ref())
        .env("HVSOCK_RUNTIME_DIR", run.as_ref())
        .env_remove("HVSOCK_PARTITION")
        .env_remove("HVSOCK_GUEST")
        .env_remove("XDG_CONFIG_HOME");
    c
}

/// Starts `cmd` with stdin, stdout and stderr piped.
pub fn spawn_piped(mut cmd: Command) -> Child {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Runs `cmd` with `input` on stdin (then EOF); kills it if it outlives `limit`.
pub fn run(cmd: Command, input: &[u8], limit: Duration) -> Output {
    let mut child = spawn_piped(cmd);
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = wait_output(child, limit);
    writer.join().unwrap();
    out
}

/// Waits for a child whose stdout and stderr are piped, killing it after `limit`.
pub fn wait_output(mut child: Child, limit: Duration) -> Output {
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let o = thread::spawn(move || {
        let mut v = Vec::new();
        so.read_to_end(&mut v).unwrap();
        v
    });
    let e = thread::spawn(move || {
        let mut v = Vec::new();
        se.read_to_end(&mut v).unwrap();
        v
    });
    let status = wait_limit(&mut child, limit);
    Output {
        status,
        stdout: o.join().unwrap(),
        stderr: e.join().unwrap(),
    }
}

/// The next line from `lines` that contains `needle`, waiting at most `limit` in all;
/// `None` when none came in time (or the sender is gone).
pub fn wait_line(
    lines: &std::sync::mpsc::Receiver<String>,
    needle: &str,
    limit: Duration,
) -> Option<String> {
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(l) if l.contains(needle) => return Some(l),
            Ok(_) => {}
            Err(_) => return None,
        }
    }
}

/// [`run`], [`wait_output`] and [`wait_limit`] with one safety net for every process.
pub mod limited {
    use std::process::{Child, Command, ExitStatus, Output};
    use std::time::Duration;

    /// A safety net for a process that should end: far above any expected run time.
    pub const LIMIT: Duration = Duration::from_secs(30);

    /// [`super::run`] within [`LIMIT`].
    pub fn run(cmd: Command, input: &[u8]) -> Output {
        super::run(cmd, input, LIMIT)
    }

    /// [`super::wait_output`] within [`LIMIT`].
    pub fn wait_output(child: Child) -> Output {
        super::wait_output(child, LIMIT)
    }

    /// [`super::wait_limit`] within [`LIMIT`].
    pub fn wait_limit(child: &mut Child) -> ExitStatus {
        super::wait_limit(child, LIMIT)
    }
}

/// Waits for a child, killing it (and failing the test) after `limit`.
pub fn wait_limit(child: &mut Child, limit: Duration) -> ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("process {} did not end within {limit:?}", child.id());
        }
        thread::sleep(Duration::from_millis(10));
    }
}
