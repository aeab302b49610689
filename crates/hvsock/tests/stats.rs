#![cfg(unix)]
//! The counters of `hvsock::stats` as other processes read them: exact totals under
//! load, one refusal reason per test, tokio streams.

mod common;
use common::*;
use hvsock::handshake::Preamble;
use hvsock::registry::Registry;
use hvsock::stats::{Counters, Reason, UNKNOWN_PEER, read_host};
use hvsock::{HvAddr, HvStream, ServiceId, VmId};
use hvsock_testkit::proc::limited::wait_for;
use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::mpsc::{Receiver, channel};

/// The counters of (`svc`, `vm`) over every live process's file.
fn counters(f: &Fixture, svc: ServiceId, vm: VmId) -> Counters {
    let host = read_host(&f.dirs.runtime);
    assert!(host.skipped.is_empty(), "{:?}", host.skipped);
    let mut c = Counters::default();
    for p in &host.processes {
        for s in p.slots.iter().filter(|s| s.service == svc && s.vm == vm) {
            c.add(&s.counters);
        }
    }
    c
}

/// A host listener on SVC whose accepted streams arrive on the receiver.
fn listener(f: &Fixture) -> Receiver<HvStream> {
    let l = f.host().bind(HvAddr::new(VmId::ZERO, SVC)).unwrap();
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        while let Ok((s, _)) = l.accept() {
            if tx.send(s).is_err() {
                return;
            }
        }
    });
    rx
}

/// N connections x M bytes from each of two partitions, the server answering half: every
/// total exact on both sides, nothing left open.
#[test]
fn counters_are_exact_under_load_from_two_partitions() {
    const N: usize = 6;
    const M: usize = 300_000;
    let f = Fixture::new();
    let rx = listener(&f);
    let server = std::thread::spawn(move || {
        let mut served = Vec::new();
        for _ in 0..2 * N {
            let mut s = rx.recv().unwrap();
            served.push(std::thread::spawn(move || {
                let mut got = Vec::new();
                s.read_to_end(&mut got).unwrap();
                assert_eq!(got.len(), M);
                s.write_all(&got[..M / 2]).unwrap();
            }));
        }
        for t in served {
            t.join().unwrap();
        }
    });
    let mut clients = Vec::new();
    for name in ["a", "b"] {
        for i in 0..N {
            let ctx = f.local(name);
            clients.push(std::thread::spawn(move || {
                let mut s = ctx.connect(HvAddr::new(VmId::PARENT, SVC)).unwrap();
                s.write_all(&pattern(i as u64, M)).unwrap();
                s.shutdown(std::net::Shutdown::Write).unwrap();
                let mut back = Vec::new();
                s.read_to_end(&mut back).unwrap();
                assert_eq!(back.len(), M / 2);
            }));
        }
    }
    for c in clients {
        c.join().unwrap();
    }
    server.join().unwrap();
    for vm in [A, B] {
        let c = counters(&f, SVC, vm);
        assert_eq!(c.accepted, N as u64, "{vm}");
        assert_eq!(c.bytes_in, (N * M) as u64, "{vm}");
        assert_eq!(c.bytes_out, (N * M / 2) as u64, "{vm}");
        assert_eq!(c.open, 0, "{vm}");
        assert_eq!(c.refused_total(), 0, "{vm}");
    }
    // The clients' side: both partitions name the host PARENT.
    let c = counters(&f, SVC, VmId::PARENT);
    assert_eq!(c.connected, 2 * N as u64);
    assert_eq!(c.bytes_out, (2 * N * M) as u64);
    assert_eq!(c.bytes_in, (2 * N * M / 2) as u64);
    assert_eq!(c.open, 0);
}

/// Tokio streams and their owned halves count like std ones; `open` lasts until both
/// halves are gone.
#[test]
fn tokio_streams_and_halves_are_counted() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let f = Fixture::new();
    let rt = two_worker_runtime(None);
    let (host, local) = (f.host(), f.local("a"));
    rt.block_on(async move {
        let l =
            hvsock::net::tokio::HvListener::bind_with(&host, HvAddr::new(VmId::ZERO, SVC)).unwrap();
        let server = tokio::spawn(async move {
            let (s, _) = l.accept().await.unwrap();
            let (mut r, mut w) = s.into_split();
            let mut buf = Vec::new();
            r.read_to_end(&mut buf).await.unwrap();
            w.write_all(&buf).await.unwrap();
            // EOF for the client, both halves still held.
            w.shutdown().await.unwrap();
            (r, w)
        });
        let mut c = hvsock::net::tokio::HvStream::connect_with(
            &local,
            HvAddr::new(VmId::PARENT, SVC),
            std::time::Duration::from_secs(5),
        )
        .await
        .unwrap();
        c.write_all(&[7u8; 10_000]).await.unwrap();
        c.shutdown().await.unwrap();
        let mut back = Vec::new();
        c.read_to_end(&mut back).await.unwrap();
        assert_eq!(back.len(), 10_000);
        let halves = server.await.unwrap();
        let open = counters(&f, SVC, A);
        assert_eq!((open.accepted, open.open), (1, 1));
        assert_eq!((open.bytes_in, open.bytes_out), (10_000, 10_000));
        drop(halves);
        assert_eq!(counters(&f, SVC, A).open, 0);
    });
}

/// A raw client of the host listener's socket (the library's dialer never sends what
/// these tests need).
fn raw(f: &Fixture) -> UnixStream {
    UnixStream::connect(f.host_listener_socket()).unwrap()
}

/// Reads until the listener closes (its reply, if any, then EOF).
fn drain(mut s: UnixStream) {
    let mut sink = Vec::new();
    let _ = s.read_to_end(&mut sink);
}

fn refused(f: &Fixture, vm: VmId, r: Reason) -> u64 {
    counters(f, SVC, vm).refused(r)
}

fn connect_a(f: &Fixture) -> std::io::Result<HvStream> {
    f.local("a").connect(HvAddr::new(VmId::PARENT, SVC))
}

#[test]
fn a_disabled_service_counts_refused_disabled() {
    let f = Fixture::new();
    let _rx = listener(&f);
    f.set_enabled(SVC, false);
    let e = connect_a(&f).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PermissionDenied, "{e}");
    assert_eq!(refused(&f, A, Reason::Disabled), 1);
    assert_eq!(counters(&f, SVC, A).refused_total(), 1);
}

#[test]
fn an_unregistered_service_counts_refused_not_registered() {
    let f = Fixture::new();
    let _rx = listener(&f);
    Registry::update(&f.dirs, |r| r.remove("echo").map(|_| ())).unwrap();
    let e = connect_a(&f).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PermissionDenied, "{e}");
    assert_eq!(refused(&f, A, Reason::NotRegistered), 1);
}

#[test]
fn an_unreadable_registry_counts_refused_registry_error() {
    let f = Fixture::new();
    let _rx = listener(&f);
    std::fs::write(f.dirs.services_file(), "this is [not toml").unwrap();
    assert!(connect_a(&f).is_err());
    assert_eq!(refused(&f, A, Reason::RegistryError), 1);
}

#[test]
fn a_full_partition_counts_refused_busy_partition() {
    let f = Fixture::new();
    f.settings("max_connections_per_partition = 1\n");
    let rx = listener(&f);
    let _held = (connect_a(&f).unwrap(), rx.recv().unwrap());
    let e = connect_a(&f).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ConnectionRefused, "{e}");
    assert_eq!(refused(&f, A, Reason::BusyPartition), 1);
    assert_eq!(counters(&f, SVC, A).open, 1);
}

#[test]
fn an_unknown_partition_counts_refused_not_allowed() {
    let f = Fixture::new();
    let _rx = listener(&f);
    let stranger = VmId(hvsock::Guid::from_u128(0xdead));
    let mut s = raw(&f);
    s.write_all(
        &Preamble {
            caller: stranger,
            service: SVC,
        }
        .encode(),
    )
    .unwrap();
    drain(s);
    assert_eq!(refused(&f, stranger, Reason::NotAllowed), 1);
}

#[test]
fn a_preamble_for_another_service_counts_refused_bad_preamble() {
    let f = Fixture::new();
    let _rx = listener(&f);
    let mut s = raw(&f);
    s.write_all(
        &Preamble {
            caller: A,
            service: SVC2,
        }
        .encode(),
    )
    .unwrap();
    drain(s);
    assert_eq!(refused(&f, A, Reason::BadPreamble), 1);
}

#[test]
fn a_malformed_preamble_counts_refused_bad_preamble_from_an_unknown_peer() {
    let f = Fixture::new();
    let _rx = listener(&f);
    let mut s = raw(&f);
    s.write_all(&[0x55; 40]).unwrap();
    drain(s);
    assert_eq!(refused(&f, UNKNOWN_PEER, Reason::BadPreamble), 1);
}

#[test]
fn a_silent_peer_counts_refused_handshake_timeout() {
    let f = Fixture::new();
    f.settings("handshake_timeout_ms = 100\n");
    let _rx = listener(&f);
    drain(raw(&f));
    assert_eq!(refused(&f, UNKNOWN_PEER, Reason::HandshakeTimeout), 1);
}

#[test]
fn too_many_handshakes_count_refused_busy_handshakes() {
    let f = Fixture::new();
    f.settings("max_pending_handshakes = 1\n");
    let _rx = listener(&f);
    // Neither sends a preamble: the first waits as the one pending handshake, and the
    // second makes it give way (the oldest is refused busy).
    let first = raw(&f);
    let _second = raw(&f);
    drain(first);
    assert_eq!(refused(&f, UNKNOWN_PEER, Reason::BusyHandshakes), 1);
}

#[test]
fn a_peer_gone_before_its_preamble_counts_refused_aborted() {
    let f = Fixture::new();
    let _rx = listener(&f);
    drop(raw(&f));
    wait_for("the aborted handshake to be counted", || {
        refused(&f, UNKNOWN_PEER, Reason::Aborted) == 1
    });
}
