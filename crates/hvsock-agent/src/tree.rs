//! File-copy streams, shared by the agent and the client: sending a file or directory
//! tree as `CopyTotal, (Dir | File Data* FileEnd)*, CopyEnd`, and receiving one with
//! per-file SHA-256 verification and temp file + fsync + rename.

use crate::framed::{FrameError, FrameReader, FrameWriter};
use crate::pending::PendingFile;
use crate::proto::{DATA_CHUNK, ErrorCode, Frame};
use bytes::{Bytes, BytesMut};
use sha2::{Digest, Sha256};
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

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

    pub(crate) fn io(what: &str, path: &Path, e: &io::Error) -> CopyError {
        let code = match e.kind() {
            io::ErrorKind::NotFound => ErrorCode::NOT_FOUND,
            io::ErrorKind::PermissionDenied => ErrorCode::PERMISSION_DENIED,
            _ => ErrorCode::IO,
        };
        CopyError::local(code, format!("{what} {}: {}", path.display(), strip_os(e)))
    }

    fn protocol(message: impl Into<String>) -> CopyError {
        CopyError::local(ErrorCode::BAD_REQUEST, message)
    }
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
    rel: String,
    abs: PathBuf,
    is_dir: bool,
    mode: u32,
    size: u64,
}

fn utf8_name(p: &Path) -> Result<String, CopyError> {
    p.to_str().map(str::to_string).ok_or_else(|| {
        CopyError::local(
            ErrorCode::BAD_REQUEST,
            format!("{}: file names must be UTF-8", p.display()),
        )
    })
}

/// Lists what a copy of `src` sends, in order (directories before their contents).
fn walk(src: &Path, recursive: bool) -> Result<(Vec<Entry>, u64), CopyError> {
    let meta = std::fs::metadata(src).map_err(|e| CopyError::io("cannot read", src, &e))?;
    let root_name = match src.file_name() {
        Some(n) => utf8_name(Path::new(n))?,
        None => {
            let canon = src
                .canonicalize()
                .map_err(|e| CopyError::io("cannot resolve", src, &e))?;
            match canon.file_name() {
                Some(n) => utf8_name(Path::new(n))?,
                None => "root".to_string(),
            }
        }
    };
    let mut out = Vec::new();
    let mut skipped = 0;
    if meta.is_file() {
        out.push(Entry {
            rel: root_name,
            abs: src.to_path_buf(),
            is_dir: false,
            mode: meta.permissions().mode() & MODE_MASK,
            size: meta.len(),
        });
    } else if meta.is_dir() {
        if !recursive {
            return Err(CopyError::local(
                ErrorCode::BAD_REQUEST,
                format!("{} is a directory (use -r)", src.display()),
            ));
        }
        out.push(Entry {
            rel: root_name.clone(),
            abs: src.to_path_buf(),
            is_dir: true,
            mode: meta.permissions().mode() & MODE_MASK,
            size: 0,
        });
        walk_dir(src, &root_name, &mut out, &mut skipped)?;
    } else {
        return Err(CopyError::local(
            ErrorCode::BAD_REQUEST,
            format!("{} is not a regular file or directory", src.display()),
        ));
    }
    Ok((out, skipped))
}

fn walk_dir(
    dir: &Path,
    rel: &str,
    out: &mut Vec<Entry>,
    skipped: &mut u64,
) -> Result<(), CopyError> {
    let rd = std::fs::read_dir(dir).map_err(|e| CopyError::io("cannot read directory", dir, &e))?;
    let mut items = Vec::new();
    for item in rd {
        let item = item.map_err(|e| CopyError::io("cannot read directory", dir, &e))?;
        items.push(item);
    }
    items.sort_by_key(|i| i.file_name());
    for item in items {
        let abs = item.path();
        let name = utf8_name(Path::new(&item.file_name()))?;
        let child_rel = format!("{rel}/{name}");
        let meta =
            std::fs::symlink_metadata(&abs).map_err(|e| CopyError::io("cannot read", &abs, &e))?;
        let mode = meta.permissions().mode() & MODE_MASK;
        if meta.is_dir() {
            out.push(Entry {
                rel: child_rel.clone(),
                abs: abs.clone(),
                is_dir: true,
                mode,
                size: 0,
            });
            walk_dir(&abs, &child_rel, out, skipped)?;
        } else if meta.is_file() {
            out.push(Entry {
                rel: child_rel,
                abs,
                is_dir: false,
                mode,
                size: meta.len(),
            });
        } else {
            *skipped += 1;
        }
    }
    Ok(())
}

/// Sends `src` (a file, or with `recursive` a directory tree) as a copy stream, up to
/// and including `CopyEnd`.
pub async fn send_tree<W: AsyncWrite + Unpin>(
    w: &mut FrameWriter<W>,
    src: &Path,
    recursive: bool,
    mut progress: Option<ProgressFn<'_>>,
) -> Result<CopySummary, CopyError> {
    let src_owned = src.to_path_buf();
    let (entries, skipped) = tokio::task::spawn_blocking(move || walk(&src_owned, recursive))
        .await
        .map_err(|e| CopyError::local(ErrorCode::IO, format!("walk failed: {e}")))??;
    let files_total = entries.iter().filter(|e| !e.is_dir).count() as u64;
    let bytes_total = entries.iter().map(|e| e.size).sum();
    w.write_frame(&Frame::CopyTotal {
        files: files_total,
        bytes: bytes_total,
    })
    .await?;
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
            w.write_frame(&Frame::Dir {
                path: e.rel,
                mode: e.mode,
            })
            .await?;
            summary.dirs += 1;
            continue;
        }
        let mut f = tokio::fs::File::open(&e.abs)
            .await
            .map_err(|err| CopyError::io("cannot open", &e.abs, &err))?;
        w.write_frame(&Frame::File {
            path: e.rel.clone(),
            mode: e.mode,
            size: e.size,
        })
        .await?;
        p.path = e.rel;
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
                .map_err(|err| CopyError::io("cannot read", &e.abs, &err))?;
            if n == 0 {
                return Err(CopyError::local(
                    ErrorCode::IO,
                    format!("{} shrank while being copied", e.abs.display()),
                ));
            }
            hasher.update(&buf[..n]);
            left -= n as u64;
            let chunk: Bytes = buf.split().freeze();
            w.write_frame(&Frame::Data(chunk)).await?;
            p.bytes_done += n as u64;
            if let Some(cb) = progress.as_mut() {
                cb(&p);
            }
        }
        let sha256: [u8; 32] = hasher.finalize().into();
        w.write_frame(&Frame::FileEnd { sha256 }).await?;
        p.files_done += 1;
        summary.files += 1;
        summary.bytes += e.size;
        if let Some(cb) = progress.as_mut() {
            cb(&p);
        }
    }
    w.write_frame(&Frame::CopyEnd).await?;
    w.flush().await?;
    Ok(summary)
}

/// Checks a relative path of the copy stream: `/`-separated normal components only.
fn check_rel(rel: &str) -> Result<Vec<&str>, CopyError> {
    let parts: Vec<&str> = rel.split('/').collect();
    if parts
        .iter()
        .any(|c| c.is_empty() || *c == "." || *c == "..")
    {
        return Err(CopyError::protocol(format!(
            "invalid path in copy stream: {rel:?}"
        )));
    }
    Ok(parts)
}

struct OpenFile {
    rel: String,
    dest: PathBuf,
    file: tokio::fs::File,
    pending: PendingFile,
    hasher: Sha256,
    left: u64,
    mode: u32,
    size: u64,
}

/// Where the root entry and its children go.
struct Target {
    root: String,
    /// `true`: entries go inside `dst` (`dst/<root>/...`); `false`: the root becomes `dst`.
    inside: bool,
    dst: PathBuf,
}

impl Target {
    fn map(&self, parts: &[&str]) -> Result<PathBuf, CopyError> {
        if parts[0] != self.root {
            return Err(CopyError::protocol(format!(
                "copy stream entry {:?} is outside the tree {:?}",
                parts.join("/"),
                self.root
            )));
        }
        let mut p = self.dst.clone();
        let skip = if self.inside { 0 } else { 1 };
        for c in &parts[skip..] {
            p.push(c);
        }
        Ok(p)
    }
}

fn sync_dir(dir: &Path) {
    // Durability of the rename; failures (e.g. on filesystems that refuse directory
    // fsync) are not errors of the copy.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Receives a copy stream (starting after the request frame) into `dst`, like `cp`:
/// if `dst` is an existing directory the tree goes inside it, otherwise the tree's root
/// becomes `dst`. Each file is written to a temp file in its destination directory
/// (anonymous, `O_TMPFILE`, where supported: nothing is left if the receiver is
/// killed), verified against the sender's SHA-256, fsynced and renamed into place; on
/// any failure (including the connection dropping) the temp file is removed.
///
/// Returns after `CopyEnd`, without sending `CopyDone` (the caller does).
pub async fn receive_tree<R: AsyncRead + Unpin>(
    r: &mut FrameReader<R>,
    dst: &Path,
    mut progress: Option<ProgressFn<'_>>,
) -> Result<CopySummary, CopyError> {
    let mut target: Option<Target> = None;
    let mut open: Option<OpenFile> = None;
    let mut dir_modes: Vec<(PathBuf, u32)> = Vec::new();
    let mut summary = CopySummary::default();
    let mut p = Progress::default();
    loop {
        let frame = match r.read_frame().await? {
            Some(f) => f,
            None => {
                return Err(CopyError::local(
                    ErrorCode::IO,
                    "connection closed in the middle of the copy",
                ));
            }
        };
        match frame {
            Frame::CopyTotal { files, bytes } if target.is_none() => {
                p.files_total = files;
                p.bytes_total = bytes;
            }
            Frame::Dir { path, mode } if open.is_none() => {
                let parts = check_rel(&path)?;
                let t = root_target(&mut target, &parts, dst, true)?;
                let dest = t.map(&parts)?;
                match tokio::fs::symlink_metadata(&dest).await {
                    Ok(m) if m.is_dir() => {}
                    Ok(_) => {
                        return Err(CopyError::local(
                            ErrorCode::BAD_REQUEST,
                            format!("{} exists and is not a directory", dest.display()),
                        ));
                    }
                    Err(_) => {
                        tokio::fs::create_dir(&dest)
                            .await
                            .map_err(|e| CopyError::io("cannot create directory", &dest, &e))?;
                        // Writable until the copy ends; the real mode comes last.
                        let _ = tokio::fs::set_permissions(
                            &dest,
                            std::fs::Permissions::from_mode(0o700),
                        )
                        .await;
                    }
                }
                dir_modes.push((dest, mode & MODE_MASK));
                summary.dirs += 1;
            }
            Frame::File { path, mode, size } if open.is_none() => {
                let parts = check_rel(&path)?;
                let t = root_target(&mut target, &parts, dst, false)?;
                let dest = t.map(&parts)?;
                if let Ok(m) = tokio::fs::symlink_metadata(&dest).await
                    && m.is_dir()
                {
                    return Err(CopyError::local(
                        ErrorCode::BAD_REQUEST,
                        format!("{} is a directory", dest.display()),
                    ));
                }
                let parent = match dest.parent() {
                    Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                    _ => PathBuf::from("."),
                };
                let name = dest
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let parent2 = parent.clone();
                let (file, pending) =
                    tokio::task::spawn_blocking(move || PendingFile::create_in(&parent2, &name))
                        .await
                        .map_err(|e| CopyError::local(ErrorCode::IO, e.to_string()))?
                        .map_err(|e| CopyError::io("cannot create a file in", &parent, &e))?;
                p.path = path.clone();
                open = Some(OpenFile {
                    rel: path,
                    dest,
                    file: tokio::fs::File::from_std(file),
                    pending,
                    hasher: Sha256::new(),
                    left: size,
                    mode: mode & MODE_MASK,
                    size,
                });
            }
            Frame::Data(data) if open.is_some() => {
                let f = open.as_mut().expect("checked");
                if data.len() as u64 > f.left {
                    return Err(CopyError::protocol(format!(
                        "{}: more data than its announced size {}",
                        f.rel, f.size
                    )));
                }
                f.left -= data.len() as u64;
                f.hasher.update(&data);
                f.file
                    .write_all(&data)
                    .await
                    .map_err(|e| CopyError::io("cannot write", &f.dest, &e))?;
                p.bytes_done += data.len() as u64;
                if let Some(cb) = progress.as_mut() {
                    cb(&p);
                }
            }
            Frame::FileEnd { sha256 } if open.is_some() => {
                let mut f = open.take().expect("checked");
                if f.left != 0 {
                    return Err(CopyError::protocol(format!(
                        "{}: {} bytes short of its announced size",
                        f.rel, f.left
                    )));
                }
                let got: [u8; 32] = f.hasher.finalize().into();
                if got != sha256 {
                    return Err(CopyError::local(
                        ErrorCode::INTEGRITY,
                        format!(
                            "{}: SHA-256 mismatch (sent {}, received {}); not written",
                            f.rel,
                            hex(&sha256),
                            hex(&got)
                        ),
                    ));
                }
                f.file
                    .flush()
                    .await
                    .map_err(|e| CopyError::io("cannot write", &f.dest, &e))?;
                f.file
                    .set_permissions(std::fs::Permissions::from_mode(f.mode))
                    .await
                    .map_err(|e| CopyError::io("cannot set mode of", &f.dest, &e))?;
                f.file
                    .sync_all()
                    .await
                    .map_err(|e| CopyError::io("cannot sync", &f.dest, &e))?;
                let file = f.file.into_std().await;
                let dest = f.dest.clone();
                let pending = f.pending;
                tokio::task::spawn_blocking(move || -> Result<(), CopyError> {
                    pending.persist(file, &dest)?;
                    if let Some(parent) = dest.parent() {
                        sync_dir(if parent.as_os_str().is_empty() {
                            Path::new(".")
                        } else {
                            parent
                        });
                    }
                    Ok(())
                })
                .await
                .map_err(|e| CopyError::local(ErrorCode::IO, e.to_string()))??;
                summary.files += 1;
                summary.bytes += f.size;
                p.files_done += 1;
                if let Some(cb) = progress.as_mut() {
                    cb(&p);
                }
            }
            Frame::CopyEnd if open.is_none() => {
                if target.is_none() {
                    return Err(CopyError::protocol("empty copy stream"));
                }
                for (dir, mode) in dir_modes.iter().rev() {
                    tokio::fs::set_permissions(dir, std::fs::Permissions::from_mode(*mode))
                        .await
                        .map_err(|e| CopyError::io("cannot set mode of", dir, &e))?;
                }
                return Ok(summary);
            }
            Frame::Error { code, message } => return Err(CopyError::Remote { code, message }),
            other => {
                return Err(CopyError::protocol(format!(
                    "unexpected {} frame in copy stream",
                    other.name()
                )));
            }
        }
    }
}

fn root_target<'a>(
    target: &'a mut Option<Target>,
    parts: &[&str],
    dst: &Path,
    is_dir: bool,
) -> Result<&'a Target, CopyError> {
    if target.is_none() {
        if parts.len() != 1 {
            return Err(CopyError::protocol(
                "the first entry of a copy stream must be its root",
            ));
        }
        let inside = match std::fs::metadata(dst) {
            Ok(m) if m.is_dir() => true,
            Ok(_) if is_dir => {
                return Err(CopyError::local(
                    ErrorCode::BAD_REQUEST,
                    format!("{} exists and is not a directory", dst.display()),
                ));
            }
            _ => false,
        };
        *target = Some(Target {
            root: parts[0].to_string(),
            inside,
            dst: dst.to_path_buf(),
        });
    }
    Ok(target.as_ref().expect("just set"))
}

/// Lower-case hex.
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
