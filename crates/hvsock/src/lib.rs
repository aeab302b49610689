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
pub mod guid;
pub mod partitions;
pub mod paths;
pub mod regfile;
pub mod registry;
pub mod store;
pub mod syntax;

pub use addr::{HvAddr, ServiceId, SockaddrError, VmId};
pub use guid::{Guid, GuidParseError};
