//! [`HvStream`]: a connected Hyper-V socket (std, blocking).

use crate::addr::{HvAddr, ToHvAddr};
use crate::config::partitions::HalfClose;
use crate::context::Context;
use crate::net::accept::Ticket;
use crate::stats::Meter;
use socket2::Socket;
use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::net::Shutdown;
#[cfg(unix)]
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, IntoRawFd, OwnedFd, RawFd};
#[cfg(windows)]
use std::os::windows::io::{
    AsRawSocket, AsSocket, BorrowedSocket, IntoRawSocket, OwnedSocket, RawSocket,
};
use std::sync::Arc;
use std::time::Duration;

/// Keeps an accepted connection counted against its partition's limit
/// (`max_connections_per_partition`) on the listener that accepted it, after the
/// stream itself is gone: see `HvStream::into_fd_and_guard` (Unix) and
/// `HvStream::into_socket_and_guard` (Windows).
///
/// Hold it as long as the socket it came with is open (e.g. until the child process
/// that got the fd has exited), then drop it. Clones share one count: the place is
/// given back when the last clone and the last stream handle holding it are dropped.
/// Streams that crossed no partition, or that this side connected, carry no count;
/// their guard is [`is_counted`](Self::is_counted) `false`. Every guard also keeps
/// the connection counted as open in [`crate::stats`].
#[derive(Debug, Clone)]
#[must_use = "dropping the guard ends the connection's count at once"]
pub struct ConnectionGuard(Option<Arc<Ticket>>, #[allow(dead_code)] Meter);

impl ConnectionGuard {
    pub(crate) fn new(ticket: Option<Arc<Ticket>>, meter: Meter) -> ConnectionGuard {
        ConnectionGuard(ticket, meter)
    }

    /// Whether this guard holds a place in a listener's per-partition count.
    ///
    /// ```no_run
    /// use hvsock::{HvStream, ServiceId, VmId};
    /// let s = HvStream::connect((VmId::PARENT, ServiceId::from_vsock_port(5000)))?;
    /// let counted = s.connection_guard().is_counted();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn is_counted(&self) -> bool {
        self.0.is_some()
    }
}

/// What a stream is made of, to move it between its std and tokio forms.
pub(crate) type StreamParts = (
    Socket,
    HvAddr,
    HvAddr,
    Option<Arc<Ticket>>,
    HalfClose,
    Meter,
);

/// A connected Hyper-V socket stream, like [`std::net::TcpStream`].
///
/// Reads and writes go straight to the kernel socket of the transport (a Unix socket
/// for local partitions and hybrid-vsock VMs, AF_VSOCK for kernel vsock): after the
/// connect handshake hvsock adds only a relaxed atomic add per call to the
/// connection's counters ([`crate::stats`]).
///
/// A descriptor taken out of the stream (`into_raw_fd`, `OwnedFd::from`,
/// [`into_fd_and_guard`](Self::into_fd_and_guard)) is no longer counted: reads and
/// writes on it bypass hvsock. The guard of `into_fd_and_guard` keeps the connection
/// counted as open.
///
/// ```no_run
/// use hvsock::{HvStream, ServiceId, VmId};
/// use std::io::{Read, Write};
///
/// // From a guest (HVSOCK_GUEST=1) or a local partition (HVSOCK_PARTITION=NAME):
/// let mut s = HvStream::connect((VmId::PARENT, ServiceId::from_vsock_port(5000)))?;
/// s.write_all(b"hello")?;
/// s.shutdown(std::net::Shutdown::Write)?;
/// let mut reply = String::new();
/// s.read_to_string(&mut reply)?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct HvStream {
    sock: Socket,
    local: HvAddr,
    peer: HvAddr,
    /// Counts this connection against its partition's limit on the accepting side.
    ticket: Option<Arc<Ticket>>,
    /// Whether the transport this connection took carries a half-close.
    half_close: HalfClose,
    /// This connection's counters (`crate::stats`), shared by its clones.
    meter: Meter,
}

impl HvStream {
    pub(crate) fn from_parts(
        sock: Socket,
        local: HvAddr,
        peer: HvAddr,
        ticket: Option<Arc<Ticket>>,
        half_close: HalfClose,
        meter: Meter,
    ) -> HvStream {
        HvStream {
            sock,
            local,
            peer,
            ticket,
            half_close,
            meter,
        }
    }

    pub(crate) fn into_parts(self) -> StreamParts {
        (
            self.sock,
            self.local,
            self.peer,
            self.ticket,
            self.half_close,
            self.meter,
        )
    }

    /// Whether a [`shutdown(Shutdown::Write)`](Self::shutdown) on this stream reaches the
    /// peer as an EOF it can still answer after (`Carried`), or whether the transport
    /// turns it into a full close or drops it (`Lost`: a hybrid-vsock VM whose VMM is
    /// recorded so in the partition table, see `hvsock vm add --half-close`).
    ///
    /// Decided by the route this side took (the partition table's entry for a hybrid
    /// VM; kernel vsock, local partitions and Windows' Hyper-V sockets carry it), never
    /// by anything the peer sent. Inside a guest the host's VMM is unknown: `Carried`.
    ///
    /// ```no_run
    /// use hvsock::partitions::HalfClose;
    /// use hvsock::HvStream;
    /// use std::io::{Read, Write};
    /// let mut s = HvStream::connect("myvm:vsock:5000")?;
    /// s.write_all(b"request\n")?;
    /// if s.half_close() == HalfClose::Carried {
    ///     s.shutdown(std::net::Shutdown::Write)?; // else the VMM would close it all
    /// }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn half_close(&self) -> HalfClose {
        self.half_close
    }

    /// Connects to `addr` from this process's partition ([`Context::from_env`]), with
    /// the default 2 s timeout.
    ///
    /// Errors: `ConnectionRefused` when nothing listens (at once for local
    /// partitions), `PermissionDenied` for an unregistered or disabled service,
    /// `NotFound` for an unknown VM, `TimedOut`, `InvalidInput` for a wildcard target.
    ///
    /// ```no_run
    /// use hvsock::{HvStream, ServiceId, VmId};
    /// let s = HvStream::connect((VmId::PARENT, ServiceId::from_vsock_port(5000)))?;
    /// println!("connected to {}", s.peer_addr()?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn connect(addr: impl ToHvAddr) -> io::Result<HvStream> {
        Context::from_env()?.connect(addr)
    }

    /// Like [`connect`](Self::connect), giving up after `timeout` (at most 300 s).
    ///
    /// ```no_run
    /// use hvsock::{HvStream, ServiceId, VmId};
    /// use std::time::Duration;
    /// let s = HvStream::connect_timeout("parent:vsock:5000", Duration::from_secs(10))?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn connect_timeout(addr: impl ToHvAddr, timeout: Duration) -> io::Result<HvStream> {
        Context::from_env()?.connect_timeout(addr, timeout)
    }

    /// The peer as this side names it: a child by its id, the parent as PARENT, this
    /// partition as LOOPBACK.
    ///
    /// ```no_run
    /// use hvsock::{HvStream, ServiceId, VmId};
    /// let s = HvStream::connect((VmId::PARENT, ServiceId::from_vsock_port(5000)))?;
    /// assert_eq!(s.peer_addr()?.vm_id, VmId::PARENT);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn peer_addr(&self) -> io::Result<HvAddr> {
        Ok(self.peer)
    }

    /// This side's address: its partition id (zero for a root partition) and the service.
    ///
    /// ```no_run
    /// use hvsock::{HvStream, ServiceId, VmId};
    /// let s = HvStream::connect((VmId::PARENT, ServiceId::from_vsock_port(5000)))?;
    /// println!("this side is {}", s.local_addr()?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn local_addr(&self) -> io::Result<HvAddr> {
        Ok(self.local)
    }

    /// Shuts down reading, writing or both; `Shutdown::Write` lets the peer read EOF
    /// while it can still answer.
    ///
    /// ```no_run
    /// use hvsock::{HvStream, ServiceId, VmId};
    /// use std::io::{Read, Write};
    /// use std::net::Shutdown;
    /// let mut s = HvStream::connect((VmId::PARENT, ServiceId::from_vsock_port(5000)))?;
    /// s.write_all(b"request")?;
    /// s.shutdown(Shutdown::Write)?; // the peer reads EOF
    /// let mut answer = Vec::new();
    /// s.read_to_end(&mut answer)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.sock.shutdown(how)
    }

    /// Sets the read timeout (`None`: block forever).
    ///
    /// ```no_run
    /// use hvsock::{HvStream, ServiceId, VmId};
    /// use std::time::Duration;
    /// let s = HvStream::connect((VmId::PARENT, ServiceId::from_vsock_port(5000)))?;
    /// s.set_read_timeout(Some(Duration::from_secs(30)))?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_read_timeout(&self, d: Option<Duration>) -> io::Result<()> {
        self.sock.set_read_timeout(d)
    }

    /// Sets the write timeout (`None`: block forever).
    ///
    /// ```no_run
    /// use hvsock::{HvStream, ServiceId, VmId};
    /// use std::time::Duration;
    /// let s = HvStream::connect((VmId::PARENT, ServiceId::from_vsock_port(5000)))?;
    /// s.set_write_timeout(Some(Duration::from_secs(30)))?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_write_timeout(&self, d: Option<Duration>) -> io::Result<()> {
        self.sock.set_write_timeout(d)
    }

    /// The read timeout.
    ///
    /// ```no_run
    /// use hvsock::{HvStream, ServiceId, VmId};
    /// let s = HvStream::connect((VmId::PARENT, ServiceId::from_vsock_port(5000)))?;
    /// assert_eq!(s.read_timeout()?, None);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn read_timeout(&self) -> io::Result<Option<Duration>> {
        self.sock.read_timeout()
    }

    /// The write timeout.
    ///
    /// ```no_run
    /// use hvsock::{HvStream, ServiceId, VmId};
    /// let s = HvStream::connect((VmId::PARENT, ServiceId::from_vsock_port(5000)))?;
    /// assert_eq!(s.write_timeout()?, None);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn write_timeout(&self) -> io::Result<Option<Duration>> {
        self.sock.write_timeout()
    }

    /// Moves the socket in or out of non-blocking mode.
    ///
    /// ```no_run
    /// use hvsock::{HvStream, ServiceId, VmId};
    /// let s = HvStream::connect((VmId::PARENT, ServiceId::from_vsock_port(5000)))?;
    /// s.set_nonblocking(true)?; // reads and writes return WouldBlock instead of waiting
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_nonblocking(&self, nonblocking: bool) -> io::Result<()> {
        self.sock.set_nonblocking(nonblocking)
    }

    /// Gives up the stream for its file descriptor (e.g. to hand it to a child
    /// process), together with the guard that keeps the connection counted against
    /// its partition's limit on the accepting listener. Keep the guard until the
    /// descriptor and every copy of it are closed.
    ///
    /// Unlike [`IntoRawFd`] and `OwnedFd::from`, which end the count while the socket
    /// stays open, this keeps `max_connections_per_partition` true for connections
    /// served by other processes.
    ///
    /// ```no_run
    /// use hvsock::{HvStream, ServiceId, VmId};
    /// let s = HvStream::connect((VmId::PARENT, ServiceId::from_vsock_port(5000)))?;
    /// let (fd, guard) = s.into_fd_and_guard();
    /// // hand `fd` to a child process; keep `guard` until it is done with it
    /// drop(guard);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[cfg(unix)]
    pub fn into_fd_and_guard(self) -> (OwnedFd, ConnectionGuard) {
        (self.sock.into(), ConnectionGuard(self.ticket, self.meter))
    }

    /// Windows: gives up the stream for its socket handle, with its (always uncounted:
    /// Windows keeps no hvsock limits) [`ConnectionGuard`].
    #[cfg(windows)]
    pub fn into_socket_and_guard(self) -> (OwnedSocket, ConnectionGuard) {
        (self.sock.into(), ConnectionGuard(self.ticket, self.meter))
    }

    /// Connects with explicit [`ConnectOptions`](crate::net::ConnectOptions): the
    /// timeout and, on Windows, the Hyper-V socket options.
    ///
    /// ```no_run
    /// use hvsock::net::ConnectOptions;
    /// use hvsock::{HvStream, ServiceId, VmId};
    /// let opts = ConnectOptions::new().connected_suspend(true); // Windows only
    /// let s = HvStream::connect_with((VmId::PARENT, ServiceId::from_vsock_port(5000)), &opts)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn connect_with(
        addr: impl ToHvAddr,
        opts: &crate::net::ConnectOptions,
    ) -> io::Result<HvStream> {
        Context::from_env()?.connect_with(addr, opts)
    }

    /// `HVSOCKET_CONNECTED_SUSPEND` on a connected stream (Windows): whether it stays
    /// connected while the VM is paused. `Unsupported` elsewhere.
    ///
    /// ```no_run
    /// use hvsock::{HvStream, ServiceId, VmId};
    /// let s = HvStream::connect((VmId::PARENT, ServiceId::from_vsock_port(5000)))?;
    /// s.set_connected_suspend(true)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_connected_suspend(&self, on: bool) -> io::Result<()> {
        #[cfg(windows)]
        {
            crate::sys::set_hv_option(
                &self.sock,
                crate::addr::HVSOCKET_CONNECTED_SUSPEND,
                u32::from(on),
            )
        }
        #[cfg(unix)]
        {
            let _ = on;
            Err(crate::net::options::unsupported(
                "HVSOCKET_CONNECTED_SUSPEND",
            ))
        }
    }

    /// Whether `HVSOCKET_CONNECTED_SUSPEND` is on (Windows); `Unsupported` elsewhere.
    ///
    /// ```no_run
    /// use hvsock::{HvStream, ServiceId, VmId};
    /// let s = HvStream::connect((VmId::PARENT, ServiceId::from_vsock_port(5000)))?;
    /// println!("survives a paused VM: {}", s.connected_suspend()?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn connected_suspend(&self) -> io::Result<bool> {
        #[cfg(windows)]
        {
            crate::sys::hv_option(&self.sock, crate::addr::HVSOCKET_CONNECTED_SUSPEND)
                .map(|v| v != 0)
        }
        #[cfg(unix)]
        {
            Err(crate::net::options::unsupported(
                "HVSOCKET_CONNECTED_SUSPEND",
            ))
        }
    }

    /// A guard sharing this connection's count (see [`ConnectionGuard`]): the place
    /// stays taken until this stream, its clones and every such guard are dropped.
    ///
    /// ```no_run
    /// use hvsock::{HvStream, ServiceId, VmId};
    /// let s = HvStream::connect((VmId::PARENT, ServiceId::from_vsock_port(5000)))?;
    /// let guard = s.connection_guard();
    /// println!("counted against a listener limit: {}", guard.is_counted());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn connection_guard(&self) -> ConnectionGuard {
        ConnectionGuard(self.ticket.clone(), self.meter.clone())
    }

    /// Another handle to the same socket (for reading in one thread and writing in
    /// another). It shares the connection's count: the place in the listener's
    /// per-partition limit is given back when the last handle is dropped.
    ///
    /// ```no_run
    /// use hvsock::{HvStream, ServiceId, VmId};
    /// let s = HvStream::connect((VmId::PARENT, ServiceId::from_vsock_port(5000)))?;
    /// let reader = s.try_clone()?;
    /// std::thread::spawn(move || std::io::copy(&mut &reader, &mut std::io::stdout()));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn try_clone(&self) -> io::Result<HvStream> {
        Ok(HvStream {
            sock: self.sock.try_clone()?,
            local: self.local,
            peer: self.peer,
            ticket: self.ticket.clone(),
            half_close: self.half_close,
            meter: self.meter.clone(),
        })
    }

    /// Takes any pending socket error.
    ///
    /// ```no_run
    /// use hvsock::{HvStream, ServiceId, VmId};
    /// let s = HvStream::connect((VmId::PARENT, ServiceId::from_vsock_port(5000)))?;
    /// if let Some(e) = s.take_error()? {
    ///     eprintln!("pending socket error: {e}");
    /// }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.sock.take_error()
    }
}

/// A read on a stream that was connected and now fails with `ENOTCONN` is the end of the
/// stream. Linux AF_VSOCK answers a read that way once the peer has closed and this side
/// has shut down writing afterwards (`vsock_shutdown` clears `SOCK_DONE`), where other
/// sockets return 0.
pub(crate) fn ended_if_not_connected(r: io::Result<usize>) -> io::Result<usize> {
    match r {
        Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(0),
        r => r,
    }
}

impl Read for &HvStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.meter
            .read(ended_if_not_connected((&self.sock).read(buf)))
    }
    fn read_vectored(&mut self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        self.meter
            .read(ended_if_not_connected((&self.sock).read_vectored(bufs)))
    }
}

impl Read for HvStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&*self).read(buf)
    }
    fn read_vectored(&mut self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        (&*self).read_vectored(bufs)
    }
}

impl Write for &HvStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.meter.wrote((&self.sock).write(buf))
    }
    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.meter.wrote((&self.sock).write_vectored(bufs))
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Write for HvStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (&*self).write(buf)
    }
    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        (&*self).write_vectored(bufs)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(unix)]
impl AsFd for HvStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

#[cfg(unix)]
impl AsRawFd for HvStream {
    fn as_raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }
}

#[cfg(unix)]
/// Gives up the stream for its raw descriptor. **The connection's count in the
/// accepting listener's per-partition limit ends here**, although the socket stays
/// open: a raw descriptor carries nothing that could give the place back when it is
/// closed. Use [`HvStream::into_fd_and_guard`] to keep the count. Nothing read or
/// written on the descriptor is counted in [`crate::stats`], and the connection no
/// longer counts as open there.
impl IntoRawFd for HvStream {
    fn into_raw_fd(self) -> RawFd {
        self.sock.into_raw_fd()
    }
}

#[cfg(unix)]
/// Gives up the stream for its descriptor. As with [`IntoRawFd`], **the connection's
/// count in the accepting listener's per-partition limit ends here** while the socket
/// stays open; [`HvStream::into_fd_and_guard`] keeps it.
impl From<HvStream> for OwnedFd {
    fn from(s: HvStream) -> OwnedFd {
        s.sock.into()
    }
}

#[cfg(windows)]
impl AsSocket for HvStream {
    fn as_socket(&self) -> BorrowedSocket<'_> {
        self.sock.as_socket()
    }
}

#[cfg(windows)]
impl AsRawSocket for HvStream {
    fn as_raw_socket(&self) -> RawSocket {
        self.sock.as_raw_socket()
    }
}

#[cfg(windows)]
/// Gives up the stream for its raw socket handle.
impl IntoRawSocket for HvStream {
    fn into_raw_socket(self) -> RawSocket {
        self.sock.into_raw_socket()
    }
}

#[cfg(windows)]
/// Gives up the stream for its socket handle.
impl From<HvStream> for OwnedSocket {
    fn from(s: HvStream) -> OwnedSocket {
        s.sock.into()
    }
}
