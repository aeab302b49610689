//! The halves of a tokio [`HvStream`]: borrowed ([`HvStream::split`]) and owned
//! ([`HvStream::into_split`]).

use crate::addr::HvAddr;
use socket2::Socket;
use std::io::{self, IoSlice};
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};

use super::io::*;
use super::stream::*;

/// The read half of [`HvStream::split`].
#[derive(Debug)]
pub struct ReadHalf<'a>(pub(super) &'a HvStream);
/// The write half of [`HvStream::split`]; `shutdown` half-closes the stream.
#[derive(Debug)]
pub struct WriteHalf<'a>(pub(super) &'a HvStream);
/// The read half of [`HvStream::into_split`].
#[derive(Debug)]
pub struct OwnedReadHalf(pub(super) Arc<HvStream>);
/// The write half of [`HvStream::into_split`]; dropping it half-closes the stream.
#[derive(Debug)]
pub struct OwnedWriteHalf(pub(super) Arc<HvStream>);

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
