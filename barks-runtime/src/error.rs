//! The one error type of barks: every failure names what it is about
//! (job, stage, partition, file, argument) so a user can act on it.

use std::fmt;
use std::path::PathBuf;

/// Result alias used throughout barks.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while building or running a job.
///
/// `Debug` prints the same sentence as `Display` (as `anyhow` does), so a
/// `fn main() -> barks::Result<()>` that fails prints
/// `Error: job `…` failed: stage 0, partition 0 failed after 4 attempt(s): …`,
/// not a struct:
///
/// ```
/// let err = barks_runtime::Error::io("nonexist.csv", "no such file or directory");
/// assert_eq!(format!("{err:?}"), "nonexist.csv: no such file or directory");
/// assert_eq!(format!("{err:?}"), err.to_string());
/// ```
#[derive(Clone, PartialEq, Eq)]
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
    /// The job failed on the driver, outside any task: user code that runs
    /// there (merging partition results, finishing a stage) panicked.
    Job { job: String, message: String },
    /// A problem with the plan itself or its options (an output directory
    /// that exists, an unknown persisted dataset, an option out of range).
    Plan(String),
    /// A SQL statement or DataFrame could not be parsed, analysed or planned:
    /// a syntax error (with its line and column), an unknown table or column
    /// (with the nearest name), a type error.
    Sql(String),
    /// A value could not be encoded, or bytes could not be decoded into
    /// one; `what` names the value (a shuffle block, a partition result).
    Codec { what: String, message: String },
    /// Something barks needs from the system could not be started (a
    /// thread, an async runtime); `what` names it.
    Start { what: String, message: String },
    /// A bug in barks: a state it should never reach. `message` says which.
    Internal(String),
    /// Cluster transport or security: a peer refused, unreachable, closed or
    /// sending bad frames. `message` names the peer's address; `peer` is it.
    Net {
        peer: Option<std::net::SocketAddr>,
        message: String,
    },
    /// An operator could not get the memory it needs within the execution
    /// memory budget, even after spilling; `operator` names it, `message`
    /// gives the sizes and the budget.
    Memory { operator: String, message: String },
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

    /// A value named `what` could not be encoded or decoded.
    pub fn codec(what: impl Into<String>, message: impl fmt::Display) -> Self {
        Error::Codec {
            what: what.into(),
            message: message.to_string(),
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
            Error::Memory { operator, message } => write!(f, "{operator} {message}"),
            Error::Args { job, message } => write!(f, "arguments of job `{job}`: {message}"),
            Error::UnknownJob { id } => write!(
                f,
                "no job with id `{id}` is linked into this binary; name the crate that defines it (`use my_jobs as _;`)"
            ),
            Error::Master { given, message } => write!(f, "master `{given}`: {message}"),
            Error::Job { job, message } => write!(f, "job `{job}` failed: {message}"),
            Error::Plan(message) | Error::Sql(message) => write!(f, "{message}"),
            Error::Codec { what, message } => write!(f, "{what}: {message}"),
            Error::Start { what, message } => write!(f, "cannot start {what}: {message}"),
            Error::Internal(message) => write!(
                f,
                "internal error in barks: {message} (this is a bug; please report it)"
            ),
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

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for Error {}
