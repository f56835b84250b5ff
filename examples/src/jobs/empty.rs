//! `empty`: start, run a trivial one-partition job counting 3 elements, stop.

use super::JobResult;
use crate::canonical::Outcome;
use barks::prelude::*;
use rayon::prelude::*;

#[barks::job]
pub fn count_three() -> u64 {
    pipeline! {
        let three = parallelize(vec![1u32, 2, 3], 1);
        three.count()
    }
}

/// The barks version.
pub fn barks(master: &str) -> JobResult<Outcome> {
    Ok(Outcome::Count(count_three().run_on(master)?))
}

/// The baseline: count three elements on the current rayon pool.
pub fn baseline() -> JobResult<Outcome> {
    Ok(Outcome::Count([1u32, 2, 3].par_iter().count() as u64))
}
