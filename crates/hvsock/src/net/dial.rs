//! The connecting side: runs a [`ConnectPlan`] over its transport, blocking.

use crate::addr::HvAddr;
use crate::context::{Context, MAX_CONNECT_TIMEOUT};
use crate::handshake::{self, Preamble, REPLY_LEN, Status};
use crate::net::stream::HvStream;
use crate::route::{self, Route, Selector, err};
use crate::{rundir, snapshot};
use socket2::{Domain, SockAddr, Socket, Type};
use std::io::{self, ErrorKind, Read, Write};
use std::path::Path;
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
fn remaining(deadline: Instant, what: &dyn Fn() -> String) -> io::Result<Duration> {
    let now = Instant::now();
    if now >= deadline {
        return Err(err(ErrorKind::TimedOut, format!("{} timed out", what())));
    }
    Ok(deadline - now)
}

pub(crate) fn connect(ctx: &Context, addr: HvAddr, timeout: Duration) -> io::Result<HvStream> {
    check_timeout(timeout)?;
    let deadline = Instant::now() + timeout;
    let table = snapshot::table(&ctx.dirs)?;
    let plan = route::plan_connect(ctx.location, addr, &table)?;
    // The host enforces registration on what it dials; what others dial into the host
    // is enforced by the host's listener.
    if plan.crosses && ctx.location == crate::Location::Host {
        route::check_registered(&*snapshot::registry(&ctx.dirs)?, addr.service_id)?;
    }
    let what = || format!("connect to {}", route::describe_vm(addr.vm_id, &table));
    let sock = match &plan.route {
        Route::Local { folder, candidates } => {
            let preamble = Preamble {
                caller: ctx.location.claim(),
                service: addr.service_id,
            };
            dial_local(ctx, *folder, candidates, preamble, deadline, &what)?
        }
        Route::Hybrid { path, port } => dial_hybrid(path, *port, deadline, &what)?,
        Route::Vsock { cid, port } => dial_vsock(*cid, *port, deadline, &what)?,
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

fn dial_local(
    ctx: &Context,
    folder: route::Folder,
    candidates: &[Selector],
    preamble: Preamble,
    deadline: Instant,
    what: &dyn Fn() -> String,
) -> io::Result<Socket> {
    rundir::check_trusted(&ctx.dirs.runtime, || {
        snapshot::settings(&ctx.dirs)?.group_id()
    })?;
    // One non-blocking socket serves every candidate: a Unix connect that fails
    // (no socket file, a stale one) leaves the socket unconnected and reusable. Being
    // non-blocking from socket(2) on, the handshake needs no timeouts set and cleared:
    // the connection costs socket, connect, send, poll, recv and one ioctl.
    let sock = Socket::new(Domain::UNIX, Type::STREAM.nonblocking().cloexec(), None)?;
    for sel in candidates {
        let path = rundir::socket_path(&ctx.dirs.runtime, folder, preamble.service, *sel);
        let sa = SockAddr::unix(&path).map_err(|e| rundir::path_error(&path, e))?;
        match connect_unix(&sock, &sa, deadline, what) {
            Ok(()) => {}
            // No socket file, or a stale one: try the next, less specific listener.
            Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::ConnectionRefused) => {
                continue;
            }
            Err(e) => return Err(e),
        }
        local_handshake(&sock, preamble, deadline, what)?;
        crate::sys::set_blocking(&sock)?;
        return Ok(sock);
    }
    Err(err(
        ErrorKind::ConnectionRefused,
        format!(
            "{}: nothing listens on service {}",
            what(),
            preamble.service
        ),
    ))
}

/// Non-blocking `connect(2)` of a Unix socket, which completes at once or fails
/// with `EAGAIN` while the listener's backlog is full (then it is retried until the
/// deadline).
fn connect_unix(
    sock: &Socket,
    addr: &SockAddr,
    deadline: Instant,
    what: &dyn Fn() -> String,
) -> io::Result<()> {
    loop {
        remaining(deadline, what)?;
        match sock.connect(addr) {
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            r => return r,
        }
    }
}

fn local_handshake(
    sock: &Socket,
    preamble: Preamble,
    deadline: Instant,
    what: &dyn Fn() -> String,
) -> io::Result<()> {
    if let Err(e) = write_all_deadline(sock, &preamble.encode(), deadline, what) {
        // The listener may have answered (busy, refused) and closed before the preamble
        // went out: its reply, read below, says why better than EPIPE.
        if !matches!(e.kind(), ErrorKind::BrokenPipe | ErrorKind::ConnectionReset) {
            return Err(e);
        }
    }
    let mut hdr = [0u8; REPLY_LEN];
    read_exact_deadline(sock, &mut hdr, deadline, what)?;
    let h = handshake::decode_reply_header(&hdr)?;
    if h.status != Status::Ok {
        let mut len = [0u8; 2];
        read_exact_deadline(sock, &mut len, deadline, what)?;
        let mut msg = vec![0u8; u16::from_le_bytes(len) as usize];
        read_exact_deadline(sock, &mut msg, deadline, what)?;
        return Err(err(
            h.status.error_kind(),
            format!("{}: {}", what(), handshake::decode_reply_message(&msg)),
        ));
    }
    Ok(())
}

/// Waits until the non-blocking `sock` is ready for `events`, or the deadline.
fn wait_ready(
    sock: &Socket,
    events: i16,
    deadline: Instant,
    what: &dyn Fn() -> String,
) -> io::Result<()> {
    let now = Instant::now();
    if now >= deadline {
        return Err(err(
            ErrorKind::TimedOut,
            format!("{} timed out in the handshake", what()),
        ));
    }
    crate::sys::poll_one(sock, events, deadline - now)?;
    Ok(())
}

fn write_all_deadline(
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
                wait_ready(sock, libc::POLLOUT, deadline, what)?;
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Reads exactly `buf.len()` bytes by the deadline. It polls before each read: the
/// listener's reply is never there the moment the preamble has gone out.
fn read_exact_deadline(
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
        wait_ready(sock, libc::POLLIN, deadline, what)?;
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

fn dial_hybrid(
    path: &Path,
    port: u32,
    deadline: Instant,
    what: &dyn Fn() -> String,
) -> io::Result<Socket> {
    let sock = Socket::new(Domain::UNIX, Type::STREAM.cloexec(), None)?;
    let sa = SockAddr::unix(path).map_err(|e| rundir::path_error(path, e))?;
    connect_deadline(&sock, &sa, deadline, what).map_err(|e| match e.kind() {
        ErrorKind::NotFound | ErrorKind::ConnectionRefused => err(
            ErrorKind::ConnectionRefused,
            format!(
                "{}: no VMM listens on {} (is the VM running?)",
                what(),
                path.display()
            ),
        ),
        _ => e,
    })?;
    sock.set_write_timeout(Some(remaining(deadline, what)?))?;
    (&sock).write_all(&handshake::hybrid_connect_request(port))?;
    // Peek until the whole reply line is in, then consume exactly that line: bytes the
    // guest sends right after it stay in the socket for the caller.
    let mut buf = [0u8; handshake::MAX_HYBRID_REPLY];
    let mut seen = 0;
    loop {
        sock.set_read_timeout(Some(remaining(deadline, what)?))?;
        let n = match crate::sys::peek(&sock, &mut buf) {
            Ok(n) => n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Err(err(
                    ErrorKind::TimedOut,
                    format!("{}: the VMM did not answer CONNECT {port}", what()),
                ));
            }
            Err(e) if e.kind() == ErrorKind::ConnectionReset => 0,
            Err(e) => return Err(e),
        };
        let bytes = &buf[..n];
        if n == 0 {
            return Err(err(
                ErrorKind::ConnectionRefused,
                format!("{}: nothing listens on port {port} in the VM", what()),
            ));
        }
        match handshake::parse_hybrid_reply(bytes) {
            Ok(Some(len)) => {
                let mut line = vec![0u8; len];
                (&sock).read_exact(&mut line)?;
                break;
            }
            Ok(None) => {
                if n == seen {
                    std::thread::sleep(Duration::from_millis(1));
                }
                seen = n;
            }
            Err(e) => {
                return Err(err(
                    ErrorKind::ConnectionRefused,
                    format!("{}: {e}", what()),
                ));
            }
        }
    }
    sock.set_read_timeout(None)?;
    sock.set_write_timeout(None)?;
    Ok(sock)
}

fn dial_vsock(
    cid: u32,
    port: u32,
    deadline: Instant,
    what: &dyn Fn() -> String,
) -> io::Result<Socket> {
    let sock = Socket::new(Domain::VSOCK, Type::STREAM.cloexec(), None)?;
    connect_deadline(&sock, &SockAddr::vsock(cid, port), deadline, what).map_err(|e| {
        match e.kind() {
            // AF_VSOCK reports a missing listener as a reset.
            ErrorKind::ConnectionReset | ErrorKind::ConnectionRefused => err(
                ErrorKind::ConnectionRefused,
                format!(
                    "{}: nothing listens on vsock port {port} (CID {cid})",
                    what()
                ),
            ),
            ErrorKind::TimedOut | ErrorKind::WouldBlock => {
                err(ErrorKind::TimedOut, format!("{} timed out", what()))
            }
            _ => err(e.kind(), format!("{}: {e}", what())),
        }
    })?;
    Ok(sock)
}
