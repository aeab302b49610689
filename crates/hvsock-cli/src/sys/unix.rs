//! Unix: `poll` for hang-up, `pipe2`, `splice` and `F_SETPIPE_SZ`, the CPU time of
//! this process, and clearing systemd's `LISTEN_*` variables.
//!
//! All through rustix, except that one environment change (`unsafe`, see there).

use rustix::event::{PollFd, PollFlags};
use rustix::pipe::{PipeFlags, SpliceFlags};
use rustix::time::{ClockId, Timespec};
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::time::Duration;

/// Polls `fd` for hang-up (POLLHUP or POLLERR) for up to `timeout`: Unix and vsock
/// sockets report POLLHUP once neither side can send (the peer closed, or both shut
/// down writing).
pub(crate) fn hung_up(fd: &impl AsFd, timeout: Duration) -> io::Result<bool> {
    let mut pfd = [PollFd::from_borrowed_fd(fd.as_fd(), PollFlags::empty())];
    // Whole milliseconds, as poll(2) takes them.
    let ms = timeout.as_millis().min(i32::MAX as u128) as u64;
    let ts = Timespec {
        tv_sec: (ms / 1000) as _,
        tv_nsec: ((ms % 1000) * 1_000_000) as _,
    };
    match rustix::event::poll(&mut pfd, Some(&ts)) {
        Ok(n) => Ok(n > 0 && pfd[0].revents().intersects(PollFlags::HUP | PollFlags::ERR)),
        Err(e) if e == rustix::io::Errno::INTR => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// A pipe: `(read end, write end)`, both non-blocking and close-on-exec.
pub(crate) fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    Ok(rustix::pipe::pipe_with(
        PipeFlags::NONBLOCK | PipeFlags::CLOEXEC,
    )?)
}

/// Asks for a pipe buffer of `size` bytes; returns the size the kernel gave (it may
/// refuse more than `/proc/sys/fs/pipe-max-size` to unprivileged users).
pub(crate) fn set_pipe_size(fd: &impl AsFd, size: usize) -> io::Result<usize> {
    let size = size.min(i32::MAX as usize);
    Ok(rustix::pipe::fcntl_setpipe_size(fd, size)?)
}

/// `splice(2)` of up to `len` bytes from `from` to `to` (one of them a pipe), never
/// blocking: `WouldBlock` when `from` has nothing or `to` has no room; `Ok(0)` at EOF.
pub(crate) fn splice(from: &impl AsFd, to: &impl AsFd, len: usize) -> io::Result<usize> {
    // No offsets: "the file position" (required for pipes and sockets).
    Ok(rustix::pipe::splice(
        from,
        None,
        to,
        None,
        len,
        SpliceFlags::MOVE | SpliceFlags::NONBLOCK,
    )?)
}

/// CPU time (user + system) this process has used so far, all threads.
pub(crate) fn process_cpu_time() -> Duration {
    let ts = rustix::time::clock_gettime(ClockId::ProcessCPUTime);
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// The exit status of a command whose output was closed by its reader: what a shell
/// shows for a process killed by SIGPIPE.
pub(crate) const BROKEN_PIPE_EXIT: i32 = 128 + libc::SIGPIPE;

/// The window size of the terminal on stderr, if it is one.
pub(crate) fn stderr_window() -> Option<hvsock_agent::WindowSize> {
    use std::os::fd::AsFd;
    hvsock_agent::sys::window_size(std::io::stderr().as_fd())
}

/// Registers for SIGINT, SIGTERM and SIGHUP now; the future resolves to the number of
/// the first that comes.
pub(crate) fn interrupted() -> io::Result<impl std::future::Future<Output = i32>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut int = signal(SignalKind::interrupt())?;
    let mut term = signal(SignalKind::terminate())?;
    let mut hup = signal(SignalKind::hangup())?;
    Ok(async move {
        tokio::select! {
            _ = int.recv() => libc::SIGINT,
            _ = term.recv() => libc::SIGTERM,
            _ = hup.recv() => libc::SIGHUP,
        }
    })
}

/// Removes systemd's `LISTEN_*` variables once `--systemd` took the sockets, so that
/// the commands hvsock starts do not see them. Call it before this process starts any
/// thread (`listen` and `agent` do, right after taking the sockets).
#[allow(unsafe_code)]
pub(crate) fn clear_listen_env() {
    // SAFETY: the environment may only change while no other thread reads it; the
    // only callers (`listen --systemd`, `agent --systemd`) run on main's thread before
    // they start any thread or runtime, and nothing before them starts one.
    unsafe { hvsock::activation::clear_listen_env() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{ErrorKind, Read, Write};
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
