//! Malformed frames against the live agent.

use super::*;

fn frame(ty: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = ((payload.len() + 1) as u32).to_be_bytes().to_vec();
    v.push(ty);
    v.extend_from_slice(payload);
    v
}

fn hello(version: u16) -> Vec<u8> {
    let mut p = b"HVSAGENT".to_vec();
    p.extend_from_slice(&version.to_be_bytes());
    frame(0x01, &p)
}

/// Parses the frames of a reply: (type, payload) pairs.
fn frames(mut b: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    while b.len() >= 5 {
        let len = u32::from_be_bytes(b[..4].try_into().unwrap()) as usize;
        if b.len() < 4 + len {
            break;
        }
        out.push((b[4], b[5..4 + len].to_vec()));
        b = &b[4 + len..];
    }
    out
}

/// The `Error` frame of a reply: (code, message).
fn error_of(reply: &[u8]) -> (u16, String) {
    let fs = frames(reply);
    let (_, p) = fs
        .iter()
        .find(|(t, _)| *t == 0x7f)
        .unwrap_or_else(|| panic!("no Error frame in {fs:?}"));
    let code = u16::from_be_bytes([p[0], p[1]]);
    let n = u32::from_be_bytes(p[2..6].try_into().unwrap()) as usize;
    (code, String::from_utf8_lossy(&p[6..6 + n]).into_owned())
}

/// Sends `bytes` on a fresh connection, half-closes, returns everything the agent says.
fn raw(env: &Env, bytes: &[u8]) -> Vec<u8> {
    let mut s = Context::host(env.dirs())
        .connect(HvAddr::new(env.vm1, SERVICE_ID))
        .unwrap();
    s.set_read_timeout(Some(LIMIT)).unwrap();
    // The agent may hang up before reading everything: a failed write is fine.
    let _ = s.write_all(bytes);
    let _ = s.shutdown(Shutdown::Write);
    let mut reply = Vec::new();
    let _ = s.read_to_end(&mut reply);
    reply
}

#[test]
fn malformed_frames_get_errors_and_the_agent_keeps_serving() {
    let mut env = Env::with_agent(&[]);
    let cat = |extra: &[u8]| [hello(VERSION), extra.to_vec()].concat();
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("wrong magic", frame(0x01, b"NOTAGENT\0\x01"), 1),
        ("not a Hello first", frame(0x11, b""), 1),
        ("version mismatch", hello(99), 2),
        ("huge length", cat(&[0xff, 0xff, 0xff, 0xff, 0x02]), 1),
        ("zero length", cat(&[0, 0, 0, 0]), 1),
        ("unknown type", cat(&frame(0x99, b"")), 1),
        (
            "argc over the limit",
            cat(&frame(0x02, &[0, 0, 24, 0, 80, 0xff, 0xff, 0xff, 0xff])),
            1,
        ),
        ("bad bool", cat(&frame(0x04, &[7, 0, 0, 0, 1, b'x'])), 1),
        ("Stdin instead of AuthHello", cat(&frame(0x10, b"hi")), 1),
    ];
    for (what, bytes, want) in cases {
        let reply = raw(&env, &bytes);
        let (code, msg) = error_of(&reply);
        assert_eq!(code, want, "{what}: {msg}");
        assert!(!msg.is_empty(), "{what}");
    }
    // A truncated frame then EOF, and a connection that just closes: no reply needed,
    // no harm done.
    raw(&env, &cat(&[0, 0, 1, 0, 0x02, 1, 2]));
    raw(&env, b"");
    // The version mismatch is explained.
    let (_, msg) = error_of(&raw(&env, &hello(99)));
    assert!(
        msg.contains(&format!("protocol v{VERSION}")) && msg.contains("v99"),
        "{msg}"
    );
    // v1 (before flow control) and v2 (before authentication) clients get the same
    // clear mismatch, not a session, even with their request right behind the Hello.
    for v in [1u16, 2] {
        let exec = frame(
            0x02,
            &[
                0, 0, 24, 0, 80, 0, 0, 0, 1, 0, 0, 0, 4, b't', b'r', b'u', b'e', 0, 0, 0, 0, 0,
            ],
        );
        let (c, msg) = error_of(&raw(&env, &[hello(v), exec].concat()));
        assert_eq!(c, 2, "{msg}");
        assert!(
            msg.contains(&format!("client v{v}; upgrade the client")),
            "{msg}"
        );
    }
    // Through the CLI's raw `hvsock connect` too.
    let out = env.run(
        &["connect", "vm1:00004856-facb-11e6-bd58-64006a7986d3"],
        &frame(0x01, b"GARBAGE!\0\x01"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(error_of(&out.stdout).0, 1);

    // Still serving, and it logged the errors one line each.
    assert!(env.agent_alive());
    let out = env.run(&["exec", "vm1", "--", "echo", "still here"], b"");
    assert_eq!((code(&out), stdout(&out)), (0, "still here\n".to_string()));
    let log = env.agent_log();
    assert!(log.contains("protocol"), "{log}");
}
