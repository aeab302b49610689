//! CLI tests of `hvsock listen`, `hvsock connect` and `hvsock relay`, each in its own
//! temp config and runtime directories, between the host and a `--local` partition.

mod common;
use hvsock::paths::Dirs;
use hvsock::{Context, HvAddr, HvListener, ServiceId, VmId};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};
use std::thread;

/// Registered as `echo` in every test's registry.
const ECHO: ServiceId = ServiceId::from_vsock_port(5000);
use common::limited::{LIMIT, run, wait_limit, wait_output};

struct Env {
    tmp: tempfile::TempDir,
    cfg: PathBuf,
    run: PathBuf,
    /// The id of the `--local` partition `a`.
    a: VmId,
}

impl Env {
    /// A registry with `echo` (vsock port 5000) and a table with the local partition `a`,
    /// both made with the CLI.
    fn new() -> Env {
        let (tmp, cfg, run) = common::temp_dirs("hvc");
        let mut env = Env {
            tmp,
            cfg,
            run,
            a: VmId::ZERO,
        };
        env.ok(&["service", "add", "echo", "--vsock-port", "5000"]);
        env.a = common::printed_id(&env.ok(&["vm", "add", "a", "--local"]));
        env
    }

    fn dirs(&self) -> Dirs {
        Dirs::new(&self.cfg, &self.run)
    }

    fn host(&self) -> Context {
        Context::host(self.dirs())
    }

    fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    /// `hvsock ARGS` on the host.
    fn cmd(&self, args: &[&str]) -> Command {
        common::hvsock(&self.cfg, &self.run, args)
    }

    /// `hvsock ARGS` in the local partition `a`.
    fn in_a(&self, args: &[&str]) -> Command {
        let mut c = self.cmd(args);
        c.env("HVSOCK_PARTITION", "a");
        c
    }

    /// Runs to completion, expects exit 0, returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = run(self.cmd(args), b"");
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        String::from_utf8(out.stdout).unwrap()
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
        let (tx, lines) = channel();
        let log = Arc::new(Mutex::new(String::new()));
        let (se, l) = (child.stderr.take().unwrap(), log.clone());
        thread::spawn(move || {
            for line in BufReader::new(se).lines() {
                let Ok(line) = line else { break };
                l.lock().unwrap().push_str(&format!("{line}\n"));
                let _ = tx.send(line);
            }
        });
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

#[test]
fn exec_cat_between_partition_and_host() {
    let env = Env::new();
    // Partition a -> host: the host's command sees a's id in HVSOCK_PEER.
    let listen = env.cmd(&listen_sh(
        "any:echo",
        &[],
        "echo \"peer=$HVSOCK_PEER\"; exec cat",
    ));
    let (mut bg, _) = Bg::start(listen, None, "listening on");
    let data = pattern(1, 300_000);
    let out = run(env.in_a(&["connect", "parent:echo"]), &data);
    assert!(out.status.success(), "{}", stderr(&out));
    let head = format!("peer={}\n", env.a);
    assert_eq!(&out.stdout[..head.len()], head.as_bytes());
    assert!(out.stdout[head.len()..] == data[..], "echo differs");
    assert!(bg.wait_line("connection from").contains("a ("));
    let (st, stdout) = bg.finish();
    assert!(st.success(), "listen exits with the command's status");
    assert!(stdout.is_empty(), "listen printed {stdout:?}");

    // Host -> partition a: the partition's command sees the host as PARENT.
    let listen = env.in_a(&[
        "listen",
        "parent:echo",
        "-v",
        "-e",
        "sh",
        "-c",
        "echo \"peer=$HVSOCK_PEER\"; exec cat",
    ]);
    let (bg, _) = Bg::start(listen, None, "listening on");
    let out = run(env.cmd(&["connect", "a:echo"]), b"down\n");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("peer={}\ndown\n", VmId::PARENT)
    );
    assert!(bg.finish().0.success());
}

#[test]
fn half_close_lets_the_peer_answer_after_eof() {
    let env = Env::new();
    let listen = env.cmd(&listen_sh("loopback:echo", &[], "cat; echo done"));
    let (bg, _) = Bg::start(listen, None, "listening on");
    let data = pattern(2, 1 << 20);
    let out = run(env.cmd(&["connect", "loopback:echo"]), &data);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut want = data.clone();
    want.extend_from_slice(b"done\n");
    assert!(out.stdout == want, "got {} bytes", out.stdout.len());
    // The exit status of the command is listen's.
    let listen = env.cmd(&listen_sh("loopback:echo", &[], "cat >/dev/null; exit 3"));
    drop(bg);
    let (bg, _) = Bg::start(listen, None, "listening on");
    assert!(
        run(env.cmd(&["connect", "loopback:echo"]), b"x")
            .status
            .success()
    );
    assert_eq!(bg.finish().0.code(), Some(3));
}

#[test]
fn stdio_listen_and_connect_exchange_both_ways() {
    let env = Env::new();
    // Both sides send and end their stdin: each gets the other's bytes, both exit 0.
    let listen = env.in_a(&["listen", "parent:echo", "-v"]);
    let (bg, _) = Bg::start(listen, Some(b"pong".to_vec()), "listening on");
    let out = run(env.cmd(&["connect", "a:echo"]), b"ping");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(out.stdout, b"pong");
    let (st, stdout) = bg.finish();
    assert!(st.success());
    assert_eq!(stdout, b"ping");

    // --keep-open without --exec: connections one after another; stdin (empty here)
    // half-closes each at once.
    let listen = env.cmd(&["listen", "loopback:echo", "-k", "-v"]);
    let (mut bg, _) = Bg::start(listen, None, "listening on");
    for i in 0..3 {
        let msg = format!("message {i}\n");
        let out = run(env.cmd(&["connect", "loopback:echo"]), msg.as_bytes());
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(out.stdout.is_empty());
        bg.wait_line("connection closed");
    }
    assert!(bg.is_running());
    let _ = bg.child.kill();
    let (_, stdout) = bg.finish();
    assert_eq!(
        String::from_utf8(stdout).unwrap(),
        "message 0\nmessage 1\nmessage 2\n"
    );
}

#[test]
fn connect_to_nothing_fails_at_once_with_one_line() {
    let env = Env::new();
    // A long timeout: refusal must not wait for it (the run is killed after LIMIT).
    let out = run(
        env.cmd(&["connect", "loopback:vsock:7777", "--timeout", "5m"]),
        b"",
    );
    let err = one_error_line(&out);
    assert!(err.contains("nothing listens"), "{err}");
    let out = run(
        env.in_a(&["connect", "parent:echo", "--timeout", "60s"]),
        b"",
    );
    let err = one_error_line(&out);
    assert!(err.contains("nothing listens"), "{err}");
    // Unknown names.
    let err = one_error_line(&run(env.cmd(&["connect", "nosuchvm:echo"]), b""));
    assert!(err.contains("unknown VM \"nosuchvm\""), "{err}");
    let err = one_error_line(&run(env.cmd(&["connect", "a:nosuch"]), b""));
    assert!(err.contains("unknown service \"nosuch\""), "{err}");
    // A wildcard is no target.
    let err = one_error_line(&run(env.cmd(&["connect", "any:echo"]), b""));
    assert!(err.contains("cannot connect to"), "{err}");
}

#[test]
fn unregistered_or_disabled_service_is_permission_denied() {
    let env = Env::new();
    let unreg = ServiceId::from_vsock_port(6000);
    let err = one_error_line(&run(env.cmd(&["connect", "a:vsock:6000"]), b""));
    assert!(err.contains("not registered"), "{err}");
    assert!(
        err.contains(&format!("hvsock service add NAME --id {unreg}")),
        "{err}"
    );
    let err = one_error_line(&run(env.cmd(&["listen", "any:vsock:6000"]), b""));
    assert!(err.contains("not registered"), "{err}");
    assert!(err.contains("hvsock service add"), "{err}");
    // Loopback needs no registration.
    let listen = env.cmd(&["listen", "loopback:vsock:6000", "-v", "-e", "cat"]);
    let (_bg, _) = Bg::start(listen, None, "listening on");
    let out = run(env.cmd(&["connect", "loopback:vsock:6000"]), b"ok");
    assert_eq!(out.stdout, b"ok", "{}", stderr(&out));
    // A disabled service.
    env.ok(&["service", "disable", "echo"]);
    let err = one_error_line(&run(env.cmd(&["listen", "children:echo"]), b""));
    assert!(
        err.contains("disabled") && err.contains("hvsock service enable"),
        "{err}"
    );
}

#[test]
fn keep_open_exec_serves_connections_concurrently() {
    let env = Env::new();
    let listen = env.cmd(&listen_sh(
        "any:echo",
        &["--keep-open"],
        "read line; echo \"$line from $HVSOCK_PEER\"",
    ));
    let (mut bg, _) = Bg::start(listen, None, "listening on");
    // A first connection stays open, its command waiting for a line ...
    let mut first = common::spawn_piped(env.cmd(&["connect", "loopback:echo"]));
    let mut first_in: ChildStdin = first.stdin.take().unwrap();
    bg.wait_line("connection from LOOPBACK");
    // ... while others are served, from the host and from the partition.
    let others: Vec<_> = (0..6)
        .map(|i| {
            let c = if i % 2 == 0 {
                env.cmd(&["connect", "loopback:echo"])
            } else {
                env.in_a(&["connect", "parent:echo"])
            };
            thread::spawn(move || (i, run(c, format!("hello {i}\n").as_bytes())))
        })
        .collect();
    for h in others {
        let (i, out) = h.join().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let from = if i % 2 == 0 {
            VmId::LOOPBACK.to_string()
        } else {
            env.a.to_string()
        };
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            format!("hello {i} from {from}\n")
        );
    }
    first_in.write_all(b"first\n").unwrap();
    drop(first_in);
    let out = wait_output(first);
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("first from {}\n", VmId::LOOPBACK)
    );
    assert!(bg.is_running(), "--keep-open keeps listening");
}

#[test]
fn exec_child_gets_the_socket_itself_and_nothing_else() {
    let env = Env::new();
    let listen = env.cmd(&listen_sh(
        "any:echo",
        &[],
        "for f in /proc/$$/fd/*; do echo \"${f##*/} $(readlink $f)\"; done",
    ));
    let (bg, _) = Bg::start(listen, None, "listening on");
    let out = run(env.in_a(&["connect", "parent:echo"]), b"");
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    let fds: Vec<(u32, String)> = text
        .lines()
        .map(|l| {
            let (n, target) = l.split_once(' ').unwrap();
            (n.parse().unwrap(), target.to_string())
        })
        .collect();
    let target = |n: u32| fds.iter().find(|(f, _)| *f == n).map(|(_, t)| t.clone());
    // stdin and stdout are one socket (no pipes in between).
    let sock = target(0).unwrap();
    assert!(sock.starts_with("socket:"), "{text}");
    assert_eq!(target(1), Some(sock.clone()), "{text}");
    // The listener's own descriptors (epoll set, sockets, lock files) stay behind.
    for (n, t) in &fds {
        if *n > 2 && t != &sock {
            assert!(
                !t.starts_with("socket:") && !t.contains("eventpoll") && !t.ends_with(".lock"),
                "fd {n} -> {t} leaked into the command:\n{text}"
            );
        }
    }
    assert!(bg.finish().0.success());
}

/// The lowest fd number free in process `pid`: with the open-file limit set to it, the
/// next open fails with EMFILE (the limit bounds fd numbers).
fn lowest_free_fd(pid: u32) -> u64 {
    let open: Vec<u64> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_str().unwrap().parse().unwrap())
        .collect();
    (0..).find(|n| !open.contains(n)).unwrap()
}

/// Sets the soft open-file limit of process `pid` (at most its hard limit).
fn set_nofile(pid: u32, n: u64) {
    use rustix::process::{Pid, Resource, Rlimit, prlimit};
    // The hard limit, from the "Max open files  SOFT HARD files" line of /proc/PID/limits
    // (prlimit(2) has no get-only form in rustix).
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let hard = limits
        .lines()
        .find_map(|l| l.strip_prefix("Max open files"))
        .and_then(|l| l.split_whitespace().nth(1))
        .expect("a Max open files line");
    let hard = (hard != "unlimited").then(|| hard.parse::<u64>().unwrap());
    let new = Rlimit {
        current: Some(hard.map_or(n, |h| n.min(h))),
        maximum: hard,
    };
    let pid = Pid::from_raw(pid as i32);
    prlimit(pid, Resource::Nofile, new).unwrap_or_else(|e| panic!("prlimit: {e}"));
}

#[test]
fn accept_errors_are_logged_and_retried_with_backoff() {
    let env = Env::new();
    let listen = env.cmd(&["listen", "loopback:echo", "-k", "-v", "-e", "cat"]);
    let (mut bg, _) = Bg::start(listen, None, "listening on");
    let pid = bg.child.id();
    // No free descriptor left: accepting fails with EMFILE.
    set_nofile(pid, lowest_free_fd(pid));
    let client = thread::spawn({
        let c = env.cmd(&["connect", "loopback:echo", "--timeout", "15s"]);
        move || run(c, b"after EMFILE")
    });
    let l1 = bg.wait_line("accept failed");
    assert!(l1.contains("Too many open files"), "{l1}");
    assert!(l1.contains("retrying in 10ms"), "{l1}");
    // The pause grows.
    bg.wait_line("retrying in 20ms");
    bg.wait_line("retrying in 40ms");
    // Descriptors again: the waiting connection is served.
    set_nofile(pid, 1024);
    let out = client.join().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(out.stdout, b"after EMFILE");
    assert!(bg.is_running());
}

#[test]
fn relay_accept_errors_are_logged_and_retried() {
    let env = Env::new();
    let listen = env.cmd(&["listen", "loopback:echo", "-k", "-v", "-e", "cat"]);
    let (_server, _) = Bg::start(listen, None, "listening on");
    let relay = env.cmd(&["relay", "-v", "tcp:127.0.0.1:0", "hvsock:loopback:echo"]);
    let (mut bg, line) = Bg::start(relay, None, "relay listening on");
    let port = relay_port(&line);
    let pid = bg.child.id();
    set_nofile(pid, lowest_free_fd(pid));
    let client = thread::spawn(move || {
        let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        exchange(s, b"through the relay", |s| {
            s.shutdown(Shutdown::Write).unwrap()
        })
    });
    let l = bg.wait_line("failed");
    assert!(l.contains("Too many open files"), "{l}");
    bg.wait_line("retrying in 20ms");
    set_nofile(pid, 1024);
    assert_eq!(client.join().unwrap(), b"through the relay");
    assert!(bg.is_running());
}

/// Serves `svc` on the host with the library: each connection's bytes (read to EOF) are
/// sent back followed by the peer's VM id as this side names it, then closed.
fn echo_server(l: HvListener) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        loop {
            let Ok((mut s, peer)) = l.accept() else {
                return;
            };
            thread::spawn(move || {
                let mut buf = Vec::new();
                s.read_to_end(&mut buf).unwrap();
                buf.extend_from_slice(format!("|{}", peer.vm_id).as_bytes());
                s.write_all(&buf).unwrap();
            });
        }
    })
}

/// Sends `data`, half-closes, reads all: the generic client of the relay tests.
fn exchange<S: Read + Write>(mut s: S, data: &[u8], shut: impl FnOnce(&S)) -> Vec<u8> {
    s.write_all(data).unwrap();
    shut(&s);
    let mut back = Vec::new();
    s.read_to_end(&mut back).unwrap();
    back
}

fn relay_port(line: &str) -> u16 {
    let tail = line.split("tcp:127.0.0.1:").nth(1).unwrap();
    tail.split_whitespace().next().unwrap().parse().unwrap()
}

#[test]
fn relay_tcp_to_hvsock_from_a_partition_concurrent_clients() {
    let env = Env::new();
    let _server = echo_server(env.host().bind(HvAddr::new(VmId::ZERO, ECHO)).unwrap());
    let relay = env.in_a(&["relay", "-v", "tcp:127.0.0.1:0", "hvsock:parent:echo"]);
    let (mut bg, line) = Bg::start(relay, None, "relay listening on");
    let port = relay_port(&line);
    let clients: Vec<_> = (0..8u64)
        .map(|i| {
            thread::spawn(move || {
                let data = pattern(10 + i, (i as usize * 97_531) % (512 << 10));
                let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
                let back = exchange(s, &data, |s| s.shutdown(Shutdown::Write).unwrap());
                (data, back)
            })
        })
        .collect();
    let suffix = format!("|{}", env.a);
    for c in clients {
        let (data, back) = c.join().unwrap();
        assert_eq!(back.len(), data.len() + suffix.len());
        assert!(back[..data.len()] == data[..], "relayed data differs");
        assert_eq!(
            &back[data.len()..],
            suffix.as_bytes(),
            "the host sees partition a"
        );
    }
    for _ in 0..8 {
        bg.wait_line("done:");
    }
    assert!(bg.is_running());
    assert!(!bg.log().contains("error"), "{}", bg.log());
}

#[test]
fn relay_unix_to_hvsock_loopback_with_errors_and_half_close_both_ways() {
    let env = Env::new();
    let sock = env.path("echo.sock");
    let relay = env.cmd(&[
        "relay",
        "-v",
        &format!("unix:{}", sock.display()),
        "hvsock:loopback:echo",
    ]);
    let (mut bg, _) = Bg::start(relay, None, "relay listening on");

    // Nothing listens behind the relay yet: the client is closed, the error logged,
    // and the relay goes on.
    let mut s = UnixStream::connect(&sock).unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap();
    assert!(buf.is_empty());
    let l = bg.wait_line("relay #1");
    assert!(l.contains("nothing listens"), "{l}");

    // Client half-closes first; several at once.
    let _server = echo_server(env.host().bind(HvAddr::new(VmId::LOOPBACK, ECHO)).unwrap());
    let clients: Vec<_> = (0..6u64)
        .map(|i| {
            let sock = sock.clone();
            thread::spawn(move || {
                let data = pattern(20 + i, 1000 + (i as usize * 77_777) % (300 << 10));
                let s = UnixStream::connect(&sock).unwrap();
                let back = exchange(s, &data, |s| s.shutdown(Shutdown::Write).unwrap());
                (data, back)
            })
        })
        .collect();
    let suffix = format!("|{}", VmId::LOOPBACK);
    for c in clients {
        let (data, back) = c.join().unwrap();
        assert!(back[..data.len()] == data[..], "relayed data differs");
        assert_eq!(&back[data.len()..], suffix.as_bytes());
    }

    // Server half-closes first: the client reads EOF, then still sends, and the
    // server gets it.
    let greet = ServiceId::from_vsock_port(5001);
    let gl = env.host().bind(HvAddr::new(VmId::LOOPBACK, greet)).unwrap();
    let got = thread::spawn(move || {
        let (mut s, _) = gl.accept().unwrap();
        s.write_all(b"hello").unwrap();
        s.shutdown(Shutdown::Write).unwrap();
        let mut v = Vec::new();
        s.read_to_end(&mut v).unwrap();
        v
    });
    let gsock = env.path("greet.sock");
    let relay = env.cmd(&[
        "relay",
        "-v",
        &format!("unix:{}", gsock.display()),
        "hvsock:loopback:vsock:5001",
    ]);
    let (_bg2, _) = Bg::start(relay, None, "relay listening on");
    let mut c = UnixStream::connect(&gsock).unwrap();
    let mut hello = Vec::new();
    c.read_to_end(&mut hello).unwrap();
    assert_eq!(hello, b"hello");
    c.write_all(b"bye after your EOF").unwrap();
    c.shutdown(Shutdown::Write).unwrap();
    assert_eq!(got.join().unwrap(), b"bye after your EOF");
    assert!(bg.is_running());

    // The socket file goes away when the relay is stopped.
    let pid = bg.child.id() as libc::pid_t;
    assert!(
        rustix::process::kill_process(
            rustix::process::Pid::from_raw(pid).unwrap(),
            rustix::process::Signal::TERM
        )
        .is_ok()
    );
    let (st, _) = bg.finish();
    assert!(st.success());
    assert!(!sock.exists());
}

#[test]
fn relay_hvsock_to_tcp_and_a_stale_unix_socket_is_replaced() {
    let env = Env::new();
    let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = tcp.local_addr().unwrap().port();
    thread::spawn(move || {
        for s in tcp.incoming() {
            let mut s = s.unwrap();
            thread::spawn(move || {
                let mut buf = Vec::new();
                s.read_to_end(&mut buf).unwrap();
                buf.reverse();
                s.write_all(&buf).unwrap();
            });
        }
    });
    let relay = env.cmd(&[
        "relay",
        "-v",
        "hvsock:children:echo",
        &format!("tcp:127.0.0.1:{port}"),
    ]);
    let (mut bg, _) = Bg::start(relay, None, "relay listening on");
    let out = run(env.in_a(&["connect", "parent:echo"]), b"abcdef");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(out.stdout, b"fedcba");
    assert!(bg.wait_line("relay #1").contains("a ("));

    // A socket file left by a dead process does not block the bind.
    let path = env.path("stale.sock");
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    assert!(path.exists());
    let relay = env.cmd(&[
        "relay",
        "-v",
        &format!("unix:{}", path.display()),
        &format!("tcp:127.0.0.1:{port}"),
    ]);
    let (_bg, _) = Bg::start(relay, None, "relay listening on");
    let back = exchange(UnixStream::connect(&path).unwrap(), b"xyz", |s| {
        s.shutdown(Shutdown::Write).unwrap()
    });
    assert_eq!(back, b"zyx");
    // But a live one does: that is an error, not a takeover.
    let out = run(
        env.cmd(&[
            "relay",
            &format!("unix:{}", path.display()),
            "hvsock:loopback:echo",
        ]),
        b"",
    );
    let err = one_error_line(&out);
    assert!(err.contains("another process listens"), "{err}");
}

#[test]
fn bad_syntax_is_a_usage_error() {
    let env = Env::new();
    let usage = |args: &[&str], needle: &str| {
        let out = run(env.cmd(args), b"");
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(needle), "{args:?}: {}", stderr(&out));
    };
    let to = "hvsock:loopback:echo";
    usage(
        &["relay", "udp:1.2.3.4:5", to],
        "tcp:HOST:PORT, unix:PATH or hvsock:VM:SERVICE",
    );
    usage(&["relay", "/tmp/x.sock", to], "not an endpoint");
    usage(&["relay", "tcp:127.0.0.1", to], "tcp:HOST:PORT");
    usage(
        &["relay", "tcp:127.0.0.1:70000", to],
        "PORT must be a number",
    );
    usage(&["relay", "tcp::80", to], "HOST");
    usage(&["relay", "unix:", to], "PATH");
    usage(&["relay", "tcp:127.0.0.1:0", "hvsock:parent"], "VM:SERVICE");
    usage(&["relay", "tcp:127.0.0.1:0"], "TO");
    usage(
        &["connect", "loopback:echo", "--timeout", "5x"],
        "not a duration",
    );
    usage(
        &["connect", "loopback:echo", "--timeout", "301s"],
        "at most 300s",
    );
    usage(
        &["connect", "loopback:echo", "--timeout", "0ms"],
        "more than 0",
    );
    usage(&["listen"], "ADDR");
    usage(&["listen", "loopback:echo", "--exec"], "CMD");
    // Address text that parses as a command line but not as an address: exit 1.
    let err = one_error_line(&run(env.cmd(&["connect", "nocolon"]), b""));
    assert!(err.contains("VM:SERVICE"), "{err}");
    // Names in an hvsock endpoint are looked up when the relay starts.
    let err = one_error_line(&run(
        env.cmd(&["relay", "tcp:127.0.0.1:0", "hvsock:a:nosuch"]),
        b"",
    ));
    assert!(err.contains("unknown service"), "{err}");
}

#[test]
fn help_teaches_with_examples() {
    let env = Env::new();
    for (cmd, needle) in [
        ("listen", "--keep-open --exec cat"),
        ("connect", "hvsock connect parent:vsock:5000"),
        (
            "relay",
            "hvsock relay tcp:127.0.0.1:2222 hvsock:myvm:vsock:22",
        ),
    ] {
        let help = env.ok(&[cmd, "--help"]);
        assert!(help.contains("Examples:"), "{cmd}: {help}");
        assert!(help.contains(needle), "{cmd}: {help}");
        assert!(help.contains("VM:SERVICE"), "{cmd}: {help}");
    }
}

/// `--config-dir` is the config of every step (names, the partition, the listener) and
/// the `HVSOCK_CONFIG_DIR` of an `--exec` command, whatever the environment says.
#[test]
fn the_config_dir_flag_wins_over_the_environment_everywhere() {
    let env = Env::new();
    let elsewhere = env.path("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let cfg = env.cfg.to_str().unwrap().to_string();
    let with_flag = |args: &[&str]| {
        let mut c = env.cmd(&[&["--config-dir", cfg.as_str()][..], args].concat());
        c.env("HVSOCK_CONFIG_DIR", &elsewhere);
        c
    };
    let listen = with_flag(&listen_sh(
        "any:echo",
        &[],
        "printf %s \"$HVSOCK_CONFIG_DIR\"",
    ));
    let (bg, _) = Bg::start(listen, None, "listening on");
    let mut connect = with_flag(&["connect", "parent:echo"]);
    connect.env("HVSOCK_PARTITION", "a");
    let out = run(connect, b"");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), cfg);
    let (st, _) = bg.finish();
    assert!(st.success(), "{st:?}");
    // Without the flag the environment's (empty) config dir is used: no partition a.
    let mut connect = env.cmd(&["connect", "parent:echo"]);
    connect
        .env("HVSOCK_CONFIG_DIR", &elsewhere)
        .env("HVSOCK_PARTITION", "a");
    let err = one_error_line(&run(connect, b""));
    assert!(err.contains("echo") || err.contains("\"a\""), "{err}");
}
