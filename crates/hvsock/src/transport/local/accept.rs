//! The local transport's accepting side: reads the preamble of each connection without
//! blocking anyone else, checks who the caller may be (the kernel's peer uid, the
//! partition table, the listener's selector, the registry) and answers.

use super::rundir;
use super::wire::{self, PREAMBLE_LEN, Preamble, PreambleError, Status};
use crate::addr::VmId;
use crate::config::snapshot;
use crate::error::HvError;
use crate::net::accept::BACKLOG;
use crate::net::accept::{Core, Source};
use crate::policy::{self, Selector, err};
use crate::stats::{Reason, UNKNOWN_PEER};
use socket2::Socket;
use std::io::{self, ErrorKind, Read, Write};
use std::time::Instant;

pub(crate) struct Pending {
    pub(crate) sock: Socket,
    pub(crate) buf: [u8; PREAMBLE_LEN],
    pub(crate) len: usize,
    pub(crate) deadline: Instant,
}

/// Reads what is there of a preamble: `Ok(Some)` complete, `Ok(None)` more to come,
/// `Err(Some(e))` malformed, `Err(None)` the peer went away.
pub(crate) fn read_preamble(p: &mut Pending) -> Result<Option<Preamble>, Option<PreambleError>> {
    loop {
        match (&p.sock).read(&mut p.buf[p.len..]) {
            Ok(0) => return Err(None),
            Ok(n) => {
                p.len += n;
                match Preamble::decode(&p.buf[..p.len]) {
                    Ok(Some(pre)) => return Ok(Some(pre)),
                    Ok(None) => continue,
                    Err(e) => return Err(Some(e)),
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(None),
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => return Err(None),
        }
    }
}

pub(crate) fn reply(sock: &Socket, status: Status, message: &str) {
    // The reply is tiny and the socket buffer empty: a non-blocking write takes it whole.
    let _ = (&*sock).write_all(&wire::encode_reply(status, message));
}

/// The text of a refusal for the registry's sake, as the peer's user reads it. The
/// words on the wire are those of the first protocol version, what to run on the host
/// included: a peer (often another machine, any version) shows them verbatim, and has
/// no typed error to hint from.
fn refusal_text(e: &io::Error) -> String {
    match HvError::of(e) {
        Some(HvError::Disabled { service, .. }) => {
            format!("{e}; enable it with `hvsock service enable {service}`")
        }
        Some(HvError::NotRegistered { service }) => {
            format!("{e}; register it with `hvsock service add NAME --id {service}`")
        }
        _ => e.to_string(),
    }
}

impl Core {
    /// Claims this partition's socket file for the listener's selector.
    pub(crate) fn bind_local(&mut self, sel: Selector) -> io::Result<()> {
        let folder = self.ctx.location.folder();
        let gid = snapshot::settings(&self.ctx.dirs)?.group_id()?;
        rundir::ensure_dirs(
            &self.ctx.dirs.runtime,
            &rundir::folder_path(&self.ctx.dirs.runtime, folder),
            gid,
        )?;
        let path = rundir::socket_path(&self.ctx.dirs.runtime, folder, self.addr.service_id, sel);
        let claimed = rundir::claim(&path, BACKLOG).map_err(|e| {
            if rundir::is_in_use(&e) {
                err(
                    ErrorKind::AddrInUse,
                    format!("{} is already bound in this partition", self.addr),
                )
            } else {
                e
            }
        })?;
        rundir::set_socket_access(claimed.path(), gid)?;
        self.add(Source::Local(claimed))?;
        Ok(())
    }

    /// Reads on from a handshake in progress (its socket was readable).
    pub(crate) fn handle_pending(&mut self, token: u64) {
        let Some(Source::Pending(p)) = self.sources.get_mut(&token) else {
            return;
        };
        match read_preamble(p) {
            Ok(None) => {}
            Ok(Some(pre)) => {
                let Some(Source::Pending(p)) = self.remove(token) else {
                    unreachable!()
                };
                self.finish_local(p.sock, pre);
            }
            Err(e) => {
                let Some(Source::Pending(p)) = self.remove(token) else {
                    unreachable!()
                };
                match e {
                    Some(e) => {
                        self.refuse(UNKNOWN_PEER, Reason::BadPreamble);
                        reply(&p.sock, Status::BadRequest, &e.to_string());
                    }
                    None => self.refuse(UNKNOWN_PEER, Reason::Aborted),
                }
            }
        }
    }

    pub(crate) fn start_handshake(&mut self, sock: Socket) -> io::Result<()> {
        let mut p = Pending {
            sock,
            buf: [0; PREAMBLE_LEN],
            len: 0,
            deadline: Instant::now() + self.handshake_timeout,
        };
        // The preamble usually arrived with the connection: finish without a round
        // through epoll.
        match read_preamble(&mut p) {
            Ok(Some(pre)) => {
                self.finish_local(p.sock, pre);
                Ok(())
            }
            Ok(None) if self.pending >= self.max_pending => {
                let busy = format!(
                    "the listener has {} handshakes in progress (max_pending_handshakes)",
                    self.pending
                );
                // The oldest handshake has had the longest to send 40 bytes: it makes
                // room. So silent peers holding every slot cannot lock out a client
                // whose preamble follows its connect by microseconds.
                match self.oldest_pending() {
                    Some(old) => {
                        if let Some(Source::Pending(old)) = self.remove(old) {
                            self.refuse(UNKNOWN_PEER, Reason::BusyHandshakes);
                            reply(&old.sock, Status::Busy, &busy);
                        }
                        self.add(Source::Pending(p)).map(|_| ())
                    }
                    None => {
                        self.refuse(UNKNOWN_PEER, Reason::BusyHandshakes);
                        reply(&p.sock, Status::Busy, &busy);
                        Ok(())
                    }
                }
            }
            Ok(None) => self.add(Source::Pending(p)).map(|_| ()),
            Err(Some(e)) => {
                self.refuse(UNKNOWN_PEER, Reason::BadPreamble);
                reply(&p.sock, Status::BadRequest, &e.to_string());
                Ok(())
            }
            Err(None) => {
                self.refuse(UNKNOWN_PEER, Reason::Aborted);
                Ok(())
            }
        }
    }

    /// The token of the handshake in progress that started first.
    pub(crate) fn oldest_pending(&self) -> Option<u64> {
        self.sources
            .iter()
            .filter(|(_, s)| matches!(s, Source::Pending(_)))
            .map(|(t, _)| *t)
            .min()
    }

    pub(crate) fn finish_local(&mut self, sock: Socket, pre: Preamble) {
        if pre.service != self.addr.service_id {
            self.refuse(pre.caller, Reason::BadPreamble);
            reply(
                &sock,
                Status::BadRequest,
                &format!(
                    "this listener serves {}, not {}",
                    self.addr.service_id, pre.service
                ),
            );
            return;
        }
        if let Ok(t) = snapshot::table(&self.ctx.dirs) {
            self.table = t;
        }
        let Some(rel) = policy::relation(self.ctx.location, pre.caller, &self.table) else {
            self.refuse(pre.caller, Reason::NotAllowed);
            reply(
                &sock,
                Status::Refused,
                &format!("partition {} may not connect here", pre.caller),
            );
            return;
        };
        if let Err(msg) = self.check_peer_uid(&sock, pre.caller) {
            // The kernel's word contradicts the claim: who connected is not known, and
            // counting it under the claimed partition would blame that partition.
            self.refuse(UNKNOWN_PEER, Reason::BadCredentials);
            reply(&sock, Status::PermissionDenied, &msg);
            return;
        }
        if !self
            .selector
            .is_some_and(|s| s.accepts(rel, self.ctx.location))
        {
            self.refuse(rel.peer_vm_id(), Reason::NotAllowed);
            reply(
                &sock,
                Status::Refused,
                "this listener does not accept that partition",
            );
            return;
        }
        if let Err(e) = self.check_crossing(rel) {
            self.refuse(rel.peer_vm_id(), crate::net::accept::crossing_reason(&e));
            reply(&sock, Status::PermissionDenied, &refusal_text(&e));
            return;
        }
        match self.reserve(rel) {
            Ok(ticket) => {
                reply(&sock, Status::Ok, "");
                self.push(sock, rel, ticket);
            }
            Err(msg) => {
                self.refuse(rel.peer_vm_id(), Reason::BusyPartition);
                reply(&sock, Status::Busy, &msg)
            }
        }
    }

    /// The claimed partition must fit the kernel's word on who connected: a partition
    /// with an owner uid only from that user (or root); the root partition only from
    /// root or the runtime dir's owner.
    pub(crate) fn check_peer_uid(&self, sock: &Socket, claim: VmId) -> Result<(), String> {
        use std::os::unix::fs::MetadataExt;
        let uid = crate::sys::peer_uid(sock).map_err(|e| format!("peer credentials: {e}"))?;
        if uid == 0 {
            return Ok(());
        }
        if claim == VmId::ZERO {
            let owner = std::fs::metadata(&self.ctx.dirs.runtime)
                .map(|m| m.uid())
                .map_err(|e| e.to_string())?;
            return if uid == owner {
                Ok(())
            } else {
                Err(format!("uid {uid} may not act as the root partition"))
            };
        }
        match self.table.get(claim).and_then(|p| p.uid) {
            Some(owner) if owner != uid => Err(format!(
                "uid {uid} may not act as partition {claim} (owned by uid {owner})"
            )),
            _ => Ok(()),
        }
    }
}
