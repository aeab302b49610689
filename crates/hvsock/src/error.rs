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
    /// Hyper-V sockets do not exist on this system (Windows: WSAEAFNOSUPPORT). Kind:
    /// [`ErrorKind::Unsupported`].
    #[error("{reason}")]
    Unavailable {
        /// Why, and what they need.
        reason: String,
    },
    /// Windows refused the connection or bind (WSAEACCES): the service is not registered
    /// on the host, or this VM may not use it. Kind: [`ErrorKind::PermissionDenied`].
    #[error(
        "{target}: access denied: service {service} is not registered on the host (GuestCommunicationServices in the registry) or may not be used from here"
    )]
    AccessDenied {
        /// What was being done.
        target: String,
        /// The service.
        service: ServiceId,
    },
    /// The VM cannot be reached: it is not running, or there is no such VM. Kind:
    /// [`ErrorKind::HostUnreachable`].
    #[error("{target}: VM {vm} is not running or does not exist")]
    Unreachable {
        /// What was being done.
        target: String,
        /// The VM.
        vm: VmId,
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
            HvError::Unavailable { .. } => ErrorKind::Unsupported,
            HvError::AccessDenied { .. } => ErrorKind::PermissionDenied,
            HvError::Unreachable { .. } => ErrorKind::HostUnreachable,
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

/// Whether `msg` names an `hvsock` command (`` `hvsock service add` ``, `hvsock vm list`):
/// the library's messages must not, since the commands are the CLI's business (tests
/// of every error type check their every variant with this).
#[cfg(test)]
pub(crate) fn names_a_command(msg: &str) -> bool {
    const COMMANDS: [&str; 12] = [
        "addr", "service", "vm", "listen", "connect", "relay", "agent", "exec", "shell", "cp",
        "demo", "bench",
    ];
    msg.contains("`hvsock")
        || COMMANDS
            .iter()
            .any(|c| msg.contains(&format!("hvsock {c}")))
}

/// One of each [`StoreError`](crate::config::store::StoreError) variant, for the scans
/// of the partition table's and registry's messages (which wrap them).
#[cfg(test)]
pub(crate) fn store_errors() -> Vec<crate::config::store::StoreError> {
    use crate::config::store::StoreError;
    let path = std::path::PathBuf::from("/etc/hvsock/services.toml");
    vec![
        StoreError::Io {
            path: path.clone(),
            source: io::Error::from(ErrorKind::PermissionDenied),
        },
        StoreError::Parse {
            path: path.clone(),
            message: "line 1".into(),
        },
        StoreError::Serialize {
            path,
            message: "x".into(),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_a_command_sees_commands_not_paths() {
        assert!(names_a_command("x (see `hvsock vm list`)"));
        assert!(names_a_command("run hvsock service add"));
        assert!(!names_a_command("/etc/hvsock/services.toml: denied"));
        assert!(!names_a_command("hvsock.toml: bad"));
        assert!(!names_a_command("this hvsock speaks version 1"));
    }

    #[test]
    fn no_message_names_a_command() {
        let service = ServiceId::from_vsock_port(6000);
        let every = [
            HvError::NotRegistered { service },
            HvError::Disabled {
                service,
                name: "echo".into(),
            },
            HvError::UnknownPartition {
                shown: "\"nosuch\"".into(),
            },
            HvError::NotAllowed {
                from: "a".into(),
                to: "b".into(),
            },
            HvError::Busy {
                target: "t".into(),
                message: "busy".into(),
            },
            HvError::Refused {
                target: "t".into(),
                status: Status::Refused,
                message: "no".into(),
            },
            HvError::NothingListens {
                target: "t".into(),
                on: "vsock port 6000".into(),
            },
            HvError::TimedOut {
                what: "connect".into(),
                during: " in the handshake",
            },
            HvError::unknown_id(VmId::ZERO),
            HvError::Unavailable {
                reason: crate::transport::hyperv::errors::NEEDS.into(),
            },
            HvError::AccessDenied {
                target: "connect to x".into(),
                service,
            },
            HvError::Unreachable {
                target: "connect to x".into(),
                vm: VmId::ZERO,
            },
        ];
        for e in &every {
            // Exhaustive: a new variant fails to compile here until it is added above.
            match e {
                HvError::NotRegistered { .. }
                | HvError::Disabled { .. }
                | HvError::UnknownPartition { .. }
                | HvError::NotAllowed { .. }
                | HvError::Busy { .. }
                | HvError::Refused { .. }
                | HvError::NothingListens { .. }
                | HvError::TimedOut { .. }
                | HvError::Unavailable { .. }
                | HvError::AccessDenied { .. }
                | HvError::Unreachable { .. } => {}
            }
            assert!(!names_a_command(&e.to_string()), "{e}");
        }
    }
}
