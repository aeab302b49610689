#![cfg(unix)]
//! [`hvsock::net::Dialer`]: a connect that waits for the VM, against the test VMM and
//! local listeners that appear after the dial started.

mod common;
#[path = "common/vmm.rs"]
#[allow(dead_code)]
mod vmm;
use common::*;
use hvsock::net::{ConnectOptions, Dialer};
use hvsock::{HvAddr, HvError};
use std::io::ErrorKind;
use std::thread;
use std::time::{Duration, Instant};
use vmm::{FakeVmm, Reply};

const SECOND: Duration = Duration::from_secs(1);

#[test]
fn a_vmm_that_appears_after_a_second_is_reached() {
    let f = Fixture::new();
    let path = f.add_hybrid("vm1", VM);
    // First the VMM's socket is missing, then the guest does not listen yet (the VMM
    // closes before `OK`), then it does.
    let late = thread::spawn(move || {
        thread::sleep(SECOND / 2);
        let vmm = FakeVmm::start(&path, Reply::Port, &[]);
        thread::sleep(SECOND / 2);
        vmm.guest_ports.lock().unwrap().insert(SVC.port());
        vmm
    });
    let t = Instant::now();
    let s = Dialer::new(Duration::from_secs(20))
        .connect(&f.host(), HvAddr::new(VM, SVC))
        .unwrap();
    assert!(t.elapsed() >= SECOND, "{:?}", t.elapsed());
    assert_eq!(roundtrip(s, b"up"), b"up");
    let vmm = late.join().unwrap();
    // It tried while the socket was missing and while the guest was not listening.
    assert!(!vmm.requests.lock().unwrap().is_empty());
}

#[test]
fn a_local_listener_that_appears_after_a_second_is_reached_from_tokio() {
    let f = Fixture::new();
    let host = f.host();
    let late = thread::spawn(move || {
        thread::sleep(SECOND);
        let l = host.bind(HvAddr::new(hvsock::VmId::CHILDREN, SVC)).unwrap();
        let (s, peer) = l.accept().unwrap();
        (roundtrip(s, b"parent"), peer)
    });
    let rt = two_worker_runtime(None);
    let child = f.local("a");
    let t = Instant::now();
    let s = rt
        .block_on(
            Dialer::new(Duration::from_secs(20))
                .connect_async(&child, HvAddr::new(hvsock::VmId::PARENT, SVC)),
        )
        .unwrap();
    assert!(t.elapsed() >= SECOND, "{:?}", t.elapsed());
    rt.block_on(async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = s;
        s.write_all(b"child").await.unwrap();
        s.shutdown().await.unwrap();
        let mut got = Vec::new();
        s.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"parent");
    });
    let (got, peer) = late.join().unwrap();
    assert_eq!(got, b"child");
    assert_eq!(peer.vm_id, A);
}

#[test]
fn permanent_errors_fail_at_once() {
    let f = Fixture::new();
    let path = f.add_hybrid("vm1", VM);
    let _vmm = FakeVmm::start(&path, Reply::Port, &[UNREG.port()]);
    let dialer = Dialer::new(Duration::from_secs(30));
    let t = Instant::now();
    let e = dialer
        .connect(&f.host(), HvAddr::new(VM, UNREG))
        .unwrap_err();
    assert!(
        matches!(HvError::of(&e), Some(HvError::NotRegistered { .. })),
        "{e}"
    );
    f.set_enabled(SVC, false);
    let e = dialer.connect(&f.host(), HvAddr::new(VM, SVC)).unwrap_err();
    assert!(
        matches!(HvError::of(&e), Some(HvError::Disabled { .. })),
        "{e}"
    );
    let nosuch = hvsock::VmId(hvsock::Guid::new_v4());
    let e = dialer
        .connect(&f.host(), HvAddr::new(nosuch, SVC))
        .unwrap_err();
    assert!(
        matches!(HvError::of(&e), Some(HvError::UnknownPartition { .. })),
        "{e}"
    );
    // A partition may not reach its sibling.
    let e = dialer
        .connect(&f.local("a"), HvAddr::new(B, SVC))
        .unwrap_err();
    assert!(
        matches!(HvError::of(&e), Some(HvError::NotAllowed { .. })),
        "{e}"
    );
    let e = dialer.connect(&f.host(), "nosuchvm:echo").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert!(t.elapsed() < SECOND, "{:?}", t.elapsed());
}

#[test]
fn the_deadline_is_kept_and_the_error_says_what_happened() {
    let f = Fixture::new();
    f.add_hybrid("vm1", VM); // no VMM ever
    let wait = Duration::from_millis(700);
    let t = Instant::now();
    let e = Dialer::new(wait)
        .connect(&f.host(), HvAddr::new(VM, SVC))
        .unwrap_err();
    let took = t.elapsed();
    // It stops when less than an attempt's worth (5 ms) is left, never after.
    let early = Duration::from_millis(10);
    assert!(took >= wait - early && took < wait + SECOND / 2, "{took:?}");
    assert_eq!(e.kind(), ErrorKind::TimedOut);
    let Some(HvError::GaveUp {
        waited,
        attempts,
        last,
    }) = HvError::of(&e)
    else {
        panic!("{e:?}");
    };
    assert!(
        *waited >= wait - Duration::from_millis(10) && *waited <= took,
        "{waited:?}"
    );
    // 50 ms doubling to a 1 s cap: about five tries in 700 ms.
    assert!((3..=12).contains(attempts), "{attempts}");
    assert_eq!(last.error().kind(), ErrorKind::ConnectionRefused);
    assert!(last.to_string().contains("no VMM listens"), "{last}");
    assert!(e.to_string().starts_with("gave up after waiting"), "{e}");

    // A VMM that never answers: each attempt is cut to the time left.
    let path = f.dir.path().join("silent.vsock");
    let _vmm = FakeVmm::start(&path, Reply::Silent, &[SVC.port()]);
    hvsock::partitions::PartitionTable::update(&f.dirs, |t| {
        t.add(
            "silent",
            Some(B2),
            hvsock::partitions::PartitionKind::Hybrid { path },
        )
    })
    .unwrap();
    let t = Instant::now();
    let e = Dialer::new(Duration::from_millis(500))
        .options(ConnectOptions::new().timeout(Duration::from_secs(30)))
        .connect(&f.host(), HvAddr::new(B2, SVC))
        .unwrap_err();
    assert!(t.elapsed() < SECOND + SECOND / 2, "{:?}", t.elapsed());
    assert!(
        matches!(HvError::of(&e), Some(HvError::GaveUp { .. })),
        "{e}"
    );
}

const B2: hvsock::VmId = hvsock::VmId(hvsock::Guid::from_u128(0xb2));

#[test]
fn retries_are_counted() {
    let f = Fixture::new();
    f.add_hybrid("vm1", VM);
    let e = Dialer::new(Duration::from_secs(30))
        .retries(2)
        .retry_wait(Duration::from_millis(1))
        .connect(&f.host(), HvAddr::new(VM, SVC))
        .unwrap_err();
    assert!(
        matches!(HvError::of(&e), Some(HvError::GaveUp { attempts: 3, .. })),
        "{e}"
    );
}
