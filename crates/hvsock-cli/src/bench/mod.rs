//! `hvsock bench`: throughput, latency, connection rate and a checksummed stress test
//! against any Hyper-V socket address (local partition, hybrid VM, guest to host), in
//! the spirit of linuxkit's hvbench and sock_stress.
//!
//! - `hvsock bench server ADDR` serves bench clients on ADDR until killed.
//! - `hvsock bench client ADDR --mode M` runs workload M against a server.
//! - `hvsock bench local --mode M` runs both in this process, in private temporary
//!   config and runtime dirs: the server is bound on the host as `children:bench`
//!   and the client is the `--local` partition `bench` connecting to `parent:bench`
//!   (`--via partition`, the default), or both are the host on `loopback:bench`
//!   (`--via loopback`). Nothing outside the temp dir is touched.
//!
//! ADDR is `VM:SERVICE` (or `hvsock:VM:SERVICE`), or, to measure other transports with
//! the same tool, `unix:PATH` or `tcp:HOST:PORT`.
//!
//! `--baseline` runs the same workload once more against a server in this process on
//! a plain Unix socket (in its own temp dir) and reports the ratio hvsock/baseline of
//! the mode's headline figure, so that results hold on a noisy machine: the run is cut
//! into rounds (`--rounds`, 5 by default) that alternate between the two.
//!
//! # Protocol
//!
//! On accept the server sends one greeting byte, `B` (0x42), at once: the "first
//! byte" of the connect mode, whose client reads it and closes without a header. In
//! every other mode the client reads the greeting and then sends a 24-byte header
//! (little endian):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | magic `HVBN` |
//! | 4 | 1 | version, 1 |
//! | 5 | 1 | mode: 1 throughput, 2 latency, 3 connect, 4 stress |
//! | 6 | 1 | direction: 1 send (client to server), 2 receive, 3 both |
//! | 7 | 1 | reserved, 0 |
//! | 8 | 4 | message size in bytes, 1 to 16 MiB |
//! | 12 | 4 | reserved, 0 |
//! | 16 | 8 | seed (stress: the seed of the client's byte pattern; else free) |
//!
//! The server answers one status byte: 0, then the mode runs; anything else is an
//! error, followed by a u16 length and that many bytes of UTF-8 message, and the
//! server closes the connection (and keeps serving others). A header not complete
//! within 10 s is an error too.
//!
//! Then, per mode:
//! - **throughput**, send: the client writes messages until it is done and shuts
//!   down writing; the server reads to EOF and answers the u64 count of bytes it
//!   received (so the client's time covers delivery). Receive: the server writes
//!   messages until the client shuts down writing, then shuts down its own. Both:
//!   the two at once (no count at the end).
//! - **latency**: the client writes one message, the server reads that many bytes and
//!   writes them back, repeated until the client shuts down writing.
//! - **connect**: no header: connect, read the greeting, close (a connection closed
//!   before its header is no error to the server).
//! - **stress**: the server echoes everything until EOF, then shuts down writing; the
//!   client sends a pseudo-random pattern in random-size chunks and checks the echo
//!   by length and FNV-1a checksum, over many connections.
//!
//! # JSON output (`--json`)
//!
//! One object on stdout:
//! - `target` (string), `mode`, `direction`, `msg_size` (bytes), `parallel`,
//!   `rounds`, `elapsed_s` (seconds measured, summed over the rounds);
//! - `bytes_sent`, `bytes_received` (payload bytes, counted by the client),
//!   `mb_per_s` ((sent + received) / elapsed, MB = 10^6 bytes);
//! - `ops` (messages written in throughput, round trips in latency, connections in
//!   connect and stress) and `ops_per_s`;
//! - `latency_us` (latency and connect): `{p50, p99, max, mean}` in microseconds, of
//!   one round trip (latency) or of connect + header + first byte (connect);
//! - `verified_bytes`, `checksum_errors` (stress): bytes echoed back intact, and
//!   connections whose echo did not match;
//! - `cpu_s`: CPU seconds this process used during the run (in `bench local` and the
//!   baseline that includes the in-process server);
//! - with `--baseline`: `baseline` (the same fields, over a plain Unix socket),
//!   `ratio` (hvsock / baseline) and `ratio_of` (the field compared: `mb_per_s`,
//!   `latency_p50_us` or `ops_per_s`).

mod net;
mod report;
mod server;
#[cfg(test)]
mod tests;
mod wire;
mod workload;

use crate::config::Config;
use crate::endpoint::Endpoint;
use crate::options::parse_duration;
use clap::{Args, ValueEnum};
#[cfg(unix)]
use hvsock::partitions::{PartitionKind, PartitionTable};
#[cfg(unix)]
use hvsock::paths::Dirs;
#[cfg(unix)]
use hvsock::registry::Registry;
#[cfg(unix)]
use hvsock::{Context, HvAddr, VmId};
use net::{Acceptor, Dialer};
use report::measure;
use server::serve;
use std::io::{self, ErrorKind};
#[cfg(unix)]
use std::path::PathBuf;
#[cfg(unix)]
use std::thread;
use std::time::Duration;
#[cfg(unix)]
use wire::LOCAL_SERVICE;
use wire::{Direction, Mode, parse_size};

/// The two in-process setups of `bench local`.
#[derive(Clone, Copy, ValueEnum)]
pub enum Via {
    /// Local partition `bench` -> host (`parent:bench`), the cross-partition path.
    Partition,
    /// Host -> host (`loopback:bench`).
    Loopback,
}

/// What to measure and for how long.
#[derive(Args, Clone)]
pub struct WorkArgs {
    /// The workload.
    #[arg(long, short, value_enum, default_value = "throughput")]
    mode: Mode,
    /// Message size: bytes, or with K/KiB, M/MiB (1024-based). Default: 64KiB for
    /// throughput and stress (the largest chunk), 64 for latency.
    #[arg(long, short, value_name = "SIZE", value_parser = parse_size)]
    size: Option<u32>,
    /// Streams (connections, or connecting threads) at once.
    #[arg(long, short = 'P', value_name = "N", default_value = "1", value_parser = clap::value_parser!(u32).range(1..=1024))]
    parallel: u32,
    /// How long to run (500ms, 2s, 1m), unless --count is given.
    #[arg(long, short, value_name = "DUR", default_value = "2s", value_parser = parse_duration)]
    duration: Duration,
    /// Run a fixed amount per stream instead: messages (throughput), round trips
    /// (latency) or connections (connect, stress).
    #[arg(long, short = 'n', value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    count: Option<u64>,
    /// Throughput: send (client to server), receive (server to client) or both.
    #[arg(long, value_enum, default_value = "send")]
    direction: Direction,
    /// Print one JSON object instead of text (its fields: see below).
    #[arg(long)]
    json: bool,
    /// Also run the workload over a plain Unix socket in this process, and print the
    /// ratio hvsock/baseline.
    #[arg(long)]
    baseline: bool,
    /// Cut the run into N rounds of DUR/N (or COUNT/N rounded up) each; with
    /// --baseline, hvsock and baseline rounds alternate [default: 5 with --baseline,
    /// else 1].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
    rounds: Option<u32>,
}

/// Rounds of a run with `--baseline`.
const DEFAULT_ROUNDS: u32 = 5;

/// A private temp directory, removed on drop.
#[cfg(unix)]
struct TempDir(PathBuf);

#[cfg(unix)]
impl TempDir {
    /// A fresh directory `hvb-...` in `$TMPDIR` (in /tmp when `$TMPDIR` is too long
    /// for the socket paths of a runtime dir inside it).
    fn new() -> io::Result<TempDir> {
        use std::os::unix::fs::DirBuilderExt;
        let mut base = std::env::temp_dir();
        // RUNTIME/host/<26>.<26> must fit the 107 bytes of a Unix socket path.
        if base.as_os_str().len() > 40 {
            base = PathBuf::from("/tmp");
        }
        for i in 0..100u32 {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0);
            let p = base.join(format!("hvb-{}-{:x}", std::process::id(), nanos ^ i));
            match std::fs::DirBuilder::new().mode(0o700).create(&p) {
                Ok(()) => return Ok(TempDir(p)),
                Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::new(
            ErrorKind::AlreadyExists,
            "cannot make a temp dir",
        ))
    }
}

#[cfg(unix)]
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The `--baseline` server: a bench server on a plain Unix socket in its own temp dir.
#[cfg_attr(windows, allow(dead_code))]
struct Baseline {
    dialer: Dialer,
    #[cfg(unix)]
    _dir: TempDir,
}

/// Starts the baseline server when `w` asks for one.
#[cfg(unix)]
fn start_baseline(w: &WorkArgs) -> io::Result<Option<Baseline>> {
    if !w.baseline {
        return Ok(None);
    }
    let dir = TempDir::new()?;
    let path = dir.0.join("baseline.sock");
    let l = crate::endpoint::bind_unix(&path)?;
    spawn_server(Acceptor::Unix(l))?;
    Ok(Some(Baseline {
        dialer: Dialer::Unix(path),
        _dir: dir,
    }))
}

/// Windows: the baseline is a raw Unix socket, which Windows has not.
#[cfg(windows)]
fn start_baseline(w: &WorkArgs) -> Result<Option<Baseline>, crate::platform::UnixOnly> {
    if w.baseline {
        return Err(crate::platform::UnixOnly::new(
            "hvsock bench --baseline",
            "the baseline is the same workload over a raw Unix socket, which Windows has \
             not; compare with `hvsock bench client tcp:HOST:PORT` instead",
        ));
    }
    Ok(None)
}

#[cfg(unix)]
fn spawn_server(a: Acceptor) -> io::Result<()> {
    thread::Builder::new()
        .name("bench-server".into())
        .spawn(move || {
            if let Err(e) = serve(a, false) {
                eprintln!("hvsock: bench: server: {e}");
            }
        })?;
    Ok(())
}

/// `hvsock bench server`: serves bench clients on `at` until killed.
pub fn run_server(
    config: &Config,
    addr: &str,
    verbose: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    let acceptor = Endpoint::parse_or_hv(addr)
        .map_err(|e| io::Error::new(ErrorKind::InvalidInput, e))
        .and_then(|at| Acceptor::bind(&at, config))
        .map_err(|e| format!("listen on {addr}: {}", crate::hints::full(&e)))?;
    if verbose {
        eprintln!("hvsock: bench server on {addr}");
    }
    serve(acceptor, verbose)?;
    Ok(())
}

/// `hvsock bench client`: runs the workload against the server at `at`.
pub fn run_client(
    config: &Config,
    addr: &str,
    work: &WorkArgs,
) -> Result<std::process::ExitCode, Box<dyn std::error::Error>> {
    let dialer = Endpoint::parse_or_hv(addr)
        .map_err(|e| io::Error::new(ErrorKind::InvalidInput, e))
        .and_then(|at| Dialer::new(&at, config))
        .map_err(|e| format!("{addr}: {}", crate::hints::full(&e)))?;
    measure(&dialer, work)
}

/// `hvsock bench local`: server and client in this process, in private temp dirs.
#[cfg(unix)]
pub fn run_local(
    via: Via,
    work: &WorkArgs,
) -> Result<std::process::ExitCode, Box<dyn std::error::Error>> {
    let tmp = TempDir::new()?;
    let dirs = Dirs::new(tmp.0.join("c"), tmp.0.join("r"));
    Registry::update(&dirs, |r| r.add("bench", Some(LOCAL_SERVICE)))?;
    PartitionTable::update(&dirs, |t| t.add("bench", None, PartitionKind::Local))?;
    let host = Context::host(dirs.clone());
    let (bind, client, connect, text) = match via {
        Via::Partition => (
            VmId::CHILDREN,
            Context::local(dirs.clone(), "bench")?,
            VmId::PARENT,
            "parent:bench (from the local partition bench)",
        ),
        Via::Loopback => (
            VmId::LOOPBACK,
            host.clone(),
            VmId::LOOPBACK,
            "loopback:bench (host to host)",
        ),
    };
    let listener = host.bind(HvAddr::new(bind, LOCAL_SERVICE))?;
    spawn_server(Acceptor::Hv(Box::new(listener)))?;
    let dialer = Dialer::Hv(client, HvAddr::new(connect, LOCAL_SERVICE), text.into());
    let code = measure(&dialer, work);
    drop(tmp);
    code
}

/// Windows: `bench local` runs its client in a local partition (or on loopback) with a
/// registry in a temp dir; local partitions are Linux's, and on Windows the registry
/// is the machine's own.
#[cfg(windows)]
pub fn run_local(
    _via: Via,
    _work: &WorkArgs,
) -> Result<std::process::ExitCode, Box<dyn std::error::Error>> {
    Err(crate::platform::UnixOnly::new(
        "hvsock bench local",
        "it runs the client in a local partition with a throw-away registry, and on \
         Windows the registry is the machine's own; run `hvsock bench server` and \
         `hvsock bench client` instead",
    )
    .into())
}
