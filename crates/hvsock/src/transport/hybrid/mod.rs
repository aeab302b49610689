//! The hybrid-vsock transport: a VMM's Unix socket, `CONNECT <port>` / `OK` ([`wire`]),
//! the dial ([`dial`]) and the `PATH_PORT` sockets a listener serves ([`accept`]).

#[cfg(unix)]
pub(crate) mod accept;
#[cfg(unix)]
pub(crate) mod dial;
pub mod wire;
