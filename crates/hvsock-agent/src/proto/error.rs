//! The typed error of a malformed or over-limit frame.

#[cfg(doc)]
use super::types::{MAGIC, MAX_FRAME};

/// A malformed frame, or a frame that would break a limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtoError {
    /// The length prefix is 0 (no type byte).
    #[error("empty frame (length 0)")]
    EmptyFrame,
    /// The length prefix is over [`MAX_FRAME`].
    #[error("frame of {len} bytes is over the limit of {max} bytes")]
    FrameTooLarge {
        /// The announced length.
        len: u64,
        /// The limit.
        max: usize,
    },
    /// The type byte is not a known frame type.
    #[error("unknown frame type 0x{0:02x}")]
    UnknownType(u8),
    /// The payload ended inside a field.
    #[error("{frame} frame truncated in field '{field}'")]
    Truncated {
        /// Frame type name.
        frame: &'static str,
        /// Field name.
        field: &'static str,
    },
    /// The payload has bytes after the last field.
    #[error("{frame} frame has {extra} trailing bytes")]
    TrailingBytes {
        /// Frame type name.
        frame: &'static str,
        /// How many.
        extra: usize,
    },
    /// A string field is not UTF-8.
    #[error("{frame} frame: field '{field}' is not valid UTF-8")]
    BadUtf8 {
        /// Frame type name.
        frame: &'static str,
        /// Field name.
        field: &'static str,
    },
    /// A field is longer than its limit.
    #[error("{frame} frame: field '{field}' is {len} bytes, over the limit of {max}")]
    FieldTooLong {
        /// Frame type name.
        frame: &'static str,
        /// Field name.
        field: &'static str,
        /// Its size.
        len: u64,
        /// The limit.
        max: usize,
    },
    /// A list has more entries than its limit.
    #[error("{frame} frame: {count} entries in '{field}', over the limit of {max}")]
    TooMany {
        /// Frame type name.
        frame: &'static str,
        /// Field name.
        field: &'static str,
        /// The announced count.
        count: u64,
        /// The limit.
        max: usize,
    },
    /// A field has a value outside its range.
    #[error("{frame} frame: field '{field}' has invalid value {value}")]
    BadValue {
        /// Frame type name.
        frame: &'static str,
        /// Field name.
        field: &'static str,
        /// The value.
        value: u64,
    },
    /// The `Hello` frame does not start with [`MAGIC`]: the peer is not an hvsock agent
    /// or client.
    #[error("bad magic in Hello frame: the peer is not an hvsock agent/client")]
    BadMagic,
}
