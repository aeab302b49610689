//! Steps: half-close and close over this backend, a killed guest listener.

use super::*;

/// What vhost-device-vsock 0.3.0 does with half-closes (rust-vmm/vhost-device#874),
/// seen through hvsock on both ends. This pins the backend's behaviour so that a fixed
/// backend is noticed (then hvsock's half-close can be tested here for real).
pub(super) fn half_close_over_this_backend(env: &Env) {
    // Guest `hvsock connect` whose stdin ends: it shuts down writing, which the host
    // never sees as EOF; the host can still answer and the guest gets the answer.
    let l = env.host.bind((VM_ID, HALF)).unwrap();
    let (out, eof) = with_guest_client(
        &l,
        |mut s, _| {
            let mut got = [0u8; 5];
            s.read_exact(&mut got).unwrap();
            assert_eq!(&got, b"five5");
            s.set_read_timeout(Some(Duration::from_millis(1500)))
                .unwrap();
            let eof = match s.read(&mut [0u8; 16]) {
                Ok(0) => true,
                Ok(n) => panic!("{n} unexpected bytes"),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => false,
                Err(e) => panic!("read: {e}"),
            };
            s.write_all(b"bye").unwrap();
            eof
        },
        || env.guest_connect("printf five5", HALF),
    );
    assert!(
        !eof,
        "the host read EOF after the guest's SHUT_WR: the backend propagates half-close \
         now; test the half-close for real"
    );
    assert!(out.success(), "{out:?}");
    assert_eq!(out.stdout_str(), "bye");
    drop(l);

    // Host shutdown(Write): the backend closes the whole connection, so the guest
    // program's answer after its EOF (wc's count) never reaches the host.
    let _wc = env.guest_listen(HALF, Some("wc -c"));
    let mut s = env.connect(HALF);
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(&[b'x'; 1000]).unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    let mut answer = Vec::new();
    match s.read_to_end(&mut answer) {
        Ok(_) => {}
        Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
        Err(e) => panic!("after the host's SHUT_WR: {e} (a hang would be a new backend bug)"),
    }
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.trim().is_empty(),
        "the guest's answer {answer:?} arrived after the host's SHUT_WR: the backend \
         propagates half-close now; test the half-close for real"
    );
}

/// Another backend limit, pinned: a host closing a guest's connection with data still
/// unread (a Unix socket then resets its peer) is never passed on to the guest, whose
/// connection hangs. hvsock's listeners therefore read away what a refused guest sent
/// before closing (see `registry_enforcement`); a host program that drops a connection
/// it has not read to the end leaves the guest waiting over this backend.
pub(super) fn host_close_with_unread_data_is_lost(env: &Env) {
    let port = 7100;
    let l = std::os::unix::net::UnixListener::bind(env.vm.host_port_path(port)).unwrap();
    let host = thread::spawn(move || {
        let (s, _) = l.accept().unwrap();
        // Let the guest's bytes arrive, then close without reading them.
        thread::sleep(Duration::from_millis(300));
        drop(s);
    });
    let out = env.guest(&format!(
        "timeout 3 {GUEST_HELPER} send 2 {port} unread; echo \"status=$?\""
    ));
    host.join().unwrap();
    let _ = std::fs::remove_file(env.vm.host_port_path(port));
    assert!(
        matches!(out.stdout_str().trim(), "status=124" | "status=143"),
        "the guest saw the host's close of a connection with unread data: the backend \
         passes resets on now ({out:?}); hvsock's drain before a refusal is no longer needed"
    );
}

/// The guest listener killed: an open connection ends (no hang) and new connections
/// are refused (ConnectionRefused) instead of hanging.
pub(super) fn guest_listener_killed(env: &Env) {
    // Without --exec the listener itself serves the connection.
    let listener = env.guest_listen(KILLED, None);
    let mut open = env.connect(KILLED);
    open.write_all(b"still there?\n").unwrap();
    let t = Instant::now();
    let out = env.guest(&format!("kill -9 {}", listener.pid));
    assert!(out.success(), "{out:?}");
    // The open connection ends.
    open.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    match open.read(&mut [0u8; 64]) {
        Ok(0) => {}
        Ok(n) => panic!("{n} unexpected bytes"),
        Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
        Err(e) => panic!("the open connection did not end: {e}"),
    }
    let ended = t.elapsed();
    // New connections are refused; the first failure is a refusal, not a timeout.
    let deadline = Instant::now() + Duration::from_secs(10);
    let e = loop {
        match env.host.connect((VM_ID, KILLED)) {
            Err(e) => break e,
            Ok(_) => assert!(Instant::now() < deadline, "still accepted after the kill"),
        }
        thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(e.kind(), ErrorKind::ConnectionRefused, "{e}");
    let t2 = Instant::now();
    let e = env.host.connect((VM_ID, KILLED)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ConnectionRefused, "{e}");
    eprintln!(
        "listener killed: open connection ended after {ended:?}, refused ({e}) in {:?}",
        t2.elapsed()
    );
    let out = env
        .cli()
        .args(["connect", &format!("{VM_NAME}:killed")])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("hvsock: "), "{err}");
}
