//! Failing tasks: a panic or an error in any stage fails the job with
//! `Error::Task` naming job, stage, partition and cause, promptly (no hang),
//! without taking the process down, and leaves the context usable.

use barks::Error;
use barks::runtime::{Context, Output, parallelize};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::Duration;

/// Runs `pipeline` on `local[threads]` in another thread and fails the test
/// if the job does not finish within 60 seconds (rather than hanging).
fn run_bounded<R: Send + 'static>(
    ctx: Context,
    pipeline: impl FnOnce() -> Output<R> + Send + 'static,
) -> barks::Result<R> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(ctx.run(pipeline));
    });
    rx.recv_timeout(Duration::from_secs(60))
        .expect("the job neither finished nor failed within 60 seconds")
}

fn local(threads: usize) -> Context {
    Context::new(&format!("local[{threads}]")).unwrap()
}

/// Checks that `err` is a task failure of `stage`/`partition` whose message
/// and `Display` contain `needle`, and returns its message.
fn assert_task_error(err: &Error, stage: usize, partition: usize, needle: &str) -> String {
    let Error::Task {
        job,
        stage: s,
        partition: p,
        attempts,
        message,
    } = err
    else {
        panic!("expected a task error, got {err:?}");
    };
    assert_eq!((*s, *p), (stage, partition), "{err}");
    assert_eq!(*attempts, 1, "{err}");
    assert!(
        message.contains(needle),
        "message {message:?} lacks {needle:?}"
    );
    let shown = err.to_string();
    for part in [
        format!("job `{job}`"),
        format!("stage {stage}"),
        format!("partition {partition}"),
        needle.to_string(),
    ] {
        assert!(shown.contains(&part), "{shown:?} lacks {part:?}");
    }
    message.clone()
}

#[test]
fn a_panicking_map_fails_its_partition() {
    for threads in [1, 3] {
        // 100 records in 10 partitions: record 57 is in partition 5.
        let err = run_bounded(local(threads), || {
            parallelize((0..100).collect::<Vec<i32>>(), Some(10))
                .map(|x| if x == 57 { panic!("bad record {x}") } else { x })
                .collect()
        })
        .unwrap_err();
        let message = assert_task_error(&err, 0, 5, "bad record 57");
        assert!(message.contains("panicked"), "{message}");
    }
}

#[test]
fn a_panic_after_a_shuffle_names_the_reduce_stage() {
    let err = run_bounded(local(3), || {
        parallelize(
            (0..40).map(|x| (x % 4, x)).collect::<Vec<(i32, i32)>>(),
            Some(5),
        )
        .reduce_by_key(|a, b| a + b)
        .partition_by(1)
        .map(|(k, v)| if k == 2 { panic!("key {k}") } else { v })
        .collect()
    })
    .unwrap_err();
    // Stage 0: the reduce_by_key map side; stage 1: its reduce side, which
    // feeds the partition_by shuffle; stage 2: the result stage.
    assert_task_error(&err, 2, 0, "key 2");
}

#[test]
fn a_panic_in_a_shuffle_map_stage_fails_the_job() {
    let err = run_bounded(local(2), || {
        parallelize((0..30).collect::<Vec<u32>>(), Some(3))
            .map(|x| (x % 3, 100 / (x as i32 - 25)))
            .group_by_key()
            .count()
    })
    .unwrap_err();
    // 0..30 in 3 partitions: 25, the one that divides by zero, is in partition 2.
    assert_task_error(&err, 0, 2, "divide by zero");
}

#[test]
fn a_panic_in_a_map_side_reduce_fails_the_job() {
    let err = run_bounded(local(2), || {
        parallelize(vec!["a a".to_string(), "b".to_string()], Some(2))
            .flat_map_reduce_by_key(
                |line: String, words| {
                    for w in line.split_whitespace() {
                        words.emit(w, 1u32);
                    }
                },
                |a: u32, b: u32| {
                    if a + b == 2 {
                        panic!("merging {a} and {b}")
                    } else {
                        a + b
                    }
                },
            )
            .count()
    })
    .unwrap_err();
    // "a a" is partition 0: its second "a" merges 1 and 1 on the map side.
    assert_task_error(&err, 0, 0, "merging 1 and 1");
}

#[test]
fn a_panic_in_an_action_fails_the_job() {
    let err = run_bounded(local(2), || {
        parallelize(vec![1, 2, 3, 4, 5, 6], Some(3)).reduce(|a, b| {
            assert!(a + b < 9, "sum too large");
            a + b
        })
    })
    .unwrap_err();
    // Per partition: 1+2, 3+4, 5+6; 5+6 fails in partition 2.
    assert_task_error(&err, 0, 2, "sum too large");
}

#[test]
fn a_panic_while_merging_results_on_the_driver_is_an_error() {
    // Each partition holds one record, so `reduce` first calls the closure
    // on the driver, merging partition results.
    let err = run_bounded(local(2), || {
        parallelize(vec![1, 2], Some(2)).reduce(|a, b| {
            assert!(a + b < 3, "merge failed");
            a + b
        })
    })
    .unwrap_err();
    assert!(matches!(err, Error::Job { .. }), "{err:?}");
    let shown = err.to_string();
    assert!(
        shown.contains("job `<closure>`") && shown.contains("merge failed"),
        "{shown}"
    );
}

#[test]
fn a_panic_with_a_non_string_payload_is_reported() {
    let err = run_bounded(local(1), || {
        parallelize(vec![1, 2, 3], Some(1))
            .map(|x| {
                if x == 3 {
                    std::panic::panic_any(42u8)
                } else {
                    x
                }
            })
            .collect()
    })
    .unwrap_err();
    assert_task_error(&err, 0, 0, "task panicked");
}

#[test]
fn a_missing_input_file_fails_with_its_path() {
    let missing =
        std::env::temp_dir().join(format!("barks-missing-{}/none.txt", std::process::id()));
    let path = missing.display().to_string();
    for threads in [1, 3] {
        let p = path.clone();
        let err = run_bounded(local(threads), move || {
            barks::io::text_file(&p, Some(4)).count()
        })
        .unwrap_err();
        assert_task_error(&err, 0, 0, &path);
    }
}

#[test]
fn every_partition_failing_still_ends_the_job() {
    // Many failing tasks queued on few threads: the job must end with one error.
    for threads in [1, 3] {
        let err = run_bounded(local(threads), || {
            parallelize((0..1000).collect::<Vec<i32>>(), Some(64))
                .map(|x| -> i32 { panic!("record {x} always fails") })
                .count()
        })
        .unwrap_err();
        assert!(
            matches!(&err, Error::Task { message, .. } if message.contains("always fails")),
            "{err:?}"
        );
    }
}

#[test]
fn the_context_runs_jobs_after_a_failure() {
    let ctx = local(3);
    let err = run_bounded(ctx.clone(), || {
        parallelize(vec![1, 2, 3], Some(3))
            .map(|x| if x == 2 { panic!("two") } else { x })
            .collect()
    });
    assert!(err.is_err());
    let ok = run_bounded(ctx, || {
        parallelize(vec![1, 2, 3], Some(3)).map(|x| x * 2).collect()
    })
    .unwrap();
    assert_eq!(ok, vec![2, 4, 6]);
}

#[test]
fn a_task_is_retried_up_to_its_attempts() {
    // Partition 1 fails on its first two attempts.
    let flaky = |failures: u32| {
        let tries = Arc::new(AtomicU32::new(0));
        move || {
            let tries = tries.clone();
            parallelize(vec![1, 2, 3], Some(3))
                .map(move |x| {
                    if x == 2 && tries.fetch_add(1, Ordering::SeqCst) < failures {
                        panic!("flaky");
                    }
                    x
                })
                .collect()
        }
    };
    let ok = run_bounded(local(2).with_max_task_attempts(3), flaky(2)).unwrap();
    assert_eq!(ok, vec![1, 2, 3]);
    let err = run_bounded(local(2).with_max_task_attempts(2), flaky(2)).unwrap_err();
    assert!(
        matches!(&err, Error::Task { stage: 0, partition: 1, attempts: 2, message, .. } if message.contains("flaky")),
        "{err:?}"
    );
    assert!(err.to_string().contains("after 2 attempt(s)"), "{err}");
}

/// What `fn main() -> barks::Result<()>` prints when a job fails: Rust
/// prints `Error: {err:?}`, and barks' `Debug` is the `Display` sentence,
/// naming the job, stage, partition, file and cause, never a struct dump.
#[test]
fn main_returning_a_barks_error_prints_the_sentence() {
    let err = run_bounded(local(2), || {
        barks::io::csv_file::<(String, u32)>("nonexist.csv", Default::default()).count()
    })
    .unwrap_err();
    let printed = format!("Error: {err:?}");
    assert_eq!(printed, format!("Error: {err}"));
    assert!(
        printed.starts_with("Error: job `<closure>` failed: stage 0, partition 0")
            && printed.ends_with("nonexist.csv: no such file or directory"),
        "{printed}"
    );
    assert!(!printed.contains('{'), "{printed}");
}
