//! The client side: exec, interactive shell and file copy against an agent.
//!
//! Every function takes a connected stream (one request per connection) and performs
//! the version handshake first.

use crate::framed::{FrameError, FrameReader, FrameWriter};
use crate::proto::version_message;
use crate::proto::{ErrorCode, ExecRequest, ExitStatus, Frame, ShellRequest, VERSION, WindowSize};
use crate::sys;
use crate::tree::CopyError;
use std::convert::Infallible;
use std::io::IsTerminal;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;

mod auth;
mod copy;
mod session;
pub use auth::{ClientAuth, Connection, PasswordSource};
mod stdio;
pub use copy::{
    CopyOptions, copy_from_remote, copy_from_remote_with, copy_to_remote, copy_to_remote_with,
};
pub use session::run_session;
use stdio::{ConsoleText, thread_stdin};

/// Why a client operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// A local I/O error (stdin, stdout, terminal).
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The connection to the agent failed or carried a malformed frame.
    #[error("connection to the agent: {0}")]
    Frame(#[from] FrameError),
    /// The agent speaks another protocol version.
    #[error("{}", version_message(*agent, *client))]
    VersionMismatch {
        /// The agent's version.
        agent: u16,
        /// Ours.
        client: u16,
    },
    /// The agent reported an error.
    #[error("agent: {message}")]
    Remote {
        /// Error class ([`ErrorCode::COMMAND_NOT_FOUND`] for an unknown command...).
        code: ErrorCode,
        /// The agent's text.
        message: String,
    },
    /// A local problem during a copy (destination not writable, integrity...).
    #[error("{message}")]
    Local {
        /// Error class.
        code: ErrorCode,
        /// Text.
        message: String,
    },
    /// The agent sent a frame that makes no sense here.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// Authentication failed on this side (the agent's key, no usable method).
    #[error("authentication: {0}")]
    Auth(String),
    /// The agent closed the connection before finishing.
    #[error("the agent closed the connection {0}")]
    Closed(&'static str),
}

impl ClientError {
    /// The exit code a CLI should use: 126/127 when the agent could not run/find the
    /// command (shell convention), 255 for every other failure (like ssh).
    pub fn exit_code(&self) -> i32 {
        match self {
            ClientError::Remote { code, .. }
                if *code == ErrorCode::COMMAND_NOT_FOUND || *code == ErrorCode::CANNOT_EXECUTE =>
            {
                code.0 as i32
            }
            _ => 255,
        }
    }
}

impl From<CopyError> for ClientError {
    fn from(e: CopyError) -> Self {
        match e {
            CopyError::Local { code, message } => ClientError::Local { code, message },
            CopyError::Remote { code, message } => ClientError::Remote { code, message },
            CopyError::Frame(f) => ClientError::Frame(f),
        }
    }
}

/// A control event for a running session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// The local terminal's window changed size.
    Resize(WindowSize),
    /// Deliver signal N (a Linux signal number: the agent's) to the remote process group
    /// (e.g. SIGINT, 2, on Ctrl-C when not on a terminal).
    Signal(u8),
}

/// What to run in a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Session {
    /// A command (on a PTY if `tty`).
    Exec(ExecRequest),
    /// A login shell on a PTY.
    Shell(ShellRequest),
}

type Split<S> = (
    FrameReader<tokio::io::ReadHalf<S>>,
    FrameWriter<tokio::io::WriteHalf<S>>,
);

/// Connects the framing, performs the `Hello` exchange and authenticates: the halves,
/// ready for the request, and the user the agent serves.
async fn handshake<S>(conn: Connection<S>) -> Result<Split<S>, ClientError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let Connection { stream, auth } = conn;
    let (rd, wr) = tokio::io::split(stream);
    let mut reader = FrameReader::new(rd);
    let mut writer = FrameWriter::new(wr);
    let (client_nonce, auth_hello) = auth::auth_hello()?;
    let sent = async {
        writer
            .write_frame(&Frame::Hello { version: VERSION })
            .await?;
        writer.write_frame(&auth_hello).await?;
        writer.flush().await
    }
    .await;
    if let Err(e) = sent {
        // A busy agent answers and hangs up at once: show its answer.
        return Err(error_after_write_failure(&mut reader, e.into()).await);
    }
    match reader.read_frame().await? {
        Some(Frame::Hello { version }) if version == VERSION => {}
        Some(Frame::Hello { version }) => {
            return Err(ClientError::VersionMismatch {
                agent: version,
                client: VERSION,
            });
        }
        other => return Err(unexpected(other, "Hello")),
    }
    let challenge = match reader.read_frame().await? {
        Some(Frame::Challenge(c)) => c,
        other => return Err(unexpected(other, "Challenge")),
    };
    let answer = auth::answer(&auth, &client_nonce, &challenge)?;
    send_request(&mut reader, &mut writer, &answer).await?;
    match reader.read_frame().await? {
        Some(Frame::AuthOk { .. }) => Ok((reader, writer)),
        other => Err(unexpected(other, "AuthOk")),
    }
}

/// The error for `got` where the handshake expected `want`.
fn unexpected(got: Option<Frame>, want: &str) -> ClientError {
    match got {
        Some(Frame::Error { code, message }) => ClientError::Remote { code, message },
        Some(other) => ClientError::Protocol(format!(
            "expected {want} from the agent, got a {} frame",
            other.name()
        )),
        None => ClientError::Closed("during the handshake"),
    }
}

/// Sends the request frame; if the agent already hung up (busy, error), reports the
/// agent's `Error` frame instead of the broken pipe.
async fn send_request<R, W>(
    reader: &mut FrameReader<R>,
    writer: &mut FrameWriter<W>,
    request: &Frame,
) -> Result<(), ClientError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    // Checks limits locally first: a clear error instead of the agent's rejection.
    crate::proto::validate(request).map_err(|e| ClientError::Protocol(e.to_string()))?;
    let sent = async {
        writer.write_frame(request).await?;
        writer.flush().await
    }
    .await;
    match sent {
        Ok(()) => Ok(()),
        Err(e) => Err(error_after_write_failure(reader, e.into()).await),
    }
}

/// After a failed write: the agent probably sent an `Error` frame before closing.
async fn error_after_write_failure<R: AsyncRead + Unpin>(
    reader: &mut FrameReader<R>,
    write_err: ClientError,
) -> ClientError {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), reader.read_frame()).await {
            Ok(Ok(Some(Frame::Error { code, message }))) => {
                return ClientError::Remote { code, message };
            }
            Ok(Ok(Some(_))) => continue,
            // Not an agent: say so rather than "broken pipe".
            Ok(Err(FrameError::Proto(p))) => return ClientError::Frame(FrameError::Proto(p)),
            _ => return write_err,
        }
    }
}

/// Runs a command, streaming `stdin` to it and its stdout/stderr (separately) to
/// `stdout`/`stderr`; returns its exit code (128 + N for a death by signal N).
///
/// An unknown command is `Err(ClientError::Remote { code: COMMAND_NOT_FOUND, .. })`,
/// whose [`exit_code`](ClientError::exit_code) is 127.
pub async fn exec<S, I, O, E>(
    conn: Connection<S>,
    req: ExecRequest,
    stdin: I,
    stdout: O,
    stderr: E,
) -> Result<i32, ClientError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
    I: AsyncRead + Unpin,
    O: AsyncWrite + Unpin,
    E: AsyncWrite + Unpin,
{
    let (_tx, rx) = mpsc::channel(1);
    run_session(conn, Session::Exec(req), stdin, stdout, stderr, rx)
        .await
        .map(ExitStatus::to_exit_code)
}

/// Runs a session on the process's own terminal: stdin in raw mode (restored on
/// return, also on error), the window size sent at start and whenever it changes
/// (SIGWINCH on Unix; on Windows the console is polled every 250 ms, see
/// `sys::RESIZE_POLL`), stdin forwarded, output to stdout.
/// Returns the remote exit code (128 + N for signal N).
///
/// On a Windows console, raw mode means: no line editing or echo, Ctrl-C reaches the
/// remote terminal as the byte 0x03 (its foreground job gets SIGINT there), keys and
/// the remote's output as VT sequences; keys are read as typed (Ctrl-Z too), and a
/// Ctrl-Break or a closed console window is forwarded as SIGINT / SIGHUP instead of
/// killing this process with the console still raw.
///
/// Without a terminal on stdin it still works (no raw mode, no resizes).
///
/// Reading stdin uses a detached thread that may stay blocked in `read` after the
/// session: a CLI should exit the process soon after this returns.
pub async fn interactive<S>(conn: Connection<S>, mut session: Session) -> Result<i32, ClientError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let tty = sys::stdin_is_terminal();
    let window = sys::terminal_size().unwrap_or(WindowSize { rows: 24, cols: 80 });
    match &mut session {
        Session::Exec(r) => r.window = window,
        Session::Shell(r) => {
            r.window = window;
            if r.term.is_none() {
                r.term = std::env::var("TERM").ok().or_else(default_term);
            }
        }
    }
    let (ctl_tx, ctl_rx) = mpsc::channel(8);
    let mut resizes = sys::Resizes::new()?;
    let forwarded = console_signals(&ctl_tx)?;
    let _raw = if tty { Some(sys::raw_stdin()?) } else { None };
    let resize_loop = async {
        let mut last = window;
        while resizes.changed().await.is_some() {
            if let Some(w) = sys::terminal_size()
                && w != last
            {
                last = w;
                if ctl_tx.send(Control::Resize(w)).await.is_err() {
                    break;
                }
            }
        }
        std::future::pending::<Infallible>().await
    };
    let control = async {
        tokio::select! {
            n = resize_loop => n,
            n = forwarded => n,
        }
    };
    on_stdio(conn, session, ctl_rx, control, tty).await
}

/// The `TERM` a shell gets when this side has none: Windows consoles (conhost with VT
/// processing, Windows Terminal) understand what xterm-256color programs send.
fn default_term() -> Option<String> {
    cfg!(windows).then(|| "xterm-256color".to_string())
}

/// Forwards the console events that would otherwise end this process while the
/// console is raw (Windows: Ctrl-Break as SIGINT, closing the console as SIGHUP).
/// On Unix the terminal's raw mode already turns these keys into bytes: nothing to do.
fn console_signals(
    ctl_tx: &mpsc::Sender<Control>,
) -> std::io::Result<impl std::future::Future<Output = Infallible> + use<>> {
    #[cfg(windows)]
    {
        use tokio::signal::windows::{ctrl_break, ctrl_close};
        let (mut brk, mut close) = (ctrl_break()?, ctrl_close()?);
        let tx = ctl_tx.clone();
        Ok(async move {
            loop {
                let sig = tokio::select! {
                    _ = brk.recv() => SIGINT,
                    _ = close.recv() => SIGHUP,
                };
                if tx.send(Control::Signal(sig)).await.is_err() {
                    break;
                }
            }
            std::future::pending::<Infallible>().await
        })
    }
    #[cfg(unix)]
    {
        let _ = ctl_tx;
        Ok(std::future::pending::<Infallible>())
    }
}

/// Linux signal numbers, as the agent (a Linux guest) takes them whatever this side is.
const SIGHUP: u8 = 1;
/// SIGINT (2).
const SIGINT: u8 = 2;
/// SIGQUIT (3).
#[cfg(unix)]
const SIGQUIT: u8 = 3;
/// SIGTERM (15).
#[cfg(unix)]
const SIGTERM: u8 = 15;

/// Runs `session` on this process's stdin/stdout/stderr while `control` (a loop that
/// feeds `ctl_rx` and never ends) runs beside it; returns the code to exit with.
async fn on_stdio<S>(
    conn: Connection<S>,
    session: Session,
    ctl_rx: mpsc::Receiver<Control>,
    control: impl std::future::Future<Output = Infallible>,
    tty: bool,
) -> Result<i32, ClientError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let run = run_session(
        conn,
        session,
        thread_stdin(tty),
        ConsoleText::new(tokio::io::stdout(), std::io::stdout().is_terminal()),
        ConsoleText::new(tokio::io::stderr(), std::io::stderr().is_terminal()),
        ctl_rx,
    );
    tokio::select! {
        r = run => r.map(ExitStatus::to_exit_code),
        _ = control => unreachable!(),
    }
}

/// `hvsock exec` on the process's own stdio: with `req.tty`, an [`interactive`]
/// session; otherwise stdin/stdout/stderr are streamed separately, and the signals
/// that would end this process are forwarded to the remote process group instead:
/// SIGINT, SIGTERM, SIGHUP and SIGQUIT on Unix; on Windows Ctrl-C (as SIGINT),
/// Ctrl-Break (SIGQUIT) and the console closing (SIGHUP). Returns the exit code to exit
/// with.
///
/// Like [`interactive`], stdin is read by a detached thread: exit the process soon
/// after this returns.
pub async fn exec_stdio<S>(conn: Connection<S>, req: ExecRequest) -> Result<i32, ClientError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    if req.tty {
        return interactive(conn, Session::Exec(req)).await;
    }
    let (ctl_tx, ctl_rx) = mpsc::channel(8);
    let forward = forward_signals(ctl_tx)?;
    on_stdio(conn, Session::Exec(req), ctl_rx, forward, false).await
}

/// Forwards this process's termination signals as [`Control::Signal`]s (see
/// [`exec_stdio`]); the handlers are installed before this returns.
fn forward_signals(
    ctl_tx: mpsc::Sender<Control>,
) -> std::io::Result<impl std::future::Future<Output = Infallible>> {
    let mut set = tokio::task::JoinSet::new();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        for (kind, n) in [
            (SignalKind::interrupt(), SIGINT),
            (SignalKind::terminate(), SIGTERM),
            (SignalKind::hangup(), SIGHUP),
            (SignalKind::quit(), SIGQUIT),
        ] {
            let mut s = signal(kind)?;
            let tx = ctl_tx.clone();
            set.spawn(async move {
                while s.recv().await.is_some() {
                    if tx.send(Control::Signal(n)).await.is_err() {
                        break;
                    }
                }
            });
        }
    }
    #[cfg(windows)]
    {
        use tokio::signal::windows::{ctrl_break, ctrl_c, ctrl_close};
        /// SIGQUIT (3): what Ctrl-Break means here (Ctrl-\ on a Unix terminal).
        const SIGQUIT: u8 = 3;
        let (mut c, mut b, mut close) = (ctrl_c()?, ctrl_break()?, ctrl_close()?);
        set.spawn(async move {
            loop {
                let n = tokio::select! {
                    _ = c.recv() => SIGINT,
                    _ = b.recv() => SIGQUIT,
                    _ = close.recv() => SIGHUP,
                };
                if ctl_tx.send(Control::Signal(n)).await.is_err() {
                    break;
                }
            }
        });
    }
    Ok(async move {
        while set.join_next().await.is_some() {}
        std::future::pending::<Infallible>().await
    })
}

/// A login shell on the process's terminal (see [`interactive`]).
pub async fn shell<S>(conn: Connection<S>, req: ShellRequest) -> Result<i32, ClientError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    interactive(conn, Session::Shell(req)).await
}
