//! The writing side: this process's counters region per runtime dir (a mapped file, or
//! process memory where no file can be made), its slots, and the [`Meter`] a stream
//! carries.

use super::Reason;
use super::layout::*;
use crate::addr::{ServiceId, VmId};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// One process's counters for one runtime dir.
#[derive(Debug)]
pub(crate) struct Region {
    words: &'static [AtomicU64],
    /// The published file (None: in this process only).
    #[cfg_attr(windows, allow(dead_code))]
    path: Option<PathBuf>,
    /// The published file, kept open for the process's lifetime: it holds the lock
    /// that tells readers this process is alive (the system drops it when the process
    /// dies, which a pid cannot tell across PID namespaces). On Windows closing it
    /// also deletes the file.
    _lock: Option<std::fs::File>,
}

/// The regions made so far, by runtime dir: a process usually has one, tests many.
static REGIONS: Mutex<Vec<(PathBuf, &'static Region)>> = Mutex::new(Vec::new());

/// The region of `runtime`, made (and its file published) on first use. Looked up once
/// per listener and per connect, never per read or write.
pub(crate) fn region(dirs: &crate::config::paths::Dirs) -> &'static Region {
    let runtime = dirs.runtime.as_path();
    let mut all = REGIONS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, r)) = all.iter().find(|(p, _)| p == runtime) {
        return r;
    }
    let first = all.is_empty();
    let r: &'static Region = Box::leak(Box::new(Region::make(dirs)));
    all.push((runtime.to_path_buf(), r));
    #[cfg(unix)]
    if first {
        crate::sys::shared_mem::at_exit(remove_files);
    }
    let _ = first;
    r
}

/// At exit: removes this process's files (best effort; readers skip a file whose lock
/// is free anyway, and the next publisher's sweep removes it).
#[cfg(unix)]
extern "C" fn remove_files() {
    // A thread may hold the lock while the process exits: then leave the files.
    if let Ok(all) = REGIONS.try_lock() {
        for (_, r) in all.iter() {
            if let Some(p) = &r.path {
                let _ = std::fs::remove_file(p);
            }
        }
    }
}

fn in_process() -> &'static [AtomicU64] {
    (0..FILE_WORDS)
        .map(|_| AtomicU64::new(0))
        .collect::<Vec<_>>()
        .leak()
}

impl Region {
    fn make(dirs: &crate::config::paths::Dirs) -> Region {
        if let Ok((words, path, file)) = publish(dirs) {
            return Region {
                words,
                path: Some(path),
                _lock: Some(file),
            };
        }
        let words = in_process();
        init_header(words);
        Region {
            words,
            path: None,
            _lock: None,
        }
    }

    /// The published file, if there is one.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The slot of (`service`, `vm`), claimed if new; once every other slot is taken,
    /// the overflow slot (the last), where all further pairs are counted together.
    pub(crate) fn slot(&'static self, service: ServiceId, vm: VmId) -> Slot {
        let ids = Ids::of(service, vm);
        for i in 0..SLOTS - 1 {
            if let Some(s) = self.try_slot(i, ids) {
                return s;
            }
        }
        self.words[H_OVERFLOWED].fetch_add(1, Ordering::Relaxed);
        let last = SLOTS - 1;
        // Only the overflow ids are ever claimed there: a `None` means another thread
        // is claiming it for them, and its counts are this pair's all the same.
        self.try_slot(last, Ids::of(OVERFLOW_SERVICE, super::UNKNOWN_PEER))
            .unwrap_or(Slot(
                &self.words[HEADER_WORDS + last * SLOT_WORDS..][..SLOT_WORDS],
            ))
    }

    /// Slot `i` if it holds `ids` or was free and is now claimed for them; `None` if it
    /// holds other ids or another thread is claiming it.
    fn try_slot(&'static self, i: usize, ids: Ids) -> Option<Slot> {
        let w = &self.words[HEADER_WORDS + i * SLOT_WORDS..][..SLOT_WORDS];
        let mut state = w[S_STATE].load(Ordering::Acquire);
        if state == STATE_FREE {
            match w[S_STATE].compare_exchange(
                STATE_FREE,
                STATE_CLAIMING,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    for (k, v) in ids.0.into_iter().enumerate() {
                        w[S_SERVICE + k].store(v, Ordering::Relaxed);
                    }
                    // Release: a reader that sees READY sees the ids.
                    w[S_STATE].store(STATE_READY, Ordering::Release);
                    return Some(Slot(w));
                }
                Err(now) => state = now,
            }
        }
        // A slot another thread is claiming may be for the same pair: then two slots
        // count it, which readers add up. No waiting on the data path.
        (state == STATE_READY
            && (0..4).all(|k| w[S_SERVICE + k].load(Ordering::Relaxed) == ids.0[k]))
        .then_some(Slot(w))
    }

    /// Counts a refusal (Windows refuses in the kernel, where hvsock sees nothing).
    #[cfg_attr(windows, allow(dead_code))]
    pub(crate) fn refused(&'static self, service: ServiceId, vm: VmId, reason: Reason) {
        self.slot(service, vm).add(S_REFUSED + reason.index(), 1);
    }
}

fn init_header(words: &[AtomicU64]) {
    words[H_VERSION].store(
        u64::from(VERSION) | ((SLOTS as u64) << 32),
        Ordering::Relaxed,
    );
    words[H_PID].store(u64::from(std::process::id()), Ordering::Relaxed);
    words[H_START].store(
        super::read::start_time(std::process::id()).unwrap_or(0),
        Ordering::Relaxed,
    );
    // Last, so that a reader never takes a half-written header for a file.
    words[H_MAGIC].store(MAGIC, Ordering::Release);
}

/// The words, the path and the open (locked) file of a published counters file.
pub(super) type Published = (&'static [AtomicU64], PathBuf, std::fs::File);

/// Makes `<runtime>/stats/<pid>-<random>.stats` (random: two PID namespaces sharing
/// the runtime dir may have the same pid): written under a temporary name and renamed,
/// so readers see either no file or a whole header. The file is locked before the
/// rename and the lock kept, with the file open, for the process's lifetime: readers
/// and sweepers judge liveness by that lock, never by the pid. Sweeps the files of
/// dead processes first. On Windows the file is delete-on-close: it goes with its
/// process even when the process is killed, and inherits the runtime dir's ACL.
pub(super) fn publish(dirs: &crate::config::paths::Dirs) -> std::io::Result<Published> {
    let runtime = dirs.runtime.as_path();
    let dir = super::read::stats_dir(runtime);
    #[cfg(unix)]
    let gid = crate::config::snapshot::settings(dirs)
        .ok()
        .and_then(|s| s.group_id().ok().flatten());
    #[cfg(unix)]
    crate::transport::local::rundir::ensure_dirs(runtime, &dir, gid)?;
    #[cfg(windows)]
    std::fs::create_dir_all(&dir)?;
    super::read::sweep(&dir);
    let pid = std::process::id();
    let mut random = [0u8; 8];
    getrandom::fill(&mut random).map_err(|e| std::io::Error::other(e.to_string()))?;
    let name = super::read::file_name(pid, u64::from_le_bytes(random));
    // Hidden until renamed: readers and the sweeper skip it.
    let tmp = dir.join(format!(".{name}.tmp"));
    let path = dir.join(name);
    #[cfg(unix)]
    let (file, mode) = {
        let mode = if gid.is_some() { 0o640 } else { 0o600 };
        (
            crate::sys::shared_mem::create_counters_file(&tmp, mode)?,
            mode,
        )
    };
    #[cfg(windows)]
    let file = crate::sys::shared_mem::create_counters_file(&tmp)?;
    let made = (|| {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(std::fs::Permissions::from_mode(mode))?;
            if let Some(g) = gid {
                std::os::unix::fs::fchown(&file, None, Some(g))?;
            }
        }
        file.set_len((FILE_WORDS * 8) as u64)?;
        let words = crate::sys::shared_mem::map_words_forever(&file, FILE_WORDS)?;
        init_header(words);
        // Locked before the rename, on this open file, which stays open: the lock
        // belongs to it, so the final name is locked from its first moment.
        super::read::hold_as_publisher(&file)?;
        std::fs::rename(&tmp, &path)?;
        Ok(words)
    })();
    if made.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    made.map(|w| (w, path, file))
}

/// A (service, VM) pair as a slot's words 1 to 4 hold it.
#[derive(Debug, Clone, Copy)]
struct Ids([u64; 4]);

impl Ids {
    fn of(service: ServiceId, vm: VmId) -> Ids {
        let (s0, s1) = guid_words(service.0);
        let (v0, v1) = guid_words(vm.0);
        Ids([s0, s1, v0, v1])
    }
}

const _: () = assert!(S_VM == S_SERVICE + 2);

/// A claimed slot's words.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Slot(&'static [AtomicU64]);

impl Slot {
    #[inline]
    fn add(self, word: usize, n: u64) {
        self.0[word].fetch_add(n, Ordering::Relaxed);
    }
}

/// The open count of one connection: given back when the last handle is dropped.
#[derive(Debug)]
struct Live(
    Slot,
    /// With the `tracing` feature: the connection's own counts for its close line.
    #[cfg(all(feature = "tracing", unix))]
    Option<super::log::Logged>,
);

impl Drop for Live {
    fn drop(&mut self) {
        self.0.0[S_OPEN].fetch_sub(1, Ordering::Relaxed);
    }
}

/// What a stream carries to count its bytes: shared by its clones and halves.
#[derive(Debug, Clone, Default)]
pub(crate) struct Meter(Option<Arc<Live>>);

impl Meter {
    /// Counts a connection accepted (`accepted`) or made (`!accepted`) and opens it.
    pub(crate) fn open(
        region: &'static Region,
        service: ServiceId,
        vm: VmId,
        accepted: bool,
    ) -> Meter {
        let s = region.slot(service, vm);
        s.add(if accepted { S_ACCEPTED } else { S_CONNECTED }, 1);
        s.add(S_OPEN, 1);
        Meter(Some(Arc::new(Live(
            s,
            #[cfg(all(feature = "tracing", unix))]
            None,
        ))))
    }

    /// Logs the connection's accept now and its close when the last handle goes.
    #[cfg(all(feature = "tracing", unix))]
    pub(crate) fn logged(self, who: super::log::Described) -> Meter {
        match self.0 {
            Some(live) => match Arc::try_unwrap(live) {
                Ok(mut l) => {
                    l.1 = Some(super::log::Logged::new(who));
                    Meter(Some(Arc::new(l)))
                }
                Err(shared) => Meter(Some(shared)),
            },
            None => Meter(None),
        }
    }

    /// Counts what a read returned.
    #[inline]
    pub(crate) fn read(&self, r: std::io::Result<usize>) -> std::io::Result<usize> {
        if let (Some(l), Ok(n)) = (&self.0, &r) {
            l.0.add(S_BYTES_IN, *n as u64);
            #[cfg(all(feature = "tracing", unix))]
            if let Some(g) = &l.1 {
                g.bytes_in.fetch_add(*n as u64, Ordering::Relaxed);
            }
        }
        r
    }

    /// Counts what a write took.
    #[inline]
    pub(crate) fn wrote(&self, r: std::io::Result<usize>) -> std::io::Result<usize> {
        if let (Some(l), Ok(n)) = (&self.0, &r) {
            l.0.add(S_BYTES_OUT, *n as u64);
            #[cfg(all(feature = "tracing", unix))]
            if let Some(g) = &l.1 {
                g.bytes_out.fetch_add(*n as u64, Ordering::Relaxed);
            }
        }
        r
    }

    /// Counts bytes moved past the stream's own read and write (the relay's splice).
    #[inline]
    pub(crate) fn add_in(&self, n: u64) {
        if let Some(l) = &self.0 {
            l.0.add(S_BYTES_IN, n);
            #[cfg(all(feature = "tracing", unix))]
            if let Some(g) = &l.1 {
                g.bytes_in.fetch_add(n, Ordering::Relaxed);
            }
        }
    }

    /// Counts bytes moved past the stream's own write.
    #[inline]
    pub(crate) fn add_out(&self, n: u64) {
        if let Some(l) = &self.0 {
            l.0.add(S_BYTES_OUT, n);
            #[cfg(all(feature = "tracing", unix))]
            if let Some(g) = &l.1 {
                g.bytes_out.fetch_add(n, Ordering::Relaxed);
            }
        }
    }
}
