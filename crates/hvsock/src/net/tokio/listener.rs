//! The tokio [`HvListener`].

use crate::addr::{HvAddr, ToHvAddr};
use crate::context::Context;
#[cfg(unix)]
use crate::net::accept::Core;
#[cfg(unix)]
use crate::sys::Epoll;
#[cfg(unix)]
use std::future::Future;
use std::io;
#[cfg(unix)]
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
#[cfg(windows)]
use std::os::windows::io::{AsRawSocket, RawSocket};
#[cfg(unix)]
use std::pin::Pin;
#[cfg(unix)]
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll};
#[cfg(unix)]
use std::time::{Duration, Instant};
use tokio::io::Interest;
#[cfg(unix)]
use tokio::io::unix::AsyncFd;

use super::stream::*;

/// A listening Hyper-V socket for tokio.
#[derive(Debug)]
pub struct HvListener {
    #[cfg(unix)]
    core: Mutex<Core>,
    #[cfg(unix)]
    io: AsyncFd<Arc<Epoll>>,
    /// The next handshake deadline or table refresh, for [`HvListener::poll_accept`].
    #[cfg(unix)]
    timer: Mutex<Option<Pin<Box<tokio::time::Sleep>>>>,
    /// Windows: the listening socket, registered with tokio like a stream (it is
    /// readable when a connection waits).
    #[cfg(windows)]
    io: crate::sys::AsyncSocket,
    #[cfg(windows)]
    family: crate::transport::hyperv::Family,
    /// Windows: where accepts are counted.
    #[cfg(windows)]
    stats: &'static crate::stats::Region,
    addr: HvAddr,
}

impl HvListener {
    /// Binds in this process's partition ([`Context::from_env`]). Like
    /// `tokio::net::UnixListener::bind` it does not wait (binding never blocks) but
    /// needs a runtime. Errors as [`crate::HvListener::bind`].
    ///
    /// ```no_run
    /// use hvsock::net::tokio::HvListener;
    /// use hvsock::{ServiceId, VmId};
    /// # async fn f() -> std::io::Result<()> {
    /// let l = HvListener::bind((VmId::LOOPBACK, ServiceId::from_vsock_port(5000)))?;
    /// let (s, peer) = l.accept().await?;
    /// # Ok(()) }
    /// ```
    pub fn bind(addr: impl ToHvAddr) -> io::Result<HvListener> {
        Self::bind_with(&Context::from_env()?, addr)
    }

    /// Binds in an explicit [`Context`].
    ///
    /// ```no_run
    /// use hvsock::net::tokio::HvListener;
    /// use hvsock::{Context, ServiceId, VmId};
    /// # async fn f() -> std::io::Result<()> {
    /// let ctx = Context::from_env()?;
    /// let l = HvListener::bind_with(&ctx, (VmId::ZERO, ServiceId::from_vsock_port(5000)))?;
    /// # Ok(()) }
    /// ```
    pub fn bind_with(ctx: &Context, addr: impl ToHvAddr) -> io::Result<HvListener> {
        Self::from_std(ctx.bind(addr)?)
    }

    /// Wraps a std listener (needs a runtime).
    ///
    /// ```no_run
    /// use hvsock::{ServiceId, VmId};
    /// # async fn f() -> std::io::Result<()> {
    /// let std = hvsock::HvListener::bind((VmId::LOOPBACK, ServiceId::from_vsock_port(5000)))?;
    /// let l = hvsock::net::tokio::HvListener::from_std(std)?;
    /// # Ok(()) }
    /// ```
    #[cfg(windows)]
    pub fn from_std(l: crate::HvListener) -> io::Result<HvListener> {
        let (sock, addr, family, stats) = l.into_listening().into_parts();
        Ok(HvListener {
            io: crate::sys::AsyncSocket::new(sock)?,
            family,
            stats,
            addr,
        })
    }

    /// Turns back into a blocking std listener.
    #[cfg(windows)]
    pub fn into_std(self) -> io::Result<crate::HvListener> {
        let sock = self.io.into_socket()?;
        sock.set_nonblocking(false)?;
        let listening =
            crate::net::accept::Listening::from_parts((sock, self.addr, self.family, self.stats));
        Ok(crate::HvListener::from_listening(listening))
    }

    /// Polls for a connection, as `tokio::net::TcpListener::poll_accept`.
    #[cfg(windows)]
    pub fn poll_accept(&self, cx: &mut TaskContext<'_>) -> Poll<io::Result<(HvStream, HvAddr)>> {
        let (sock, from) =
            std::task::ready!(self.io.poll_io(cx, Interest::READABLE, |s| s.accept()))?;
        let peer = self.family.peer(&from, self.addr.service_id);
        Poll::Ready(
            HvStream::from_socket(
                sock,
                self.addr,
                peer,
                None,
                crate::config::partitions::HalfClose::Carried,
                crate::transport::hyperv::accept::accepted(self.stats, self.addr, peer),
            )
            .map(|s| (s, peer)),
        )
    }

    /// Wraps a std listener (needs a runtime).
    #[cfg(unix)]
    pub fn from_std(l: crate::HvListener) -> io::Result<HvListener> {
        let addr = l.local_addr()?;
        let core = l.into_core();
        Ok(HvListener {
            io: crate::sys::async_fd(core.epoll(), Interest::READABLE)?,
            core: Mutex::new(core),
            addr,
            timer: Mutex::new(None),
        })
    }

    /// Turns back into a blocking std listener; connections in progress stay with it.
    ///
    /// ```no_run
    /// # async fn f(l: hvsock::net::tokio::HvListener) -> std::io::Result<()> {
    /// let std = l.into_std()?;
    /// std::thread::spawn(move || std.accept());
    /// # Ok(()) }
    /// ```
    #[cfg(unix)]
    pub fn into_std(self) -> io::Result<crate::HvListener> {
        let core = self.core.into_inner().unwrap_or_else(|e| e.into_inner());
        // Deregisters the epoll set from tokio; the accept loop keeps its own handle.
        drop(self.io);
        Ok(crate::HvListener::from_core(core))
    }

    /// Waits for a connection; the peer as this side names it.
    ///
    /// ```no_run
    /// # async fn f(l: hvsock::net::tokio::HvListener) -> std::io::Result<()> {
    /// loop {
    ///     let (s, peer) = l.accept().await?;
    ///     tokio::spawn(async move { println!("{peer}"); drop(s) });
    /// }
    /// # }
    /// ```
    pub async fn accept(&self) -> io::Result<(HvStream, HvAddr)> {
        std::future::poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Polls for a connection, as `tokio::net::UnixListener::poll_accept`: `Pending`
    /// registers the task to wake when one may be ready (or a handshake or refresh
    /// timer is due).
    ///
    /// ```no_run
    /// # async fn f(l: hvsock::net::tokio::HvListener) -> std::io::Result<()> {
    /// let (s, peer) = std::future::poll_fn(|cx| l.poll_accept(cx)).await?;
    /// # Ok(()) }
    /// ```
    #[cfg(unix)]
    pub fn poll_accept(&self, cx: &mut TaskContext<'_>) -> Poll<io::Result<(HvStream, HvAddr)>> {
        loop {
            let wake = {
                let mut core = self.core.lock().unwrap_or_else(|e| e.into_inner());
                let mut events = 1;
                while core.pop_peek().is_none() && events > 0 {
                    events = match core.poll(Some(Duration::ZERO)) {
                        Ok(n) => n,
                        Err(e) => return Poll::Ready(Err(e)),
                    };
                }
                if let Some((sock, peer, ticket, half_close, meter)) = core.pop() {
                    let ticket = ticket.map(Arc::new);
                    let s = HvStream::from_socket(sock, self.addr, peer, ticket, half_close, meter);
                    return Poll::Ready(s.map(|s| (s, peer)));
                }
                core.next_wakeup()
            };
            match self.io.poll_read_ready(cx) {
                Poll::Ready(Ok(mut guard)) => {
                    guard.clear_ready();
                    continue;
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => {}
            }
            let Some(t) = wake else {
                return Poll::Pending;
            };
            let deadline = tokio::time::Instant::from_std(t.max(Instant::now()));
            let mut timer = self.timer.lock().unwrap_or_else(|e| e.into_inner());
            let sleep = timer.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
            if sleep.deadline() != deadline {
                sleep.as_mut().reset(deadline);
            }
            match sleep.as_mut().poll(cx) {
                // A timer is due: run the loop again (expire handshakes, refresh).
                Poll::Ready(()) => continue,
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// The address this listener was bound to.
    ///
    /// ```no_run
    /// # fn f(l: hvsock::net::tokio::HvListener) -> std::io::Result<()> {
    /// println!("listening on {}", l.local_addr()?);
    /// # Ok(()) }
    /// ```
    pub fn local_addr(&self) -> io::Result<HvAddr> {
        Ok(self.addr)
    }
}

/// The fd is the accept loop's epoll set, readable when a connection may be ready (as
/// the std listener's).
#[cfg(unix)]
impl AsFd for HvListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

#[cfg(unix)]
impl AsRawFd for HvListener {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

#[cfg(windows)]
impl AsRawSocket for HvListener {
    fn as_raw_socket(&self) -> RawSocket {
        self.io.as_raw_socket()
    }
}
