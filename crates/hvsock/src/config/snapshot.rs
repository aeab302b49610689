//! Process-wide cache of the registry, partition table and settings. Each use costs one
//! `stat` of the file; it is parsed again only when its inode, size or mtime changed
//! (every writer replaces the file by rename, so a change always shows).

use crate::config::partitions::PartitionTable;
use crate::config::paths::Dirs;
#[cfg(unix)]
use crate::config::registry::Registry;
use crate::config::settings::Settings;
use std::any::Any;
use std::collections::HashMap;
use std::io;
#[cfg(unix)]
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
        #[cfg(unix)]
        Ok(m) => Ok(Some(Stamp {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime_ns: m.mtime() as i128 * 1_000_000_000 + m.mtime_nsec() as i128,
        })),
        // Windows has no inode in std's metadata: size and modification time (100 ns
        // resolution there) say when a file changed.
        #[cfg(windows)]
        Ok(m) => Ok(Some(Stamp {
            dev: 0,
            ino: 0,
            size: m.len(),
            mtime_ns: m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos() as i128),
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

pub(crate) fn invalid(e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e.to_string())
}

/// The service registry as it is on disk now.
#[cfg(unix)]
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

/// The settings as they are on disk now (defaults when the file is missing).
pub(crate) fn settings(dirs: &Dirs) -> io::Result<Arc<Settings>> {
    cached(dirs.settings_file(), |p| match std::fs::read_to_string(p) {
        Ok(s) => toml::from_str(&s).map_err(|e| invalid(format!("{}: {e}", p.display()))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Settings::default()),
        Err(e) => Err(io::Error::new(e.kind(), format!("{}: {e}", p.display()))),
    })
}
