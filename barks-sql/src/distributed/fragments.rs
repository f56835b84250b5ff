//! Cutting a DataFusion physical plan into barks stages at its exchanges.
//!
//! An *exchange* is where data moves between partitions: a
//! `RepartitionExec` (hash, round-robin or range), or the input of a
//! `CoalescePartitionsExec` / `SortPreservingMergeExec` (many partitions
//! gathered into one). Each exchange becomes a barks shuffle; the plan pieces
//! between exchanges are *fragments*, each a stage whose tasks run one
//! partition of the fragment. Inside a fragment an exchange is replaced by a
//! [`ShuffleReaderExec`] leaf that yields what the shuffle delivered.
//!
//! A [`DatasetScanExec`] leaf (a pipeline's dataset as a SQL table) is an
//! exchange too, fed by that dataset instead of a fragment
//! ([`Feed::Input`]): reader partition `j` is the dataset's partition `j`.
//!
//! Cutting is deterministic: the driver and every worker cut the same plan
//! into the same fragments, so their barks lineages agree.

use super::range_sort::{SortRows, result_sort};
use super::reader::ShuffleReaderExec;
use super::scan::DatasetScanExec;
use datafusion::common::{DataFusionError, Result};
use datafusion::physical_plan::coalesce_partitions::CoalescePartitionsExec;
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::sorts::sort_preserving_merge::SortPreservingMergeExec;
use datafusion::physical_plan::union::UnionExec;
use datafusion::physical_plan::{
    ExecutionPlan, ExecutionPlanProperties, Partitioning, PlanProperties,
};
use std::collections::BTreeSet;
use std::sync::Arc;

/// How an exchange's map side splits the output of its child fragment.
#[derive(Debug, Clone)]
pub(crate) enum ExchangeKind {
    /// Rows are split by a DataFusion partitioning (hash, round-robin or
    /// range): reader partition `r` holds the rows assigned to `r`.
    Split(Partitioning),
    /// Nothing is split: reader partition `j` is child partition `j`, read
    /// whole by the gathering operator above it.
    Gather,
    /// A global sort by range: reader partition `r` holds the `r`-th key
    /// range, sorted (see [`range_sort`](super::range_sort)).
    RangeSort(Arc<SortRows>),
}

/// What an exchange moves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Feed {
    /// The output of this fragment.
    Fragment(usize),
    /// Input dataset `input` of the plan's lineage (a `pipeline!` stage
    /// read by SQL), keeping only the `projection` columns if given.
    Input {
        input: usize,
        projection: Option<Vec<usize>>,
    },
}

/// One exchange: a barks shuffle between what feeds it (a child fragment or
/// an input dataset) and the fragment that reads it.
#[derive(Debug)]
pub(crate) struct Exchange {
    pub kind: ExchangeKind,
    /// What the exchange moves.
    pub child: Feed,
    /// How many partitions the reader in the consuming fragment has.
    pub reader_partitions: usize,
}

/// A piece of the plan between exchanges: one barks stage.
#[derive(Debug)]
pub(crate) struct Fragment {
    /// The plan with its exchanges replaced by [`ShuffleReaderExec`] leaves.
    pub plan: Arc<dyn ExecutionPlan>,
    /// The exchanges its readers read.
    pub inputs: Vec<usize>,
    /// How many tasks run it: its plan's output partition count.
    pub partitions: usize,
}

/// A physical plan cut into fragments; the root fragment yields the result.
#[derive(Debug)]
pub(crate) struct Stages {
    pub fragments: Vec<Fragment>,
    pub exchanges: Vec<Exchange>,
    pub root: usize,
}

impl Stages {
    /// Cuts `plan` at its exchanges. A global sort of the result (with no
    /// `LIMIT`) becomes a range-partitioned sort whose reduce tasks are the
    /// root fragment.
    pub fn cut(plan: Arc<dyn ExecutionPlan>) -> Result<Stages> {
        let mut stages = Stages {
            fragments: Vec::new(),
            exchanges: Vec::new(),
            root: 0,
        };
        stages.root = match result_sort(&plan) {
            Some((input, rows)) => stages.range_sorted(&plan, input, rows)?,
            None => stages.fragment(plan)?,
        };
        Ok(stages)
    }

    /// The root fragment reading `input` sorted by range: one task per
    /// range, each yielding its range in order.
    fn range_sorted(
        &mut self,
        sort: &Arc<dyn ExecutionPlan>,
        input: Arc<dyn ExecutionPlan>,
        rows: Arc<SortRows>,
    ) -> Result<usize> {
        let n = input.output_partitioning().partition_count();
        let child = Feed::Fragment(self.fragment(input)?);
        let mut inputs = Vec::new();
        let properties = PlanProperties::new(
            sort.equivalence_properties().clone(),
            Partitioning::UnknownPartitioning(n),
            sort.pipeline_behavior(),
            sort.boundedness(),
        );
        let kind = ExchangeKind::RangeSort(rows);
        let plan = self.exchange(kind, child, n, Arc::new(properties), &mut inputs);
        self.fragments.push(Fragment {
            plan,
            inputs,
            partitions: n,
        });
        Ok(self.fragments.len() - 1)
    }

    fn fragment(&mut self, root: Arc<dyn ExecutionPlan>) -> Result<usize> {
        let mut inputs = Vec::new();
        let plan = self.rewrite(root, &mut inputs)?;
        let partitions = plan.output_partitioning().partition_count();
        self.fragments.push(Fragment {
            plan,
            inputs,
            partitions,
        });
        Ok(self.fragments.len() - 1)
    }

    fn exchange(
        &mut self,
        kind: ExchangeKind,
        child: Feed,
        reader_partitions: usize,
        properties: Arc<PlanProperties>,
        inputs: &mut Vec<usize>,
    ) -> Arc<dyn ExecutionPlan> {
        self.exchanges.push(Exchange {
            kind,
            child,
            reader_partitions,
        });
        let id = self.exchanges.len() - 1;
        inputs.push(id);
        Arc::new(ShuffleReaderExec::new(id, properties))
    }

    /// `node` with every exchange below it (up to the next fragment) replaced by a reader.
    fn rewrite(
        &mut self,
        node: Arc<dyn ExecutionPlan>,
        inputs: &mut Vec<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if let Some(scan) = node.downcast_ref::<DatasetScanExec>() {
            let feed = Feed::Input {
                input: scan.input(),
                projection: scan.projection().cloned(),
            };
            let n = node.output_partitioning().partition_count();
            let properties = node.properties().clone();
            return Ok(self.exchange(ExchangeKind::Gather, feed, n, properties, inputs));
        }
        if let Some(repartition) = node.downcast_ref::<RepartitionExec>() {
            if repartition.preserve_order() {
                return Err(DataFusionError::NotImplemented(
                    "barks does not run order-preserving repartitions yet \
                     (set datafusion.optimizer.prefer_existing_sort = false)"
                        .into(),
                ));
            }
            let partitioning = repartition.partitioning().clone();
            let n = partitioning.partition_count();
            let child = Feed::Fragment(self.fragment(repartition.input().clone())?);
            let kind = ExchangeKind::Split(partitioning);
            return Ok(self.exchange(kind, child, n, node.properties().clone(), inputs));
        }
        let gathers = node.is::<CoalescePartitionsExec>() || node.is::<SortPreservingMergeExec>();
        let children: Vec<Arc<dyn ExecutionPlan>> = node.children().into_iter().cloned().collect();
        if gathers && children[0].output_partitioning().partition_count() > 1 {
            let child = children[0].clone();
            let n = child.output_partitioning().partition_count();
            let feed = Feed::Fragment(self.fragment(child.clone())?);
            let properties = child.properties().clone();
            let reader = self.exchange(ExchangeKind::Gather, feed, n, properties, inputs);
            #[allow(deprecated)] // DataFusion 55 still requires it of every plan node
            return node.with_new_children(vec![reader]);
        }
        if children.is_empty() {
            return Ok(node);
        }
        let mut changed = false;
        let mut rewritten = Vec::with_capacity(children.len());
        for child in children {
            let new = self.rewrite(child.clone(), inputs)?;
            changed |= !Arc::ptr_eq(&new, &child);
            rewritten.push(new);
        }
        if !changed {
            return Ok(node);
        }
        #[allow(deprecated)]
        node.with_new_children(rewritten)
    }

    /// The input datasets the plan reads (the `input` of each [`Feed::Input`]).
    pub fn inputs_read(&self) -> impl Iterator<Item = usize> + '_ {
        self.exchanges.iter().filter_map(|e| match e.child {
            Feed::Input { input, .. } => Some(input),
            Feed::Fragment(_) => None,
        })
    }

    /// For each task of fragment `f`, the (exchange, reader partition) pairs
    /// it reads, derived from how each operator maps its output partitions
    /// to its inputs'. Where an operator's mapping is not known, the task is
    /// given every partition of the exchanges below it (correct, if costly).
    pub fn reads(&self, f: usize) -> Vec<BTreeSet<(usize, usize)>> {
        let fragment = &self.fragments[f];
        (0..fragment.partitions)
            .map(|p| {
                let mut out = BTreeSet::new();
                self.reads_of(&fragment.plan, p, &mut out);
                out
            })
            .collect()
    }

    fn reads_of(
        &self,
        node: &Arc<dyn ExecutionPlan>,
        partition: usize,
        out: &mut BTreeSet<(usize, usize)>,
    ) {
        if let Some(reader) = node.downcast_ref::<ShuffleReaderExec>() {
            out.insert((reader.exchange(), partition));
            return;
        }
        let partitions = node.output_partitioning().partition_count();
        let children = node.children();
        if node.is::<UnionExec>() {
            let mut offset = 0;
            for child in children {
                let n = child.output_partitioning().partition_count();
                if partition < offset + n {
                    return self.reads_of(child, partition - offset, out);
                }
                offset += n;
            }
            return;
        }
        let gathers = node.is::<CoalescePartitionsExec>() || node.is::<SortPreservingMergeExec>();
        for child in children {
            let n = child.output_partitioning().partition_count();
            if gathers || (n != partitions && n != 1) {
                (0..n).for_each(|q| self.reads_of(child, q, out));
            } else if n == 1 {
                self.reads_of(child, 0, out);
            } else {
                self.reads_of(child, partition, out);
            }
        }
    }
}
