//! A worker killed with SIGKILL in the middle of a shuffle-heavy query
//! changes no answer. A test binary of its own: its timing must not compete
//! with other tests (decision 0040).

#[path = "tpch/reference.rs"]
mod reference;

use barks_sql::Session;
use std::sync::mpsc;
use std::time::Duration;

#[test]
fn a_worker_killed_during_a_shuffle_heavy_query_changes_nothing() {
    let dir = reference::data_dir();
    let session = Session::builder("local-cluster[3,1]")
        .shuffle_partitions(6)
        .context(|c| c.worker_timeout(Duration::from_millis(1500)))
        .build()
        .unwrap();
    reference::register_tables(&session, &dir);
    let victim = session.context().local_worker_pids()[1];
    let (tx, rx) = mpsc::channel();
    let runner = session.clone();
    std::thread::spawn(move || {
        // Q18 (a join of lineitem with its own aggregation, then orders and
        // customer) back to back, so the kill lands in the middle of one.
        for _ in 0..4 {
            let result = runner
                .sql(&reference::query(18))
                .and_then(|df| df.collect());
            if tx.send(result).is_err() {
                return;
            }
        }
    });
    std::thread::sleep(Duration::from_millis(400));
    // SAFETY: a plain syscall on a child process this test started.
    assert_eq!(unsafe { libc::kill(victim as i32, libc::SIGKILL) }, 0);
    for run in 0..4 {
        let batches = rx
            .recv_timeout(Duration::from_secs(300))
            .expect("a query did not finish after a worker was killed")
            .unwrap_or_else(|e| panic!("run {run} failed after a worker was killed: {e}"));
        reference::check_answer(18, &batches, &dir).unwrap();
    }
}
