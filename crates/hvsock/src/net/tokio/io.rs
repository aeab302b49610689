//! What the tokio stream and its halves share: the poll functions over the registered
//! socket, and the macros that implement `AsyncRead`/`AsyncWrite` and the fd traits.

use crate::stats::Meter;
use crate::sys::AsyncSocket;
use std::io::{self, IoSlice, Read, Write};
use std::net::Shutdown;
use std::task::{Context as TaskContext, Poll};
use tokio::io::{Interest, ReadBuf};

pub(super) fn poll_read(
    io: &AsyncSocket,
    meter: &Meter,
    cx: &mut TaskContext<'_>,
    buf: &mut ReadBuf<'_>,
) -> Poll<io::Result<()>> {
    let unfilled = buf.initialize_unfilled();
    let r = io.poll_io(cx, Interest::READABLE, |s| {
        meter.read(crate::net::stream::ended_if_not_connected(
            (&*s).read(unfilled),
        ))
    });
    match r {
        Poll::Ready(Ok(n)) => {
            buf.advance(n);
            Poll::Ready(Ok(()))
        }
        Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
        Poll::Pending => Poll::Pending,
    }
}

pub(super) fn poll_write(
    io: &AsyncSocket,
    meter: &Meter,
    cx: &mut TaskContext<'_>,
    buf: &[u8],
) -> Poll<io::Result<usize>> {
    io.poll_io(cx, Interest::WRITABLE, |mut s| meter.wrote(s.write(buf)))
}

pub(super) fn poll_write_vectored(
    io: &AsyncSocket,
    meter: &Meter,
    cx: &mut TaskContext<'_>,
    bufs: &[IoSlice<'_>],
) -> Poll<io::Result<usize>> {
    io.poll_io(cx, Interest::WRITABLE, |mut s| {
        meter.wrote(s.write_vectored(bufs))
    })
}

pub(super) fn try_read(io: &AsyncSocket, meter: &Meter, buf: &mut [u8]) -> io::Result<usize> {
    io.try_io(Interest::READABLE, |s| {
        meter.read(crate::net::stream::ended_if_not_connected(Read::read(
            &mut &*s, buf,
        )))
    })
}

pub(super) fn try_write(io: &AsyncSocket, meter: &Meter, buf: &[u8]) -> io::Result<usize> {
    io.try_io(Interest::WRITABLE, |s| {
        meter.wrote(Write::write(&mut &*s, buf))
    })
}

pub(super) fn shutdown_write(io: &AsyncSocket) -> Poll<io::Result<()>> {
    match io.socket().shutdown(Shutdown::Write) {
        // Already shut down or the peer is gone: nothing left to do.
        Err(e) if e.kind() == io::ErrorKind::NotConnected => Poll::Ready(Ok(())),
        r => Poll::Ready(r),
    }
}

/// Gives the registered socket behind a stream or half, and its counters.
pub(super) trait Io {
    fn io(&self) -> &AsyncSocket;
    fn meter(&self) -> &Meter;
}

macro_rules! async_io_impls {
    ($t:ty) => {
        impl AsyncRead for $t {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut TaskContext<'_>,
                buf: &mut ReadBuf<'_>,
            ) -> Poll<io::Result<()>> {
                poll_read(Io::io(&*self), Io::meter(&*self), cx, buf)
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
                poll_write(Io::io(&*self), Io::meter(&*self), cx, buf)
            }
            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut TaskContext<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                poll_write_vectored(Io::io(&*self), Io::meter(&*self), cx, bufs)
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
        #[cfg(windows)]
        impl AsRawSocket for $t {
            fn as_raw_socket(&self) -> RawSocket {
                Io::io(self).as_raw_socket()
            }
        }
        #[cfg(unix)]
        impl AsRawFd for $t {
            fn as_raw_fd(&self) -> RawFd {
                Io::io(self).as_raw_fd()
            }
        }
        #[cfg(unix)]
        impl AsFd for $t {
            fn as_fd(&self) -> BorrowedFd<'_> {
                Io::io(self).as_fd()
            }
        }
    )*};
}
