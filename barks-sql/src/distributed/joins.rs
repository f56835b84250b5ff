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
//! - `PARTITIONED_OUTER_JOINS`, right after DataFusion's join selection,
//!   makes such a hash join partitioned (both sides hash-shuffled on the
//!   keys, so every build row is in exactly one task); DataFusion's
//!   distribution rules then add the shuffles and whatever the operators
//!   above need.
//! - `GATHERED_OUTER_JOINS`, after all of DataFusion's rules, gathers the
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
    rules.insert(after_selection, Arc::new(PARTITIONED_OUTER_JOINS));
    rules.push(Arc::new(GATHERED_OUTER_JOINS));
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

/// A plan node, rewritten or not.
type Rewritten = Result<Transformed<Arc<dyn ExecutionPlan>>>;

/// A rule that rewrites plan nodes bottom-up with `rewrite`.
struct NodeRule {
    name: &'static str,
    rewrite: fn(Arc<dyn ExecutionPlan>) -> Rewritten,
}

impl std::fmt::Debug for NodeRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

impl PhysicalOptimizerRule for NodeRule {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(self.rewrite).map(|t| t.data)
    }

    fn name(&self) -> &str {
        self.name
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// Collected-build hash joins that emit unmatched build rows become partitioned.
const PARTITIONED_OUTER_JOINS: NodeRule = NodeRule {
    name: "barks_partitioned_outer_joins",
    rewrite: |node| {
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
            return Ok(Transformed::yes(Arc::new(partitioned)));
        }
        Ok(Transformed::no(node))
    },
};

/// The other joins that emit unmatched build rows get one probe partition.
const GATHERED_OUTER_JOINS: NodeRule = NodeRule {
    name: "barks_gathered_outer_joins",
    rewrite: |node| {
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
    },
};

/// `node` (a join of `left` and `right`) with its probe side gathered into one partition.
fn gather_probe_side(
    node: &Arc<dyn ExecutionPlan>,
    left: &Arc<dyn ExecutionPlan>,
    right: &Arc<dyn ExecutionPlan>,
) -> Rewritten {
    if right.output_partitioning().partition_count() <= 1 {
        return Ok(Transformed::no(node.clone()));
    }
    let right = Arc::new(CoalescePartitionsExec::new(right.clone()));
    #[allow(deprecated)] // DataFusion 55 still requires it of every plan node
    let joined = node.clone().with_new_children(vec![left.clone(), right])?;
    Ok(Transformed::yes(joined))
}
