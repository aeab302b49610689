//! The transports: one module per way a connection travels, each with its own dial
//! (connecting side), accept side and wire format.
//!
//! - [`local`]: processes and containers on this machine; a Unix socket in the runtime
//!   dir, a 40-byte preamble naming the caller and the service, and a reply.
//! - [`hybrid`]: a hybrid-vsock VM (Firecracker, Cloud Hypervisor, ...); the VMM's Unix
//!   socket, `CONNECT <port>` / `OK`, and `PATH_PORT` sockets for guest-initiated
//!   connections.
//! - [`vsock`]: a kernel AF_VSOCK peer (a guest, or the host seen from a guest).
//!
//! The closed set of transports is spelled out as enums with exhaustive matches
//! ([`crate::policy::Route`] for a connect, the accept loop's `Source` for a listener):
//! a new transport is one module here plus one arm per enum.

//!
//! On Windows the kernel itself is the transport: [`hyperv`] is AF_HYPERV, where
//! Windows routes, enforces registration and resolves the wildcards. The wire formats
//! of `local` and `hybrid` are pure bytes and build everywhere (they are public as
//! [`crate::handshake`] and fuzzed); their sockets are Unix-only.

#[cfg(unix)]
pub(crate) mod deadline;
pub(crate) mod hybrid;
pub(crate) mod hyperv;
pub(crate) mod local;
#[cfg(unix)]
pub(crate) mod vsock;
