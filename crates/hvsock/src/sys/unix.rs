//! The few syscalls std and socket2 do not wrap: epoll, `MSG_PEEK`, `geteuid`, and
//! registering a descriptor with tokio.
//!
//! This is the only module of the crate with `unsafe` code.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

/// The effective user id of this process.
pub(crate) fn geteuid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// The real user id of this process.
pub(crate) fn getuid() -> u32 {
    // SAFETY: getuid has no preconditions and cannot fail.
    unsafe { libc::getuid() }
}

/// The user id of the process at the other end of a Unix socket, from the kernel
/// (`SO_PEERCRED`): who connected, whatever the bytes say.
pub(crate) fn peer_uid(fd: &impl AsRawFd) -> io::Result<u32> {
    let mut cred = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: `cred` and `len` are valid for writes of the sizes passed; the kernel
    // writes at most `len` bytes into `cred`.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&mut cred as *mut libc::ucred).cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(cred.uid)
}

/// `recv(MSG_PEEK)`: copies what is waiting without consuming it; blocks (up to the
/// socket's read timeout) only while nothing is waiting.
pub(crate) fn peek(fd: &impl AsRawFd, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: `buf` is valid for writes of `buf.len()` bytes.
    let n = unsafe {
        libc::recv(
            fd.as_raw_fd(),
            buf.as_mut_ptr().cast(),
            buf.len(),
            libc::MSG_PEEK,
        )
    };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(n as usize)
}

/// Switches a socket to blocking mode with one `ioctl(FIONBIO)` (where `fcntl` takes
/// a get and a set): on the path of every local connection, both sides.
pub(crate) fn set_blocking(fd: &impl AsRawFd) -> io::Result<()> {
    let mut off: libc::c_int = 0;
    // SAFETY: FIONBIO reads one int from the valid pointer `&mut off`.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), libc::FIONBIO, &mut off) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Waits up to `timeout` for `events` (`libc::POLLIN`, `libc::POLLOUT`) on `fd`.
/// `Ok(false)` when the time ran out or a signal interrupted the wait.
pub(crate) fn poll_one(fd: &impl AsRawFd, events: i16, timeout: Duration) -> io::Result<bool> {
    let mut pfd = libc::pollfd {
        fd: fd.as_raw_fd(),
        events,
        revents: 0,
    };
    // Round up so a 0.5 ms deadline does not spin.
    let ms = timeout.as_micros().div_ceil(1000).min(i32::MAX as u128) as libc::c_int;
    // SAFETY: `pfd` is one valid pollfd for the call's duration and nfds is 1.
    let r = unsafe { libc::poll(&mut pfd, 1, ms) };
    if r < 0 {
        let e = io::Error::last_os_error();
        return if e.kind() == io::ErrorKind::Interrupted {
            Ok(false)
        } else {
            Err(e)
        };
    }
    Ok(r > 0)
}

/// A level-triggered epoll instance. Listeners use one to wait on all of their
/// sockets (and pending handshakes) at once; tokio waits on its fd.
#[derive(Debug)]
pub(crate) struct Epoll {
    fd: OwnedFd,
}

impl Epoll {
    pub(crate) fn new() -> io::Result<Epoll> {
        // SAFETY: epoll_create1 has no memory preconditions.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` is a fresh descriptor that nothing else owns.
        Ok(Epoll {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    /// Watches `fd` for readability, reporting `token`.
    pub(crate) fn add(&self, fd: RawFd, token: u64) -> io::Result<()> {
        let mut ev = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: token,
        };
        // SAFETY: `ev` is a valid epoll_event; the kernel copies it.
        let rc = unsafe { libc::epoll_ctl(self.fd.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut ev) };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Stops watching `fd` (closing it also does).
    pub(crate) fn delete(&self, fd: RawFd) {
        // SAFETY: a null event pointer is allowed for EPOLL_CTL_DEL since Linux 2.6.9.
        unsafe {
            libc::epoll_ctl(
                self.fd.as_raw_fd(),
                libc::EPOLL_CTL_DEL,
                fd,
                std::ptr::null_mut(),
            )
        };
    }

    /// Waits up to `timeout` (None: forever) and appends ready tokens to `out`.
    pub(crate) fn wait(&self, timeout: Option<Duration>, out: &mut Vec<u64>) -> io::Result<()> {
        const MAX: usize = 64;
        let mut events = [libc::epoll_event { events: 0, u64: 0 }; MAX];
        let ms = match timeout {
            None => -1,
            // Round up so a 0.5 ms deadline does not spin.
            Some(d) => d.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32,
        };
        // SAFETY: `events` is valid for MAX entries; the kernel writes at most MAX.
        let n =
            unsafe { libc::epoll_wait(self.fd.as_raw_fd(), events.as_mut_ptr(), MAX as i32, ms) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                return Ok(());
            }
            return Err(e);
        }
        out.extend(events[..n as usize].iter().map(|e| e.u64));
        Ok(())
    }
}

impl std::os::fd::AsFd for Epoll {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
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
        ep.add(b.as_raw_fd(), 7).unwrap();
        let mut out = vec![];
        ep.wait(Some(Duration::ZERO), &mut out).unwrap();
        assert!(out.is_empty());
        a.write_all(b"x").unwrap();
        ep.wait(Some(Duration::from_secs(5)), &mut out).unwrap();
        assert_eq!(out, vec![7]);
        ep.delete(b.as_raw_fd());
        out.clear();
        ep.wait(Some(Duration::ZERO), &mut out).unwrap();
        assert!(out.is_empty());
    }
}
