//! The agent wire protocol: frame types, the encoder and an incremental decoder.
//!
//! Every frame is `len: u32 BE` (bytes that follow) + `type: u8` + payload. The payload of
//! one frame is at most [`MAX_PAYLOAD`] bytes; every variable-size field has its own limit
//! (see the `MAX_*` constants). The full description is `PROTOCOL.md` in this crate.
//!
//! The decoder never panics on any input, never buffers or allocates more than one
//! frame's worth ([`MAX_FRAME`] bytes plus what the caller already buffered), and reports
//! every malformed case with a typed [`ProtoError`].
//!
//! ```
//! use bytes::BytesMut;
//! use hvsock_agent::proto::{Decoder, Frame, encode};
//!
//! let mut buf = BytesMut::new();
//! encode(&Frame::Hello { version: 1 }, &mut buf).unwrap();
//! encode(&Frame::StdinEof, &mut buf).unwrap();
//! let mut dec = Decoder::new();
//! assert_eq!(dec.decode(&mut buf).unwrap(), Some(Frame::Hello { version: 1 }));
//! assert_eq!(dec.decode(&mut buf).unwrap(), Some(Frame::StdinEof));
//! assert_eq!(dec.decode(&mut buf).unwrap(), None);
//! ```

mod decode;
mod encode;
mod error;
mod types;
mod validate;

pub use decode::{Decoder, decode_all, decode_slice};
pub use encode::{encode, encode_to_vec};
pub use error::ProtoError;
pub use types::*;
pub use validate::validate;

/// The text both sides show on a version mismatch.
pub fn version_message(agent: u16, client: u16) -> String {
    let advice = if agent < client {
        "upgrade the agent (hvsock in the VM) to match the client"
    } else {
        "upgrade the client (hvsock on this side) to match the agent"
    };
    format!("agent speaks protocol v{agent}, client v{client}; {advice}")
}

#[cfg(test)]
mod tests;
