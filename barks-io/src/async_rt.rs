//! One small tokio runtime shared by the connectors whose client libraries
//! are async (S3, PostgreSQL, MongoDB, SQL Server). Sources and sinks are
//! synchronous (a task is a plain thread pulling an iterator), so they drive
//! their futures with [`block_on`].
//!
//! Never call `block_on` from inside an async context: tasks run on plain
//! threads, both in local mode and on a worker, so connector code never is.

use std::future::Future;
use std::sync::OnceLock;
use tokio::runtime::{Builder, Runtime};

/// The shared runtime: two I/O threads are plenty for a connector's network
/// traffic; the CPU-heavy work stays on the task threads.
pub(crate) fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("barks-io")
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("cannot start barks-io's tokio runtime: {e}"))
    })
}

/// Runs `future` to completion on the shared runtime, from a task thread.
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    runtime().block_on(future)
}
