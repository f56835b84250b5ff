//! `Peer`: an authenticated connection, and `connect`, which makes one.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use quinn::{Connection, ConnectionError, Endpoint, TransportErrorCode, VarInt};

use super::close::{CLOSE_NORMAL, close_with_text, describe};
use super::frame::{FrameReceiver, FrameSender};
use super::{NetConfig, NetError, Role, handshake, tls};

/// An authenticated connection to another barks node. Cheap to clone; all
/// clones share the connection.
///
/// Streams are bidirectional and carry frames ([`FrameSender`],
/// [`FrameReceiver`]). As in QUIC, a stream opened with [`Peer::open`]
/// reaches the other side's [`Peer::accept_stream`] only once the opener
/// sends its first frame.
#[derive(Clone)]
pub struct Peer {
    conn: Connection,
    role: Role,
    max_frame: usize,
}

impl std::fmt::Debug for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Peer")
            .field("remote", &self.remote())
            .field("role", &self.role)
            .finish()
    }
}

impl Peer {
    /// A peer that passed the handshake: lets it open streams.
    pub(crate) fn authenticated(conn: Connection, role: Role, config: &NetConfig) -> Peer {
        conn.set_max_concurrent_bi_streams(VarInt::from_u32(config.max_streams));
        Peer {
            conn,
            role,
            max_frame: config.max_frame,
        }
    }

    /// The peer's address.
    pub fn remote(&self) -> SocketAddr {
        self.conn.remote_address()
    }

    /// The peer's role. On a listener it is what the connecting side asked
    /// to be; on the connecting side it is the listener's role implied by
    /// ours: a worker connects to a `Driver`, a driver or a shuffle fetch
    /// connects to a `Worker`.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Opens a new bidirectional stream. Waits while the peer's limit of
    /// concurrent streams is reached.
    pub async fn open(&self) -> Result<(FrameSender, FrameReceiver), NetError> {
        let (send, recv) = self
            .conn
            .open_bi()
            .await
            .map_err(|e| NetError::closed(self.remote(), &e))?;
        Ok(self.streams(send, recv))
    }

    /// The next stream the peer opened; `None` once the connection is closed.
    pub async fn accept_stream(&self) -> Option<(FrameSender, FrameReceiver)> {
        let (send, recv) = self.conn.accept_bi().await.ok()?;
        Some(self.streams(send, recv))
    }

    /// Resolves when the connection ends, with the reason.
    pub async fn closed(&self) -> NetError {
        let err = self.conn.closed().await;
        NetError::closed(self.remote(), &err)
    }

    /// Closes the connection, telling the peer `reason`.
    pub fn close(&self, reason: &str) {
        close_with_text(&self.conn, CLOSE_NORMAL, reason);
    }

    fn streams(
        &self,
        send: quinn::SendStream,
        recv: quinn::RecvStream,
    ) -> (FrameSender, FrameReceiver) {
        (
            FrameSender::new(send, self.remote(), self.max_frame),
            FrameReceiver::new(recv, self.conn.clone(), self.max_frame, true),
        )
    }
}

/// Connects to the listener at `addr` as `role`, runs the barks handshake
/// and returns the authenticated peer, or an error saying exactly why not
/// (unreachable, timeout, wrong cluster secret, other build, ...).
pub async fn connect(
    addr: SocketAddr,
    config: Arc<NetConfig>,
    role: Role,
) -> Result<Peer, NetError> {
    let local: SocketAddr = if addr.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let endpoint = Endpoint::client(local).map_err(|e| NetError::Bind {
        addr: local,
        message: e.to_string(),
    })?;
    let client = tls::client_config(&config)?;
    let attempt = async {
        let connecting = endpoint
            .connect_with(client, addr, tls::SERVER_NAME)
            .map_err(|e| NetError::Connect {
                peer: addr,
                message: e.to_string(),
            })?;
        let conn = connecting.await.map_err(|e| NetError::Connect {
            peer: addr,
            message: explain_connect_failure(&e),
        })?;
        let handshake = handshake::connect(&conn, &config, role).await;
        handshake.map(|()| Peer::authenticated(conn, role.counterpart(), &config))
    };
    match tokio::time::timeout(config.handshake_timeout, attempt).await {
        Ok(result) => result,
        Err(_) => Err(NetError::Timeout {
            peer: addr,
            what: format!(
                "no complete handshake within {:?} (is a barks node listening there, with the same protocol?)",
                config.handshake_timeout
            ),
        }),
    }
}

/// The TLS alert a listener sends when no ALPN protocol matches.
const NO_APPLICATION_PROTOCOL: u8 = 120;

fn explain_connect_failure(err: &ConnectionError) -> String {
    let code = match err {
        ConnectionError::ConnectionClosed(close) => Some(close.error_code),
        ConnectionError::TransportError(e) => Some(e.code),
        _ => None,
    };
    if code == Some(TransportErrorCode::CONNECTION_REFUSED) {
        "the listener refused the connection (too many handshakes in progress, or it is \
         closing); try again"
            .to_owned()
    } else if code == Some(TransportErrorCode::crypto(NO_APPLICATION_PROTOCOL)) {
        "TLS failed: the listener does not speak barks/1 (no common ALPN protocol)".to_owned()
    } else {
        describe(err)
    }
}
