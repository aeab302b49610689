//! Windows: whether a stream's connection has failed, the CPU time of this process, and
//! for `exec` and `cp` the console's width and Ctrl-C.
//!
//! The only `unsafe` code of the CLI is here (one Win32 call), with its `// SAFETY:`.
#![allow(unsafe_code)]

use std::io;
use std::os::windows::io::AsSocket;
use std::time::Duration;
use windows_sys::Win32::Foundation::FILETIME;
use windows_sys::Win32::System::Threading::{GetCurrentProcess, GetProcessTimes};

/// Whether the connection of `sock` has failed (an error is pending on the socket: the
/// peer reset it), waiting up to `timeout` first.
///
/// Windows has no POLLHUP that means "neither side can send": `WSAPoll` reports
/// POLLHUP as soon as the peer shuts down its sending side, which is a half-close the
/// connection goes on after. So only a pending socket error counts here; a peer that
/// closed while nothing is sent is noticed at the next write (which fails) or at the
/// end of the input.
pub(crate) fn hung_up(sock: &impl AsSocket, timeout: Duration) -> io::Result<bool> {
    std::thread::sleep(timeout);
    Ok(socket2::SockRef::from(sock).take_error()?.is_some())
}

/// CPU time (user + kernel) this process has used so far, all threads.
pub(crate) fn process_cpu_time() -> Duration {
    let zero = FILETIME {
        dwLowDateTime: 0,
        dwHighDateTime: 0,
    };
    let (mut created, mut exited, mut kernel, mut user) = (zero, zero, zero, zero);
    // SAFETY: GetCurrentProcess returns a pseudo-handle that needs no closing; the four
    // pointers are to live, writable FILETIMEs of this frame.
    let ok = unsafe {
        GetProcessTimes(
            GetCurrentProcess(),
            &mut created,
            &mut exited,
            &mut kernel,
            &mut user,
        )
    };
    if ok == 0 {
        // Never for the current process's own pseudo-handle; no time is then no time.
        return Duration::ZERO;
    }
    // FILETIME counts 100 ns units.
    let ticks = |t: FILETIME| (u64::from(t.dwHighDateTime) << 32) | u64::from(t.dwLowDateTime);
    Duration::from_nanos((ticks(kernel) + ticks(user)).saturating_mul(100))
}

/// The exit status of a command whose output was closed by its reader: what a Linux
/// shell shows for a process killed by SIGPIPE (128 + 13), as the same command gives
/// on Linux.
pub(crate) const BROKEN_PIPE_EXIT: i32 = 128 + 13;

/// The window size of the console on stderr, if it is one.
pub(crate) fn stderr_window() -> Option<hvsock_agent::WindowSize> {
    use std::os::windows::io::AsHandle;
    hvsock_agent::sys::window_size(std::io::stderr().as_handle())
}

/// Registers for Ctrl-C, Ctrl-Break and the console's closing now; the future resolves
/// to the Linux signal number each stands for (SIGINT 2, SIGINT 2, SIGHUP 1), so exit
/// statuses are 128+N as on Linux.
pub(crate) fn interrupted() -> io::Result<impl std::future::Future<Output = i32>> {
    use tokio::signal::windows::{ctrl_break, ctrl_c, ctrl_close};
    let (mut c, mut b, mut close) = (ctrl_c()?, ctrl_break()?, ctrl_close()?);
    Ok(async move {
        tokio::select! {
            _ = c.recv() => 2,
            _ = b.recv() => 2,
            _ = close.recv() => 1,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::net::{TcpListener, TcpStream};

    #[test]
    fn cpu_time_grows() {
        let t0 = process_cpu_time();
        let mut x = 0u64;
        for i in 0..20_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        assert!(process_cpu_time() > t0);
    }

    #[test]
    fn a_half_close_is_no_hang_up() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut a = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (b, _) = l.accept().unwrap();
        a.write_all(b"x").unwrap();
        a.shutdown(std::net::Shutdown::Write).unwrap();
        assert!(!hung_up(&b, Duration::from_millis(50)).unwrap());
    }
}
