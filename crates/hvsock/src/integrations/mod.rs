//! Framework integrations, each behind its feature and re-exported at the crate root
//! under the framework's name: `hvsock::hyper` (feature `hyper`: a client connector),
//! `hvsock::axum` (feature `axum`: `axum::serve` on a listener), `hvsock::tonic`
//! (feature `tonic`: gRPC servers and channels) and `uuid::Uuid` conversions of
//! [`Guid`](crate::Guid) (feature `uuid`).
//!
//! They build on the tokio types ([`crate::net::tokio`]), so they work wherever those do
//! (Linux and Windows). A server learns who called from the transport, never from the
//! client's words: the [`HvConnectInfo`] (or [`HvAddr`]) a handler sees is the peer as
//! the accepting listener named it, the same as
//! [`HvListener::accept`](crate::net::tokio::HvListener::accept) returns.

use crate::addr::HvAddr;
#[cfg(any(feature = "axum", feature = "tonic"))]
use std::io;

#[cfg(feature = "axum")]
pub mod axum;
#[cfg(feature = "hyper")]
pub mod hyper;
#[cfg(feature = "tonic")]
pub mod tonic;
#[cfg(feature = "uuid")]
mod uuid;

/// Both ends of an accepted or dialed connection, as request (or response) extension:
/// tonic's `Connected::ConnectInfo` of an [`HvStream`](crate::net::tokio::HvStream),
/// axum's `ConnectInfo<HvConnectInfo>`, and the extra of hyper-util's client
/// `Connection` (so in every response's extensions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HvConnectInfo {
    /// This side's address: the listener's bound address on a server (with a
    /// wildcard VM id if it was bound so), the caller's own address on a client.
    pub local: HvAddr,
    /// The other side: on a server, the partition that called and the service; on a
    /// client, the address it dialed.
    pub peer: HvAddr,
}

#[cfg(feature = "hyper")]
impl HvConnectInfo {
    pub(crate) fn of(s: &crate::net::tokio::HvStream) -> HvConnectInfo {
        // Both are fields the stream was made with: these calls do not fail.
        let local = s.local_addr().unwrap_or_default();
        let peer = s.peer_addr().unwrap_or_default();
        HvConnectInfo { local, peer }
    }
}

/// How long an accept loop pauses after an error that is not about one connection
/// (as axum's and hyper's own loops: a full fd table may free up).
#[cfg(any(feature = "axum", feature = "tonic"))]
pub(crate) const ACCEPT_ERROR_PAUSE: std::time::Duration = std::time::Duration::from_secs(1);

/// Whether an accept error concerns one connection only (retry at once) rather than
/// the listener or the process (pause first).
#[cfg(any(feature = "axum", feature = "tonic"))]
pub(crate) fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::Interrupted
            | io::ErrorKind::WouldBlock
            | io::ErrorKind::TimedOut
    )
}
