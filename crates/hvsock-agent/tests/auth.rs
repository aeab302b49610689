//! Authentication (protocol v3): what is accepted and every refusal of issue 15's list
//! that is the exchange's (keys, signatures, pins, passwords, lockout, versions).
#![cfg(unix)]

mod common;
use common::*;
use hvsock_agent::auth::{AuthorizedKey, KeyPair, PinFile, PinMode};
use hvsock_agent::client::{self, ClientAuth, Connection};
use hvsock_agent::framed::{FrameReader, FrameWriter};
use hvsock_agent::proto::{Credential, ErrorCode, ExecRequest, Frame, Methods, VERSION};
use hvsock_agent::server::KeySource;
use hvsock_agent::server::auth::strict_modes;
use hvsock_agent::{Agent, AgentOptions, ClientError};
use std::sync::Arc;
use std::time::Duration;

fn echo() -> ExecRequest {
    ExecRequest {
        argv: vec!["echo".into(), "in".into()],
        ..Default::default()
    }
}

/// Runs `echo in` over `conn`: its output, or the error.
async fn run<S>(conn: Connection<S>) -> Result<String, ClientError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send,
{
    let mut out = Vec::new();
    let code = client::exec(
        conn,
        echo(),
        tokio::io::empty(),
        &mut out,
        tokio::io::sink(),
    )
    .await?;
    assert_eq!(code, 0);
    Ok(String::from_utf8(out).unwrap())
}

/// An agent on a socket pair with `opts` (taken as they are), serving one connection
/// from `peer`; the client's end.
fn pair(agent: &Agent, peer: &'static str) -> tokio::net::UnixStream {
    let (c, a) = tokio::net::UnixStream::pair().unwrap();
    let agent = agent.clone();
    tokio::spawn(async move { agent.serve_from(a, peer).await });
    c
}

fn fast(mut opts: AgentOptions) -> AgentOptions {
    opts.auth.failure_delay = Duration::ZERO;
    opts
}

fn keys_for(k: &KeyPair, users: Option<Vec<String>>) -> KeySource {
    KeySource::Keys(vec![AuthorizedKey {
        key: k.public(),
        users,
        line: 1,
    }])
}

#[track_caller]
fn assert_auth_failed(r: Result<String, ClientError>, needle: &str) {
    match r {
        Err(ClientError::Remote { code, message }) => {
            assert_eq!(code, ErrorCode::AUTH_FAILED, "{message}");
            assert!(message.contains(needle), "{message:?} lacks {needle:?}");
        }
        other => panic!("expected AUTH_FAILED ({needle}), got {other:?}"),
    }
}

#[tokio::test]
async fn key_accepted_as_the_agents_own_user() {
    let agent = Agent::new(with_test_key(AgentOptions::default()));
    assert_eq!(run(conn(pair(&agent, "a"))).await.unwrap(), "in\n");
    // The AuthOk names the agent's own user when the client sent none.
    let (mut r, mut w) = raw_pair(&agent, "a", [1; 32]).await;
    let own = agent.options().auth.own_user.clone();
    assert_eq!(
        raw_auth(&mut r, &mut w, [1; 32], &test_key(), "").await,
        Ok(own.clone())
    );
    // ... and when it sent that user's name.
    let (mut r, mut w) = raw_pair(&agent, "a", [2; 32]).await;
    assert_eq!(
        raw_auth(&mut r, &mut w, [2; 32], &test_key(), &own).await,
        Ok(own)
    );
}

#[tokio::test]
async fn no_key_is_refused_with_advice() {
    let agent = Agent::new(with_test_key(AgentOptions::default()));
    match run(Connection::new(pair(&agent, "a"), ClientAuth::default())).await {
        Err(ClientError::Auth(m)) => assert!(m.contains("hvsock key generate"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn unknown_key_is_refused() {
    let agent = Agent::new(fast(with_test_key(AgentOptions::default())));
    let other = KeyPair::from_seed([1; 32], "stranger");
    let r = run(Connection::new(
        pair(&agent, "a"),
        ClientAuth::with_key(other),
    ))
    .await;
    assert_auth_failed(r, "is not authorized for user");
}

#[tokio::test]
async fn a_key_of_another_user_is_refused() {
    let mut opts = fast(AgentOptions::default());
    opts.auth.keys = keys_for(&test_key(), Some(vec!["someone-else".into()]));
    let agent = Agent::new(opts);
    assert_auth_failed(
        run(conn(pair(&agent, "a"))).await,
        "is not authorized for user",
    );
}

/// `--user root` with a key that the system-wide file authorizes for another user
/// only (`user=nobody`): refused, whoever the agent runs as.
#[tokio::test]
async fn root_is_refused_when_the_key_is_for_another_user() {
    let mut opts = fast(AgentOptions::default());
    opts.auth.keys = keys_for(&test_key(), Some(vec!["nobody".into()]));
    let agent = Agent::new(opts);
    let auth = ClientAuth {
        user: "root".into(),
        ..test_auth()
    };
    let want = if rustix::process::geteuid().is_root() {
        "is not authorized for user root"
    } else {
        "can only serve"
    };
    assert_auth_failed(run(Connection::new(pair(&agent, "a"), auth)).await, want);
}

#[tokio::test]
async fn another_user_than_the_agents_is_refused() {
    let agent = Agent::new(with_test_key(AgentOptions::default()));
    // A user that does not exist: refused by name.
    let auth = ClientAuth {
        user: "nobody-such".into(),
        ..test_auth()
    };
    assert_auth_failed(
        run(Connection::new(pair(&agent, "a"), auth)).await,
        "no such user: nobody-such",
    );
    // A user that exists (`nobody`, in every base system), with the agent's key that a
    // line without `user=` authorizes for the agent's own user only: refused, by the
    // key (a root agent may serve the user) or because the agent is not root.
    let auth = ClientAuth {
        user: "nobody".into(),
        ..test_auth()
    };
    let want = if rustix::process::geteuid().is_root() {
        "is not authorized for user nobody"
    } else {
        "can only serve"
    };
    assert_auth_failed(run(Connection::new(pair(&agent, "b"), auth)).await, want);
}

/// Hello + AuthHello{nonce} sent, Hello read: the halves, before the Challenge.
async fn raw_pair(
    agent: &Agent,
    peer: &'static str,
    nonce: [u8; 32],
) -> Halves<tokio::net::UnixStream> {
    let (r, w) = tokio::io::split(pair(agent, peer));
    let (mut r, mut w) = (FrameReader::new(r), FrameWriter::new(w));
    w.write_frame(&Frame::Hello { version: VERSION })
        .await
        .unwrap();
    w.write_frame(&Frame::AuthHello {
        client_nonce: nonce,
    })
    .await
    .unwrap();
    assert_eq!(
        r.read_frame().await.unwrap(),
        Some(Frame::Hello { version: VERSION })
    );
    (r, w)
}

/// Sends `auth` after reading the Challenge; the agent's answer.
async fn answer_with(h: &mut Halves<tokio::net::UnixStream>, auth: Frame) -> Frame {
    let (r, w) = h;
    assert!(matches!(
        r.read_frame().await.unwrap(),
        Some(Frame::Challenge(_))
    ));
    w.write_frame(&auth).await.unwrap();
    r.read_frame().await.unwrap().unwrap()
}

#[tokio::test]
async fn a_replayed_signature_is_refused() {
    let agent = Agent::new(fast(with_test_key(AgentOptions::default())));
    // A recorded exchange: the Auth that worked once.
    let mut h = raw_pair(&agent, "a", [5; 32]).await;
    let Some(Frame::Challenge(c)) = h.0.read_frame().await.unwrap() else {
        panic!()
    };
    let recorded = key_auth(&[5; 32], &c, &test_key(), "");
    h.1.write_frame(&recorded).await.unwrap();
    assert!(matches!(
        h.0.read_frame().await.unwrap(),
        Some(Frame::AuthOk { .. })
    ));
    // Sent again on a new connection, even with the same client nonce: the agent's
    // nonce is new.
    let mut h = raw_pair(&agent, "a", [5; 32]).await;
    match answer_with(&mut h, recorded).await {
        Frame::Error { code, message } => {
            assert_eq!(code, ErrorCode::AUTH_FAILED);
            assert!(message.contains("does not verify"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_altered_signature_is_refused() {
    let agent = Agent::new(fast(with_test_key(AgentOptions::default())));
    let mut h = raw_pair(&agent, "a", [6; 32]).await;
    let Some(Frame::Challenge(c)) = h.0.read_frame().await.unwrap() else {
        panic!()
    };
    let Frame::Auth {
        user,
        credential: Credential::Key {
            public_key,
            mut signature,
        },
    } = key_auth(&[6; 32], &c, &test_key(), "")
    else {
        panic!()
    };
    signature[10] ^= 0x40;
    let altered = Frame::Auth {
        user,
        credential: Credential::Key {
            public_key,
            signature,
        },
    };
    h.1.write_frame(&altered).await.unwrap();
    match h.0.read_frame().await.unwrap().unwrap() {
        Frame::Error { code, message } => {
            assert_eq!(code, ErrorCode::AUTH_FAILED);
            assert!(message.contains("does not verify"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_changed_agent_key_is_refused_by_the_client() {
    let dir = tempfile::tempdir().unwrap();
    let pins = PinFile {
        path: dir.path().join("agent_keys"),
        mode: PinMode::Tofu,
        vm: hvsock::VmId::PARENT,
        service: hvsock_agent::SERVICE_ID,
    };
    let auth = ClientAuth {
        pins: Some(pins.clone()),
        ..test_auth()
    };
    let first = Agent::new(with_test_key(AgentOptions::default()));
    // First use records the key, the same key passes again.
    assert_eq!(
        run(Connection::new(pair(&first, "a"), auth.clone()))
            .await
            .unwrap(),
        "in\n"
    );
    assert_eq!(
        run(Connection::new(pair(&first, "a"), auth.clone()))
            .await
            .unwrap(),
        "in\n"
    );
    // Another agent (another host key) at the same address: refused before any
    // credential is sent.
    let second = Agent::new(with_test_key(AgentOptions::default()));
    match run(Connection::new(pair(&second, "a"), auth)).await {
        Err(ClientError::Auth(m)) => {
            assert!(m.contains("CHANGED") && m.contains("line 1"), "{m}");
            assert!(
                m.contains(&first.options().auth.host_key.public().fingerprint()),
                "{m}"
            );
            assert!(
                m.contains(&second.options().auth.host_key.public().fingerprint()),
                "{m}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn too_many_failures_lock_the_peer_out() {
    let mut opts = fast(with_test_key(AgentOptions::default()));
    opts.auth.max_failures = 3;
    let agent = Agent::new(opts);
    let stranger = || ClientAuth::with_key(KeyPair::from_seed([2; 32], "x"));
    for _ in 0..3 {
        let r = run(Connection::new(pair(&agent, "peer-a"), stranger())).await;
        assert_auth_failed(r, "not authorized");
    }
    // Now even the right key is refused from that peer, with its own message...
    assert_auth_failed(run(conn(pair(&agent, "peer-a"))).await, "too many failed");
    // ... but not from another peer.
    assert_eq!(run(conn(pair(&agent, "peer-b"))).await.unwrap(), "in\n");
    assert!(agent.options().auth.failures.locked("peer-a").is_some());
    assert!(agent.options().auth.failures.locked("peer-b").is_none());
}

fn password_agent() -> Agent {
    let mut opts = fast(AgentOptions::default());
    let own = opts.auth.own_user.clone();
    opts.auth.methods = Methods::PASSWORD;
    opts.auth.password_check = Some(Arc::new(move |u: &str, p: &str| {
        if u == own && p == "sesame" {
            Ok(())
        } else {
            Err("Authentication failure".into())
        }
    }));
    Agent::new(opts)
}

fn with_password(p: &'static str) -> ClientAuth {
    ClientAuth {
        password: Some(Arc::new(move |_prompt: &str| Ok(format!("{p}\n")))),
        // A key the agent does not take: the client must fall back to the password.
        ..test_auth()
    }
}

#[tokio::test]
async fn password_through_the_hook() {
    let agent = password_agent();
    let ok = run(Connection::new(pair(&agent, "a"), with_password("sesame"))).await;
    assert_eq!(ok.unwrap(), "in\n");
    let bad = run(Connection::new(pair(&agent, "a"), with_password("guess"))).await;
    assert_auth_failed(bad, "password not accepted");
    // Without a password source the client says what it needs.
    match run(Connection::new(pair(&agent, "a"), test_auth())).await {
        Err(ClientError::Auth(m)) => assert!(m.contains("--password-stdin"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_agent_without_a_check_does_not_offer_passwords() {
    let mut opts = fast(with_test_key(AgentOptions::default()));
    opts.auth.methods = Methods::KEY.with(Methods::PASSWORD);
    let agent = Agent::new(opts);
    let mut h = raw_pair(&agent, "a", [8; 32]).await;
    let auth = Frame::Auth {
        user: String::new(),
        credential: Credential::Password("x".into()),
    };
    match answer_with(&mut h, auth).await {
        Frame::Error { code, message } => {
            assert_eq!(code, ErrorCode::AUTH_FAILED);
            assert!(message.contains("does not accept password"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn none_when_the_agent_asks_for_nothing() {
    let mut opts = AgentOptions::default();
    opts.auth.methods = Methods::NONE;
    let agent = Agent::new(opts);
    let r = run(Connection::new(pair(&agent, "a"), ClientAuth::default())).await;
    assert_eq!(r.unwrap(), "in\n");
    // A key agent refuses `none`.
    let agent = Agent::new(fast(with_test_key(AgentOptions::default())));
    let mut h = raw_pair(&agent, "a", [9; 32]).await;
    let none = Frame::Auth {
        user: String::new(),
        credential: Credential::None,
    };
    assert!(
        matches!(answer_with(&mut h, none).await, Frame::Error { code, .. } if code == ErrorCode::AUTH_FAILED)
    );
}

#[tokio::test]
async fn a_v2_client_gets_the_version_message() {
    let agent = Agent::new(with_test_key(AgentOptions::default()));
    let (r, w) = tokio::io::split(pair(&agent, "a"));
    let (mut r, mut w) = (FrameReader::new(r), FrameWriter::new(w));
    w.write_frame(&Frame::Hello { version: 2 }).await.unwrap();
    // A v2 client sends its request right away, with no authentication.
    w.write_frame(&Frame::Exec(echo())).await.unwrap();
    assert_eq!(
        r.read_frame().await.unwrap(),
        Some(Frame::Hello { version: VERSION })
    );
    match r.read_frame().await.unwrap() {
        Some(Frame::Error { code, message }) => {
            assert_eq!(code, ErrorCode::VERSION_MISMATCH);
            assert_eq!(
                message,
                "agent speaks protocol v3, client v2; upgrade the client (hvsock on this side) to match the agent"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(r.read_frame().await.unwrap(), None);
}

#[tokio::test]
async fn a_v2_agent_gets_the_version_message() {
    let (c, a) = tokio::io::duplex(4096);
    tokio::spawn(async move {
        let (r, w) = tokio::io::split(a);
        let (mut r, mut w) = (FrameReader::new(r), FrameWriter::new(w));
        let _ = r.read_frame().await;
        let _ = w.write_frame(&Frame::Hello { version: 2 }).await;
        while let Ok(Some(_)) = r.read_frame().await {}
    });
    match run(conn(c)).await {
        Err(
            e @ ClientError::VersionMismatch {
                agent: 2,
                client: 3,
            },
        ) => assert_eq!(
            e.to_string(),
            "agent speaks protocol v2, client v3; upgrade the agent (hvsock in the VM) to match the client"
        ),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn key_files_system_wide_and_per_user() {
    let dir = tempfile::tempdir().unwrap();
    let system = dir.path().join("authorized_keys");
    let mut opts = fast(AgentOptions::default());
    opts.auth.keys = KeySource::Files {
        system: Some(system.clone()),
        per_user: false,
    };
    let agent = Agent::new(opts);
    // Missing file: nothing authorized.
    assert_auth_failed(run(conn(pair(&agent, "a"))).await, "not authorized");
    // `user=` of another user: still not.
    let line = test_key().public().to_line();
    std::fs::write(&system, format!("user=someone-else {line}\n")).unwrap();
    assert_auth_failed(run(conn(pair(&agent, "a"))).await, "not authorized");
    // A line without `user=` authorizes the agent's own user; read at each connection.
    std::fs::write(&system, format!("# hosts\n{line}\n")).unwrap();
    assert_eq!(run(conn(pair(&agent, "a"))).await.unwrap(), "in\n");
    let own = agent.options().auth.own_user.clone();
    std::fs::write(&system, format!("user=x,{own} {line}\n")).unwrap();
    assert_eq!(run(conn(pair(&agent, "a"))).await.unwrap(), "in\n");
}

#[test]
fn strict_modes_refuse_writable_files_and_directories() {
    use std::os::unix::fs::PermissionsExt;
    let home = tempfile::tempdir().unwrap();
    let d = home.path().join(".config/hvsock");
    std::fs::create_dir_all(&d).unwrap();
    for p in [home.path(), &home.path().join(".config"), &d] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let f = d.join("authorized_keys");
    std::fs::write(&f, "").unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
    let uid = rustix::process::getuid().as_raw();
    assert_eq!(strict_modes(&f, home.path(), uid), Ok(()));
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o664)).unwrap();
    let e = strict_modes(&f, home.path(), uid).unwrap_err();
    assert!(e.contains("writable by group or others"), "{e}");
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o777)).unwrap();
    assert!(strict_modes(&f, home.path(), uid).is_err());
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700)).unwrap();
    // Owned by someone else (not root, not the user).
    let r = strict_modes(&f, home.path(), uid.wrapping_add(1));
    if uid != 0 {
        assert!(r.unwrap_err().contains("owned by uid"));
    } else {
        // Files owned by root are accepted for any user, as sshd does.
        assert_eq!(r, Ok(()));
    }
}

#[tokio::test]
async fn a_challenge_whose_methods_were_changed_is_refused_by_the_client() {
    // Someone on the path turns the agent's "key" into "password" to collect one.
    let (c, a) = tokio::io::duplex(4096);
    tokio::spawn(async move {
        let (r, w) = tokio::io::split(a);
        let (mut r, mut w) = (FrameReader::new(r), FrameWriter::new(w));
        let _ = r.read_frame().await;
        let Ok(Some(Frame::AuthHello { client_nonce })) = r.read_frame().await else {
            return;
        };
        let Frame::Challenge(mut ch) = fake_challenge(&client_nonce) else {
            return;
        };
        ch.methods = Methods::PASSWORD;
        let _ = w.write_frame(&Frame::Hello { version: VERSION }).await;
        let _ = w.write_frame(&Frame::Challenge(ch)).await;
        while let Ok(Some(_)) = r.read_frame().await {}
    });
    let asked = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let seen = asked.clone();
    let auth = ClientAuth {
        password: Some(Arc::new(move |_p: &str| {
            seen.store(true, std::sync::atomic::Ordering::SeqCst);
            Ok("secret".into())
        })),
        ..test_auth()
    };
    match run(Connection::new(c, auth)).await {
        Err(ClientError::Auth(m)) => assert!(m.contains("does not verify"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert!(
        !asked.load(std::sync::atomic::Ordering::SeqCst),
        "the password was asked for"
    );
}
