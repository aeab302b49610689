//! File-copy streams, shared by the agent and the client: sending a file or directory
//! tree as `CopyTotal, (Dir | File Data* FileEnd)*, CopyEnd` ([`send_tree`]), and
//! receiving one with per-file SHA-256 verification and temp file + fsync + rename
//! ([`receive_tree`], in `receive.rs`).
//!
//! Both sides work through directory fds (handles on Windows) and never follow a link
//! below the path the user (or the request) named: the sender walks its tree without
//! following links and sends the bytes of the very fd it checked; the receiver creates
//! everything beneath its destination directory's fd (see `fsat/`).

use crate::framed::{FrameError, FrameWriter};
use crate::fsat::{self, Dir, Kind, Opened, Refusal};
use crate::proto::{DATA_CHUNK, ErrorCode, Frame};
use bytes::{Bytes, BytesMut};
use sha2::{Digest, Sha256};
use std::io;
use std::path::Path;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWrite};

pub use crate::receive::{Dest, Expect, receive_tree};

/// The default idle timeout of a copy: the longest the peer may send (or take)
/// nothing before the copy fails.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Permission bits a copy keeps (setuid, setgid and sticky are dropped).
pub const MODE_MASK: u32 = 0o777;

/// Progress of a copy, given to the progress callback.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Progress {
    /// The relative path of the file being copied.
    pub path: String,
    /// Files completely copied so far.
    pub files_done: u64,
    /// Files in the whole copy.
    pub files_total: u64,
    /// Content bytes copied so far (all files).
    pub bytes_done: u64,
    /// Content bytes in the whole copy.
    pub bytes_total: u64,
}

/// A progress callback.
pub type ProgressFn<'a> = &'a mut (dyn FnMut(&Progress) + Send);

/// What a copy did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CopySummary {
    /// Regular files copied.
    pub files: u64,
    /// Directories created or updated.
    pub dirs: u64,
    /// Content bytes copied.
    pub bytes: u64,
    /// Entries that are neither regular files nor directories (symlinks, devices,
    /// sockets...) found inside a directory and not copied.
    pub skipped: u64,
}

/// Why a copy failed.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    /// A local problem, with the code to report to the peer.
    #[error("{message}")]
    Local {
        /// Error class.
        code: ErrorCode,
        /// Text.
        message: String,
    },
    /// The peer reported an error.
    #[error("{message}")]
    Remote {
        /// Error class.
        code: ErrorCode,
        /// Text.
        message: String,
    },
    /// The connection failed or carried a malformed frame.
    #[error(transparent)]
    Frame(#[from] FrameError),
}

impl CopyError {
    pub(crate) fn local(code: ErrorCode, message: impl Into<String>) -> CopyError {
        CopyError::Local {
            code,
            message: message.into(),
        }
    }

    /// An I/O error on `path` (a local path or a stream path: escaped here).
    pub(crate) fn io(what: &str, path: &str, e: &io::Error) -> CopyError {
        let refusal = fsat::refusal(e);
        let code = match e.kind() {
            _ if refusal == Some(Refusal::Link) => ErrorCode::PERMISSION_DENIED,
            io::ErrorKind::NotFound => ErrorCode::NOT_FOUND,
            io::ErrorKind::PermissionDenied => ErrorCode::PERMISSION_DENIED,
            _ => ErrorCode::IO,
        };
        let why = match refusal {
            Some(r) => r.to_string(),
            None => strip_os(e),
        };
        CopyError::local(code, format!("{what} {}: {why}", escape(path)))
    }

    pub(crate) fn protocol(message: impl Into<String>) -> CopyError {
        CopyError::local(ErrorCode::BAD_REQUEST, message)
    }
}

/// A name or path from a peer (or any text shown with one) made safe to print: control
/// characters (C0, DEL, C1 — terminal escape sequences) and Unicode bidirectional
/// overrides are written as `\u{..}` escapes, backslashes as `\\`; everything else is
/// kept. Every message of the copy code that contains a peer-supplied name goes
/// through this ([`hvsock::text::escape_untrusted`], as an owned string).
///
/// ```
/// assert_eq!(hvsock_agent::tree::escape("a\x1b]0;x\x07b"), "a\\u{1b}]0;x\\u{7}b");
/// assert_eq!(hvsock_agent::tree::escape("plain/é"), "plain/é");
/// ```
pub fn escape(s: &str) -> String {
    hvsock::text::escape_untrusted(s).into_owned()
}

/// "No such file or directory (os error 2)" → "No such file or directory".
pub(crate) fn strip_os(e: &io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

struct Entry {
    /// The stream path (`root/a/b`).
    rel: String,
    /// The path below the root (`a/b`; empty for the root itself).
    inner: String,
    is_dir: bool,
    mode: u32,
    size: u64,
}

fn utf8_name(n: &std::ffi::OsStr, shown: &str) -> Result<String, CopyError> {
    n.to_str().map(str::to_string).ok_or_else(|| {
        CopyError::local(
            ErrorCode::BAD_REQUEST,
            format!("{}: file names must be UTF-8", escape(shown)),
        )
    })
}

/// What a copy sends: a file or directory opened once, and the name its root entry
/// gets in the stream.
#[derive(Debug)]
pub struct Source {
    /// A directory or a regular file (never [`Opened::Other`]).
    opened: Opened,
    name: String,
    shown: String,
}

impl Source {
    /// Opens the user's own path `src` (symlinks in it are followed: it is the user's
    /// choice); everything below it is walked without following links. On Windows
    /// `src` is a Windows path (`C:\data`, `.\dir`, `dir\sub`).
    pub fn open(src: &Path) -> Result<Source, CopyError> {
        let shown = src.display().to_string();
        let opened =
            fsat::open_source(src).map_err(|e| CopyError::io("cannot read", &shown, &e))?;
        let name = match src.file_name() {
            Some(n) => utf8_name(n, &shown)?,
            None => {
                let canon = src
                    .canonicalize()
                    .map_err(|e| CopyError::io("cannot resolve", &shown, &e))?;
                match canon.file_name() {
                    Some(n) => utf8_name(n, &shown)?,
                    None => "root".to_string(),
                }
            }
        };
        Source::from_opened(opened, name, shown)
    }

    /// `opened` (already opened by the caller, e.g. beneath a copy root) sent as `name`.
    pub(crate) fn from_opened(
        opened: Opened,
        name: String,
        shown: String,
    ) -> Result<Source, CopyError> {
        if let Opened::Other = opened {
            return Err(CopyError::local(
                ErrorCode::BAD_REQUEST,
                format!("{} is not a regular file or directory", escape(&shown)),
            ));
        }
        Ok(Source {
            opened,
            name,
            shown,
        })
    }

    /// Whether it is a directory.
    pub fn is_dir(&self) -> bool {
        matches!(self.opened, Opened::Dir(..))
    }
}

/// Lists what a copy of `src` sends, in order (directories before their contents),
/// walking through directory fds with no link followed.
fn walk(src: &Source, recursive: bool) -> Result<(Vec<Entry>, u64), CopyError> {
    let (dir, meta) = match &src.opened {
        Opened::Dir(d, m) => (Some(d), m),
        Opened::File(_, m) => (None, m),
        Opened::Other => unreachable!("refused by from_opened"),
    };
    let mut out = vec![Entry {
        rel: src.name.clone(),
        inner: String::new(),
        is_dir: dir.is_some(),
        mode: meta.mode & MODE_MASK,
        size: if dir.is_some() { 0 } else { meta.size },
    }];
    let mut skipped = 0;
    if let Some(dir) = dir {
        if !recursive {
            return Err(CopyError::local(
                ErrorCode::BAD_REQUEST,
                format!("{} is a directory (use -r)", escape(&src.shown)),
            ));
        }
        walk_dir(src, dir, &src.name, "", &mut out, &mut skipped)?;
    }
    Ok((out, skipped))
}

fn walk_dir(
    src: &Source,
    dir: &Dir,
    rel: &str,
    inner: &str,
    out: &mut Vec<Entry>,
    skipped: &mut u64,
) -> Result<(), CopyError> {
    let shown = |inner: &str| format!("{}/{inner}", src.shown);
    let mut names =
        fsat::list(dir).map_err(|e| CopyError::io("cannot read directory", &shown(inner), &e))?;
    names.sort();
    for n in names {
        let join = |a: &str, b: &str| {
            if a.is_empty() {
                b.to_string()
            } else {
                format!("{a}/{b}")
            }
        };
        let name = utf8_name(&n, &shown(&join(inner, &n.to_string_lossy())))?;
        let child_inner = join(inner, &name);
        let meta = fsat::meta_at(dir, &n)
            .map_err(|e| CopyError::io("cannot read", &shown(&child_inner), &e))?;
        let mode = meta.mode & MODE_MASK;
        let entry = |is_dir, size| Entry {
            rel: format!("{rel}/{name}"),
            inner: child_inner.clone(),
            is_dir,
            mode,
            size,
        };
        match meta.kind {
            Kind::Dir => {
                let sub = fsat::open_child_dir(dir, &n).map_err(|e| {
                    CopyError::io("cannot read directory", &shown(&child_inner), &e)
                })?;
                out.push(entry(true, 0));
                walk_dir(
                    src,
                    &sub,
                    &format!("{rel}/{name}"),
                    &child_inner,
                    out,
                    skipped,
                )?;
            }
            Kind::File => out.push(entry(false, meta.size)),
            Kind::Other => *skipped += 1,
        }
    }
    Ok(())
}

/// Writes one frame, failing after `idle` without progress (a peer that stopped
/// reading).
pub(crate) async fn write_idle<W: AsyncWrite + Unpin>(
    w: &mut FrameWriter<W>,
    f: &Frame,
    idle: Duration,
    what: &str,
) -> Result<(), CopyError> {
    match tokio::time::timeout(idle, w.write_frame(f)).await {
        Ok(r) => Ok(r?),
        Err(_) => Err(idle_error(idle, "took nothing", what)),
    }
}

/// The error of an idle timeout: "the peer sent nothing for 60s while copying x".
pub(crate) fn idle_error(idle: Duration, did: &str, what: &str) -> CopyError {
    let during = if what.is_empty() {
        String::new()
    } else {
        format!(" while copying {}", escape(what))
    };
    CopyError::local(
        ErrorCode::TIMEOUT,
        format!("the peer {did} for {idle:?}{during} (idle timeout)"),
    )
}

/// Sends `src` (a file, or with `recursive` a directory tree) as a copy stream, up to
/// and including `CopyEnd`. Each file is opened beneath its directory with no symlink
/// followed, checked to be a regular file, and the bytes of that fd are sent. A peer
/// that takes no data for `idle` fails the copy.
pub async fn send_tree<W: AsyncWrite + Unpin>(
    w: &mut FrameWriter<W>,
    src: &Source,
    recursive: bool,
    idle: Duration,
    mut progress: Option<ProgressFn<'_>>,
) -> Result<CopySummary, CopyError> {
    let (entries, skipped) = walk(src, recursive)?;
    let files_total = entries.iter().filter(|e| !e.is_dir).count() as u64;
    let bytes_total = entries.iter().map(|e| e.size).sum();
    let total = Frame::CopyTotal {
        files: files_total,
        bytes: bytes_total,
    };
    write_idle(w, &total, idle, "").await?;
    let mut p = Progress {
        files_total,
        bytes_total,
        ..Progress::default()
    };
    let mut summary = CopySummary {
        skipped,
        ..CopySummary::default()
    };
    let mut buf = BytesMut::new();
    for e in entries {
        if e.is_dir {
            let dir = Frame::Dir {
                path: e.rel.clone(),
                mode: e.mode,
            };
            write_idle(w, &dir, idle, &e.rel).await?;
            summary.dirs += 1;
            continue;
        }
        let shown = format!("{}/{}", src.shown, e.inner);
        let opened = match &src.opened {
            Opened::File(f, _) => f.try_clone(),
            Opened::Dir(d, _) => fsat::open_file(d, &e.inner).map(|(f, _)| f),
            Opened::Other => unreachable!("refused by from_opened"),
        };
        let file = opened.map_err(|err| CopyError::io("cannot open", &shown, &err))?;
        let mut f = tokio::fs::File::from_std(file);
        let head = Frame::File {
            path: e.rel.clone(),
            mode: e.mode,
            size: e.size,
        };
        write_idle(w, &head, idle, &e.rel).await?;
        p.path = e.rel.clone();
        let mut hasher = Sha256::new();
        let mut left = e.size;
        while left > 0 {
            buf.clear();
            buf.reserve(DATA_CHUNK);
            let want = DATA_CHUNK.min(left as usize);
            let n = (&mut f)
                .take(want as u64)
                .read_buf(&mut buf)
                .await
                .map_err(|err| CopyError::io("cannot read", &shown, &err))?;
            if n == 0 {
                return Err(CopyError::local(
                    ErrorCode::IO,
                    format!("{} shrank while being copied", escape(&shown)),
                ));
            }
            hasher.update(&buf[..n]);
            left -= n as u64;
            let chunk: Bytes = buf.split().freeze();
            write_idle(w, &Frame::Data(chunk), idle, &e.rel).await?;
            p.bytes_done += n as u64;
            if let Some(cb) = progress.as_mut() {
                cb(&p);
            }
        }
        let sha256: [u8; 32] = hasher.finalize().into();
        write_idle(w, &Frame::FileEnd { sha256 }, idle, &e.rel).await?;
        p.files_done += 1;
        summary.files += 1;
        summary.bytes += e.size;
        if let Some(cb) = progress.as_mut() {
            cb(&p);
        }
    }
    write_idle(w, &Frame::CopyEnd, idle, "").await?;
    match tokio::time::timeout(idle, w.flush()).await {
        Ok(r) => r?,
        Err(_) => return Err(idle_error(idle, "took nothing", "")),
    }
    Ok(summary)
}

/// Checks a relative path of the copy stream: `/`-separated normal components only,
/// each a name this platform can create as itself (on Windows: no reserved device
/// name, no `\` or `:`..., see `fsat::windows_name_problem`).
pub(crate) fn check_rel(rel: &str) -> Result<Vec<&str>, CopyError> {
    let parts: Vec<&str> = rel.split('/').collect();
    if parts
        .iter()
        .any(|c| c.is_empty() || *c == "." || *c == "..")
    {
        return Err(CopyError::protocol(format!(
            "invalid path in copy stream: \"{}\"",
            escape(rel)
        )));
    }
    for c in &parts {
        if let Err(why) = fsat::check_name(c) {
            return Err(CopyError::protocol(format!(
                "invalid name in copy stream: \"{}\" ({why})",
                escape(rel)
            )));
        }
    }
    Ok(parts)
}

/// Lower-case hex.
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
