//! The counters file's layout and its parser: pure functions over bytes, shared by the
//! publisher, the readers and the fuzz target.
//!
//! A file is `HEADER_WORDS + slots * SLOT_WORDS` little-endian `u64` words:
//!
//! | header word | meaning |
//! |---|---|
//! | 0 | magic `HVSTATS1` |
//! | 1 | format version (low 32 bits), number of slots (high 32 bits) |
//! | 2 | pid of the writing process (in its own PID namespace) |
//! | 3 | its start time (`/proc/PID/stat` field 22, clock ticks since boot) |
//! | 4 | lookups that found every slot taken and went to the overflow slot |
//!
//! | slot word | meaning |
//! |---|---|
//! | 0 | state: 0 free, 1 being claimed, 2 ready |
//! | 1-2 | service id (GUID, little-endian bytes) |
//! | 3-4 | peer VM id |
//! | 5 | connections accepted |
//! | 6 | connections made (this side connected) |
//! | 7 | connections open |
//! | 8, 9 | bytes in, bytes out |
//! | 10.. | refusals, one word per [`Reason`] in its order |
//!
//! The last slot is the overflow slot: once the others are all taken, every further
//! (service, VM) pair is counted there, under the ids [`OVERFLOW_SERVICE`] and
//! [`UNKNOWN_PEER`](super::UNKNOWN_PEER), so that totals stay exact however many
//! pairs a process meets.
//!
//! The pid and start time are for display: whether the writer still runs is told by
//! the file's lock (`flock` on Unix, `LockFileEx` on Windows), which the writer holds
//! while it runs (see `read.rs`), since
//! a pid means nothing to a reader in another PID namespace.

use super::{Counters, ProcessStats, Reason, SlotStats};
use crate::addr::{ServiceId, VmId};
use crate::guid::Guid;

/// `HVSTATS1`, the first word of every counters file.
pub const MAGIC: u64 = u64::from_le_bytes(*b"HVSTATS1");
/// The one format version this crate writes and reads.
pub const VERSION: u32 = 1;
/// Words of the header (one slot's size, so slots stay cache-line aligned).
pub const HEADER_WORDS: usize = 32;
/// Words per slot: 256 bytes, four cache lines.
pub const SLOT_WORDS: usize = 32;
/// Slots per file this crate writes, the overflow slot included: a process with more
/// (service, VM) pairs than `SLOTS - 1` counts the rest together in the last slot.
pub const SLOTS: usize = 255;
/// The service id of the overflow slot (all ones: no registered service has it),
/// shown as `(other)`.
pub const OVERFLOW_SERVICE: ServiceId = ServiceId(Guid::from_u128(u128::MAX));
/// The most slots a reader accepts in a file (bounds what a corrupt header can ask).
pub const MAX_SLOTS: usize = 4096;
/// Words of a file this crate writes.
pub const FILE_WORDS: usize = HEADER_WORDS + SLOTS * SLOT_WORDS;

pub(crate) const H_MAGIC: usize = 0;
pub(crate) const H_VERSION: usize = 1;
pub(crate) const H_PID: usize = 2;
pub(crate) const H_START: usize = 3;
pub(crate) const H_OVERFLOWED: usize = 4;

pub(crate) const S_STATE: usize = 0;
pub(crate) const S_SERVICE: usize = 1;
pub(crate) const S_VM: usize = 3;
pub(crate) const S_ACCEPTED: usize = 5;
pub(crate) const S_CONNECTED: usize = 6;
pub(crate) const S_OPEN: usize = 7;
pub(crate) const S_BYTES_IN: usize = 8;
pub(crate) const S_BYTES_OUT: usize = 9;
pub(crate) const S_REFUSED: usize = 10;

pub(crate) const STATE_FREE: u64 = 0;
pub(crate) const STATE_CLAIMING: u64 = 1;
pub(crate) const STATE_READY: u64 = 2;

const _: () = assert!(S_REFUSED + Reason::ALL.len() <= SLOT_WORDS);

/// Why a counters file cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatsFileError {
    /// Shorter than its header or than the slots its header announces.
    #[error("truncated: {len} bytes, {need} needed")]
    Truncated {
        /// The file's length.
        len: usize,
        /// The length its header calls for.
        need: usize,
    },
    /// The first word is not [`MAGIC`].
    #[error("not an hvsock counters file (bad magic)")]
    BadMagic,
    /// A format version this crate does not know.
    #[error("format version {0} (this hvsock reads {VERSION})")]
    Version(u32),
    /// More slots than [`MAX_SLOTS`].
    #[error("{0} slots announced (at most {MAX_SLOTS})")]
    TooManySlots(usize),
    /// A slot whose state word is none of free, claiming, ready.
    #[error("slot {slot} has state {state}")]
    BadSlot {
        /// The slot's index.
        slot: usize,
        /// Its state word.
        state: u64,
    },
}

fn word(bytes: &[u8], i: usize) -> u64 {
    let b: [u8; 8] = bytes[i * 8..i * 8 + 8].try_into().expect("8 bytes");
    u64::from_le_bytes(b)
}

fn guid(lo: u64, hi: u64) -> Guid {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&lo.to_le_bytes());
    b[8..].copy_from_slice(&hi.to_le_bytes());
    Guid::from_bytes_le(b)
}

/// The two words a GUID is stored as.
pub(crate) fn guid_words(g: Guid) -> (u64, u64) {
    let b = g.to_bytes_le();
    (
        u64::from_le_bytes(b[..8].try_into().expect("8 bytes")),
        u64::from_le_bytes(b[8..].try_into().expect("8 bytes")),
    )
}

/// Parses the bytes of a counters file (as read from another process's file: any
/// bytes at all). Slots being claimed and free slots are left out. Never panics.
pub fn parse(bytes: &[u8]) -> Result<ProcessStats, StatsFileError> {
    let need = HEADER_WORDS * 8;
    if bytes.len() < need {
        return Err(StatsFileError::Truncated {
            len: bytes.len(),
            need,
        });
    }
    if word(bytes, H_MAGIC) != MAGIC {
        return Err(StatsFileError::BadMagic);
    }
    let v = word(bytes, H_VERSION);
    let (version, slots) = (v as u32, (v >> 32) as usize);
    if version != VERSION {
        return Err(StatsFileError::Version(version));
    }
    if slots > MAX_SLOTS {
        return Err(StatsFileError::TooManySlots(slots));
    }
    let need = (HEADER_WORDS + slots * SLOT_WORDS) * 8;
    if bytes.len() < need {
        return Err(StatsFileError::Truncated {
            len: bytes.len(),
            need,
        });
    }
    let mut out = ProcessStats {
        pid: word(bytes, H_PID),
        start_time: word(bytes, H_START),
        overflowed: word(bytes, H_OVERFLOWED),
        slots: Vec::new(),
    };
    for slot in 0..slots {
        let base = HEADER_WORDS + slot * SLOT_WORDS;
        let w = |i: usize| word(bytes, base + i);
        match w(S_STATE) {
            STATE_FREE | STATE_CLAIMING => continue,
            STATE_READY => {}
            state => return Err(StatsFileError::BadSlot { slot, state }),
        }
        let mut c = Counters {
            accepted: w(S_ACCEPTED),
            connected: w(S_CONNECTED),
            open: w(S_OPEN),
            bytes_in: w(S_BYTES_IN),
            bytes_out: w(S_BYTES_OUT),
            refused: [0; Reason::ALL.len()],
        };
        for (i, r) in c.refused.iter_mut().enumerate() {
            *r = w(S_REFUSED + i);
        }
        out.slots.push(SlotStats {
            service: ServiceId(guid(w(S_SERVICE), w(S_SERVICE + 1))),
            vm: VmId(guid(w(S_VM), w(S_VM + 1))),
            counters: c,
        });
    }
    Ok(out)
}

/// The bytes of a counters file holding `stats` (what the publisher's mapped words
/// read as): for tests, the fuzz target's seeds and tools.
pub fn encode(stats: &ProcessStats) -> Vec<u8> {
    let slots = stats.slots.len();
    let mut words = vec![0u64; HEADER_WORDS + slots * SLOT_WORDS];
    words[H_MAGIC] = MAGIC;
    words[H_VERSION] = u64::from(VERSION) | ((slots as u64) << 32);
    words[H_PID] = stats.pid;
    words[H_START] = stats.start_time;
    words[H_OVERFLOWED] = stats.overflowed;
    for (i, s) in stats.slots.iter().enumerate() {
        let w = &mut words[HEADER_WORDS + i * SLOT_WORDS..][..SLOT_WORDS];
        w[S_STATE] = STATE_READY;
        (w[S_SERVICE], w[S_SERVICE + 1]) = guid_words(s.service.0);
        (w[S_VM], w[S_VM + 1]) = guid_words(s.vm.0);
        let c = &s.counters;
        w[S_ACCEPTED] = c.accepted;
        w[S_CONNECTED] = c.connected;
        w[S_OPEN] = c.open;
        w[S_BYTES_IN] = c.bytes_in;
        w[S_BYTES_OUT] = c.bytes_out;
        for (j, r) in c.refused.iter().enumerate() {
            w[S_REFUSED + j] = *r;
        }
    }
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}
