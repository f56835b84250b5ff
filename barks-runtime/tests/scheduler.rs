//! The scheduler is a pure state machine, so it is tested by feeding it
//! thousands of random event schedules and checking its invariants against
//! a simple model of what must happen.

use barks_runtime::plan::{StageDesc, StageKind};
use barks_runtime::scheduler::{Command, Event, Scheduler, TaskId};
use proptest::prelude::*;
use std::collections::{BTreeSet, HashMap};

/// A random DAG as plans make them: stage i's parents are among stages < i,
/// always including i-1, so every stage is an ancestor of the result (last).
fn dag() -> impl Strategy<Value = Vec<StageDesc>> {
    (1usize..6)
        .prop_flat_map(|n| {
            let parts = proptest::collection::vec(0usize..5, n);
            let parents =
                proptest::collection::vec(proptest::collection::btree_set(0usize..6, 0..3), n);
            (parts, parents)
        })
        .prop_map(|(parts, parents)| {
            let n = parts.len();
            (0..n)
                .map(|i| StageDesc {
                    id: i,
                    kind: if i + 1 == n {
                        StageKind::Result
                    } else {
                        StageKind::ShuffleMap { shuffle: i }
                    },
                    partitions: parts[i],
                    parents: parents[i]
                        .iter()
                        .copied()
                        .filter(|&p| p + 1 < i)
                        .chain(i.checked_sub(1))
                        .collect(),
                })
                .collect()
        })
}

/// Runs a schedule: `outcomes` decides, task by task, whether it fails and
/// which running task finishes next.
fn run(
    stages: &[StageDesc],
    max_attempts: u32,
    outcomes: &[(bool, usize)],
) -> (Vec<Command>, bool) {
    let mut s = Scheduler::new(stages, max_attempts);
    let mut all = Vec::new();
    let mut running: Vec<TaskId> = Vec::new();
    let mut completed: BTreeSet<usize> = BTreeSet::new();
    let mut attempts: HashMap<(usize, usize), u32> = HashMap::new();
    let mut commands = s.start();
    let mut step = 0;
    loop {
        for c in &commands {
            match c {
                Command::Launch(t) => {
                    // A stage runs only when every parent is complete.
                    for p in &stages[t.stage].parents {
                        assert!(
                            completed.contains(p),
                            "stage {} launched before parent {p}",
                            t.stage
                        );
                    }
                    let a = attempts.entry((t.stage, t.partition)).or_default();
                    *a += 1;
                    assert_eq!(t.attempt, *a, "attempts are numbered 1, 2, ...");
                    assert!(t.attempt <= max_attempts);
                    running.push(*t);
                }
                Command::StageCompleted(st) => {
                    assert!(completed.insert(*st), "stage {st} completed twice")
                }
                Command::JobSucceeded | Command::JobFailed { .. } => assert!(s.is_over()),
            }
        }
        all.extend(commands.drain(..));
        if s.is_over() || running.is_empty() {
            break;
        }
        let (fail, pick) = outcomes.get(step).copied().unwrap_or((false, 0));
        step += 1;
        let t = running.remove(pick % running.len());
        commands = if fail {
            s.handle(Event::TaskFailed {
                task: t,
                message: format!("boom {t:?}"),
            })
        } else {
            s.handle(Event::TaskSucceeded(t))
        };
    }
    let over = s.is_over();
    (all, over)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn every_schedule_ends_in_success_or_the_root_error(
        stages in dag(),
        max_attempts in 1u32..4,
        outcomes in proptest::collection::vec((proptest::bool::weighted(0.2), 0usize..8), 0..80),
    ) {
        let (commands, over) = run(&stages, max_attempts, &outcomes);
        prop_assert!(over, "the job must end: {commands:?}");
        let succeeded = commands.iter().filter(|c| **c == Command::JobSucceeded).count();
        let failed: Vec<_> = commands.iter().filter(|c| matches!(c, Command::JobFailed { .. })).collect();
        prop_assert_eq!(succeeded + failed.len(), 1, "exactly one end");
        if succeeded == 1 {
            // Every stage completed exactly once and the result stage last.
            let done: Vec<usize> = commands.iter().filter_map(|c| match c { Command::StageCompleted(s) => Some(*s), _ => None }).collect();
            prop_assert_eq!(done.len(), stages.len());
            prop_assert_eq!(*done.last().unwrap(), stages.len() - 1);
            prop_assert_eq!(commands.last(), Some(&Command::JobSucceeded));
        } else if let Command::JobFailed { attempts, message, .. } = failed[0] {
            prop_assert_eq!(*attempts, max_attempts, "a job fails only after the last attempt");
            prop_assert!(message.starts_with("boom"), "the root error is kept");
        }
    }
}

#[test]
fn a_failed_task_is_retried_until_its_attempts_are_used_up() {
    let stages = vec![StageDesc {
        id: 0,
        kind: StageKind::Result,
        partitions: 1,
        parents: vec![],
    }];
    let mut s = Scheduler::new(&stages, 2);
    let first = TaskId {
        stage: 0,
        partition: 0,
        attempt: 1,
    };
    assert_eq!(s.start(), vec![Command::Launch(first)]);
    let retry = s.handle(Event::TaskFailed {
        task: first,
        message: "x".into(),
    });
    assert_eq!(
        retry,
        vec![Command::Launch(TaskId {
            attempt: 2,
            ..first
        })]
    );
    let end = s.handle(Event::TaskFailed {
        task: TaskId {
            attempt: 2,
            ..first
        },
        message: "last".into(),
    });
    assert_eq!(
        end,
        vec![Command::JobFailed {
            stage: 0,
            partition: 0,
            attempts: 2,
            message: "last".into()
        }]
    );
    assert!(
        s.handle(Event::TaskSucceeded(first)).is_empty(),
        "nothing happens after the end"
    );
}

#[test]
fn stages_without_partitions_complete_at_once() {
    let stages = vec![
        StageDesc {
            id: 0,
            kind: StageKind::ShuffleMap { shuffle: 7 },
            partitions: 0,
            parents: vec![],
        },
        StageDesc {
            id: 1,
            kind: StageKind::Result,
            partitions: 0,
            parents: vec![0],
        },
    ];
    let mut s = Scheduler::new(&stages, 1);
    assert_eq!(
        s.start(),
        vec![
            Command::StageCompleted(0),
            Command::StageCompleted(1),
            Command::JobSucceeded
        ]
    );
}
