//! DataFusion's errors as barks errors.

use barks_runtime::Error;
use datafusion::common::DataFusionError;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::datasource::physical_plan::FileScanConfig;
use datafusion::datasource::source::DataSourceExec;
use datafusion::physical_plan::ExecutionPlan;
use std::sync::Arc;

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

/// What DataFusion's CSV and JSON readers say about a row they cannot
/// decode (arrow-csv's and arrow-json's errors): the line, the value and
/// the column, but not the file.
const ROW_ERRORS: [&str; 4] = [
    "Csv error: ",
    "Json error: ",
    "Parser error: Error while parsing value ",
    "Parser error: Error parsing column ",
];

/// `e`, an error of running `plan`, with the message of a CSV or JSON row
/// that does not decode starting with the file it is in (`/data/people.csv:
/// Arrow error: Parser error: ... at line 51 ...`): DataFusion's readers
/// give the line but not the file, and nothing outside their scan knows
/// which of its files was being read. So a plan that scans one CSV or JSON
/// file names it, and one that scans several names the directory they
/// share. Any other error, or one that already names a scanned file, is
/// returned as it is.
pub(crate) fn naming_the_file(plan: &Arc<dyn ExecutionPlan>, e: Error) -> Error {
    let named = |message: String| {
        if !ROW_ERRORS.iter().any(|marker| message.contains(marker)) {
            return message;
        }
        let files = ScannedFiles::of(plan);
        if files.0.iter().any(|file| message.contains(file.as_str())) {
            return message;
        }
        match files.which() {
            Some(which) => format!("{which}: {message}"),
            None => message,
        }
    };
    match e {
        Error::Task {
            job,
            stage,
            partition,
            attempts,
            message,
        } => Error::Task {
            job,
            stage,
            partition,
            attempts,
            message: named(message),
        },
        Error::Sql(message) => Error::Sql(named(message)),
        e => e,
    }
}

/// The CSV and JSON files a physical plan scans, sorted.
struct ScannedFiles(Vec<String>);

impl ScannedFiles {
    fn of(plan: &Arc<dyn ExecutionPlan>) -> ScannedFiles {
        let mut files = Vec::new();
        let _ = plan.apply(|node| {
            if let Some(scan) = node.downcast_ref::<DataSourceExec>()
                && let Some(config) = scan.data_source().downcast_ref::<FileScanConfig>()
                && matches!(config.file_source().file_type(), "csv" | "json")
            {
                let store = config.object_store_url.as_str();
                for file in config.file_groups.iter().flat_map(|group| group.iter()) {
                    let location = &file.object_meta.location;
                    files.push(match store {
                        "file:///" => format!("/{location}"),
                        store => format!("{store}{location}"),
                    });
                }
            }
            Ok(TreeNodeRecursion::Continue)
        });
        // A file split into byte ranges is in several groups.
        files.sort();
        files.dedup();
        ScannedFiles(files)
    }

    /// The file scanned, or the directory the files scanned share, or a
    /// few of them; `None` if there are none.
    fn which(&self) -> Option<String> {
        let files = self.0.as_slice();
        let [first, rest @ ..] = files else {
            return None;
        };
        if rest.is_empty() {
            return Some(first.clone());
        }
        // The directories every file is in, by `/`-separated segments.
        let mut common: Vec<&str> = first.split('/').collect();
        common.pop();
        for file in rest {
            let mut segments: Vec<&str> = file.split('/').collect();
            segments.pop();
            let same = common
                .iter()
                .zip(&segments)
                .take_while(|(a, b)| a == b)
                .count();
            common.truncate(same);
        }
        // More than the root or a URL's scheme.
        let names_a_directory = common.iter().any(|s| !s.is_empty() && !s.ends_with(':'));
        Some(if names_a_directory {
            format!("one of the {} files in {}/", files.len(), common.join("/"))
        } else {
            let mut listed = files[..files.len().min(3)].join(", ");
            if files.len() > 3 {
                listed.push_str(", ...");
            }
            format!("one of the {} files {listed}", files.len())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::ScannedFiles;

    fn which(files: &[&str]) -> Option<String> {
        ScannedFiles(files.iter().map(|f| f.to_string()).collect()).which()
    }

    #[test]
    fn one_file_is_named_and_several_by_their_directory() {
        assert_eq!(which(&[]), None);
        assert_eq!(which(&["/d/a.csv"]).unwrap(), "/d/a.csv");
        assert_eq!(
            which(&["/d/x=1/a.csv", "/d/x=2/b.csv"]).unwrap(),
            "one of the 2 files in /d/"
        );
        assert_eq!(
            which(&["s3://b/t/a.json", "s3://b/t/c.json", "s3://b/t/d.json"]).unwrap(),
            "one of the 3 files in s3://b/t/"
        );
        // Nothing shared but the root or the scheme: a few are listed.
        assert_eq!(
            which(&["/a.csv", "/b.csv"]).unwrap(),
            "one of the 2 files /a.csv, /b.csv"
        );
        assert_eq!(
            which(&["s3://b1/a", "s3://b2/a", "s3://b3/a", "s3://b4/a"]).unwrap(),
            "one of the 4 files s3://b1/a, s3://b2/a, s3://b3/a, ..."
        );
    }
}
