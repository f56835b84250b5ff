//! A partitioned write into a collection: `insert_many` in batches, ordered
//! or not, optionally one transaction per partition, optionally ignoring
//! duplicate `_id`s so that re-running a task is harmless.

use super::connect::client;
use super::options::MongoWrite;
use crate::async_rt::block_on;
use barks_runtime::{BoxIter, Error, ErrorSink, Result, Sink};
use mongodb::bson::{self, RawDocumentBuf, doc};
use mongodb::error::{ErrorKind, InsertManyError};
use mongodb::{ClientSession, Collection};
use serde::Serialize;
use std::future::IntoFuture;

/// MongoDB's duplicate-key error code.
const DUPLICATE_KEY: i32 = 11000;
/// MongoDB's "collection exists already" error code.
const NAMESPACE_EXISTS: i32 = 48;

/// Writes records (serialized with bson's serde) into a collection.
pub struct MongoSink {
    write: MongoWrite,
}

impl MongoSink {
    pub fn new(write: MongoWrite) -> Self {
        MongoSink { write }
    }

    fn error(&self, partition: Option<usize>, message: impl std::fmt::Display) -> Error {
        let partition = partition.map_or(String::new(), |p| format!(", partition {p}"));
        Error::Io {
            path: format!("{}{partition}", self.write.describe()).into(),
            message: message.to_string(),
        }
    }

    /// Inserts one batch; returns how many documents were inserted.
    fn insert(
        &self,
        collection: &Collection<RawDocumentBuf>,
        session: Option<&mut ClientSession>,
        docs: Vec<RawDocumentBuf>,
    ) -> std::result::Result<u64, mongodb::error::Error> {
        let len = docs.len() as u64;
        // Skipping duplicates needs an unordered insert: an ordered one stops
        // at the first duplicate.
        let ordered = self.write.ordered && !self.write.ignore_duplicate_ids;
        let insert = collection.insert_many(docs).ordered(ordered);
        let result = match session {
            Some(session) => block_on(insert.session(session).into_future()),
            None => block_on(insert.into_future()),
        };
        match result {
            Ok(_) => Ok(len),
            Err(e) if self.write.ignore_duplicate_ids => match e.kind.as_ref() {
                ErrorKind::InsertMany(InsertManyError {
                    write_errors: Some(errors),
                    write_concern_error: None,
                    ..
                }) if errors.iter().all(|w| w.code == DUPLICATE_KEY) => {
                    Ok(len - errors.len() as u64)
                }
                _ => Err(e),
            },
            Err(e) => Err(e),
        }
    }
}

impl<T: Serialize + Send + 'static> Sink<T> for MongoSink {
    /// The number of documents the task inserted.
    type TaskCommit = u64;

    /// Checks that the server answers (and the credentials work) before any
    /// task runs, and creates the collection of a transactional write.
    fn prepare(&self) -> Result<()> {
        if self.write.transactional && self.write.ignore_duplicate_ids {
            return Err(self.error(
                None,
                "`transactional` and `ignore_duplicate_ids` cannot be combined (a duplicate aborts a transaction)",
            ));
        }
        let client = client(&self.write.url).map_err(|e| self.error(None, e))?;
        let database = client.database(&self.write.database);
        block_on(database.run_command(doc! { "ping": 1 }).into_future())
            .map_err(|e| self.error(None, e))?;
        if self.write.transactional {
            // Tasks creating the collection inside concurrent transactions
            // would conflict: create it first.
            let created = block_on(
                database
                    .create_collection(&self.write.collection)
                    .into_future(),
            );
            if let Err(e) = created
                && !matches!(e.kind.as_ref(), ErrorKind::Command(c) if c.code == NAMESPACE_EXISTS)
            {
                return Err(self.error(None, e));
            }
        }
        Ok(())
    }

    fn write(
        &self,
        partition: usize,
        _attempt: u32,
        records: BoxIter<T>,
        errors: ErrorSink,
    ) -> Result<u64> {
        let mut records = records.enumerate().peekable();
        if records.peek().is_none() {
            return Ok(0);
        }
        let fail = |e: &dyn std::fmt::Display| self.error(Some(partition), e);
        let client = client(&self.write.url).map_err(|e| fail(&e))?;
        let collection: Collection<RawDocumentBuf> = client
            .database(&self.write.database)
            .collection(&self.write.collection);
        let mut session = match self.write.transactional {
            true => {
                let mut session =
                    block_on(client.start_session().into_future()).map_err(|e| fail(&e))?;
                block_on(session.start_transaction().into_future()).map_err(|e| fail(&e))?;
                Some(session)
            }
            false => None,
        };
        let batch_docs = self.write.batch_docs.max(1);
        let mut inserted = 0;
        let mut batch = Vec::with_capacity(batch_docs);
        for (i, record) in records {
            let doc = bson::to_raw_document_buf(&record).map_err(|e| {
                fail(&format!(
                    "record {}: {e} (a record must serialize to a document)",
                    i + 1
                ))
            })?;
            batch.push(doc);
            if batch.len() == batch_docs {
                inserted += self
                    .insert(&collection, session.as_mut(), std::mem::take(&mut batch))
                    .map_err(|e| fail(&e))?;
            }
        }
        if !batch.is_empty() {
            inserted += self
                .insert(&collection, session.as_mut(), batch)
                .map_err(|e| fail(&e))?;
        }
        if errors.has_failed() {
            // Without a transaction, the batches already inserted stay (see
            // the README). (An error above drops the session, which aborts.)
            if let Some(session) = session.as_mut() {
                block_on(session.abort_transaction().into_future()).map_err(|e| fail(&e))?;
            }
            return Err(fail(&"the partition's input failed"));
        }
        if let Some(session) = session.as_mut() {
            block_on(session.commit_transaction().into_future()).map_err(|e| fail(&e))?;
        }
        Ok(inserted)
    }

    fn commit(&self, _inserted: Vec<u64>) -> Result<()> {
        Ok(())
    }

    fn abort(&self) {}
}
