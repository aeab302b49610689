//! The local transport: Unix sockets in the runtime dir ([`rundir`]), the preamble and
//! reply ([`wire`]), the dial ([`dial`]) and the listener's handshake ([`accept`]).

#[cfg(unix)]
pub(crate) mod accept;
#[cfg(unix)]
pub(crate) mod dial;
#[cfg(unix)]
pub(crate) mod rundir;
pub mod wire;
