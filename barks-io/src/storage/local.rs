//! The local filesystem as a [`Storage`].

use super::{FileMeta, ObjectWrite, Storage};
use barks_runtime::{Error, Result};
use std::fs::{self, File};
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};

/// Files on this machine's filesystem (or a filesystem every worker mounts).
#[derive(Debug, Clone, Copy, Default)]
pub struct LocalStorage;

impl Storage for LocalStorage {
    fn list(&self, path: &str) -> Result<Vec<FileMeta>> {
        let p = Path::new(path);
        let mut files: Vec<PathBuf> = if p.is_dir() {
            fs::read_dir(p)
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
                let size = fs::metadata(&f).map_err(|e| Error::io(&f, e))?.len();
                Ok(FileMeta {
                    path: f.to_string_lossy().into_owned(),
                    size,
                })
            })
            .collect()
    }

    fn read_range(&self, path: &str, range: Range<u64>) -> Result<Vec<u8>> {
        let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
        file.seek(SeekFrom::Start(range.start))
            .map_err(|e| Error::io(path, e))?;
        let mut buf = Vec::with_capacity(range.end.saturating_sub(range.start) as usize);
        file.take(range.end.saturating_sub(range.start))
            .read_to_end(&mut buf)
            .map_err(|e| Error::io(path, e))?;
        Ok(buf)
    }

    fn open_from(&self, path: &str, start: u64) -> Result<Box<dyn Read + Send>> {
        let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
        if start > 0 {
            file.seek(SeekFrom::Start(start))
                .map_err(|e| Error::io(path, e))?;
        }
        Ok(Box::new(file))
    }

    fn create(&self, path: &str) -> Result<Box<dyn ObjectWrite>> {
        let target = PathBuf::from(path);
        if let Some(dir) = target.parent() {
            fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let temp = target.with_file_name(format!(".{name}.inprogress"));
        let file = File::create(&temp).map_err(|e| Error::io(&temp, e))?;
        Ok(Box::new(LocalWrite {
            out: Some(BufWriter::with_capacity(1 << 20, file)),
            temp,
            target,
        }))
    }

    fn rename(&self, from: &str, to: &str) -> Result<()> {
        if let Some(dir) = Path::new(to).parent() {
            fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        fs::rename(from, to).map_err(|e| Error::io(from, format!("cannot move to {to}: {e}")))
    }

    fn remove_all(&self, path: &str) -> Result<()> {
        match fs::remove_dir_all(path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => {
                fs::remove_file(path).map_err(|e| Error::io(path, e))
            }
            Err(e) => Err(Error::io(path, e)),
        }
    }

    fn has_entries(&self, path: &str) -> Result<bool> {
        match fs::read_dir(path) {
            Ok(mut entries) => Ok(entries.next().is_some()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => Ok(true),
            Err(e) => Err(Error::io(path, e)),
        }
    }
}

fn is_hidden(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.') || n.starts_with('_'))
}

/// A local file written under a hidden temporary name and renamed into place
/// by `finish`.
struct LocalWrite {
    out: Option<BufWriter<File>>,
    temp: PathBuf,
    target: PathBuf,
}

impl Write for LocalWrite {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.out.as_mut().expect("written after finish").write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.out.as_mut().expect("flushed after finish").flush()
    }
}

impl ObjectWrite for LocalWrite {
    fn finish(mut self: Box<Self>) -> Result<()> {
        let out = self.out.take().expect("finished twice");
        let file = out
            .into_inner()
            .map_err(|e| Error::io(&self.temp, e.error()))?;
        file.sync_data().map_err(|e| Error::io(&self.temp, e))?;
        fs::rename(&self.temp, &self.target).map_err(|e| Error::io(&self.target, e))
    }
}

impl Drop for LocalWrite {
    fn drop(&mut self) {
        if self.out.is_some() {
            let _ = fs::remove_file(&self.temp);
        }
    }
}
