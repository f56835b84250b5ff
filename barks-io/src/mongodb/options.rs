//! How to read from and write to a MongoDB collection. Plain data, so a job
//! takes the options as arguments: filters, projections and boundaries are
//! kept as canonical extended JSON text (BSON documents themselves cannot
//! travel through the job-argument codec, which is not self-describing).

use crate::redact::redact_url;
use barks_runtime::{Error, Result};
use mongodb::bson::{Bson, Document};
use serde::{Deserialize, Serialize};
use std::fmt;

/// How a collection is split into partitions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum MongoPartitioning {
    /// One partition.
    Single,
    /// Ranges of `field` between explicit, ascending boundaries (canonical
    /// extended JSON values): `k` boundaries make `k + 1` partitions.
    Bounds { field: String, bounds: Vec<String> },
    /// `num_partitions` ranges of `field` holding about as many documents
    /// each; the boundaries are the field's quantiles, found with a sorted
    /// query when the first task of a process runs (see the README for the
    /// caveat when the collection changes during the job).
    Quantiles {
        field: String,
        num_partitions: usize,
    },
}

/// A partitioned read of a collection, with an optional filter and projection.
///
/// ```
/// use barks_io::mongodb::MongoRead;
/// use barks_io::mongodb::bson::doc;
/// let read = MongoRead::collection("mongodb://127.0.0.1:27017/", "shop", "orders")
///     .filter(doc! { "status": "paid" })
///     .projection(doc! { "amount": 1, "customer": 1 })
///     .split_evenly("_id", 8);
/// assert_eq!(read.num_partitions(), 8);
/// ```
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MongoRead {
    pub url: String,
    pub database: String,
    pub collection: String,
    /// The filter document, as canonical extended JSON.
    pub filter: Option<String>,
    /// The projection document, as canonical extended JSON.
    pub projection: Option<String>,
    pub partitioning: MongoPartitioning,
    /// Documents per round trip (cursor batch size). Default 1000.
    pub batch_size: u32,
}

impl MongoRead {
    /// Reads `database.collection` through `url` (a `mongodb://` URI).
    pub fn collection(
        url: impl Into<String>,
        database: impl Into<String>,
        collection: impl Into<String>,
    ) -> Self {
        MongoRead {
            url: url.into(),
            database: database.into(),
            collection: collection.into(),
            filter: None,
            projection: None,
            partitioning: MongoPartitioning::Single,
            batch_size: 1000,
        }
    }

    /// Reads only the documents matching `filter`.
    pub fn filter(mut self, filter: Document) -> Self {
        self.filter = Some(to_extjson(Bson::Document(filter)));
        self
    }

    /// Returns only the fields `projection` selects.
    pub fn projection(mut self, projection: Document) -> Self {
        self.projection = Some(to_extjson(Bson::Document(projection)));
        self
    }

    /// Splits on `field` at explicit ascending `bounds` (`k` bounds, `k + 1`
    /// partitions): documents below the first bound, or without the field,
    /// go to the first partition; every document is read exactly once.
    pub fn split_at(mut self, field: impl Into<String>, bounds: Vec<Bson>) -> Self {
        self.partitioning = MongoPartitioning::Bounds {
            field: field.into(),
            bounds: bounds.into_iter().map(to_extjson).collect(),
        };
        self
    }

    /// Splits on `field` into `num_partitions` ranges of about equal counts.
    pub fn split_evenly(mut self, field: impl Into<String>, num_partitions: usize) -> Self {
        self.partitioning = MongoPartitioning::Quantiles {
            field: field.into(),
            num_partitions: num_partitions.max(1),
        };
        self
    }

    /// Documents per round trip.
    pub fn batch_size(mut self, docs: u32) -> Self {
        self.batch_size = docs.max(1);
        self
    }

    /// How many partitions the read has (known without a query).
    pub fn num_partitions(&self) -> usize {
        match &self.partitioning {
            MongoPartitioning::Single => 1,
            MongoPartitioning::Bounds { bounds, .. } => bounds.len() + 1,
            MongoPartitioning::Quantiles { num_partitions, .. } => (*num_partitions).max(1),
        }
    }

    /// The collection, for messages (without the password).
    pub(crate) fn describe(&self) -> String {
        describe(&self.url, &self.database, &self.collection)
    }
}

impl fmt::Debug for MongoRead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MongoRead")
            .field("url", &redact_url(&self.url))
            .field("database", &self.database)
            .field("collection", &self.collection)
            .field("filter", &self.filter)
            .field("projection", &self.projection)
            .field("partitioning", &self.partitioning)
            .field("batch_size", &self.batch_size)
            .finish()
    }
}

/// A partitioned write into a collection with `insert_many`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MongoWrite {
    pub url: String,
    pub database: String,
    pub collection: String,
    /// Documents per `insert_many`. Default 1000.
    pub batch_docs: usize,
    /// Ordered inserts stop at the first failing document; unordered ones
    /// insert all the others and report every failure. Default `true`.
    pub ordered: bool,
    /// Write each partition in one multi-document transaction (needs a
    /// replica set): a failed task leaves nothing behind. Default `false`.
    pub transactional: bool,
    /// Ignore duplicate-key errors: when the records carry their own `_id`,
    /// a re-run task then writes each document once (idempotent). Default
    /// `false`.
    pub ignore_duplicate_ids: bool,
}

impl MongoWrite {
    /// Inserts into `database.collection` through `url`.
    pub fn collection(
        url: impl Into<String>,
        database: impl Into<String>,
        collection: impl Into<String>,
    ) -> Self {
        MongoWrite {
            url: url.into(),
            database: database.into(),
            collection: collection.into(),
            batch_docs: 1000,
            ordered: true,
            transactional: false,
            ignore_duplicate_ids: false,
        }
    }

    /// Documents per `insert_many`.
    pub fn batch_docs(mut self, docs: usize) -> Self {
        self.batch_docs = docs.max(1);
        self
    }

    /// Ordered (`true`, the default) or unordered bulk inserts.
    pub fn ordered(mut self, ordered: bool) -> Self {
        self.ordered = ordered;
        self
    }

    /// One transaction per partition.
    pub fn transactional(mut self, transactional: bool) -> Self {
        self.transactional = transactional;
        self
    }

    /// Skip documents whose `_id` exists already (idempotent re-runs).
    pub fn ignore_duplicate_ids(mut self, ignore: bool) -> Self {
        self.ignore_duplicate_ids = ignore;
        self
    }

    /// The collection, for messages (without the password).
    pub(crate) fn describe(&self) -> String {
        describe(&self.url, &self.database, &self.collection)
    }
}

impl fmt::Debug for MongoWrite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MongoWrite")
            .field("url", &redact_url(&self.url))
            .field("database", &self.database)
            .field("collection", &self.collection)
            .field("batch_docs", &self.batch_docs)
            .field("ordered", &self.ordered)
            .field("transactional", &self.transactional)
            .field("ignore_duplicate_ids", &self.ignore_duplicate_ids)
            .finish()
    }
}

/// `mongodb mongodb://host/ collection `db.c``, without the password.
fn describe(url: &str, database: &str, collection: &str) -> String {
    format!(
        "mongodb {} collection `{database}.{collection}`",
        redact_url(url)
    )
}

pub(crate) fn to_extjson(value: Bson) -> String {
    value.into_canonical_extjson().to_string()
}

/// Parses canonical extended JSON back into a value; `what` names it in errors.
pub(crate) fn from_extjson(text: &str, what: &str) -> Result<Bson> {
    let json: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| Error::Plan(format!("{what} `{text}` is not JSON: {e}")))?;
    Bson::try_from(json)
        .map_err(|e| Error::Plan(format!("{what} `{text}` is not extended JSON: {e}")))
}

/// Parses a document option.
pub(crate) fn document(text: &Option<String>, what: &str) -> Result<Option<Document>> {
    match text {
        None => Ok(None),
        Some(text) => match from_extjson(text, what)? {
            Bson::Document(doc) => Ok(Some(doc)),
            other => Err(Error::Plan(format!(
                "{what} must be a document, not {other}"
            ))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mongodb::bson::{doc, oid::ObjectId};

    #[test]
    fn options_survive_the_job_argument_codec() {
        let oid = ObjectId::parse_str("65a1b2c3d4e5f60718293a4b").unwrap();
        let read = MongoRead::collection("mongodb://u:pw@h/", "db", "c")
            .filter(doc! { "n": { "$gte": 5_i64 }, "d": 1.5 })
            .projection(doc! { "n": 1 })
            .split_at("_id", vec![Bson::ObjectId(oid)]);
        let bytes = postcard::to_allocvec(&read).unwrap();
        let back: MongoRead = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(back, read);
        let filter = document(&back.filter, "filter").unwrap().unwrap();
        assert_eq!(filter, doc! { "n": { "$gte": 5_i64 }, "d": 1.5 });
        let MongoPartitioning::Bounds { bounds, .. } = &back.partitioning else {
            panic!("bounds expected")
        };
        assert_eq!(
            from_extjson(&bounds[0], "bound").unwrap(),
            Bson::ObjectId(oid)
        );
        assert!(!format!("{read:?}").contains("pw"));
    }
}
