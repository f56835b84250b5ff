//! CSV → Parquet with a schema and a bad-record mode.
//!
//! - `csv_to_parquet` converts an embedded small CSV (with three bad rows)
//!   into a temporary directory and prints what it wrote;
//! - `csv_to_parquet --input PATH --output DIR [--mode failfast|drop|permissive]`
//!   converts CSV files (a file, a directory or a glob; `.gz`/`.zst` too).
//!
//! Rows are typed by the `Trade` struct. `failfast` (the default) stops at
//! the first bad row with its file, line and field; `drop` skips bad rows and
//! prints how many; `permissive` keeps them, Spark-style: every column
//! nullable plus a `_corrupt_record` column holding the raw line.

use barks::io::{BadRecord, dropped_records};
use barks::prelude::*;
use examples::cli::{Args, Help};
use std::process::ExitCode;

const EMBEDDED: &str = include_str!("../../data/trades.csv");

const HELP: Help = Help {
    usage: "csv_to_parquet [--input PATH --output DIR] [--mode failfast|drop|permissive]
        [--master URL]",
    about: "Converts CSV rows of trades (trade_id, symbol, price, qty, trader) to Parquet. \
        Without --input and --output it converts an embedded small CSV with three bad rows \
        into a temporary directory, in every mode (or the one --mode names), and prints what \
        it wrote.",
    flags: &[
        (
            "--input PATH",
            "the CSV: a file, a directory or a glob; .gz and .zst too (with --output)",
        ),
        ("--output DIR", "where the Parquet files go (with --input)"),
        (
            "--mode MODE",
            "what a bad row does: failfast stops at the first with its file, line and field; \
             drop skips them and prints how many; permissive keeps them, every column \
             nullable plus a _corrupt_record column with the raw line (default failfast)",
        ),
    ],
    env: &[],
    runs_jobs: true,
};

/// The schema: one trade per CSV row.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Trade {
    trade_id: u64,
    symbol: String,
    price: f64,
    qty: Option<u32>,
    trader: String,
}

/// A row of the permissive output: a parsed trade, or only the raw text.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct TradeOrCorrupt {
    trade_id: Option<u64>,
    symbol: Option<String>,
    price: Option<f64>,
    qty: Option<u32>,
    trader: Option<String>,
    _corrupt_record: Option<String>,
}

impl From<Result<Trade, BadRecord>> for TradeOrCorrupt {
    fn from(row: Result<Trade, BadRecord>) -> Self {
        match row {
            Ok(t) => TradeOrCorrupt {
                trade_id: Some(t.trade_id),
                symbol: Some(t.symbol),
                price: Some(t.price),
                qty: t.qty,
                trader: Some(t.trader),
                _corrupt_record: None,
            },
            Err(bad) => TradeOrCorrupt {
                trade_id: None,
                symbol: None,
                price: None,
                qty: None,
                trader: None,
                _corrupt_record: Some(bad.raw),
            },
        }
    }
}

#[barks::job]
fn convert(input: String, output: String, mode: BadRecordMode) -> () {
    pipeline! {
        let trades = csv_file(input, CsvOptions::new().mode(mode));
        trades
            .map(|t: Trade| Trade { symbol: t.symbol.to_uppercase(), ..t })
            .save_as_parquet(output, ParquetWriteOptions::new().compression(ParquetCompression::Zstd))
    }
}

#[barks::job]
fn convert_permissive(input: String, output: String) -> () {
    pipeline! {
        let rows = csv_file_permissive(input, CsvOptions::new());
        rows.map(|r: Result<Trade, BadRecord>| TradeOrCorrupt::from(r))
            .save_as_parquet(output, ParquetWriteOptions::new().compression(ParquetCompression::Zstd))
    }
}

#[barks::job]
fn summary(output: String) -> (u64, u64) {
    pipeline! {
        let rows = parquet_file(output, ParquetOptions::new());
        rows.map(|r: TradeOrCorrupt| (1u64, u64::from(r._corrupt_record.is_some())))
            .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
    }
}

/// Converts `input` into `output` in `mode`; returns what to print.
fn convert_with(ctx: &Context, mode: &str, input: &str, output: &str) -> barks::Result<String> {
    let (input, output) = (input.to_string(), output.to_string());
    Ok(match mode {
        "drop" => {
            ctx.run_job(convert(
                input.clone(),
                output.clone(),
                BadRecordMode::DropMalformed,
            ))?;
            format!(
                "wrote {output}, dropped {} malformed rows",
                dropped_records(&input)
            )
        }
        "permissive" => {
            ctx.run_job(convert_permissive(input, output.clone()))?;
            let (rows, corrupt) = ctx.run_job(summary(output.clone()))?;
            format!("wrote {rows} rows ({corrupt} with _corrupt_record) to {output}")
        }
        _ => {
            ctx.run_job(convert(input, output.clone(), BadRecordMode::FailFast))?;
            format!("wrote {output}")
        }
    })
}

fn main() -> ExitCode {
    let run = || -> Result<(), Box<dyn std::error::Error>> {
        let args = Args::from_env(&[], &HELP)?;
        let ctx = Context::new(&args.master())?;
        let mode = args.get("mode");
        if let Some(m) = mode
            && !["failfast", "drop", "permissive"].contains(&m)
        {
            return Err(format!("unknown --mode {m}: use failfast, drop or permissive").into());
        }
        match (args.get("input"), args.get("output")) {
            (Some(input), Some(output)) => {
                println!(
                    "{}",
                    convert_with(&ctx, mode.unwrap_or("failfast"), input, output)?
                );
            }
            (None, None) => {
                // The embedded demo: every mode (or the one asked for) on a
                // small CSV with three bad rows.
                let dir =
                    std::env::temp_dir().join(format!("csv_to_parquet-{}", std::process::id()));
                std::fs::create_dir_all(&dir)?;
                let input = dir.join("trades.csv");
                std::fs::write(&input, EMBEDDED)?;
                let modes = mode.map_or(vec!["failfast", "drop", "permissive"], |m| vec![m]);
                for m in modes {
                    let output = dir.join(format!("trades-{m}.parquet"));
                    let _ = std::fs::remove_dir_all(&output);
                    match convert_with(
                        &ctx,
                        m,
                        &input.display().to_string(),
                        &output.display().to_string(),
                    ) {
                        Ok(done) => println!("{m}: {done}"),
                        Err(e) => println!("{m}: the job failed: {e}"),
                    }
                }
            }
            _ => return Err("give both --input and --output, or neither".into()),
        }
        Ok(())
    };
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("csv_to_parquet: {e}");
            ExitCode::FAILURE
        }
    }
}
