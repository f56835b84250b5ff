//! A Parquet file on any [`Storage`], read by byte ranges: the footer first,
//! then only the column chunks of the row groups and columns a task needs
//! (ranged GETs on S3).

use crate::storage::Storage;
use bytes::Bytes;
use parquet::errors::ParquetError;
use parquet::file::reader::{ChunkReader, Length};
use std::io::Read;
use std::sync::Arc;

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

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        self.storage
            .open_from(&self.path, start)
            .map_err(|e| ParquetError::External(Box::new(e)))
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
