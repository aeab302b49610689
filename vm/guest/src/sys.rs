//! The guest's system calls: minimal AF_VSOCK stream sockets. rustix has no vsock
//! address type, so `bind`, `connect` and `accept4` (which take a `sockaddr_vm`) stay
//! libc calls; the rest goes through rustix. The guest's only module with `unsafe`.
//!
//! This code only ever runs inside a nested QEMU guest started by the test harness;
//! the host never opens AF_VSOCK sockets.

use std::io::{self, Read, Write};
use std::mem;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

fn sockaddr(cid: u32, port: u32) -> libc::sockaddr_vm {
    // SAFETY: sockaddr_vm is a plain C struct of integers; all-zero is a valid value.
    let mut sa: libc::sockaddr_vm = unsafe { mem::zeroed() };
    sa.svm_family = libc::AF_VSOCK as libc::sa_family_t;
    sa.svm_cid = cid;
    sa.svm_port = port;
    sa
}

fn socket() -> io::Result<OwnedFd> {
    use rustix::net::{AddressFamily, SocketFlags, SocketType, socket_with};
    Ok(socket_with(
        AddressFamily::VSOCK,
        SocketType::STREAM,
        SocketFlags::CLOEXEC,
        None,
    )?)
}

fn check(rc: libc::c_int) -> io::Result<()> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

const SA_LEN: libc::socklen_t = mem::size_of::<libc::sockaddr_vm>() as libc::socklen_t;

/// A listening vsock socket.
pub struct Listener(OwnedFd);

impl Listener {
    /// Binds to `VMADDR_CID_ANY:port` and listens.
    pub fn bind(port: u32) -> io::Result<Listener> {
        let fd = socket()?;
        let sa = sockaddr(libc::VMADDR_CID_ANY, port);
        // SAFETY: sa is a valid sockaddr_vm and SA_LEN is its size; fd is open.
        check(unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&sa as *const libc::sockaddr_vm).cast(),
                SA_LEN,
            )
        })?;
        rustix::net::listen(&fd, 128)?;
        Ok(Listener(fd))
    }

    /// Makes this socket descriptor 3, inherited across `exec` (no `FD_CLOEXEC`): where
    /// systemd puts the first socket it passes (`SD_LISTEN_FDS_START`).
    pub fn into_fd3(self) -> io::Result<()> {
        use std::os::fd::IntoRawFd;
        let fd = self.0.into_raw_fd();
        if fd != 3 {
            // SAFETY: fd is open and ours; dup2 onto 3 closes whatever 3 was (nothing
            // this process uses: every descriptor the guest helper opens is CLOEXEC, so
            // only inherited ones could be there) and the copy has no FD_CLOEXEC.
            check(unsafe { libc::dup2(fd, 3) })?;
            // SAFETY: fd is open, ours, and no longer needed (3 is its copy).
            drop(unsafe { OwnedFd::from_raw_fd(fd) });
        } else {
            // dup2(3, 3) would keep FD_CLOEXEC: clear it instead.
            // SAFETY: 3 is open (it is fd) and stays open: the borrow ends here.
            let three = unsafe { std::os::fd::BorrowedFd::borrow_raw(3) };
            rustix::io::fcntl_setfd(three, rustix::io::FdFlags::empty())?;
        }
        Ok(())
    }

    /// Accepts one connection; returns it with the peer's CID.
    pub fn accept(&self) -> io::Result<(Stream, u32)> {
        let mut sa = sockaddr(0, 0);
        let mut len = SA_LEN;
        loop {
            // SAFETY: sa/len describe a writable sockaddr_vm buffer of the right size.
            let fd = unsafe {
                libc::accept4(
                    self.0.as_raw_fd(),
                    (&mut sa as *mut libc::sockaddr_vm).cast(),
                    &mut len,
                    libc::SOCK_CLOEXEC,
                )
            };
            if fd < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            // SAFETY: fd is a fresh descriptor that nothing else owns.
            return Ok((Stream(unsafe { OwnedFd::from_raw_fd(fd) }), sa.svm_cid));
        }
    }
}

/// A connected vsock stream.
pub struct Stream(OwnedFd);

impl Stream {
    /// Connects to `cid:port`.
    pub fn connect(cid: u32, port: u32) -> io::Result<Stream> {
        let fd = socket()?;
        let sa = sockaddr(cid, port);
        // SAFETY: sa is a valid sockaddr_vm and SA_LEN is its size; fd is open.
        check(unsafe {
            libc::connect(
                fd.as_raw_fd(),
                (&sa as *const libc::sockaddr_vm).cast(),
                SA_LEN,
            )
        })?;
        Ok(Stream(fd))
    }

    /// Shuts down the writing half (the peer reads EOF).
    pub fn shutdown_write(&self) -> io::Result<()> {
        Ok(rustix::net::shutdown(
            &self.0,
            rustix::net::Shutdown::Write,
        )?)
    }
}

impl Read for &Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        Ok(rustix::io::read(&self.0, buf)?)
    }
}

impl Write for &Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // MSG_NOSIGNAL: a closed peer is an error, not a SIGPIPE.
        Ok(rustix::net::send(
            &self.0,
            buf,
            rustix::net::SendFlags::NOSIGNAL,
        )?)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&*self).read(buf)
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (&*self).write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
