//! Hybrid socket paths that clash.
//!
//! The host listener for port P of a hybrid VM with socket `PATH` listens on
//! `PATH_P`, and a connection arriving there *is* that VM. So a VM whose socket is
//! another VM's `PATH_<anything>` would have its VMM socket taken over by the other
//! VM's listener (which replaces the file), mixing up the two VMs' identities. Such
//! paths are refused when a VM is added ([`PartitionTable::add`]), compared after
//! normalization, and again by every listener before it creates a `PATH_P` socket
//! (for tables edited by hand, or directories that became symlinks since).
//!
//! Every check uses the table's index of normalized paths (built once per loaded
//! table): a check costs O(L log N) for a path of L bytes in a table of N VMs.

use super::index::normalized_bytes;
use super::{Partition, PartitionError, PartitionKind, PartitionTable};
use crate::addr::VmId;
use std::fmt;
use std::path::{Path, PathBuf};

/// Two hybrid VMs of one table whose sockets clash: `port_socket`'s path is `base`'s
/// path followed by `_SUFFIX` (see the [module](self) docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HybridClash {
    /// The VM whose listener socket for "port" `suffix` would be the other's socket.
    pub base: Partition,
    /// The VM whose socket is `base`'s path followed by `_` and `suffix`.
    pub port_socket: Partition,
    /// What follows `base`'s path and `_` (a port number, when listeners are at stake).
    pub suffix: String,
}

impl fmt::Display for HybridClash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the hybrid socket of VM {:?} ({}) is VM {:?}'s PATH_{} listener socket; \
             listeners skip VM {:?} there (fix partitions.toml)",
            self.port_socket.name,
            hybrid_path(&self.port_socket)
                .unwrap_or(Path::new(""))
                .display(),
            self.base.name,
            self.suffix,
            self.base.name,
        )
    }
}

fn hybrid_path(p: &Partition) -> Option<&Path> {
    match &p.kind {
        PartitionKind::Hybrid { path } => Some(path),
        _ => None,
    }
}

/// The ends of `path` at each `_` of its last component: the candidates for a base
/// whose `BASE_SUFFIX` it is, with the suffix.
fn bases_of(path: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    let start = path.iter().rposition(|&b| b == b'/').map_or(0, |p| p + 1);
    (start..path.len())
        .filter(move |&j| path[j] == b'_')
        .map(move |j| (&path[..j], &path[j + 1..]))
}

impl PartitionTable {
    /// Positions of the hybrid VMs (other than `except`) whose socket is `path`'s
    /// `PATH_SUFFIX` (`true`) or of which `path` is `SOCKET_SUFFIX` (`false`), with the
    /// suffix; and the one whose socket is `path` itself.
    fn clashes_of(
        &self,
        norm: &[u8],
        except: Option<VmId>,
    ) -> (Option<usize>, Vec<(usize, bool, String)>) {
        let map = self.index.normalized(&self.partitions);
        let keep = |i: &usize| Some(self.partitions[*i].id) != except;
        let same = map.get(norm).copied().filter(keep);
        let mut out = Vec::new();
        // `path` is BASE_SUFFIX of a stored BASE.
        for (base, suffix) in bases_of(norm) {
            if let Some(&i) = map.get(base).filter(|i| keep(i)) {
                out.push((i, false, String::from_utf8_lossy(suffix).into_owned()));
            }
        }
        // A stored path is `path`_SUFFIX (SUFFIX without `/`).
        let mut prefix = norm.to_vec();
        prefix.push(b'_');
        for (k, &i) in map.range(prefix.clone()..) {
            let Some(suffix) = k.strip_prefix(prefix.as_slice()) else {
                break;
            };
            if !suffix.contains(&b'/') && keep(&i) {
                out.push((i, true, String::from_utf8_lossy(suffix).into_owned()));
            }
        }
        (same, out)
    }

    /// Whether a hybrid VM with socket `path` (normalized) may join the table: no other
    /// hybrid VM may have the same socket, a socket `path_SUFFIX`, or a socket of which
    /// `path` is `SOCKET_SUFFIX`. `except` skips one entry (the VM itself).
    pub fn check_hybrid_path(
        &self,
        path: &Path,
        except: Option<VmId>,
    ) -> Result<(), PartitionError> {
        let (same, clashes) = self.clashes_of(&normalized_bytes(path), except);
        if let Some(i) = same {
            let p = &self.partitions[i];
            return Err(PartitionError::DuplicatePath {
                path: path.to_path_buf(),
                existing_name: p.name.clone(),
                existing_id: p.id,
            });
        }
        let Some((i, theirs, s)) = clashes.into_iter().next() else {
            return Ok(());
        };
        let p = &self.partitions[i];
        let reason = if theirs {
            format!(
                "that VM's socket is this path's PATH_{s} (the socket this VM's host listener for port {s} would take over)"
            )
        } else {
            format!(
                "it is that VM's PATH_{s} (the socket its host listener for port {s} would take over)"
            )
        };
        Err(PartitionError::PathClash {
            path: path.to_path_buf(),
            existing_name: p.name.clone(),
            existing_id: p.id,
            existing_path: hybrid_path(p).map(PathBuf::from).unwrap_or_default(),
            reason,
        })
    }

    /// Every pair of hybrid VMs whose sockets clash (possible in a table edited by
    /// hand; [`add`](Self::add) refuses them), each pair once.
    pub fn hybrid_clashes(&self) -> Vec<HybridClash> {
        let mut out = Vec::new();
        for (j, p) in self.partitions.iter().enumerate() {
            let Some(path) = hybrid_path(p) else { continue };
            // Report each pair from its port-socket side only.
            let (_, clashes) = self.clashes_of(&normalized_bytes(path), Some(p.id));
            for (i, theirs, suffix) in clashes {
                if !theirs && i != j {
                    out.push(HybridClash {
                        base: self.partitions[i].clone(),
                        port_socket: p.clone(),
                        suffix,
                    });
                }
            }
        }
        out
    }

    /// The hybrid VM other than `except` whose socket is `socket` (compared
    /// normalized): a listener must not create `socket` for `except`.
    pub fn hybrid_socket_owner(&self, socket: &Path, except: VmId) -> Option<&Partition> {
        let map = self.index.normalized(&self.partitions);
        map.get(&normalized_bytes(socket))
            .map(|&i| &self.partitions[i])
            .filter(|p| p.id != except)
    }
}
