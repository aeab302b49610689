//! Windows: AF_HYPERV sockets through WinSock (socket2 and windows-sys), and their
//! registration with tokio; the Win32 registry (`registry`, for the service registry's
//! Windows backend) and the Host Compute Service (`hcs`, the list of VMs). Every
//! `unsafe` block of the crate's Windows side is here.

#![allow(unsafe_code)]

#[cfg(feature = "tokio")]
mod async_io;
pub(crate) mod hcs;
pub(crate) mod registry;
pub(crate) mod shared_mem;
mod socket;

#[cfg(feature = "tokio")]
pub(crate) use async_io::AsyncSocket;
pub(crate) use socket::*;
