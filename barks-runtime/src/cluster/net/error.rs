//! `NetError`: what went wrong on the wire, naming the peer's address.
//!
//! No variant ever carries the cluster secret: messages are built from
//! addresses, roles, build fingerprints and protocol facts only.

use std::fmt;
use std::net::SocketAddr;

use quinn::ConnectionError;

/// A transport or security failure. `Display` says what happened and, where
/// there is one, names the peer's address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetError {
    /// A setting is unusable: a secret that is too short, an unreadable
    /// secret file, a TLS configuration that cannot be built.
    Config(String),
    /// The local UDP socket could not be opened.
    Bind { addr: SocketAddr, message: String },
    /// The peer could not be reached or the QUIC/TLS handshake failed.
    Connect { peer: SocketAddr, message: String },
    /// The peer refused us (wrong cluster secret, other build, other protocol
    /// version, too busy); `reason` is its answer, already phrased for a user.
    Refused { peer: SocketAddr, reason: String },
    /// We refused the peer: it failed a check of the barks handshake.
    Unauthenticated { peer: SocketAddr, reason: String },
    /// The peer did not finish the handshake in time.
    Timeout { peer: SocketAddr, what: String },
    /// A frame broke the protocol (oversized, truncated, undecodable); the
    /// connection to that peer has been closed.
    Frame { peer: SocketAddr, message: String },
    /// A frame larger than the configured limit was not sent.
    TooLarge {
        peer: SocketAddr,
        size: usize,
        max: usize,
    },
    /// A message could not be encoded into a frame body.
    Encode(String),
    /// A frame body could not be decoded (no peer known at this level).
    Decode(String),
    /// The connection is gone: closed by either side, reset, or silent for
    /// longer than the idle timeout.
    Closed { peer: SocketAddr, reason: String },
}

impl NetError {
    /// The peer this error is about, when there is one.
    pub fn peer(&self) -> Option<SocketAddr> {
        match self {
            NetError::Config(_)
            | NetError::Encode(_)
            | NetError::Decode(_)
            | NetError::Bind { .. } => None,
            NetError::Connect { peer, .. }
            | NetError::Refused { peer, .. }
            | NetError::Unauthenticated { peer, .. }
            | NetError::Timeout { peer, .. }
            | NetError::Frame { peer, .. }
            | NetError::TooLarge { peer, .. }
            | NetError::Closed { peer, .. } => Some(*peer),
        }
    }

    /// The error for a connection that ended with `err`.
    pub(crate) fn closed(peer: SocketAddr, err: &ConnectionError) -> NetError {
        NetError::Closed {
            peer,
            reason: super::close::describe(err),
        }
    }
}

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetError::Config(message) => write!(f, "cluster configuration: {message}"),
            NetError::Bind { addr, message } => write!(f, "cannot listen on {addr}: {message}"),
            NetError::Connect { peer, message } => write!(f, "cannot connect to {peer}: {message}"),
            NetError::Refused { reason, .. } => write!(f, "{reason}"),
            NetError::Unauthenticated { peer, reason } => {
                write!(f, "refused the peer at {peer}: {reason}")
            }
            NetError::Timeout { peer, what } => write!(f, "the peer at {peer} timed out: {what}"),
            NetError::Frame { peer, message } => {
                write!(f, "bad frame from {peer}: {message}; connection closed")
            }
            NetError::TooLarge { peer, size, max } => write!(
                f,
                "frame for {peer} not sent: {size} bytes is over the frame limit of {max} bytes"
            ),
            NetError::Encode(message) => write!(f, "cannot encode a message: {message}"),
            NetError::Decode(message) => write!(f, "undecodable frame: {message}"),
            NetError::Closed { peer, reason } => write!(f, "connection to {peer} ended: {reason}"),
        }
    }
}

impl std::error::Error for NetError {}

impl From<NetError> for crate::error::Error {
    fn from(err: NetError) -> Self {
        crate::error::Error::Net {
            peer: err.peer(),
            message: err.to_string(),
        }
    }
}
