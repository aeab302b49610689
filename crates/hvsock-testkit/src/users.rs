//! Throw-away Unix users for tests of per-user sessions: created (with a home and a
//! supplementary group of their own, names `hvst-*` / `hvstg-*`) only when the test runs
//! as root, removed on drop even when the test fails. Never the machine's own accounts.

use std::process::Command;
use std::time::Duration;

/// Whether this process runs as root (uid 0), from `/proc/self/status` (no libc here).
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|e| e == "0"))
        })
        .unwrap_or(false)
}

/// Runs `cmd`, failing the test unless it succeeds.
pub fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{cmd:?}: {out:?}");
}

/// [`run`], up to 5 tries: other tests may hold the lock of /etc/passwd at the moment.
fn retry(cmd: &mut Command) {
    for _ in 0..4 {
        if cmd.output().is_ok_and(|o| o.status.success()) {
            return;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    run(cmd);
}

/// Ten random hex digits (for names that must not clash between tests).
pub fn random_suffix() -> String {
    let uuid = std::fs::read_to_string("/proc/sys/kernel/random/uuid").unwrap();
    uuid.trim().replace('-', "")[..10].to_string()
}

/// A user created for one test, with a supplementary group of its own; both removed
/// (with the home directory) on drop.
#[derive(Debug)]
pub struct TestUser {
    /// The login name (`hvst-<random>`).
    pub name: String,
    /// Its supplementary group (`hvstg-<random>`).
    pub group: String,
}

impl TestUser {
    /// A new user with a home directory and bash, or `None` (having said why on stderr,
    /// naming `test`) unless running as root.
    pub fn create(test: &str) -> Option<TestUser> {
        if !is_root() {
            eprintln!("{test}: skipped: creating a test user needs root");
            return None;
        }
        let suffix = random_suffix();
        let u = TestUser {
            name: format!("hvst-{suffix}"),
            group: format!("hvstg-{suffix}"),
        };
        retry(Command::new("groupadd").arg(&u.group));
        retry(
            Command::new("useradd")
                .args(["-m", "-s", "/bin/bash", "-G", &u.group])
                .arg(&u.name),
        );
        Some(u)
    }

    /// Sets the user's password (`chpasswd`).
    pub fn set_password(&self, password: &str) {
        use std::io::Write;
        for attempt in 0..5 {
            let mut child = Command::new("chpasswd")
                .stdin(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            let line = format!("{}:{password}\n", self.name);
            child
                .stdin
                .take()
                .unwrap()
                .write_all(line.as_bytes())
                .unwrap();
            if child.wait().unwrap().success() {
                return;
            }
            assert!(attempt < 4, "chpasswd failed for {}", self.name);
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

impl Drop for TestUser {
    fn drop(&mut self) {
        let _ = Command::new("userdel").arg("-r").arg(&self.name).output();
        let _ = Command::new("groupdel").arg(&self.group).output();
    }
}
