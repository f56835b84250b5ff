//! Writing objects. Bytes collect in a buffer; a small file is sent with
//! one PutObject when it is finished, a big one goes up as a multipart
//! upload while it is being written (parts of the configured size, doubling
//! every 1000 parts so that S3's 10 000-part limit allows 5 TiB; at most two
//! parts in flight besides the one being filled).
//!
//! A *pending* write starts its multipart upload at once and stores every
//! byte on `finish` without completing it: the object appears only when
//! [`S3Storage::publish`] completes the upload — possibly in another process
//! (the driver, at job commit). Dropping an unfinished writer aborts its
//! upload.

use super::error::{Failure, classify};
use super::storage::S3Storage;
use super::url::S3Url;
use crate::async_rt::{block_on, runtime};
use crate::storage::ObjectWrite;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use barks_runtime::{Error, Result};
use std::collections::VecDeque;
use std::io::{self, Write};
use tokio::task::JoinHandle;

/// Parts uploading in the background while the next one fills.
const MAX_IN_FLIGHT: usize = 2;
/// S3's limit on the number of parts of one upload.
const MAX_PARTS: i32 = 10_000;

/// When the written object becomes visible.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Publish {
    /// When the writer is finished.
    OnFinish,
    /// When [`S3Storage::publish`] completes the upload.
    Later,
}

/// An object being written; see the module docs.
pub(super) struct ObjectWriter {
    s3: S3Storage,
    url: S3Url,
    buf: Vec<u8>,
    upload: Option<Upload>,
    publish: Publish,
    /// Whether `finish` succeeded (else dropping aborts the upload).
    finished: bool,
    /// Whether a write failed: a part may be missing, so the object must
    /// never be completed.
    broken: bool,
}

/// A multipart upload in progress.
struct Upload {
    id: String,
    /// The number of the next part to send (from 1).
    next_part: i32,
    in_flight: VecDeque<JoinHandle<Result<CompletedPart>>>,
    sent: Vec<CompletedPart>,
}

impl Upload {
    fn new(id: String) -> Self {
        Upload {
            id,
            next_part: 1,
            in_flight: VecDeque::new(),
            sent: Vec::new(),
        }
    }
}

impl S3Storage {
    /// A writer whose object appears when it is finished.
    pub(super) fn writer(&self, url: S3Url) -> ObjectWriter {
        ObjectWriter::new(self.clone(), url, Publish::OnFinish, None)
    }

    /// A writer whose object appears only when [`S3Storage::publish`] is
    /// called with the returned upload id.
    pub(super) fn pending_writer(&self, url: S3Url) -> Result<(ObjectWriter, String)> {
        let id = block_on(self.start_upload(&url))?;
        let upload = Upload::new(id.clone());
        Ok((
            ObjectWriter::new(self.clone(), url, Publish::Later, Some(upload)),
            id,
        ))
    }

    async fn start_upload(&self, url: &S3Url) -> Result<String> {
        let out = self
            .client
            .create_multipart_upload()
            .bucket(&url.bucket)
            .key(&url.key)
            .send()
            .await
            .map_err(|e| self.error(url, "cannot start a multipart upload", &e))?;
        out.upload_id().map(str::to_string).ok_or_else(|| {
            Error::io(
                url.to_string(),
                "S3 started a multipart upload without an id",
            )
        })
    }

    async fn upload_part(
        &self,
        url: &S3Url,
        id: &str,
        number: i32,
        data: Vec<u8>,
    ) -> Result<CompletedPart> {
        let out = self
            .client
            .upload_part()
            .bucket(&url.bucket)
            .key(&url.key)
            .upload_id(id)
            .part_number(number)
            .body(ByteStream::from(data))
            .send()
            .await
            .map_err(|e| self.error(url, &format!("cannot upload part {number}"), &e))?;
        let etag = out.e_tag().ok_or_else(|| {
            Error::io(
                url.to_string(),
                format!("S3 returned no ETag for part {number}"),
            )
        })?;
        Ok(CompletedPart::builder()
            .part_number(number)
            .e_tag(etag)
            .build())
    }

    /// Completes upload `id` of `url` with `parts` (in part order). The
    /// answer's ETag is not used: Ceph RGW answers an empty one.
    pub(super) async fn complete_upload(
        &self,
        url: &S3Url,
        id: &str,
        parts: Vec<CompletedPart>,
    ) -> Result<()> {
        self.client
            .complete_multipart_upload()
            .bucket(&url.bucket)
            .key(&url.key)
            .upload_id(id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
            .await
            .map_err(|e| self.error(url, "cannot complete the multipart upload", &e))?;
        Ok(())
    }

    /// Aborts upload `id` of `url`, freeing its parts (no error if it is
    /// gone already).
    pub(super) async fn abort_upload(&self, url: &S3Url, id: &str) -> Result<()> {
        let answer = self
            .client
            .abort_multipart_upload()
            .bucket(&url.bucket)
            .key(&url.key)
            .upload_id(id)
            .send()
            .await;
        match answer {
            Ok(_) => Ok(()),
            Err(e) if classify(&e) == Failure::NoSuchUpload => Ok(()),
            Err(e) => Err(self.error(url, "cannot abort the multipart upload", &e)),
        }
    }

    async fn put(&self, url: &S3Url, data: Vec<u8>) -> Result<()> {
        self.client
            .put_object()
            .bucket(&url.bucket)
            .key(&url.key)
            .body(ByteStream::from(data))
            .send()
            .await
            .map_err(|e| self.error(url, "cannot write", &e))?;
        Ok(())
    }
}

impl ObjectWriter {
    fn new(s3: S3Storage, url: S3Url, publish: Publish, upload: Option<Upload>) -> Self {
        let buf = Vec::with_capacity(s3.part_size.min(1 << 20));
        ObjectWriter {
            s3,
            url,
            buf,
            upload,
            publish,
            finished: false,
            broken: false,
        }
    }

    /// The size the part being filled is sent at.
    fn target(&self) -> usize {
        let number = self.upload.as_ref().map_or(1, |u| u.next_part);
        self.s3.part_size << ((number - 1) / 1000).min(10)
    }

    /// Sends the buffer as the next part, starting the upload if needed.
    fn send_part(&mut self) -> Result<()> {
        let capacity = self.target().min(64 << 20);
        let data = std::mem::replace(&mut self.buf, Vec::with_capacity(capacity));
        let upload = match &mut self.upload {
            Some(upload) => upload,
            slot => slot.insert(Upload::new(block_on(self.s3.start_upload(&self.url))?)),
        };
        if upload.next_part > MAX_PARTS {
            return Err(Error::io(
                self.url.to_string(),
                "the object is too large for one multipart upload (10 000 parts)",
            ));
        }
        let (s3, url, id, number) = (
            self.s3.clone(),
            self.url.clone(),
            upload.id.clone(),
            upload.next_part,
        );
        upload.next_part += 1;
        upload.in_flight.push_back(
            runtime().spawn(async move { s3.upload_part(&url, &id, number, data).await }),
        );
        while self
            .upload
            .as_ref()
            .is_some_and(|u| u.in_flight.len() > MAX_IN_FLIGHT)
        {
            self.await_oldest()?;
        }
        Ok(())
    }

    /// Waits for the oldest part in flight.
    fn await_oldest(&mut self) -> Result<()> {
        let Some(upload) = self.upload.as_mut() else {
            return Ok(());
        };
        let Some(handle) = upload.in_flight.pop_front() else {
            return Ok(());
        };
        let part = block_on(handle)
            .map_err(|e| Error::io(self.url.to_string(), format!("a part upload failed: {e}")))??;
        upload.sent.push(part);
        Ok(())
    }

    fn finish_upload(&mut self) -> Result<()> {
        let Some(upload) = self.upload.as_ref() else {
            // Never reached a part's size: one PutObject.
            return block_on(self.s3.put(&self.url, std::mem::take(&mut self.buf)));
        };
        // The last part may be small; a pending upload needs at least one
        // part (possibly empty) to be completable.
        if !self.buf.is_empty() || upload.next_part == 1 {
            self.send_part()?;
        }
        while self
            .upload
            .as_ref()
            .is_some_and(|u| !u.in_flight.is_empty())
        {
            self.await_oldest()?;
        }
        if self.publish == Publish::Later {
            return Ok(());
        }
        let Some(upload) = self.upload.as_mut() else {
            return Ok(());
        };
        let parts = std::mem::take(&mut upload.sent);
        block_on(self.s3.complete_upload(&self.url, &upload.id, parts))
    }
}

impl Write for ObjectWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.broken {
            return Err(io::Error::other("an earlier write to this object failed"));
        }
        self.buf.extend_from_slice(data);
        if self.buf.len() >= self.target()
            && let Err(e) = self.send_part()
        {
            self.broken = true;
            return Err(io::Error::other(e));
        }
        Ok(data.len())
    }

    /// Parts go up when full: there is nothing to flush before `finish`.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl ObjectWrite for ObjectWriter {
    fn finish(mut self: Box<Self>) -> Result<()> {
        if self.broken {
            return Err(Error::io(
                self.url.to_string(),
                "not published: an earlier write to it failed",
            ));
        }
        self.finish_upload()?;
        self.finished = true;
        Ok(())
    }
}

impl Drop for ObjectWriter {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        if let Some(upload) = self.upload.take() {
            for handle in &upload.in_flight {
                handle.abort();
            }
            let _ = block_on(self.s3.abort_upload(&self.url, &upload.id));
        }
    }
}
