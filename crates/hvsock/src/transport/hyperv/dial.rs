//! The connecting side on Windows: one AF_HYPERV connect, with the socket options the
//! caller asked for set first.

use super::errors::connect_error;
use crate::addr::{HVSOCKET_CONNECT_TIMEOUT, HvAddr, VmId};
use crate::context::{Context, check_connect_timeout};
use crate::net::options::ConnectOptions;
use crate::net::stream::HvStream;
use crate::transport::hyperv::Family;
use std::io::{self, ErrorKind};
use std::time::Duration;

/// Connects to `addr` with the default options and `timeout`.
pub(crate) fn connect(ctx: &Context, addr: HvAddr, timeout: Duration) -> io::Result<HvStream> {
    connect_with(ctx, addr, &ConnectOptions::new().timeout(timeout))
}

/// Connects to `addr`: checks what hvsock itself decides (a root partition, no wildcard
/// target, the service not disabled in hvsock's flag), sets the options, connects.
pub(crate) fn connect_with(
    ctx: &Context,
    addr: HvAddr,
    opts: &ConnectOptions,
) -> io::Result<HvStream> {
    let timeout = opts.timeout_or_default();
    check_connect_timeout(timeout)?;
    super::check_root(ctx)?;
    if matches!(addr.vm_id, VmId::ZERO | VmId::CHILDREN | VmId::BROADCAST) {
        return Err(io::Error::new(
            ErrorKind::InvalidInput,
            format!(
                "cannot connect to {}: a wildcard VM id is for listeners; name one VM (or LOOPBACK, PARENT)",
                addr.vm_id
            ),
        ));
    }
    super::check_enabled(ctx, addr.service_id)?;
    let target = format!("connect to {addr}");
    let sock = ctx.family.socket()?;
    let dest = ctx.family.sockaddr(&addr);
    match ctx.family {
        Family::HyperV => {
            // The kernel enforces the timeout (HVSOCKET_CONNECT_TIMEOUT, in ms, at most
            // 300 000); a blocking connect then returns WSAETIMEDOUT in time.
            let ms = u32::try_from(timeout.as_millis()).unwrap_or(u32::MAX);
            crate::sys::set_hv_option(&sock, HVSOCKET_CONNECT_TIMEOUT, ms)
                .map_err(|e| connect_error(e, &target, addr))?;
            opts.apply(&sock)?;
            sock.connect(&dest)
                .map_err(|e| connect_error(e, &target, addr))?;
        }
        #[cfg(feature = "inet-standin")]
        Family::InetStandIn(_) => {
            // TCP has no HVSOCKET_* options: the stand-in checks them like Linux would.
            opts.check_unix_like()?;
            sock.connect_timeout(&dest, timeout)
                .map_err(|e| connect_error(e, &target, addr))?;
        }
    }
    Ok(HvStream::from_parts(
        sock,
        HvAddr::new(VmId::ZERO, addr.service_id),
        addr,
        None,
        // Windows' Hyper-V sockets carry a half-close as TCP does.
        crate::config::partitions::HalfClose::Carried,
        crate::stats::Meter::open(
            crate::stats::region(&ctx.dirs),
            addr.service_id,
            addr.vm_id,
            false,
        ),
    ))
}
