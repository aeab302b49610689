//! Small file-system listings for assertions.

use std::path::Path;

/// The names in `dir`, sorted.
pub fn dir_entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Whether `name` is a copy temp file's: `.hvsock-XXXXXX.tmp` (or the older
/// `.NAME.XXXXXX.hvsock-tmp`).
pub fn is_temp_file_name(name: &str) -> bool {
    (name.starts_with(".hvsock-") && name.ends_with(".tmp")) || name.ends_with(".hvsock-tmp")
}
