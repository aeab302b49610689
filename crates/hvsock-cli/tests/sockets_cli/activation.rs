//! `hvsock listen --systemd`: a listening socket passed the way systemd passes it (at
//! fd 3, LISTEN_FDS=1, LISTEN_PID set by the process itself before it execs hvsock, as
//! systemd sets it after its fork), and the descriptors systemd would never pass.

use super::*;
use std::os::fd::OwnedFd;
use std::os::unix::fs::DirBuilderExt;
use std::os::unix::net::UnixListener;
use std::path::PathBuf;

/// `sh -c` moves its stdin (`fd`) to fd 3, sets LISTEN_PID (`$$`: the pid hvsock will
/// have, as `exec` keeps it) and LISTEN_FDS as given, and execs `hvsock ARGS` in
/// partition `a` with stdin from /dev/null.
fn activated(env: &Env, fd: impl Into<OwnedFd>, pid: &str, fds: &str, args: &[&str]) -> Command {
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg(format!(
            "exec 3<&0 </dev/null; LISTEN_PID={pid} LISTEN_FDS={fds} exec \"$@\""
        ))
        .arg("sh")
        .arg(common::BIN)
        .args(args)
        .env("HVSOCK_CONFIG_DIR", &env.cfg)
        .env("HVSOCK_RUNTIME_DIR", &env.run)
        .env("HVSOCK_PARTITION", "a")
        .env_remove("HVSOCK_GUEST")
        .env_remove("LISTEN_FDNAMES")
        .stdin(Stdio::from(fd.into()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

/// Where partition `a`'s listener for `parent:echo` lives, its folder made as hvsock
/// makes it (0700), as a `.socket` unit's `ListenStream=` would name it.
fn echo_socket_path(env: &Env) -> PathBuf {
    let ctx = Context::local(env.dirs(), "a").unwrap();
    let path = hvsock::activation::socket_path(&ctx, (VmId::PARENT, ECHO))
        .unwrap()
        .expect("a local partition listens on a Unix socket");
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path.parent().unwrap())
        .unwrap();
    path
}

#[test]
fn listen_serves_a_unix_socket_passed_like_systemd() {
    let env = Env::new();
    let path = echo_socket_path(&env);
    let listener = UnixListener::bind(&path).unwrap();
    let child = activated(
        &env,
        listener,
        "$$",
        "1",
        &["listen", "--systemd", "-v", "parent:echo"],
    )
    .spawn()
    .unwrap();
    // The socket listens before hvsock runs (systemd's point): connect at once.
    let mut s = env.host().connect((env.a, ECHO)).unwrap();
    s.write_all(b"activated").unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    let mut rest = Vec::new();
    s.read_to_end(&mut rest).unwrap();
    let out = wait_output(child);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(out.stdout, b"activated");
    assert!(
        stderr(&out).contains("listening on parent:echo"),
        "{}",
        stderr(&out)
    );
    // The socket file is systemd's: it stays for the next start; the lock goes.
    assert!(path.exists());
    let mut lock = path.clone().into_os_string();
    lock.push(".lock");
    assert!(!PathBuf::from(lock).exists());
}

#[test]
fn listen_systemd_without_a_socket_for_this_process_fails() {
    let env = Env::new();
    let path = echo_socket_path(&env);
    // LISTEN_PID of another process (inherited variables) and LISTEN_FDS=0: nothing
    // was passed to hvsock.
    for (pid, fds) in [("1", "1"), ("$$", "0")] {
        let listener = UnixListener::bind(&path).unwrap();
        let mut cmd = activated(
            &env,
            listener,
            pid,
            fds,
            &["listen", "--systemd", "parent:echo"],
        );
        let out = wait_output(cmd.spawn().unwrap());
        let err = one_error_line(&out);
        assert!(
            err.contains("systemd passed no socket"),
            "{pid} {fds}: {err}"
        );
        std::fs::remove_file(&path).unwrap();
    }
    // No variables at all.
    let out = run(env.in_a(&["listen", "--systemd", "parent:echo"]), b"");
    assert!(one_error_line(&out).contains("systemd passed no socket"));
    // LISTEN_FDS counts a descriptor that is not there.
    let listener = UnixListener::bind(&path).unwrap();
    let mut cmd = activated(
        &env,
        listener,
        "$$",
        "2",
        &["listen", "--systemd", "parent:echo"],
    );
    let err = one_error_line(&wait_output(cmd.spawn().unwrap()));
    assert!(err.contains("fd 4, but it is not open"), "{err}");
}

#[test]
fn listen_systemd_refuses_descriptors_that_are_not_its_listener() {
    let env = Env::new();
    let path = echo_socket_path(&env);
    let refused = |fd: OwnedFd| {
        let mut cmd = activated(&env, fd, "$$", "1", &["listen", "--systemd", "parent:echo"]);
        one_error_line(&wait_output(cmd.spawn().unwrap()))
    };
    let file = std::fs::File::create(env.path("not-a-socket")).unwrap();
    let err = refused(file.into());
    assert!(err.contains("fd 3 is not a socket"), "{err}");
    let (a, _b) = UnixStream::pair().unwrap();
    let err = refused(a.into());
    assert!(
        err.contains("fd 3 is not a listening socket: use Accept=no"),
        "{err}"
    );
    // A listener, but not where partition a's parent:echo listens.
    let elsewhere = UnixListener::bind(env.path("elsewhere.sock")).unwrap();
    let err = refused(elsewhere.into());
    assert!(
        err.contains("elsewhere.sock") && err.contains(&format!("ListenStream={}", path.display())),
        "{err}"
    );
    // A TCP listener: not a family hvsock serves.
    let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
    let err = refused(tcp.into());
    assert!(err.contains("address family 2"), "{err}");
}
