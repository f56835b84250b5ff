//! Building an S3 client from an [`S3Config`]: the SDK on a ring-based
//! rustls HTTPS client, with the standard AWS credential and region chains
//! filling in what the config leaves open.

use super::config::S3Config;
use crate::async_rt::block_on;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_s3::Client;
use aws_sdk_s3::config::{Credentials, RequestChecksumCalculation, ResponseChecksumValidation};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use barks_runtime::{Error, Result};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// The region when neither the config nor the environment names one.
const DEFAULT_REGION: &str = "us-east-1";

/// A ready client and the endpoint it talks to (for error messages).
pub(crate) struct Connected {
    pub client: Client,
    pub endpoint: String,
}

/// Builds the client for `config`. Loads the AWS shared config (profile
/// files, environment) once; credentials are resolved lazily on the first
/// request and cached by the SDK.
pub(crate) fn connect(config: &S3Config) -> Result<Connected> {
    // aws-config panics on some invalid settings (e.g. `AWS_RETRY_MODE=x`):
    // report them as errors instead.
    catch_unwind(AssertUnwindSafe(|| block_on(load(config)))).unwrap_or_else(|panic| {
        let why = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("invalid configuration");
        Err(Error::Plan(format!(
            "cannot configure the S3 client: {why}"
        )))
    })
}

async fn load(config: &S3Config) -> Result<Connected> {
    // TLS on ring, chosen explicitly (never the process-default provider).
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).http_client(http);
    if let Some(region) = &config.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(url) = &config.endpoint {
        loader = loader.endpoint_url(url);
    }
    if let Some((id, secret)) = &config.credentials {
        loader = loader.credentials_provider(Credentials::new(id, secret, None, None, "barks"));
    }
    if let Some(n) = config.max_attempts {
        loader = loader.retry_config(RetryConfig::standard().with_max_attempts(n));
    }
    if let Some(timeout) = config.connect_timeout {
        loader = loader.timeout_config(TimeoutConfig::builder().connect_timeout(timeout).build());
    }
    let shared = loader.load().await;
    let endpoint = shared.endpoint_url().map(str::to_string);
    let path_style = config.force_path_style.unwrap_or(endpoint.is_some());
    let region = shared
        .region()
        .cloned()
        .unwrap_or_else(|| Region::new(DEFAULT_REGION));
    let s3_config = aws_sdk_s3::config::Builder::from(&shared)
        .region(region.clone())
        .force_path_style(path_style)
        // S3-compatible stores (Ceph RGW among them) do not all know the
        // newer flexible checksums: send and check them only where required.
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
        .build();
    let endpoint = endpoint.unwrap_or_else(|| format!("AWS S3 ({region})"));
    Ok(Connected {
        client: Client::from_conf(s3_config),
        endpoint,
    })
}
