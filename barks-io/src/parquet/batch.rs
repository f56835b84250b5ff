//! Arrow record batches as dataset elements.

use arrow_array::RecordBatch;
use arrow_ipc::reader::StreamReader;
use arrow_ipc::writer::StreamWriter;
use serde::de::{DeserializeOwned, Error as _};
use serde::ser::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

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
        let mut bytes = Vec::new();
        let mut writer =
            StreamWriter::try_new(&mut bytes, &self.0.schema()).map_err(S::Error::custom)?;
        writer.write(&self.0).map_err(S::Error::custom)?;
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
