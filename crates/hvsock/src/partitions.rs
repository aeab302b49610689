//! Partition table (temporary minimal version; replaced by the full one).
#![allow(missing_docs)]
use crate::paths::Dirs;
use crate::{Guid, VmId};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum PartitionKind {
    Hybrid { path: PathBuf },
    Cid { cid: u32 },
    Local,
}
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Partition {
    pub id: VmId,
    pub name: String,
    #[serde(flatten)]
    pub kind: PartitionKind,
}
impl serde::Serialize for VmId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}
impl<'de> serde::Deserialize<'de> for VmId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Guid::deserialize(d).map(VmId)
    }
}
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PartitionError(pub String);

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct PartitionTable {
    #[serde(default)]
    partition: Vec<Partition>,
}
impl PartitionTable {
    pub fn load(dirs: &Dirs) -> Result<PartitionTable, PartitionError> {
        Self::load_file(&dirs.partitions_file())
    }
    pub fn load_file(path: &Path) -> Result<PartitionTable, PartitionError> {
        match std::fs::read_to_string(path) {
            Ok(s) => toml::from_str(&s).map_err(|e| PartitionError(format!("{}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(PartitionTable::default()),
            Err(e) => Err(PartitionError(format!("{}: {e}", path.display()))),
        }
    }
    pub fn partitions(&self) -> &[Partition] {
        &self.partition
    }
    pub fn get(&self, id: VmId) -> Option<&Partition> {
        self.partition.iter().find(|p| p.id == id)
    }
    pub fn find(&self, q: &str) -> Option<&Partition> {
        match q.parse::<Guid>() {
            Ok(id) => self.get(VmId(id)),
            Err(_) => self.partition.iter().find(|p| p.name == q),
        }
    }
    pub fn by_cid(&self, cid: u32) -> Option<&Partition> {
        self.partition.iter().find(|p| p.kind == PartitionKind::Cid { cid })
    }
    pub fn by_hybrid_path(&self, path: &Path) -> Option<&Partition> {
        self.partition.iter().find(|p| matches!(&p.kind, PartitionKind::Hybrid { path: q } if q == path))
    }
    pub fn update<T>(dirs: &Dirs, f: impl FnOnce(&mut PartitionTable) -> Result<T, PartitionError>) -> Result<T, PartitionError> {
        let mut r = Self::load(dirs)?;
        let t = f(&mut r)?;
        std::fs::create_dir_all(&dirs.config).map_err(|e| PartitionError(e.to_string()))?;
        let tmp = dirs.partitions_file().with_extension("tmp");
        std::fs::write(&tmp, toml::to_string(&r).unwrap()).map_err(|e| PartitionError(e.to_string()))?;
        std::fs::rename(&tmp, dirs.partitions_file()).map_err(|e| PartitionError(e.to_string()))?;
        Ok(t)
    }
    pub fn add(&mut self, name: &str, id: Option<VmId>, kind: PartitionKind) -> Result<VmId, PartitionError> {
        let id = id.unwrap_or_else(|| VmId(Guid::new_v4()));
        self.partition.push(Partition { id, name: name.into(), kind });
        Ok(id)
    }
    pub fn remove(&mut self, q: &str) -> Result<Partition, PartitionError> {
        let id = self.find(q).ok_or_else(|| PartitionError("no such partition".into()))?.id;
        let i = self.partition.iter().position(|p| p.id == id).unwrap();
        Ok(self.partition.remove(i))
    }
}
