//! Pending files: multipart uploads that hold all their bytes but are not
//! completed yet (see [`Storage::create_pending`]). Completing one makes
//! the object appear at once, whatever its size; aborting one leaves
//! nothing. This is the output commit protocol on S3: tasks upload their
//! parts straight to the final keys, and the driver completes the winning
//! uploads when the job commits.
//!
//! [`Storage::create_pending`]: crate::storage::Storage::create_pending

use super::storage::S3Storage;
use super::url::S3Url;
use aws_sdk_s3::types::CompletedPart;
use barks_runtime::{Error, Result};

impl S3Storage {
    /// Completes upload `id` of `url` with every part S3 holds for it.
    pub(super) async fn publish(&self, url: &S3Url, id: &str) -> Result<()> {
        let mut pages = self
            .client
            .list_parts()
            .bucket(&url.bucket)
            .key(&url.key)
            .upload_id(id)
            .into_paginator()
            .send();
        let mut parts = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                self.error(
                    url,
                    &format!("cannot find the parts of pending upload {id}"),
                    &e,
                )
            })?;
            for part in page.parts() {
                let (Some(number), Some(etag)) = (part.part_number(), part.e_tag()) else {
                    return Err(Error::io(
                        url.to_string(),
                        format!("S3 listed a part of upload {id} without number or ETag"),
                    ));
                };
                parts.push(
                    CompletedPart::builder()
                        .part_number(number)
                        .e_tag(etag)
                        .build(),
                );
            }
        }
        if parts.is_empty() {
            return Err(Error::io(
                url.to_string(),
                format!("pending upload {id} has no parts: its writer never finished"),
            ));
        }
        parts.sort_by_key(|p| p.part_number());
        self.complete_upload(url, id, parts).await
    }

    /// Aborts every multipart upload whose key starts with `prefix`.
    pub(super) async fn abort_uploads_under(&self, url: &S3Url, prefix: &str) -> Result<()> {
        let mut markers: Option<(String, String)> = None;
        loop {
            let mut request = self
                .client
                .list_multipart_uploads()
                .bucket(&url.bucket)
                .prefix(prefix);
            if let Some((key, id)) = &markers {
                request = request.key_marker(key).upload_id_marker(id);
            }
            let page = request
                .send()
                .await
                .map_err(|e| self.error(url, "cannot list pending uploads", &e))?;
            for upload in page.uploads() {
                if let (Some(key), Some(id)) = (upload.key(), upload.upload_id()) {
                    self.abort_upload(&url.with_key(key), id).await?;
                }
            }
            markers = match (
                page.is_truncated(),
                page.next_key_marker(),
                page.next_upload_id_marker(),
            ) {
                (Some(true), Some(key), Some(id)) => Some((key.to_string(), id.to_string())),
                _ => return Ok(()),
            };
        }
    }
}
