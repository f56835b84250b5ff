//! The SQL Server connector against a TDS server. Real SQL Server cannot be
//! had on these machines: `eval "$(scripts/services/mssql.sh)"` starts
//! iridium_server (an independent T-SQL engine) and sets
//! `BARKS_TEST_MSSQL_URL`. These tests stay within what it supports with
//! tiberius (login without TLS, CREATE TABLE, parameterised INSERT/SELECT of
//! ints, strings and floats); see the README for what is not covered. In
//! particular, cutting big batches at SQL Server's 2 100-parameter limit is
//! only unit-tested: the emulator rejects some requests that span several TDS
//! packets ("unsupported RPC request"), so the writes here use small batches.
//!
//! Reads are checked against a plain `SELECT *` through tiberius itself.
#![cfg(feature = "mssql")]

use barks_io::mssql::{SaveToSqlServer, read_sql_server};
use barks_io::sql::{SqlRead, SqlWrite};
use barks_runtime::{BoxIter, Context, Error, ErrorSink, Output, Source, from_source, parallelize};
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tiberius::{Client, Config};
use tokio::net::TcpStream;
use tokio::runtime::Runtime;
use tokio_util::compat::{Compat, TokioAsyncWriteCompatExt};

fn url() -> String {
    std::env::var("BARKS_TEST_MSSQL_URL").unwrap_or_else(|_| {
        panic!("BARKS_TEST_MSSQL_URL is not set: run `eval \"$(scripts/services/mssql.sh)\"` first")
    })
}

fn rt() -> &'static Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(|| Runtime::new().unwrap())
}

/// The reference: tiberius used directly.
async fn reference() -> Client<Compat<TcpStream>> {
    // The ring provider, as the library installs it (deprecated since
    // rustls 0.23.48 with no ring replacement: see `mssql/connect.rs`).
    #[allow(deprecated)]
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config = Config::from_ado_string(&url()).unwrap();
    let tcp = TcpStream::connect(config.get_addr()).await.unwrap();
    Client::connect(config, tcp.compat_write()).await.unwrap()
}

fn sql(statement: &str) {
    rt().block_on(async {
        reference()
            .await
            .simple_query(statement)
            .await
            .unwrap()
            .into_results()
            .await
            .unwrap()
    });
}

/// One test at a time, across threads and test processes (a file lock): the
/// emulator's rollback of an aborted transaction can undo tables that other
/// sessions created meanwhile (no isolation of DDL), which SQL Server does not do.
fn one_at_a_time() -> std::fs::File {
    let lock = std::fs::File::create(std::env::temp_dir().join("barks-mssql-tests.lock")).unwrap();
    lock.lock().unwrap();
    lock
}

fn table(name: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!(
        "barks_{name}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

fn run<R: 'static>(pipeline: impl FnOnce() -> Output<R>) -> barks_runtime::Result<R> {
    Context::new("local[4]").unwrap().run(pipeline)
}

/// Writes run one task at a time: the emulator takes a table-wide write lock
/// and fails (rather than waits for) a second writer of the same table,
/// which SQL Server's row locks do not.
fn run_writes<R: 'static>(pipeline: impl FnOnce() -> Output<R>) -> barks_runtime::Result<R> {
    Context::new("local[1]").unwrap().run(pipeline)
}

#[derive(Debug, Clone, PartialEq, PartialOrd, Serialize, Deserialize)]
struct Row {
    id: Option<i32>,
    name: String,
    score: f64,
    note: Option<String>,
}

const COLUMNS: &str =
    "id INT NULL, name NVARCHAR(200) NOT NULL, score FLOAT NOT NULL, note NVARCHAR(200) NULL";

fn rows(n: i32) -> Vec<Row> {
    (0..n)
        .map(|i| Row {
            id: match i % 10 {
                0 => None,
                1 => Some(-i),
                2 => Some(100_000 + i),
                _ => Some(i),
            },
            name: format!("näme {i} ✓ 東京 'quoted'"),
            score: f64::from(i) / 8.0,
            note: (i % 3 == 0).then(|| format!("note {i}")),
        })
        .collect()
}

fn sorted(mut rows: Vec<Row>) -> Vec<Row> {
    rows.sort_by(|a, b| a.partial_cmp(b).unwrap());
    rows
}

/// Every row through the reference client.
fn reference_rows(table: &str) -> Vec<Row> {
    let rows = rt().block_on(async {
        reference()
            .await
            .simple_query(format!("SELECT id, name, score, note FROM {table}"))
            .await
            .unwrap()
            .into_first_result()
            .await
            .unwrap()
    });
    sorted(
        rows.iter()
            .map(|r| Row {
                id: r.get::<i32, _>("id"),
                name: r.get::<&str, _>("name").unwrap().to_string(),
                score: r.get::<f64, _>("score").unwrap(),
                note: r.get::<&str, _>("note").map(str::to_string),
            })
            .collect(),
    )
}

fn write_rows(table: &str, data: Vec<Row>, partitions: usize, batch: usize) {
    let write = SqlWrite::table(url(), table).batch_rows(batch);
    run_writes(move || parallelize(data, Some(partitions)).save_to_sql_server(write)).unwrap();
}

#[test]
fn writes_and_partitioned_reads_round_trip() {
    let _serial = one_at_a_time();
    let t = table("rt");
    sql(&format!("CREATE TABLE {t} ({COLUMNS})"));
    let data = rows(700);
    write_rows(&t, data.clone(), 3, 64);
    let expected = reference_rows(&t);
    assert_eq!(expected, sorted(data));
    for n in [1, 3, 8, 16] {
        let read = SqlRead::table(url(), &t)
            .partition_on("id", 0, 700, n)
            .fetch_rows(50);
        let got: Vec<Row> = run(move || read_sql_server(read).collect()).unwrap();
        assert_eq!(sorted(got), expected, "{n} partitions");
    }
}

#[test]
fn an_empty_table_reads_as_nothing() {
    let _serial = one_at_a_time();
    let t = table("empty");
    sql(&format!("CREATE TABLE {t} ({COLUMNS})"));
    for n in [1, 8] {
        let read = SqlRead::table(url(), &t).partition_on("id", 0, 10, n);
        let got: Vec<Row> = run(move || read_sql_server(read).collect()).unwrap();
        assert!(got.is_empty());
    }
}

#[test]
fn a_query_is_read_in_partitions() {
    let _serial = one_at_a_time();
    let t = table("query");
    sql(&format!("CREATE TABLE {t} ({COLUMNS})"));
    write_rows(&t, rows(300), 1, 100);
    let query = format!("SELECT id, name FROM {t} WHERE score >= 10");
    let mut expected: Vec<(Option<i32>, String)> = reference_rows(&t)
        .into_iter()
        .filter(|r| r.score >= 10.0)
        .map(|r| (r.id, r.name))
        .collect();
    expected.sort();
    for n in [1, 4] {
        let read = SqlRead::query(url(), &query).partition_on("id", 0, 300, n);
        let mut got: Vec<(Option<i32>, String)> =
            run(move || read_sql_server(read).collect()).unwrap();
        got.sort();
        assert_eq!(got, expected, "{n} partitions");
    }
}

/// Fails partition 1 half-way through its input, through the error sink.
struct FailingSource;

impl Source for FailingSource {
    type Item = Row;
    fn num_partitions(&self) -> usize {
        3
    }
    fn read(&self, partition: usize, errors: ErrorSink) -> barks_runtime::Result<BoxIter<Row>> {
        let data = rows(300).into_iter().skip(partition * 100).take(100);
        Ok(BoxIter::new(data.enumerate().map_while(move |(i, r)| {
            if partition == 1 && i == 50 {
                errors.fail(Error::Plan("bad input in partition 1".into()));
                None
            } else {
                Some(r)
            }
        })))
    }
}

#[test]
fn a_failing_partition_commits_none_of_its_rows() {
    let _serial = one_at_a_time();
    let t = table("fail");
    sql(&format!("CREATE TABLE {t} ({COLUMNS})"));
    let write = SqlWrite::table(url(), &t).batch_rows(10);
    let err = run_writes(move || from_source(FailingSource).save_to_sql_server(write))
        .unwrap_err()
        .to_string();
    assert!(err.contains("bad input in partition 1"), "{err}");
    let written = reference_rows(&t);
    let partition = |p: usize| {
        rows(300)
            .into_iter()
            .skip(p * 100)
            .take(100)
            .collect::<Vec<_>>()
    };
    assert!(
        !partition(1).iter().any(|r| written.contains(r)),
        "{written:?}"
    );
    for p in [0, 2] {
        let present = partition(p).iter().filter(|r| written.contains(r)).count();
        assert!(present == 0 || present == 100, "partition {p}: {present}");
    }
}

#[test]
fn an_unreachable_server_fails_fast_and_is_named() {
    let _serial = one_at_a_time();
    let started = Instant::now();
    let bad = "server=tcp:127.0.0.1,1;user=sa;password=secret-pw;encrypt=DANGER_PLAINTEXT";
    let read = SqlRead::table(bad, "t");
    let err = run(move || read_sql_server::<Row>(read).count())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("sql server server=tcp:127.0.0.1,1;user=sa;password=***"),
        "{err}"
    );
    assert!(err.contains("cannot connect to 127.0.0.1:1"), "{err}");
    assert!(!err.contains("secret-pw"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_wrong_password_is_reported() {
    let _serial = one_at_a_time();
    let bad = url().replace("password=", "password=wrong");
    let read = SqlRead::table(bad.clone(), "t");
    let err = run(move || read_sql_server::<Row>(read).count())
        .unwrap_err()
        .to_string();
    assert!(err.contains("cannot log in"), "{err}");
    assert!(!err.contains("password=wrong"), "{err}");
    let write = SqlWrite::table(bad, "t");
    let err = run(move || parallelize(rows(1), Some(1)).save_to_sql_server(write))
        .unwrap_err()
        .to_string();
    assert!(err.contains("cannot log in"), "{err}");
}

#[test]
fn a_missing_table_is_named() {
    let _serial = one_at_a_time();
    let read = SqlRead::table(url(), "no_such_table_here");
    let err = run(move || read_sql_server::<Row>(read).count())
        .unwrap_err()
        .to_string();
    assert!(err.contains("table `no_such_table_here`"), "{err}");
    assert!(err.to_lowercase().contains("no_such_table_here"), "{err}");
    let write = SqlWrite::table(url(), "no_such_table_here");
    let err = run(move || parallelize(rows(1), Some(1)).save_to_sql_server(write))
        .unwrap_err()
        .to_string();
    assert!(err.contains("table `no_such_table_here`"), "{err}");
}

#[test]
fn a_schema_that_does_not_match_the_rust_type_is_named() {
    let _serial = one_at_a_time();
    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[allow(dead_code)]
    struct Wrong {
        id: Option<i32>,
        name: f64,
    }
    let t = table("mismatch");
    sql(&format!("CREATE TABLE {t} ({COLUMNS})"));
    write_rows(&t, rows(5), 1, 10);
    let read = SqlRead::table(url(), &t);
    let err = run(move || read_sql_server::<Wrong>(read).count())
        .unwrap_err()
        .to_string();
    assert!(err.contains(&format!("table `{t}`")), "{err}");
    assert!(
        err.contains("column `name` (SQL type nvarchar) cannot be read as Rust type f64"),
        "{err}"
    );
}

#[test]
fn upserts_are_refused_for_sql_server() {
    let _serial = one_at_a_time();
    let write = SqlWrite::table(url(), "t").upsert_on(["id"]);
    let err = run(move || parallelize(rows(1), Some(1)).save_to_sql_server(write))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("upserts are not supported for SQL Server"),
        "{err}"
    );
}
