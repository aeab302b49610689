//! The local-partition handshake: the 40-byte preamble a listener reads from a
//! connecting process, and the reply header and message a client reads back.
//!
//! Properties: never panics; a complete preamble re-encodes to the first 40 bytes; a
//! prefix of a valid preamble asks for more bytes and never fails; the reply decoders
//! accept only what `encode_reply` can produce, and a refusal's text comes out with
//! control characters escaped.
#![no_main]

use hvsock::handshake::{self, MAX_REPLY_MESSAGE, PREAMBLE_LEN, Preamble, REPLY_LEN, Status};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match Preamble::decode(data) {
        Ok(Some(p)) => {
            assert!(data.len() >= PREAMBLE_LEN);
            assert_eq!(&p.encode()[..], &data[..PREAMBLE_LEN]);
            for n in 0..PREAMBLE_LEN {
                assert_eq!(Preamble::decode(&data[..n]), Ok(None), "prefix {n}");
            }
        }
        Ok(None) => {
            assert!(data.len() < PREAMBLE_LEN);
            // Completing it with zeros gives a valid preamble.
            let mut full = data.to_vec();
            full.resize(PREAMBLE_LEN, 0);
            if data.len() >= 5 {
                assert!(matches!(Preamble::decode(&full), Ok(Some(_))));
            }
        }
        Err(e) => {
            let _ = e.to_string();
            // Errors are final: more bytes do not fix them.
            let mut more = data.to_vec();
            more.extend_from_slice(&[0; PREAMBLE_LEN]);
            assert_eq!(Preamble::decode(&more), Err(e));
        }
    }

    // The same bytes as a reply: 4-byte header, then u16 length and message.
    if let Some(head) = data.first_chunk::<REPLY_LEN>() {
        match handshake::decode_reply_header(head) {
            Ok(h) => {
                let rest = &data[REPLY_LEN..];
                if h.status == Status::Ok {
                    assert_eq!(handshake::encode_reply(Status::Ok, ""), head);
                } else if let Some(len) = rest.first_chunk::<2>() {
                    let len = u16::from_le_bytes(*len) as usize;
                    let body = &rest[2..];
                    let body = &body[..len.min(body.len())];
                    let msg = handshake::decode_reply_message(body);
                    let enc = handshake::encode_reply(h.status, &msg);
                    assert_eq!(&enc[..REPLY_LEN], head);
                    let n = u16::from_le_bytes([enc[4], enc[5]]) as usize;
                    assert!(n <= MAX_REPLY_MESSAGE);
                    assert_eq!(enc.len(), REPLY_LEN + 2 + n);
                    // The message is shown escaped: nothing in it can drive a terminal.
                    assert!(!msg.chars().any(char::is_control), "{msg:?}");
                    // A valid UTF-8 message within the limit with nothing to escape
                    // survives unchanged.
                    if body.len() <= MAX_REPLY_MESSAGE
                        && std::str::from_utf8(body)
                            .is_ok_and(|t| hvsock::text::escape_untrusted(t) == t)
                    {
                        assert_eq!(msg.as_bytes(), body);
                        assert_eq!(&enc[REPLY_LEN + 2..], body);
                    }
                }
                let _ = h.status.error_kind();
            }
            Err(e) => {
                assert_eq!(e.kind(), std::io::ErrorKind::InvalidData);
                let _ = e.to_string();
            }
        }
    }
    let _ = handshake::decode_reply_message(data);
});
