//! Steps: the registry enforced in both directions; a non-template service GUID.

use super::*;

/// An unregistered or disabled service is refused on the host in both directions;
/// enabling it again works without restarting anything.
pub(super) fn registry_enforcement(env: &Env) {
    // Unregistered, although the guest listens on it.
    let _unreg = env.guest_listen(UNREG, Some("cat"));
    let e = env.host.connect((VM_ID, UNREG)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PermissionDenied, "{e}");
    let out = env
        .cli()
        .args(["connect", &format!("{VM_NAME}:vsock:{}", UNREG.port())])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.starts_with("hvsock: ") && err.contains("not registered"),
        "{err}"
    );
    for bind in [VmId::ZERO, VM_ID] {
        let e = env.host.bind((bind, UNREG)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::PermissionDenied, "bind {bind}: {e}");
    }
    // So nothing on the host takes the guest's connection to it.
    let out = env.guest_connect("printf x", UNREG);
    assert!(!out.success(), "{out:?}");
    assert_eq!(out.stdout_str(), "");
    eprintln!(
        "guest connect to an unregistered service: {}",
        out.stderr_str().trim()
    );

    // Disabled / enabled, host -> guest.
    let _toggle = env.guest_listen(TOGGLE, Some("cat"));
    echo_check(&mut env.connect(TOGGLE), b"enabled");
    env.set_enabled("toggle", false);
    let e = env.host.connect((VM_ID, TOGGLE)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PermissionDenied, "{e}");
    let e = env.host.bind((VmId::ZERO, TOGGLE)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PermissionDenied, "{e}");
    env.set_enabled("toggle", true);
    echo_check(&mut env.connect(TOGGLE), b"enabled again");

    // Disabled after the bind, guest -> host: the guest's connection is dropped, the
    // listener never returns it; enabled again, the same listener accepts.
    let l = env.host.bind((VmId::ZERO, TOGGLE)).unwrap();
    env.set_enabled("toggle", false);
    // Several rounds: whether the guest's byte is already in when the host refuses
    // varies, and both cases must end the guest's connection.
    let rounds = 5;
    let guest_cmd = format!(
        "for i in $(seq {rounds}); do printf x | timeout 10 hvsock connect parent:vsock:{} \
         2>/dev/null; echo \"status=$?\"; done",
        TOGGLE.port()
    );
    let stop = AtomicBool::new(false);
    let (out, accepted) = thread::scope(|sc| {
        let acceptor = sc.spawn(|| {
            l.set_nonblocking(true).unwrap();
            let mut accepted = 0;
            while !stop.load(Ordering::Acquire) {
                match l.accept() {
                    Ok(_) => accepted += 1,
                    // Look rarely, so the guest's byte is in when the listener refuses.
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        thread::sleep(Duration::from_millis(300))
                    }
                    Err(e) => panic!("accept: {e}"),
                }
            }
            accepted
        });
        let out = env.guest(&guest_cmd);
        stop.store(true, Ordering::Release);
        (out, acceptor.join().unwrap())
    });
    assert_eq!(accepted, 0, "a disabled service's connection was accepted");
    let text = out.stdout_str();
    let statuses: Vec<&str> = text.lines().collect();
    assert_eq!(statuses.len(), rounds, "{out:?}");
    for st in &statuses {
        assert!(st.starts_with("status="), "the guest got data: {out:?}");
        // `timeout` ends a hung client with SIGTERM (status 143; 124 in coreutils).
        assert!(
            !matches!(*st, "status=124" | "status=143"),
            "a guest connection to a disabled service hung: {statuses:?}"
        );
    }
    eprintln!("guest connects to a disabled service: {statuses:?}");
    env.set_enabled("toggle", true);
    let (out, peer) = with_guest_client(
        &l,
        |mut s, peer| {
            let mut b = [0u8; 1];
            s.read_exact(&mut b).unwrap();
            s.write_all(b"welcome back").unwrap();
            peer
        },
        || env.guest_connect("printf x", TOGGLE),
    );
    assert_eq!(peer, HvAddr::new(VM_ID, TOGGLE));
    assert_eq!(out.stdout_str(), "welcome back", "{out:?}");
}

/// A service GUID that is not a vsock template works both ways; its port is Data1.
pub(super) fn non_template_guid(env: &Env) {
    assert_eq!(GUID_SVC.port(), 0x4856_536b);
    assert_eq!(GUID_SVC.vsock_port(), None);
    // Host -> guest: the guest listens on the GUID, i.e. on vsock port Data1 (the
    // harness's raw CONNECT to that port sees it).
    let _g = env.guest_listen(GUID_SVC, Some("cat"));
    let mut s = env.connect(GUID_SVC);
    assert_eq!(s.peer_addr().unwrap(), HvAddr::new(VM_ID, GUID_SVC));
    echo_check(&mut s, b"guid service");
    // Guest -> host: the host listens on the hybrid socket for port Data1.
    let l = env.host.bind((VM_ID, GUID_SVC)).unwrap();
    assert!(env.vm.host_port_path(GUID_SVC.port()).exists());
    let (out, peer) = with_guest_client(
        &l,
        |mut s, peer| {
            let mut b = [0u8; 4];
            s.read_exact(&mut b).unwrap();
            assert_eq!(&b, b"guid");
            s.write_all(b"GUID").unwrap();
            peer
        },
        || env.guest(&format!("printf guid | hvsock connect parent:{GUID_SVC}")),
    );
    assert_eq!(peer, HvAddr::new(VM_ID, GUID_SVC));
    assert_eq!(out.stdout_str(), "GUID", "{out:?}");
}
