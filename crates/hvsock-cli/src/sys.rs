//! The few syscalls of the CLI that std does not wrap: `poll` for hang-up, `pipe2`,
//! `splice` and `F_SETPIPE_SZ`, and the CPU time of this process.
//!
//! This is the only module of the CLI with `unsafe` code.

use std::io::{self, ErrorKind};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

/// Polls `fd` for hang-up (POLLHUP or POLLERR) for up to `timeout`.
pub(crate) fn hung_up(fd: &impl AsFd, timeout: Duration) -> io::Result<bool> {
    let mut pfd = libc::pollfd {
        fd: fd.as_fd().as_raw_fd(),
        events: 0,
        revents: 0,
    };
    let ms = timeout.as_millis().min(i32::MAX as u128) as libc::c_int;
    // SAFETY: `pfd` is one valid pollfd for the call's duration and nfds is 1; the fd
    // is borrowed from a live socket.
    let r = unsafe { libc::poll(&mut pfd, 1, ms) };
    if r < 0 {
        let e = io::Error::last_os_error();
        return if e.kind() == ErrorKind::Interrupted {
            Ok(false)
        } else {
            Err(e)
        };
    }
    Ok(r > 0 && pfd.revents & (libc::POLLHUP | libc::POLLERR) != 0)
}

/// A pipe: `(read end, write end)`, both non-blocking and close-on-exec.
pub(crate) fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `fds` is valid for writing two ints, as pipe2 requires.
    let r = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pipe2 succeeded, so both are fresh descriptors that nothing else owns.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Asks for a pipe buffer of `size` bytes; returns the size the kernel gave (it may
/// refuse more than `/proc/sys/fs/pipe-max-size` to unprivileged users).
pub(crate) fn set_pipe_size(fd: &impl AsFd, size: usize) -> io::Result<usize> {
    let size = libc::c_int::try_from(size).unwrap_or(libc::c_int::MAX);
    // SAFETY: F_SETPIPE_SZ takes an int argument and touches no memory of ours.
    let r = unsafe { libc::fcntl(fd.as_fd().as_raw_fd(), libc::F_SETPIPE_SZ, size) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(r as usize)
}

/// `splice(2)` of up to `len` bytes from `from` to `to` (one of them a pipe), never
/// blocking: `WouldBlock` when `from` has nothing or `to` has no room; `Ok(0)` at EOF.
pub(crate) fn splice(from: &impl AsFd, to: &impl AsFd, len: usize) -> io::Result<usize> {
    // SAFETY: null offsets mean "the file position" (required for pipes and sockets);
    // the descriptors are borrowed from live objects; no memory of ours is touched.
    let n = unsafe {
        libc::splice(
            from.as_fd().as_raw_fd(),
            std::ptr::null_mut(),
            to.as_fd().as_raw_fd(),
            std::ptr::null_mut(),
            len,
            libc::SPLICE_F_MOVE | libc::SPLICE_F_NONBLOCK,
        )
    };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(n as usize)
}

/// CPU time (user + system) this process has used so far, all threads.
pub(crate) fn process_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec for clock_gettime to fill.
    let r = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    if r < 0 {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::os::unix::net::UnixStream;

    #[test]
    fn splice_moves_bytes_between_sockets_through_a_pipe() {
        let (mut a, b) = UnixStream::pair().unwrap();
        let (c, mut d) = UnixStream::pair().unwrap();
        b.set_nonblocking(true).unwrap();
        let (pr, pw) = pipe().unwrap();
        assert!(set_pipe_size(&pw, 1 << 16).unwrap() >= 1 << 16);
        // Nothing there yet: WouldBlock, not EOF.
        let e = splice(&b, &pw, 4096).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::WouldBlock);
        a.write_all(b"hello splice").unwrap();
        let n = splice(&b, &pw, 4096).unwrap();
        assert_eq!(n, 12);
        assert_eq!(splice(&pr, &c, n).unwrap(), 12);
        let mut got = [0u8; 12];
        d.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"hello splice");
        drop(a);
        assert_eq!(splice(&b, &pw, 4096).unwrap(), 0);
    }

    #[test]
    fn hang_up_and_cpu_time() {
        let (a, b) = UnixStream::pair().unwrap();
        assert!(!hung_up(&a, Duration::from_millis(1)).unwrap());
        drop(b);
        assert!(hung_up(&a, Duration::from_millis(100)).unwrap());
        let t0 = process_cpu_time();
        let mut x = 0u64;
        for i in 0..2_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        assert!(process_cpu_time() > t0);
    }
}
