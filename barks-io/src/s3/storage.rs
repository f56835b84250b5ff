//! [`S3Storage`]: the [`Storage`] trait on S3, from the pieces in the
//! sibling modules (listing, reading, writing, pending uploads).

use super::client::connect;
use super::config::S3Config;
use super::error::s3_error;
use super::url::S3Url;
use crate::async_rt::block_on;
use crate::storage::{FileMeta, ObjectWrite, Storage};
use aws_sdk_s3::Client;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use barks_runtime::{Error, Result};
use std::io::Read;
use std::ops::Range;
use std::sync::Arc;

/// DeleteObjects takes at most this many keys.
const DELETE_BATCH: usize = 1000;

/// S3 (or an S3-compatible store) as a [`Storage`]: paths are
/// `s3://bucket/key` or `s3a://bucket/key`; any bucket the credentials
/// reach. Cloning is cheap (the client is shared).
#[derive(Clone)]
pub struct S3Storage {
    pub(super) client: Client,
    /// Where requests go, for error messages.
    pub(super) endpoint: Arc<str>,
    pub(super) part_size: usize,
}

impl S3Storage {
    /// A storage with its own client for `config`. `s3://` paths use a
    /// shared one built from the environment instead (see
    /// [`S3Config::from_env`]); this is for programs and tests that talk to
    /// several stores.
    pub fn new(config: &S3Config) -> Result<S3Storage> {
        let connected = connect(config)?;
        Ok(S3Storage {
            client: connected.client,
            endpoint: connected.endpoint.into(),
            part_size: config.effective_part_size(),
        })
    }

    /// The error for an SDK failure while doing `action` on `url`.
    pub(super) fn error<E>(
        &self,
        url: &S3Url,
        action: &str,
        err: &SdkError<E, HttpResponse>,
    ) -> Error
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        s3_error(url, &self.endpoint, action, err)
    }

    /// Creates `bucket` unless it exists and is ours already.
    pub fn create_bucket(&self, bucket: &str) -> Result<()> {
        let url = S3Url::parse(&format!("s3://{bucket}"))?;
        let answer = block_on(self.client.create_bucket().bucket(bucket).send());
        match answer {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("BucketAlreadyOwnedByYou") => Ok(()),
            Err(e) => Err(self.error(&url, "cannot create the bucket", &e)),
        }
    }

    async fn copy(&self, from: &S3Url, to: &S3Url) -> Result<()> {
        self.client
            .copy_object()
            .bucket(&to.bucket)
            .key(&to.key)
            .copy_source(from.copy_source())
            .send()
            .await
            .map_err(|e| self.error(from, &format!("cannot copy to {to}"), &e))?;
        Ok(())
    }

    async fn delete(&self, url: &S3Url) -> Result<()> {
        self.client
            .delete_object()
            .bucket(&url.bucket)
            .key(&url.key)
            .send()
            .await
            .map_err(|e| self.error(url, "cannot delete", &e))?;
        Ok(())
    }

    /// Deletes `keys` of `url`'s bucket, up to 1000 per request.
    async fn delete_keys(&self, url: &S3Url, keys: Vec<String>) -> Result<()> {
        for batch in keys.chunks(DELETE_BATCH) {
            let objects = batch
                .iter()
                .map(|key| ObjectIdentifier::builder().key(key).build())
                .collect::<std::result::Result<Vec<_>, _>>()
                .and_then(|objects| {
                    Delete::builder()
                        .set_objects(Some(objects))
                        .quiet(true)
                        .build()
                })
                .map_err(|e| {
                    Error::io(
                        url.to_string(),
                        format!("cannot build a delete request: {e}"),
                    )
                })?;
            let out = self
                .client
                .delete_objects()
                .bucket(&url.bucket)
                .delete(objects)
                .send()
                .await
                .map_err(|e| self.error(url, "cannot delete", &e))?;
            if let Some(failed) = out.errors().first() {
                return Err(Error::io(
                    url.with_key(failed.key().unwrap_or("?")).to_string(),
                    format!(
                        "cannot delete ({}: {}){}",
                        failed.code().unwrap_or("error"),
                        failed.message().unwrap_or("no message"),
                        match out.errors().len() {
                            1 => String::new(),
                            n => format!(", and {} other keys failed too", n - 1),
                        }
                    ),
                ));
            }
        }
        Ok(())
    }
}

impl Storage for S3Storage {
    fn list(&self, path: &str) -> Result<Vec<FileMeta>> {
        self.list_files(&S3Url::parse(path)?)
    }

    fn read_range(&self, path: &str, range: Range<u64>) -> Result<Vec<u8>> {
        self.read_bytes(&S3Url::parse(path)?, range)
    }

    fn open_from(&self, path: &str, start: u64) -> Result<Box<dyn Read + Send>> {
        Ok(Box::new(self.reader(S3Url::parse(path)?, start)?))
    }

    fn create(&self, path: &str) -> Result<Box<dyn ObjectWrite>> {
        Ok(Box::new(self.writer(S3Url::parse(path)?)))
    }

    /// A server-side copy, then a delete of the source (CopyObject takes
    /// objects of at most 5 GiB).
    fn rename(&self, from: &str, to: &str) -> Result<()> {
        let (from, to) = (S3Url::parse(from)?, S3Url::parse(to)?);
        block_on(async {
            self.copy(&from, &to).await?;
            self.delete(&from).await
        })
    }

    /// Deletes every object under the prefix and aborts the multipart
    /// uploads in progress there.
    fn remove_all(&self, path: &str) -> Result<()> {
        let url = S3Url::parse(path)?;
        let prefix = url.dir_prefix();
        block_on(async {
            let listing = self.list_objects(&url, &prefix, false).await?;
            let keys = listing.objects.into_iter().map(|(key, _)| key).collect();
            self.delete_keys(&url, keys).await?;
            self.abort_uploads_under(&url, &prefix).await
        })
    }

    fn has_entries(&self, path: &str) -> Result<bool> {
        block_on(self.any_under(&S3Url::parse(path)?))
    }

    fn create_pending(&self, path: &str) -> Result<Option<(Box<dyn ObjectWrite>, String)>> {
        let (writer, id) = self.pending_writer(S3Url::parse(path)?)?;
        Ok(Some((Box::new(writer), id)))
    }

    fn publish_pending(&self, path: &str, ticket: &str) -> Result<()> {
        block_on(self.publish(&S3Url::parse(path)?, ticket))
    }

    fn discard_pending(&self, dir: &str) -> Result<()> {
        let url = S3Url::parse(dir)?;
        block_on(self.abort_uploads_under(&url, &url.dir_prefix()))
    }
}
