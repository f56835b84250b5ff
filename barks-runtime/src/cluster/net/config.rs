//! `NetConfig` (secret, build fingerprint, limits and timeouts) and `Role`.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Secret;

/// Default limit on one frame's body: 64 MiB.
pub const DEFAULT_MAX_FRAME: usize = 64 << 20;

/// Everything a listener or a connecting side needs to know.
///
/// `Debug` is safe to log: the secret prints as `Secret(redacted)`.
#[derive(Debug, Clone)]
pub struct NetConfig {
    /// The cluster secret both sides must prove they know.
    pub secret: Secret,
    /// The build fingerprint; a peer with another one is refused.
    pub fingerprint: String,
    /// Largest frame body sent or accepted, in bytes.
    pub max_frame: usize,
    /// A connection with no traffic for this long is considered dead.
    pub idle_timeout: Duration,
    /// How often an idle connection sends a keep-alive; keep it well below
    /// `idle_timeout`.
    pub keep_alive: Duration,
    /// How long the QUIC/TLS handshake plus the barks handshake may take
    /// before the peer is dropped.
    pub handshake_timeout: Duration,
    /// How many unauthenticated connections a listener handles at once;
    /// further ones are refused until one finishes.
    pub max_handshakes: usize,
    /// How many streams an authenticated peer may have open towards us at
    /// once; opening more waits until one ends.
    pub max_streams: u32,
}

impl NetConfig {
    /// A configuration with the default limits: 64 MiB frames, 30 s idle
    /// timeout, 5 s keep-alive, 10 s handshake, 32 concurrent handshakes,
    /// 512 streams per peer.
    pub fn new(secret: Secret, fingerprint: impl Into<String>) -> NetConfig {
        NetConfig {
            secret,
            fingerprint: fingerprint.into(),
            max_frame: DEFAULT_MAX_FRAME,
            idle_timeout: Duration::from_secs(30),
            keep_alive: Duration::from_secs(5),
            handshake_timeout: Duration::from_secs(10),
            max_handshakes: 32,
            max_streams: 512,
        }
    }
}

/// What the connecting side wants to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    /// A driver (connecting to a worker).
    Driver,
    /// A worker joining a driver.
    Worker,
    /// A worker (or driver) fetching shuffle blocks from a worker.
    ShuffleFetch,
}

impl Role {
    /// The listener's role implied by a connecting side's: a worker joins a
    /// driver; a driver and a shuffle fetch reach a worker.
    pub fn counterpart(self) -> Role {
        match self {
            Role::Worker => Role::Driver,
            Role::Driver | Role::ShuffleFetch => Role::Worker,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Driver => "driver",
            Role::Worker => "worker",
            Role::ShuffleFetch => "shuffle fetcher",
        })
    }
}
