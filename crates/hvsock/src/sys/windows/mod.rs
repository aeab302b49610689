//! Windows: AF_HYPERV sockets through WinSock (socket2 and windows-sys), and their
//! registration with tokio. Every `unsafe` block of the crate's Windows side is here.

#![allow(unsafe_code)]

#[cfg(feature = "tokio")]
mod async_io;
mod socket;

#[cfg(feature = "tokio")]
pub(crate) use async_io::AsyncSocket;
pub(crate) use socket::*;
