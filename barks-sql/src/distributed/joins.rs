//! Joins whose partitions must meet in one process, made distributable.
//!
//! DataFusion's collected-build-side joins (`HashJoinExec` in `CollectLeft`
//! mode, `NestedLoopJoinExec`) share the build side between the partitions
//! of one plan instance. For join types that also emit the build rows no
//! probe row matched (left outer, full, left semi/anti/mark), the partitions
//! share a bitmap of matched build rows too, and the last partition to
//! finish emits the unmatched ones. barks runs the partitions as separate
//! tasks, possibly on separate workers, so no partition would know it is the
//! last: those rows would be lost. This rule, run after DataFusion's own, turns
//! such a hash join into a partitioned one (both sides hash-shuffled on the
//! keys, every build row in exactly one task), and gathers the probe side of
//! any other such join (a null-aware anti join, a nested-loop join) into one
//! partition, so one task sees every probe row.

use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{JoinType, Result};
use datafusion::config::ConfigOptions;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::coalesce_partitions::CoalescePartitionsExec;
use datafusion::physical_plan::joins::{HashJoinExec, NestedLoopJoinExec, PartitionMode};
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties, Partitioning};
use std::sync::Arc;

/// The rule; see the module documentation.
#[derive(Debug)]
pub(crate) struct DistributableJoins;

/// Join types whose build-side rows are emitted after every probe partition finished.
fn emits_unmatched_build_rows(join_type: JoinType) -> bool {
    matches!(
        join_type,
        JoinType::Left | JoinType::LeftAnti | JoinType::LeftSemi | JoinType::LeftMark | JoinType::Full
    )
}

impl PhysicalOptimizerRule for DistributableJoins {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let partitions = config.execution.target_partitions;
        plan.transform_up(|node| {
            if let Some(join) = node.downcast_ref::<HashJoinExec>()
                && *join.partition_mode() == PartitionMode::CollectLeft
                && emits_unmatched_build_rows(*join.join_type())
            {
                if join.null_aware {
                    return gather_probe_side(&node, join.left(), join.right());
                }
                return partitioned(join, partitions).map(Transformed::yes);
            }
            if let Some(join) = node.downcast_ref::<NestedLoopJoinExec>()
                && emits_unmatched_build_rows(*join.join_type())
            {
                return gather_probe_side(&node, join.left(), join.right());
            }
            Ok(Transformed::no(node))
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "barks_distributable_joins"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// `join` with both sides hash-partitioned on its keys.
fn partitioned(join: &HashJoinExec, partitions: usize) -> Result<Arc<dyn ExecutionPlan>> {
    let mut left = join.left().clone();
    if let Some(coalesce) = left.downcast_ref::<CoalescePartitionsExec>() {
        left = coalesce.input().clone();
    }
    let (left_keys, right_keys) = join.on().iter().cloned().unzip();
    let left = RepartitionExec::try_new(left, Partitioning::Hash(left_keys, partitions))?;
    let right = RepartitionExec::try_new(
        join.right().clone(),
        Partitioning::Hash(right_keys, partitions),
    )?;
    let join = join
        .builder()
        .with_partition_mode(PartitionMode::Partitioned)
        .with_new_children(vec![Arc::new(left), Arc::new(right)])?
        .recompute_properties()
        .build()?;
    Ok(Arc::new(join))
}

/// `node` (a join of `left` and `right`) with its probe side gathered into one partition.
fn gather_probe_side(
    node: &Arc<dyn ExecutionPlan>,
    left: &Arc<dyn ExecutionPlan>,
    right: &Arc<dyn ExecutionPlan>,
) -> Result<Transformed<Arc<dyn ExecutionPlan>>> {
    if right.output_partitioning().partition_count() <= 1 {
        return Ok(Transformed::no(node.clone()));
    }
    let right = Arc::new(CoalescePartitionsExec::new(right.clone()));
    #[allow(deprecated)] // DataFusion 55 still requires it of every plan node
    let joined = node.clone().with_new_children(vec![left.clone(), right])?;
    Ok(Transformed::yes(joined))
}
