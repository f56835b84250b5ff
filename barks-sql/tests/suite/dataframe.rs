//! The DataFrame API: TPC-H queries written with it (checked against
//! DuckDB's answers, as the SQL text is), and each operator against a plain
//! Rust model.

use crate::reference;
use barks_sql::datafusion::arrow::array::{Array, Int64Array, StringArray};
use barks_sql::datafusion::arrow::record_batch::RecordBatch;
use barks_sql::datafusion::functions_window::expr_fn::row_number;
use barks_sql::datafusion::logical_expr::ExprFunctionExt;
use barks_sql::datafusion::prelude::cast;
use barks_sql::expr::{avg, col, count, lit, sum};
use barks_sql::{DataFrame, Join, Session};
use std::collections::BTreeMap;

fn tpch(master: &str) -> (Session, std::path::PathBuf) {
    let dir = reference::data_dir();
    let session = Session::builder(master)
        .shuffle_partitions(3)
        .build()
        .unwrap();
    reference::register_tables(&session, &dir);
    (session, dir)
}

/// TPC-H Q1 with the DataFrame API.
fn q1(session: &Session) -> DataFrame {
    let lineitem = session.table("lineitem").unwrap();
    let price = col("l_extendedprice");
    let disc_price = price.clone() * (lit(1) - col("l_discount"));
    lineitem
        .filter(col("l_shipdate").lt_eq(cast(
            lit("1998-09-02"),
            barks_sql::datafusion::arrow::datatypes::DataType::Date32,
        )))
        .unwrap()
        .group_by(vec![col("l_returnflag"), col("l_linestatus")])
        .agg(vec![
            sum(col("l_quantity")).alias("sum_qty"),
            sum(price.clone()).alias("sum_base_price"),
            sum(disc_price.clone()).alias("sum_disc_price"),
            sum(disc_price * (lit(1) + col("l_tax"))).alias("sum_charge"),
            avg(col("l_quantity")).alias("avg_qty"),
            avg(price).alias("avg_price"),
            avg(col("l_discount")).alias("avg_disc"),
            count(lit(1)).alias("count_order"),
        ])
        .unwrap()
        .order_by(vec![
            col("l_returnflag").sort(true, false),
            col("l_linestatus").sort(true, false),
        ])
        .unwrap()
}

/// TPC-H Q3 with the DataFrame API: three joins, an aggregation, a top 10.
fn q3(session: &Session) -> DataFrame {
    let date = |d: &str| {
        cast(
            lit(d.to_string()),
            barks_sql::datafusion::arrow::datatypes::DataType::Date32,
        )
    };
    let customer = session
        .table("customer")
        .unwrap()
        .filter(col("c_mktsegment").eq(lit("BUILDING")))
        .unwrap();
    let orders = session
        .table("orders")
        .unwrap()
        .filter(col("o_orderdate").lt(date("1995-03-15")))
        .unwrap();
    let lineitem = session
        .table("lineitem")
        .unwrap()
        .filter(col("l_shipdate").gt(date("1995-03-15")))
        .unwrap();
    customer
        .join(&orders, Join::Inner, &["c_custkey"], &["o_custkey"])
        .unwrap()
        .join(&lineitem, Join::Inner, &["o_orderkey"], &["l_orderkey"])
        .unwrap()
        .group_by(vec![
            col("l_orderkey"),
            col("o_orderdate"),
            col("o_shippriority"),
        ])
        .agg(vec![
            sum(col("l_extendedprice") * (lit(1) - col("l_discount"))).alias("revenue"),
        ])
        .unwrap()
        .select(vec![
            col("l_orderkey"),
            col("revenue"),
            col("o_orderdate"),
            col("o_shippriority"),
        ])
        .unwrap()
        .order_by(vec![
            col("revenue").sort(false, true),
            col("o_orderdate").sort(true, true),
        ])
        .unwrap()
        .limit(10)
        .unwrap()
}

#[test]
fn tpch_queries_written_with_the_dataframe_api_match_duckdb() {
    for master in ["local[1]", "local[3]", "local-cluster[2]"] {
        let (session, dir) = tpch(master);
        reference::check_answer(1, &q1(&session).collect().unwrap(), &dir)
            .unwrap_or_else(|e| panic!("{master}: {e}"));
        reference::check_answer(3, &q3(&session).collect().unwrap(), &dir)
            .unwrap_or_else(|e| panic!("{master}: {e}"));
    }
}

fn people(session: &Session) -> DataFrame {
    session
        .sql(
            "SELECT * FROM (VALUES (1, 'ann', 'north'), (2, 'bob', 'south'), (3, 'cy', 'north'), \
             (4, 'dee', NULL), (5, 'eve', 'north')) AS t(id, name, region)",
        )
        .unwrap()
}

fn orders(session: &Session) -> DataFrame {
    session
        .sql(
            "SELECT * FROM (VALUES (1, 10), (1, 20), (3, 5), (6, 7), (5, 1), (5, 2), (5, 3)) \
             AS t(person, amount)",
        )
        .unwrap()
}

fn ints(batches: &[RecordBatch], column: &str) -> Vec<Option<i64>> {
    let mut out = Vec::new();
    for b in batches {
        let a = b.column_by_name(column).unwrap();
        let a = a.as_any().downcast_ref::<Int64Array>().unwrap();
        out.extend((0..a.len()).map(|i| a.is_valid(i).then(|| a.value(i))));
    }
    out
}

fn strings(batches: &[RecordBatch], column: &str) -> Vec<Option<String>> {
    let mut out = Vec::new();
    for b in batches {
        let a = b.column_by_name(column).unwrap();
        let a = barks_sql::datafusion::arrow::compute::cast(
            a,
            &barks_sql::datafusion::arrow::datatypes::DataType::Utf8,
        )
        .unwrap();
        let a = a.as_any().downcast_ref::<StringArray>().unwrap();
        out.extend((0..a.len()).map(|i| a.is_valid(i).then(|| a.value(i).to_string())));
    }
    out
}

#[test]
fn every_join_type_matches_a_model() {
    // The rows of `people` (id, name) and `orders` (person, amount).
    let people_rows = [(1i64, "ann"), (2, "bob"), (3, "cy"), (4, "dee"), (5, "eve")];
    let people_ids = people_rows.map(|(id, _)| id);
    let order_rows = [
        (1i64, 10i64),
        (1, 20),
        (3, 5),
        (6, 7),
        (5, 1),
        (5, 2),
        (5, 3),
    ];
    for master in ["local[1]", "local[3]", "local-cluster[2]"] {
        let session = Session::builder(master)
            .shuffle_partitions(4)
            .build()
            .unwrap();
        let run = |how: Join| {
            let df = people(&session)
                .join(&orders(&session), how, &["id"], &["person"])
                .unwrap();
            let df = match how {
                Join::LeftSemi | Join::LeftAnti => df.order_by(vec![col("id").sort(true, true)]),
                _ => df.order_by(vec![
                    col("id").sort(true, true),
                    col("person").sort(true, true),
                    col("amount").sort(true, true),
                ]),
            }
            .unwrap();
            df.collect().unwrap()
        };
        // Inner: one row per matching pair.
        let inner = run(Join::Inner);
        let model: Vec<Option<i64>> = order_rows
            .iter()
            .filter(|(p, _)| people_ids.contains(p))
            .map(|(_, a)| Some(*a))
            .collect();
        let mut got = ints(&inner, "amount");
        got.sort();
        let mut model_sorted = model.clone();
        model_sorted.sort();
        assert_eq!(got, model_sorted, "{master} inner");
        // Left: every person, unmatched ones once with a NULL amount.
        let left = run(Join::Left);
        assert_eq!(
            ints(&left, "id"),
            vec![
                Some(1),
                Some(1),
                Some(2),
                Some(3),
                Some(4),
                Some(5),
                Some(5),
                Some(5)
            ],
            "{master} left"
        );
        // Right: every order with its person, the unknown person's with a
        // NULL id and name; sorted as `run` sorts (id first, NULLs first).
        let right = run(Join::Right);
        let got: Vec<_> = ints(&right, "id")
            .into_iter()
            .zip(strings(&right, "name"))
            .zip(ints(&right, "person"))
            .zip(ints(&right, "amount"))
            .map(|(((id, name), person), amount)| (id, name, person, amount))
            .collect();
        let mut model: Vec<_> = order_rows
            .iter()
            .map(|&(person, amount)| {
                let who = people_rows.iter().find(|(id, _)| *id == person);
                (
                    who.map(|(id, _)| *id),
                    who.map(|(_, name)| name.to_string()),
                    Some(person),
                    Some(amount),
                )
            })
            .collect();
        model.sort_by_key(|(id, _, person, amount)| (*id, *person, *amount));
        assert_eq!(got, model, "{master} right");
        // Full: both.
        let full = run(Join::Full);
        assert_eq!(ints(&full, "id").len(), 9, "{master} full");
        // Semi and anti: people with and without orders.
        assert_eq!(
            ints(&run(Join::LeftSemi), "id"),
            vec![Some(1), Some(3), Some(5)],
            "{master} semi"
        );
        assert_eq!(
            ints(&run(Join::LeftAnti), "id"),
            vec![Some(2), Some(4)],
            "{master} anti"
        );
    }
}

#[test]
fn narrow_operators_sorting_and_set_operations() {
    let session = Session::builder("local[3]")
        .shuffle_partitions(3)
        .build()
        .unwrap();
    let df = people(&session)
        .with_column("id2", col("id") * lit(2))
        .unwrap()
        .with_column_renamed("name", "who")
        .unwrap()
        .drop(&["region"])
        .unwrap()
        .filter_sql("id2 > 2")
        .unwrap()
        .order_by(vec![col("id").sort(false, true)])
        .unwrap();
    assert_eq!(df.columns(), vec!["id", "who", "id2"]);
    let batches = df.collect().unwrap();
    assert_eq!(
        ints(&batches, "id2"),
        vec![Some(10), Some(8), Some(6), Some(4)]
    );
    assert_eq!(
        strings(&batches, "who"),
        vec![
            Some("eve".into()),
            Some("dee".into()),
            Some("cy".into()),
            Some("bob".into())
        ]
    );

    let regions = people(&session).select_columns(&["region"]).unwrap();
    let distinct = regions
        .clone()
        .distinct()
        .unwrap()
        .order_by(vec![col("region").sort(true, true)])
        .unwrap();
    assert_eq!(
        strings(&distinct.collect().unwrap(), "region"),
        vec![None, Some("north".into()), Some("south".into())]
    );
    assert_eq!(
        regions.clone().union(&regions).unwrap().count().unwrap(),
        10
    );
    let a = session.sql("SELECT 1 AS x, 'a' AS y").unwrap();
    let b = session.sql("SELECT 'b' AS y, 2 AS x").unwrap();
    let by_name = a
        .union_by_name(&b)
        .unwrap()
        .order_by(vec![col("x").sort(true, true)])
        .unwrap();
    assert_eq!(
        ints(&by_name.collect().unwrap(), "x"),
        vec![Some(1), Some(2)]
    );
    assert_eq!(people(&session).limit(2).unwrap().count().unwrap(), 2);
    assert!(people(&session).explain().unwrap().contains("barks stages"));
}

#[test]
fn aggregations_and_window_functions_match_a_model() {
    let session = Session::builder("local-cluster[2]")
        .shuffle_partitions(3)
        .build()
        .unwrap();
    let totals = orders(&session)
        .group_by(vec![col("person")])
        .agg(vec![
            sum(col("amount")).alias("total"),
            count(lit(1)).alias("n"),
        ])
        .unwrap()
        .order_by(vec![col("person").sort(true, true)])
        .unwrap()
        .collect()
        .unwrap();
    let mut model: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
    for (p, a) in [
        (1i64, 10i64),
        (1, 20),
        (3, 5),
        (6, 7),
        (5, 1),
        (5, 2),
        (5, 3),
    ] {
        let e = model.entry(p).or_default();
        e.0 += a;
        e.1 += 1;
    }
    assert_eq!(
        ints(&totals, "person"),
        model.keys().map(|k| Some(*k)).collect::<Vec<_>>()
    );
    assert_eq!(
        ints(&totals, "total"),
        model.values().map(|v| Some(v.0)).collect::<Vec<_>>()
    );
    assert_eq!(
        ints(&totals, "n"),
        model.values().map(|v| Some(v.1)).collect::<Vec<_>>()
    );

    // The rank of each order within its person, by amount (a window function).
    let ranked = orders(&session)
        .with_column(
            "rank",
            row_number()
                .partition_by(vec![col("person")])
                .order_by(vec![col("amount").sort(true, true)])
                .build()
                .unwrap(),
        )
        .unwrap()
        .filter(col("person").eq(lit(5)))
        .unwrap()
        .order_by(vec![col("amount").sort(true, true)])
        .unwrap()
        .collect()
        .unwrap();
    let ranks: Vec<Option<i64>> = ranked
        .iter()
        .flat_map(|b| {
            let a = barks_sql::datafusion::arrow::compute::cast(
                b.column_by_name("rank").unwrap(),
                &barks_sql::datafusion::arrow::datatypes::DataType::Int64,
            )
            .unwrap();
            let a = a.as_any().downcast_ref::<Int64Array>().unwrap().clone();
            (0..a.len()).map(move |i| Some(a.value(i)))
        })
        .collect();
    assert_eq!(ranks, vec![Some(1), Some(2), Some(3)]);
}

#[derive(serde::Deserialize, Debug, PartialEq)]
struct Person {
    id: i64,
    name: String,
    region: Option<String>,
}

#[test]
fn rows_collect_into_serde_structs() {
    let session = Session::new("local[2]").unwrap();
    let rows: Vec<Person> = people(&session)
        .order_by(vec![col("id").sort(true, true)])
        .unwrap()
        .collect_serde()
        .unwrap();
    assert_eq!(rows.len(), 5);
    assert_eq!(
        rows[3],
        Person {
            id: 4,
            name: "dee".into(),
            region: None
        }
    );
}

#[test]
fn show_prints_like_spark() {
    let session = Session::new("local[1]").unwrap();
    let df = session
        .sql("SELECT * FROM (VALUES (1, 'a rather long string of text'), (2, NULL), (3, 'c')) AS t(n, s) ORDER BY n")
        .unwrap();
    assert_eq!(
        df.show_string(2).unwrap(),
        "+---+--------------------+\n\
         |  n|                   s|\n\
         +---+--------------------+\n\
         |  1|a rather long str...|\n\
         |  2|                NULL|\n\
         +---+--------------------+\n\
         only showing top 2 rows\n"
    );
}
