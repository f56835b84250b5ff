//! DataFusion's errors as barks errors.

use barks_runtime::Error;
use datafusion::common::DataFusionError;

/// `e` as a barks error: I/O errors name their path where DataFusion gives
/// one; everything else (syntax, unknown names, types, execution) is an
/// [`Error::Sql`] with DataFusion's own sentence, which carries the line and
/// column of a syntax error and the nearest name of an unknown column.
pub(crate) fn from_datafusion(e: DataFusionError) -> Error {
    if let DataFusionError::External(inner) = &e
        && let Some(barks) = inner.downcast_ref::<Error>()
    {
        return barks.clone();
    }
    Error::Sql(strip_backtrace(e.to_string()))
}

/// DataFusion appends a backtrace placeholder to some messages.
fn strip_backtrace(message: String) -> String {
    match message.find("\n\nbacktrace") {
        Some(at) => message[..at].to_string(),
        None => message,
    }
}
