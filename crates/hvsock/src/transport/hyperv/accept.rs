//! The listening side on Windows: one AF_HYPERV socket; Windows routes, and `accept`
//! reports the peer's VM id.

use super::errors::bind_error;
use crate::addr::{HvAddr, VmId};
use crate::context::Context;
use crate::stats::{Meter, Region};
use crate::transport::hyperv::Family;
use socket2::Socket;
use std::io::{self, ErrorKind};

/// A connection's count against a listener's per-partition limit. Windows enforces its
/// own limits and hvsock keeps none there, so no value of this type exists.
#[derive(Debug)]
pub(crate) enum Ticket {}

/// A bound, listening socket.
#[derive(Debug)]
pub(crate) struct Listening {
    sock: Socket,
    addr: HvAddr,
    family: Family,
    /// Where its accepts are counted (refusals happen in Windows, unseen).
    stats: &'static Region,
}

/// What [`Listening::into_parts`] gives: the socket and what rebuilds the listener.
pub(crate) type Parts = (Socket, HvAddr, Family, &'static Region);

/// Counts a connection `stats`'s listener on `addr` accepted from `peer` and opens it.
pub(crate) fn accepted(stats: &'static Region, addr: HvAddr, peer: HvAddr) -> Meter {
    Meter::open(stats, addr.service_id, peer.vm_id, true)
}

impl Listening {
    /// Binds and listens on `addr` (wildcards included: Windows resolves them).
    pub(crate) fn bind(ctx: &Context, addr: HvAddr) -> io::Result<Listening> {
        super::check_root(ctx)?;
        if addr.vm_id == VmId::BROADCAST {
            return Err(io::Error::new(
                ErrorKind::InvalidInput,
                "cannot listen on BROADCAST: it has no meaning for stream sockets",
            ));
        }
        super::check_enabled(ctx, addr.service_id)?;
        let sock = ctx.family.socket()?;
        sock.bind(&ctx.family.sockaddr(&addr))
            .map_err(|e| bind_error(e, addr))?;
        sock.listen(128).map_err(|e| bind_error(e, addr))?;
        Ok(Listening {
            sock,
            addr,
            family: ctx.family,
            stats: crate::stats::region(&ctx.dirs),
        })
    }

    /// The next connection, its peer and its counters (WouldBlock in non-blocking
    /// mode).
    pub(crate) fn accept(&self) -> io::Result<(Socket, HvAddr, Meter)> {
        let (sock, from) = self.sock.accept()?;
        // An accepted socket inherits non-blocking mode from the listener: streams
        // start blocking, as on Unix.
        sock.set_nonblocking(false)?;
        let peer = self.family.peer(&from, self.addr.service_id);
        Ok((sock, peer, accepted(self.stats, self.addr, peer)))
    }

    /// The address bound.
    pub(crate) fn local_addr(&self) -> HvAddr {
        self.addr
    }

    /// The listening socket.
    pub(crate) fn socket(&self) -> &Socket {
        &self.sock
    }

    /// Splits into the socket and what is needed to rebuild the listener.
    pub(crate) fn into_parts(self) -> Parts {
        (self.sock, self.addr, self.family, self.stats)
    }

    /// Rebuilds a listener from [`into_parts`](Self::into_parts).
    pub(crate) fn from_parts((sock, addr, family, stats): Parts) -> Listening {
        Listening {
            sock,
            addr,
            family,
            stats,
        }
    }
}
