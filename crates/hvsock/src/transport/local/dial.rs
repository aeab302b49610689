//! The local transport's connecting side: a Unix socket in the runtime dir, the
//! 40-byte preamble, and the listener's reply.

use super::rundir;
use super::wire::{self, Preamble, REPLY_LEN, Status};
use crate::config::snapshot;
use crate::context::Context;
use crate::error::HvError;
use crate::policy::{Folder, Selector};
use crate::transport::deadline::{read_exact_deadline, retry_connect, write_all_deadline};
use socket2::{Domain, SockAddr, Socket, Type};
use std::io::{self, ErrorKind};
use std::time::Instant;

pub(crate) fn dial_local(
    ctx: &Context,
    folder: Folder,
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
    Err(HvError::NothingListens {
        target: what(),
        on: format!("service {}", preamble.service),
    }
    .into())
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
    retry_connect(deadline, what, |_| match sock.connect(addr) {
        // Interrupted before it completed: try again (after the backlog pause).
        Err(e) if e.kind() == ErrorKind::Interrupted => Err(ErrorKind::WouldBlock.into()),
        r => r,
    })
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
    let h = wire::decode_reply_header(&hdr)?;
    if h.status != Status::Ok {
        let mut len = [0u8; 2];
        read_exact_deadline(sock, &mut len, deadline, what)?;
        let mut msg = vec![0u8; u16::from_le_bytes(len) as usize];
        read_exact_deadline(sock, &mut msg, deadline, what)?;
        let (target, message) = (what(), wire::decode_reply_message(&msg));
        return Err(match h.status {
            Status::Busy => HvError::Busy { target, message },
            status => HvError::Refused {
                target,
                status,
                message,
            },
        }
        .into());
    }
    Ok(())
}
