//! Resolving an input path: a file, a directory (its visible files) or a
//! glob pattern.

use barks_runtime::{Error, Result};
use std::path::{Path, PathBuf};

/// The files `path` names, sorted, with their sizes. A directory yields its
/// files except hidden ones (`.x`, `_x`, like Spark); a pattern with `*`,
/// `?` or `[` is a glob. Naming nothing that exists is an error.
pub fn list_inputs(path: &str) -> Result<Vec<(PathBuf, u64)>> {
    let p = Path::new(path);
    let mut files: Vec<PathBuf> = if p.is_dir() {
        std::fs::read_dir(p)
            .map_err(|e| Error::io(p, e))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|f| f.is_file() && !is_hidden(f))
            .collect()
    } else if p.is_file() {
        vec![p.to_path_buf()]
    } else if path.contains(['*', '?', '[']) {
        glob::glob(path)
            .map_err(|e| Error::io(p, format!("invalid glob pattern: {e}")))?
            .filter_map(|entry| entry.ok())
            .filter(|f| f.is_file() && !is_hidden(f))
            .collect()
    } else {
        return Err(Error::io(p, "no such file or directory"));
    };
    if files.is_empty() && !p.is_dir() {
        return Err(Error::io(p, "the pattern matches no file"));
    }
    files.sort();
    files
        .into_iter()
        .map(|f| {
            let len = std::fs::metadata(&f).map_err(|e| Error::io(&f, e))?.len();
            Ok((f, len))
        })
        .collect()
}

fn is_hidden(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.') || n.starts_with('_'))
}
