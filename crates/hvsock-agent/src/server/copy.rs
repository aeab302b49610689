//! The agent's side of file copy: `CopyTo` (receive into a path) and `CopyFrom` (send a
//! path), confined to [`AgentOptions::copy_root`] when it is set.
//!
//! With a copy root the request path is resolved beneath the root's fd with no
//! symlink followed at any component (`openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)`,
//! or an `O_NOFOLLOW` walk): a symlink inside the root is refused even when it points
//! inside the root, so nothing planted or swapped in the root can lead outside it.
//! Without a copy root the request path is the client user's choice and follows
//! symlinks like any path; below it, nothing from the stream is followed either way.

use super::{AgentError, AgentOptions, Conn, Principal};
use crate::framed::{FrameReader, FrameWriter};
use crate::fsat::{self, Dir};
use crate::proto::{ErrorCode, Frame};
use crate::tree::{self, CopyError, Dest, Expect, Source, escape};
use std::path::{Component, Path, PathBuf};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};

/// Where a request path is, once checked.
enum Place {
    /// No copy root: the path as given.
    Free(PathBuf),
    /// Beneath the copy root: its fd and the path below it (plain components).
    Beneath { root: Dir, rel: PathBuf },
}

fn outside(path: &str, why: &str) -> CopyError {
    CopyError::local(
        ErrorCode::PERMISSION_DENIED,
        format!("{}: outside the agent's copy root{why}", escape(path)),
    )
}

/// Checks a request path against the copy root.
fn resolve(path: &str, opts: &AgentOptions) -> Result<Place, CopyError> {
    if path.is_empty() {
        return Err(CopyError::local(ErrorCode::BAD_REQUEST, "empty path"));
    }
    let p = Path::new(path);
    let Some(root) = &opts.copy_root else {
        return Ok(Place::Free(p.to_path_buf()));
    };
    if p.components().any(|c| c == Component::ParentDir) {
        return Err(outside(path, " ('..' is not allowed)"));
    }
    let canon = root
        .canonicalize()
        .map_err(|e| CopyError::io("copy root", &root.display().to_string(), &e))?;
    let below = if p.is_absolute() {
        p.strip_prefix(&canon).map_err(|_| outside(path, ""))?
    } else {
        p
    };
    let rel: PathBuf = below
        .components()
        .filter(|c| matches!(c, Component::Normal(_)))
        .collect();
    let root = Dir::open(&canon)
        .map_err(|e| CopyError::io("copy root", &canon.display().to_string(), &e))?;
    Ok(Place::Beneath { root, rel })
}

/// A symlink inside the copy root reads as "outside the copy root".
fn confine(path: &str, e: CopyError) -> CopyError {
    match &e {
        CopyError::Local { message, .. } if message.contains("symbolic link") => outside(
            path,
            " (a symbolic link inside the copy root is not followed)",
        ),
        _ => e,
    }
}

/// Reports a copy error to the client (given at most the idle timeout to take it: it
/// may be the client that stopped reading) and returns it.
async fn fail_copy<R, W>(c: &mut Conn<R, W>, e: CopyError, idle: Duration) -> AgentError
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    match e {
        CopyError::Local { code, message } => {
            match tokio::time::timeout(idle, c.fail(code, message.clone())).await {
                Ok(e) => e,
                Err(_) => AgentError::Request { code, message },
            }
        }
        CopyError::Remote { code, message } => AgentError::Request { code, message },
        CopyError::Frame(crate::framed::FrameError::Proto(p)) => {
            let shown = crate::framed::FrameError::Proto(p.clone());
            match tokio::time::timeout(idle, c.fail_frame(shown)).await {
                Ok(e) => e,
                Err(_) => AgentError::Frame(crate::framed::FrameError::Proto(p)),
            }
        }
        CopyError::Frame(f) => AgentError::Frame(f),
    }
}

/// `CopyTo{path, recursive}`: receives the client's stream into `path`.
pub(super) async fn copy_to<R, W>(
    c: &mut Conn<R, W>,
    path: &str,
    recursive: bool,
    opts: &AgentOptions,
    principal: &Principal,
) -> Result<(), AgentError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    // Sessions run as the agent's own user until per-user sessions exist.
    debug_assert_eq!(principal.user, opts.auth.own_user);
    let dest = match resolve(path, opts).and_then(|place| match place {
        Place::Free(p) => Dest::open(&p),
        Place::Beneath { root, rel } => {
            Dest::beneath(&root, &rel, path).map_err(|e| confine(path, e))
        }
    }) {
        Ok(d) => d,
        Err(e) => return Err(fail_copy(c, e, opts.copy_idle_timeout).await),
    };
    // The client names the root as it likes (its local base name): any plain name.
    let expect = Expect {
        root: None,
        recursive,
        idle_timeout: opts.copy_idle_timeout,
    };
    match tree::receive_tree(&mut c.reader, &dest, &expect, None).await {
        Ok(s) => {
            let done = Frame::CopyDone {
                files: s.files,
                dirs: s.dirs,
                bytes: s.bytes,
            };
            tree::write_idle(&mut c.writer, &done, opts.copy_idle_timeout, "")
                .await
                .map_err(|e| match e {
                    CopyError::Frame(f) => AgentError::Frame(f),
                    other => AgentError::Request {
                        code: ErrorCode::TIMEOUT,
                        message: other.to_string(),
                    },
                })?;
            c.writer.shutdown().await?;
            Ok(())
        }
        Err(e) => Err(fail_copy(c, e, opts.copy_idle_timeout).await),
    }
}

/// Opens what `CopyFrom{path}` sends.
fn source(path: &str, opts: &AgentOptions) -> Result<Source, CopyError> {
    match resolve(path, opts)? {
        Place::Free(p) => Source::open(&p),
        Place::Beneath { root, rel } => {
            let rel_s = rel.to_str().unwrap_or_default();
            let opened = fsat::open_source_beneath(&root, rel_s)
                .map_err(|e| confine(path, CopyError::io("cannot read", path, &e)))?;
            let name = match Path::new(path).file_name() {
                Some(n) => n.to_str().unwrap_or("root").to_string(),
                None => opts
                    .copy_root
                    .as_ref()
                    .and_then(|r| r.canonicalize().ok())
                    .and_then(|r| r.file_name().map(|n| n.to_string_lossy().into_owned()))
                    .unwrap_or_else(|| "root".to_string()),
            };
            Source::from_opened(opened, name, path.to_string())
        }
    }
}

/// `CopyFrom{path, recursive}`: sends `path`, then waits for the client's `CopyDone`.
pub(super) async fn copy_from<R, W>(
    c: &mut Conn<R, W>,
    path: &str,
    recursive: bool,
    opts: &AgentOptions,
    principal: &Principal,
) -> Result<(), AgentError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    // Sessions run as the agent's own user until per-user sessions exist.
    debug_assert_eq!(principal.user, opts.auth.own_user);
    let src = match source(path, opts) {
        Ok(s) => s,
        Err(e) => return Err(fail_copy(c, e, opts.copy_idle_timeout).await),
    };
    let idle = opts.copy_idle_timeout;
    let reader: &mut FrameReader<R> = &mut c.reader;
    let writer: &mut FrameWriter<W> = &mut c.writer;
    // Send the tree, watching for an early error from the client. The client's
    // CopyDone may be read before the sending future has reported its completion.
    let mut done = false;
    let sent = {
        let send = tree::send_tree(writer, &src, recursive, idle, None);
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
        return Err(fail_copy(c, e, opts.copy_idle_timeout).await);
    }
    if done {
        return Ok(());
    }
    // The client confirms with CopyDone once everything is verified and renamed.
    match tokio::time::timeout(idle, c.reader.read_frame()).await {
        Err(_) => {
            let e = tree::idle_error(idle, "sent nothing", path);
            Err(fail_copy(c, e, opts.copy_idle_timeout).await)
        }
        Ok(Ok(Some(Frame::CopyDone { .. }))) => Ok(()),
        Ok(Ok(Some(Frame::Error { code, message }))) => Err(AgentError::Request { code, message }),
        Ok(Ok(Some(other))) => Err(c
            .fail(
                ErrorCode::BAD_REQUEST,
                format!("expected CopyDone, got a {} frame", other.name()),
            )
            .await),
        Ok(Ok(None)) => Err(AgentError::ClientGone),
        Ok(Err(e)) => Err(c.fail_frame(e).await),
    }
}
