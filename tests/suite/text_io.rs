//! Text input and output: `text_file` on a file, a directory and a glob,
//! split into many partitions (every line exactly once, in order), and
//! `save_as_text_file` with its `_SUCCESS` commit protocol.

use barks::Error;
use barks::io::{SaveAsTextFile, text_file};
use barks::runtime::{Context, Output, parallelize};
use proptest::collection::vec;
use proptest::prelude::*;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "barks-text-io-{}-{}-{name}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> String {
        let path = self.path(name);
        fs::write(&path, contents).unwrap();
        path.display().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn run<R: 'static>(threads: usize, pipeline: impl FnOnce() -> Output<R>) -> barks::Result<R> {
    Context::new(&format!("local[{threads}]"))
        .unwrap()
        .run(pipeline)
}

/// The model of line splitting: `\n` ends a line, a `\r` before it is
/// dropped, a last line needs no newline, an empty file has no lines.
fn model_lines(contents: &str) -> Vec<String> {
    let mut lines: Vec<String> = contents
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l).to_string())
        .collect();
    if contents.is_empty() || contents.ends_with('\n') {
        lines.pop();
    }
    lines
}

/// File contents: lines (often empty, sometimes long, with multi-byte
/// characters) with `\n` or `\r\n` endings, the last one optional.
fn contents() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        2 => Just(String::new()),
        6 => "[a-z é日]{1,12}",
        1 => "[a-z]{40,120}",
    ];
    (vec((line, any::<bool>()), 0..25), any::<bool>()).prop_map(|(lines, last_newline)| {
        let mut s = String::new();
        let n = lines.len();
        for (i, (line, crlf)) in lines.into_iter().enumerate() {
            s.push_str(&line);
            if i + 1 < n || last_newline {
                s.push_str(if crlf { "\r\n" } else { "\n" });
            }
        }
        s
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn every_line_once_in_order_for_any_split(text in contents(), threads in prop_oneof![Just(1usize), Just(3usize)]) {
        let dir = TempDir::new("split");
        let file = dir.write("input.txt", &text);
        let expected = model_lines(&text);
        for min_partitions in 1..=16 {
            let f = file.clone();
            let got = run(threads, move || text_file(&f, Some(min_partitions)).collect()).unwrap();
            prop_assert_eq!(&got, &expected, "min_partitions {}", min_partitions);
        }
    }

    #[test]
    fn a_directory_of_files_reads_each_file_in_name_order(
        texts in vec(contents(), 0..5), min_partitions in 1usize..=16
    ) {
        let dir = TempDir::new("many");
        let mut expected = Vec::new();
        for (i, text) in texts.iter().enumerate() {
            dir.write(&format!("f{i}.txt"), text);
            expected.extend(model_lines(text));
        }
        let d = dir.0.display().to_string();
        let got = run(3, move || text_file(&d, Some(min_partitions)).collect()).unwrap();
        prop_assert_eq!(got, expected);
    }
}

#[test]
fn lines_spanning_many_splits_and_split_borders() {
    // One long line among short ones, a border inside `\r\n` and inside a
    // multi-byte character: every min_partitions from 1 to 16 cuts differently.
    let long = "x".repeat(500);
    let text = format!("a\r\n\r\n{long}\r\nb日本語c\n\nlast");
    let dir = TempDir::new("borders");
    let file = dir.write("input.txt", &text);
    for min_partitions in 1..=16 {
        for threads in [1, 3] {
            let f = file.clone();
            let got = run(threads, move || {
                text_file(&f, Some(min_partitions)).collect()
            })
            .unwrap();
            assert_eq!(
                got,
                ["a", "", long.as_str(), "b日本語c", "", "last"],
                "min_partitions {min_partitions}"
            );
        }
    }
    // Even one partition per byte reads each line once.
    let f = file.clone();
    let got = run(2, move || text_file(&f, Some(text.len())).count()).unwrap();
    assert_eq!(got, 6);
}

#[test]
fn an_empty_file_and_an_empty_directory_have_no_lines() {
    let dir = TempDir::new("empty");
    let file = dir.write("empty.txt", "");
    for min_partitions in [1, 4] {
        let f = file.clone();
        assert_eq!(
            run(2, move || text_file(&f, Some(min_partitions)).count()).unwrap(),
            0
        );
    }
    let sub = dir.path("sub");
    fs::create_dir(&sub).unwrap();
    let s = sub.display().to_string();
    assert_eq!(
        run(2, move || text_file(&s, Some(3)).collect()).unwrap(),
        Vec::<String>::new()
    );
    // An empty file among others contributes nothing.
    dir.write("sub/b.txt", "b1\nb2\n");
    dir.write("sub/a.txt", "");
    let s = sub.display().to_string();
    assert_eq!(
        run(2, move || text_file(&s, Some(3)).collect()).unwrap(),
        ["b1", "b2"]
    );
}

#[test]
fn a_directory_skips_hidden_files_and_subdirectories() {
    let dir = TempDir::new("hidden");
    dir.write("b.txt", "b1\nb2");
    dir.write("a.txt", "a1\n");
    dir.write("_SUCCESS", "");
    dir.write("_hidden", "no\n");
    dir.write(".crc", "no\n");
    fs::create_dir(dir.path("nested")).unwrap();
    dir.write("nested/c.txt", "no\n");
    let d = dir.0.display().to_string();
    let got = run(2, move || text_file(&d, Some(4)).collect()).unwrap();
    assert_eq!(got, ["a1", "b1", "b2"]);
}

#[test]
fn a_glob_reads_the_matching_files() {
    let dir = TempDir::new("glob");
    dir.write("x1.log", "one\n");
    dir.write("x2.log", "two\nthree\n");
    dir.write("x3.txt", "not this\n");
    dir.write("_x4.log", "hidden\n");
    let pattern = dir.path("x*.log").display().to_string();
    let got = run(2, move || text_file(&pattern, Some(5)).collect()).unwrap();
    assert_eq!(got, ["one", "two", "three"]);
    let nothing = dir.path("*.csv").display().to_string();
    let err = run(2, move || text_file(&nothing, Some(1)).count()).unwrap_err();
    assert!(err.to_string().contains("*.csv"), "{err}");
}

#[test]
fn invalid_utf8_is_an_error_naming_the_file() {
    let dir = TempDir::new("utf8");
    let mut bytes = b"fine\nalso fine\n".to_vec();
    bytes.extend_from_slice(&[0x66, 0xff, 0xfe, b'\n', b'o', b'k', b'\n']);
    let file = dir.write("bad.txt", &bytes);
    for min_partitions in [1, 3, 8] {
        let f = file.clone();
        let err = run(2, move || text_file(&f, Some(min_partitions)).collect()).unwrap_err();
        assert!(matches!(err, Error::Task { .. }), "{err:?}");
        let shown = err.to_string();
        assert!(
            shown.contains("bad.txt") && shown.contains("UTF-8"),
            "{shown}"
        );
    }
}

// ---- save_as_text_file ----------------------------------------------------

fn part_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn save_writes_one_part_per_partition_and_success() {
    for threads in [1, 3] {
        let tmp = TempDir::new("save");
        let out = tmp.path("out");
        let o = out.clone();
        // 10 records in 12 partitions: some parts are empty files.
        run(threads, move || {
            parallelize((0..10).collect::<Vec<i32>>(), Some(12)).save_as_text_file(&o)
        })
        .unwrap();
        let mut expected: Vec<String> = (0..12).map(|i| format!("part-{i:05}")).collect();
        expected.insert(0, "_SUCCESS".into());
        assert_eq!(part_files(&out), expected);
        let all: String = (0..12)
            .map(|i| fs::read_to_string(out.join(format!("part-{i:05}"))).unwrap())
            .collect();
        assert_eq!(all, (0..10).map(|i| format!("{i}\n")).collect::<String>());
        // Reading the directory back skips `_SUCCESS` and yields the records in order.
        let o = out.display().to_string();
        let back = run(threads, move || {
            text_file(&o, Some(2))
                .map(|l| l.parse::<i32>().unwrap())
                .collect()
        })
        .unwrap();
        assert_eq!(back, (0..10).collect::<Vec<_>>());
    }
}

#[test]
fn save_into_an_existing_empty_directory_works() {
    let tmp = TempDir::new("empty-out");
    let out = tmp.path("out");
    fs::create_dir(&out).unwrap();
    let o = out.clone();
    run(2, move || {
        parallelize(vec!["a".to_string(), "b".to_string()], Some(1)).save_as_text_file(&o)
    })
    .unwrap();
    assert_eq!(part_files(&out), ["_SUCCESS", "part-00000"]);
    assert_eq!(
        fs::read_to_string(out.join("part-00000")).unwrap(),
        "a\nb\n"
    );
}

#[test]
fn a_failing_save_leaves_no_output_directory() {
    for threads in [1, 3] {
        let tmp = TempDir::new("fail-out");
        let out = tmp.path("out");
        let o = out.clone();
        let err = run(threads, move || {
            parallelize((0..100).collect::<Vec<i32>>(), Some(8))
                .map(|x| if x == 90 { panic!("record {x}") } else { x })
                .save_as_text_file(&o)
        })
        .unwrap_err();
        assert!(matches!(err, Error::Task { partition: 7, .. }), "{err:?}");
        assert!(!out.join("_SUCCESS").exists());
        assert!(!out.exists(), "partial output left: {:?}", part_files(&out));
    }
}

#[test]
fn saving_over_a_non_empty_directory_is_refused() {
    let tmp = TempDir::new("exists");
    let out = tmp.path("out");
    fs::create_dir(&out).unwrap();
    fs::write(out.join("keep.txt"), "precious\n").unwrap();
    let o = out.clone();
    let err = run(2, move || {
        parallelize(vec![1, 2, 3], Some(2)).save_as_text_file(&o)
    })
    .unwrap_err();
    let shown = err.to_string();
    assert!(
        shown.contains(&out.display().to_string()) && shown.contains("not empty"),
        "{shown}"
    );
    // Nothing was touched.
    assert_eq!(part_files(&out), ["keep.txt"]);
    assert_eq!(
        fs::read_to_string(out.join("keep.txt")).unwrap(),
        "precious\n"
    );
}

#[test]
fn a_retried_save_commits_only_the_successful_attempt() {
    let tmp = TempDir::new("retry-out");
    let out = tmp.path("out");
    let o = out.clone();
    let failed = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    Context::new("local[2]")
        .unwrap()
        .with_max_task_attempts(2)
        .run(move || {
            parallelize((0..20).collect::<Vec<i32>>(), Some(4))
                .map(move |x| {
                    // Partition 1 fails once, half-way through writing.
                    if x == 7 && !failed.swap(true, Ordering::SeqCst) {
                        panic!("flaky");
                    }
                    x
                })
                .save_as_text_file(&o)
        })
        .unwrap();
    assert_eq!(
        part_files(&out),
        [
            "_SUCCESS",
            "part-00000",
            "part-00001",
            "part-00002",
            "part-00003"
        ]
    );
    assert_eq!(
        fs::read_to_string(out.join("part-00001")).unwrap(),
        "5\n6\n7\n8\n9\n"
    );
}
