//! The jobs of the `word_count` example. They live in the library, not in
//! the binary, so that the `worker` binary links them too: a worker can run
//! only jobs compiled into it.

use barks::prelude::*;

/// The words of a line, lower-cased.
fn words(line: &str) -> Vec<String> {
    line.split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .map(|w| w.trim_matches('\''))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

#[barks::job]
pub fn top_words_of_lines(lines: Vec<String>, n: usize) -> Vec<(u64, String)> {
    pipeline! {
        let text = parallelize(lines);
        let counts = text.flat_map(|l: String| words(&l)).map(|w| (w, 1u64)).reduce_by_key(|a, b| a + b);
        // Most frequent first; among equal counts, the larger word first.
        counts.map(|(w, c): (String, u64)| (c, w)).top(n)
    }
}

#[barks::job]
pub fn top_words_of_file(path: String, n: usize) -> Vec<(u64, String)> {
    pipeline! {
        let text = text_file(path);
        let counts = text.flat_map(|l: String| words(&l)).map(|w| (w, 1u64)).reduce_by_key(|a, b| a + b);
        counts.map(|(w, c): (String, u64)| (c, w)).top(n)
    }
}

#[barks::job]
pub fn save_word_counts(path: String, output: String) -> () {
    pipeline! {
        let text = text_file(path);
        let counts = text.flat_map(|l: String| words(&l)).map(|w| (w, 1u64)).reduce_by_key(|a, b| a + b);
        counts.map(|(w, c): (String, u64)| format!("{w}\t{c}")).save_as_text_file(output)
    }
}
