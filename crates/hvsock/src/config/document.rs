//! The one load-modify-store path of the config files that hvsock edits (the service
//! registry and the partition table): read the whole file (a missing file is an empty
//! document), check every rule, and on update hold the file's lock from before the
//! read until the new text has atomically replaced the old (see [`super::store`]).

use super::store::{self, StoreError};
use crate::addr::guid::Guid;
use std::collections::HashMap;
use std::hash::Hash;
use std::path::Path;

/// A config document kept whole in one TOML file.
pub(crate) trait Document: Default {
    /// The document's error, which file errors convert into.
    type Error: From<StoreError>;
    /// Parses the text of the file and checks every rule; `path` only names the file.
    fn parse(path: &Path, text: &str) -> Result<Self, Self::Error>;
    /// The document as the text of its file.
    fn render(&self) -> String;
}

/// Reads a document file; a missing file is an empty document. Needs no lock: the
/// file is only ever replaced whole.
pub(crate) fn load<D: Document>(path: &Path) -> Result<D, D::Error> {
    match store::read_optional(path)? {
        None => Ok(D::default()),
        Some(text) => D::parse(path, &text),
    }
}

/// Locks the file, loads the document, applies `f` and, if `f` succeeds, saves it
/// atomically. A file that cannot be read or parsed is left untouched, and so is the
/// file when `f` fails.
pub(crate) fn update<D: Document, T>(
    path: &Path,
    f: impl FnOnce(&mut D) -> Result<T, D::Error>,
) -> Result<T, D::Error> {
    let _lock = store::lock(path)?;
    let mut doc = load::<D>(path)?;
    let out = f(&mut doc)?;
    store::write_atomic(path, doc.render().as_bytes())?;
    Ok(out)
}

/// The position of the entry named by a GUID (any case, braces optional, surrounding
/// spaces ignored) or by its exact name.
pub(crate) fn position<K: Eq + Hash>(
    id_or_name: &str,
    by_id: &HashMap<K, usize>,
    by_name: &HashMap<String, usize>,
    key: impl FnOnce(Guid) -> K,
) -> Option<usize> {
    match id_or_name.trim().parse::<Guid>() {
        Ok(g) => by_id.get(&key(g)).copied(),
        Err(_) => by_name.get(id_or_name).copied(),
    }
}
