//! A time limit for cluster tests: a job that hangs fails its test instead
//! of stalling the suite.

use std::sync::mpsc;
use std::time::Duration;

/// Runs `f` in another thread; fails the test if it takes over 120 s.
pub fn bounded<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(120))
        .expect("the job neither finished nor failed within 120 seconds")
}
