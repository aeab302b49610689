//! The agent side: serves one request per connection.
//!
//! The accept loop is the caller's; for each accepted stream it calls
//! [`Agent::serve`] (which enforces [`AgentOptions::max_concurrent`]) or
//! [`serve_connection`] directly, usually in a spawned task.

use crate::framed::{FrameError, FrameReader, FrameWriter};
use crate::proto::{
    DATA_CHUNK, ErrorCode, ExecRequest, ExitStatus, Frame, ShellRequest, VERSION, WindowSize,
};
use crate::sys;
use crate::tree::strip_os;
use bytes::{Bytes, BytesMut};
use std::convert::Infallible;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{Semaphore, mpsc};

mod copy;

/// Settings of an agent.
#[derive(Debug, Clone)]
pub struct AgentOptions {
    /// If set, `CopyTo`/`CopyFrom` paths must lie inside this directory (relative paths
    /// are taken relative to it; they are resolved beneath it with no symlink followed). Default: none (any path the agent's user can reach;
    /// relative paths are relative to the agent's working directory).
    pub copy_root: Option<PathBuf>,
    /// How long a new connection may take to send `Hello` and its request. Default 10 s.
    pub handshake_timeout: Duration,
    /// Most connections served at once by one [`Agent`]; more get a `busy` error.
    /// Default 64.
    pub max_concurrent: usize,
    /// The login shell for `Shell` requests. Default: the user's shell from the
    /// password database, or `/bin/sh`.
    pub shell: Option<PathBuf>,
    /// After the process exits, how long to wait for its output pipes to reach end of
    /// file (a background child may hold them open). Default 2 s.
    pub drain_timeout: Duration,
    /// How long a copy may go without progress (the client sends or takes nothing)
    /// before it fails. Default 60 s ([`DEFAULT_IDLE_TIMEOUT`](crate::tree::DEFAULT_IDLE_TIMEOUT)).
    pub copy_idle_timeout: Duration,
}

impl Default for AgentOptions {
    fn default() -> Self {
        AgentOptions {
            copy_root: None,
            handshake_timeout: Duration::from_secs(10),
            max_concurrent: 64,
            shell: None,
            drain_timeout: Duration::from_secs(2),
            copy_idle_timeout: crate::tree::DEFAULT_IDLE_TIMEOUT,
        }
    }
}

/// Why serving a connection ended with an error. The client has been sent an `Error`
/// frame where the connection still allowed it.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The connection failed or carried a malformed frame.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// The client speaks another protocol version.
    #[error("{}", version_message(*agent, *client))]
    VersionMismatch {
        /// This agent's version.
        agent: u16,
        /// The client's version.
        client: u16,
    },
    /// No `Hello` + request within [`AgentOptions::handshake_timeout`].
    #[error("client sent no request within {0:?}")]
    HandshakeTimeout(Duration),
    /// The request failed (bad request, command not found, copy error...).
    #[error("{code}: {message}")]
    Request {
        /// The code sent to the client.
        code: ErrorCode,
        /// The text sent to the client.
        message: String,
    },
    /// The client went away before the request completed (the process was killed).
    #[error("client disconnected before the request completed")]
    ClientGone,
}

/// The text both sides show on a version mismatch.
pub fn version_message(agent: u16, client: u16) -> String {
    let advice = if agent < client {
        "upgrade the agent (hvsock in the VM) to match the client"
    } else {
        "upgrade the client (hvsock on this side) to match the agent"
    };
    format!("agent speaks protocol v{agent}, client v{client}; {advice}")
}

/// An agent: [`AgentOptions`] plus the connection limit.
#[derive(Debug, Clone)]
pub struct Agent {
    opts: Arc<AgentOptions>,
    slots: Arc<Semaphore>,
}

impl Agent {
    /// A new agent.
    pub fn new(opts: AgentOptions) -> Agent {
        let slots = Arc::new(Semaphore::new(opts.max_concurrent.max(1)));
        Agent {
            opts: Arc::new(opts),
            slots,
        }
    }

    /// The options.
    pub fn options(&self) -> &AgentOptions {
        &self.opts
    }

    /// Serves one connection, or answers `busy` if
    /// [`max_concurrent`](AgentOptions::max_concurrent) connections are being served.
    pub async fn serve<S>(&self, stream: S) -> Result<(), AgentError>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send,
    {
        match self.slots.clone().try_acquire_owned() {
            Ok(_permit) => serve_connection(stream, &self.opts).await,
            Err(_) => {
                let (_, wr) = tokio::io::split(stream);
                let mut w = FrameWriter::new(wr);
                let msg = format!(
                    "the agent is serving its maximum of {} connections; try again later",
                    self.opts.max_concurrent
                );
                let _ = w.write_frame(&Frame::Hello { version: VERSION }).await;
                let _ = w.write_frame(&Frame::error(ErrorCode::BUSY, &msg)).await;
                let _ = w.shutdown().await;
                Err(AgentError::Request {
                    code: ErrorCode::BUSY,
                    message: msg,
                })
            }
        }
    }
}

struct Conn<R, W> {
    reader: FrameReader<R>,
    writer: FrameWriter<W>,
}

impl<R: AsyncRead + Unpin, W: AsyncWrite + Unpin> Conn<R, W> {
    /// Sends an `Error` frame (best effort), closes the write side, and returns the
    /// matching [`AgentError`].
    async fn fail(&mut self, code: ErrorCode, message: String) -> AgentError {
        let _ = self
            .writer
            .write_frame(&Frame::error(code, message.clone()))
            .await;
        let _ = self.writer.shutdown().await;
        AgentError::Request { code, message }
    }

    async fn fail_frame(&mut self, e: FrameError) -> AgentError {
        match e {
            FrameError::Proto(p) => {
                self.fail(ErrorCode::PROTOCOL, format!("malformed frame: {p}"))
                    .await;
                AgentError::Frame(FrameError::Proto(p))
            }
            other => AgentError::Frame(other),
        }
    }
}

/// Serves one connection: handshake, one request, then closes.
///
/// Malformed or hostile input gets an `Error` frame and ends this connection only.
pub async fn serve_connection<S>(stream: S, opts: &AgentOptions) -> Result<(), AgentError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let (rd, wr) = tokio::io::split(stream);
    let mut c = Conn {
        reader: FrameReader::new(rd),
        writer: FrameWriter::new(wr),
    };
    let deadline = tokio::time::Instant::now() + opts.handshake_timeout;

    // 1. Hello.
    match tokio::time::timeout_at(deadline, c.reader.read_frame()).await {
        Err(_) => {
            c.fail(
                ErrorCode::TIMEOUT,
                format!("no Hello within {:?}", opts.handshake_timeout),
            )
            .await;
            return Err(AgentError::HandshakeTimeout(opts.handshake_timeout));
        }
        Ok(Err(e)) => return Err(c.fail_frame(e).await),
        Ok(Ok(None)) => return Ok(()),
        Ok(Ok(Some(Frame::Hello { version }))) => {
            c.writer
                .write_frame(&Frame::Hello { version: VERSION })
                .await?;
            if version != VERSION {
                c.fail(
                    ErrorCode::VERSION_MISMATCH,
                    version_message(VERSION, version),
                )
                .await;
                return Err(AgentError::VersionMismatch {
                    agent: VERSION,
                    client: version,
                });
            }
        }
        Ok(Ok(Some(other))) => {
            return Err(c
                .fail(
                    ErrorCode::PROTOCOL,
                    format!("expected Hello, got a {} frame", other.name()),
                )
                .await);
        }
    }

    // 2. The request.
    let request = match tokio::time::timeout_at(deadline, c.reader.read_frame()).await {
        Err(_) => {
            c.fail(
                ErrorCode::TIMEOUT,
                format!("no request within {:?}", opts.handshake_timeout),
            )
            .await;
            return Err(AgentError::HandshakeTimeout(opts.handshake_timeout));
        }
        Ok(Err(e)) => return Err(c.fail_frame(e).await),
        Ok(Ok(None)) => return Ok(()),
        Ok(Ok(Some(f))) => f,
    };
    match request {
        Frame::Exec(req) => run_exec(&mut c, req, opts).await,
        Frame::Shell(req) => run_shell(&mut c, req, opts).await,
        Frame::CopyTo { path, recursive } => copy::copy_to(&mut c, &path, recursive, opts).await,
        Frame::CopyFrom { path, recursive } => {
            copy::copy_from(&mut c, &path, recursive, opts).await
        }
        other => Err(c
            .fail(
                ErrorCode::BAD_REQUEST,
                format!(
                    "expected a request (Exec, Shell, CopyTo or CopyFrom), got a {} frame",
                    other.name()
                ),
            )
            .await),
    }
}

// ---------------------------------------------------------------------------------------
// Exec and shell

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

async fn run_exec<R, W>(
    c: &mut Conn<R, W>,
    req: ExecRequest,
    opts: &AgentOptions,
) -> Result<(), AgentError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
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

async fn run_shell<R, W>(
    c: &mut Conn<R, W>,
    req: ShellRequest,
    opts: &AgentOptions,
) -> Result<(), AgentError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
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
    let ctl = match master.try_clone() {
        Ok(fd) => fd,
        Err(e) => {
            return Err(c
                .fail(ErrorCode::IO, format!("pty: {}", strip_os(&e)))
                .await);
        }
    };
    let pty = match sys::PtyMaster::new(master) {
        Ok(p) => p,
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

struct ProcIo {
    stdin: Box<dyn AsyncWrite + Unpin + Send>,
    stdout: Box<dyn AsyncRead + Unpin + Send>,
    stderr: Option<Box<dyn AsyncRead + Unpin + Send>>,
    /// The PTY master (for window size and the foreground process group).
    pty: Option<OwnedFd>,
}

enum InputEnd {
    /// The client closed the connection or sent an error.
    Gone,
    /// The client sent something invalid.
    Bad(ErrorCode, String),
}

async fn pump(
    mut r: Box<dyn AsyncRead + Unpin + Send>,
    mk: fn(Bytes) -> Frame,
    tx: mpsc::Sender<Frame>,
) {
    let mut buf = BytesMut::new();
    loop {
        buf.reserve(DATA_CHUNK);
        match r.read_buf(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                if tx.send(mk(buf.split().freeze())).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Runs the process's I/O until it exits, then sends `Exit`.
async fn supervise<R, W>(
    c: &mut Conn<R, W>,
    mut child: tokio::process::Child,
    io: ProcIo,
    opts: &AgentOptions,
) -> Result<(), AgentError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let pgid = child.id().map(|p| p as i32).unwrap_or(0);
    let ProcIo {
        mut stdin,
        stdout,
        stderr,
        pty,
    } = io;
    let is_tty = pty.is_some();
    let (out_tx, mut out_rx) = mpsc::channel::<Frame>(16);
    let (in_tx, mut in_rx) = mpsc::channel::<Option<Bytes>>(16);
    let writer = &mut c.writer;
    let reader = &mut c.reader;

    // Frames to the client.
    let write_out = async move {
        while let Some(f) = out_rx.recv().await {
            writer.write_frame(&f).await?;
        }
        writer.flush().await?;
        Ok::<_, FrameError>(())
    };

    // Frames from the client.
    let pty_ref = pty.as_ref();
    let signal_target = move || -> i32 {
        pty_ref
            .and_then(|fd| sys::foreground_group(fd.as_fd()))
            .unwrap_or(pgid)
    };
    let read_in = async move {
        loop {
            match reader.read_frame().await {
                Ok(Some(Frame::Stdin(b))) => {
                    // Fails only once stdin is closed: drop the data.
                    let _ = in_tx.send(Some(b)).await;
                }
                Ok(Some(Frame::StdinEof)) => {
                    let _ = in_tx.send(None).await;
                }
                Ok(Some(Frame::Resize(w))) => {
                    if let Some(fd) = pty_ref {
                        let _ = sys::set_window_size(fd.as_fd(), w);
                    }
                }
                Ok(Some(Frame::Signal(s))) => {
                    if pgid > 0 {
                        let _ = sys::kill_group(signal_target(), s as i32);
                    }
                }
                Ok(None) | Ok(Some(Frame::Error { .. })) => return InputEnd::Gone,
                Ok(Some(other)) => {
                    return InputEnd::Bad(
                        ErrorCode::BAD_REQUEST,
                        format!("unexpected {} frame while a process runs", other.name()),
                    );
                }
                Err(FrameError::Proto(p)) => {
                    return InputEnd::Bad(ErrorCode::PROTOCOL, format!("malformed frame: {p}"));
                }
                Err(_) => return InputEnd::Gone,
            }
        }
    };

    // Client stdin to the process.
    let feed_stdin = async move {
        while let Some(item) = in_rx.recv().await {
            match item {
                Some(b) => {
                    if stdin.write_all(&b).await.is_err() {
                        break;
                    }
                }
                None if is_tty => {
                    // End of input on a terminal: the VEOF character (Ctrl-D).
                    let _ = stdin.write_all(&[0x04]).await;
                }
                None => break,
            }
        }
        drop(stdin);
        // Keep accepting (and discarding) input so the reader never blocks.
        while in_rx.recv().await.is_some() {}
        std::future::pending::<Infallible>().await
    };

    // Process output to the client, then the exit status.
    let drain = opts.drain_timeout;
    let out_tx2 = out_tx.clone();
    let child_ref = &mut child;
    let work = async move {
        let outputs = async move {
            let a = pump(stdout, Frame::Stdout, out_tx.clone());
            match stderr {
                Some(e) => {
                    tokio::join!(a, pump(e, Frame::Stderr, out_tx));
                }
                None => {
                    drop(out_tx);
                    a.await
                }
            }
        };
        tokio::pin!(outputs);
        let mut outputs_done = false;
        let status = loop {
            tokio::select! {
                _ = &mut outputs, if !outputs_done => outputs_done = true,
                s = child_ref.wait() => break s,
            }
        };
        if !outputs_done {
            let _ = tokio::time::timeout(drain, &mut outputs).await;
        }
        status
    };

    let outcome = {
        tokio::pin!(write_out, read_in, feed_stdin, work);
        let mut writing = true;
        loop {
            tokio::select! {
                st = &mut work => {
                    match st {
                        Ok(s) => {
                            let status = match (s.code(), s.signal()) {
                                (Some(code), _) => ExitStatus::Code(code),
                                (None, Some(sig)) => ExitStatus::Signal(sig),
                                _ => ExitStatus::Code(255),
                            };
                            let _ = out_tx2.send(Frame::Exit(status)).await;
                            drop(out_tx2);
                            let r = if writing { write_out.await } else { Ok(()) };
                            break Outcome::Done(r);
                        }
                        Err(e) => break Outcome::WaitFailed(e),
                    }
                }
                end = &mut read_in => break Outcome::Ended(end, None),
                w = &mut write_out, if writing => {
                    writing = false;
                    if let Err(e) = w {
                        break Outcome::Ended(InputEnd::Gone, Some(e));
                    }
                }
                _ = &mut feed_stdin => unreachable!("feed_stdin never completes"),
            }
        }
    };
    match outcome {
        Outcome::Done(r) => {
            r?;
            let _ = c.writer.shutdown().await;
            Ok(())
        }
        Outcome::WaitFailed(e) => Err(c
            .fail(
                ErrorCode::IO,
                format!("waiting for the process: {}", strip_os(&e)),
            )
            .await),
        Outcome::Ended(end, write_err) => {
            // The client is gone or misbehaved: end the whole process group.
            if pgid > 0 {
                let _ = sys::kill_group(pgid, libc::SIGKILL);
            }
            let _ = child.kill().await;
            match end {
                InputEnd::Bad(code, msg) => Err(c.fail(code, msg).await),
                // Whether the reader saw the end first or the writer a broken pipe is a
                // race; both mean the client went away.
                InputEnd::Gone => match write_err {
                    Some(FrameError::Io(e)) if is_disconnect(e.kind()) => {
                        Err(AgentError::ClientGone)
                    }
                    Some(e) => Err(AgentError::Frame(e)),
                    None => Err(AgentError::ClientGone),
                },
            }
        }
    }
}

/// Errors of a write to a peer that has gone.
fn is_disconnect(kind: std::io::ErrorKind) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        kind,
        BrokenPipe | ConnectionReset | ConnectionAborted | NotConnected
    )
}

enum Outcome {
    Done(Result<(), FrameError>),
    WaitFailed(std::io::Error),
    Ended(InputEnd, Option<FrameError>),
}
