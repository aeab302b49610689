#![cfg(unix)]
//! The tokio twins' surface matches tokio's own net types: `poll_accept`, `from_std`
//! and `into_std` both ways, `AsFd` on the listener, addresses on every half,
//! `reunite`, and `readable`/`writable`/`try_read`/`try_write`.

mod common;
use common::*;
use hvsock::net::tokio::{HvListener, HvStream};
use hvsock::{HvAddr, VmId};
use std::io::{ErrorKind, Read, Write};
use std::os::fd::AsFd;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn connect(f: &Fixture) -> impl std::future::Future<Output = std::io::Result<HvStream>> + use<> {
    let ctx = f.local("a");
    async move {
        HvStream::connect_with(&ctx, HvAddr::new(VmId::PARENT, SVC), Duration::from_secs(5)).await
    }
}

/// Waits with `readable` and reads with `try_read` until a read does not block.
async fn read_when_ready<F: std::future::Future<Output = std::io::Result<()>>>(
    readable: impl Fn() -> F,
    try_read: impl Fn(&mut [u8]) -> std::io::Result<usize>,
    buf: &mut [u8],
) -> usize {
    loop {
        readable().await.unwrap();
        match try_read(buf) {
            Ok(n) => return n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
            Err(e) => panic!("{e}"),
        }
    }
}

/// Accepts one connection from partition a: (accepted end, client end).
async fn pair(f: &Fixture, l: &HvListener) -> (HvStream, HvStream) {
    let client = tokio::spawn(connect(f));
    let (s, _) = l.accept().await.unwrap();
    (s, client.await.unwrap().unwrap())
}

#[tokio::test]
async fn poll_accept_and_addresses_on_every_half() {
    let f = Fixture::new();
    let l = HvListener::bind_with(&f.host(), HvAddr::new(VmId::ZERO, SVC)).unwrap();
    // The listener's fd is the accept loop's epoll set.
    assert!(l.as_fd().try_clone_to_owned().is_ok());
    let client = tokio::spawn(connect(&f));
    let (mut s, peer) = std::future::poll_fn(|cx| l.poll_accept(cx)).await.unwrap();
    assert_eq!(peer.vm_id, A);
    let mut c = client.await.unwrap().unwrap();
    {
        let (r, w) = s.split();
        assert_eq!(r.peer_addr().unwrap(), peer);
        assert_eq!(w.peer_addr().unwrap(), peer);
        assert_eq!(r.local_addr().unwrap(), HvAddr::new(VmId::ZERO, SVC));
        assert_eq!(w.local_addr().unwrap(), HvAddr::new(VmId::ZERO, SVC));
    }
    let (r, w) = c.split();
    assert_eq!(r.peer_addr().unwrap().vm_id, VmId::PARENT);
    assert_eq!(w.local_addr().unwrap().vm_id, A);
    let (r, w) = s.into_split();
    assert_eq!(r.peer_addr().unwrap(), peer);
    assert_eq!(w.local_addr().unwrap(), HvAddr::new(VmId::ZERO, SVC));
}

#[tokio::test]
async fn reunite_gives_the_stream_back_without_shutting_it_down() {
    let f = Fixture::new();
    let l = HvListener::bind_with(&f.host(), HvAddr::new(VmId::ZERO, SVC)).unwrap();
    let (s1, mut c1) = pair(&f, &l).await;
    let (s2, _c2) = pair(&f, &l).await;

    let (r1, w1) = s1.into_split();
    let (r2, w2) = s2.into_split();
    // Halves of different streams come back in the error.
    let e = r1.reunite(w2).unwrap_err();
    let (r1, w2) = (e.0, e.1);
    let mut s1 = w1.reunite(r1).unwrap();
    drop(r2.reunite(w2).unwrap());
    // The write side of the reunited stream is still open: the peer sees data, not EOF.
    s1.write_all(b"still open").await.unwrap();
    let mut buf = [0u8; 10];
    c1.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"still open");
}

#[tokio::test]
async fn readiness_and_try_io() {
    let f = Fixture::new();
    let l = HvListener::bind_with(&f.host(), HvAddr::new(VmId::ZERO, SVC)).unwrap();
    let (s, c) = pair(&f, &l).await;
    // Nothing sent yet: try_read would block.
    let mut buf = [0u8; 16];
    assert_eq!(
        s.try_read(&mut buf).unwrap_err().kind(),
        ErrorKind::WouldBlock
    );
    c.writable().await.unwrap();
    assert_eq!(c.try_write(b"hi").unwrap(), 2);
    let n = read_when_ready(|| s.readable(), |b| s.try_read(b), &mut buf).await;
    assert_eq!(&buf[..n], b"hi");
    // The owned halves have them too; the end of the stream reads as 0.
    let (r, _w) = s.into_split();
    drop(c);
    let n = read_when_ready(|| r.readable(), |b| r.try_read(b), &mut buf).await;
    assert_eq!(n, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listener_into_std_and_back() {
    let f = Fixture::new();
    let l = HvListener::bind_with(&f.host(), HvAddr::new(VmId::ZERO, SVC)).unwrap();
    let std_l = l.into_std().unwrap();
    assert_eq!(std_l.local_addr().unwrap(), HvAddr::new(VmId::ZERO, SVC));
    let server = std::thread::spawn(move || {
        let (mut s, peer) = std_l.accept().unwrap();
        let mut b = [0u8; 4];
        s.read_exact(&mut b).unwrap();
        s.write_all(&b).unwrap();
        (peer, std_l)
    });
    let mut c = connect(&f).await.unwrap();
    c.write_all(b"ping").await.unwrap();
    let mut b = [0u8; 4];
    c.read_exact(&mut b).await.unwrap();
    assert_eq!(&b, b"ping");
    let (peer, std_l) = tokio::task::spawn_blocking(move || server.join().unwrap())
        .await
        .unwrap();
    assert_eq!(peer.vm_id, A);
    // And back to tokio: still serving.
    let l = HvListener::from_std(std_l).unwrap();
    let client = tokio::spawn(connect(&f));
    let (_s, peer) = l.accept().await.unwrap();
    assert_eq!(peer.vm_id, A);
    client.await.unwrap().unwrap();
}
