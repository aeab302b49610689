//! Checks shared by the config-file targets (`registry_toml`, `partitions_toml`).

use std::fmt::{Debug, Display};

/// A document that loaded renders (`out`) to text that `parse` loads back equal.
pub fn loads_back<T: PartialEq + Debug, E: Display>(
    doc: &T,
    out: String,
    parse: impl FnOnce(&str) -> Result<T, E>,
) {
    let back = parse(&out).unwrap_or_else(|e| panic!("{out:?} does not load back: {e}"));
    assert_eq!(&back, doc);
}

/// A file that does not load says which: its message names `file`.
pub fn names_file(e: &impl Display, file: &str) {
    let msg = e.to_string();
    assert!(msg.contains(file), "{msg}");
}
