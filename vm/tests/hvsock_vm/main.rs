//! hvsock against a real Linux guest: a Debian kernel under QEMU (TCG) with
//! virtio-vsock behind vhost-device-vsock 0.3.0, registered on the host with
//! `hvsock vm add NAME --id GUID --hybrid PATH` in a throw-away registry.
//!
//! The guest runs the same (static) `hvsock` binary in guest mode (`HVSOCK_GUEST=1`:
//! PARENT is the host over AF_VSOCK); the host side is the hvsock library
//! ([`Context::host`]) and the `hvsock` CLI with `HVSOCK_CONFIG_DIR`/`HVSOCK_RUNTIME_DIR`
//! pointing at the test registry.
//!
//! One VM serves every step: the steps run in order inside one `#[test]`, each leaving
//! the guest as it found it; a failed step does not stop the others, and the test then
//! fails naming every failed step (the guest console is printed). Run alone:
//!
//! ```text
//! vm/setup.sh
//! cargo test -p hvsock-vm --test hvsock_vm -- --test-threads=1 --nocapture
//! ```
//!
//! `HVSOCK_VM_STEPS=step,step` runs only those steps; `HVSOCK_VM_SEED=N` repeats the
//! random sizes of a run (each run prints its seed); `HVSOCK_VM_PROFILE=release` builds
//! the static `hvsock` with that cargo profile instead of `dev`. Lines starting with
//! `FIGURE` are measurements (no timing is asserted).
//!
//! What the backend cannot carry (see `hvsock_vm`'s crate docs) is pinned by steps of
//! its own, so that a fixed backend is noticed: a half-close in either direction
//! (`half_close_over_this_backend`; echoes here read a known length instead of waiting
//! for EOF) and a host reset (`host_close_with_unread_data_is_lost`); what the CLI does
//! about the half-close (`cli_on_a_vmm_that_loses_half_close`). Bulk echoes keep
//! at most [`WINDOW`] bytes in flight per connection. Half-close over a transport that
//! carries it (kernel vhost-vsock, `vm add --cid`) is tested by `nested_vm`.
//!
//! The same guest also runs the `grpc_in_guest` example's server, called from the host
//! by its client (`grpc_example_server_in_the_guest`), and `hvsock agent --systemd` given
//! its AF_VSOCK listener the way systemd passes it (`agent_socket_activated_in_the_guest`).

use std::collections::BTreeMap;
use std::io::{ErrorKind, Read, Write};
use std::net::Shutdown;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use hvsock::paths::Dirs;
use hvsock::{Context, Guid, HvAddr, HvListener, HvStream, ServiceId, VmId};
use hvsock_testkit::data::{clock_seed, env_seed};
use hvsock_vm::{GUEST_HELPER, GuestOutput, Vm, VmConfig, build_static_bin_profile};

/// The VM's name and fixed id in the host's partition table.
const VM_NAME: &str = "testvm";
const VM_ID: VmId = VmId(Guid::from_u128(0x3f1c_9a2e_5b7d_4c11_9e0f_7a6b_5c4d_3e2f));

/// Guest echo server (`hvsock listen ... --exec cat`), running for the whole test.
const ECHO: ServiceId = ServiceId::from_vsock_port(5000);
/// Never registered on the host.
const UNREG: ServiceId = ServiceId::from_vsock_port(5001);
/// Disabled and enabled again by the registry step.
const TOGGLE: ServiceId = ServiceId::from_vsock_port(5002);
/// Host listeners the guest connects to.
const BACK: ServiceId = ServiceId::from_vsock_port(5003);
/// Guest `vm-guest check` server: host -> guest data verified in the guest.
const CHECK: ServiceId = ServiceId::from_vsock_port(5004);
/// Host listener for guest -> host data verified on the host.
const UPLOAD: ServiceId = ServiceId::from_vsock_port(5005);
/// A guest listener that gets killed.
const KILLED: ServiceId = ServiceId::from_vsock_port(5006);
/// Half-close probes.
const HALF: ServiceId = ServiceId::from_vsock_port(5007);
/// Guest `vm-guest gen` server: guest -> host data on a host-initiated connection.
const GEN: ServiceId = ServiceId::from_vsock_port(5008);
/// Guest `listen --exec sha256sum`: answers only after its input ends.
const SHA: ServiceId = ServiceId::from_vsock_port(5009);
/// Not a vsock template GUID: its vsock port is its Data1, 0x4856536b.
const GUID_SVC: ServiceId = ServiceId(Guid::from_u128(0x4856_536b_7a31_4e2d_9c8b_0123_4567_89ab));

/// Registered (and enabled) on the host: (name, id).
const SERVICES: &[(&str, ServiceId)] = &[
    ("echo", ECHO),
    ("toggle", TOGGLE),
    ("back", BACK),
    ("check", CHECK),
    ("upload", UPLOAD),
    ("killed", KILLED),
    ("half", HALF),
    ("gen", GEN),
    ("guid-svc", GUID_SVC),
    ("sha", SHA),
    ("greeter", ecosystem::GREETER),
];

/// Most bytes one echo connection has in flight (vhost-device-vsock 0.3.0 can wedge a
/// connection saturated in both directions at once).
const WINDOW: u64 = 128 << 10;
/// Largest random size of the integrity steps.
const MAX_SIZE: u64 = 4 << 20;
/// Parallel connections of the integrity steps.
const PARALLEL: usize = 16;

/// The VM, the host's registry and the `hvsock` binary.
struct Env {
    vm: Vm,
    dirs: Dirs,
    host: Context,
    /// The static `hvsock` build: `/bin/hvsock` in the guest, and the host's CLI.
    hvsock: PathBuf,
    /// The static `grpc_in_guest` example: `/bin/grpc_in_guest` in the guest, and the
    /// host's client.
    grpc_example: PathBuf,
    /// Wall time of `Vm::start` (images cached).
    start_time: Duration,
    seed: u64,
    _tmp: tempfile::TempDir,
}

/// A background guest process, killed (SIGKILL) when dropped.
struct GuestProc<'a> {
    vm: &'a Vm,
    pid: u32,
}

impl Drop for GuestProc<'_> {
    fn drop(&mut self) {
        // Waits until it is gone, so its port is free for the next listener.
        let _ = self.vm.kill(self.pid);
    }
}

impl Env {
    fn start() -> Env {
        let t = Instant::now();
        let profile = hvsock_vm::guest_profile();
        let hvsock = build_static_bin_profile("hvsock-cli", "hvsock", &profile)
            .expect("static hvsock build");
        let grpc_example = hvsock_vm::build_static_example("hvsock", "grpc_in_guest")
            .expect("static grpc_in_guest build");
        eprintln!(
            "static hvsock and grpc_in_guest builds ({profile} profile; cached after the \
             first): {:?}",
            t.elapsed()
        );
        let t = Instant::now();
        let vm = Vm::start(VmConfig {
            guest_binaries: vec![
                (hvsock.clone(), "/bin/hvsock".into()),
                (grpc_example.clone(), "/bin/grpc_in_guest".into()),
            ],
            env: vec![("HVSOCK_GUEST".into(), "1".into())],
            ..VmConfig::default()
        })
        .expect("start VM");
        let start_time = t.elapsed();
        let tmp = tempfile::Builder::new()
            .prefix("hvsock-vmt")
            .tempdir_in("/tmp")
            .unwrap();
        let dirs = Dirs::new(tmp.path().join("config"), tmp.path().join("run"));
        let seed = env_seed("HVSOCK_VM_SEED").unwrap_or_else(clock_seed);
        eprintln!("HVSOCK_VM_SEED={seed}");
        let env = Env {
            host: Context::host(dirs.clone()),
            vm,
            dirs,
            hvsock,
            grpc_example,
            start_time,
            seed,
            _tmp: tmp,
        };
        let hybrid = env.vm.hybrid_path().to_str().unwrap().to_string();
        let id = VM_ID.to_string();
        env.cli_ok(&["vm", "add", VM_NAME, "--id", &id, "--hybrid", &hybrid]);
        for (name, svc) in SERVICES {
            env.cli_ok(&["service", "add", name, "--id", &svc.to_string()]);
        }
        env
    }

    /// The host's `hvsock` command on the test registry.
    fn cli(&self) -> Command {
        let mut c = Command::new(&self.hvsock);
        c.env("HVSOCK_CONFIG_DIR", &self.dirs.config)
            .env("HVSOCK_RUNTIME_DIR", &self.dirs.runtime)
            .env_remove("HVSOCK_GUEST")
            .env_remove("HVSOCK_PARTITION");
        c
    }

    /// Runs the host CLI, which must succeed; returns its stdout.
    fn cli_ok(&self, args: &[&str]) -> String {
        let out = self.cli().args(args).output().unwrap();
        hvsock_testkit::proc::assert_success(&out, format_args!("hvsock {args:?}"));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn set_enabled(&self, name: &str, on: bool) {
        self.cli_ok(&["service", if on { "enable" } else { "disable" }, name]);
    }

    /// Runs a guest shell script and returns its output (the harness must not fail).
    fn guest(&self, script: &str) -> GuestOutput {
        self.vm
            .exec_timeout(script, Duration::from_secs(120))
            .unwrap_or_else(|e| panic!("guest {script:?}: {e}"))
    }

    /// `INPUT | hvsock connect parent:vsock:PORT` in the guest, `PORT` that of `svc`.
    fn guest_connect(&self, input: &str, svc: ServiceId) -> GuestOutput {
        self.guest(&format!(
            "{input} | hvsock connect parent:vsock:{}",
            svc.port()
        ))
    }

    /// Starts `hvsock listen any:SVC --keep-open [--exec CMD]` in the guest and waits
    /// until its vsock port (the service's Data1) takes connections.
    fn guest_listen(&self, svc: ServiceId, exec: Option<&str>) -> GuestProc<'_> {
        let exec = exec.map(|c| format!(" --exec {c}")).unwrap_or_default();
        let pid = self
            .vm
            .spawn(&format!("exec hvsock listen any:{svc} --keep-open{exec}"))
            .expect("spawn guest listener");
        let proc_ = GuestProc { vm: &self.vm, pid };
        self.vm
            .wait_port(svc.port(), Duration::from_secs(30))
            .expect("guest listener up");
        proc_
    }

    fn connect(&self, svc: ServiceId) -> HvStream {
        let s = self
            .host
            .connect((VM_ID, svc))
            .unwrap_or_else(|e| panic!("connect to {VM_NAME}:{svc}: {e}"));
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        s
    }
}

// ---- framed test streams: the guest helper's own generator and checksum, so both
// sides of a check run the same code.
#[allow(dead_code)]
#[path = "../../guest/src/stream.rs"]
mod stream;
use stream::{Gen, Sum};

/// Checksum of `Gen::new(seed)`'s first `len` bytes.
fn gen_sum(seed: u64, len: u64) -> u64 {
    gen_chunks(seed, len, |_| {})
}

/// Hands `Gen::new(seed)`'s first `len` bytes to `each`, 64 KiB at a time; returns
/// their checksum.
fn gen_chunks(seed: u64, len: u64, mut each: impl FnMut(&[u8])) -> u64 {
    let mut g = Gen::new(seed);
    let mut s = Sum::new();
    let mut buf = vec![0u8; 64 << 10];
    let mut left = len;
    while left > 0 {
        let k = left.min(buf.len() as u64) as usize;
        g.fill(&mut buf[..k]);
        s.update(&buf[..k]);
        each(&buf[..k]);
        left -= k as u64;
    }
    s.finish()
}

/// splitmix64: a small deterministic generator for test parameters.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// Reads one `\n`-terminated line byte by byte (nothing after it is consumed).
fn read_line(mut r: impl Read) -> std::io::Result<String> {
    let mut line = Vec::new();
    let mut b = [0u8];
    while line.last() != Some(&b'\n') {
        if r.read(&mut b)? == 0 {
            break;
        }
        line.push(b[0]);
        if line.len() > 4096 {
            return Err(std::io::Error::new(ErrorKind::InvalidData, "overlong line"));
        }
    }
    Ok(String::from_utf8_lossy(&line).into_owned())
}

/// Accepts one connection within `timeout` (the listener is polled non-blocking).
fn accept_within(l: &HvListener, timeout: Duration) -> Option<(HvStream, HvAddr)> {
    l.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + timeout;
    loop {
        match l.accept() {
            Ok(c) => return Some(c),
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(e) => panic!("accept: {e}"),
        }
        if Instant::now() >= deadline {
            return None;
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// Runs `guest` (a guest command that connects to `l`) while a host thread accepts its
/// connection on `l`, sets a 30 s read timeout and hands it to `serve`; returns the
/// guest's output and what `serve` returned.
fn with_guest_client<T: Send>(
    l: &HvListener,
    serve: impl FnOnce(HvStream, HvAddr) -> T + Send,
    guest: impl FnOnce() -> GuestOutput,
) -> (GuestOutput, T) {
    thread::scope(|sc| {
        let server = sc.spawn(move || {
            let (s, peer) = accept_within(l, Duration::from_secs(30)).expect("no guest");
            s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
            serve(s, peer)
        });
        let out = guest();
        (out, server.join().unwrap())
    })
}

/// Echoes `data` through `s` piecewise (at most 64 KiB in flight) and checks it.
fn echo_check(s: &mut HvStream, data: &[u8]) {
    for piece in data.chunks(64 << 10) {
        s.write_all(piece).unwrap();
        let mut back = vec![0u8; piece.len()];
        s.read_exact(&mut back).unwrap();
        assert!(back == piece, "echo differs");
    }
}

/// Sends `size` bytes of `Gen::new(seed)` through an echo connection with at most
/// [`WINDOW`] bytes in flight; returns (checksum sent, checksum received, bytes received).
fn windowed_echo(s: HvStream, seed: u64, size: u64) -> (u64, u64, u64) {
    let received = AtomicU64::new(0);
    let w = s.try_clone().unwrap();
    thread::scope(|sc| {
        let writer = sc.spawn(|| {
            let mut w = w;
            let mut g = Gen::new(seed);
            let mut sum = Sum::new();
            let mut buf = vec![0u8; 32 << 10];
            let mut sent = 0u64;
            while sent < size {
                let k = (size - sent).min(buf.len() as u64);
                while sent + k - received.load(Ordering::Acquire) > WINDOW {
                    thread::sleep(Duration::from_micros(200));
                }
                g.fill(&mut buf[..k as usize]);
                sum.update(&buf[..k as usize]);
                w.write_all(&buf[..k as usize]).unwrap();
                sent += k;
            }
            sum.finish()
        });
        let mut sum = Sum::new();
        let mut buf = vec![0u8; 64 << 10];
        let mut total = 0u64;
        let mut r = &s;
        while total < size {
            let k = buf.len().min((size - total) as usize);
            let n = r.read(&mut buf[..k]).unwrap();
            if n == 0 {
                break;
            }
            sum.update(&buf[..n]);
            total += n as u64;
            received.store(total, Ordering::Release);
        }
        if total < size {
            // Unblock the writer: nothing more will be echoed.
            received.store(u64::MAX / 2, Ordering::Release);
        }
        (writer.join().unwrap(), sum.finish(), total)
    })
}

fn mb_s(bytes: u64, d: Duration) -> f64 {
    bytes as f64 / d.as_secs_f64() / 1e6
}

// ---- the steps ----

mod close;
mod echo;
mod ecosystem;
mod figures;
mod halfclose;
mod integrity;
mod registry;

type Step = (&'static str, fn(&Env));

/// `(name, step)` for each `module::step`, the name being the function's.
macro_rules! steps {
    ($($m:ident::$f:ident),* $(,)?) => {
        &[$((stringify!($f), $m::$f as fn(&Env))),*]
    };
}

const STEPS: &[Step] = steps![
    echo::host_to_guest_library_echo,
    echo::host_to_guest_cli_echo,
    echo::guest_to_host_wildcard_and_vm_id,
    echo::guest_clients_end_cleanly_when_the_host_closes,
    close::half_close_over_this_backend,
    close::host_close_with_unread_data_is_lost,
    halfclose::cli_on_a_vmm_that_loses_half_close,
    registry::registry_enforcement,
    registry::non_template_guid,
    integrity::integrity_echo_16_parallel,
    integrity::integrity_host_to_guest_16_parallel,
    integrity::integrity_guest_to_host_16_parallel,
    ecosystem::grpc_example_server_in_the_guest,
    ecosystem::agent_socket_activated_in_the_guest,
    close::guest_listener_killed,
    figures::figures,
];

#[test]
fn hvsock_host_and_guest() {
    let only: Option<Vec<String>> = std::env::var("HVSOCK_VM_STEPS")
        .ok()
        .map(|s| s.split(',').map(|x| x.trim().to_string()).collect());
    if let Some(only) = &only {
        for name in only {
            assert!(
                STEPS.iter().any(|(n, _)| n == name),
                "HVSOCK_VM_STEPS: no step {name:?}"
            );
        }
    }
    let env = Env::start();
    let _echo = env.guest_listen(ECHO, Some("cat"));
    let mut results: BTreeMap<usize, (&str, Result<Duration, ()>)> = BTreeMap::new();
    for (i, (name, step)) in STEPS.iter().enumerate() {
        if only.as_ref().is_some_and(|o| !o.iter().any(|n| n == name)) {
            continue;
        }
        eprintln!("=== step {name}");
        let t = Instant::now();
        let r = catch_unwind(AssertUnwindSafe(|| step(&env)));
        let r = r.map(|_| t.elapsed()).map_err(|_| ());
        eprintln!(
            "=== step {name}: {}",
            match r {
                Ok(d) => format!("ok ({d:.1?})"),
                Err(()) => "FAILED".into(),
            }
        );
        results.insert(i, (name, r));
    }
    eprintln!("=== summary");
    for (name, r) in results.values() {
        match r {
            Ok(d) => eprintln!("    {name}: ok ({d:.1?})"),
            Err(()) => eprintln!("    {name}: FAILED"),
        }
    }
    let failed: Vec<&str> = results
        .values()
        .filter(|(_, r)| r.is_err())
        .map(|(n, _)| *n)
        .collect();
    // Panicking here, with the VM alive, prints the guest console.
    assert!(failed.is_empty(), "failed steps: {failed:?}");
}
