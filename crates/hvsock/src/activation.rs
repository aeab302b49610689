//! systemd socket activation (Unix): serve the listening sockets a service manager
//! passed (`LISTEN_PID`, `LISTEN_FDS`, `LISTEN_FDNAMES`; descriptors from 3 on) as an
//! [`HvListener`], instead of binding.
//!
//! A `.socket` unit (with `Accept=no`) creates the socket that binding the address
//! would have created, and [`HvListener::from_systemd`] serves it:
//! - in a VM guest, the AF_VSOCK socket on the service's port (its `Data1`), e.g.
//!   `ListenStream=vsock::18518` for the agent; peers are known by their CID, as for a
//!   bind (the host is CID 2);
//! - on a host, in a guest's own root or in a local partition, the local listener's
//!   Unix socket, at the path [`socket_path`] gives (the runtime dir's layout), e.g.
//!   `ListenStream=/run/hvsock/host/<service>.any`.
//!
//! Each passed socket must be one that binding the address would claim, or the
//! listener refuses it with an error that says what was expected; the listener serves
//! only what was passed (a host's hybrid-vsock VMs are bound only by a plain bind).
//! The socket file of a passed Unix socket stays in place when the listener closes: it
//! is systemd's, for the next start.

use crate::addr::{HvAddr, ToHvAddr};
use crate::context::Context;
use crate::net::accept::{Core, Source};
use crate::net::listener::HvListener;
use crate::policy::{Location, VmSet, err};
use crate::sys::SocketKind;
use crate::transport::local::rundir;
use socket2::Socket;
use std::io::{self, ErrorKind};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::PathBuf;

/// The first descriptor systemd passes (`SD_LISTEN_FDS_START`).
pub const LISTEN_FDS_START: RawFd = 3;

pub use crate::sys::clear_listen_env;

/// A descriptor passed by systemd, with its name (`FileDescriptorName=`; by default
/// the socket unit's name), when `LISTEN_FDNAMES` gave one.
#[derive(Debug)]
pub struct ListenFd {
    /// The descriptor, owned now (and close-on-exec).
    pub fd: OwnedFd,
    /// Its name from `LISTEN_FDNAMES`.
    pub name: Option<String>,
}

impl From<OwnedFd> for ListenFd {
    fn from(fd: OwnedFd) -> ListenFd {
        ListenFd { fd, name: None }
    }
}

impl ListenFd {
    /// `fd 3 (hvsock-agent.socket)`, for messages.
    fn describe(&self) -> String {
        match &self.name {
            Some(n) => format!("fd {} ({n})", self.fd.as_raw_fd()),
            None => format!("fd {}", self.fd.as_raw_fd()),
        }
    }
}

/// Whether systemd passed descriptors to this process: `LISTEN_PID` is this process's
/// id and `LISTEN_FDS` is set.
pub fn is_activated() -> bool {
    let pid = std::env::var("LISTEN_PID").ok();
    pid.is_some_and(|p| p.parse::<u32>().ok() == Some(crate::sys::getpid()))
        && std::env::var_os("LISTEN_FDS").is_some()
}

/// From the variables' values: `None` when they are not for `pid` (no `LISTEN_PID`, or
/// another process's: inherited from a parent), else one name per descriptor.
fn parse(
    pid: u32,
    listen_pid: Option<&str>,
    listen_fds: Option<&str>,
    names: Option<&str>,
) -> io::Result<Option<Vec<Option<String>>>> {
    let Some(listen_pid) = listen_pid else {
        return Ok(None);
    };
    let bad = |what: String| err(ErrorKind::InvalidInput, what);
    let for_pid: u32 = listen_pid
        .trim()
        .parse()
        .map_err(|_| bad(format!("LISTEN_PID={listen_pid:?} is not a process id")))?;
    if for_pid != pid {
        return Ok(None);
    }
    let Some(listen_fds) = listen_fds else {
        return Ok(None);
    };
    let n: usize = listen_fds
        .trim()
        .parse()
        .map_err(|_| bad(format!("LISTEN_FDS={listen_fds:?} is not a number")))?;
    if n > 4096 {
        return Err(bad(format!(
            "LISTEN_FDS={n} is more descriptors than hvsock takes"
        )));
    }
    let names = match names {
        None => vec![None; n],
        Some(s) => {
            let v: Vec<Option<String>> = s.split(':').map(|n| Some(n.to_string())).collect();
            if v.len() != n {
                return Err(bad(format!(
                    "LISTEN_FDNAMES names {} descriptors but LISTEN_FDS={n}",
                    v.len()
                )));
            }
            v
        }
    };
    Ok(Some(names))
}

/// Takes the descriptors systemd passed to this process (close-on-exec from now on),
/// with their names. Empty when there are none for this process: no `LISTEN_PID`, or
/// another process's (the variables were inherited), or `LISTEN_FDS=0`.
///
/// The variables stay set (see [`clear_listen_env`]); a second call is an error, since
/// each descriptor has one owner.
pub fn listen_fds() -> io::Result<Vec<ListenFd>> {
    let var = |v| std::env::var(v).ok();
    let names = parse(
        crate::sys::getpid(),
        var("LISTEN_PID").as_deref(),
        var("LISTEN_FDS").as_deref(),
        var("LISTEN_FDNAMES").as_deref(),
    )?;
    let Some(names) = names else {
        return Ok(Vec::new());
    };
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let fds = crate::sys::take_inherited_fds(LISTEN_FDS_START, names.len())?;
    Ok(fds
        .into_iter()
        .zip(names)
        .map(|(fd, name)| ListenFd { fd, name })
        .collect())
}

/// The path of the Unix socket a local listener for `addr` uses in `ctx`'s partition
/// (what a `.socket` unit's `ListenStream=` names), or `None` where binding `addr`
/// claims no local socket (`PARENT` in a guest: AF_VSOCK only).
pub fn socket_path(ctx: &Context, addr: impl ToHvAddr) -> io::Result<Option<PathBuf>> {
    let addr = addr.to_hv_addr(ctx.dirs())?;
    let core = Core::planned(ctx, addr)?;
    Ok(local_path(&core))
}

fn local_path(core: &Core) -> Option<PathBuf> {
    let sel = core.plan.local?;
    Some(rundir::socket_path(
        &core.ctx.dirs.runtime,
        core.ctx.location.folder(),
        core.addr.service_id,
        sel,
    ))
}

impl HvListener {
    /// Serves the listening sockets systemd passed to this process (socket
    /// activation; see [`activation`](crate::activation)) as a listener for `addr`, in
    /// `ctx`'s partition.
    ///
    /// Errors: `NotFound` when systemd passed nothing to this process, `InvalidInput`
    /// for a descriptor that is not a listening stream socket or not one that binding
    /// `addr` would claim (the message says which was expected), and what
    /// [`HvListener::bind`] gives for `addr` itself (e.g. an unregistered service).
    ///
    /// ```no_run
    /// // In a guest, with `ListenStream=vsock::5000` in the socket unit:
    /// use hvsock::{Context, HvListener, ServiceId, VmId};
    /// let ctx = Context::from_env()?;
    /// let l = HvListener::from_systemd(&ctx, (VmId::PARENT, ServiceId::from_vsock_port(5000)))?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn from_systemd(ctx: &Context, addr: impl ToHvAddr) -> io::Result<HvListener> {
        let fds = listen_fds()?;
        if fds.is_empty() {
            return Err(err(
                ErrorKind::NotFound,
                "systemd passed no socket to this process (LISTEN_FDS and LISTEN_PID are \
                 not set for it): start it from a .socket unit",
            ));
        }
        HvListener::from_listen_fds(ctx, addr, fds)
    }

    /// Serves listening sockets passed some other way, checked as in
    /// [`from_systemd`](Self::from_systemd).
    pub fn from_listen_fds(
        ctx: &Context,
        addr: impl ToHvAddr,
        fds: impl IntoIterator<Item = ListenFd>,
    ) -> io::Result<HvListener> {
        let addr = addr.to_hv_addr(ctx.dirs())?;
        Ok(HvListener::from_core(adopt(ctx, addr, fds)?))
    }
}

/// An accept loop for `addr` over the passed sockets, each checked against the plan
/// of a bind.
fn adopt(ctx: &Context, addr: HvAddr, fds: impl IntoIterator<Item = ListenFd>) -> io::Result<Core> {
    let mut core = Core::planned(ctx, addr)?;
    let (mut local, mut vsock) = (false, false);
    let bad = |what: String| err(ErrorKind::InvalidInput, what);
    for fd in fds {
        let what = fd.describe();
        match crate::sys::socket_kind(&fd.fd)? {
            SocketKind::NotSocket => return Err(bad(format!("{what} is not a socket"))),
            SocketKind::NotStream => {
                return Err(bad(format!(
                    "{what} is not a stream socket: use ListenStream="
                )));
            }
            SocketKind::NotListening => {
                return Err(bad(format!(
                    "{what} is not a listening socket: use Accept=no (Accept=yes passes \
                     one connection)"
                )));
            }
            SocketKind::Other(family) => {
                return Err(bad(format!(
                    "{what} is a socket of address family {family}: hvsock serves AF_UNIX \
                     (a local listener's socket) and AF_VSOCK (in a guest)"
                )));
            }
            SocketKind::Unix => {
                let expected = local_path(&core).ok_or_else(|| {
                    bad(format!(
                        "{what} is a Unix socket, but {addr} has no local listener socket \
                         here (in a guest, PARENT is reached over AF_VSOCK: ListenStream=vsock::{})",
                        addr.service_id.port()
                    ))
                })?;
                if local {
                    return Err(bad(format!("{what} is a second Unix socket for {addr}")));
                }
                let sock = Socket::from(fd.fd);
                let at = sock.local_addr()?;
                let path = at.as_pathname().map(PathBuf::from);
                if path.as_deref() != Some(expected.as_path()) {
                    return Err(bad(format!(
                        "{what} is the Unix socket {}, but the listener of {addr} is {}: \
                         set ListenStream={}",
                        path.map_or("(unnamed)".into(), |p| p.display().to_string()),
                        expected.display(),
                        expected.display()
                    )));
                }
                let claimed = rundir::adopt(sock, &expected).map_err(|e| {
                    if rundir::is_in_use(&e) {
                        err(
                            ErrorKind::AddrInUse,
                            format!("{addr} is already bound in this partition"),
                        )
                    } else {
                        e
                    }
                })?;
                core.add(Source::Local(claimed))?;
                local = true;
            }
            SocketKind::Vsock => {
                if vsock {
                    return Err(bad(format!(
                        "{what} is a second AF_VSOCK socket for {addr}"
                    )));
                }
                if !core.plan.guest_vsock && core.plan.vsock == VmSet::None {
                    let here = match ctx.location() {
                        Location::Local(_) => "a local partition has no AF_VSOCK listener",
                        _ => "binding it claims no AF_VSOCK socket here",
                    };
                    return Err(bad(format!(
                        "{what} is an AF_VSOCK socket, but {addr} does not take one: {here}"
                    )));
                }
                let sock = Socket::from(fd.fd);
                let port = sock.local_addr()?.as_vsock_address().map(|(_, p)| p);
                if port != Some(addr.service_id.port()) {
                    return Err(bad(format!(
                        "{what} listens on vsock port {}, but {addr} is port {}: set \
                         ListenStream=vsock::{}",
                        port.map_or("?".into(), |p| p.to_string()),
                        addr.service_id.port(),
                        addr.service_id.port()
                    )));
                }
                sock.set_nonblocking(true)?;
                core.add(Source::Vsock(sock))?;
                core.vsock_held = true;
                vsock = true;
            }
        }
    }
    // Serve what was passed, nothing more: no bind or claim later either.
    core.plan.hybrid = VmSet::None;
    if !vsock {
        core.plan.vsock = VmSet::None;
        core.plan.guest_vsock = false;
    }
    if !local {
        core.plan.local = None;
    }
    core.refresh(true)?;
    Ok(core)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_for_another_process_or_none_are_ignored() {
        assert!(parse(42, None, Some("1"), None).unwrap().is_none());
        assert!(parse(42, Some("41"), Some("1"), None).unwrap().is_none());
        assert!(parse(42, Some("42"), None, None).unwrap().is_none());
        assert_eq!(
            parse(42, Some("42"), Some("0"), None).unwrap(),
            Some(vec![])
        );
    }

    #[test]
    fn counts_and_names_are_parsed_and_checked() {
        assert_eq!(
            parse(7, Some("7"), Some("2"), None).unwrap(),
            Some(vec![None, None])
        );
        assert_eq!(
            parse(7, Some("7"), Some("2"), Some("a.socket:b")).unwrap(),
            Some(vec![Some("a.socket".into()), Some("b".into())])
        );
        let e = parse(7, Some("7"), Some("2"), Some("only")).unwrap_err();
        assert!(e.to_string().contains("LISTEN_FDNAMES names 1"), "{e}");
        let e = parse(7, Some("7"), Some("two"), None).unwrap_err();
        assert!(e.to_string().contains("LISTEN_FDS=\"two\""), "{e}");
        let e = parse(7, Some("x"), Some("1"), None).unwrap_err();
        assert!(e.to_string().contains("LISTEN_PID"), "{e}");
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
    }
}
