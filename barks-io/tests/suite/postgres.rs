//! The PostgreSQL connector against a real PostgreSQL server
//! (`eval "$(scripts/services/pg.sh)"` sets `BARKS_TEST_PG_URL`).
//!
//! Reads are checked against a plain `SELECT *` through tokio-postgres
//! itself, writes by reading the table back the same way.
#![cfg(feature = "postgres")]

use barks_io::postgres::{SaveToPostgres, read_postgres};
use barks_io::sql::{SqlRead, SqlWrite};
use barks_runtime::{
    BoxIter, Context, Dataset, Error, ErrorSink, Output, Source, from_source, parallelize,
};
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;

fn url() -> String {
    std::env::var("BARKS_TEST_PG_URL").unwrap_or_else(|_| {
        panic!("BARKS_TEST_PG_URL is not set: run `eval \"$(scripts/services/pg.sh)\"` first")
    })
}

fn rt() -> &'static Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(|| Runtime::new().unwrap())
}

/// The reference client: tokio-postgres used directly.
fn reference() -> tokio_postgres::Client {
    rt().block_on(async {
        let (client, conn) = tokio_postgres::connect(&url(), tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        client
    })
}

fn sql(statements: &str) {
    rt().block_on(reference().batch_execute(statements))
        .unwrap();
}

/// A table name no other test (or earlier run) uses.
fn table(name: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let t = format!(
        "barks_{name}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    sql(&format!("DROP TABLE IF EXISTS {t}"));
    t
}

fn run<R: 'static>(pipeline: impl FnOnce() -> Output<R>) -> barks_runtime::Result<R> {
    Context::new("local[4]").unwrap().run(pipeline)
}

#[derive(Debug, Clone, PartialEq, PartialOrd, Serialize, Deserialize)]
struct Item {
    id: Option<i64>,
    name: String,
    score: f64,
    flag: bool,
    data: Vec<u8>,
    amount: Option<String>,
    at: chrono::NaiveDateTime,
    note: Option<String>,
}

const ITEM_COLUMNS: &str = "id bigint, name text NOT NULL, score double precision NOT NULL, \
     flag boolean NOT NULL, data bytea NOT NULL, amount numeric(12, 3), \
     at timestamp NOT NULL, note text";

fn items(n: i64) -> Vec<Item> {
    let base = chrono::NaiveDate::from_ymd_opt(2024, 2, 29)
        .unwrap()
        .and_hms_micro_opt(12, 0, 0, 250)
        .unwrap();
    (0..n)
        .map(|i| Item {
            // NULLs, negatives and values far above the bounds used below.
            id: match i % 10 {
                0 => None,
                1 => Some(-i),
                2 => Some(1_000_000 + i),
                _ => Some(i),
            },
            name: format!("näme {i} ✓ \t tab \\ back\nnewline 東京"),
            score: i as f64 / 7.0,
            flag: i % 3 == 0,
            data: vec![(i % 256) as u8, 0, 255],
            amount: (i % 4 != 0).then(|| format!("{}.{:03}", i * 13, i % 1000)),
            at: base + chrono::Duration::seconds(i * 3601),
            note: (i % 5 == 0).then(|| "x".repeat(i as usize % 50)),
        })
        .collect()
}

/// Every row of `table` through the reference client, sorted.
fn reference_items(table: &str) -> Vec<Item> {
    // numeric has no FromSql without an extra crate: read its text form.
    let query = format!("SELECT *, amount::text AS amount_text FROM {table}");
    let rows = rt().block_on(reference().query(&query, &[])).unwrap();
    sorted(
        rows.iter()
            .map(|r| Item {
                id: r.get("id"),
                name: r.get("name"),
                score: r.get("score"),
                flag: r.get("flag"),
                data: r.get("data"),
                amount: r.get("amount_text"),
                at: r.get("at"),
                note: r.get("note"),
            })
            .collect(),
    )
}

fn sorted(mut items: Vec<Item>) -> Vec<Item> {
    items.sort_by(|a, b| {
        (a.id, &a.name, a.score)
            .partial_cmp(&(b.id, &b.name, b.score))
            .unwrap()
    });
    items
}

fn write_items(table: &str, rows: Vec<Item>, partitions: usize, batch_rows: usize) {
    let write = SqlWrite::table(url(), table).batch_rows(batch_rows);
    run(move || parallelize(rows, Some(partitions)).save_to_postgres(write)).unwrap();
}

#[test]
fn partitioned_reads_return_every_row_once_as_a_plain_select_does() {
    let t = table("read");
    sql(&format!("CREATE TABLE {t} ({ITEM_COLUMNS})"));
    write_items(&t, items(600), 3, 250);
    let expected = reference_items(&t);
    assert_eq!(expected.len(), 600);
    for n in [1, 3, 8, 16] {
        let read = SqlRead::table(url(), &t)
            .partition_on("id", 0, 600, n)
            .fetch_rows(37);
        assert_eq!(read.partitions().unwrap().len(), n);
        let got: Vec<Item> = run(move || read_postgres(read).collect()).unwrap();
        assert_eq!(sorted(got), expected, "{n} partitions");
    }
}

#[test]
fn an_empty_table_reads_as_no_rows_in_every_partition() {
    let t = table("empty");
    sql(&format!("CREATE TABLE {t} ({ITEM_COLUMNS})"));
    for n in [1, 8] {
        let read = SqlRead::table(url(), &t).partition_on("id", -5, 5, n);
        let got: Vec<Item> = run(move || read_postgres(read).collect()).unwrap();
        assert!(got.is_empty());
    }
}

#[test]
fn a_query_is_read_in_partitions_too() {
    let t = table("query");
    sql(&format!(
        "CREATE TABLE {t} (k int, v text); \
         INSERT INTO {t} SELECT g, 'v' || g FROM generate_series(1, 1000) g; \
         INSERT INTO {t} VALUES (NULL, 'null key')"
    ));
    let query =
        format!("SELECT k * 2 AS doubled, upper(v) AS v FROM {t} WHERE k % 3 <> 0 OR k IS NULL");
    let rows = rt().block_on(reference().query(&query, &[])).unwrap();
    let mut expected: Vec<(Option<i32>, String)> =
        rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    expected.sort();
    for n in [1, 3, 8] {
        let read = SqlRead::query(url(), &query).partition_on("doubled", 100, 1500, n);
        let mut got: Vec<(Option<i32>, String)> =
            run(move || read_postgres(read).collect()).unwrap();
        got.sort();
        assert_eq!(got, expected, "{n} partitions");
    }
}

#[test]
fn writes_round_trip_in_batches_larger_and_smaller_than_a_partition() {
    for (partitions, batch) in [(1, 1000), (3, 64), (8, 7)] {
        let t = table("write");
        sql(&format!("CREATE TABLE {t} ({ITEM_COLUMNS})"));
        let rows = items(1500);
        write_items(&t, rows.clone(), partitions, batch);
        assert_eq!(
            reference_items(&t),
            sorted(rows),
            "{partitions} partitions, batch {batch}"
        );
    }
}

#[test]
fn special_floats_and_large_values_survive_a_round_trip() {
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Big {
        id: i32,
        text: String,
        f: f64,
        r: f32,
        blob: Vec<u8>,
    }
    let t = table("big");
    sql(&format!(
        "CREATE TABLE {t} (id int, text text, f float8, r real, blob bytea)"
    ));
    let mb = "ü€".repeat(200_000);
    let rows = vec![
        Big {
            id: 1,
            text: mb.clone(),
            f: f64::INFINITY,
            r: 0.1,
            blob: vec![7; 1 << 20],
        },
        Big {
            id: 2,
            text: String::new(),
            f: f64::NEG_INFINITY,
            r: -1.5e-7,
            blob: vec![],
        },
        Big {
            id: 3,
            text: "\\N".into(),
            f: 1e300,
            r: f32::MAX,
            blob: vec![b'\\', b'\n'],
        },
        Big {
            id: 4,
            text: "x".into(),
            f: -0.0,
            r: 3.0,
            blob: vec![0],
        },
    ];
    let write = SqlWrite::table(url(), &t);
    let data = rows.clone();
    run(move || parallelize(data, Some(2)).save_to_postgres(write)).unwrap();
    let read = SqlRead::table(url(), &t);
    let mut got: Vec<Big> = run(move || read_postgres(read).collect()).unwrap();
    got.sort_by_key(|b| b.id);
    assert_eq!(got, rows);
    // NaN does not compare equal: check it separately.
    sql(&format!(
        "INSERT INTO {t} VALUES (5, 'nan', 'NaN', 'NaN', '')"
    ));
    let read = SqlRead::query(url(), format!("SELECT * FROM {t} WHERE id = 5"));
    let nan: Vec<Big> = run(move || read_postgres(read).collect()).unwrap();
    assert!(nan[0].f.is_nan() && nan[0].r.is_nan());
    // And the reference sees the megabyte text as it was written.
    let row = rt()
        .block_on(reference().query_one(&format!("SELECT text FROM {t} WHERE id = 1"), &[]))
        .unwrap();
    assert_eq!(row.get::<_, String>(0), mb);
}

#[test]
fn many_sql_types_read_into_strings_and_chrono_types() {
    #[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
    struct Typed {
        small: i16,
        oid_like: u32,
        real_number: f32,
        exact: String,
        exact_f: f64,
        day: chrono::NaiveDate,
        day_text: String,
        stamp_tz: chrono::DateTime<chrono::Utc>,
        clock: chrono::NaiveTime,
        doc: String,
        docb: String,
        id: String,
        fixed: String,
        mood: String,
        nothing: Option<i32>,
    }
    let t = table("types");
    sql(&format!(
        "DROP TYPE IF EXISTS {t}_mood; CREATE TYPE {t}_mood AS ENUM ('happy', 'sad'); \
         CREATE TABLE {t} AS SELECT 7::int2 AS small, 42::int8 AS oid_like, 1.5::real AS real_number, \
         '-12345678901234567890.000120'::numeric AS exact, 2.25::numeric AS exact_f, \
         '2024-02-29'::date AS day, '1999-12-31'::date AS day_text, \
         '2024-01-02 03:04:05.678+02'::timestamptz AS stamp_tz, '23:59:58.5'::time AS clock, \
         '{{\"a\": [1, 2]}}'::json AS doc, '{{\"b\": null}}'::jsonb AS docb, \
         'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS id, 'ab'::char(4) AS fixed, \
         'sad'::{t}_mood AS mood, NULL::int AS nothing"
    ));
    let read = SqlRead::table(url(), &t);
    let got: Vec<Typed> = run(move || read_postgres(read).collect()).unwrap();
    assert_eq!(
        got,
        vec![Typed {
            small: 7,
            oid_like: 42,
            real_number: 1.5,
            exact: "-12345678901234567890.000120".into(),
            exact_f: 2.25,
            day: chrono::NaiveDate::from_ymd_opt(2024, 2, 29).unwrap(),
            day_text: "1999-12-31".into(),
            stamp_tz: "2024-01-02T01:04:05.678Z".parse().unwrap(),
            clock: chrono::NaiveTime::from_hms_milli_opt(23, 59, 58, 500).unwrap(),
            doc: "{\"a\": [1, 2]}".into(),
            docb: "{\"b\": null}".into(),
            id: "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11".into(),
            fixed: "ab  ".into(),
            mood: "sad".into(),
            nothing: None,
        }]
    );
}

/// Fails its partition 1 half-way through, through the error sink (as a
/// source with bad input does), so its iterator simply ends early.
struct FailingSource;

impl Source for FailingSource {
    type Item = Item;
    fn num_partitions(&self) -> usize {
        3
    }
    fn read(&self, partition: usize, errors: ErrorSink) -> barks_runtime::Result<BoxIter<Item>> {
        let rows = items(900).into_iter().skip(partition * 300).take(300);
        Ok(BoxIter::new(rows.enumerate().map_while(
            move |(i, item)| {
                if partition == 1 && i == 150 {
                    errors.fail(Error::Plan("bad input in partition 1".into()));
                    None
                } else {
                    Some(item)
                }
            },
        )))
    }
}

#[test]
fn a_failing_partition_commits_none_of_its_rows() {
    let t = table("fail");
    sql(&format!("CREATE TABLE {t} ({ITEM_COLUMNS})"));
    let write = SqlWrite::table(url(), &t).batch_rows(20);
    let err = run(move || from_source(FailingSource).save_to_postgres(write)).unwrap_err();
    assert!(
        err.to_string().contains("bad input in partition 1"),
        "{err}"
    );
    let written = reference_items(&t);
    let partition = |p: usize| sorted(items(900).into_iter().skip(p * 300).take(300).collect());
    assert!(
        !written.iter().any(|w| partition(1).contains(w)),
        "rows of the failed partition were committed"
    );
    // The other partitions are each all there or all absent.
    for p in [0, 2] {
        let present = partition(p).iter().filter(|r| written.contains(r)).count();
        assert!(
            present == 0 || present == 300,
            "partition {p}: {present} rows"
        );
    }

    // A panic half-way through a partition rolls it back too.
    let t = table("panic");
    sql(&format!("CREATE TABLE {t} ({ITEM_COLUMNS})"));
    let write = SqlWrite::table(url(), &t).batch_rows(10);
    let err = run(move || {
        parallelize(items(100), Some(1))
            .map(|item: Item| {
                assert!(item.score < 50.0 / 7.0, "boom at {:?}", item.id);
                item
            })
            .save_to_postgres(write)
    })
    .unwrap_err();
    assert!(err.to_string().contains("boom"), "{err}");
    assert!(reference_items(&t).is_empty());
}

#[test]
fn a_retried_task_writes_its_partition_once() {
    static FAILED_ONCE: AtomicUsize = AtomicUsize::new(0);
    let t = table("retry");
    sql(&format!("CREATE TABLE {t} ({ITEM_COLUMNS})"));
    let write = SqlWrite::table(url(), &t).batch_rows(16);
    let rows = items(400);
    let data = rows.clone();
    Context::new("local[4]")
        .unwrap()
        .with_max_task_attempts(2)
        .run(move || {
            parallelize(data, Some(4))
                .map(|item: Item| {
                    if item.score > 350.0 / 7.0 && FAILED_ONCE.fetch_add(1, Ordering::SeqCst) == 0 {
                        panic!("first attempt fails mid-partition");
                    }
                    item
                })
                .save_to_postgres(write)
        })
        .unwrap();
    assert!(FAILED_ONCE.load(Ordering::SeqCst) > 0);
    assert_eq!(reference_items(&t), sorted(rows));
}

#[test]
fn upserts_make_rewrites_idempotent() {
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Kv {
        k: i32,
        v: String,
    }
    let t = table("upsert");
    sql(&format!(
        "CREATE TABLE {t} (k int PRIMARY KEY, v text, untouched text DEFAULT 'd')"
    ));
    let first: Vec<Kv> = (0..300)
        .map(|k| Kv {
            k,
            v: format!("old {k}"),
        })
        .collect();
    let second: Vec<Kv> = (150..450)
        .map(|k| Kv {
            k,
            v: format!("new {k}"),
        })
        .collect();
    for rows in [first.clone(), second.clone(), second.clone()] {
        let write = SqlWrite::table(url(), &t).upsert_on(["k"]).batch_rows(50);
        run(move || parallelize(rows, Some(3)).save_to_postgres(write)).unwrap();
    }
    let read = SqlRead::table(url(), &t);
    let mut got: Vec<Kv> = run(move || read_postgres(read).collect()).unwrap();
    got.sort_by_key(|kv| kv.k);
    let expected: Vec<Kv> = first[..150].iter().cloned().chain(second).collect();
    assert_eq!(got, expected);
}

#[test]
fn an_unreachable_server_fails_fast_naming_it_without_the_password() {
    let started = Instant::now();
    let read = SqlRead::table("postgres://barks:secret-pw@127.0.0.1:1/nowhere", "t");
    let err = run(move || read_postgres::<Item>(read).count())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("postgres postgres://barks:***@127.0.0.1:1/nowhere table `t`"),
        "{err}"
    );
    assert!(err.contains("cannot connect"), "{err}");
    assert!(!err.contains("secret-pw"), "{err}");
    // A server that never answers: the URL's connect_timeout bounds the wait.
    let read = SqlRead::table("postgres://u@10.255.255.1:5432/db?connect_timeout=1", "t");
    let err = run(move || read_postgres::<Item>(read).count())
        .unwrap_err()
        .to_string();
    assert!(err.contains("cannot connect"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_wrong_password_is_reported() {
    let bad = url().replacen(":barks-pw@", ":wrong@", 1);
    assert_ne!(bad, url(), "the test expects the pg.sh role `barks`");
    let read = SqlRead::table(bad.clone(), "t");
    let err = run(move || read_postgres::<Item>(read).count())
        .unwrap_err()
        .to_string();
    assert!(err.contains("password authentication failed"), "{err}");
    assert!(!err.contains(":wrong@"), "{err}");
    let write = SqlWrite::table(bad, "t");
    let err = run(move || parallelize(items(1), Some(1)).save_to_postgres(write))
        .unwrap_err()
        .to_string();
    assert!(err.contains("password authentication failed"), "{err}");
}

#[test]
fn a_missing_table_is_named() {
    let read = SqlRead::table(url(), "no_such_table_here").partition_on("id", 0, 10, 2);
    let err = run(move || read_postgres::<Item>(read).count())
        .unwrap_err()
        .to_string();
    assert!(err.contains("table `no_such_table_here`"), "{err}");
    assert!(
        err.contains("relation \"no_such_table_here\" does not exist"),
        "{err}"
    );
    // Writing fails before any task runs.
    let write = SqlWrite::table(url(), "no_such_table_here");
    let err = run(move || parallelize(items(3), Some(1)).save_to_postgres(write))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("relation \"no_such_table_here\" does not exist"),
        "{err}"
    );
}

#[test]
fn a_schema_that_does_not_match_the_rust_type_is_named() {
    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[allow(dead_code)]
    struct Wrong {
        id: i64,
        name: i64,
    }
    let t = table("mismatch");
    sql(&format!(
        "CREATE TABLE {t} (id bigint, name text); INSERT INTO {t} VALUES (1, 'a')"
    ));
    let read = SqlRead::table(url(), &t);
    let err = run(move || read_postgres::<Wrong>(read).count())
        .unwrap_err()
        .to_string();
    assert!(err.contains(&format!("table `{t}`")), "{err}");
    assert!(
        err.contains("column `name` (SQL type text) cannot be read as Rust type i64"),
        "{err}"
    );
    assert!(err.contains("Wrong"), "{err}");

    // A NULL into a non-Option field, and a missing column.
    sql(&format!("INSERT INTO {t} VALUES (NULL, 'b')"));
    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[allow(dead_code)]
    struct NotNull {
        id: i64,
    }
    let read = SqlRead::table(url(), &t);
    let err = run(move || read_postgres::<NotNull>(read).count())
        .unwrap_err()
        .to_string();
    assert!(err.contains("column `id` (SQL type int8) is NULL"), "{err}");
    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[allow(dead_code)]
    struct Missing {
        id: Option<i64>,
        price: f64,
    }
    let read = SqlRead::table(url(), &t);
    let err = run(move || read_postgres::<Missing>(read).count())
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing field `price`"), "{err}");

    // Writing a field the table has no column for.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    struct Extra {
        id: i64,
        colour: String,
    }
    let write = SqlWrite::table(url(), &t);
    let err = run(move || {
        parallelize(
            vec![Extra {
                id: 1,
                colour: "red".into(),
            }],
            Some(1),
        )
        .save_to_postgres(write)
    })
    .unwrap_err()
    .to_string();
    assert!(err.contains("column \"colour\""), "{err}");
}

#[test]
fn bad_partitioning_options_are_reported_when_the_job_runs() {
    let read = SqlRead::table(url(), "t").partition_on("id", 10, 0, 4);
    let err = run(move || read_postgres::<Item>(read).count())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("lower bound 10 is greater than upper bound 0"),
        "{err}"
    );
}

/// `Dataset<T>` infers its record type from use, as in a pipeline.
#[test]
fn the_record_type_is_inferred_from_use() {
    let t = table("infer");
    sql(&format!(
        "CREATE TABLE {t} (a int, b text); INSERT INTO {t} VALUES (1, 'x'), (2, 'y')"
    ));
    let read = SqlRead::table(url(), &t);
    let mut got = run(move || {
        let rows: Dataset<_> = read_postgres(read);
        rows.map(|(a, b): (i32, String)| format!("{a}{b}"))
            .collect()
    })
    .unwrap();
    got.sort();
    assert_eq!(got, ["1x", "2y"]);
}
