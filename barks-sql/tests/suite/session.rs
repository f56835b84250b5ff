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
