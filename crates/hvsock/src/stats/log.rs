//! Log events of the `tracing` feature: names for the log lines, and what a logged
//! connection carries to report its close.

use crate::addr::{ServiceId, VmId};
use crate::config::partitions::PartitionTable;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// A service's ElementName from the registry, else its GUID.
pub(crate) fn service_name(dirs: &crate::config::paths::Dirs, id: ServiceId) -> String {
    let reg = crate::config::snapshot::registry(dirs).ok();
    super::service_label(reg.as_deref(), id)
}

/// A VM's name from the partition table, a wildcard's name, `unknown`, else its GUID.
pub(crate) fn vm_name(table: &PartitionTable, id: VmId) -> String {
    super::vm_label(Some(table), id)
}

/// Who a logged connection is with.
#[derive(Debug)]
pub(crate) struct Described {
    pub(crate) service: ServiceId,
    pub(crate) service_name: String,
    pub(crate) peer: VmId,
    pub(crate) peer_name: String,
}

/// A logged connection: its own byte counts (the slot's are shared) and its start.
#[derive(Debug)]
pub(crate) struct Logged {
    pub(crate) who: Described,
    pub(crate) since: Instant,
    pub(crate) bytes_in: AtomicU64,
    pub(crate) bytes_out: AtomicU64,
}

impl Logged {
    pub(crate) fn new(who: Described) -> Logged {
        tracing::debug!(
            target: "hvsock::accept",
            service = %who.service,
            service_name = %who.service_name,
            peer_vm = %who.peer,
            peer_name = %who.peer_name,
            "connection accepted"
        );
        Logged {
            who,
            since: Instant::now(),
            bytes_in: AtomicU64::new(0),
            bytes_out: AtomicU64::new(0),
        }
    }
}

impl Drop for Logged {
    fn drop(&mut self) {
        let w = &self.who;
        tracing::debug!(
            target: "hvsock::accept",
            service = %w.service,
            service_name = %w.service_name,
            peer_vm = %w.peer,
            peer_name = %w.peer_name,
            duration_ms = self.since.elapsed().as_millis() as u64,
            bytes_in = self.bytes_in.load(Ordering::Relaxed),
            bytes_out = self.bytes_out.load(Ordering::Relaxed),
            "connection closed"
        );
    }
}
