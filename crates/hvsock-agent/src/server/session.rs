//! Exec and shell requests on the agent: starting the process (on pipes or a PTY, as a
//! session leader, as the session's user) and handing it to
//! [`supervise`](super::supervise).
//!
//! The user's credentials are taken in the child by our own `pre_exec` hook, not by
//! std's `uid`/`gid`: std runs those before the hooks and clears the supplementary
//! groups (its `groups` is unstable), and its `current_dir` would change directory as
//! root. The hook does setgroups, setgid, setuid (the first two need the privilege the
//! last drops), then changes to the working directory with the user's permissions.

use super::supervise::{ProcIo, supervise};
use super::user::{self, SessionUser};
use super::{AgentError, AgentOptions, Conn};
use crate::proto::{ErrorCode, ExecRequest, ShellRequest, WindowSize};
use crate::sys;
use crate::sys::user::{ChildSwitch, Credentials};
use crate::tree::strip_os;
use std::ffi::CString;
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::Stdio;
use tokio::io::{AsyncRead, AsyncWrite};

fn spawn_error(argv0: &str, e: &std::io::Error) -> (ErrorCode, String) {
    match e.kind() {
        std::io::ErrorKind::NotFound => (
            ErrorCode::COMMAND_NOT_FOUND,
            format!("{argv0}: command not found"),
        ),
        std::io::ErrorKind::PermissionDenied => (
            ErrorCode::CANNOT_EXECUTE,
            format!("{argv0}: cannot execute: {}", strip_os(e)),
        ),
        _ => (
            ErrorCode::CANNOT_EXECUTE,
            format!("{argv0}: cannot run: {}", strip_os(e)),
        ),
    }
}

/// The environment every session of `user` starts with (before the agent's and the
/// request's variables, which win): who it is, as login(1) sets it.
fn user_env(cmd: &mut tokio::process::Command, user: &SessionUser, shell: &Path) {
    cmd.env("HOME", &user.home)
        .env("USER", &user.name)
        .env("LOGNAME", &user.name)
        .env("SHELL", shell);
}

/// `dir` as a C string for the child (prepared before the fork: it must not allocate).
fn c_path(dir: &Path) -> Option<CString> {
    CString::new(dir.as_os_str().as_bytes()).ok()
}

/// Checks that the session's user can change to `cwd`: a directory it may search. With
/// a credential switch, on a thread with the user's credentials (root's view would
/// say yes to a directory the user may not enter).
async fn check_cwd(cwd: &str, creds: Option<&Credentials>) -> Result<(), String> {
    fn check(cwd: &str) -> Result<(), String> {
        let shown = crate::tree::escape(cwd);
        match std::fs::metadata(cwd) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(format!(
                    "cannot change to directory {shown}: not a directory"
                ));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(format!(
                    "cannot change to directory {shown}: no such directory"
                ));
            }
            Err(e) => {
                return Err(format!(
                    "cannot change to directory {shown}: {}",
                    strip_os(&e)
                ));
            }
        }
        rustix::fs::access(cwd, rustix::fs::Access::EXEC_OK)
            .map_err(|e| format!("cannot change to directory {shown}: {e}"))
    }
    match creds {
        None => check(cwd),
        Some(c) => {
            let cwd = cwd.to_string();
            user::run_as(c.clone(), move || check(&cwd))
                .await
                .map_err(|e| format!("cannot work as the session's user: {}", strip_os(&e)))?
        }
    }
}

/// Serves an `Exec` request as `user`: its credentials, its environment, in the
/// request's directory or else (another user than the agent's) its home directory.
pub(super) async fn run_exec<R, W>(
    c: &mut Conn<R, W>,
    req: ExecRequest,
    opts: &AgentOptions,
    user: &SessionUser,
) -> Result<Option<i32>, AgentError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let creds = user.switch();
    if let Some(cwd) = &req.cwd
        && let Err(msg) = check_cwd(cwd, creds.as_ref()).await
    {
        return Err(c.fail(ErrorCode::BAD_REQUEST, msg).await);
    }
    let mut cmd = tokio::process::Command::new(&req.argv[0]);
    cmd.args(&req.argv[1..]);
    user_env(&mut cmd, user, opts.shell.as_deref().unwrap_or(&user.shell));
    cmd.envs(opts.env.iter().map(|(k, v)| (k, v)));
    cmd.envs(req.env.iter().map(|(k, v)| (k, v)));
    // The request's directory must work. Without one, a session of another user than
    // the agent's starts in its home directory (falling back to `/`), as a login does;
    // the agent's own user stays in the agent's directory, as before users existed.
    let switch = ChildSwitch {
        cwd: match &req.cwd {
            Some(cwd) => c_path(Path::new(cwd)),
            None if creds.is_some() => c_path(&user.home),
            None => None,
        },
        cwd_fallback: req.cwd.is_none(),
        creds,
    };
    if req.tty {
        run_on_pty(c, cmd, switch, &req.argv[0], req.window, opts).await
    } else {
        run_piped(c, cmd, switch, &req.argv[0], opts).await
    }
}

/// Serves a `Shell` request: `user`'s login shell (or the agent's
/// [`shell`](AgentOptions::shell)) as a login shell, in its home directory.
pub(super) async fn run_shell<R, W>(
    c: &mut Conn<R, W>,
    req: ShellRequest,
    opts: &AgentOptions,
    user: &SessionUser,
) -> Result<Option<i32>, AgentError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let shell = opts.shell.clone().unwrap_or_else(|| user.shell.clone());
    let base = shell
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "sh".into());
    let mut cmd = tokio::process::Command::new(&shell);
    // A leading '-' in argv[0] is how login(1) asks any shell for a login shell.
    cmd.arg0(format!("-{base}"));
    user_env(&mut cmd, user, &shell);
    if let Some(t) = &req.term {
        cmd.env("TERM", t);
    }
    cmd.envs(opts.env.iter().map(|(k, v)| (k, v)));
    cmd.envs(req.env.iter().map(|(k, v)| (k, v)));
    let switch = ChildSwitch {
        creds: user.switch(),
        cwd: c_path(&user.home),
        cwd_fallback: true,
    };
    let name = shell.display().to_string();
    run_on_pty(c, cmd, switch, &name, req.window, opts).await
}

async fn run_piped<R, W>(
    c: &mut Conn<R, W>,
    mut cmd: tokio::process::Command,
    switch: ChildSwitch,
    argv0: &str,
    opts: &AgentOptions,
) -> Result<Option<i32>, AgentError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    sys::configure_child(cmd.as_std_mut(), false);
    sys::user::configure_user(cmd.as_std_mut(), switch);
    let mut child = match cmd.spawn() {
        Ok(ch) => ch,
        Err(e) => {
            let (code, msg) = spawn_error(argv0, &e);
            return Err(c.fail(code, msg).await);
        }
    };
    drop(cmd);
    let stdin = child.stdin.take().expect("piped");
    let stdout = child.stdout.take().expect("piped");
    let stderr = child.stderr.take().expect("piped");
    let io = ProcIo {
        stdin: Box::new(stdin),
        stdout: Box::new(stdout),
        stderr: Some(Box::new(stderr)),
        pty: None,
    };
    supervise(c, child, io, opts).await
}

async fn run_on_pty<R, W>(
    c: &mut Conn<R, W>,
    mut cmd: tokio::process::Command,
    switch: ChildSwitch,
    argv0: &str,
    window: WindowSize,
    opts: &AgentOptions,
) -> Result<Option<i32>, AgentError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let window = if window.rows == 0 || window.cols == 0 {
        WindowSize { rows: 24, cols: 80 }
    } else {
        window
    };
    let opened = sys::open_pty(window).and_then(|(master, slave)| {
        // The user's own terminal, as login and sshd make it.
        if let Some(cr) = &switch.creds {
            sys::user::give_terminal(slave.as_fd(), cr.uid, cr.gid)?;
        }
        let s1 = slave.try_clone()?;
        let s2 = slave.try_clone()?;
        Ok((master, slave, s1, s2))
    });
    let (master, slave, s1, s2) = match opened {
        Ok(x) => x,
        Err(e) => {
            return Err(c
                .fail(
                    ErrorCode::IO,
                    format!("cannot open a pty: {}", strip_os(&e)),
                )
                .await);
        }
    };
    cmd.stdin(Stdio::from(slave))
        .stdout(Stdio::from(s1))
        .stderr(Stdio::from(s2))
        .kill_on_drop(true);
    sys::configure_child(cmd.as_std_mut(), true);
    sys::user::configure_user(cmd.as_std_mut(), switch);
    let spawned = cmd.spawn();
    // Our copies of the slave must be closed, or the master never sees end of file.
    drop(cmd);
    let child = match spawned {
        Ok(ch) => ch,
        Err(e) => {
            let (code, msg) = spawn_error(argv0, &e);
            return Err(c.fail(code, msg).await);
        }
    };
    let pty = master
        .try_clone()
        .and_then(|ctl| Ok((ctl, sys::PtyMaster::new(master)?)));
    let (ctl, pty) = match pty {
        Ok(x) => x,
        Err(e) => {
            return Err(c
                .fail(ErrorCode::IO, format!("pty: {}", strip_os(&e)))
                .await);
        }
    };
    let (pr, pw) = tokio::io::split(pty);
    let io = ProcIo {
        stdin: Box::new(pw),
        stdout: Box::new(pr),
        stderr: None,
        pty: Some(ctl),
    };
    supervise(c, child, io, opts).await
}
