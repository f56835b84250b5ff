//! DataFusion's operators inside barks' memory budget: a `MemoryPool` over
//! the running task's [`TaskMemory`], and a disk manager that spills into
//! the job run's spill directory. DataFusion's sort and aggregation spill
//! when the pool refuses them, exactly as they do under its own
//! `FairSpillPool`, whose rule barks' budget follows; their spill metrics
//! become the task's.

use crate::errors::from_datafusion;
use barks_runtime::memory::{MemoryBudget, TaskMemory, bytes};
use barks_runtime::{Error, Result};
use datafusion::common::{DataFusionError, resources_datafusion_err};
use datafusion::execution::TaskContext;
use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
use datafusion::execution::memory_pool::{
    MemoryConsumer, MemoryLimit, MemoryPool, MemoryReservation,
};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::metrics::MetricValue;
use datafusion::prelude::SessionConfig;
use std::sync::Arc;

/// The runtime environment of a SQL task: `base`'s, with barks' budget as
/// its memory pool and the run's spill directory for its spill files. With
/// an unlimited budget nothing is ever refused, so `base`'s stays.
pub(crate) fn task_runtime(
    base: &TaskContext,
    task: &Arc<TaskMemory>,
) -> Result<Arc<datafusion::execution::runtime_env::RuntimeEnv>> {
    let env = base.runtime_env();
    if task.budget().limit() == u64::MAX {
        return Ok(env);
    }
    let disks = DiskManagerBuilder::default()
        .with_mode(DiskManagerMode::Directories(vec![task.spill_dir()?]));
    RuntimeEnvBuilder::from_runtime_env(&env)
        .with_memory_pool(Arc::new(BudgetPool { task: task.clone() }))
        .with_disk_manager_builder(disks)
        .build_arc()
        .map_err(|e| match from_datafusion(e) {
            Error::Sql(message) => Error::Start {
                what: "the spill directory of a SQL task".into(),
                message,
            },
            other => other,
        })
}

/// Caps what a DataFusion sort reserves up front for merging its spilled
/// runs (`sort_spill_reservation_bytes`, 10 MiB by default, sized for an
/// unbounded pool) at a sixteenth of the budget, so that a sort can start,
/// and spill, under a small budget.
pub(crate) fn fit_sort_reservation(config: &mut SessionConfig, task: &TaskMemory) {
    let cap = usize::try_from(task.budget().limit() / 16).unwrap_or(usize::MAX);
    let execution = &mut config.options_mut().execution;
    execution.sort_spill_reservation_bytes = execution.sort_spill_reservation_bytes.min(cap);
}

/// DataFusion's pool interface over one task's share of barks' budget.
#[derive(Debug)]
struct BudgetPool {
    task: Arc<TaskMemory>,
}

impl BudgetPool {
    fn budget(&self) -> &MemoryBudget {
        self.task.budget()
    }
}

impl std::fmt::Display for BudgetPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "barks' execution memory budget ({}, {} reserved)",
            bytes(self.budget().limit()),
            bytes(self.budget().reserved())
        )
    }
}

impl MemoryPool for BudgetPool {
    fn name(&self) -> &str {
        "barks"
    }

    fn register(&self, consumer: &MemoryConsumer) {
        self.budget().register(consumer.can_spill());
    }

    fn unregister(&self, consumer: &MemoryConsumer) {
        self.budget().unregister(consumer.can_spill());
    }

    fn grow(&self, reservation: &MemoryReservation, additional: usize) {
        let spillable = reservation.consumer().can_spill();
        self.budget().grow(spillable, additional as u64);
        self.task.grew(additional as u64);
    }

    fn shrink(&self, reservation: &MemoryReservation, shrink: usize) {
        let spillable = reservation.consumer().can_spill();
        self.budget().shrink(spillable, shrink as u64);
        self.task.shrank(shrink as u64);
    }

    fn try_grow(
        &self,
        reservation: &MemoryReservation,
        additional: usize,
    ) -> datafusion::common::Result<()> {
        let consumer = reservation.consumer();
        self.budget()
            .try_grow(
                consumer.can_spill(),
                reservation.size() as u64,
                additional as u64,
            )
            .map_err(|refused| -> DataFusionError {
                resources_datafusion_err!(
                    "{} needs {} more while holding {}, but its share of the {} execution memory budget is {}{}; raise the budget (--memory, BARKS_MEMORY or Context::with_memory) or use more partitions (spark.sql.shuffle.partitions) so that each holds less",
                    consumer.name(),
                    bytes(refused.wanted),
                    bytes(refused.held),
                    bytes(self.budget().limit()),
                    bytes(refused.allowed),
                    if consumer.can_spill() {
                        " even after spilling"
                    } else {
                        ""
                    }
                )
            })?;
        self.task.grew(additional as u64);
        Ok(())
    }

    fn reserved(&self) -> usize {
        usize::try_from(self.budget().reserved()).unwrap_or(usize::MAX)
    }

    fn memory_limit(&self) -> MemoryLimit {
        MemoryLimit::Finite(usize::try_from(self.budget().limit()).unwrap_or(usize::MAX))
    }
}

/// What partition `partition` of `plan`'s operators have spilled so far:
/// bytes and files.
pub(crate) fn spilled(plan: &Arc<dyn ExecutionPlan>, partition: usize) -> (u64, u64) {
    let mut totals = (0, 0);
    let mut stack = vec![plan.clone()];
    while let Some(node) = stack.pop() {
        for metric in node.metrics().iter().flat_map(|m| m.iter()) {
            if metric.partition() != Some(partition) {
                continue;
            }
            match metric.value() {
                MetricValue::SpilledBytes(count) => totals.0 += count.value() as u64,
                MetricValue::SpillCount(count) => totals.1 += count.value() as u64,
                _ => {}
            }
        }
        stack.extend(node.children().into_iter().cloned());
    }
    totals
}
