//! How values cross a process boundary: shuffle blocks, map summaries,
//! partition results and task commits are encoded with postcard (a stable,
//! documented format). Everything that decodes bytes from the network goes
//! through [`decode`], which never panics on bad input.

use crate::error::{Error, Result};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::any::Any;

/// Encodes `value`.
pub(crate) fn encode<T: Serialize + ?Sized>(value: &T, what: &str) -> Result<Vec<u8>> {
    postcard::to_allocvec(value).map_err(|e| Error::codec(what, format_args!("cannot encode: {e}")))
}

/// The size of `value` encoded, computed without encoding it.
pub(crate) fn encoded_len<T: Serialize + ?Sized>(value: &T, what: &str) -> Result<u64> {
    postcard::experimental::serialized_size(value)
        .map(|n| n as u64)
        .map_err(|e| Error::codec(what, format_args!("cannot encode: {e}")))
}

/// Decodes a `T` that must take up all of `bytes`.
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T> {
    match postcard::take_from_bytes::<T>(bytes) {
        Ok((value, [])) => Ok(value),
        Ok((_, rest)) => Err(Error::codec(
            what,
            format_args!("malformed: {} trailing bytes", rest.len()),
        )),
        Err(e) => Err(Error::codec(what, format_args!("malformed: {e}"))),
    }
}

/// Encodes a type-erased value that barks itself stored as a `T`.
pub(crate) fn encode_any<T: Serialize + 'static>(
    value: &(dyn Any + Send),
    what: &str,
) -> Result<Vec<u8>> {
    let value = value
        .downcast_ref::<T>()
        .ok_or_else(|| Error::Internal(format!("{what} has an unexpected type")))?;
    encode(value, what)
}

/// The encoded size of a type-erased value that barks itself stored as a
/// `T`.
pub(crate) fn encoded_len_any<T: Serialize + 'static>(
    value: &(dyn Any + Send),
    what: &str,
) -> Result<u64> {
    let value = value
        .downcast_ref::<T>()
        .ok_or_else(|| Error::Internal(format!("{what} has an unexpected type")))?;
    encoded_len(value, what)
}

/// Encodes a shared type-erased value that barks itself stored as a `T`.
pub(crate) fn encode_shared<T: Serialize + 'static>(
    value: &(dyn Any + Send + Sync),
    what: &str,
) -> Result<Vec<u8>> {
    let value = value
        .downcast_ref::<T>()
        .ok_or_else(|| Error::Internal(format!("{what} has an unexpected type")))?;
    encode(value, what)
}
