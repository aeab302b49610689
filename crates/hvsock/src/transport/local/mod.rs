//! The local transport: Unix sockets in the runtime dir ([`rundir`]), the preamble and
//! reply ([`wire`]), the dial ([`dial`]) and the listener's handshake ([`accept`]).

pub(crate) mod accept;
pub(crate) mod dial;
pub(crate) mod rundir;
pub mod wire;
