//! A plan made of fakes, for testing the driver's I/O-free parts (the
//! job-run core, the cluster driver's bookkeeping) without running tasks:
//! stage 0 (map) → stage 1 (map) → stage 2 (result), whose map summaries
//! and partition results are `u64`s. Its shuffles record every
//! finalization; its action merges the results into a `Vec<u64>`.

use crate::error::Result;
use crate::plan::Plan;
use crate::plan::node::{
    AnyNode, Dep, ErasedAction, MapOutput, PartResult, Shared, ShuffleDep, TaskContext,
};
use crate::records::codec::{decode, encode_any, encode_shared};
use std::any::Any;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex};

/// A node with `partitions` partitions reading `deps`.
pub(crate) struct FakeNode {
    id: usize,
    partitions: usize,
    deps: Vec<Arc<FakeDep>>,
}

impl AnyNode for FakeNode {
    fn id(&self) -> usize {
        self.id
    }
    fn num_partitions(&self) -> usize {
        self.partitions
    }
    fn deps(&self) -> Vec<Dep> {
        let dep = |d: &Arc<FakeDep>| Dep::Shuffle(d.clone() as Arc<dyn ShuffleDep>);
        self.deps.iter().map(dep).collect()
    }
}

/// The map side of a shuffle whose summaries are `u64`s; it records
/// every finalization, and panics in it when told to.
pub(crate) struct FakeDep {
    id: usize,
    parent: Arc<FakeNode>,
    pub finalized: Mutex<Vec<Vec<u64>>>,
    panics: bool,
}

const NEVER: &str = "the driver runs no task and encodes no block";

impl ShuffleDep for FakeDep {
    fn id(&self) -> usize {
        self.id
    }
    fn parent(&self) -> Arc<dyn AnyNode> {
        self.parent.clone()
    }
    fn run_map(&self, _: usize, _: &TaskContext) -> Result<MapOutput> {
        unreachable!("{NEVER}")
    }
    fn finalize(&self, summaries: Vec<Box<dyn Any + Send>>) -> Shared {
        assert!(!self.panics, "bad sort key");
        let parts: Vec<u64> = summaries
            .into_iter()
            .map(|s| *s.downcast::<u64>().unwrap())
            .collect();
        self.finalized.lock().unwrap().push(parts.clone());
        Arc::new(parts)
    }
    fn encode_block(&self, _: &Shared, _: &Shared, _: usize) -> Result<Vec<u8>> {
        unreachable!("{NEVER}")
    }
    fn decode_block(&self, _: &[u8], _: usize) -> Result<Shared> {
        unreachable!("{NEVER}")
    }
    fn encode_summary_part(&self, part: &(dyn Any + Send)) -> Result<Vec<u8>> {
        encode_any::<u64>(part, "map summary")
    }
    fn decode_summary_part(&self, bytes: &[u8]) -> Result<Box<dyn Any + Send>> {
        Ok(Box::new(decode::<u64>(bytes, "map summary")?))
    }
    fn encode_summary(&self, summary: &Shared) -> Result<Vec<u8>> {
        encode_shared::<Vec<u64>>(summary.as_ref(), "finalized summary")
    }
    fn decode_summary(&self, _: &[u8]) -> Result<Shared> {
        unreachable!("{NEVER}")
    }
    fn held_size(&self, _: &Shared) -> Result<u64> {
        unreachable!("{NEVER}")
    }
    fn encode_segments(&self, _: &Shared) -> Result<(Vec<Vec<u8>>, Shared)> {
        unreachable!("{NEVER}")
    }
}

/// An action whose partition results are `u64`s, merged into a `Vec`.
pub(crate) struct FakeAction {
    node: Arc<FakeNode>,
    pub prepared: AtomicUsize,
    pub aborted: AtomicUsize,
    panics: bool,
}

impl ErasedAction for FakeAction {
    fn node(&self) -> Arc<dyn AnyNode> {
        self.node.clone()
    }
    fn prepare(&self) -> Result<()> {
        self.prepared
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }
    fn run(&self, _: usize, _: &TaskContext) -> Result<PartResult> {
        unreachable!("{NEVER}")
    }
    fn merge(&self, parts: Vec<PartResult>) -> Result<Box<dyn Any + Send>> {
        assert!(!self.panics, "bad reduce function");
        // Partitions already delivered to the caller come as `()`.
        let parts: Vec<u64> = parts
            .into_iter()
            .filter_map(|p| p.downcast::<u64>().ok().map(|p| *p))
            .collect();
        Ok(Box::new(parts))
    }
    fn abort(&self) {
        self.aborted
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    fn encode_result(&self, _: &PartResult) -> Result<Vec<u8>> {
        unreachable!("{NEVER}")
    }
    fn decode_result(&self, bytes: &[u8]) -> Result<PartResult> {
        Ok(Box::new(decode::<u64>(bytes, "partition result")?))
    }
    fn result_size(&self, _: &PartResult) -> Result<u64> {
        Ok(8)
    }
}

/// Stage 0 (map) → stage 1 (map) → stage 2 (result), with these
/// partition counts.
pub(crate) fn chain(
    parts: [usize; 3],
    panics: (bool, bool),
) -> (Plan, Arc<FakeAction>, [Arc<FakeDep>; 2]) {
    let source = Arc::new(FakeNode {
        id: 0,
        partitions: parts[0],
        deps: vec![],
    });
    let first = Arc::new(FakeDep {
        id: 1,
        parent: source,
        finalized: Mutex::default(),
        panics: panics.0,
    });
    let middle = Arc::new(FakeNode {
        id: 2,
        partitions: parts[1],
        deps: vec![first.clone()],
    });
    let second = Arc::new(FakeDep {
        id: 3,
        parent: middle,
        finalized: Mutex::default(),
        panics: false,
    });
    let last = Arc::new(FakeNode {
        id: 4,
        partitions: parts[2],
        deps: vec![second.clone()],
    });
    let action = Arc::new(FakeAction {
        node: last,
        prepared: AtomicUsize::new(0),
        aborted: AtomicUsize::new(0),
        panics: panics.1,
    });
    let plan = Plan::new(action.clone(), "model".into(), Vec::new(), 2);
    (plan, action, [first, second])
}
