//! How a DataFusion physical plan runs on barks: cut at its exchanges into
//! fragments ([`fragments`]), each fragment a barks stage whose tasks run one
//! of its partitions ([`task`]), exchanges as barks shuffles of Arrow
//! batches ([`lineage`], [`reader`]), and the whole a registered barks job
//! ([`job`]). Inside `pipeline!`, datasets are SQL tables ([`scan`]) whose
//! rows the lineage takes from the pipeline's stages.

mod fragments;
mod job;
mod joins;
mod lineage;
mod reader;
mod scan;
mod task;

pub(crate) use fragments::Stages;
pub(crate) use job::{run_query, run_write};
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
