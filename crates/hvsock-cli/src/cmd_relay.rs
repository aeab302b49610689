//! `hvsock relay`: listen on one endpoint (TCP, Unix or Hyper-V socket) and connect each
//! client to another, many at once, half-closes carried through.
//!
//! The data path is one task per direction, each running [`forward`]: splice(2)
//! through a pipe between the two sockets (no byte enters user space), falling back to
//! a buffered copy for sockets the kernel cannot splice.

use crate::cmd_connect::{describe_vm, parse_connect_timeout};
use crate::sys;
use clap::Args;
use hvsock::net::tokio as hvtokio;
use hvsock::paths::Dirs;
use hvsock::{Context, HvAddr};
use std::fmt;
use std::io::{self, ErrorKind};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, BufReader, Interest};
use tokio::net::{TcpListener, TcpStream, UnixListener, UnixStream, tcp, unix};

// The text below is --help output, not rustdoc: `[::1]` is an address, not a link.
#[allow(rustdoc::broken_intra_doc_links)]
/// Listen on FROM and connect each client to TO, relaying bytes both ways
///
/// Endpoints:
///   tcp:HOST:PORT       a TCP address (IPv6 in brackets: tcp:[::1]:8080). As FROM,
///                       exactly that address is bound (PORT 0 picks a free port; see -v)
///   unix:PATH           a Unix stream socket. As FROM, a stale socket file is replaced
///                       and the file is removed on SIGINT/SIGTERM
///   hvsock:VM:SERVICE   a Hyper-V socket address, as in `hvsock addr encode --help`.
///                       As FROM, VM says who may connect (any, children, parent,
///                       loopback, a partition); as TO, it is the VM to reach
///
/// Each client gets its own connection to TO; any number are relayed at once. When one
/// side finishes sending, the other side's sending direction is shut down (half-close)
/// and the other direction goes on until it finishes too. A connection that fails (TO
/// refuses, a reset) is logged to stderr and closed; the relay keeps running. Nothing
/// is printed on stdout. Where this process is, for hvsock endpoints: the host, unless
/// HVSOCK_PARTITION=NAME or HVSOCK_GUEST=1.
#[derive(Args)]
#[command(
    verbatim_doc_comment,
    after_long_help = "\
Examples:
  # Publish a VM's SSH server (vsock port 22 in the guest) on the host's loopback:
  hvsock relay tcp:127.0.0.1:2222 hvsock:myvm:vsock:22
  # In a guest: reach the host's service through a local Unix socket:
  HVSOCK_GUEST=1 hvsock relay unix:/run/host-api.sock hvsock:parent:\"Host API\"
  # On the host: let partitions reach a TCP server as service `web`:
  hvsock relay hvsock:children:web tcp:127.0.0.1:8080
  # Pick a free port and log it:
  hvsock relay -v tcp:127.0.0.1:0 hvsock:loopback:echo"
)]
pub struct RelayArgs {
    /// Where to listen: tcp:HOST:PORT, unix:PATH or hvsock:VM:SERVICE.
    #[arg(value_name = "FROM", value_parser = Endpoint::parse)]
    from: Endpoint,
    /// Where to connect each client: tcp:HOST:PORT, unix:PATH or hvsock:VM:SERVICE.
    #[arg(value_name = "TO", value_parser = Endpoint::parse)]
    to: Endpoint,
    /// Give up connecting to TO after DUR (500ms, 2s, 1m; at most 300s).
    #[arg(
        long,
        short = 't',
        value_name = "DUR",
        default_value = "2s",
        value_parser = parse_connect_timeout
    )]
    connect_timeout: Duration,
    /// Log the listening address, every connection and its byte counts to stderr.
    #[arg(long, short)]
    verbose: bool,
}

/// A relay endpoint as written, before any name lookup.
#[derive(Debug, Clone)]
pub enum Endpoint {
    /// `tcp:HOST:PORT` (HOST may be `[v6]`).
    Tcp {
        /// The host part, without brackets.
        host: String,
        /// The port.
        port: u16,
    },
    /// `unix:PATH`.
    Unix(PathBuf),
    /// `hvsock:VM:SERVICE`, kept as text and resolved when the relay starts.
    Hv(String),
}

impl Endpoint {
    /// Parses the endpoint syntax (names are looked up later).
    pub fn parse(s: &str) -> Result<Endpoint, String> {
        let usage = "expected tcp:HOST:PORT, unix:PATH or hvsock:VM:SERVICE";
        let Some((kind, rest)) = s.split_once(':') else {
            return Err(format!("{s:?} is not an endpoint: {usage}"));
        };
        match kind.to_ascii_lowercase().as_str() {
            "tcp" => {
                let (host, port) = rest
                    .rsplit_once(':')
                    .ok_or_else(|| format!("{s:?}: expected tcp:HOST:PORT"))?;
                let host = host
                    .strip_prefix('[')
                    .and_then(|h| h.strip_suffix(']'))
                    .unwrap_or(host);
                if host.is_empty() {
                    return Err(format!("{s:?}: the HOST of tcp:HOST:PORT is empty"));
                }
                if host.contains(':') && !rest.starts_with('[') {
                    return Err(format!(
                        "{s:?}: write an IPv6 host in brackets, e.g. tcp:[::1]:8080"
                    ));
                }
                let port = port.parse::<u16>().map_err(|_| {
                    format!("{s:?}: PORT must be a number from 0 to 65535, not {port:?}")
                })?;
                Ok(Endpoint::Tcp {
                    host: host.to_string(),
                    port,
                })
            }
            "unix" if rest.is_empty() => Err(format!("{s:?}: the PATH of unix:PATH is empty")),
            "unix" => Ok(Endpoint::Unix(PathBuf::from(rest))),
            "hvsock" => {
                hvsock::syntax::parse_addr(rest).map_err(|e| format!("{s:?}: {e}"))?;
                Ok(Endpoint::Hv(rest.to_string()))
            }
            _ => Err(format!("{s:?}: unknown endpoint kind {kind:?}: {usage}")),
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Tcp { host, port } if host.contains(':') => write!(f, "tcp:[{host}]:{port}"),
            Endpoint::Tcp { host, port } => write!(f, "tcp:{host}:{port}"),
            Endpoint::Unix(p) => write!(f, "unix:{}", p.display()),
            Endpoint::Hv(a) => write!(f, "hvsock:{a}"),
        }
    }
}

/// A connected socket of any endpoint kind.
enum Conn {
    Tcp(TcpStream),
    Unix(UnixStream),
    Hv(hvtokio::HvStream),
}

/// The receiving half of a [`Conn`].
pub(crate) enum Reader {
    Tcp(tcp::OwnedReadHalf),
    Unix(unix::OwnedReadHalf),
    Hv(hvtokio::OwnedReadHalf),
}

/// The sending half of a [`Conn`].
pub(crate) enum Writer {
    Tcp(tcp::OwnedWriteHalf),
    Unix(unix::OwnedWriteHalf),
    Hv(hvtokio::OwnedWriteHalf),
}

impl Conn {
    fn into_split(self) -> (Reader, Writer) {
        match self {
            Conn::Tcp(s) => {
                let (r, w) = s.into_split();
                (Reader::Tcp(r), Writer::Tcp(w))
            }
            Conn::Unix(s) => {
                let (r, w) = s.into_split();
                (Reader::Unix(r), Writer::Unix(w))
            }
            Conn::Hv(s) => {
                let (r, w) = s.into_split();
                (Reader::Hv(r), Writer::Hv(w))
            }
        }
    }
}

impl Reader {
    fn as_async(&mut self) -> &mut (dyn AsyncRead + Unpin + Send) {
        match self {
            Reader::Tcp(r) => r,
            Reader::Unix(r) => r,
            Reader::Hv(r) => r,
        }
    }
}

impl Writer {
    fn as_async(&mut self) -> &mut (dyn AsyncWrite + Unpin + Send) {
        match self {
            Writer::Tcp(w) => w,
            Writer::Unix(w) => w,
            Writer::Hv(w) => w,
        }
    }
}

/// The buffer of one direction of one connection (buffered copy).
const BUF_SIZE: usize = 256 * 1024;
/// The pipe buffer asked for one direction of one connection (zero-copy path).
const PIPE_SIZE: usize = 1024 * 1024;

impl Reader {
    /// Splices up to `len` bytes from this socket into the pipe `pipe_w`, waiting
    /// until the socket has data. `Ok(0)` at EOF.
    async fn splice_into(&self, pipe_w: &OwnedFd, len: usize) -> io::Result<usize> {
        let f = |fd| splice_op(fd, pipe_w, len, true);
        match self {
            Reader::Tcp(r) => {
                r.as_ref()
                    .async_io(Interest::READABLE, f(r.as_ref().as_fd()))
                    .await
            }
            Reader::Unix(r) => {
                r.as_ref()
                    .async_io(Interest::READABLE, f(r.as_ref().as_fd()))
                    .await
            }
            Reader::Hv(r) => r.async_io(Interest::READABLE, f(r.as_fd())).await,
        }
    }
}

impl Writer {
    /// Splices up to `len` bytes from the pipe `pipe_r` into this socket, waiting
    /// until the socket has room.
    async fn splice_from(&self, pipe_r: &OwnedFd, len: usize) -> io::Result<usize> {
        let f = |fd| splice_op(fd, pipe_r, len, false);
        match self {
            Writer::Tcp(w) => {
                w.as_ref()
                    .async_io(Interest::WRITABLE, f(w.as_ref().as_fd()))
                    .await
            }
            Writer::Unix(w) => {
                w.as_ref()
                    .async_io(Interest::WRITABLE, f(w.as_ref().as_fd()))
                    .await
            }
            Writer::Hv(w) => w.async_io(Interest::WRITABLE, f(w.as_fd())).await,
        }
    }
}

/// One non-blocking splice between a socket and a pipe: socket -> pipe when
/// `into_pipe`, else pipe -> socket.
fn splice_op<'a>(
    sock: BorrowedFd<'a>,
    pipe: &'a OwnedFd,
    len: usize,
    into_pipe: bool,
) -> impl FnMut() -> io::Result<usize> + 'a {
    move || {
        if into_pipe {
            sys::splice(&sock, pipe, len)
        } else {
            sys::splice(pipe, &sock, len)
        }
    }
}

/// Whether splice(2) refuses this pair of descriptors (then the buffered copy runs).
fn splice_unsupported(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EINVAL | libc::EOPNOTSUPP | libc::ENOSYS)
    )
}

/// The zero-copy path: socket -> pipe -> socket with splice(2), the pipe always
/// drained before it is filled again (so a `WouldBlock` always comes from the socket,
/// never from the pipe). `Ok(None)`: splice is not supported for these sockets and
/// nothing was moved.
async fn splice_copy(from: &Reader, to: &Writer) -> io::Result<Option<u64>> {
    let (pipe_r, pipe_w) = sys::pipe()?;
    // A larger pipe means fewer syscalls; the kernel may give less, which is fine.
    let cap = sys::set_pipe_size(&pipe_w, PIPE_SIZE).unwrap_or(64 * 1024);
    let mut total = 0u64;
    loop {
        let n = match from.splice_into(&pipe_w, cap).await {
            Ok(0) => return Ok(Some(total)),
            Ok(n) => n,
            Err(e) if total == 0 && splice_unsupported(&e) => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut left = n;
        while left > 0 {
            match to.splice_from(&pipe_r, left).await {
                Ok(0) => return Err(ErrorKind::WriteZero.into()),
                Ok(m) => left -= m,
                Err(e) if total == 0 && splice_unsupported(&e) => {
                    // The bytes already in the pipe must not be lost: hand them over
                    // with a plain write, then go on with the buffered copy.
                    let mut buf = vec![0u8; left];
                    let mut pipe = std::fs::File::from(pipe_r);
                    std::io::Read::read_exact(&mut pipe, &mut buf)?;
                    return Err(io::Error::other(SpliceFallback(buf)));
                }
                Err(e) => return Err(e),
            }
        }
        total += n as u64;
    }
}

/// Bytes taken into a pipe before the writing socket refused splice(2).
#[derive(Debug)]
struct SpliceFallback(Vec<u8>);

impl fmt::Display for SpliceFallback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("splice(2) is not supported for this socket")
    }
}

impl std::error::Error for SpliceFallback {}

/// Moves one direction of a connection: everything `from` sends goes to `to`, then
/// `to` is shut down for writing (the half-close carried through). Returns the bytes
/// moved.
///
/// This is the data path: splice(2) through a pipe (the bytes never enter user
/// space), or, where the kernel refuses splice for a socket, a buffered copy.
pub(crate) async fn forward(mut from: Reader, mut to: Writer) -> io::Result<u64> {
    let total = match splice_copy(&from, &to).await {
        Ok(Some(n)) => n,
        Ok(None) => buffered_copy(&mut from, &mut to, &[]).await?,
        Err(e) if e.get_ref().is_some_and(|i| i.is::<SpliceFallback>()) => {
            let head = e
                .into_inner()
                .and_then(|i| i.downcast::<SpliceFallback>().ok())
                .map(|b| b.0)
                .unwrap_or_default();
            buffered_copy(&mut from, &mut to, &head).await?
        }
        Err(e) => return Err(e),
    };
    match to.as_async().shutdown().await {
        // The peer is gone altogether: nothing to shut down.
        Err(e) if e.kind() == ErrorKind::NotConnected => {}
        r => r?,
    }
    Ok(total)
}

/// The fallback: a buffered copy, after writing `head` (bytes already read).
async fn buffered_copy(from: &mut Reader, to: &mut Writer, head: &[u8]) -> io::Result<u64> {
    let w = to.as_async();
    w.write_all(head).await?;
    let mut r = BufReader::with_capacity(BUF_SIZE, from.as_async());
    Ok(head.len() as u64 + tokio::io::copy_buf(&mut r, w).await?)
}

/// A bound FROM endpoint.
enum Listener {
    Tcp(TcpListener),
    Unix(UnixListener, PathBuf),
    Hv(Box<hvtokio::HvListener>, Dirs),
}

/// Binds a Unix socket, replacing a stale socket file (one nobody listens on).
fn bind_unix(path: &Path) -> io::Result<UnixListener> {
    match UnixListener::bind(path) {
        Err(e) if e.kind() == ErrorKind::AddrInUse => {
            use std::os::unix::fs::FileTypeExt;
            let is_socket = std::fs::symlink_metadata(path)
                .map(|m| m.file_type().is_socket())
                .unwrap_or(false);
            if !is_socket {
                return Err(io::Error::new(
                    ErrorKind::AlreadyExists,
                    format!("{} exists and is not a socket", path.display()),
                ));
            }
            match std::os::unix::net::UnixStream::connect(path) {
                Ok(_) => Err(io::Error::new(
                    ErrorKind::AddrInUse,
                    format!("another process listens on {}", path.display()),
                )),
                Err(_) => {
                    std::fs::remove_file(path)?;
                    UnixListener::bind(path)
                }
            }
        }
        r => r,
    }
}

impl Listener {
    async fn bind(ep: &Endpoint, ctx: &dyn Fn() -> io::Result<Context>) -> io::Result<Listener> {
        match ep {
            Endpoint::Tcp { host, port } => Ok(Listener::Tcp(
                TcpListener::bind((host.as_str(), *port)).await?,
            )),
            Endpoint::Unix(path) => Ok(Listener::Unix(bind_unix(path)?, path.clone())),
            Endpoint::Hv(text) => {
                let ctx = ctx()?;
                let addr = resolve(text, ctx.dirs())?;
                crate::cmd_listen::warn_hybrid_clashes(ctx.dirs());
                Ok(Listener::Hv(
                    Box::new(hvtokio::HvListener::bind_with(&ctx, addr)?),
                    ctx.dirs().clone(),
                ))
            }
        }
    }

    /// What this listener is bound to, as an endpoint (with the real TCP port).
    fn describe(&self, ep: &Endpoint) -> String {
        match self {
            Listener::Tcp(l) => match l.local_addr() {
                Ok(a) => format!("tcp:{a}"),
                Err(_) => ep.to_string(),
            },
            _ => ep.to_string(),
        }
    }

    /// Accepts a client; describes it for logs.
    async fn accept(&self) -> io::Result<(Conn, String)> {
        match self {
            Listener::Tcp(l) => {
                let (s, a) = l.accept().await?;
                let _ = s.set_nodelay(true);
                Ok((Conn::Tcp(s), format!("tcp:{a}")))
            }
            Listener::Unix(l, path) => {
                let (s, _) = l.accept().await?;
                Ok((
                    Conn::Unix(s),
                    format!("a client of unix:{}", path.display()),
                ))
            }
            Listener::Hv(l, dirs) => {
                let (s, peer) = l.accept().await?;
                Ok((Conn::Hv(s), describe_vm(peer.vm_id, dirs)))
            }
        }
    }
}

fn resolve(text: &str, dirs: &Dirs) -> io::Result<HvAddr> {
    hvsock::syntax::resolve_addr_in(text, dirs)
        .map_err(|e| io::Error::new(ErrorKind::InvalidInput, e.to_string()))
}

/// A resolved TO endpoint.
enum Target {
    Tcp(String, u16),
    Unix(PathBuf),
    Hv(Context, HvAddr),
}

impl Target {
    fn resolve(ep: &Endpoint, ctx: &dyn Fn() -> io::Result<Context>) -> io::Result<Target> {
        Ok(match ep {
            Endpoint::Tcp { host, port } => Target::Tcp(host.clone(), *port),
            Endpoint::Unix(p) => Target::Unix(p.clone()),
            Endpoint::Hv(text) => {
                let ctx = ctx()?;
                let addr = resolve(text, ctx.dirs())?;
                Target::Hv(ctx, addr)
            }
        })
    }

    async fn connect(&self, timeout: Duration) -> io::Result<Conn> {
        let timed_out = || io::Error::new(ErrorKind::TimedOut, "timed out");
        match self {
            Target::Tcp(host, port) => {
                let s = tokio::time::timeout(timeout, TcpStream::connect((host.as_str(), *port)))
                    .await
                    .map_err(|_| timed_out())??;
                let _ = s.set_nodelay(true);
                Ok(Conn::Tcp(s))
            }
            Target::Unix(p) => Ok(Conn::Unix(
                tokio::time::timeout(timeout, UnixStream::connect(p))
                    .await
                    .map_err(|_| timed_out())??,
            )),
            Target::Hv(ctx, addr) => Ok(Conn::Hv(
                hvtokio::HvStream::connect_with(ctx, *addr, timeout).await?,
            )),
        }
    }
}

/// Relays one client: connects to TO, then both directions until both are done (or
/// one fails, which closes the whole connection).
async fn relay_one(id: u64, client: Conn, who: String, to: Arc<RelayTo>) {
    let server = match to.target.connect(to.timeout).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "hvsock: relay #{id} from {who}: connect {}: {}",
                to.text,
                crate::hints::full(&e)
            );
            return;
        }
    };
    if to.verbose {
        eprintln!("hvsock: relay #{id}: {who} -> {}", to.text);
    }
    let (cr, cw) = client.into_split();
    let (sr, sw) = server.into_split();
    // One task per direction, so both can run on both cores at once.
    let up = tokio::spawn(forward(cr, sw));
    let down = tokio::spawn(forward(sr, cw));
    let aborts = [up.abort_handle(), down.abort_handle()];
    let joined = |h: tokio::task::JoinHandle<io::Result<u64>>| async move {
        h.await.map_err(io::Error::other)?
    };
    let result = tokio::try_join!(joined(up), joined(down));
    if result.is_err() {
        // One direction failed: the whole connection closes.
        for a in aborts {
            a.abort();
        }
    }
    match result {
        Ok((up, down)) => {
            if to.verbose {
                eprintln!("hvsock: relay #{id} done: {up} bytes sent, {down} bytes received");
            }
        }
        Err(e) => eprintln!("hvsock: relay #{id} from {who}: {e}"),
    }
}

/// What every connection needs of TO.
struct RelayTo {
    target: Target,
    text: String,
    timeout: Duration,
    verbose: bool,
}

/// Resolves on SIGINT or SIGTERM.
async fn stop_signal() -> io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    Ok(())
}

pub fn run(args: RelayArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(relay(args))
}

async fn relay(args: RelayArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let ctx = || Context::from_env();
    let target =
        Target::resolve(&args.to, &ctx).map_err(|e| format!("relay to {}: {e}", args.to))?;
    let stop = stop_signal();
    tokio::pin!(stop);
    let listener = Listener::bind(&args.from, &ctx)
        .await
        .map_err(|e| format!("listen on {}: {}", args.from, crate::hints::full(&e)))?;
    if args.verbose {
        eprintln!(
            "hvsock: relay listening on {} -> {}",
            listener.describe(&args.from),
            args.to
        );
    }
    let to = Arc::new(RelayTo {
        target,
        text: args.to.to_string(),
        timeout: args.connect_timeout,
        verbose: args.verbose,
    });
    let mut id = 0u64;
    let mut pause = Duration::from_millis(10);
    loop {
        tokio::select! {
            r = listener.accept() => match r {
                Ok((client, who)) => {
                    pause = Duration::from_millis(10);
                    id += 1;
                    tokio::spawn(relay_one(id, client, who, to.clone()));
                }
                Err(e) => {
                    eprintln!("hvsock: accept on {} failed: {e}; retrying in {pause:?}", args.from);
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(1));
                }
            },
            r = &mut stop => {
                r?;
                break;
            }
        }
    }
    if let Listener::Unix(_, path) = &listener {
        let _ = std::fs::remove_file(path);
    }
    if args.verbose {
        eprintln!("hvsock: relay stopped");
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 + i / 4096) as u8).collect()
    }

    /// TCP -> Unix through `forward` (the splice path): every byte in order, the
    /// count returned, and the half-close carried to the Unix side.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn forward_splices_tcp_to_unix_and_half_closes() {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = TcpStream::connect(l.local_addr().unwrap()).await.unwrap();
        let (relay_side, _) = l.accept().await.unwrap();
        let (unix_in, mut unix_out) = UnixStream::pair().unwrap();
        let (r, _w) = relay_side.into_split();
        let (_r2, w) = unix_in.into_split();
        let task = tokio::spawn(forward(Reader::Tcp(r), Writer::Unix(w)));
        let data = pattern(5 * 1024 * 1024 + 123);
        let sent = data.clone();
        let writer = tokio::spawn(async move {
            client.write_all(&sent).await.unwrap();
            client.shutdown().await.unwrap();
            client
        });
        let mut got = Vec::new();
        unix_out.read_to_end(&mut got).await.unwrap();
        assert_eq!(got.len(), data.len());
        assert!(got == data, "bytes differ");
        assert_eq!(task.await.unwrap().unwrap(), data.len() as u64);
        drop(writer.await.unwrap());
    }

    #[test]
    fn endpoint_syntax() {
        let ok = |s: &str| Endpoint::parse(s).unwrap().to_string();
        assert_eq!(ok("tcp:127.0.0.1:80"), "tcp:127.0.0.1:80");
        assert_eq!(ok("TCP:localhost:0"), "tcp:localhost:0");
        assert_eq!(ok("tcp:[::1]:8080"), "tcp:[::1]:8080");
        assert_eq!(ok("unix:/run/x.sock"), "unix:/run/x.sock");
        assert_eq!(ok("unix:rel:ative"), "unix:rel:ative");
        assert_eq!(ok("hvsock:parent:vsock:22"), "hvsock:parent:vsock:22");
        assert_eq!(ok("hvsock:vm:My Service"), "hvsock:vm:My Service");
        for bad in [
            "",
            "tcp",
            "tcp:",
            "tcp:80",
            "tcp::80",
            "tcp:host:",
            "tcp:host:65536",
            "tcp:host:x",
            "tcp:::1:80",
            "unix:",
            "hvsock:",
            "hvsock:parent",
            "hvsock:parent:",
            "hvsock:parent:vsock:x",
            "udp:1.2.3.4:5",
            "/tmp/sock",
        ] {
            assert!(Endpoint::parse(bad).is_err(), "{bad:?}");
        }
    }
}
