//! `hvsock relay` between TCP, Unix sockets and hvsock.

use super::*;

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
pub(super) fn exchange<S: Read + Write>(mut s: S, data: &[u8], shut: impl FnOnce(&S)) -> Vec<u8> {
    s.write_all(data).unwrap();
    shut(&s);
    let mut back = Vec::new();
    s.read_to_end(&mut back).unwrap();
    back
}

pub(super) fn relay_port(line: &str) -> u16 {
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
    let (mut bg, _) = env.relaying(&format!("unix:{}", sock.display()), "hvsock:loopback:echo");

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
    let (_bg2, _) = env.relaying(
        &format!("unix:{}", gsock.display()),
        "hvsock:loopback:vsock:5001",
    );
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
