//! The client's side of file copy: `copy_to_remote` (send) and `copy_from_remote`
//! (receive, checking the agent's stream against the request: see
//! [`receive_tree`](crate::tree::receive_tree)).

use super::{ClientError, Connection, Split, error_after_write_failure, handshake, send_request};
use crate::framed::{FrameError, FrameWriter};
use crate::proto::{ErrorCode, Frame};
use crate::tree::{
    self, CopyError, CopySummary, DEFAULT_IDLE_TIMEOUT, Dest, Expect, ProgressFn, Source,
};
use std::path::Path;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};

/// Options of a copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CopyOptions {
    /// Copy a directory tree (else exactly one regular file).
    pub recursive: bool,
    /// How long the agent may send (or take) nothing before the copy fails. Default
    /// 60 s.
    pub idle_timeout: Duration,
}

impl CopyOptions {
    /// The default options but for `recursive`.
    fn default_with(recursive: bool) -> CopyOptions {
        CopyOptions {
            recursive,
            ..CopyOptions::default()
        }
    }
}

impl Default for CopyOptions {
    fn default() -> Self {
        CopyOptions {
            recursive: false,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
        }
    }
}

/// A copy failed on this side: tells the agent (so it removes its temp file or stops
/// sending) and ends the connection, then returns the error to report. An agent that
/// takes nothing (the reason of an idle timeout) gets `idle` to take the message.
async fn local_copy_error<W: AsyncWrite + Unpin>(
    writer: &mut FrameWriter<W>,
    code: ErrorCode,
    message: String,
    idle: Duration,
) -> ClientError {
    let tell = async {
        let _ = writer
            .write_frame(&Frame::error(code, message.clone()))
            .await;
        let _ = writer.shutdown().await;
    };
    let _ = tokio::time::timeout(idle, tell).await;
    ClientError::Local { code, message }
}

/// Copies a local file (or, with `recursive`, a directory tree) to `remote` on the
/// agent, like `cp`: into `remote` if it is an existing directory, else as `remote`.
/// Each file is verified with SHA-256 by the agent and renamed into place only then.
/// ([`copy_to_remote_with`] with the default idle timeout.)
pub async fn copy_to_remote<S>(
    conn: Connection<S>,
    local: &Path,
    remote: &str,
    recursive: bool,
    progress: Option<ProgressFn<'_>>,
) -> Result<CopySummary, ClientError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let opts = CopyOptions::default_with(recursive);
    copy_to_remote_with(conn, local, remote, &opts, progress).await
}

/// [`copy_to_remote`] with [`CopyOptions`]. The tree is walked without following
/// symlinks below `local`, and each file's bytes are read from the fd that was checked.
pub async fn copy_to_remote_with<S>(
    conn: Connection<S>,
    local: &Path,
    remote: &str,
    opts: &CopyOptions,
    progress: Option<ProgressFn<'_>>,
) -> Result<CopySummary, ClientError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let idle = opts.idle_timeout;
    let req = Frame::CopyTo {
        path: remote.to_string(),
        recursive: opts.recursive,
    };
    let (mut reader, mut writer) = start(conn, &req).await?;
    // Send the tree, watching for an early error from the agent. The agent's CopyDone
    // may be read before the sending future has reported its own completion.
    let mut done: Option<Frame> = None;
    let sent = {
        let send = async {
            let src = Source::open(local)?;
            tree::send_tree(&mut writer, &src, opts.recursive, idle, progress).await
        };
        tokio::pin!(send);
        tokio::select! {
            biased;
            r = &mut send => r,
            f = reader.read_frame() => match f {
                Ok(Some(Frame::Error { code, message })) => Err(CopyError::Remote { code, message }),
                Ok(Some(f @ Frame::CopyDone { .. })) => {
                    done = Some(f);
                    send.await
                }
                Ok(Some(other)) => {
                    return Err(ClientError::Protocol(format!(
                        "unexpected {} frame from the agent",
                        other.name()
                    )));
                }
                Ok(None) => return Err(ClientError::Closed("in the middle of the copy")),
                Err(e) => Err(CopyError::Frame(e)),
            },
        }
    };
    let summary = match sent {
        Ok(s) => s,
        Err(CopyError::Local { code, message }) => {
            return Err(local_copy_error(&mut writer, code, message, idle).await);
        }
        Err(CopyError::Frame(FrameError::Io(e))) => {
            return Err(error_after_write_failure(&mut reader, FrameError::Io(e).into()).await);
        }
        Err(e) => return Err(e.into()),
    };
    let reply = match done {
        Some(f) => Some(f),
        None => match tokio::time::timeout(idle, reader.read_frame()).await {
            Ok(r) => r?,
            Err(_) => {
                let e =
                    tree::idle_error(idle, "sent no confirmation", &local.display().to_string());
                return Err(e.into());
            }
        },
    };
    match reply {
        Some(Frame::CopyDone { .. }) => Ok(summary),
        Some(Frame::Error { code, message }) => Err(ClientError::Remote { code, message }),
        Some(other) => Err(ClientError::Protocol(format!(
            "expected CopyDone, got a {} frame",
            other.name()
        ))),
        None => Err(ClientError::Closed("before confirming the copy")),
    }
}

/// Copies `remote` (a file, or with `recursive` a directory tree) from the agent to
/// `local`, like `cp`. ([`copy_from_remote_with`] with the default idle timeout.)
pub async fn copy_from_remote<S>(
    conn: Connection<S>,
    remote: &str,
    local: &Path,
    recursive: bool,
    progress: Option<ProgressFn<'_>>,
) -> Result<CopySummary, ClientError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let opts = CopyOptions::default_with(recursive);
    copy_from_remote_with(conn, remote, local, &opts, progress).await
}

/// [`copy_from_remote`] with [`CopyOptions`]. The agent's stream must be what was
/// asked for (its root named like `remote`'s last component, one file unless
/// `recursive`, totals as announced...) and lands beneath `local` with no symlink
/// followed. Each file is written to a temp file next to its destination (anonymous
/// where supported), verified with SHA-256, fsynced and renamed into place.
pub async fn copy_from_remote_with<S>(
    conn: Connection<S>,
    remote: &str,
    local: &Path,
    opts: &CopyOptions,
    progress: Option<ProgressFn<'_>>,
) -> Result<CopySummary, ClientError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let req = Frame::CopyFrom {
        path: remote.to_string(),
        recursive: opts.recursive,
    };
    let (mut reader, mut writer) = start(conn, &req).await?;
    let expect = Expect::for_request(remote, opts.recursive, opts.idle_timeout);
    let received = match Dest::open(local) {
        Ok(dest) => tree::receive_tree(&mut reader, &dest, &expect, progress).await,
        Err(e) => Err(e),
    };
    match received {
        Ok(s) => {
            writer
                .write_frame(&Frame::CopyDone {
                    files: s.files,
                    dirs: s.dirs,
                    bytes: s.bytes,
                })
                .await?;
            let _ = writer.shutdown().await;
            Ok(s)
        }
        Err(CopyError::Local { code, message }) => {
            Err(local_copy_error(&mut writer, code, message, opts.idle_timeout).await)
        }
        Err(e) => Err(e.into()),
    }
}

/// The handshake, then the copy request `req`: the connection's two halves, ready for
/// the tree.
async fn start<S>(conn: Connection<S>, req: &Frame) -> Result<Split<S>, ClientError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let (mut reader, mut writer) = handshake(conn).await?;
    send_request(&mut reader, &mut writer, req).await?;
    Ok((reader, writer))
}
