//! The names counters are shown under, in `hvsock stats`, Prometheus labels and the
//! `tracing` logs alike: ElementNames and partition names where they are known, the
//! GUID where not.

use super::{OVERFLOW_SERVICE, UNKNOWN_PEER};
use crate::addr::{ServiceId, VmId};
use crate::config::partitions::PartitionTable;
use crate::config::registry::Registry;

/// What the overflow slot's service and VM are shown as.
pub const OTHER: &str = "(other)";

/// A service's name: its ElementName in `registry`, `(other)` for the overflow slot,
/// else its GUID.
///
/// ```
/// use hvsock::ServiceId;
/// let id = ServiceId::from_vsock_port(5000);
/// assert_eq!(hvsock::stats::service_label(None, id), id.to_string());
/// assert_eq!(hvsock::stats::service_label(None, hvsock::stats::OVERFLOW_SERVICE), "(other)");
/// ```
pub fn service_label(registry: Option<&Registry>, id: ServiceId) -> String {
    if id == OVERFLOW_SERVICE {
        return OTHER.into();
    }
    registry
        .and_then(|r| r.get(id))
        .map_or_else(|| id.to_string(), |s| s.name.clone())
}

/// A VM's name: `unknown` for a peer never identified ([`UNKNOWN_PEER`]), its name in
/// `table`, `host` for the root partition, a wildcard's name, else its GUID.
///
/// ```
/// use hvsock::VmId;
/// assert_eq!(hvsock::stats::vm_label(None, VmId::ZERO), "host");
/// assert_eq!(hvsock::stats::vm_label(None, VmId::PARENT), "parent");
/// assert_eq!(hvsock::stats::vm_label(None, hvsock::stats::UNKNOWN_PEER), "unknown");
/// ```
pub fn vm_label(table: Option<&PartitionTable>, id: VmId) -> String {
    if id == UNKNOWN_PEER {
        return "unknown".into();
    }
    if let Some(p) = table.and_then(|t| t.get(id)) {
        return p.name.clone();
    }
    if id == VmId::ZERO {
        return "host".into();
    }
    id.wildcard_name()
        .map_or_else(|| id.to_string(), str::to_string)
}

/// The (service, VM) names of a slot: the overflow slot is `(other)` twice, since it
/// holds many VMs' counts.
pub fn slot_labels(
    registry: Option<&Registry>,
    table: Option<&PartitionTable>,
    service: ServiceId,
    vm: VmId,
) -> (String, String) {
    let s = service_label(registry, service);
    let v = if service == OVERFLOW_SERVICE {
        OTHER.into()
    } else {
        vm_label(table, vm)
    };
    (s, v)
}
