//! Cluster mode under failure, with real worker processes on loopback: a
//! worker killed with SIGKILL in the middle of a shuffle-heavy job, a task
//! that fails once and is retried on another worker, a task that always
//! fails, a worker with the wrong secret, a pipeline that cannot run on a
//! cluster. Each job must end with the right result or the root error,
//! promptly, and leave the cluster usable.

use barks::Error;
use barks::prelude::*;
use barks::runtime::cluster::net::Secret;
use barks::runtime::cluster::{WorkerOptions, run_worker};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::mpsc;
#[path = "common/bounded.rs"]
mod bounded;
use bounded::bounded;
use std::time::Duration;

/// Values per key, key = i % keys: a shuffle-heavy job that is slow enough
/// (each map partition sleeps) to kill a worker while it runs.
#[barks::job]
fn slow_sums(n: u64, keys: u64, partitions: usize, nap_ms: u64) -> Vec<(u64, u64)> {
    pipeline! {
        let numbers = parallelize((0..n).collect::<Vec<u64>>(), partitions);
        let slow = numbers.map_partitions(move |it| {
            std::thread::sleep(Duration::from_millis(nap_ms));
            it
        });
        let sums = slow.map(move |i| (i % keys, i)).reduce_by_key(|a, b| a + b);
        let again = sums.map(|(k, s): (u64, u64)| (k % 7, (k, s))).group_by_key();
        let flat = again.flat_map(|(_, v): (u64, Vec<(u64, u64)>)| v);
        flat.sort_by_key(true).collect()
    }
}

fn model_sums(n: u64, keys: u64) -> Vec<(u64, u64)> {
    let mut m = BTreeMap::new();
    for i in 0..n {
        *m.entry(i % keys).or_insert(0) += i;
    }
    m.into_iter().collect()
}

/// A `local-cluster` that notices a lost worker within 1.5 s.
fn quick_loss_detection(master: &str) -> Context {
    Context::builder(master)
        .worker_timeout(Duration::from_millis(1500))
        .build()
        .unwrap()
}

#[test]
fn a_worker_killed_mid_job_changes_nothing() {
    let ctx = quick_loss_detection("local-cluster[3,1]");
    let pids = ctx.local_worker_pids();
    assert_eq!(pids.len(), 3);
    let (n, keys) = (60_000, 500);
    let job_ctx = ctx.clone();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(job_ctx.run_job(slow_sums(n, keys, 12, 150)));
    });
    // Let the first stage get going (and some map outputs land), then kill.
    std::thread::sleep(Duration::from_millis(500));
    let victim = pids[1];
    // SAFETY: plain syscall on a child process id we started.
    assert_eq!(unsafe { libc::kill(victim as i32, libc::SIGKILL) }, 0);
    let got = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("the job did not finish after a worker was killed")
        .expect("the job failed after a worker was killed");
    assert_eq!(got, model_sums(n, keys));
    // The cluster keeps working with the two workers left.
    let again = bounded(move || ctx.run_job(slow_sums(1000, 10, 4, 0))).unwrap();
    assert_eq!(again, model_sums(1000, 10));
}

/// Fails the first attempt of every partition (a marker file per partition
/// tells a retry apart), so each task succeeds on its second attempt.
#[barks::job]
fn flaky(dir: PathBuf, partitions: usize) -> Vec<u32> {
    pipeline! {
        let numbers = parallelize((0..40u32).collect::<Vec<u32>>(), partitions);
        let checked = numbers.map_partitions_with_index(move |p, it| {
            let marker = dir.join(format!("p{p}"));
            if std::fs::create_dir(&marker).is_ok() {
                panic!("first attempt of partition {p} fails");
            }
            it
        });
        checked.collect()
    }
}

#[test]
fn a_failed_task_is_retried_and_the_job_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = Context::new("local-cluster[2,1]").unwrap();
    let path = dir.path().to_path_buf();
    let got = bounded(move || ctx.run_job(flaky(path, 4))).unwrap();
    assert_eq!(got, (0..40).collect::<Vec<u32>>());
}

#[barks::job]
fn always_fails(partitions: usize) -> u64 {
    pipeline! {
        let numbers = parallelize((0..10u32).collect::<Vec<u32>>(), partitions);
        numbers.map(|x| if x == 7 { panic!("seven is not allowed") } else { x }).count()
    }
}

#[test]
fn a_task_failing_every_attempt_fails_the_job_with_its_error() {
    let ctx = Context::new("local-cluster[2,1]").unwrap();
    let err = bounded(move || ctx.run_job(always_fails(2))).unwrap_err();
    let Error::Task {
        attempts, message, ..
    } = &err
    else {
        panic!("expected a task error, got {err:?}");
    };
    assert_eq!(*attempts, 4, "{err}");
    assert!(message.contains("seven is not allowed"), "{err}");
    assert!(
        message.contains("on worker 127.0.0.1:"),
        "names the worker: {err}"
    );
}

#[test]
fn a_closure_pipeline_is_refused_on_a_cluster() {
    let ctx = Context::new("local-cluster[1,1]").unwrap();
    let err = ctx
        .run(|| barks::runtime::parallelize(vec![1, 2, 3], Some(2)).count())
        .unwrap_err();
    assert!(err.to_string().contains("#[barks::job]"), "{err}");
}

#[test]
fn a_worker_with_the_wrong_secret_is_refused_and_the_cluster_keeps_running() {
    let ctx = Context::new("local-cluster[1,1]").unwrap();
    let join = ctx.cluster_address().unwrap();
    let wrong = Secret::new("not-the-cluster-secret-at-all").unwrap();
    let err = bounded(move || {
        run_worker(WorkerOptions {
            join,
            slots: 1,
            secret: wrong,
            bind: None,
        })
    })
    .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("secret"), "says why: {text}");
    assert!(
        !text.contains("not-the-cluster-secret-at-all"),
        "never prints a secret: {text}"
    );
    let got = bounded(move || ctx.run_job(slow_sums(500, 5, 3, 0))).unwrap();
    assert_eq!(got, model_sums(500, 5));
}

#[test]
fn a_quic_driver_takes_its_secret_from_code_and_runs_jobs_on_a_worker_that_knows_it() {
    let secret = Secret::new("a-secret-set-in-code-0123").unwrap();
    let ctx = Context::builder("quic://127.0.0.1:0")
        .secret(secret.clone())
        .build()
        .unwrap();
    let join = ctx.cluster_address().unwrap();
    let worker = std::thread::spawn(move || {
        run_worker(WorkerOptions {
            join,
            slots: 2,
            secret,
            bind: None,
        })
    });
    let got = bounded(move || ctx.run_job(slow_sums(500, 5, 3, 0))).unwrap();
    assert_eq!(got, model_sums(500, 5));
    // Dropping the context shuts the worker down.
    let stopped = bounded(move || worker.join());
    assert!(stopped.unwrap().is_ok());
}
