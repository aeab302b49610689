#![cfg(unix)]
//! Faults and load: 1,000 concurrent connections, peers killed mid-stream, running out
//! of file descriptors. Child processes are this test binary re-run with a role.

mod common;
use common::*;
use hvsock::paths::Dirs;
use hvsock::{Context, HvAddr, HvListener, VmId};
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Reads `s` into `buf` (data dropped) until EOF or a connection reset; any other
/// error fails the test.
fn read_until_eof_or_reset(s: &mut impl Read, buf: &mut [u8]) {
    loop {
        match s.read(buf) {
            Ok(0) => break,
            Ok(_) => continue,
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::ConnectionReset, "{e}");
                break;
            }
        }
    }
}

/// Binds the service on the host and says `listening` on stdout.
fn host_listener(dirs: Dirs) -> HvListener {
    let l = Context::host(dirs)
        .bind(HvAddr::new(VmId::ZERO, SVC))
        .unwrap();
    println!("listening");
    l
}

/// Writes 64 KiB chunks of `byte` to `s` until the write fails (which panics).
fn stream_forever(s: &mut impl Write, byte: u8) -> ! {
    let chunk = vec![byte; 65536];
    loop {
        s.write_all(&chunk).unwrap();
    }
}

/// The child side of the tests below, chosen by `HV_FAULT_ROLE`.
#[test]
#[ignore = "child process of the fault tests"]
fn fault_child() {
    let Ok(role) = std::env::var("HV_FAULT_ROLE") else {
        return;
    };
    let dirs = child_dirs().unwrap();
    match role.as_str() {
        // Connects from partition a and streams forever.
        "writer" => {
            let mut s = Context::local(dirs, "a")
                .unwrap()
                .connect(HvAddr::new(VmId::PARENT, SVC))
                .unwrap();
            println!("connected");
            stream_forever(&mut s, 7);
        }
        // Listens on the host, accepts one and streams forever.
        "server" => {
            let l = host_listener(dirs);
            let (mut s, _) = l.accept().unwrap();
            stream_forever(&mut s, 9);
        }
        // Runs with a low fd limit: accepts until it runs out, reports how it behaved.
        "fd-starved" => {
            let l = host_listener(dirs);
            let mut held = Vec::new();
            let (mut errors, mut calls) = (0u32, 0u32);
            let started = Instant::now();
            let mut first_error = None;
            while first_error.is_none_or(|t: Instant| t.elapsed() < Duration::from_secs(1)) {
                calls += 1;
                match l.accept() {
                    Ok((s, _)) => held.push(s),
                    Err(e) => {
                        assert_eq!(e.raw_os_error(), Some(libc_emfile()), "{e}");
                        errors += 1;
                        first_error.get_or_insert_with(Instant::now);
                    }
                }
                assert!(started.elapsed() < Duration::from_secs(20), "never ran out");
            }
            println!(
                "exhausted held={} errors={errors} calls={calls}",
                held.len()
            );
            held.clear();
            let (_s, peer) = l.accept().unwrap();
            println!("resumed peer={}", peer.vm_id);
        }
        other => panic!("unknown role {other}"),
    }
}

fn libc_emfile() -> i32 {
    24 // EMFILE on Linux
}

fn spawn_child(
    f: &Fixture,
    role: &str,
    shell_prefix: Option<&str>,
) -> (Child, impl Iterator<Item = String>) {
    let exe = std::env::current_exe().unwrap();
    let args = hvsock_testkit::proc::ignored_test_args("fault_child");
    let mut cmd = match shell_prefix {
        None => {
            let mut c = Command::new(exe);
            c.args(args);
            c
        }
        Some(prefix) => {
            let mut c = Command::new("sh");
            c.arg("-c")
                .arg(format!("{prefix}; exec \"$0\" \"$@\""))
                .arg(exe)
                .args(args);
            c
        }
    };
    let mut child = cmd
        .env("HV_TEST_BASE", f.dir.path())
        .env("HV_FAULT_ROLE", role)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map(|l| l.unwrap());
    (child, lines)
}

#[test]
fn writer_killed_mid_stream_gives_eof_and_listener_serves_on() {
    let f = Fixture::new();
    let l = f.host().bind(HvAddr::new(VmId::ZERO, SVC)).unwrap();
    let (mut child, mut lines) = spawn_child(&f, "writer", None);
    let (mut s, peer) = l.accept().unwrap();
    assert_eq!(peer.vm_id, A);
    assert!(lines.any(|l| l.contains("connected")));
    let mut buf = vec![0u8; 65536];
    s.read_exact(&mut buf).unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let t = Instant::now();
    read_until_eof_or_reset(&mut s, &mut buf);
    assert!(t.elapsed() < Duration::from_secs(5), "EOF came promptly");
    // The listener keeps serving.
    let b = f.local("b");
    let c = std::thread::spawn(move || b.connect(HvAddr::new(VmId::PARENT, SVC)).unwrap());
    assert_eq!(l.accept().unwrap().1.vm_id, B);
    c.join().unwrap();
}

#[test]
fn server_killed_mid_stream_gives_the_client_eof_then_refused() {
    let f = Fixture::new();
    let (mut child, mut lines) = spawn_child(&f, "server", None);
    assert!(lines.any(|l| l.contains("listening")));
    let mut s = f
        .local("a")
        .connect(HvAddr::new(VmId::PARENT, SVC))
        .unwrap();
    let mut buf = vec![0u8; 65536];
    s.read_exact(&mut buf).unwrap();
    assert!(buf.iter().all(|&b| b == 9));
    child.kill().unwrap();
    child.wait().unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    read_until_eof_or_reset(&mut s, &mut buf);
    // Writes fail rather than hang.
    let e = loop {
        if let Err(e) = s.write_all(&buf) {
            break e;
        }
    };
    assert!(
        matches!(e.kind(), ErrorKind::BrokenPipe | ErrorKind::ConnectionReset),
        "{e}"
    );
    // Its socket file is stale: refused at once, and the address can be bound again.
    let e = f
        .local("a")
        .connect_timeout(HvAddr::new(VmId::PARENT, SVC), Duration::from_secs(20))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ConnectionRefused);
    f.host().bind(HvAddr::new(VmId::ZERO, SVC)).unwrap();
}

#[test]
fn fd_exhaustion_is_reported_backed_off_and_recovered() {
    let f = Fixture::new();
    let (mut child, mut lines) = spawn_child(&f, "fd-starved", Some("ulimit -n 48"));
    assert!(lines.any(|l| l.contains("listening")));
    // Connect until the child cannot take more; the last ones time out waiting.
    let ctx = f.local("a");
    let mut ok = Vec::new();
    let mut report = None;
    for _ in 0..100 {
        match ctx.connect_timeout(HvAddr::new(VmId::PARENT, SVC), Duration::from_millis(200)) {
            Ok(s) => ok.push(s),
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::TimedOut, "{e}");
                break;
            }
        }
    }
    assert!(
        ok.len() > 10,
        "only {} connections before exhaustion",
        ok.len()
    );
    for l in lines.by_ref() {
        if let Some(i) = l.find("exhausted") {
            let l = l[i..].to_string();
            report = Some(l);
            break;
        }
    }
    let report = report.expect("child reported exhaustion");
    let calls: u32 = report.rsplit("calls=").next().unwrap().parse().unwrap();
    // Backoff: a second of exhaustion costs a handful of accept calls, not a spin.
    assert!(calls < 200, "{report}");
    // Service resumes once descriptors are free again.
    let s = ctx.connect_timeout(HvAddr::new(VmId::PARENT, SVC), Duration::from_secs(10));
    let resumed = lines
        .find(|l| l.contains("resumed"))
        .expect("child resumed");
    let resumed = resumed[resumed.find("resumed").unwrap()..].to_string();
    assert_eq!(resumed, format!("resumed peer={A}"));
    drop(s);
    child.wait().unwrap();
}

#[test]
fn thousand_concurrent_connections_every_byte_checked() {
    use hvsock::net::tokio::{HvListener, HvStream};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    const N: usize = 1000;
    let f = Fixture::new();
    let rt = two_worker_runtime(Some(64));
    rt.block_on(async {
        let l = HvListener::bind_with(&f.host(), HvAddr::new(VmId::ZERO, SVC)).unwrap();
        let server = tokio_echo_n(l, N, false, |_| {});
        let sizes = pattern(99, N * 2);
        let mut clients = Vec::new();
        // Every connection is open at the same time: all connect before any sends.
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(N));
        for i in 0..N {
            let ctx = if i % 2 == 0 {
                f.local("a")
            } else {
                f.local("b")
            };
            let len = u16::from_le_bytes([sizes[2 * i], sizes[2 * i + 1]]) as usize;
            let barrier = barrier.clone();
            clients.push(tokio::spawn(async move {
                let mut s = HvStream::connect_with(
                    &ctx,
                    HvAddr::new(VmId::PARENT, SVC),
                    Duration::from_secs(60),
                )
                .await
                .unwrap();
                barrier.wait().await;
                let data = pattern(i as u64 + 7, len);
                let (mut r, mut w) = s.split();
                let write = async {
                    w.write_all(&data).await.unwrap();
                    w.shutdown().await.unwrap();
                };
                let mut back = Vec::with_capacity(len);
                let (_, n) = tokio::join!(write, r.read_to_end(&mut back));
                assert_eq!(n.unwrap(), len);
                assert_eq!(checksum(&back), checksum(&data), "connection {i}");
            }));
        }
        for c in clients {
            c.await.unwrap();
        }
        server.await.unwrap();
    });
}
