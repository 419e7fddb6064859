//! Where the tests of captured runs read them from: the file an e2e run names in an
//! environment variable, else the fixtures committed under `events/` (written by
//! `python3 -m rehearsal.capture`).

use std::path::{Path, PathBuf};

/// The file named by `var` when it is set, else every `*.json` in `events/<dir>`, sorted.
pub fn files(var: &str, dir: &str) -> Vec<PathBuf> {
    if let Some(file) = std::env::var_os(var) {
        return vec![PathBuf::from(file)];
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("events")
        .join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{dir:?}: {e}"))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    files
}
