//! Reading objects: one ranged GET for [`Storage::read_range`], and a
//! streaming reader for [`Storage::open_from`] that fetches the object in
//! successive ranged windows (4 MiB doubling up to 64 MiB). A reader that
//! stops early — a text split ends after its last line — thus leaves at
//! most one window unread instead of the rest of the object, and a broken
//! connection is resumed at the current offset.
//!
//! [`Storage::read_range`]: crate::storage::Storage::read_range
//! [`Storage::open_from`]: crate::storage::Storage::open_from

use super::error::{Failure, classify};
use super::storage::S3Storage;
use super::url::S3Url;
use crate::async_rt::block_on;
use aws_sdk_s3::operation::get_object::GetObjectOutput;
use aws_sdk_s3::primitives::ByteStream;
use barks_runtime::{Error, Result};
use bytes::Bytes;
use std::io::{self, Read};
use std::ops::Range;

const FIRST_WINDOW: u64 = 4 << 20;
const MAX_WINDOW: u64 = 64 << 20;
/// How often a body that breaks off mid-way is re-requested from where it
/// stopped (on top of the SDK's retries of each request).
const RESUMES: u32 = 3;

impl S3Storage {
    /// GETs bytes `range` of `url`; `None` if the range starts at or after
    /// the object's end.
    async fn get_range(&self, url: &S3Url, range: Range<u64>) -> Result<Option<GetObjectOutput>> {
        let answer = self
            .client
            .get_object()
            .bucket(&url.bucket)
            .key(&url.key)
            .range(format!("bytes={}-{}", range.start, range.end - 1))
            .send()
            .await;
        match answer {
            Ok(out) => Ok(Some(out)),
            Err(e) if classify(&e) == Failure::InvalidRange => Ok(None),
            Err(e) => Err(self.error(url, "cannot read", &e)),
        }
    }

    /// [`Storage::read_range`](crate::storage::Storage::read_range) on S3.
    pub(super) fn read_bytes(&self, url: &S3Url, range: Range<u64>) -> Result<Vec<u8>> {
        if range.start >= range.end {
            return Ok(Vec::new());
        }
        block_on(async {
            let Some(out) = self.get_range(url, range).await? else {
                return Ok(Vec::new());
            };
            let data = out.body.collect().await.map_err(|e| {
                Error::io(
                    url.to_string(),
                    format!("reading the object's bytes failed: {e}"),
                )
            })?;
            Ok(data.into_bytes().to_vec())
        })
    }

    /// [`Storage::open_from`](crate::storage::Storage::open_from) on S3.
    /// The first window is requested at once, so that a missing object or
    /// bucket is reported here, naming the URL.
    pub(super) fn reader(&self, url: S3Url, start: u64) -> Result<ObjectReader> {
        let mut reader = ObjectReader {
            s3: self.clone(),
            url,
            pos: start,
            size: None,
            window: FIRST_WINDOW,
            body: None,
            chunk: Bytes::new(),
            resumes: 0,
        };
        reader.open_window()?;
        Ok(reader)
    }
}

/// A blocking reader over an object from some offset to its end.
pub(super) struct ObjectReader {
    s3: S3Storage,
    url: S3Url,
    /// The offset of the next byte `read` returns.
    pos: u64,
    /// The object's size, once a response told it.
    size: Option<u64>,
    window: u64,
    body: Option<ByteStream>,
    chunk: Bytes,
    resumes: u32,
}

impl ObjectReader {
    /// Requests the next window; false at the end of the object.
    fn open_window(&mut self) -> Result<bool> {
        if self.size.is_some_and(|size| self.pos >= size) {
            return Ok(false);
        }
        let range = self.pos..self.pos + self.window;
        self.window = (self.window * 2).min(MAX_WINDOW);
        let Some(out) = block_on(self.s3.get_range(&self.url, range))? else {
            self.size = Some(self.pos);
            return Ok(false);
        };
        self.size = Some(match out.content_range().and_then(total_size) {
            Some(size) => size,
            // A server that ignores `Range` sends the whole object: usable
            // only from its start.
            None if self.pos == 0 => out.content_length().unwrap_or(0).max(0) as u64,
            None => {
                return Err(Error::io(
                    self.url.to_string(),
                    "the S3 server ignored the Range header of a ranged read",
                ));
            }
        });
        self.body = Some(out.body);
        Ok(true)
    }
}

/// The total size in a `Content-Range: bytes a-b/total` header.
fn total_size(content_range: &str) -> Option<u64> {
    content_range.rsplit_once('/')?.1.parse().ok()
}

impl Read for ObjectReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            if !self.chunk.is_empty() {
                let n = self.chunk.len().min(out.len());
                out[..n].copy_from_slice(&self.chunk[..n]);
                self.chunk = self.chunk.slice(n..);
                self.pos += n as u64;
                return Ok(n);
            }
            match &mut self.body {
                Some(body) => match block_on(body.try_next()) {
                    Ok(Some(bytes)) => self.chunk = bytes,
                    Ok(None) => self.body = None,
                    Err(_) if self.resumes < RESUMES => {
                        // Resume from `pos` with a fresh request.
                        self.resumes += 1;
                        self.body = None;
                    }
                    Err(e) => {
                        return Err(io::Error::other(format!(
                            "reading {} broke off at byte {}: {e}",
                            self.url, self.pos
                        )));
                    }
                },
                None => {
                    if !self.open_window().map_err(io::Error::other)? {
                        return Ok(0);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::total_size;

    #[test]
    fn content_range_gives_the_total_size() {
        assert_eq!(total_size("bytes 0-99/1234"), Some(1234));
        assert_eq!(total_size("bytes */1234"), Some(1234));
        assert_eq!(total_size("bytes 0-99/*"), None);
    }
}
