//! CLI tests of the integration service: `hvsock agent` running as a child process in
//! the local partition `vm1` (HVSOCK_PARTITION=vm1), driven from the host with
//! `hvsock exec`, `shell`, `cp` and raw sockets; `hvsock demo`. Each test has its own
//! temp config and runtime directories; PTY sessions run inside a private tmux server.
// Linux only: these run the Unix transports, `--exec`, the agent or the file registry.
#![cfg(unix)]

#[path = "../common/mod.rs"]
mod common;
use hvsock::{Context, HvAddr, VmId};
use hvsock_agent::SERVICE_ID;
use hvsock_agent::proto::VERSION;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::Shutdown;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::limited::{LIMIT, run, wait_for, wait_limit, wait_output};
use common::{BIN, spawn_piped, spawn_with};
use hvsock_testkit::data::{sha256_hex, xorshift_words as pseudo_random};
use hvsock_testkit::fs::is_temp_file_name;
use hvsock_testkit::proc::{read_line, read_stderr};

struct Env {
    base: common::HostEnv,
    vm1: VmId,
    agent: Option<Agent>,
}

/// The `hvsock agent` child: stderr collected, stopped (SIGTERM, then SIGKILL) on drop.
struct Agent {
    child: Child,
    log: Arc<Mutex<String>>,
}

impl Drop for Agent {
    fn drop(&mut self) {
        // SIGTERM lets the agent kill the processes it started.
        let _ = rustix::process::kill_process(
            rustix::process::Pid::from_raw(self.child.id() as i32).unwrap(),
            rustix::process::Signal::TERM,
        );
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(3) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Env {
    /// The agent service registered (`agent --install-service`), the local partition
    /// `vm1`, and `hvsock agent -v` running in it with `extra` options.
    fn with_agent(extra: &[&str]) -> Env {
        let mut env = Env::bare();
        let out = env.ok(&["agent", "--install-service"]);
        assert!(out.contains("registered"), "{out}");
        env.start_agent(extra);
        env
    }

    /// Temp dirs and `vm1`, nothing else.
    fn bare() -> Env {
        let mut env = Env {
            base: common::HostEnv::in_tmp("hva"),
            vm1: VmId::ZERO,
            agent: None,
        };
        env.vm1 = common::printed_id(&env.ok(&["vm", "add", "vm1", "--local"]));
        // Key authentication, the agent's default: a throw-away key that the agent
        // (same config dir) accepts.
        hvsock_testkit::env::authorize_throwaway_key(BIN, &env.cfg, &env.run);
        env
    }

    fn start_agent(&mut self, extra: &[&str]) {
        let mut args = vec!["agent", "-v"];
        args.extend_from_slice(extra);
        self.start_agent_with(&args);
    }

    /// The agent with exactly `args` (`agent ...`, global options before it), in vm1;
    /// returns once it says it is serving.
    fn start_agent_with(&mut self, args: &[&str]) {
        let mut cmd = self.cmd(args);
        cmd.env("HVSOCK_PARTITION", "vm1")
            .current_dir(self.tmp.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let (log, rx) = common::collect_lines(child.stderr.take().unwrap());
        let agent = Agent { child, log };
        match rx.recv_timeout(LIMIT) {
            Ok(line) if line.contains("serving") => {}
            other => panic!("agent did not start: {other:?}; log: {}", agent.log()),
        }
        self.agent = Some(agent);
    }

    fn agent_log(&self) -> String {
        self.agent.as_ref().unwrap().log()
    }

    /// The agent is still running.
    fn agent_alive(&mut self) -> bool {
        let a = self.agent.as_mut().unwrap();
        a.child.try_wait().unwrap().is_none()
    }

    /// `hvsock ARGS` with `input` on stdin.
    fn run(&self, args: &[&str], input: &[u8]) -> Output {
        run(self.cmd(args), input)
    }
}

impl std::ops::Deref for Env {
    type Target = common::HostEnv;

    fn deref(&self) -> &common::HostEnv {
        &self.base
    }
}

impl Agent {
    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Asserts that `out`'s stderr contains `needle` (the message shows all of it).
#[track_caller]
fn assert_stderr_has(out: &Output, needle: &str) {
    assert!(stderr(out).contains(needle), "{}", stderr(out));
}

fn code(out: &Output) -> i32 {
    out.status.code().expect("exited, not killed")
}

fn sha256_file(p: &Path) -> String {
    sha256_hex(&std::fs::read(p).unwrap())
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

/// Entries of `dir` that are copy temp files.
fn temp_files(dir: &Path) -> Vec<String> {
    let mut names = hvsock_testkit::fs::dir_entries(dir);
    names.retain(|n| is_temp_file_name(n));
    names
}

mod agent;
mod audit;
mod auth;
mod cp;
mod demo;
mod exec;
mod frames;
mod hostile;
mod pty;
mod wait;
