#![cfg(unix)]
//! Every semantics row of Hyper-V sockets on local partitions, and every error kind.

mod common;
use common::*;
use hvsock::{HvAddr, HvListener, VmId};
use std::io::{ErrorKind, Read, Write};
use std::thread;
use std::time::{Duration, Instant};

fn at(v: VmId, s: hvsock::ServiceId) -> HvAddr {
    HvAddr::new(v, s)
}

/// A raw connection to the listener socket `sock` that has sent `bytes`.
fn raw_client(sock: &std::path::Path, bytes: &[u8]) -> std::os::unix::net::UnixStream {
    let mut c = std::os::unix::net::UnixStream::connect(sock).unwrap();
    c.write_all(bytes).unwrap();
    c
}

/// The peer id that `l` saw when it echoed `msg` from the local partition `name`.
fn served_by(f: &Fixture, l: HvListener, name: &str, msg: &[u8]) -> VmId {
    let h = echo_once(l);
    to_parent(f, name, msg);
    h.join().unwrap()
}

/// `msg` from the local partition `name` to `SVC` on its parent, echoed back.
fn to_parent(f: &Fixture, name: &str, msg: &[u8]) -> Vec<u8> {
    roundtrip(f.local(name).connect(at(VmId::PARENT, SVC)).unwrap(), msg)
}

/// Accepts one connection and echoes it until EOF, then closes.
fn echo_once(l: HvListener) -> thread::JoinHandle<VmId> {
    thread::spawn(move || {
        let (mut s, peer) = l.accept().unwrap();
        assert_eq!(s.peer_addr().unwrap(), peer);
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).unwrap();
        s.write_all(&buf).unwrap();
        peer.vm_id
    })
}

#[test]
fn loopback_needs_no_registration() {
    let f = Fixture::new();
    let l = f.host().bind(at(VmId::LOOPBACK, UNREG)).unwrap();
    assert_eq!(l.local_addr().unwrap(), at(VmId::LOOPBACK, UNREG));
    let h = echo_once(l);
    let s = f.host().connect(at(VmId::LOOPBACK, UNREG)).unwrap();
    assert_eq!(s.peer_addr().unwrap().vm_id, VmId::LOOPBACK);
    assert_eq!(roundtrip(s, b"hello"), b"hello");
    assert_eq!(h.join().unwrap(), VmId::LOOPBACK);
}

#[test]
fn child_to_parent_and_back_with_half_close() {
    let f = Fixture::new();
    // Child -> host: the host sees the child's id, the child sees PARENT.
    let h = echo_once(f.host().bind(at(VmId::ZERO, SVC)).unwrap());
    let s = f.local("a").connect(at(VmId::PARENT, SVC)).unwrap();
    assert_eq!(s.peer_addr().unwrap(), at(VmId::PARENT, SVC));
    assert_eq!(s.local_addr().unwrap().vm_id, A);
    assert_eq!(roundtrip(s, b"up"), b"up");
    assert_eq!(h.join().unwrap(), A);
    // Host -> child: the child sees PARENT, the host names the child.
    let h = echo_once(f.local("a").bind(at(VmId::PARENT, SVC)).unwrap());
    let s = f.host().connect(at(A, SVC)).unwrap();
    assert_eq!(s.peer_addr().unwrap().vm_id, A);
    assert_eq!(roundtrip(s, b"down"), b"down");
    assert_eq!(h.join().unwrap(), VmId::PARENT);
}

#[test]
fn children_listener_accepts_children_only() {
    let f = Fixture::new();
    let l = f.host().bind(at(VmId::CHILDREN, SVC)).unwrap();
    let h = echo_once(l);
    assert_eq!(to_parent(&f, "b", b"x"), b"x");
    assert_eq!(h.join().unwrap(), B);
    // The host itself is not its own child.
    let _l = f.host().bind(at(VmId::CHILDREN, SVC)).unwrap();
    let e = f.host().connect(at(VmId::LOOPBACK, SVC)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ConnectionRefused);
}

#[test]
fn specific_id_listener_accepts_that_partition_only() {
    let f = Fixture::new();
    let _l = f.host().bind(at(A, SVC)).unwrap();
    let e = f.local("b").connect(at(VmId::PARENT, SVC)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ConnectionRefused);
    let l = f.host().bind(at(B, SVC)).unwrap();
    assert_eq!(served_by(&f, l, "b", b"b"), B);
}

#[test]
fn most_specific_listener_wins() {
    let f = Fixture::new();
    let any = f.host().bind(at(VmId::ZERO, SVC)).unwrap();
    let children = f.host().bind(at(VmId::CHILDREN, SVC)).unwrap();
    let only_a = f.host().bind(at(A, SVC)).unwrap();
    let loopback = f.host().bind(at(VmId::LOOPBACK, SVC)).unwrap();
    let (ha, hc, hl) = (echo_once(only_a), echo_once(children), echo_once(loopback));
    to_parent(&f, "a", b"1");
    assert_eq!(ha.join().unwrap(), A, "id beats CHILDREN and ANY");
    to_parent(&f, "b", b"2");
    assert_eq!(hc.join().unwrap(), B, "CHILDREN beats ANY");
    roundtrip(f.host().connect(at(VmId::LOOPBACK, SVC)).unwrap(), b"3");
    assert_eq!(hl.join().unwrap(), VmId::LOOPBACK, "LOOPBACK beats ANY");
    // With the specific ones gone, ANY takes everyone.
    assert_eq!(served_by(&f, any, "a", b"4"), A);
}

#[test]
fn same_address_twice_is_addr_in_use_and_free_again_after_drop() {
    let f = Fixture::new();
    let l = f.host().bind(at(VmId::ZERO, SVC)).unwrap();
    assert_eq!(
        f.host().bind(at(VmId::ZERO, SVC)).unwrap_err().kind(),
        ErrorKind::AddrInUse
    );
    // Another VM id on the same service is a different address.
    let _c = f.host().bind(at(VmId::CHILDREN, SVC)).unwrap();
    drop(l);
    f.host().bind(at(VmId::ZERO, SVC)).unwrap();
}

#[test]
fn partition_bind_rules() {
    let f = Fixture::new();
    let a = f.local("a");
    let e = a.bind(at(B, SVC)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    for v in [VmId::BROADCAST, VmId::SILOHOST] {
        assert_eq!(
            a.bind(at(v, SVC)).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            f.host().bind(at(v, SVC)).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
    }
    assert_eq!(
        f.host().bind(at(VmId::PARENT, SVC)).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    // A partition's LOOPBACK and own-id listeners serve its own processes.
    let h = echo_once(a.bind(at(A, SVC)).unwrap());
    let s = f.local("a").connect(at(VmId::LOOPBACK, SVC)).unwrap();
    assert_eq!(roundtrip(s, b"me"), b"me");
    assert_eq!(h.join().unwrap(), VmId::LOOPBACK);
}

#[test]
fn connect_error_kinds() {
    let f = Fixture::new();
    let host = f.host();
    // Nothing listening: refused at once, not after the timeout.
    let t = Instant::now();
    let e = host
        .connect_timeout(at(A, SVC), Duration::from_secs(20))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ConnectionRefused, "{e}");
    assert!(t.elapsed() < Duration::from_secs(10));
    // Unknown VM.
    let unknown = VmId(hvsock::Guid::from_u128(42));
    assert_eq!(
        host.connect(at(unknown, SVC)).unwrap_err().kind(),
        ErrorKind::NotFound
    );
    // Sets of partitions are not destinations.
    for v in [VmId::ZERO, VmId::CHILDREN, VmId::BROADCAST, VmId::SILOHOST] {
        assert_eq!(
            host.connect(at(v, SVC)).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
    }
    // The host has no parent.
    assert_eq!(
        host.connect(at(VmId::PARENT, SVC)).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    // Siblings never meet.
    let _l = f.local("b").bind(at(VmId::ZERO, SVC)).unwrap();
    let e = f.local("a").connect(at(B, SVC)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PermissionDenied);
    // Timeouts are bounded like HVSOCKET_CONNECT_TIMEOUT_MAX.
    for d in [Duration::ZERO, Duration::from_secs(301)] {
        assert_eq!(
            host.connect_timeout(at(A, SVC), d).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
    }
}

#[test]
fn listener_that_never_accepts_times_out_the_connect() {
    let f = Fixture::new();
    let _l = f.host().bind(at(VmId::ZERO, SVC)).unwrap();
    let t = Instant::now();
    let e = f
        .local("a")
        .connect_timeout(at(VmId::PARENT, SVC), Duration::from_millis(300))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TimedOut, "{e}");
    assert!(t.elapsed() >= Duration::from_millis(300));
}

#[test]
fn registration_is_permission() {
    let f = Fixture::new();
    // The host refuses to bind or dial an unregistered service across partitions.
    let e = f.host().bind(at(VmId::ZERO, UNREG)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PermissionDenied);
    // The library says what is wrong; the `hvsock service add` hint is the CLI's
    // (asserted in hvsock-cli's sockets_cli::connect::unregistered_or_disabled_service_...).
    assert_eq!(
        hvsock::HvError::of(&e),
        Some(&hvsock::HvError::NotRegistered { service: UNREG }),
        "{e}"
    );
    assert!(e.to_string().contains("not registered"), "{e}");
    let _l = f.local("a").bind(at(VmId::PARENT, UNREG)).unwrap();
    let e = f.host().connect(at(A, UNREG)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PermissionDenied);
    // Disabled after bind: connections are dropped at accept time.
    let l = f.host().bind(at(VmId::ZERO, SVC)).unwrap();
    f.set_enabled(SVC, false);
    let a = f.local("a");
    let t = thread::spawn(move || a.connect(at(VmId::PARENT, SVC)));
    l.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !t.is_finished() && Instant::now() < deadline {
        match l.accept() {
            Ok(_) => panic!("accepted a connection for a disabled service"),
            Err(e) => assert_eq!(e.kind(), ErrorKind::WouldBlock),
        }
        thread::sleep(Duration::from_millis(5));
    }
    let e = t.join().unwrap().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PermissionDenied, "{e}");
    assert!(e.to_string().contains("hvsock service enable"), "{e}");
    let e = f.host().connect(at(A, SVC)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PermissionDenied);
    // Re-enabled: works again, nothing restarted.
    f.set_enabled(SVC, true);
    l.set_nonblocking(false).unwrap();
    assert_eq!(served_by(&f, l, "a", b"again"), A);
}

#[test]
fn wildcard_covers_partitions_added_after_bind() {
    let f = Fixture::new();
    let h = echo_once(f.host().bind(at(VmId::ZERO, SVC)).unwrap());
    let late = VmId(hvsock::Guid::new_v4());
    hvsock::partitions::PartitionTable::update(&f.dirs, |t| {
        t.add("late", Some(late), hvsock::partitions::PartitionKind::Local)
    })
    .unwrap();
    to_parent(&f, "late", b"hi");
    assert_eq!(h.join().unwrap(), late);
}

#[test]
fn silent_peer_does_not_delay_others() {
    let f = Fixture::new();
    let l = f.host().bind(at(VmId::ZERO, SVC)).unwrap();
    // A raw client that connects to the listener's socket and says nothing.
    let sock = f.host_listener_socket();
    let _silent = std::os::unix::net::UnixStream::connect(&sock).unwrap();
    let _half = raw_client(&sock, b"HVSK\x01");
    let h = echo_once(l);
    let s = f
        .local("a")
        .connect_timeout(at(VmId::PARENT, SVC), Duration::from_secs(2))
        .unwrap();
    assert_eq!(roundtrip(s, b"fast"), b"fast");
    assert_eq!(h.join().unwrap(), A);
}

#[test]
fn garbage_preamble_gets_an_error_and_listener_keeps_serving() {
    let f = Fixture::new();
    let l = f.host().bind(at(VmId::ZERO, SVC)).unwrap();
    let sock = f.host_listener_socket();
    let mut bad = raw_client(&sock, b"GET / HTTP/1.0\r\n\r\n");
    // A partition claiming an id that is not in the table is refused too.
    let fake = hvsock::handshake::Preamble {
        caller: VmId(hvsock::Guid::from_u128(77)),
        service: SVC,
    };
    let mut spoof = raw_client(&sock, &fake.encode());
    assert_eq!(served_by(&f, l, "a", b"ok"), A);
    let mut reply = Vec::new();
    bad.read_to_end(&mut reply).unwrap();
    assert_eq!(&reply[..4], b"HV\x01\x03", "BadRequest reply");
    let mut reply = Vec::new();
    spoof.read_to_end(&mut reply).unwrap();
    assert_eq!(&reply[..4], b"HV\x01\x02", "Refused reply");
}

#[test]
fn std_stream_api() {
    let f = Fixture::new();
    let l = f.host().bind(at(VmId::LOOPBACK, SVC)).unwrap();
    let t = thread::spawn(move || {
        let (s, _) = l.accept().unwrap();
        // &HvStream is Read + Write; try_clone shares the socket.
        let mut r = &s;
        let mut w = s.try_clone().unwrap();
        let mut buf = [0u8; 5];
        r.read_exact(&mut buf).unwrap();
        w.write_all(&buf).unwrap();
    });
    let s = f.host().connect(at(VmId::LOOPBACK, SVC)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    assert_eq!(s.read_timeout().unwrap(), Some(Duration::from_secs(5)));
    s.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
    (&s).write_all(b"abcde").unwrap();
    let mut buf = [0u8; 5];
    (&s).read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"abcde");
    t.join().unwrap();
    use std::os::fd::{AsFd, AsRawFd, OwnedFd};
    let raw = s.as_raw_fd();
    assert_eq!(s.as_fd().as_raw_fd(), raw);
    let owned: OwnedFd = s.into();
    assert_eq!(owned.as_raw_fd(), raw, "the fd moves out intact");
}

#[test]
fn incoming_iterates() {
    let f = Fixture::new();
    let l = f.host().bind(at(VmId::LOOPBACK, SVC)).unwrap();
    let ctx = f.host();
    let t = thread::spawn(move || {
        for i in 0..3u8 {
            let mut s = ctx.connect(at(VmId::LOOPBACK, SVC)).unwrap();
            s.write_all(&[i]).unwrap();
        }
    });
    let got: Vec<u8> = l
        .incoming()
        .take(3)
        .map(|s| {
            let mut b = [0u8];
            s.unwrap().read_exact(&mut b).unwrap();
            b[0]
        })
        .collect();
    assert_eq!(got, vec![0, 1, 2]);
    t.join().unwrap();
}

#[test]
fn text_addresses_resolve_names() {
    let f = Fixture::new();
    let h = echo_once(f.local("a").bind("parent:echo").unwrap());
    let s = f.host().connect("a:echo").unwrap();
    assert_eq!(s.peer_addr().unwrap(), at(A, SVC));
    assert_eq!(roundtrip(s, b"named"), b"named");
    assert_eq!(h.join().unwrap(), VmId::PARENT);
    assert_eq!(
        f.host().connect("nosuchvm:echo").unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        f.host().connect("a:nosuchservice").unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        f.host().connect("no colon").unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
}

/// Runs as a child process (see `killed_listener_leaves_nothing_that_blocks`): binds
/// and waits to be killed.
#[test]
#[ignore = "helper process, run by killed_listener_leaves_nothing_that_blocks"]
fn helper_listener_process() {
    let Some(dirs) = child_dirs() else {
        return;
    };
    let _l = hvsock::Context::host(dirs)
        .bind(at(VmId::ZERO, SVC))
        .unwrap();
    println!("ready");
    thread::sleep(Duration::from_secs(60));
}

#[test]
fn killed_listener_leaves_nothing_that_blocks() {
    use std::io::BufRead;
    let f = Fixture::new();
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(hvsock_testkit::proc::ignored_test_args(
            "helper_listener_process",
        ))
        .env("HV_TEST_BASE", f.dir.path())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    assert!(
        lines.any(|l| l.unwrap().contains("ready")),
        "helper did not bind"
    );
    assert_eq!(
        f.host().bind(at(VmId::ZERO, SVC)).unwrap_err().kind(),
        ErrorKind::AddrInUse
    );
    child.kill().unwrap(); // SIGKILL: no destructor runs, the socket file stays
    child.wait().unwrap();
    // Connectors are refused at once rather than hanging on the stale file.
    let t = Instant::now();
    let e = f
        .local("a")
        .connect_timeout(at(VmId::PARENT, SVC), Duration::from_secs(20))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ConnectionRefused, "{e}");
    assert!(t.elapsed() < Duration::from_secs(10));
    // And the next bind takes the address over.
    let l = f.host().bind(at(VmId::ZERO, SVC)).unwrap();
    assert_eq!(served_by(&f, l, "a", b"after"), A);
}
