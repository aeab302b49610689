//! # hvsock: Hyper-V sockets for Linux
//!
//! Hyper-V sockets (`AF_HYPERV`) are stream sockets between a host and its VMs and
//! containers that need no network. An endpoint is a pair of GUIDs, the VM id and the
//! service id. This crate gives Linux one addressing model, one service registry and
//! one socket API (std and tokio) over the kernel's AF_VSOCK, "hybrid vsock" Unix
//! sockets (Firecracker, Cloud Hypervisor, OpenVMM, vhost-device-vsock) and local
//! partitions (processes and containers on one machine).
//!
//! ```
//! use hvsock::{HvAddr, ServiceId, VmId};
//!
//! let addr = HvAddr::new(VmId::PARENT, ServiceId::from_vsock_port(5000));
//! assert_eq!(addr.to_string(),
//!     "a42e7cda-d03f-480c-9cc2-a4de20abb878:00001388-facb-11e6-bd58-64006a7986d3");
//! ```
#![warn(missing_docs)]

pub mod addr;
pub mod context;
pub mod guid;
pub mod handshake;
pub mod net;
pub mod partitions;
pub mod paths;
pub mod regfile;
pub mod registry;
pub(crate) mod route;
pub(crate) mod rundir;
pub(crate) mod snapshot;
pub mod store;
pub mod syntax;
pub(crate) mod sys;
pub mod text;

pub use addr::{HvAddr, ServiceId, SockaddrError, ToHvAddr, VmId};
pub use context::Context;
pub use guid::{Guid, GuidParseError};
pub use net::listener::{HvListener, Incoming};
pub use net::stream::{ConnectionGuard, HvStream};
pub use route::Location;
pub use snapshot::Settings;

/// The vsock CID of the host, as a guest sees it.
pub const VSOCK_HOST_CID: u32 = 2;
