//! `hvsock listen --keep-open --exec` under a flood of connections from one partition:
//! the per-partition cap holds for connections handed to child processes, and
//! `--max-children` bounds the commands running at once.
// Linux only: these run the Unix transports, `--exec`, the agent or the file registry.
#![cfg(unix)]

mod common;
use hvsock::paths::Dirs;
use hvsock::{Context, HvAddr, HvStream, ServiceId, VmId};
use std::io::{BufRead, BufReader, ErrorKind};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::thread;
use std::time::{Duration, Instant};

const ECHO: ServiceId = ServiceId::from_vsock_port(5000);
/// A hang guard, far above any expected run time.
const LIMIT: Duration = Duration::from_secs(20);
/// Each command says it is up, then holds the connection until the peer closes it.
const HOLD: &str = "echo up; exec cat >/dev/null";

struct Env {
    _tmp: tempfile::TempDir,
    cfg: PathBuf,
    run: PathBuf,
}

impl Env {
    /// A registry with `echo`, a table with the local partition `a`, and `settings` as
    /// hvsock.toml.
    fn new(settings: &str) -> Env {
        let tmp = tempfile::Builder::new()
            .prefix("hvx")
            .tempdir_in("/tmp")
            .unwrap();
        let env = Env {
            cfg: tmp.path().join("c"),
            run: tmp.path().join("r"),
            _tmp: tmp,
        };
        for args in [
            &["service", "add", "echo", "--vsock-port", "5000"][..],
            &["vm", "add", "a", "--local"][..],
        ] {
            let out = common::run(env.cmd(args), b"", LIMIT);
            assert!(out.status.success(), "{args:?}: {out:?}");
        }
        std::fs::write(env.cfg.join("hvsock.toml"), settings).unwrap();
        env
    }

    fn cmd(&self, args: &[&str]) -> Command {
        common::hvsock(&self.cfg, &self.run, args)
    }

    fn dirs(&self) -> Dirs {
        Dirs::new(&self.cfg, &self.run)
    }

    /// A connection from partition `a` (`None` for the host over loopback) whose
    /// command said "up"; the error otherwise.
    fn open(&self, from_a: bool, timeout: Duration) -> std::io::Result<BufReader<HvStream>> {
        let (ctx, vm) = if from_a {
            (Context::local(self.dirs(), "a").unwrap(), VmId::PARENT)
        } else {
            (Context::host(self.dirs()), VmId::LOOPBACK)
        };
        let s = ctx.connect_timeout(HvAddr::new(vm, ECHO), timeout)?;
        s.set_read_timeout(Some(LIMIT))?;
        let mut r = BufReader::new(s);
        let mut line = String::new();
        r.read_line(&mut line)?;
        if line != "up\n" {
            return Err(std::io::Error::other(format!("command said {line:?}")));
        }
        Ok(r)
    }

    /// Retries [`open`](Self::open) until a connection is served (a command that
    /// ended gives its place back a moment after its connection closed).
    fn open_eventually(&self, from_a: bool) -> BufReader<HvStream> {
        let deadline = Instant::now() + LIMIT;
        loop {
            match self.open(from_a, Duration::from_secs(1)) {
                Ok(s) => return s,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    thread::sleep(Duration::from_millis(20));
                }
                Err(e) => panic!("no connection served: {e}"),
            }
        }
    }
}

/// `hvsock listen` in the background with stderr lines on a channel; killed on drop.
struct Listen {
    child: Child,
    lines: Receiver<String>,
}

impl Listen {
    fn start(env: &Env, extra: &[&str]) -> Listen {
        let mut args = vec!["listen", "any:echo", "-k", "-v"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--exec", "sh", "-c", HOLD]);
        let mut child = env
            .cmd(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, lines) = channel();
        let se = child.stderr.take().unwrap();
        thread::spawn(move || {
            for line in BufReader::new(se).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut l = Listen { child, lines };
        l.wait_line("listening on");
        l
    }

    fn wait_line(&mut self, needle: &str) -> String {
        common::wait_line(&self.lines, needle, LIMIT)
            .unwrap_or_else(|| panic!("no stderr line with {needle:?}"))
    }

    /// The processes the listener has started that are still alive.
    fn children(&self) -> usize {
        let pid = self.child.id();
        let mut n = 0;
        for task in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap() {
            let path = task.unwrap().path().join("children");
            n += std::fs::read_to_string(path)
                .unwrap_or_default()
                .split_whitespace()
                .count();
        }
        n
    }
}

impl Drop for Listen {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A flood from partition a against `max_connections_per_partition = 3`: only three
/// commands run for it; the rest are refused naming the limit; a closed connection
/// gives its place back once its command has exited. (Before the fix every
/// connection got its command: handing the socket to the child dropped the count.)
#[test]
fn exec_children_of_one_partition_never_exceed_its_connection_cap() {
    let env = Env::new("max_connections_per_partition = 3\n");
    let listen = Listen::start(&env, &[]);
    let mut held = Vec::new();
    let mut refused = 0;
    for _ in 0..12 {
        match env.open(true, Duration::from_secs(5)) {
            Ok(s) => held.push(s),
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::ConnectionRefused, "{e}");
                assert!(
                    e.to_string().contains("max_connections_per_partition"),
                    "{e}"
                );
                refused += 1;
            }
        }
    }
    assert_eq!(held.len(), 3, "commands served for partition a");
    assert_eq!(refused, 9);
    assert_eq!(listen.children(), 3, "child processes of the listener");
    // The host itself (loopback) crosses no partition and is not capped by a's count.
    let host = env.open(false, Duration::from_secs(5)).unwrap();
    assert_eq!(listen.children(), 4);
    drop(host);
    // Closing one connection ends its command and frees its place, and only one.
    drop(held.pop());
    held.push(env.open_eventually(true));
    let e = env.open(true, Duration::from_secs(5)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ConnectionRefused, "{e}");
    // The host's command may still be ending; a's are exactly three.
    assert!(listen.children() <= 4);
    assert!(listen.children() >= 3);
}

/// The same flood from a hybrid-vsock guest: its VMM connects to the listener's
/// `PATH_5000` socket, one Unix connection per guest connection. Three get a command,
/// the rest are closed at once (a guest is not sent a refusal message).
#[test]
fn exec_children_of_a_guest_never_exceed_its_connection_cap() {
    use std::io::Read;
    use std::os::unix::net::UnixStream;
    let env = Env::new("max_connections_per_partition = 3\n");
    let vmm = env.cfg.parent().unwrap().join("vm.sock");
    let out = common::run(
        env.cmd(&["vm", "add", "guest", "--hybrid", vmm.to_str().unwrap()]),
        b"",
        LIMIT,
    );
    assert!(out.status.success(), "{out:?}");
    let listen = Listen::start(&env, &[]);
    let port_socket = vmm.with_file_name("vm.sock_5000");
    let deadline = Instant::now() + LIMIT;
    while !port_socket.exists() {
        assert!(Instant::now() < deadline, "no {}", port_socket.display());
        thread::sleep(Duration::from_millis(10));
    }
    let mut served = Vec::new();
    let mut closed = 0;
    for _ in 0..12 {
        let mut s = UnixStream::connect(&port_socket).unwrap();
        s.set_read_timeout(Some(LIMIT)).unwrap();
        let mut buf = [0u8; 3];
        match s.read(&mut buf).unwrap() {
            0 => closed += 1,
            n => {
                s.read_exact(&mut buf[n..]).unwrap();
                assert_eq!(&buf, b"up\n");
                served.push(s);
            }
        }
    }
    assert_eq!(served.len(), 3, "commands served for the guest");
    assert_eq!(closed, 9);
    assert_eq!(listen.children(), 3, "child processes of the listener");
}

/// `--max-children 2`: a third connection is not served while two commands run (it
/// waits in the backlog and its connect times out), the listener says why on stderr,
/// and a freed slot serves the next connection.
#[test]
fn max_children_bounds_the_commands_running_at_once() {
    let env = Env::new("");
    let mut listen = Listen::start(&env, &["--max-children", "2"]);
    let first = env.open(true, Duration::from_secs(5)).unwrap();
    let _second = env.open(false, Duration::from_secs(5)).unwrap();
    let line = listen.wait_line("--max-children 2");
    assert!(line.contains("2 commands running"), "{line}");
    for from_a in [true, false, true] {
        let e = env.open(from_a, Duration::from_millis(300)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TimedOut, "{e}");
    }
    assert_eq!(listen.children(), 2);
    drop(first);
    // Connections that timed out above were still in the backlog and get served (and
    // end at once); a new one is served once there is room.
    let _third = env.open_eventually(true);
    assert!(listen.children() <= 2, "never more than --max-children");
}

#[test]
fn max_children_must_be_positive() {
    let env = Env::new("");
    let out = common::run(
        env.cmd(&[
            "listen",
            "any:echo",
            "-k",
            "--max-children",
            "0",
            "-e",
            "cat",
        ]),
        b"",
        LIMIT,
    );
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--max-children"), "{err}");
}
