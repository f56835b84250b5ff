//! `#[derive(FromArrow)]` rows read with `parquet_rows`, against pyarrow:
//! pyarrow writes every flat Arrow type (with nulls) and prints the rows as
//! JSON, the independent reference; serde's `parquet_file` must read the
//! same rows too.
#![cfg(feature = "parquet")]

use crate::io_common::{PYARROW, assert_same_rows, python, run, s};
use barks::io::parquet::{parquet_file, parquet_rows};
use barks::prelude::*;

/// A row of every type a `FromArrow` field can have.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromArrow)]
struct Wide {
    id: i64,
    a_i8: i8,
    a_i16: i16,
    a_i32: i32,
    a_u8: u8,
    a_u16: u16,
    a_u32: u32,
    a_u64: u64,
    a_f32: f32,
    a_f64: f64,
    flag: bool,
    text: String,
    large_text: String,
    view_text: String,
    bytes: Vec<u8>,
    maybe_text: Option<String>,
    maybe_int: Option<i32>,
    #[serde(rename = "Score")]
    score: Option<f64>,
    /// The file has no such column.
    absent: Option<u16>,
}

/// The same rows without the binary column (which serde reads only as a
/// sequence), for comparing with `parquet_file`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromArrow)]
struct Narrow {
    id: i64,
    a_u64: u64,
    text: String,
    maybe_text: Option<String>,
    #[serde(rename = "Score")]
    score: Option<f64>,
}

/// pyarrow writes `n` rows in row groups of `group` rows and prints them as
/// JSON lists of the `Wide` fields.
fn pyarrow_fixture(path: &str, n: usize, group: usize) -> Vec<Wide> {
    let script = format!(
        "{PYARROW}{}",
        r#"
import json, random
path, n, group = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(11)
texts = ["", "a", "ünï", "日本語", "🦀", "x" * 3000]
rows = [dict(id=i, a_i8=rng.choice([-128, 127, i % 100]), a_i16=rng.choice([-2**15, 2**15 - 1, i]),
             a_i32=rng.choice([-2**31, 2**31 - 1, i]), a_u8=rng.choice([0, 255]),
             a_u16=rng.choice([0, 2**16 - 1]), a_u32=rng.choice([0, 2**32 - 1]),
             a_u64=rng.choice([0, 2**64 - 1, i * 2**40]), a_f32=i * 0.5, a_f64=rng.uniform(-1e300, 1e300),
             flag=i % 3 == 0, text=rng.choice(texts), large_text=rng.choice(texts), view_text=rng.choice(texts),
             bytes=[i % 256, 0, 255][: i % 4],
             maybe_text=None if i % 4 == 0 else rng.choice(texts), maybe_int=None if i % 5 == 0 else i,
             Score=None if i % 7 == 0 else i / 8) for i in range(n)]
schema = pa.schema([("id", pa.int64()), ("a_i8", pa.int8()), ("a_i16", pa.int16()), ("a_i32", pa.int32()),
    ("a_u8", pa.uint8()), ("a_u16", pa.uint16()), ("a_u32", pa.uint32()), ("a_u64", pa.uint64()),
    ("a_f32", pa.float32()), ("a_f64", pa.float64()), ("flag", pa.bool_()), ("text", pa.string()),
    ("large_text", pa.large_string()), ("view_text", pa.string_view()), ("bytes", pa.binary()),
    ("maybe_text", pa.string()), ("maybe_int", pa.int32()), ("Score", pa.float64())])
table = pa.Table.from_pylist([{**r, "bytes": bytes(r["bytes"])} for r in rows], schema=schema)
pq.write_table(table, path, row_group_size=group, compression="snappy")
print(json.dumps(rows))
"#
    );
    serde_json::from_str(&python(
        &script,
        &[path, &n.to_string(), &group.to_string()],
    ))
    .unwrap()
}

#[test]
fn derived_rows_are_what_pyarrow_wrote_across_partition_counts() {
    let dir = tempfile::tempdir().unwrap();
    let path = s(&dir.path().join("wide.parquet")).to_string();
    let expected = pyarrow_fixture(&path, 3000, 250);
    let size = std::fs::metadata(&path).unwrap().len();
    for partitions in [1, 2, 5, 12] {
        let options = ParquetOptions::new()
            .min_partitions(partitions)
            .max_partition_bytes(size / 4)
            .batch_rows(97);
        let parts = run(|| parquet_rows::<Wide>(&path, options).glom().collect()).unwrap();
        assert!(parts.len() >= partitions, "{} partitions", parts.len());
        let mut rows: Vec<Wide> = parts.into_iter().flatten().collect();
        rows.sort_by_key(|r| r.id);
        assert_same_rows(&rows, &expected, &format!("{partitions} partitions"));
    }
}

#[test]
fn derived_rows_equal_serde_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = s(&dir.path().join("wide.parquet")).to_string();
    pyarrow_fixture(&path, 1000, 300);
    let read = |serde: bool| {
        let mut rows = run(|| {
            let rows = if serde {
                parquet_file::<Narrow>(&path, ParquetOptions::new())
            } else {
                parquet_rows::<Narrow>(&path, ParquetOptions::new())
            };
            rows.collect()
        })
        .unwrap();
        rows.sort_by_key(|r| r.id);
        rows
    };
    let derived = read(false);
    assert_eq!(derived.len(), 1000);
    assert_eq!(derived, read(true));
}

/// Two of the fixture's columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromArrow)]
struct Text {
    id: i64,
    text: String,
}

#[barks::job]
fn long_texts(path: String, min_len: usize) -> Vec<(i64, String)> {
    pipeline! {
        let rows = parquet_rows(path, ParquetOptions::new());
        let long = rows
            .filter(move |r: &Text| r.text.chars().count() >= min_len)
            .map(|r| (r.id, r.text));
        long.collect()
    }
}

#[test]
fn parquet_rows_is_a_pipeline_source() {
    let dir = tempfile::tempdir().unwrap();
    let path = s(&dir.path().join("wide.parquet")).to_string();
    let expected: Vec<(i64, String)> = pyarrow_fixture(&path, 500, 100)
        .into_iter()
        .filter(|r| r.text.chars().count() >= 3)
        .map(|r| (r.id, r.text))
        .collect();
    for master in ["local[1]", "local[3]", "local-cluster[2,1]"] {
        let mut got = long_texts(path.clone(), 3).run_on(master).unwrap();
        got.sort();
        assert_eq!(got, expected, "{master}");
    }
}

/// The error of counting the rows of `path` as `T`s.
fn count_error<T: FromArrow + barks::Data>(path: &str, options: ParquetOptions) -> String {
    run(|| parquet_rows::<T>(path, options).count())
        .unwrap_err()
        .to_string()
}

#[test]
fn errors_name_the_file_the_column_and_the_types() {
    let dir = tempfile::tempdir().unwrap();
    let path = s(&dir.path().join("wide.parquet")).to_string();
    pyarrow_fixture(&path, 100, 100);

    #[derive(Debug, Clone, Serialize, Deserialize, FromArrow)]
    struct WrongType {
        id: i64,
        text: i64,
    }
    let err = count_error::<WrongType>(&path, ParquetOptions::new());
    assert!(
        err.contains(&path)
            && err.contains(
                "column `text` holds Utf8 values, which a field of type `i64` cannot read"
            ),
        "{err}"
    );

    #[derive(Debug, Clone, Serialize, Deserialize, FromArrow)]
    struct Narrower {
        a_u64: u32,
    }
    let err = count_error::<Narrower>(&path, ParquetOptions::new());
    assert!(
        err.contains("column `a_u64` holds UInt64 values, which a field of type `u32` cannot read"),
        "{err}"
    );

    // `maybe_text` has nulls: a `String` field cannot hold them.
    #[derive(Debug, Clone, Serialize, Deserialize, FromArrow)]
    struct Required {
        id: i64,
        maybe_text: String,
    }
    let err = count_error::<Required>(&path, ParquetOptions::new());
    assert!(
        err.contains(&path)
            && err.contains("column `maybe_text` holds nulls, and its field (`alloc::string::String`) is not an `Option`"),
        "{err}"
    );

    #[derive(Debug, Clone, Serialize, Deserialize, FromArrow)]
    struct Missing {
        id: i64,
        nowhere: String,
    }
    let err = count_error::<Missing>(&path, ParquetOptions::new());
    assert!(
        err.contains(&path) && err.contains("no column `nowhere`"),
        "{err}"
    );
    // A projection that leaves out a field's column is the same error.
    let err = count_error::<Text>(&path, ParquetOptions::new().columns(["id"]));
    assert!(err.contains("no column `text`"), "{err}");

    let bogus = dir.path().join("bogus.parquet");
    std::fs::write(&bogus, b"not parquet").unwrap();
    let err = count_error::<Text>(s(&bogus), ParquetOptions::new());
    assert!(
        err.contains(s(&bogus)) && err.contains("not a readable Parquet file"),
        "{err}"
    );
}

#[test]
fn empty_files_and_absent_optional_columns() {
    let dir = tempfile::tempdir().unwrap();
    let path = s(&dir.path().join("empty.parquet")).to_string();
    assert!(pyarrow_fixture(&path, 0, 10).is_empty());
    let rows = run(|| parquet_rows::<Wide>(&path, ParquetOptions::new()).collect()).unwrap();
    assert!(rows.is_empty());

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromArrow)]
    struct OnlyOptional {
        id: i64,
        nowhere: Option<String>,
    }
    let path = s(&dir.path().join("some.parquet")).to_string();
    pyarrow_fixture(&path, 10, 3);
    let mut rows =
        run(|| parquet_rows::<OnlyOptional>(&path, ParquetOptions::new()).collect()).unwrap();
    rows.sort_by_key(|r| r.id);
    let expected: Vec<OnlyOptional> = (0..10)
        .map(|id| OnlyOptional { id, nowhere: None })
        .collect();
    assert_eq!(rows, expected);
}
