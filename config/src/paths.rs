//! Paths in the config are relative to the config file's directory.

use std::path::{Path, PathBuf};

/// `path` if absolute, else `base/path`.
pub(crate) fn resolve(base: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    }
}
