//! The driver's network side, on tokio: accepting workers, their
//! registration and heartbeats, and the streams on which they report tasks
//! or ask for persisted partitions. It hands the job loop [`Note`]s and
//! keeps each worker's [`WorkerConn`] up to date; it makes no decision.

use super::{Note, WorkerConn, Workers, lock};
use crate::cluster::fetch::send_reply;
use crate::cluster::net::{FrameReceiver, FrameSender, Listener, Peer, Role};
use crate::cluster::protocol::{
    MAX_PREALLOCATED_BLOCK, Outcome, TaskDone, ToDriver, ToWorker, Upstream,
};
use crate::error::Error;
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};
use tokio::sync::mpsc::unbounded_channel;

/// Accepts workers until the listener closes.
pub(super) async fn accept_workers(
    listener: Arc<Listener>,
    workers: Workers,
    notes: mpsc::Sender<Note>,
) {
    let mut next_id = 1u64;
    while let Some(peer) = listener.accept().await {
        if peer.role() != Role::Worker {
            log::warn!(
                "{} connected to the driver as a {}, not a worker; closing",
                peer.remote(),
                peer.role()
            );
            peer.close("this address accepts workers only");
            continue;
        }
        tokio::spawn(serve_worker(peer, next_id, workers.clone(), notes.clone()));
        next_id += 1;
    }
}

/// One worker's connection: registration, then heartbeats on the control
/// stream and one stream per task report.
async fn serve_worker(peer: Peer, id: u64, workers: Workers, notes: mpsc::Sender<Note>) {
    let remote = peer.remote();
    let control = tokio::time::timeout(Duration::from_secs(10), peer.accept_stream()).await;
    let Ok(Some((mut out, mut control))) = control else {
        log::warn!("worker {remote} opened no control stream; closing");
        peer.close("no control stream");
        return;
    };
    let (slots, blocks_at) = match control.recv::<ToDriver>().await {
        Ok(Some(ToDriver::Register { slots, blocks_at })) => (slots, blocks_at),
        other => {
            log::warn!("worker {remote} did not register ({other:?}); closing");
            peer.close("expected a registration");
            return;
        }
    };
    let (to_worker, mut queue) = unbounded_channel::<ToWorker>();
    let _ = to_worker.send(ToWorker::Welcome { worker: id });
    tokio::spawn(async move {
        while let Some(message) = queue.recv().await {
            if out.send(&message).await.is_err() {
                return;
            }
        }
    });
    lock(&workers).insert(
        id,
        WorkerConn {
            peer: peer.clone(),
            blocks_at,
            slots,
            to_worker,
            last_seen: Instant::now(),
        },
    );
    log::info!("worker {remote} joined with {slots} slot(s); its blocks are at {blocks_at}");
    let _ = notes.send(Note::Joined);
    let reports = {
        let (peer, notes) = (peer.clone(), notes.clone());
        tokio::spawn(async move {
            while let Some((out, back)) = peer.accept_stream().await {
                tokio::spawn(serve_upstream(out, back, id, notes.clone()));
            }
        })
    };
    let reason = loop {
        match control.recv::<ToDriver>().await {
            Ok(Some(ToDriver::Heartbeat)) => {
                if let Some(w) = lock(&workers).get_mut(&id) {
                    w.last_seen = Instant::now();
                }
            }
            Ok(Some(ToDriver::Register { .. })) => {}
            Ok(None) => break "it closed its control stream".to_string(),
            Err(e) => break e.to_string(),
        }
    };
    reports.abort();
    let _ = notes.send(Note::Lost(id, reason));
}

/// A stream a worker opened: a task report, or a request for a persisted
/// partition.
async fn serve_upstream(
    mut out: FrameSender,
    mut back: FrameReceiver,
    worker: u64,
    notes: mpsc::Sender<Note>,
) {
    match back.recv::<Upstream>().await {
        Ok(Some(Upstream::Report(done))) => read_report(done, back, worker, notes).await,
        Ok(Some(Upstream::Persisted { id, partition })) => {
            let block = tokio::task::spawn_blocking(move || {
                crate::ops::persist::encoded_block(id, partition)
            })
            .await
            .unwrap_or_else(|e| {
                Err(Error::Internal(format!(
                    "the task encoding a persisted partition failed: {e}"
                )))
            });
            send_reply(&mut out, block).await;
        }
        Ok(None) => {}
        Err(e) => log::warn!("bad stream from a worker: {e}"),
    }
}

/// Reads one task report's payload (after its header) and passes it on.
async fn read_report(
    done: TaskDone,
    mut back: FrameReceiver,
    worker: u64,
    notes: mpsc::Sender<Note>,
) {
    let len = match done.outcome {
        Outcome::Map { len } | Outcome::Result { len } => len,
        _ => 0,
    };
    // The chunks land in place; the length is an authenticated worker's,
    // and capped all the same.
    let mut payload = Vec::with_capacity(len.min(MAX_PREALLOCATED_BLOCK) as usize);
    while (payload.len() as u64) < len {
        match back.recv_bytes_into(&mut payload).await {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                log::warn!("a task report was cut off: {e}");
                break;
            }
        }
    }
    if payload.len() as u64 != len {
        // The task ran, but its output did not arrive: run it again.
        let message = format!("its report carried {} of {len} bytes", payload.len());
        let failed = TaskDone {
            outcome: Outcome::Failed { message },
            ..done
        };
        let _ = notes.send(Note::Report(worker, failed, Vec::new()));
        return;
    }
    let _ = notes.send(Note::Report(worker, done, payload));
}
