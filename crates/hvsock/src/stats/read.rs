//! The reading side: every live process's counters file in a runtime dir.

use super::{ProcessStats, parse};
use std::path::{Path, PathBuf};

/// The folder of the counters files: `<runtime>/stats`.
pub fn stats_dir(runtime: &Path) -> PathBuf {
    runtime.join("stats")
}

/// A process's start time (`/proc/PID/stat` field 22, clock ticks since boot), `None`
/// if it is not running (or this is not Linux).
pub(crate) fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces or ')': the
    // fields that follow start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    // Field 3 is the first after the name: field 22 is the 20th from there.
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// Whether the process that wrote a file still runs by its pid and start time (a
/// reused pid has another). Only meaningful in the writer's PID namespace: on Unix the
/// readers judge a file by its lock instead (see [`read_host`]); this is for display
/// and tools.
pub fn alive(pid: u64, start: u64) -> bool {
    let Ok(pid) = u32::try_from(pid) else {
        return false;
    };
    start_time(pid) == Some(start)
}

/// What a try at a counters file's lock found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Owner {
    /// Its publisher holds the lock: the process runs (in whatever PID namespace).
    Alive,
    /// The lock was free and is now held by the caller: the publisher is gone (the
    /// system drops a dead process's locks).
    Gone,
}

/// Takes the publisher's lock on its new file, held as long as the file is open. On
/// Unix an exclusive `flock`; on Windows a shared lock of the whole file, since
/// Windows' locks are mandatory and an exclusive one would keep readers from reading
/// (the publisher writes through its mapping, which locks do not touch).
pub(crate) fn hold_as_publisher(file: &std::fs::File) -> std::io::Result<()> {
    let taken = if cfg!(windows) {
        file.try_lock_shared()
    } else {
        file.try_lock()
    };
    match owner(taken)? {
        Owner::Gone => Ok(()),
        Owner::Alive => Err(std::io::Error::other("a new counters file is locked")),
    }
}

/// What a try at a lock says of the file's publisher.
fn owner(taken: Result<(), std::fs::TryLockError>) -> std::io::Result<Owner> {
    match taken {
        Ok(()) => Ok(Owner::Gone),
        Err(std::fs::TryLockError::WouldBlock) => Ok(Owner::Alive),
        Err(std::fs::TryLockError::Error(e)) => Err(e),
    }
}

/// Tries the lock of an open counters file without waiting. On Unix exclusive for
/// the sweeper (who then removes the file) and shared for readers, so that readers
/// never take each other for a publisher; on Windows, where the publisher holds a
/// shared lock, always exclusive (two readers of a dead process's file at the same
/// instant may then take each other for its publisher: the file is deleted with its
/// process there, so such files are rare and short-lived).
pub(crate) fn try_lock(file: &std::fs::File, exclusive: bool) -> std::io::Result<Owner> {
    owner(if exclusive || cfg!(windows) {
        file.try_lock()
    } else {
        file.try_lock_shared()
    })
}

/// What [`read_host`] found.
#[derive(Debug, Default)]
pub struct HostStats {
    /// The files of live processes.
    pub processes: Vec<ProcessStats>,
    /// Files that could not be read or parsed, with why (shown as warnings).
    pub skipped: Vec<(PathBuf, String)>,
}

/// Reads the counters files of every live process under `runtime`. A missing folder is
/// no processes; a corrupt or truncated file is skipped with a warning; the files of
/// processes that are gone are ignored. A file's process is alive while it holds the
/// file's lock, whatever its PID namespace; the pid and start time in the header are
/// only shown.
pub fn read_host(runtime: &Path) -> HostStats {
    let mut out = HostStats::default();
    let Ok(entries) = std::fs::read_dir(stats_dir(runtime)) else {
        return out;
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| file_pid(p).is_some())
        .collect();
    paths.sort();
    for path in paths {
        let bytes = match read_if_owned(&path) {
            Ok(Some(b)) => b,
            // The publisher is gone: its file is left over.
            Ok(None) => continue,
            // Removed between the listing and the read: its process exited.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                out.skipped.push((path, e.to_string()));
                continue;
            }
        };
        match parse(&bytes) {
            Ok(p) if Some(p.pid) != file_pid(&path) => out
                .skipped
                .push((path, format!("records pid {}, not its name's", p.pid))),
            // Judged by the lock already: the pid may be another PID namespace's.
            Ok(p) => out.processes.push(p),
            Err(e) => out.skipped.push((path, e.to_string())),
        }
    }
    out
}

/// The bytes of a counters file whose publisher still holds its lock (`None`: nobody
/// does). The lock, not the pid, says whether it runs: a container sharing the runtime
/// dir has its own PID namespace, where the file's pid means another process or none.
fn read_if_owned(path: &Path) -> std::io::Result<Option<Vec<u8>>> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    if try_lock(&file, false)? == Owner::Gone {
        // Closing the file drops the lock at once.
        return Ok(None);
    }
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(Some(bytes))
}

/// A counters file's name: `<pid>-<random hex>.stats`. The random part keeps apart the
/// processes of two PID namespaces (containers) that share the runtime dir and a pid.
pub(crate) fn file_name(pid: u32, random: u64) -> String {
    format!("{pid}-{random:016x}.stats")
}

/// The pid in a file name `<pid>-<hex>.stats` (older `<pid>.stats` files, whose
/// publishers hold no lock, are neither read nor swept).
pub(crate) fn file_pid(p: &Path) -> Option<u64> {
    let name = p.file_name()?.to_str()?;
    let (pid, random) = name.strip_suffix(".stats")?.split_once('-')?;
    if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if random.is_empty() || random.len() > 32 || !random.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    pid.parse().ok()
}

/// Removes the files of processes that are gone (they were killed before their exit
/// hook ran), so that the folder does not grow: a file whose lock is free has no
/// publisher. Removed while holding the lock, so no reader reads it as alive meanwhile;
/// a file some reader holds shared is left for the next sweep.
pub(crate) fn sweep(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        if file_pid(&path).is_none() {
            continue;
        }
        let Ok(file) = std::fs::File::open(&path) else {
            continue;
        };
        if let Ok(Owner::Gone) = try_lock(&file, true) {
            let _ = std::fs::remove_file(&path);
            let _ = file.unlock();
        }
    }
}
