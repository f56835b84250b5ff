//! PostgreSQL → transform → Parquet on S3.
//!
//! ```sh
//! basic_etl --setup --output s3://barks-examples/sales-by-region
//! ```
//!
//! Reads the `sales` table in `--partitions` parallel ranges of `id`, drops
//! refunded sales, computes each sale's revenue (quantity × unit price less
//! the discount) and writes the totals per region as Parquet to `--output`
//! (`s3://bucket/prefix` or a local directory). Then it reads the output
//! back and prints what it wrote.
//!
//! Flags: `--pg-url URL` (default: `BARKS_PG_URL`, else `BARKS_TEST_PG_URL`),
//! `--table NAME` (default `sales`), `--output DIR` (default
//! `s3://barks-examples/sales-by-region`), `--partitions N` (default 4),
//! `--master URL`, `--overwrite` (replace an earlier output), `--setup`
//! (create and fill the table with `--rows N` demo sales, default 100 000,
//! and create the output's bucket).

use barks::prelude::*;
use examples::cli::{Args, Help};
use examples::etl::output::{prepare_output, url_from_env};
use examples::etl::sales::{region_totals_summary, sales_by_region, setup_sales_table};
use std::process::ExitCode;

const HELP: Help = Help {
    usage: "basic_etl [--setup [--rows N]] [--overwrite] [--pg-url URL] [--table NAME]
        [--output DIR] [--partitions N] [--master URL]",
    about: "PostgreSQL -> transform -> Parquet: reads the sales table in parallel ranges of id, \
        drops refunded sales, sums each region's revenue and writes the totals as Parquet to \
        --output (s3://bucket/prefix or a local directory), then reads them back and prints \
        what it wrote.",
    flags: &[
        (
            "--pg-url URL",
            "the PostgreSQL database (default: BARKS_PG_URL, else BARKS_TEST_PG_URL)",
        ),
        ("--table NAME", "the sales table (default sales)"),
        (
            "--output DIR",
            "where the Parquet files go (default s3://barks-examples/sales-by-region)",
        ),
        (
            "--partitions N",
            "how many ranges of id are read in parallel (default 4)",
        ),
        (
            "--setup",
            "first create the table and fill it with --rows demo sales, and create the \
             output's bucket",
        ),
        (
            "--rows N",
            "how many demo sales --setup writes (default 100000)",
        ),
        ("--overwrite", "remove an earlier output first"),
    ],
    env: &[
        (
            "BARKS_PG_URL, BARKS_TEST_PG_URL",
            "the database when --pg-url is not given",
        ),
        (
            "BARKS_S3_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, ...",
            "the S3 settings of an s3:// output, as for every s3:// path (see the README's \
             Configuration)",
        ),
    ],
    runs_jobs: true,
};

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::from_env(&["setup", "overwrite"], &HELP)?;
    let url = match args.get("pg-url") {
        Some(u) => u.to_string(),
        None => url_from_env("pg-url", &["BARKS_PG_URL", "BARKS_TEST_PG_URL"])?,
    };
    let table = args.get("table").unwrap_or("sales").to_string();
    let output = args
        .get("output")
        .unwrap_or("s3://barks-examples/sales-by-region")
        .to_string();
    let rows: i64 = args.get_or("rows", 100_000)?;
    let partitions: usize = args.get_or("partitions", 4)?;
    let ctx = Context::new(&args.master())?;

    if args.has("setup") {
        setup_sales_table(&ctx, &url, &table, rows)?;
        println!("setup: wrote {rows} demo sales into table {table}");
    }
    prepare_output(&output, args.has("setup"), args.has("overwrite"))?;

    // The ids of the demo data are 0..rows; rows outside the bounds are read
    // too (by the first or last partition), the bounds only set the stride.
    let read = SqlRead::table(&url, &table).partition_on("id", 0, rows, partitions);
    ctx.run_job(sales_by_region(read, output.clone()))?;
    let (regions, orders) = ctx.run_job(region_totals_summary(output.clone()))?;
    println!("wrote {regions} regions ({orders} sales not refunded) as Parquet to {output}");
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("basic_etl: {e}");
            ExitCode::FAILURE
        }
    }
}
