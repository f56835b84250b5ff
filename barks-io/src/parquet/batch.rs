//! Arrow record batches as dataset elements.

use arrow_array::cast::AsArray;
use arrow_array::{ArrayRef, RecordBatch};
use arrow_ipc::reader::StreamReader;
use arrow_ipc::writer::StreamWriter;
use arrow_schema::{ArrowError, DataType};
use serde::de::{DeserializeOwned, Error as _};
use serde::ser::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::sync::Arc;

/// An Arrow [`RecordBatch`] that can be a dataset element: it is cloned
/// cheaply (its columns are shared) and crosses process boundaries in the
/// Arrow IPC stream format.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch(pub RecordBatch);

impl Batch {
    /// The batch's rows as `T`s (a serde struct), through serde_arrow.
    pub fn rows<T: DeserializeOwned>(&self) -> Result<Vec<T>, serde_arrow::Error> {
        serde_arrow::from_record_batch(&self.0)
    }

    /// The number of rows.
    pub fn num_rows(&self) -> usize {
        self.0.num_rows()
    }
}

impl From<RecordBatch> for Batch {
    fn from(batch: RecordBatch) -> Batch {
        Batch(batch)
    }
}

impl Serialize for Batch {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let batch = compact_views(&self.0).map_err(S::Error::custom)?;
        let mut bytes = Vec::new();
        let mut writer =
            StreamWriter::try_new(&mut bytes, &batch.schema()).map_err(S::Error::custom)?;
        writer.write(&batch).map_err(S::Error::custom)?;
        writer.finish().map_err(S::Error::custom)?;
        drop(writer);
        serializer.serialize_bytes(&bytes)
    }
}

impl<'de> Deserialize<'de> for Batch {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Batch, D::Error> {
        let bytes: serde_bytes_buf::Buf = Deserialize::deserialize(deserializer)?;
        let mut reader = StreamReader::try_new(&bytes.0[..], None).map_err(D::Error::custom)?;
        match reader.next() {
            Some(Ok(batch)) => Ok(Batch(batch)),
            Some(Err(e)) => Err(D::Error::custom(e)),
            None => Err(D::Error::custom(
                "an Arrow IPC stream without a record batch",
            )),
        }
    }
}

/// `batch` with its string and binary *view* columns compacted where they
/// share buffers much larger than what they use. A view array cut from a
/// bigger one (a join's output, a hash partition of a batch) keeps the whole
/// of its parent's data buffers, and the IPC format writes every buffer an
/// array holds: without this, a 4000-row piece of a join output crossed the
/// wire with all of the build side's strings.
fn compact_views(batch: &RecordBatch) -> Result<RecordBatch, ArrowError> {
    fn wasteful(used: usize, held: usize) -> bool {
        held > 2 * used + 4096
    }
    let mut changed = false;
    let columns: Vec<ArrayRef> = batch
        .columns()
        .iter()
        .map(|column| match column.data_type() {
            DataType::Utf8View => {
                let a = column.as_string_view();
                let held = a.data_buffers().iter().map(|b| b.len()).sum();
                if wasteful(a.total_buffer_bytes_used(), held) {
                    changed = true;
                    Arc::new(a.gc()) as ArrayRef
                } else {
                    column.clone()
                }
            }
            DataType::BinaryView => {
                let a = column.as_binary_view();
                let held = a.data_buffers().iter().map(|b| b.len()).sum();
                if wasteful(a.total_buffer_bytes_used(), held) {
                    changed = true;
                    Arc::new(a.gc()) as ArrayRef
                } else {
                    column.clone()
                }
            }
            _ => column.clone(),
        })
        .collect();
    if !changed {
        return Ok(batch.clone());
    }
    RecordBatch::try_new(batch.schema(), columns)
}

/// Bytes deserialized from `serialize_bytes` (or a sequence of `u8`, for
/// formats that write bytes as one).
mod serde_bytes_buf {
    use serde::de::{Deserialize, Deserializer, SeqAccess, Visitor};
    use std::fmt;

    pub struct Buf(pub Vec<u8>);

    impl<'de> Deserialize<'de> for Buf {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Buf, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Buf;
                fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                    f.write_str("bytes of an Arrow IPC stream")
                }
                fn visit_bytes<E>(self, v: &[u8]) -> Result<Buf, E> {
                    Ok(Buf(v.to_vec()))
                }
                fn visit_byte_buf<E>(self, v: Vec<u8>) -> Result<Buf, E> {
                    Ok(Buf(v))
                }
                fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Buf, A::Error> {
                    let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 20));
                    while let Some(b) = seq.next_element()? {
                        out.push(b);
                    }
                    Ok(Buf(out))
                }
            }
            d.deserialize_bytes(V)
        }
    }
}

#[cfg(test)]
mod view_tests {
    use super::Batch;
    use arrow_array::{RecordBatch, StringViewArray};
    use std::sync::Arc;

    #[test]
    fn a_small_piece_of_a_big_view_array_crosses_the_wire_small() {
        let strings: Vec<String> = (0..20_000)
            .map(|i| format!("a long string, number {i:>10}"))
            .collect();
        let big = StringViewArray::from_iter_values(strings.iter());
        let piece = big.slice(10, 5);
        let batch = RecordBatch::try_from_iter([("s", Arc::new(piece) as _)]).unwrap();
        let bytes = postcard::to_allocvec(&Batch(batch.clone())).unwrap();
        assert!(bytes.len() < 4096, "{} bytes for 5 strings", bytes.len());
        let back: Batch = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(back.0.num_rows(), 5);
        assert_eq!(back.0.column(0).as_ref(), batch.column(0).as_ref());
    }
}
