//! Listing on S3: a key names a file; a "directory" is a key prefix ending
//! in `/`; a key with `*`, `?` or `[` is a glob matched against whole keys
//! (`*` does not cross `/`, as on a filesystem). Listings follow S3's
//! pagination (1000 keys per page).

use super::error::{Failure, classify};
use super::storage::S3Storage;
use super::url::S3Url;
use crate::async_rt::block_on;
use crate::storage::FileMeta;
use barks_runtime::{Error, Result};
use glob::{MatchOptions, Pattern};

/// What one listing found.
#[derive(Debug, Default)]
pub(super) struct Listing {
    /// `(key, size)` of every object, in S3's (byte-wise) key order.
    pub objects: Vec<(String, u64)>,
    /// Whether the listing was delimited and met deeper "directories".
    pub has_subdirs: bool,
}

impl S3Storage {
    /// Every object whose key starts with `prefix`: only the direct level
    /// below it when `delimited`, all levels otherwise.
    pub(super) async fn list_objects(
        &self,
        url: &S3Url,
        prefix: &str,
        delimited: bool,
    ) -> Result<Listing> {
        let mut request = self
            .client
            .list_objects_v2()
            .bucket(&url.bucket)
            .prefix(prefix);
        if delimited {
            request = request.delimiter("/");
        }
        let mut pages = request.into_paginator().send();
        let mut listing = Listing::default();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.error(url, "cannot list", &e))?;
            listing.has_subdirs |= !page.common_prefixes().is_empty();
            for object in page.contents() {
                if let Some(key) = object.key() {
                    let size = object.size().unwrap_or(0).max(0) as u64;
                    listing.objects.push((key.to_string(), size));
                }
            }
        }
        Ok(listing)
    }

    /// The size of the object at `url`, or `None` if there is none.
    pub(super) async fn head(&self, url: &S3Url) -> Result<Option<u64>> {
        let answer = self
            .client
            .head_object()
            .bucket(&url.bucket)
            .key(&url.key)
            .send()
            .await;
        match answer {
            Ok(head) => Ok(Some(head.content_length().unwrap_or(0).max(0) as u64)),
            Err(e) if classify(&e) == Failure::NotFound => Ok(None),
            Err(e) => Err(self.error(url, "cannot look up", &e)),
        }
    }

    /// Whether any object (hidden ones included) lies under the prefix `url`
    /// or has exactly its key.
    pub(super) async fn any_under(&self, url: &S3Url) -> Result<bool> {
        let page = self
            .client
            .list_objects_v2()
            .bucket(&url.bucket)
            .prefix(url.dir_prefix())
            .max_keys(1)
            .send()
            .await
            .map_err(|e| self.error(url, "cannot list", &e))?;
        if !page.contents().is_empty() {
            return Ok(true);
        }
        Ok(!url.key.is_empty() && !url.key.ends_with('/') && self.head(url).await?.is_some())
    }

    /// [`Storage::list`](crate::storage::Storage::list) on S3.
    pub(super) fn list_files(&self, url: &S3Url) -> Result<Vec<FileMeta>> {
        let mut objects = match url.key.find(['*', '?', '[']) {
            Some(first_wildcard) => self.list_glob(url, first_wildcard)?,
            None => block_on(self.list_file_or_dir(url))?,
        };
        objects.sort();
        Ok(objects
            .into_iter()
            .map(|(key, size)| FileMeta {
                path: url.with_key(key).to_string(),
                size,
            })
            .collect())
    }

    async fn list_file_or_dir(&self, url: &S3Url) -> Result<Vec<(String, u64)>> {
        if !url.key.is_empty()
            && !url.key.ends_with('/')
            && let Some(size) = self.head(url).await?
        {
            return Ok(vec![(url.key.clone(), size)]);
        }
        let prefix = url.dir_prefix();
        let listing = self.list_objects(url, &prefix, true).await?;
        if listing.objects.is_empty() && !listing.has_subdirs && !prefix.is_empty() {
            return Err(Error::io(
                url.to_string(),
                "no such file or directory (no object has this key or starts with this prefix)",
            ));
        }
        Ok(listing
            .objects
            .into_iter()
            // A zero-byte `dir/` object is a console's "folder" marker.
            .filter(|(key, _)| *key != prefix && !is_hidden(key))
            .collect())
    }

    fn list_glob(&self, url: &S3Url, first_wildcard: usize) -> Result<Vec<(String, u64)>> {
        let pattern = Pattern::new(&url.key)
            .map_err(|e| Error::io(url.to_string(), format!("invalid glob pattern: {e}")))?;
        let options = MatchOptions {
            require_literal_separator: true,
            ..MatchOptions::new()
        };
        let literal = &url.key[..first_wildcard];
        // One level suffices unless the pattern goes on below a `/`.
        let deep = url.key[first_wildcard..].contains('/');
        let listing = block_on(self.list_objects(url, literal, !deep))?;
        let matches: Vec<_> = listing
            .objects
            .into_iter()
            .filter(|(key, _)| pattern.matches_with(key, options) && !is_hidden(key))
            .collect();
        if matches.is_empty() {
            return Err(Error::io(url.to_string(), "the pattern matches no file"));
        }
        Ok(matches)
    }
}

/// Hidden files (`.x`, `_x`, like Spark's) are skipped by listings.
fn is_hidden(key: &str) -> bool {
    let name = key.rsplit('/').next().unwrap_or(key);
    name.starts_with('.') || name.starts_with('_')
}

#[cfg(test)]
mod tests {
    use super::is_hidden;

    #[test]
    fn hidden_names_start_with_dot_or_underscore() {
        assert!(is_hidden("dir/_SUCCESS"));
        assert!(is_hidden(".keep"));
        assert!(!is_hidden("_dir/part-0"));
        assert!(!is_hidden("a/b.txt"));
    }
}
