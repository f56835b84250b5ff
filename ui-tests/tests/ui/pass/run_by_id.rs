use barks::prelude::*;

#[barks::job]
fn squares(n: i64) -> Vec<(i64, u64)> {
    pipeline! {
        let numbers = range(n);
        let squares = numbers.map(|x| (x * x, 1u64)).reduce_by_key(|a, b| a + b);
        squares.sort_by_key(true).collect()
    }
}

fn main() {
    // What a driver sends a worker is only the plan's description: the job's
    // id and its encoded arguments. The worker finds the job by id in its own
    // registry and rebuilds the same plan.
    let job = squares(4);
    let sent = job.plan(2).unwrap().desc;
    assert_eq!(sent.job, job.id());
    let def = barks::runtime::find_job(&sent.job).unwrap();
    assert_eq!(def.name, "squares");
    let rebuilt = (def.build)(&sent.args, sent.default_parallelism).unwrap();
    assert_eq!(rebuilt.desc, sent);
    assert!(barks::runtime::find_job("no::such::job#0").is_err());
    assert_eq!(job.run_on("local[2]").unwrap(), vec![(0, 1), (1, 1), (4, 1), (9, 1)]);
}
