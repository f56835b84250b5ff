//! The example binaries as a user runs them, and jobs found by id from
//! another crate than the one that defines them.

use std::process::Command;

// The examples library defines the benchmark jobs; naming it links it in, so
// its jobs are in this test binary's registry.
use examples as _;

#[test]
fn a_job_defined_in_another_crate_is_found_by_id() {
    let ids: Vec<&str> = barks::runtime::JOBS.iter().map(|j| j.id).collect();
    let id = ids
        .iter()
        .find(|id| id.starts_with("examples::jobs::wordcount::word_counts#"))
        .unwrap_or_else(|| panic!("word_counts is not registered; registered: {ids:?}"));
    let def = barks::runtime::find_job(id).unwrap();
    assert_eq!(def.name, "word_counts");
}

#[test]
fn word_count_runs_on_its_embedded_text_with_no_arguments() {
    let out = Command::new(env!("CARGO_BIN_EXE_word_count"))
        .env("BARKS_MASTER", "local[2]")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 10, "the top ten words: {stdout}");
    let counts: Vec<u64> = lines
        .iter()
        .map(|l| l.split('\t').nth(1).unwrap().parse().unwrap())
        .collect();
    assert!(
        counts.windows(2).all(|w| w[0] >= w[1]),
        "most frequent first: {stdout}"
    );
    assert!(lines[0].starts_with("the\t"), "{stdout}");
}

#[test]
fn word_count_writes_committed_part_files_and_refuses_a_bad_master() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.txt");
    std::fs::write(&input, "b a b\nc b\n").unwrap();
    let output = dir.path().join("out");
    let status = Command::new(env!("CARGO_BIN_EXE_word_count"))
        .args(["--master", "local[3]", "--input"])
        .arg(&input)
        .arg("--output")
        .arg(&output)
        .status()
        .unwrap();
    assert!(status.success());
    assert!(output.join("_SUCCESS").exists());
    let mut lines: Vec<String> = std::fs::read_dir(&output)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("part-")
        })
        .flat_map(|p| {
            std::fs::read_to_string(p)
                .unwrap()
                .lines()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    lines.sort();
    assert_eq!(lines, ["a\t1", "b\t3", "c\t1"]);

    let bad = Command::new(env!("CARGO_BIN_EXE_word_count"))
        .args(["--master", "local[zero]"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("local[zero]"),
        "the error names the master"
    );
}
