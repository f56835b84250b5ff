//! SQL Server inside `pipeline!`, against the TDS server that can be had
//! here (iridium_server; `eval "$(scripts/services/mssql.sh)"` sets
//! `BARKS_TEST_MSSQL_URL`): one job writes rows into a table the test
//! created, another reads them in partitions and aggregates;
//! the result is compared with the same aggregation in plain Rust.
#![cfg(feature = "mssql")]

use barks::prelude::*;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Reading {
    id: i32,
    sensor: String,
    reading: f64,
}

#[barks::job]
fn store_readings(readings: Vec<Reading>, target: SqlWrite) -> () {
    pipeline! {
        let all = parallelize(readings, 4);
        all.save_to_sql_server(target)
    }
}

#[barks::job]
fn max_per_sensor(source: SqlRead) -> Vec<(String, f64)> {
    pipeline! {
        let rows = read_sql_server(source);
        let maxima = rows
            .map(|r: Reading| (r.sensor, r.reading))
            .reduce_by_key(f64::max);
        maxima.collect()
    }
}

fn url() -> String {
    std::env::var("BARKS_TEST_MSSQL_URL").unwrap_or_else(|_| {
        panic!("BARKS_TEST_MSSQL_URL is not set: run `eval \"$(scripts/services/mssql.sh)\"` first")
    })
}

/// One test at a time, across test processes (a file lock; see
/// barks-io/tests/mssql.rs): the emulator does not isolate DDL from a
/// concurrent rollback.
fn one_at_a_time() -> std::fs::File {
    let lock = std::fs::File::create(std::env::temp_dir().join("barks-mssql-tests.lock")).unwrap();
    lock.lock().unwrap();
    lock
}

#[test]
fn jobs_write_and_read_a_table_in_partitions() {
    let _serial = one_at_a_time();
    let table = format!("barks_job_readings_{}", std::process::id());
    create_table(&table);
    let readings: Vec<Reading> = (0..1200)
        .map(|i| Reading {
            id: i,
            sensor: format!("sensör-{}", i % 9),
            reading: f64::from((i * 37) % 1000) / 10.0,
        })
        .collect();
    // One writer at a time and small batches: the emulator takes table-wide
    // write locks without waiting, and rejects some multi-packet requests.
    store_readings(
        readings.clone(),
        SqlWrite::table(url(), &table).batch_rows(50),
    )
    .run_on("local[1]")
    .unwrap();

    let mut expected: BTreeMap<String, f64> = BTreeMap::new();
    for r in &readings {
        let e = expected.entry(r.sensor.clone()).or_insert(f64::MIN);
        *e = e.max(r.reading);
    }
    let read = SqlRead::table(url(), &table).partition_on("id", 0, 1200, 5);
    let got: BTreeMap<String, f64> = max_per_sensor(read)
        .run_on("local[4]")
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(got, expected);
}

fn create_table(table: &str) {
    barks::io::mssql::execute_batch(
        &url(),
        &format!("CREATE TABLE {table} (id INT, sensor NVARCHAR(50), reading FLOAT)"),
    )
    .unwrap();
}
