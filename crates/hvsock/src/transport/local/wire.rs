//! The local transport's wire format, spoken before data flows: the preamble and the
//! reply. Pure byte functions (no I/O), so that std, tokio and the fuzz targets share
//! them. Public as [`crate::handshake`].
//!
//! ## Local preamble (client -> listener), version 1, 40 bytes
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | magic `HVSK` |
//! | 4 | 1 | version (1) |
//! | 5 | 3 | reserved, zero |
//! | 8 | 16 | caller partition id (Windows GUID layout; zero = the root partition) |
//! | 24 | 16 | service id |
//!
//! ## Reply (listener -> client)
//! 4 bytes: `HV`, version, status. Status 0 is success and data follows. Any other
//! status is followed by a u16 little-endian length and that many bytes of UTF-8
//! message, then the listener closes the connection.

use crate::addr::guid::Guid;
use crate::addr::{ServiceId, VmId};
use std::io;

/// Magic at the start of every local preamble.
pub const PREAMBLE_MAGIC: [u8; 4] = *b"HVSK";
/// The preamble version this build speaks.
pub const PREAMBLE_VERSION: u8 = 1;
/// Length of a version-1 preamble.
pub const PREAMBLE_LEN: usize = 40;
/// Length of the fixed reply header.
pub const REPLY_LEN: usize = 4;
/// Longest error message a reply carries.
pub const MAX_REPLY_MESSAGE: usize = 1024;

/// What a connecting local partition says about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preamble {
    /// The caller's partition as it claims it (zero = root partition). Listeners check
    /// the claim against the kernel's peer credentials where the table says how.
    pub caller: VmId,
    /// The service being connected to.
    pub service: ServiceId,
}

/// Why bytes are not a valid preamble.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PreambleError {
    /// Not an hvsock preamble at all.
    #[error("not an hvsock local-partition preamble (bad magic)")]
    Magic,
    /// A version this build does not speak.
    #[error(
        "preamble version {0} is not supported (this hvsock speaks version {PREAMBLE_VERSION})"
    )]
    Version(u8),
    /// Reserved bytes set.
    #[error("preamble reserved bytes must be zero")]
    Reserved,
}

impl Preamble {
    /// Encodes the 40-byte preamble.
    pub fn encode(&self) -> [u8; PREAMBLE_LEN] {
        let mut b = [0u8; PREAMBLE_LEN];
        b[0..4].copy_from_slice(&PREAMBLE_MAGIC);
        b[4] = PREAMBLE_VERSION;
        b[8..24].copy_from_slice(&self.caller.0.to_bytes_le());
        b[24..40].copy_from_slice(&self.service.0.to_bytes_le());
        b
    }

    /// Decodes from the start of `buf`: `Ok(None)` while more bytes are needed.
    /// Rejects bad input as early as possible (a wrong magic after one byte).
    pub fn decode(buf: &[u8]) -> Result<Option<Preamble>, PreambleError> {
        let m = buf.len().min(4);
        if buf[..m] != PREAMBLE_MAGIC[..m] {
            return Err(PreambleError::Magic);
        }
        if buf.len() > 4 && buf[4] != PREAMBLE_VERSION {
            return Err(PreambleError::Version(buf[4]));
        }
        if buf[5.min(buf.len())..8.min(buf.len())]
            .iter()
            .any(|&b| b != 0)
        {
            return Err(PreambleError::Reserved);
        }
        if buf.len() < PREAMBLE_LEN {
            return Ok(None);
        }
        let g = |o: usize| Guid::from_bytes_le(buf[o..o + 16].try_into().unwrap());
        Ok(Some(Preamble {
            caller: VmId(g(8)),
            service: ServiceId(g(24)),
        }))
    }
}

/// The listener's verdict on a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Status {
    /// Accepted; data follows.
    Ok = 0,
    /// The service is not registered or is disabled on the host.
    PermissionDenied = 1,
    /// No listener here accepts this caller.
    Refused = 2,
    /// The preamble was malformed or of another version.
    BadRequest = 3,
    /// A limit on connections was reached.
    Busy = 4,
}

impl Status {
    fn from_u8(v: u8) -> Option<Status> {
        Some(match v {
            0 => Status::Ok,
            1 => Status::PermissionDenied,
            2 => Status::Refused,
            3 => Status::BadRequest,
            4 => Status::Busy,
            _ => return None,
        })
    }

    /// The `io::ErrorKind` a client reports for this status.
    pub fn error_kind(self) -> io::ErrorKind {
        match self {
            Status::Ok => io::ErrorKind::Other,
            Status::PermissionDenied => io::ErrorKind::PermissionDenied,
            Status::Refused => io::ErrorKind::ConnectionRefused,
            Status::BadRequest => io::ErrorKind::InvalidData,
            Status::Busy => io::ErrorKind::ConnectionRefused,
        }
    }
}

/// Encodes a reply: the 4-byte header, plus the message for a failure.
pub fn encode_reply(status: Status, message: &str) -> Vec<u8> {
    let mut v = vec![b'H', b'V', PREAMBLE_VERSION, status as u8];
    if status != Status::Ok {
        let mut m = message.as_bytes();
        if m.len() > MAX_REPLY_MESSAGE {
            let mut cut = MAX_REPLY_MESSAGE;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            m = &m[..cut];
        }
        v.extend_from_slice(&(m.len() as u16).to_le_bytes());
        v.extend_from_slice(m);
    }
    v
}

/// A decoded reply header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyHeader {
    /// The verdict.
    pub status: Status,
}

/// Decodes the 4-byte reply header.
pub fn decode_reply_header(b: &[u8; REPLY_LEN]) -> io::Result<ReplyHeader> {
    if b[0..2] != *b"HV" {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "the listener did not answer with an hvsock reply",
        ));
    }
    if b[2] != PREAMBLE_VERSION {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "the listener speaks preamble version {} (this hvsock speaks {PREAMBLE_VERSION})",
                b[2]
            ),
        ));
    }
    let status = Status::from_u8(b[3]).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("unknown reply status {}", b[3]),
        )
    })?;
    Ok(ReplyHeader { status })
}

/// Decodes a failure message body (after the header and length), lossily, with control
/// characters escaped ([`crate::text::escape_untrusted`]): the text comes from the
/// listener, another partition, and ends up in error messages people read.
pub fn decode_reply_message(b: &[u8]) -> String {
    let text = String::from_utf8_lossy(&b[..b.len().min(MAX_REPLY_MESSAGE)]);
    crate::text::escape_untrusted(&text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn preamble_errors_are_early() {
        assert_eq!(Preamble::decode(b""), Ok(None));
        assert_eq!(Preamble::decode(b"H"), Ok(None));
        assert_eq!(Preamble::decode(b"X"), Err(PreambleError::Magic));
        assert_eq!(
            Preamble::decode(b"GET / HTTP/1.1"),
            Err(PreambleError::Magic)
        );
        assert_eq!(
            Preamble::decode(b"HVSK\x02"),
            Err(PreambleError::Version(2))
        );
        assert_eq!(
            Preamble::decode(b"HVSK\x01\x00\x01"),
            Err(PreambleError::Reserved)
        );
        let full = Preamble {
            caller: VmId::ZERO,
            service: ServiceId::from_vsock_port(9),
        }
        .encode();
        assert_eq!(Preamble::decode(&full[..39]), Ok(None));
    }

    #[test]
    fn reply_round_trip() {
        let ok = encode_reply(Status::Ok, "ignored");
        assert_eq!(ok.len(), REPLY_LEN);
        let h = decode_reply_header(ok[..4].try_into().unwrap()).unwrap();
        assert_eq!(h.status, Status::Ok);
        let err = encode_reply(Status::PermissionDenied, "service x is disabled");
        let h = decode_reply_header(err[..4].try_into().unwrap()).unwrap();
        assert_eq!(h.status, Status::PermissionDenied);
        let len = u16::from_le_bytes([err[4], err[5]]) as usize;
        assert_eq!(
            decode_reply_message(&err[6..6 + len]),
            "service x is disabled"
        );
        let long = encode_reply(Status::Refused, &"é".repeat(2000));
        let len = u16::from_le_bytes([long[4], long[5]]) as usize;
        assert!(len <= MAX_REPLY_MESSAGE);
        assert!(std::str::from_utf8(&long[6..]).is_ok());
        assert!(decode_reply_header(b"HV\x01\x09").is_err());
        assert!(decode_reply_header(b"HV\x07\x00").is_err());
        assert!(decode_reply_header(b"OK 1").is_err());
    }

    proptest! {
        #[test]
        fn preamble_round_trip(c in any::<u128>(), s in any::<u128>(), split in 0usize..=40) {
            let p = Preamble { caller: VmId(Guid::from_u128(c)), service: ServiceId(Guid::from_u128(s)) };
            let b = p.encode();
            if split < PREAMBLE_LEN {
                prop_assert_eq!(Preamble::decode(&b[..split]), Ok(None));
            }
            prop_assert_eq!(Preamble::decode(&b), Ok(Some(p)));
        }

        #[test]
        fn preamble_decode_total(b in proptest::collection::vec(any::<u8>(), 0..80)) {
            if let Ok(Some(p)) = Preamble::decode(&b) {
                prop_assert_eq!(&p.encode()[..], &b[..PREAMBLE_LEN]);
            }
        }
    }
}
