//! Which worker runs which task: the least loaded worker with a free slot,
//! preferring one on which the task has not failed before. Plain data in,
//! plain data out: no I/O, no clock.

use crate::dag::TaskId;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

/// A worker's capacity as placement sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Capacity {
    /// Task slots the worker offered.
    pub slots: usize,
    /// Tasks of the job running on it now.
    pub running: usize,
}

/// Places `pending` tasks on `workers` (by id), in order. Returns where
/// each placed task goes and the tasks that must wait for a free slot.
/// `workers` is updated with the tasks placed.
pub(super) fn place(
    pending: VecDeque<TaskId>,
    workers: &mut BTreeMap<u64, Capacity>,
    failed_on: &HashMap<(usize, usize), HashSet<u64>>,
) -> (Vec<(TaskId, u64)>, VecDeque<TaskId>) {
    let mut placed = Vec::new();
    let mut waiting = VecDeque::new();
    for task in pending {
        let failed_on = failed_on.get(&(task.stage, task.partition));
        let pick = |fresh: bool| {
            workers
                .iter()
                .filter(|(_, c)| c.running < c.slots)
                .filter(|(id, _)| !fresh || failed_on.is_none_or(|f| !f.contains(id)))
                .min_by_key(|(id, c)| (c.running, **id))
                .map(|(id, _)| *id)
        };
        match pick(true).or_else(|| pick(false)) {
            Some(id) => {
                if let Some(c) = workers.get_mut(&id) {
                    c.running += 1;
                }
                placed.push((task, id));
            }
            None => waiting.push_back(task),
        }
    }
    (placed, waiting)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(stage: usize, partition: usize) -> TaskId {
        TaskId {
            stage,
            partition,
            attempt: 1,
        }
    }

    fn capacity(slots: usize, running: usize) -> Capacity {
        Capacity { slots, running }
    }

    #[test]
    fn tasks_go_to_the_least_loaded_worker_and_wait_when_all_are_full() {
        let mut workers = BTreeMap::from([(1, capacity(2, 1)), (2, capacity(2, 0))]);
        let pending = (0..4).map(|p| task(0, p)).collect();
        let (placed, waiting) = place(pending, &mut workers, &HashMap::new());
        assert_eq!(
            placed,
            vec![(task(0, 0), 2), (task(0, 1), 1), (task(0, 2), 2)]
        );
        assert_eq!(waiting, VecDeque::from([task(0, 3)]));
        assert_eq!(workers[&1], capacity(2, 2));
        assert_eq!(workers[&2], capacity(2, 2));
    }

    #[test]
    fn a_task_avoids_the_workers_it_failed_on_while_others_are_free() {
        let mut workers = BTreeMap::from([(1, capacity(4, 0)), (2, capacity(4, 3))]);
        let failed_on = HashMap::from([((0, 0), HashSet::from([1]))]);
        let (placed, _) = place(VecDeque::from([task(0, 0)]), &mut workers, &failed_on);
        assert_eq!(placed, vec![(task(0, 0), 2)]);
        // With no other worker free, it runs where it failed before.
        let mut workers = BTreeMap::from([(1, capacity(4, 0)), (2, capacity(3, 3))]);
        let (placed, _) = place(VecDeque::from([task(0, 0)]), &mut workers, &failed_on);
        assert_eq!(placed, vec![(task(0, 0), 1)]);
    }

    #[test]
    fn no_workers_means_every_task_waits() {
        let pending = VecDeque::from([task(1, 0), task(1, 1)]);
        let (placed, waiting) = place(pending.clone(), &mut BTreeMap::new(), &HashMap::new());
        assert!(placed.is_empty());
        assert_eq!(waiting, pending);
    }
}
