//! SQL and DataFrames on barks (feature `sql`): DataFusion parses, plans
//! and optimizes, barks runs the plan as stages of tasks and shuffles.
//!
//! - `sql_queries` writes 10,000 generated sales rows to a Parquet file of
//!   its own (with SQL: `generate_series` and `df.write()`), then queries it;
//! - `sql_queries --data PATH` queries your Parquet file, directory or glob
//!   with the columns `region` (string), `quantity` and `price_cents`
//!   (integers);
//! - `--output DIR` keeps the result's Parquet files in `DIR` (by default
//!   they go to a temporary directory, removed at the end).
//!
//! The steps: register the Parquet data as the view `sales`; run a SQL
//! query (revenue per region of the orders of two units or more) and
//! `show` its rows; build the same query with the DataFrame API and check
//! it returns the same rows; write the result as Parquet with
//! `write().mode("overwrite")` and read it back.
//! `--master local[N]` (or `BARKS_MASTER`) picks where the queries run.

use barks::sql::expr::{col, count, lit, sum};
use barks::sql::{DataFrame, Session};
use examples::cli::{Args, Help};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const HELP: Help = Help {
    usage: "sql_queries [--data PATH] [--output DIR] [--master URL]",
    about: "Runs a SQL query and the same query written with the DataFrame API over Parquet \
        sales data, shows the result, and writes it as Parquet files.",
    flags: &[
        (
            "--data PATH",
            "a Parquet file, directory or glob with the columns region (string), quantity and \
             price_cents (integers) (default: 10,000 generated rows, written to a temporary \
             directory first)",
        ),
        (
            "--output DIR",
            "where to write the result's Parquet files, replacing what is there (default: a \
             temporary directory, removed at the end)",
        ),
    ],
    env: &[],
    runs_jobs: true,
};

/// The generated sales: 10,000 orders spread over four regions, 1 to 3
/// units each, priced from 1.00 to 9.99.
const GENERATE: &str = "
    SELECT
        value AS order_id,
        CASE value % 4 WHEN 0 THEN 'north' WHEN 1 THEN 'east' WHEN 2 THEN 'south' ELSE 'west' END
            AS region,
        1 + value % 3 AS quantity,
        100 + (value * 37) % 900 AS price_cents
    FROM generate_series(1, 10000)";

/// The query: units and revenue per region, for orders of two units or more.
const QUERY: &str = "
    SELECT region, count(*) AS orders, sum(quantity) AS units,
           sum(quantity * price_cents) AS revenue_cents
    FROM sales
    WHERE quantity >= 2
    GROUP BY region
    ORDER BY revenue_cents DESC";

/// A directory of this process under the system's temporary directory,
/// removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> std::io::Result<TempDir> {
        let dir = std::env::temp_dir().join(format!("barks-sql_queries-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        Ok(TempDir(dir))
    }

    /// `name` inside the directory, as a string for the reader and writer.
    fn path(&self, name: &str) -> Result<String, String> {
        utf8(&self.0.join(name))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `n row` or `n rows`.
fn rows(n: u64) -> String {
    format!("{n} row{}", if n == 1 { "" } else { "s" })
}

fn utf8(path: &Path) -> Result<String, String> {
    path.to_str()
        .map(str::to_string)
        .ok_or_else(|| format!("{} is not UTF-8", path.display()))
}

/// The query of [`QUERY`] with the DataFrame API.
fn revenue_per_region(sales: DataFrame) -> barks::Result<DataFrame> {
    sales
        .filter(col("quantity").gt_eq(lit(2)))?
        .group_by(vec![col("region")])
        .agg(vec![
            count(lit(1)).alias("orders"),
            sum(col("quantity")).alias("units"),
            sum(col("quantity") * col("price_cents")).alias("revenue_cents"),
        ])?
        .order_by(vec![col("revenue_cents").sort(false, true)])
}

/// Every row of `df`, as a table (to compare two results).
fn all_rows(df: &DataFrame) -> barks::Result<String> {
    let batches = df.collect()?;
    Ok(barks::sql::show_string(
        &df.schema(),
        &batches,
        usize::MAX,
        false,
    ))
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::from_env(&[], &HELP)?;
    let master = args.master();
    let session = Session::builder(&master).build()?;
    let temp = TempDir::new()?;
    println!("SQL on barks, master {master}");

    // The data: Parquet, registered as the view `sales`.
    let data = match args.get("data") {
        Some(path) => path.to_string(),
        None => {
            let path = temp.path("sales")?;
            session.sql(GENERATE)?.write().parquet(&path)?;
            println!("\ngenerated 10000 sales rows into {path} (Parquet)");
            path
        }
    };
    let sales = session.read().parquet(&data)?;
    sales.create_or_replace_temp_view("sales")?;
    println!(
        "registered {data} as the view `sales`: {}",
        rows(sales.count()?)
    );

    // 1. A SQL query.
    println!("\n1. SQL:{QUERY}");
    let by_sql = session.sql(QUERY)?;
    by_sql.show(20)?;
    println!();

    // 2. The same query with the DataFrame API.
    let by_api = revenue_per_region(session.table("sales")?)?;
    let expected = all_rows(&by_sql)?;
    if expected != all_rows(&by_api)? {
        return Err(format!(
            "the DataFrame API gave other rows than SQL:\n{}",
            all_rows(&by_api)?
        )
        .into());
    }
    println!(
        "2. The DataFrame API (filter, group_by, agg, order_by) gives the same {}",
        rows(by_api.count()?)
    );
    println!();

    // SQL inside an RDD pipeline: `pipeline!` is getting a `sql(...)`
    // step, so that a query's rows flow into RDD operators (and back) in
    // one job. Its example goes here, between the queries and the write.

    // 3. The result, written as Parquet files and read back.
    let output = match args.get("output") {
        Some(dir) => dir.to_string(),
        None => temp.path("revenue")?,
    };
    by_sql.write().mode("overwrite").parquet(&output)?;
    let written = session.read().parquet(&output)?.count()?;
    println!(
        "3. Wrote {} to {output} (Parquet, committed with _SUCCESS)",
        rows(written)
    );
    if args.get("output").is_none() {
        println!("   (a temporary directory, removed now; --output DIR keeps them)");
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sql_queries: {e}");
            ExitCode::FAILURE
        }
    }
}
