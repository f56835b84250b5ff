//! The one error type of barks: every failure names what it is about
//! (job, stage, partition, file, argument) so a user can act on it.

use std::fmt;
use std::path::PathBuf;

/// Result alias used throughout barks.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while building or running a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// A task failed (returned an error or panicked) and used up its attempts.
    Task {
        job: String,
        stage: usize,
        partition: usize,
        attempts: u32,
        message: String,
    },
    /// Reading or writing a file failed.
    Io { path: PathBuf, message: String },
    /// A record could not be decoded; `location` names file/line/offset.
    Input { location: String, message: String },
    /// The job's arguments could not be encoded or decoded.
    Args { job: String, message: String },
    /// A job id that no linked crate registered.
    UnknownJob { id: String },
    /// The master URL could not be understood.
    Master { given: String, message: String },
    /// A problem with the plan itself (e.g. an output directory that exists).
    Plan(String),
    /// Cluster transport or security: a peer refused, unreachable, closed or
    /// sending bad frames. `message` names the peer's address; `peer` is it.
    Net {
        peer: Option<std::net::SocketAddr>,
        message: String,
    },
    /// A task could not read map output `map` of shuffle `shuffle` (its
    /// worker is gone): the scheduler recomputes it instead of charging the
    /// task an attempt.
    FetchFailed {
        shuffle: usize,
        map: usize,
        message: String,
    },
}

impl Error {
    /// An I/O error that names the path it concerns.
    pub fn io(path: impl Into<PathBuf>, err: impl fmt::Display) -> Self {
        Error::Io {
            path: path.into(),
            message: err.to_string(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Task {
                job,
                stage,
                partition,
                attempts,
                message,
            } => write!(
                f,
                "job `{job}` failed: stage {stage}, partition {partition} failed after {attempts} attempt(s): {message}"
            ),
            Error::Io { path, message } => write!(f, "{}: {message}", path.display()),
            Error::Input { location, message } => write!(f, "{location}: {message}"),
            Error::Args { job, message } => write!(f, "arguments of job `{job}`: {message}"),
            Error::UnknownJob { id } => write!(
                f,
                "no job with id `{id}` is linked into this binary; name the crate that defines it (`use my_jobs as _;`)"
            ),
            Error::Master { given, message } => write!(f, "master `{given}`: {message}"),
            Error::Plan(message) => write!(f, "{message}"),
            Error::Net { message, .. } => write!(f, "{message}"),
            Error::FetchFailed {
                shuffle,
                map,
                message,
            } => write!(
                f,
                "cannot fetch map output {map} of shuffle {shuffle}: {message}"
            ),
        }
    }
}

impl std::error::Error for Error {}
