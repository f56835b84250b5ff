//! Parquet in and out, against pyarrow as the independent reference:
//! pyarrow writes files barks reads, and reads files barks writes.
//! Needs `python3 -m pip install pyarrow` (scripts/test.sh installs it).
#![cfg(feature = "parquet")]

use crate::common::{PYARROW, assert_same_rows, parts, python, run, s};
use barks_io::parquet::{
    Batch, ParquetCompression, ParquetOptions, ParquetWriteOptions, SaveAsParquet,
    SaveBatchesAsParquet, col, parquet_batches, parquet_file,
};
use barks_runtime::parallelize;
use serde::{Deserialize, Serialize};

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
        assert_same_rows(&rows, &expected, &format!("{partitions} partitions"));
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

/// The error of counting the rows of `path` as `T`s.
fn count_error<T: barks_runtime::Data>(path: &str) -> String {
    run(|| parquet_file::<T>(path, ParquetOptions::new()).count())
        .unwrap_err()
        .to_string()
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
    let err = count_error::<WrongType>(&path);
    assert!(
        err.contains(&path)
            && err.contains("column `name` has type Utf8 in the file")
            && err.contains("expects Int64"),
        "{err}"
    );
    // The fixture's names have nulls: a `String` field cannot hold them.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    struct Required {
        id: i64,
        name: String,
    }
    let err = count_error::<Required>(&path);
    assert!(
        err.contains(&path)
            && err.contains("column `name`: a null value, but the field is not an `Option`"),
        "{err}"
    );
    #[derive(Debug, Clone, Serialize, Deserialize)]
    struct Missing {
        id: i64,
        absent: String,
        maybe: Option<String>,
    }
    let err = count_error::<Missing>(&path);
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

/// Fields in another order than the file's columns, narrower and wider
/// numeric types than the row type's, a column the type lacks, an
/// `Option` field the file lacks and a newtype field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Reordered {
    big: u64,
    id: i64,
    name: Option<String>,
    score: Option<f64>,
    tiny: Tiny,
    absent: Option<i32>,
    flag: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Tiny(u16);

#[test]
fn rows_decode_by_field_name_whatever_the_column_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = s(&dir.path().join("data.parquet")).to_string();
    let script = format!(
        "{PYARROW}{}",
        r#"
import json
n = int(sys.argv[2])
names = ["a", "ünï", "日本語", "🦀", "x" * 100000, None, ""]
rows = [dict(flag=i % 2 == 0, name=names[i % len(names)], id=i - n // 2, extra=i * 3,
             score=None if i % 5 == 0 else i * 0.25, tiny=i % 256, big=2**64 - 1 - i) for i in range(n)]
schema = pa.schema([("flag", pa.bool_()), ("name", pa.large_string()), ("id", pa.int32()), ("extra", pa.int64()),
                    ("score", pa.float32()), ("tiny", pa.uint8()), ("big", pa.uint64())])
pq.write_table(pa.Table.from_pylist(rows, schema=schema), sys.argv[1], row_group_size=700)
print(json.dumps(rows))
"#
    );
    let rows: Vec<serde_json::Value> =
        serde_json::from_str(&python(&script, &[&path, "3000"])).unwrap();
    let expected: Vec<Reordered> = rows
        .iter()
        .map(|r| Reordered {
            big: r["big"].as_u64().unwrap(),
            id: r["id"].as_i64().unwrap(),
            name: r["name"].as_str().map(str::to_string),
            score: r["score"].as_f64(),
            tiny: Tiny(r["tiny"].as_u64().unwrap() as u16),
            absent: None,
            flag: r["flag"].as_bool().unwrap(),
        })
        .collect();
    for partitions in [1, 2, 5] {
        let opts = ParquetOptions::new()
            .min_partitions(partitions)
            .batch_rows(333);
        let got = run(|| parquet_file::<Reordered>(&path, opts).collect()).unwrap();
        assert_same_rows(&got, &expected, &format!("{partitions} partitions"));
    }
}

/// A row type that serializes as a map (its fields in another order): the
/// positional encoder leaves it to serde_arrow.
#[derive(Debug, Clone, PartialEq, Deserialize)]
struct AsMap {
    id: i64,
    flag: bool,
    small: i32,
}

impl Serialize for AsMap {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(3))?;
        map.serialize_entry("small", &self.small)?;
        map.serialize_entry("flag", &self.flag)?;
        map.serialize_entry("id", &self.id)?;
        map.end()
    }
}

/// A row type with a nested column (not flat), written and read through
/// serde_arrow; a field skipped when `None` is written as a null.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Nested {
    id: i64,
    tags: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
}

#[test]
fn map_shaped_and_nested_row_types_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let flat: Vec<AsMap> = (0..5000)
        .map(|i| AsMap {
            id: i,
            flag: i % 3 == 0,
            small: -(i as i32),
        })
        .collect();
    let out = s(&dir.path().join("flatten")).to_string();
    let data = flat.clone();
    run(|| parallelize(data, Some(3)).save_as_parquet(&out, ParquetWriteOptions::new())).unwrap();
    let back = run(|| parquet_file::<AsMap>(&out, ParquetOptions::new()).collect()).unwrap();
    assert_eq!(back, flat);
    let script = format!(
        "{PYARROW}t = pq.read_table(sys.argv[1])\nprint(t.schema.names, t.num_rows, sum(t.column('small').to_pylist()))"
    );
    assert_eq!(
        python(&script, &[&out]).trim(),
        format!("['id', 'flag', 'small'] 5000 {}", -(0..5000).sum::<i32>())
    );

    let nested: Vec<Nested> = (0..3000)
        .map(|i| Nested {
            id: i,
            tags: (0..i % 4).map(|t| format!("t{t}-ü")).collect(),
            note: (i % 7 == 0).then(|| format!("note {i}")),
        })
        .collect();
    let out = s(&dir.path().join("nested")).to_string();
    let data = nested.clone();
    run(|| parallelize(data, Some(2)).save_as_parquet(&out, ParquetWriteOptions::new())).unwrap();
    let back = run(|| parquet_file::<Nested>(&out, ParquetOptions::new()).collect()).unwrap();
    assert_eq!(back, nested);
    let script = format!(
        "{PYARROW}t = pq.read_table(sys.argv[1])\nprint(t.num_rows, t.column('note').null_count, sum(len(x) for x in t.column('tags').to_pylist()))"
    );
    let nulls = nested.iter().filter(|r| r.note.is_none()).count();
    let tags: usize = nested.iter().map(|r| r.tags.len()).sum();
    assert_eq!(
        python(&script, &[&out]).trim(),
        format!("3000 {nulls} {tags}")
    );
}

/// Typed rows of every flat type, written by barks and checked by pyarrow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct AllFlat {
    b: bool,
    i8: i8,
    i16: i16,
    i32: i32,
    i64: i64,
    u8: u8,
    u16: u16,
    u32: u32,
    u64: u64,
    f32: f32,
    f64: f64,
    s: String,
    c: char,
    o: Option<i64>,
}

#[test]
fn every_flat_type_is_written_as_pyarrow_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    let rows: Vec<AllFlat> = (0..2000u32)
        .map(|i| AllFlat {
            b: i % 2 == 0,
            i8: [i8::MIN, i8::MAX, 0][i as usize % 3],
            i16: [i16::MIN, i16::MAX, 1][i as usize % 3],
            i32: [i32::MIN, i32::MAX, 2][i as usize % 3],
            i64: [i64::MIN, i64::MAX, 3][i as usize % 3],
            u8: u8::MAX - (i % 5) as u8,
            u16: u16::MAX,
            u32: u32::MAX - i,
            u64: u64::MAX - u64::from(i),
            f32: i as f32 * 0.5,
            f64: -1e300 * f64::from(i),
            s: ["", "ünï", "🦀", "日本語"][i as usize % 4].repeat(i as usize % 50),
            c: ['a', 'ü', '🦀'][i as usize % 3],
            o: (i % 3 != 0).then_some(i64::from(i)),
        })
        .collect();
    let out = s(&dir.path().join("out")).to_string();
    let data = rows.clone();
    let opts = ParquetWriteOptions::new().row_group_size(300);
    run(|| parallelize(data, Some(4)).save_as_parquet(&out, opts)).unwrap();
    let script = format!(
        "{PYARROW}{}",
        r#"
import json
t = pa.concat_tables([pq.read_table(p) for p in sys.argv[1:]])
print(json.dumps([str(f.type) for f in t.schema]))
rows = t.to_pylist()
for r in rows:
    r['c'] = chr(r['c'])  # serde_arrow stores a char as its code point
print(json.dumps(rows))
"#
    );
    let files = parts(std::path::Path::new(&out));
    let args: Vec<&str> = files.iter().map(|f| s(f)).collect();
    let printed = python(&script, &args);
    let mut lines = printed.lines();
    assert_eq!(
        lines.next().unwrap(),
        r#"["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float", "double", "string", "uint32", "int64"]"#
    );
    let back: Vec<AllFlat> = serde_json::from_str(lines.next().unwrap()).unwrap();
    assert_eq!(back, rows);
    let again = run(|| parquet_file::<AllFlat>(&out, ParquetOptions::new()).collect()).unwrap();
    assert_eq!(again, rows);
}

#[test]
fn partitions_share_the_row_groups_evenly() {
    let dir = tempfile::tempdir().unwrap();
    let path = s(&dir.path().join("data.parquet")).to_string();
    // 12 row groups of the same size.
    let script = format!(
        "{PYARROW}pq.write_table(pa.table({{'id': pa.array(range(12000), pa.int64())}}), sys.argv[1], row_group_size=1000, compression='none')"
    );
    python(&script, &[&path]);
    let size = std::fs::metadata(&path).unwrap().len();
    // 5 ranges would do; 6 keep both slots of local[2] busy to the end.
    let opts = ParquetOptions::new().max_partition_bytes(size / 5 + 1);
    let parts = run(|| parquet_file::<Narrowest>(&path, opts).glom().collect()).unwrap();
    let sizes: Vec<usize> = parts.iter().map(Vec::len).collect();
    assert_eq!(sizes, [2000; 6]);
    let ids: Vec<i64> = parts.into_iter().flatten().map(|r| r.id).collect();
    assert_eq!(ids, (0..12000).collect::<Vec<_>>());
    // One partition per row group when the ranges are smaller than a group.
    let opts = ParquetOptions::new().max_partition_bytes(size / 12);
    let parts = run(|| parquet_file::<Narrowest>(&path, opts).glom().collect()).unwrap();
    assert!(parts.len() >= 12 && parts.len() % 2 == 0, "{}", parts.len());
    assert_eq!(parts.iter().filter(|p| p.len() == 1000).count(), 12);
    assert!(parts.iter().all(|p| p.len() == 1000 || p.is_empty()));
    // An empty file beside it adds no partition and no rows.
    std::fs::write(dir.path().join("empty.parquet"), b"").unwrap();
    let dir_path = s(dir.path()).to_string();
    let opts = ParquetOptions::new().max_partition_bytes(size / 5 + 1);
    let parts = run(|| parquet_file::<Narrowest>(&dir_path, opts).glom().collect()).unwrap();
    assert_eq!(parts.iter().map(Vec::len).collect::<Vec<_>>(), [2000; 6]);
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Narrowest {
    id: i64,
}

#[test]
fn files_with_many_and_few_row_groups_are_read_once_each() {
    let dir = tempfile::tempdir().unwrap();
    // 40 groups of 500 rows, 1 group of 700 rows, and an empty file.
    let script = format!(
        "{PYARROW}{}",
        r#"
d = sys.argv[1]
pq.write_table(pa.table({'id': pa.array(range(20000), pa.int64())}), d + '/many.parquet', row_group_size=500)
pq.write_table(pa.table({'id': pa.array(range(20000, 20700), pa.int64())}), d + '/one.parquet')
pq.write_table(pa.table({'id': pa.array([], pa.int64())}), d + '/none.parquet')
"#
    );
    let path = s(dir.path()).to_string();
    python(&script, &[&path]);
    for (partitions, max_bytes) in [(1, 128 << 20), (2, 20_000), (5, 4000)] {
        let opts = ParquetOptions::new()
            .min_partitions(partitions)
            .max_partition_bytes(max_bytes);
        let parts = run(|| parquet_file::<Narrowest>(&path, opts).glom().collect()).unwrap();
        assert!(parts.len() >= partitions, "{} partitions", parts.len());
        // A partition holds whole row groups.
        for part in &parts {
            let groups = part.chunk_by(|a, b| a.id / 500 == b.id / 500 || a.id >= 20000);
            assert!(
                groups.map(<[Narrowest]>::len).all(|n| n == 500 || n == 700),
                "{max_bytes}"
            );
        }
        let mut ids: Vec<i64> = parts.into_iter().flatten().map(|r| r.id).collect();
        ids.sort_unstable();
        assert_eq!(ids, (0..20700).collect::<Vec<_>>(), "{max_bytes}");
    }
}

/// Parquet on `s3://` (needs the test S3 server: run the tests after
/// `eval "$(scripts/services/s3-rgw.sh)"`): a pyarrow file put with curl is
/// read by ranged GETs — partitioned, pruned and projected — and barks'
/// own output is read back by barks and, fetched with curl, by pyarrow.
#[cfg(feature = "s3")]
#[test]
fn parquet_on_s3_is_read_by_ranges_and_written_in_parts() {
    let s3 = crate::s3_support::s3();
    let bucket = s3.bucket("parquet");
    let dir = tempfile::tempdir().unwrap();
    let local = s(&dir.path().join("in.parquet")).to_string();
    let expected = pyarrow_fixture(&local, 20_000, 1000);
    let bytes = std::fs::read(&local).unwrap();
    s3.put(&bucket, "in/data.parquet", &bytes);
    let input = format!("s3://{bucket}/in/data.parquet");

    let opts = ParquetOptions::new()
        .max_partition_bytes(bytes.len() as u64 / 5)
        .batch_rows(700);
    let parts = run(|| parquet_file::<Rec>(&input, opts).glom().collect()).unwrap();
    assert!(parts.len() >= 6 && parts.len() % 2 == 0, "{}", parts.len());
    assert_same_rows(&parts.concat(), &expected, "s3");

    let opts = ParquetOptions::new().predicate(col("id").lt(1500));
    let narrow = run(|| parquet_file::<Narrow>(&input, opts).collect()).unwrap();
    let want: Vec<Narrow> = expected[..2000]
        .iter()
        .map(|r| Narrow {
            flag: r.flag,
            id: r.id,
        })
        .collect();
    assert_eq!(narrow, want);

    let out = format!("s3://{bucket}/out");
    let data = expected.clone();
    let opts = ParquetWriteOptions::new().row_group_size(3000);
    run(|| parallelize(data, Some(3)).save_as_parquet(&out, opts)).unwrap();
    assert_eq!(
        s3.keys(&bucket, "out/"),
        [
            "out/_SUCCESS",
            "out/part-00000.parquet",
            "out/part-00001.parquet",
            "out/part-00002.parquet"
        ]
    );
    let back = run(|| parquet_file::<Rec>(&out, ParquetOptions::new()).collect()).unwrap();
    assert_same_rows(&back, &expected, "written to s3");
    let first = dir.path().join("part-00000.parquet");
    std::fs::write(&first, s3.get(&bucket, "out/part-00000.parquet")).unwrap();
    let script =
        format!("{PYARROW}import json\nprint(json.dumps(pq.read_table(sys.argv[1]).to_pylist()))");
    let rows: Vec<Rec> = serde_json::from_str(&python(&script, &[s(&first)])).unwrap();
    assert_same_rows(&rows, &expected[..rows.len()], "pyarrow");
    assert!(!rows.is_empty());
}
