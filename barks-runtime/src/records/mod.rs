//! Records between operators and across process boundaries: [`BoxIter`]
//! hands a partition's records from node to node a chunk at a time, and
//! [`codec`] encodes them (and every other value that leaves a process).

mod box_iter;
pub(crate) mod codec;

pub use box_iter::{BoxIter, CHUNK_BYTES};
