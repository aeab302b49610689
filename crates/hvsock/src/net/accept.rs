//! The accepting side, shared by the std and tokio listeners: one epoll set over every
//! socket a bind listens on (local, hybrid-vsock per VM, AF_VSOCK) and over the local
//! handshakes in progress, so a slow or silent peer never delays anyone else.

use crate::addr::{HvAddr, VmId};
use crate::config::partitions::{HalfClose, PartitionTable};
use crate::config::snapshot;
use crate::context::Context;
use crate::policy::{self, BindPlan, Location, Relation, Selector, VmSet};
use crate::stats::{Meter, Reason, Region};
use crate::sys::Epoll;
use crate::transport::local::accept::Pending;
use crate::transport::local::rundir::ClaimedSocket;
use crate::transport::vsock::accept::accept_vsock_batch;
use socket2::Socket;
use std::collections::{HashMap, VecDeque};
use std::io::{self, ErrorKind, Read};
use std::os::fd::{AsFd, BorrowedFd};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Listen backlog of every socket (the kernel caps it at `somaxconn`).
pub(crate) const BACKLOG: i32 = 4096;
/// How often a wildcard host listener looks for VMs added to the table.
const REFRESH: Duration = Duration::from_millis(500);
/// Connections taken from one socket per readiness event, so one busy socket cannot
/// starve the others.
pub(crate) const ACCEPT_BATCH: usize = 64;

pub(crate) enum Source {
    Local(ClaimedSocket),
    Hybrid { vm: VmId, sock: ClaimedSocket },
    Vsock(Socket),
    Pending(Pending),
}

impl Source {
    /// The descriptor epoll watches for this source.
    fn fd(&self) -> BorrowedFd<'_> {
        match self {
            Source::Local(c) | Source::Hybrid { sock: c, .. } => c.socket.as_fd(),
            Source::Vsock(s) => s.as_fd(),
            Source::Pending(p) => p.sock.as_fd(),
        }
    }
}

/// A connection ready for the user, with its peer as this side names it, the ticket
/// that counts it against its partition's limit and whether its transport carries a
/// half-close, and its counters.
pub(crate) type Accepted = (Socket, HvAddr, Option<Ticket>, HalfClose, Meter);

/// Open connections per peer partition of one listener.
type LiveCounts = Arc<Mutex<HashMap<VmId, usize>>>;

/// One open connection counted against its partition's limit; released on drop
/// (when the last clone of the stream closes).
#[derive(Debug)]
pub(crate) struct Ticket {
    live: LiveCounts,
    vm: VmId,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = live.get_mut(&self.vm) {
            *n -= 1;
            if *n == 0 {
                live.remove(&self.vm);
            }
        }
    }
}

pub(crate) struct Core {
    pub(crate) ctx: Context,
    pub(crate) addr: HvAddr,
    pub(crate) plan: BindPlan,
    pub(crate) selector: Option<Selector>,
    pub(crate) epoll: Arc<Epoll>,
    pub(crate) next_token: u64,
    pub(crate) sources: HashMap<u64, Source>,
    /// The `PATH_PORT` socket (and `PATH_<guid>`, on a GUID-form VMM) held per VM.
    pub(crate) hybrid_held: HashMap<VmId, Vec<u64>>,
    pub(crate) vsock_held: bool,
    pub(crate) ready: VecDeque<Accepted>,
    pub(crate) table: Arc<PartitionTable>,
    pub(crate) next_refresh: Instant,
    pub(crate) handshake_timeout: Duration,
    pub(crate) events: Vec<u64>,
    pub(crate) pending: usize,
    /// After running out of file descriptors: don't accept again before this, and how
    /// long the next pause is.
    pub(crate) backoff: Option<(Instant, Duration)>,
    pub(crate) max_pending: usize,
    pub(crate) max_per_partition: usize,
    pub(crate) live: LiveCounts,
    /// This process's counters for the context's runtime dir (`crate::stats`).
    pub(crate) stats: &'static Region,
}

impl Core {
    pub(crate) fn bind(ctx: &Context, addr: HvAddr) -> io::Result<Core> {
        let mut core = Core::planned(ctx, addr)?;
        let (plan, table) = (core.plan.clone(), core.table.clone());
        if let Some(sel) = plan.local {
            core.bind_local(sel)?;
        }
        if let VmSet::One(vm) = plan.hybrid {
            core.claim_hybrid(vm, &table, true)?;
        }
        if plan.guest_vsock || matches!(plan.vsock, VmSet::One(_)) {
            core.bind_vsock()?;
        }
        core.refresh(true)?;
        Ok(core)
    }

    /// A loop for `addr` with its plan and limits, listening on nothing yet (what
    /// [`bind`](Self::bind) and socket activation start from).
    pub(crate) fn planned(ctx: &Context, addr: HvAddr) -> io::Result<Core> {
        let table = snapshot::table(&ctx.dirs)?;
        let plan = policy::plan_bind(ctx.location, addr, &table)?;
        if plan.crosses && ctx.location == Location::Host {
            policy::check_registered(&*snapshot::registry(&ctx.dirs)?, addr.service_id)?;
        }
        let settings = snapshot::settings(&ctx.dirs)?;
        Ok(Core {
            ctx: ctx.clone(),
            addr,
            selector: plan.local,
            plan,
            epoll: Arc::new(Epoll::new()?),
            next_token: 0,
            sources: HashMap::new(),
            hybrid_held: HashMap::new(),
            vsock_held: false,
            ready: VecDeque::new(),
            table,
            next_refresh: Instant::now() + REFRESH,
            handshake_timeout: ctx.handshake_timeout(),
            events: Vec::new(),
            pending: 0,
            backoff: None,
            max_pending: settings
                .max_pending_handshakes
                .unwrap_or(crate::config::settings::DEFAULT_MAX_PENDING_HANDSHAKES),
            max_per_partition: settings
                .max_connections_per_partition
                .unwrap_or(crate::config::settings::DEFAULT_MAX_CONNECTIONS_PER_PARTITION),
            live: LiveCounts::default(),
            stats: crate::stats::region(&ctx.dirs),
        })
    }

    pub(crate) fn local_addr(&self) -> HvAddr {
        self.addr
    }

    pub(crate) fn add(&mut self, src: Source) -> io::Result<u64> {
        let token = self.next_token;
        self.next_token += 1;
        self.epoll.add(src.fd(), token)?;
        if matches!(src, Source::Pending(_)) {
            self.pending += 1;
        }
        self.sources.insert(token, src);
        Ok(token)
    }

    pub(crate) fn remove(&mut self, token: u64) -> Option<Source> {
        let src = self.sources.remove(&token)?;
        if matches!(src, Source::Pending(_)) {
            self.pending -= 1;
        }
        self.epoll.delete(src.fd());
        Some(src)
    }

    /// For wildcard host listeners: serve VMs added to the table since the last look,
    /// drop removed ones, and retry VMs another listener held.
    pub(crate) fn refresh(&mut self, force: bool) -> io::Result<()> {
        let dynamic = self.plan.hybrid == VmSet::All || self.plan.vsock == VmSet::All;
        if !dynamic || (!force && Instant::now() < self.next_refresh) {
            return Ok(());
        }
        self.next_refresh = Instant::now() + REFRESH;
        let table = match snapshot::table(&self.ctx.dirs) {
            Ok(t) => t,
            // A table being repaired must not take the listener down; keep the last one.
            Err(_) => self.table.clone(),
        };
        if self.plan.hybrid == VmSet::All {
            self.refresh_hybrid(&table)?;
        }
        if self.plan.vsock == VmSet::All {
            self.refresh_vsock(&table);
        }
        self.table = table;
        Ok(())
    }

    /// When the next timer (handshake deadline, refresh) is due.
    pub(crate) fn next_wakeup(&self) -> Option<Instant> {
        let dynamic = self.plan.hybrid == VmSet::All || self.plan.vsock == VmSet::All;
        let pend = self
            .sources
            .values()
            .filter_map(|s| match s {
                Source::Pending(p) => Some(p.deadline),
                _ => None,
            })
            .min();
        let refresh = dynamic.then_some(self.next_refresh);
        let paused = self.backoff.map(|(until, _)| until);
        [pend, refresh, paused].into_iter().flatten().min()
    }

    pub(crate) fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    /// The epoll set, readable when a connection may be ready.
    pub(crate) fn epoll(&self) -> Arc<Epoll> {
        self.epoll.clone()
    }

    /// Whether a connection is ready, without taking it.
    pub(crate) fn pop_peek(&self) -> Option<&Accepted> {
        self.ready.front()
    }

    /// Pops a connection ready for the user.
    pub(crate) fn pop(&mut self) -> Option<Accepted> {
        self.ready.pop_front()
    }

    /// Waits for events up to `timeout` and handles them. Returns how many socket
    /// events there were; connections that completed are queued for [`pop`](Self::pop).
    pub(crate) fn poll(&mut self, timeout: Option<Duration>) -> io::Result<usize> {
        self.refresh(false)?;
        if let Some((until, _)) = self.backoff {
            let now = Instant::now();
            if now < until {
                // Out of descriptors a moment ago: wait instead of spinning on a
                // listener that stays readable.
                let wait = until - now;
                if let Some(t) = timeout {
                    std::thread::sleep(t.min(wait));
                } else {
                    std::thread::sleep(wait);
                }
                self.expire();
                return Ok(0);
            }
        }
        let mut events = std::mem::take(&mut self.events);
        events.clear();
        let r = self.epoll.wait(timeout, &mut events);
        let n = events.len();
        let mut result = r.map(|_| n);
        for &t in &events {
            if let Err(e) = self.handle(t) {
                if crate::sys::is_exhausted(&e) {
                    let pause = self.backoff.map_or(Duration::from_millis(10), |(_, p)| {
                        (p * 2).min(Duration::from_secs(1))
                    });
                    self.backoff = Some((Instant::now() + pause, pause));
                }
                result = Err(e);
            }
        }
        if result.is_ok() && n > 0 {
            self.backoff = None;
        }
        self.events = events;
        self.expire();
        result
    }

    fn handle(&mut self, token: u64) -> io::Result<()> {
        match self.sources.get_mut(&token) {
            None => Ok(()),
            Some(Source::Local(c)) => {
                let mut batch = Vec::new();
                let r = accept_batch(&c.socket, &mut batch);
                for s in batch {
                    self.start_handshake(s)?;
                }
                r
            }
            Some(Source::Hybrid { vm, sock }) => {
                let vm = *vm;
                let mut batch = Vec::new();
                let r = accept_batch(&sock.socket, &mut batch);
                for s in batch {
                    self.admit(s, Relation::Child(vm));
                }
                r
            }
            Some(Source::Vsock(sock)) => {
                let mut batch = Vec::new();
                let r = accept_vsock_batch(sock, &mut batch);
                for (s, cid) in batch {
                    match self.vsock_peer(cid) {
                        Some(rel) => self.admit(s, rel),
                        None => {
                            let vm = self
                                .table
                                .by_cid(cid)
                                .map_or(crate::stats::UNKNOWN_PEER, |p| p.id);
                            self.refuse(vm, Reason::NotAllowed);
                        }
                    }
                }
                r
            }
            Some(Source::Pending(_)) => {
                self.handle_pending(token);
                Ok(())
            }
        }
    }

    /// Counts a connection from another partition against its limit.
    pub(crate) fn reserve(&self, rel: Relation) -> Result<Option<Ticket>, String> {
        if !rel.crosses() {
            return Ok(None);
        }
        let vm = rel.peer_vm_id();
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        let n = live.entry(vm).or_insert(0);
        if *n >= self.max_per_partition {
            return Err(format!(
                "partition {vm} already has {n} connections open to this listener (max_connections_per_partition)"
            ));
        }
        *n += 1;
        Ok(Some(Ticket {
            live: self.live.clone(),
            vm,
        }))
    }

    /// Registration is permission: a connection across partitions needs the service
    /// enabled in the host's registry, checked at accept time.
    pub(crate) fn check_crossing(&self, rel: Relation) -> io::Result<()> {
        if rel.crosses() && self.ctx.location == Location::Host {
            policy::check_registered(&*snapshot::registry(&self.ctx.dirs)?, self.addr.service_id)?;
        }
        Ok(())
    }

    pub(crate) fn admit(&mut self, sock: Socket, rel: Relation) {
        if let Err(e) = self.check_crossing(rel) {
            self.refuse(rel.peer_vm_id(), crossing_reason(&e));
            drop_refused(sock);
            return;
        }
        match self.reserve(rel) {
            Ok(ticket) => self.push(sock, rel, ticket),
            Err(_) => {
                self.refuse(rel.peer_vm_id(), Reason::BusyPartition);
                drop_refused(sock)
            }
        }
    }

    /// Counts (and, with the `tracing` feature, logs) a refused connection.
    pub(crate) fn refuse(&self, vm: VmId, reason: Reason) {
        self.stats.refused(self.addr.service_id, vm, reason);
        #[cfg(feature = "tracing")]
        tracing::info!(
            target: "hvsock::accept",
            reason = reason.name(),
            peer_vm = %vm,
            peer_name = %crate::stats::log::vm_name(&self.table, vm),
            service = %self.addr.service_id,
            service_name = %crate::stats::log::service_name(&self.ctx.dirs, self.addr.service_id),
            "connection refused"
        );
    }

    /// Queues a connection (still non-blocking: the std listener switches it to
    /// blocking, the tokio one keeps it so).
    pub(crate) fn push(&mut self, sock: Socket, rel: Relation, ticket: Option<Ticket>) {
        // A child reached over a hybrid VMM may lose it (the table says); the parent,
        // local partitions and kernel vsock carry it.
        let half_close = match rel {
            Relation::Child(vm) => self
                .table
                .get(vm)
                .map_or(HalfClose::Carried, |p| p.half_close()),
            Relation::Parent | Relation::SelfPartition => HalfClose::Carried,
        };
        let meter = Meter::open(self.stats, self.addr.service_id, rel.peer_vm_id(), true);
        #[cfg(feature = "tracing")]
        let meter = meter.logged(crate::stats::log::Described {
            service: self.addr.service_id,
            service_name: crate::stats::log::service_name(&self.ctx.dirs, self.addr.service_id),
            peer: rel.peer_vm_id(),
            peer_name: crate::stats::log::vm_name(&self.table, rel.peer_vm_id()),
        });
        self.ready.push_back((
            sock,
            HvAddr::new(rel.peer_vm_id(), self.addr.service_id),
            ticket,
            half_close,
            meter,
        ));
    }

    fn expire(&mut self) {
        let now = Instant::now();
        let late: Vec<u64> = self
            .sources
            .iter()
            .filter(|(_, s)| matches!(s, Source::Pending(p) if p.deadline <= now))
            .map(|(t, _)| *t)
            .collect();
        for t in late {
            // Counted before the close the peer sees.
            self.refuse(crate::stats::UNKNOWN_PEER, Reason::HandshakeTimeout);
            self.remove(t);
        }
    }
}

/// The refusal reason of a failed registration check.
pub(crate) fn crossing_reason(e: &io::Error) -> Reason {
    match crate::error::HvError::of(e) {
        Some(crate::error::HvError::NotRegistered { .. }) => Reason::NotRegistered,
        Some(crate::error::HvError::Disabled { .. }) => Reason::Disabled,
        _ => Reason::RegistryError,
    }
}

/// Closes a refused VM connection so that the VM learns of it: shut down both ways,
/// then read away what the guest sent before closing. A Unix socket closed with unread
/// data resets its peer (`ECONNRESET` instead of EOF), and vhost-device-vsock 0.3.0
/// never passes such a reset on to the guest, whose connection then hangs.
pub(crate) fn drop_refused(sock: Socket) {
    let _ = sock.shutdown(std::net::Shutdown::Both);
    let _ = sock.set_nonblocking(true);
    let mut buf = [0u8; 4096];
    // After the shutdown nothing more arrives; the bound only guards against surprises.
    for _ in 0..64 {
        match (&sock).read(&mut buf) {
            Ok(n) if n > 0 => {}
            _ => break,
        }
    }
}

pub(crate) fn accept_batch(listener: &Socket, out: &mut Vec<Socket>) -> io::Result<()> {
    for _ in 0..ACCEPT_BATCH {
        match crate::sys::accept_nonblocking(listener) {
            Ok((s, _)) => out.push(s),
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
            Err(e) if is_transient(&e) => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Errors of one aborted connection, not of the listener.
pub(crate) fn is_transient(e: &io::Error) -> bool {
    crate::sys::is_aborted_accept(e)
}
