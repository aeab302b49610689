//! Shared fixtures: a throw-away config/runtime pair with a registry and a table.
#![allow(dead_code)]

use hvsock::partitions::{PartitionKind, PartitionTable};
use hvsock::paths::Dirs;
use hvsock::registry::Registry;
use hvsock::{Context, Guid, ServiceId, VmId};
use std::path::PathBuf;

pub const A: VmId = VmId(Guid::from_u128(0xaaaaaaaa_0000_4000_8000_00000000000a));
pub const B: VmId = VmId(Guid::from_u128(0xbbbbbbbb_0000_4000_8000_00000000000b));
pub const VM: VmId = VmId(Guid::from_u128(0xcccccccc_0000_4000_8000_00000000000c));
/// A registered, enabled service (vsock template).
pub const SVC: ServiceId = ServiceId::from_vsock_port(5000);
/// A registered, enabled service that is not a template GUID.
pub const SVC2: ServiceId = ServiceId(Guid::from_u128(0x12345678_9abc_4def_8123_456789abcdef));
/// Never registered.
pub const UNREG: ServiceId = ServiceId::from_vsock_port(6000);

/// In a child process started by a test with `HV_TEST_BASE` set to its fixture's dir:
/// the config and runtime dirs in it; `None` when the variable is not set.
pub fn child_dirs() -> Option<Dirs> {
    let base = PathBuf::from(std::env::var("HV_TEST_BASE").ok()?);
    Some(Dirs::new(base.join("c"), base.join("r")))
}

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub dirs: Dirs,
}

impl Fixture {
    pub fn new() -> Fixture {
        let dir = tempfile::Builder::new()
            .prefix("hv")
            .tempdir_in("/tmp")
            .unwrap();
        let dirs = Dirs::new(dir.path().join("c"), dir.path().join("r"));
        Registry::update(&dirs, |r| {
            r.add("echo", Some(SVC))?;
            r.add("other", Some(SVC2))
        })
        .unwrap();
        PartitionTable::update(&dirs, |t| {
            t.add("a", Some(A), PartitionKind::Local)?;
            t.add("b", Some(B), PartitionKind::Local)
        })
        .unwrap();
        Fixture { dir, dirs }
    }

    pub fn host(&self) -> Context {
        Context::host(self.dirs.clone())
    }

    pub fn local(&self, name: &str) -> Context {
        Context::local(self.dirs.clone(), name).unwrap()
    }

    pub fn guest(&self) -> Context {
        Context::guest(self.dirs.clone())
    }

    pub fn add_hybrid(&self, name: &str, id: VmId) -> PathBuf {
        let path = self.dir.path().join(format!("{name}.vsock"));
        let p = path.clone();
        PartitionTable::update(&self.dirs, |t| {
            t.add(name, Some(id), PartitionKind::Hybrid { path: p })
        })
        .unwrap();
        path
    }

    /// Writes `hvsock.toml` in the config dir.
    pub fn settings(&self, text: &str) {
        std::fs::write(self.dirs.settings_file(), text).unwrap();
    }

    /// The socket file of the (single) host listener, for raw clients that skip the
    /// library.
    pub fn host_listener_socket(&self) -> PathBuf {
        std::fs::read_dir(self.dirs.runtime.join("host"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_none_or(|e| e != "lock"))
            .unwrap()
    }

    pub fn set_enabled(&self, svc: ServiceId, on: bool) {
        Registry::update(&self.dirs, |r| r.set_enabled(&svc.to_string(), on)).unwrap();
    }
}

/// Sends `msg`, half-closes, and reads until the peer closes.
pub fn roundtrip(mut s: hvsock::HvStream, msg: &[u8]) -> Vec<u8> {
    use std::io::{Read, Write};
    s.write_all(msg).unwrap();
    s.shutdown(std::net::Shutdown::Write).unwrap();
    let mut back = Vec::new();
    s.read_to_end(&mut back).unwrap();
    back
}

/// A deterministic pseudo-random byte stream (xorshift), so both ends can check data.
pub fn pattern(seed: u64, len: usize) -> Vec<u8> {
    hvsock_testkit::data::xorshift_low_bytes(seed | 1, len)
}

/// FNV-1a, for comparing what went in with what came out.
pub fn checksum(data: &[u8]) -> u64 {
    hvsock_testkit::data::fnv1a(data)
}

/// A multi-thread tokio runtime with two workers and at most `max_blocking` blocking
/// threads (tokio's default when `None`).
pub fn two_worker_runtime(max_blocking: Option<usize>) -> tokio::runtime::Runtime {
    let mut b = tokio::runtime::Builder::new_multi_thread();
    b.worker_threads(2).enable_all();
    if let Some(n) = max_blocking {
        b.max_blocking_threads(n);
    }
    b.build().unwrap()
}

/// A task that accepts `n` connections on `l`, echoes each back to its EOF on a task of
/// its own and then, if `shutdown`, shuts it down for writing; `peer` sees each peer's
/// address. The task ends when every echo has.
#[cfg(feature = "tokio")]
pub fn tokio_echo_n(
    l: hvsock::net::tokio::HvListener,
    n: usize,
    shutdown: bool,
    peer: impl Fn(hvsock::HvAddr) + Send + 'static,
) -> tokio::task::JoinHandle<()> {
    use tokio::io::AsyncWriteExt;
    tokio::spawn(async move {
        let mut tasks = Vec::new();
        for _ in 0..n {
            let (s, addr) = l.accept().await.unwrap();
            peer(addr);
            tasks.push(tokio::spawn(async move {
                let (mut r, mut w) = s.into_split();
                tokio::io::copy(&mut r, &mut w).await.unwrap();
                if shutdown {
                    w.shutdown().await.unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    })
}
