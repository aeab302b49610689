//! Child processes in tests: bounded in time, output collected.

use std::collections::BTreeSet;
use std::fmt::Display;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc::Receiver;
use std::thread;
use std::time::{Duration, Instant};

/// Starts `cmd` with stdin, stdout and stderr piped.
pub fn spawn_piped(mut cmd: Command) -> Child {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Starts `cmd` with its stdin, stdout and stderr set to `io`, in that order.
pub fn spawn_with(mut cmd: Command, io: [Stdio; 3]) -> Child {
    let [stdin, stdout, stderr] = io;
    cmd.stdin(stdin)
        .stdout(stdout)
        .stderr(stderr)
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

/// Polls `f` every 10 ms until it holds; panics (`timed out waiting for WHAT`) once
/// `limit` has passed.
pub fn wait_for(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(10));
    }
}

/// The next line from `lines` that contains `needle`, waiting at most `limit` in all;
/// `None` when none came in time (or the sender is gone).
pub fn wait_line(lines: &Receiver<String>, needle: &str, limit: Duration) -> Option<String> {
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

/// One line read from `r` (with its newline, if any; empty at EOF).
pub fn read_line(r: impl Read) -> String {
    let mut line = String::new();
    BufReader::new(r).read_line(&mut line).unwrap();
    line
}

/// All that is left on the child's piped stderr, read to EOF (taken from the child).
pub fn read_stderr(child: &mut Child) -> String {
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    err
}

/// Asserts that `out` succeeded; the failure message is `CONTEXT: STDERR`.
#[track_caller]
pub fn assert_success(out: &Output, context: impl Display) {
    assert!(
        out.status.success(),
        "{context}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The libtest arguments that run only the `#[ignore]`d test `name` of the current
/// test binary, alone, its output shown: how a test re-runs its own binary as a child
/// process with a role.
pub fn ignored_test_args(name: &str) -> [&str; 5] {
    [
        "--exact",
        name,
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ]
}

/// Waits for each child (stdout and stderr piped), asserts it succeeded, and returns
/// the set of what they printed on stdout, trimmed.
pub fn stdout_lines_of_successes(children: Vec<Child>) -> BTreeSet<String> {
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

/// [`run`], [`wait_output`], [`wait_limit`] and [`wait_for`] with one safety net for
/// every process.
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

    /// [`super::wait_for`] within [`LIMIT`].
    pub fn wait_for(what: &str, f: impl FnMut() -> bool) {
        super::wait_for(what, LIMIT, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The process tests run `sh`, which Windows lacks (the Windows stage runs the
    // workspace's tests under wine).
    #[cfg(unix)]
    fn sh(script: &str) -> Command {
        let mut c = Command::new("sh");
        c.arg("-c").arg(script);
        c
    }

    #[test]
    #[cfg(unix)]
    fn run_feeds_stdin_and_collects_both_outputs() {
        let out = run(sh("cat; echo err >&2; exit 3"), b"in\n", limited::LIMIT);
        assert_eq!(out.status.code(), Some(3));
        assert_eq!(out.stdout, b"in\n");
        assert_eq!(out.stderr, b"err\n");
    }

    #[test]
    #[cfg(unix)]
    #[should_panic(expected = "did not end within")]
    fn wait_limit_kills_and_fails() {
        let mut child = sh("exec sleep 30").spawn().unwrap();
        wait_limit(&mut child, Duration::from_millis(200));
    }

    #[test]
    fn wait_line_finds_the_needle_or_gives_up() {
        let (tx, rx) = std::sync::mpsc::channel();
        tx.send("one".to_string()).unwrap();
        tx.send("two: ready".to_string()).unwrap();
        assert_eq!(
            wait_line(&rx, "ready", limited::LIMIT).as_deref(),
            Some("two: ready")
        );
        drop(tx);
        assert_eq!(wait_line(&rx, "ready", limited::LIMIT), None);
    }

    #[test]
    #[cfg(unix)]
    fn lines_stderr_and_success() {
        let mut child = spawn_piped(sh("echo oops >&2; echo first"));
        assert_eq!(read_line(child.stdout.take().unwrap()), "first\n");
        assert_eq!(read_stderr(&mut child), "oops\n");
        assert!(wait_limit(&mut child, limited::LIMIT).success());
        let out = sh("true").output().unwrap();
        assert_success(&out, "true");
        let failed = std::panic::catch_unwind(|| {
            assert_success(&sh("echo why >&2; false").output().unwrap(), "false")
        });
        let msg = failed.unwrap_err();
        let msg = msg.downcast_ref::<String>().unwrap();
        assert_eq!(msg, "false: why\n");
    }

    #[test]
    fn ignored_test_args_select_one_ignored_test() {
        assert_eq!(
            ignored_test_args("x"),
            [
                "--exact",
                "x",
                "--ignored",
                "--nocapture",
                "--test-threads=1"
            ]
        );
    }
}

/// Whether process `pid` has ended: it is gone, or it is a zombie. A zombie counts as
/// ended because it runs nothing any more and its reaping is not ours to wait for:
/// an orphan is reparented to the pid namespace's init, which in a container may be a
/// process that never reaps (CI runs in one).
pub fn ended(pid: i32) -> bool {
    match std::fs::read(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => {
            // The state is the field after the command name, which ends at the last ')'.
            let state = stat
                .iter()
                .rposition(|&b| b == b')')
                .and_then(|close| stat.get(close + 2).copied());
            matches!(state, Some(b'Z' | b'X') | None)
        }
    }
}

#[cfg(test)]
mod ended_tests {
    #[cfg(unix)]
    use super::ended;

    // `sleep`, zombies and /proc: Unix only.
    #[test]
    #[cfg(unix)]
    fn a_running_process_has_not_ended_and_a_reaped_or_zombie_one_has() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pid = child.id() as i32;
        assert!(!ended(pid));
        child.kill().unwrap();
        // Killed but not reaped yet: a zombie once the signal is delivered.
        let start = std::time::Instant::now();
        while !ended(pid) {
            assert!(
                start.elapsed().as_secs() < 10,
                "the killed child never ended"
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert!(
            std::path::Path::new(&format!("/proc/{pid}")).exists(),
            "a zombie until waited for"
        );
        child.wait().unwrap();
        assert!(ended(pid));
    }
}
