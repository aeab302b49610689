//! The agent's side of file copy: `CopyTo` (receive into a path) and `CopyFrom` (send a
//! path), confined to [`AgentOptions::copy_root`] when it is set.
//!
//! With a copy root the request path is resolved beneath the root's fd with no
//! symlink followed at any component (`openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)`,
//! or an `O_NOFOLLOW` walk): a symlink inside the root is refused even when it points
//! inside the root, so nothing planted or swapped in the root can lead outside it.
//! Without a copy root the request path is the client user's choice and follows
//! symlinks like any path; below it, nothing from the stream is followed either way.
//!
//! A copy for another user than the agent's (a root agent serving a user) runs on a
//! dedicated thread that took the user's groups, gid and uid (the kernel's per-thread
//! credentials: rustix's raw calls, not glibc's process-wide ones), with a
//! current-thread tokio runtime of its own, so that every file operation — opens,
//! creates, the blocking-pool reads, writes, renames and fsyncs of `tokio::fs` — has
//! the user's permissions and creates files the user owns. That runtime's blocking
//! threads are started by that thread and so inherit its credentials (each checks it
//! at start); nothing of the copy runs on the agent's own blocking pool. The
//! connection stays with the agent's runtime: its bytes are relayed to the copy
//! through an in-memory pipe. Forking a helper process instead would mean fork without
//! exec in a multi-threaded process, or an extra program to exec.

use super::user::{self, SessionUser};
use super::{AgentError, AgentOptions, Conn};
use crate::framed::{FrameReader, FrameWriter};
use crate::fsat::{self, Dir};
use crate::proto::{ErrorCode, Frame};
use crate::sys::user::Credentials;
use crate::tree::{self, CopyError, Dest, Expect, Source, escape};
use std::path::{Component, Path, PathBuf};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
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
async fn receive_here<R, W>(
    c: &mut Conn<R, W>,
    path: &str,
    recursive: bool,
    opts: &AgentOptions,
) -> Result<(), AgentError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
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
async fn send_here<R, W>(
    c: &mut Conn<R, W>,
    path: &str,
    recursive: bool,
    opts: &AgentOptions,
) -> Result<(), AgentError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
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

/// A copy request, to run where its user's credentials are.
pub(super) enum Op {
    To { path: String, recursive: bool },
    From { path: String, recursive: bool },
}

impl Op {
    async fn run<R, W>(self, c: &mut Conn<R, W>, opts: &AgentOptions) -> Result<(), AgentError>
    where
        R: AsyncRead + Unpin,
        W: AsyncWrite + Unpin,
    {
        match self {
            Op::To { path, recursive } => receive_here(c, &path, recursive, opts).await,
            Op::From { path, recursive } => send_here(c, &path, recursive, opts).await,
        }
    }
}

/// `CopyTo` (receive the client's stream into `path`) or `CopyFrom` (send `path`) for
/// `user`: here when the agent is that user, else where its credentials are.
pub(super) async fn copy<R, W>(
    c: &mut Conn<R, W>,
    op: Op,
    opts: &AgentOptions,
    user: &SessionUser,
) -> Result<(), AgentError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    match user.switch() {
        None => op.run(c, opts).await,
        Some(creds) => run_as_user(c, creds, opts, op).await,
    }
}

/// Runs `op` on a thread with `creds` (see the module documentation), relaying the
/// connection's bytes to it and back.
async fn run_as_user<R, W>(
    c: &mut Conn<R, W>,
    creds: Credentials,
    opts: &AgentOptions,
    op: Op,
) -> Result<(), AgentError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let (near, far) = tokio::io::duplex(2 * crate::proto::DATA_CHUNK + 4096);
    let thread_opts = opts.clone();
    let expected = creds.clone();
    let worker = user::run_as(creds, move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .on_thread_start(move || {
                // Inherited from the creating thread by the kernel; a file operation
                // with the agent's credentials instead would be a privilege leak.
                if !expected.are_current() {
                    eprintln!("hvsock agent: a copy thread lacks its user's credentials");
                    std::process::abort();
                }
            })
            .build();
        let rt = match rt {
            Ok(rt) => rt,
            Err(e) => {
                return Err(AgentError::Request {
                    code: ErrorCode::IO,
                    message: format!("cannot start the copy: {}", tree::strip_os(&e)),
                });
            }
        };
        rt.block_on(async move {
            let (rd, wr) = tokio::io::split(far);
            let mut conn = Conn {
                reader: FrameReader::new(rd),
                writer: FrameWriter::new(wr),
            };
            op.run(&mut conn, &thread_opts).await
        })
    });
    // What the client sent after the request (already read), then the rest.
    let early = c.reader.take_buffered();
    let (mut from_copy, mut to_copy) = tokio::io::split(near);
    let reader = c.reader.get_mut();
    let writer = c.writer.get_mut();
    let up = async move {
        let r = async {
            to_copy.write_all(&early).await?;
            tokio::io::copy(reader, &mut to_copy).await
        }
        .await;
        // The copy sees the client's end of stream (or its failure) as its own.
        let _ = to_copy.shutdown().await;
        drop(to_copy);
        r
    };
    let down = async {
        let r = tokio::io::copy(&mut from_copy, writer).await;
        let _ = writer.shutdown().await;
        r
    };
    let idle = opts.copy_idle_timeout;
    let finished = async {
        tokio::pin!(worker, down);
        let mut relayed = false;
        let result = tokio::select! {
            r = &mut worker => r,
            _ = &mut down => {
                relayed = true;
                (&mut worker).await
            }
        };
        // The copy's last frames go on to a client that takes them within the idle
        // timeout (the copy itself has ended).
        if !relayed {
            let _ = tokio::time::timeout(idle, &mut down).await;
        }
        result
    };
    let result = {
        tokio::pin!(up, finished);
        let mut reading = true;
        loop {
            tokio::select! {
                r = &mut finished => break r,
                _ = &mut up, if reading => reading = false,
            }
        }
    };
    match result {
        Ok(r) => r,
        Err(e) => Err(c
            .fail(
                ErrorCode::IO,
                format!("cannot work as the session's user: {}", tree::strip_os(&e)),
            )
            .await),
    }
}
