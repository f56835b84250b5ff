//! SQL within barks' execution memory budget: DataFusion's sorts and
//! aggregations reserve from the task's share of the budget and spill into
//! the run's spill directory when it runs out. Under a small budget the
//! answers equal those without a budget, spilling shows in the job's
//! metrics, and no spill file is left behind.

use crate::sort::{Row, rows, write};
use barks_runtime::memory::{MemoryMetrics, MemoryOptions};
use barks_sql::Session;
use barks_sql::datafusion::arrow::record_batch::RecordBatch;
use std::path::Path;

/// The files under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

fn session(master: &str, budget: u64, spill: &Path, table: &Path) -> Session {
    let session = Session::builder(master)
        .shuffle_partitions(3)
        .context(|c| {
            c.memory(budget)
                .spill_dir(spill)
                .worker_memory(MemoryOptions {
                    memory: budget,
                    spill_dir: spill.to_path_buf(),
                })
        })
        .build()
        .unwrap();
    session
        .read()
        .parquet(table.to_str().unwrap())
        .unwrap()
        .create_or_replace_temp_view("t")
        .unwrap();
    session
}

/// The rows of `batches` as sorted lines, for comparing answers whose
/// order is not defined.
fn lines(batches: &[RecordBatch]) -> Vec<String> {
    let mut out: Vec<String> =
        barks_sql::datafusion::arrow::util::pretty::pretty_format_batches(batches)
            .unwrap()
            .to_string()
            .lines()
            .filter(|l| l.starts_with("| "))
            .skip(1)
            .map(str::to_string)
            .collect();
    out.sort();
    out
}

const QUERIES: [&str; 3] = [
    // A hash aggregation with many groups.
    "SELECT s, k, COUNT(*) AS n, SUM(x) AS total FROM t GROUP BY s, k",
    // A sort inside each partition (a window), not at the result.
    "SELECT k, x, ROW_NUMBER() OVER (PARTITION BY k ORDER BY x DESC) AS r FROM t",
    // Distinct values over a string.
    "SELECT DISTINCT s, CAST(x AS BIGINT) % 1000 AS m FROM t",
];

fn answers_match_under_a_small_budget(master: &str) {
    let input: Vec<Row> = rows(600_000);
    let table = tempfile::tempdir().unwrap();
    write(table.path(), &input, 4);
    let spill = tempfile::tempdir().unwrap();
    let roomy = session(master, u64::MAX, spill.path(), table.path());
    let small = session(master, 16 << 20, spill.path(), table.path());
    let mut spilled = 0;
    for q in QUERIES {
        let expected = lines(&roomy.sql(q).unwrap().collect().unwrap());
        let got = small
            .sql(q)
            .and_then(|df| df.collect())
            .unwrap_or_else(|e| panic!("{master}: {q}: {e}"));
        spilled += MemoryMetrics::last_job().spilled_bytes;
        assert_eq!(lines(&got), expected, "{master}: {q}");
    }
    assert!(spilled > 0, "{master}: nothing spilled under 16 MiB");
    drop((roomy, small));
    let start = std::time::Instant::now();
    while !files_under(spill.path()).is_empty() {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "{master}: spill files left: {:?}",
            files_under(spill.path())
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn sql_under_a_small_budget_spills_and_answers_the_same_locally() {
    answers_match_under_a_small_budget("local[2]");
}

#[test]
fn sql_under_a_small_budget_spills_and_answers_the_same_on_a_local_cluster() {
    answers_match_under_a_small_budget("local-cluster[2]");
}
