//! Whether a partition's transport carries a half-close (`shutdown(SHUT_WR)`).
//!
//! Kernel vhost-vsock and local partitions do, as TCP does: the peer reads EOF and can
//! still answer. Firecracker and vhost-device-vsock (rust-vmm/vhost-device#874) do not:
//! a host `shutdown(SHUT_WR)` becomes a full close of the connection, and a guest's
//! never reaches the host. Cloud Hypervisor carries it since its fix (issue #8300, PR
//! #8372). It is a property of the VMM, so the table records it per hybrid VM, `lost`
//! unless told otherwise (the safe guess: sending no half-close loses no data).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Whether a half-close (`shutdown(Write)`) reaches the peer as an EOF it can still
/// answer after.
///
/// ```
/// use hvsock::partitions::HalfClose;
/// assert_eq!("lost".parse::<HalfClose>().unwrap(), HalfClose::Lost);
/// assert_eq!(HalfClose::Carried.to_string(), "carried");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HalfClose {
    /// The peer reads EOF and may still send (TCP's behaviour).
    Carried,
    /// The transport turns a half-close into a full close (or drops it): after
    /// `shutdown(Write)` the peer's answer is lost.
    Lost,
}

impl HalfClose {
    /// `"carried"` or `"lost"`, as in the table and JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            HalfClose::Carried => "carried",
            HalfClose::Lost => "lost",
        }
    }

    /// Whether a half-close reaches the peer.
    pub fn is_carried(self) -> bool {
        self == HalfClose::Carried
    }
}

impl fmt::Display for HalfClose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for HalfClose {
    type Err = String;
    fn from_str(s: &str) -> Result<HalfClose, String> {
        match s {
            "carried" => Ok(HalfClose::Carried),
            "lost" => Ok(HalfClose::Lost),
            _ => Err(format!(
                "unknown half-close {s:?}, expected \"carried\" or \"lost\""
            )),
        }
    }
}
