//! The barks handshake: after TLS, on the first stream, both sides check the
//! protocol version and the build fingerprint, then prove that they know the
//! cluster secret, bound to this very TLS session.
//!
//! ```text
//! client                                   listener
//!   Hello{version, fingerprint, role, Nc} ->
//!                                         <- Hello{version, fingerprint, Ns}   (or close: Refusal)
//!   Proof{HMAC(secret, "client" T)}       ->
//!                                         <- Proof{HMAC(secret, "server" T)}   (or close: WrongSecret)
//!   Accepted                              ->                                   (or close: WrongSecret)
//! T = TLS exporter secret, Nc, Ns, the client's role, the fingerprint (length-prefixed)
//! ```
//!
//! A man in the middle who terminates TLS on both sides sees two different
//! exporter secrets, so a proof relayed from one session never verifies in
//! the other; a peer without the secret cannot compute a proof at all. The
//! client proves first, so a listener never hands out a proof to a stranger.
//! MACs are compared in constant time (`ring::hmac::verify`). A refusal
//! travels as the reason of the QUIC close, so the refused side can say why.

use std::net::SocketAddr;

use quinn::Connection;
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};

use super::close::{close_refused, printable, refusal_of};
use super::frame::{FrameReceiver, FrameSender};
use super::refusal::Refusal;
use super::{NetConfig, NetError, Role, decode_frame};

/// The barks wire protocol version, checked in the handshake.
pub const PROTOCOL_VERSION: u32 = 1;
/// Handshake messages are tiny; anything bigger is refused.
const HANDSHAKE_MAX_FRAME: usize = 4096;
const EXPORTER_LABEL: &[u8] = b"EXPORTER-barks/1 peer authentication";
const CLIENT_PROOF: &str = "barks/1 client proof";
const SERVER_PROOF: &str = "barks/1 server proof";
const NONCE: usize = 32;

/// A handshake message. `Hello` stays variant 0 with `version` as its first
/// field in every protocol version, so any peer can read another's version.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Message {
    Hello {
        version: u32,
        fingerprint: String,
        /// The connecting side's role; `None` from the listener.
        role: Option<Role>,
        nonce: [u8; NONCE],
    },
    Proof {
        mac: Vec<u8>,
    },
    Accepted,
}

/// The listener's side. Returns the connecting side's role once it has
/// proven the secret; on failure the connection is closed with a reason.
pub(crate) async fn accept(conn: &Connection, config: &NetConfig) -> Result<Role, NetError> {
    let peer = conn.remote_address();
    let stream = conn
        .accept_bi()
        .await
        .map_err(|e| NetError::closed(peer, &e))?;
    let mut wire = Wire::new(
        conn,
        config,
        stream,
        format!("the peer at {peer}"),
        "this node".into(),
    );
    let (fingerprint, role, client_nonce) = wire.hello().await?;
    let role = match role {
        Some(role) => role,
        None => return Err(wire.refuse(Refusal::Malformed, "its hello names no role".into())),
    };
    wire.them = format!("the {role} at {peer}");
    wire.check_build(&fingerprint)?;
    let server_nonce = nonce();
    wire.send(&Message::Hello {
        version: PROTOCOL_VERSION,
        fingerprint: config.fingerprint.clone(),
        role: None,
        nonce: server_nonce,
    })
    .await?;
    let proofs = Proofs::new(conn, config, &client_nonce, &server_nonce, role)?;
    let mac = wire.proof().await?;
    if !proofs.verify(CLIENT_PROOF, &mac) {
        let reason = format!(
            "wrong cluster secret: the proof of {} does not match",
            wire.them
        );
        return Err(wire.refuse(Refusal::WrongSecret, reason));
    }
    wire.send(&Message::Proof {
        mac: proofs.sign(SERVER_PROOF),
    })
    .await?;
    match wire.read().await? {
        Message::Accepted => Ok(role),
        _ => Err(wire.refuse(Refusal::Malformed, "expected its acceptance".into())),
    }
}

/// The connecting side. Returns once the listener has proven the secret
/// and been told so; on failure the error says exactly why.
pub(crate) async fn connect(
    conn: &Connection,
    config: &NetConfig,
    role: Role,
) -> Result<(), NetError> {
    let peer = conn.remote_address();
    let stream = conn
        .open_bi()
        .await
        .map_err(|e| NetError::closed(peer, &e))?;
    let them = format!("the {} at {peer}", role.counterpart());
    let mut wire = Wire::new(conn, config, stream, them, format!("this {role}"));
    let client_nonce = nonce();
    wire.send(&Message::Hello {
        version: PROTOCOL_VERSION,
        fingerprint: config.fingerprint.clone(),
        role: Some(role),
        nonce: client_nonce,
    })
    .await?;
    let (fingerprint, _, server_nonce) = wire.hello().await?;
    wire.check_build(&fingerprint)?;
    let proofs = Proofs::new(conn, config, &client_nonce, &server_nonce, role)?;
    wire.send(&Message::Proof {
        mac: proofs.sign(CLIENT_PROOF),
    })
    .await?;
    let mac = wire.proof().await?;
    if !proofs.verify(SERVER_PROOF, &mac) {
        let reason = format!(
            "wrong cluster secret: {} could not prove it knows the cluster secret \
             (another secret, or someone in the middle)",
            wire.them
        );
        return Err(wire.refuse(Refusal::WrongSecret, reason));
    }
    wire.send(&Message::Accepted).await?;
    wire.send.finish().await
}

/// Why a handshake frame is not a message of this protocol version.
pub(crate) enum BadMessage {
    /// A hello of another protocol version.
    OtherVersion(u32),
    Undecodable(NetError),
}

/// Decodes a handshake frame body. Pure: never panics, whatever the bytes.
pub(crate) fn decode_message(body: &[u8]) -> Result<Message, BadMessage> {
    // A hello is variant 0 followed by the version, in every version.
    if let Ok(((0, version), _)) = postcard::take_from_bytes::<(u32, u32)>(body)
        && version != PROTOCOL_VERSION
    {
        return Err(BadMessage::OtherVersion(version));
    }
    decode_frame(body).map_err(BadMessage::Undecodable)
}

/// One encoded handshake message of each kind (a hello from `role`
/// first), for the decoder tests.
#[cfg(test)]
pub(crate) fn handshake_samples(role: Role) -> Vec<Vec<u8>> {
    let messages = [
        Message::Hello {
            version: PROTOCOL_VERSION,
            fingerprint: "build-ünïcode".into(),
            role: Some(role),
            nonce: [7; NONCE],
        },
        Message::Proof { mac: vec![1; 32] },
        Message::Accepted,
    ];
    messages
        .iter()
        .map(|m| super::encode_frame(m).expect("a handshake message encodes"))
        .collect()
}

fn nonce() -> [u8; NONCE] {
    let mut nonce = [0u8; NONCE];
    SystemRandom::new()
        .fill(&mut nonce)
        .expect("the operating system's random number generator failed");
    nonce
}

/// The handshake stream plus who is who, for messages.
struct Wire<'c> {
    conn: &'c Connection,
    send: FrameSender,
    recv: FrameReceiver,
    peer: SocketAddr,
    /// The other side, e.g. "the worker at 127.0.0.1:5000".
    them: String,
    /// This side, e.g. "this node".
    me: String,
    /// This side's build fingerprint.
    fingerprint: &'c str,
}

impl<'c> Wire<'c> {
    fn new(
        conn: &'c Connection,
        config: &'c NetConfig,
        (send, recv): (quinn::SendStream, quinn::RecvStream),
        them: String,
        me: String,
    ) -> Wire<'c> {
        let peer = conn.remote_address();
        Wire {
            conn,
            send: FrameSender::new(send, peer, HANDSHAKE_MAX_FRAME),
            recv: FrameReceiver::new(recv, conn.clone(), HANDSHAKE_MAX_FRAME, false),
            peer,
            them,
            me,
            fingerprint: &config.fingerprint,
        }
    }

    async fn send(&mut self, msg: &Message) -> Result<(), NetError> {
        let result = self.send.send(msg).await;
        result.map_err(|e| self.peer_refusal().unwrap_or(e))
    }

    /// The next message; a refusal by the peer becomes [`NetError::Refused`].
    async fn read(&mut self) -> Result<Message, NetError> {
        let body = match self.recv.recv_bytes().await {
            Ok(Some(body)) => body,
            Ok(None) => {
                let reason = "the handshake stream ended early".to_owned();
                return Err(self.refuse(Refusal::Malformed, reason));
            }
            Err(e) => return Err(self.peer_refusal().unwrap_or(e)),
        };
        match decode_message(&body) {
            Ok(message) => Ok(message),
            Err(BadMessage::OtherVersion(version)) => {
                let reason = format!(
                    "other protocol version: {} speaks barks protocol {version}, {} speaks {PROTOCOL_VERSION}",
                    self.them, self.me
                );
                let refusal = Refusal::ProtocolVersion {
                    speaks: PROTOCOL_VERSION,
                };
                Err(self.refuse(refusal, reason))
            }
            Err(BadMessage::Undecodable(e)) => Err(self.refuse(
                Refusal::Malformed,
                format!("undecodable handshake message: {e}"),
            )),
        }
    }

    async fn hello(&mut self) -> Result<(String, Option<Role>, [u8; NONCE]), NetError> {
        match self.read().await? {
            Message::Hello {
                fingerprint,
                role,
                nonce,
                ..
            } => Ok((fingerprint, role, nonce)),
            _ => Err(self.refuse(Refusal::Malformed, "expected a hello".into())),
        }
    }

    async fn proof(&mut self) -> Result<Vec<u8>, NetError> {
        match self.read().await? {
            Message::Proof { mac } => Ok(mac),
            _ => Err(self.refuse(Refusal::Malformed, "expected a proof".into())),
        }
    }

    /// Refuses a peer of another build, naming both builds.
    fn check_build(&self, theirs: &str) -> Result<(), NetError> {
        if theirs == self.fingerprint {
            return Ok(());
        }
        let reason = format!(
            "other build: {} runs build {}, {} runs build {}",
            self.them,
            printable(theirs.as_bytes()),
            self.me,
            self.fingerprint
        );
        Err(self.refuse(Refusal::other_build(self.fingerprint), reason))
    }

    /// Refuses the peer: closes with `refusal` and returns what to log.
    fn refuse(&self, refusal: Refusal, reason: String) -> NetError {
        close_refused(self.conn, &refusal);
        NetError::Unauthenticated {
            peer: self.peer,
            reason,
        }
    }

    /// The peer's refusal, if it closed the connection with one.
    fn peer_refusal(&self) -> Option<NetError> {
        let refusal = refusal_of(&self.conn.close_reason()?)?;
        Some(NetError::Refused {
            peer: self.peer,
            reason: refusal.explain(&self.them, &self.me, PROTOCOL_VERSION, self.fingerprint),
        })
    }
}

/// Computes and checks the two proofs of one session.
struct Proofs<'a> {
    key: hmac::Key,
    exporter: [u8; 32],
    client_nonce: &'a [u8; NONCE],
    server_nonce: &'a [u8; NONCE],
    role: Role,
    fingerprint: &'a str,
}

impl<'a> Proofs<'a> {
    fn new(
        conn: &Connection,
        config: &'a NetConfig,
        client_nonce: &'a [u8; NONCE],
        server_nonce: &'a [u8; NONCE],
        role: Role,
    ) -> Result<Proofs<'a>, NetError> {
        let mut exporter = [0u8; 32];
        conn.export_keying_material(&mut exporter, EXPORTER_LABEL, b"")
            .map_err(|_| NetError::Connect {
                peer: conn.remote_address(),
                message: "the TLS session offers no exporter secret".to_owned(),
            })?;
        Ok(Proofs {
            key: config.secret.hmac_key(),
            exporter,
            client_nonce,
            server_nonce,
            role,
            fingerprint: &config.fingerprint,
        })
    }

    /// Everything a proof covers, each part length-prefixed so that no two
    /// transcripts share an encoding.
    fn transcript(&self, context: &'static str) -> Vec<u8> {
        let role = self.role.to_string();
        let parts: [&[u8]; 6] = [
            context.as_bytes(),
            &self.exporter,
            self.client_nonce,
            self.server_nonce,
            role.as_bytes(),
            self.fingerprint.as_bytes(),
        ];
        let mut transcript = Vec::with_capacity(256);
        for part in parts {
            transcript.extend_from_slice(&(part.len() as u64).to_le_bytes());
            transcript.extend_from_slice(part);
        }
        transcript
    }

    fn sign(&self, context: &'static str) -> Vec<u8> {
        hmac::sign(&self.key, &self.transcript(context))
            .as_ref()
            .to_vec()
    }

    fn verify(&self, context: &'static str, mac: &[u8]) -> bool {
        hmac::verify(&self.key, &self.transcript(context), mac).is_ok()
    }
}
