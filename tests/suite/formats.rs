//! CSV, JSON lines and Parquet inside `#[barks::job]` pipelines: the sources
//! infer their row type from how the pipeline uses it, and the sinks are
//! pipeline actions. (Format details are tested in barks-io/tests/.)
#![cfg(feature = "parquet")]

use barks::prelude::*;
use std::fs;
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Trade {
    symbol: String,
    price: f64,
    qty: Option<u32>,
}

fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return vec![];
    };
    entries
        .flatten()
        .flat_map(|e| {
            let p = e.path();
            if p.is_dir() { walk(&p) } else { vec![p] }
        })
        .collect()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("barks-formats-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

#[barks::job]
fn csv_to_parquet_job(input: String, output: String, mode: BadRecordMode) -> () {
    pipeline! {
        let trades = csv_file(input, CsvOptions::new().mode(mode).min_partitions(3));
        let big = trades.filter(|t: &Trade| t.price >= 10.0);
        big.save_as_parquet(output, ParquetWriteOptions::new())
    }
}

#[barks::job]
fn parquet_total(input: String, threshold: f64) -> Vec<(String, u32)> {
    pipeline! {
        let trades = parquet_file(input, ParquetOptions::new().predicate(col("price").ge(threshold)));
        let qty = trades
            .filter(move |t: &Trade| t.price >= threshold)
            .map(|t: Trade| (t.symbol, t.qty.unwrap_or(0)))
            .reduce_by_key(|a, b| a + b);
        qty.sort_by_key(true).collect()
    }
}

#[barks::job]
fn bad_rows(input: String) -> Vec<(u64, String)> {
    pipeline! {
        let rows = csv_file_permissive(input, CsvOptions::new());
        let bad = rows.filter_map(|r: Result<Trade, BadRecord>| r.err()).map(|b| (b.line, b.raw));
        bad.collect()
    }
}

#[barks::job]
fn json_round_trip(input: String, output: String) -> () {
    pipeline! {
        let trades = json_file(input, JsonOptions::new());
        trades.map(|t: Trade| Trade { price: t.price * 2.0, ..t }).save_as_json(output)
    }
}

#[barks::job]
fn read_json(input: String) -> Vec<Trade> {
    pipeline! {
        let trades = json_file(input, JsonOptions::new().min_partitions(2));
        trades.filter(|_t: &Trade| true).collect()
    }
}

const CSV: &str = "symbol,price,qty\r\nACME,12.5,10\r\nÜBER,9.5,\r\nACME,20,5\r\nBAD,notanumber,1\r\n日本,15.25,\r\n";

#[test]
fn csv_to_parquet_in_a_pipeline() {
    let dir = temp_dir("csv-parquet");
    let input = dir.join("trades.csv");
    fs::write(&input, CSV).unwrap();
    let input = input.display().to_string();
    let out = dir.join("out").display().to_string();

    let err = csv_to_parquet_job(input.clone(), out.clone(), BadRecordMode::FailFast)
        .run_on("local[2]")
        .unwrap_err()
        .to_string();
    assert!(err.contains("line 5") && err.contains("`price`"), "{err}");
    let left: Vec<_> = walk(&dir.join("out"));
    assert!(left.is_empty(), "a failed job leaves no output: {left:?}");

    csv_to_parquet_job(input.clone(), out.clone(), BadRecordMode::DropMalformed)
        .run_on("local[2]")
        .unwrap();
    assert_eq!(barks::io::dropped_records(&input), 1);
    assert!(dir.join("out/_SUCCESS").exists());

    let totals = parquet_total(out.clone(), 0.0).run_on("local[2]").unwrap();
    assert_eq!(
        totals,
        vec![("ACME".to_string(), 15), ("日本".to_string(), 0)]
    );
    let totals = parquet_total(out, 16.0).run_on("local[2]").unwrap();
    assert_eq!(totals, vec![("ACME".to_string(), 5)]);

    let bad = bad_rows(input).run_on("local[2]").unwrap();
    assert_eq!(bad, vec![(5, "BAD,notanumber,1".to_string())]);
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn json_lines_in_a_pipeline() {
    let dir = temp_dir("json");
    let input = dir.join("in.json");
    fs::write(
        &input,
        "{\"symbol\":\"A\",\"price\":1.5,\"qty\":null}\n{\"symbol\":\"🦀\",\"price\":2.0,\"qty\":3}\n",
    )
    .unwrap();
    let out = dir.join("out").display().to_string();
    json_round_trip(input.display().to_string(), out.clone())
        .run_on("local[2]")
        .unwrap();
    let back = read_json(out).run_on("local[2]").unwrap();
    assert_eq!(
        back,
        vec![
            Trade {
                symbol: "A".into(),
                price: 3.0,
                qty: None
            },
            Trade {
                symbol: "🦀".into(),
                price: 4.0,
                qty: Some(3)
            },
        ]
    );
    fs::remove_dir_all(dir).unwrap();
}
