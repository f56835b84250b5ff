//! Queries on `local-cluster`: the work runs in the workers' tasks, the plan
//! crosses the wire as data, functions resolve from each process's own
//! link-time registry.

use barks_sql::Session;
use barks_sql::datafusion::arrow::array::{Array, UInt32Array};
use barks_sql::datafusion::arrow::datatypes::DataType;
use barks_sql::datafusion::common::ScalarValue;
use barks_sql::datafusion::logical_expr::{ColumnarValue, ScalarUDF, Volatility, create_udf};
use std::collections::BTreeSet;
use std::sync::Arc;

/// `barks_pid()`: the id of the process that evaluates it.
fn barks_pid() -> ScalarUDF {
    create_udf(
        "barks_pid",
        vec![],
        DataType::UInt32,
        Volatility::Volatile,
        Arc::new(|_: &[ColumnarValue]| {
            Ok(ColumnarValue::Scalar(ScalarValue::UInt32(Some(
                std::process::id(),
            ))))
        }),
    )
}
barks_sql::register_scalar_udf!(barks_pid);

/// `driver_only()`: registered with the driver's session at run time, so
/// workers do not know it.
fn driver_only() -> ScalarUDF {
    create_udf(
        "driver_only",
        vec![DataType::Int64],
        DataType::Int64,
        Volatility::Immutable,
        Arc::new(|args: &[ColumnarValue]| Ok(args[0].clone())),
    )
}

fn pids(batches: &[barks_sql::datafusion::arrow::record_batch::RecordBatch]) -> BTreeSet<u32> {
    let mut out = BTreeSet::new();
    for b in batches {
        let a = b.column(0).as_any().downcast_ref::<UInt32Array>().unwrap();
        out.extend((0..a.len()).map(|i| a.value(i)));
    }
    out
}

#[test]
fn scans_aggregations_and_sorts_run_on_the_workers() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("numbers");
    let data = data.to_str().unwrap();
    let local = Session::builder("local[2]")
        .shuffle_partitions(4)
        .build()
        .unwrap();
    local
        .sql("SELECT value AS n, value % 7 AS k FROM generate_series(1, 20000) AS t(value)")
        .unwrap()
        .write()
        .parquet(data)
        .unwrap();

    let session = Session::builder("local-cluster[2]")
        .shuffle_partitions(4)
        .build()
        .unwrap();
    let workers: BTreeSet<u32> = session.context().local_worker_pids().into_iter().collect();
    assert_eq!(workers.len(), 2);
    let df = session.read().parquet(data).unwrap();
    df.create_or_replace_temp_view("numbers").unwrap();

    // The scan's tasks run on workers, never on the driver.
    let scan = session
        .sql("SELECT DISTINCT barks_pid() FROM numbers")
        .unwrap()
        .collect()
        .unwrap();
    let scan_pids = pids(&scan);
    assert!(
        !scan_pids.contains(&std::process::id()),
        "a scan ran on the driver"
    );
    assert!(
        scan_pids.is_subset(&workers),
        "{scan_pids:?} not in {workers:?}"
    );

    // So do the tasks after a shuffle (the final aggregation) and the result.
    let agg = session
        .sql("SELECT max(p) FROM (SELECT k, barks_pid() AS p, count(*) FROM numbers GROUP BY k)")
        .unwrap()
        .collect()
        .unwrap();
    let agg_pids = pids(&agg);
    assert!(
        agg_pids.is_subset(&workers),
        "{agg_pids:?} not in {workers:?}"
    );

    let sums = session
        .sql("SELECT k, sum(n) AS s FROM numbers GROUP BY k ORDER BY k")
        .unwrap()
        .collect()
        .unwrap();
    let rows: usize = sums.iter().map(|b| b.num_rows()).sum();
    assert_eq!(rows, 7);
    let expected: Vec<i64> = (0..7)
        .map(|k| (1..=20000i64).filter(|n| n % 7 == k).sum())
        .collect();
    let got: Vec<i64> = sums
        .iter()
        .flat_map(|b| {
            let a = b
                .column(1)
                .as_any()
                .downcast_ref::<barks_sql::datafusion::arrow::array::Int64Array>()
                .unwrap();
            (0..a.len()).map(|i| a.value(i)).collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(got, expected);
}

#[test]
fn a_function_the_workers_do_not_know_is_a_clear_error() {
    let session = Session::new("local-cluster[1]").unwrap();
    session.datafusion().register_udf(driver_only());
    let err = session
        .sql("SELECT driver_only(value) FROM generate_series(1, 10) AS t(value)")
        .unwrap()
        .collect()
        .unwrap_err()
        .to_string();
    assert!(err.contains("driver_only"), "{err}");
    // In local mode the driver's own registry is the one that runs it.
    let local = Session::new("local[1]").unwrap();
    local.datafusion().register_udf(driver_only());
    let df = local
        .sql("SELECT driver_only(value) FROM generate_series(1, 10) AS t(value)")
        .unwrap();
    assert_eq!(df.count().unwrap(), 10);
}
