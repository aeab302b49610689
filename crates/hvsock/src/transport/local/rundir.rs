//! The runtime directory: where local listeners' Unix sockets live, and how a bind
//! claims a socket path.
//!
//! Layout: `RUNTIME/<folder>/<service>.<selector>` where `<folder>` is `host` for the
//! root partition or `p-<id>` for a local partition, and ids are written in 26-character
//! base32 (so paths fit the 108-byte `sun_path`). Next to each socket, `<socket>.lock`
//! is held with `flock` by the listener for its whole life: a held lock means a live
//! listener (AddrInUse); a free one means whatever socket file is there is stale and is
//! replaced.

use crate::addr::ServiceId;
use crate::addr::guid::Guid;
use crate::policy::{Folder, Selector};
use socket2::{Domain, SockAddr, Socket, Type};
use std::fs::{File, OpenOptions};
use std::io::{self, ErrorKind};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Mode of the runtime dir and its partition folders: the owner only...
pub const DIR_MODE: u32 = 0o700;
/// ...or, with `group` set in `hvsock.toml`, the owner and that group.
pub const GROUP_DIR_MODE: u32 = 0o750;
/// Mode of listener sockets (the folders above are what restricts access).
pub const SOCKET_MODE: u32 = 0o660;

const B32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// A GUID in 26 lowercase base32 characters (RFC 4648 alphabet, no padding).
pub(crate) fn b32(g: Guid) -> String {
    let v = g.to_u128();
    // The first character carries the top 3 bits, the other 25 five bits each.
    (0..26)
        .map(|i| {
            let shift = 125 - 5 * i;
            let bits = if shift >= 0 {
                (v >> shift) & 31
            } else {
                (v << (-shift)) & 31
            };
            B32[bits as usize] as char
        })
        .collect()
}

fn folder_name(f: Folder) -> String {
    match f {
        Folder::Root => "host".into(),
        Folder::Local(id) => format!("p-{}", b32(id.0)),
    }
}

fn selector_name(s: Selector) -> String {
    match s {
        Selector::Any => "any".into(),
        Selector::Children => "children".into(),
        Selector::Loopback => "loopback".into(),
        Selector::Parent => "parent".into(),
        Selector::Id(id) => b32(id.0),
    }
}

/// The folder of a partition.
pub(crate) fn folder_path(runtime: &Path, f: Folder) -> PathBuf {
    runtime.join(folder_name(f))
}

/// The socket path of a local listener.
pub(crate) fn socket_path(runtime: &Path, f: Folder, service: ServiceId, sel: Selector) -> PathBuf {
    folder_path(runtime, f).join(format!("{}.{}", b32(service.0), selector_name(sel)))
}

/// Checks that an existing runtime dir (or folder) `d` was not set up by someone else:
/// it belongs to this user or root (or, with `group` configured, to that group), and
/// not every user may write to it. Whoever controls it controls the sockets inside: a
/// `/tmp/hvsock-UID` made in advance by another user would let them stand in for any
/// listener. A missing dir passes. `gid` gives the configured group when needed.
pub(crate) fn check_trusted(
    d: &Path,
    gid: impl FnOnce() -> io::Result<Option<u32>>,
) -> io::Result<()> {
    let m = match std::fs::metadata(d) {
        Ok(m) => m,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io::Error::new(e.kind(), format!("{}: {e}", d.display()))),
    };
    let me = crate::sys::geteuid();
    if m.uid() != me && m.uid() != 0 && gid()? != Some(m.gid()) {
        return Err(io::Error::new(
            ErrorKind::PermissionDenied,
            format!(
                "{} belongs to uid {}, not to this user ({me}) or root, so its owner could \
                 replace the sockets in it; remove it, or give it to the `group` of hvsock.toml",
                d.display(),
                m.uid()
            ),
        ));
    }
    if m.mode() & 0o002 != 0 {
        return Err(io::Error::new(
            ErrorKind::PermissionDenied,
            format!(
                "{} is writable by every user (mode {:o}), so anyone could replace the \
                 sockets in it; make it 0700 (0750 with `group`)",
                d.display(),
                m.mode() & 0o7777
            ),
        ));
    }
    Ok(())
}

/// Creates the runtime dir `root` and its folder `dir` if missing: mode
/// [`DIR_MODE`], or [`GROUP_DIR_MODE`] owned by group `gid`. Existing folders keep
/// their owner and mode (an administrator may have set them up), but must pass
/// [`check_trusted`].
pub(crate) fn ensure_dirs(root: &Path, dir: &Path, gid: Option<u32>) -> io::Result<()> {
    for d in [root, dir] {
        if d.is_dir() {
            check_trusted(d, || Ok(gid))?;
            continue;
        }
        let mode = if gid.is_some() {
            GROUP_DIR_MODE
        } else {
            DIR_MODE
        };
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(mode)
            .create(d)
            .map_err(|e| io::Error::new(e.kind(), format!("cannot create {}: {e}", d.display())))?;
        // The umask may have narrowed the mode; set it exactly.
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(mode))?;
        if let Some(g) = gid {
            std::os::unix::fs::chown(d, None, Some(g)).map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("cannot give {} to group {g}: {e}", d.display()),
                )
            })?;
        }
    }
    Ok(())
}

/// A bound, listening Unix socket that owns its path: dropping it removes the socket
/// file (unless systemd made it) and its lock file.
#[derive(Debug)]
pub(crate) struct ClaimedSocket {
    pub socket: Socket,
    path: PathBuf,
    lock_path: PathBuf,
    _lock: File,
    /// The socket file is systemd's (socket activation): it stays for the next start.
    adopted: bool,
}

impl ClaimedSocket {
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ClaimedSocket {
    fn drop(&mut self) {
        // Still holding the lock, so no new owner can be racing us for these paths.
        if !self.adopted {
            let _ = std::fs::remove_file(&self.path);
        }
        let _ = std::fs::remove_file(&self.lock_path);
    }
}

/// Whether `e` means "someone else holds it".
pub(crate) fn is_in_use(e: &io::Error) -> bool {
    e.kind() == ErrorKind::AddrInUse
}

/// Takes the lock file of the socket `path`: `AddrInUse` while a live listener holds it.
fn lock(path: &Path) -> io::Result<(PathBuf, File)> {
    let mut lock_name = path.as_os_str().to_owned();
    lock_name.push(".lock");
    let lock_path = PathBuf::from(lock_name);
    let lock = loop {
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(crate::sys::O_CLOEXEC)
            .open(&lock_path)
            .map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("cannot open {}: {e}", lock_path.display()),
                )
            })?;
        match f.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(io::Error::new(
                    ErrorKind::AddrInUse,
                    format!("{} is held by a live listener", path.display()),
                ));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(e),
        }
        // The previous owner may have removed the lock file between our open and lock:
        // then we hold a lock on an orphan inode, so start again.
        match std::fs::metadata(&lock_path) {
            Ok(m) if m.ino() == f.metadata()?.ino() => break f,
            _ => continue,
        }
    };
    Ok((lock_path, lock))
}

/// A listening socket at `path` that systemd bound (socket activation), claimed like
/// [`claim`] but left in place on drop.
pub(crate) fn adopt(socket: Socket, path: &Path) -> io::Result<ClaimedSocket> {
    let (lock_path, lock) = lock(path)?;
    socket.set_nonblocking(true)?;
    Ok(ClaimedSocket {
        socket,
        path: path.to_owned(),
        lock_path,
        _lock: lock,
        adopted: true,
    })
}

/// Binds and listens on `path`, claiming it with its lock file. A path held by a live
/// listener gives `AddrInUse`; a stale socket file is replaced.
pub(crate) fn claim(path: &Path, backlog: i32) -> io::Result<ClaimedSocket> {
    let (lock_path, lock) = lock(path)?;
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => return Err(io::Error::new(e.kind(), format!("{}: {e}", path.display()))),
    }
    let socket = Socket::new(Domain::UNIX, Type::STREAM.cloexec(), None)?;
    let addr = SockAddr::unix(path).map_err(|e| path_error(path, e))?;
    socket.bind(&addr).map_err(|e| path_error(path, e))?;
    socket.listen(backlog)?;
    // Listeners are drained in batches from an epoll loop.
    socket.set_nonblocking(true)?;
    Ok(ClaimedSocket {
        socket,
        path: path.to_owned(),
        lock_path,
        _lock: lock,
        adopted: false,
    })
}

/// Adds the path to an error about it, and explains the classic too-long case.
pub(crate) fn path_error(path: &Path, e: io::Error) -> io::Error {
    if path.as_os_str().len() >= 108 {
        return io::Error::new(
            ErrorKind::InvalidInput,
            format!(
                "socket path {} is longer than the 107 bytes a Unix socket allows; use a shorter HVSOCK_RUNTIME_DIR",
                path.display()
            ),
        );
    }
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

/// Makes a listener's socket file connectable by the runtime dir's group.
pub(crate) fn set_socket_access(path: &Path, gid: Option<u32>) -> io::Result<()> {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(SOCKET_MODE))?;
    if let Some(g) = gid {
        std::os::unix::fs::chown(path, None, Some(g))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn b32_is_26_chars_and_injective() {
        let mut seen = HashSet::new();
        for v in [0u128, 1, u128::MAX, 1 << 127, 0x1234_5678_9abc_def0] {
            let s = b32(Guid::from_u128(v));
            assert_eq!(s.len(), 26);
            assert!(seen.insert(s));
        }
        assert_eq!(b32(Guid::ZERO), "a".repeat(26));
        assert_eq!(
            b32(Guid::from_u128(u128::MAX)),
            format!("h{}", "7".repeat(25))
        );
    }

    #[test]
    fn claim_is_exclusive_and_replaces_stale_files() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("s");
        let a = claim(&p, 8).unwrap();
        assert_eq!(claim(&p, 8).unwrap_err().kind(), ErrorKind::AddrInUse);
        drop(a);
        assert!(!p.exists());
        // A stale socket file (its listener gone without cleanup) does not block.
        let stale = std::os::unix::net::UnixListener::bind(&p).unwrap();
        drop(stale);
        assert!(p.exists());
        let b = claim(&p, 8).unwrap();
        std::os::unix::net::UnixStream::connect(b.path()).unwrap();
    }
}
