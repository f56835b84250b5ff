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
