//! Turning the SDK's errors into [`barks_runtime::Error`]s that name the
//! URL and say in words what went wrong and what to check.

use super::url::S3Url;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use barks_runtime::Error;

/// What an S3 request failed with, in the categories a user acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    AccessDenied,
    NoSuchBucket,
    NotFound,
    /// The range asked for starts at or after the object's end.
    InvalidRange,
    /// The multipart upload was completed or aborted already.
    NoSuchUpload,
    Other,
}

/// Sorts an SDK error into a [`Failure`].
pub(crate) fn classify<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> Failure {
    let status = err.raw_response().map(|r| r.status().as_u16());
    match (err.code(), status) {
        (Some("NoSuchBucket"), _) => Failure::NoSuchBucket,
        (
            Some(
                "AccessDenied"
                | "InvalidAccessKeyId"
                | "SignatureDoesNotMatch"
                | "InvalidToken"
                | "ExpiredToken"
                | "AllAccessDisabled",
            ),
            _,
        )
        | (None, Some(403)) => Failure::AccessDenied,
        (Some("NoSuchKey" | "NotFound"), _) | (None, Some(404)) => Failure::NotFound,
        (Some("InvalidRange"), _) | (_, Some(416)) => Failure::InvalidRange,
        (Some("NoSuchUpload"), _) => Failure::NoSuchUpload,
        _ => Failure::Other,
    }
}

/// The error for `err`, met while doing `action` (e.g. "cannot list") on
/// `url` against `endpoint`.
pub(crate) fn s3_error<E>(
    url: &S3Url,
    endpoint: &str,
    action: &str,
    err: &SdkError<E, HttpResponse>,
) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    Error::io(url.to_string(), describe(url, endpoint, action, err))
}

fn describe<E>(url: &S3Url, endpoint: &str, action: &str, err: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let status = err.raw_response().map(|r| r.status().as_u16());
    let detail = || {
        let code = match (err.code(), status) {
            (Some(code), _) => code.to_string(),
            (None, Some(status)) => format!("HTTP {status}"),
            (None, None) => "no error code".to_string(),
        };
        match err.message().filter(|m| !m.is_empty()) {
            Some(message) => format!("{code}: {message}"),
            None => code,
        }
    };
    match classify(err) {
        Failure::AccessDenied => format!(
            "{action}: access denied ({}); check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY \
             (or the AWS profile in use) and that they may access bucket `{}`",
            detail(),
            url.bucket
        ),
        Failure::NoSuchBucket => format!(
            "{action}: bucket `{}` does not exist at {endpoint}",
            url.bucket
        ),
        Failure::NotFound => format!("{action}: no such object"),
        Failure::InvalidRange => format!("{action}: the range starts after the object's end"),
        Failure::NoSuchUpload => {
            format!("{action}: the multipart upload no longer exists (completed or aborted)")
        }
        Failure::Other => match err {
            SdkError::DispatchFailure(failure) if failure.is_io() || failure.is_timeout() => {
                format!(
                    "{action}: cannot reach the S3 endpoint {endpoint} ({}); check \
                     BARKS_S3_ENDPOINT / AWS_ENDPOINT_URL and that the server is running",
                    causes(err)
                )
            }
            SdkError::TimeoutError(_) => {
                format!("{action}: the request to the S3 endpoint {endpoint} timed out")
            }
            SdkError::ServiceError(_) | SdkError::ResponseError(_) => {
                format!("{action}: S3 refused the request ({})", detail())
            }
            _ => {
                let text = causes(err);
                if text.contains("credentials") {
                    format!(
                        "{action}: no usable AWS credentials ({text}); set AWS_ACCESS_KEY_ID and \
                         AWS_SECRET_ACCESS_KEY or configure an AWS profile"
                    )
                } else {
                    format!("{action}: {text}")
                }
            }
        },
    }
}

/// `err` and its sources, each in its own words, from the outermost, on
/// one line.
fn causes(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let words = cause.to_string();
        if !text.contains(&words) {
            text = format!("{text}: {words}");
        }
        source = cause.source();
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
