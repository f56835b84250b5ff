//! Running a plan: one [task](task) at a time on whatever thread or worker
//! gets it, the [job-run core](job_run) that every engine shares, and the
//! [local engine](local).

#[cfg(test)]
pub(crate) mod fakes;
pub(crate) mod job_run;
pub(crate) mod local;
pub(crate) mod task;
