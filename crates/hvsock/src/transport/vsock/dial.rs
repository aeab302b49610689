//! The vsock transport's connecting side: a kernel AF_VSOCK connect.

use crate::error::HvError;
use crate::policy::err;
use crate::transport::deadline::connect_deadline;
use socket2::{Domain, SockAddr, Socket, Type};
use std::io::{self, ErrorKind};
use std::time::{Duration, Instant};

pub(crate) fn dial_vsock(
    cid: u32,
    port: u32,
    deadline: Instant,
    what: &dyn Fn() -> String,
) -> io::Result<Socket> {
    let sock = Socket::new(Domain::VSOCK, Type::STREAM.cloexec(), None)?;
    // The kernel's own connect timeout (2 s by default) would cut a longer deadline short.
    let left = deadline.saturating_duration_since(Instant::now());
    crate::sys::set_vsock_connect_timeout(&sock, left.max(Duration::from_millis(1)))?;
    connect_deadline(&sock, &SockAddr::vsock(cid, port), deadline, what).map_err(|e| {
        match e.kind() {
            // AF_VSOCK reports a missing listener as a reset.
            ErrorKind::ConnectionReset | ErrorKind::ConnectionRefused => HvError::NothingListens {
                target: what(),
                on: format!("vsock port {port} (CID {cid})"),
            }
            .into(),
            ErrorKind::TimedOut | ErrorKind::WouldBlock => HvError::TimedOut {
                what: what(),
                during: "",
            }
            .into(),
            // ENODEV: no VM of that CID (host), no vsock transport yet (guest): the
            // VM is not up, which a waiting dialer tries again.
            _ if e.raw_os_error() == Some(libc::ENODEV) => err(
                ErrorKind::HostUnreachable,
                format!(
                    "{}: no vsock device reaches CID {cid} (the VM is not running, or its vsock driver is not loaded yet)",
                    what()
                ),
            ),
            _ => err(e.kind(), format!("{}: {e}", what())),
        }
    })?;
    Ok(sock)
}
