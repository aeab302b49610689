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

use crate::cmd_connect::parse_duration;
use crate::sys;
use clap::{Args, Subcommand, ValueEnum};
use hvsock::partitions::{PartitionKind, PartitionTable};
use hvsock::paths::Dirs;
use hvsock::registry::Registry;
use hvsock::{Context, HvAddr, HvListener, HvStream, ServiceId, VmId};
use serde::Serialize;
use std::io::{self, ErrorKind, IsTerminal, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// The `--json` fields, for the long help.
macro_rules! json_help {
    () => {
        "\
--json prints one object:
  target, mode, direction, msg_size (bytes), parallel, rounds
  elapsed_s                 seconds measured (summed over the rounds)
  bytes_sent, bytes_received payload bytes counted by the client
  mb_per_s                  (sent + received) / elapsed, MB = 10^6 bytes
  ops, ops_per_s            messages (throughput), round trips (latency),
                            connections (connect, stress)
  latency_us {p50, p99, max, mean}   latency and connect modes
  verified_bytes, checksum_errors    stress mode
  cpu_s                     CPU seconds of this process during the run
  baseline {...}, ratio, ratio_of    with --baseline: the same over a raw Unix
                            socket, hvsock/baseline of ratio_of (mb_per_s,
                            latency_p50_us or ops_per_s)"
    };
}

/// Measure Hyper-V sockets: throughput, latency, connections per second, stress.
#[derive(Subcommand)]
pub enum BenchCmd {
    /// Serve bench clients on ADDR (VM:SERVICE, unix:PATH or tcp:HOST:PORT) until killed.
    ///
    /// For a host reachable from partitions and VMs, bind e.g. `any:bench` (the
    /// service must be registered: `hvsock service add bench`).
    Server(ServerArgs),
    /// Run a workload against `hvsock bench server` at ADDR.
    Client(ClientArgs),
    /// Run server and client in this process, in private temp dirs (nothing to set up).
    ///
    /// `--via partition` (default): the server is the host on `children:bench`, the
    /// client the `--local` partition `bench` connecting to `parent:bench`.
    /// `--via loopback`: both are the host, on `loopback:bench`.
    Local(LocalArgs),
}

/// `hvsock bench server`.
#[derive(Args)]
pub struct ServerArgs {
    /// Where to listen: VM:SERVICE (as `hvsock listen`), unix:PATH or tcp:HOST:PORT.
    #[arg(value_name = "ADDR")]
    addr: String,
    /// Log every connection and error to stderr.
    #[arg(long, short)]
    verbose: bool,
}

/// `hvsock bench client`.
#[derive(Args)]
#[command(after_long_help = concat!("\
Examples:
  hvsock bench client myvm:bench --mode throughput --size 64KiB --duration 5s
  hvsock bench client parent:bench --mode latency --size 64 --count 100000
  hvsock bench client loopback:bench --mode connect --parallel 2 --json
  hvsock bench client tcp:127.0.0.1:9000 --mode stress --parallel 8

", json_help!()))]
pub struct ClientArgs {
    /// The server: VM:SERVICE, unix:PATH or tcp:HOST:PORT.
    #[arg(value_name = "ADDR")]
    addr: String,
    #[command(flatten)]
    work: WorkArgs,
}

/// `hvsock bench local`.
#[derive(Args)]
#[command(after_long_help = concat!("\
Examples:
  hvsock bench local --mode throughput --baseline
  hvsock bench local --mode latency --size 64 --baseline --json
  hvsock bench local --via loopback --mode connect --duration 3s

", json_help!()))]
pub struct LocalArgs {
    /// Who talks to whom: a local partition to the host, or the host to itself.
    #[arg(long, value_enum, default_value = "partition")]
    via: Via,
    #[command(flatten)]
    work: WorkArgs,
}

/// The two in-process setups of `bench local`.
#[derive(Clone, Copy, ValueEnum)]
enum Via {
    /// Local partition `bench` -> host (`parent:bench`), the cross-partition path.
    Partition,
    /// Host -> host (`loopback:bench`).
    Loopback,
}

/// What to measure and for how long.
#[derive(Args, Clone)]
struct WorkArgs {
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

/// The workloads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
enum Mode {
    /// Bulk transfer (MB/s).
    Throughput,
    /// Ping-pong round trips (p50, p99, max).
    Latency,
    /// Connect + accept + first byte (connections/s).
    Connect,
    /// Many connections echoing random-size chunks, verified by checksum.
    Stress,
}

/// Direction of the throughput workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
enum Direction {
    /// Client to server.
    Send,
    /// Server to client.
    Receive,
    /// Both at once.
    Both,
}

const MAGIC: [u8; 4] = *b"HVBN";
/// The byte a server sends on accept.
const GREETING: u8 = b'B';
const VERSION: u8 = 1;
const HEADER_LEN: usize = 24;
/// Largest message size.
const MAX_SIZE: u32 = 16 << 20;
/// How long a server waits for a header.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Round trips done before latency is measured.
const WARMUP: u64 = 10;
/// Read buffer of throughput readers.
const READ_BUF: usize = 256 * 1024;
/// The service `bench local` uses.
const LOCAL_SERVICE: ServiceId = ServiceId::from_vsock_port(0x4256_4e00);

/// Parses a size: `65536`, `64K`, `64KiB`, `1M`, `1MiB`.
fn parse_size(s: &str) -> Result<u32, String> {
    let t = s.trim();
    let (num, mult) = [
        ("KiB", 1u64 << 10),
        ("MiB", 1 << 20),
        ("K", 1 << 10),
        ("M", 1 << 20),
        ("B", 1),
    ]
    .iter()
    .find_map(|(suffix, m)| t.strip_suffix(suffix).map(|n| (n, *m)))
    .unwrap_or((t, 1));
    let n: u64 = num
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a size: expected e.g. 64, 4K, 64KiB, 1M"))?;
    let v = n.saturating_mul(mult);
    if v == 0 || v > MAX_SIZE as u64 {
        return Err(format!("{s:?}: a message size is 1 byte to 16 MiB"));
    }
    Ok(v as u32)
}

/// The header a client sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Header {
    mode: Mode,
    direction: Direction,
    size: u32,
    seed: u64,
}

impl Header {
    fn encode(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[0..4].copy_from_slice(&MAGIC);
        b[4] = VERSION;
        b[5] = match self.mode {
            Mode::Throughput => 1,
            Mode::Latency => 2,
            Mode::Connect => 3,
            Mode::Stress => 4,
        };
        b[6] = match self.direction {
            Direction::Send => 1,
            Direction::Receive => 2,
            Direction::Both => 3,
        };
        b[8..12].copy_from_slice(&self.size.to_le_bytes());
        b[16..24].copy_from_slice(&self.seed.to_le_bytes());
        b
    }

    fn decode(b: &[u8; HEADER_LEN]) -> Result<Header, String> {
        if b[0..4] != MAGIC {
            return Err("not an hvsock bench header (bad magic)".into());
        }
        if b[4] != VERSION {
            return Err(format!(
                "bench protocol version {} is not supported (this is {VERSION})",
                b[4]
            ));
        }
        let mode = match b[5] {
            1 => Mode::Throughput,
            2 => Mode::Latency,
            3 => Mode::Connect,
            4 => Mode::Stress,
            m => return Err(format!("unknown mode {m}")),
        };
        let direction = match b[6] {
            1 => Direction::Send,
            2 => Direction::Receive,
            3 => Direction::Both,
            d => return Err(format!("unknown direction {d}")),
        };
        if b[7] != 0 || b[12..16] != [0; 4] {
            return Err("reserved header bytes must be zero".into());
        }
        let size = u32::from_le_bytes(b[8..12].try_into().unwrap());
        if size == 0 || size > MAX_SIZE {
            return Err(format!("message size {size} is not 1 to {MAX_SIZE}"));
        }
        Ok(Header {
            mode,
            direction,
            size,
            seed: u64::from_le_bytes(b[16..24].try_into().unwrap()),
        })
    }
}

/// A connected socket of any kind the bench speaks.
enum Sock {
    Hv(HvStream),
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Sock {
    fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        match self {
            Sock::Hv(s) => s.shutdown(how),
            Sock::Unix(s) => s.shutdown(how),
            Sock::Tcp(s) => s.shutdown(how),
        }
    }

    fn set_read_timeout(&self, d: Option<Duration>) -> io::Result<()> {
        match self {
            Sock::Hv(s) => s.set_read_timeout(d),
            Sock::Unix(s) => s.set_read_timeout(d),
            Sock::Tcp(s) => s.set_read_timeout(d),
        }
    }
}

impl Read for &Sock {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match *self {
            Sock::Hv(s) => (&*s).read(buf),
            Sock::Unix(s) => (&*s).read(buf),
            Sock::Tcp(s) => (&*s).read(buf),
        }
    }
}

impl Write for &Sock {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match *self {
            Sock::Hv(s) => (&*s).write(buf),
            Sock::Unix(s) => (&*s).write(buf),
            Sock::Tcp(s) => (&*s).write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A bench address as written.
#[derive(Debug, Clone)]
enum Target {
    Hv(String),
    Unix(PathBuf),
    Tcp(String),
}

impl Target {
    fn parse(s: &str) -> Target {
        if let Some(p) = s.strip_prefix("unix:") {
            Target::Unix(PathBuf::from(p))
        } else if let Some(a) = s.strip_prefix("tcp:") {
            Target::Tcp(a.to_string())
        } else {
            Target::Hv(s.strip_prefix("hvsock:").unwrap_or(s).to_string())
        }
    }
}

/// How a client reaches its server.
#[derive(Clone)]
enum Dialer {
    /// The context, the address and how the user wrote it.
    Hv(Context, HvAddr, String),
    Unix(PathBuf),
    Tcp(String),
}

impl Dialer {
    fn new(t: &Target, ctx: impl FnOnce() -> io::Result<Context>) -> io::Result<Dialer> {
        Ok(match t {
            Target::Hv(text) => {
                let ctx = ctx()?;
                let addr = hvsock::syntax::resolve_addr_in(text, ctx.dirs())
                    .map_err(|e| io::Error::new(ErrorKind::InvalidInput, e.to_string()))?;
                Dialer::Hv(ctx, addr, text.clone())
            }
            Target::Unix(p) => Dialer::Unix(p.clone()),
            Target::Tcp(a) => Dialer::Tcp(a.clone()),
        })
    }

    fn describe(&self) -> String {
        match self {
            Dialer::Hv(_, _, text) => format!("hvsock:{text}"),
            Dialer::Unix(p) => format!("unix:{}", p.display()),
            Dialer::Tcp(a) => format!("tcp:{a}"),
        }
    }

    fn connect(&self) -> io::Result<Sock> {
        Ok(match self {
            Dialer::Hv(ctx, addr, _) => Sock::Hv(ctx.connect(*addr)?),
            Dialer::Unix(p) => Sock::Unix(UnixStream::connect(p)?),
            Dialer::Tcp(a) => {
                let s = TcpStream::connect(a.as_str())?;
                s.set_nodelay(true)?;
                Sock::Tcp(s)
            }
        })
    }

    /// Connects and reads the greeting; then, except for the connect mode, sends `h`
    /// and returns once the server said yes.
    fn open(&self, h: &Header) -> io::Result<Sock> {
        let s = self.connect()?;
        let not_bench = || {
            io::Error::new(
                ErrorKind::ConnectionAborted,
                "the server did not answer as `hvsock bench server` does",
            )
        };
        let eof = |e: io::Error| match e.kind() {
            ErrorKind::UnexpectedEof => not_bench(),
            _ => e,
        };
        let mut greeting = [0u8; 1];
        (&s).read_exact(&mut greeting).map_err(eof)?;
        if greeting[0] != GREETING {
            return Err(not_bench());
        }
        if h.mode == Mode::Connect {
            return Ok(s);
        }
        (&s).write_all(&h.encode())?;
        let mut status = [0u8; 1];
        (&s).read_exact(&mut status).map_err(eof)?;
        if status[0] != 0 {
            let mut len = [0u8; 2];
            (&s).read_exact(&mut len)?;
            let mut msg = vec![0u8; u16::from_le_bytes(len) as usize];
            (&s).read_exact(&mut msg)?;
            return Err(io::Error::new(
                ErrorKind::InvalidData,
                format!("the server refused: {}", String::from_utf8_lossy(&msg)),
            ));
        }
        Ok(s)
    }
}

/// A listening socket of any kind the bench speaks.
enum Acceptor {
    Hv(Box<HvListener>),
    Unix(UnixListener),
    Tcp(TcpListener),
}

impl Acceptor {
    fn bind(t: &Target) -> io::Result<Acceptor> {
        Ok(match t {
            Target::Hv(text) => Acceptor::Hv(Box::new(Context::from_env()?.bind(text.as_str())?)),
            Target::Unix(p) => Acceptor::Unix(bind_unix(p)?),
            Target::Tcp(a) => Acceptor::Tcp(TcpListener::bind(a.as_str())?),
        })
    }

    fn accept(&self) -> io::Result<Sock> {
        Ok(match self {
            Acceptor::Hv(l) => Sock::Hv(l.accept()?.0),
            Acceptor::Unix(l) => Sock::Unix(l.accept()?.0),
            Acceptor::Tcp(l) => {
                let s = l.accept()?.0;
                s.set_nodelay(true)?;
                Sock::Tcp(s)
            }
        })
    }
}

/// Binds a Unix socket, replacing a stale socket file (one nobody listens on).
fn bind_unix(path: &Path) -> io::Result<UnixListener> {
    match UnixListener::bind(path) {
        Err(e) if e.kind() == ErrorKind::AddrInUse => {
            use std::os::unix::fs::FileTypeExt;
            let stale = std::fs::symlink_metadata(path)
                .map(|m| m.file_type().is_socket())
                .unwrap_or(false)
                && UnixStream::connect(path).is_err();
            if !stale {
                return Err(io::Error::new(
                    ErrorKind::AddrInUse,
                    format!("{} is in use", path.display()),
                ));
            }
            std::fs::remove_file(path)?;
            UnixListener::bind(path)
        }
        r => r,
    }
}

// ---------------------------------------------------------------- server

/// Serves connections from `acceptor` forever. Connections are handed to a pool of
/// threads that grows when none is idle, so a short connection costs a wake-up, not
/// a thread start.
fn serve(acceptor: Acceptor, verbose: bool) -> io::Result<()> {
    let (tx, rx): (Sender<Sock>, Receiver<Sock>) = channel();
    let rx = Arc::new(Mutex::new(rx));
    let idle = Arc::new(AtomicUsize::new(0));
    let mut pause = Duration::from_millis(10);
    loop {
        let s = match acceptor.accept() {
            Ok(s) => {
                pause = Duration::from_millis(10);
                // One byte into a fresh socket's empty buffer: never blocks.
                if (&s).write_all(&[GREETING]).is_err() {
                    continue;
                }
                s
            }
            Err(e) => {
                // Out of descriptors or an aborted connection: never give up serving.
                eprintln!("hvsock: bench: accept failed: {e}; retrying in {pause:?}");
                thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_secs(1));
                continue;
            }
        };
        if idle
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
            .is_ok()
        {
            if tx.send(s).is_err() {
                return Err(io::Error::other("bench workers are gone"));
            }
            continue;
        }
        let (rx, idle) = (rx.clone(), idle.clone());
        thread::Builder::new()
            .name("bench-conn".into())
            .spawn(move || {
                let mut job = Some(s);
                while let Some(s) = job.take() {
                    if let Err(e) = handle(&s)
                        && (e.kind() == ErrorKind::InvalidData || verbose)
                    {
                        eprintln!("hvsock: bench: {e}");
                    }
                    drop(s);
                    idle.fetch_add(1, Ordering::AcqRel);
                    job = rx.lock().unwrap_or_else(|e| e.into_inner()).recv().ok();
                }
            })?;
    }
}

/// Serves one connection: header, status, then the mode.
fn handle(s: &Sock) -> io::Result<()> {
    let mut b = [0u8; HEADER_LEN];
    s.set_read_timeout(Some(HEADER_TIMEOUT))?;
    match (&*s).read_exact(&mut b) {
        Ok(()) => {}
        // A connect-mode client, or one that connected and left (a health check).
        Err(e) if e.kind() == ErrorKind::UnexpectedEof => return Ok(()),
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
            refuse(s, "no bench header within 10 s");
            return Err(io::Error::new(
                ErrorKind::InvalidData,
                "bad request: no header within 10 s",
            ));
        }
        Err(e) => return Err(e),
    }
    s.set_read_timeout(None)?;
    let h = match Header::decode(&b) {
        Ok(h) => h,
        Err(msg) => {
            refuse(s, &msg);
            return Err(io::Error::new(
                ErrorKind::InvalidData,
                format!("bad request: {msg}"),
            ));
        }
    };
    (&*s).write_all(&[0])?;
    match h.mode {
        // A header with mode connect is accepted too: nothing follows.
        Mode::Connect => Ok(()),
        Mode::Throughput if h.direction == Direction::Send => {
            let n = drain(s)?;
            (&*s).write_all(&n.to_le_bytes())
        }
        Mode::Throughput => {
            // Write until the client shuts down writing (whatever it sends meanwhile
            // is read and dropped).
            let stop = AtomicBool::new(false);
            thread::scope(|sc| {
                sc.spawn(|| {
                    let _ = drain(s);
                    stop.store(true, Ordering::Release);
                });
                let buf = vec![0u8; h.size as usize];
                while !stop.load(Ordering::Acquire) {
                    if (&*s).write_all(&buf).is_err() {
                        break;
                    }
                }
                let _ = s.shutdown(Shutdown::Write);
            });
            Ok(())
        }
        Mode::Latency => {
            let mut buf = vec![0u8; h.size as usize];
            loop {
                match (&*s).read_exact(&mut buf) {
                    Ok(()) => (&*s).write_all(&buf)?,
                    Err(e) if e.kind() == ErrorKind::UnexpectedEof => return Ok(()),
                    Err(e) => return Err(e),
                }
            }
        }
        Mode::Stress => {
            let mut buf = vec![0u8; READ_BUF];
            loop {
                let n = (&*s).read(&mut buf)?;
                if n == 0 {
                    return s.shutdown(Shutdown::Write);
                }
                (&*s).write_all(&buf[..n])?;
            }
        }
    }
}

/// Reads to EOF; returns the bytes read.
fn drain(s: &Sock) -> io::Result<u64> {
    let mut buf = vec![0u8; READ_BUF];
    let mut total = 0u64;
    loop {
        match (&*s).read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => total += n as u64,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Answers an error status with `msg`.
fn refuse(s: &Sock, msg: &str) {
    let m = &msg.as_bytes()[..msg.len().min(1024)];
    let mut v = vec![1u8];
    v.extend_from_slice(&(m.len() as u16).to_le_bytes());
    v.extend_from_slice(m);
    let _ = (&*s).write_all(&v);
}

// ---------------------------------------------------------------- client

/// Counters the progress line reads while a run goes on.
#[derive(Default)]
struct Progress {
    bytes: AtomicU64,
    ops: AtomicU64,
}

/// What one stream measured.
#[derive(Default)]
struct StreamResult {
    sent: u64,
    received: u64,
    ops: u64,
    elapsed: Duration,
    samples: Vec<u32>,
    verified: u64,
    mismatches: u64,
}

/// When a stream stops: after `count` operations, or at the deadline.
#[derive(Clone, Copy)]
enum Until {
    Count(u64),
    Deadline(Instant),
}

impl Until {
    fn done(&self, ops: u64) -> bool {
        match self {
            Until::Count(n) => ops >= *n,
            Until::Deadline(t) => Instant::now() >= *t,
        }
    }
}

/// The JSON (and text) result of one run.
#[derive(Debug, Clone, Serialize)]
struct Report {
    target: String,
    mode: Mode,
    direction: Direction,
    msg_size: u32,
    parallel: u32,
    rounds: u32,
    elapsed_s: f64,
    bytes_sent: u64,
    bytes_received: u64,
    mb_per_s: f64,
    ops: u64,
    ops_per_s: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    latency_us: Option<Latency>,
    #[serde(skip_serializing_if = "Option::is_none")]
    verified_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    checksum_errors: Option<u64>,
    cpu_s: f64,
}

/// Latency percentiles in microseconds.
#[derive(Debug, Clone, Copy, Serialize)]
struct Latency {
    p50: f64,
    p99: f64,
    max: f64,
    mean: f64,
}

impl Latency {
    fn of(mut ns: Vec<u32>) -> Option<Latency> {
        if ns.is_empty() {
            return None;
        }
        ns.sort_unstable();
        let at = |q: f64| ns[((ns.len() - 1) as f64 * q).round() as usize] as f64 / 1e3;
        let mean = ns.iter().map(|&v| v as f64).sum::<f64>() / ns.len() as f64 / 1e3;
        Some(Latency {
            p50: at(0.50),
            p99: at(0.99),
            max: at(1.0),
            mean,
        })
    }
}

/// The whole output: the run, and the baseline with the ratio.
#[derive(Serialize)]
struct Output {
    #[serde(flatten)]
    run: Report,
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline: Option<Report>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ratio: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ratio_of: Option<&'static str>,
}

impl WorkArgs {
    /// The message size, or the mode's default.
    fn msg_size(&self) -> u32 {
        self.size.unwrap_or(match self.mode {
            Mode::Latency => 64,
            _ => 64 * 1024,
        })
    }

    /// How many rounds the run is cut into.
    fn rounds(&self) -> u32 {
        self.rounds
            .unwrap_or(if self.baseline { DEFAULT_ROUNDS } else { 1 })
    }

    /// The workload of one round.
    fn round(&self) -> WorkArgs {
        let n = self.rounds() as u64;
        WorkArgs {
            duration: self.duration / n as u32,
            count: self.count.map(|c| c.div_ceil(n)),
            ..self.clone()
        }
    }
}

/// What a run measured, before it is summed up.
#[derive(Default)]
struct Raw {
    all: StreamResult,
    cpu: Duration,
}

impl Raw {
    fn add(&mut self, r: StreamResult) {
        self.all.sent += r.sent;
        self.all.received += r.received;
        self.all.ops += r.ops;
        self.all.elapsed += r.elapsed;
        self.all.samples.extend(r.samples);
        self.all.verified += r.verified;
        self.all.mismatches += r.mismatches;
    }

    fn report(self, dialer: &Dialer, w: &WorkArgs) -> Report {
        let all = self.all;
        let secs = all.elapsed.as_secs_f64().max(1e-9);
        Report {
            target: dialer.describe(),
            mode: w.mode,
            direction: w.direction,
            msg_size: w.msg_size(),
            parallel: w.parallel,
            rounds: w.rounds(),
            elapsed_s: secs,
            bytes_sent: all.sent,
            bytes_received: all.received,
            mb_per_s: (all.sent + all.received) as f64 / secs / 1e6,
            ops: all.ops,
            ops_per_s: all.ops as f64 / secs,
            latency_us: Latency::of(all.samples),
            verified_bytes: (w.mode == Mode::Stress).then_some(all.verified),
            checksum_errors: (w.mode == Mode::Stress).then_some(all.mismatches),
            cpu_s: self.cpu.as_secs_f64(),
        }
    }
}

/// Runs one round of `w` against `dialer` with `parallel` streams, adding to `raw`.
fn run_round(dialer: &Dialer, w: &WorkArgs, raw: &mut Raw) -> io::Result<()> {
    let size = w.msg_size();
    let header = |seed| Header {
        mode: w.mode,
        direction: w.direction,
        size,
        seed,
    };
    let progress = Arc::new(Progress::default());
    let done = Arc::new(AtomicBool::new(false));
    let show = io::stderr().is_terminal();
    let cpu0 = sys::process_cpu_time();
    let barrier = Barrier::new(w.parallel as usize);
    let start = Instant::now();
    let results: Vec<io::Result<StreamResult>> = thread::scope(|sc| {
        if show {
            let (p, d) = (progress.clone(), done.clone());
            sc.spawn(move || progress_line(&p, &d, start));
        }
        let handles: Vec<_> = (0..w.parallel)
            .map(|i| {
                let (barrier, progress) = (&barrier, &*progress);
                sc.spawn(move || {
                    let seed = 0x9e37_79b9_7f4a_7c15u64.wrapping_mul(i as u64 + 1);
                    stream(dialer, header(seed), w, barrier, progress)
                })
            })
            .collect();
        let r = handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(io::Error::other("a bench thread panicked")))
            })
            .collect();
        done.store(true, Ordering::Release);
        r
    });
    if show {
        eprint!("\r\x1b[K");
    }
    raw.cpu += sys::process_cpu_time().saturating_sub(cpu0);
    // The streams ran side by side: the round took as long as the longest.
    let mut round = Raw::default();
    for r in results {
        let r = r?;
        let longest = round.all.elapsed.max(r.elapsed);
        round.add(r);
        round.all.elapsed = longest;
    }
    raw.add(round.all);
    Ok(())
}

/// Runs `w` against `dialer` alone, all its rounds.
#[cfg(test)]
fn run_workload(dialer: &Dialer, w: &WorkArgs) -> io::Result<Report> {
    let mut raw = Raw::default();
    let round = w.round();
    for _ in 0..w.rounds() {
        run_round(dialer, &round, &mut raw)?;
    }
    Ok(raw.report(dialer, w))
}

fn progress_line(p: &Progress, done: &AtomicBool, start: Instant) {
    let (mut last_b, mut last_o, mut last_t) = (0u64, 0u64, start);
    loop {
        // Every 250 ms, and never keeping the run waiting more than 25 ms at its end.
        for _ in 0..10 {
            if done.load(Ordering::Acquire) {
                return;
            }
            thread::sleep(Duration::from_millis(25));
        }
        let now = Instant::now();
        let (b, o) = (
            p.bytes.load(Ordering::Relaxed),
            p.ops.load(Ordering::Relaxed),
        );
        let dt = (now - last_t).as_secs_f64().max(1e-9);
        eprint!(
            "\r\x1b[K{:6.1}s  {:10.1} MB/s  {:10.0} ops/s",
            (now - start).as_secs_f64(),
            (b - last_b) as f64 / dt / 1e6,
            (o - last_o) as f64 / dt
        );
        let _ = io::stderr().flush();
        (last_b, last_o, last_t) = (b, o, now);
    }
}

/// One stream of the workload.
fn stream(
    d: &Dialer,
    h: Header,
    w: &WorkArgs,
    barrier: &Barrier,
    p: &Progress,
) -> io::Result<StreamResult> {
    let until = |start: Instant| match w.count {
        Some(n) => Until::Count(n),
        None => Until::Deadline(start + w.duration),
    };
    match w.mode {
        Mode::Throughput => {
            let s = d.open(&h);
            barrier.wait();
            throughput(&s?, h, until(Instant::now()), p)
        }
        Mode::Latency => {
            let s = d.open(&h);
            barrier.wait();
            latency(&s?, h, until, p)
        }
        Mode::Connect => {
            barrier.wait();
            let start = Instant::now();
            let until = until(start);
            let mut r = StreamResult::default();
            while !until.done(r.ops) {
                let t = Instant::now();
                drop(d.open(&h)?);
                r.samples
                    .push(t.elapsed().as_nanos().min(u32::MAX as u128) as u32);
                r.ops += 1;
                p.ops.fetch_add(1, Ordering::Relaxed);
            }
            r.elapsed = start.elapsed();
            Ok(r)
        }
        Mode::Stress => {
            barrier.wait();
            let start = Instant::now();
            let until = until(start);
            let mut r = StreamResult::default();
            let mut rng = Rng(h.seed);
            while !until.done(r.ops) {
                let seed = rng.next();
                let len = h.size as u64 * (1 + rng.next() % 16);
                let s = d.open(&Header { seed, ..h })?;
                let (ok, n) = stress_one(&s, seed, len, h.size, p)?;
                r.sent += n;
                r.received += n;
                if ok {
                    r.verified += n;
                } else {
                    r.mismatches += 1;
                }
                r.ops += 1;
                p.ops.fetch_add(1, Ordering::Relaxed);
            }
            r.elapsed = start.elapsed();
            Ok(r)
        }
    }
}

fn throughput(s: &Sock, h: Header, until: Until, p: &Progress) -> io::Result<StreamResult> {
    let start = Instant::now();
    let send = |s: &Sock| -> io::Result<(u64, u64)> {
        let buf = vec![0u8; h.size as usize];
        let mut msgs = 0u64;
        while !until.done(msgs) {
            (&*s).write_all(&buf)?;
            msgs += 1;
            p.bytes.fetch_add(h.size as u64, Ordering::Relaxed);
            p.ops.fetch_add(1, Ordering::Relaxed);
        }
        Ok((msgs * h.size as u64, msgs))
    };
    // Receives until the amount or time is reached; returns the bytes and when.
    let receive = |s: &Sock| -> io::Result<(u64, Duration)> {
        let want = match until {
            Until::Count(n) => n.saturating_mul(h.size as u64),
            Until::Deadline(_) => u64::MAX,
        };
        let mut buf = vec![0u8; READ_BUF.max(h.size as usize)];
        let mut got = 0u64;
        loop {
            let n = (&*s).read(&mut buf)?;
            if n == 0 {
                return Err(io::Error::new(
                    ErrorKind::UnexpectedEof,
                    "the server stopped sending early",
                ));
            }
            got += n as u64;
            p.bytes.fetch_add(n as u64, Ordering::Relaxed);
            if got >= want || matches!(until, Until::Deadline(t) if Instant::now() >= t) {
                return Ok((got, start.elapsed()));
            }
        }
    };
    let mut r = StreamResult::default();
    match h.direction {
        Direction::Send => {
            let (sent, msgs) = send(s)?;
            s.shutdown(Shutdown::Write)?;
            let mut n = [0u8; 8];
            (&*s).read_exact(&mut n)?;
            r.elapsed = start.elapsed();
            let got = u64::from_le_bytes(n);
            if got != sent {
                return Err(io::Error::new(
                    ErrorKind::InvalidData,
                    format!("sent {sent} bytes but the server received {got}"),
                ));
            }
            (r.sent, r.ops) = (sent, msgs);
        }
        Direction::Receive => {
            (r.received, r.elapsed) = receive(s)?;
            s.shutdown(Shutdown::Write)?;
            drain(s)?;
        }
        Direction::Both => {
            let (sent, received) = thread::scope(|sc| {
                let tx = sc.spawn(|| send(s));
                let rx = receive(s);
                let tx = tx.join().unwrap_or_else(|_| Err(io::Error::other("panic")));
                (tx, rx)
            });
            let (sent, msgs) = sent?;
            (r.received, r.elapsed) = received?;
            r.elapsed = r.elapsed.max(start.elapsed());
            // Only now: the server stops sending when it sees our EOF.
            s.shutdown(Shutdown::Write)?;
            drain(s)?;
            (r.sent, r.ops) = (sent, msgs);
        }
    }
    Ok(r)
}

fn latency(
    s: &Sock,
    h: Header,
    until: impl Fn(Instant) -> Until,
    p: &Progress,
) -> io::Result<StreamResult> {
    let mut buf = vec![0x5au8; h.size as usize];
    let ping = |buf: &mut [u8]| -> io::Result<()> {
        (&*s).write_all(buf)?;
        (&*s).read_exact(buf)
    };
    for _ in 0..WARMUP {
        ping(&mut buf)?;
    }
    let start = Instant::now();
    let until = until(start);
    let mut r = StreamResult::default();
    while !until.done(r.ops) {
        let t = Instant::now();
        ping(&mut buf)?;
        r.samples
            .push(t.elapsed().as_nanos().min(u32::MAX as u128) as u32);
        r.ops += 1;
        p.ops.fetch_add(1, Ordering::Relaxed);
        p.bytes.fetch_add(2 * h.size as u64, Ordering::Relaxed);
    }
    r.elapsed = start.elapsed();
    s.shutdown(Shutdown::Write)?;
    r.sent = r.ops * h.size as u64;
    r.received = r.sent;
    Ok(r)
}

/// xorshift64*: the pattern and chunk sizes of the stress test.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0 | 1;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn fill(&mut self, buf: &mut [u8]) {
        for c in buf.chunks_mut(8) {
            let v = self.next().to_le_bytes();
            c.copy_from_slice(&v[..c.len()]);
        }
    }
}

/// FNV-1a over a stream of chunks.
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    fn update(&mut self, b: &[u8]) {
        for &x in b {
            self.0 = (self.0 ^ x as u64).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// One stress connection: sends `len` pattern bytes in random chunks up to `max`
/// while reading the echo; returns whether length and checksum matched, and `len`.
fn stress_one(s: &Sock, seed: u64, len: u64, max: u32, p: &Progress) -> io::Result<(bool, u64)> {
    thread::scope(|sc| {
        let tx = sc.spawn(move || -> io::Result<u64> {
            let mut pattern = Rng(seed);
            let mut sizes = Rng(!seed);
            let mut sum = Fnv::new();
            let mut buf = vec![0u8; max as usize];
            let mut left = len;
            while left > 0 {
                let n = (1 + sizes.next() % max as u64).min(left) as usize;
                pattern.fill(&mut buf[..n]);
                sum.update(&buf[..n]);
                (&*s).write_all(&buf[..n])?;
                left -= n as u64;
            }
            s.shutdown(Shutdown::Write)?;
            Ok(sum.0)
        });
        let mut sum = Fnv::new();
        let mut got = 0u64;
        let mut buf = vec![0u8; READ_BUF];
        loop {
            let n = (&*s).read(&mut buf)?;
            if n == 0 {
                break;
            }
            sum.update(&buf[..n]);
            got += n as u64;
            p.bytes.fetch_add(2 * n as u64, Ordering::Relaxed);
        }
        let sent = tx
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("panic")))?;
        Ok((got == len && sum.0 == sent, len))
    })
}

// ---------------------------------------------------------------- plumbing

/// A private temp directory, removed on drop.
struct TempDir(PathBuf);

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

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Starts a bench server on a fresh Unix socket in `dir`; returns its dialer.
fn baseline_server(dir: &Path) -> io::Result<Dialer> {
    let path = dir.join("baseline.sock");
    let l = UnixListener::bind(&path)?;
    spawn_server(Acceptor::Unix(l))?;
    Ok(Dialer::Unix(path))
}

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

/// Runs the workload, and the baseline when asked; prints the result.
fn measure(dialer: &Dialer, w: &WorkArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let tmp = if w.baseline {
        Some(TempDir::new()?)
    } else {
        None
    };
    let base = match &tmp {
        Some(t) => Some(baseline_server(&t.0)?),
        None => None,
    };
    // Rounds alternate between hvsock and the baseline, so that a load that comes and
    // goes on the machine weighs on both alike.
    let (mut raw, mut raw_base) = (Raw::default(), Raw::default());
    let round = w.round();
    for i in 0..w.rounds() {
        // Who goes first alternates too, so that neither always runs on a warm cache.
        let hv_first = i % 2 == 0;
        if let (Some(b), false) = (&base, hv_first) {
            run_round(b, &round, &mut raw_base).map_err(|e| format!("baseline: {e}"))?;
        }
        run_round(dialer, &round, &mut raw).map_err(|e| format!("{}: {e}", dialer.describe()))?;
        if let (Some(b), true) = (&base, hv_first) {
            run_round(b, &round, &mut raw_base).map_err(|e| format!("baseline: {e}"))?;
        }
    }
    let mut out = Output {
        run: raw.report(dialer, w),
        baseline: None,
        ratio: None,
        ratio_of: None,
    };
    if let Some(base) = &base {
        let b = raw_base.report(base, w);
        let (of, x, y) = match w.mode {
            Mode::Throughput | Mode::Stress => ("mb_per_s", out.run.mb_per_s, b.mb_per_s),
            Mode::Latency => (
                "latency_p50_us",
                out.run.latency_us.map_or(0.0, |l| l.p50),
                b.latency_us.map_or(0.0, |l| l.p50),
            ),
            Mode::Connect => ("ops_per_s", out.run.ops_per_s, b.ops_per_s),
        };
        out.ratio = Some(if y > 0.0 { x / y } else { 0.0 });
        out.ratio_of = Some(of);
        out.baseline = Some(b);
    }
    if w.json {
        println!("{}", serde_json::to_string(&out)?);
    } else {
        print_text(&out);
    }
    if out.run.checksum_errors.unwrap_or(0) > 0 {
        return Err(format!(
            "{}: {} connections echoed data that did not match",
            out.run.target,
            out.run.checksum_errors.unwrap_or(0)
        )
        .into());
    }
    Ok(ExitCode::SUCCESS)
}

fn print_text(o: &Output) {
    let line = |label: &str, r: &Report| {
        let mut s = format!(
            "{label:<9} {:9.1} MB/s  {:10.0} ops/s",
            r.mb_per_s, r.ops_per_s
        );
        if let Some(l) = r.latency_us {
            s += &format!(
                "  latency p50 {:.1} us  p99 {:.1} us  max {:.1} us",
                l.p50, l.p99, l.max
            );
        }
        if let Some(v) = r.verified_bytes {
            s += &format!(
                "  verified {v} bytes, {} mismatches",
                r.checksum_errors.unwrap_or(0)
            );
        }
        s += &format!("  ({:.2} s, {:.2} CPU s)", r.elapsed_s, r.cpu_s);
        println!("{s}");
    };
    let r = &o.run;
    println!(
        "{:?} to {} ({} B messages, {} stream{}{})",
        r.mode,
        r.target,
        r.msg_size,
        r.parallel,
        if r.parallel == 1 { "" } else { "s" },
        if r.mode == Mode::Throughput {
            format!(", {:?}", r.direction).to_lowercase()
        } else {
            String::new()
        }
    );
    line("hvsock", r);
    if let (Some(b), Some(x), Some(of)) = (&o.baseline, o.ratio, o.ratio_of) {
        line("baseline", b);
        println!("ratio hvsock/baseline ({of}): {x:.3}");
    }
}

fn run_server(a: ServerArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let acceptor = Acceptor::bind(&Target::parse(&a.addr))
        .map_err(|e| format!("listen on {}: {e}", a.addr))?;
    if a.verbose {
        eprintln!("hvsock: bench server on {}", a.addr);
    }
    serve(acceptor, a.verbose)?;
    Ok(ExitCode::SUCCESS)
}

fn run_local(a: LocalArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let tmp = TempDir::new()?;
    let dirs = Dirs::new(tmp.0.join("c"), tmp.0.join("r"));
    Registry::update(&dirs, |r| r.add("bench", Some(LOCAL_SERVICE)))?;
    PartitionTable::update(&dirs, |t| t.add("bench", None, PartitionKind::Local))?;
    let host = Context::host(dirs.clone());
    let (bind, client, connect, text) = match a.via {
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
    let code = measure(&dialer, &a.work);
    drop(tmp);
    code
}

pub fn run(cmd: BenchCmd) -> Result<ExitCode, Box<dyn std::error::Error>> {
    match cmd {
        BenchCmd::Server(a) => run_server(a),
        BenchCmd::Client(a) => {
            let dialer = Dialer::new(&Target::parse(&a.addr), Context::from_env)
                .map_err(|e| format!("{}: {e}", a.addr))?;
            measure(&dialer, &a.work)
        }
        BenchCmd::Local(a) => run_local(a),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip_and_validation() {
        let h = Header {
            mode: Mode::Stress,
            direction: Direction::Both,
            size: 4096,
            seed: 0xdead_beef,
        };
        let b = h.encode();
        assert_eq!(Header::decode(&b), Ok(h));
        let bad = |i: usize, v: u8| {
            let mut x = b;
            x[i] = v;
            Header::decode(&x).unwrap_err()
        };
        assert!(bad(0, b'X').contains("magic"));
        assert!(bad(4, 2).contains("version"));
        assert!(bad(5, 9).contains("mode"));
        assert!(bad(6, 0).contains("direction"));
        assert!(bad(7, 1).contains("reserved"));
        assert!(bad(13, 1).contains("reserved"));
        let mut z = b;
        z[8..12].copy_from_slice(&0u32.to_le_bytes());
        assert!(Header::decode(&z).is_err());
        z[8..12].copy_from_slice(&(MAX_SIZE + 1).to_le_bytes());
        assert!(Header::decode(&z).is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("64"), Ok(64));
        assert_eq!(parse_size("64B"), Ok(64));
        assert_eq!(parse_size("4K"), Ok(4096));
        assert_eq!(parse_size("64KiB"), Ok(65536));
        assert_eq!(parse_size("1MiB"), Ok(1 << 20));
        assert_eq!(parse_size("16M"), Ok(16 << 20));
        for bad in ["", "0", "17M", "x", "1G", "-1"] {
            assert!(parse_size(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn percentiles() {
        let l = Latency::of((1..=100).map(|v| v * 1000).collect()).unwrap();
        assert_eq!(l.max, 100.0);
        assert_eq!(l.p50, 51.0);
        assert_eq!(l.p99, 99.0);
        assert_eq!(l.mean, 50.5);
        assert!(Latency::of(Vec::new()).is_none());
    }

    #[test]
    fn every_mode_against_an_in_process_unix_server() {
        let tmp = TempDir::new().unwrap();
        let d = baseline_server(&tmp.0).unwrap();
        for (mode, direction) in [
            (Mode::Throughput, Direction::Send),
            (Mode::Throughput, Direction::Receive),
            (Mode::Throughput, Direction::Both),
            (Mode::Latency, Direction::Send),
            (Mode::Connect, Direction::Send),
            (Mode::Stress, Direction::Send),
        ] {
            let w = WorkArgs {
                mode,
                size: Some(1000),
                parallel: 2,
                duration: Duration::from_secs(1),
                count: Some(20),
                direction,
                json: true,
                baseline: false,
                rounds: Some(2),
            };
            let r = run_workload(&d, &w).unwrap();
            assert!(r.ops > 0 || direction == Direction::Receive, "{r:?}");
            match (mode, direction) {
                (Mode::Throughput, Direction::Send) => assert_eq!(r.bytes_sent, 2 * 20 * 1000),
                (Mode::Throughput, Direction::Receive) => {
                    assert!(r.bytes_received >= 2 * 20 * 1000)
                }
                (Mode::Throughput, Direction::Both) => {
                    assert_eq!(r.bytes_sent, 40_000);
                    assert!(r.bytes_received >= 40_000);
                }
                (Mode::Latency, _) => {
                    assert_eq!(r.ops, 40);
                    let l = r.latency_us.unwrap();
                    assert!(l.p50 > 0.0 && l.p50 <= l.p99 && l.p99 <= l.max);
                }
                (Mode::Connect, _) => assert_eq!(r.ops, 40),
                (Mode::Stress, _) => {
                    assert_eq!(r.ops, 40);
                    assert_eq!(r.checksum_errors, Some(0));
                    assert_eq!(r.verified_bytes, Some(r.bytes_sent));
                    assert!(r.bytes_sent >= 40 * 1000);
                }
            }
        }
    }

    #[test]
    fn a_bad_header_is_refused_and_the_server_keeps_serving() {
        let tmp = TempDir::new().unwrap();
        let d = baseline_server(&tmp.0).unwrap();
        let Dialer::Unix(path) = &d else {
            unreachable!()
        };
        let mut s = UnixStream::connect(path).unwrap();
        s.write_all(b"GET / HTTP/1.1\r\n\r\nxxxxxx").unwrap();
        let mut reply = Vec::new();
        s.read_to_end(&mut reply).unwrap();
        assert_eq!(reply[0], GREETING);
        assert_eq!(reply[1], 1);
        let msg = String::from_utf8_lossy(&reply[4..]);
        assert!(msg.contains("magic"), "{msg}");
        let h = Header {
            mode: Mode::Latency,
            direction: Direction::Send,
            size: 8,
            seed: 0,
        };
        let s = d.open(&h).unwrap();
        (&s).write_all(b"12345678").unwrap();
        let mut back = [0u8; 8];
        (&s).read_exact(&mut back).unwrap();
        assert_eq!(&back, b"12345678");
    }
}
