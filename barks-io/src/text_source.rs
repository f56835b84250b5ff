//! Text files as a dataset of lines, local or on S3 (anything
//! [`storage_for`](crate::backend::storage_for) serves). Files are cut into
//! byte ranges; a line belongs to the range holding its first byte, so
//! ranges can be read independently and together yield every line exactly
//! once. Compressed files (`.gz`, `.zst`) are read whole, one per partition.

use crate::line_input::{LineInput, LineNumbers};
use barks_runtime::{
    BoxIter, Dataset, Error, ErrorSink, Result, Source, default_parallelism, from_source,
};
use std::io::{ErrorKind, Read};

/// How many bytes [`Lines`] reads at a time (more when one line is longer).
const BLOCK: usize = 256 << 10;

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
        Ok(BoxIter::new(Lines::new(split.reader, split.lines, errors)))
    }
}

/// The lines of one range, cut from blocks of up to [`BLOCK`] bytes (more
/// for a longer line).
///
/// Lines are often a dozen bytes long, so per-line costs dominate: reading
/// line by line (`BufRead::read_until`) pays a newline search set-up, a
/// copy into a growing `Vec` and a UTF-8 check for every line. Instead a
/// block is filled by `read` calls (usually one), and its complete lines
/// are checked as UTF-8 at once and copied into `text` (a `String`, so
/// lines are sliced from it as `&str` with neither a second check nor
/// unsafe code; one copy of the block costs far less than a check per
/// line). Each line is then one short newline search and one exactly sized
/// `String`. The partial line at the block's end moves to the front of
/// `buf` and is completed by the next block; a line longer than `buf`
/// grows it.
///
/// When a block is not valid UTF-8, `text` takes only the lines before the
/// first invalid byte's line; from that line on the block's lines are
/// checked one at a time, so the error names the exact line (and is the
/// same error a check of that line alone gives).
struct Lines {
    reader: Box<dyn Read + Send>,
    lines: LineNumbers,
    /// How many lines of the range were returned (or failed).
    line: u64,
    errors: ErrorSink,
    /// Bytes read: `buf[..taken]` were moved into `text` or handed out,
    /// `buf[taken..cut]` are complete lines still to check one at a time
    /// (only after invalid UTF-8), and `buf[cut..filled]` is the start of a
    /// line whose end is not read yet (at the end of the input: the last
    /// line, which has no newline).
    buf: Vec<u8>,
    taken: usize,
    cut: usize,
    filled: usize,
    /// The current block's complete lines up to the first one that is not
    /// valid UTF-8; the next line to hand out starts at `pos`.
    text: String,
    pos: usize,
    /// Whether the reader reached its end.
    eof: bool,
    /// Whether an error was reported (no more lines then).
    done: bool,
}

impl Lines {
    fn new(reader: Box<dyn Read + Send>, lines: LineNumbers, errors: ErrorSink) -> Self {
        Lines {
            reader,
            lines,
            line: 0,
            errors,
            buf: vec![0; BLOCK],
            taken: 0,
            cut: 0,
            filled: 0,
            text: String::with_capacity(BLOCK),
            pos: 0,
            eof: false,
            done: false,
        }
    }

    fn fail(&mut self, error: Error) -> Option<String> {
        self.errors.fail(error);
        self.done = true;
        None
    }

    /// Reads the next block: at least one more complete line, or what is
    /// left of the input. Its lines are moved into `text` up to the first
    /// one that is not valid UTF-8; that one and the block's later lines
    /// stay in `buf[taken..cut]`, to be checked one at a time.
    fn refill(&mut self) -> std::io::Result<()> {
        // Keep the partial last line, at the front.
        self.buf.copy_within(self.cut..self.filled, 0);
        self.filled -= self.cut;
        // The partial line holds no newline: search only what is read next.
        let mut searched = self.filled;
        self.cut = loop {
            if self.filled == self.buf.len() {
                // One line fills the buffer: make room for its rest.
                self.buf.resize(2 * self.buf.len(), 0);
            }
            match self.reader.read(&mut self.buf[self.filled..]) {
                Ok(0) => {
                    self.eof = true;
                    break self.filled;
                }
                Ok(n) => {
                    self.filled += n;
                    let fresh = &self.buf[searched..self.filled];
                    if let Some(i) = memchr::memrchr(b'\n', fresh) {
                        break searched + i + 1;
                    }
                    searched = self.filled;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        };
        let lines = &self.buf[..self.cut];
        let valid = match std::str::from_utf8(lines) {
            Ok(text) => text,
            Err(_) => {
                // The lines before the first invalid byte's line (the
                // first chunk of valid UTF-8, up to its last newline).
                let valid = lines.utf8_chunks().next().map_or("", |c| c.valid());
                let whole = memchr::memrchr(b'\n', valid.as_bytes()).map_or(0, |i| i + 1);
                &valid[..whole]
            }
        };
        self.text.clear();
        self.text.push_str(valid);
        self.pos = 0;
        self.taken = valid.len();
        Ok(())
    }

    /// The next line of `buf[taken..cut]`, checked as UTF-8 on its own.
    fn next_from_buf(&mut self) -> Option<String> {
        let rest = &self.buf[self.taken..self.cut];
        let (len, used) = line_end(rest);
        self.taken += used;
        self.line += 1;
        match std::str::from_utf8(&rest[..len]) {
            Ok(line) => Some(line.to_owned()),
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

/// The length of the line at the start of `bytes` without its line end,
/// and the length with it: a line ends after `\n`, and a `\r` just before
/// that `\n` is dropped too; the last line of the input needs no newline.
#[inline]
fn line_end(bytes: &[u8]) -> (usize, usize) {
    match memchr::memchr(b'\n', bytes) {
        Some(i) if i > 0 && bytes[i - 1] == b'\r' => (i - 1, i + 1),
        Some(i) => (i, i + 1),
        None => (bytes.len(), bytes.len()),
    }
}

impl Iterator for Lines {
    type Item = String;

    #[inline]
    fn next(&mut self) -> Option<String> {
        loop {
            if self.done {
                return None;
            }
            if self.pos < self.text.len() {
                let start = self.pos;
                let (len, used) = line_end(&self.text.as_bytes()[start..]);
                self.pos += used;
                self.line += 1;
                // `text` is valid UTF-8 and cut only next to ASCII bytes.
                return Some(String::from(&self.text[start..start + len]));
            }
            if self.taken < self.cut {
                return self.next_from_buf();
            }
            if self.eof {
                return None;
            }
            if let Err(e) = self.refill() {
                return self.fail(Error::io(&**self.lines.file(), e));
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

#[cfg(test)]
mod tests {
    use super::*;
    use barks_runtime::Context;
    use std::sync::{Arc, Mutex};

    /// An independent model of line splitting: a line ends after `\n`, a
    /// `\r` directly before that `\n` is dropped, and bytes after the last
    /// `\n` (as they are, even a trailing `\r`) are one more line.
    fn reference(bytes: &[u8]) -> Vec<String> {
        let mut lines = Vec::new();
        let mut line = Vec::new();
        for &b in bytes {
            if b == b'\n' {
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                lines.push(String::from_utf8(std::mem::take(&mut line)).unwrap());
            } else {
                line.push(b);
            }
        }
        if !line.is_empty() {
            lines.push(String::from_utf8(line).unwrap());
        }
        lines
    }

    fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> String {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path.display().to_string()
    }

    fn read(path: &str, partitions: usize) -> barks_runtime::Result<Vec<String>> {
        Context::new("local[2]")?.run(|| text_file(path, Some(partitions)).collect())
    }

    /// Checks that `bytes` cut into each of `partitions` numbers of ranges
    /// reads the reference's lines, in order.
    fn assert_reads_like_reference(bytes: &[u8], partitions: impl IntoIterator<Item = usize>) {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "input.txt", bytes);
        let expected = reference(bytes);
        for n in partitions {
            let got = read(&path, n).unwrap();
            // Not `assert_eq!`: the lines can be megabytes long.
            assert!(got == expected, "{n} partitions: lines differ");
        }
    }

    /// A deterministic pseudo-random sequence (xorshift).
    fn random(seed: &mut u64, below: u64) -> u64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed % below
    }

    #[test]
    fn small_files_read_like_the_reference() {
        let cases = [
            "",
            "\n",
            "\n\n\n",
            "a",
            "a\n",
            "a\nb",
            "a\nb\n",
            "a\r\nb",
            "a\r\nb\r\n",
            "\r\n\r\n",
            "\r",
            "a\rb\r\r\nc\n",
            "last\r",
            "x\n\n\ny\n\n",
            "日本\r\n語\né",
        ];
        for case in cases {
            // The model agrees with `str::lines`.
            assert_eq!(reference(case.as_bytes()), case.lines().collect::<Vec<_>>());
            assert_reads_like_reference(case.as_bytes(), 1..=4);
        }
    }

    #[test]
    fn many_short_lines_over_several_blocks() {
        let mut seed = 0x9e37_79b9_7f4a_7c15;
        let mut text = String::new();
        while text.len() < 4 * BLOCK + 1000 {
            for _ in 0..random(&mut seed, 30) {
                text.push(['a', 'z', ' ', 'é', '日'][random(&mut seed, 5) as usize]);
            }
            text.push_str(["\n", "\r\n"][random(&mut seed, 2) as usize]);
        }
        text.push_str("no newline");
        assert_reads_like_reference(text.as_bytes(), 1..=6);
        text.push('\n');
        assert_reads_like_reference(text.as_bytes(), [1, 5]);
    }

    #[test]
    fn a_line_longer_than_the_buffer() {
        let long = "y".repeat(3 << 20);
        assert!(long.len() > 4 * BLOCK);
        let text = format!("short\n{long}\r\nafter\n\n{}", "z".repeat(BLOCK * 3 / 2));
        assert_reads_like_reference(text.as_bytes(), [1, 2, 3, 8]);
        assert_reads_like_reference(long.as_bytes(), [1, 4]);
        assert_reads_like_reference(format!("{long}\n").as_bytes(), [1, 4]);
    }

    #[test]
    fn line_ends_and_characters_across_block_borders() {
        // The first block ends between `\r` and `\n`, the second inside a
        // three-byte character, the third right after a newline.
        let mut text = "a\n".repeat((BLOCK - 2) / 2);
        text.push_str("b\r\nc\n");
        text.push_str(&"d".repeat(2 * BLOCK - 1 - text.len()));
        text.push_str("日\n");
        text.push_str(&"e".repeat(3 * BLOCK - 1 - text.len()));
        text.push('\n');
        assert_eq!(&text.as_bytes()[BLOCK - 1..=BLOCK], b"\r\n");
        assert!(!text.is_char_boundary(2 * BLOCK));
        assert_reads_like_reference(text.as_bytes(), 1..=3);
    }

    /// The error reading `bytes` (`bad.txt`) in each number of partitions
    /// reports: `line` is not valid UTF-8 because of `error`.
    fn assert_invalid_line(bytes: &[u8], line: u64, bad: &[u8], partitions: &[usize]) {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "bad.txt", bytes);
        let cause = std::str::from_utf8(bad).unwrap_err();
        let expected = format!("{path}: line {line}: not valid UTF-8 ({cause})");
        for &n in partitions {
            let err = read(&path, n).unwrap_err();
            assert!(matches!(err, Error::Task { .. }), "{err:?}");
            let shown = err.to_string();
            assert!(shown.contains(&expected), "{n} partitions: {shown}");
        }
    }

    #[test]
    fn invalid_utf8_names_the_file_and_the_line() {
        // In a later block of a later range: absolute line numbers.
        let bad = b"bad \xff here";
        let mut bytes = Vec::new();
        for i in 1..=100_000 {
            if i == 70_000 {
                bytes.extend_from_slice(bad);
                bytes.extend_from_slice(b"\r\n");
            } else {
                bytes.extend_from_slice(format!("line {i}\n").as_bytes());
            }
        }
        assert!(bytes.len() > 3 * BLOCK);
        assert_invalid_line(&bytes, 70_000, bad, &[1, 2, 3, 5]);
        // A character cut short by the line end is reported as the line's
        // own error ("incomplete"), not the block's ("invalid sequence").
        let cut = b"ab\xe6\x97";
        assert_invalid_line(b"ok\nab\xe6\x97\r\nok\n", 2, cut, &[1]);
        assert_invalid_line(b"\xc3(\nok\n", 1, b"\xc3(", &[1, 2]);
        assert_invalid_line(b"ok\nok\n\xe6\x97", 3, b"\xe6\x97", &[1, 3]);
    }

    #[test]
    fn lines_before_an_invalid_line_are_returned_first() {
        let dir = tempfile::tempdir().unwrap();
        let mut bytes = "fine\n".repeat(BLOCK / 5 + 10).into_bytes();
        let good = reference(&bytes);
        bytes.extend_from_slice(b"\xff\nfine\n");
        let path = write(&dir, "bad.txt", &bytes);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let err = Context::new("local[1]")
            .unwrap()
            .run(|| text_file(&path, Some(1)).for_each(move |line| sink.lock().unwrap().push(line)))
            .unwrap_err();
        assert!(err.to_string().contains("UTF-8"), "{err}");
        assert!(*seen.lock().unwrap() == good);
    }
}
