//! `Context::run_job_streaming`: a job's result partitions reach the caller
//! on the driver once each, in partition order, and together they are what
//! `run_job` returns and what a sequential model computes; a failing task
//! ends the stream with the job's error, and a caller that stops taking
//! partitions stops the job. On `local[2]` and `local-cluster[2,1]`.

use barks::prelude::*;
use barks::{Error, Result};
use std::sync::mpsc::channel;

const MASTERS: [&str; 2] = ["local[2]", "local-cluster[2,1]"];

/// Sorts `data` into `p` range partitions; a record equal to `poison`
/// panics in the sort's reduce tasks.
#[barks::job]
fn sorted_values(data: Vec<i64>, p: usize, poison: Option<i64>) -> Vec<i64> {
    pipeline! {
        let src = parallelize(data, p);
        src.sort_by(|x| *x, true)
            .map(move |x| if Some(x) == poison { panic!("poisoned record {x}") } else { x })
            .collect()
    }
}

/// The partitions a streaming run handed over, with their numbers.
fn stream(ctx: &Context, job: Job<Vec<i64>>) -> (Result<()>, Vec<(usize, Vec<i64>)>) {
    let (send, receive) = channel();
    let outcome = ctx.run_job_streaming(job, move |partition, rows: Vec<i64>| {
        send.send((partition, rows))
            .map_err(|_| Error::Internal("the test stopped listening".into()))
    });
    (outcome, receive.iter().collect())
}

/// Skewed values: a third of them equal.
fn values(n: i64) -> Vec<i64> {
    (0..n)
        .map(|i| {
            if i % 3 == 0 {
                7
            } else {
                (i * 7919) % 1000 - 500
            }
        })
        .collect()
}

#[test]
fn partitions_arrive_in_order_once_each_and_match_collect() {
    for master in MASTERS {
        let ctx = Context::new(master).unwrap();
        for (n, p) in [(0, 1), (0, 4), (1, 3), (2_000, 1), (2_000, 5), (500, 12)] {
            let data = values(n);
            let (outcome, parts) = stream(&ctx, sorted_values(data.clone(), p, None));
            outcome.unwrap_or_else(|e| panic!("{master}, {n} values in {p}: {e}"));
            let numbers: Vec<usize> = parts.iter().map(|(i, _)| *i).collect();
            assert_eq!(
                numbers,
                (0..p).collect::<Vec<_>>(),
                "{master}: partition order"
            );
            let streamed: Vec<i64> = parts.into_iter().flat_map(|(_, rows)| rows).collect();
            let mut model = data.clone();
            model.sort();
            assert_eq!(
                streamed, model,
                "{master}, {n} values in {p}: against the model"
            );
            let collected = ctx.run_job(sorted_values(data, p, None)).unwrap();
            assert_eq!(streamed, collected, "{master}: against run_job");
        }
    }
}

#[test]
fn a_failing_task_ends_the_stream_with_the_jobs_error() {
    for master in MASTERS {
        let ctx = Context::new(master).unwrap().with_max_task_attempts(1);
        // The largest value lands in the last partition: earlier ones may
        // already have been delivered when it fails.
        let data = values(1_000);
        let top = *data.iter().max().unwrap();
        let (outcome, parts) = stream(&ctx, sorted_values(data, 4, Some(top)));
        let err = outcome.expect_err("the poisoned partition fails the job");
        let says = format!("poisoned record {top}");
        assert!(err.to_string().contains(&says), "{master}: {err}");
        for (i, (partition, _)) in parts.iter().enumerate() {
            assert_eq!(*partition, i, "{master}: what arrived is a prefix");
        }
        assert!(
            parts.len() < 4,
            "{master}: the failed partition was not delivered"
        );
    }
}

#[test]
fn a_caller_that_stops_taking_partitions_stops_the_job() {
    for master in MASTERS {
        let ctx = Context::new(master).unwrap();
        let mut taken = 0;
        let err = ctx
            .run_job_streaming(
                sorted_values(values(1_000), 6, None),
                move |_, _: Vec<i64>| {
                    taken += 1;
                    match taken {
                        2 => Err(Error::Internal("enough rows".into())),
                        _ => Ok(()),
                    }
                },
            )
            .expect_err("the caller's error fails the job");
        assert!(err.to_string().contains("enough rows"), "{master}: {err}");
        // The context runs the next job as usual.
        assert_eq!(
            ctx.run_job(sorted_values(vec![3, 1, 2], 2, None)).unwrap(),
            vec![1, 2, 3]
        );
    }
}

#[test]
fn a_partition_type_the_job_does_not_yield_is_an_error() {
    let ctx = Context::new("local[2]").unwrap();
    let err = ctx
        .run_job_streaming(sorted_values(vec![1, 2], 2, None), |_, _: Vec<String>| {
            Ok(())
        })
        .expect_err("Vec<String> is not what collect yields here");
    assert!(
        err.to_string().contains("Vec<alloc::string::String>"),
        "{err}"
    );
}
