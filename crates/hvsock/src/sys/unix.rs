//! The system calls of a Unix platform (Linux today) that std and socket2 do not wrap:
//! epoll, `poll`, `MSG_PEEK`, peer credentials, `FIONBIO`, user ids, and registering a
//! descriptor with tokio, taking the sockets systemd passed. Through rustix, which
//! wraps them safely; the `unsafe` blocks left are tokio's registration contract, the
//! vsock connect timeout, owning systemd's descriptors and clearing its variables.
#![allow(unsafe_code)]

use rustix::event::Timespec;
use rustix::event::epoll;
use rustix::event::{PollFd, PollFlags};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::time::Duration;

/// Open flag of every file the crate opens (std sets `O_CLOEXEC` as well).
pub(crate) const O_CLOEXEC: i32 = libc::O_CLOEXEC;

/// The vsock CID a listener binds to accept from any CID.
pub(crate) const VMADDR_CID_ANY: u32 = libc::VMADDR_CID_ANY;

/// `accept4(SOCK_CLOEXEC | SOCK_NONBLOCK)`: a connection that is non-blocking from
/// the start, with its peer's address.
pub(crate) fn accept_nonblocking(
    listener: &socket2::Socket,
) -> io::Result<(socket2::Socket, socket2::SockAddr)> {
    listener.accept4(libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK)
}

/// Out of descriptors or memory: a listener pauses before accepting again.
pub(crate) fn is_exhausted(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}

/// An accept error of one aborted connection, not of the listener.
pub(crate) fn is_aborted_accept(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::ECONNABORTED | libc::EINTR | libc::EPROTO | libc::EPERM)
    )
}

/// The effective user id of this process.
pub(crate) fn geteuid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// The real user id of this process.
pub(crate) fn getuid() -> u32 {
    rustix::process::getuid().as_raw()
}

/// The user id of the process at the other end of a Unix socket, from the kernel
/// (`SO_PEERCRED`): who connected, whatever the bytes say.
pub(crate) fn peer_uid(fd: &impl AsFd) -> io::Result<u32> {
    Ok(rustix::net::sockopt::socket_peercred(fd)?.uid.as_raw())
}

/// `recv(MSG_PEEK)`: copies what is waiting without consuming it; blocks (up to the
/// socket's read timeout) only while nothing is waiting.
pub(crate) fn peek(fd: &impl AsFd, buf: &mut [u8]) -> io::Result<usize> {
    Ok(rustix::net::recv(fd, buf, rustix::net::RecvFlags::PEEK)?.0)
}

/// Switches a socket to blocking mode with one `ioctl(FIONBIO)` (where `fcntl` takes
/// a get and a set): on the path of every local connection, both sides.
pub(crate) fn set_blocking(fd: &impl AsFd) -> io::Result<()> {
    Ok(rustix::io::ioctl_fionbio(fd, false)?)
}

/// What [`poll_one`] waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ready {
    /// Data to read (or end of stream).
    Read,
    /// Room to write.
    Write,
}

/// A timeout in whole milliseconds, rounded up so a 0.5 ms deadline does not spin.
fn timespec(d: Duration) -> Timespec {
    let ms = d.as_micros().div_ceil(1000).min(i32::MAX as u128) as u64;
    Timespec {
        tv_sec: (ms / 1000) as _,
        tv_nsec: ((ms % 1000) * 1_000_000) as _,
    }
}

/// Waits up to `timeout` until `fd` is ready for `what`. `Ok(false)` when the time ran
/// out or a signal interrupted the wait.
pub(crate) fn poll_one(fd: &impl AsFd, what: Ready, timeout: Duration) -> io::Result<bool> {
    let flags = match what {
        Ready::Read => PollFlags::IN,
        Ready::Write => PollFlags::OUT,
    };
    let mut fds = [PollFd::new(fd, flags)];
    match rustix::event::poll(&mut fds, Some(&timespec(timeout))) {
        Ok(n) => Ok(n > 0),
        Err(rustix::io::Errno::INTR) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// This process's id.
pub(crate) fn getpid() -> u32 {
    rustix::process::getpid().as_raw_nonzero().get() as u32
}

/// Set once the descriptors systemd passed have been taken: each becomes one
/// `OwnedFd`, once per process.
static INHERITED_TAKEN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Takes ownership of the `n` descriptors from `first` on that systemd passed to this
/// process (`LISTEN_FDS`, checked by the caller against `LISTEN_PID`), and marks them
/// close-on-exec. Once per process: a second call is an error, as is a descriptor that
/// is not open.
pub(crate) fn take_inherited_fds(first: RawFd, n: usize) -> io::Result<Vec<OwnedFd>> {
    use std::sync::atomic::Ordering;
    let last = first
        .checked_add(i32::try_from(n).map_err(|_| io::ErrorKind::InvalidInput)?)
        .ok_or(io::ErrorKind::InvalidInput)?;
    if INHERITED_TAKEN.swap(true, Ordering::SeqCst) {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "the sockets passed by systemd were taken already (once per process)",
        ));
    }
    for fd in first..last {
        // SAFETY: only used for this `fcntl(F_GETFD)`, which is harmless on any number:
        // a closed one gives EBADF, which is the check.
        let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
        if let Err(e) = rustix::io::fcntl_getfd(borrowed) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("LISTEN_FDS says systemd passed fd {fd}, but it is not open: {e}"),
            ));
        }
    }
    let mut fds = Vec::with_capacity(n);
    for fd in first..last {
        // SAFETY: fds first..last are open (checked above) and were passed to this
        // process by systemd for it to own (LISTEN_PID is our pid, checked by the
        // caller); INHERITED_TAKEN makes this the only place that ever owns them.
        let owned = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
        // Commands this process starts must not inherit them.
        rustix::io::fcntl_setfd(&owned, rustix::io::FdFlags::CLOEXEC)?;
        fds.push(owned);
    }
    Ok(fds)
}

/// Removes `LISTEN_PID`, `LISTEN_FDS` and `LISTEN_FDNAMES` from the environment, so
/// that the commands this process starts do not see them (`sd_listen_fds(1)` does the
/// same).
///
/// # Safety
///
/// As [`std::env::remove_var`]: no other thread may read or write the environment at
/// the same time (call it before starting threads).
pub unsafe fn clear_listen_env() {
    for var in ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"] {
        // SAFETY: the caller guarantees that no other thread uses the environment.
        unsafe { std::env::remove_var(var) };
    }
}

/// What a descriptor passed as a listening socket is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SocketKind {
    /// Not a socket at all.
    NotSocket,
    /// A socket that is not `SOCK_STREAM`.
    NotStream,
    /// A stream socket that is not listening.
    NotListening,
    /// A listening Unix stream socket.
    Unix,
    /// A listening AF_VSOCK stream socket.
    Vsock,
    /// A listening stream socket of another family (the raw `AF_*` number).
    Other(u16),
}

/// Classifies `fd` with `getsockopt(SO_TYPE, SO_ACCEPTCONN, SO_DOMAIN)`.
pub(crate) fn socket_kind(fd: &impl AsFd) -> io::Result<SocketKind> {
    use rustix::net::{AddressFamily, SocketType, sockopt};
    let ty = match sockopt::socket_type(fd) {
        Ok(t) => t,
        Err(rustix::io::Errno::NOTSOCK) => return Ok(SocketKind::NotSocket),
        Err(e) => return Err(e.into()),
    };
    if ty != SocketType::STREAM {
        return Ok(SocketKind::NotStream);
    }
    if !sockopt::socket_acceptconn(fd)? {
        return Ok(SocketKind::NotListening);
    }
    Ok(match sockopt::socket_domain(fd)? {
        AddressFamily::UNIX => SocketKind::Unix,
        AddressFamily::VSOCK => SocketKind::Vsock,
        other => SocketKind::Other(other.as_raw()),
    })
}

/// A level-triggered epoll instance. Listeners use one to wait on all of their
/// sockets (and pending handshakes) at once; tokio waits on its fd.
#[derive(Debug)]
pub(crate) struct Epoll {
    fd: OwnedFd,
}

impl Epoll {
    pub(crate) fn new() -> io::Result<Epoll> {
        Ok(Epoll {
            fd: epoll::create(epoll::CreateFlags::CLOEXEC)?,
        })
    }

    /// Watches `fd` for readability, reporting `token`.
    pub(crate) fn add(&self, fd: BorrowedFd<'_>, token: u64) -> io::Result<()> {
        Ok(epoll::add(
            &self.fd,
            fd,
            epoll::EventData::new_u64(token),
            epoll::EventFlags::IN,
        )?)
    }

    /// Stops watching `fd` (closing it also does).
    pub(crate) fn delete(&self, fd: BorrowedFd<'_>) {
        let _ = epoll::delete(&self.fd, fd);
    }

    /// Waits up to `timeout` (None: forever) and appends ready tokens to `out`.
    pub(crate) fn wait(&self, timeout: Option<Duration>, out: &mut Vec<u64>) -> io::Result<()> {
        const MAX: usize = 64;
        let mut events = Vec::with_capacity(MAX);
        let t = timeout.map(timespec);
        match epoll::wait(
            &self.fd,
            rustix::buffer::spare_capacity(&mut events),
            t.as_ref(),
        ) {
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => return Ok(()),
            Err(e) => return Err(e.into()),
        }
        out.extend(events.iter().map(|e| e.data.u64()));
        Ok(())
    }
}

impl AsFd for Epoll {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for Epoll {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// Registers an owned socket or epoll set with tokio's reactor.
#[cfg(feature = "tokio")]
pub(crate) fn async_fd<T: OwnsFd>(
    inner: T,
    interest: tokio::io::Interest,
) -> io::Result<tokio::io::unix::AsyncFd<T>> {
    // SAFETY: `OwnsFd` types own their descriptor: it stays open and the same for as
    // long as the value (and so the AsyncFd holding it) lives.
    unsafe { tokio::io::unix::AsyncFd::register_with_interest(inner, interest) }
        .map_err(|e| e.into())
}

/// `SO_VM_SOCKETS_CONNECT_TIMEOUT` (`_OLD`: a `struct timeval`, 64-bit on the 64-bit
/// targets hvsock builds for), level `AF_VSOCK`. libc does not name it.
const SO_VM_SOCKETS_CONNECT_TIMEOUT: libc::c_int = 6;

/// Sets an AF_VSOCK socket's connect timeout. The kernel's default is 2 s and it
/// applies to non-blocking connects too, so a longer deadline needs this.
pub(crate) fn set_vsock_connect_timeout(sock: &impl AsFd, timeout: Duration) -> io::Result<()> {
    let tv = libc::timeval {
        tv_sec: timeout.as_secs() as libc::time_t,
        tv_usec: timeout.subsec_micros() as libc::suseconds_t,
    };
    // SAFETY: the fd is valid while `sock` is borrowed; `tv` is a timeval on our stack,
    // passed with its size.
    let r = unsafe {
        libc::setsockopt(
            sock.as_fd().as_raw_fd(),
            libc::AF_VSOCK,
            SO_VM_SOCKETS_CONNECT_TIMEOUT,
            (&tv as *const libc::timeval).cast(),
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// A socket registered with tokio's reactor, with the readiness calls the tokio types
/// need; `sys/windows` has the same type over WinSock.
#[cfg(feature = "tokio")]
#[derive(Debug)]
pub(crate) struct AsyncSocket(tokio::io::unix::AsyncFd<socket2::Socket>);

#[cfg(feature = "tokio")]
impl AsyncSocket {
    /// Registers `sock` (switched to non-blocking) for reading and writing.
    pub(crate) fn new(sock: socket2::Socket) -> io::Result<AsyncSocket> {
        sock.set_nonblocking(true)?;
        let interest = tokio::io::Interest::READABLE | tokio::io::Interest::WRITABLE;
        async_fd(sock, interest).map(AsyncSocket)
    }

    /// The socket.
    pub(crate) fn socket(&self) -> &socket2::Socket {
        self.0.get_ref()
    }

    /// Runs `f` once the socket is ready for `interest`, again after each `WouldBlock`.
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut std::task::Context<'_>,
        interest: tokio::io::Interest,
        mut f: impl FnMut(&socket2::Socket) -> io::Result<R>,
    ) -> std::task::Poll<io::Result<R>> {
        loop {
            let ready = if interest.is_readable() {
                self.0.poll_read_ready(cx)
            } else {
                self.0.poll_write_ready(cx)
            };
            let mut guard = std::task::ready!(ready)?;
            match guard.try_io(|s| f(s.get_ref())) {
                Ok(r) => return std::task::Poll::Ready(r),
                Err(_would_block) => continue,
            }
        }
    }

    /// Runs `f` now; `WouldBlock` clears the readiness it reported.
    pub(crate) fn try_io<R>(
        &self,
        interest: tokio::io::Interest,
        f: impl FnOnce(&socket2::Socket) -> io::Result<R>,
    ) -> io::Result<R> {
        self.0.try_io(interest, |s| f(s))
    }

    /// Runs `f` whenever the socket is ready for `interest`, until it returns anything
    /// but `WouldBlock`.
    pub(crate) async fn async_io<R>(
        &self,
        interest: tokio::io::Interest,
        f: impl FnMut(&socket2::Socket) -> io::Result<R>,
    ) -> io::Result<R> {
        self.0.async_io(interest, f).await
    }

    /// Waits until the socket is ready for `interest` (the readiness stays set).
    pub(crate) async fn ready(&self, interest: tokio::io::Interest) -> io::Result<()> {
        self.0.ready(interest).await?.retain_ready();
        Ok(())
    }

    /// Deregisters the socket and gives it back (still non-blocking).
    pub(crate) fn into_socket(self) -> io::Result<socket2::Socket> {
        Ok(self.0.into_inner())
    }
}

#[cfg(feature = "tokio")]
impl AsRawFd for AsyncSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }
}

#[cfg(feature = "tokio")]
impl AsFd for AsyncSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.get_ref().as_fd()
    }
}

/// Types that own one file descriptor for their whole life.
#[cfg(feature = "tokio")]
pub(crate) trait OwnsFd: AsRawFd {}
#[cfg(feature = "tokio")]
impl OwnsFd for socket2::Socket {}
#[cfg(feature = "tokio")]
impl OwnsFd for std::sync::Arc<Epoll> {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::unix::net::UnixStream;

    #[test]
    fn peer_uid_is_ours() {
        let (a, _b) = UnixStream::pair().unwrap();
        assert_eq!(peer_uid(&a).unwrap(), geteuid());
    }

    #[test]
    fn epoll_reports_readable() {
        let ep = Epoll::new().unwrap();
        let (mut a, b) = UnixStream::pair().unwrap();
        ep.add(b.as_fd(), 7).unwrap();
        let mut out = vec![];
        ep.wait(Some(Duration::ZERO), &mut out).unwrap();
        assert!(out.is_empty());
        a.write_all(b"x").unwrap();
        ep.wait(Some(Duration::from_secs(5)), &mut out).unwrap();
        assert_eq!(out, vec![7]);
        ep.delete(b.as_fd());
        out.clear();
        ep.wait(Some(Duration::ZERO), &mut out).unwrap();
        assert!(out.is_empty());
    }
}
