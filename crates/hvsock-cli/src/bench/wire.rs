//! The bench wire protocol: modes, the 24-byte header, sizes (see the module docs of
//! `bench`).

use clap::ValueEnum;
#[cfg(unix)]
use hvsock::ServiceId;
use serde::Serialize;
use std::time::Duration;

/// The workloads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum Mode {
    /// Bulk transfer (MB/s).
    Throughput,
    /// Ping-pong round trips (p50, p99, max).
    Latency,
    /// Connect + accept + first byte (connections/s).
    Connect,
    /// Many connections echoing random-size chunks, verified by checksum.
    Stress,
}

/// Direction of the throughput workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum Direction {
    /// Client to server.
    Send,
    /// Server to client.
    Receive,
    /// Both at once.
    Both,
}

pub(super) const MAGIC: [u8; 4] = *b"HVBN";
/// The byte a server sends on accept.
pub(super) const GREETING: u8 = b'B';
pub(super) const VERSION: u8 = 1;
pub(super) const HEADER_LEN: usize = 24;
/// Largest message size.
pub(super) const MAX_SIZE: u32 = 16 << 20;
/// How long a server waits for a header.
pub(super) const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Round trips done before latency is measured.
pub(super) const WARMUP: u64 = 10;
/// Read buffer of throughput readers.
pub(super) const READ_BUF: usize = 256 * 1024;
/// The service `bench local` uses.
#[cfg(unix)]
pub(super) const LOCAL_SERVICE: ServiceId = ServiceId::from_vsock_port(0x4256_4e00);

/// Parses a size: `65536`, `64K`, `64KiB`, `1M`, `1MiB`.
pub(super) fn parse_size(s: &str) -> Result<u32, String> {
    let t = s.trim();
    let (num, mult) = [
        ("KiB", 1u64 << 10),
        ("MiB", 1 << 20),
        ("K", 1 << 10),
        ("M", 1 << 20),
        ("B", 1),
    ]
    .iter()
    .find_map(|(suffix, m)| t.strip_suffix(suffix).map(|n| (n, *m)))
    .unwrap_or((t, 1));
    let n: u64 = num
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a size: expected e.g. 64, 4K, 64KiB, 1M"))?;
    let v = n.saturating_mul(mult);
    if v == 0 || v > MAX_SIZE as u64 {
        return Err(format!("{s:?}: a message size is 1 byte to 16 MiB"));
    }
    Ok(v as u32)
}

/// The header a client sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Header {
    pub(super) mode: Mode,
    pub(super) direction: Direction,
    pub(super) size: u32,
    pub(super) seed: u64,
}

impl Header {
    pub(super) fn encode(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[0..4].copy_from_slice(&MAGIC);
        b[4] = VERSION;
        b[5] = match self.mode {
            Mode::Throughput => 1,
            Mode::Latency => 2,
            Mode::Connect => 3,
            Mode::Stress => 4,
        };
        b[6] = match self.direction {
            Direction::Send => 1,
            Direction::Receive => 2,
            Direction::Both => 3,
        };
        b[8..12].copy_from_slice(&self.size.to_le_bytes());
        b[16..24].copy_from_slice(&self.seed.to_le_bytes());
        b
    }

    pub(super) fn decode(b: &[u8; HEADER_LEN]) -> Result<Header, String> {
        if b[0..4] != MAGIC {
            return Err("not an hvsock bench header (bad magic)".into());
        }
        if b[4] != VERSION {
            return Err(format!(
                "bench protocol version {} is not supported (this is {VERSION})",
                b[4]
            ));
        }
        let mode = match b[5] {
            1 => Mode::Throughput,
            2 => Mode::Latency,
            3 => Mode::Connect,
            4 => Mode::Stress,
            m => return Err(format!("unknown mode {m}")),
        };
        let direction = match b[6] {
            1 => Direction::Send,
            2 => Direction::Receive,
            3 => Direction::Both,
            d => return Err(format!("unknown direction {d}")),
        };
        if b[7] != 0 || b[12..16] != [0; 4] {
            return Err("reserved header bytes must be zero".into());
        }
        let size = u32::from_le_bytes(b[8..12].try_into().unwrap());
        if size == 0 || size > MAX_SIZE {
            return Err(format!("message size {size} is not 1 to {MAX_SIZE}"));
        }
        Ok(Header {
            mode,
            direction,
            size,
            seed: u64::from_le_bytes(b[16..24].try_into().unwrap()),
        })
    }
}
