//! The lineage graph and how it is cut into stages.
//!
//! Every dataset is a [node](node::AnyNode) that can compute any of its
//! partitions; shuffles are the edges where a stage ends. While a pipeline
//! is built, the [build scope](scope) numbers nodes and shuffles
//! deterministically; [`Plan`] then cuts the graph at its shuffles into the
//! stages a [`PlanDesc`](crate::dag::PlanDesc) describes.

mod cut;
pub mod node;
pub mod scope;

pub(crate) use cut::Delivery;
pub use cut::Plan;
