//! The AF_VSOCK transport: a kernel vsock socket, no wire format of its own (the
//! kernel's CID says who the peer is). Dial in [`dial`], the listener's side in
//! [`accept`].

pub(crate) mod accept;
pub(crate) mod dial;
