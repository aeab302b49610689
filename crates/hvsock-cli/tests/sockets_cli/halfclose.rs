//! `connect`, `listen` and `relay` against a hybrid VM whose VMM loses half-closes
//! (like Firecracker and vhost-device-vsock: a host `shutdown(SHUT_WR)` becomes a full
//! close) or carries them (like Cloud Hypervisor with its fix), emulated by a fake VMM
//! with the guest's services in this process.

use super::*;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A guest service behind the fake VMM, by guest port.
#[derive(Clone, Copy)]
enum Guest {
    /// Sends each chunk back this much later; never closes by itself (like `cat`
    /// whose input never ends).
    Echo(Duration),
    /// Answers `sha256:HEX` of everything once its input ends (like sha256sum).
    Sha,
    /// Says `hello` and ignores its input, EOF included, for a minute.
    Greeter,
}

const ECHO_PORT: u32 = 5000;
const SHA_PORT: u32 = 5001;
const GREET_PORT: u32 = 5002;
/// An echo answering at once, for the relay's many connections.
const FAST_ECHO_PORT: u32 = 5003;
/// How long the echoing guest takes to answer (the host's EOF arrives before).
const DELAY: Duration = Duration::from_millis(40);

/// The fake VMM on its Unix socket; `lossy`: a host half-close becomes a full close.
struct Vmm {
    path: PathBuf,
    lossy: bool,
}

impl Vmm {
    fn start(path: &Path, lossy: bool) -> Vmm {
        let l = UnixListener::bind(path).unwrap();
        thread::spawn(move || {
            for s in l.incoming() {
                let Ok(s) = s else { return };
                thread::spawn(move || host_to_guest(s, lossy));
            }
        });
        Vmm {
            path: path.to_owned(),
            lossy,
        }
    }

    /// The guest connects to host port `port` (the host listener's `PATH_PORT`), waits
    /// `after`, sends `data` and closes, unless the host's half-close (a full close
    /// on a lossy VMM) came first. Returns whether the bytes were sent.
    fn guest_sends(&self, port: u32, after: Duration, data: &'static [u8]) -> bool {
        let mut p = self.path.as_os_str().to_owned();
        p.push(format!("_{port}"));
        let s = UnixStream::connect(PathBuf::from(p)).unwrap();
        let deadline = Instant::now() + after;
        s.set_read_timeout(Some(Duration::from_millis(5))).unwrap();
        while Instant::now() < deadline {
            if let Ok(0) = (&s).read(&mut [0u8; 64]) {
                if self.lossy {
                    let _ = s.shutdown(Shutdown::Both);
                    return false;
                }
                break;
            }
        }
        (&s).write_all(data).is_ok()
    }
}

impl Drop for Vmm {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// What else the host has sent by now, and whether its half-close came.
fn drain(s: &UnixStream, into: &mut Vec<u8>) -> bool {
    s.set_nonblocking(true).unwrap();
    let mut more = [0u8; 4096];
    let eof = loop {
        match (&*s).read(&mut more) {
            Ok(0) => break true,
            Ok(m) => into.extend_from_slice(&more[..m]),
            Err(_) => break false,
        }
    };
    s.set_nonblocking(false).unwrap();
    eof
}

/// One host connection: `CONNECT N`, `OK N`, then the guest service of port N.
fn host_to_guest(mut s: UnixStream, lossy: bool) {
    let mut line = Vec::new();
    let mut b = [0u8; 1];
    while line.last() != Some(&b'\n') {
        match s.read(&mut b) {
            Ok(1) => line.push(b[0]),
            _ => return,
        }
    }
    let text = String::from_utf8_lossy(&line);
    let Some(port) = text
        .strip_prefix("CONNECT ")
        .and_then(|p| p.trim().parse::<u32>().ok())
    else {
        return;
    };
    let guest = match port {
        ECHO_PORT => Guest::Echo(DELAY),
        FAST_ECHO_PORT => Guest::Echo(Duration::from_millis(1)),
        SHA_PORT => Guest::Sha,
        GREET_PORT => Guest::Greeter,
        _ => return,
    };
    s.write_all(format!("OK {port}\n").as_bytes()).unwrap();
    // What a lossy VMM does with the host's half-close: closes everything.
    let cut = |s: &UnixStream| {
        let _ = s.shutdown(Shutdown::Both);
    };
    let mut buf = vec![0u8; 64 << 10];
    let mut all = Vec::new();
    if let Guest::Greeter = guest
        && s.write_all(b"hello\n").is_err()
    {
        return;
    }
    loop {
        let n = match s.read(&mut buf) {
            Ok(n) => n,
            Err(_) => return,
        };
        if n == 0 {
            if lossy {
                return cut(&s);
            }
            match guest {
                Guest::Echo(_) => return,
                Guest::Sha => {
                    let hex = hvsock_testkit::data::sha256_hex(&all);
                    let _ = s.write_all(format!("sha256:{hex}\n").as_bytes());
                    return;
                }
                Guest::Greeter => {
                    // Ignores the EOF: keeps the connection longer than the test.
                    thread::sleep(Duration::from_secs(60));
                    return;
                }
            }
        }
        match guest {
            Guest::Echo(delay) => {
                thread::sleep(delay);
                let mut out = buf[..n].to_vec();
                let eof = drain(&s, &mut out);
                if eof && lossy {
                    return cut(&s);
                }
                if s.write_all(&out).is_err() || eof {
                    return;
                }
            }
            Guest::Sha => all.extend_from_slice(&buf[..n]),
            Guest::Greeter => {}
        }
    }
}

/// An env with `echo`, `sha` and `greet` registered and the hybrid VM `name` at a fake
/// VMM (`vm add` with EXTRA, e.g. `--half-close carried`).
fn vm_env(name: &str, lossy: bool, extra: &[&str]) -> (Env, Vmm) {
    let env = Env::new();
    env.ok(&["service", "add", "sha", "--vsock-port", "5001"]);
    env.ok(&["service", "add", "greet", "--vsock-port", "5002"]);
    env.ok(&["service", "add", "fecho", "--vsock-port", "5003"]);
    let path = env.path(&format!("{name}.sock"));
    let mut args = vec!["vm", "add", name, "--hybrid", path.to_str().unwrap()];
    args.extend_from_slice(extra);
    env.ok(&args);
    let vmm = Vmm::start(&path, lossy);
    (env, vmm)
}

/// `hvsock ARGS` with `input` on stdin, to its end.
fn run_with(env: &Env, args: &[&str], input: &[u8]) -> Output {
    run(env.cmd(args), input)
}

#[test]
fn connect_over_a_lossy_vm_gets_the_answer_and_the_idle_timeout_ends_it() {
    let (env, _vmm) = vm_env("fc", true, &[]);
    let shown: serde_json::Value =
        serde_json::from_str(&env.ok(&["vm", "show", "fc", "--json"])).unwrap();
    assert_eq!(shown["half_close"], "lost");
    let t0 = Instant::now();
    let out = run_with(
        &env,
        &["connect", "fc:echo", "--idle-timeout", "500ms", "-v"],
        b"ping\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(out.stdout, b"ping\n", "{}", stderr(&out));
    assert!(stderr(&out).contains("idle timeout"), "{}", stderr(&out));
    assert!(t0.elapsed() < Duration::from_secs(10));
    // With the half-close sent anyway, the VMM closes the connection: no answer.
    let out = run_with(
        &env,
        &["connect", "fc:echo", "--half-close", "always"],
        b"ping\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(out.stdout, b"", "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("warning:") && err.contains("cannot carry a half-close"),
        "{err}"
    );
}

#[test]
fn connect_over_a_lossy_vm_says_why_an_answer_after_eof_cannot_come() {
    let (env, _vmm) = vm_env("fc", true, &[]);
    let (mut bg, line) = Bg::start(
        env.cmd(&["connect", "fc:sha"]),
        Some(b"some file\n".to_vec()),
        "its end is not sent",
    );
    assert!(
        line.contains("sha256sum") && line.contains("--idle-timeout"),
        "{line}"
    );
    assert!(line.contains("fc ("), "names the VM: {line}");
    // The connection stays open: the guest may still answer.
    thread::sleep(Duration::from_millis(300));
    assert!(bg.is_running());
}

#[test]
fn connect_over_a_carried_vm_still_half_closes() {
    let (env, _vmm) = vm_env("ch", false, &["--half-close", "carried"]);
    assert!(
        env.ok(&["vm", "show", "ch"])
            .contains("half-close: carried")
    );
    let data = pattern(7, 300_000);
    let out = run_with(&env, &["connect", "ch:sha"], &data);
    assert!(out.status.success(), "{}", stderr(&out));
    let want = format!("sha256:{}\n", hvsock_testkit::data::sha256_hex(&data));
    assert_eq!(String::from_utf8_lossy(&out.stdout), want);
    assert_eq!(stderr(&out), "");
    // --half-close never keeps it open: the guest never answers, the timeout ends it.
    let out = run_with(
        &env,
        &[
            "connect",
            "ch:sha",
            "--half-close",
            "never",
            "--idle-timeout",
            "300ms",
        ],
        &data,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(out.stdout, b"");
}

/// `hvsock listen ... </dev/null` on a lossy VM: the guest's bytes after the host's
/// stdin ended arrive; with `--half-close always` the VMM drops them.
#[test]
fn listen_with_empty_stdin_gets_what_a_lossy_guest_sends() {
    let (env, vmm) = vm_env("fc", true, &[]);
    let (bg, _) = Bg::start(env.cmd(&["listen", "fc:echo", "-v"]), None, "listening on");
    assert!(vmm.guest_sends(ECHO_PORT, Duration::from_millis(300), b"from the guest\n"));
    let (st, out) = bg.finish();
    assert!(st.success());
    assert_eq!(out, b"from the guest\n");

    let (bg, _) = Bg::start(
        env.cmd(&["listen", "fc:echo", "-v", "--half-close", "always"]),
        None,
        "listening on",
    );
    assert!(!vmm.guest_sends(ECHO_PORT, Duration::from_millis(300), b"lost\n"));
    let (_, out) = bg.finish();
    assert_eq!(out, b"");
    // --exec gives the command the connection: the options do not apply.
    let out = run_with(
        &env,
        &[
            "listen",
            "fc:echo",
            "--half-close",
            "never",
            "--exec",
            "cat",
        ],
        b"",
    );
    assert!(stderr(&out).contains("without --exec"), "{}", stderr(&out));
}

/// The open descriptors of process `pid`.
fn fd_count(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count()
}

/// 300 short connections through a relay to hybrid VMs: to a lossy VMM the half-close
/// is held back (the echo arrives) and the pair closes when the client closes; to a
/// carried VMM whose guest ignores the EOF, the pair closes when the client closes
/// (it stayed open before: ~4 fds per finished connection). The relay's descriptors
/// come back to where they started.
#[test]
fn relay_to_hybrid_vms_does_not_pile_up_finished_connections() {
    let (env, _lossy) = vm_env("fc", true, &[]);
    let ch = env.path("ch.sock");
    env.ok(&[
        "vm",
        "add",
        "ch",
        "--hybrid",
        ch.to_str().unwrap(),
        "--half-close",
        "carried",
    ]);
    let _carried = Vmm::start(&ch, false);
    let (r1, r2) = (env.path("r1.sock"), env.path("r2.sock"));
    let (mut relay_fc, _) = env.relaying(&format!("unix:{}", r1.display()), "hvsock:fc:fecho");
    let (mut relay_ch, _) = env.relaying(&format!("unix:{}", r2.display()), "hvsock:ch:greet");
    let (pid_fc, pid_ch) = (relay_fc.child.id(), relay_ch.child.id());
    let (start_fc, start_ch) = (fd_count(pid_fc), fd_count(pid_ch));
    for i in 0..150 {
        let mut c = UnixStream::connect(&r1).unwrap();
        c.set_read_timeout(Some(LIMIT)).unwrap();
        let msg = format!("ping {i}\n");
        c.write_all(msg.as_bytes()).unwrap();
        c.shutdown(Shutdown::Write).unwrap();
        let mut back = vec![0u8; msg.len()];
        c.read_exact(&mut back)
            .unwrap_or_else(|e| panic!("connection {i}: {e}; relay:\n{}", relay_fc.log()));
        assert_eq!(back, msg.as_bytes());

        let mut c = UnixStream::connect(&r2).unwrap();
        c.set_read_timeout(Some(LIMIT)).unwrap();
        let mut hello = [0u8; 6];
        c.read_exact(&mut hello).unwrap();
        assert_eq!(&hello, b"hello\n");
        c.write_all(b"bye\n").unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    let settled = |pid, start| fd_count(pid) <= start + 4;
    while !(settled(pid_fc, start_fc) && settled(pid_ch, start_ch)) && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(50));
    }
    assert!(
        settled(pid_fc, start_fc),
        "lossy: {} fds, {start_fc} at the start",
        fd_count(pid_fc)
    );
    assert!(
        settled(pid_ch, start_ch),
        "carried: {} fds, {start_ch} at the start",
        fd_count(pid_ch)
    );
    assert!(relay_fc.is_running() && relay_ch.is_running());
}
