//! The scheduler is a pure state machine, so it is tested by feeding it
//! thousands of random event schedules — successes, task failures, fetch
//! failures, lost map outputs, stale and repeated reports — and checking every
//! command against a model of the cluster (which outputs exist, which tasks
//! run, which failures must end the job).

use barks_runtime::dag::{Command, Event, Scheduler, TaskId};
use barks_runtime::dag::{StageDesc, StageKind};
use proptest::prelude::*;
use std::collections::HashMap;

/// A random DAG as plans make them: stage i's parents are among stages < i,
/// always including i-1, so every stage is an ancestor of the result (last).
fn dag() -> impl Strategy<Value = Vec<StageDesc>> {
    (1usize..6)
        .prop_flat_map(|n| {
            // Some stages without partitions, most with a few.
            let parts =
                proptest::collection::vec(prop_oneof![1 => Just(0usize), 6 => 1usize..5], n);
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

/// One step of a schedule. Numbers pick among what exists at that moment
/// (modulo its count), so any sequence is meaningful.
#[derive(Debug, Clone)]
enum Action {
    /// A running task succeeds.
    Succeed(usize),
    /// A running task fails by itself.
    Fail(usize),
    /// A running task cannot fetch a map output: of a parent it reads
    /// (`source` < 8) or, to test bad reports, of stage `source - 8`.
    FetchFail {
        task: usize,
        source: usize,
        partition: usize,
    },
    /// A worker holding some map outputs of a stage is lost.
    Lose {
        stage: usize,
        partitions: Vec<usize>,
    },
    /// A task event that must be ignored: an earlier report sent again, or a
    /// success of an attempt that was never launched.
    Stale(usize),
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        6 => any::<usize>().prop_map(Action::Succeed),
        1 => any::<usize>().prop_map(Action::Fail),
        3 => (any::<usize>(), 0usize..10, 0usize..6)
            .prop_map(|(task, source, partition)| Action::FetchFail { task, source, partition }),
        4 => (any::<usize>(), proptest::collection::vec(0usize..6, 1..4))
            .prop_map(|(stage, partitions)| Action::Lose { stage, partitions }),
        1 => any::<usize>().prop_map(Action::Stale),
    ]
}

/// What the model expects an event to end the job with.
#[derive(Debug, PartialEq)]
enum Expect {
    Nothing,
    /// A partition used up its attempts.
    TaskFailure {
        stage: usize,
        partition: usize,
        message: String,
    },
    /// A stage was made incomplete one time too many.
    StageFailure {
        stage: usize,
        partition: usize,
        last_fetch_failure: Option<String>,
    },
}

/// The cluster as the test sees it, independent of the scheduler's state:
/// which outputs exist, which tasks run, and the failure budgets.
struct Model<'a> {
    stages: &'a [StageDesc],
    max_attempts: u32,
    max_stage_attempts: u32,
    /// Per stage and partition: the event number that produced the output (or
    /// the result), if it exists.
    outputs: Vec<Vec<Option<u64>>>,
    /// Running tasks and the event number they were launched at.
    running: Vec<(TaskId, u64)>,
    last_attempt: HashMap<(usize, usize), u32>,
    failures: HashMap<(usize, usize), u32>,
    /// Times lost outputs made each stage incomplete.
    losses: Vec<u32>,
    last_fetch_failure: Vec<Option<String>>,
    /// Whether StageCompleted was emitted since the stage last lost outputs.
    reported_complete: Vec<bool>,
    /// Whether the stage was submitted (launched or completed) yet.
    submitted: Vec<bool>,
    /// Task events already handled, to send again.
    reported: Vec<Event>,
    /// Events handled so far (start is 0).
    clock: u64,
    over: bool,
    succeeded: bool,
    lost_anything: bool,
}

impl<'a> Model<'a> {
    fn new(stages: &'a [StageDesc], max_attempts: u32, max_stage_attempts: u32) -> Self {
        Model {
            stages,
            max_attempts,
            max_stage_attempts,
            outputs: stages.iter().map(|s| vec![None; s.partitions]).collect(),
            running: Vec::new(),
            last_attempt: HashMap::new(),
            failures: HashMap::new(),
            losses: vec![0; stages.len()],
            last_fetch_failure: vec![None; stages.len()],
            reported_complete: vec![false; stages.len()],
            submitted: vec![false; stages.len()],
            reported: Vec::new(),
            clock: 0,
            over: false,
            succeeded: false,
            lost_anything: false,
        }
    }

    fn has_all_outputs(&self, stage: usize) -> bool {
        self.outputs[stage].iter().all(Option::is_some)
    }

    fn is_running(&self, stage: usize, partition: usize) -> bool {
        self.running
            .iter()
            .any(|(t, _)| (t.stage, t.partition) == (stage, partition))
    }

    /// Checks one batch of commands, the answer to an event that the model
    /// expected to end the job with `expect`.
    fn apply(&mut self, commands: &[Command], expect: Expect) {
        let mut ended_with = Expect::Nothing;
        for (i, c) in commands.iter().enumerate() {
            assert!(!self.over, "{c:?} after the job ended");
            match c {
                Command::Launch(t) => self.launched(*t),
                Command::StageCompleted(s) => {
                    assert!(
                        self.has_all_outputs(*s),
                        "stage {s} completed without all outputs"
                    );
                    assert!(self.submitted[*s] || self.stages[*s].partitions == 0);
                    assert!(
                        !self.reported_complete[*s],
                        "stage {s} completed twice without a loss"
                    );
                    self.reported_complete[*s] = true;
                    self.submitted[*s] = true;
                }
                Command::JobSucceeded => {
                    let result = self.stages.len() - 1;
                    assert_eq!(
                        commands.get(i.wrapping_sub(1)),
                        Some(&Command::StageCompleted(result))
                    );
                    self.over = true;
                    self.succeeded = true;
                }
                Command::JobFailed {
                    stage,
                    partition,
                    attempts,
                    message,
                } => {
                    self.over = true;
                    ended_with = self.failure_of(*stage, *partition, *attempts, message, &expect);
                }
            }
        }
        assert_eq!(ended_with, expect, "commands {commands:?}");
        if !self.over {
            self.check_nothing_idles();
        }
    }

    fn launched(&mut self, t: TaskId) {
        let desc = &self.stages[t.stage];
        for &p in &desc.parents {
            assert!(
                self.has_all_outputs(p) && self.reported_complete[p],
                "{t:?} launched while its parent stage {p} is incomplete"
            );
        }
        assert!(t.partition < desc.partitions, "{t:?} out of range");
        assert!(
            self.outputs[t.stage][t.partition].is_none(),
            "{t:?} launched but finished"
        );
        assert!(
            !self.is_running(t.stage, t.partition),
            "{t:?} launched while running"
        );
        let last = self.last_attempt.entry((t.stage, t.partition)).or_default();
        assert_eq!(t.attempt, *last + 1, "attempts are numbered 1, 2, ...");
        *last = t.attempt;
        self.submitted[t.stage] = true;
        self.running.push((t, self.clock));
    }

    /// Which expectation a JobFailed meets (checked against `expect`).
    fn failure_of(
        &self,
        stage: usize,
        partition: usize,
        attempts: u32,
        message: &str,
        expect: &Expect,
    ) -> Expect {
        if let Expect::StageFailure {
            last_fetch_failure, ..
        } = expect
        {
            assert!(message.contains("kept getting lost"), "{message}");
            if let Some(last) = last_fetch_failure {
                assert!(message.contains(last.as_str()), "{message} lacks {last}");
            }
            assert_eq!(attempts, self.max_stage_attempts + 1);
            return Expect::StageFailure {
                stage,
                partition,
                last_fetch_failure: last_fetch_failure.clone(),
            };
        }
        assert_eq!(
            attempts, self.max_attempts,
            "a job fails only after the last attempt"
        );
        // The root error is kept (a bad fetch failure report says so first).
        let root = match expect {
            Expect::TaskFailure { message: root, .. } if message.ends_with(root.as_str()) => root,
            _ => message,
        };
        Expect::TaskFailure {
            stage,
            partition,
            message: root.to_string(),
        }
    }

    /// The scheduler's idea of which outputs exist is the model's.
    fn check_outputs(&self, s: &Scheduler) {
        for (stage, outputs) in self.outputs.iter().enumerate() {
            for (p, out) in outputs.iter().enumerate() {
                assert_eq!(
                    s.has_output(stage, p),
                    out.is_some(),
                    "output {p} of stage {stage}"
                );
            }
            assert!(!s.has_output(stage, outputs.len()), "no such partition");
        }
    }

    /// After every batch: every stage whose parents are complete was
    /// submitted and runs every partition that is not finished.
    fn check_nothing_idles(&self) {
        for (s, desc) in self.stages.iter().enumerate() {
            if !desc.parents.iter().all(|&p| self.reported_complete[p]) {
                continue;
            }
            assert!(
                self.submitted[s],
                "stage {s} is ready but was not submitted"
            );
            for p in 0..desc.partitions {
                assert!(
                    self.outputs[s][p].is_some() || self.is_running(s, p),
                    "stage {s} may run but partition {p} is idle"
                );
            }
            if desc.partitions == 0 || self.has_all_outputs(s) {
                assert!(
                    self.reported_complete[s],
                    "stage {s} is complete but was not reported"
                );
            }
        }
    }

    /// Turns an action into the event to send (some task must be running)
    /// and the end the model expects it to cause.
    fn event_for(&mut self, action: &Action) -> (Event, Expect) {
        self.clock += 1;
        let take = |running: &mut Vec<(TaskId, u64)>, i: usize| running.remove(i % running.len());
        match action {
            Action::Succeed(i) => {
                let (t, _) = take(&mut self.running, *i);
                self.outputs[t.stage][t.partition] = Some(self.clock);
                (Event::TaskSucceeded(t), Expect::Nothing)
            }
            Action::Fail(i) => {
                let (t, _) = take(&mut self.running, *i);
                let message = format!("boom {t:?}");
                let expect = self.task_failure(t, &message);
                (Event::TaskFailed { task: t, message }, expect)
            }
            Action::FetchFail {
                task,
                source,
                partition,
            } => {
                let (t, launched) = take(&mut self.running, *task);
                let parents = &self.stages[t.stage].parents;
                let map_stage = match source.checked_sub(8) {
                    None if !parents.is_empty() => parents[source % parents.len()],
                    None => *source,
                    Some(raw) => raw,
                };
                let parts = self
                    .stages
                    .get(map_stage)
                    .map_or(1, |s| s.partitions.max(1));
                let map_partition = partition % (parts + 1);
                let message = format!("cannot fetch {map_stage}/{map_partition} for {t:?}");
                let expect = if parents.contains(&map_stage)
                    && map_partition < self.stages[map_stage].partitions
                {
                    self.last_fetch_failure[map_stage] = Some(message.clone());
                    match self.outputs[map_stage][map_partition] {
                        Some(since) if since > launched => Expect::Nothing, // a stale copy failed
                        _ => self.lose(map_stage, &[map_partition]),
                    }
                } else {
                    self.task_failure(t, &message)
                };
                let event = Event::FetchFailed {
                    task: t,
                    map_stage,
                    map_partition,
                    message,
                };
                (event, expect)
            }
            Action::Lose { stage, partitions } => {
                // Sometimes a stage that does not exist.
                let stage = stage % (self.stages.len() + 1);
                let is_map = self
                    .stages
                    .get(stage)
                    .is_some_and(|s| s.kind != StageKind::Result);
                let expect = if is_map {
                    self.lose(stage, partitions)
                } else {
                    Expect::Nothing
                };
                let partitions = partitions.clone();
                (Event::OutputsLost { stage, partitions }, expect)
            }
            Action::Stale(i) => {
                let event = match self.reported.get(i / 2 % self.reported.len().max(1)) {
                    Some(earlier) if i % 2 == 0 => earlier.clone(),
                    _ => {
                        let (running, _) = self.running[i % self.running.len()];
                        let next = running.attempt + 1;
                        Event::TaskSucceeded(TaskId {
                            attempt: next,
                            ..running
                        })
                    }
                };
                (event, Expect::Nothing)
            }
        }
    }

    fn task_failure(&mut self, t: TaskId, message: &str) -> Expect {
        let failures = self.failures.entry((t.stage, t.partition)).or_default();
        *failures += 1;
        if *failures >= self.max_attempts {
            Expect::TaskFailure {
                stage: t.stage,
                partition: t.partition,
                message: message.to_string(),
            }
        } else {
            Expect::Nothing
        }
    }

    /// Outputs of a ShuffleMap stage are lost; counts against the stage if it
    /// was complete.
    fn lose(&mut self, stage: usize, partitions: &[usize]) -> Expect {
        let was_complete = self.reported_complete[stage];
        let mut last_lost = None;
        for &p in partitions {
            if let Some(out) = self.outputs[stage].get_mut(p)
                && out.take().is_some()
            {
                last_lost = Some(p);
            }
        }
        let Some(partition) = last_lost else {
            return Expect::Nothing;
        };
        self.lost_anything = true;
        self.reported_complete[stage] = false;
        if !was_complete {
            return Expect::Nothing;
        }
        self.losses[stage] += 1;
        if self.losses[stage] > self.max_stage_attempts {
            let last_fetch_failure = self.last_fetch_failure[stage].clone();
            return Expect::StageFailure {
                stage,
                partition,
                last_fetch_failure,
            };
        }
        Expect::Nothing
    }
}

/// Runs a schedule against the model; after the actions, running tasks
/// succeed one by one. Returns the model at the end.
fn run<'a>(
    stages: &'a [StageDesc],
    max_attempts: u32,
    max_stage_attempts: u32,
    actions: &[Action],
) -> Model<'a> {
    let mut s = Scheduler::new(stages, max_attempts).with_max_stage_attempts(max_stage_attempts);
    let mut model = Model::new(stages, max_attempts, max_stage_attempts);
    let start = s.start();
    model.apply(&start, Expect::Nothing);
    let mut actions = actions.iter();
    let mut steps = 0;
    while !model.over {
        assert!(!model.running.is_empty(), "the job is stuck: nothing runs");
        steps += 1;
        assert!(steps < 10_000, "the job does not end");
        let action = actions.next().cloned().unwrap_or(Action::Succeed(0));
        let (event, expect) = model.event_for(&action);
        let commands = s.handle(event.clone());
        match (&action, &event) {
            (Action::Stale(_), _) => assert!(
                commands.is_empty(),
                "a stale {event:?} was not ignored: {commands:?}"
            ),
            (_, Event::OutputsLost { .. }) => {}
            _ => model.reported.push(event),
        }
        model.apply(&commands, expect);
        assert_eq!(s.is_over(), model.over);
        model.check_outputs(&s);
    }
    for event in model.reported.clone() {
        assert!(s.handle(event).is_empty(), "nothing happens after the end");
    }
    model
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn every_fault_schedule_follows_the_model(
        stages in dag(),
        max_attempts in 1u32..6,
        max_stage_attempts in 0u32..4,
        actions in proptest::collection::vec(action(), 10..100),
    ) {
        let model = run(&stages, max_attempts, max_stage_attempts, &actions);
        if model.succeeded {
            let result = stages.len() - 1;
            prop_assert!(model.has_all_outputs(result), "the job succeeded without every result");
        }
    }

    #[test]
    fn without_lost_outputs_every_stage_completes_once(
        stages in dag(),
        max_attempts in 1u32..4,
        actions in proptest::collection::vec(
            prop_oneof![4 => any::<usize>().prop_map(Action::Succeed), 1 => any::<usize>().prop_map(Action::Fail)],
            0..60,
        ),
    ) {
        let model = run(&stages, max_attempts, 0, &actions);
        prop_assert!(!model.lost_anything);
        if model.succeeded {
            prop_assert!(model.reported_complete.iter().all(|&c| c), "every stage completed");
        }
    }
}

/// A map stage of `maps` partitions read by a result stage of `reduces`.
fn two_stages(maps: usize, reduces: usize) -> Vec<StageDesc> {
    vec![
        StageDesc {
            id: 0,
            kind: StageKind::ShuffleMap { shuffle: 0 },
            partitions: maps,
            parents: vec![],
        },
        StageDesc {
            id: 1,
            kind: StageKind::Result,
            partitions: reduces,
            parents: vec![0],
        },
    ]
}

/// The fields of the JobFailed that `commands` must consist of.
fn job_failure(commands: &[Command]) -> (usize, usize, u32, &str) {
    match commands {
        [
            Command::JobFailed {
                stage,
                partition,
                attempts,
                message,
            },
        ] => (*stage, *partition, *attempts, message),
        _ => panic!("the job should have failed: {commands:?}"),
    }
}

fn task(stage: usize, partition: usize, attempt: u32) -> TaskId {
    TaskId {
        stage,
        partition,
        attempt,
    }
}

fn launches(tasks: &[(usize, usize, u32)]) -> Vec<Command> {
    tasks
        .iter()
        .map(|&(s, p, a)| Command::Launch(task(s, p, a)))
        .collect()
}

fn succeed(s: &mut Scheduler, stage: usize, partition: usize, attempt: u32) -> Vec<Command> {
    s.handle(Event::TaskSucceeded(task(stage, partition, attempt)))
}

fn fetch_failed(
    s: &mut Scheduler,
    t: TaskId,
    map_stage: usize,
    map_partition: usize,
    message: &str,
) -> Vec<Command> {
    s.handle(Event::FetchFailed {
        task: t,
        map_stage,
        map_partition,
        message: message.into(),
    })
}

/// Completes stage 0 of `two_stages(maps, _)` from a fresh start.
fn finish_maps(s: &mut Scheduler, maps: usize) -> Vec<Command> {
    s.start();
    (0..maps).flat_map(|p| succeed(s, 0, p, 1)).collect()
}

#[test]
fn a_worker_lost_in_the_middle_of_a_reduce_stage() {
    // max_attempts 1: lost outputs and fetch failures must not use attempts.
    let mut s = Scheduler::new(&two_stages(3, 2), 1);
    let done = finish_maps(&mut s, 3);
    assert_eq!(done[0], Command::StageCompleted(0));
    assert_eq!(done[1..], launches(&[(1, 0, 1), (1, 1, 1)]));
    assert!(succeed(&mut s, 1, 0, 1).is_empty());
    // The worker holding map outputs 0 and 2 dies; reduce 1 is still running.
    let lost = s.handle(Event::OutputsLost {
        stage: 0,
        partitions: vec![0, 2],
    });
    assert_eq!(lost, launches(&[(0, 0, 2), (0, 2, 2)]));
    assert!(!s.has_output(0, 0) && s.has_output(0, 1) && !s.has_output(0, 2));
    // Reduce 1 then fails to fetch output 0: it waits, output 0 is already
    // being recomputed.
    assert!(fetch_failed(&mut s, task(1, 1, 1), 0, 0, "worker gone").is_empty());
    assert!(succeed(&mut s, 0, 2, 2).is_empty());
    let mut again = vec![Command::StageCompleted(0)];
    again.extend(launches(&[(1, 1, 2)]));
    assert_eq!(
        succeed(&mut s, 0, 0, 2),
        again,
        "only the unfinished reduce is relaunched"
    );
    assert_eq!(
        succeed(&mut s, 1, 1, 2),
        vec![Command::StageCompleted(1), Command::JobSucceeded]
    );
}

#[test]
fn a_fetch_failure_while_the_parent_has_several_lost_partitions() {
    let mut s = Scheduler::new(&two_stages(4, 1), 4).with_max_stage_attempts(1);
    finish_maps(&mut s, 4);
    let lost = s.handle(Event::OutputsLost {
        stage: 0,
        partitions: vec![1, 3],
    });
    assert_eq!(lost, launches(&[(0, 1, 2), (0, 3, 2)]));
    // The reducer names an output that is already lost: nothing new to do, and
    // the stage was made incomplete once only.
    assert!(fetch_failed(&mut s, task(1, 0, 1), 0, 1, "no block 1").is_empty());
    assert!(
        succeed(&mut s, 0, 1, 2).is_empty(),
        "the reducer waits for output 3"
    );
    let mut again = vec![Command::StageCompleted(0)];
    again.extend(launches(&[(1, 0, 2)]));
    assert_eq!(succeed(&mut s, 0, 3, 2), again);
    // A second loss is one more than the limit of 1.
    let end = fetch_failed(&mut s, task(1, 0, 2), 0, 2, "no block 2 on 10.0.0.7");
    let (stage, partition, attempts, message) = job_failure(&end);
    assert_eq!((stage, partition, attempts), (0, 2, 2));
    assert!(message.contains("stage 0 kept getting lost"), "{message}");
    assert!(message.contains("no block 2 on 10.0.0.7"), "{message}");
    assert!(s.is_over());
    assert!(
        succeed(&mut s, 1, 0, 2).is_empty(),
        "nothing happens after the end"
    );
}

#[test]
fn lost_outputs_two_levels_up_are_recomputed_first() {
    // 0 -> 1 -> 2 (result): a reducer of 2 loses an output of 1, whose
    // recomputation then finds an output of 0 gone as well.
    let stages = vec![
        StageDesc {
            id: 0,
            kind: StageKind::ShuffleMap { shuffle: 0 },
            partitions: 2,
            parents: vec![],
        },
        StageDesc {
            id: 1,
            kind: StageKind::ShuffleMap { shuffle: 1 },
            partitions: 2,
            parents: vec![0],
        },
        StageDesc {
            id: 2,
            kind: StageKind::Result,
            partitions: 2,
            parents: vec![1],
        },
    ];
    let mut s = Scheduler::new(&stages, 1);
    finish_maps(&mut s, 2);
    succeed(&mut s, 1, 0, 1);
    succeed(&mut s, 1, 1, 1);
    // Stage 0 loses an output: only stage 0 is recomputed, the reducers read
    // stage 1, which is complete.
    assert_eq!(
        s.handle(Event::OutputsLost {
            stage: 0,
            partitions: vec![1]
        }),
        launches(&[(0, 1, 2)])
    );
    assert!(
        succeed(&mut s, 2, 0, 1).is_empty(),
        "a running task may still succeed"
    );
    // Stage 1's output 0 is gone too: it waits for stage 0.
    assert!(fetch_failed(&mut s, task(2, 1, 1), 1, 0, "gone").is_empty());
    let mut zero = vec![Command::StageCompleted(0)];
    zero.extend(launches(&[(1, 0, 2)]));
    assert_eq!(succeed(&mut s, 0, 1, 2), zero);
    // Its recomputation cannot fetch stage 0's output 0 either.
    assert_eq!(
        fetch_failed(&mut s, task(1, 0, 2), 0, 0, "gone"),
        launches(&[(0, 0, 2)])
    );
    let mut zero = vec![Command::StageCompleted(0)];
    zero.extend(launches(&[(1, 0, 3)]));
    assert_eq!(succeed(&mut s, 0, 0, 2), zero);
    let mut one = vec![Command::StageCompleted(1)];
    one.extend(launches(&[(2, 1, 2)]));
    assert_eq!(succeed(&mut s, 1, 0, 3), one);
    assert_eq!(
        succeed(&mut s, 2, 1, 2),
        vec![Command::StageCompleted(2), Command::JobSucceeded]
    );
}

#[test]
fn a_fetch_failure_on_an_output_recomputed_since_the_task_started_keeps_it() {
    let mut s = Scheduler::new(&two_stages(2, 1), 1).with_max_stage_attempts(1);
    finish_maps(&mut s, 2);
    s.handle(Event::OutputsLost {
        stage: 0,
        partitions: vec![0],
    });
    // The recomputed output is in place before the old reducer reports.
    assert_eq!(succeed(&mut s, 0, 0, 2), vec![Command::StageCompleted(0)]);
    let retry = fetch_failed(&mut s, task(1, 0, 1), 0, 0, "old copy gone");
    assert!(
        s.has_output(0, 0),
        "the driver keeps the new copy's location"
    );
    assert_eq!(
        retry,
        launches(&[(1, 0, 2)]),
        "relaunched at once, the output is kept"
    );
    // The new attempt read the new copy: if that fails, it is lost for real.
    let end = fetch_failed(&mut s, task(1, 0, 2), 0, 0, "new copy gone");
    assert_eq!(job_failure(&end).0, 0);
}

#[test]
fn a_fetch_failure_naming_a_stage_the_task_does_not_read_is_a_task_failure() {
    let mut s = Scheduler::new(&two_stages(1, 1), 2);
    finish_maps(&mut s, 1);
    assert_eq!(
        fetch_failed(&mut s, task(1, 0, 1), 1, 0, "odd"),
        launches(&[(1, 0, 2)])
    );
    let end = fetch_failed(&mut s, task(1, 0, 2), 0, 5, "odd");
    let (stage, partition, attempts, message) = job_failure(&end);
    assert_eq!((stage, partition, attempts), (1, 0, 2));
    assert!(
        message.contains("does not read") && message.ends_with("odd"),
        "{message}"
    );
}

#[test]
fn results_and_unfinished_partitions_are_never_lost() {
    let mut s = Scheduler::new(&two_stages(2, 2), 1).with_max_stage_attempts(0);
    s.start();
    assert!(succeed(&mut s, 0, 0, 1).is_empty());
    // Partition 1 is still running and nothing of stage 0 was complete yet:
    // output 0 is recomputed without counting against the stage.
    assert_eq!(
        s.handle(Event::OutputsLost {
            stage: 0,
            partitions: vec![1, 0, 9]
        }),
        launches(&[(0, 0, 2)])
    );
    succeed(&mut s, 0, 1, 1);
    succeed(&mut s, 0, 0, 2);
    succeed(&mut s, 1, 0, 1);
    assert!(
        s.handle(Event::OutputsLost {
            stage: 1,
            partitions: vec![0]
        })
        .is_empty()
    );
    assert!(
        s.handle(Event::OutputsLost {
            stage: 7,
            partitions: vec![0]
        })
        .is_empty()
    );
    assert_eq!(
        succeed(&mut s, 1, 1, 1),
        vec![Command::StageCompleted(1), Command::JobSucceeded]
    );
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
    let first = task(0, 0, 1);
    assert_eq!(s.start(), vec![Command::Launch(first)]);
    let retry = s.handle(Event::TaskFailed {
        task: first,
        message: "x".into(),
    });
    assert_eq!(retry, launches(&[(0, 0, 2)]));
    let end = s.handle(Event::TaskFailed {
        task: task(0, 0, 2),
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
    let mut s = Scheduler::new(&two_stages(0, 0), 1);
    assert_eq!(
        s.start(),
        vec![
            Command::StageCompleted(0),
            Command::StageCompleted(1),
            Command::JobSucceeded
        ]
    );
}
