//! What the tokio stream and its halves share: the poll functions over the registered
//! socket, and the macros that implement `AsyncRead`/`AsyncWrite` and the fd traits.

use socket2::Socket;
use std::io::{self, IoSlice, Read, Write};
use std::net::Shutdown;
use std::task::{Context as TaskContext, Poll, ready};
use tokio::io::unix::AsyncFd;
use tokio::io::{Interest, ReadBuf};

pub(super) fn poll_read(
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

pub(super) fn poll_write(
    io: &AsyncFd<Socket>,
    cx: &mut TaskContext<'_>,
    buf: &[u8],
) -> Poll<io::Result<usize>> {
    poll_write_with(io, cx, |mut s| s.write(buf))
}

pub(super) fn poll_write_vectored(
    io: &AsyncFd<Socket>,
    cx: &mut TaskContext<'_>,
    bufs: &[IoSlice<'_>],
) -> Poll<io::Result<usize>> {
    poll_write_with(io, cx, |mut s| s.write_vectored(bufs))
}

/// Runs a non-blocking `write` once the socket is writable, waiting again on
/// `WouldBlock`.
fn poll_write_with(
    io: &AsyncFd<Socket>,
    cx: &mut TaskContext<'_>,
    mut write: impl FnMut(&Socket) -> io::Result<usize>,
) -> Poll<io::Result<usize>> {
    loop {
        let mut guard = ready!(io.poll_write_ready(cx))?;
        match guard.try_io(|s| write(s.get_ref())) {
            Ok(r) => return Poll::Ready(r),
            Err(_would_block) => continue,
        }
    }
}

pub(super) fn try_read(io: &AsyncFd<Socket>, buf: &mut [u8]) -> io::Result<usize> {
    io.try_io(Interest::READABLE, |s| {
        crate::net::stream::ended_if_not_connected(Read::read(&mut &*s, buf))
    })
}

pub(super) fn try_write(io: &AsyncFd<Socket>, buf: &[u8]) -> io::Result<usize> {
    io.try_io(Interest::WRITABLE, |s| Write::write(&mut &*s, buf))
}

pub(super) fn shutdown_write(io: &AsyncFd<Socket>) -> Poll<io::Result<()>> {
    match io.get_ref().shutdown(Shutdown::Write) {
        // Already shut down or the peer is gone: nothing left to do.
        Err(e) if e.kind() == io::ErrorKind::NotConnected => Poll::Ready(Ok(())),
        r => Poll::Ready(r),
    }
}

/// Gives the registered socket behind a stream or half.
pub(super) trait Io {
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

macro_rules! fd_impls {
    ($($t:ty),*) => {$(
        #[cfg(unix)]
        impl AsRawFd for $t {
            fn as_raw_fd(&self) -> RawFd {
                Io::io(self).as_raw_fd()
            }
        }
        #[cfg(unix)]
        impl AsFd for $t {
            fn as_fd(&self) -> BorrowedFd<'_> {
                Io::io(self).get_ref().as_fd()
            }
        }
    )*};
}
