//! Checks the TPC-H harness itself, without barks: plain DataFusion runs the
//! 22 queries over the generated Parquet files and every result must match
//! DuckDB's answer. A failure here is in the queries, the data or the
//! reference, not in barks-sql.

use crate::reference;

use datafusion::prelude::{ParquetReadOptions, SessionContext};

#[test]
fn tpch_queries_on_plain_datafusion_match_duckdb() {
    let dir = reference::data_dir();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");

    let failures: Vec<String> = rt.block_on(async {
        let ctx = SessionContext::new();
        for (table, path) in reference::table_paths(&dir) {
            let path = path
                .to_str()
                .unwrap_or_else(|| panic!("non-UTF-8 path {}", path.display()));
            ctx.register_parquet(table, path, ParquetReadOptions::default())
                .await
                .unwrap_or_else(|e| panic!("register {table} from {path}: {e}"));
        }
        let mut failures = Vec::new();
        for n in 1..=reference::NUM_QUERIES {
            let result = match ctx.sql(&reference::query(n)).await {
                Ok(df) => df.collect().await,
                Err(e) => Err(e),
            };
            let outcome = match result {
                Ok(batches) => reference::check_answer(n, &batches, &dir),
                Err(e) => Err(format!("q{n}: DataFusion failed: {e}")),
            };
            if let Err(e) = outcome {
                failures.push(e);
            }
        }
        failures
    });

    assert!(
        failures.is_empty(),
        "{} of {} TPC-H queries failed:\n{}",
        failures.len(),
        reference::NUM_QUERIES,
        failures.join("\n")
    );
}
