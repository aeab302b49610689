//! The hybrid transport's wire format: the `CONNECT <port>\n` request a host writes on
//! a VMM's Unix socket and the `OK ...\n` line the VMM answers. Pure byte functions
//! (no I/O), shared by std, tokio and the fuzz targets. Public as
//! [`crate::handshake`].

/// The request line a host sends on a hybrid-vsock socket: `CONNECT <port>\n`.
pub fn hybrid_connect_request(port: u32) -> Vec<u8> {
    format!("CONNECT {port}\n").into_bytes()
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
    }

    proptest! {
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
