//! The agent protocol decoder (crates/hvsock-agent/src/proto.rs): the frames an agent
//! in a guest, or a client on the host, sends the other side.
#![no_main]
use hvsock_agent::proto;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Every frame that decodes re-encodes to exactly the bytes it came from, and each
    // of its proper prefixes asks for more rather than failing or succeeding.
    let mut rest = data;
    while let Ok(Some((frame, n))) = proto::decode_slice(rest) {
        assert!(n > 0 && n <= rest.len());
        assert_eq!(proto::encode_to_vec(&frame).unwrap(), &rest[..n]);
        // Prefix checks are quadratic: bound them so big frames stay fast.
        for k in (0..n).step_by(n.div_ceil(64).max(1)) {
            assert!(matches!(proto::decode_slice(&rest[..k]), Ok(None)), "prefix {k} of {n}");
        }
        rest = &rest[n..];
    }
    // The stream decoder agrees with frame-by-frame decoding.
    let (frames, _) = proto::decode_all(data);
    let mut again = data;
    for f in &frames {
        let (g, n) = proto::decode_slice(again).unwrap().unwrap();
        assert_eq!(&g, f);
        again = &again[n..];
    }
});
