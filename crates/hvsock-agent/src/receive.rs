//! Receiving a copy stream from a peer that may be hostile.
//!
//! The receiver accepts only what it asked for ([`Expect`]): the announced totals come
//! first and are never exceeded, the first entry is the expected root, a non-recursive
//! copy is exactly one `File`, every later entry lies in a directory this stream sent
//! before it, and no path comes twice (on Windows, twice in any case: `a` and `A` are one
//! name there). Everything is created beneath the destination directory's fd or handle
//! ([`Dest`], opened once) with no link followed, files with `O_TMPFILE`/`O_EXCL` (on
//! Windows `FILE_CREATE`) and renamed within their directory; modes are masked with the umask;
//! directories that existed before keep their mode; directories a failed copy created
//! are removed if empty (else given their final mode).

use crate::framed::FrameReader;
use crate::fsat::{self, Dir, Kind, name_key};
use crate::pending::PendingFile;
use crate::proto::{ErrorCode, Frame};
use crate::tree::{
    CopyError, CopySummary, Progress, ProgressFn, check_rel, escape, hex, idle_error,
};
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWriteExt};

mod dest;
pub use dest::{Dest, Expect};

/// A directory this copy created: removed on failure if empty, else given its mode.
struct Created {
    /// Its path below the root (empty: the root itself).
    inner: String,
    /// Its final (masked) mode.
    mode: u32,
}

/// The tree being received, once its root entry has come.
struct Tree<'a> {
    dest: &'a Dest,
    /// The stream's root name.
    root: String,
    /// The root's name in `dest.dir`.
    target: OsString,
    /// The root directory (a directory copy).
    root_fd: Option<Dir>,
    /// Stream paths of the directories of this copy (entries may go only into these),
    /// as [`name_key`]s.
    dirs: HashSet<String>,
    /// Every stream path seen, as a [`name_key`].
    seen: HashSet<String>,
    created: Vec<Created>,
    /// The last parent directory opened: (path below the root, its handle).
    cache: Option<(String, Dir)>,
    done: bool,
}

impl<'a> Tree<'a> {
    /// Starts the tree with its root entry (`parts`: its checked path).
    fn start(
        dest: &'a Dest,
        expect: &Expect,
        parts: &[&str],
        is_dir: bool,
    ) -> Result<Tree<'a>, CopyError> {
        if parts.len() != 1 {
            return Err(CopyError::protocol(
                "the first entry of a copy stream must be its root",
            ));
        }
        if let Some(want) = &expect.root
            && want != parts[0]
        {
            return Err(CopyError::protocol(format!(
                "the copy stream's root \"{}\" is not the requested \"{}\"",
                escape(parts[0]),
                escape(want)
            )));
        }
        let target = dest.name.clone().unwrap_or_else(|| parts[0].into());
        let mut t = Tree {
            dest,
            root: parts[0].to_string(),
            target,
            root_fd: None,
            dirs: HashSet::new(),
            seen: HashSet::from([name_key(parts[0])]),
            created: Vec::new(),
            cache: None,
            done: false,
        };
        if is_dir {
            t.dirs.insert(name_key(&t.root));
        }
        Ok(t)
    }

    fn shown(&self, inner: &str) -> String {
        let base = match &self.dest.name {
            Some(_) => self.dest.shown.clone(),
            None => format!("{}/{}", self.dest.shown, self.root),
        };
        if inner.is_empty() {
            base
        } else {
            format!("{base}/{inner}")
        }
    }

    /// Checks a later entry: inside the tree, new, in a directory of this copy.
    /// Returns (parent below the root, name).
    fn locate<'p>(
        &mut self,
        path: &str,
        parts: &[&'p str],
    ) -> Result<(String, &'p str), CopyError> {
        if parts[0] != self.root {
            return Err(CopyError::protocol(format!(
                "copy stream entry \"{}\" is outside the tree \"{}\"",
                escape(path),
                escape(&self.root)
            )));
        }
        if !self.seen.insert(name_key(path)) {
            return Err(CopyError::protocol(format!(
                "\"{}\" comes twice in the copy stream",
                escape(path)
            )));
        }
        let (name, dirs) = parts.split_last().expect("not empty");
        if !self.dirs.contains(&name_key(&dirs.join("/"))) {
            return Err(CopyError::protocol(format!(
                "\"{}\" is not inside a directory of this copy",
                escape(path)
            )));
        }
        Ok((dirs[1..].join("/"), name))
    }

    /// The directory `inner` below the root.
    fn parent(&mut self, inner: &str) -> Result<&Dir, CopyError> {
        let Some(root) = &self.root_fd else {
            return Ok(&self.dest.dir);
        };
        if inner.is_empty() {
            return Ok(root);
        }
        if self.cache.as_ref().is_none_or(|(k, _)| k != inner) {
            // The old one first: on Windows an open handle keeps its directory in place.
            self.cache = None;
            let root = self.root_fd.as_ref().expect("checked");
            let dir = fsat::open_dir(root, inner)
                .map_err(|e| CopyError::io("cannot open directory", &self.shown(inner), &e))?;
            self.cache = Some((inner.to_string(), dir));
        }
        Ok(&self.cache.as_ref().expect("set").1)
    }

    /// Creates (or finds, if it existed: its mode is left alone) the directory `name`
    /// of `parent`.
    fn make_dir(
        &mut self,
        parent: &str,
        name: &OsStr,
        inner: String,
        mode: u32,
    ) -> Result<(), CopyError> {
        let shown = self.shown(&inner);
        let dest: &'a Dest = self.dest;
        let created = {
            let at = if inner.is_empty() {
                &dest.dir
            } else {
                self.parent(parent)?
            };
            // Writable until the copy ends; the real mode comes last.
            let created = fsat::mkdir(at, name)
                .map_err(|e| CopyError::io("cannot create directory", &shown, &e))?;
            if !created && fsat::kind_of(at, name).ok().flatten() != Some(Kind::Dir) {
                return Err(CopyError::local(
                    ErrorCode::BAD_REQUEST,
                    format!("{} exists and is not a directory", escape(&shown)),
                ));
            }
            created
        };
        // Recorded at once: if what follows fails, the new directory is still undone.
        if created {
            self.created.push(Created {
                inner: inner.clone(),
                mode: fsat::mask_mode(mode),
            });
        }
        if inner.is_empty() {
            let fd = fsat::open_child_dir(&dest.dir, name)
                .map_err(|e| CopyError::io("cannot open directory", &shown, &e))?;
            self.root_fd = Some(fd);
        }
        Ok(())
    }

    /// A `Dir` entry after the root.
    fn dir(&mut self, path: &str, parts: &[&str], mode: u32) -> Result<(), CopyError> {
        let (parent, name) = self.locate(path, parts)?;
        let inner = if parent.is_empty() {
            name.to_string()
        } else {
            format!("{parent}/{name}")
        };
        self.make_dir(&parent, OsStr::new(name), inner, mode)?;
        self.dirs.insert(name_key(path));
        Ok(())
    }

    /// Opens the temp file for the file entry `parts` (the root if `root`).
    fn create_file(
        &mut self,
        path: &str,
        parts: &[&str],
        root: bool,
    ) -> Result<(std::fs::File, PendingFile, OsString, String), CopyError> {
        let (parent, name) = if root {
            (String::new(), self.target.clone())
        } else {
            let (p, n) = self.locate(path, parts)?;
            (p, OsString::from(n))
        };
        let shown = if root {
            self.shown("")
        } else {
            self.shown(&parts[1..].join("/"))
        };
        let at = self.parent(&parent)?;
        if fsat::kind_of(at, &name).ok().flatten() == Some(Kind::Dir) {
            return Err(CopyError::local(
                ErrorCode::BAD_REQUEST,
                format!("{} is a directory", escape(&shown)),
            ));
        }
        let (file, pending) = PendingFile::create_in(at)
            .map_err(|e| CopyError::io("cannot create a file for", &shown, &e))?;
        Ok((file, pending, name, shown))
    }

    /// The copy is complete: directories it created get their modes, deepest first.
    fn finish(&mut self) -> Result<(), CopyError> {
        for c in self.created.iter().rev() {
            let shown = self.shown(&c.inner);
            let root = self
                .root_fd
                .as_ref()
                .expect("a created directory means a directory root");
            let r = fsat::open_dir(root, &c.inner).and_then(|d| fsat::set_dir_mode(&d, c.mode));
            r.map_err(|e| CopyError::io("cannot set the mode of", &shown, &e))?;
        }
        self.done = true;
        Ok(())
    }

    /// The copy failed: directories it created are removed if empty, else given their
    /// mode (never left 0700). Deepest first; all through dir fds.
    fn undo(&mut self) {
        self.cache = None;
        let mut root = self.root_fd.take();
        for c in self.created.iter().rev() {
            if c.inner.is_empty() {
                // Windows cannot remove a directory this process holds open (without
                // FILE_SHARE_DELETE) and applies no directory modes: let go of it.
                if cfg!(windows) {
                    root = None;
                }
                if fsat::rmdir(&self.dest.dir, &self.target).is_err()
                    && let Some(r) = &root
                {
                    let _ = fsat::set_dir_mode(r, c.mode);
                }
                continue;
            }
            let Some(r) = &root else { continue };
            let (parent, name) = c.inner.rsplit_once('/').unwrap_or(("", c.inner.as_str()));
            let removed = fsat::open_dir(r, parent)
                .and_then(|p| fsat::rmdir(&p, OsStr::new(name)))
                .is_ok();
            if !removed {
                let _ = fsat::open_dir(r, &c.inner).and_then(|d| fsat::set_dir_mode(&d, c.mode));
            }
        }
    }
}

impl Drop for Tree<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.undo();
        }
    }
}

struct OpenFile {
    rel: String,
    shown: String,
    name: OsString,
    file: tokio::fs::File,
    pending: PendingFile,
    hasher: Sha256,
    left: u64,
    mode: u32,
    size: u64,
}

/// The next frame, or an error after `idle` of silence (naming `what`).
async fn next<R: AsyncRead + Unpin>(
    r: &mut FrameReader<R>,
    idle: Duration,
    what: &str,
) -> Result<Frame, CopyError> {
    match tokio::time::timeout(idle, r.read_frame()).await {
        Err(_) => Err(idle_error(idle, "sent nothing", what)),
        Ok(Ok(Some(f))) => Ok(f),
        Ok(Ok(None)) => Err(CopyError::local(
            ErrorCode::IO,
            "connection closed in the middle of the copy",
        )),
        Ok(Err(e)) => Err(e.into()),
    }
}

/// Receives a copy stream (starting after the request frame) into `dest`, accepting
/// only a stream that matches `expect` (see the module documentation). Each file is
/// written to a temp file in its destination directory (anonymous, `O_TMPFILE`, where
/// supported: nothing is left if the receiver is killed), verified against the sender's
/// SHA-256, fsynced and renamed into place; on any failure (including the connection
/// dropping) the temp file is removed, and so are the directories this copy created
/// that are still empty.
///
/// Returns after `CopyEnd`, without sending `CopyDone` (the caller does).
pub async fn receive_tree<R: AsyncRead + Unpin>(
    r: &mut FrameReader<R>,
    dest: &Dest,
    expect: &Expect,
    mut progress: Option<ProgressFn<'_>>,
) -> Result<CopySummary, CopyError> {
    let idle = expect.idle_timeout;
    let mut p = Progress::default();
    match next(r, idle, "").await? {
        Frame::CopyTotal { files, bytes } => {
            p.files_total = files;
            p.bytes_total = bytes;
        }
        Frame::Error { code, message } => return Err(CopyError::Remote { code, message }),
        other => {
            return Err(CopyError::protocol(format!(
                "expected CopyTotal, got a {} frame",
                other.name()
            )));
        }
    }
    let mut summary = CopySummary::default();
    let (mut files_seen, mut bytes_announced) = (0u64, 0u64);
    // Declared before `open`: dropped after it (a temp file goes before its directory).
    let mut tree: Option<Tree<'_>> = None;
    let mut open: Option<OpenFile> = None;
    let result = async {
        loop {
            let what = open.as_ref().map_or(p.path.as_str(), |f| f.rel.as_str());
            let frame = next(r, idle, what).await?;
            match frame {
                Frame::Dir { path, mode } if open.is_none() => {
                    let parts = check_rel(&path)?;
                    if !expect.recursive {
                        return Err(CopyError::protocol(format!(
                            "directory \"{}\" in the stream of a non-recursive copy",
                            escape(&path)
                        )));
                    }
                    match tree.as_mut() {
                        None => {
                            let t = tree.insert(Tree::start(dest, expect, &parts, true)?);
                            let target = t.target.clone();
                            t.make_dir("", &target, String::new(), mode)?;
                        }
                        Some(t) => t.dir(&path, &parts, mode)?,
                    }
                    summary.dirs += 1;
                }
                Frame::File { path, mode, size } if open.is_none() => {
                    let parts = check_rel(&path)?;
                    files_seen += 1;
                    if files_seen > p.files_total {
                        return Err(CopyError::protocol(format!(
                            "\"{}\": more files than the {} announced",
                            escape(&path),
                            p.files_total
                        )));
                    }
                    if size > p.bytes_total - bytes_announced {
                        return Err(CopyError::protocol(format!(
                            "\"{}\": its {size} bytes exceed the {} announced for the copy",
                            escape(&path),
                            p.bytes_total
                        )));
                    }
                    bytes_announced += size;
                    let root = tree.is_none();
                    let t = match tree.as_mut() {
                        Some(t) => t,
                        None => tree.insert(Tree::start(dest, expect, &parts, false)?),
                    };
                    let (file, pending, name, shown) = t.create_file(&path, &parts, root)?;
                    p.path = path.clone();
                    open = Some(OpenFile {
                        rel: path,
                        shown,
                        name,
                        file: tokio::fs::File::from_std(file),
                        pending,
                        hasher: Sha256::new(),
                        left: size,
                        mode: fsat::mask_mode(mode),
                        size,
                    });
                }
                Frame::Data(data) if open.is_some() => {
                    let f = open.as_mut().expect("checked");
                    if data.len() as u64 > f.left {
                        return Err(CopyError::protocol(format!(
                            "\"{}\": more data than its announced size {}",
                            escape(&f.rel),
                            f.size
                        )));
                    }
                    f.left -= data.len() as u64;
                    f.hasher.update(&data);
                    f.file
                        .write_all(&data)
                        .await
                        .map_err(|e| CopyError::io("cannot write", &f.shown, &e))?;
                    p.bytes_done += data.len() as u64;
                    if let Some(cb) = progress.as_mut() {
                        cb(&p);
                    }
                }
                Frame::FileEnd { sha256 } if open.is_some() => {
                    let mut f = open.take().expect("checked");
                    if f.left != 0 {
                        return Err(CopyError::protocol(format!(
                            "\"{}\": {} bytes short of its announced size",
                            escape(&f.rel),
                            f.left
                        )));
                    }
                    let got: [u8; 32] = f.hasher.finalize().into();
                    if got != sha256 {
                        return Err(CopyError::local(
                            ErrorCode::INTEGRITY,
                            format!(
                                "{}: SHA-256 mismatch (sent {}, received {}); not written",
                                escape(&f.rel),
                                hex(&sha256),
                                hex(&got)
                            ),
                        ));
                    }
                    f.file
                        .flush()
                        .await
                        .map_err(|e| CopyError::io("cannot write", &f.shown, &e))?;
                    let file = f.file.into_std().await;
                    let (shown, name, pending) = (f.shown, f.name, f.pending);
                    let mode = f.mode;
                    tokio::task::spawn_blocking(move || -> Result<(), CopyError> {
                        fsat::set_file_mode(&file, mode)
                            .map_err(|e| CopyError::io("cannot set the mode of", &shown, &e))?;
                        file.sync_all()
                            .map_err(|e| CopyError::io("cannot sync", &shown, &e))?;
                        pending
                            .persist(file, &name)
                            .map_err(|e| CopyError::io("cannot rename into", &shown, &e))
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
                    let Some(t) = tree.as_mut() else {
                        return Err(CopyError::protocol("empty copy stream"));
                    };
                    if (files_seen, bytes_announced) != (p.files_total, p.bytes_total) {
                        return Err(CopyError::protocol(format!(
                            "the copy stream announced {} files and {} bytes but sent {files_seen} \
                         files and {bytes_announced} bytes",
                            p.files_total, p.bytes_total
                        )));
                    }
                    t.finish()?;
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
    .await;
    // A temp file being written when the copy failed: its handle is closed (once any
    // write still in flight in tokio's blocking pool is done) before it is removed and
    // before the tree is undone, as Windows removes a name only when its last handle
    // closes, and a directory holding it is not empty until then.
    if let Some(f) = open.take() {
        drop(f.file.into_std().await);
        drop(f.pending);
    }
    drop(tree);
    result
}
