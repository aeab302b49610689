//! Unit tests of the wire format.

use super::*;
use bytes::{Bytes, BytesMut};

#[test]
fn hello_bytes_are_stable() {
    let v = encode_to_vec(&Frame::Hello { version: 1 }).unwrap();
    assert_eq!(
        v,
        [
            0, 0, 0, 11, 1, b'H', b'V', b'S', b'A', b'G', b'E', b'N', b'T', 0, 1
        ]
    );
}

#[test]
fn over_limit_length_rejected_from_prefix() {
    let mut b = BytesMut::from(&[0xff, 0xff, 0xff, 0xff][..]);
    assert!(matches!(
        Decoder::new().decode(&mut b),
        Err(ProtoError::FrameTooLarge { .. })
    ));
    assert_eq!(decode_slice(&[0, 0, 0, 0]), Err(ProtoError::EmptyFrame));
}

#[test]
fn typed_errors() {
    assert_eq!(
        decode_slice(&[0, 0, 0, 1, 0x99]),
        Err(ProtoError::UnknownType(0x99))
    );
    assert!(matches!(
        decode_slice(&[0, 0, 0, 3, ty::HELLO, b'H', b'V']),
        Err(ProtoError::Truncated { .. })
    ));
    assert_eq!(
        decode_slice(&[
            0, 0, 0, 11, 1, b'X', b'V', b'S', b'A', b'G', b'E', b'N', b'T', 0, 1
        ]),
        Err(ProtoError::BadMagic)
    );
    assert!(matches!(
        decode_slice(&[0, 0, 0, 2, ty::STDIN_EOF, 0]),
        Err(ProtoError::TrailingBytes { extra: 1, .. })
    ));
    // CopyTo with a non-UTF-8 path.
    assert!(matches!(
        decode_slice(&[0, 0, 0, 8, ty::COPY_TO, 0, 0, 0, 0, 2, 0xff, 0xfe]),
        Err(ProtoError::BadUtf8 { field: "path", .. })
    ));
    // CopyTo with a path over MAX_PATH.
    let mut f = vec![0, 0, 0, 6, ty::COPY_TO, 0];
    f.extend_from_slice(&((MAX_PATH as u32 + 1).to_be_bytes()));
    assert!(matches!(
        decode_slice(&f),
        Err(ProtoError::FieldTooLong { field: "path", .. })
    ));
    // Exec with too many argv entries.
    let mut f = vec![0, 0, 0, 10, ty::EXEC, 0, 0, 24, 0, 80];
    f.extend_from_slice(&(u32::MAX).to_be_bytes());
    assert!(matches!(
        decode_slice(&f),
        Err(ProtoError::TooMany { field: "argv", .. })
    ));
    assert!(matches!(
        decode_slice(&[0, 0, 0, 2, ty::SIGNAL, 0]),
        Err(ProtoError::BadValue { .. })
    ));
    // Credit: an unknown stream, no bytes, more than the maximum window.
    assert!(matches!(
        decode_slice(&[0, 0, 0, 6, ty::CREDIT, 3, 0, 0, 0, 1]),
        Err(ProtoError::BadValue {
            field: "stream",
            ..
        })
    ));
    assert!(matches!(
        decode_slice(&[0, 0, 0, 6, ty::CREDIT, 0, 0, 0, 0, 0]),
        Err(ProtoError::BadValue { field: "bytes", .. })
    ));
    assert!(matches!(
        decode_slice(&[0, 0, 0, 6, ty::CREDIT, 1, 0x01, 0, 0, 1]),
        Err(ProtoError::BadValue { field: "bytes", .. })
    ));
    assert_eq!(
        decode_slice(&[0, 0, 0, 6, ty::CREDIT, 2, 0x01, 0, 0, 0]),
        Ok(Some((
            Frame::Credit {
                stream: Stream::Stderr,
                bytes: MAX_WINDOW
            },
            10
        )))
    );
}

#[test]
fn encode_rejects_over_limit() {
    let big = Frame::Exec(ExecRequest {
        argv: vec!["x".repeat(MAX_ARGV_BYTES + 1)],
        ..Default::default()
    });
    let mut b = BytesMut::new();
    assert!(matches!(
        encode(&big, &mut b),
        Err(ProtoError::FieldTooLong { .. })
    ));
    assert!(b.is_empty());
    assert!(encode(&Frame::Data(Bytes::from(vec![0; MAX_PAYLOAD])), &mut b).is_ok());
    assert!(encode(&Frame::Data(Bytes::from(vec![0; MAX_PAYLOAD + 1])), &mut b).is_err());
}
