//! The hybrid transport's connecting side: the VMM's Unix socket, `CONNECT <port>`
//! (or OpenVMM's `CONNECT <guid>`), and its `OK` line.

use super::wire;
use crate::addr::ServiceId;
use crate::error::HvError;
use crate::policy::err;
use crate::transport::deadline::{connect_deadline, remaining};
use crate::transport::local::rundir;
use socket2::{Domain, SockAddr, Socket, Type};
use std::io::{self, ErrorKind, Read, Write};
use std::path::Path;
use std::time::{Duration, Instant};

/// Connects through the VMM's socket at `path` to the guest's `port`, or to the
/// service `guid` where the VMM takes it by GUID.
pub(crate) fn dial_hybrid(
    path: &Path,
    port: u32,
    guid: Option<ServiceId>,
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
    let (request, asked, on) = match guid {
        Some(s) => (
            wire::hybrid_connect_request_guid(s),
            s.to_string(),
            format!("service {s} in the VM"),
        ),
        None => (
            wire::hybrid_connect_request(port),
            port.to_string(),
            format!("port {port} in the VM"),
        ),
    };
    sock.set_write_timeout(Some(remaining(deadline, what)?))?;
    (&sock).write_all(&request)?;
    // Peek until the whole reply line is in, then consume exactly that line: bytes the
    // guest sends right after it stay in the socket for the caller.
    let mut buf = [0u8; wire::MAX_HYBRID_REPLY];
    let mut seen = 0;
    loop {
        sock.set_read_timeout(Some(remaining(deadline, what)?))?;
        let n = match crate::sys::peek(&sock, &mut buf) {
            Ok(n) => n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Err(err(
                    ErrorKind::TimedOut,
                    format!("{}: the VMM did not answer CONNECT {asked}", what()),
                ));
            }
            Err(e) if e.kind() == ErrorKind::ConnectionReset => 0,
            Err(e) => return Err(e),
        };
        let bytes = &buf[..n];
        if n == 0 {
            return Err(HvError::NothingListens { target: what(), on }.into());
        }
        match wire::parse_hybrid_reply(bytes) {
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
