//! Text files as a dataset of lines. Files are cut into byte ranges; a line
//! belongs to the range holding its first byte, so ranges can be read
//! independently and together yield every line exactly once.

use crate::files::list_inputs;
use barks_runtime::{
    BoxIter, Dataset, Error, ErrorSink, Result, Source, default_parallelism, from_source,
};
use std::fs::File;
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::Arc;

/// The largest byte range one partition reads (as HDFS blocks cap splits).
const MAX_SPLIT: u64 = 32 << 20;

#[derive(Debug, Clone)]
struct Split {
    file: Arc<PathBuf>,
    start: u64,
    end: u64,
}

/// Lines of text files; see [`text_file`].
pub struct TextSource {
    /// The splits, or the error that listing the input met (reported when the
    /// job runs, naming the path).
    splits: Result<Vec<Split>>,
}

impl TextSource {
    /// Splits the files `path` names into at least `min_partitions` ranges
    /// (more for big files).
    pub fn new(path: &str, min_partitions: usize) -> Self {
        let splits = list_inputs(path).map(|files| {
            let total: u64 = files.iter().map(|(_, len)| len).sum();
            let goal = total
                .div_ceil(min_partitions.max(1) as u64)
                .clamp(1, MAX_SPLIT);
            let mut splits = Vec::new();
            for (file, len) in files {
                let file = Arc::new(file);
                let mut start = 0;
                while start < len {
                    // Like Hadoop, let the last range of a file be up to 10% longer.
                    let end = if len - start <= goal + goal / 10 {
                        len
                    } else {
                        start + goal
                    };
                    splits.push(Split {
                        file: file.clone(),
                        start,
                        end,
                    });
                    start = end;
                }
            }
            splits
        });
        TextSource { splits }
    }
}

impl Source for TextSource {
    type Item = String;

    fn num_partitions(&self) -> usize {
        match &self.splits {
            Ok(splits) => splits.len(),
            Err(_) => 1,
        }
    }

    fn read(&self, partition: usize, errors: ErrorSink) -> Result<BoxIter<String>> {
        let splits = self.splits.as_ref().map_err(Clone::clone)?;
        let split = splits[partition].clone();
        let path = split.file.as_ref();
        let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
        let mut reader;
        let mut pos = split.start;
        if split.start > 0 {
            // Skip the line that started in the previous range.
            file.seek(SeekFrom::Start(split.start - 1))
                .map_err(|e| Error::io(path, e))?;
            reader = BufReader::with_capacity(1 << 20, file);
            let mut skipped = Vec::new();
            pos = split.start - 1
                + reader
                    .read_until(b'\n', &mut skipped)
                    .map_err(|e| Error::io(path, e))? as u64;
        } else {
            reader = BufReader::with_capacity(1 << 20, file);
        }
        Ok(Box::new(Lines {
            reader,
            pos,
            end: split.end,
            file: split.file,
            errors,
            last_len: 80,
        }))
    }
}

struct Lines {
    reader: BufReader<File>,
    pos: u64,
    end: u64,
    file: Arc<PathBuf>,
    errors: ErrorSink,
    /// The length of the previous line, to size the next one's buffer.
    last_len: usize,
}

impl Iterator for Lines {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        if self.pos >= self.end {
            return None;
        }
        // Lines of a file tend to be alike: start at the last line's size.
        let mut line = Vec::with_capacity(self.last_len + 1);
        let read = match self.reader.read_until(b'\n', &mut line) {
            Ok(0) => return None,
            Ok(n) => n,
            Err(e) => {
                self.errors.fail(Error::io(self.file.as_ref(), e));
                return None;
            }
        };
        let start = self.pos;
        self.pos += read as u64;
        self.last_len = read;
        if line.last() == Some(&b'\n') {
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
        }
        match String::from_utf8(line) {
            Ok(s) => Some(s),
            Err(e) => {
                self.errors.fail(Error::Input {
                    location: format!("{}: line at byte {start}", self.file.display()),
                    message: format!("not valid UTF-8 ({e})"),
                });
                self.pos = self.end;
                None
            }
        }
    }
}

/// The lines of the text files at `path` (a file, a directory or a glob),
/// in at least `min_partitions` partitions (default: the default parallelism).
pub fn text_file(path: impl AsRef<str>, min_partitions: Option<usize>) -> Dataset<String> {
    let min_partitions = min_partitions.unwrap_or_else(default_parallelism);
    from_source(TextSource::new(path.as_ref(), min_partitions))
}
