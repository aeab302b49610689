//! Hybrid socket paths that clash.
//!
//! The host listener for port P of a hybrid VM with socket `PATH` listens on
//! `PATH_P`, and a connection arriving there *is* that VM. So a VM whose socket is
//! another VM's `PATH_<anything>` would have its VMM socket taken over by the other
//! VM's listener (which replaces the file), mixing up the two VMs' identities. Such
//! paths are refused when a VM is added ([`PartitionTable::add`]), compared after
//! normalization, and again by every listener before it creates a `PATH_P` socket
//! (for tables edited by hand, or directories that became symlinks since).

use super::{Partition, PartitionError, PartitionKind, PartitionTable, normalize_hybrid_path};
use crate::addr::VmId;
use std::ffi::OsStr;
use std::fmt;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// `path` normalized like stored paths now (directories may have appeared or become
/// symlinks since it was stored); itself if it cannot be.
fn normalized(path: &Path) -> PathBuf {
    normalize_hybrid_path(path).unwrap_or_else(|_| path.to_path_buf())
}

/// The `SUFFIX` when `path` is `base_SUFFIX` (a name in the same directory: no `/`).
fn suffix_of<'a>(path: &'a Path, base: &Path) -> Option<&'a OsStr> {
    let (p, b) = (path.as_os_str().as_bytes(), base.as_os_str().as_bytes());
    let rest = p.strip_prefix(b)?.strip_prefix(b"_")?;
    (!rest.contains(&b'/')).then(|| OsStr::from_bytes(rest))
}

/// How two hybrid sockets clash, if they do: `Some(None)` the same socket,
/// `Some(Some((true, S)))` `a` is `b_S`, `Some(Some((false, S)))` `b` is `a_S`.
fn clash(a: &Path, b: &Path) -> Option<Option<(bool, String)>> {
    let (a, b) = (normalized(a), normalized(b));
    if a == b {
        return Some(None);
    }
    if let Some(s) = suffix_of(&a, &b) {
        return Some(Some((true, s.to_string_lossy().into_owned())));
    }
    suffix_of(&b, &a).map(|s| Some((false, s.to_string_lossy().into_owned())))
}

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
            path_of(&self.port_socket).display(),
            self.base.name,
            self.suffix,
            self.base.name,
        )
    }
}

fn path_of(p: &Partition) -> &Path {
    match &p.kind {
        PartitionKind::Hybrid { path } => path,
        _ => Path::new(""),
    }
}

fn hybrid_path(p: &Partition) -> Option<&Path> {
    match &p.kind {
        PartitionKind::Hybrid { path } => Some(path),
        _ => None,
    }
}

impl PartitionTable {
    /// Whether a hybrid VM with socket `path` (normalized) may join the table: no other
    /// hybrid VM may have the same socket, a socket `path_SUFFIX`, or a socket of which
    /// `path` is `SOCKET_SUFFIX`. `except` skips one entry (the VM itself).
    pub fn check_hybrid_path(
        &self,
        path: &Path,
        except: Option<VmId>,
    ) -> Result<(), PartitionError> {
        for p in self.partitions.iter().filter(|p| Some(p.id) != except) {
            let Some(q) = hybrid_path(p) else { continue };
            let reason = match clash(path, q) {
                None => continue,
                Some(None) => {
                    return Err(PartitionError::DuplicatePath {
                        path: path.to_path_buf(),
                        existing_name: p.name.clone(),
                        existing_id: p.id,
                    });
                }
                Some(Some((true, s))) => format!(
                    "it is that VM's PATH_{s} (the socket its host listener for port {s} would take over)"
                ),
                Some(Some((false, s))) => format!(
                    "that VM's socket is this path's PATH_{s} (the socket this VM's host listener for port {s} would take over)"
                ),
            };
            return Err(PartitionError::PathClash {
                path: path.to_path_buf(),
                existing_name: p.name.clone(),
                existing_id: p.id,
                existing_path: q.to_path_buf(),
                reason,
            });
        }
        Ok(())
    }

    /// Every pair of hybrid VMs whose sockets clash (possible in a table edited by
    /// hand; [`add`](Self::add) refuses them).
    pub fn hybrid_clashes(&self) -> Vec<HybridClash> {
        let hybrids: Vec<(&Partition, &Path)> = self
            .partitions
            .iter()
            .filter_map(|p| hybrid_path(p).map(|h| (p, h)))
            .collect();
        let mut out = Vec::new();
        for (i, (a, pa)) in hybrids.iter().enumerate() {
            for (b, pb) in &hybrids[i + 1..] {
                let (base, port_socket, suffix) = match clash(pa, pb) {
                    Some(Some((true, s))) => (b, a, s),
                    Some(Some((false, s))) => (a, b, s),
                    _ => continue,
                };
                out.push(HybridClash {
                    base: (*base).clone(),
                    port_socket: (*port_socket).clone(),
                    suffix,
                });
            }
        }
        out
    }

    /// The hybrid VM other than `except` whose socket is `socket` (compared
    /// normalized): a listener must not create `socket` for `except`.
    pub fn hybrid_socket_owner(&self, socket: &Path, except: VmId) -> Option<&Partition> {
        let socket = normalized(socket);
        self.partitions
            .iter()
            .filter(|p| p.id != except)
            .find(|p| hybrid_path(p).is_some_and(|q| normalized(q) == socket))
    }
}
