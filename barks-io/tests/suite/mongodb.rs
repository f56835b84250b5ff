//! The MongoDB connector against a MongoDB-wire server (SecantusDB:
//! `eval "$(scripts/services/mongo.sh)"` sets `BARKS_TEST_MONGO_URL`).
//!
//! Reads are checked against a plain `find` through the driver itself,
//! writes by reading the collection back the same way.
#![cfg(feature = "mongodb")]

use barks_io::mongodb::{MongoRead, MongoWrite, SaveToMongoDb, read_mongodb};
use barks_runtime::{BoxIter, Context, Error, ErrorSink, Output, Source, from_source, parallelize};
use futures_util::TryStreamExt;
use mongodb::bson::{Bson, Document, doc, oid::ObjectId};
use mongodb::{Client, Collection};
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;

const DB: &str = "barks_test";

fn url() -> String {
    std::env::var("BARKS_TEST_MONGO_URL").unwrap_or_else(|_| {
        panic!("BARKS_TEST_MONGO_URL is not set: run `eval \"$(scripts/services/mongo.sh)\"` first")
    })
}

fn rt() -> &'static Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(|| Runtime::new().unwrap())
}

/// The reference: the driver used directly.
fn reference(collection: &str) -> Collection<Document> {
    static CLIENT: OnceLock<Client> = OnceLock::new();
    CLIENT
        .get_or_init(|| rt().block_on(Client::with_uri_str(url())).unwrap())
        .database(DB)
        .collection(collection)
}

/// A fresh collection name.
fn collection(name: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let c = format!(
        "{name}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let coll = reference(&c);
    rt().block_on(async { coll.drop().await }).unwrap();
    c
}

fn insert(collection: &str, docs: Vec<Document>) {
    if !docs.is_empty() {
        let coll = reference(collection);
        rt().block_on(async { coll.insert_many(docs).await })
            .unwrap();
    }
}

/// Every document matching `filter`, through the reference, sorted by `_id`.
fn find_all(collection: &str, filter: Document, projection: Option<Document>) -> Vec<Document> {
    let coll = reference(collection);
    let mut docs: Vec<Document> = rt().block_on(async {
        let cursor = coll
            .find(filter)
            .with_options(projection.map(|p| {
                let mut o = mongodb::options::FindOptions::default();
                o.projection = Some(p);
                o
            }))
            .await
            .unwrap();
        cursor.try_collect().await.unwrap()
    });
    docs.sort_by_key(|d| format!("{:?}", d.get("_id")));
    docs
}

fn run<R: 'static>(pipeline: impl FnOnce() -> Output<R>) -> barks_runtime::Result<R> {
    Context::new("local[4]").unwrap().run(pipeline)
}

fn read_docs(read: MongoRead) -> Vec<Document> {
    let mut docs: Vec<Document> = run(move || read_mongodb(read).collect()).unwrap();
    docs.sort_by_key(|d| format!("{:?}", d.get("_id")));
    docs
}

/// Documents with ObjectId, string and integer `_id`s (MongoDB compares
/// range operators only within one type), a split field `n` that is missing,
/// null or outside the bounds, unicode and nested values.
fn mixed_docs(count: usize) -> Vec<Document> {
    (0..count)
        .map(|i| {
            let id = match i % 10 {
                0 => Bson::String(format!("key-{i}")),
                1 => Bson::Int64(i as i64),
                _ => Bson::ObjectId(ObjectId::new()),
            };
            let mut d = doc! {
                "_id": id,
                "name": format!("名前 {i} ✓"),
                "score": i as f64 / 3.0,
                "tags": ["a", format!("t{}", i % 7)],
                "inner": { "k": i as i32 },
            };
            match i % 6 {
                0 => {}
                1 => {
                    d.insert("n", Bson::Null);
                }
                2 => {
                    d.insert("n", 10_000 + i as i64);
                }
                3 => {
                    d.insert("n", -(i as i64));
                }
                _ => {
                    d.insert("n", i as i64);
                }
            }
            d
        })
        .collect()
}

#[test]
fn partitions_of_id_return_every_document_once() {
    let c = collection("read");
    insert(&c, mixed_docs(700));
    let expected = find_all(&c, doc! {}, None);
    assert_eq!(expected.len(), 700);
    for n in [1, 3, 8, 16] {
        let read = MongoRead::collection(url(), DB, &c)
            .split_evenly("_id", n)
            .batch_size(33);
        assert_eq!(read_docs(read), expected, "{n} partitions");
    }
}

#[test]
fn explicit_bounds_take_nulls_missing_fields_and_outliers_once() {
    let c = collection("bounds");
    insert(&c, mixed_docs(500));
    let expected = find_all(&c, doc! {}, None);
    for bounds in [vec![], vec![100], vec![0, 100, 200, 300, 400]] {
        let read = MongoRead::collection(url(), DB, &c)
            .split_at("n", bounds.iter().map(|b| Bson::Int64(*b)).collect());
        assert_eq!(read.num_partitions(), bounds.len() + 1);
        assert_eq!(read_docs(read), expected, "bounds {bounds:?}");
    }
    // Quantiles of a field that some documents lack.
    for n in [2, 5] {
        let read = MongoRead::collection(url(), DB, &c).split_evenly("n", n);
        assert_eq!(read_docs(read), expected, "{n} quantiles of n");
    }
}

#[test]
fn a_filter_and_a_projection_apply_to_every_partition() {
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Named {
        #[serde(rename = "_id")]
        id: Bson,
        name: String,
        n: Option<i64>,
    }
    let c = collection("filter");
    insert(&c, mixed_docs(400));
    let filter = doc! { "score": { "$gte": 50.0 } };
    let projection = doc! { "name": 1, "n": 1 };
    let expected = find_all(&c, filter.clone(), Some(projection.clone()));
    assert!(expected.iter().all(|d| d.get("score").is_none()));
    for n in [1, 4] {
        let read = MongoRead::collection(url(), DB, &c)
            .filter(filter.clone())
            .projection(projection.clone())
            .split_evenly("_id", n);
        assert_eq!(read_docs(read.clone()), expected, "{n} partitions");
        // And typed records.
        let mut named: Vec<Named> = run(move || read_mongodb(read).collect()).unwrap();
        named.sort_by_key(|d| format!("{:?}", Some(&d.id)));
        assert_eq!(named.len(), expected.len());
        for (got, want) in named.iter().zip(&expected) {
            assert_eq!(Some(&got.id), want.get("_id"));
            assert_eq!(got.name, want.get_str("name").unwrap());
        }
    }
}

#[test]
fn an_empty_or_missing_collection_reads_as_nothing() {
    let c = collection("empty");
    for n in [1, 8] {
        let read = MongoRead::collection(url(), DB, &c).split_evenly("_id", n);
        assert!(read_docs(read).is_empty());
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Event {
    #[serde(rename = "_id")]
    id: i64,
    kind: String,
    value: Option<f64>,
    tags: Vec<String>,
}

fn events(n: i64) -> Vec<Event> {
    (0..n)
        .map(|i| Event {
            id: i,
            kind: format!("kïnd-{} 🚀", i % 5),
            value: (i % 4 != 0).then_some(i as f64 * 0.5),
            tags: (0..i % 3).map(|t| t.to_string()).collect(),
        })
        .collect()
}

fn read_events(c: &str) -> Vec<Event> {
    find_all(c, doc! {}, None)
        .into_iter()
        .map(|d| mongodb::bson::from_document(d).unwrap())
        .collect()
}

fn sorted(mut events: Vec<Event>) -> Vec<Event> {
    events.sort_by_key(|e| e.id);
    events
}

#[test]
fn writes_round_trip_ordered_and_unordered_in_many_batches() {
    for (partitions, batch, ordered) in [(1, 1000, true), (3, 100, false), (8, 7, true)] {
        let c = collection("write");
        let rows = events(2500);
        let write = MongoWrite::collection(url(), DB, &c)
            .batch_docs(batch)
            .ordered(ordered);
        let data = rows.clone();
        run(move || parallelize(data, Some(partitions)).save_to_mongodb(write)).unwrap();
        assert_eq!(
            sorted(read_events(&c)),
            rows,
            "{partitions} partitions, batch {batch}"
        );
    }
}

#[test]
fn a_large_document_round_trips() {
    let c = collection("large");
    let big = Event {
        id: 1,
        kind: "€".repeat(350_000),
        value: None,
        tags: vec!["x".repeat(1 << 20)],
    };
    let write = MongoWrite::collection(url(), DB, &c);
    let data = vec![big.clone()];
    run(move || parallelize(data, Some(1)).save_to_mongodb(write)).unwrap();
    let read = MongoRead::collection(url(), DB, &c);
    let got: Vec<Event> = run(move || read_mongodb(read).collect()).unwrap();
    assert_eq!(got, vec![big]);
}

#[test]
fn duplicate_ids_fail_unless_ignored_which_makes_reruns_idempotent() {
    let c = collection("dups");
    let rows = events(300);
    let write = MongoWrite::collection(url(), DB, &c).batch_docs(50);
    let data = rows.clone();
    run(move || parallelize(data, Some(3)).save_to_mongodb(write.clone())).unwrap();
    let write = MongoWrite::collection(url(), DB, &c).batch_docs(50);
    let data = rows.clone();
    let err = run(move || parallelize(data, Some(3)).save_to_mongodb(write))
        .unwrap_err()
        .to_string();
    assert!(err.contains(&format!("collection `{DB}.{c}`")), "{err}");
    assert!(err.to_lowercase().contains("duplicate"), "{err}");

    // Re-running with more documents: the old ones are skipped, the new ones land once.
    let more = events(450);
    let write = MongoWrite::collection(url(), DB, &c)
        .batch_docs(50)
        .ignore_duplicate_ids(true);
    let data = more.clone();
    run(move || parallelize(data, Some(4)).save_to_mongodb(write)).unwrap();
    assert_eq!(sorted(read_events(&c)), more);
}

/// Fails partition 1 half-way through its input, through the error sink.
struct FailingSource;

impl Source for FailingSource {
    type Item = Event;
    fn num_partitions(&self) -> usize {
        3
    }
    fn read(&self, partition: usize, errors: ErrorSink) -> barks_runtime::Result<BoxIter<Event>> {
        let rows = events(900).into_iter().skip(partition * 300).take(300);
        Ok(BoxIter::new(rows.enumerate().map_while(move |(i, e)| {
            if partition == 1 && i == 150 {
                errors.fail(Error::Plan("bad input in partition 1".into()));
                None
            } else {
                Some(e)
            }
        })))
    }
}

#[test]
fn a_transactional_write_leaves_nothing_of_a_failed_partition() {
    let c = collection("txn");
    let write = MongoWrite::collection(url(), DB, &c)
        .batch_docs(20)
        .transactional(true);
    let err = run(move || from_source(FailingSource).save_to_mongodb(write))
        .unwrap_err()
        .to_string();
    assert!(err.contains("bad input in partition 1"), "{err}");
    let written = read_events(&c);
    assert!(
        !written.iter().any(|e| (300..600).contains(&e.id)),
        "documents of the failed partition were committed"
    );
    for p in [0, 2] {
        let range = (p * 300) as i64..(p * 300 + 300) as i64;
        let present = written.iter().filter(|e| range.contains(&e.id)).count();
        assert!(present == 0 || present == 300, "partition {p}: {present}");
    }
    // Transactions and skipping duplicates do not go together.
    let write = MongoWrite::collection(url(), DB, &c)
        .transactional(true)
        .ignore_duplicate_ids(true);
    let err = run(move || parallelize(events(1), Some(1)).save_to_mongodb(write))
        .unwrap_err()
        .to_string();
    assert!(err.contains("cannot be combined"), "{err}");
}

#[test]
fn an_unreachable_server_fails_fast_and_is_named() {
    let started = Instant::now();
    let bad = "mongodb://user:secret-pw@127.0.0.1:1/?serverSelectionTimeoutMS=500";
    let read = MongoRead::collection(bad, DB, "c");
    let err = run(move || read_mongodb::<Event>(read).count())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("mongodb mongodb://user:***@127.0.0.1:1/"),
        "{err}"
    );
    assert!(err.contains("collection `barks_test.c`"), "{err}");
    assert!(!err.contains("secret-pw"), "{err}");
    let write = MongoWrite::collection(bad, DB, "c");
    let err = run(move || parallelize(events(1), Some(1)).save_to_mongodb(write))
        .unwrap_err()
        .to_string();
    assert!(err.contains("127.0.0.1:1"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    // A malformed connection string.
    let read = MongoRead::collection("mongo:/nope", DB, "c");
    let err = run(move || read_mongodb::<Event>(read).count())
        .unwrap_err()
        .to_string();
    assert!(err.contains("invalid connection string"), "{err}");
}

#[test]
fn a_wrong_password_is_reported() {
    let bad = url().replacen(":barks-pw@", ":wrong@", 1);
    assert_ne!(bad, url(), "the test expects mongo.sh's user `barks`");
    let read = MongoRead::collection(bad.clone(), DB, "c");
    let err = run(move || read_mongodb::<Event>(read).count())
        .unwrap_err()
        .to_string();
    assert!(
        err.to_lowercase().contains("authentication failed"),
        "{err}"
    );
    assert!(!err.contains(":wrong@"), "{err}");
    let write = MongoWrite::collection(bad, DB, "c");
    let err = run(move || parallelize(events(1), Some(1)).save_to_mongodb(write))
        .unwrap_err()
        .to_string();
    assert!(
        err.to_lowercase().contains("authentication failed"),
        "{err}"
    );
}

#[test]
fn a_document_that_does_not_match_the_rust_type_is_named() {
    let c = collection("mismatch");
    insert(
        &c,
        vec![doc! { "_id": 1_i64, "kind": "ok", "value": 1.0, "tags": [] }],
    );
    insert(
        &c,
        vec![doc! { "_id": 2_i64, "kind": 5_i32, "value": 1.0, "tags": [] }],
    );
    let read = MongoRead::collection(url(), DB, &c);
    let err = run(move || read_mongodb::<Event>(read).count())
        .unwrap_err()
        .to_string();
    assert!(err.contains(&format!("collection `{DB}.{c}`")), "{err}");
    assert!(err.contains("document _id 2"), "{err}");
    assert!(
        err.contains("invalid type: integer `5`, expected a string"),
        "{err}"
    );
    assert!(err.contains("Event"), "{err}");
}

#[test]
fn bad_bounds_are_reported_when_the_job_runs() {
    let read = MongoRead::collection(url(), DB, "c").split_at("n", vec![Bson::Null]);
    let err = run(move || read_mongodb::<Event>(read).count())
        .unwrap_err()
        .to_string();
    assert!(err.contains("partition bounds must not be null"), "{err}");
}
