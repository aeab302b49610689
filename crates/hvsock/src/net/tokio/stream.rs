//! The tokio [`HvStream`].

use crate::addr::{HvAddr, ToHvAddr};
use crate::config::partitions::HalfClose;
use crate::context::{Context, DEFAULT_CONNECT_TIMEOUT};
use crate::net::accept::Ticket;
use crate::stats::Meter;
use crate::sys::AsyncSocket;
use socket2::Socket;
use std::io::{self, IoSlice};
use std::net::Shutdown;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};

use super::io::*;
use super::split::*;

/// A connected Hyper-V socket for tokio.
#[derive(Debug)]
pub struct HvStream {
    pub(super) io: AsyncSocket,
    pub(super) local: HvAddr,
    pub(super) peer: HvAddr,
    pub(super) ticket: Option<Arc<Ticket>>,
    pub(super) half_close: HalfClose,
    /// This connection's counters (`crate::stats`), shared with its halves.
    pub(super) meter: Meter,
}

impl HvStream {
    /// Connects from this process's partition ([`Context::from_env`]) with the default
    /// 2 s timeout. Errors as [`crate::HvStream::connect`].
    ///
    /// ```no_run
    /// # async fn f() -> std::io::Result<()> {
    /// use hvsock::net::tokio::HvStream;
    /// use hvsock::{ServiceId, VmId};
    /// let s = HvStream::connect((VmId::PARENT, ServiceId::from_vsock_port(5000))).await?;
    /// println!("connected to {}", s.peer_addr()?);
    /// # Ok(()) }
    /// ```
    pub async fn connect(addr: impl ToHvAddr) -> io::Result<HvStream> {
        Self::connect_with(&Context::from_env()?, addr, DEFAULT_CONNECT_TIMEOUT).await
    }

    /// Connects with a timeout (at most 300 s).
    ///
    /// ```no_run
    /// # async fn f() -> std::io::Result<()> {
    /// use hvsock::net::tokio::HvStream;
    /// use hvsock::{ServiceId, VmId};
    /// use std::time::Duration;
    /// let s = HvStream::connect_timeout("parent:vsock:5000", Duration::from_secs(10)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect_timeout(addr: impl ToHvAddr, timeout: Duration) -> io::Result<HvStream> {
        Self::connect_with(&Context::from_env()?, addr, timeout).await
    }

    /// Connects from an explicit [`Context`].
    ///
    /// ```no_run
    /// # async fn f() -> std::io::Result<()> {
    /// use hvsock::net::tokio::HvStream;
    /// use hvsock::{ServiceId, VmId};
    /// use hvsock::Context;
    /// use std::time::Duration;
    /// let ctx = Context::from_env()?;
    /// let s = HvStream::connect_with(&ctx, "parent:vsock:5000", Duration::from_secs(2)).await?;
    /// # Ok(()) }
    /// ```
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
    ///
    /// ```no_run
    /// # async fn f() -> std::io::Result<()> {
    /// use hvsock::net::tokio::HvStream;
    /// use hvsock::{ServiceId, VmId};
    /// let std = hvsock::HvStream::connect("parent:vsock:5000")?;
    /// let s = HvStream::from_std(std)?;
    /// # Ok(()) }
    /// ```
    pub fn from_std(s: crate::HvStream) -> io::Result<HvStream> {
        let (sock, local, peer, ticket, half_close, meter) = s.into_parts();
        Self::from_socket(sock, local, peer, ticket, half_close, meter)
    }

    pub(crate) fn from_socket(
        sock: Socket,
        local: HvAddr,
        peer: HvAddr,
        ticket: Option<Arc<Ticket>>,
        half_close: HalfClose,
        meter: Meter,
    ) -> io::Result<HvStream> {
        Ok(HvStream {
            io: AsyncSocket::new(sock)?,
            local,
            peer,
            ticket,
            half_close,
            meter,
        })
    }

    /// Turns back into a blocking std stream, which keeps the connection's count in the
    /// accepting listener's per-partition limit.
    ///
    /// ```no_run
    /// # async fn f() -> std::io::Result<()> {
    /// use hvsock::net::tokio::HvStream;
    /// use hvsock::{ServiceId, VmId};
    /// let s = HvStream::connect((VmId::PARENT, ServiceId::from_vsock_port(5000))).await?;
    /// let std = s.into_std()?;
    /// std::thread::spawn(move || std::io::copy(&mut &std, &mut std::io::sink()));
    /// # Ok(()) }
    /// ```
    pub fn into_std(self) -> io::Result<crate::HvStream> {
        let sock = self.io.into_socket()?;
        sock.set_nonblocking(false)?;
        Ok(crate::HvStream::from_parts(
            sock,
            self.local,
            self.peer,
            self.ticket,
            self.half_close,
            self.meter,
        ))
    }

    /// Whether a half-close reaches the peer: see [`crate::HvStream::half_close`].
    ///
    /// ```no_run
    /// # async fn f() -> std::io::Result<()> {
    /// use hvsock::net::tokio::HvStream;
    /// use hvsock::partitions::HalfClose;
    /// let s = HvStream::connect("myvm:vsock:5000").await?;
    /// let send_eof = s.half_close() == HalfClose::Carried;
    /// # Ok(()) }
    /// ```
    pub fn half_close(&self) -> HalfClose {
        self.half_close
    }

    /// The peer as this side names it.
    ///
    /// ```no_run
    /// # async fn f() -> std::io::Result<()> {
    /// use hvsock::net::tokio::HvStream;
    /// use hvsock::{ServiceId, VmId};
    /// let s = HvStream::connect((VmId::PARENT, ServiceId::from_vsock_port(5000))).await?;
    /// assert_eq!(s.peer_addr()?.vm_id, VmId::PARENT);
    /// # Ok(()) }
    /// ```
    pub fn peer_addr(&self) -> io::Result<HvAddr> {
        Ok(self.peer)
    }

    /// This side's address.
    ///
    /// ```no_run
    /// # async fn f() -> std::io::Result<()> {
    /// use hvsock::net::tokio::HvStream;
    /// use hvsock::{ServiceId, VmId};
    /// let s = HvStream::connect((VmId::PARENT, ServiceId::from_vsock_port(5000))).await?;
    /// println!("this side is {}", s.local_addr()?);
    /// # Ok(()) }
    /// ```
    pub fn local_addr(&self) -> io::Result<HvAddr> {
        Ok(self.local)
    }

    /// Borrowed read and write halves, usable at the same time.
    ///
    /// ```no_run
    /// # async fn f() -> std::io::Result<()> {
    /// use hvsock::net::tokio::HvStream;
    /// use hvsock::{ServiceId, VmId};
    /// let mut s = HvStream::connect((VmId::PARENT, ServiceId::from_vsock_port(5000))).await?;
    /// let (mut r, mut w) = s.split();
    /// tokio::io::copy(&mut r, &mut w).await?; // echo
    /// # Ok(()) }
    /// ```
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        (ReadHalf(self), WriteHalf(self))
    }

    /// Owned halves, e.g. for two tasks. Dropping the write half shuts down writing.
    /// Both halves share the connection and its count in the accepting listener's
    /// per-partition limit: the place is given back when both are dropped.
    ///
    /// ```no_run
    /// # async fn f() -> std::io::Result<()> {
    /// use hvsock::net::tokio::HvStream;
    /// use hvsock::{ServiceId, VmId};
    /// let s = HvStream::connect((VmId::PARENT, ServiceId::from_vsock_port(5000))).await?;
    /// let (mut r, mut w) = s.into_split();
    /// let echo = tokio::spawn(async move { tokio::io::copy(&mut r, &mut w).await });
    /// echo.await??;
    /// # Ok(()) }
    /// ```
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        let s = Arc::new(self);
        (
            OwnedReadHalf(s.clone()),
            OwnedWriteHalf(s, ShutdownOnDrop(true)),
        )
    }

    /// A guard sharing this connection's count (see [`crate::ConnectionGuard`]).
    ///
    /// ```no_run
    /// # async fn f() -> std::io::Result<()> {
    /// use hvsock::net::tokio::HvStream;
    /// use hvsock::{ServiceId, VmId};
    /// let s = HvStream::connect((VmId::PARENT, ServiceId::from_vsock_port(5000))).await?;
    /// let guard = s.connection_guard();
    /// # Ok(()) }
    /// ```
    pub fn connection_guard(&self) -> crate::ConnectionGuard {
        crate::ConnectionGuard::new(self.ticket.clone(), self.meter.clone())
    }

    /// Waits until the stream may be readable (data, end of stream or an error), like
    /// `tokio::net::UnixStream::readable`; then [`try_read`](Self::try_read).
    ///
    /// ```no_run
    /// # async fn f(s: hvsock::net::tokio::HvStream) -> std::io::Result<()> {
    /// let mut buf = [0u8; 4096];
    /// loop {
    ///     s.readable().await?;
    ///     match s.try_read(&mut buf) {
    ///         Ok(0) => break,
    ///         Ok(n) => println!("{n} bytes"),
    ///         Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
    ///         Err(e) => return Err(e),
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn readable(&self) -> io::Result<()> {
        self.io.ready(Interest::READABLE).await?;
        Ok(())
    }

    /// Waits until the stream may be writable; then [`try_write`](Self::try_write).
    ///
    /// ```no_run
    /// # async fn f(s: hvsock::net::tokio::HvStream) -> std::io::Result<()> {
    /// s.writable().await?;
    /// let _ = s.try_write(b"ping");
    /// # Ok(()) }
    /// ```
    pub async fn writable(&self) -> io::Result<()> {
        self.io.ready(Interest::WRITABLE).await?;
        Ok(())
    }

    /// Reads what is waiting without waiting: `WouldBlock` when nothing is (and the
    /// next [`readable`](Self::readable) waits for more). `Ok(0)` is the end of the
    /// stream. Example at [`readable`](Self::readable).
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        try_read(Io::io(self), &self.meter, buf)
    }

    /// Writes what fits without waiting: `WouldBlock` when nothing does. Example at
    /// [`writable`](Self::writable).
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        try_write(Io::io(self), &self.meter, buf)
    }

    /// Shuts down one or both directions at once (without flushing anything: hvsock
    /// buffers nothing).
    ///
    /// ```no_run
    /// # async fn f() -> std::io::Result<()> {
    /// use hvsock::net::tokio::HvStream;
    /// use hvsock::{ServiceId, VmId};
    /// let s = HvStream::connect((VmId::PARENT, ServiceId::from_vsock_port(5000))).await?;
    /// s.shutdown_std(std::net::Shutdown::Both)?;
    /// # Ok(()) }
    /// ```
    pub fn shutdown_std(&self, how: Shutdown) -> io::Result<()> {
        self.io.socket().shutdown(how)
    }
}

impl Io for HvStream {
    fn io(&self) -> &AsyncSocket {
        &self.io
    }
    fn meter(&self) -> &Meter {
        &self.meter
    }
}

async_io_impls!(HvStream);
async_io_impls!(write HvStream);
