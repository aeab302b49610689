//! The data path of the relay: one direction of one connection, socket to socket.
//!
//! [`forward`] moves the bytes and then passes the half-close on. On Linux it splices
//! through a pipe between the two sockets (no byte enters user space; [`super::splice`])
//! and falls back to a buffered copy for sockets the kernel cannot splice; Windows has
//! no splice, so there it is the buffered copy.

use hvsock::net::tokio as hvtokio;
use std::io::{self, ErrorKind};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, tcp};
#[cfg(unix)]
use tokio::net::{UnixStream, unix};

/// A connected socket of any endpoint kind.
pub(crate) enum Conn {
    Tcp(TcpStream),
    #[cfg(unix)]
    Unix(UnixStream),
    Hv(hvtokio::HvStream),
}

/// The receiving half of a [`Conn`].
pub(crate) enum Reader {
    Tcp(tcp::OwnedReadHalf),
    #[cfg(unix)]
    Unix(unix::OwnedReadHalf),
    Hv(hvtokio::OwnedReadHalf),
}

/// The sending half of a [`Conn`].
pub(crate) enum Writer {
    Tcp(tcp::OwnedWriteHalf),
    #[cfg(unix)]
    Unix(unix::OwnedWriteHalf),
    Hv(hvtokio::OwnedWriteHalf),
}

impl Conn {
    /// Whether a half-close sent to this socket reaches its peer (TCP and Unix sockets
    /// carry it; an hvsock stream as its route says: `HvStream::half_close`).
    pub(crate) fn carries_half_close(&self) -> bool {
        match self {
            Conn::Hv(s) => s.half_close().is_carried(),
            _ => true,
        }
    }

    /// Whether this side's peer closing altogether can be told from its half-close
    /// (the socket then reports a hang-up): Unix sockets, hybrid vsock (a Unix socket)
    /// and AF_VSOCK do; after a TCP FIN either may have happened.
    pub(crate) fn shows_full_close(&self) -> bool {
        cfg!(unix) && !matches!(self, Conn::Tcp(_))
    }

    pub(crate) fn into_split(self) -> (Reader, Writer) {
        match self {
            Conn::Tcp(s) => {
                let (r, w) = s.into_split();
                (Reader::Tcp(r), Writer::Tcp(w))
            }
            #[cfg(unix)]
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
    /// Whether the peer of this socket has closed altogether (Unix: `POLLHUP`); never
    /// seen on Windows, where only `--idle-timeout` ends a half-finished pair.
    pub(super) fn hung_up(&self) -> bool {
        #[cfg(unix)]
        {
            use std::os::fd::AsFd;
            let fd = match self {
                Reader::Tcp(r) => r.as_ref().as_fd(),
                Reader::Unix(r) => r.as_ref().as_fd(),
                Reader::Hv(r) => r.as_fd(),
            };
            crate::sys::hung_up(&fd, std::time::Duration::ZERO).unwrap_or(true)
        }
        #[cfg(windows)]
        false
    }

    /// Counts bytes moved from an hvsock stream past its reads (the splice path).
    #[cfg_attr(windows, allow(dead_code))]
    pub(super) fn count_read(&self, n: u64) {
        if let Reader::Hv(r) = self {
            r.count_read(n);
        }
    }

    pub(super) fn as_async(&mut self) -> &mut (dyn AsyncRead + Unpin + Send) {
        match self {
            Reader::Tcp(r) => r,
            #[cfg(unix)]
            Reader::Unix(r) => r,
            Reader::Hv(r) => r,
        }
    }
}

impl Writer {
    /// Counts bytes moved into an hvsock stream past its writes (the splice path).
    #[cfg_attr(windows, allow(dead_code))]
    pub(super) fn count_written(&self, n: u64) {
        if let Writer::Hv(w) = self {
            w.count_written(n);
        }
    }

    pub(super) fn as_async(&mut self) -> &mut (dyn AsyncWrite + Unpin + Send) {
        match self {
            Writer::Tcp(w) => w,
            #[cfg(unix)]
            Writer::Unix(w) => w,
            Writer::Hv(w) => w,
        }
    }
}

/// The buffer of one direction of one connection (buffered copy).
const BUF_SIZE: usize = 256 * 1024;

/// Bytes moved so far by both directions of one connection (for `--idle-timeout`).
pub(crate) type Moved = Arc<AtomicU64>;

/// Moves one direction of a connection: everything `from` sends goes to `to`, then,
/// with `half_close`, `to` is shut down for writing (the half-close carried through).
/// Returns the bytes moved and both halves: `to` is kept open without `half_close`
/// (dropping a write half would shut it down), until the caller closes the pair.
///
/// This is the data path: on Linux splice(2) through a pipe (the bytes never enter
/// user space), or, where the kernel refuses splice for a socket, a buffered copy; on
/// Windows the buffered copy. Every chunk moved is added to `moved`.
pub(crate) async fn forward(
    mut from: Reader,
    mut to: Writer,
    half_close: bool,
    moved: Moved,
) -> io::Result<(u64, Reader, Writer)> {
    #[cfg(unix)]
    let total = super::splice::copy(&mut from, &mut to, &moved).await?;
    #[cfg(windows)]
    let total = buffered_copy(&mut from, &mut to, &[], &moved).await?;
    if half_close {
        match to.as_async().shutdown().await {
            // The peer is gone altogether: nothing to shut down.
            Err(e) if e.kind() == ErrorKind::NotConnected => {}
            r => r?,
        }
    }
    Ok((total, from, to))
}

/// The fallback: a buffered copy, after writing `head` (bytes already read).
pub(super) async fn buffered_copy(
    from: &mut Reader,
    to: &mut Writer,
    head: &[u8],
    moved: &AtomicU64,
) -> io::Result<u64> {
    let w = to.as_async();
    w.write_all(head).await?;
    moved.fetch_add(head.len() as u64, Ordering::Relaxed);
    let r = from.as_async();
    let mut buf = vec![0u8; BUF_SIZE];
    let mut total = head.len() as u64;
    loop {
        let n = r.read(&mut buf).await?;
        if n == 0 {
            return Ok(total);
        }
        w.write_all(&buf[..n]).await?;
        total += n as u64;
        moved.fetch_add(n as u64, Ordering::Relaxed);
    }
}
