//! The partition table: what Hyper-V knows as the host's list of VMs.
//!
//! Each partition has a VM id (GUID), a unique name, and a kind saying how to reach it:
//!
//! - `hybrid`: a VM whose VMM exposes "hybrid vsock" on a Unix socket (Firecracker,
//!   Cloud Hypervisor, vhost-device-vsock, OpenVMM);
//! - `cid`: a kernel vhost-vsock VM with that context id;
//! - `local`: a local partition (processes or containers on this machine, children of
//!   the host).
//!
//! Stored in `partitions.toml` in the config directory, with the same guarantees as the
//! [registry](crate::config::registry) (see [`crate::config::store`] for how):
//!
//! ```toml
//! [[partition]]
//! id = "5e0b8f7a-4c2e-4d8e-9a57-2f6c8c1e0b11"
//! name = "fc1"
//! kind = "hybrid"
//! path = "/run/fc1/v.sock"
//! half_close = "lost"
//!
//! [[partition]]
//! id = "0c7f1d1e-8f0e-4b4c-b0a5-6a1d9f0e7c22"
//! name = "qemu1"
//! kind = "cid"
//! cid = 3
//!
//! [[partition]]
//! id = "7d3c6f4e-2b1a-4c5d-8e9f-0a1b2c3d4e55"
//! name = "ovmm1"
//! kind = "hybrid"
//! path = "/run/ovmm1/v.sock"
//! connect_form = "guid"   # OpenVMM: CONNECT <guid>, PATH_<guid> (see ConnectForm)
//! ```
//!
//! Rules: ids, names, cids and hybrid paths are unique; ids may not be wildcard GUIDs;
//! names are not empty nor only spaces, have no control characters and no `:`, and,
//! leading and trailing spaces aside, are not GUIDs and are not wildcard names (`any`,
//! `wildcard`, `zero`, `children`, `loopback`, `parent`, `broadcast`, `silohost`, in any
//! case); a cid is at least 3 and not `u32::MAX`
//! (0, 1 and 2 are reserved by vsock, `u32::MAX` is `VMADDR_CID_ANY`); hybrid paths are
//! stored absolute, and no VM's hybrid path is another's followed by `_SUFFIX` (the
//! name of that VM's listener socket for a port: see [`clash`]; checked when adding and
//! by every listener, as a table edited by hand may break it). `half_close` (`carried`
//! or `lost`, see [`HalfClose`]) is for hybrid VMs only; a hybrid entry without it is
//! `lost` (tables written before the field existed load so).
//!
//! ```
//! use hvsock::partitions::{PartitionKind, PartitionTable};
//! use hvsock::paths::Dirs;
//!
//! let tmp = tempfile::tempdir().unwrap();
//! let dirs = Dirs::new(tmp.path(), tmp.path().join("run"));
//! let id = PartitionTable::update(&dirs, |t| t.add("qemu1", None, PartitionKind::Cid { cid: 3 }))
//!     .unwrap();
//! let table = PartitionTable::load(&dirs).unwrap();
//! assert_eq!(table.by_cid(3).unwrap().id, id);
//! assert_eq!(table.find("qemu1").unwrap().id, id);
//! ```

use crate::addr::VmId;
use crate::addr::guid::Guid;
use crate::config::document::{self, Document};
use crate::config::paths::Dirs;
use crate::config::store;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Component, Path, PathBuf};

pub mod clash;
mod error;
mod form;
pub use error::PartitionError;
pub use form::ConnectForm;
mod half_close;
pub use half_close::HalfClose;
mod index;
pub use clash::HybridClash;

impl Serialize for VmId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> Deserialize<'de> for VmId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Guid::deserialize(d).map(VmId)
    }
}

/// How a partition is reached.
///
/// Serializes internally tagged, as in the table: `{kind = "cid", cid = 3}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum PartitionKind {
    /// A VM with a hybrid-vsock Unix socket at `path` (absolute).
    Hybrid {
        /// The VMM's hybrid-vsock socket.
        path: PathBuf,
    },
    /// A kernel vhost-vsock VM with context id `cid`.
    Cid {
        /// The guest's vsock CID (at least 3).
        cid: u32,
    },
    /// A local partition: processes or containers on this machine.
    Local,
}

impl PartitionKind {
    /// `"hybrid"`, `"cid"` or `"local"`, as in the TOML file and JSON output.
    pub fn as_str(&self) -> &'static str {
        match self {
            PartitionKind::Hybrid { .. } => "hybrid",
            PartitionKind::Cid { .. } => "cid",
            PartitionKind::Local => "local",
        }
    }
}

impl fmt::Display for PartitionKind {
    /// `hybrid:/path`, `cid:N` or `local`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PartitionKind::Hybrid { path } => write!(f, "hybrid:{}", path.display()),
            PartitionKind::Cid { cid } => write!(f, "cid:{cid}"),
            PartitionKind::Local => f.write_str("local"),
        }
    }
}

/// One partition (VM, or local partition).
///
/// Serializes flat: `id`, `name`, `kind` and, by kind, `path` or `cid`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "PartitionRecord", into = "PartitionRecord")]
pub struct Partition {
    /// The VM id.
    pub id: VmId,
    /// The unique name.
    pub name: String,
    /// How to reach it.
    pub kind: PartitionKind,
    /// For a local partition: only processes running as this user (or root) may act
    /// as it; the listener checks the kernel's peer credentials. `None`: any process
    /// that can reach the runtime dir may.
    pub uid: Option<u32>,
    /// For a hybrid VM: how its VMM names services that are not vsock ports.
    pub connect_form: ConnectForm,
    /// For a hybrid VM: whether its VMM carries a half-close. `None` for the other
    /// kinds, whose transports always carry it; read it with
    /// [`half_close`](Self::half_close).
    pub half_close: Option<HalfClose>,
}

impl Partition {
    /// Whether a half-close reaches this partition: the hybrid VM's recorded value
    /// (`Lost` if none), `Carried` for kernel vhost-vsock and local partitions.
    pub fn half_close(&self) -> HalfClose {
        match (&self.kind, self.half_close) {
            (PartitionKind::Hybrid { .. }, h) => h.unwrap_or(HalfClose::Lost),
            _ => HalfClose::Carried,
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PartitionRecord {
    id: VmId,
    name: String,
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    path: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cid: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    uid: Option<u32>,
    #[serde(default, skip_serializing_if = "ConnectForm::is_port")]
    connect_form: ConnectForm,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    half_close: Option<HalfClose>,
}

impl TryFrom<PartitionRecord> for Partition {
    type Error = String;
    fn try_from(r: PartitionRecord) -> Result<Partition, String> {
        let kind = match (r.kind.as_str(), r.path, r.cid) {
            ("hybrid", Some(path), None) => PartitionKind::Hybrid { path },
            ("cid", None, Some(cid)) => PartitionKind::Cid { cid },
            ("local", None, None) => PartitionKind::Local,
            ("hybrid", _, _) => return Err("kind \"hybrid\" needs `path` (and no `cid`)".into()),
            ("cid", _, _) => return Err("kind \"cid\" needs `cid` (and no `path`)".into()),
            ("local", _, _) => return Err("kind \"local\" takes neither `path` nor `cid`".into()),
            (k, _, _) => {
                return Err(format!(
                    "unknown kind {k:?}, expected \"hybrid\", \"cid\" or \"local\""
                ));
            }
        };
        if r.uid.is_some() && kind != PartitionKind::Local {
            return Err("`uid` is only for kind \"local\"".into());
        }
        if !r.connect_form.is_port() && !matches!(kind, PartitionKind::Hybrid { .. }) {
            return Err("`connect_form` is only for kind \"hybrid\"".into());
        }
        let half_close = match (&kind, r.half_close) {
            // What an entry from before the field means: the safe default.
            (PartitionKind::Hybrid { .. }, h) => Some(h.unwrap_or(HalfClose::Lost)),
            (_, None) => None,
            (_, Some(_)) => return Err("`half_close` is only for kind \"hybrid\"".into()),
        };
        Ok(Partition {
            id: r.id,
            name: r.name,
            kind,
            uid: r.uid,
            connect_form: r.connect_form,
            half_close,
        })
    }
}

impl From<Partition> for PartitionRecord {
    fn from(p: Partition) -> PartitionRecord {
        let kind = p.kind.as_str().to_string();
        let (path, cid) = match p.kind {
            PartitionKind::Hybrid { path } => (Some(path), None),
            PartitionKind::Cid { cid } => (None, Some(cid)),
            PartitionKind::Local => (None, None),
        };
        PartitionRecord {
            id: p.id,
            name: p.name,
            kind,
            path,
            cid,
            uid: p.uid,
            connect_form: p.connect_form,
            half_close: p.half_close,
        }
    }
}

/// The partition table: every known partition, in the order added.
///
/// Lookups by id, name, cid and hybrid path are hash lookups: loading a table of N
/// partitions costs O(N), and the lookups of the accept path O(1).
#[derive(Debug, Clone, Default)]
pub struct PartitionTable {
    partitions: Vec<Partition>,
    index: index::Index,
}

impl PartialEq for PartitionTable {
    fn eq(&self, other: &PartitionTable) -> bool {
        self.partitions == other.partitions
    }
}

impl Eq for PartitionTable {}

#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct TableFile {
    #[serde(default, rename = "partition")]
    partitions: Vec<Partition>,
}

/// Checks the naming rules for a partition name.
pub fn check_name(name: &str) -> Result<(), PartitionError> {
    let bad = |reason: &str| {
        Err(PartitionError::BadName {
            name: name.to_string(),
            reason: reason.to_string(),
        })
    };
    if name.is_empty() {
        return bad("a name may not be empty");
    }
    if name.chars().any(char::is_control) {
        return bad("a name may not contain control characters");
    }
    if name.contains(':') {
        return bad("a name may not contain ':' (addresses are VM:SERVICE)");
    }
    // Addresses trim the VM part before reading it as a GUID or wildcard, so the rules
    // apply to the trimmed name (found by fuzzing: " parent" was accepted but
    // ` parent:SERVICE` means the parent partition).
    let t = name.trim();
    if t.is_empty() {
        return bad("a name may not be only spaces");
    }
    if let Some(w) = VmId::from_wildcard_name(t) {
        return bad(&format!(
            "it is the name of the wildcard {w} (any, wildcard, zero, children, loopback, \
             parent, broadcast and silohost are reserved)"
        ));
    }
    if t.parse::<Guid>().is_ok() {
        return bad("a name may not be a GUID (it would be read as a VM id)");
    }
    Ok(())
}

/// Makes a hybrid socket path absolute: relative paths are taken against the current
/// directory, and the parent directory is canonicalized if it exists.
pub fn normalize_hybrid_path(path: &Path) -> Result<PathBuf, PartitionError> {
    let bad = |reason: String| PartitionError::BadPath {
        path: path.to_path_buf(),
        reason,
    };
    if path.as_os_str().is_empty() {
        return Err(bad("the path is empty".into()));
    }
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|e| bad(format!("cannot read the current directory: {e}")))?
            .join(path)
    };
    // Lexically drop `.` components so `file_name` sees the real last component.
    let abs: PathBuf = abs
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect();
    let (Some(parent), Some(name)) = (abs.parent(), abs.file_name()) else {
        return Err(bad("it does not name a socket file".into()));
    };
    if matches!(abs.components().next_back(), Some(Component::ParentDir)) {
        return Err(bad("it does not name a socket file".into()));
    }
    Ok(match parent.canonicalize() {
        Ok(p) => p.join(name),
        Err(_) => abs,
    })
}

impl PartitionTable {
    /// An empty table.
    pub fn new() -> PartitionTable {
        PartitionTable::default()
    }

    /// Reads the table of `dirs` (a missing file is an empty table); needs no lock.
    pub fn load(dirs: &Dirs) -> Result<PartitionTable, PartitionError> {
        PartitionTable::load_file(&dirs.partitions_file())
    }

    /// Reads a table file (a missing file is an empty table).
    pub fn load_file(path: &Path) -> Result<PartitionTable, PartitionError> {
        document::load(path)
    }

    /// Parses the text of a table file and checks every rule; `path` only names the file
    /// in errors. What [`load_file`](Self::load_file) does after reading the file.
    pub fn from_toml(path: &Path, text: &str) -> Result<PartitionTable, PartitionError> {
        let file: TableFile = store::parse_toml(path, text)?;
        let mut table = PartitionTable::default();
        for (i, p) in file.partitions.into_iter().enumerate() {
            let invalid = |e: PartitionError| PartitionError::Invalid {
                path: path.to_path_buf(),
                message: format!("entry {} ({:?}): {e}", i + 1, p.name),
            };
            if let PartitionKind::Hybrid { path: hp } = &p.kind
                && !hp.is_absolute()
            {
                return Err(invalid(PartitionError::BadPath {
                    path: hp.clone(),
                    reason: "stored paths must be absolute".into(),
                }));
            }
            table.check_new(p.id, &p.name, &p.kind).map_err(invalid)?;
            table.push(p);
        }
        Ok(table)
    }

    /// The table as the text of `partitions.toml`.
    pub fn to_toml(&self) -> String {
        toml::to_string(&TableFile {
            partitions: self.partitions.clone(),
        })
        .expect("partitions always serialize")
    }

    /// Locks the table of `dirs`, loads it, applies `f` and, if `f` succeeds, saves it
    /// atomically. A file that cannot be read or parsed is left untouched.
    pub fn update<T>(
        dirs: &Dirs,
        f: impl FnOnce(&mut PartitionTable) -> Result<T, PartitionError>,
    ) -> Result<T, PartitionError> {
        PartitionTable::update_file(&dirs.partitions_file(), f)
    }

    /// [`update`](Self::update) on an explicit file.
    pub fn update_file<T>(
        path: &Path,
        f: impl FnOnce(&mut PartitionTable) -> Result<T, PartitionError>,
    ) -> Result<T, PartitionError> {
        document::update(path, f)
    }

    /// Every partition, in the order added.
    pub fn partitions(&self) -> &[Partition] {
        &self.partitions
    }

    /// The partition with this id.
    pub fn get(&self, id: VmId) -> Option<&Partition> {
        self.index.by_id.get(&id).map(|&i| &self.partitions[i])
    }

    fn push(&mut self, p: Partition) {
        self.index.insert(self.partitions.len(), &p);
        self.partitions.push(p);
    }

    /// The partition named by a GUID (any case, braces optional) or its exact name.
    pub fn find(&self, id_or_name: &str) -> Option<&Partition> {
        self.position(id_or_name).map(|i| &self.partitions[i])
    }

    fn position(&self, id_or_name: &str) -> Option<usize> {
        document::position(id_or_name, &self.index.by_id, &self.index.by_name, VmId)
    }

    /// The kernel vhost-vsock VM with this cid.
    pub fn by_cid(&self, cid: u32) -> Option<&Partition> {
        self.index.by_cid.get(&cid).map(|&i| &self.partitions[i])
    }

    /// The hybrid-vsock VM with this socket (the query is normalized like stored paths).
    pub fn by_hybrid_path(&self, path: &Path) -> Option<&Partition> {
        if let Some(&i) = self.index.by_path.get(path) {
            return Some(&self.partitions[i]);
        }
        let norm = index::normalized_bytes(path);
        let i = *self.index.normalized(&self.partitions).get(&norm)?;
        Some(&self.partitions[i])
    }

    /// Whether a partition could be added (every rule, against every entry). `kind`
    /// must already be normalized.
    pub fn check_new(
        &self,
        id: VmId,
        name: &str,
        kind: &PartitionKind,
    ) -> Result<(), PartitionError> {
        if let Some(w) = id.wildcard_name() {
            return Err(PartitionError::WildcardId { id, name: w });
        }
        check_name(name)?;
        if let Some(p) = self.get(id) {
            return Err(PartitionError::DuplicateId {
                id,
                existing_name: p.name.clone(),
            });
        }
        if let Some(p) = self.index.by_name.get(name).map(|&i| &self.partitions[i]) {
            return Err(PartitionError::DuplicateName {
                name: name.to_string(),
                existing_id: p.id,
            });
        }
        match kind {
            PartitionKind::Cid { cid } => {
                if *cid < 3 || *cid == u32::MAX {
                    return Err(PartitionError::ReservedCid(*cid));
                }
                if let Some(p) = self.by_cid(*cid) {
                    return Err(PartitionError::DuplicateCid {
                        cid: *cid,
                        existing_name: p.name.clone(),
                        existing_id: p.id,
                    });
                }
            }
            PartitionKind::Hybrid { path } => {
                if let Some(p) = self.index.by_path.get(path).map(|&i| &self.partitions[i]) {
                    return Err(PartitionError::DuplicatePath {
                        path: path.clone(),
                        existing_name: p.name.clone(),
                        existing_id: p.id,
                    });
                }
            }
            PartitionKind::Local => {}
        }
        Ok(())
    }

    /// Adds a partition; with `id` `None`, a random v4 GUID. A hybrid path is made
    /// absolute first (see [`normalize_hybrid_path`]) and may not clash with another
    /// VM's (see [`clash`]: no VM's socket may be another's `PATH_SUFFIX`).
    pub fn add(
        &mut self,
        name: &str,
        id: Option<VmId>,
        kind: PartitionKind,
    ) -> Result<VmId, PartitionError> {
        let kind = match kind {
            PartitionKind::Hybrid { path } => PartitionKind::Hybrid {
                path: normalize_hybrid_path(&path)?,
            },
            k => k,
        };
        let id = match id {
            Some(id) => id,
            None => loop {
                let id = VmId(Guid::new_v4());
                if self.get(id).is_none() {
                    break id;
                }
            },
        };
        self.check_new(id, name, &kind)?;
        if let PartitionKind::Hybrid { path } = &kind {
            self.check_hybrid_path(path, None)?;
        }
        let half_close = match kind {
            PartitionKind::Hybrid { .. } => Some(HalfClose::Lost),
            _ => None,
        };
        self.push(Partition {
            id,
            name: name.to_string(),
            kind,
            uid: None,
            connect_form: ConnectForm::Port,
            half_close,
        });
        Ok(id)
    }

    /// Sets how a hybrid VM's VMM (by id or name) names services that are not vsock
    /// ports (see [`ConnectForm`]).
    pub fn set_connect_form(
        &mut self,
        id_or_name: &str,
        form: ConnectForm,
    ) -> Result<(), PartitionError> {
        let i = self
            .position(id_or_name)
            .ok_or_else(|| PartitionError::NotFound(id_or_name.to_string()))?;
        let p = &mut self.partitions[i];
        if !form.is_port() && !matches!(p.kind, PartitionKind::Hybrid { .. }) {
            return Err(PartitionError::ConnectFormNotHybrid(p.name.clone()));
        }
        p.connect_form = form;
        Ok(())
    }

    /// Sets or clears the owner uid of a local partition (by id or name).
    pub fn set_uid(&mut self, id_or_name: &str, uid: Option<u32>) -> Result<(), PartitionError> {
        let i = self
            .position(id_or_name)
            .ok_or_else(|| PartitionError::NotFound(id_or_name.to_string()))?;
        let p = &mut self.partitions[i];
        if uid.is_some() && p.kind != PartitionKind::Local {
            return Err(PartitionError::NotLocal(p.name.clone()));
        }
        p.uid = uid;
        Ok(())
    }

    /// Records whether a hybrid VM's VMM carries a half-close (by id or name).
    pub fn set_half_close(
        &mut self,
        id_or_name: &str,
        half_close: HalfClose,
    ) -> Result<(), PartitionError> {
        let i = self
            .position(id_or_name)
            .ok_or_else(|| PartitionError::NotFound(id_or_name.to_string()))?;
        let p = &mut self.partitions[i];
        if !matches!(p.kind, PartitionKind::Hybrid { .. }) {
            return Err(PartitionError::NotHybrid(p.name.clone()));
        }
        p.half_close = Some(half_close);
        Ok(())
    }

    /// Removes a partition by id or name; returns it.
    pub fn remove(&mut self, id_or_name: &str) -> Result<Partition, PartitionError> {
        let i = self
            .position(id_or_name)
            .ok_or_else(|| PartitionError::NotFound(id_or_name.to_string()))?;
        let p = self.partitions.remove(i);
        // Positions after `i` moved: rebuild (one removal is O(N) anyway).
        self.index = index::Index::build(&self.partitions);
        Ok(p)
    }
}

impl Document for PartitionTable {
    type Error = PartitionError;
    fn parse(path: &Path, text: &str) -> Result<PartitionTable, PartitionError> {
        PartitionTable::from_toml(path, text)
    }
    fn render(&self) -> String {
        self.to_toml()
    }
}

#[cfg(test)]
#[cfg(unix)] // symlinks and Unix modes
mod tests;
