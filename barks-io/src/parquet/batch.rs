//! Arrow record batches as dataset elements.

use arrow_array::cast::AsArray;
use arrow_array::{ArrayRef, RecordBatch};
use arrow_ipc::writer::StreamWriter;
use arrow_schema::{ArrowError, DataType};
use serde::de::DeserializeOwned;
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
        deserializer.deserialize_bytes(ipc::BatchVisitor)
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

/// Decoding a batch's Arrow IPC stream straight from the bytes the format
/// hands over: borrowed bytes are read once into the batch's buffers, owned
/// ones become its buffers without a copy.
mod ipc {
    use super::Batch;
    use arrow_array::RecordBatch;
    use arrow_buffer::Buffer;
    use arrow_ipc::reader::{StreamDecoder, StreamReader};
    use arrow_schema::ArrowError;
    use serde::de::{Error, SeqAccess, Visitor};
    use std::fmt;

    pub struct BatchVisitor;

    fn first(batch: Option<Result<RecordBatch, ArrowError>>) -> Result<Batch, String> {
        match batch {
            Some(Ok(batch)) => Ok(Batch(batch)),
            Some(Err(e)) => Err(e.to_string()),
            None => Err("an Arrow IPC stream without a record batch".into()),
        }
    }

    fn from_slice(bytes: &[u8]) -> Result<Batch, String> {
        let mut reader = StreamReader::try_new(bytes, None).map_err(|e| e.to_string())?;
        first(reader.next())
    }

    fn from_vec(bytes: Vec<u8>) -> Result<Batch, String> {
        let mut buffer = Buffer::from_vec(bytes);
        let mut decoder = StreamDecoder::new();
        let batch = decoder.decode(&mut buffer).transpose();
        first(batch)
    }

    impl<'de> Visitor<'de> for BatchVisitor {
        type Value = Batch;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("bytes of an Arrow IPC stream")
        }
        fn visit_bytes<E: Error>(self, v: &[u8]) -> Result<Batch, E> {
            from_slice(v).map_err(E::custom)
        }
        fn visit_byte_buf<E: Error>(self, v: Vec<u8>) -> Result<Batch, E> {
            from_vec(v).map_err(E::custom)
        }
        /// Formats that write bytes as a sequence of numbers.
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Batch, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 20));
            while let Some(b) = seq.next_element()? {
                out.push(b);
            }
            from_vec(out).map_err(A::Error::custom)
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

    /// Borrowed bytes (postcard) and owned ones (a format that writes bytes
    /// as numbers, JSON) decode to the same batch.
    #[test]
    fn borrowed_and_owned_bytes_decode_alike() {
        use arrow_array::{Int64Array, StringArray};
        let batch = RecordBatch::try_from_iter([
            (
                "n",
                Arc::new(Int64Array::from(vec![Some(1), None, Some(-3)])) as _,
            ),
            (
                "s",
                Arc::new(StringArray::from(vec![None, Some("b"), Some("c")])) as _,
            ),
        ])
        .unwrap();
        let bytes = postcard::to_allocvec(&Batch(batch.clone())).unwrap();
        let borrowed: Batch = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(borrowed.0, batch);
        let json = serde_json::to_string(&Batch(batch.clone())).unwrap();
        let owned: Batch = serde_json::from_str(&json).unwrap();
        assert_eq!(owned.0, batch);
        let bad: Result<Batch, _> =
            postcard::from_bytes(&postcard::to_allocvec(&[1u8, 2, 3][..]).unwrap());
        assert!(bad.is_err());
    }
}
