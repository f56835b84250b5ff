//! Shuffle map outputs over a worker's memory budget, on local disk:
//! [spill files](file) (segments with an in-memory index), the
//! [directories](dir) they live in and their cleanup, and the
//! [options](options) that set the budget.

pub(crate) mod dir;
pub(crate) mod file;
pub mod options;
