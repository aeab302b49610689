//! The tokio [`HvStream`].

use crate::addr::{HvAddr, ToHvAddr};
use crate::context::{Context, DEFAULT_CONNECT_TIMEOUT};
use crate::net::accept::Ticket;
use socket2::Socket;
use std::io::{self, IoSlice};
use std::net::Shutdown;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;
use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};

use super::io::*;
use super::split::*;

/// A connected Hyper-V socket for tokio.
#[derive(Debug)]
pub struct HvStream {
    pub(super) io: AsyncFd<Socket>,
    pub(super) local: HvAddr,
    pub(super) peer: HvAddr,
    pub(super) ticket: Option<Arc<Ticket>>,
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

impl Io for HvStream {
    fn io(&self) -> &AsyncFd<Socket> {
        &self.io
    }
}
async_io_impls!(HvStream);
async_io_impls!(write HvStream);
