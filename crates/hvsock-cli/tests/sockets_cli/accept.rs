//! Accept errors (descriptor exhaustion) in `listen` and `relay`: logged and retried.

use super::relay::{exchange, relay_port};
use super::*;

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
    let (mut bg, line) = env.relaying("tcp:127.0.0.1:0", "hvsock:loopback:echo");
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
