//! JSON lines in and out, against Python's `json` module as the reference.

use crate::common::{parts, python, run, s, with_only_the_first_bad_line};
use barks_io::{
    BadRecordMode, Compression, JsonOptions, JsonWriteOptions, SaveAsJson, dropped_records,
    json_file, json_file_permissive,
};
use barks_runtime::parallelize;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Event {
    id: u64,
    user: String,
    score: Option<f64>,
    tags: Vec<String>,
    nested: Inner,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Inner {
    ok: bool,
    big: i64,
}

/// Python writes `n` events as JSON lines (CRLF line ends on odd lines, a
/// blank line now and then) and prints them as one JSON array.
fn python_fixture(path: &str, n: usize) -> Vec<Event> {
    const SCRIPT: &str = r#"
import json, random, sys
path, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(3)
names = ["ana", "bø", "日本", "🦀 crab", "quote \" and \\ backslash", "new\nline"]
rows = []
with open(path, "w", encoding="utf-8", newline="") as f:
    for i in range(n):
        row = dict(id=i, user=rng.choice(names) + ("x" * 50000 if i == 5 else ""),
                   score=None if i % 4 == 0 else rng.uniform(-1e9, 1e9),
                   tags=[rng.choice(names) for _ in range(i % 3)],
                   nested=dict(ok=i % 2 == 0, big=rng.choice([2**63 - 1, -2**63, i])))
        rows.append(row)
        f.write(json.dumps(row, ensure_ascii=(i % 2 == 0)) + ("\r\n" if i % 2 else "\n"))
        if i % 100 == 0:
            f.write("\n")
print(json.dumps(rows))
"#;
    serde_json::from_str(&python(SCRIPT, &[path, &n.to_string()])).unwrap()
}

#[test]
fn python_json_lines_read_back_across_partition_counts() {
    let dir = tempfile::tempdir().unwrap();
    let path = s(&dir.path().join("events.json")).to_string();
    let expected = python_fixture(&path, 2000);
    for partitions in 1..=8 {
        let opts = JsonOptions::new().min_partitions(partitions);
        let parts = run(|| json_file::<Event>(&path, opts).glom().collect()).unwrap();
        assert!(parts.len() >= partitions);
        let rows: Vec<Event> = parts.into_iter().flatten().collect();
        assert_eq!(rows, expected, "{partitions} partitions");
    }
}

#[test]
fn barks_json_lines_are_read_by_python() {
    let dir = tempfile::tempdir().unwrap();
    let expected = python_fixture(s(&dir.path().join("in.json")), 300);
    for (partitions, codec) in [
        (1, Compression::None),
        (4, Compression::Gzip),
        (8, Compression::Zstd),
    ] {
        let out = s(&dir.path().join(format!("out-{partitions}"))).to_string();
        let data = expected.clone();
        let opts = JsonWriteOptions::new().compression(codec);
        run(|| parallelize(data, Some(partitions)).save_as_json_with(&out, opts)).unwrap();
        let files = parts(std::path::Path::new(&out));
        assert_eq!(files.len(), partitions);
        if codec != Compression::Zstd {
            const READ: &str = r#"
import gzip, json, sys
rows = []
for p in sys.argv[1:]:
    f = gzip.open(p, "rt", encoding="utf-8") if p.endswith(".gz") else open(p, encoding="utf-8")
    rows += [json.loads(line) for line in f]
print(json.dumps(rows))
"#;
            let args: Vec<&str> = files.iter().map(|f| s(f)).collect();
            let back: Vec<Event> = serde_json::from_str(&python(READ, &args)).unwrap();
            assert_eq!(back, expected);
        }
        let again = run(|| json_file::<Event>(&out, JsonOptions::new()).collect()).unwrap();
        assert_eq!(again, expected, "{codec:?}");
    }
}

const BAD: &str = "{\"id\": 1, \"user\": \"a\", \"score\": 1.0, \"tags\": [], \"nested\": {\"ok\": true, \"big\": 1}}\n\
{\"id\": 2, \"user\": \"b\", \"score\": null, \"tags\": [\"x\", 7], \"nested\": {\"ok\": true, \"big\": 1}}\n\
\n\
{\"id\": 3, \"user\": \"c\", \"score\": 2.0, \"tags\": [], \"nested\": {\"ok\": \"yes\", \"big\": 1}}\n\
not json at all\n\
{\"id\": 4, \"user\": \"d\", \"score\": 2.0, \"tags\": [], \"nested\": {\"ok\": false, \"big\": 4}} trailing\n\
{\"id\": 5, \"user\": \"e\", \"score\": null, \"tags\": [\"t\"], \"nested\": {\"ok\": false, \"big\": 5}}\n";

#[test]
fn fail_fast_names_file_line_and_field_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = s(&dir.path().join("bad.json")).to_string();
    // Only line 2 is bad: with bad rows in several partitions, which task
    // fails the job first is a race.
    std::fs::write(&path, with_only_the_first_bad_line(BAD, 2)).unwrap();
    let err = run(|| json_file::<Event>(&path, JsonOptions::new()).collect())
        .unwrap_err()
        .to_string();
    assert!(err.contains(&format!("{path}: line 2")), "{err}");
    assert!(err.contains("field `tags[1]`"), "{err}");
}

#[test]
fn drop_malformed_and_permissive() {
    let dir = tempfile::tempdir().unwrap();
    let path = s(&dir.path().join("bad.json")).to_string();
    std::fs::write(&path, BAD).unwrap();
    let opts = JsonOptions::new()
        .mode(BadRecordMode::DropMalformed)
        .min_partitions(3);
    let kept = run(|| json_file::<Event>(&path, opts).collect()).unwrap();
    assert_eq!(kept.iter().map(|e| e.id).collect::<Vec<_>>(), vec![1, 5]);
    assert_eq!(dropped_records(&path), 4);
    let all = run(|| {
        json_file_permissive::<Event>(&path, JsonOptions::new().min_partitions(3)).collect()
    })
    .unwrap();
    assert_eq!(all.len(), 6);
    let bad: Vec<_> = all.into_iter().filter_map(Result::err).collect();
    assert_eq!(
        bad.iter().map(|b| b.line).collect::<Vec<_>>(),
        vec![2, 4, 5, 6]
    );
    assert!(
        bad[1].error.contains("field `nested.ok`"),
        "{}",
        bad[1].error
    );
    assert_eq!(bad[2].raw, "not json at all");
    assert!(bad[3].error.contains("trailing"), "{}", bad[3].error);
}

#[test]
fn empty_and_missing_inputs() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("empty.json"), "").unwrap();
    std::fs::write(dir.path().join("blank.json"), "\n\r\n  \n").unwrap();
    let p = s(dir.path()).to_string();
    assert_eq!(
        run(|| json_file::<Event>(&p, JsonOptions::new()).count()).unwrap(),
        0
    );
    let err = run(|| json_file::<Event>("/no/such.json", JsonOptions::new()).count()).unwrap_err();
    assert!(err.to_string().contains("/no/such.json"), "{err}");
}

#[test]
fn save_as_json_writes_one_line_per_row() {
    let dir = tempfile::tempdir().unwrap();
    let out = s(&dir.path().join("out")).to_string();
    run(|| {
        parallelize(vec![(1u32, "é\n".to_string()), (2, String::new())], Some(1)).save_as_json(&out)
    })
    .unwrap();
    let text = std::fs::read_to_string(dir.path().join("out/part-00000.json")).unwrap();
    assert_eq!(text, "[1,\"é\\n\"]\n[2,\"\"]\n");
    assert!(dir.path().join("out/_SUCCESS").exists());
}
