//! Per-user sessions: exec, shell and cp as a throw-away user `hvst-*` created (and
//! removed, even on failure) by each test. They need root, as CI has; otherwise each
//! test says why it is skipped.
#![cfg(target_os = "linux")]

use hvsock_agent::client::{self, Session};
use hvsock_agent::proto::{ErrorCode, ExecRequest, ExitStatus, ShellRequest};
use hvsock_agent::server::{KeySource, SessionUser, serve_connection};
use hvsock_agent::{AgentOptions, ClientError};
use hvsock_testkit::users::{TestUser, random_suffix, run};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use tokio::net::UnixStream;

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// The session user of a test user.
fn user_of(tu: &TestUser) -> SessionUser {
    SessionUser::lookup(&tu.name).unwrap()
}

/// A throw-away key pair: the agent below authorizes it for the one user it is asked for.
fn user_key() -> hvsock_agent::auth::KeyPair {
    hvsock_agent::auth::KeyPair::from_seed([0x37; 32], "users@hvsock")
}

/// A connection, authenticated with a key as `user`, to an agent serving one connection
/// (key authentication, the key authorized for `user` only: `user=` in the system-wide
/// file).
fn connect_as(
    user: &str,
) -> (
    client::Connection<UnixStream>,
    tokio::task::JoinHandle<Result<(), hvsock_agent::AgentError>>,
) {
    let (a, b) = UnixStream::pair().unwrap();
    let mut opts = AgentOptions::default();
    opts.auth.keys = KeySource::Keys(vec![hvsock_agent::auth::AuthorizedKey {
        key: user_key().public(),
        users: Some(vec![user.to_string()]),
        line: 1,
    }]);
    let task = tokio::spawn(async move { serve_connection(a, &opts).await });
    let auth = client::ClientAuth {
        user: user.to_string(),
        identity: Some(user_key()),
        ..client::ClientAuth::default()
    };
    (client::Connection::new(b, auth), task)
}

fn req(argv: &[&str]) -> ExecRequest {
    ExecRequest {
        argv: argv.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

/// Runs `r` as `user`: exit code or error, stdout, stderr.
async fn exec_as(user: &str, r: ExecRequest) -> (Result<i32, ClientError>, String, String) {
    let (s, task) = connect_as(user);
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = client::exec(s, r, &b""[..], &mut out, &mut err).await;
    let _ = task.await;
    let text = |v: Vec<u8>| String::from_utf8(v).unwrap();
    (code, text(out), text(err))
}

/// A directory only root may enter (0700, root's), in a world-searchable parent.
fn root_only_dir() -> tempfile::TempDir {
    let d = tempfile::Builder::new()
        .prefix("hvst-root-")
        .tempdir_in("/tmp")
        .unwrap();
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    d
}

fn remote_code(e: &ClientError) -> Option<ErrorCode> {
    match e {
        ClientError::Remote { code, .. } => Some(*code),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_runs_as_the_user_with_its_groups_and_home() {
    let Some(tu) = TestUser::create("exec_runs_as_the_user_with_its_groups_and_home") else {
        return;
    };
    let user = user_of(&tu);
    let (code, out, _) = exec_as(&tu.name, req(&["id", "-un"])).await;
    assert_eq!((code.unwrap(), out.trim()), (0, tu.name.as_str()));

    let (code, out, _) = exec_as(&tu.name, req(&["id", "-G"])).await;
    assert_eq!(code.unwrap(), 0);
    let mut got: Vec<u32> = out.split_whitespace().map(|g| g.parse().unwrap()).collect();
    got.sort_unstable();
    assert_eq!(got, user.groups);
    let own_group = rustix_group(&tu.group);
    assert!(
        got.contains(&own_group) && got.contains(&user.gid),
        "{got:?}"
    );
    assert!(!got.contains(&0), "root's group leaked: {got:?}");

    let script = "echo \"$HOME|$USER|$LOGNAME|$SHELL|$(pwd)|$(id -u):$(id -g)\"";
    let (code, out, _) = exec_as(&tu.name, req(&["sh", "-c", script])).await;
    assert_eq!(code.unwrap(), 0);
    let home = user.home.display().to_string();
    assert_eq!(
        out.trim(),
        format!(
            "{home}|{n}|{n}|/bin/bash|{home}|{}:{}",
            user.uid,
            user.gid,
            n = tu.name
        )
    );

    // The request's directory wins over the home directory.
    let mut r = req(&["pwd"]);
    r.cwd = Some("/tmp".into());
    let (code, out, _) = exec_as(&tu.name, r).await;
    assert_eq!((code.unwrap(), out.trim()), (0, "/tmp"));
}

/// The id of group `name` (through getent, independent of the code under test).
fn rustix_group(name: &str) -> u32 {
    let out = Command::new("getent")
        .args(["group", name])
        .output()
        .unwrap();
    let line = String::from_utf8(out.stdout).unwrap();
    line.split(':').nth(2).unwrap().trim().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_in_a_directory_the_user_may_not_enter_is_refused() {
    let Some(tu) = TestUser::create("exec_in_a_directory_the_user_may_not_enter_is_refused") else {
        return;
    };
    let dir = root_only_dir();
    let mut r = req(&["pwd"]);
    r.cwd = Some(dir.path().to_str().unwrap().into());
    let (code, _, _) = exec_as(&tu.name, r).await;
    let e = code.unwrap_err();
    assert_eq!(remote_code(&e), Some(ErrorCode::BAD_REQUEST), "{e}");
    assert!(e.to_string().contains("Permission denied"), "{e}");
    // Root may (the agent's own user: no switch).
    let mut r = req(&["pwd"]);
    r.cwd = Some(dir.path().to_str().unwrap().into());
    let (code, out, _) = exec_as("root", r).await;
    assert_eq!(
        (code.unwrap(), out.trim()),
        (0, dir.path().to_str().unwrap())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shell_is_the_users_login_shell_at_home() {
    let Some(tu) = TestUser::create("shell_is_the_users_login_shell_at_home") else {
        return;
    };
    let user = user_of(&tu);
    let (s, task) = connect_as(&tu.name);
    let (_ctl, ctl_rx) = tokio::sync::mpsc::channel(1);
    let input = "echo \"[$HOME|$(id -un)|$0|$(pwd)|$(stat -c %U \"$(tty)\")]\"; exit 5\n";
    let mut out = Vec::new();
    let status = client::run_session(
        s,
        Session::Shell(ShellRequest::default()),
        input.as_bytes(),
        &mut out,
        tokio::io::sink(),
        ctl_rx,
    )
    .await
    .unwrap();
    let _ = task.await;
    let out = String::from_utf8_lossy(&out);
    let home = user.home.display();
    let want = format!("[{home}|{n}|-bash|{home}|{n}]", n = tu.name);
    assert!(out.contains(&want), "{want} not in {out}");
    assert_eq!(status, ExitStatus::Code(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cp_writes_as_the_user() {
    let Some(tu) = TestUser::create("cp_writes_as_the_user") else {
        return;
    };
    let user = user_of(&tu);
    let src = tempfile::tempdir().unwrap();
    let tree = src.path().join("tree");
    std::fs::create_dir_all(tree.join("sub")).unwrap();
    std::fs::write(tree.join("a.txt"), b"alpha").unwrap();
    std::fs::write(tree.join("sub/b.bin"), vec![7u8; 200_000]).unwrap();

    // Into the user's home: everything created belongs to the user.
    let dest = user.home.join("got");
    let (s, task) = connect_as(&tu.name);
    let sum = client::copy_to_remote(s, &tree, dest.to_str().unwrap(), true, None)
        .await
        .unwrap();
    task.await.unwrap().unwrap();
    assert_eq!((sum.files, sum.bytes), (2, 200_005));
    for p in [
        dest.clone(),
        dest.join("a.txt"),
        dest.join("sub"),
        dest.join("sub/b.bin"),
    ] {
        let m = std::fs::metadata(&p).unwrap();
        assert_eq!((m.uid(), m.gid()), (user.uid, user.gid), "{}", p.display());
    }
    assert_eq!(std::fs::read(dest.join("a.txt")).unwrap(), b"alpha");

    // And back, as the user.
    let back = tempfile::tempdir().unwrap();
    let (s, task) = connect_as(&tu.name);
    client::copy_from_remote(s, dest.to_str().unwrap(), back.path(), true, None)
        .await
        .unwrap();
    task.await.unwrap().unwrap();
    assert_eq!(
        std::fs::read(back.path().join("got/sub/b.bin"))
            .unwrap()
            .len(),
        200_000
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cp_into_or_from_a_root_only_directory_is_denied() {
    let Some(tu) = TestUser::create("cp_into_or_from_a_root_only_directory_is_denied") else {
        return;
    };
    let dir = root_only_dir();
    std::fs::write(dir.path().join("secret"), b"root's").unwrap();
    let src = tempfile::tempdir().unwrap();
    let f = src.path().join("f.txt");
    std::fs::write(&f, b"x").unwrap();

    let into = dir.path().join("f.txt");
    let (s, task) = connect_as(&tu.name);
    let e = client::copy_to_remote(s, &f, into.to_str().unwrap(), false, None)
        .await
        .unwrap_err();
    let _ = task.await;
    assert_eq!(remote_code(&e), Some(ErrorCode::PERMISSION_DENIED), "{e}");
    assert!(e.to_string().contains("Permission denied"), "{e}");
    assert!(!into.exists());

    let secret = dir.path().join("secret");
    let back = tempfile::tempdir().unwrap();
    let (s, task) = connect_as(&tu.name);
    let e = client::copy_from_remote(s, secret.to_str().unwrap(), back.path(), false, None)
        .await
        .unwrap_err();
    let _ = task.await;
    assert_eq!(remote_code(&e), Some(ErrorCode::PERMISSION_DENIED), "{e}");

    // The same copy as root (the agent's own user) goes through.
    let (s, task) = connect_as("root");
    client::copy_to_remote(s, &f, into.to_str().unwrap(), false, None)
        .await
        .unwrap();
    task.await.unwrap().unwrap();
    assert_eq!(std::fs::metadata(&into).unwrap().uid(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_user_is_refused() {
    let (code, _, _) = exec_as("hvst-no-such-user-0", req(&["true"])).await;
    let e = code.unwrap_err();
    // Refused while authenticating, before any credential is looked at.
    assert_eq!(remote_code(&e), Some(ErrorCode::AUTH_FAILED), "{e}");
    assert!(
        e.to_string().contains("no such user: hvst-no-such-user-0"),
        "{e}"
    );
}

/// The child half of [`a_non_root_agent_serves_only_its_own_user`], which runs it (as
/// the test user, with `--ignored`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the child half of a_non_root_agent_serves_only_its_own_user, run by it"]
async fn non_root_child() {
    let own = std::env::var("HVST_NON_ROOT_CHILD").expect("run by its parent test");
    assert!(!is_root());
    let (code, _, _) = exec_as("root", req(&["true"])).await;
    let e = code.unwrap_err();
    assert_eq!(remote_code(&e), Some(ErrorCode::AUTH_FAILED), "{e}");
    let want = format!("the agent runs as {own}, not root: it can only serve {own}");
    assert!(e.to_string().contains(&want), "{e}");
    // Its own user it serves.
    let (code, out, _) = exec_as(&own, req(&["id", "-un"])).await;
    assert_eq!((code.unwrap(), out.trim()), (0, own.as_str()));
}

#[test]
fn a_non_root_agent_serves_only_its_own_user() {
    let Some(tu) = TestUser::create("a_non_root_agent_serves_only_its_own_user") else {
        return;
    };
    let user = user_of(&tu);
    let exe = std::env::current_exe().unwrap();
    if !reachable_by_others(&exe) {
        eprintln!(
            "a_non_root_agent_serves_only_its_own_user: skipped: {} is not executable by \
             other users",
            exe.display()
        );
        return;
    }
    use std::os::unix::process::CommandExt;
    let out = Command::new(&exe)
        .args(["--exact", "non_root_child", "--ignored", "--nocapture"])
        .env("HVST_NON_ROOT_CHILD", &tu.name)
        .env("HOME", &user.home)
        .current_dir("/")
        .uid(user.uid)
        .gid(user.gid)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("1 passed"), "{text}");
}

/// Whether every directory above `p` is searchable and `p` executable by anyone.
fn reachable_by_others(p: &Path) -> bool {
    let mut cur = PathBuf::from(p);
    let exec_ok = std::fs::metadata(&cur).is_ok_and(|m| m.mode() & 0o001 != 0);
    while cur.pop() {
        if std::fs::metadata(&cur).is_ok_and(|m| m.mode() & 0o001 == 0) {
            return false;
        }
    }
    exec_ok
}

/// A PAM configuration directory with `service` checking passwords and accounts with
/// pam_unix (the machine's real password database: hence a throw-away user).
fn pam_unix_confdir(service: &str) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join(service),
        "auth required pam_unix.so nodelay\naccount required pam_unix.so\n",
    )
    .unwrap();
    d
}

#[test]
fn pam_unix_accepts_the_right_password_only() {
    use hvsock_agent::server::pam::{PamError, check_password};
    let Some(tu) = TestUser::create("pam_unix_accepts_the_right_password_only") else {
        return;
    };
    let password = format!("pw-{}", random_suffix());
    let mut chpasswd = Command::new("chpasswd")
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    writeln!(chpasswd.stdin.take().unwrap(), "{}:{password}", tu.name).unwrap();
    assert!(chpasswd.wait().unwrap().success());
    let conf = pam_unix_confdir("hvst-unix");
    let dir = Some(conf.path());

    check_password("hvst-unix", &tu.name, &password, dir).unwrap();
    let e = check_password("hvst-unix", &tu.name, "wrong", dir).unwrap_err();
    assert!(matches!(e, PamError::Refused { .. }), "{e}");
    let e = check_password("hvst-unix", &tu.name, "", dir).unwrap_err();
    assert!(matches!(e, PamError::Refused { .. }), "{e}");
    // Another user's password is not this one's.
    let e = check_password("hvst-unix", "hvst-no-such-user-0", &password, dir).unwrap_err();
    assert!(matches!(e, PamError::Refused { .. }), "{e}");

    // A locked account (`usermod -L`) is refused even with its password.
    run(Command::new("usermod").args(["-L", &tu.name]));
    assert!(check_password("hvst-unix", &tu.name, &password, dir).is_err());
    run(Command::new("usermod").args(["-U", &tu.name]));
    // An expired one is refused by the account check.
    run(Command::new("chage").args(["-E", "1", &tu.name]));
    let e = check_password("hvst-unix", &tu.name, &password, dir).unwrap_err();
    assert!(matches!(e, PamError::Account { .. }), "{e}");
}
