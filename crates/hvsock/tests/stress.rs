#![cfg(unix)]
//! Echo stress in the style of linuxkit's sock_stress: many parallel connections,
//! random lengths up to 1 MiB, checksums compared; std and tokio types.

mod common;
use common::*;
use hvsock::{HvAddr, VmId};
use std::io::{Read, Write};
use std::net::Shutdown;
use std::thread;

const CONNECTIONS: usize = 100;
const MAX_LEN: usize = 1 << 20;

fn lengths() -> Vec<usize> {
    // Random but reproducible; includes the edge cases 0, 1 and MAX_LEN.
    let r = pattern(0x5eed, CONNECTIONS * 4);
    let mut v: Vec<usize> = r
        .chunks(4)
        .map(|c| u32::from_le_bytes(c.try_into().unwrap()) as usize % (MAX_LEN + 1))
        .collect();
    v[0] = 0;
    v[1] = 1;
    v[2] = MAX_LEN;
    v
}

#[test]
fn std_echo_stress_between_partitions() {
    let f = Fixture::new();
    let l = f.host().bind(HvAddr::new(VmId::ZERO, SVC)).unwrap();
    let server = thread::spawn(move || {
        let mut handles = Vec::new();
        for _ in 0..CONNECTIONS {
            let (mut s, peer) = l.accept().unwrap();
            assert_eq!(peer.vm_id, A);
            handles.push(thread::spawn(move || {
                let mut w = s.try_clone().unwrap();
                let mut buf = vec![0u8; 65536];
                loop {
                    let n = s.read(&mut buf).unwrap();
                    if n == 0 {
                        break;
                    }
                    w.write_all(&buf[..n]).unwrap();
                }
                w.shutdown(Shutdown::Write).unwrap();
            }));
        }
        for h in handles {
            h.join().unwrap();
        }
    });
    let clients: Vec<_> = lengths()
        .into_iter()
        .enumerate()
        .map(|(i, len)| {
            let ctx = f.local("a");
            thread::spawn(move || {
                let data = pattern(i as u64 + 1, len);
                let s = ctx.connect(HvAddr::new(VmId::PARENT, SVC)).unwrap();
                let mut w = s.try_clone().unwrap();
                let writer = thread::spawn(move || {
                    w.write_all(&data).unwrap();
                    w.shutdown(Shutdown::Write).unwrap();
                    checksum(&data)
                });
                let mut back = Vec::with_capacity(len);
                (&s).read_to_end(&mut back).unwrap();
                let sent = writer.join().unwrap();
                assert_eq!(back.len(), len, "connection {i}");
                assert_eq!(checksum(&back), sent, "connection {i}");
                len
            })
        })
        .collect();
    let total: usize = clients.into_iter().map(|c| c.join().unwrap()).sum();
    server.join().unwrap();
    assert!(total > 0);
}

#[test]
fn tokio_echo_stress_between_partitions() {
    use hvsock::net::tokio::{HvListener, HvStream};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let f = Fixture::new();
    let rt = two_worker_runtime(None);
    rt.block_on(async {
        let l = HvListener::bind_with(&f.host(), HvAddr::new(VmId::ZERO, SVC)).unwrap();
        let server = tokio_echo_n(l, CONNECTIONS, true, |peer| assert_eq!(peer.vm_id, A));
        let mut clients = Vec::new();
        for (i, len) in lengths().into_iter().enumerate() {
            let ctx = f.local("a");
            clients.push(tokio::spawn(async move {
                let data = pattern(i as u64 + 1, len);
                let sent = checksum(&data);
                let mut s = HvStream::connect_with(
                    &ctx,
                    HvAddr::new(VmId::PARENT, SVC),
                    std::time::Duration::from_secs(30),
                )
                .await
                .unwrap();
                let (mut r, mut w) = s.split();
                let write = async {
                    w.write_all(&data).await.unwrap();
                    w.shutdown().await.unwrap();
                };
                let mut back = Vec::with_capacity(len);
                let read = r.read_to_end(&mut back);
                let (_, n) = tokio::join!(write, read);
                assert_eq!(n.unwrap(), len, "connection {i}");
                assert_eq!(checksum(&back), sent, "connection {i}");
            }));
        }
        for c in clients {
            c.await.unwrap();
        }
        server.await.unwrap();
    });
}
