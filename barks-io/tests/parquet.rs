//! Parquet in and out, against pyarrow as the independent reference:
//! pyarrow writes files barks reads, and reads files barks writes.
//! Needs `python3 -m pip install pyarrow` (scripts/test.sh installs it).
#![cfg(feature = "parquet")]

mod common;

use barks_io::parquet::{
    Batch, ParquetCompression, ParquetOptions, ParquetWriteOptions, SaveAsParquet,
    SaveBatchesAsParquet, col, parquet_batches, parquet_file,
};
use barks_runtime::parallelize;
use common::{parts, python, run, s};
use serde::{Deserialize, Serialize};

/// Imports pyarrow or exits saying how to install it.
const PYARROW: &str = "import sys\ntry:\n    import pyarrow as pa, pyarrow.parquet as pq\nexcept ImportError:\n    sys.exit('pyarrow is missing: run `python3 -m pip install pyarrow` (scripts/test.sh does)')\n";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Rec {
    id: i64,
    name: Option<String>,
    score: Option<f64>,
    flag: bool,
    small: i32,
}

/// pyarrow writes `n` rows with ids 0..n in row groups of `group` rows and
/// prints them as JSON.
fn pyarrow_fixture(path: &str, n: usize, group: usize) -> Vec<Rec> {
    let script = format!(
        "{PYARROW}{}",
        r#"
import json, random
path, n, group = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(5)
names = ["a", "ünï", "日本語", "🦀", "x" * 1000, None]
rows = [dict(id=i, name=rng.choice(names), score=None if i % 9 == 0 else rng.uniform(-1e12, 1e12),
             flag=i % 3 == 0, small=rng.choice([-2**31, 2**31 - 1, i % 1000])) for i in range(n)]
table = pa.Table.from_pylist(rows, schema=pa.schema([("id", pa.int64()), ("name", pa.string()),
    ("score", pa.float64()), ("flag", pa.bool_()), ("small", pa.int32())]))
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
fn pyarrow_files_read_back_across_partition_counts() {
    let dir = tempfile::tempdir().unwrap();
    let path = s(&dir.path().join("data.parquet")).to_string();
    let expected = pyarrow_fixture(&path, 20_000, 1000);
    let size = std::fs::metadata(&path).unwrap().len();
    for partitions in 1..=8 {
        let opts = ParquetOptions::new()
            .min_partitions(partitions)
            .max_partition_bytes(size / 5)
            .batch_rows(700);
        let parts = run(|| parquet_file::<Rec>(&path, opts).glom().collect()).unwrap();
        assert!(
            parts.len() >= partitions.max(5),
            "{} partitions",
            parts.len()
        );
        let rows: Vec<Rec> = parts.into_iter().flatten().collect();
        assert_eq!(rows.len(), expected.len());
        if let Some(i) = (0..rows.len()).find(|&i| rows[i] != expected[i]) {
            panic!(
                "{partitions} partitions: row {i}: {:?} != {:?}",
                rows[i], expected[i]
            );
        }
    }
}

#[test]
fn row_groups_are_pruned_by_statistics() {
    let dir = tempfile::tempdir().unwrap();
    let path = s(&dir.path().join("data.parquet")).to_string();
    pyarrow_fixture(&path, 20_000, 1000);
    let count = |p| {
        let opts = ParquetOptions::new().predicate(p).min_partitions(3);
        run(|| parquet_file::<Rec>(&path, opts).count()).unwrap()
    };
    assert_eq!(count(col("id").lt(1500)), 2000);
    assert_eq!(count(col("id").le(999)), 1000);
    assert_eq!(count(col("id").gt(18_999)), 1000);
    assert_eq!(count(col("id").ge(19_000.0)), 1000);
    assert_eq!(count(col("id").eq(12_345)), 1000);
    assert_eq!(count(col("id").between(5000, 5999)), 1000);
    assert_eq!(count(col("id").lt(1000).or(col("id").ge(19_000))), 2000);
    assert_eq!(count(col("id").ge(1000).and(col("id").lt(3000))), 2000);
    assert_eq!(count(col("id").gt(50_000)), 0);
    // No statistics say anything about a missing column or a type mismatch:
    // nothing is pruned.
    assert_eq!(count(col("nope").eq(1)), 20_000);
    assert_eq!(count(col("id").eq("text")), 20_000);
    assert_eq!(
        count(col("small").between(-2_147_483_648i64, 2_147_483_647)),
        20_000
    );
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Narrow {
    flag: bool,
    id: i64,
}

#[test]
fn projection_reads_only_the_needed_columns() {
    let dir = tempfile::tempdir().unwrap();
    let path = s(&dir.path().join("data.parquet")).to_string();
    let expected = pyarrow_fixture(&path, 3000, 1000);
    let narrow = run(|| parquet_file::<Narrow>(&path, ParquetOptions::new()).collect()).unwrap();
    let want: Vec<Narrow> = expected
        .iter()
        .map(|r| Narrow {
            flag: r.flag,
            id: r.id,
        })
        .collect();
    assert_eq!(narrow, want);
    let opts = ParquetOptions::new().columns(["small", "id"]);
    let batches = run(|| parquet_batches(&path, opts).collect()).unwrap();
    assert!(!batches.is_empty());
    for b in &batches {
        let schema = b.0.schema();
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(names, ["id", "small"]);
    }
    assert_eq!(batches.iter().map(Batch::num_rows).sum::<usize>(), 3000);
}

#[test]
fn barks_parquet_is_read_by_pyarrow() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.parquet");
    let expected = pyarrow_fixture(s(&input), 5000, 5000);
    for (partitions, codec, name) in [
        (1, ParquetCompression::Zstd, "ZSTD"),
        (3, ParquetCompression::Snappy, "SNAPPY"),
        (8, ParquetCompression::Gzip, "GZIP"),
        (2, ParquetCompression::Uncompressed, "UNCOMPRESSED"),
    ] {
        let out = s(&dir.path().join(format!("out-{partitions}"))).to_string();
        let data = expected.clone();
        let opts = ParquetWriteOptions::new()
            .compression(codec)
            .row_group_size(400);
        run(|| parallelize(data, Some(partitions)).save_as_parquet(&out, opts)).unwrap();
        let files = parts(std::path::Path::new(&out));
        assert_eq!(files.len(), partitions);
        let script = format!(
            "{PYARROW}{}",
            r#"
import json, math
rows = []
for p in sys.argv[2:]:
    f = pq.ParquetFile(p)
    md = f.metadata
    for g in range(md.num_row_groups):
        assert md.row_group(g).num_rows <= 400, md.row_group(g).num_rows
        assert md.row_group(g).column(0).compression == sys.argv[1], md.row_group(g).column(0).compression
    rows += f.read().to_pylist()
print(json.dumps(rows))
"#
        );
        let mut args = vec![name];
        args.extend(files.iter().map(|f| s(f)));
        let back: Vec<Rec> = serde_json::from_str(&python(&script, &args)).unwrap();
        assert_eq!(back, expected, "{name}");
        let again = run(|| parquet_file::<Rec>(&out, ParquetOptions::new()).collect()).unwrap();
        assert_eq!(again, expected);
    }
}

#[test]
fn record_batches_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let input = s(&dir.path().join("in.parquet")).to_string();
    pyarrow_fixture(&input, 4000, 1000);
    let out = s(&dir.path().join("out")).to_string();
    let opts = ParquetOptions::new().min_partitions(4);
    run(|| parquet_batches(&input, opts).save_batches_as_parquet(&out, ParquetWriteOptions::new()))
        .unwrap();
    let script = format!(
        "{PYARROW}{}",
        "a = pq.read_table(sys.argv[1])\nb = pa.concat_tables([pq.read_table(p) for p in sys.argv[2:] if pq.ParquetFile(p).metadata.num_rows > 0])\nassert a.equals(b), (a.schema, b.schema)\nprint(b.num_rows)"
    );
    let files = parts(std::path::Path::new(&out));
    assert!(files.len() >= 4);
    let mut args = vec![input.as_str()];
    args.extend(files.iter().map(|f| s(f)));
    assert_eq!(python(&script, &args).trim(), "4000");
    // A batch crosses process boundaries through serde (Arrow IPC inside).
    let batches = run(|| parquet_batches(&input, ParquetOptions::new()).collect()).unwrap();
    let json = serde_json::to_string(&batches[0]).unwrap();
    assert_eq!(serde_json::from_str::<Batch>(&json).unwrap(), batches[0]);
}

#[test]
fn errors_name_the_file_and_the_column() {
    let dir = tempfile::tempdir().unwrap();
    let bogus = dir.path().join("bogus.parquet");
    std::fs::write(&bogus, b"this is not parquet at all").unwrap();
    let b = s(&bogus).to_string();
    let err = run(|| parquet_file::<Rec>(&b, ParquetOptions::new()).count())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&b) && err.contains("not a readable Parquet file"),
        "{err}"
    );

    let path = s(&dir.path().join("data.parquet")).to_string();
    pyarrow_fixture(&path, 100, 100);
    #[derive(Debug, Clone, Serialize, Deserialize)]
    struct WrongType {
        id: i64,
        name: i64,
    }
    let err = run(|| parquet_file::<WrongType>(&path, ParquetOptions::new()).count())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&path)
            && err.contains("column `name` has type Utf8 in the file")
            && err.contains("expects Int64"),
        "{err}"
    );
    #[derive(Debug, Clone, Serialize, Deserialize)]
    struct Missing {
        id: i64,
        absent: String,
        maybe: Option<String>,
    }
    let err = run(|| parquet_file::<Missing>(&path, ParquetOptions::new()).count())
        .unwrap_err()
        .to_string();
    assert!(err.contains("no column `absent`"), "{err}");
    let err = run(|| parquet_batches(&path, ParquetOptions::new().columns(["zzz"])).count())
        .unwrap_err()
        .to_string();
    assert!(err.contains("no column `zzz`"), "{err}");
    #[derive(Debug, Clone, Serialize, Deserialize)]
    struct OptionalOnly {
        id: i64,
        maybe: Option<String>,
    }
    assert_eq!(
        run(|| parquet_file::<OptionalOnly>(&path, ParquetOptions::new()).count()).unwrap(),
        100
    );
}

#[test]
fn empty_inputs_and_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let empty = s(dir.path()).to_string();
    assert_eq!(
        run(|| parquet_file::<Rec>(&empty, ParquetOptions::new()).count()).unwrap(),
        0
    );
    let out = s(&dir.path().join("out")).to_string();
    run(|| {
        parallelize(Vec::<Rec>::new(), Some(2)).save_as_parquet(&out, ParquetWriteOptions::new())
    })
    .unwrap();
    let files = parts(std::path::Path::new(&out));
    assert_eq!(files.len(), 2);
    let script = format!(
        "{PYARROW}print(sum(pq.read_table(p).num_rows for p in sys.argv[1:]), pq.read_schema(sys.argv[1]).names)"
    );
    let args: Vec<&str> = files.iter().map(|f| s(f)).collect();
    assert_eq!(
        python(&script, &args).trim(),
        "0 ['id', 'name', 'score', 'flag', 'small']"
    );
    assert_eq!(
        run(|| parquet_file::<Rec>(&out, ParquetOptions::new()).count()).unwrap(),
        0
    );
}
