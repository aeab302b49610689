//! The agent side: serves one request per connection.
//!
//! The accept loop is the caller's; for each accepted stream it calls
//! [`Agent::serve`] (which enforces [`AgentOptions::max_concurrent`]) or
//! [`serve_connection`] directly, usually in a spawned task.

use crate::framed::{FrameError, FrameReader, FrameWriter};
use crate::proto::{ErrorCode, Frame, VERSION};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::Semaphore;

mod session;
mod supervise;
pub use supervise::{MAX_OUTPUT_BUFFERED, MAX_PENDING_EOF, OUTPUT_QUEUE, SessionStats};

mod copy;

pub mod audit;
pub mod auth;
pub mod pam;
pub mod user;
pub use audit::{Activity, AuditRecord};
pub use auth::{AuthOptions, Failures, KeySource, PasswordCheck, Principal};
pub use user::{SessionUser, UserError};

/// Settings of an agent.
#[derive(Debug, Clone)]
pub struct AgentOptions {
    /// If set, `CopyTo`/`CopyFrom` paths must lie inside this directory (relative paths
    /// are taken relative to it; they are resolved beneath it with no symlink followed).
    /// Default: none (any path the agent's user can reach; relative paths are relative to
    /// the agent's working directory).
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
    /// Variables every exec and shell session gets on top of the agent's own
    /// environment (a request's own `env` comes after and wins). The CLI passes its
    /// `--config-dir` here as `HVSOCK_CONFIG_DIR`, so `hvsock` run in a session uses
    /// the agent's configuration. Default: none.
    pub env: Vec<(std::ffi::OsString, std::ffi::OsString)>,
    /// When the client of an exec or shell session goes away (or misbehaves), how long
    /// the session's processes have after the hang-up (SIGHUP) before whatever is left
    /// of the session gets SIGKILL. Default 2 s.
    pub hangup_grace: Duration,
    /// How long a copy may go without progress (the client sends or takes nothing)
    /// before it fails. Default 60 s ([`DEFAULT_IDLE_TIMEOUT`](crate::tree::DEFAULT_IDLE_TIMEOUT)).
    pub copy_idle_timeout: Duration,
    /// Flow-control figures of the exec and shell sessions, shared by every clone of
    /// these options.
    pub stats: Arc<SessionStats>,
    /// How clients authenticate (methods, host key, authorized keys, failure limits).
    /// Default: key authentication with no key authorized, a random host key.
    pub auth: AuthOptions,
}

impl Default for AgentOptions {
    fn default() -> Self {
        AgentOptions {
            copy_root: None,
            handshake_timeout: Duration::from_secs(10),
            max_concurrent: 64,
            shell: None,
            drain_timeout: Duration::from_secs(2),
            env: Vec::new(),
            hangup_grace: Duration::from_secs(2),
            copy_idle_timeout: crate::tree::DEFAULT_IDLE_TIMEOUT,
            stats: Arc::default(),
            auth: AuthOptions::default(),
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
    /// The client's authentication failed (the log's detail; the client got a shorter
    /// `AUTH_FAILED` message).
    #[error("authentication failed: {0}")]
    Auth(String),
    /// The client went away before the request completed (the process was killed).
    #[error("client disconnected before the request completed")]
    ClientGone,
}

pub use crate::proto::version_message;

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

    /// [`serve_from`](Self::serve_from) with every connection counted as one peer.
    pub async fn serve<S>(&self, stream: S) -> Result<(), AgentError>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send,
    {
        self.serve_from(stream, "").await
    }

    /// Serves one connection from `peer`, or answers `busy` if
    /// [`max_concurrent`](AgentOptions::max_concurrent) connections are being served.
    ///
    /// `peer` names the other end as the transport knows it (its partition id): failed
    /// authentications are counted per peer, and a peer is locked out after
    /// [`AuthOptions::max_failures`]. Never pass anything the client sent.
    pub async fn serve_from<S>(&self, stream: S, peer: &str) -> Result<(), AgentError>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send,
    {
        self.serve_audited(stream, peer).await.0
    }

    /// [`serve_from`](Agent::serve_from), returning with the result the session's
    /// [`AuditRecord`] (see [`serve_connection_audited`]; a connection refused as busy
    /// has one where nothing ran).
    pub async fn serve_audited<S>(
        &self,
        stream: S,
        peer: &str,
    ) -> (Result<(), AgentError>, AuditRecord)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send,
    {
        match self.slots.clone().try_acquire_owned() {
            Ok(_permit) => serve_connection_audited(stream, peer, &self.opts).await,
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
                let record = AuditRecord::now(peer, "", "", "");
                let error = AgentError::Request {
                    code: ErrorCode::BUSY,
                    message: msg,
                };
                (Err(error), record)
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

    /// Reads the handshake's next frame (`what`, for the timeout message) by `deadline`:
    /// `Ok(None)` if the client closed the connection first.
    async fn read_by(
        &mut self,
        deadline: tokio::time::Instant,
        what: &str,
        opts: &AgentOptions,
    ) -> Result<Option<Frame>, AgentError> {
        match tokio::time::timeout_at(deadline, self.reader.read_frame()).await {
            Err(_) => {
                self.fail(
                    ErrorCode::TIMEOUT,
                    format!("no {what} within {:?}", opts.handshake_timeout),
                )
                .await;
                Err(AgentError::HandshakeTimeout(opts.handshake_timeout))
            }
            Ok(Err(e)) => Err(self.fail_frame(e).await),
            Ok(Ok(f)) => Ok(f),
        }
    }
}

/// [`serve_connection_from`] an unnamed peer.
pub async fn serve_connection<S>(stream: S, opts: &AgentOptions) -> Result<(), AgentError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    serve_connection_from(stream, "", opts).await
}

/// Serves one connection from `peer` (see [`Agent::serve_from`]): handshake,
/// authentication, one request as the authenticated user, then closes.
///
/// Malformed or hostile input gets an `Error` frame and ends this connection only.
pub async fn serve_connection_from<S>(
    stream: S,
    peer: &str,
    opts: &AgentOptions,
) -> Result<(), AgentError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    serve_connection_audited(stream, peer, opts).await.0
}

/// [`serve_connection_from`], returning with the result the session's
/// [`AuditRecord`]: who (the peer, the authenticated user and method), what ran, its
/// exit code and the connection's bytes. Its `peer_name` is empty: the caller knows
/// the partition's name.
pub async fn serve_connection_audited<S>(
    stream: S,
    peer: &str,
    opts: &AgentOptions,
) -> (Result<(), AgentError>, AuditRecord)
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let (stream, counts) = audit::Counted::new(stream);
    let mut record = AuditRecord::now(peer, "", "", "");
    let result = serve_counted(stream, peer, opts, &mut record).await;
    record.bytes_in = counts.bytes_in();
    record.bytes_out = counts.bytes_out();
    (result, record)
}

async fn serve_counted<S>(
    stream: S,
    peer: &str,
    opts: &AgentOptions,
    record: &mut AuditRecord,
) -> Result<(), AgentError>
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
    match c.read_by(deadline, "Hello", opts).await? {
        None => return Ok(()),
        Some(Frame::Hello { version }) => {
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
        Some(other) => {
            return Err(c
                .fail(
                    ErrorCode::PROTOCOL,
                    format!("expected Hello, got a {} frame", other.name()),
                )
                .await);
        }
    }

    // 2. Authentication.
    let Some(principal) = auth::authenticate(&mut c, deadline, peer, opts, record).await? else {
        return Ok(());
    };

    // 3. The request.
    let Some(request) = c.read_by(deadline, "request", opts).await? else {
        return Ok(());
    };
    // The user and method are the record's already (authenticate set them).
    record.activity = Activity::of_request(&request);
    // The session runs as the authenticated user (looked up, and checked against what
    // this agent may serve, during authentication).
    let user = &principal.account;
    match request {
        Frame::Exec(req) => {
            record.exit_code = session::run_exec(&mut c, req, opts, user).await?;
            Ok(())
        }
        Frame::Shell(req) => {
            record.exit_code = session::run_shell(&mut c, req, opts, user).await?;
            Ok(())
        }
        Frame::CopyTo { path, recursive } => {
            copy::copy(&mut c, copy::Op::To { path, recursive }, opts, user).await
        }
        Frame::CopyFrom { path, recursive } => {
            copy::copy(&mut c, copy::Op::From { path, recursive }, opts, user).await
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
