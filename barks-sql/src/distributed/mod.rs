//! How a DataFusion physical plan runs on barks: cut at its exchanges into
//! fragments ([`fragments`]), each fragment a barks stage whose tasks run one
//! of its partitions ([`task`]), exchanges as barks shuffles of Arrow
//! batches ([`lineage`], [`reader`]), and the whole a registered barks job
//! ([`job`]). Inside `pipeline!`, datasets are SQL tables ([`scan`]) whose
//! rows the lineage takes from the pipeline's stages.

/// The `ExecutionPlan` methods every barks leaf node has alike: a name, its
/// properties in `self.properties`, no children and no expressions.
macro_rules! leaf_node_methods {
    ($name:literal) => {
        fn name(&self) -> &str {
            $name
        }

        fn properties(&self) -> &::std::sync::Arc<::datafusion::physical_plan::PlanProperties> {
            &self.properties
        }

        fn children(
            &self,
        ) -> Vec<&::std::sync::Arc<dyn ::datafusion::physical_plan::ExecutionPlan>> {
            Vec::new()
        }

        fn apply_expressions(
            &self,
            _: &mut dyn FnMut(
                &::std::sync::Arc<dyn ::datafusion::physical_expr::PhysicalExpr>,
            ) -> ::datafusion::common::Result<
                ::datafusion::common::tree_node::TreeNodeRecursion,
            >,
        ) -> ::datafusion::common::Result<::datafusion::common::tree_node::TreeNodeRecursion> {
            Ok(::datafusion::common::tree_node::TreeNodeRecursion::Continue)
        }

        fn replace_children(
            self: ::std::sync::Arc<Self>,
            _: Vec<::std::sync::Arc<dyn ::datafusion::physical_plan::ExecutionPlan>>,
            _: ::datafusion::physical_plan::ReplaceChildrenOptions,
        ) -> ::datafusion::common::Result<
            ::std::sync::Arc<dyn ::datafusion::physical_plan::ExecutionPlan>,
        > {
            Ok(self)
        }

        fn with_new_children(
            self: ::std::sync::Arc<Self>,
            _: Vec<::std::sync::Arc<dyn ::datafusion::physical_plan::ExecutionPlan>>,
        ) -> ::datafusion::common::Result<
            ::std::sync::Arc<dyn ::datafusion::physical_plan::ExecutionPlan>,
        > {
            Ok(self)
        }
    };
}

mod fragments;
mod job;
mod joins;
mod lineage;
mod memory;
mod range_sort;
mod reader;
mod scan;
mod task;

pub(crate) use fragments::Stages;
pub(crate) use job::{run_query, run_write, stream_query};
pub(crate) use joins::optimizer_rules;
pub(crate) use lineage::lineage;
pub(crate) use scan::DatasetTable;

use crate::errors::from_datafusion;
use barks_runtime::Result;
use datafusion::physical_plan::{ExecutionPlan, displayable};
use fragments::{ExchangeKind, Feed};
use std::fmt::Write;
use std::sync::Arc;

/// The barks stages `plan` is cut into, one paragraph per fragment, the
/// root last.
pub(crate) fn describe_stages(plan: Arc<dyn ExecutionPlan>) -> Result<String> {
    let stages = Stages::cut(plan).map_err(from_datafusion)?;
    let mut out = String::new();
    for (i, fragment) in stages.fragments.iter().enumerate() {
        let role = if i == stages.root { " (result)" } else { "" };
        let _ = writeln!(out, "fragment {i}{role}: {} task(s)", fragment.partitions);
        for &e in &fragment.inputs {
            let exchange = &stages.exchanges[e];
            let how = match &exchange.kind {
                ExchangeKind::Split(p) => format!("{p}"),
                ExchangeKind::Gather => "gather".to_string(),
                ExchangeKind::RangeSort(rows) => format!("range sort by {}", rows.ordering()),
            };
            let from = match &exchange.child {
                Feed::Fragment(c) => format!("fragment {c}"),
                Feed::Input { input, .. } => format!("input dataset {input}"),
            };
            let _ = writeln!(out, "  reads exchange {e} ({how}) from {from}");
        }
        let _ = write!(out, "{}", displayable(fragment.plan.as_ref()).indent(false));
    }
    Ok(out)
}
