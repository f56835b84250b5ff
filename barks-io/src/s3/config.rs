//! How barks reaches S3: endpoint, addressing style, region, credentials,
//! retries, and the part size of multipart uploads. [`S3Config::from_env`]
//! reads the environment (what `s3://` paths use); tests and programs that
//! talk to several stores build one explicitly.

use barks_runtime::{Error, Result};
use std::fmt;
use std::time::Duration;

/// The smallest part S3 accepts in a multipart upload (except the last).
pub const MIN_PART_SIZE: usize = 5 << 20;
/// The default part size of multipart uploads.
pub const DEFAULT_PART_SIZE: usize = 8 << 20;

/// The settings of one S3 client. Two equal configs share one client.
///
/// ```
/// use barks_io::s3::S3Config;
/// let config = S3Config::default()
///     .endpoint("http://127.0.0.1:7480")
///     .static_credentials("key", "secret")
///     .max_attempts(1);
/// assert!(format!("{config:?}").contains("<redacted>"));
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct S3Config {
    pub(crate) endpoint: Option<String>,
    pub(crate) region: Option<String>,
    pub(crate) force_path_style: Option<bool>,
    pub(crate) credentials: Option<(String, String)>,
    pub(crate) max_attempts: Option<u32>,
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) part_size: Option<usize>,
}

impl S3Config {
    /// The configuration the environment describes:
    /// - endpoint: `BARKS_S3_ENDPOINT`, else `AWS_ENDPOINT_URL_S3`, else
    ///   `AWS_ENDPOINT_URL`, else the AWS profile's `endpoint_url`, else AWS;
    /// - path-style addressing (`http://host/bucket/key`): on when a custom
    ///   endpoint is set, off for AWS; `BARKS_S3_FORCE_PATH_STYLE=1|0`
    ///   decides explicitly;
    /// - region: `AWS_REGION` / `AWS_DEFAULT_REGION` / the profile, else
    ///   `us-east-1`;
    /// - credentials: the standard AWS chain (environment, profile, SSO,
    ///   web identity, ECS, EC2 instance metadata);
    /// - retries: `AWS_MAX_ATTEMPTS` (default 3);
    /// - part size: `BARKS_S3_PART_SIZE_MIB` (default 8, at least 5).
    pub fn from_env() -> Result<S3Config> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let endpoint = var("BARKS_S3_ENDPOINT")
            .or_else(|| var("AWS_ENDPOINT_URL_S3"))
            .or_else(|| var("AWS_ENDPOINT_URL"));
        let force_path_style = match var("BARKS_S3_FORCE_PATH_STYLE").as_deref() {
            None => None,
            Some("1" | "true" | "yes") => Some(true),
            Some("0" | "false" | "no") => Some(false),
            Some(other) => return Err(env_error("BARKS_S3_FORCE_PATH_STYLE", other, "1 or 0")),
        };
        let max_attempts = match var("AWS_MAX_ATTEMPTS") {
            None => None,
            Some(v) => match v.parse::<u32>() {
                Ok(n) if n >= 1 => Some(n),
                _ => return Err(env_error("AWS_MAX_ATTEMPTS", &v, "a number of at least 1")),
            },
        };
        let part_size = match var("BARKS_S3_PART_SIZE_MIB") {
            None => None,
            Some(v) => match v.parse::<usize>() {
                Ok(mib) if mib >= 5 => Some(mib << 20),
                _ => {
                    return Err(env_error(
                        "BARKS_S3_PART_SIZE_MIB",
                        &v,
                        "a number of at least 5",
                    ));
                }
            },
        };
        Ok(S3Config {
            endpoint,
            force_path_style,
            max_attempts,
            part_size,
            ..S3Config::default()
        })
    }

    /// Talk to this endpoint (e.g. `http://127.0.0.1:7480`) instead of AWS.
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = Some(url.into());
        self
    }

    /// Use this region instead of the environment's (default `us-east-1`).
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Address buckets in the path (`host/bucket/key`, true) or the host name
    /// (`bucket.host/key`, false). Default: path style exactly when a custom
    /// endpoint is set.
    pub fn force_path_style(mut self, on: bool) -> Self {
        self.force_path_style = Some(on);
        self
    }

    /// Use these keys instead of the AWS credential chain.
    pub fn static_credentials(
        mut self,
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
    ) -> Self {
        self.credentials = Some((access_key_id.into(), secret_access_key.into()));
        self
    }

    /// Try each request at most `n` times (at least 1; default 3).
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = Some(n.max(1));
        self
    }

    /// Give up connecting after `timeout` (default 3.1 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// Upload big files in parts of `bytes` (at least 5 MiB; default 8 MiB).
    pub fn part_size(mut self, bytes: usize) -> Self {
        self.part_size = Some(bytes.max(MIN_PART_SIZE));
        self
    }

    /// The part size in effect.
    pub(crate) fn effective_part_size(&self) -> usize {
        self.part_size.unwrap_or(DEFAULT_PART_SIZE)
    }
}

fn env_error(name: &str, value: &str, expected: &str) -> Error {
    Error::Plan(format!(
        "environment variable {name}={value:?}: expected {expected}"
    ))
}

impl fmt::Debug for S3Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Config")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("force_path_style", &self.force_path_style)
            .field(
                "credentials",
                &self.credentials.as_ref().map(|(id, _)| (id, "<redacted>")),
            )
            .field("max_attempts", &self.max_attempts)
            .field("connect_timeout", &self.connect_timeout)
            .field("part_size", &self.part_size)
            .finish()
    }
}
