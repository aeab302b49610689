#![cfg(unix)]
//! The per-partition connection count lives as long as the connection does, whatever
//! form the accepted stream takes: a descriptor with its guard, clones, tokio streams
//! and their split halves, and the way back to std.

mod common;
use common::*;
use hvsock::{ConnectionGuard, HvAddr, HvStream, VmId};
use std::io::{ErrorKind, Read, Write};
use std::os::fd::OwnedFd;
use std::sync::mpsc::{Receiver, channel};

/// A host listener allowing one connection per partition; accepted streams arrive on
/// the receiver.
fn capped_listener(f: &Fixture) -> Receiver<HvStream> {
    f.settings("max_connections_per_partition = 1\n");
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

fn connect_a(f: &Fixture) -> std::io::Result<HvStream> {
    f.local("a").connect(HvAddr::new(VmId::PARENT, SVC))
}

/// A connection from `a` and the stream that the listener behind `rx` accepted for it.
fn served(f: &Fixture, rx: &Receiver<HvStream>) -> (HvStream, HvStream) {
    let client = connect_a(f).unwrap();
    (client, rx.recv().unwrap())
}

/// Partition a's place is taken: a further connection is refused, naming the limit.
fn assert_full(f: &Fixture, what: &str) {
    let e = connect_a(f).expect_err(what);
    assert_eq!(e.kind(), ErrorKind::ConnectionRefused, "{what}: {e}");
    assert!(
        e.to_string().contains("max_connections_per_partition"),
        "{what}: {e}"
    );
}

/// Partition a's place is free again: a new connection is accepted; returns it (the
/// client end) and the accepted end, both to be dropped by the caller.
fn assert_free(f: &Fixture, rx: &Receiver<HvStream>, what: &str) -> (HvStream, HvStream) {
    let c = connect_a(f).unwrap_or_else(|e| panic!("{what}: {e}"));
    (c, rx.recv().unwrap())
}

#[test]
fn a_descriptor_taken_with_its_guard_keeps_the_count() {
    let f = Fixture::new();
    let rx = capped_listener(&f);
    let (mut client, server) = served(&f, &rx);
    let (fd, guard): (OwnedFd, ConnectionGuard) = server.into_fd_and_guard();
    assert!(
        guard.is_counted(),
        "an accepted cross-partition stream is counted"
    );
    assert_full(&f, "the fd is open and the guard held");
    // The descriptor still carries the connection.
    let mut sock = std::os::unix::net::UnixStream::from(fd);
    sock.write_all(b"via fd").unwrap();
    let mut got = [0u8; 6];
    client.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"via fd");
    // The place stays taken while a clone of the guard lives.
    let clone = guard.clone();
    drop(guard);
    assert_full(&f, "a clone of the guard is held");
    drop(sock);
    drop(clone);
    drop(client);
    let _again = assert_free(&f, &rx, "fd closed, guard dropped");
    // The side that connects carries no count.
    assert!(!_again.0.connection_guard().is_counted());
}

#[test]
fn a_guard_outlives_the_stream_it_came_from() {
    let f = Fixture::new();
    let rx = capped_listener(&f);
    let (_client, server) = served(&f, &rx);
    let guard = server.connection_guard();
    drop(server);
    assert_full(&f, "the stream is gone but its guard is held");
    drop(guard);
    let _again = assert_free(&f, &rx, "guard dropped");
}

#[test]
fn std_clones_keep_the_count_until_the_last_one() {
    let f = Fixture::new();
    let rx = capped_listener(&f);
    let (_client, server) = served(&f, &rx);
    let clones: Vec<HvStream> = (0..3).map(|_| server.try_clone().unwrap()).collect();
    drop(server);
    for (i, c) in clones.into_iter().enumerate() {
        assert_full(&f, &format!("clone {i} and later ones are open"));
        drop(c);
    }
    let _again = assert_free(&f, &rx, "every clone dropped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_streams_and_split_halves_keep_the_count() {
    use hvsock::net::tokio::HvStream as TokioStream;
    let f = Fixture::new();
    let rx = capped_listener(&f);
    let check_full = |what: &'static str| {
        let f = &f;
        tokio::task::block_in_place(move || assert_full(f, what))
    };

    // std -> tokio -> owned halves: the count lives until both halves are gone.
    let _client = connect_a(&f).unwrap();
    let server = TokioStream::from_std(rx.recv().unwrap()).unwrap();
    check_full("a tokio stream from std");
    let (r, w) = server.into_split();
    check_full("both halves");
    drop(w);
    check_full("the read half");
    drop(r);
    drop(_client);
    let (client, server) = tokio::task::block_in_place(|| assert_free(&f, &rx, "halves dropped"));

    // The other order of halves, and tokio -> std.
    let (r, w) = TokioStream::from_std(server).unwrap().into_split();
    drop(r);
    check_full("the write half");
    drop(w);
    drop(client);
    let (client, server) =
        tokio::task::block_in_place(|| assert_free(&f, &rx, "both halves dropped"));
    let back = TokioStream::from_std(server).unwrap().into_std().unwrap();
    check_full("std again, after tokio");
    let guard = TokioStream::from_std(back).unwrap().connection_guard();
    check_full("the tokio stream is gone, its guard held");
    assert!(guard.is_counted());
    drop(guard);
    drop(client);
    tokio::task::block_in_place(|| drop(assert_free(&f, &rx, "everything dropped")));
}
