//! `IN` subqueries that aggregate run first and become `IN` lists when they
//! yield few keys (and stay semi joins when they yield many): checked
//! against a model in Rust, with null keys on both sides, keys of another
//! integer type, an empty subquery, and `NOT IN` left as it is.

use barks_sql::Session;
use barks_sql::datafusion::arrow::array::{Array, Int32Array, Int64Array};
use barks_sql::datafusion::arrow::datatypes::{DataType, Field, Schema};
use barks_sql::datafusion::arrow::record_batch::RecordBatch;
use std::collections::HashMap;
use std::sync::Arc;

/// `t(k INT, v BIGINT)`: keys 0..20_011 cycling, every 17th null.
fn outer_rows() -> Vec<(Option<i32>, i64)> {
    (0..30_000i64)
        .map(|i| ((i % 17 != 0).then_some((i % 20_011) as i32), i))
        .collect()
}

/// `s(k BIGINT)`: every key of 0..25_000 once, four keys and null three
/// more times.
fn inner_keys() -> Vec<Option<i64>> {
    let mut keys: Vec<Option<i64>> = (0..25_000).map(Some).collect();
    for _ in 0..3 {
        keys.extend([Some(5), Some(77), Some(1234), Some(20_000), None]);
    }
    keys
}

fn tables(session: &Session, dir: &std::path::Path) {
    let (t, s) = (dir.join("t"), dir.join("s"));
    std::fs::create_dir_all(&t).unwrap();
    std::fs::create_dir_all(&s).unwrap();
    let rows = outer_rows();
    let batch = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("k", DataType::Int32, true),
            Field::new("v", DataType::Int64, false),
        ])),
        vec![
            Arc::new(rows.iter().map(|r| r.0).collect::<Int32Array>()),
            Arc::new(rows.iter().map(|r| r.1).collect::<Int64Array>()),
        ],
    )
    .unwrap();
    crate::parquet_files(&t, &batch, 3);
    let batch = RecordBatch::try_new(
        Arc::new(Schema::new(vec![Field::new("k", DataType::Int64, true)])),
        vec![Arc::new(inner_keys().into_iter().collect::<Int64Array>())],
    )
    .unwrap();
    crate::parquet_files(&s, &batch, 2);
    for (name, path) in [("t", t), ("s", s)] {
        let df = session.read().parquet(path.to_str().unwrap()).unwrap();
        df.create_or_replace_temp_view(name).unwrap();
    }
}

/// The `v`s of `t`'s rows whose key occurs more than `more_than` times in
/// `s` (a semi join: null keys match nothing), sorted.
fn model(more_than: usize) -> Vec<i64> {
    let mut counts: HashMap<i64, usize> = HashMap::new();
    for k in inner_keys().into_iter().flatten() {
        *counts.entry(k).or_default() += 1;
    }
    outer_rows()
        .into_iter()
        .filter(|(k, _)| k.is_some_and(|k| counts.get(&(k as i64)).is_some_and(|&c| c > more_than)))
        .map(|(_, v)| v)
        .collect()
}

fn values(batches: &[RecordBatch]) -> Vec<i64> {
    let mut out: Vec<i64> = batches
        .iter()
        .flat_map(|b| {
            let v = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
            (0..v.len()).map(|i| v.value(i)).collect::<Vec<_>>()
        })
        .collect();
    out.sort_unstable();
    out
}

/// The physical plan and barks stages of `explain`'s text.
fn physical(explain: String) -> String {
    let at = explain
        .find("== Physical Plan ==")
        .expect("a physical plan");
    explain[at..].to_string()
}

fn in_subqueries_match_a_model(master: &str) {
    let dir = tempfile::tempdir().unwrap();
    let session = Session::builder(master)
        .shuffle_partitions(3)
        .build()
        .unwrap();
    tables(&session, dir.path());
    let query = |n: usize| {
        format!("SELECT v FROM t WHERE k IN (SELECT k FROM s GROUP BY k HAVING count(*) > {n})")
    };

    // Four keys: a filter `k IN (…)`, no join.
    let df = session.sql(&query(2)).unwrap();
    let plan = physical(df.explain().unwrap());
    assert!(
        !plan.contains("Semi"),
        "{master}: the semi join stayed:\n{plan}"
    );
    assert!(plan.contains("IN ("), "{master}: no IN list:\n{plan}");
    assert_eq!(
        values(&df.collect().unwrap()),
        model(2),
        "{master}: four keys"
    );

    // 25,000 keys, over the limit: the semi join stays.
    let df = session.sql(&query(0)).unwrap();
    let plan = physical(df.explain().unwrap());
    assert!(plan.contains("Semi"), "{master}: no semi join:\n{plan}");
    assert_eq!(
        values(&df.collect().unwrap()),
        model(0),
        "{master}: every key"
    );

    // No key at all.
    let df = session.sql(&query(100)).unwrap();
    assert!(
        values(&df.collect().unwrap()).is_empty(),
        "{master}: no key"
    );

    // NOT IN a list holding a null keeps nothing.
    let not_in = "SELECT v FROM t WHERE k NOT IN (SELECT k FROM s GROUP BY k HAVING count(*) > 2)";
    let df = session.sql(not_in).unwrap();
    assert!(
        values(&df.collect().unwrap()).is_empty(),
        "{master}: NOT IN"
    );
}

#[test]
fn in_subqueries_on_one_thread() {
    in_subqueries_match_a_model("local[1]");
}

#[test]
fn in_subqueries_on_three_threads() {
    in_subqueries_match_a_model("local[3]");
}

#[test]
fn in_subqueries_on_a_local_cluster() {
    in_subqueries_match_a_model("local-cluster[2]");
}
