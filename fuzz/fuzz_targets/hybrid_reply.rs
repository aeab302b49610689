//! The hybrid-vsock handshake: the `OK <port>\n` line a VMM (Firecracker, Cloud
//! Hypervisor, vhost-device-vsock) answers to `CONNECT <port>\n`, and OpenVMM's
//! `OK <guid>\n` to `CONNECT <guid>\n` (one parser takes both: what follows `OK ` is
//! not read).
//!
//! Properties: never panics; success means the input starts with `OK `, the line ends
//! at the returned length within `MAX_HYBRID_REPLY`; a prefix of a successful reply
//! asks for more bytes; a refusal's message is at most one line of bounded length.
#![no_main]

use hvsock::handshake::{HybridReplyError, MAX_HYBRID_REPLY, parse_hybrid_reply};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match parse_hybrid_reply(data) {
        Ok(Some(n)) => {
            assert!(data.starts_with(b"OK "));
            assert!(n <= MAX_HYBRID_REPLY && n <= data.len());
            assert_eq!(data[n - 1], b'\n');
            assert!(!data[..n - 1].contains(&b'\n'));
            // Whatever follows the line is data, not part of the reply.
            assert_eq!(parse_hybrid_reply(&data[..n]), Ok(Some(n)));
            for k in 0..n {
                assert_eq!(parse_hybrid_reply(&data[..k]), Ok(None), "prefix {k}");
            }
        }
        Ok(None) => {
            assert!(data.len() < MAX_HYBRID_REPLY);
            assert!(!data.contains(&b'\n'));
        }
        Err(HybridReplyError::Refused(line)) => {
            assert!(!data.starts_with(b"OK "));
            assert!(!line.contains('\n'));
            assert!(line.chars().count() <= MAX_HYBRID_REPLY);
        }
        Err(e @ HybridReplyError::TooLong) => {
            assert!(data.starts_with(b"OK "));
            let _ = e.to_string();
        }
    }
});
