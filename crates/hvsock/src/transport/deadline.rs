//! Blocking socket steps under one connect deadline, shared by every transport's dial.

use crate::error::HvError;
use crate::policy::err;
use crate::sys::Ready;
use socket2::{SockAddr, Socket};
use std::io::{self, ErrorKind, Read, Write};
use std::time::{Duration, Instant};

/// Time left before `deadline`, or TimedOut.
pub(crate) fn remaining(deadline: Instant, what: &dyn Fn() -> String) -> io::Result<Duration> {
    left(deadline, what, "")
}

/// Time left before `deadline`, or TimedOut naming the step (`during`).
fn left(
    deadline: Instant,
    what: &dyn Fn() -> String,
    during: &'static str,
) -> io::Result<Duration> {
    let now = Instant::now();
    if now >= deadline {
        return Err(HvError::TimedOut {
            what: what(),
            during,
        }
        .into());
    }
    Ok(deadline - now)
}

/// Runs `connect` until it stops failing with `WouldBlock` (a Unix listener's full
/// backlog), with the time left each try.
pub(crate) fn retry_connect(
    deadline: Instant,
    what: &dyn Fn() -> String,
    mut connect: impl FnMut(Duration) -> io::Result<()>,
) -> io::Result<()> {
    loop {
        match connect(remaining(deadline, what)?) {
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(1));
            }
            r => return r,
        }
    }
}

/// `connect(2)` with a deadline; Unix sockets with a full backlog are retried.
pub(crate) fn connect_deadline(
    sock: &Socket,
    addr: &SockAddr,
    deadline: Instant,
    what: &dyn Fn() -> String,
) -> io::Result<()> {
    retry_connect(deadline, what, |t| sock.connect_timeout(addr, t))
}

/// Waits until the non-blocking `sock` is ready for `events`, or the deadline.
pub(crate) fn wait_ready(
    sock: &Socket,
    what_for: Ready,
    deadline: Instant,
    what: &dyn Fn() -> String,
) -> io::Result<()> {
    let t = left(deadline, what, " in the handshake")?;
    crate::sys::poll_one(sock, what_for, t)?;
    Ok(())
}

pub(crate) fn write_all_deadline(
    sock: &Socket,
    mut buf: &[u8],
    deadline: Instant,
    what: &dyn Fn() -> String,
) -> io::Result<()> {
    while !buf.is_empty() {
        match (&*sock).write(buf) {
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(n) => buf = &buf[n..],
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                wait_ready(sock, Ready::Write, deadline, what)?;
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Reads exactly `buf.len()` bytes by the deadline. It polls before each read: the
/// listener's reply is never there the moment the preamble has gone out.
pub(crate) fn read_exact_deadline(
    sock: &Socket,
    buf: &mut [u8],
    deadline: Instant,
    what: &dyn Fn() -> String,
) -> io::Result<()> {
    let closed = || {
        err(
            ErrorKind::ConnectionRefused,
            format!("{}: the listener closed the connection", what()),
        )
    };
    let mut got = 0;
    while got < buf.len() {
        wait_ready(sock, Ready::Read, deadline, what)?;
        match (&*sock).read(&mut buf[got..]) {
            Ok(0) => return Err(closed()),
            Ok(n) => got += n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {}
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return Err(closed()),
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
