//! CLI tests of `hvsock listen`, `hvsock connect` and `hvsock relay`, each in its own
//! temp config and runtime directories, between the host and a `--local` partition.
// Linux only: these run the Unix transports, `--exec`, the agent or the file registry.
#![cfg(unix)]

#[path = "../common/mod.rs"]
mod common;
use hvsock::{Context, HvAddr, HvListener, ServiceId, VmId};
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::process::{Child, ChildStdin, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex};
use std::thread;

/// Registered as `echo` in every test's registry.
const ECHO: ServiceId = ServiceId::from_vsock_port(5000);
use common::limited::{LIMIT, run, wait_limit, wait_output};

struct Env {
    base: common::HostEnv,
    /// The id of the `--local` partition `a`.
    a: VmId,
}

impl Env {
    /// A registry with `echo` (vsock port 5000) and a table with the local partition `a`,
    /// both made with the CLI.
    fn new() -> Env {
        let mut env = Env {
            base: common::HostEnv::in_tmp("hvc"),
            a: VmId::ZERO,
        };
        env.ok(&["service", "add", "echo", "--vsock-port", "5000"]);
        env.a = common::printed_id(&env.ok(&["vm", "add", "a", "--local"]));
        env
    }

    fn host(&self) -> Context {
        Context::host(self.dirs())
    }

    /// `hvsock ARGS` in the local partition `a`.
    fn in_a(&self, args: &[&str]) -> Command {
        let mut c = self.cmd(args);
        c.env("HVSOCK_PARTITION", "a");
        c
    }
}

impl Env {
    /// `hvsock relay -v FROM TO` on the host, once it listens; with its ready line.
    fn relaying(&self, from: &str, to: &str) -> (Bg, String) {
        Bg::start(
            self.cmd(&["relay", "-v", from, to]),
            None,
            "relay listening on",
        )
    }

    /// `hvsock listen ADDR EXTRA --exec sh -c SCRIPT` on the host, once it listens.
    fn listening(&self, addr: &str, extra: &[&str], script: &str) -> Bg {
        Bg::start(
            self.cmd(&listen_sh(addr, extra, script)),
            None,
            "listening on",
        )
        .0
    }
}

impl std::ops::Deref for Env {
    type Target = common::HostEnv;

    fn deref(&self) -> &common::HostEnv {
        &self.base
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A background `hvsock` (listen or relay): stderr collected line by line, stdout
/// collected, killed on drop.
struct Bg {
    child: Child,
    lines: Receiver<String>,
    log: Arc<Mutex<String>>,
    stdout: Option<thread::JoinHandle<Vec<u8>>>,
}

impl Bg {
    /// Spawns with stdin from `stdin` (None: /dev/null) and waits for a stderr line
    /// containing `ready` (the commands are run with -v).
    fn start(mut cmd: Command, stdin: Option<Vec<u8>>, ready: &str) -> (Bg, String) {
        let mut child = cmd
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(data) = stdin {
            let mut w = child.stdin.take().unwrap();
            thread::spawn(move || {
                let _ = w.write_all(&data);
            });
        }
        let mut so = child.stdout.take().unwrap();
        let stdout = thread::spawn(move || {
            let mut v = Vec::new();
            let _ = so.read_to_end(&mut v);
            v
        });
        let (log, lines) = common::collect_lines(child.stderr.take().unwrap());
        let mut bg = Bg {
            child,
            lines,
            log,
            stdout: Some(stdout),
        };
        let line = bg.wait_line(ready);
        (bg, line)
    }

    /// The next stderr line containing `needle`.
    fn wait_line(&mut self, needle: &str) -> String {
        common::wait_line(&self.lines, needle, LIMIT)
            .unwrap_or_else(|| panic!("no stderr line with {needle:?}; stderr:\n{}", self.log()))
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Waits for the process to end; its status and stdout.
    fn finish(mut self) -> (ExitStatus, Vec<u8>) {
        let st = wait_limit(&mut self.child);
        (st, self.stdout.take().unwrap().join().unwrap())
    }

    fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

impl Drop for Bg {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Deterministic pseudo-random bytes (xorshift).
fn pattern(seed: u64, len: usize) -> Vec<u8> {
    hvsock_testkit::data::xorshift_low_bytes(seed.wrapping_mul(0x9e3779b97f4a7c15) | 1, len)
}

/// `listen ADDR [EXTRA...] -v --exec sh -c SCRIPT`.
fn listen_sh<'a>(addr: &'a str, extra: &[&'a str], script: &'a str) -> Vec<&'a str> {
    let mut v = vec!["listen", addr];
    v.extend_from_slice(extra);
    v.extend_from_slice(&["-v", "--exec", "sh", "-c", script]);
    v
}

/// Asserts a failed run: exit 1, nothing on stdout, one `hvsock: ` line on stderr.
fn one_error_line(out: &Output) -> String {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(out.stdout.is_empty(), "stdout: {:?}", out.stdout);
    assert!(err.starts_with("hvsock: "), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    err
}

mod accept;
mod activation;
mod cli;
mod connect;
mod exec;
mod halfclose;
mod listen;
mod relay;
mod wait;
