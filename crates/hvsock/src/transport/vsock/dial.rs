//! The vsock transport's connecting side: a kernel AF_VSOCK connect.

use crate::net::dial::connect_deadline;
use crate::policy::err;
use socket2::{Domain, SockAddr, Socket, Type};
use std::io::{self, ErrorKind};
use std::time::Instant;

pub(crate) fn dial_vsock(
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
