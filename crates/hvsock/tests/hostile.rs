#![cfg(unix)]
//! Hostile peers: a VM guest forging a local preamble, a local partition reaching for
//! host-only addresses and siblings, one VM opening more connections than its share, and
//! a flood of half-open local connections. Each test is bounded to a few seconds.

mod common;
#[path = "common/vmm.rs"]
#[allow(dead_code)]
mod vmm;
use common::*;
use hvsock::handshake::Preamble;
use hvsock::{Guid, HvAddr, HvListener, HvStream, VmId};
use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use vmm::FakeVmm;

const VM2: VmId = VmId(Guid::from_u128(0xdddddddd_0000_4000_8000_00000000000d));
const WAIT: Duration = Duration::from_secs(3);

fn at(v: VmId, s: hvsock::ServiceId) -> HvAddr {
    HvAddr::new(v, s)
}

/// The listener sockets (not lock files) in a folder of the runtime dir.
fn sockets_in(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_none_or(|e| e != "lock"))
        .collect()
}

/// The folder of the only local partition with listeners.
fn partition_folder(f: &Fixture) -> PathBuf {
    let v: Vec<PathBuf> = std::fs::read_dir(&f.dirs.runtime)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("p-"))
        .collect();
    assert_eq!(v.len(), 1, "{v:?}");
    v[0].clone()
}

/// Sends a preamble on a raw connection and returns the listener's whole answer.
fn raw_attempt(sock: &Path, caller: VmId) -> Vec<u8> {
    let mut s = UnixStream::connect(sock).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    s.write_all(
        &Preamble {
            caller,
            service: SVC,
        }
        .encode(),
    )
    .unwrap();
    let mut reply = Vec::new();
    s.read_to_end(&mut reply).unwrap();
    reply
}

/// Accepts in a thread and hands every stream over.
fn accept_all(l: HvListener) -> mpsc::Receiver<(HvStream, VmId)> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        while let Ok((s, peer)) = l.accept() {
            if tx.send((s, peer.vm_id)).is_err() {
                return;
            }
        }
    });
    rx
}

/// Whether the peer closed `s` without a byte (EOF or reset) within [`WAIT`].
fn closed_by_peer(s: &mut UnixStream) -> bool {
    s.set_read_timeout(Some(WAIT)).unwrap();
    let mut b = [0u8; 1];
    match s.read(&mut b) {
        Ok(0) => true,
        Err(e) => e.kind() == ErrorKind::ConnectionReset,
        Ok(_) => false,
    }
}

/// `msg` written to `from` arrives, whole and unchanged, at `to`.
fn carries(from: &mut impl Write, to: &mut impl Read, msg: &[u8]) {
    from.write_all(msg).unwrap();
    let mut got = vec![0u8; msg.len()];
    to.read_exact(&mut got).unwrap();
    assert_eq!(got, msg);
}

#[test]
fn vm_forging_a_local_preamble_stays_the_vm_and_its_bytes_stay_data() {
    let f = Fixture::new();
    let vmm = FakeVmm::for_vm(&f, "vm1", VM);
    for bind in [VmId::ZERO, VmId::CHILDREN, VM] {
        let l = f.host().bind(at(bind, SVC)).unwrap();
        // Claim to be the host itself, a local partition, another VM.
        for claim in [VmId::ZERO, A, VM2] {
            let mut g = vmm.guest_connect(SVC.port()).unwrap();
            let mut forged = Preamble {
                caller: claim,
                service: SVC,
            }
            .encode()
            .to_vec();
            forged.extend_from_slice(b"then data");
            g.write_all(&forged).unwrap();
            let (mut s, peer) = l.accept().unwrap();
            assert_eq!(peer, at(VM, SVC), "bound {bind:?}, claimed {claim:?}");
            assert_eq!(s.peer_addr().unwrap().vm_id, VM);
            // Every forged byte reaches the application as data, in order.
            let mut got = vec![0u8; forged.len()];
            s.read_exact(&mut got).unwrap();
            assert_eq!(got, forged);
            // And no hvsock reply was injected towards the guest.
            carries(&mut s, &mut g, b"hello vm");
        }
    }
    // Listeners that serve no VM leave no socket for the VMM to reach.
    let _only_a = f.host().bind(at(A, SVC)).unwrap();
    let _lo = f.host().bind(at(VmId::LOOPBACK, SVC)).unwrap();
    let _in_a = f.local("a").bind(at(VmId::ZERO, SVC)).unwrap();
    let e = vmm.guest_connect(SVC.port()).unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::NotFound | ErrorKind::ConnectionRefused),
        "{e}"
    );
}

#[test]
fn local_partition_cannot_bind_host_only_addresses_or_reach_siblings() {
    let f = Fixture::new();
    f.add_hybrid("vm1", VM);
    let a = f.local("a");
    // Binding for a VM, a sibling, or by their names: only the host serves them.
    for addr in ["vm1:echo", "b:echo"] {
        let e = a.bind(addr).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{addr}: {e}");
    }
    for v in [VM, B] {
        assert_eq!(
            a.bind(at(v, SVC)).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
    }
    // Reaching a sibling or a VM, by name or id: refused before any I/O.
    let in_b = accept_all(f.local("b").bind(at(VmId::ZERO, SVC)).unwrap());
    for addr in ["b:echo", "vm1:echo"] {
        let e = a.connect(addr).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::PermissionDenied, "{addr}: {e}");
    }
    assert_eq!(
        a.connect(at(B, SVC)).unwrap_err().kind(),
        ErrorKind::PermissionDenied
    );
    // Going around the library: a raw connection to the sibling's socket, claiming to be
    // partition a, is refused by b's listener (siblings are not in each other's tree).
    let b_sock = sockets_in(&partition_folder(&f)).pop().unwrap();
    let reply = raw_attempt(&b_sock, A);
    assert_eq!(&reply[..4], b"HV\x01\x02", "refused");
    assert!(
        String::from_utf8_lossy(&reply[6..]).contains("may not connect"),
        "{reply:?}"
    );
    // A claim of a VM's id or an unknown id is refused as well.
    for claim in [VM, VmId(Guid::from_u128(99))] {
        assert_eq!(&raw_attempt(&b_sock, claim)[..4], b"HV\x01\x02");
    }
    assert!(
        in_b.try_recv().is_err(),
        "b's listener handed something over"
    );
    // The host's listener for partition b only refuses a claim of partition a.
    let only_b = accept_all(f.host().bind(at(B, SVC)).unwrap());
    let host_sock = sockets_in(&f.dirs.runtime.join("host")).pop().unwrap();
    let reply = raw_attempt(&host_sock, A);
    assert_eq!(&reply[..4], b"HV\x01\x02", "refused");
    assert!(
        String::from_utf8_lossy(&reply[6..]).contains("does not accept"),
        "{reply:?}"
    );
    assert!(only_b.try_recv().is_err());
}

#[test]
fn one_vm_over_its_connection_cap_does_not_starve_another() {
    let f = Fixture::new();
    f.settings("max_connections_per_partition = 3\n");
    let vmm1 = FakeVmm::for_vm(&f, "vm1", VM);
    let vmm2 = FakeVmm::for_vm(&f, "vm2", VM2);
    let rx = accept_all(f.host().bind(at(VmId::ZERO, SVC)).unwrap());
    let mut held = Vec::new();
    let mut guests = Vec::new();
    for _ in 0..3 {
        guests.push(vmm1.guest_connect(SVC.port()).unwrap());
        let (s, vm) = rx.recv_timeout(WAIT).unwrap();
        assert_eq!(vm, VM);
        held.push(s);
    }
    // Over the cap: the host closes them at once and never hands them over.
    for _ in 0..5 {
        let mut g = vmm1.guest_connect(SVC.port()).unwrap();
        assert!(closed_by_peer(&mut g), "connection over the cap kept open");
    }
    // The other VM is served all the same, and is the next one handed over.
    let mut g2 = vmm2.guest_connect(SVC.port()).unwrap();
    let (mut s2, vm) = rx.recv_timeout(WAIT).unwrap();
    assert_eq!(vm, VM2);
    carries(&mut s2, &mut g2, b"vm2 ok");
    // The first three still work.
    for (s, g) in held.iter_mut().zip(&mut guests) {
        g.write_all(b"x").unwrap();
        let mut one = [0u8; 1];
        s.read_exact(&mut one).unwrap();
    }
    // Closing one gives its place back.
    drop(held.pop());
    let _g = vmm1.guest_connect(SVC.port()).unwrap();
    assert_eq!(rx.recv_timeout(WAIT).unwrap().1, VM);
    assert!(rx.try_recv().is_err(), "nothing else was handed over");
}

#[test]
fn half_open_flood_does_not_lock_out_well_behaved_partitions() {
    let f = Fixture::new();
    // A handshake timeout longer than the test: the flood keeps every slot taken.
    f.settings("max_pending_handshakes = 4\nhandshake_timeout_ms = 20000\n");
    let rx = accept_all(f.host().bind(at(VmId::ZERO, SVC)).unwrap());
    let sock = sockets_in(&f.dirs.runtime.join("host")).pop().unwrap();
    let mut flood: Vec<UnixStream> = (0..16)
        .map(|_| {
            let s = UnixStream::connect(&sock).unwrap();
            s.set_nonblocking(true).unwrap();
            s
        })
        .collect();
    // 4 silent peers hold the handshake slots; the 12 pushed out were told "busy".
    let mut answered = [false; 16];
    let end = Instant::now() + WAIT;
    while answered.iter().filter(|d| **d).count() < 12 {
        assert!(Instant::now() < end, "the flood was never answered");
        for (s, done) in flood.iter_mut().zip(&mut answered) {
            let mut reply = [0u8; 512];
            if let (false, Ok(n)) = (*done, s.read(&mut reply))
                && n > 0
            {
                assert_eq!(&reply[..4], b"HV\x01\x04", "busy");
                let msg = String::from_utf8_lossy(&reply[6..n]);
                assert!(msg.contains("max_pending_handshakes"), "{msg}");
                *done = true;
            }
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    // Partitions using the library, whose preamble follows the connect at once, are
    // served every time while the slots are taken, with a listener already waiting in
    // accept (the racy case: it may look for the preamble before it is there).
    for i in 0..40 {
        let (name, id) = if i % 2 == 0 { ("a", A) } else { ("b", B) };
        let mut c = f
            .local(name)
            .connect_timeout(at(VmId::PARENT, SVC), WAIT)
            .unwrap_or_else(|e| panic!("connect {i} from {name}: {e}"));
        let (mut s, peer) = rx.recv_timeout(WAIT).unwrap();
        assert_eq!(peer, id);
        carries(&mut c, &mut s, b"data");
    }
    // The silent peers never got anything but "busy" (or are still waiting).
    for (s, done) in flood.iter_mut().zip(answered) {
        let mut b = [0u8; 512];
        match s.read(&mut b) {
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Ok(0) => {}
            Ok(n) => {
                assert!(!done, "more bytes after the busy reply");
                assert_eq!(&b[..4], b"HV\x01\x04", "busy, {n} bytes");
            }
            Err(e) => panic!("{e}"),
        }
    }
}

#[test]
fn runtime_dir_set_up_by_someone_else_is_refused() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let f = Fixture::new();
    let chmod = |mode| {
        std::fs::set_permissions(&f.dirs.runtime, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    let refused = |want: &str| {
        let e = f.host().bind(at(VmId::ZERO, SVC)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::PermissionDenied, "{e}");
        assert!(e.to_string().contains(want), "{e}");
        let e = f.local("a").connect(at(VmId::PARENT, SVC)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::PermissionDenied, "{e}");
        assert!(e.to_string().contains(want), "{e}");
    };
    // Writable by every user: anyone could put their own socket in a listener's place.
    std::fs::create_dir(&f.dirs.runtime).unwrap();
    chmod(0o777);
    refused("writable by every user");
    chmod(0o700);
    // Made in advance by another user (say a `/tmp/hvsock-UID` squatted before us).
    let root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
    if root {
        const NOBODY: u32 = 65534;
        std::os::unix::fs::chown(&f.dirs.runtime, Some(NOBODY), Some(NOBODY)).unwrap();
        refused("belongs to uid 65534");
        // Unless an administrator gave it to the configured group.
        f.settings(&format!("group = \"{NOBODY}\"\n"));
        chmod(0o750);
        let rx = accept_all(f.host().bind(at(VmId::ZERO, SVC)).unwrap());
        f.local("a").connect(at(VmId::PARENT, SVC)).unwrap();
        assert_eq!(rx.recv_timeout(WAIT).unwrap().1, A);
    } else {
        println!("skipped the owner check: needs root to give a dir to another user");
    }
}

/// A local listener (another partition) whose refusal carries terminal escape sequences:
/// the connecting side's error names the refusal with every control character escaped,
/// so printing it cannot drive the user's terminal.
#[test]
fn a_listeners_refusal_text_cannot_drive_the_terminal() {
    use hvsock::handshake::{PREAMBLE_LEN, Status, encode_reply};
    let f = Fixture::new();
    // A real listener shows where the host's socket lives; a hostile one takes its place.
    let l = f.host().bind(at(VmId::CHILDREN, SVC)).unwrap();
    let sock = f.host_listener_socket();
    std::fs::remove_file(&sock).unwrap();
    let raw = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let evil = "denied\x1b]0;pwned\x07\x1b[2J\r\u{202e}";
    let server = std::thread::spawn(move || {
        let (mut s, _) = raw.accept().unwrap();
        let mut pre = [0u8; PREAMBLE_LEN];
        s.read_exact(&mut pre).unwrap();
        s.write_all(&encode_reply(Status::Refused, evil)).unwrap();
    });
    let e = f
        .local("a")
        .connect(at(VmId::PARENT, SVC))
        .expect_err("the hostile listener refuses");
    server.join().unwrap();
    drop(l);
    let text = e.to_string();
    assert!(text.contains("denied"), "{text}");
    assert!(
        !text.chars().any(|c| c.is_control() || c == '\u{202e}'),
        "control characters reached the error text: {text:?}"
    );
    assert!(text.contains("\\u{1b}]0;pwned"), "{text}");
}
