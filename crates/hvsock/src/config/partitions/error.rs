//! The errors of the partition table.

use crate::addr::VmId;
use crate::config::store::StoreError;
use std::path::PathBuf;

/// Why a partition table operation failed.
#[derive(Debug, thiserror::Error)]
pub enum PartitionError {
    /// The file could not be read, parsed or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The file parses but breaks a table rule (e.g. a hand-edited duplicate).
    #[error(
        "invalid partition table {}: {message} (the file was left unchanged; fix it by hand)",
        path.display()
    )]
    Invalid {
        /// The table file.
        path: PathBuf,
        /// Which entry breaks which rule.
        message: String,
    },
    /// The id is already in the table.
    #[error("VM id {id} is already in the partition table (as {existing_name:?})")]
    DuplicateId {
        /// The id.
        id: VmId,
        /// The existing entry's name.
        existing_name: String,
    },
    /// The name is already in the table.
    #[error("a VM named {name:?} is already in the partition table (id {existing_id})")]
    DuplicateName {
        /// The name.
        name: String,
        /// The existing entry's id.
        existing_id: VmId,
    },
    /// Another VM has that cid.
    #[error("vsock CID {cid} already belongs to VM {existing_name:?} ({existing_id})")]
    DuplicateCid {
        /// The cid.
        cid: u32,
        /// The existing entry's name.
        existing_name: String,
        /// The existing entry's id.
        existing_id: VmId,
    },
    /// Another VM has that hybrid socket.
    #[error("hybrid socket {} already belongs to VM {existing_name:?} ({existing_id})", path.display())]
    DuplicatePath {
        /// The path.
        path: PathBuf,
        /// The existing entry's name.
        existing_name: String,
        /// The existing entry's id.
        existing_id: VmId,
    },
    /// The hybrid socket is another VM's `PATH_<suffix>`, or the reverse: one VM's host
    /// listener would take over the other's socket (see [`clash`](super::clash)).
    #[error(
        "hybrid socket {} clashes with VM {existing_name:?} ({existing_id}) at {}: {reason}; \
         a hybrid path may not be another VM's path followed by _SUFFIX",
        path.display(),
        existing_path.display()
    )]
    PathClash {
        /// The path refused.
        path: PathBuf,
        /// The existing entry's name.
        existing_name: String,
        /// The existing entry's id.
        existing_id: VmId,
        /// The existing entry's socket.
        existing_path: PathBuf,
        /// Which is whose `PATH_SUFFIX`.
        reason: String,
    },
    /// The id is a wildcard GUID.
    #[error("{id} is the wildcard {name:?}, not a VM id")]
    WildcardId {
        /// The id.
        id: VmId,
        /// The wildcard's name.
        name: &'static str,
    },
    /// The name breaks a naming rule.
    #[error("invalid VM name {name:?}: {reason}")]
    BadName {
        /// The name.
        name: String,
        /// The rule it breaks.
        reason: String,
    },
    /// The cid is reserved.
    #[error(
        "vsock CID {0} is reserved (0 = hypervisor, 1 = local, 2 = host, \
         4294967295 = VMADDR_CID_ANY); guest CIDs start at 3"
    )]
    ReservedCid(u32),
    /// The hybrid path is unusable.
    #[error("invalid hybrid socket path {}: {reason}", path.display())]
    BadPath {
        /// The path.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// No partition has that id or name. (What to run about it, listing or adding VMs,
    /// is the business of the tool that shows the message.)
    #[error("no VM {0:?} in the partition table")]
    NotFound(String),
    /// An owner uid was given for a VM.
    #[error("{0:?} is a VM: only a --local partition has an owner uid")]
    NotLocal(String),
    /// A half-close behaviour was given for a partition that is not a hybrid VM.
    #[error(
        "{0:?} is not a --hybrid VM: only a hybrid VMM may lose a half-close (kernel vsock and local partitions carry it)"
    )]
    NotHybrid(String),
    /// A connect form other than `port` was given for a partition that is not a hybrid
    /// VM.
    #[error("{0:?} is not a hybrid VM: only a hybrid VM's VMM has a connect form")]
    ConnectFormNotHybrid(String),
}
