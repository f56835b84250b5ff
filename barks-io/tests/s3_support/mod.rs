//! Shared by the S3 tests (barks-io/tests/suite/s3.rs and the root
//! tests/suite/s3_pipeline.rs): the test gateway's address, a fresh bucket per
//! test, and `curl` as an S3 client independent of barks (SigV4-signed
//! requests), to check what barks wrote and to write what barks reads.

#![allow(dead_code)]

use barks_io::s3::{S3Config, S3Storage, shared};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The test gateway, as `scripts/services/s3-rgw.sh` describes it.
pub struct TestS3 {
    pub endpoint: String,
    key: String,
    secret: String,
    /// The process's shared storage for the environment's configuration:
    /// what `s3://` paths use.
    pub storage: Arc<S3Storage>,
}

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: start the test S3 server with \
             `eval \"$(scripts/services/s3-rgw.sh)\"` and run the tests in that shell"
        )
    })
}

/// Connects to the test gateway; fails the test if it is not configured.
pub fn s3() -> TestS3 {
    let endpoint = var("BARKS_TEST_S3_ENDPOINT");
    assert_eq!(
        var("BARKS_S3_ENDPOINT"),
        endpoint,
        "BARKS_S3_ENDPOINT must point `s3://` paths at the test server"
    );
    let storage = shared(&S3Config::from_env().unwrap()).unwrap();
    TestS3 {
        endpoint,
        key: var("AWS_ACCESS_KEY_ID"),
        secret: var("AWS_SECRET_ACCESS_KEY"),
        storage,
    }
}

impl TestS3 {
    /// A new bucket for one test (unique per process and call).
    pub fn bucket(&self, name: &str) -> String {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let bucket = format!(
            "barks-{name}-{}-{nanos}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        self.storage.create_bucket(&bucket).unwrap();
        bucket
    }

    /// An explicit config for the test gateway (for stores other than the
    /// shared one: wrong keys, tiny retries...).
    pub fn config(&self) -> S3Config {
        S3Config::default()
            .endpoint(&self.endpoint)
            .static_credentials(&self.key, &self.secret)
    }

    fn curl(&self, args: &[&str]) -> Vec<u8> {
        let out = Command::new("curl")
            .args([
                "-sS",
                "--fail-with-body",
                "--aws-sigv4",
                "aws:amz:us-east-1:s3",
            ])
            .args(["--user", &format!("{}:{}", self.key, self.secret)])
            .args(["-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD"])
            .args(args)
            .output()
            .expect("cannot run curl (install it: apt-get install curl)");
        assert!(
            out.status.success(),
            "curl {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        out.stdout
    }

    fn http_url(&self, bucket: &str, key: &str) -> String {
        format!("{}/{bucket}/{}", self.endpoint, encode(key))
    }

    /// Writes an object with curl.
    pub fn put(&self, bucket: &str, key: &str, data: &[u8]) {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let file = std::env::temp_dir().join(format!(
            "barks-s3-put-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&file, data).unwrap();
        self.curl(&["-T", &file.to_string_lossy(), &self.http_url(bucket, key)]);
        let _ = std::fs::remove_file(file);
    }

    /// Reads an object with curl.
    pub fn get(&self, bucket: &str, key: &str) -> Vec<u8> {
        self.curl(&[&self.http_url(bucket, key)])
    }

    /// The object's ETag (a multipart upload's ends in `-<parts>`).
    pub fn etag(&self, bucket: &str, key: &str) -> String {
        let head = String::from_utf8(self.curl(&["-I", &self.http_url(bucket, key)])).unwrap();
        head.lines()
            .find_map(|l| {
                l.strip_prefix("ETag: ")
                    .or_else(|| l.strip_prefix("etag: "))
            })
            .map(|e| e.trim().trim_matches('"').to_string())
            .unwrap_or_else(|| panic!("no ETag in {head}"))
    }

    /// The keys of the bucket under `prefix`, listed with curl.
    pub fn keys(&self, bucket: &str, prefix: &str) -> Vec<String> {
        let url = format!(
            "{}/{bucket}?list-type=2&prefix={}",
            self.endpoint,
            encode_query(prefix)
        );
        tags(&String::from_utf8(self.curl(&[&url])).unwrap(), "Key")
    }

    /// How many multipart uploads are in progress under `prefix`.
    pub fn pending_uploads(&self, bucket: &str, prefix: &str) -> usize {
        let url = format!(
            "{}/{bucket}?prefix={}&uploads=",
            self.endpoint,
            encode_query(prefix)
        );
        tags(&String::from_utf8(self.curl(&[&url])).unwrap(), "UploadId").len()
    }
}

/// Percent-encodes a key for a URL path (keeping `/`).
fn encode(key: &str) -> String {
    percent_encode(key, b"-_.~/")
}

/// Percent-encodes a query parameter's value.
fn encode_query(value: &str) -> String {
    percent_encode(value, b"-_.~")
}

fn percent_encode(text: &str, keep: &[u8]) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || keep.contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The texts of every `<tag>` element of an XML answer (unescaped).
fn tags(xml: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    xml.split(&open)
        .skip(1)
        .filter_map(|rest| rest.split_once(&close).map(|(text, _)| text))
        .map(|t| {
            t.replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&apos;", "'")
                .replace("&amp;", "&")
        })
        .collect()
}
