//! `s3://bucket/key` and `s3a://bucket/key` URLs.

use barks_runtime::{Error, Result};
use std::fmt;

/// A parsed S3 URL. The scheme is kept so that paths derived from it (listed
/// files, part files) read back in the form the user wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct S3Url {
    scheme: &'static str,
    pub bucket: String,
    /// The object key or prefix, without a leading `/` (may be empty).
    pub key: String,
}

impl S3Url {
    /// Parses `s3://bucket/key` (or `s3a://`); the key may be empty.
    pub fn parse(url: &str) -> Result<S3Url> {
        let (scheme, rest) = if let Some(rest) = url.strip_prefix("s3://") {
            ("s3", rest)
        } else if let Some(rest) = url.strip_prefix("s3a://") {
            ("s3a", rest)
        } else {
            return Err(Error::io(url, "not an S3 URL (expected s3://bucket/key)"));
        };
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(Error::io(
                url,
                "the S3 URL names no bucket (expected s3://bucket/key)",
            ));
        }
        Ok(S3Url {
            scheme,
            bucket: bucket.to_string(),
            key: key.to_string(),
        })
    }

    /// The URL of another key in the same bucket, with the same scheme.
    pub fn with_key(&self, key: impl Into<String>) -> S3Url {
        S3Url {
            scheme: self.scheme,
            bucket: self.bucket.clone(),
            key: key.into(),
        }
    }

    /// The key as a "directory" prefix: empty for the bucket's root, else
    /// ending with `/`.
    pub fn dir_prefix(&self) -> String {
        if self.key.is_empty() || self.key.ends_with('/') {
            self.key.clone()
        } else {
            format!("{}/", self.key)
        }
    }

    /// The `x-amz-copy-source` value naming this object: `bucket/key`,
    /// percent-encoded except for `/`.
    pub fn copy_source(&self) -> String {
        let mut out = String::with_capacity(self.bucket.len() + self.key.len() + 1);
        for b in format!("{}/{}", self.bucket, self.key).bytes() {
            if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
                out.push(b as char);
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        out
    }
}

impl fmt::Display for S3Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}/{}", self.scheme, self.bucket, self.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_schemes_and_keeps_them() {
        let u = S3Url::parse("s3a://b/dir/x.txt").unwrap();
        assert_eq!((u.bucket.as_str(), u.key.as_str()), ("b", "dir/x.txt"));
        assert_eq!(u.to_string(), "s3a://b/dir/x.txt");
        assert_eq!(u.with_key("y").to_string(), "s3a://b/y");
        let u = S3Url::parse("s3://b").unwrap();
        assert_eq!(
            (u.bucket.as_str(), u.key.as_str(), u.dir_prefix().as_str()),
            ("b", "", "")
        );
        assert_eq!(S3Url::parse("s3://b/d").unwrap().dir_prefix(), "d/");
        assert_eq!(S3Url::parse("s3://b/d/").unwrap().dir_prefix(), "d/");
    }

    #[test]
    fn rejects_urls_without_bucket() {
        for bad in ["s3://", "s3:///key", "http://b/k"] {
            let err = S3Url::parse(bad).unwrap_err().to_string();
            assert!(err.starts_with(bad), "{err}");
        }
    }

    #[test]
    fn copy_source_is_percent_encoded() {
        let u = S3Url::parse("s3://b/dir/é x+y.txt").unwrap();
        assert_eq!(u.copy_source(), "b/dir/%C3%A9%20x%2By.txt");
    }
}
