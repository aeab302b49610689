#![cfg(unix)]
//! The tokio types: same semantics and errors as std, split halves, half-close.

mod common;
use common::*;
use hvsock::net::tokio::{HvListener, HvStream};
use hvsock::{HvAddr, VmId};
use std::io::ErrorKind;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Connects from `ctx` to `SVC` on `vm`, within `secs` seconds.
async fn connect(ctx: &hvsock::Context, vm: VmId, secs: u64) -> std::io::Result<HvStream> {
    HvStream::connect_with(ctx, HvAddr::new(vm, SVC), Duration::from_secs(secs)).await
}

#[tokio::test]
async fn echo_with_half_close_and_peer_names() {
    let f = Fixture::new();
    let l = HvListener::bind_with(&f.host(), HvAddr::new(VmId::ZERO, SVC)).unwrap();
    assert_eq!(l.local_addr().unwrap(), HvAddr::new(VmId::ZERO, SVC));
    let server = tokio::spawn(async move {
        let (mut s, peer) = l.accept().await.unwrap();
        assert_eq!(s.peer_addr().unwrap(), peer);
        let mut got = Vec::new();
        s.read_to_end(&mut got).await.unwrap();
        // The peer half-closed; we can still answer.
        s.write_all(&got).await.unwrap();
        s.write_all(b"!").await.unwrap();
        peer.vm_id
    });
    let mut s = connect(&f.local("a"), VmId::PARENT, 5).await.unwrap();
    assert_eq!(s.peer_addr().unwrap().vm_id, VmId::PARENT);
    s.write_all(b"ping").await.unwrap();
    s.shutdown().await.unwrap();
    let mut back = Vec::new();
    s.read_to_end(&mut back).await.unwrap();
    assert_eq!(back, b"ping!");
    assert_eq!(server.await.unwrap(), A);
}

#[tokio::test]
async fn errors_match_std() {
    let f = Fixture::new();
    let e = connect(&f.host(), A, 5).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ConnectionRefused);
    let e = HvListener::bind_with(&f.host(), HvAddr::new(VmId::ZERO, UNREG)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PermissionDenied);
    let _l = HvListener::bind_with(&f.host(), HvAddr::new(VmId::ZERO, SVC)).unwrap();
    let e = HvListener::bind_with(&f.host(), HvAddr::new(VmId::ZERO, SVC)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AddrInUse);
    let e = connect(&f.host(), VmId::CHILDREN, 1).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn owned_halves_in_two_tasks_and_std_round_trip() {
    let f = Fixture::new();
    let l = HvListener::bind_with(&f.host(), HvAddr::new(VmId::LOOPBACK, SVC)).unwrap();
    let server = tokio::spawn(async move {
        let (s, _) = l.accept().await.unwrap();
        let (mut r, mut w) = s.into_split();
        let t = tokio::spawn(async move {
            let mut b = [0u8; 3];
            r.read_exact(&mut b).await.unwrap();
            b
        });
        w.write_all(b"abc").await.unwrap();
        drop(w); // dropping the owned write half half-closes
        t.await.unwrap()
    });
    let s = connect(&f.host(), VmId::LOOPBACK, 5).await.unwrap();
    // Into std and back keeps the connection.
    let std = s.into_std().unwrap();
    let mut s = HvStream::from_std(std).unwrap();
    s.write_all(b"xyz").await.unwrap();
    let mut all = Vec::new();
    s.read_to_end(&mut all).await.unwrap();
    assert_eq!(all, b"abc");
    assert_eq!(&server.await.unwrap(), b"xyz");
}

#[tokio::test]
async fn silent_peer_does_not_block_async_accept() {
    let f = Fixture::new();
    let l = HvListener::bind_with(&f.host(), HvAddr::new(VmId::ZERO, SVC)).unwrap();
    let sock = f.host_listener_socket();
    let _silent = std::os::unix::net::UnixStream::connect(&sock).unwrap();
    let accept = tokio::spawn(async move { l.accept().await.unwrap().1 });
    let _s = connect(&f.local("b"), VmId::PARENT, 5).await.unwrap();
    assert_eq!(accept.await.unwrap().vm_id, B);
}
