//! Positions in a [`PartitionTable`](super::PartitionTable) by id, name, cid and hybrid
//! path, so that loading a table of N entries and every lookup on the accept path cost
//! O(N) and O(1) (or O(log N)), not O(N²) and O(N).

use super::{Partition, PartitionKind, normalize_hybrid_path};
use crate::addr::VmId;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

#[derive(Debug, Clone, Default)]
pub(super) struct Index {
    pub by_id: HashMap<VmId, usize>,
    pub by_name: HashMap<String, usize>,
    pub by_cid: HashMap<u32, usize>,
    /// Hybrid paths as stored.
    pub by_path: HashMap<PathBuf, usize>,
    /// Hybrid paths normalized now (directories may have become symlinks since they
    /// were stored), as bytes so that `PATH_*` is a range; built on first use, once per
    /// loaded table.
    normalized: OnceLock<BTreeMap<Vec<u8>, usize>>,
}

impl Index {
    pub fn build(partitions: &[Partition]) -> Index {
        let mut ix = Index::default();
        for (i, p) in partitions.iter().enumerate() {
            ix.insert(i, p);
        }
        ix
    }

    pub fn insert(&mut self, i: usize, p: &Partition) {
        self.by_id.insert(p.id, i);
        self.by_name.insert(p.name.clone(), i);
        match &p.kind {
            PartitionKind::Cid { cid } => {
                self.by_cid.insert(*cid, i);
            }
            PartitionKind::Hybrid { path } => {
                self.by_path.insert(path.clone(), i);
                // Keep a built map current rather than building it again.
                if let Some(m) = self.normalized.get_mut() {
                    m.entry(normalized_bytes(path)).or_insert(i);
                }
            }
            PartitionKind::Local => {}
        }
    }

    /// Normalized hybrid path (bytes) -> position; the first entry wins a tie.
    pub fn normalized(&self, partitions: &[Partition]) -> &BTreeMap<Vec<u8>, usize> {
        self.normalized.get_or_init(|| {
            let mut m = BTreeMap::new();
            for (i, p) in partitions.iter().enumerate() {
                if let PartitionKind::Hybrid { path } = &p.kind {
                    m.entry(normalized_bytes(path)).or_insert(i);
                }
            }
            m
        })
    }
}

/// `path` normalized like stored paths are when added (itself if it cannot be), as bytes.
pub(super) fn normalized_bytes(path: &Path) -> Vec<u8> {
    normalize_hybrid_path(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .into_os_string()
        .into_encoded_bytes()
}
