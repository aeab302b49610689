//! The connecting side: plans a connect ([`crate::policy::plan_connect`]) and runs the
//! plan over its transport (`crate::transport::*::dial`), blocking. The deadline
//! helpers here are shared by every transport's dial.

use crate::addr::HvAddr;
use crate::config::snapshot;
use crate::context::{Context, MAX_CONNECT_TIMEOUT};
use crate::error::HvError;
use crate::net::stream::HvStream;
use crate::policy::{self, Route, err};
use crate::sys::Ready;
use crate::transport::local::wire::Preamble;
use crate::transport::{hybrid, local, vsock};
use socket2::{SockAddr, Socket};
use std::io::{self, ErrorKind, Read, Write};
use std::time::{Duration, Instant};

pub(crate) fn check_timeout(timeout: Duration) -> io::Result<()> {
    if timeout.is_zero() || timeout > MAX_CONNECT_TIMEOUT {
        return Err(err(
            ErrorKind::InvalidInput,
            format!(
                "connect timeout must be more than 0 and at most {} s (HVSOCKET_CONNECT_TIMEOUT_MAX)",
                MAX_CONNECT_TIMEOUT.as_secs()
            ),
        ));
    }
    Ok(())
}

/// Time left before `deadline`, or TimedOut.
pub(crate) fn remaining(deadline: Instant, what: &dyn Fn() -> String) -> io::Result<Duration> {
    let now = Instant::now();
    if now >= deadline {
        return Err(HvError::TimedOut {
            what: what(),
            during: "",
        }
        .into());
    }
    Ok(deadline - now)
}

pub(crate) fn connect(ctx: &Context, addr: HvAddr, timeout: Duration) -> io::Result<HvStream> {
    check_timeout(timeout)?;
    let deadline = Instant::now() + timeout;
    let table = snapshot::table(&ctx.dirs)?;
    let plan = policy::plan_connect(ctx.location, addr, &table)?;
    // The host enforces registration on what it dials; what others dial into the host
    // is enforced by the host's listener.
    if plan.crosses && ctx.location == crate::Location::Host {
        policy::check_registered(&*snapshot::registry(&ctx.dirs)?, addr.service_id)?;
    }
    let what = || format!("connect to {}", policy::describe_vm(addr.vm_id, &table));
    let sock = match &plan.route {
        Route::Local { folder, candidates } => {
            let preamble = Preamble {
                caller: ctx.location.claim(),
                service: addr.service_id,
            };
            local::dial::dial_local(ctx, *folder, candidates, preamble, deadline, &what)?
        }
        Route::Hybrid { path, port } => hybrid::dial::dial_hybrid(path, *port, deadline, &what)?,
        Route::Vsock { cid, port } => vsock::dial::dial_vsock(*cid, *port, deadline, &what)?,
    };
    Ok(HvStream::from_parts(
        sock,
        HvAddr::new(ctx.own_id(), addr.service_id),
        plan.peer,
        None,
    ))
}

/// `connect(2)` with a deadline; Unix sockets with a full backlog are retried.
pub(crate) fn connect_deadline(
    sock: &Socket,
    addr: &SockAddr,
    deadline: Instant,
    what: &dyn Fn() -> String,
) -> io::Result<()> {
    loop {
        match sock.connect_timeout(addr, remaining(deadline, what)?) {
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(1));
            }
            r => return r,
        }
    }
}

/// Waits until the non-blocking `sock` is ready for `events`, or the deadline.
pub(crate) fn wait_ready(
    sock: &Socket,
    what_for: Ready,
    deadline: Instant,
    what: &dyn Fn() -> String,
) -> io::Result<()> {
    let now = Instant::now();
    if now >= deadline {
        return Err(HvError::TimedOut {
            what: what(),
            during: " in the handshake",
        }
        .into());
    }
    crate::sys::poll_one(sock, what_for, deadline - now)?;
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
