//! The ETL examples end to end against real servers: `basic_etl`
//! (PostgreSQL → Parquet on S3) and `mongodb_to_s3` (MongoDB → Parquet on
//! S3). Needs the services of `scripts/services/{pg,mongo,s3-rgw}.sh`.
//!
//! The references are independent of barks: the expected totals come from
//! an SQL `GROUP BY` run by `psql`, or from the documents read with the
//! MongoDB driver and summed in a plain loop; the Parquet output is read
//! with pyarrow straight from S3.

use std::collections::BTreeMap;
use std::process::{Command, Output};

/// The variable `name`, or a failure saying which script sets it.
fn env(name: &str, script: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run `eval \"$(scripts/services/{script}.sh)\"` first")
    })
}

/// Checks that the S3 test server's variables are set.
fn s3_env() {
    for name in [
        "BARKS_TEST_S3_ENDPOINT",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
    ] {
        env(name, "s3-rgw");
    }
}

/// A name no other test run uses.
fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{prefix}_{}_{nanos}", std::process::id())
}

fn run(exe: &str, args: &[&str]) -> Output {
    Command::new(exe)
        .args(args)
        .env("BARKS_S3_ENDPOINT", env("BARKS_TEST_S3_ENDPOINT", "s3-rgw"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run {exe}: {e}"))
}

/// Runs an example that must succeed; its stdout.
fn run_ok(exe: &str, args: &[&str]) -> String {
    let out = run(exe, args);
    assert!(
        out.status.success(),
        "{exe} {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Tab-separated lines as rows of text, sorted.
fn sorted_tsv(text: &[u8]) -> Vec<Vec<String>> {
    let mut rows: Vec<Vec<String>> = String::from_utf8_lossy(text)
        .lines()
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect();
    rows.sort();
    rows
}

/// The rows of the Parquet dataset at the S3 URL `dir`, read by pyarrow:
/// `columns` of every row, as text, sorted. Also checks `_SUCCESS`.
fn parquet_rows(dir: &str, columns: &[&str]) -> Vec<Vec<String>> {
    let out = Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/etl_read/read_parquet.py"
        ))
        .arg(dir)
        .args(columns)
        .output()
        .expect("python3 (with pyarrow: `python3 -m pip install pyarrow`) must be installed");
    assert!(
        out.status.success(),
        "reading {dir} with pyarrow failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    sorted_tsv(&out.stdout)
}

/// `sql`'s result rows through `psql`, as text, sorted.
fn psql(url: &str, sql: &str) -> Vec<Vec<String>> {
    let out = Command::new("psql")
        .args([
            url,
            "-X",
            "-v",
            "ON_ERROR_STOP=1",
            "-At",
            "-F",
            "\t",
            "-c",
            sql,
        ])
        .output()
        .expect("psql must be installed (scripts/services/pg.sh installs it)");
    assert!(
        out.status.success(),
        "psql: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    sorted_tsv(&out.stdout)
}

const BASIC_ETL: &str = env!("CARGO_BIN_EXE_basic_etl");
const MONGODB_TO_S3: &str = env!("CARGO_BIN_EXE_mongodb_to_s3");
const BUCKET: &str = "barks-etl-test";

#[test]
fn basic_etl_writes_the_sql_aggregate_as_parquet_on_s3() {
    let url = env("BARKS_TEST_PG_URL", "pg");
    s3_env();
    let table = unique("etl_sales");
    let base = format!("s3://{BUCKET}/{table}");
    let reference = format!(
        "SELECT region, count(*), sum(quantity), \
                sum(quantity::bigint * unit_price_cents * (100 - coalesce(discount_pct, 0)) / 100) \
         FROM {table} WHERE NOT refunded GROUP BY region"
    );
    for (rows, partitions) in [(2000, 1), (2000, 3), (2000, 8), (0, 4), (1, 3)] {
        let output = format!("{base}/rows{rows}-p{partitions}");
        let stdout = run_ok(
            BASIC_ETL,
            &[
                "--setup",
                "--pg-url",
                &url,
                "--table",
                &table,
                "--rows",
                &rows.to_string(),
                "--partitions",
                &partitions.to_string(),
                "--output",
                &output,
                "--master",
                "local[3]",
            ],
        );
        let expected = psql(&url, &reference);
        let got = parquet_rows(&output, &["region", "orders", "units", "revenue_cents"]);
        assert_eq!(got, expected, "{rows} rows in {partitions} partitions");
        let orders: i64 = expected.iter().map(|r| r[1].parse::<i64>().unwrap()).sum();
        assert!(
            stdout.contains(&format!(
                "wrote {} regions ({orders} sales not refunded)",
                expected.len()
            )),
            "{stdout}"
        );
        if rows == 2000 {
            assert_eq!(expected.len(), 5, "every demo region has sales");
            assert!(expected.iter().any(|r| r[0] == "東京"), "{expected:?}");
        }
    }
    psql(&url, &format!("DROP TABLE {table}"));
}

#[test]
fn basic_etl_refuses_an_earlier_output_unless_told_to_overwrite_it() {
    let url = env("BARKS_TEST_PG_URL", "pg");
    s3_env();
    let table = unique("etl_sales");
    let output = format!("s3://{BUCKET}/{table}/out");
    let args = [
        "--pg-url", &url, "--table", &table, "--rows", "50", "--output", &output,
    ];
    run_ok(BASIC_ETL, &[&["--setup"], &args[..]].concat());
    let again = run(BASIC_ETL, &args);
    assert!(!again.status.success());
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(err.contains(&output), "the error names the output: {err}");
    run_ok(BASIC_ETL, &[&["--overwrite"], &args[..]].concat());
    let expected = psql(
        &url,
        &format!("SELECT region, count(*) FROM {table} WHERE NOT refunded GROUP BY region"),
    );
    assert_eq!(parquet_rows(&output, &["region", "orders"]), expected);
    psql(&url, &format!("DROP TABLE {table}"));
}

#[test]
fn basic_etl_names_a_missing_table() {
    let url = env("BARKS_TEST_PG_URL", "pg");
    s3_env();
    let table = unique("etl_missing");
    let output = format!("s3://{BUCKET}/{table}/out");
    let out = run(
        BASIC_ETL,
        &["--pg-url", &url, "--table", &table, "--output", &output],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&table), "the error names the table: {err}");
}

/// Per page: (views, referred views, total duration) of the views that are
/// not by bots, summed in a plain loop over the documents the driver reads.
fn page_totals_by_driver(url: &str, db: &str, coll: &str) -> BTreeMap<String, (i64, i64, i64)> {
    use mongodb::bson::Document;
    let client = mongodb::sync::Client::with_uri_str(url).expect("the MongoDB URL");
    let docs = client
        .database(db)
        .collection::<Document>(coll)
        .find(Document::new())
        .run()
        .unwrap();
    let mut totals = BTreeMap::new();
    for doc in docs {
        let doc = doc.unwrap();
        if doc.get_bool("bot").unwrap() {
            continue;
        }
        let t = totals
            .entry(doc.get_str("page").unwrap().to_string())
            .or_insert((0, 0, 0));
        t.0 += 1;
        t.1 += i64::from(doc.contains_key("referrer"));
        t.2 += doc.get_i64("duration_ms").unwrap();
    }
    client.database(db).drop().run().unwrap();
    totals
}

#[test]
fn mongodb_to_s3_writes_the_views_per_page_as_parquet_on_s3() {
    let url = env("BARKS_TEST_MONGO_URL", "mongo");
    s3_env();
    for (rows, partitions) in [(3000, 1), (3000, 5), (0, 3), (1, 2)] {
        let db = unique("etl_views");
        let output = format!("s3://{BUCKET}/{db}/out");
        let stdout = run_ok(
            MONGODB_TO_S3,
            &[
                "--setup",
                "--mongo-url",
                &url,
                "--db",
                &db,
                "--rows",
                &rows.to_string(),
                "--partitions",
                &partitions.to_string(),
                "--output",
                &output,
                "--master",
                "local[3]",
            ],
        );
        let got = parquet_rows(
            &output,
            &[
                "page",
                "views",
                "referred_views",
                "total_duration_ms",
                "total_seconds",
            ],
        );
        let mut expected: Vec<Vec<String>> = page_totals_by_driver(&url, &db, "page_views")
            .into_iter()
            .map(|(page, (views, referred, ms))| {
                vec![
                    page,
                    views.to_string(),
                    referred.to_string(),
                    ms.to_string(),
                    (ms / 1000).to_string(),
                ]
            })
            .collect();
        expected.sort();
        assert_eq!(got, expected, "{rows} documents in {partitions} partitions");
        let views: i64 = expected.iter().map(|r| r[1].parse::<i64>().unwrap()).sum();
        assert!(
            stdout.contains(&format!(
                "wrote {} pages ({views} views by people)",
                expected.len()
            )),
            "{stdout}"
        );
        if rows == 3000 {
            assert_eq!(expected.len(), 4, "every demo page has views");
        }
    }
}

#[test]
fn mongodb_to_s3_setup_can_run_twice() {
    let url = env("BARKS_TEST_MONGO_URL", "mongo");
    s3_env();
    let db = unique("etl_views");
    let output = format!("s3://{BUCKET}/{db}/out");
    let args = [
        "--setup",
        "--mongo-url",
        &url,
        "--db",
        &db,
        "--rows",
        "200",
        "--output",
        &output,
    ];
    run_ok(MONGODB_TO_S3, &args);
    let second = run_ok(MONGODB_TO_S3, &[&args[..], &["--overwrite"]].concat());
    let totals = page_totals_by_driver(&url, &db, "page_views");
    let views: i64 = totals.values().map(|t| t.0).sum();
    assert!(
        second.contains(&format!("({views} views by people)")),
        "{second}"
    );
    let got: i64 = parquet_rows(&output, &["views"])
        .iter()
        .map(|r| r[0].parse::<i64>().unwrap())
        .sum();
    assert_eq!(got, views, "the second setup inserted nothing twice");
}
