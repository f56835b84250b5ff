//! Joins whose partitions must meet in one process, made distributable.
//!
//! DataFusion's collected-build-side joins (`HashJoinExec` in `CollectLeft`
//! mode, `NestedLoopJoinExec`) share the build side between the partitions
//! of one plan instance. For join types that also emit the build rows no
//! probe row matched (left outer, full, left semi/anti/mark), the partitions
//! share a bitmap of matched build rows too, and the last partition to
//! finish emits the unmatched ones. barks runs the partitions as separate
//! tasks, possibly on separate workers, so no partition would know it is the
//! last: those rows would be lost. Two rules fix that:
//!
//! - [`PartitionedOuterJoins`], right after DataFusion's join selection,
//!   makes such a hash join partitioned (both sides hash-shuffled on the
//!   keys, so every build row is in exactly one task); DataFusion's
//!   distribution rules then add the shuffles and whatever the operators
//!   above need.
//! - [`GatheredOuterJoins`], after all of DataFusion's rules, gathers the
//!   probe side of any other such join (a null-aware anti join, a
//!   nested-loop join) into one partition, so one task sees every probe row.
//!   Fewer partitions never breaks what an operator above requires.
//!
//! [`optimizer_rules`] is DataFusion's rule list with both in place.

use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{JoinType, Result};
use datafusion::config::ConfigOptions;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_optimizer::optimizer::PhysicalOptimizer;
use datafusion::physical_plan::coalesce_partitions::CoalescePartitionsExec;
use datafusion::physical_plan::joins::{HashJoinExec, NestedLoopJoinExec, PartitionMode};
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties};
use std::sync::Arc;

/// DataFusion's physical optimizer rules with barks' join rules in place.
pub(crate) fn optimizer_rules() -> Vec<Arc<dyn PhysicalOptimizerRule + Send + Sync>> {
    let mut rules = PhysicalOptimizer::new().rules;
    let after_selection = rules
        .iter()
        .position(|r| r.name() == "join_selection")
        .map_or(0, |i| i + 1);
    rules.insert(after_selection, Arc::new(PartitionedOuterJoins));
    rules.push(Arc::new(GatheredOuterJoins));
    rules
}

/// Join types whose build-side rows are emitted after every probe partition finished.
fn emits_unmatched_build_rows(join_type: JoinType) -> bool {
    matches!(
        join_type,
        JoinType::Left
            | JoinType::LeftAnti
            | JoinType::LeftSemi
            | JoinType::LeftMark
            | JoinType::Full
    )
}

/// Collected-build hash joins that emit unmatched build rows become partitioned.
#[derive(Debug)]
struct PartitionedOuterJoins;

impl PhysicalOptimizerRule for PartitionedOuterJoins {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            if let Some(join) = node.downcast_ref::<HashJoinExec>()
                && *join.partition_mode() == PartitionMode::CollectLeft
                && emits_unmatched_build_rows(*join.join_type())
                && !join.null_aware
            {
                let partitioned = join
                    .builder()
                    .with_partition_mode(PartitionMode::Partitioned)
                    .recompute_properties()
                    .build()?;
                return Ok(Transformed::yes(
                    Arc::new(partitioned) as Arc<dyn ExecutionPlan>
                ));
            }
            Ok(Transformed::no(node))
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "barks_partitioned_outer_joins"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// The other joins that emit unmatched build rows get one probe partition.
#[derive(Debug)]
struct GatheredOuterJoins;

impl PhysicalOptimizerRule for GatheredOuterJoins {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            if let Some(join) = node.downcast_ref::<HashJoinExec>()
                && *join.partition_mode() == PartitionMode::CollectLeft
                && emits_unmatched_build_rows(*join.join_type())
            {
                return gather_probe_side(&node, join.left(), join.right());
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
        "barks_gathered_outer_joins"
    }

    fn schema_check(&self) -> bool {
        true
    }
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
