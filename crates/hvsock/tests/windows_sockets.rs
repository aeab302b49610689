#![cfg(windows)]
//! The Windows socket layer under wine: the real AF_HYPERV path (which wine lacks, so
//! its error is the one a user without Hyper-V sees) and, over the AF_INET stand-in
//! (feature `inet-standin`), the same WinSock stream, listener and tokio code that
//! serves AF_HYPERV: connect, accept, data both ways, half-close both ways, timeouts,
//! `try_clone`, `into_split`/`reunite` and many concurrent connections.
//!
//! Run with `--features inet-standin` (scripts/windows/test does).

use hvsock::net::ConnectOptions;
use hvsock::paths::Dirs;
use hvsock::{Context, HvAddr, HvError, ServiceId, VmId};
use std::io::{ErrorKind, Read, Write};
use std::net::Shutdown;
use std::time::{Duration, Instant};

fn dirs(tmp: &tempfile::TempDir) -> Dirs {
    Dirs::new(tmp.path().join("config"), tmp.path().join("run"))
}

#[test]
fn without_hyperv_sockets_connect_and_bind_say_so() {
    let tmp = tempfile::tempdir().unwrap();
    let ctx = Context::host(dirs(&tmp));
    let addr = HvAddr::new(VmId::PARENT, ServiceId::from_vsock_port(5000));
    for e in [ctx.connect(addr).unwrap_err(), ctx.bind(addr).unwrap_err()] {
        // Wine answers socket(AF_HYPERV, ...) with WSAEAFNOSUPPORT (10047), as a Windows
        // without Hyper-V does; the message is hvsock's own (wine has no system text).
        assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
        assert!(
            matches!(HvError::of(&e), Some(HvError::Unavailable { .. })),
            "{e:?}"
        );
        assert!(
            e.to_string()
                .starts_with("Hyper-V sockets are not available on this system"),
            "{e}"
        );
    }
    // A wildcard target is refused before any socket exists.
    let e = ctx
        .connect(HvAddr::new(VmId::CHILDREN, addr.service_id))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    // Local partitions and guest mode are Linux features.
    let e = Context::guest(dirs(&tmp)).connect(addr).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
}

#[cfg(feature = "inet-standin")]
mod standin {
    use super::*;

    /// A loopback address nothing listens on yet.
    fn free_addr() -> std::net::SocketAddr {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    }

    struct Fixture {
        _tmp: tempfile::TempDir,
        ctx: Context,
        addr: HvAddr,
    }

    fn fixture() -> Fixture {
        let tmp = tempfile::tempdir().unwrap();
        let ctx = Context::inet_standin(dirs(&tmp), free_addr());
        let addr = HvAddr::new(VmId::LOOPBACK, ServiceId::from_vsock_port(5000));
        Fixture {
            _tmp: tmp,
            ctx,
            addr,
        }
    }

    #[test]
    fn connect_accept_and_half_close_both_ways() {
        let f = fixture();
        let listener = f
            .ctx
            .bind(HvAddr::new(VmId::ZERO, f.addr.service_id))
            .unwrap();
        assert_eq!(listener.local_addr().unwrap().vm_id, VmId::ZERO);
        let server = std::thread::spawn(move || {
            let (mut s, peer) = listener.accept().unwrap();
            assert_eq!(s.peer_addr().unwrap(), peer);
            let mut got = Vec::new();
            s.read_to_end(&mut got).unwrap(); // the client's half-close ends this
            s.write_all(&got).unwrap();
            s.write_all(b" back").unwrap();
            s.shutdown(Shutdown::Write).unwrap();
            // The client may still write after our half-close.
            let mut more = Vec::new();
            s.read_to_end(&mut more).unwrap();
            (peer, more)
        });
        let mut c = f.ctx.connect(f.addr).unwrap();
        assert_eq!(c.peer_addr().unwrap(), f.addr);
        c.write_all(b"hello").unwrap();
        c.shutdown(Shutdown::Write).unwrap();
        let mut answer = String::new();
        c.read_to_string(&mut answer).unwrap();
        assert_eq!(answer, "hello back");
        drop(c);
        let (peer, more) = server.join().unwrap();
        assert_eq!(peer.vm_id, VmId::LOOPBACK);
        assert_eq!(peer.service_id, f.addr.service_id);
        assert!(more.is_empty());
    }

    #[test]
    fn nothing_listening_is_refused_with_the_service_named() {
        let f = fixture();
        let e = f.ctx.connect(f.addr).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ConnectionRefused, "{e}");
        assert!(
            matches!(HvError::of(&e), Some(HvError::NothingListens { .. })),
            "{e:?}"
        );
        assert!(
            e.to_string().contains(&f.addr.service_id.to_string()),
            "{e}"
        );
    }

    #[test]
    fn timeouts_and_options() {
        let f = fixture();
        let listener = f.ctx.bind(f.addr).unwrap();
        let c = f.ctx.connect(f.addr).unwrap();
        let (s, _) = listener.accept().unwrap();
        c.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        assert_eq!(c.read_timeout().unwrap(), Some(Duration::from_millis(200)));
        let start = Instant::now();
        let e = (&c).read(&mut [0u8; 8]).unwrap_err();
        assert!(
            matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
            "{e}"
        );
        assert!(start.elapsed() >= Duration::from_millis(150));
        // Non-blocking accept with nothing waiting.
        listener.set_nonblocking(true).unwrap();
        assert_eq!(listener.accept().unwrap_err().kind(), ErrorKind::WouldBlock);
        // The stand-in is TCP: a Hyper-V option is refused, not ignored; the timeout
        // bounds are checked as everywhere.
        let opts = ConnectOptions::new().connected_suspend(true);
        let e = f.ctx.connect_with(f.addr, &opts).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
        let e = f.ctx.connect_timeout(f.addr, Duration::ZERO).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
        // HVSOCKET_CONNECTED_SUSPEND on a TCP socket: Windows (and wine) refuse the
        // option level, which surfaces as an error rather than a silent success.
        assert!(c.set_connected_suspend(true).is_err());
        drop(s);
    }

    #[test]
    fn try_clone_reads_in_one_thread_and_writes_in_another() {
        let f = fixture();
        let listener = f.ctx.bind(f.addr).unwrap();
        let echo = std::thread::spawn(move || {
            let (s, _) = listener.accept().unwrap();
            std::io::copy(&mut &s, &mut &s).unwrap();
        });
        let c = f.ctx.connect(f.addr).unwrap();
        let reader = c.try_clone().unwrap();
        let data: Vec<u8> = (0..1_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let want = data.clone();
        let r = std::thread::spawn(move || {
            let mut got = Vec::new();
            (&reader).read_to_end(&mut got).unwrap();
            got
        });
        (&c).write_all(&data).unwrap();
        c.shutdown(Shutdown::Write).unwrap();
        assert_eq!(r.join().unwrap(), want);
        echo.join().unwrap();
    }

    #[test]
    fn tokio_accepts_many_at_once_and_splits() {
        use hvsock::net::tokio::{HvListener, HvStream};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let f = fixture();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let listener = HvListener::bind_with(&f.ctx, f.addr).unwrap();
            let server = tokio::spawn(async move {
                for _ in 0..40 {
                    let (s, peer) = listener.accept().await.unwrap();
                    assert_eq!(peer.vm_id, VmId::LOOPBACK);
                    tokio::spawn(async move {
                        let (mut r, mut w) = s.into_split();
                        tokio::io::copy(&mut r, &mut w).await.unwrap();
                        w.shutdown().await.unwrap();
                        let s = r.reunite(w).unwrap();
                        assert_eq!(s.peer_addr().unwrap().vm_id, VmId::LOOPBACK);
                    });
                }
                listener
            });
            let mut clients = Vec::new();
            for i in 0..40u32 {
                let ctx = f.ctx.clone();
                let addr = f.addr;
                clients.push(tokio::spawn(async move {
                    let mut s = HvStream::connect_with(&ctx, addr, Duration::from_secs(10))
                        .await
                        .unwrap();
                    let msg: Vec<u8> = (0..64 * 1024 + i).map(|b| (b % 253) as u8).collect();
                    let (mut r, mut w) = s.split();
                    let send = async {
                        w.write_all(&msg).await.unwrap();
                        w.shutdown().await.unwrap();
                    };
                    let mut back = Vec::new();
                    let recv = r.read_to_end(&mut back);
                    let ((), n) = tokio::join!(send, recv);
                    assert_eq!(n.unwrap(), msg.len());
                    assert_eq!(back, msg);
                    s.shutdown().await.unwrap();
                }));
            }
            for c in clients {
                c.await.unwrap();
            }
            let listener = server.await.unwrap();
            // Back to std and still listening.
            let std_listener = listener.into_std().unwrap();
            let c = f.ctx.connect(f.addr).unwrap();
            let (s, _) = std_listener.accept().unwrap();
            drop((c, s));
        });
    }

    #[test]
    fn a_waiting_dialer_reaches_a_listener_bound_a_second_later() {
        use hvsock::net::Dialer;
        let f = fixture();
        let (ctx, addr) = (f.ctx.clone(), f.addr);
        let late = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(1));
            let l = ctx.bind(addr).unwrap();
            let (mut s, _) = l.accept().unwrap();
            s.write_all(b"late").unwrap();
        });
        let t = Instant::now();
        let mut c = Dialer::new(Duration::from_secs(20))
            .connect(&f.ctx, f.addr)
            .unwrap();
        assert!(t.elapsed() >= Duration::from_secs(1));
        let mut got = String::new();
        c.read_to_string(&mut got).unwrap();
        assert_eq!(got, "late");
        late.join().unwrap();
        // Nothing ever listens: it gives up after the wait, with the last refusal.
        let t = Instant::now();
        let e = Dialer::new(Duration::from_millis(500))
            .connect(
                &f.ctx,
                HvAddr::new(VmId::LOOPBACK, ServiceId::from_vsock_port(5001)),
            )
            .unwrap_err();
        assert!(t.elapsed() >= Duration::from_millis(490));
        let Some(HvError::GaveUp { attempts, last, .. }) = HvError::of(&e) else {
            panic!("{e:?}");
        };
        assert!(*attempts >= 2, "{attempts}");
        assert!(
            matches!(
                HvError::of(last.error()),
                Some(HvError::NothingListens { .. })
            ),
            "{last}"
        );
    }
}

#[test]
fn a_waiting_dialer_does_not_wait_for_hyperv_sockets_to_appear() {
    let tmp = tempfile::tempdir().unwrap();
    let ctx = Context::host(dirs(&tmp));
    let addr = HvAddr::new(VmId::PARENT, ServiceId::from_vsock_port(5000));
    let t = Instant::now();
    let e = hvsock::net::Dialer::new(Duration::from_secs(30))
        .connect(&ctx, addr)
        .unwrap_err();
    assert!(
        matches!(HvError::of(&e), Some(HvError::Unavailable { .. })),
        "{e:?}"
    );
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
}
