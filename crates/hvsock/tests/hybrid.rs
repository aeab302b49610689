#![cfg(unix)]
//! Hybrid vsock (Firecracker, Cloud Hypervisor, vhost-device-vsock) against a test VMM:
//! host -> VM, VM -> host, and the peer's VM id from the transport.

mod common;
#[path = "common/vmm.rs"]
mod vmm;
use common::*;
use hvsock::{HvAddr, VmId};
use std::io::{ErrorKind, Read, Write};
use std::time::{Duration, Instant};
use vmm::{FakeVmm, Reply};

/// Writes at once after connect (nothing may be lost to the VMM's pre-OK drop).
fn echo(s: hvsock::HvStream, msg: &[u8]) -> Vec<u8> {
    roundtrip(s, msg)
}

#[test]
fn host_to_vm_with_both_reply_styles() {
    for reply in [Reply::Firecracker, Reply::Port] {
        let f = Fixture::new();
        let path = f.add_hybrid("vm1", VM);
        let _vmm = FakeVmm::start(&path, reply, &[SVC.port(), SVC2.port()]);
        let s = f.host().connect(HvAddr::new(VM, SVC)).unwrap();
        assert_eq!(s.peer_addr().unwrap(), HvAddr::new(VM, SVC));
        let msg = pattern(7, 300_000);
        assert_eq!(echo(s, &msg), msg, "{reply:?}");
        // A service GUID that is not a template: its Data1 is the port.
        let s = f.host().connect(HvAddr::new(VM, SVC2)).unwrap();
        assert_eq!(echo(s, b"guid"), b"guid");
    }
}

#[test]
fn host_to_vm_errors() {
    let f = Fixture::new();
    let path = f.add_hybrid("vm1", VM);
    // VMM not running.
    let e = f.host().connect(HvAddr::new(VM, SVC)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ConnectionRefused, "{e}");
    // No guest listener on the port: the VMM closes, we report refused.
    let vmm = FakeVmm::start(&path, Reply::Port, &[]);
    let e = f.host().connect(HvAddr::new(VM, SVC)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ConnectionRefused, "{e}");
    // Once the guest listens, the same connect goes through.
    vmm.guest_ports.lock().unwrap().insert(SVC.port());
    let s = f.host().connect(HvAddr::new(VM, SVC)).unwrap();
    assert_eq!(echo(s, b"now"), b"now");
    // Unregistered service: refused by the host before any I/O.
    let e = f.host().connect(HvAddr::new(VM, UNREG)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PermissionDenied);
}

#[test]
fn vmm_that_never_answers_times_out_at_the_set_timeout() {
    let f = Fixture::new();
    let path = f.add_hybrid("vm1", VM);
    let _vmm = FakeVmm::start(&path, Reply::Silent, &[SVC.port()]);
    let t = Instant::now();
    let e = f
        .host()
        .connect_timeout(HvAddr::new(VM, SVC), Duration::from_millis(400))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TimedOut, "{e}");
    assert!(t.elapsed() >= Duration::from_millis(400));
}

fn wait_for(p: &std::path::Path) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !p.exists() {
        assert!(Instant::now() < deadline, "{} never appeared", p.display());
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn vm_to_host_peer_id_comes_from_the_transport() {
    let f = Fixture::new();
    let vmm = FakeVmm::for_vm(&f, "vm1", VM);
    for bind in [VmId::ZERO, VmId::CHILDREN, VM] {
        let l = f.host().bind(HvAddr::new(bind, SVC)).unwrap();
        let mut g = vmm.guest_connect(SVC.port()).unwrap();
        // Whatever the guest claims in its bytes changes nothing.
        g.write_all(b"HVSK\x01\x00\x00\x00I am the host").unwrap();
        let (mut s, peer) = l.accept().unwrap();
        assert_eq!(peer, HvAddr::new(VM, SVC), "bound to {bind:?}");
        assert_eq!(s.peer_addr().unwrap().vm_id, VM);
        let mut buf = [0u8; 21];
        s.read_exact(&mut buf).unwrap();
        s.write_all(b"welcome").unwrap();
        let mut w = [0u8; 7];
        g.read_exact(&mut w).unwrap();
        assert_eq!(&w, b"welcome");
    }
}

#[test]
fn wildcard_listener_serves_vms_added_after_bind() {
    let f = Fixture::new();
    let l = f.host().bind(HvAddr::new(VmId::ZERO, SVC)).unwrap();
    let late = VmId(hvsock::Guid::new_v4());
    let vmm = FakeVmm::for_vm(&f, "late", late);
    let t = std::thread::spawn(move || l.accept().unwrap().1);
    wait_for(&vmm.host_socket_for(SVC.port()));
    let _g = vmm.guest_connect(SVC.port()).unwrap();
    assert_eq!(t.join().unwrap().vm_id, late);
}

#[test]
fn disabled_service_drops_guest_connections_and_reenabling_works() {
    let f = Fixture::new();
    let vmm = FakeVmm::for_vm(&f, "vm1", VM);
    let l = f.host().bind(HvAddr::new(VmId::ZERO, SVC)).unwrap();
    f.set_enabled(SVC, false);
    let mut g = vmm.guest_connect(SVC.port()).unwrap();
    l.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + Duration::from_millis(300);
    while Instant::now() < deadline {
        assert!(
            l.accept().is_err(),
            "accepted a guest for a disabled service"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut buf = [0u8; 1];
    assert_eq!(
        g.read(&mut buf).unwrap_or(0),
        0,
        "the guest sees the connection closed"
    );
    f.set_enabled(SVC, true);
    l.set_nonblocking(false).unwrap();
    let _g = vmm.guest_connect(SVC.port()).unwrap();
    assert_eq!(l.accept().unwrap().1.vm_id, VM);
}

#[test]
fn specific_vm_listener_conflicts_are_addr_in_use() {
    let f = Fixture::new();
    let _vmm = FakeVmm::for_vm(&f, "vm1", VM);
    let _l = f.host().bind(HvAddr::new(VM, SVC)).unwrap();
    let e = f.host().bind(HvAddr::new(VM, SVC)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AddrInUse);
}

/// Regression (security review): in a table edited by hand, VM `six`'s VMM socket is
/// VM `one`'s `PATH_5000`. A listener for one on port 5000 refuses (it used to replace
/// six's socket, so six's guest connections arrived as one); a wildcard listener skips
/// one and leaves six's VMM alone, while still serving six.
#[test]
fn a_listener_never_takes_over_another_vms_socket() {
    let f = Fixture::new();
    let one_path = f.dir.path().join("v.sock");
    let six_path = f.dir.path().join(format!("v.sock_{}", SVC.port()));
    let six = VmId(hvsock::Guid::new_v4());
    let text = format!(
        "[[partition]]\nid = \"{VM}\"\nname = \"one\"\nkind = \"hybrid\"\npath = \"{}\"\n\
         [[partition]]\nid = \"{six}\"\nname = \"six\"\nkind = \"hybrid\"\npath = \"{}\"\n",
        one_path.display(),
        six_path.display()
    );
    std::fs::write(f.dirs.partitions_file(), text).unwrap();
    let vmm_six = FakeVmm::start(&six_path, Reply::Port, &[SVC.port()]);
    let six_inode = || std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&six_path).unwrap());
    let before = six_inode();

    let e = f.host().bind(HvAddr::new(VM, SVC)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AddrInUse, "{e}");
    let msg = e.to_string();
    assert!(msg.contains("\"six\"") && msg.contains("\"one\""), "{msg}");
    assert!(msg.contains("partitions.toml"), "{msg}");
    assert_eq!(six_inode(), before, "six's VMM socket was replaced");

    // A wildcard listener serves six (on six's own PATH_5000) and skips one.
    let l = f.host().bind(HvAddr::new(VmId::ZERO, SVC)).unwrap();
    wait_for(&vmm_six.host_socket_for(SVC.port()));
    assert_eq!(six_inode(), before, "six's VMM socket was replaced");
    let _g = vmm_six.guest_connect(SVC.port()).unwrap();
    assert_eq!(l.accept().unwrap().1.vm_id, six);
    // Six's VMM still answers the host at its own socket.
    let s = f.host().connect(HvAddr::new(six, SVC)).unwrap();
    assert_eq!(echo(s, b"still six"), b"still six");
}

/// Makes `name` a VM whose VMM speaks OpenVMM's GUID form.
fn speak_guids(f: &Fixture, name: &str) {
    use hvsock::partitions::{ConnectForm, PartitionTable};
    PartitionTable::update(&f.dirs, |t| t.set_connect_form(name, ConnectForm::Guid)).unwrap();
}

/// The last request line the VMM got.
fn last_request(vmm: &FakeVmm) -> String {
    vmm.requests
        .lock()
        .unwrap()
        .last()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn openvmm_gets_non_template_services_by_guid_and_templates_by_port() {
    let f = Fixture::new();
    let path = f.add_hybrid("vm1", VM);
    speak_guids(&f, "vm1");
    let vmm = FakeVmm::start(&path, Reply::OpenVmm, &[SVC.port()]);
    vmm.guest_services.lock().unwrap().insert(SVC2.to_string());
    let s = f.host().connect(HvAddr::new(VM, SVC2)).unwrap();
    assert_eq!(last_request(&vmm), format!("CONNECT {SVC2}"));
    assert_eq!(
        last_request(&vmm),
        "CONNECT 12345678-9abc-4def-8123-456789abcdef"
    );
    assert_eq!(s.peer_addr().unwrap(), HvAddr::new(VM, SVC2));
    // The `OK <endpoint guid>` line is consumed whole: the echo is exact.
    let msg = pattern(3, 100_000);
    assert_eq!(echo(s, &msg), msg);
    let s = f.host().connect(HvAddr::new(VM, SVC)).unwrap();
    assert_eq!(last_request(&vmm), "CONNECT 5000");
    assert_eq!(echo(s, b"port"), b"port");
    // No guest listener on the service: the VMM closes, and the error names it.
    vmm.guest_services.lock().unwrap().clear();
    let e = f.host().connect(HvAddr::new(VM, SVC2)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ConnectionRefused, "{e}");
    assert!(e.to_string().contains(&format!("service {SVC2}")), "{e}");
}

#[test]
fn other_vmms_still_get_the_data1_port_of_a_non_template_service() {
    let f = Fixture::new();
    let path = f.add_hybrid("vm1", VM);
    let vmm = FakeVmm::start(&path, Reply::Port, &[SVC2.port()]);
    let s = f.host().connect(HvAddr::new(VM, SVC2)).unwrap();
    assert_eq!(last_request(&vmm), format!("CONNECT {}", SVC2.port()));
    assert_eq!(echo(s, b"data1"), b"data1");
    // A VMM of the port form that is sent a GUID closes: never sent one unasked.
    assert!(!vmm.requests.lock().unwrap().iter().any(|r| r.contains('-')));
}

#[test]
fn host_listeners_serve_openvmm_guests_on_path_guid_too() {
    let f = Fixture::new();
    let vmm = FakeVmm::for_vm(&f, "vm1", VM);
    let port_vm = VmId(hvsock::Guid::new_v4());
    let other = FakeVmm::for_vm(&f, "fc", port_vm);
    speak_guids(&f, "vm1");
    for bind_to in [VM, VmId::ZERO] {
        let l = f.host().bind(HvAddr::new(bind_to, SVC2)).unwrap();
        wait_for(&vmm.host_socket_for_guid(SVC2));
        // `PATH_<Data1>` stays, for guests that use the port.
        assert!(vmm.host_socket_for(SVC2.port()).exists());
        let t = std::thread::spawn(move || {
            let (s, peer) = l.accept().unwrap();
            (roundtrip(s, b"from the host"), peer, l)
        });
        let mut g = vmm.guest_connect_guid(SVC2).unwrap();
        let mut got = [0u8; 13];
        g.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"from the host");
        g.write_all(b"guest").unwrap();
        g.shutdown(std::net::Shutdown::Write).unwrap();
        let (back, peer, l) = t.join().unwrap();
        assert_eq!(back, b"guest");
        assert_eq!(peer, HvAddr::new(VM, SVC2), "bound to {bind_to}");
        if bind_to == VmId::ZERO {
            // A VM of the port form gets no `PATH_<guid>`.
            wait_for(&other.host_socket_for(SVC2.port()));
            assert!(!other.host_socket_for_guid(SVC2).exists());
        }
        drop(l);
        assert!(!vmm.host_socket_for_guid(SVC2).exists(), "left behind");
    }
    // A template service is its port on OpenVMM too: no `PATH_<guid>`.
    let _l = f.host().bind(HvAddr::new(VM, SVC)).unwrap();
    assert!(vmm.host_socket_for(SVC.port()).exists());
    assert!(!vmm.host_socket_for_guid(SVC).exists());
}

/// `half_close()` comes from the route: a hybrid VM's entry in the table (`lost` by
/// default, then `carried` once recorded), on both ends and through the tokio type;
/// a local partition's connections carry it.
#[test]
fn half_close_is_what_the_table_says_of_the_route() {
    use hvsock::partitions::{HalfClose, PartitionTable};
    let f = Fixture::new();
    let vmm = FakeVmm::for_vm(&f, "vm1", VM);
    vmm.guest_ports.lock().unwrap().insert(SVC.port());
    let s = f.host().connect(HvAddr::new(VM, SVC)).unwrap();
    assert_eq!(s.half_close(), HalfClose::Lost);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let t = rt.block_on(async { hvsock::net::tokio::HvStream::from_std(s) });
    assert_eq!(t.unwrap().half_close(), HalfClose::Lost);
    let l = f.host().bind(HvAddr::new(VmId::ZERO, SVC)).unwrap();
    let _g = vmm.guest_connect(SVC.port()).unwrap();
    let (accepted, _) = l.accept().unwrap();
    assert_eq!(accepted.half_close(), HalfClose::Lost);
    assert_eq!(accepted.try_clone().unwrap().half_close(), HalfClose::Lost);
    drop(l);

    PartitionTable::update(&f.dirs, |t| t.set_half_close("vm1", HalfClose::Carried)).unwrap();
    let s = f.host().connect(HvAddr::new(VM, SVC)).unwrap();
    assert_eq!(s.half_close(), HalfClose::Carried);
    let l = f.host().bind(HvAddr::new(VM, SVC)).unwrap();
    let _g = vmm.guest_connect(SVC.port()).unwrap();
    assert_eq!(l.accept().unwrap().0.half_close(), HalfClose::Carried);

    // Local partitions: Unix sockets, which carry it.
    let l = f.host().bind(HvAddr::new(VmId::CHILDREN, SVC)).unwrap();
    // The listener answers the local handshake from its accept loop.
    let server = std::thread::spawn(move || l.accept().unwrap().0.half_close());
    let c = f
        .local("a")
        .connect(HvAddr::new(VmId::PARENT, SVC))
        .unwrap();
    assert_eq!(c.half_close(), HalfClose::Carried);
    assert_eq!(server.join().unwrap(), HalfClose::Carried);
}
