//! # hvsock: Hyper-V sockets for Linux and Windows
//!
//! Hyper-V sockets (`AF_HYPERV`) are stream sockets between a host and its VMs and
//! containers that need no network. An endpoint is a pair of GUIDs, the VM id and the
//! service id. This crate gives one addressing model, one service registry and one
//! socket API (std and tokio) over the kernel's AF_VSOCK, "hybrid vsock" Unix sockets
//! (Firecracker, Cloud Hypervisor, OpenVMM, vhost-device-vsock) and local partitions
//! (processes and containers on one machine) on Linux, and over Windows' own
//! AF_HYPERV sockets on a Windows (Hyper-V) host, where Windows routes and enforces
//! registration and hvsock adds its names, its registry commands and its errors.
//!
//! ```
//! use hvsock::{HvAddr, ServiceId, VmId};
//!
//! let addr = HvAddr::new(VmId::PARENT, ServiceId::from_vsock_port(5000));
//! assert_eq!(addr.to_string(),
//!     "a42e7cda-d03f-480c-9cc2-a4de20abb878:00001388-facb-11e6-bd58-64006a7986d3");
//! ```
#![warn(missing_docs)]
// A `PathBuf` is 32 bytes on Windows (24 on Linux), which tips the path-carrying config
// errors over clippy's 128-byte line there; they are cold-path values either way.
#![cfg_attr(windows, allow(clippy::result_large_err))]

#[cfg(unix)]
pub mod activation;
pub mod addr;
pub mod config;
pub mod context;
pub mod error;
pub mod integrations;
pub mod net;
pub mod stats;
// Route planning serves the Unix transports; on Windows (where the kernel routes) only
// `Location` and the error helper are used.
#[cfg_attr(windows, allow(dead_code))]
pub(crate) mod policy;
pub(crate) mod sys;
pub mod text;
pub(crate) mod transport;

// The modules' paths before the crate was arranged by layer (`hvsock::registry`, ...):
// other crates and users name them so.
pub use addr::{guid, syntax};
pub use config::{compute_systems, partitions, paths, regfile, registry, store};

/// Wire formats spoken before data flows, one per transport that has one: the local
/// preamble and reply ([`Preamble`](crate::handshake::Preamble),
/// [`encode_reply`](crate::handshake::encode_reply), ...) and the hybrid `CONNECT`
/// handshake ([`hybrid_connect_request`](crate::handshake::hybrid_connect_request),
/// [`parse_hybrid_reply`](crate::handshake::parse_hybrid_reply)). Pure byte functions
/// (no I/O), so that std, tokio and the fuzz targets share them.
pub mod handshake {
    pub use crate::transport::hybrid::wire::*;
    pub use crate::transport::local::wire::*;
}

pub use addr::{HvAddr, ServiceId, SockaddrError, ToHvAddr, VmId};
pub use config::settings::Settings;
pub use context::Context;
pub use error::{HvError, LastError};
pub use guid::{Guid, GuidParseError};
pub use net::listener::{HvListener, Incoming};
pub use net::stream::{ConnectionGuard, HvStream};
pub use policy::Location;

// The framework integrations by the framework's name: `hvsock::tonic::incoming`, ...
#[cfg(feature = "axum")]
pub use integrations::axum;
#[cfg(feature = "hyper")]
pub use integrations::hyper;
#[cfg(feature = "tonic")]
pub use integrations::tonic;

/// The vsock CID of the host, as a guest sees it.
pub const VSOCK_HOST_CID: u32 = 2;
