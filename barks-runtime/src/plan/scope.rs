//! The build scope: while a job's pipeline is being built, every new dataset
//! gets the next id from here. Building is deterministic, so the driver and
//! every worker that rebuilds the same job from the same arguments assign the
//! same ids to the same datasets and shuffles.

use std::cell::Cell;

thread_local! {
    static SCOPE: Cell<Option<Scope>> = const { Cell::new(None) };
}

#[derive(Clone, Copy)]
struct Scope {
    next_id: usize,
    default_parallelism: usize,
}

/// Runs `f` in a fresh build scope whose default partition count is
/// `default_parallelism`, and restores the enclosing scope afterwards.
pub fn in_scope<R>(default_parallelism: usize, f: impl FnOnce() -> R) -> R {
    let outer = SCOPE.with(|s| {
        s.replace(Some(Scope {
            next_id: 0,
            default_parallelism: default_parallelism.max(1),
        }))
    });
    struct Restore(Option<Scope>);
    impl Drop for Restore {
        fn drop(&mut self) {
            SCOPE.with(|s| s.set(self.0));
        }
    }
    let _restore = Restore(outer);
    f()
}

/// The next dataset or shuffle id of the current scope.
pub(crate) fn next_id() -> usize {
    SCOPE.with(|s| {
        let mut scope = s.get().expect(OUTSIDE);
        let id = scope.next_id;
        scope.next_id += 1;
        s.set(Some(scope));
        id
    })
}

/// The partition count used when a source or shuffle is given none.
pub fn default_parallelism() -> usize {
    SCOPE.with(|s| s.get().expect(OUTSIDE).default_parallelism)
}

const OUTSIDE: &str = "barks datasets can only be created while a job is being built \
(inside a `#[barks::job]` function run by `Job::run`, or `Context::run`)";
