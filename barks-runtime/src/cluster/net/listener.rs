//! `Listener`: a QUIC server endpoint that hands out authenticated peers.
//!
//! A background task accepts connections; each runs the TLS and barks
//! handshakes in its own task, under a deadline and a cap on how many run at
//! once. Peers that fail are logged with their address and dropped; only
//! authenticated peers reach [`Listener::accept`].

use std::net::SocketAddr;
use std::sync::Arc;

use quinn::{Endpoint, Incoming, VarInt};
use tokio::sync::{Mutex, Semaphore, mpsc};
use tokio::task::JoinHandle;
use tokio::time::{Instant, timeout_at};

use super::close::{CLOSE_NORMAL, close_refused};
use super::refusal::Refusal;
use super::{NetConfig, NetError, Peer, handshake, tls};

/// Listens for barks peers. Must be created inside a tokio runtime.
pub struct Listener {
    endpoint: Endpoint,
    local_addr: SocketAddr,
    peers: Mutex<mpsc::Receiver<Peer>>,
    acceptor: JoinHandle<()>,
}

impl Listener {
    /// Opens a QUIC endpoint on `addr` (port 0 picks a free port) with a
    /// certificate generated now, and starts accepting peers.
    pub fn bind(addr: SocketAddr, config: Arc<NetConfig>) -> Result<Listener, NetError> {
        let server = tls::server_config(&config)?;
        let endpoint = Endpoint::server(server, addr).map_err(|e| NetError::Bind {
            addr,
            message: e.to_string(),
        })?;
        let local_addr = endpoint.local_addr().map_err(|e| NetError::Bind {
            addr,
            message: e.to_string(),
        })?;
        let (sender, peers) = mpsc::channel(config.max_handshakes.max(1));
        let acceptor = tokio::spawn(accept_loop(endpoint.clone(), local_addr, config, sender));
        log::info!("listening for barks peers on {local_addr}");
        Ok(Listener {
            endpoint,
            local_addr,
            peers: Mutex::new(peers),
            acceptor,
        })
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The next authenticated peer; `None` once the listener is closed.
    /// Peers that fail TLS, the handshake, the secret or the fingerprint
    /// check are refused (with the reason sent to them), logged with their
    /// address, and skipped.
    pub async fn accept(&self) -> Option<Peer> {
        self.peers.lock().await.recv().await
    }

    /// Stops accepting and closes every connection made through this
    /// listener. Dropping the listener only stops accepting: peers already
    /// handed out keep working.
    pub fn close(&self) {
        self.acceptor.abort();
        self.endpoint
            .close(VarInt::from_u32(CLOSE_NORMAL), b"the listener is closing");
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.acceptor.abort();
        self.endpoint.set_server_config(None);
    }
}

async fn accept_loop(
    endpoint: Endpoint,
    local: SocketAddr,
    config: Arc<NetConfig>,
    peers: mpsc::Sender<Peer>,
) {
    let handshakes = Arc::new(Semaphore::new(config.max_handshakes.max(1)));
    while let Some(incoming) = endpoint.accept().await {
        match handshakes.clone().try_acquire_owned() {
            Ok(permit) => {
                let (config, peers) = (config.clone(), peers.clone());
                tokio::spawn(async move {
                    admit(incoming, local, config, peers).await;
                    drop(permit);
                });
            }
            Err(_) => {
                log::warn!(
                    "listener {local}: refused a connection from {}: {} handshakes already in progress",
                    incoming.remote_address(),
                    config.max_handshakes
                );
                incoming.refuse();
            }
        }
    }
}

/// Runs one peer's handshakes and hands it out, or logs why not.
async fn admit(
    incoming: Incoming,
    local: SocketAddr,
    config: Arc<NetConfig>,
    peers: mpsc::Sender<Peer>,
) {
    let addr = incoming.remote_address();
    match authenticate(incoming, &config).await {
        Ok(peer) => {
            log::info!(
                "listener {local}: the {} at {addr} is authenticated",
                peer.role()
            );
            // A send fails only when the listener is gone; the peer drops.
            let _ = peers.send(peer).await;
        }
        Err(err) => log::warn!("listener {local}: {err}"),
    }
}

async fn authenticate(incoming: Incoming, config: &NetConfig) -> Result<Peer, NetError> {
    let peer = incoming.remote_address();
    let deadline = Instant::now() + config.handshake_timeout;
    let timed_out = |what: &str| NetError::Timeout {
        peer,
        what: format!("{what} took longer than {:?}", config.handshake_timeout),
    };
    let conn = match timeout_at(deadline, incoming).await {
        Ok(Ok(conn)) => conn,
        Ok(Err(e)) => {
            return Err(NetError::Unauthenticated {
                peer,
                reason: format!("QUIC/TLS handshake failed: {}", super::close::describe(&e)),
            });
        }
        Err(_) => return Err(timed_out("the QUIC/TLS handshake")),
    };
    match timeout_at(deadline, handshake::accept(&conn, config)).await {
        Ok(Ok(role)) => Ok(Peer::authenticated(conn, role, config)),
        Ok(Err(e)) => Err(e),
        Err(_) => {
            close_refused(&conn, &Refusal::Timeout);
            Err(timed_out("the barks handshake"))
        }
    }
}
