//! A Parquet file on any [`Storage`], read by byte ranges: the footer first,
//! then only the column chunks of the row groups and columns a task needs
//! (ranged GETs on S3). Page headers, which the parquet crate parses from a
//! reader a few bytes at a time, are read from one small ranged read.

use crate::storage::Storage;
use bytes::Bytes;
use parquet::errors::ParquetError;
use parquet::file::reader::{ChunkReader, Length};
use std::io::{Cursor, Read};
use std::sync::Arc;

/// How much of the file [`ChunkReader::get_read`] reads at once: enough for
/// a page header (its statistics included) in all but rare cases.
const READ_AHEAD: u64 = 16 << 10;

/// One file of a storage, as the parquet crate reads it.
pub(crate) struct StorageFile {
    pub storage: Arc<dyn Storage>,
    pub path: Arc<str>,
    pub size: u64,
}

impl Length for StorageFile {
    fn len(&self) -> u64 {
        self.size
    }
}

impl ChunkReader for StorageFile {
    type T = Box<dyn Read + Send>;

    /// The file from `start` on: the first [`READ_AHEAD`] bytes from one
    /// ranged read, the rest (rarely needed) opened when it is reached.
    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        let end = self.size.min(start.saturating_add(READ_AHEAD));
        let head = self
            .storage
            .read_range(&self.path, start..end)
            .map_err(|e| ParquetError::External(Box::new(e)))?;
        let rest = Rest {
            storage: self.storage.clone(),
            path: self.path.clone(),
            from: start + head.len() as u64,
            reader: None,
        };
        Ok(Box::new(Cursor::new(head).chain(rest)))
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        let bytes = self
            .storage
            .read_range(&self.path, start..start + length as u64)
            .map_err(|e| ParquetError::External(Box::new(e)))?;
        if bytes.len() != length {
            return Err(ParquetError::EOF(format!(
                "expected {length} bytes at offset {start}, the file has {}",
                bytes.len()
            )));
        }
        Ok(Bytes::from(bytes))
    }
}

/// The file from `from` on, opened at the first read.
struct Rest {
    storage: Arc<dyn Storage>,
    path: Arc<str>,
    from: u64,
    reader: Option<Box<dyn Read + Send>>,
}

impl Read for Rest {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let reader = match &mut self.reader {
            Some(reader) => reader,
            None => self.reader.insert(
                self.storage
                    .open_from(&self.path, self.from)
                    .map_err(std::io::Error::other)?,
            ),
        };
        reader.read(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::storage_for;

    #[test]
    fn get_read_continues_past_the_read_ahead() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data");
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        let path = path.to_str().unwrap();
        let file = StorageFile {
            storage: storage_for(path).unwrap(),
            path: path.into(),
            size: data.len() as u64,
        };
        for start in [0, 5, 99_999, 100_000] {
            let mut read = Vec::new();
            file.get_read(start)
                .unwrap()
                .read_to_end(&mut read)
                .unwrap();
            assert_eq!(read, data[start as usize..], "from {start}");
        }
        assert_eq!(file.get_bytes(20_000, 3).unwrap(), data[20_000..20_003]);
        assert!(file.get_bytes(99_999, 2).is_err());
    }
}
