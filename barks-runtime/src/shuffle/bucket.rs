//! [`Bucket`]: the records one map task sends to one reduce partition,
//! appended in chunks that never move.
//!
//! A map task does not know how many records each reduce partition will
//! get. In a `Vec` grown by doubling, every record of a big bucket is
//! copied about once more, and the process touches twice the bucket's size
//! in fresh memory, which the kernel zeroes page by page (a large part of
//! `pagerank`'s first stages in `perf record` on the benchmark machines).
//! A bucket grows as a `Vec` only up to
//! [`CHUNK_BYTES`]; past that it adds chunks of that size, so nothing is
//! copied again, and the chunks, all of one size, are reused by the
//! allocator for the next shuffle's buckets once the last reader is done.
//!
//! Encoded, a bucket is the sequence of its records, the same bytes as a
//! `Vec` of them.

use serde::ser::{Serialize, SerializeSeq, Serializer};
use std::mem::size_of;

/// The size of a full chunk.
const CHUNK_BYTES: usize = 256 * 1024;

/// One reduce partition's records from one map task (see the
/// [module docs](self)).
pub(crate) struct Bucket<T> {
    /// Chunks filled to their capacity, in order.
    full: Vec<Vec<T>>,
    /// The chunk records are appended to.
    open: Vec<T>,
}

impl<T> Default for Bucket<T> {
    fn default() -> Self {
        Bucket {
            full: Vec::new(),
            open: Vec::new(),
        }
    }
}

impl<T> From<Vec<T>> for Bucket<T> {
    fn from(records: Vec<T>) -> Self {
        Bucket {
            full: Vec::new(),
            open: records,
        }
    }
}

impl<T> Bucket<T> {
    /// The records a full chunk holds.
    fn chunk_records() -> usize {
        (CHUNK_BYTES / size_of::<T>().max(1)).max(1)
    }

    /// Appends `record`.
    #[inline]
    pub(crate) fn push(&mut self, record: T) {
        if self.open.len() == self.open.capacity() && self.open.len() >= Self::chunk_records() {
            self.seal();
        }
        self.open.push(record);
    }

    /// Moves the open chunk, full, behind the others and opens a new one.
    #[cold]
    fn seal(&mut self) {
        let next = Vec::with_capacity(Self::chunk_records());
        self.full.push(std::mem::replace(&mut self.open, next));
    }

    /// The number of records.
    pub(crate) fn len(&self) -> usize {
        self.full.iter().map(Vec::len).sum::<usize>() + self.open.len()
    }

    /// The bytes its chunks take in memory (their capacity), not counting
    /// what records point to.
    pub(crate) fn inline_bytes(&self) -> u64 {
        let slots = self.full.iter().map(Vec::capacity).sum::<usize>() + self.open.capacity();
        (slots * size_of::<T>()) as u64
    }

    /// The chunks, in order (the last one may be empty).
    pub(crate) fn chunks(&self) -> impl Iterator<Item = &[T]> {
        self.full
            .iter()
            .map(Vec::as_slice)
            .chain(std::iter::once(self.open.as_slice()))
    }

    /// The chunk `i` ([`chunks`](Self::chunks) order), if there is one.
    #[inline]
    pub(crate) fn chunk(&self, i: usize) -> Option<&[T]> {
        match self.full.get(i) {
            Some(chunk) => Some(chunk),
            None => (i == self.full.len()).then_some(self.open.as_slice()),
        }
    }
}

impl<T: Serialize> Serialize for Bucket<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.len()))?;
        for record in self.chunks().flatten() {
            seq.serialize_element(record)?;
        }
        seq.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::codec::{decode, encode};

    #[test]
    fn keeps_every_record_in_order_across_chunks() {
        let per_chunk = Bucket::<u64>::chunk_records();
        for n in [
            0,
            1,
            per_chunk - 1,
            per_chunk,
            per_chunk + 1,
            3 * per_chunk + 7,
        ] {
            let mut bucket = Bucket::default();
            (0..n as u64).for_each(|x| bucket.push(x));
            assert_eq!(bucket.len(), n);
            let records: Vec<u64> = bucket.chunks().flatten().copied().collect();
            assert_eq!(records, (0..n as u64).collect::<Vec<_>>());
            let by_index: Vec<u64> = (0..)
                .map_while(|i| bucket.chunk(i))
                .flatten()
                .copied()
                .collect();
            assert_eq!(by_index, records);
            // Full chunks are never regrown: each holds exactly one chunk's records.
            assert!(bucket.full.iter().all(|c| c.len() == per_chunk));
        }
    }

    #[test]
    fn encodes_as_the_vec_of_its_records() {
        let mut bucket = Bucket::default();
        let records: Vec<(u32, String)> = (0..20_000).map(|i| (i, i.to_string())).collect();
        records.iter().cloned().for_each(|r| bucket.push(r));
        let bytes = encode(&bucket, "bucket").unwrap();
        assert_eq!(bytes, encode(&records, "records").unwrap());
        let back: Vec<(u32, String)> = decode(&bytes, "bucket").unwrap();
        assert_eq!(back, records);
    }
}
