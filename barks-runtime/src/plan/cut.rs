//! Cutting a job's lineage into stages at shuffle boundaries.
//!
//! A [`Plan`] holds the typed, runnable graph; its [`PlanDesc`] is the part
//! that travels (see [`crate::dag`]).

use super::node::{AnyNode, Dep, ErasedAction, PartResult, ShuffleDep};
use crate::dag::{PlanDesc, StageDesc, StageKind};
use crate::error::Result;
use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};

/// Takes a job's result partitions on the driver, in partition order, as
/// they complete (see [`Plan::deliver_results`]).
pub(crate) type Delivery = Box<dyn FnMut(usize, PartResult) -> Result<()> + Send>;

/// A job's runnable plan: typed stages plus their description.
pub struct Plan {
    pub(crate) action: Arc<dyn ErasedAction>,
    pub(crate) shuffles: Vec<Option<Arc<dyn ShuffleDep>>>,
    pub desc: PlanDesc,
    /// Where the driver hands result partitions as they complete, instead
    /// of merging them at the end; taken by the run that executes the plan.
    delivery: Mutex<Option<Delivery>>,
}

/// The shuffles a node reads directly, through narrow dependencies only.
fn shuffles_below(node: Arc<dyn AnyNode>) -> Vec<Arc<dyn ShuffleDep>> {
    let mut seen = HashSet::new();
    let mut stack = vec![node];
    let mut found = Vec::new();
    while let Some(node) = stack.pop() {
        if !seen.insert(node.id()) {
            continue;
        }
        for dep in node.deps() {
            match dep {
                Dep::Narrow(parent) => stack.push(parent),
                Dep::Shuffle(shuffle) => found.push(shuffle),
            }
        }
    }
    found
}

impl Plan {
    pub(crate) fn new(
        action: Arc<dyn ErasedAction>,
        job: String,
        args: Vec<u8>,
        default_parallelism: usize,
    ) -> Plan {
        // Every shuffle reachable from the result, with the shuffles it reads.
        let mut shuffles: BTreeMap<usize, (Arc<dyn ShuffleDep>, Vec<usize>)> = BTreeMap::new();
        let direct = shuffles_below(action.node());
        let result_parents: Vec<usize> = direct.iter().map(|d| d.id()).collect();
        let mut todo = direct;
        while let Some(dep) = todo.pop() {
            if shuffles.contains_key(&dep.id()) {
                continue;
            }
            let below = shuffles_below(dep.parent());
            let parents = below.iter().map(|d| d.id()).collect();
            todo.extend(below);
            shuffles.insert(dep.id(), (dep, parents));
        }
        // Ids grow as a pipeline is built and a shuffle is always built after
        // the shuffles it reads, so id order is a topological order.
        let stage_of: BTreeMap<usize, usize> = shuffles
            .keys()
            .enumerate()
            .map(|(stage, id)| (*id, stage))
            .collect();
        let parents_of = |ids: &[usize]| {
            let mut p: Vec<usize> = ids.iter().map(|id| stage_of[id]).collect();
            p.sort_unstable();
            p.dedup();
            p
        };
        let mut stages = Vec::with_capacity(shuffles.len() + 1);
        let mut deps = Vec::with_capacity(shuffles.len() + 1);
        for (id, (dep, parents)) in &shuffles {
            stages.push(StageDesc {
                id: stages.len(),
                kind: StageKind::ShuffleMap { shuffle: *id },
                partitions: dep.parent().num_partitions(),
                parents: parents_of(parents),
            });
            deps.push(Some(dep.clone()));
        }
        stages.push(StageDesc {
            id: stages.len(),
            kind: StageKind::Result,
            partitions: action.node().num_partitions(),
            parents: parents_of(&result_parents),
        });
        deps.push(None);
        Plan {
            action,
            shuffles: deps,
            desc: PlanDesc {
                job,
                args,
                default_parallelism,
                stages,
            },
            delivery: Mutex::new(None),
        }
    }

    /// Makes the run of this plan hand each result partition to `delivery`
    /// on the driver, in partition order, as soon as it and every partition
    /// before it have succeeded; the action then merges none of them. An
    /// error from `delivery` fails the job.
    pub(crate) fn deliver_results(self, delivery: Delivery) -> Plan {
        *self.delivery.lock().unwrap_or_else(|e| e.into_inner()) = Some(delivery);
        self
    }

    /// The delivery set by [`deliver_results`](Self::deliver_results), once.
    pub(crate) fn take_delivery(&self) -> Option<Delivery> {
        self.delivery
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }

    /// The id of the job this plan runs.
    pub fn job(&self) -> &str {
        &self.desc.job
    }

    /// The stage that writes shuffle `shuffle`, and its map side.
    pub(crate) fn shuffle_stage(&self, shuffle: usize) -> Option<(usize, &Arc<dyn ShuffleDep>)> {
        self.shuffles.iter().enumerate().find_map(|(stage, dep)| {
            dep.as_ref()
                .filter(|d| d.id() == shuffle)
                .map(|d| (stage, d))
        })
    }
}
