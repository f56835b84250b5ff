//! Shuffle blocks between workers: a reducer fetches its block of every map
//! output straight from the worker that holds it, over QUIC, all maps at
//! once; the holder encodes the block (or reads it from a spill file) when
//! asked and streams it in chunks. A block that cannot be had, from another
//! worker or from this one's store, is a fetch failure: the scheduler
//! recomputes that map output.

use super::net::{FrameReceiver, FrameSender, Listener, NetConfig, Peer, Role, connect};
use super::protocol::{CHUNK, FetchReply, FetchRequest, MAX_PREALLOCATED_BLOCK, ShuffleInput};
use crate::error::{Error, Result};
use crate::plan::Plan;
use crate::plan::node::{Shared, ShuffleOutputs, ShuffleSource};
use crate::shuffle::store::BlockStore;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::runtime::Handle;
use tokio::task::JoinSet;

/// Fetches blocks for the tasks of one worker, reusing one connection per
/// peer worker.
pub(crate) struct Fetcher {
    config: Arc<NetConfig>,
    handle: Handle,
    /// Where this worker's own blocks are served: those are read from its
    /// store directly.
    own: SocketAddr,
    store: Arc<BlockStore>,
    peers: tokio::sync::Mutex<HashMap<SocketAddr, Peer>>,
}

impl Fetcher {
    pub fn new(
        config: Arc<NetConfig>,
        handle: Handle,
        own: SocketAddr,
        store: Arc<BlockStore>,
    ) -> Self {
        Fetcher {
            config,
            handle,
            own,
            store,
            peers: Default::default(),
        }
    }

    async fn peer(&self, addr: SocketAddr) -> Result<Peer> {
        let mut peers = self.peers.lock().await;
        if let Some(peer) = peers.get(&addr) {
            return Ok(peer.clone());
        }
        let peer = connect(addr, self.config.clone(), Role::ShuffleFetch).await?;
        peers.insert(addr, peer.clone());
        Ok(peer)
    }

    async fn forget(&self, addr: SocketAddr) {
        self.peers.lock().await.remove(&addr);
    }

    /// One block's bytes from the worker at `addr`.
    async fn fetch(&self, addr: SocketAddr, request: FetchRequest) -> Result<Vec<u8>> {
        let peer = self.peer(addr).await?;
        let fetched = async {
            let (mut out, mut back) = peer.open().await?;
            out.send(&request).await?;
            out.finish().await?;
            read_reply(&mut back, addr).await
        }
        .await;
        if fetched.is_err() {
            self.forget(addr).await;
        }
        fetched
    }
}

/// Reads a [`FetchReply`] and the block's chunks from `addr`.
pub(crate) async fn read_reply(back: &mut FrameReceiver, addr: SocketAddr) -> Result<Vec<u8>> {
    let len = match back.recv::<FetchReply>().await? {
        Some(FetchReply::Block { len }) => len,
        Some(FetchReply::Missing { message }) => {
            return Err(Error::Net {
                peer: Some(addr),
                message: format!("worker {addr}: {message}"),
            });
        }
        None => {
            return Err(Error::Net {
                peer: Some(addr),
                message: format!("worker {addr} closed the block stream"),
            });
        }
    };
    // The whole block at once (its chunks land in place): the length comes
    // from an authenticated peer, and is capped all the same.
    let mut bytes = Vec::with_capacity(len.min(MAX_PREALLOCATED_BLOCK) as usize);
    while (bytes.len() as u64) < len {
        if !back.recv_bytes_into(&mut bytes).await? {
            break;
        }
    }
    if bytes.len() as u64 != len {
        return Err(Error::Net {
            peer: Some(addr),
            message: format!(
                "worker {addr} sent {} bytes of a {len}-byte block",
                bytes.len()
            ),
        });
    }
    Ok(bytes)
}

/// A task's view of the shuffles it reads: blocks from this worker's store
/// or fetched from others, decoded into the types the reduce side reads.
pub(crate) struct RemoteShuffles {
    run: u64,
    plan: Arc<Plan>,
    inputs: Vec<ShuffleInput>,
    fetcher: Arc<Fetcher>,
}

impl RemoteShuffles {
    pub fn new(
        run: u64,
        plan: Arc<Plan>,
        inputs: Vec<ShuffleInput>,
        fetcher: Arc<Fetcher>,
    ) -> Self {
        RemoteShuffles {
            run,
            plan,
            inputs,
            fetcher,
        }
    }
}

impl ShuffleSource for RemoteShuffles {
    fn outputs(&self, shuffle: usize, reduce: usize) -> Result<ShuffleOutputs> {
        let input = self
            .inputs
            .iter()
            .find(|i| i.shuffle == shuffle)
            .ok_or_else(|| {
                Error::Internal(format!("the task was given no input for shuffle {shuffle}"))
            })?;
        let (_, dep) = self
            .plan
            .shuffle_stage(shuffle)
            .ok_or_else(|| Error::Internal(format!("the plan has no shuffle {shuffle}")))?;
        let summary = dep.decode_summary(&input.summary)?;
        // One shared placeholder for the map outputs this reducer does not read.
        let unread: Shared = Arc::new(());
        let mut maps: Vec<Shared> = vec![unread; input.maps.len()];
        let mut remote = JoinSet::new();
        for map in dep.maps_read(reduce, input.maps.len()) {
            let addr = input.maps[map];
            let fetch_failed = |message: String| Error::FetchFailed {
                shuffle,
                map,
                message,
            };
            if addr == self.fetcher.own {
                maps[map] = self
                    .fetcher
                    .store
                    .local((self.run, shuffle, map), reduce, &summary)
                    .map_err(|e| match e {
                        e @ Error::FetchFailed { .. } => e,
                        e => fetch_failed(e.to_string()),
                    })?;
                continue;
            }
            let request = FetchRequest {
                run: self.run,
                shuffle,
                map,
                reduce,
                summary: input.summary.clone(),
            };
            let fetcher = self.fetcher.clone();
            remote.spawn_on(
                async move { (map, fetcher.fetch(addr, request).await) },
                &self.fetcher.handle,
            );
        }
        let fetched = self.fetcher.handle.block_on(remote.join_all());
        for (map, bytes) in fetched {
            let bytes = bytes.map_err(|e| Error::FetchFailed {
                shuffle,
                map,
                message: e.to_string(),
            })?;
            maps[map] = dep.decode_block(&bytes, reduce)?;
        }
        Ok(ShuffleOutputs { maps, summary })
    }
}

/// Serves this worker's blocks to the workers that fetch them.
pub(crate) async fn serve_blocks(listener: Listener, store: Arc<BlockStore>) {
    while let Some(peer) = listener.accept().await {
        if peer.role() != Role::ShuffleFetch {
            log::warn!(
                "{} connected to a block server as a {}; closing",
                peer.remote(),
                peer.role()
            );
            peer.close("this address serves shuffle blocks only");
            continue;
        }
        let store = store.clone();
        tokio::spawn(async move {
            while let Some((out, back)) = peer.accept_stream().await {
                tokio::spawn(serve_fetch(out, back, store.clone()));
            }
        });
    }
}

async fn serve_fetch(mut out: FrameSender, mut back: FrameReceiver, store: Arc<BlockStore>) {
    let request: FetchRequest = match back.recv().await {
        Ok(Some(request)) => request,
        Ok(None) => return,
        Err(e) => {
            log::warn!("bad block request: {e}");
            return;
        }
    };
    let encoded = tokio::task::spawn_blocking(move || {
        store.encode(
            (request.run, request.shuffle, request.map),
            request.reduce,
            &request.summary,
        )
    })
    .await
    .unwrap_or_else(|e| {
        Err(Error::Internal(format!(
            "the task encoding a block failed: {e}"
        )))
    });
    send_reply(&mut out, encoded).await;
}

/// Answers a fetch with the block (in chunks) or why it is missing.
pub(crate) async fn send_reply(out: &mut FrameSender, block: Result<Vec<u8>>) {
    let sent = async {
        match block {
            Ok(bytes) => {
                out.send(&FetchReply::Block {
                    len: bytes.len() as u64,
                })
                .await?;
                for chunk in bytes.chunks(CHUNK) {
                    out.send_bytes(chunk).await?;
                }
            }
            Err(e) => {
                // The fetcher names the map output itself.
                let message = match e {
                    Error::FetchFailed { message, .. } => message,
                    e => e.to_string(),
                };
                out.send(&FetchReply::Missing { message }).await?
            }
        }
        out.finish().await
    }
    .await;
    if let Err(e) = sent {
        log::warn!("cannot send a block to {}: {e}", out.peer());
    }
}
