//! Exec and shell requests on the agent: starting the process (on pipes or a PTY, as a
//! session leader) and handing it to [`supervise`](super::supervise).

use super::supervise::{ProcIo, supervise};
use super::{AgentError, AgentOptions, Conn, Principal};
use crate::proto::{ErrorCode, ExecRequest, ShellRequest, WindowSize};
use crate::sys;
use crate::tree::strip_os;
use std::path::{Path, PathBuf};
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

/// Serves an `Exec` request.
pub(super) async fn run_exec<R, W>(
    c: &mut Conn<R, W>,
    req: ExecRequest,
    opts: &AgentOptions,
    principal: &Principal,
) -> Result<(), AgentError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    // Sessions run as the agent's own user until per-user sessions exist.
    debug_assert_eq!(principal.user, opts.auth.own_user);
    if let Some(cwd) = &req.cwd
        && !Path::new(cwd).is_dir()
    {
        return Err(c
            .fail(
                ErrorCode::BAD_REQUEST,
                format!("cannot change to directory {cwd}: no such directory"),
            )
            .await);
    }
    let mut cmd = tokio::process::Command::new(&req.argv[0]);
    cmd.args(&req.argv[1..]);
    cmd.envs(opts.env.iter().map(|(k, v)| (k, v)));
    cmd.envs(req.env.iter().map(|(k, v)| (k, v)));
    if let Some(cwd) = &req.cwd {
        cmd.current_dir(cwd);
    }
    if req.tty {
        run_on_pty(c, cmd, &req.argv[0], req.window, opts).await
    } else {
        run_piped(c, cmd, &req.argv[0], opts).await
    }
}

/// Serves a `Shell` request.
pub(super) async fn run_shell<R, W>(
    c: &mut Conn<R, W>,
    req: ShellRequest,
    opts: &AgentOptions,
    principal: &Principal,
) -> Result<(), AgentError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    // Sessions run as the agent's own user until per-user sessions exist.
    debug_assert_eq!(principal.user, opts.auth.own_user);
    let (user, home, user_shell) = tokio::task::spawn_blocking(sys::current_user)
        .await
        .unwrap_or((None, None, PathBuf::from("/bin/sh")));
    let shell = opts.shell.clone().unwrap_or(user_shell);
    let base = shell
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "sh".into());
    let mut cmd = tokio::process::Command::new(&shell);
    // A leading '-' in argv[0] is how login(1) asks any shell for a login shell.
    cmd.arg0(format!("-{base}"));
    cmd.env("SHELL", &shell);
    if let Some(u) = &user {
        cmd.env("USER", u).env("LOGNAME", u);
    }
    if let Some(h) = home.as_ref().filter(|h| h.is_dir()) {
        cmd.env("HOME", h).current_dir(h);
    }
    if let Some(t) = &req.term {
        cmd.env("TERM", t);
    }
    cmd.envs(opts.env.iter().map(|(k, v)| (k, v)));
    cmd.envs(req.env.iter().map(|(k, v)| (k, v)));
    let name = shell.display().to_string();
    run_on_pty(c, cmd, &name, req.window, opts).await
}

async fn run_piped<R, W>(
    c: &mut Conn<R, W>,
    mut cmd: tokio::process::Command,
    argv0: &str,
    opts: &AgentOptions,
) -> Result<(), AgentError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    sys::configure_child(cmd.as_std_mut(), false);
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
    argv0: &str,
    window: WindowSize,
    opts: &AgentOptions,
) -> Result<(), AgentError>
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
