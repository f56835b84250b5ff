//! Counters: named numbers that code running inside a task records and the
//! driver reads after the job — Spark's accumulators, made exact under
//! retries.
//!
//! Code that runs in a task (a source's iterator, a closure of the
//! pipeline) records a value with [`add`] or [`set`] under a counter `name`
//! and a `slot`. The slot names the unit of work that must be counted once
//! however often it runs — typically the partition that was read. The
//! engine sets up a collector around every task attempt; what an attempt
//! recorded travels with its result to the driver (inside the task report on
//! a cluster) and is merged there:
//!
//! - the values of a **failed attempt are discarded**;
//! - a slot recorded again by a later successful task (a retry, a stage
//!   recomputed after a worker was lost, another task reading the same
//!   partition) **replaces** the slot's earlier value: nothing is counted
//!   twice.
//!
//! **Scope.** Values are collected per job run. When a run ends — whether it
//! succeeded or failed — every counter it recorded is published on the
//! driver as that run's slots, replacing what an earlier run published under
//! the same name; [`total`] reads the sum. So `total(name)` is the count of
//! the last job run in this process that recorded `name` (after a failed
//! run: of its tasks that succeeded). Counters a run did not record keep
//! their earlier value; [`reset`] forgets one.
//!
//! Values are recorded on the task's own thread (the engine runs a task's
//! iterators on the thread that runs the task); a value recorded on another
//! thread, or outside any task (e.g. while the driver merges partition
//! results), is ignored. A task may record at most [`MAX_TASK_VALUES`]
//! distinct `(name, slot)` pairs: counters are meant for a few values per
//! task, and a task that records more fails with an error that says so.
//!
//! ```
//! use barks_runtime::{Context, counters, range};
//!
//! let ctx = Context::new("local[2]").unwrap();
//! let evens = ctx
//!     .run(|| {
//!         let numbers = range(0, 100, 1, Some(4));
//!         let evens = numbers.map_partitions_with_index(|partition, rows| {
//!             let slot = partition as u64;
//!             let mut odd = 0;
//!             counters::set("odd numbers seen", slot, 0);
//!             rows.filter(move |n| {
//!                 if n % 2 == 1 {
//!                     odd += 1;
//!                     counters::set("odd numbers seen", slot, odd);
//!                 }
//!                 n % 2 == 0
//!             })
//!         });
//!         evens.count()
//!     })
//!     .unwrap();
//! assert_eq!(evens, 50);
//! assert_eq!(counters::total("odd numbers seen"), 50);
//! ```

use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::sync::{LazyLock, Mutex};

/// The most distinct `(name, slot)` pairs one task may record (and one task
/// report may carry).
pub const MAX_TASK_VALUES: usize = 10_000;

/// Adds `delta` to the value of `slot` of counter `name` in the running
/// task (saturating at `u64::MAX`). Ignored outside a task.
pub fn add(name: &str, slot: u64, delta: u64) {
    record(name, slot, |value| *value = value.saturating_add(delta));
}

/// Sets the value of `slot` of counter `name` in the running task. Ignored
/// outside a task.
pub fn set(name: &str, slot: u64, value: u64) {
    record(name, slot, |v| *v = value);
}

/// The sum of counter `name` over its slots, as the last job run in this
/// process that recorded it left it (0 if none did, or after [`reset`]).
pub fn total(name: &str) -> u64 {
    lock_published().get(name).map_or(0, |slots| {
        slots.values().fold(0, |sum, v| sum.saturating_add(*v))
    })
}

/// Forgets the published value of counter `name`.
pub fn reset(name: &str) {
    lock_published().remove(name);
}

/// One recorded value as it crosses the wire in a task report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CounterValue {
    pub name: String,
    pub slot: u64,
    pub value: u64,
}

/// What one task attempt recorded.
#[derive(Debug, Default)]
pub(crate) struct TaskCounters {
    values: HashMap<String, HashMap<u64, u64>>,
    len: usize,
    /// The first value refused because [`MAX_TASK_VALUES`] were recorded.
    refused: Option<(String, u64)>,
}

impl TaskCounters {
    fn record(&mut self, name: &str, slot: u64, update: impl FnOnce(&mut u64)) {
        if let Some(value) = self.values.get_mut(name).and_then(|s| s.get_mut(&slot)) {
            update(value);
            return;
        }
        if self.len >= MAX_TASK_VALUES {
            self.refused.get_or_insert_with(|| (name.to_string(), slot));
            return;
        }
        self.len += 1;
        let mut value = 0;
        update(&mut value);
        self.values
            .entry(name.to_string())
            .or_default()
            .insert(slot, value);
    }

    /// Why the task must fail, if it recorded too many values.
    pub(crate) fn too_many(&self) -> Option<String> {
        self.refused.as_ref().map(|(name, slot)| {
            format!(
                "recorded more than {MAX_TASK_VALUES} counter values (the first one refused: counter `{name}`, slot {slot}); a counter holds a few values per task, e.g. one per partition read"
            )
        })
    }

    /// The values in their wire form.
    pub(crate) fn into_wire(self) -> Vec<CounterValue> {
        self.values
            .into_iter()
            .flat_map(|(name, slots)| {
                slots.into_iter().map(move |(slot, value)| CounterValue {
                    name: name.clone(),
                    slot,
                    value,
                })
            })
            .collect()
    }

    /// The values a task report carried; more than [`MAX_TASK_VALUES`] is
    /// an error (a later duplicate of a `(name, slot)` pair wins).
    pub(crate) fn from_wire(values: Vec<CounterValue>) -> Result<TaskCounters, String> {
        if values.len() > MAX_TASK_VALUES {
            return Err(format!(
                "it carried {} counter values, more than the {MAX_TASK_VALUES} a task may record",
                values.len()
            ));
        }
        let mut counters = TaskCounters::default();
        for v in values {
            counters.record(&v.name, v.slot, |slot| *slot = v.value);
        }
        Ok(counters)
    }
}

/// What the successful tasks of one job run recorded, merged on the driver.
#[derive(Debug, Default)]
pub(crate) struct JobCounters {
    values: HashMap<String, BTreeMap<u64, u64>>,
}

impl JobCounters {
    /// Merges what a successful task recorded: each of its slots replaces
    /// the slot's earlier value.
    pub(crate) fn merge(&mut self, task: TaskCounters) {
        for (name, slots) in task.values {
            self.values.entry(name).or_default().extend(slots);
        }
    }

    /// The sum of counter `name` over the slots this run recorded.
    pub(crate) fn total(&self, name: &str) -> u64 {
        self.values.get(name).map_or(0, |slots| {
            slots.values().fold(0, |sum, v| sum.saturating_add(*v))
        })
    }

    /// Publishes every counter this run recorded (see the module docs).
    pub(crate) fn publish(self) {
        lock_published().extend(self.values);
    }
}

/// Runs `f` as a task attempt: what it records is collected and returned
/// with its result. The enclosing collector (if any) is restored after.
pub(crate) fn collect<R>(f: impl FnOnce() -> R) -> (R, TaskCounters) {
    struct Restore(Option<TaskCounters>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let outer = self.0.take();
            let _ = TASK.try_with(|t| *t.borrow_mut() = outer);
        }
    }
    let outer = TASK.with(|t| t.replace(Some(TaskCounters::default())));
    let _restore = Restore(outer);
    let result = f();
    let counters = TASK.with(|t| t.borrow_mut().take()).unwrap_or_default();
    (result, counters)
}

thread_local! {
    /// The collector of the task running on this thread.
    static TASK: RefCell<Option<TaskCounters>> = const { RefCell::new(None) };
}

fn record(name: &str, slot: u64, update: impl FnOnce(&mut u64)) {
    let _ = TASK.try_with(|t| {
        if let Ok(mut task) = t.try_borrow_mut()
            && let Some(counters) = task.as_mut()
        {
            counters.record(name, slot, update);
        }
    });
}

type Published = HashMap<String, BTreeMap<u64, u64>>;

static PUBLISHED: LazyLock<Mutex<Published>> = LazyLock::new(Mutex::default);

fn lock_published() -> std::sync::MutexGuard<'static, Published> {
    PUBLISHED.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `f` as a task and returns what it recorded.
    fn task(f: impl FnOnce()) -> TaskCounters {
        collect(f).1
    }

    fn run(name: &str, tasks: Vec<TaskCounters>) -> u64 {
        let mut job = JobCounters::default();
        for t in tasks {
            job.merge(t);
        }
        job.publish();
        total(name)
    }

    #[test]
    fn a_slot_recorded_again_replaces_its_value() {
        let first = task(|| {
            add("unit.replace", 0, 2);
            add("unit.replace", 0, 3);
            set("unit.replace", 1, 10);
        });
        // A later task of slot 0 (e.g. a retry) holds 4: it replaces the 5.
        let retry = task(|| add("unit.replace", 0, 4));
        assert_eq!(run("unit.replace", vec![first, retry]), 14);
    }

    /// Counts the rows of each partition of `0..40` into `name`; the first
    /// attempt of partition 2 also records slot 99 and then panics.
    fn count_rows_failing_once(name: &'static str, ctx: &crate::Context) -> u64 {
        let failed = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        ctx.run(|| {
            crate::range(0, 40, 1, Some(4))
                .map_partitions_with_index(move |p, rows| {
                    let rows: Vec<i64> = rows.collect();
                    add(name, p as u64, rows.len() as u64);
                    if p == 2 && !failed.swap(true, std::sync::atomic::Ordering::SeqCst) {
                        add(name, 99, 1000);
                        panic!("the first attempt of partition 2 fails");
                    }
                    rows
                })
                .count()
        })
        .unwrap()
    }

    #[test]
    fn a_failed_attempt_is_discarded_by_the_local_engine() {
        let ctx = crate::Context::new("local[2]")
            .unwrap()
            .with_max_task_attempts(2);
        assert_eq!(count_rows_failing_once("unit.local.retry", &ctx), 40);
        assert_eq!(total("unit.local.retry"), 40);
    }

    #[test]
    fn a_task_recording_too_many_values_fails_its_job() {
        let ctx = crate::Context::new("local[2]").unwrap();
        let err = ctx
            .run(|| {
                crate::range(0, 30_000, 1, Some(2))
                    .map(|n| {
                        add("unit.local.many", n as u64, 1);
                        n
                    })
                    .count()
            })
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("recorded more than 10000 counter values"),
            "{err}"
        );
    }

    #[test]
    fn a_later_run_replaces_the_counter_and_others_are_kept() {
        let one = task(|| {
            for slot in 0..4 {
                set("unit.runs", slot, 1);
            }
            set("unit.runs.other", 0, 7);
        });
        assert_eq!(run("unit.runs", vec![one]), 4);
        // The second run reads only two partitions: slots 2 and 3 are gone.
        let two = task(|| {
            set("unit.runs", 0, 5);
            set("unit.runs", 1, 0);
        });
        assert_eq!(run("unit.runs", vec![two]), 5);
        assert_eq!(total("unit.runs.other"), 7);
        reset("unit.runs.other");
        assert_eq!(total("unit.runs.other"), 0);
        assert_eq!(total("unit.never-recorded"), 0);
    }

    #[test]
    fn nothing_is_recorded_outside_a_task_and_tasks_do_not_share() {
        add("unit.outside", 0, 1);
        let (inner, outer) = collect(|| {
            add("unit.nested", 0, 1);
            let inner = task(|| add("unit.nested", 1, 1));
            add("unit.nested", 0, 1);
            inner
        });
        assert_eq!(
            inner.into_wire(),
            vec![CounterValue {
                name: "unit.nested".into(),
                slot: 1,
                value: 1
            }]
        );
        assert_eq!(
            outer.into_wire(),
            vec![CounterValue {
                name: "unit.nested".into(),
                slot: 0,
                value: 2
            }]
        );
        add("unit.outside", 0, 1);
        assert_eq!(run("unit.outside", vec![]), 0);
    }

    #[test]
    fn the_collector_is_restored_when_a_task_panics() {
        let (_, outer) = collect(|| {
            let panicked = std::panic::catch_unwind(|| {
                collect(|| {
                    add("unit.panic", 1, 1);
                    panic!("boom");
                })
            });
            assert!(panicked.is_err());
            add("unit.panic", 0, 1);
        });
        assert_eq!(outer.into_wire().len(), 1);
    }

    #[test]
    fn values_saturate_instead_of_overflowing() {
        let t = task(|| {
            add("unit.big", 0, u64::MAX);
            add("unit.big", 0, 1);
            set("unit.big", 1, u64::MAX);
        });
        assert_eq!(run("unit.big", vec![t]), u64::MAX);
    }

    #[test]
    fn too_many_values_fail_the_task_and_the_report() {
        let t = task(|| {
            for slot in 0..=MAX_TASK_VALUES as u64 {
                add("unit.many", slot, 1);
            }
            // Values already held still update.
            add("unit.many", 0, 1);
        });
        let why = t.too_many().expect("refused");
        assert!(why.contains(&format!("slot {MAX_TASK_VALUES}")), "{why}");
        assert_eq!(t.into_wire().len(), MAX_TASK_VALUES);

        let wire = (0..=MAX_TASK_VALUES as u64)
            .map(|slot| CounterValue {
                name: "unit.many".into(),
                slot,
                value: 1,
            })
            .collect();
        let err = TaskCounters::from_wire(wire).unwrap_err();
        assert!(err.contains("more than the 10000"), "{err}");
    }

    #[test]
    fn wire_form_round_trips_and_later_duplicates_win() {
        let t = task(|| {
            set("unit.wire", 3, 4);
            set("unit.wire.é", 0, 1);
        });
        let mut wire = t.into_wire();
        wire.push(CounterValue {
            name: "unit.wire".into(),
            slot: 3,
            value: 9,
        });
        let bytes = postcard::to_stdvec(&wire).unwrap();
        let back: Vec<CounterValue> = postcard::from_bytes(&bytes).unwrap();
        let decoded = TaskCounters::from_wire(back).unwrap();
        assert_eq!(run("unit.wire", vec![decoded]), 9);
        assert_eq!(total("unit.wire.é"), 1);
    }
}
