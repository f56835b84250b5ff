#![cfg(feature = "sql")]
//! SQL inside `pipeline!`: `sql::<T>("...", table = stage)` mixed with RDD
//! operators before and after it, in one job. Every job is checked against
//! a sequential model (plain Rust over the same input) on `local[1]`,
//! `local[3]` and `local-cluster[2]` (this test binary is its own worker),
//! with skewed keys and with empty inputs; a query naming an unknown column
//! fails when the plan is built, before any task runs.

use barks::prelude::*;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Sale {
    region: String,
    customer: i64,
    cents: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct RegionTotal {
    region: String,
    total: i64,
    sales: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Customer {
    id: i64,
    name: String,
    vip: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Spend {
    name: String,
    region: String,
    cents: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Named {
    name: String,
    cents: Option<i64>,
}

/// Skewed sales: most go to one region and one customer.
fn sales(n: usize) -> Vec<Sale> {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    (0..n)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let hot = seed % 10 < 7;
            Sale {
                region: if hot {
                    "north".into()
                } else {
                    format!("r{}", seed % 13)
                },
                customer: if hot { 1 } else { (seed % 40) as i64 },
                cents: (seed % 1000) as i64 - 100,
            }
        })
        .collect()
}

fn customers() -> Vec<Customer> {
    // Customers 0..30 exist (so some sales have none); every third is a VIP.
    (0..30)
        .map(|id| Customer {
            id,
            name: format!("c{id}"),
            vip: id % 3 == 0,
        })
        .collect()
}

/// RDD operators, then a GROUP BY, then RDD operators on its typed rows.
#[barks::job]
fn region_totals(input: Vec<Sale>, partitions: usize, min_total: i64) -> Vec<(String, i64, i64)> {
    pipeline! {
        let sales = parallelize(input, partitions).filter(|s: &Sale| s.cents != 0).map(|mut s: Sale| {
            s.region = s.region.to_uppercase();
            s
        });
        let totals = sql::<RegionTotal>(
            "SELECT region, sum(cents) AS total, count(*) AS sales FROM sales GROUP BY region",
            sales = sales,
        );
        let big = totals.filter(|t| t.total > min_total).map(|t| (t.region, t.total, t.sales));
        big.sort_by(|t: &(String, i64, i64)| t.0.clone(), true).collect()
    }
}

fn model_region_totals(input: &[Sale], min_total: i64) -> Vec<(String, i64, i64)> {
    let mut m: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for s in input.iter().filter(|s| s.cents != 0) {
        let e = m.entry(s.region.to_uppercase()).or_default();
        e.0 += s.cents;
        e.1 += 1;
    }
    m.into_iter()
        .filter(|(_, (t, _))| *t > min_total)
        .map(|(r, (t, n))| (r, t, n))
        .collect()
}

/// A join of two typed datasets, then an RDD aggregation of its rows.
#[barks::job]
fn vip_spend(input: Vec<Sale>, people: Vec<Customer>) -> Vec<(String, i64)> {
    pipeline! {
        let sales = parallelize(input, 4);
        let customers = parallelize(people, 2).filter(|c: &Customer| c.vip);
        let joined = sql::<Spend>(
            "SELECT c.name, s.region, s.cents FROM sales s JOIN customers c ON s.customer = c.id",
            sales = sales,
            customers = customers,
        );
        let per_name = joined.map(|s| (s.name, s.cents)).reduce_by_key(|a, b| a + b);
        per_name.collect()
    }
}

fn model_vip_spend(input: &[Sale], people: &[Customer]) -> Vec<(String, i64)> {
    let mut m: BTreeMap<String, i64> = BTreeMap::new();
    for s in input {
        for c in people.iter().filter(|c| c.vip && c.id == s.customer) {
            *m.entry(c.name.clone()).or_default() += s.cents;
        }
    }
    m.into_iter().collect()
}

/// A left join (every customer, with or without sales), a scalar subquery
/// (planned as a join), and the type inferred without a turbofish.
#[barks::job]
fn spend_per_customer(input: Vec<Sale>, people: Vec<Customer>) -> Vec<(String, Option<i64>)> {
    pipeline! {
        let sales = parallelize(input, 3);
        let customers = parallelize(people, 2);
        let spend = sql(
            "SELECT c.name, sum(s.cents) AS cents
             FROM customers c LEFT JOIN sales s ON s.customer = c.id
             WHERE c.id >= (SELECT min(id) + 1 FROM customers)
             GROUP BY c.name",
            customers = customers,
            sales = sales,
        );
        let rows = spend.map(|n: Named| (n.name, n.cents));
        rows.collect()
    }
}

fn model_spend_per_customer(input: &[Sale], people: &[Customer]) -> Vec<(String, Option<i64>)> {
    let min = people.iter().map(|c| c.id).min().unwrap_or(0);
    let mut out: Vec<(String, Option<i64>)> = people
        .iter()
        .filter(|c| c.id > min)
        .map(|c| {
            let mine: Vec<i64> = input
                .iter()
                .filter(|s| s.customer == c.id)
                .map(|s| s.cents)
                .collect();
            (
                c.name.clone(),
                (!mine.is_empty()).then(|| mine.iter().sum()),
            )
        })
        .collect();
    out.sort();
    out
}

/// A query whose result is read as a tuple, by position.
#[barks::job]
fn counts_as_tuples(input: Vec<Sale>) -> Vec<(String, i64)> {
    pipeline! {
        let sales = parallelize(input, 2);
        let counts = sql::<(String, i64)>(
            "SELECT region, count(*) FROM sales GROUP BY region ORDER BY region",
            sales = sales,
        );
        counts.collect()
    }
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

#[test]
fn sql_in_pipelines_matches_sequential_models() {
    let people = customers();
    for master in ["local[1]", "local[3]", "local-cluster[2]"] {
        let ctx = Context::new(master).unwrap();
        for n in [0, 1, 5000] {
            let input = sales(n);
            for min_total in [i64::MIN, 1000] {
                assert_eq!(
                    ctx.run_job(region_totals(input.clone(), 3, min_total))
                        .unwrap(),
                    model_region_totals(&input, min_total),
                    "region_totals on {master}, {n} sales, min {min_total}"
                );
            }
            assert_eq!(
                sorted(
                    ctx.run_job(vip_spend(input.clone(), people.clone()))
                        .unwrap()
                ),
                model_vip_spend(&input, &people),
                "vip_spend on {master}, {n} sales"
            );
            assert_eq!(
                sorted(
                    ctx.run_job(spend_per_customer(input.clone(), people.clone()))
                        .unwrap()
                ),
                model_spend_per_customer(&input, &people),
                "spend_per_customer on {master}, {n} sales"
            );
            // No customers at all: an empty table on the build side.
            assert_eq!(
                ctx.run_job(vip_spend(input.clone(), Vec::new())).unwrap(),
                Vec::new(),
                "vip_spend without customers on {master}, {n} sales"
            );
        }
    }
}

#[test]
fn a_result_can_be_read_as_tuples() {
    let input = sales(300);
    let mut model: BTreeMap<String, i64> = BTreeMap::new();
    for s in &input {
        *model.entry(s.region.clone()).or_default() += 1;
    }
    let got = counts_as_tuples(input).run_on("local[2]").unwrap();
    assert_eq!(got, model.into_iter().collect::<Vec<_>>());
}

static ROWS_SEEN: AtomicUsize = AtomicUsize::new(0);

#[barks::job]
fn misspelt_column(input: Vec<Sale>) -> Vec<RegionTotal> {
    pipeline! {
        let sales = parallelize(input, 2).map(|s: Sale| {
            ROWS_SEEN.fetch_add(1, Ordering::SeqCst);
            s
        });
        let totals = sql::<RegionTotal>(
            "SELECT region, sum(centz) AS total, count(*) AS sales FROM sales GROUP BY region",
            sales = sales,
        );
        totals.collect()
    }
}

#[barks::job]
fn misnamed_result(input: Vec<Sale>) -> Vec<RegionTotal> {
    pipeline! {
        let sales = parallelize(input, 2);
        let totals = sql::<RegionTotal>(
            "SELECT region, sum(cents) AS totl, count(*) AS sales FROM sales GROUP BY region",
            sales = sales,
        );
        totals.collect()
    }
}

#[test]
fn an_unknown_column_fails_when_the_plan_is_built() {
    let err = misspelt_column(sales(100)).run_on("local[1]").unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, barks::Error::Sql(_)), "{err:?}");
    assert!(message.contains("centz"), "{message}");
    assert!(
        message.contains("cents"),
        "names the nearest column: {message}"
    );
    assert_eq!(ROWS_SEEN.load(Ordering::SeqCst), 0, "a task ran");

    let err = misnamed_result(sales(100)).run_on("local[1]").unwrap_err();
    let message = err.to_string();
    assert!(message.contains("no column `total`"), "{message}");
    assert!(message.contains("`totl`"), "{message}");
}

#[barks::job]
fn numbers_as_a_table(n: i64) -> Vec<RegionTotal> {
    pipeline! {
        let numbers = range(n);
        let rows = sql::<RegionTotal>("SELECT * FROM numbers", numbers = numbers);
        rows.collect()
    }
}

#[test]
fn a_table_needs_rows_with_named_fields() {
    let err = numbers_as_a_table(10).run_on("local[1]").unwrap_err();
    let message = err.to_string();
    assert!(message.contains("table `numbers`"), "{message}");
    assert!(message.contains("`i64`"), "{message}");
    assert!(message.contains("struct with named fields"), "{message}");
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Region {
    region: String,
}

/// Two stages read side by side (a UNION ALL of both, no shuffle between).
#[barks::job]
fn all_regions(a: Vec<Sale>, b: Vec<Sale>) -> Vec<String> {
    pipeline! {
        let first = parallelize(a, 2);
        let second = parallelize(b, 3).filter(|s: &Sale| s.cents > 0);
        let regions = sql::<Region>(
            "SELECT region FROM first UNION ALL SELECT upper(region) AS region FROM second",
            first = first,
            second = second,
        );
        regions.map(|r| r.region).collect()
    }
}

#[test]
fn a_union_of_two_stages_keeps_every_row() {
    let (a, b) = (sales(700), sales(900));
    let mut model: Vec<String> = a.iter().map(|s| s.region.clone()).collect();
    model.extend(
        b.iter()
            .filter(|s| s.cents > 0)
            .map(|s| s.region.to_uppercase()),
    );
    model.sort();
    for master in ["local[3]", "local-cluster[2]"] {
        let got = sorted(all_regions(a.clone(), b.clone()).run_on(master).unwrap());
        assert_eq!(got, model, "{master}");
    }
}
