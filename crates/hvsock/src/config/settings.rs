//! The listener and machine settings in `hvsock.toml`.

use crate::config::snapshot::invalid;
use std::io;

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
