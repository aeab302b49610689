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
use std::fmt;
use std::io::{self, ErrorKind};
use std::sync::Arc;
use std::time::Duration;

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
    /// A [`Dialer`](crate::net::Dialer) waited for the peer to come up and gave up: its
    /// deadline passed (or its retries ran out) while every attempt failed with a "not
    /// there yet" error. Kind: [`ErrorKind::TimedOut`].
    #[error("gave up after waiting {} ({attempts} {}): {last}", seconds(*waited), if *attempts == 1 { "attempt" } else { "attempts" })]
    GaveUp {
        /// How long it waited, from the first attempt to giving up.
        waited: Duration,
        /// How many connects it tried.
        attempts: u32,
        /// The last attempt's error.
        last: LastError,
    },
}

/// `1.5 s`, `250 ms`: a wait as a person reads it.
fn seconds(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// The last attempt's error inside [`HvError::GaveUp`]: the [`io::Error`] itself
/// (shared, so the `HvError` stays `Clone`); two are equal when their kinds and
/// messages are.
#[derive(Debug, Clone)]
pub struct LastError(Arc<io::Error>);

impl LastError {
    /// Wraps the last attempt's error.
    pub fn new(e: io::Error) -> LastError {
        LastError(Arc::new(e))
    }

    /// The error itself (look inside with [`HvError::of`]).
    pub fn error(&self) -> &io::Error {
        &self.0
    }
}

impl fmt::Display for LastError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl PartialEq for LastError {
    fn eq(&self, other: &LastError) -> bool {
        self.0.kind() == other.0.kind() && self.0.to_string() == other.0.to_string()
    }
}

impl Eq for LastError {}

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
            HvError::GaveUp { .. } => ErrorKind::TimedOut,
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
    fn gave_up_says_how_long_how_often_and_why() {
        let last: io::Error = HvError::NothingListens {
            target: "connect to \"vm1\"".into(),
            on: "port 5000 in the VM".into(),
        }
        .into();
        let e: io::Error = HvError::GaveUp {
            waited: Duration::from_millis(10_040),
            attempts: 12,
            last: LastError::new(last),
        }
        .into();
        assert_eq!(e.kind(), ErrorKind::TimedOut);
        assert_eq!(
            e.to_string(),
            "gave up after waiting 10.0 s (12 attempts): connect to \"vm1\": nothing listens on port 5000 in the VM"
        );
        let Some(HvError::GaveUp { last, .. }) = HvError::of(&e) else {
            panic!("{e:?}");
        };
        assert!(matches!(
            HvError::of(last.error()),
            Some(HvError::NothingListens { .. })
        ));
        let once = HvError::GaveUp {
            waited: Duration::from_millis(250),
            attempts: 1,
            last: LastError::new(ErrorKind::ConnectionRefused.into()),
        };
        assert!(
            once.to_string()
                .starts_with("gave up after waiting 250 ms (1 attempt): "),
            "{once}"
        );
    }

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
            HvError::GaveUp {
                waited: Duration::from_millis(1500),
                attempts: 7,
                last: LastError::new(
                    HvError::NothingListens {
                        target: "connect to x".into(),
                        on: "port 5000 in the VM".into(),
                    }
                    .into(),
                ),
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
                | HvError::Unreachable { .. }
                | HvError::GaveUp { .. } => {}
            }
            assert!(!names_a_command(&e.to_string()), "{e}");
        }
    }
}
