//! The vsock transport's accepting side: one AF_VSOCK listening socket; the peer's CID,
//! as the kernel reports it, says which partition connected.

use crate::config::partitions::{PartitionKind, PartitionTable};
use crate::net::accept::{ACCEPT_BATCH, BACKLOG, Core, Source, is_transient};
use crate::policy::{Location, Relation, VmSet, err};
use socket2::{Domain, SockAddr, Socket, Type};
use std::io::{self, ErrorKind};

pub(crate) fn accept_vsock_batch(
    listener: &Socket,
    out: &mut Vec<(Socket, u32)>,
) -> io::Result<()> {
    for _ in 0..ACCEPT_BATCH {
        match crate::sys::accept_nonblocking(listener) {
            Ok((s, a)) => {
                if let Some((cid, _)) = a.as_vsock_address() {
                    out.push((s, cid));
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
            Err(e) if is_transient(&e) => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

impl Core {
    /// For a wildcard host listener: starts listening on AF_VSOCK once the table has a
    /// `--cid` VM (only such a table makes the host listen there).
    pub(crate) fn refresh_vsock(&mut self, table: &PartitionTable) {
        if !self.vsock_held
            && table
                .partitions()
                .iter()
                .any(|p| matches!(p.kind, PartitionKind::Cid { .. }))
        {
            // Only a table with --cid VMs makes the host listen on AF_VSOCK.
            let _ = self.bind_vsock();
        }
    }

    pub(crate) fn bind_vsock(&mut self) -> io::Result<()> {
        let sock = Socket::new(Domain::VSOCK, Type::STREAM.cloexec(), None)?;
        sock.bind(&SockAddr::vsock(
            crate::sys::VMADDR_CID_ANY,
            self.addr.service_id.port(),
        ))
        .map_err(|e| {
            err(
                e.kind(),
                format!(
                    "cannot listen on vsock port {}: {e}",
                    self.addr.service_id.port()
                ),
            )
        })?;
        sock.listen(BACKLOG)?;
        sock.set_nonblocking(true)?;
        self.add(Source::Vsock(sock))?;
        self.vsock_held = true;
        Ok(())
    }

    /// The relation of a vsock peer, from the CID the kernel reports (never from bytes).
    pub(crate) fn vsock_peer(&self, cid: u32) -> Option<Relation> {
        match self.ctx.location {
            Location::Guest => (cid == crate::VSOCK_HOST_CID).then_some(Relation::Parent),
            Location::Host => {
                let p = self.table.by_cid(cid)?;
                match self.plan.vsock {
                    VmSet::All => Some(Relation::Child(p.id)),
                    VmSet::One(id) if id == p.id => Some(Relation::Child(p.id)),
                    _ => None,
                }
            }
            Location::Local(_) => None,
        }
    }
}
