#![cfg(unix)]
//! Limits and access: modes of the runtime dir, per-partition connection limits, the
//! cap on handshakes in progress, and the handshake timeout.

mod common;
use common::*;
use hvsock::{HvAddr, VmId};
use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

fn mode(p: &std::path::Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

#[test]
fn runtime_dir_is_private_by_default() {
    let f = Fixture::new();
    let _l = f.host().bind(HvAddr::new(VmId::ZERO, SVC)).unwrap();
    let _p = f.local("a").bind(HvAddr::new(VmId::PARENT, SVC)).unwrap();
    assert_eq!(mode(&f.dirs.runtime), 0o700);
    for entry in std::fs::read_dir(&f.dirs.runtime).unwrap() {
        let p = entry.unwrap().path();
        assert_eq!(mode(&p), 0o700, "{}", p.display());
    }
    assert_eq!(mode(&f.host_listener_socket()), 0o660);
    // The registry is writable by its owner only.
    assert_eq!(mode(&f.dirs.services_file()) & 0o022, 0);
}

#[test]
fn configured_group_gets_the_runtime_dir() {
    let f = Fixture::new();
    let gid = std::fs::metadata(f.dir.path()).unwrap().gid();
    f.settings(&format!("group = \"{gid}\"\n"));
    let _l = f.host().bind(HvAddr::new(VmId::ZERO, SVC)).unwrap();
    assert_eq!(mode(&f.dirs.runtime), 0o750);
    assert_eq!(std::fs::metadata(&f.dirs.runtime).unwrap().gid(), gid);
    f.settings("group = \"no-such-group-here\"\n");
    std::fs::remove_dir_all(&f.dirs.runtime).unwrap();
    let e = f.host().bind(HvAddr::new(VmId::ZERO, SVC)).unwrap_err();
    assert!(e.to_string().contains("no-such-group-here"), "{e}");
}

#[test]
fn connections_per_partition_are_limited() {
    let f = Fixture::new();
    f.settings("max_connections_per_partition = 2\n");
    let l = f.host().bind(HvAddr::new(VmId::ZERO, SVC)).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        while let Ok((s, peer)) = l.accept() {
            if tx.send((s, peer.vm_id)).is_err() {
                return;
            }
        }
    });
    let connect = |name: &str| f.local(name).connect(HvAddr::new(VmId::PARENT, SVC));
    let _a1 = connect("a").unwrap();
    let _a2 = connect("a").unwrap();
    let (server_a1, _) = rx.recv().unwrap();
    let (_server_a2, _) = rx.recv().unwrap();
    let e = connect("a").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ConnectionRefused, "{e}");
    assert!(
        e.to_string().contains("max_connections_per_partition"),
        "{e}"
    );
    // Another partition has its own allowance.
    let _b1 = connect("b").unwrap();
    assert_eq!(rx.recv().unwrap().1, B);
    // Closing the accepted end (and every clone of it) gives the place back.
    let clone = server_a1.try_clone().unwrap();
    drop(server_a1);
    assert!(connect("a").is_err(), "a clone still holds the place");
    drop(clone);
    let _a3 = connect("a").unwrap();
    assert_eq!(rx.recv().unwrap().1, A);
}

#[test]
fn handshakes_in_progress_are_capped_and_time_out() {
    let f = Fixture::new();
    f.settings("max_pending_handshakes = 2\nhandshake_timeout_ms = 300\n");
    let l = f.host().bind(HvAddr::new(VmId::ZERO, SVC)).unwrap();
    let sock = f.host_listener_socket();
    let mut silent: Vec<UnixStream> = (0..2)
        .map(|_| UnixStream::connect(&sock).unwrap())
        .collect();
    let t = std::thread::spawn(move || {
        l.set_nonblocking(true).unwrap();
        let end = Instant::now() + Duration::from_secs(2);
        while Instant::now() < end {
            assert!(l.accept().is_err());
            std::thread::sleep(Duration::from_millis(5));
        }
    });
    std::thread::sleep(Duration::from_millis(100));
    // A third: the oldest handshake makes room for it and is answered "busy".
    let third = UnixStream::connect(&sock).unwrap();
    let mut oldest = silent.remove(0);
    oldest
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut reply = Vec::new();
    oldest.read_to_end(&mut reply).unwrap();
    assert_eq!(&reply[..4], b"HV\x01\x04", "busy");
    assert!(String::from_utf8_lossy(&reply[6..]).contains("max_pending_handshakes"));
    silent.push(third);
    // The silent ones are dropped after the handshake timeout.
    for s in &mut silent {
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut b = [0u8; 1];
        let t0 = Instant::now();
        assert_eq!(s.read(&mut b).unwrap_or(0), 0);
        assert!(t0.elapsed() < Duration::from_secs(4));
        let _ = s.write_all(b"late");
    }
    t.join().unwrap();
}

/// Runs as a child under another uid (see `owner_uid_is_checked_with_kernel_credentials`).
#[test]
#[ignore = "child process of owner_uid_is_checked_with_kernel_credentials"]
fn uid_child() {
    let Some(dirs) = child_dirs() else {
        return;
    };
    let ctx = match std::env::var("HV_AS").unwrap().as_str() {
        "host" => hvsock::Context::host(dirs),
        name => hvsock::Context::local(dirs, name).unwrap(),
    };
    let target = if ctx.location() == hvsock::Location::Host {
        VmId::LOOPBACK
    } else {
        VmId::PARENT
    };
    match ctx.connect(HvAddr::new(target, SVC)) {
        Ok(_) => println!("RESULT ok"),
        Err(e) => println!("RESULT {:?} {e}", e.kind()),
    }
}

#[test]
fn owner_uid_is_checked_with_kernel_credentials() {
    if hvsock_is_not_root() {
        eprintln!("skipped: needs root to run a child under another uid");
        return;
    }
    const NOBODY: u32 = 65534;
    let f = Fixture::new();
    std::fs::set_permissions(f.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&f.dirs.config, std::fs::Permissions::from_mode(0o755)).unwrap();
    f.settings(&format!("group = \"{NOBODY}\"\n"));
    hvsock::partitions::PartitionTable::update(&f.dirs, |t| {
        t.set_uid("a", Some(1234))?;
        t.set_uid("b", Some(NOBODY))
    })
    .unwrap();
    let l = f.host().bind(HvAddr::new(VmId::ZERO, SVC)).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        while let Ok((_, peer)) = l.accept() {
            let _ = tx.send(peer.vm_id);
        }
    });
    let run_as_nobody = |who: &str| {
        let out = std::process::Command::new("setpriv")
            .args([
                &format!("--reuid={NOBODY}"),
                &format!("--regid={NOBODY}"),
                "--clear-groups",
            ])
            .arg(std::env::current_exe().unwrap())
            .args(hvsock_testkit::proc::ignored_test_args("uid_child"))
            .env("HV_TEST_BASE", f.dir.path())
            .env("HV_AS", who)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let line = text
            .lines()
            .find_map(|l| l.split_once("RESULT ").map(|(_, r)| r.to_string()));
        line.unwrap_or_else(|| {
            panic!(
                "child said nothing: {text} {}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
    };
    // b is owned by nobody: accepted, and the host names it b.
    assert_eq!(run_as_nobody("b"), "ok");
    assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), B);
    // a is owned by uid 1234: nobody may not act as a. Counted as bad credentials of
    // an unknown peer, not against a, whom the claim names.
    let r = run_as_nobody("a");
    assert!(
        r.starts_with("PermissionDenied") && r.contains("may not act as partition"),
        "{r}"
    );
    assert_eq!(bad_credentials(&f), (1, 0));
    // Nor as the host (the root partition), though it can reach the socket.
    let lo = f.host().bind(HvAddr::new(VmId::LOOPBACK, SVC)).unwrap();
    std::thread::spawn(move || while lo.accept().is_ok() {});
    let r = run_as_nobody("host");
    assert!(
        r.starts_with("PermissionDenied") && r.contains("root partition"),
        "{r}"
    );
    assert_eq!(bad_credentials(&f), (2, 0));
}

/// The `bad_credentials` refusals of SVC in this host's counters files: of unknown
/// peers, and of any other VM id.
fn bad_credentials(f: &Fixture) -> (u64, u64) {
    use hvsock::stats::{Reason, UNKNOWN_PEER, read_host};
    let host = read_host(&f.dirs.runtime);
    assert!(host.skipped.is_empty(), "{:?}", host.skipped);
    let mut n = (0, 0);
    for s in host.processes.iter().flat_map(|p| &p.slots) {
        if s.service != SVC {
            continue;
        }
        let c = s.counters.refused(Reason::BadCredentials);
        if s.vm == UNKNOWN_PEER {
            n.0 += c;
        } else {
            n.1 += c;
        }
    }
    n
}

fn hvsock_is_not_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| m.uid() != 0)
        .unwrap_or(true)
}
