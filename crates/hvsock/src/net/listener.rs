//! [`HvListener`]: a listening Hyper-V socket (std, blocking).

use crate::addr::{HvAddr, ToHvAddr};
use crate::context::Context;
#[cfg(unix)]
use crate::net::accept::Core;
use crate::net::stream::HvStream;
#[cfg(unix)]
use crate::sys::Epoll;
use std::io;
#[cfg(unix)]
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
#[cfg(windows)]
use std::os::windows::io::{AsRawSocket, AsSocket, BorrowedSocket, RawSocket};
#[cfg(unix)]
use std::sync::atomic::{AtomicBool, Ordering};
#[cfg(unix)]
use std::sync::{Arc, Mutex};
#[cfg(unix)]
use std::time::Instant;

/// A listening Hyper-V socket, like [`std::net::TcpListener`].
///
/// One listener may serve several transports at once: a host bound to
/// [`VmId::ZERO`](crate::VmId::ZERO) accepts local partitions, the host's own processes
/// and every hybrid-vsock VM in the partition table, including VMs added after the bind.
///
/// ```no_run
/// use hvsock::{HvListener, ServiceId, VmId};
/// use std::io::{Read, Write};
///
/// let listener = HvListener::bind((VmId::ZERO, ServiceId::from_vsock_port(5000)))?;
/// for stream in listener.incoming() {
///     let mut s = stream?;
///     println!("connection from {}", s.peer_addr()?.vm_id);
///     let mut buf = Vec::new();
///     s.read_to_end(&mut buf)?;
///     s.write_all(&buf)?;
/// }
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct HvListener {
    #[cfg(unix)]
    core: Mutex<Core>,
    #[cfg(unix)]
    nonblocking: AtomicBool,
    #[cfg(unix)]
    epoll: Arc<Epoll>,
    /// Windows: the one AF_HYPERV socket; Windows routes.
    #[cfg(windows)]
    listening: crate::net::accept::Listening,
    addr: HvAddr,
}

#[cfg(unix)]
impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core")
            .field("addr", &self.local_addr())
            .finish()
    }
}

impl HvListener {
    /// Binds to `addr` in this process's partition ([`Context::from_env`]).
    ///
    /// Errors: `AddrInUse` when the same (VM, service) is bound already in this
    /// partition, `PermissionDenied` on the host for a service that is not registered
    /// and enabled (LOOPBACK needs none), `NotFound` for an unknown VM id,
    /// `InvalidInput` for BROADCAST, SILOHOST, or PARENT on the host.
    ///
    /// ```no_run
    /// use hvsock::{HvListener, ServiceId, VmId};
    /// let l = HvListener::bind((VmId::ZERO, ServiceId::from_vsock_port(5000)))?;
    /// println!("listening on {}", l.local_addr()?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn bind(addr: impl ToHvAddr) -> io::Result<HvListener> {
        Context::from_env()?.bind(addr)
    }

    #[cfg(unix)]
    pub(crate) fn bind_in(ctx: &Context, addr: HvAddr) -> io::Result<HvListener> {
        Ok(HvListener::from_core(Core::bind(ctx, addr)?))
    }

    #[cfg(windows)]
    pub(crate) fn bind_in(ctx: &Context, addr: HvAddr) -> io::Result<HvListener> {
        Ok(HvListener::from_listening(
            crate::net::accept::Listening::bind(ctx, addr)?,
        ))
    }

    /// Windows: a std listener over its bound socket.
    #[cfg(windows)]
    pub(crate) fn from_listening(listening: crate::net::accept::Listening) -> HvListener {
        HvListener {
            addr: listening.local_addr(),
            listening,
        }
    }

    /// Windows: the bound socket (what the tokio listener takes).
    #[cfg(windows)]
    pub(crate) fn into_listening(self) -> crate::net::accept::Listening {
        self.listening
    }

    /// A std listener over an accept loop (what the tokio listener gives back).
    #[cfg(unix)]
    pub(crate) fn from_core(core: Core) -> HvListener {
        let addr = core.local_addr();
        HvListener {
            epoll: core.epoll(),
            addr,
            core: Mutex::new(core),
            nonblocking: AtomicBool::new(false),
        }
    }

    /// Waits for a connection and returns it with the peer's address as this side
    /// names it (a child by its id, the parent as PARENT, this partition as LOOPBACK).
    ///
    /// ```no_run
    /// use hvsock::{HvListener, ServiceId, VmId};
    /// let l = HvListener::bind((VmId::ZERO, ServiceId::from_vsock_port(5000)))?;
    /// let (stream, peer) = l.accept()?;
    /// println!("connection from {}", peer.vm_id);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn accept(&self) -> io::Result<(HvStream, HvAddr)> {
        #[cfg(windows)]
        {
            let (sock, peer, meter) = self.listening.accept()?;
            Ok((
                HvStream::from_parts(
                    sock,
                    self.addr,
                    peer,
                    None,
                    crate::config::partitions::HalfClose::Carried,
                    meter,
                ),
                peer,
            ))
        }
        #[cfg(unix)]
        self.accept_unix()
    }

    #[cfg(unix)]
    fn accept_unix(&self) -> io::Result<(HvStream, HvAddr)> {
        let mut core = self.core.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some((sock, peer, ticket, half_close, meter)) = core.pop() {
                if crate::sys::set_blocking(&sock).is_err() {
                    continue;
                }
                let ticket = ticket.map(Arc::new);
                let s = HvStream::from_parts(sock, self.addr, peer, ticket, half_close, meter);
                return Ok((s, peer));
            }
            let timeout = if self.nonblocking.load(Ordering::Relaxed) {
                Some(std::time::Duration::ZERO)
            } else {
                core.next_wakeup()
                    .map(|t| t.saturating_duration_since(Instant::now()))
            };
            let n = core.poll(timeout)?;
            if n == 0 && self.nonblocking.load(Ordering::Relaxed) && !core.has_ready() {
                return Err(io::ErrorKind::WouldBlock.into());
            }
        }
    }

    /// An endless iterator of accepted streams, like `TcpListener::incoming`.
    ///
    /// ```no_run
    /// use hvsock::{HvListener, ServiceId, VmId};
    /// let l = HvListener::bind((VmId::ZERO, ServiceId::from_vsock_port(5000)))?;
    /// for s in l.incoming().take(3) {
    ///     println!("from {}", s?.peer_addr()?);
    /// }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming { listener: self }
    }

    /// The address this listener was bound to.
    ///
    /// ```no_run
    /// use hvsock::{HvListener, ServiceId, VmId};
    /// let l = HvListener::bind((VmId::ZERO, ServiceId::from_vsock_port(5000)))?;
    /// assert_eq!(l.local_addr()?.vm_id, VmId::ZERO);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn local_addr(&self) -> io::Result<HvAddr> {
        Ok(self.addr)
    }

    /// In non-blocking mode, `accept` returns `WouldBlock` instead of waiting.
    ///
    /// ```no_run
    /// use hvsock::{HvListener, ServiceId, VmId};
    /// let l = HvListener::bind((VmId::ZERO, ServiceId::from_vsock_port(5000)))?;
    /// l.set_nonblocking(true)?;
    /// match l.accept() {
    ///     Ok((s, peer)) => println!("{peer}"),
    ///     Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => println!("none waiting"),
    ///     Err(e) => return Err(e),
    /// }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_nonblocking(&self, nonblocking: bool) -> io::Result<()> {
        #[cfg(windows)]
        {
            self.listening.socket().set_nonblocking(nonblocking)
        }
        #[cfg(unix)]
        {
            self.nonblocking.store(nonblocking, Ordering::Relaxed);
            Ok(())
        }
    }

    #[cfg(unix)]
    pub(crate) fn into_core(self) -> Core {
        self.core.into_inner().unwrap_or_else(|e| e.into_inner())
    }
}

/// Iterator over [`HvListener::accept`]'s streams.
#[derive(Debug)]
pub struct Incoming<'a> {
    listener: &'a HvListener,
}

impl Iterator for Incoming<'_> {
    type Item = io::Result<HvStream>;
    fn next(&mut self) -> Option<Self::Item> {
        Some(self.listener.accept().map(|(s, _)| s))
    }
}

#[cfg(unix)]
/// The fd is an epoll set that is readable when a connection may be ready: poll it,
/// then call `accept` in non-blocking mode.
impl AsRawFd for HvListener {
    fn as_raw_fd(&self) -> RawFd {
        self.epoll.as_raw_fd()
    }
}

#[cfg(unix)]
impl AsFd for HvListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.epoll.as_fd()
    }
}

#[cfg(windows)]
/// The listening AF_HYPERV socket.
impl AsSocket for HvListener {
    fn as_socket(&self) -> BorrowedSocket<'_> {
        self.listening.socket().as_socket()
    }
}

#[cfg(windows)]
impl AsRawSocket for HvListener {
    fn as_raw_socket(&self) -> RawSocket {
        self.listening.socket().as_raw_socket()
    }
}
