//! Async Hyper-V sockets for tokio (feature `tokio`): [`HvStream`] and [`HvListener`]
//! with the std types' semantics, `AsyncRead`/`AsyncWrite`, `split` and `into_split`.
//!
//! ```no_run
//! use hvsock::net::tokio::{HvListener, HvStream};
//! use hvsock::{ServiceId, VmId};
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//!
//! # async fn demo() -> std::io::Result<()> {
//! let svc = ServiceId::from_vsock_port(5000);
//! let listener = HvListener::bind((VmId::LOOPBACK, svc)).await?;
//! tokio::spawn(async move {
//!     let (mut s, _peer) = listener.accept().await?;
//!     let (mut r, mut w) = s.split();
//!     tokio::io::copy(&mut r, &mut w).await?;
//!     Ok::<(), std::io::Error>(())
//! });
//! let mut s = HvStream::connect((VmId::LOOPBACK, svc)).await?;
//! s.write_all(b"ping").await?;
//! s.shutdown().await?;
//! let mut back = Vec::new();
//! s.read_to_end(&mut back).await?;
//! assert_eq!(back, b"ping");
//! # Ok(()) }
//! ```

use crate::addr::{HvAddr, ToHvAddr};
use crate::context::{Context, DEFAULT_CONNECT_TIMEOUT};
use crate::net::core::{Core, Ticket};
use crate::sys::Epoll;
use socket2::Socket;
use std::io::{self, IoSlice, Read, Write};
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll, ready};
use std::time::{Duration, Instant};
use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};

/// A connected Hyper-V socket for tokio.
#[derive(Debug)]
pub struct HvStream {
    io: AsyncFd<Socket>,
    local: HvAddr,
    peer: HvAddr,
    ticket: Option<Arc<Ticket>>,
}

impl HvStream {
    /// Connects from this process's partition ([`Context::from_env`]) with the default
    /// 2 s timeout. Errors as [`crate::HvStream::connect`].
    pub async fn connect(addr: impl ToHvAddr) -> io::Result<HvStream> {
        Self::connect_with(&Context::from_env()?, addr, DEFAULT_CONNECT_TIMEOUT).await
    }

    /// Connects with a timeout (at most 300 s).
    pub async fn connect_timeout(addr: impl ToHvAddr, timeout: Duration) -> io::Result<HvStream> {
        Self::connect_with(&Context::from_env()?, addr, timeout).await
    }

    /// Connects from an explicit [`Context`].
    pub async fn connect_with(
        ctx: &Context,
        addr: impl ToHvAddr,
        timeout: Duration,
    ) -> io::Result<HvStream> {
        let addr = addr.to_hv_addr(&ctx.dirs)?;
        let ctx = ctx.clone();
        // The handshake is one short round trip: run the blocking dialer off the
        // runtime's worker threads rather than keep a second copy of it.
        let s = tokio::task::spawn_blocking(move || ctx.connect_timeout(addr, timeout))
            .await
            .map_err(io::Error::other)??;
        HvStream::from_std(s)
    }

    /// Wraps a connected std stream (switching it to non-blocking mode); the
    /// connection's count in the accepting listener's per-partition limit goes along.
    pub fn from_std(s: crate::HvStream) -> io::Result<HvStream> {
        let (sock, local, peer, ticket) = s.into_parts();
        Self::from_socket(sock, local, peer, ticket)
    }

    pub(crate) fn from_socket(
        sock: Socket,
        local: HvAddr,
        peer: HvAddr,
        ticket: Option<Arc<Ticket>>,
    ) -> io::Result<HvStream> {
        sock.set_nonblocking(true)?;
        Ok(HvStream {
            io: crate::sys::async_fd(sock, Interest::READABLE | Interest::WRITABLE)?,
            local,
            peer,
            ticket,
        })
    }

    /// Turns back into a blocking std stream, which keeps the connection's count in the
    /// accepting listener's per-partition limit.
    pub fn into_std(self) -> io::Result<crate::HvStream> {
        let sock = self.io.into_inner();
        sock.set_nonblocking(false)?;
        Ok(crate::HvStream::from_parts(
            sock,
            self.local,
            self.peer,
            self.ticket,
        ))
    }

    /// The peer as this side names it.
    pub fn peer_addr(&self) -> io::Result<HvAddr> {
        Ok(self.peer)
    }

    /// This side's address.
    pub fn local_addr(&self) -> io::Result<HvAddr> {
        Ok(self.local)
    }

    /// Borrowed read and write halves, usable at the same time.
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        (ReadHalf(self), WriteHalf(self))
    }

    /// Owned halves, e.g. for two tasks. Dropping the write half shuts down writing.
    /// Both halves share the connection and its count in the accepting listener's
    /// per-partition limit: the place is given back when both are dropped.
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        let s = Arc::new(self);
        (OwnedReadHalf(s.clone()), OwnedWriteHalf(s))
    }

    /// A guard sharing this connection's count (see [`crate::ConnectionGuard`]).
    pub fn connection_guard(&self) -> crate::ConnectionGuard {
        crate::ConnectionGuard::new(self.ticket.clone())
    }

    /// Shuts down one or both directions at once (without flushing anything: hvsock
    /// buffers nothing).
    pub fn shutdown_std(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }
}

fn poll_read(
    io: &AsyncFd<Socket>,
    cx: &mut TaskContext<'_>,
    buf: &mut ReadBuf<'_>,
) -> Poll<io::Result<()>> {
    loop {
        let mut guard = ready!(io.poll_read_ready(cx))?;
        let unfilled = buf.initialize_unfilled();
        let read = |s: &AsyncFd<Socket>| {
            crate::net::stream::ended_if_not_connected(s.get_ref().read(unfilled))
        };
        match guard.try_io(read) {
            Ok(Ok(n)) => {
                buf.advance(n);
                return Poll::Ready(Ok(()));
            }
            Ok(Err(e)) => return Poll::Ready(Err(e)),
            Err(_would_block) => continue,
        }
    }
}

fn poll_write(
    io: &AsyncFd<Socket>,
    cx: &mut TaskContext<'_>,
    buf: &[u8],
) -> Poll<io::Result<usize>> {
    loop {
        let mut guard = ready!(io.poll_write_ready(cx))?;
        match guard.try_io(|s| s.get_ref().write(buf)) {
            Ok(r) => return Poll::Ready(r),
            Err(_would_block) => continue,
        }
    }
}

fn poll_write_vectored(
    io: &AsyncFd<Socket>,
    cx: &mut TaskContext<'_>,
    bufs: &[IoSlice<'_>],
) -> Poll<io::Result<usize>> {
    loop {
        let mut guard = ready!(io.poll_write_ready(cx))?;
        match guard.try_io(|s| s.get_ref().write_vectored(bufs)) {
            Ok(r) => return Poll::Ready(r),
            Err(_would_block) => continue,
        }
    }
}

fn shutdown_write(io: &AsyncFd<Socket>) -> Poll<io::Result<()>> {
    match io.get_ref().shutdown(Shutdown::Write) {
        // Already shut down or the peer is gone: nothing left to do.
        Err(e) if e.kind() == io::ErrorKind::NotConnected => Poll::Ready(Ok(())),
        r => Poll::Ready(r),
    }
}

/// Gives the registered socket behind a stream or half.
trait Io {
    fn io(&self) -> &AsyncFd<Socket>;
}

macro_rules! async_io_impls {
    ($t:ty) => {
        impl AsyncRead for $t {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut TaskContext<'_>,
                buf: &mut ReadBuf<'_>,
            ) -> Poll<io::Result<()>> {
                poll_read(Io::io(&*self), cx, buf)
            }
        }
    };
    (write $t:ty) => {
        impl AsyncWrite for $t {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut TaskContext<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                poll_write(Io::io(&*self), cx, buf)
            }
            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut TaskContext<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                poll_write_vectored(Io::io(&*self), cx, bufs)
            }
            fn is_write_vectored(&self) -> bool {
                true
            }
            fn poll_flush(self: Pin<&mut Self>, _: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }
            fn poll_shutdown(
                self: Pin<&mut Self>,
                _: &mut TaskContext<'_>,
            ) -> Poll<io::Result<()>> {
                shutdown_write(Io::io(&*self))
            }
        }
    };
}

impl Io for HvStream {
    fn io(&self) -> &AsyncFd<Socket> {
        &self.io
    }
}
async_io_impls!(HvStream);
async_io_impls!(write HvStream);

/// The read half of [`HvStream::split`].
#[derive(Debug)]
pub struct ReadHalf<'a>(&'a HvStream);
/// The write half of [`HvStream::split`]; `shutdown` half-closes the stream.
#[derive(Debug)]
pub struct WriteHalf<'a>(&'a HvStream);
/// The read half of [`HvStream::into_split`].
#[derive(Debug)]
pub struct OwnedReadHalf(Arc<HvStream>);
/// The write half of [`HvStream::into_split`]; dropping it half-closes the stream.
#[derive(Debug)]
pub struct OwnedWriteHalf(Arc<HvStream>);

impl Io for ReadHalf<'_> {
    fn io(&self) -> &AsyncFd<Socket> {
        &self.0.io
    }
}
impl Io for WriteHalf<'_> {
    fn io(&self) -> &AsyncFd<Socket> {
        &self.0.io
    }
}
impl Io for OwnedReadHalf {
    fn io(&self) -> &AsyncFd<Socket> {
        &self.0.io
    }
}
impl Io for OwnedWriteHalf {
    fn io(&self) -> &AsyncFd<Socket> {
        &self.0.io
    }
}
async_io_impls!(ReadHalf<'_>);
async_io_impls!(write WriteHalf<'_>);
async_io_impls!(OwnedReadHalf);
async_io_impls!(write OwnedWriteHalf);

impl OwnedReadHalf {
    /// The peer as this side names it.
    pub fn peer_addr(&self) -> io::Result<HvAddr> {
        Ok(self.0.peer)
    }
}

impl OwnedWriteHalf {
    /// The peer as this side names it.
    pub fn peer_addr(&self) -> io::Result<HvAddr> {
        Ok(self.0.peer)
    }
}

impl Drop for OwnedWriteHalf {
    fn drop(&mut self) {
        let _ = self.0.io.get_ref().shutdown(Shutdown::Write);
    }
}

macro_rules! fd_impls {
    ($($t:ty),*) => {$(
        impl AsRawFd for $t {
            fn as_raw_fd(&self) -> RawFd {
                Io::io(self).as_raw_fd()
            }
        }
        impl AsFd for $t {
            fn as_fd(&self) -> BorrowedFd<'_> {
                Io::io(self).get_ref().as_fd()
            }
        }
    )*};
}

// The halves expose the socket too, e.g. for splice(2) driven by `async_io`.
fd_impls!(
    HvStream,
    ReadHalf<'_>,
    WriteHalf<'_>,
    OwnedReadHalf,
    OwnedWriteHalf
);

impl HvStream {
    /// Runs a non-blocking syscall `f` on the fd once it is ready for `interest`,
    /// retrying on `WouldBlock` (like `tokio::net::UnixStream::async_io`).
    pub async fn async_io<R>(
        &self,
        interest: Interest,
        mut f: impl FnMut() -> io::Result<R>,
    ) -> io::Result<R> {
        self.io.async_io(interest, |_| f()).await
    }
}

impl OwnedReadHalf {
    /// See [`HvStream::async_io`].
    pub async fn async_io<R>(
        &self,
        interest: Interest,
        f: impl FnMut() -> io::Result<R>,
    ) -> io::Result<R> {
        self.0.async_io(interest, f).await
    }
}

impl OwnedWriteHalf {
    /// See [`HvStream::async_io`].
    pub async fn async_io<R>(
        &self,
        interest: Interest,
        f: impl FnMut() -> io::Result<R>,
    ) -> io::Result<R> {
        self.0.async_io(interest, f).await
    }
}

/// A listening Hyper-V socket for tokio.
#[derive(Debug)]
pub struct HvListener {
    core: Mutex<Core>,
    io: AsyncFd<Arc<Epoll>>,
    addr: HvAddr,
}

impl HvListener {
    /// Binds in this process's partition. Errors as [`crate::HvListener::bind`].
    pub async fn bind(addr: impl ToHvAddr) -> io::Result<HvListener> {
        Self::bind_with(&Context::from_env()?, addr)
    }

    /// Binds in an explicit [`Context`].
    pub fn bind_with(ctx: &Context, addr: impl ToHvAddr) -> io::Result<HvListener> {
        Self::from_std(ctx.bind(addr)?)
    }

    /// Wraps a std listener.
    pub fn from_std(l: crate::HvListener) -> io::Result<HvListener> {
        let addr = l.local_addr()?;
        let core = l.into_core();
        Ok(HvListener {
            io: crate::sys::async_fd(core.epoll(), Interest::READABLE)?,
            core: Mutex::new(core),
            addr,
        })
    }

    /// Waits for a connection; the peer as this side names it.
    pub async fn accept(&self) -> io::Result<(HvStream, HvAddr)> {
        loop {
            let wake = {
                let mut core = self.core.lock().unwrap_or_else(|e| e.into_inner());
                let mut events = 1;
                while core.pop_peek().is_none() && events > 0 {
                    events = core.poll(Some(Duration::ZERO))?;
                }
                if let Some((sock, peer, ticket)) = core.pop() {
                    let s = HvStream::from_socket(sock, self.addr, peer, ticket.map(Arc::new))?;
                    return Ok((s, peer));
                }
                core.next_wakeup()
            };
            let readable = self.io.readable();
            match wake {
                Some(t) => {
                    let t = tokio::time::Instant::from_std(t.max(Instant::now()));
                    tokio::select! {
                        r = readable => r?.clear_ready(),
                        _ = tokio::time::sleep_until(t) => {}
                    }
                }
                None => readable.await?.clear_ready(),
            }
        }
    }

    /// The address this listener was bound to.
    pub fn local_addr(&self) -> io::Result<HvAddr> {
        Ok(self.addr)
    }
}
