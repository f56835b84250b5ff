//! `DataFrame::collect_as` into `#[derive(FromArrow)]` rows: every Arrow
//! type a `FromArrow` field can have, with nulls, computed by SQL on barks
//! and checked against the same rows built in Rust.
#![cfg(feature = "sql")]

use barks::prelude::*;
use barks::sql::Session;

#[derive(Debug, Clone, PartialEq, FromArrow)]
struct Row {
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
    bytes: Vec<u8>,
    maybe_text: Option<String>,
    maybe_int: Option<i32>,
}

/// Row `i` as the query below computes it.
fn model(i: i64) -> Row {
    Row {
        id: i,
        a_i8: (i % 100) as i8 - 50,
        a_i16: (i * 7 % 30000) as i16,
        a_i32: (i * 1000) as i32 - 70000,
        a_u8: (i % 256) as u8,
        a_u16: (i * 3 % 65000) as u16,
        a_u32: (i * 100_000) as u32,
        a_u64: i as u64 * 10_000_000_000,
        a_f32: i as f32 / 4.0,
        a_f64: i as f64 / 8.0,
        flag: i % 3 == 0,
        text: format!("row {i}"),
        bytes: format!("b{i}").into_bytes(),
        maybe_text: (i % 5 != 0).then(|| format!("t{i}")),
        maybe_int: (i % 7 != 0).then_some(i as i32),
    }
}

const QUERY: &str = "SELECT value AS id,
    CAST(value % 100 - 50 AS TINYINT) AS a_i8,
    CAST(value * 7 % 30000 AS SMALLINT) AS a_i16,
    CAST(value * 1000 - 70000 AS INT) AS a_i32,
    CAST(value % 256 AS TINYINT UNSIGNED) AS a_u8,
    CAST(value * 3 % 65000 AS SMALLINT UNSIGNED) AS a_u16,
    CAST(value * 100000 AS INT UNSIGNED) AS a_u32,
    CAST(value * 10000000000 AS BIGINT UNSIGNED) AS a_u64,
    CAST(value / 4.0 AS FLOAT) AS a_f32,
    CAST(value / 8.0 AS DOUBLE) AS a_f64,
    value % 3 = 0 AS flag,
    'row ' || CAST(value AS VARCHAR) AS text,
    CAST('b' || CAST(value AS VARCHAR) AS BYTEA) AS bytes,
    CASE WHEN value % 5 <> 0 THEN 't' || CAST(value AS VARCHAR) END AS maybe_text,
    CASE WHEN value % 7 <> 0 THEN CAST(value AS INT) END AS maybe_int
  FROM generate_series(0, 999) AS t(value) ORDER BY id";

#[test]
fn every_from_arrow_type_collects_with_nulls() {
    let expected: Vec<Row> = (0..1000).map(model).collect();
    for master in ["local[2]", "local-cluster[2]"] {
        let session = Session::new(master).unwrap();
        let rows: Vec<Row> = session.sql(QUERY).unwrap().collect_as().unwrap();
        assert_eq!(rows.len(), expected.len(), "{master}");
        for (got, want) in rows.iter().zip(&expected) {
            assert_eq!(got, want, "{master}");
        }
    }
}

#[test]
fn a_missing_column_is_an_error_naming_it() {
    #[derive(Debug, FromArrow)]
    struct Wrong {
        #[allow(dead_code)]
        nope: i64,
    }
    let session = Session::new("local[1]").unwrap();
    let err = session
        .sql("SELECT 1 AS yes")
        .unwrap()
        .collect_as::<Wrong>()
        .unwrap_err()
        .to_string();
    assert!(err.contains("nope"), "{err}");
}
