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

/// Whether the process that wrote a file still runs: its pid is there with the start
/// time the file records (a reused pid has another).
pub fn alive(pid: u64, start: u64) -> bool {
    let Ok(pid) = u32::try_from(pid) else {
        return false;
    };
    start_time(pid) == Some(start)
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
/// processes that are gone (or whose pid was reused) are ignored.
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
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
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
            Ok(p) if alive(p.pid, p.start_time) => out.processes.push(p),
            Ok(_) => {}
            Err(e) => out.skipped.push((path, e.to_string())),
        }
    }
    out
}

/// The pid in a file name `<pid>.stats`.
fn file_pid(p: &Path) -> Option<u64> {
    let name = p.file_name()?.to_str()?;
    let pid = name.strip_suffix(".stats")?;
    if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    pid.parse().ok()
}

/// Removes the files of processes that are gone (they were killed before their exit
/// hook ran), so that the folder does not grow.
#[cfg_attr(not(unix), allow(dead_code))]
pub(crate) fn sweep(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        let Some(pid) = file_pid(&path) else {
            continue;
        };
        let dead = match std::fs::read(&path).ok().map(|b| parse(&b)) {
            Some(Ok(p)) => !alive(p.pid, p.start_time),
            // Unreadable or not ours to judge: only a pid that is not running at all.
            _ => u32::try_from(pid).map_or(true, |p| start_time(p).is_none()),
        };
        if dead {
            let _ = std::fs::remove_file(&path);
        }
    }
}
