//! Process-wide cache of the registry, partition table and settings. Each use costs one
//! `stat` of the file; it is parsed again only when its inode, size or mtime changed
//! (every writer replaces the file by rename, so a change always shows).

use crate::partitions::PartitionTable;
use crate::paths::Dirs;
use crate::registry::Registry;
use std::any::Any;
use std::collections::HashMap;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

/// Identity of one version of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    dev: u64,
    ino: u64,
    size: u64,
    mtime_ns: i128,
}

fn stamp(path: &Path) -> io::Result<Option<Stamp>> {
    match std::fs::metadata(path) {
        Ok(m) => Ok(Some(Stamp {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime_ns: m.mtime() as i128 * 1_000_000_000 + m.mtime_nsec() as i128,
        })),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io::Error::new(e.kind(), format!("{}: {e}", path.display()))),
    }
}

type Entry = (Option<Stamp>, Arc<dyn Any + Send + Sync>);

fn cache() -> &'static Mutex<HashMap<PathBuf, Entry>> {
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, Entry>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

fn cached<T: Any + Send + Sync>(
    path: PathBuf,
    load: impl FnOnce(&Path) -> io::Result<T>,
) -> io::Result<Arc<T>> {
    let now = stamp(&path)?;
    if let Some((s, v)) = cache().lock().unwrap().get(&path)
        && *s == now
        && let Ok(v) = Arc::clone(v).downcast::<T>()
    {
        return Ok(v);
    }
    let value = Arc::new(load(&path)?);
    // Stamp taken before the read: a write racing with it only causes one more reload.
    cache()
        .lock()
        .unwrap()
        .insert(path, (now, value.clone() as Arc<dyn Any + Send + Sync>));
    Ok(value)
}

fn invalid(e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e.to_string())
}

/// The service registry as it is on disk now.
pub(crate) fn registry(dirs: &Dirs) -> io::Result<Arc<Registry>> {
    cached(dirs.services_file(), |p| {
        Registry::load_file(p).map_err(invalid)
    })
}

/// The partition table as it is on disk now.
pub(crate) fn table(dirs: &Dirs) -> io::Result<Arc<PartitionTable>> {
    cached(dirs.partitions_file(), |p| {
        PartitionTable::load_file(p).map_err(invalid)
    })
}

/// Settings from `hvsock.toml` in the config directory. Every key is optional:
///
/// ```toml
/// guest = true                        # inside a VM: PARENT is the host over AF_VSOCK
/// handshake_timeout_ms = 5000         # local peers must send their preamble in time
/// max_pending_handshakes = 256        # per listener
/// max_connections_per_partition = 1024 # per listener and peer partition
/// group = "hvsock"                    # members may reach local partitions
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// This machine is a VM guest: PARENT is the host over AF_VSOCK (CID 2).
    #[serde(default)]
    pub guest: bool,
    /// How long a listener waits for a local peer's preamble, in milliseconds
    /// (default 5000).
    pub handshake_timeout_ms: Option<u64>,
    /// Local handshakes one listener keeps in progress at once (default 256). When all
    /// are taken, the oldest is answered "busy" and closed to make room, so peers that
    /// never send their preamble cannot lock out those that do.
    pub max_pending_handshakes: Option<usize>,
    /// Connections one listener keeps open with one other partition (default 1024);
    /// more are refused ("busy"), so a guest cannot make the host allocate without bound.
    pub max_connections_per_partition: Option<usize>,
    /// Group (name or number) given access to the runtime dir: its members can reach
    /// local partitions. Unset: only the owner (and root).
    pub group: Option<String>,
}

/// Default of [`Settings::max_pending_handshakes`].
pub const DEFAULT_MAX_PENDING_HANDSHAKES: usize = 256;
/// Default of [`Settings::max_connections_per_partition`].
pub const DEFAULT_MAX_CONNECTIONS_PER_PARTITION: usize = 1024;

impl Settings {
    /// The gid of [`group`](Self::group), looked up in `/etc/group` when it is a name.
    pub fn group_id(&self) -> io::Result<Option<u32>> {
        let Some(g) = self.group.as_deref() else {
            return Ok(None);
        };
        if let Ok(n) = g.parse::<u32>() {
            return Ok(Some(n));
        }
        let groups = std::fs::read_to_string("/etc/group")?;
        groups
            .lines()
            .filter_map(|l| {
                let mut f = l.split(':');
                Some((f.next()?, f.nth(1)?))
            })
            .find(|(name, _)| *name == g)
            .and_then(|(_, gid)| gid.parse().ok())
            .map(Some)
            .ok_or_else(|| invalid(format!("group {g:?} (hvsock.toml) is not in /etc/group")))
    }
}

/// The settings as they are on disk now (defaults when the file is missing).
pub(crate) fn settings(dirs: &Dirs) -> io::Result<Arc<Settings>> {
    cached(dirs.settings_file(), |p| match std::fs::read_to_string(p) {
        Ok(s) => toml::from_str(&s).map_err(|e| invalid(format!("{}: {e}", p.display()))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Settings::default()),
        Err(e) => Err(io::Error::new(e.kind(), format!("{}: {e}", p.display()))),
    })
}
