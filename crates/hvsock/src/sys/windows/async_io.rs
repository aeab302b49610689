//! Registering a WinSock socket with tokio.
//!
//! tokio has no `AsyncFd` on Windows; its reactor (mio) polls sockets through AFD, the
//! driver under every WinSock stream provider, Hyper-V sockets included (OpenVMM's
//! `pal_async` polls AF_HYPERV sockets through AFD the same way). So the socket is
//! handed to tokio as a `TcpStream` *only as a readiness source*: hvsock never calls
//! its address methods (they assume IP), it only waits for readiness and then runs its
//! own non-blocking calls on the socket (`try_io`). The `TcpStream` owns the handle.

use socket2::{SockRef, Socket};
use std::io;
use std::os::windows::io::{AsRawSocket, FromRawSocket, IntoRawSocket, RawSocket};
use std::task::{Context, Poll};
use tokio::io::Interest;

/// A socket registered with tokio's reactor (the same crate-internal type as on Unix).
#[derive(Debug)]
pub(crate) struct AsyncSocket(tokio::net::TcpStream);

impl AsyncSocket {
    /// Registers `sock` (switched to non-blocking) for reading and writing.
    pub(crate) fn new(sock: Socket) -> io::Result<AsyncSocket> {
        sock.set_nonblocking(true)?;
        // SAFETY: the raw socket comes straight out of an owned `Socket`, so the new
        // std stream is its only owner.
        let std = unsafe { std::net::TcpStream::from_raw_socket(sock.into_raw_socket()) };
        tokio::net::TcpStream::from_std(std).map(AsyncSocket)
    }

    /// The socket, borrowed.
    pub(crate) fn socket(&self) -> SockRef<'_> {
        SockRef::from(&self.0)
    }

    /// Runs `f` once the socket is ready for `interest`, again after each `WouldBlock`.
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        interest: Interest,
        mut f: impl FnMut(&Socket) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        loop {
            let ready = if interest.is_readable() {
                self.0.poll_read_ready(cx)
            } else {
                self.0.poll_write_ready(cx)
            };
            std::task::ready!(ready)?;
            let sock = self.socket();
            match self.0.try_io(interest, || f(&sock)) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                r => return Poll::Ready(r),
            }
        }
    }

    /// Runs `f` now; `WouldBlock` clears the readiness it reported.
    pub(crate) fn try_io<R>(
        &self,
        interest: Interest,
        f: impl FnOnce(&Socket) -> io::Result<R>,
    ) -> io::Result<R> {
        let sock = self.socket();
        self.0.try_io(interest, || f(&sock))
    }

    /// Runs `f` whenever the socket is ready for `interest`, until it returns anything
    /// but `WouldBlock`.
    pub(crate) async fn async_io<R>(
        &self,
        interest: Interest,
        mut f: impl FnMut(&Socket) -> io::Result<R>,
    ) -> io::Result<R> {
        let sock = self.socket();
        self.0.async_io(interest, || f(&sock)).await
    }

    /// Waits until the socket is ready for `interest` (the readiness stays set).
    pub(crate) async fn ready(&self, interest: Interest) -> io::Result<()> {
        self.0.ready(interest).await.map(drop)
    }

    /// Deregisters the socket and gives it back (still non-blocking).
    pub(crate) fn into_socket(self) -> io::Result<Socket> {
        let std = self.0.into_std()?;
        // SAFETY: `into_std` gave up tokio's registration and ownership; the raw
        // socket moves from the std stream into the new `Socket`, its only owner.
        Ok(unsafe { Socket::from_raw_socket(std.into_raw_socket()) })
    }
}

impl AsRawSocket for AsyncSocket {
    fn as_raw_socket(&self) -> RawSocket {
        self.0.as_raw_socket()
    }
}
