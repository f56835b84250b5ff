//! `local-cluster[N]`: N worker processes of the running binary on
//! loopback. A child becomes a worker before its `main` runs (see
//! [`entry`](super::entry)), so any binary that links barks — a test harness
//! too — can be its own worker. Children die with the driver: they get
//! `SIGKILL` when it exits (Linux `PR_SET_PDEATHSIG`), they stop when its
//! connection closes, and dropping the cluster kills them.

use super::entry::{JOIN_ENV, SLOTS_ENV};
use super::net::Secret;
use crate::error::{Error, Result};
use crate::memory::{MEMORY_ENV, MemoryOptions, SPILL_DIR_ENV};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The worker processes of a `local-cluster`.
pub struct LocalWorkers {
    children: Mutex<Vec<Child>>,
}

impl LocalWorkers {
    /// Starts `workers` processes of this binary that join `driver` with
    /// `slots` slots each, with the memory budget and spill directory
    /// `memory` gives (else what their own environment says).
    pub(crate) fn spawn(
        workers: usize,
        slots: usize,
        driver: SocketAddr,
        secret: &Secret,
        memory: Option<&MemoryOptions>,
    ) -> Result<Self> {
        let exe = std::env::current_exe().map_err(|e| Error::io("<current executable>", e))?;
        let mut children = Vec::with_capacity(workers);
        for _ in 0..workers {
            let mut command = Command::new(&exe);
            command
                .env(JOIN_ENV, driver.to_string())
                .env(SLOTS_ENV, slots.to_string())
                .env(super::net::SECRET_ENV, secret.expose())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::inherit());
            if let Some(memory) = memory {
                command
                    .env(MEMORY_ENV, memory.memory.to_string())
                    .env(SPILL_DIR_ENV, &memory.spill_dir);
            }
            die_with_parent(&mut command);
            children.push(
                command
                    .spawn()
                    .map_err(|e| Error::io(&exe, format!("cannot start a worker process: {e}")))?,
            );
        }
        Ok(LocalWorkers {
            children: Mutex::new(children),
        })
    }

    /// The process ids of the workers (for tests that kill one).
    pub fn pids(&self) -> Vec<u32> {
        self.lock().iter().map(Child::id).collect()
    }

    /// Fails if every worker process has exited.
    pub(crate) fn check_alive(&self) -> Result<()> {
        let mut children = self.lock();
        let mut statuses = Vec::new();
        for child in children.iter_mut() {
            match child.try_wait() {
                Ok(Some(status)) => statuses.push(status.to_string()),
                _ => return Ok(()),
            }
        }
        Err(Error::Net {
            peer: None,
            message: format!(
                "every local-cluster worker process has exited ({}); see their messages above",
                statuses.join(", ")
            ),
        })
    }

    /// Waits up to `grace` for the workers to exit, then kills them.
    pub(crate) fn stop(&self, grace: Duration) {
        let start = Instant::now();
        let mut children = self.lock();
        for child in children.iter_mut() {
            while start.elapsed() < grace && matches!(child.try_wait(), Ok(None)) {
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Child>> {
        self.children.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for LocalWorkers {
    fn drop(&mut self) {
        self.stop(Duration::ZERO);
    }
}

#[cfg(target_os = "linux")]
fn die_with_parent(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn die_with_parent(_: &mut Command) {}
