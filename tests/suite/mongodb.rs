//! MongoDB inside `pipeline!`: one job writes documents, another reads them
//! back in partitions with a filter and aggregates them; the result is
//! compared with the same aggregation computed in plain Rust
//! (`eval "$(scripts/services/mongo.sh)"` sets `BARKS_TEST_MONGO_URL`).
#![cfg(feature = "mongodb")]

use barks::io::mongodb::bson::doc;
use barks::prelude::*;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Click {
    #[serde(rename = "_id")]
    id: i64,
    page: String,
    ms: Option<i64>,
}

#[barks::job]
fn store_clicks(clicks: Vec<Click>, target: MongoWrite) -> () {
    pipeline! {
        let all = parallelize(clicks, 5);
        all.save_to_mongodb(target)
    }
}

#[barks::job]
fn time_per_page(clicks: MongoRead) -> Vec<(String, i64)> {
    pipeline! {
        let docs = read_mongodb(clicks);
        let per_page = docs
            .map(|c: Click| (c.page, c.ms.unwrap_or(0)))
            .reduce_by_key(|a, b| a + b);
        per_page.collect()
    }
}

fn url() -> String {
    std::env::var("BARKS_TEST_MONGO_URL").unwrap_or_else(|_| {
        panic!("BARKS_TEST_MONGO_URL is not set: run `eval \"$(scripts/services/mongo.sh)\"` first")
    })
}

#[test]
fn jobs_write_and_read_a_collection_in_partitions() {
    let collection = format!("job_clicks_{}", std::process::id());
    let clicks: Vec<Click> = (0..3000)
        .map(|i| Click {
            id: i,
            page: format!("/pägе/{}", i % 7),
            ms: (i % 5 != 0).then_some(i % 997),
        })
        .collect();
    let write = MongoWrite::collection(url(), "barks_test", &collection)
        .batch_docs(250)
        .ignore_duplicate_ids(true);
    store_clicks(clicks.clone(), write)
        .run_on("local[3]")
        .unwrap();

    let read = MongoRead::collection(url(), "barks_test", &collection)
        .filter(doc! { "_id": { "$gte": 100_i64 } })
        .split_evenly("_id", 6);
    let mut expected: BTreeMap<String, i64> = BTreeMap::new();
    for c in clicks.iter().filter(|c| c.id >= 100) {
        *expected.entry(c.page.clone()).or_default() += c.ms.unwrap_or(0);
    }
    for master in ["local[1]", "local[4]"] {
        let got: BTreeMap<String, i64> = time_per_page(read.clone())
            .run_on(master)
            .unwrap()
            .into_iter()
            .collect();
        assert_eq!(got, expected, "{master}");
    }
}
