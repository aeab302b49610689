//! The halves of a tokio [`HvStream`]: borrowed ([`HvStream::split`]) and owned
//! ([`HvStream::into_split`]).

use crate::addr::HvAddr;
use crate::sys::AsyncSocket;
use std::io::{self, IoSlice};
use std::net::Shutdown;
#[cfg(unix)]
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
#[cfg(windows)]
use std::os::windows::io::{AsRawSocket, RawSocket};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
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
pub struct OwnedWriteHalf(pub(super) Arc<HvStream>, pub(super) ShutdownOnDrop);

/// Whether dropping an [`OwnedWriteHalf`] shuts down writing (not when it is reunited).
#[derive(Debug)]
pub(super) struct ShutdownOnDrop(pub(super) bool);

impl Io for ReadHalf<'_> {
    fn io(&self) -> &AsyncSocket {
        &self.0.io
    }
    fn meter(&self) -> &crate::stats::Meter {
        &self.0.meter
    }
}

impl Io for WriteHalf<'_> {
    fn io(&self) -> &AsyncSocket {
        &self.0.io
    }
    fn meter(&self) -> &crate::stats::Meter {
        &self.0.meter
    }
}

impl Io for OwnedReadHalf {
    fn io(&self) -> &AsyncSocket {
        &self.0.io
    }
    fn meter(&self) -> &crate::stats::Meter {
        &self.0.meter
    }
}

impl Io for OwnedWriteHalf {
    fn io(&self) -> &AsyncSocket {
        &self.0.io
    }
    fn meter(&self) -> &crate::stats::Meter {
        &self.0.meter
    }
}

async_io_impls!(ReadHalf<'_>);
async_io_impls!(write WriteHalf<'_>);
async_io_impls!(OwnedReadHalf);
async_io_impls!(write OwnedWriteHalf);

macro_rules! addrs {
    ($($t:ty),*) => {$(
        impl $t {
            /// The peer as this side names it, as [`HvStream::peer_addr`].
            ///
            /// ```no_run
            /// # async fn f(mut s: hvsock::net::tokio::HvStream) -> std::io::Result<()> {
            /// let (r, _w) = s.into_split();
            /// println!("{} -> {}", r.local_addr()?, r.peer_addr()?);
            /// # Ok(()) }
            /// ```
            pub fn peer_addr(&self) -> io::Result<HvAddr> {
                Ok(self.0.peer)
            }

            /// This side's address, as [`HvStream::local_addr`]. Example at
            /// [`peer_addr`](Self::peer_addr).
            pub fn local_addr(&self) -> io::Result<HvAddr> {
                Ok(self.0.local)
            }
        }
    )*};
}

addrs!(ReadHalf<'_>, WriteHalf<'_>, OwnedReadHalf, OwnedWriteHalf);

impl OwnedReadHalf {
    /// Joins the halves of one [`HvStream::into_split`] back into the stream; halves
    /// of different streams come back in the error.
    ///
    /// ```no_run
    /// # async fn f(s: hvsock::net::tokio::HvStream) -> std::io::Result<()> {
    /// let (r, w) = s.into_split();
    /// let s = r.reunite(w).expect("halves of one stream");
    /// # Ok(()) }
    /// ```
    pub fn reunite(self, other: OwnedWriteHalf) -> Result<HvStream, ReuniteError> {
        reunite(self, other)
    }

    /// See [`HvStream::readable`].
    ///
    /// ```no_run
    /// # async fn f(s: hvsock::net::tokio::HvStream) -> std::io::Result<()> {
    /// let (r, _w) = s.into_split();
    /// r.readable().await?;
    /// let mut buf = [0u8; 512];
    /// let _ = r.try_read(&mut buf);
    /// # Ok(()) }
    /// ```
    pub async fn readable(&self) -> io::Result<()> {
        self.0.readable().await
    }

    /// See [`HvStream::try_read`]. Example at [`readable`](Self::readable).
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.try_read(buf)
    }

    /// Counts `n` bytes read from the stream's descriptor past this half's own reads
    /// (e.g. moved with splice(2) through its descriptor), in the connection's counters
    /// ([`crate::stats`]).
    pub fn count_read(&self, n: u64) {
        self.0.meter.add_in(n);
    }
}

impl OwnedWriteHalf {
    /// Joins the halves back into the stream, as [`OwnedReadHalf::reunite`].
    ///
    /// ```no_run
    /// # async fn f(s: hvsock::net::tokio::HvStream) -> std::io::Result<()> {
    /// let (r, w) = s.into_split();
    /// let s = w.reunite(r).expect("halves of one stream");
    /// # Ok(()) }
    /// ```
    pub fn reunite(self, other: OwnedReadHalf) -> Result<HvStream, ReuniteError> {
        reunite(other, self)
    }

    /// See [`HvStream::writable`].
    ///
    /// ```no_run
    /// # async fn f(s: hvsock::net::tokio::HvStream) -> std::io::Result<()> {
    /// let (_r, w) = s.into_split();
    /// w.writable().await?;
    /// let _ = w.try_write(b"ping");
    /// # Ok(()) }
    /// ```
    pub async fn writable(&self) -> io::Result<()> {
        self.0.writable().await
    }

    /// See [`HvStream::try_write`]. Example at [`writable`](Self::writable).
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.0.try_write(buf)
    }

    /// Counts `n` bytes written to the stream's descriptor past this half's own
    /// writes (e.g. spliced into it), in the connection's counters ([`crate::stats`]).
    pub fn count_written(&self, n: u64) {
        self.0.meter.add_out(n);
    }
}

fn reunite(read: OwnedReadHalf, mut write: OwnedWriteHalf) -> Result<HvStream, ReuniteError> {
    if !Arc::ptr_eq(&read.0, &write.0) {
        return Err(ReuniteError(read, write));
    }
    // The write half goes away without shutting down the stream it gives back.
    write.1 = ShutdownOnDrop(false);
    drop(write);
    Ok(Arc::try_unwrap(read.0).expect("the two halves held the only references"))
}

/// The halves given to [`OwnedReadHalf::reunite`] were not of one stream; here they
/// are back.
#[derive(Debug)]
pub struct ReuniteError(pub OwnedReadHalf, pub OwnedWriteHalf);

impl std::fmt::Display for ReuniteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("tried to reunite halves that are not from the same stream")
    }
}

impl std::error::Error for ReuniteError {}

impl Drop for OwnedWriteHalf {
    fn drop(&mut self) {
        if self.1.0 {
            let _ = self.0.io.socket().shutdown(Shutdown::Write);
        }
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
    ///
    /// ```no_run
    /// # async fn f() -> std::io::Result<()> {
    /// use hvsock::net::tokio::HvStream;
    /// use hvsock::{ServiceId, VmId};
    /// use tokio::io::Interest;
    /// let s = HvStream::connect((VmId::PARENT, ServiceId::from_vsock_port(5000))).await?;
    /// let n = s.async_io(Interest::READABLE, || {
    ///     // a non-blocking syscall on s.as_raw_fd() (splice(2), recvmsg(2), ...)
    ///     Ok(0usize)
    /// }).await?;
    /// # Ok(()) }
    /// ```
    pub async fn async_io<R>(
        &self,
        interest: Interest,
        mut f: impl FnMut() -> io::Result<R>,
    ) -> io::Result<R> {
        self.io.async_io(interest, |_| f()).await
    }
}

macro_rules! owned_async_io {
    ($($t:ty),*) => {$(
        impl $t {
            /// See [`HvStream::async_io`].
            ///
            /// ```no_run
            /// # async fn f(s: hvsock::net::tokio::HvStream) -> std::io::Result<()> {
            /// use tokio::io::Interest;
            /// let (r, w) = s.into_split();
            /// let n = r.async_io(Interest::READABLE, || Ok(0usize)).await?;
            /// let m = w.async_io(Interest::WRITABLE, || Ok(0usize)).await?;
            /// # Ok(()) }
            /// ```
            pub async fn async_io<R>(
                &self,
                interest: Interest,
                f: impl FnMut() -> io::Result<R>,
            ) -> io::Result<R> {
                self.0.async_io(interest, f).await
            }
        }
    )*};
}
owned_async_io!(OwnedReadHalf, OwnedWriteHalf);
