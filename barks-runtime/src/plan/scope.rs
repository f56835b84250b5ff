//! The build scope: while a job's pipeline is being built, every new dataset
//! gets the next id from here. Building is deterministic, so the driver and
//! every worker that rebuilds the same job from the same arguments assign the
//! same ids to the same datasets and shuffles.
//!
//! The scope also keeps the first error a source reported while the plan was
//! being built ([`fail`]): sources return a `Dataset`, not a `Result`, so one
//! that finds its input unusable at build time (a SQL query naming an unknown
//! column) records the error here and returns a placeholder; the job then
//! fails with it before any task runs ([`try_in_scope`]).

use crate::error::{Error, Result};
use std::cell::RefCell;

thread_local! {
    static SCOPE: RefCell<Option<Scope>> = const { RefCell::new(None) };
}

struct Scope {
    next_id: usize,
    default_parallelism: usize,
    /// The first error recorded with [`fail`].
    failed: Option<Error>,
}

/// Runs `f` in a fresh build scope whose default partition count is
/// `default_parallelism`, and restores the enclosing scope afterwards. An
/// error recorded with [`fail`] inside `f` is dropped; jobs are built with
/// [`try_in_scope`], which returns it.
pub fn in_scope<R>(default_parallelism: usize, f: impl FnOnce() -> R) -> R {
    let outer = SCOPE.with(|s| {
        s.replace(Some(Scope {
            next_id: 0,
            default_parallelism: default_parallelism.max(1),
            failed: None,
        }))
    });
    struct Restore(Option<Scope>);
    impl Drop for Restore {
        fn drop(&mut self) {
            SCOPE.with(|s| *s.borrow_mut() = self.0.take());
        }
    }
    let _restore = Restore(outer);
    f()
}

/// Like [`in_scope`], and then fails with the first error recorded with
/// [`fail`] while `f` ran, if any (before an error `f` itself returned: that
/// one may only be a consequence). How jobs are built.
///
/// ```
/// use barks_runtime::plan::scope::{fail, try_in_scope};
/// use barks_runtime::{Error, parallelize};
///
/// let built = try_in_scope(2, || {
///     fail(Error::Plan("no column `centz`".into()));
///     Ok(parallelize(Vec::<i32>::new(), Some(1)).num_partitions())
/// });
/// assert_eq!(built.unwrap_err().to_string(), "no column `centz`");
/// ```
pub fn try_in_scope<R>(default_parallelism: usize, f: impl FnOnce() -> Result<R>) -> Result<R> {
    in_scope(default_parallelism, || {
        let result = f();
        let failed = SCOPE.with(|s| s.borrow_mut().as_mut().and_then(|s| s.failed.take()));
        match failed {
            Some(error) => Err(error),
            None => result,
        }
    })
}

/// Records `error` as the reason the plan being built cannot run. For
/// sources that find at build time that they cannot work (their input's
/// schema does not fit the query, say): they call this and return a
/// placeholder dataset (e.g. an empty `parallelize(Vec::new(), Some(1))`),
/// which never runs, since building the job (`Job::run`, `Context::run`)
/// then fails with the first error recorded. Later errors are dropped: the
/// first is usually the cause of the rest.
///
/// Building is deterministic, so the driver and every worker record the
/// same error; the driver's stops the job before any task is launched.
///
/// ```
/// use barks_runtime::plan::scope::fail;
/// use barks_runtime::{Context, Error, parallelize};
///
/// let ctx = Context::new("local[1]").unwrap();
/// let result = ctx.run(|| {
///     fail(Error::Plan("the table has no column `centz`".into()));
///     parallelize(Vec::<i32>::new(), Some(1)).collect()
/// });
/// assert_eq!(result.unwrap_err().to_string(), "the table has no column `centz`");
/// ```
///
/// # Panics
///
/// Outside a build scope, as creating a dataset there does.
pub fn fail(error: Error) {
    SCOPE.with(|s| {
        let mut scope = s.borrow_mut();
        let scope = scope.as_mut().expect(OUTSIDE);
        if scope.failed.is_none() {
            scope.failed = Some(error);
        }
    })
}

/// The next dataset or shuffle id of the current scope.
pub(crate) fn next_id() -> usize {
    SCOPE.with(|s| {
        let mut scope = s.borrow_mut();
        let scope = scope.as_mut().expect(OUTSIDE);
        let id = scope.next_id;
        scope.next_id += 1;
        id
    })
}

/// The partition count used when a source or shuffle is given none.
pub fn default_parallelism() -> usize {
    SCOPE.with(|s| s.borrow().as_ref().expect(OUTSIDE).default_parallelism)
}

const OUTSIDE: &str = "barks datasets can only be created while a job is being built \
(inside a `#[barks::job]` function run by `Job::run`, or `Context::run`)";
