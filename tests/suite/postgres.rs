//! PostgreSQL inside `pipeline!`: a job reads a table in partitions,
//! aggregates it and writes the result into another table. The tables are
//! set up and checked with `psql`, independently of the connector
//! (`eval "$(scripts/services/pg.sh)"` sets `BARKS_TEST_PG_URL`).
#![cfg(feature = "postgres")]

use barks::prelude::*;
use std::process::Command;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Sale {
    id: i64,
    region: String,
    amount: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Total {
    region: String,
    total: f64,
    sales: i64,
}

#[barks::job]
fn regional_totals(sales: SqlRead, totals: SqlWrite) -> () {
    pipeline! {
        let rows = read_postgres(sales);
        let per_region = rows
            .map(|s: Sale| (s.region, (s.amount, 1i64)))
            .reduce_by_key(|a, b| (a.0 + b.0, a.1 + b.1))
            .map(|(region, (total, sales))| Total { region, total, sales });
        per_region.save_to_postgres(totals)
    }
}

#[barks::job]
fn big_sale_ids(sales: SqlRead, threshold: f64) -> Vec<i64> {
    pipeline! {
        let rows = read_postgres(sales);
        rows.filter(move |s: &Sale| s.amount > threshold).map(|s: Sale| s.id).collect()
    }
}

fn url() -> String {
    std::env::var("BARKS_TEST_PG_URL").unwrap_or_else(|_| {
        panic!("BARKS_TEST_PG_URL is not set: run `eval \"$(scripts/services/pg.sh)\"` first")
    })
}

/// Runs `sql` with psql and returns its unaligned output.
fn psql(sql: &str) -> String {
    let out = Command::new("psql")
        .args([
            url().as_str(),
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            sql,
        ])
        .output()
        .expect("psql runs");
    assert!(
        out.status.success(),
        "psql: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn a_job_reads_aggregates_and_writes_postgres_tables() {
    let (sales, totals) = (
        format!("barks_job_sales_{}", std::process::id()),
        format!("barks_job_totals_{}", std::process::id()),
    );
    psql(&format!(
        "DROP TABLE IF EXISTS {sales}, {totals}; \
         CREATE TABLE {sales} (id bigint, region text, amount double precision); \
         INSERT INTO {sales} SELECT g, (ARRAY['north', 'süd', '東'])[1 + g % 3], g * 0.25 \
           FROM generate_series(1, 5000) g; \
         CREATE TABLE {totals} (region text PRIMARY KEY, total double precision, sales bigint)"
    ));
    let read = SqlRead::table(url(), &sales).partition_on("id", 1, 5000, 6);
    for master in ["local[1]", "local[4]"] {
        psql(&format!("TRUNCATE {totals}"));
        regional_totals(read.clone(), SqlWrite::table(url(), &totals))
            .run_on(master)
            .unwrap();
        let expected = psql(&format!(
            "SELECT region, sum(amount), count(*) FROM {sales} GROUP BY region ORDER BY region"
        ));
        let got = psql(&format!(
            "SELECT region, total, sales FROM {totals} ORDER BY region"
        ));
        assert_eq!(got, expected, "{master}");
    }

    let mut ids = big_sale_ids(read, 1200.0).run_on("local[3]").unwrap();
    ids.sort();
    let expected: Vec<i64> = psql(&format!(
        "SELECT id FROM {sales} WHERE amount > 1200 ORDER BY id"
    ))
    .lines()
    .map(|l| l.parse().unwrap())
    .collect();
    assert_eq!(ids.len(), 5000 - 4800);
    assert_eq!(ids, expected);
    psql(&format!("DROP TABLE {sales}, {totals}"));
}
