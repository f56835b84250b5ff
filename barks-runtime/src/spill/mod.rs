//! Data over the memory budget, on local disk: [spill files](file)
//! (compressed, checksummed segments with an in-memory index), the
//! [directory](dir) they live in and its cleanup, and the [`SpillArea`]
//! that makes that directory the first time something spills.

pub(crate) mod dir;
pub(crate) mod file;

use crate::error::Result;
use dir::SpillDir;
use file::SpillFile;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// A process's place for spill files: a directory of its own inside `base`,
/// made when something first spills (a process that never spills leaves no
/// trace) and removed, with everything in it, when the area is dropped.
#[derive(Debug)]
pub(crate) struct SpillArea {
    base: PathBuf,
    dir: Mutex<Option<Arc<SpillDir>>>,
}

impl SpillArea {
    /// An area in `base`; nothing is created yet.
    pub fn new(base: PathBuf) -> SpillArea {
        SpillArea {
            base,
            dir: Mutex::new(None),
        }
    }

    /// The directory in which this process's spill directory is made.
    pub fn base(&self) -> &Path {
        &self.base
    }

    /// The process's spill directory, made now if it does not exist yet.
    pub fn dir(&self) -> Result<Arc<SpillDir>> {
        let mut dir = self.lock();
        if let Some(dir) = dir.as_ref() {
            return Ok(dir.clone());
        }
        let made = Arc::new(SpillDir::create(&self.base)?);
        log::info!("spilling to {}", made.path().display());
        *dir = Some(made.clone());
        Ok(made)
    }

    /// Writes `segments` to a new spill file of job run `run`; `what` names
    /// its content in the file's name.
    pub fn write(&self, run: u64, what: &str, segments: &[Vec<u8>]) -> Result<SpillFile> {
        SpillFile::write(self.dir()?.file_for(run, what)?, segments)
    }

    /// Removes everything job run `run` spilled.
    pub fn drop_run(&self, run: u64) {
        if let Some(dir) = self.lock().as_ref() {
            dir.drop_run(run);
        }
    }

    /// Removes the spill directory now, with everything in it; a later
    /// spill makes a new one.
    pub fn remove(&self) {
        if let Some(dir) = self.lock().take() {
            dir.remove();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Arc<SpillDir>>> {
        self.dir.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for SpillArea {
    fn drop(&mut self) {
        self.remove();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use file::tests::Scratch;

    #[test]
    fn the_directory_is_made_on_the_first_spill_and_removed_with_the_area() {
        let base = Scratch::new("spill-area");
        let area = SpillArea::new(base.0.join("spills"));
        area.drop_run(1);
        assert!(!base.0.join("spills").exists(), "nothing spilled yet");
        let file = area.write(1, "sort-run", &[b"abc".to_vec()]).unwrap();
        assert_eq!(file.read(0).unwrap(), b"abc");
        let root = area.dir().unwrap().path().to_path_buf();
        assert!(file.path().starts_with(&root));
        area.drop_run(1);
        assert!(!file.path().exists(), "the run's files go with it");
        drop(area);
        assert!(!root.exists(), "the directory goes with the area");
    }
}
