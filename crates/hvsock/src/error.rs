//! Typed errors: [`HvError`] says what went wrong in terms of partitions and services.
//! It travels inside an [`io::Error`] of the matching [`ErrorKind`], so every call
//! keeps returning `io::Result` and callers that care look inside:
//!
//! ```
//! use hvsock::HvError;
//! use std::io;
//!
//! fn is_unregistered(e: &io::Error) -> bool {
//!     matches!(HvError::of(e), Some(HvError::NotRegistered { .. }))
//! }
//! let e: io::Error = HvError::NotRegistered { service: hvsock::ServiceId::from_vsock_port(6000) }.into();
//! assert_eq!(e.kind(), io::ErrorKind::PermissionDenied);
//! assert!(is_unregistered(&e));
//! ```
//!
//! The messages describe the situation only; what to run about it (an `hvsock`
//! command) is the business of the tool that shows the message.

use crate::addr::{ServiceId, VmId};
use crate::transport::local::wire::Status;
use std::io::{self, ErrorKind};

/// What went wrong, beyond what an [`ErrorKind`] says.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HvError {
    /// A connection across partitions needs the service in the host's registry.
    /// Kind: [`ErrorKind::PermissionDenied`].
    #[error("service {service} is not registered on the host")]
    NotRegistered {
        /// The service.
        service: ServiceId,
    },
    /// The service is registered but disabled. Kind: [`ErrorKind::PermissionDenied`].
    #[error("service {name:?} ({service}) is disabled on the host")]
    Disabled {
        /// The service.
        service: ServiceId,
        /// Its registered name.
        name: String,
    },
    /// No partition of the table has this id or name. Kind: [`ErrorKind::NotFound`].
    #[error("no partition {shown} in the partition table")]
    UnknownPartition {
        /// The id or name as given, formatted for the message (a name is quoted).
        shown: String,
    },
    /// This partition may not reach that one. Kind: [`ErrorKind::PermissionDenied`].
    #[error(
        "partition {from} may not connect to {to}: a partition reaches only its own children, LOOPBACK and PARENT"
    )]
    NotAllowed {
        /// This partition, as named in the message.
        from: String,
        /// The partition it tried to reach.
        to: String,
    },
    /// The listener is at one of its limits (pending handshakes, connections per
    /// partition) and said so. Kind: [`ErrorKind::ConnectionRefused`].
    #[error("{target}: {message}")]
    Busy {
        /// What was being connected to.
        target: String,
        /// The listener's own words (control characters escaped).
        message: String,
    },
    /// The listener refused with a status other than busy. Kind: that status's
    /// ([`Status::error_kind`]).
    #[error("{target}: {message}")]
    Refused {
        /// What was being connected to.
        target: String,
        /// The listener's status.
        status: Status,
        /// The listener's own words (control characters escaped).
        message: String,
    },
    /// Nothing listens there. Kind: [`ErrorKind::ConnectionRefused`].
    #[error("{target}: nothing listens on {on}")]
    NothingListens {
        /// What was being connected to.
        target: String,
        /// Where nothing listens (a service, a vsock port, a guest port).
        on: String,
    },
    /// The connect's deadline passed. Kind: [`ErrorKind::TimedOut`].
    #[error("{what} timed out{during}")]
    TimedOut {
        /// What was being done.
        what: String,
        /// Which step, as a phrase (` in the handshake`), or empty.
        during: &'static str,
    },
}

impl HvError {
    /// The [`ErrorKind`] of the [`io::Error`] that carries this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            HvError::NotRegistered { .. } | HvError::Disabled { .. } => ErrorKind::PermissionDenied,
            HvError::UnknownPartition { .. } => ErrorKind::NotFound,
            HvError::NotAllowed { .. } => ErrorKind::PermissionDenied,
            HvError::Busy { .. } | HvError::NothingListens { .. } => ErrorKind::ConnectionRefused,
            HvError::Refused { status, .. } => status.error_kind(),
            HvError::TimedOut { .. } => ErrorKind::TimedOut,
        }
    }

    /// The `HvError` inside `e`, if it carries one.
    pub fn of(e: &io::Error) -> Option<&HvError> {
        e.get_ref().and_then(|e| e.downcast_ref::<HvError>())
    }

    /// An unknown partition named by id (shown bare).
    pub(crate) fn unknown_id(id: VmId) -> HvError {
        HvError::UnknownPartition {
            shown: id.to_string(),
        }
    }
}

impl From<HvError> for io::Error {
    fn from(e: HvError) -> io::Error {
        io::Error::new(e.kind(), e)
    }
}
