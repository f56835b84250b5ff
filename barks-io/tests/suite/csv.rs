//! CSV in and out, against Python's `csv` module as the independent
//! reference: Python writes the fixtures (CRLF line ends, its own quoting)
//! and reads what barks writes.

use crate::common::{parts, python, run, s, with_only_the_first_bad_line};
use barks_io::{
    BadRecord, BadRecordMode, Compression, CsvOptions, CsvWriteOptions, SaveAsCsv, csv_file,
    csv_file_permissive, dropped_records,
};
use barks_runtime::{Dataset, parallelize};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Row {
    id: u32,
    name: String,
    price: Option<f64>,
    note: Option<String>,
    big: i64,
}

/// Writes `files` CSV files of `n` rows each into `dir` with Python's csv
/// writer (CRLF, minimal quoting) and returns the rows as Python meant them.
/// With `newlines`, some quoted fields hold `\n` and `\r\n`.
fn python_fixture(dir: &Path, files: usize, n: usize, newlines: bool) -> Vec<Row> {
    const SCRIPT: &str = r#"
import csv, json, random, sys
out, files, n, newlines = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
rng = random.Random(7)
words = ["plain", "comma, inside", 'quote " inside', "ünïcödé ✓", "日本語", "emoji 🦀", "  spaces  ", "semi;colon"]
if newlines:
    words += ["two\nlines", "crlf\r\ninside"]
rows = []
for k in range(files):
    with open(f"{out}/data-{k}.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "name", "price", "note", "big"])
        for j in range(n):
            i = k * n + j
            name = "L" * 100000 if i == 3 else rng.choice(words) + str(i)
            price = None if i % 7 == 0 else round(rng.uniform(-1e6, 1e6), 3)
            note = None if i % 5 == 0 else "x" * (i % 50 + 1)
            big = rng.choice([2**62, -2**63, 0, i])
            w.writerow([i, name, "" if price is None else repr(price), "" if note is None else note, big])
            rows.append(dict(id=i, name=name, price=price, note=note, big=big))
print(json.dumps(rows, ensure_ascii=False))
"#;
    let out = python(
        SCRIPT,
        &[
            s(dir),
            &files.to_string(),
            &n.to_string(),
            if newlines { "1" } else { "0" },
        ],
    );
    serde_json::from_str(&out).unwrap()
}

fn sorted(mut rows: Vec<Row>) -> Vec<Row> {
    rows.sort_by_key(|r| r.id);
    rows
}

/// Every partition's rows (glom), so tests see how the input was split.
fn partitions_of<T: barks_runtime::Data>(data: impl FnOnce() -> Dataset<T>) -> Vec<Vec<T>> {
    run(|| data().glom().collect()).unwrap()
}

#[test]
fn python_csv_reads_back_across_partition_counts() {
    let dir = tempfile::tempdir().unwrap();
    let expected = python_fixture(dir.path(), 1, 3000, false);
    let path = s(&dir.path().join("data-0.csv")).to_string();
    assert!(
        std::fs::read(&path)
            .unwrap()
            .windows(2)
            .any(|w| w == b"\r\n"),
        "CRLF fixture"
    );
    for partitions in 1..=8 {
        let parts =
            partitions_of(|| csv_file::<Row>(&path, CsvOptions::new().min_partitions(partitions)));
        assert!(
            parts.len() >= partitions,
            "{} partitions for {partitions}",
            parts.len()
        );
        let rows: Vec<Row> = parts.into_iter().flatten().collect();
        assert_eq!(rows, expected, "{partitions} partitions");
    }
}

#[test]
fn quoted_newlines_need_multi_line() {
    let dir = tempfile::tempdir().unwrap();
    let expected = python_fixture(dir.path(), 3, 400, true);
    for partitions in 1..=8 {
        let path = s(dir.path()).to_string();
        let parts = partitions_of(|| {
            csv_file::<Row>(
                &path,
                CsvOptions::new()
                    .multi_line(true)
                    .min_partitions(partitions),
            )
        });
        assert_eq!(parts.len(), 3, "multi-line files are one partition each");
        let rows: Vec<Row> = parts.into_iter().flatten().collect();
        assert_eq!(sorted(rows), expected);
    }
}

#[test]
fn barks_csv_is_read_by_python() {
    let rows = {
        let dir = tempfile::tempdir().unwrap();
        python_fixture(dir.path(), 1, 500, true)
    };
    for partitions in [1, 3, 8] {
        let dir = tempfile::tempdir().unwrap();
        let out = s(&dir.path().join("out")).to_string();
        let data = rows.clone();
        run(|| parallelize(data, Some(partitions)).save_as_csv(&out, CsvWriteOptions::new()))
            .unwrap();
        assert!(dir.path().join("out/_SUCCESS").exists());
        let files = parts(&dir.path().join("out"));
        assert_eq!(files.len(), partitions);
        const READ: &str = r#"
import csv, json, sys
rows = []
for path in sys.argv[1:]:
    with open(path, newline="", encoding="utf-8") as f:
        lines = list(csv.reader(f))
    assert lines[0] == ["id", "name", "price", "note", "big"], lines[0]
    assert ["id", "name", "price", "note", "big"] not in lines[1:]
    for id, name, price, note, big in lines[1:]:
        rows.append(dict(id=int(id), name=name, price=float(price) if price else None, note=note or None, big=int(big)))
print(json.dumps(rows, ensure_ascii=False))
"#;
        let args: Vec<&str> = files.iter().map(|f| s(f)).collect();
        let back: Vec<Row> = serde_json::from_str(&python(READ, &args)).unwrap();
        assert_eq!(back, rows, "{partitions} partitions");
        // And barks reads its own output back.
        let again =
            run(|| csv_file::<Row>(&out, CsvOptions::new().multi_line(true)).collect()).unwrap();
        assert_eq!(again, rows);
    }
}

const BAD: &str = "id,name,price,note,big\n\
1,a,1.5,n,10\n\
2,b,notanumber,n,10\n\
3,c,2.5,n\n\
4,d,3.5,n,99999999999999999999\n\
5,e,4.5,,7\n";

fn good_rows() -> Vec<Row> {
    vec![
        Row {
            id: 1,
            name: "a".into(),
            price: Some(1.5),
            note: Some("n".into()),
            big: 10,
        },
        Row {
            id: 5,
            name: "e".into(),
            price: Some(4.5),
            note: None,
            big: 7,
        },
    ]
}

#[test]
fn fail_fast_names_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.csv");
    // Only line 3 is bad: with bad rows in several partitions, which task
    // fails the job first is a race.
    std::fs::write(&path, with_only_the_first_bad_line(BAD, 3)).unwrap();
    let p = s(&path).to_string();
    let err = run(|| csv_file::<Row>(&p, CsvOptions::new()).collect())
        .unwrap_err()
        .to_string();
    assert!(err.contains(&format!("{p}: line 3")), "{err}");
    assert!(
        err.contains("field 3 (`price`)") && err.contains("notanumber"),
        "{err}"
    );
}

#[test]
fn drop_malformed_drops_and_counts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.csv");
    std::fs::write(&path, BAD).unwrap();
    let p = s(&path).to_string();
    for _ in 0..2 {
        let rows = run(|| {
            csv_file::<Row>(&p, CsvOptions::new().mode(BadRecordMode::DropMalformed)).collect()
        })
        .unwrap();
        assert_eq!(rows, good_rows());
        // A second run replaces the count rather than adding to it.
        assert_eq!(dropped_records(&p), 3);
    }
}

#[test]
fn permissive_keeps_bad_rows_with_their_text() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.csv");
    std::fs::write(&path, BAD).unwrap();
    let p = s(&path).to_string();
    let rows = run(|| csv_file_permissive::<Row>(&p, CsvOptions::new()).collect()).unwrap();
    let good: Vec<Row> = rows.iter().filter_map(|r| r.clone().ok()).collect();
    assert_eq!(good, good_rows());
    let bad: Vec<BadRecord> = rows.into_iter().filter_map(Result::err).collect();
    let lines: Vec<u64> = bad.iter().map(|b| b.line).collect();
    assert_eq!(lines, vec![3, 4, 5]);
    assert_eq!(bad[0].raw, "2,b,notanumber,n,10");
    assert_eq!(bad[1].raw, "3,c,2.5,n");
    assert!(
        bad[1].error.contains("expected 5 fields"),
        "{}",
        bad[1].error
    );
    assert!(bad[2].error.contains("`big`"), "{}", bad[2].error);
    assert!(bad.iter().all(|b| b.file == p));
}

#[test]
fn bad_record_lines_are_file_lines_in_every_split() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.csv");
    let mut text = String::from("id,name,price,note,big\n");
    let bad_lines = [1000u64, 2500, 4999];
    for line in 2..=5000u64 {
        if bad_lines.contains(&line) {
            text.push_str(&format!("{line},bad,oops,,1\n"));
        } else {
            text.push_str(&format!("{line},name {line},1.25,,{line}\n"));
        }
    }
    std::fs::write(&path, &text).unwrap();
    let p = s(&path).to_string();
    for partitions in 1..=8 {
        let opts = CsvOptions::new().min_partitions(partitions);
        let rows = run(|| csv_file_permissive::<Row>(&p, opts).collect()).unwrap();
        assert_eq!(rows.len(), 4999);
        let lines: Vec<u64> = rows
            .iter()
            .filter_map(|r| r.as_ref().err())
            .map(|b| b.line)
            .collect();
        assert_eq!(lines, bad_lines, "{partitions} partitions");
        let ids: Vec<u32> = rows
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .map(|r| r.id)
            .collect();
        assert!(ids.iter().all(|&id| !bad_lines.contains(&u64::from(id))));
    }
}

#[test]
fn compressed_inputs_are_one_partition_per_file() {
    let dir = tempfile::tempdir().unwrap();
    let expected = python_fixture(dir.path(), 1, 2000, false);
    let plain = std::fs::read(dir.path().join("data-0.csv")).unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    // gzip by Python, zstd by libzstd (the zstd crate).
    python(
        "import gzip, sys; open(sys.argv[2], 'wb').write(gzip.compress(open(sys.argv[1], 'rb').read()))",
        &[
            s(&dir.path().join("data-0.csv")),
            s(&input.join("a.csv.gz")),
        ],
    );
    std::fs::write(
        input.join("b.csv.zst"),
        zstd::encode_all(&plain[..], 3).unwrap(),
    )
    .unwrap();
    let p = s(&input).to_string();
    let parts = partitions_of(|| csv_file::<Row>(&p, CsvOptions::new().min_partitions(8)));
    assert_eq!(parts.len(), 2);
    for part in parts {
        assert_eq!(part, expected);
    }
    // A codec named by option wins over the (missing) extension.
    let renamed = dir.path().join("gz-without-extension");
    std::fs::copy(input.join("a.csv.gz"), &renamed).unwrap();
    let r = s(&renamed).to_string();
    let rows =
        run(|| csv_file::<Row>(&r, CsvOptions::new().compression(Compression::Gzip)).collect())
            .unwrap();
    assert_eq!(rows, expected);
}

#[test]
fn corrupt_compressed_input_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.csv.gz");
    std::fs::write(&path, b"this is not gzip").unwrap();
    let p = s(&path).to_string();
    let err = run(|| csv_file::<Row>(&p, CsvOptions::new()).collect())
        .unwrap_err()
        .to_string();
    assert!(err.contains(&p), "{err}");
}

#[test]
fn compressed_output_round_trips() {
    for codec in [Compression::Gzip, Compression::Zstd] {
        let dir = tempfile::tempdir().unwrap();
        let out = s(&dir.path().join("out")).to_string();
        let rows = good_rows();
        let data = rows.clone();
        run(|| {
            parallelize(data, Some(2)).save_as_csv(&out, CsvWriteOptions::new().compression(codec))
        })
        .unwrap();
        let files = parts(&dir.path().join("out"));
        assert!(
            files
                .iter()
                .all(|f| s(f).ends_with(&format!(".csv{}", codec.extension())))
        );
        if codec == Compression::Gzip {
            const READ: &str = "import gzip, sys\nfor p in sys.argv[1:]: print(gzip.open(p, 'rt', newline='').read(), end='')";
            let args: Vec<&str> = files.iter().map(|f| s(f)).collect();
            let text = python(READ, &args);
            assert_eq!(
                text,
                "id,name,price,note,big\n1,a,1.5,n,10\nid,name,price,note,big\n5,e,4.5,,7\n"
            );
        }
        let back = run(|| csv_file::<Row>(&out, CsvOptions::new()).collect()).unwrap();
        assert_eq!(back, rows);
    }
}

#[test]
fn options_delimiter_no_header_null_comment_escape() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("semi.csv");
    const WRITE: &str = r##"
import csv, sys
with open(sys.argv[1], "w", newline="", encoding="utf-8") as f:
    f.write("# a comment line\n")
    w = csv.writer(f, delimiter=";", escapechar="\\", doublequote=False, lineterminator="\n")
    w.writerow([1, 'say "hi"; bye', "NA"])
    w.writerow([2, "ok", 2.5])
"##;
    python(WRITE, &[s(&path)]);
    let p = s(&path).to_string();
    let opts = CsvOptions::new()
        .header(false)
        .delimiter(b';')
        .escape(b'\\')
        .null_value("NA")
        .comment(b'#');
    let rows = run(|| csv_file::<(u32, String, Option<f64>)>(&p, opts).collect()).unwrap();
    assert_eq!(
        rows,
        vec![
            (1, "say \"hi\"; bye".to_string(), None),
            (2, "ok".to_string(), Some(2.5))
        ]
    );
}

#[test]
fn raw_rows_as_strings_and_maps() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("raw.csv");
    std::fs::write(&path, "a,b\r\n1,\"x,y\"\r\n2,\r\n").unwrap();
    let p = s(&path).to_string();
    let vecs =
        run(|| csv_file::<Vec<String>>(&p, CsvOptions::new().header(false)).collect()).unwrap();
    assert_eq!(vecs, vec![vec!["a", "b"], vec!["1", "x,y"], vec!["2", ""]]);
    let maps =
        run(|| csv_file::<HashMap<String, String>>(&p, CsvOptions::new()).collect()).unwrap();
    assert_eq!(maps[0]["b"], "x,y");
    assert_eq!(maps[1]["a"], "2");
}

#[test]
fn empty_inputs_yield_no_rows() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("empty.csv"), "").unwrap();
    std::fs::write(
        dir.path().join("header-only.csv"),
        "id,name,price,note,big\r\n",
    )
    .unwrap();
    let p = s(dir.path()).to_string();
    let rows = run(|| csv_file::<Row>(&p, CsvOptions::new().min_partitions(4)).collect()).unwrap();
    assert!(rows.is_empty());
    let empty_dir = tempfile::tempdir().unwrap();
    let e = s(empty_dir.path()).to_string();
    assert_eq!(
        run(|| csv_file::<Row>(&e, CsvOptions::new()).count()).unwrap(),
        0
    );
    // An empty dataset writes a committed, empty output.
    let out = s(&dir.path().join("out")).to_string();
    run(|| csv_file::<Row>(&e, CsvOptions::new()).save_as_csv(&out, CsvWriteOptions::new()))
        .unwrap();
    assert!(dir.path().join("out/_SUCCESS").exists());
}

#[test]
fn missing_input_names_the_path() {
    let err = run(|| csv_file::<Row>("/no/such/dir/x.csv", CsvOptions::new()).collect())
        .unwrap_err()
        .to_string();
    assert!(err.contains("/no/such/dir/x.csv"), "{err}");
}

#[test]
fn existing_output_is_refused_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("keep.txt"), "precious").unwrap();
    let out = s(dir.path()).to_string();
    let err = run(|| parallelize(good_rows(), Some(1)).save_as_csv(&out, CsvWriteOptions::new()))
        .unwrap_err()
        .to_string();
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("keep.txt")).unwrap(),
        "precious"
    );
}

#[test]
fn rows_that_cannot_be_csv_fail_naming_the_file() {
    #[derive(Clone, Serialize, Deserialize)]
    struct Nested {
        inner: HashMap<String, u32>,
    }
    let dir = tempfile::tempdir().unwrap();
    let out = s(&dir.path().join("out")).to_string();
    let rows = vec![Nested {
        inner: HashMap::from([("a".to_string(), 1)]),
    }];
    let err = run(|| parallelize(rows, Some(1)).save_as_csv(&out, CsvWriteOptions::new()))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("part-00000.csv") && err.contains("record 1"),
        "{err}"
    );
    assert!(
        !dir.path().join("out").exists(),
        "a failed job leaves no output"
    );
}

#[test]
fn crlf_lines_are_numbered_in_every_split() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crlf.csv");
    std::fs::write(&path, "symbol,price,qty\r\nACME,12.5,10\r\nÜBER,9.5,\r\nACME,20,5\r\nBAD,notanumber,1\r\n日本,15.25,\r\n").unwrap();
    let p = s(&path).to_string();
    for partitions in 1..=6 {
        let opts = CsvOptions::new().min_partitions(partitions);
        let rows =
            run(|| csv_file_permissive::<(String, f64, Option<u32>)>(&p, opts).collect()).unwrap();
        let bad: Vec<u64> = rows
            .iter()
            .filter_map(|r| r.as_ref().err())
            .map(|b| b.line)
            .collect();
        assert_eq!(bad, vec![5], "{partitions} partitions");
        assert_eq!(rows.len(), 5);
    }
}
