//! Global sorts of a result (`ORDER BY` with no `LIMIT`) run as barks'
//! range-partitioned sort: checked against a sequential sort in Rust, with
//! nulls, descending keys, expressions, skewed and empty inputs, across
//! partition counts and masters.

use barks_sql::Session;
use barks_sql::datafusion::arrow::array::{Array, Float64Array, Int64Array, StringArray};
use barks_sql::datafusion::arrow::compute::cast;
use barks_sql::datafusion::arrow::datatypes::{DataType, Field, Schema};
use barks_sql::datafusion::arrow::record_batch::RecordBatch;
use std::cmp::Ordering;
use std::path::Path;
use std::sync::Arc;

/// One row of the test table: a skewed key with nulls, a name with nulls,
/// and a distinct value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    pub(crate) k: Option<i64>,
    pub(crate) s: Option<String>,
    pub(crate) x: f64,
}

/// `n` rows: a third of the keys are 7, some keys and names are null.
pub(crate) fn rows(n: usize) -> Vec<Row> {
    (0..n)
        .map(|i| {
            let h = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
            Row {
                k: match i % 11 {
                    0 => None,
                    1..=3 => Some(7),
                    _ => Some((h % 500) as i64 - 250),
                },
                s: (i % 13 != 0).then(|| format!("n{}", h % 97)),
                x: i as f64 * 0.5,
            }
        })
        .collect()
}

/// Writes `rows` as `files` Parquet files in `dir`.
pub(crate) fn write(dir: &Path, rows: &[Row], files: usize) {
    let schema = Arc::new(Schema::new(vec![
        Field::new("k", DataType::Int64, true),
        Field::new("s", DataType::Utf8, true),
        Field::new("x", DataType::Float64, false),
    ]));
    let batch = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(rows.iter().map(|r| r.k).collect::<Int64Array>()),
            Arc::new(rows.iter().map(|r| r.s.clone()).collect::<StringArray>()),
            Arc::new(rows.iter().map(|r| r.x).collect::<Float64Array>()),
        ],
    )
    .unwrap();
    crate::parquet_files(dir, &batch, files);
}

pub(crate) fn read(batches: &[RecordBatch]) -> Vec<Row> {
    let mut out = Vec::new();
    for b in batches {
        let k = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
        // Parquet strings are read as string views.
        let s = cast(b.column(1), &DataType::Utf8).unwrap();
        let s = s.as_any().downcast_ref::<StringArray>().unwrap();
        let x = b.column(2).as_any().downcast_ref::<Float64Array>().unwrap();
        for i in 0..b.num_rows() {
            out.push(Row {
                k: k.is_valid(i).then(|| k.value(i)),
                s: s.is_valid(i).then(|| s.value(i).to_string()),
                x: x.value(i),
            });
        }
    }
    out
}

/// `a` before `b` with nulls first or last, in either direction.
fn cmp_opt<T: Ord>(a: &Option<T>, b: &Option<T>, descending: bool, nulls_first: bool) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) if nulls_first => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) if nulls_first => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(a), Some(b)) if descending => b.cmp(a),
        (Some(a), Some(b)) => a.cmp(b),
    }
}

/// Checks that `got` holds exactly `input`'s rows and is sorted by `order`.
fn check_sorted(got: &[Row], input: &[Row], order: impl Fn(&Row, &Row) -> Ordering, what: &str) {
    let mut expected = input.to_vec();
    expected.sort_by(|a, b| order(a, b).then(a.x.total_cmp(&b.x)));
    let mut rows = got.to_vec();
    rows.sort_by(|a, b| order(a, b).then(a.x.total_cmp(&b.x)));
    assert_eq!(rows, expected, "{what}: not the input's rows");
    for (i, pair) in got.windows(2).enumerate() {
        assert_ne!(
            order(&pair[0], &pair[1]),
            Ordering::Greater,
            "{what}: rows {i} and {} out of order: {:?} {:?}",
            i + 1,
            pair[0],
            pair[1]
        );
    }
}

fn sorts_match_a_sequential_sort(master: &str) {
    let input = rows(20_000);
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &input, 5);
    let empty = tempfile::tempdir().unwrap();
    write(empty.path(), &[], 1);
    for partitions in [1, 4, 7] {
        let session = Session::builder(master)
            .shuffle_partitions(partitions)
            .build()
            .unwrap();
        let path = dir.path().to_str().unwrap();
        session
            .read()
            .parquet(path)
            .unwrap()
            .create_or_replace_temp_view("t")
            .unwrap();
        let what = |q: &str| format!("{master}, {partitions} partition(s): {q}");

        let q = "SELECT k, s, x FROM t ORDER BY k DESC NULLS FIRST, s ASC NULLS LAST";
        let df = session.sql(q).unwrap();
        if partitions > 1 {
            let explain = df.explain().unwrap();
            assert!(explain.contains("range sort by"), "{}\n{explain}", what(q));
        }
        check_sorted(
            &read(&df.collect().unwrap()),
            &input,
            |a, b| cmp_opt(&a.k, &b.k, true, true).then(cmp_opt(&a.s, &b.s, false, false)),
            &what(q),
        );

        let q = "SELECT k, s, x FROM t ORDER BY -x";
        let got = read(&session.sql(q).unwrap().collect().unwrap());
        check_sorted(&got, &input, |a, b| b.x.total_cmp(&a.x), &what(q));

        let q = "SELECT k, s, x FROM t WHERE k = 7 ORDER BY s NULLS FIRST";
        let sevens: Vec<Row> = input.iter().filter(|r| r.k == Some(7)).cloned().collect();
        let got = read(&session.sql(q).unwrap().collect().unwrap());
        check_sorted(
            &got,
            &sevens,
            |a, b| cmp_opt(&a.s, &b.s, false, true),
            &what(q),
        );

        let q = "SELECT k, s, x FROM t WHERE k > 1000 ORDER BY k";
        assert!(
            read(&session.sql(q).unwrap().collect().unwrap()).is_empty(),
            "{}",
            what(q)
        );

        let path = empty.path().to_str().unwrap();
        let df = session.read().parquet(path).unwrap();
        df.create_or_replace_temp_view("nothing").unwrap();
        let q = "SELECT k, s, x FROM nothing ORDER BY k";
        assert!(
            read(&session.sql(q).unwrap().collect().unwrap()).is_empty(),
            "{}",
            what(q)
        );
    }
}

#[test]
fn global_sorts_on_one_thread() {
    sorts_match_a_sequential_sort("local[1]");
}

#[test]
fn global_sorts_on_three_threads() {
    sorts_match_a_sequential_sort("local[3]");
}

#[test]
fn global_sorts_on_a_local_cluster() {
    sorts_match_a_sequential_sort("local-cluster[2]");
}
