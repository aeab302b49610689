//! The hybrid transport's wire format: the `CONNECT <port>\n` request a host writes on
//! a VMM's Unix socket (or OpenVMM's `CONNECT <guid>\n`) and the `OK ...\n` line the
//! VMM answers. Pure byte functions (no I/O), shared by std, tokio and the fuzz
//! targets. Public as [`crate::handshake`].

use crate::addr::ServiceId;

/// The request line a host sends on a hybrid-vsock socket: `CONNECT <port>\n`.
pub fn hybrid_connect_request(port: u32) -> Vec<u8> {
    format!("CONNECT {port}\n").into_bytes()
}

/// OpenVMM's request line for a Hyper-V service id: `CONNECT <guid>\n`, the GUID as
/// lowercase text without braces (OpenVMM answers `OK <guid>\n`, the connection's
/// endpoint id, which [`parse_hybrid_reply`] takes like any `OK` line).
pub fn hybrid_connect_request_guid(service: ServiceId) -> Vec<u8> {
    format!("CONNECT {}\n", service.0).into_bytes()
}

/// Longest `OK ...` line accepted from a hybrid VMM.
pub const MAX_HYBRID_REPLY: usize = 64;

/// Why a hybrid VMM's answer is not success.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HybridReplyError {
    /// The line did not start with `OK `.
    #[error("the VMM refused the connection: {0:?}")]
    Refused(String),
    /// No newline within [`MAX_HYBRID_REPLY`] bytes.
    #[error("the VMM's reply line is longer than {MAX_HYBRID_REPLY} bytes")]
    TooLong,
}

/// Finds the end of the VMM's reply line in `buf`: `Ok(Some(n))` when the first `n`
/// bytes are a complete successful reply (`OK ...\n`; whatever number follows differs
/// between VMMs and is not checked), `Ok(None)` while more bytes are needed.
pub fn parse_hybrid_reply(buf: &[u8]) -> Result<Option<usize>, HybridReplyError> {
    let m = buf.len().min(3);
    if buf[..m] != b"OK "[..m] {
        let line = buf.split(|&b| b == b'\n').next().unwrap_or_default();
        let line = &line[..line.len().min(MAX_HYBRID_REPLY)];
        return Err(HybridReplyError::Refused(
            String::from_utf8_lossy(line).into_owned(),
        ));
    }
    match buf.iter().position(|&b| b == b'\n') {
        Some(i) if i < MAX_HYBRID_REPLY => Ok(Some(i + 1)),
        Some(_) => Err(HybridReplyError::TooLong),
        None if buf.len() >= MAX_HYBRID_REPLY => Err(HybridReplyError::TooLong),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn hybrid_replies() {
        assert_eq!(parse_hybrid_reply(b""), Ok(None));
        assert_eq!(parse_hybrid_reply(b"OK"), Ok(None));
        assert_eq!(parse_hybrid_reply(b"OK 1073741824\n"), Ok(Some(14)));
        assert_eq!(parse_hybrid_reply(b"OK 5000\nguest data"), Ok(Some(8)));
        assert!(matches!(
            parse_hybrid_reply(b"ERR no\n"),
            Err(HybridReplyError::Refused(_))
        ));
        assert!(matches!(parse_hybrid_reply(b"O"), Ok(None)));
        assert!(matches!(
            parse_hybrid_reply(b"Ox"),
            Err(HybridReplyError::Refused(_))
        ));
        let long = [b"OK ".as_slice(), &[b'1'; 100]].concat();
        assert_eq!(parse_hybrid_reply(&long), Err(HybridReplyError::TooLong));
        assert_eq!(hybrid_connect_request(1234), b"CONNECT 1234\n");
        let guid = crate::Guid::from_u128(0x12345678_9abc_4def_8123_456789abcdef);
        assert_eq!(
            hybrid_connect_request_guid(ServiceId(guid)),
            b"CONNECT 12345678-9abc-4def-8123-456789abcdef\n"
        );
        // OpenVMM's answer to it: `OK` and the endpoint's GUID.
        let ok = b"OK 0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0\nguest data";
        assert_eq!(parse_hybrid_reply(ok), Ok(Some(40)));
    }

    proptest! {
        #[test]
        fn openvmm_guid_replies_are_taken_whole(g in any::<u128>(), rest in proptest::collection::vec(any::<u8>(), 0..40)) {
            let line = format!("OK {}\n", crate::Guid::from_u128(g));
            let mut b = line.clone().into_bytes();
            b.extend_from_slice(&rest);
            prop_assert_eq!(parse_hybrid_reply(&b), Ok(Some(line.len())));
            for k in 0..line.len() {
                prop_assert_eq!(parse_hybrid_reply(&b[..k]), Ok(None));
            }
        }

        #[test]
        fn guid_requests_name_the_service(g in any::<u128>()) {
            let s = ServiceId(crate::Guid::from_u128(g));
            let req = String::from_utf8(hybrid_connect_request_guid(s)).unwrap();
            let text = req.strip_prefix("CONNECT ").unwrap().strip_suffix('\n').unwrap();
            prop_assert_eq!(text.parse::<crate::Guid>().unwrap(), s.0);
            prop_assert_eq!(text.to_ascii_lowercase(), text);
        }

        #[test]
        fn hybrid_reply_total(b in proptest::collection::vec(any::<u8>(), 0..100)) {
            if let Ok(Some(n)) = parse_hybrid_reply(&b) {
                prop_assert!(b.starts_with(b"OK "));
                prop_assert_eq!(b[n - 1], b'\n');
                prop_assert!(n <= MAX_HYBRID_REPLY);
            }
        }
    }
}
