//! The agent side: serves one request per connection.
//!
//! The accept loop is the caller's; for each accepted stream it calls
//! [`Agent::serve`] (which enforces [`AgentOptions::max_concurrent`]) or
//! [`serve_connection`] directly, usually in a spawned task.

use crate::framed::{FrameError, FrameReader, FrameWriter};
use crate::proto::{ErrorCode, Frame, VERSION};
use crate::tree::{self, CopyError};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::Semaphore;

mod session;
mod supervise;
pub use supervise::{MAX_OUTPUT_BUFFERED, MAX_PENDING_EOF, OUTPUT_QUEUE, SessionStats};

/// Settings of an agent.
#[derive(Debug, Clone)]
pub struct AgentOptions {
    /// If set, `CopyTo`/`CopyFrom` paths must lie inside this directory (relative paths
    /// are taken relative to it). Default: none (any path the agent's user can reach;
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
    /// When the client of an exec or shell session goes away (or misbehaves), how long
    /// the session's processes have after the hang-up (SIGHUP) before whatever is left
    /// of the session gets SIGKILL. Default 2 s.
    pub hangup_grace: Duration,
    /// Flow-control figures of the exec and shell sessions, shared by every clone of
    /// these options.
    pub stats: Arc<SessionStats>,
}

impl Default for AgentOptions {
    fn default() -> Self {
        AgentOptions {
            copy_root: None,
            handshake_timeout: Duration::from_secs(10),
            max_concurrent: 64,
            shell: None,
            drain_timeout: Duration::from_secs(2),
            hangup_grace: Duration::from_secs(2),
            stats: Arc::default(),
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
        Frame::Exec(req) => session::run_exec(&mut c, req, opts).await,
        Frame::Shell(req) => session::run_shell(&mut c, req, opts).await,
        Frame::CopyTo { path, .. } => copy_to(&mut c, &path, opts).await,
        Frame::CopyFrom { path, recursive } => copy_from(&mut c, &path, recursive, opts).await,
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
// File copy

fn resolve(path: &str, opts: &AgentOptions) -> Result<PathBuf, CopyError> {
    if path.is_empty() {
        return Err(CopyError::local(ErrorCode::BAD_REQUEST, "empty path"));
    }
    let p = Path::new(path);
    let Some(root) = &opts.copy_root else {
        return Ok(p.to_path_buf());
    };
    if p.components().any(|c| c == std::path::Component::ParentDir) {
        return Err(CopyError::local(
            ErrorCode::PERMISSION_DENIED,
            format!("{path}: outside the agent's copy root ('..' is not allowed)"),
        ));
    }
    let root = root
        .canonicalize()
        .map_err(|e| CopyError::io("copy root", root, &e))?;
    let joined = root.join(p);
    // Canonicalise the longest existing prefix; the rest must be plain names.
    let mut existing = joined.clone();
    let mut rest = Vec::new();
    while std::fs::symlink_metadata(&existing).is_err() {
        match (existing.file_name(), existing.parent()) {
            (Some(n), Some(parent)) => {
                rest.push(n.to_os_string());
                existing = parent.to_path_buf();
            }
            _ => break,
        }
    }
    let mut real = existing
        .canonicalize()
        .map_err(|e| CopyError::io("cannot resolve", &existing, &e))?;
    for n in rest.iter().rev() {
        if n == ".." || n == "." {
            return Err(CopyError::local(
                ErrorCode::PERMISSION_DENIED,
                format!("{path}: outside the agent's copy root"),
            ));
        }
        real.push(n);
    }
    if !real.starts_with(&root) {
        return Err(CopyError::local(
            ErrorCode::PERMISSION_DENIED,
            format!("{path}: outside the agent's copy root"),
        ));
    }
    Ok(real)
}

async fn fail_copy<R, W>(c: &mut Conn<R, W>, e: CopyError) -> AgentError
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    match e {
        CopyError::Local { code, message } => c.fail(code, message).await,
        CopyError::Remote { code, message } => AgentError::Request { code, message },
        CopyError::Frame(f) => c.fail_frame(f).await,
    }
}

async fn copy_to<R, W>(
    c: &mut Conn<R, W>,
    path: &str,
    opts: &AgentOptions,
) -> Result<(), AgentError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let dst = match resolve(path, opts) {
        Ok(p) => p,
        Err(e) => return Err(fail_copy(c, e).await),
    };
    match tree::receive_tree(&mut c.reader, &dst, None).await {
        Ok(s) => {
            c.writer
                .write_frame(&Frame::CopyDone {
                    files: s.files,
                    dirs: s.dirs,
                    bytes: s.bytes,
                })
                .await?;
            c.writer.shutdown().await?;
            Ok(())
        }
        Err(e) => Err(fail_copy(c, e).await),
    }
}

async fn copy_from<R, W>(
    c: &mut Conn<R, W>,
    path: &str,
    recursive: bool,
    opts: &AgentOptions,
) -> Result<(), AgentError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let src = match resolve(path, opts) {
        Ok(p) => p,
        Err(e) => return Err(fail_copy(c, e).await),
    };
    let reader = &mut c.reader;
    let writer = &mut c.writer;
    // Send the tree, watching for an early error from the client. The client's
    // CopyDone may be read before the sending future has reported its completion.
    let mut done = false;
    let sent = {
        let send = tree::send_tree(writer, &src, recursive, None);
        tokio::pin!(send);
        tokio::select! {
            biased;
            r = &mut send => r,
            f = reader.read_frame() => match f {
                Ok(Some(Frame::CopyDone { .. })) => {
                    done = true;
                    send.await
                }
                Ok(Some(Frame::Error { code, message })) => Err(CopyError::Remote { code, message }),
                Ok(None) => return Err(AgentError::ClientGone),
                Ok(Some(other)) => Err(CopyError::local(
                    ErrorCode::BAD_REQUEST,
                    format!("unexpected {} frame during a copy", other.name()),
                )),
                Err(e) => Err(CopyError::Frame(e)),
            },
        }
    };
    if let Err(e) = sent {
        return Err(fail_copy(c, e).await);
    }
    if done {
        return Ok(());
    }
    // The client confirms with CopyDone once everything is verified and renamed.
    match c.reader.read_frame().await {
        Ok(Some(Frame::CopyDone { .. })) => Ok(()),
        Ok(Some(Frame::Error { code, message })) => Err(AgentError::Request { code, message }),
        Ok(Some(other)) => Err(c
            .fail(
                ErrorCode::BAD_REQUEST,
                format!("expected CopyDone, got a {} frame", other.name()),
            )
            .await),
        Ok(None) => Err(AgentError::ClientGone),
        Err(e) => Err(c.fail_frame(e).await),
    }
}
