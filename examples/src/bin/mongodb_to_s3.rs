//! MongoDB → transform → Parquet on S3.
//!
//! ```sh
//! mongodb_to_s3 --setup --output s3://barks-examples/views-by-page
//! ```
//!
//! Reads the `page_views` collection in `--partitions` ranges of `_id` of
//! about equal size, drops views by bots and writes the views, referred
//! views and view time per page as Parquet to `--output` (`s3://bucket/prefix`
//! or a local directory). Then it reads the output back and prints what it
//! wrote.
//!
//! Flags: `--mongo-url URL` (default: `BARKS_MONGO_URL`, else
//! `BARKS_TEST_MONGO_URL`), `--db NAME` (default `barks_examples`),
//! `--collection NAME` (default `page_views`), `--output DIR` (default
//! `s3://barks-examples/views-by-page`), `--partitions N` (default 4),
//! `--master URL`, `--overwrite` (replace an earlier output), `--setup`
//! (insert `--rows N` demo views, default 100 000, with `_id`s `0..N`;
//! existing `_id`s are kept, so it can run again; and create the output's
//! bucket).

use barks::prelude::*;
use examples::cli::{Args, Help};
use examples::etl::output::{prepare_output, url_from_env};
use examples::etl::page_views::{page_totals_summary, views_by_page, write_demo_views};
use std::process::ExitCode;

const HELP: Help = Help {
    usage: "mongodb_to_s3 [--setup [--rows N]] [--overwrite] [--mongo-url URL] [--db NAME]
        [--collection NAME] [--output DIR] [--partitions N] [--master URL]",
    about: "MongoDB -> transform -> Parquet: reads the page_views collection in ranges of _id \
        of about equal size, drops views by bots and writes the views, referred views and view \
        time per page as Parquet to --output (s3://bucket/prefix or a local directory), then \
        reads them back and prints what it wrote.",
    flags: &[
        (
            "--mongo-url URL",
            "the MongoDB server (default: BARKS_MONGO_URL, else BARKS_TEST_MONGO_URL)",
        ),
        ("--db NAME", "the database (default barks_examples)"),
        ("--collection NAME", "the collection (default page_views)"),
        (
            "--output DIR",
            "where the Parquet files go (default s3://barks-examples/views-by-page)",
        ),
        (
            "--partitions N",
            "how many ranges of _id are read in parallel (default 4)",
        ),
        (
            "--setup",
            "first insert --rows demo views with _ids 0..N (existing _ids are kept, so it can \
             run again), and create the output's bucket",
        ),
        (
            "--rows N",
            "how many demo views --setup inserts (default 100000)",
        ),
        ("--overwrite", "remove an earlier output first"),
    ],
    env: &[
        (
            "BARKS_MONGO_URL, BARKS_TEST_MONGO_URL",
            "the server when --mongo-url is not given",
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
    let url = match args.get("mongo-url") {
        Some(u) => u.to_string(),
        None => url_from_env("mongo-url", &["BARKS_MONGO_URL", "BARKS_TEST_MONGO_URL"])?,
    };
    let db = args.get("db").unwrap_or("barks_examples").to_string();
    let collection = args.get("collection").unwrap_or("page_views").to_string();
    let output = args
        .get("output")
        .unwrap_or("s3://barks-examples/views-by-page")
        .to_string();
    let rows: i64 = args.get_or("rows", 100_000)?;
    let partitions: usize = args.get_or("partitions", 4)?;
    let ctx = Context::new(&args.master())?;

    if args.has("setup") {
        let write = MongoWrite::collection(&url, &db, &collection).ignore_duplicate_ids(true);
        ctx.run_job(write_demo_views(write, rows, 4))?;
        println!("setup: inserted demo views with _id 0..{rows} into {db}.{collection}");
    }
    prepare_output(&output, args.has("setup"), args.has("overwrite"))?;

    let read = MongoRead::collection(&url, &db, &collection).split_evenly("_id", partitions);
    ctx.run_job(views_by_page(read, output.clone()))?;
    let (pages, views) = ctx.run_job(page_totals_summary(output.clone()))?;
    println!("wrote {pages} pages ({views} views by people) as Parquet to {output}");
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mongodb_to_s3: {e}");
            ExitCode::FAILURE
        }
    }
}
