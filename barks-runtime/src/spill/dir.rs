//! A process's spill directory: `barks-spill-<pid>-<nonce>` inside the
//! configured directory, one subdirectory per job run
//! (`run-<run>/<what>-<n>.data`, e.g. `shuffle-2-map-7-13.data`). A run's
//! subdirectory goes when the run ends; the whole directory goes when the
//! process is done with it (a worker exits, a context is dropped).
//! Directories left by processes that died without cleaning up (`kill -9`)
//! are removed by the next one that spills in the same place.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

const PREFIX: &str = "barks-spill-";

/// This process's own spill directory.
#[derive(Debug)]
pub(crate) struct SpillDir {
    root: PathBuf,
    /// Numbers the files, so a recomputed output never reuses a name.
    next: AtomicU64,
}

impl SpillDir {
    /// Makes a new spill directory in `base` (created if missing), after
    /// removing the ones of dead workers.
    pub fn create(base: &Path) -> Result<SpillDir> {
        let hint = "set --spill-dir or BARKS_SPILL_DIR to a writable directory";
        std::fs::create_dir_all(base).map_err(|e| {
            Error::io(
                base,
                format!("cannot create the spill directory: {e}; {hint}"),
            )
        })?;
        remove_dead_workers_dirs(base);
        let nonce = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let root = base.join(format!("{PREFIX}{}-{nonce:x}", std::process::id()));
        std::fs::create_dir(&root).map_err(|e| {
            Error::io(
                &root,
                format!("cannot create the spill directory: {e}; {hint}"),
            )
        })?;
        Ok(SpillDir {
            root,
            next: AtomicU64::new(0),
        })
    }

    /// The directory itself.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// A fresh path for a spill file of job run `run` (`what` says what it
    /// holds, e.g. `shuffle-2-map-7`), in the run's subdirectory (created if
    /// needed).
    pub fn file_for(&self, run: u64, what: &str) -> Result<PathBuf> {
        let dir = self.run_path(run);
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::io(&dir, format!("cannot create a spill directory: {e}")))?;
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        Ok(dir.join(format!("{what}-{n}.data")))
    }

    /// Removes everything job run `run` spilled.
    pub fn drop_run(&self, run: u64) {
        remove(&self.run_path(run));
    }

    /// Removes the whole directory.
    pub fn remove(&self) {
        remove(&self.root);
    }

    /// The subdirectory of job run `run` (not created here).
    pub fn run_path(&self, run: u64) -> PathBuf {
        self.root.join(format!("run-{run}"))
    }
}

fn remove(dir: &Path) {
    if let Err(e) = std::fs::remove_dir_all(dir)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        log::warn!("cannot remove spill directory {}: {e}", dir.display());
    }
}

/// Removes the spill directories in `base` whose process is gone (Linux:
/// no `/proc/<pid>`). Elsewhere nothing is removed.
fn remove_dead_workers_dirs(base: &Path) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(PREFIX))
            .and_then(|rest| rest.split_once('-'))
            .and_then(|(pid, _)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if !Path::new("/proc").join(pid.to_string()).exists() {
            log::info!(
                "removing {}, left by process {pid} which is gone",
                entry.path().display()
            );
            remove(&entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spill::file::tests::Scratch;

    #[test]
    fn files_go_in_run_directories_that_go_with_their_run_and_the_worker() {
        let base = Scratch::new("spill-dir");
        let dir = SpillDir::create(&base.0.join("made/by/the/worker")).unwrap();
        assert!(dir.path().is_dir());
        let a = dir.file_for(7, "shuffle-1-map-0").unwrap();
        let b = dir.file_for(7, "shuffle-1-map-0").unwrap();
        let c = dir.file_for(8, "sort-run").unwrap();
        assert_ne!(a, b, "a recomputed output gets a new name");
        for f in [&a, &b, &c] {
            std::fs::write(f, b"x").unwrap();
        }
        dir.drop_run(7);
        assert!(!a.exists() && !b.exists() && c.exists());
        dir.drop_run(7);
        dir.remove();
        assert!(!dir.path().exists());
    }

    #[test]
    fn an_unusable_directory_is_a_clear_error() {
        let base = Scratch::new("spill-dir-bad");
        let file = base.0.join("a-file");
        std::fs::write(&file, b"not a directory").unwrap();
        let err = SpillDir::create(&file.join("spill"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&file.join("spill").display().to_string())
                && err.contains("cannot create the spill directory")
                && err.contains("BARKS_SPILL_DIR"),
            "{err}"
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn directories_of_dead_workers_are_removed_and_live_ones_kept() {
        let base = Scratch::new("spill-dir-dead");
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let dead_dir = base.0.join(format!("{PREFIX}{dead}-1f"));
        let live_dir = base.0.join(format!("{PREFIX}1-1f"));
        let other = base.0.join("barks-spill-notes");
        for d in [&dead_dir, &live_dir, &other] {
            std::fs::create_dir_all(d.join("run-1")).unwrap();
        }
        let dir = SpillDir::create(&base.0).unwrap();
        assert!(!dead_dir.exists(), "the dead worker's directory is gone");
        assert!(live_dir.exists(), "pid 1 is alive");
        assert!(other.exists(), "not a worker's directory");
        assert!(dir.path().exists());
    }
}
