//! Per-process connection counters, published for `hvsock stats` and Prometheus.
//!
//! Every stream made through hvsock's types (std and tokio [`HvStream`](crate::HvStream),
//! accepted or connected) and every connection a listener refuses is counted per
//! (service id, peer VM id): connections accepted, made and open, refusals by
//! [`Reason`], bytes in and out. A process publishes its counters in one small file,
//! `<runtime dir>/stats/<pid>-<random>.stats`, mapped into memory: the data path does one
//! relaxed atomic add per read or write on a slot found once per stream (no lock, no
//! lookup). Other processes read the file without asking the process
//! ([`read_host`]); the file is removed at a normal exit and ignored by readers once
//! its process is gone: the process holds an `flock` lock on its open file for its
//! lifetime, which the kernel drops when it dies, and readers test that lock, not the
//! pid (a container sharing the runtime dir has its own PID namespace, where the pid
//! means another process or none; the random part of the name keeps equal pids of two
//! namespaces apart).
//!
//! Not counted: what is read or written on a descriptor taken out of a stream
//! (`into_raw_fd`, `OwnedFd::from`, `into_fd_and_guard`, tokio's `into_std` keeps
//! counting since it gives back an hvsock stream). The file has the runtime dir's
//! modes: `0600` in a private runtime dir, `0640` owned by the hvsock group in a group
//! one; on Windows (`%ProgramData%\hvsock\run\stats`) it inherits the folder's ACL
//! and is delete-on-close, so that it goes with its process even when the process is
//! killed. Where the runtime dir cannot be written (an unprivileged client), the
//! counters are kept in the process only and [`read_host`] does not see them.
//!
//! A process counts up to `SLOTS - 1` (service, VM) pairs in slots of their own; any
//! further pairs are counted together in the overflow slot, shown as `(other)`
//! ([`OVERFLOW_SERVICE`]), so that totals stay exact.

pub mod layout;
#[cfg(all(feature = "tracing", unix))]
pub(crate) mod log;
mod names;
mod publish;
mod read;

pub use layout::{OVERFLOW_SERVICE, StatsFileError, encode, parse};
pub use names::{OTHER, service_label, slot_labels, vm_label};
pub(crate) use publish::Region;
pub(crate) use publish::{Meter, region};
pub use read::{HostStats, alive, read_host, stats_dir};

use crate::addr::{ServiceId, VmId};

/// Why a listener refused a connection: one counter each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    /// The service is not in the host's registry.
    NotRegistered,
    /// The service is registered but disabled.
    Disabled,
    /// The peer partition may not connect to this listener (unknown partition or CID,
    /// a listener bound to another VM, a partition the selector excludes).
    NotAllowed,
    /// The kernel's peer uid does not fit the partition the peer claimed.
    BadCredentials,
    /// The peer partition has `max_connections_per_partition` open already.
    BusyPartition,
    /// `max_pending_handshakes` handshakes were in progress (the oldest gave way).
    BusyHandshakes,
    /// A malformed local preamble, or one for another service.
    BadPreamble,
    /// No complete preamble within the handshake timeout.
    HandshakeTimeout,
    /// The peer closed before its preamble was complete.
    Aborted,
    /// The registry could not be read to decide.
    RegistryError,
}

impl Reason {
    /// Every reason, in the order of the counters file.
    pub const ALL: [Reason; 10] = [
        Reason::NotRegistered,
        Reason::Disabled,
        Reason::NotAllowed,
        Reason::BadCredentials,
        Reason::BusyPartition,
        Reason::BusyHandshakes,
        Reason::BadPreamble,
        Reason::HandshakeTimeout,
        Reason::Aborted,
        Reason::RegistryError,
    ];

    /// The reason's name in `hvsock stats` and Prometheus labels (`refused_<name>`).
    pub fn name(self) -> &'static str {
        match self {
            Reason::NotRegistered => "not_registered",
            Reason::Disabled => "disabled",
            Reason::NotAllowed => "not_allowed",
            Reason::BadCredentials => "bad_credentials",
            Reason::BusyPartition => "busy_partition",
            Reason::BusyHandshakes => "busy_handshakes",
            Reason::BadPreamble => "bad_preamble",
            Reason::HandshakeTimeout => "handshake_timeout",
            Reason::Aborted => "aborted",
            Reason::RegistryError => "registry_error",
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// The VM id counted for a refused peer whose partition is not known (a malformed
/// preamble, a vsock CID not in the table): the broadcast GUID, shown as `unknown`.
pub const UNKNOWN_PEER: VmId = VmId::BROADCAST;

/// The counters of one (service, peer VM) pair.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Connections a listener accepted from the peer.
    pub accepted: u64,
    /// Connections this side made to the peer.
    pub connected: u64,
    /// Connections open now (accepted or made).
    pub open: u64,
    /// Bytes read from the peer.
    pub bytes_in: u64,
    /// Bytes written to the peer.
    pub bytes_out: u64,
    /// Refusals, indexed by [`Reason::ALL`]'s order.
    pub refused: [u64; Reason::ALL.len()],
}

impl Counters {
    /// Adds `other` in (wrapping, as the counters do).
    pub fn add(&mut self, other: &Counters) {
        self.accepted = self.accepted.wrapping_add(other.accepted);
        self.connected = self.connected.wrapping_add(other.connected);
        self.open = self.open.wrapping_add(other.open);
        self.bytes_in = self.bytes_in.wrapping_add(other.bytes_in);
        self.bytes_out = self.bytes_out.wrapping_add(other.bytes_out);
        for (a, b) in self.refused.iter_mut().zip(other.refused) {
            *a = a.wrapping_add(b);
        }
    }

    /// The refusals counted for `reason`.
    pub fn refused(&self, reason: Reason) -> u64 {
        self.refused[reason.index()]
    }

    /// All refusals.
    pub fn refused_total(&self) -> u64 {
        self.refused.iter().fold(0, |a, b| a.wrapping_add(*b))
    }
}

/// One slot of a counters file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotStats {
    /// The service (the listener's or the connect target's service id).
    pub service: ServiceId,
    /// The peer partition as the process names it ([`UNKNOWN_PEER`] if not known).
    pub vm: VmId,
    /// Its counters.
    pub counters: Counters,
}

/// One process's counters file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessStats {
    /// The process id that wrote it (in the writer's PID namespace).
    pub pid: u64,
    /// The process's start time (in its PID namespace; shown, not used to judge
    /// liveness on Unix, where the file's lock does).
    pub start_time: u64,
    /// Connections and refusals counted in the overflow slot (every other slot was
    /// taken).
    pub overflowed: u64,
    /// Its (service, VM) slots.
    pub slots: Vec<SlotStats>,
}

#[cfg(test)]
mod tests;
