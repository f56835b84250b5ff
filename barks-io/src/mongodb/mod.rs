//! MongoDB through the official `mongodb` driver: partitioned reads of a
//! collection (ranges of `_id` or another field, with an optional filter and
//! projection) and partitioned writes with `insert_many`.
//!
//! ```no_run
//! use barks_io::mongodb::{MongoRead, MongoWrite, SaveToMongoDb, read_mongodb};
//! use barks_runtime::{Context, Dataset};
//! use barks_io::mongodb::bson::doc;
//!
//! #[derive(Clone, serde::Serialize, serde::Deserialize)]
//! struct Event { kind: String, value: f64 }
//!
//! let url = "mongodb://127.0.0.1:27017/";
//! Context::new("local[4]")?.run(|| {
//!     let events: Dataset<Event> = read_mongodb(
//!         MongoRead::collection(url, "app", "events")
//!             .filter(doc! { "kind": "click" })
//!             .split_evenly("_id", 8),
//!     );
//!     events.save_to_mongodb(MongoWrite::collection(url, "app", "clicks"))
//! })?;
//! # Ok::<(), barks_runtime::Error>(())
//! ```

mod connect;
mod options;
mod partitions;
mod sink;
mod source;

/// The BSON library of the driver, for filters and projections (`bson::doc!`).
pub use mongodb::bson;
pub use options::{MongoPartitioning, MongoRead, MongoWrite};
pub use sink::MongoSink;
pub use source::MongoSource;

use barks_runtime::{Data, Dataset, Output, from_source};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The documents of a collection as records of type `T` (through bson's
/// serde), one partition per range of the split field.
pub fn read_mongodb<T: DeserializeOwned + Send + 'static>(read: MongoRead) -> Dataset<T> {
    from_source(MongoSource::new(read))
}

/// `dataset.save_to_mongodb(write)`.
pub trait SaveToMongoDb {
    /// Inserts every record as a document, in batches of `write.batch_docs`.
    fn save_to_mongodb(&self, write: MongoWrite) -> Output<()>;
}

impl<T: Data + Serialize> SaveToMongoDb for Dataset<T> {
    fn save_to_mongodb(&self, write: MongoWrite) -> Output<()> {
        self.write(MongoSink::new(write))
    }
}
