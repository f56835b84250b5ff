//! A partitioned read of a collection: each partition is a `find` with the
//! user's filter AND its range of the split field (see [`partitions`](super::partitions)),
//! streamed in cursor batches and decoded into records with bson's serde.

use super::connect::client;
use super::options::{MongoPartitioning, MongoRead, document, from_extjson};
use super::partitions::{and, quantile_bounds, range_filters};
use crate::async_rt::block_on;
use barks_runtime::{BoxIter, Error, ErrorSink, Result, Source};
use mongodb::bson::{self, Document, RawDocumentBuf};
use mongodb::options::FindOptions;
use mongodb::{Collection, Cursor};
use serde::de::DeserializeOwned;
use std::future::IntoFuture;
use std::marker::PhantomData;
use std::sync::{Arc, OnceLock};

/// The documents of a [`MongoRead`] as records of type `T`.
pub struct MongoSource<T> {
    read: Arc<MongoRead>,
    /// Each partition's filter, found on the first read in this process
    /// (quantile boundaries need a query) and shared by later tasks.
    filters: OnceLock<Result<Vec<Document>>>,
    _t: PhantomData<fn() -> T>,
}

impl<T> MongoSource<T> {
    /// Records the options; no connection is made until a task reads.
    pub fn new(read: MongoRead) -> Self {
        MongoSource {
            read: Arc::new(read),
            filters: OnceLock::new(),
            _t: PhantomData,
        }
    }

    fn error(&self, message: impl std::fmt::Display) -> Error {
        Error::Io {
            path: self.read.describe().into(),
            message: message.to_string(),
        }
    }

    fn collection(&self) -> Result<Collection<RawDocumentBuf>> {
        let client = client(&self.read.url).map_err(|e| self.error(e))?;
        Ok(client
            .database(&self.read.database)
            .collection(&self.read.collection))
    }

    /// The full filter of every partition (the user's filter included).
    fn plan_filters(&self) -> Result<Vec<Document>> {
        let plan_error = |e: Error| self.error(e);
        let filter = document(&self.read.filter, "filter").map_err(plan_error)?;
        let ranges = match &self.read.partitioning {
            MongoPartitioning::Single => vec![Document::new()],
            MongoPartitioning::Bounds { field, bounds } => {
                let bounds = bounds
                    .iter()
                    .map(|b| from_extjson(b, "partition bound"))
                    .collect::<Result<Vec<_>>>()
                    .map_err(plan_error)?;
                if bounds.contains(&bson::Bson::Null) {
                    return Err(self.error("partition bounds must not be null"));
                }
                range_filters(field, &bounds)
            }
            MongoPartitioning::Quantiles {
                field,
                num_partitions,
            } => {
                let collection = self.collection()?;
                let bounds = block_on(quantile_bounds(
                    &collection,
                    filter.as_ref(),
                    field,
                    *num_partitions,
                ))
                .map_err(|e| {
                    self.error(format!("finding the partition bounds on `{field}`: {e}"))
                })?;
                range_filters(field, &bounds)
            }
        };
        Ok(ranges
            .into_iter()
            .map(|range| and(filter.as_ref(), range))
            .collect())
    }
}

impl<T: DeserializeOwned + Send + 'static> Source for MongoSource<T> {
    type Item = T;

    fn num_partitions(&self) -> usize {
        self.read.num_partitions()
    }

    fn read(&self, partition: usize, errors: ErrorSink) -> Result<BoxIter<T>> {
        let filters = self
            .filters
            .get_or_init(|| self.plan_filters())
            .as_ref()
            .map_err(Clone::clone)?;
        // Fewer ranges than partitions: the collection had fewer distinct
        // values than partitions when the bounds were found.
        let Some(filter) = filters.get(partition) else {
            return Ok(BoxIter::empty());
        };
        let projection =
            document(&self.read.projection, "projection").map_err(|e| self.error(e))?;
        let mut options = FindOptions::default();
        options.projection = projection;
        options.batch_size = Some(self.read.batch_size);
        let collection = self.collection()?;
        let cursor = block_on(
            collection
                .find(filter.clone())
                .with_options(options)
                .into_future(),
        )
        .map_err(|e| self.error(format!("partition {partition}: {e}")))?;
        Ok(BoxIter::new(Documents {
            cursor,
            location: format!("{}, partition {partition}", self.read.describe()),
            errors,
            done: false,
            _t: PhantomData,
        }))
    }
}

struct Documents<T> {
    cursor: Cursor<RawDocumentBuf>,
    location: String,
    errors: ErrorSink,
    done: bool,
    _t: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> Iterator for Documents<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        if self.done {
            return None;
        }
        match block_on(self.cursor.advance()) {
            Ok(true) => {}
            Ok(false) => {
                self.done = true;
                return None;
            }
            Err(e) => {
                self.done = true;
                self.errors.fail(Error::Io {
                    path: self.location.clone().into(),
                    message: e.to_string(),
                });
                return None;
            }
        }
        let raw = self.cursor.current();
        match bson::from_slice::<T>(raw.as_bytes()) {
            Ok(record) => Some(record),
            Err(e) => {
                self.done = true;
                let id = raw
                    .get("_id")
                    .ok()
                    .flatten()
                    .and_then(|id| bson::Bson::try_from(id).ok())
                    .map_or("(none)".to_string(), |id| id.to_string());
                self.errors.fail(Error::Input {
                    location: format!("{}, document _id {id}", self.location),
                    message: format!("{e} (reading into {})", std::any::type_name::<T>()),
                });
                None
            }
        }
    }
}
