use barks_sql::Session;

#[test]
fn group_by_runs_on_barks() {
    for master in ["local[1]", "local[3]", "local-cluster[2]"] {
        let session = Session::builder(master)
            .shuffle_partitions(3)
            .build()
            .unwrap();
        session
            .sql("CREATE VIEW sales AS SELECT * FROM (VALUES ('north', 120), ('south', 80), ('north', 30), ('east', 5)) AS t(region, cents)")
            .unwrap();
        let df = session
            .sql("SELECT region, sum(cents) AS total FROM sales GROUP BY region ORDER BY region")
            .unwrap();

        print!("{}", df.show_string(20).unwrap());
        assert_eq!(df.count().unwrap(), 3);
    }
}

#[test]
fn spark_shuffle_partitions_setting_sets_the_partition_count() {
    let session = Session::builder("local[2]")
        .shuffle_partitions(2)
        .build()
        .unwrap();
    assert_eq!(session.shuffle_partitions(), 2);
    session.sql("SET spark.sql.shuffle.partitions = 5").unwrap();
    assert_eq!(session.shuffle_partitions(), 5);
    let df = session
        .sql("SELECT k, count(*) FROM (SELECT value % 10 AS k FROM generate_series(1, 100) AS t(value)) GROUP BY k")
        .unwrap();
    assert!(
        df.explain()
            .unwrap()
            .contains("fragment 1 (result): 5 task(s)"),
        "{}",
        df.explain().unwrap()
    );
    assert_eq!(df.count().unwrap(), 10);
}

#[test]
fn spark_broadcast_threshold_setting_chooses_the_join() {
    use barks_sql::datafusion::arrow::array::Int64Array;
    use barks_sql::datafusion::arrow::record_batch::RecordBatch;
    use std::sync::Arc;
    let session = Session::builder("local[2]")
        .shuffle_partitions(2)
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (name, rows) in [("big", 20_000), ("small", 500)] {
        let path = dir.path().join(name);
        std::fs::create_dir(&path).unwrap();
        let k = Int64Array::from_iter_values((0..rows).map(|i| i % 1000));
        let v = Int64Array::from_iter_values(0..rows);
        let batch =
            RecordBatch::try_from_iter([("k", Arc::new(k) as _), ("v", Arc::new(v) as _)]).unwrap();
        crate::parquet_files(&path, &batch, 2);
        let df = session.read().parquet(path.to_str().unwrap()).unwrap();
        df.create_or_replace_temp_view(name).unwrap();
    }
    let join = "SELECT count(*), sum(big.v * small.v) FROM big JOIN small ON big.k = small.k";
    let run = |session: &Session| {
        let df = session.sql(join).unwrap();
        (df.explain().unwrap(), df.show_string(5).unwrap())
    };
    // By default (10 MiB, as in Spark) the small side is broadcast.
    let (broadcast, broadcast_rows) = run(&session);
    assert!(broadcast.contains("mode=CollectLeft"), "{broadcast}");
    // -1 turns broadcasts off: both sides are shuffled.
    session
        .sql("SET spark.sql.autoBroadcastJoinThreshold = -1")
        .unwrap();
    let (shuffled, shuffled_rows) = run(&session);
    assert!(shuffled.contains("mode=Partitioned"), "{shuffled}");
    assert_eq!(broadcast_rows, shuffled_rows);
    let err = session
        .sql("SET spark.sql.autoBroadcastJoinThreshold = lots")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("spark.sql.autoBroadcastJoinThreshold") && err.contains("lots"),
        "{err}"
    );
}
