//! Text files as a dataset of lines, local or on S3 (anything
//! [`storage_for`](crate::storage::storage_for) serves). Files are cut into
//! byte ranges; a line belongs to the range holding its first byte, so
//! ranges can be read independently and together yield every line exactly
//! once. Compressed files (`.gz`, `.zst`) are read whole, one per partition.

use crate::line_input::{LineInput, LineNumbers};
use barks_runtime::{
    BoxIter, Dataset, Error, ErrorSink, Result, Source, default_parallelism, from_source,
};
use std::io::{BufRead, BufReader, Read};

/// Lines of text files; see [`text_file`].
pub struct TextSource {
    /// The partitions, or the error that listing the input met (reported
    /// when the job runs, naming the path).
    input: Result<LineInput>,
}

impl TextSource {
    /// Splits the files `path` names into at least `min_partitions` ranges
    /// (more for big files).
    pub fn new(path: &str, min_partitions: usize) -> Self {
        TextSource {
            input: LineInput::new(path, min_partitions, None, false),
        }
    }
}

impl Source for TextSource {
    type Item = String;

    fn num_partitions(&self) -> usize {
        match &self.input {
            Ok(input) => input.num_partitions(),
            Err(_) => 1,
        }
    }

    fn read(&self, partition: usize, errors: ErrorSink) -> Result<BoxIter<String>> {
        let input = self.input.as_ref().map_err(Clone::clone)?;
        let split = input.open(partition, errors.clone())?;
        Ok(BoxIter::new(Lines {
            reader: BufReader::with_capacity(1 << 20, split.reader),
            lines: split.lines,
            line: 0,
            errors,
            last_len: 80,
            done: false,
        }))
    }
}

struct Lines {
    reader: BufReader<Box<dyn Read + Send>>,
    lines: LineNumbers,
    /// How many lines of the range were returned.
    line: u64,
    errors: ErrorSink,
    /// The length of the previous line, to size the next one's buffer.
    last_len: usize,
    done: bool,
}

impl Lines {
    fn fail(&mut self, error: Error) -> Option<String> {
        self.errors.fail(error);
        self.done = true;
        None
    }
}

impl Iterator for Lines {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        if self.done {
            return None;
        }
        // Lines of a file tend to be alike: start at the last line's size.
        let mut line = Vec::with_capacity(self.last_len + 1);
        match self.reader.read_until(b'\n', &mut line) {
            Ok(0) => return None,
            Ok(n) => self.last_len = n,
            Err(e) => return self.fail(Error::io(&**self.lines.file(), e)),
        }
        self.line += 1;
        if line.last() == Some(&b'\n') {
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
        }
        match String::from_utf8(line) {
            Ok(s) => Some(s),
            Err(e) => {
                let number = self.lines.absolute(self.line);
                self.fail(Error::Input {
                    location: format!("{}: line {number}", self.lines.file()),
                    message: format!("not valid UTF-8 ({e})"),
                })
            }
        }
    }
}

/// The lines of the text files at `path` — a file, a directory or a glob,
/// local or `s3://bucket/prefix` — in at least `min_partitions` partitions
/// (default: the default parallelism).
pub fn text_file(path: impl AsRef<str>, min_partitions: Option<usize>) -> Dataset<String> {
    let min_partitions = min_partitions.unwrap_or_else(default_parallelism);
    from_source(TextSource::new(path.as_ref(), min_partitions))
}
