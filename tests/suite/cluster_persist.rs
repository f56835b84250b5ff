//! `persist()` on a cluster: a driver loop (k-means style) persists a
//! dataset once and reads it in every later job; workers fetch the
//! partitions they need from the driver and keep them.

use barks::prelude::*;

#[barks::job]
fn keep(values: Vec<i64>, partitions: usize) -> Persisted<i64> {
    pipeline! {
        let xs = parallelize(values, partitions);
        xs.map(|x: i64| x * 3).persist()
    }
}

#[barks::job]
fn shifted_sum(data: Persisted<i64>, shift: i64) -> i64 {
    pipeline! {
        let xs = persisted(data);
        xs.map(move |x| x + shift).fold(0, |a, b| a + b)
    }
}

#[test]
fn a_driver_loop_reads_persisted_data_on_every_iteration() {
    let values: Vec<i64> = (0..5000).map(|i| (i * 7919) % 1000 - 500).collect();
    for master in ["local-cluster[2,1]", "local-cluster[3,1]"] {
        let ctx = Context::new(master).unwrap();
        let handle = ctx.run_job(keep(values.clone(), 7)).unwrap();
        for shift in 0..4 {
            let got = ctx.run_job(shifted_sum(handle, shift)).unwrap();
            let expected: i64 = values.iter().map(|x| x * 3 + shift).sum();
            assert_eq!(got, expected, "{master}, iteration {shift}");
        }
        handle.unpersist();
        let err = ctx.run_job(shifted_sum(handle, 0)).unwrap_err();
        assert!(err.to_string().contains("not in memory"), "{err}");
    }
}
