//! `DataFrame::to_local_iterator`: a query's rows as they reach the driver
//! are `collect`'s rows in `collect`'s order (a sort's order exactly), on
//! `local[1]`, `local[3]` and `local-cluster[2]`; an empty result yields no
//! rows; a failing query ends the iteration with its error, naming the
//! input; and a caller that stops reading leaves the session working.

use crate::bad_input::people_csv_with_a_bad_row;
use crate::sort::{Row, read, rows, write};
use barks_sql::Session;
use barks_sql::datafusion::arrow::record_batch::RecordBatch;

fn streamed(df: &barks_sql::DataFrame) -> Vec<RecordBatch> {
    df.to_local_iterator()
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
}

fn streams_match_collect(master: &str) {
    let input = rows(20_000);
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &input, 5);
    for partitions in [1, 4] {
        let session = Session::builder(master)
            .shuffle_partitions(partitions)
            .build()
            .unwrap();
        let path = dir.path().to_str().unwrap();
        let table = session.read().parquet(path).unwrap();
        table.create_or_replace_temp_view("t").unwrap();
        let what = |q: &str| format!("{master}, {partitions} partition(s): {q}");

        // Distinct sort keys: one order only.
        let q = "SELECT k, s, x FROM t ORDER BY x DESC";
        let df = session.sql(q).unwrap();
        let mut expected = input.clone();
        expected.sort_by(|a, b| b.x.total_cmp(&a.x));
        assert_eq!(read(&streamed(&df)), expected, "{}", what(q));

        let q = "SELECT k, count(*) AS n, sum(x) AS total FROM t GROUP BY k";
        let df = session.sql(q).unwrap();
        let mut got = read_groups(&streamed(&df));
        let mut want = read_groups(&df.collect().unwrap());
        got.sort_by(|a, b| a.partial_cmp(b).unwrap());
        want.sort_by(|a, b| a.partial_cmp(b).unwrap());
        assert_eq!(got, want, "{}", what(q));

        let q = "SELECT k, s, x FROM t WHERE k > 1000 ORDER BY x";
        let got: Vec<Row> = read(&streamed(&session.sql(q).unwrap()));
        assert!(got.is_empty(), "{}", what(q));
    }
}

/// `(k, n, total)` rows of the grouping query.
fn read_groups(batches: &[RecordBatch]) -> Vec<(Option<i64>, i64, f64)> {
    use barks_sql::datafusion::arrow::array::{Array, Float64Array, Int64Array};
    let mut out = Vec::new();
    for b in batches {
        let k = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
        let n = b.column(1).as_any().downcast_ref::<Int64Array>().unwrap();
        let t = b.column(2).as_any().downcast_ref::<Float64Array>().unwrap();
        for i in 0..b.num_rows() {
            out.push((k.is_valid(i).then(|| k.value(i)), n.value(i), t.value(i)));
        }
    }
    out
}

#[test]
fn streamed_rows_match_collect_on_one_thread() {
    streams_match_collect("local[1]");
}

#[test]
fn streamed_rows_match_collect_on_three_threads() {
    streams_match_collect("local[3]");
}

#[test]
fn streamed_rows_match_collect_on_a_local_cluster() {
    streams_match_collect("local-cluster[2]");
}

#[test]
fn a_failing_query_ends_the_stream_with_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("people.csv");
    std::fs::write(&path, people_csv_with_a_bad_row()).unwrap();
    let session = Session::new("local[2]").unwrap();
    let options =
        barks_sql::datafusion::prelude::CsvReadOptions::new().schema_infer_max_records(10);
    let df = session.read().csv(path.to_str().unwrap(), options).unwrap();
    let items: Vec<_> = df.to_local_iterator().unwrap().collect();
    let err = items
        .last()
        .and_then(|item| item.as_ref().err())
        .unwrap_or_else(|| panic!("the last item is the error: {} items", items.len()))
        .to_string();
    assert!(err.contains("not-a-number"), "{err}");
    assert!(err.contains(path.to_str().unwrap()), "{err}");
    assert!(items[..items.len() - 1].iter().all(|i| i.is_ok()));
}

#[test]
fn a_reader_that_stops_early_leaves_the_session_working() {
    let input = rows(5_000);
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &input, 4);
    for master in ["local[2]", "local-cluster[2]"] {
        let session = Session::builder(master)
            .shuffle_partitions(8)
            .build()
            .unwrap();
        let table = session
            .read()
            .parquet(dir.path().to_str().unwrap())
            .unwrap();
        table.create_or_replace_temp_view("t").unwrap();
        let df = session.sql("SELECT k, s, x FROM t ORDER BY x").unwrap();
        let first = df.to_local_iterator().unwrap().next().unwrap().unwrap();
        assert!(first.num_rows() > 0, "{master}");
        // The dropped iterator's query stops; the next one runs as usual.
        let n = session
            .sql("SELECT count(*) AS n FROM t")
            .unwrap()
            .count()
            .unwrap();
        assert_eq!(n, 1, "{master}");
        assert_eq!(read(&df.collect().unwrap()).len(), input.len(), "{master}");
    }
}
