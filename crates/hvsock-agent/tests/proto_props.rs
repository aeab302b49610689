//! Property tests of the frame encoder and decoder.

use bytes::{Bytes, BytesMut};
use hvsock_agent::proto::{
    self, Decoder, ErrorCode, ExecRequest, ExitStatus, Frame, MAX_FRAME, MAX_WINDOW, ShellRequest,
    Stream, WindowSize, decode_all, decode_slice, encode,
};
use proptest::prelude::*;

fn text(max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(any::<char>().prop_filter("no NUL", |c| *c != '\0'), 0..max)
        .prop_map(|v| v.into_iter().collect())
}

fn path() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9._/ -]{0,64}"
}

fn env() -> impl Strategy<Value = Vec<(String, String)>> {
    proptest::collection::vec(("[A-Za-z_][A-Za-z0-9_]{0,12}", text(20)), 0..6)
}

fn window() -> impl Strategy<Value = WindowSize> {
    (any::<u16>(), any::<u16>()).prop_map(|(rows, cols)| WindowSize { rows, cols })
}

fn data() -> impl Strategy<Value = Bytes> {
    proptest::collection::vec(any::<u8>(), 0..3000).prop_map(Bytes::from)
}

fn frame() -> impl Strategy<Value = Frame> {
    prop_oneof![
        any::<u16>().prop_map(|version| Frame::Hello { version }),
        any::<[u8; 32]>().prop_map(|client_nonce| Frame::AuthHello { client_nonce }),
        (
            1u8..=7,
            any::<[u8; 32]>(),
            any::<[u8; 32]>(),
            proptest::collection::vec(any::<u8>(), 64)
        )
            .prop_map(|(m, agent_nonce, agent_key, sig)| Frame::Challenge(
                proto::Challenge {
                    methods: proto::Methods(m),
                    agent_nonce,
                    agent_key,
                    agent_sig: sig.try_into().unwrap(),
                }
            )),
        (
            "[a-z_][a-z0-9_.-]{0,31}|",
            prop_oneof![
                (
                    any::<[u8; 32]>(),
                    proptest::collection::vec(any::<u8>(), 64)
                )
                    .prop_map(|(public_key, s)| proto::Credential::Key {
                        public_key,
                        signature: s.try_into().unwrap()
                    }),
                text(40).prop_map(proto::Credential::Password),
                Just(proto::Credential::None),
            ]
        )
            .prop_map(|(user, credential)| Frame::Auth { user, credential }),
        "[a-z_][a-z0-9_.-]{0,31}".prop_map(|user| Frame::AuthOk { user }),
        (
            proptest::collection::vec(text(16), 1..6),
            env(),
            proptest::option::of(path()),
            any::<bool>(),
            window()
        )
            .prop_map(|(argv, env, cwd, tty, window)| Frame::Exec(ExecRequest {
                argv,
                env,
                cwd,
                tty,
                window
            })),
        (proptest::option::of("[a-z0-9-]{0,20}"), env(), window())
            .prop_map(|(term, env, window)| Frame::Shell(ShellRequest { term, env, window })),
        (path(), any::<bool>()).prop_map(|(path, recursive)| Frame::CopyTo { path, recursive }),
        (path(), any::<bool>()).prop_map(|(path, recursive)| Frame::CopyFrom { path, recursive }),
        data().prop_map(Frame::Stdin),
        Just(Frame::StdinEof),
        data().prop_map(Frame::Stdout),
        data().prop_map(Frame::Stderr),
        window().prop_map(Frame::Resize),
        (1u8..=64).prop_map(Frame::Signal),
        any::<i32>().prop_map(|c| Frame::Exit(ExitStatus::Code(c))),
        (1i32..=64).prop_map(|s| Frame::Exit(ExitStatus::Signal(s))),
        (
            prop_oneof![
                Just(Stream::Stdin),
                Just(Stream::Stdout),
                Just(Stream::Stderr)
            ],
            1u32..=MAX_WINDOW
        )
            .prop_map(|(stream, bytes)| Frame::Credit { stream, bytes }),
        (any::<u64>(), any::<u64>()).prop_map(|(files, bytes)| Frame::CopyTotal { files, bytes }),
        (path(), any::<u32>()).prop_map(|(path, mode)| Frame::Dir { path, mode }),
        (path(), any::<u32>(), any::<u64>()).prop_map(|(path, mode, size)| Frame::File {
            path,
            mode,
            size
        }),
        data().prop_map(Frame::Data),
        any::<[u8; 32]>().prop_map(|sha256| Frame::FileEnd { sha256 }),
        Just(Frame::CopyEnd),
        (any::<u64>(), any::<u64>(), any::<u64>())
            .prop_map(|(files, dirs, bytes)| Frame::CopyDone { files, dirs, bytes }),
        (any::<u16>(), text(100)).prop_map(|(c, message)| Frame::Error {
            code: ErrorCode(c),
            message
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn round_trip(f in frame()) {
        let bytes = proto::encode_to_vec(&f).unwrap();
        let (g, n) = decode_slice(&bytes).unwrap().unwrap();
        prop_assert_eq!(&g, &f);
        prop_assert_eq!(n, bytes.len());
        // Every strict prefix is "need more bytes", never an error.
        for cut in 0..bytes.len() {
            prop_assert_eq!(decode_slice(&bytes[..cut]), Ok(None));
        }
        let mut buf = BytesMut::from(&bytes[..]);
        prop_assert_eq!(Decoder::new().decode(&mut buf).unwrap(), Some(f));
        prop_assert!(buf.is_empty());
    }

    #[test]
    fn split_feeding_gives_same_frames(
        frames in proptest::collection::vec(frame(), 1..8),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..12),
    ) {
        let mut all = BytesMut::new();
        for f in &frames {
            encode(f, &mut all).unwrap();
        }
        let all = all.freeze();
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(all.len() + 1)).collect();
        points.push(0);
        points.push(all.len());
        points.sort();
        let mut dec = Decoder::new();
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        for w in points.windows(2) {
            buf.extend_from_slice(&all[w[0]..w[1]]);
            while let Some(f) = dec.decode(&mut buf).unwrap() {
                got.push(f);
            }
        }
        prop_assert_eq!(got, frames);
        prop_assert!(buf.is_empty());
    }

    #[test]
    fn arbitrary_bytes_never_panic_or_overallocate(
        bytes in proptest::collection::vec(any::<u8>(), 0..4096),
    ) {
        let _ = decode_all(&bytes);
        let mut buf = BytesMut::from(&bytes[..]);
        let mut dec = Decoder::new();
        while let Ok(Some(f)) = dec.decode(&mut buf) {
            // Whatever decodes is a valid frame that encodes to the same bytes' meaning.
            prop_assert!(proto::validate(&f).is_ok());
            let again = proto::encode_to_vec(&f).unwrap();
            prop_assert_eq!(decode_slice(&again).unwrap().unwrap().0, f);
        }
        // Waiting for a frame never reserves more than one maximal frame.
        prop_assert!(buf.capacity() <= bytes.len().max(2 * (4 + MAX_FRAME)));
    }

    #[test]
    fn mutated_frames_never_panic(
        f in frame(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
    ) {
        let mut bytes = proto::encode_to_vec(&f).unwrap();
        for (i, v) in flips {
            let at = i.index(bytes.len());
            bytes[at] = v;
        }
        let (frames, _err) = decode_all(&bytes);
        for g in frames {
            prop_assert!(proto::validate(&g).is_ok());
        }
    }
}

#[test]
fn header_over_limit_is_rejected_before_payload() {
    for len in [MAX_FRAME as u32 + 1, u32::MAX] {
        let mut buf = BytesMut::from(&len.to_be_bytes()[..]);
        let e = Decoder::new().decode(&mut buf).unwrap_err();
        assert!(matches!(e, proto::ProtoError::FrameTooLarge { .. }));
        assert!(buf.capacity() < 1024);
    }
    // Exactly the limit is fine (and waits for the payload).
    let mut buf = BytesMut::from(&(MAX_FRAME as u32).to_be_bytes()[..]);
    buf.extend_from_slice(&[proto::ty::DATA]);
    assert_eq!(Decoder::new().decode(&mut buf), Ok(None));
}

proptest! {
    /// Every Credit payload decodes to a valid frame exactly when its stream is 0..=2
    /// and its byte count is 1..=MAX_WINDOW.
    #[test]
    fn credit_fields_are_checked(stream in any::<u8>(), bytes in any::<u32>()) {
        let mut f = vec![0, 0, 0, 6, proto::ty::CREDIT, stream];
        f.extend_from_slice(&bytes.to_be_bytes());
        let ok = stream <= 2 && (1..=MAX_WINDOW).contains(&bytes);
        match decode_slice(&f) {
            Ok(Some((Frame::Credit { stream: s, bytes: b }, 10))) => {
                prop_assert!(ok);
                prop_assert_eq!((s.to_byte(), b), (stream, bytes));
            }
            Err(proto::ProtoError::BadValue { .. }) => prop_assert!(!ok),
            other => prop_assert!(false, "{:?}", other),
        }
    }

    /// `/proc/PID/stat` parsing: whatever the command name holds, the state and session
    /// after it are found; truncated lines are refused, never misread. (The agent's:
    /// Unix only.)
    #[cfg(unix)]
    #[test]
    fn proc_stat_fields_survive_any_name(
        name in proptest::collection::vec(any::<u8>(), 0..40),
        state in prop::sample::select(vec![b'R', b'S', b'D', b'Z', b'T', b'X']),
        sid in 0i32..=i32::MAX,
        cut in any::<prop::sample::Index>(),
    ) {
        use hvsock_agent::sys::parse_proc_stat;
        let mut line = b"4242 (".to_vec();
        line.extend_from_slice(&name);
        line.extend_from_slice(format!(") {} 1 77 {sid} 0 -1 4194560", state as char).as_bytes());
        prop_assert_eq!(parse_proc_stat(&line), Some((state, sid)));
        // Cut inside the fields after the name: never a wrong answer.
        let tail = line.len() - format!(" 77 {sid} 0 -1 4194560").len();
        let at = tail + cut.index(line.len() - tail);
        if let Some((st, s)) = parse_proc_stat(&line[..at]) {
            prop_assert_eq!(st, state);
            prop_assert!(sid.to_string().starts_with(&s.to_string()));
        }
    }
}
